package inspect

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance/ledger"
	"github.com/fieldvisit/fieldvisit/internal/inspect/discrepancy"
	"github.com/fieldvisit/fieldvisit/internal/inspect/forms"
	"github.com/fieldvisit/fieldvisit/internal/photos/evidence"
)

// VisitFact is what the discrepancy score reads of a recorded visit.
type VisitFact struct {
	ID, HouseholdID, CadreID uuid.UUID
	Kind                     string
	StartedAt                time.Time
	Flags                    []string          // evidence and clock flag codes
	Measures                 []string          // measures recorded
	Checklist                map[string]string // 两不愁三保障 item → answer
}

// FactsWindow is how far back from a household's findings its cadre's
// records are compared: the household is asked about the last three months
// (forms.ItemVisitsRecalled).
const FactsWindow = 3 // months

// ResponsibleCadre is the cadre paired with household on day: of several
// pairings in force, the latest begun (a re-pairing ends the old one only
// on the day it starts). Nil when nobody is.
func ResponsibleCadre(pairings []domain.Pairing, household uuid.UUID, day domain.Date) *uuid.UUID {
	var best *domain.Pairing
	for i, p := range pairings {
		if p.HouseholdID != household || !domain.InForce(p.StartOn, p.EndOn, day) {
			continue
		}
		if best == nil || p.StartOn.After(best.StartOn) || (p.StartOn == best.StartOn && p.ID.String() > best.ID.String()) {
			best = &pairings[i]
		}
	}
	if best == nil {
		return nil
	}
	id := best.CadreID
	return &id
}

// HouseholdFacts puts together what is known of one inspected household:
// its cadre's visits over the FactsWindow months up to the findings (their
// count, how many carry flags, photo reuse, the measures recorded and what
// the latest visit recorded as met), beside the household's own account
// and the inspector's findings. Visits by anyone but the responsible cadre
// — the inspectors' own inspection visits among them — are not the
// cadre's records.
func HouseholdFacts(h SampledHousehold, f Finding, cadre *uuid.UUID, visits []VisitFact) discrepancy.Facts {
	acc := forms.Account(f.Answers)
	out := discrepancy.Facts{HouseholdID: h.HouseholdID, VillageID: h.VillageID, TownID: h.TownID, CadreID: cadre,
		RecalledVisits: acc.RecalledVisits, CadreRecognised: acc.CadreRecognised, MeasuresReceived: acc.MeasuresReceived, ProblemsFound: acc.ProblemsFound}
	if cadre == nil {
		return out
	}
	to := f.RecordedAt
	from := to.In(domain.Shanghai).AddDate(0, -FactsWindow, 0)
	var latest *VisitFact
	for i, v := range visits {
		if v.HouseholdID != h.HouseholdID || v.CadreID != *cadre || v.Kind == domain.KindInspection || v.StartedAt.Before(from) || v.StartedAt.After(to) {
			continue
		}
		out.RecordedVisits++
		if len(v.Flags) > 0 {
			out.FlaggedVisits++
		}
		if slices.Contains(v.Flags, evidence.FlagPhotoReuse) {
			out.PhotoReuse = true
		}
		for _, m := range v.Measures {
			if !slices.Contains(out.RecordedMeasure, m) {
				out.RecordedMeasure = append(out.RecordedMeasure, m)
			}
		}
		if latest == nil || v.StartedAt.After(latest.StartedAt) || (v.StartedAt.Equal(latest.StartedAt) && v.ID.String() > latest.ID.String()) {
			latest = &visits[i]
		}
	}
	if latest != nil {
		for _, item := range domain.ChecklistItems {
			if latest.Checklist[item.Code] == "met" {
				out.CadreMet = append(out.CadreMet, item.Code)
			}
		}
	}
	return out
}

// HouseholdScore is one inspected household's discrepancy score with the
// facts and the account behind it.
type HouseholdScore struct {
	discrepancy.Score
	Facts   discrepancy.Facts
	Account forms.HouseholdAccount
	Stratum string
}

// Coverage is how far a campaign's inspectors have got.
type Coverage struct {
	Households, Done int
	VillagesDone     int // villages whose village form is recorded
	Villages         []VillageCoverage
}

