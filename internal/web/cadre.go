package web

import (
	"encoding/json"
	"net/http"
	"slices"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance"
	"github.com/fieldvisit/fieldvisit/internal/compliance/rules"
	"github.com/fieldvisit/fieldvisit/internal/registry"
)

// The cadre page (/ui/cadres/{id}): the households paired with a cadre
// with the state of each in the current year, quarter and month, the
// cadre's own duties, their visits per month over a year (a uPlot bar
// chart, assets/cadre.js), the evidence flags on those visits and their
// pairings over time. compliance.Service.CadreSummary decides who may
// read it (a cadre themself, a manager for cadres of their subtree); for
// anyone else the cadre is not found, the same 404 page as no cadre.

// cadrePage is what templates/cadre.html shows.
type cadrePage struct {
	Name       string
	Rank       string
	Headline   []stat
	Households Table
	Duties     *Table
	Rhythm     string // JSON for assets/cadre.js: {"labels":[…],"visits":[…],"flagged":[…]}
	Months     Table
	Flags      Table
	Pairings   Table
	MissedURL  string // the missed list narrowed to the cadre, for those who read it
	// HandbookURL prints this month's 帮扶手册 page (internal/printforms).
	HandbookURL string
}

// cadre builds a cadre's page.
func (c *Console) cadre(r *http.Request, s *session) (any, error) {
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		return nil, domain.NotFound("cadre")
	}
	ctx, p := r.Context(), s.principal
	sum, err := c.deps.Compliance.CadreSummary(ctx, p, id)
	if err != nil {
		return nil, err
	}
	out := cadrePage{Name: sum.Cadre.DisplayName}
	if sum.Cadre.Rank != "" {
		out.Rank = label("rank", sum.Cadre.Rank)
	}
	if c.deps.PrintForms != nil {
		out.HandbookURL = "/ui/cadres/" + id.String() + "/handbook.pdf"
	}
	if slices.Contains(reportReaders, p.Role) {
		out.MissedURL = (&reportFilters{Cadre: &id, State: stateAll, View: viewRegion}).link("/ui/missed")
	}
	behind, visits, flagged := 0, 0, 0
	head := []string{"行政村", "户主", "户编号", "农户状态", "结对起始"}
	for _, per := range sum.Periods {
		head = append(head, per.LabelZH())
	}
	out.Households = Table{Head: head, Empty: "目前没有结对户。"}
	for _, h := range sum.Households {
		if h.WorstState == rules.StateOverdue || h.WorstState == rules.StateMissed {
			behind++
		}
		row := []Cell{textCell(h.VillageName), householdCell(h.Household.ID, h.Household.HeadName), textCell(h.Household.Number),
			textCell(label("status", h.Household.Status)), textCell(formatDate(h.PairedSince))}
		for _, per := range sum.Periods {
			row = append(row, worstCell(h.Statuses, per.Key()))
		}
		out.Households.Rows = append(out.Households.Rows, row)
	}
	if len(sum.Duties) > 0 {
		t := Table{Head: []string{"职责", "期间", "应走访", "已计入", "还差", "截止日期", "状态"}}
		for _, it := range sum.Duties {
			st := it.Status
			t.Rows = append(t.Rows, []Cell{textCell(st.RuleNameZH), textCell(st.Period.LabelZH()), numCell(int64(st.Required)),
				numCell(int64(st.CountedN)), numCell(int64(st.Short())), textCell(formatDate(st.DueOn)), stateCell(it.State)})
		}
		out.Duties = &t
	}
	rhythm := struct {
		Labels  []string `json:"labels"`
		Visits  []int    `json:"visits"`
		Flagged []int    `json:"flagged"`
	}{}
	out.Months = Table{Head: []string{"月份", "走访次数", "带疑点"}}
	for _, m := range sum.Months {
		rhythm.Labels = append(rhythm.Labels, m.Month.Key())
		rhythm.Visits = append(rhythm.Visits, m.Visits)
		rhythm.Flagged = append(rhythm.Flagged, m.Flagged)
		visits += m.Visits
		flagged += m.Flagged
		out.Months.Rows = append(out.Months.Rows, []Cell{textCell(m.Month.LabelZH()), numCell(int64(m.Visits)), numCell(int64(m.Flagged))})
	}
	b, _ := json.Marshal(rhythm)
	out.Rhythm = string(b)
	out.Flags = Table{Head: []string{"疑点", "走访次数"}, Empty: "近12个月的走访没有疑点。"}
	for _, f := range sum.Flags {
		out.Flags.Rows = append(out.Flags.Rows, []Cell{textCell(f.LabelZH), numCell(int64(f.Visits))})
	}
	out.Headline = []stat{
		newStat(len(sum.Households), "结对户", ""),
		newStat(behind, "进度落后或未完成户", toneIf(behind > 0, "bad")),
		newStat(visits, "近12个月走访次数", ""),
		newStat(flagged, "其中带疑点", toneIf(flagged > 0, "warn")),
	}
	if out.Pairings, err = c.cadrePairings(r, p, id, sum); err != nil {
		return nil, err
	}
	return out, nil
}

// toneIf is tone when cond holds.
func toneIf(cond bool, tone string) string {
	if cond {
		return tone
	}
	return ""
}

// worstCell is the worst state among a household's statuses of one
// period, "—" when no rule judges it then.
func worstCell(items []compliance.ReportItem, period string) Cell {
	worst := ""
	for _, it := range items {
		if it.Status.Period.Key() == period && (worst == "" || stateOrder(it.State) < stateOrder(worst)) {
			worst = it.State
		}
	}
	if worst == "" {
		return textCell("—")
	}
	return stateCell(worst)
}

// stateOrder ranks states worst first.
func stateOrder(state string) int {
	return slices.Index([]string{rules.StateMissed, rules.StateOverdue, rules.StateDueSoon, rules.StateOnTrack, rules.StateMet}, state)
}

// cadrePairings lists the cadre's pairings, open and ended, newest first,
// as the registry shows them to the caller.
func (c *Console) cadrePairings(r *http.Request, p domain.Principal, cadreID uuid.UUID, sum compliance.CadreSummary) (Table, error) {
	t := Table{Head: []string{"户主", "户编号", "结对起始", "结对结束", "结束原因"}, Empty: "没有结对记录。"}
	pairings, _, err := c.deps.Registry.Pairings(r.Context(), p, registry.PairingQuery{CadreID: &cadreID}, registry.Page{Limit: 200})
	if err != nil {
		return t, err
	}
	slices.SortStableFunc(pairings, func(a, b domain.Pairing) int { return b.StartOn.Start().Compare(a.StartOn.Start()) })
	known := map[uuid.UUID]domain.Household{}
	for _, h := range sum.Households {
		known[h.Household.ID] = h.Household
	}
	for _, pr := range pairings {
		h, ok := known[pr.HouseholdID]
		if !ok {
			if h, err = c.deps.Registry.Household(r.Context(), p, pr.HouseholdID); err != nil && !domain.IsCode(err, domain.CodeNotFound) {
				return t, err
			}
			known[pr.HouseholdID] = h
		}
		head := householdCell(pr.HouseholdID, h.HeadName)
		if h.ID == uuid.Nil {
			head = textCell("（不在您的查看范围内）")
		}
		end := "—"
		if pr.EndOn != nil {
			end = formatDate(pr.EndOn)
		}
		t.Rows = append(t.Rows, []Cell{head, textCell(h.Number), textCell(formatDate(pr.StartOn)), textCell(end), textCell(pr.EndReason)})
	}
	return t, nil
}
