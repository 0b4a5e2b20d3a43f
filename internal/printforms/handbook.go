package printforms

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	fvsync "github.com/fieldvisit/fieldvisit/sync"
)

// pairedPage is how many paired households the handbook lists; "321"
// quotas pair a cadre with one to three, a resident team member with more.
const pairedPage = 500

// Handbook prepares the cadre's monthly 帮扶手册 page (002: 一证两册 filled
// monthly) for month ("YYYY-MM"; "" is this month): the visits the cadre
// made that month with what they found and whether each counted, and the
// paired households not visited. A cadre prints their own; a supervisor
// or admin a cadre placed in their subtree, with the visits their scope
// holds; anyone else finds no such cadre.
func (s *Service) Handbook(ctx context.Context, p domain.Principal, cadreID uuid.UUID, month string) (Download, error) {
	first, err := s.monthOf(month)
	if err != nil {
		return Download{}, err
	}
	cadre, err := s.register.User(ctx, p, cadreID)
	if domain.IsCode(err, domain.CodeNotFound) || err == nil && cadre.Role != domain.RoleCadre {
		return Download{}, domain.NotFound("cadre")
	}
	if err != nil {
		return Download{}, err
	}
	last := domain.DateOf(first.Start().AddDate(0, 1, -1))
	visits, counted, err := s.readVisits(ctx, p, fvsync.VisitQuery{CadreID: &cadreID, From: &first, To: &last})
	if err != nil {
		return Download{}, err
	}
	households := map[uuid.UUID]domain.Household{}
	for _, v := range visits {
		if _, ok := households[v.HouseholdID]; ok {
			continue
		}
		h, err := s.register.Household(ctx, p, v.HouseholdID)
		if err != nil && !domain.IsCode(err, domain.CodeNotFound) {
			return Download{}, err
		}
		households[v.HouseholdID] = h // the zero household: no longer in the caller's scope
	}
	paired, _, err := s.register.Households(ctx, p, registry.HouseholdQuery{CadreID: &cadreID}, registry.Page{Limit: pairedPage})
	if err != nil {
		return Download{}, err
	}
	hb := handbook{cadre: cadre, first: first, visits: visits, counted: counted, households: households, paired: paired}
	name := cmp.Or(cadre.DisplayName, cadre.Username)
	return Download{
		Filename:    fileName(fmt.Sprintf("帮扶手册-%s-%d年%02d月.pdf", name, first.Year, first.Month)),
		ContentType: contentTypePDF,
		Write: func(w io.Writer) error {
			sh, err := newSheet("帮扶手册 "+name, s.now())
			if err != nil {
				return err
			}
			drawHandbook(sh, hb)
			return sh.write(w)
		},
	}, nil
}

// monthOf reads ?month=YYYY-MM as its first day; "" is this month.
func (s *Service) monthOf(month string) (domain.Date, error) {
	today := domain.DateOf(s.now())
	if month == "" {
		return domain.Date{Year: today.Year, Month: today.Month, Day: 1}, nil
	}
	t, err := time.Parse("2006-01", month)
	if err != nil {
		return domain.Date{}, domain.Invalid(domain.FieldError{Field: "month", Reason: "invalid_format",
			Message: "month must be YYYY-MM", MessageZH: "月份格式应为 YYYY-MM，例如 2026-03"})
	}
	if t.Year() < domain.FirstYear || t.Year() > today.Year+1 {
		return domain.Date{}, domain.Invalid(domain.FieldError{Field: "month", Reason: "out_of_range",
			Message:   fmt.Sprintf("month must lie between %d and next year", domain.FirstYear),
			MessageZH: fmt.Sprintf("月份应在%d年至明年之间", domain.FirstYear)})
	}
	return domain.Date{Year: t.Year(), Month: t.Month(), Day: 1}, nil
}

// handbook is what one month's page prints.
type handbook struct {
	cadre      domain.User
	first      domain.Date
	visits     []domain.Visit
	counted    map[uuid.UUID]bool
	households map[uuid.UUID]domain.Household
	paired     []domain.Household
}

func drawHandbook(sh *sheet, hb handbook) {
	name := cmp.Or(hb.cadre.DisplayName, hb.cadre.Username)
	month := fmt.Sprintf("%d年%d月", hb.first.Year, hb.first.Month)
	sh.startForm("帮扶手册 · " + name + " · " + month)
	sh.title("帮扶手册", month+"　帮扶干部 "+name)
	sh.facts([]fact{
		{Label: "帮扶干部", Value: name},
		{Label: "联系电话", Value: hb.cadre.Phone},
		{Label: "职级", Value: lbl(domain.Ranks, hb.cadre.Rank)},
		{Label: "结对户数", Value: strconv.Itoa(len(hb.paired)) + " 户"},
	})
	sh.section("一、本月走访记录")
	rows := make([][]string, len(hb.visits))
	visited := map[uuid.UUID]bool{}
	counted := 0
	for i, v := range hb.visits {
		visited[v.HouseholdID] = true
		if hb.counted[v.ID] {
			counted++
		}
		rows[i] = []string{strconv.Itoa(i + 1), visitWhen(v), householdName(hb.households[v.HouseholdID]), lbl(domain.VisitKinds, v.Kind),
			checklistText(v), measuresText(v), v.Notes, verdictText(v, hb.counted[v.ID])}
	}
	sh.table([]column{{"序号", 10, "C"}, {"走访时间", 22, "C"}, {"户主", 15, "C"}, {"类型", 16, "C"}, {"两不愁三保障", 30, "L"},
		{"帮扶措施", 21, "L"}, {"民情日记", 46, "L"}, {"核验与计入", 20, "L"}}, rows, "本月没有走访记录")
	sh.note(fmt.Sprintf("本月走访 %d 次，涉及 %d 户，其中 %d 次计入走访要求。", len(hb.visits), len(visited), counted))
	sh.section("二、本月未走访的结对户")
	var missed [][]string
	for _, h := range hb.paired {
		if !visited[h.ID] {
			missed = append(missed, []string{h.HeadName, h.Number, lbl(domain.Statuses, h.Status), lbl(domain.PovertyTypes, h.PovertyType), h.Phone})
		}
	}
	sh.table([]column{{"户主", 24, "C"}, {"户编号", 40, "C"}, {"农户状态", 24, "C"}, {"贫困户属性", 24, "C"}, {"联系电话", 30, "C"}}, missed,
		"本月每个结对户都已走访")
	sh.signatures("帮扶干部签字", "村（驻村工作队）审核", "日期")
}

// householdName is a household as a line of the handbook names it: by
// its head, as cadres know it (the 户编号 is on the unvisited list).
func householdName(h domain.Household) string {
	if h.ID == uuid.Nil {
		return "（已不在查看范围）"
	}
	return h.HeadName
}