// VillageCoverage is one sampled village's progress.
type VillageCoverage struct {
	VillageID, TownID uuid.UUID
	Stratum           string
	Households, Done  int
	VillageFormDone   bool
}

// OpinionGroup is a cadre's, village's or town's opinion rates (seed 002:
// 群众满意度 and 政策知晓率) over its inspected households, against the
// campaign's targets. A rate is nil when nobody was asked.
type OpinionGroup struct {
	ID                  uuid.UUID
	Households          int // inspected
	SatisfactionAnswers int
	Satisfied           int // satisfied or fairly satisfied (满意 + 基本满意)
	SatisfactionRate    *float64
	AwarenessAnswers    int
	AwarenessPoints     float64 // aware 1, partly 0.5
	AwarenessRate       *float64
	MeetsSatisfaction   bool
	MeetsAwareness      bool
	Shortfall           float64 // how far below the targets, summed (0 when both are met)
	Rank                int     // 1 is furthest below the targets
}

// Opinion is the campaign's rates overall and by town, village and cadre.
type Opinion struct {
	Overall                    OpinionGroup
	ByTown, ByVillage, ByCadre []OpinionGroup
}

// Rectification statuses, as the rectification ledger (整改台账) keeps them.
var RectificationStatuses = []string{"open", "in_progress", "submitted", "closed", RectificationWithdrawn}

// RectificationWithdrawn is the status of an item taken back as
// registered in error (撤销, itemledger.Withdrawn).
const RectificationWithdrawn = "withdrawn"

// RectificationCounts are a campaign's rectifications by status; overdue
// ones are those neither closed nor withdrawn whose deadline has passed.
type RectificationCounts struct {
	ByStatus map[string]int
	Overdue  int
}

// Total counts the rectifications the campaign gave rise to: every item
// but those withdrawn, which were registered in error (they are counted
// under their status alone).
func (r RectificationCounts) Total() int {
	n := 0
	for status, v := range r.ByStatus {
		if status != RectificationWithdrawn {
			n += v
		}
	}
	return n
}

// Precision counts the inspected households' answers on 精准识别,
// 精准退出 and 帮扶成效, by choice code of the household form; each
// Answers is how many were asked.
type Precision struct {
	IdentificationAnswers int
	Identification        map[string]int // accurate, should_register (漏评), wrongly_registered (错评)
	ExitAnswers           int
	Exit                  map[string]int // criteria_met, criteria_not_met (错退), not_exited
	EffectAnswers         int
	Effect                map[string]int // clear, some, none
}

func precision(scores []HouseholdScore) Precision {
	out := Precision{Identification: map[string]int{}, Exit: map[string]int{}, Effect: map[string]int{}}
	for _, s := range scores {
		if c := s.Account.Identification; c != "" {
			out.IdentificationAnswers++
			out.Identification[c]++
		}
		if c := s.Account.Exit; c != "" {
			out.ExitAnswers++
			out.Exit[c]++
		}
		if c := s.Account.Effect; c != "" {
			out.EffectAnswers++
			out.Effect[c]++
		}
	}
	return out
}

// Report is a campaign's report: coverage, discrepancy scores, opinion
// rates ranked against the targets, 精准识别/精准退出/帮扶成效 counts, and
// its rectifications.
type Report struct {
	Drawn
	Targets        Targets
	Coverage       Coverage
	Scores         []HouseholdScore // inspected households, worst first
	ByCadre        []discrepancy.Group
	ByVillage      []discrepancy.Group
	ByTown         []discrepancy.Group
	Opinion        Opinion
	Precision      Precision
	Rectifications RectificationCounts
	Today          domain.Date
}

// LikelyPaper lists the households whose cadre's visits look recorded but
// never made (纸上帮扶), worst first: the supervisor's list to follow up.
func (r Report) LikelyPaper() []HouseholdScore {
	var out []HouseholdScore
	for _, s := range r.Scores {
		if s.LikelyPaper {
			out = append(out, s)
		}
	}
	return out
}

// Report builds the campaign's report for whoever may see the campaign.
func (s *Service) Report(ctx context.Context, p domain.Principal, id uuid.UUID) (Report, error) {
	d, err := s.Sample(ctx, p, id)
	if err != nil {
		return Report{}, err
	}
	r := Report{Drawn: d, Targets: d.Campaign.Plan.Targets, Today: domain.DateOf(s.now())}
	findings, err := s.store.Findings(ctx, d.Campaign.ID)
	if err != nil {
		return r, err
	}
	household := map[uuid.UUID]Finding{}
	villageDone := map[uuid.UUID]bool{}
	for _, f := range findings {
		if f.HouseholdID != nil {
			household[*f.HouseholdID] = f
		} else {
			villageDone[f.VillageID] = true
		}
	}
	r.Coverage = coverage(d.Sample, villageDone)
	if r.Scores, err = s.scores(ctx, d.Sample.Households, household); err != nil {
		return r, err
	}
	plain := make([]discrepancy.Score, len(r.Scores))
	var cadres []uuid.UUID
	for i, sc := range r.Scores {
		plain[i] = sc.Score
		if sc.CadreID != nil {
			cadres = append(cadres, *sc.CadreID)
		}
	}
	r.ByCadre, r.ByVillage, r.ByTown = discrepancy.By(plain, discrepancy.ByCadre), discrepancy.By(plain, discrepancy.ByVillage), discrepancy.By(plain, discrepancy.ByTown)
	r.Opinion = opinion(r.Scores, r.Targets)
	r.Precision = precision(r.Scores)
	names, err := s.store.Names(ctx, cadres)
	if err != nil {
		return r, err
	}
	for k, v := range names {
		r.Names[k] = v
	}
	r.Rectifications, err = s.store.CampaignRectifications(ctx, d.Campaign.ID, r.Today)
	return r, err
}

func coverage(smp Sample, villageDone map[uuid.UUID]bool) Coverage {
	out := Coverage{Villages: make([]VillageCoverage, len(smp.Villages))}
	at := map[uuid.UUID]int{}
	for i, v := range smp.Villages {
		out.Villages[i] = VillageCoverage{VillageID: v.ID, TownID: v.TownID, Stratum: v.Stratum, VillageFormDone: villageDone[v.ID]}
		at[v.ID] = i
		if villageDone[v.ID] {
			out.VillagesDone++
		}
	}
	for _, h := range smp.Households {
		out.Households++
		i, ok := at[h.VillageID]
		if ok {
			out.Villages[i].Households++
		}
		if h.DoneAt != nil {
			out.Done++
			if ok {
				out.Villages[i].Done++
			}
		}
	}
	return out
}

// scores weighs every sampled household with findings against its cadre's
// records, reading the visits and pairings county by county.
func (s *Service) scores(ctx context.Context, sampled []SampledHousehold, findings map[uuid.UUID]Finding) ([]HouseholdScore, error) {
	byCounty := map[uuid.UUID][]SampledHousehold{}
	var counties []uuid.UUID
	for _, h := range sampled {
		if _, ok := findings[h.HouseholdID]; !ok {
			continue
		}
		if _, ok := byCounty[h.CountyID]; !ok {
			counties = append(counties, h.CountyID)
		}
		byCounty[h.CountyID] = append(byCounty[h.CountyID], h)
	}
	out := []HouseholdScore{}
	for _, county := range counties {
		hs := byCounty[county]
		ids := make([]uuid.UUID, len(hs))
		var from, to time.Time
		for i, h := range hs {
			ids[i] = h.HouseholdID
			at := findings[h.HouseholdID].RecordedAt
			if start := at.In(domain.Shanghai).AddDate(0, -FactsWindow, 0); i == 0 || start.Before(from) {
				from = start
			}
			if i == 0 || at.After(to) {
				to = at
			}
		}
		pairings, err := s.store.HouseholdPairings(ctx, county, ids)
		if err != nil {
			return nil, err
		}
		visits, err := s.store.HouseholdVisits(ctx, county, ids, from, to)
		if err != nil {
			return nil, err
		}
		for _, h := range hs {
			f := findings[h.HouseholdID]
			cadre := ResponsibleCadre(pairings, h.HouseholdID, domain.DateOf(f.RecordedAt))
			facts := HouseholdFacts(h, f, cadre, visits)
			out = append(out, HouseholdScore{Score: discrepancy.Weigh(facts), Facts: facts, Account: forms.Account(f.Answers), Stratum: h.Stratum})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Points != out[j].Points {
			return out[i].Points > out[j].Points
		}
		return out[i].HouseholdID.String() < out[j].HouseholdID.String()
	})
	return out, nil
}

// opinion sums the households' answers overall and by town, village and
// cadre, and ranks each list against the targets.
func opinion(scores []HouseholdScore, t Targets) Opinion {
	out := Opinion{}
	all := uuid.Nil
	if overall := opinionBy(scores, func(HouseholdScore) *uuid.UUID { return &all }, t); len(overall) == 1 {
		out.Overall = overall[0]
	}
	out.ByTown = opinionBy(scores, func(s HouseholdScore) *uuid.UUID { return &s.TownID }, t)
	out.ByVillage = opinionBy(scores, func(s HouseholdScore) *uuid.UUID { return &s.VillageID }, t)
	out.ByCadre = opinionBy(scores, func(s HouseholdScore) *uuid.UUID { return s.CadreID }, t)
	return out
}

// opinionBy groups the answers by key (households without one left out)
// and ranks the groups: furthest below the targets first (the summed
// shortfall of both rates), then the lower awareness rate, then the lower
// satisfaction rate.
func opinionBy(scores []HouseholdScore, key func(HouseholdScore) *uuid.UUID, t Targets) []OpinionGroup {
	groups := map[uuid.UUID]*OpinionGroup{}
	var order []uuid.UUID
	for _, s := range scores {
		k := key(s)
		if k == nil {
			continue
		}
		g := groups[*k]
		if g == nil {
			g = &OpinionGroup{ID: *k}
			groups[*k] = g
			order = append(order, *k)
		}
		g.Households++
		if s.Account.Satisfied != nil {
			g.SatisfactionAnswers++
			if *s.Account.Satisfied {
				g.Satisfied++
			}
		}
		if s.Account.Aware != nil {
			g.AwarenessAnswers++
			g.AwarenessPoints += *s.Account.Aware
		}
	}
	out := make([]OpinionGroup, 0, len(order))
	for _, k := range order {
		g := *groups[k]
		if g.SatisfactionAnswers > 0 {
			r := float64(g.Satisfied) / float64(g.SatisfactionAnswers)
			g.SatisfactionRate = &r
			g.MeetsSatisfaction = meets(r, t.Satisfaction)
			g.Shortfall += math.Max(0, t.Satisfaction-r)
		}
		if g.AwarenessAnswers > 0 {
			r := g.AwarenessPoints / float64(g.AwarenessAnswers)
			g.AwarenessRate = &r
			g.MeetsAwareness = meets(r, t.Awareness)
			g.Shortfall += math.Max(0, t.Awareness-r)
		}
		g.Shortfall = round4(g.Shortfall)
		out = append(out, g)
	}
	rate := func(r *float64) float64 {
		if r == nil {
			return math.Inf(1) // nobody asked: nothing to rank it on
		}
		return *r
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		switch {
		case a.Shortfall != b.Shortfall:
			return a.Shortfall > b.Shortfall
		case rate(a.AwarenessRate) != rate(b.AwarenessRate):
			return rate(a.AwarenessRate) < rate(b.AwarenessRate)
		case rate(a.SatisfactionRate) != rate(b.SatisfactionRate):
			return rate(a.SatisfactionRate) < rate(b.SatisfactionRate)
		}
		return a.ID.String() < b.ID.String()
	})
	for i := range out {
		out[i].Rank = i + 1
	}
	return out
}

// meets compares a rate with its target as the published percentages do:
// 19 of 20 satisfied is 95%, whatever the float says.
func meets(rate, target float64) bool { return round4(rate) >= round4(target) }

func round4(v float64) float64 { return math.Round(v*10000) / 10000 }

// Export is a report ready to be written: its file name, and the writer
// that streams it once the caller is authorised.
type Export struct {
	Filename    string
	ContentType string
	Write       func(w io.Writer) error
}

// ReportExport is the campaign's report as a 台账 (督查核查台账): one line
// per sampled household, in draw order, with its findings, its cadre's
// records and its discrepancy score, in format (xlsx or csv).
func (s *Service) ReportExport(ctx context.Context, p domain.Principal, id uuid.UUID, format string) (Export, error) {
	if format != ledger.XLSX && format != ledger.CSV {
		return Export{}, domain.Invalid(domain.FieldError{Field: "format", Reason: "invalid_enum", Message: "format must be json, xlsx or csv",
			MessageZH: "导出格式应为json、xlsx或csv"})
	}
	r, err := s.Report(ctx, p, id)
	if err != nil {
		return Export{}, err
	}
	scores := map[uuid.UUID]HouseholdScore{}
	for _, sc := range r.Scores {
		scores[sc.HouseholdID] = sc
	}
	cols := ledger.Columns([]string{"序号", "乡镇", "行政村", "户编号", "户主姓名", "抽样类别", "核查状态", "帮扶干部", "干部记录走访次数（近三个月）",
		"农户所述走访次数", "认识帮扶干部", "两不愁三保障问题", "精准识别", "精准退出", "帮扶成效", "群众满意度", "政策知晓", "差异分值", "疑似纸上帮扶", "差异说明"},
		6, 10, 10, 14, 10, 10, 8, 10, 12, 10, 8, 24, 16, 16, 12, 10, 10, 8, 10, 60)
	form := s.form(forms.FormHousehold)
	ov := r.Opinion.Overall
	subtitle := fmt.Sprintf("%s 抽查%d户 已核查%d户 满意率%s（目标%s） 知晓率%s（目标%s） 制表日期：%s", r.Campaign.Name, r.Coverage.Households, r.Coverage.Done,
		percent(ov.SatisfactionRate), percent(&r.Targets.Satisfaction), percent(ov.AwarenessRate), percent(&r.Targets.Awareness), r.Today)
	write, err := ledger.Stream(format, "督查核查台账", "督查核查台账", subtitle, cols, func(t ledger.Table) error {
		for i, h := range r.Sample.Households {
			hh := r.Households[h.HouseholdID]
			sc, done := scores[h.HouseholdID]
			row := []any{i + 1, r.Names[h.TownID], r.Names[h.VillageID], hh.Number, hh.HeadName, stratumLabel(h.Stratum)}
			if !done {
				row = append(row, "未核查")
				if err := t.Row(row...); err != nil {
					return err
				}
				continue
			}
			cadre := ""
			if sc.CadreID != nil {
				cadre = r.Names[*sc.CadreID]
			}
			var reasons []string
			for _, rs := range sc.Reasons {
				reasons = append(reasons, rs.MessageZH)
			}
			row = append(row, "已核查", cadre, sc.Facts.RecordedVisits, sc.Facts.RecalledVisits, yesNo(sc.Facts.CadreRecognised),
				checklistLabels(sc.Facts.ProblemsFound), form.ChoiceLabel(forms.ItemIdentification, sc.Account.Identification),
				form.ChoiceLabel(forms.ItemExit, sc.Account.Exit), form.ChoiceLabel(forms.ItemEffect, sc.Account.Effect),
				form.ChoiceLabel(forms.ItemSatisfaction, sc.Account.Satisfaction), awarenessLabel(sc.Account.Aware), sc.Points,
				yesNo(sc.LikelyPaper), strings.Join(reasons, "；"))
			if err := t.Row(row...); err != nil {
				return err
			}
		}
		return nil
	}, ledger.SpillTo(s.spillDir))
	if err != nil {
		return Export{}, err
	}
	return Export{Filename: fmt.Sprintf("督查核查台账-%s-%s.%s", r.Campaign.Name, r.Today, format), ContentType: ledger.ContentType(format), Write: write}, nil
}

func percent(r *float64) string {
	if r == nil {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", *r*100)
}

func yesNo(b bool) string {
	if b {
		return "是"
	}
	return "否"
}

// StratumLabels names the default plan's household strata.
var StratumLabels = domain.Vocabulary{{Code: "poor", Label: "贫困户"}, {Code: "other", Label: "非贫困户"}}

func stratumLabel(code string) string {
	if l, ok := StratumLabels.Label(code); ok {
		return l
	}
	return code
}

func checklistLabels(codes []string) string {
	out := make([]string, 0, len(codes))
	for _, c := range codes {
		l, _ := domain.ChecklistItems.Label(c)
		out = append(out, l)
	}
	return strings.Join(out, "、")
}

func awarenessLabel(v *float64) string {
	switch {
	case v == nil:
		return ""
	case *v == 1:
		return "知晓"
	case *v == 0:
		return "不知晓"
	}
	return "部分知晓"
}
