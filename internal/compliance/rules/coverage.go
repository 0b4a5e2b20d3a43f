package rules

import (
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// Finding severities.
const (
	SeverityWarning   = "warning"   // still fixable, or a past gap already closed
	SeverityViolation = "violation" // the year is over, or the breach holds today
)

// Subject kinds of findings.
const (
	FindingCadre     = "cadre"
	FindingHousehold = "household"
)

// Finding is one breach of a coverage or standing rule, with the objects it
// is about (unvisited households, unvisited villages, pairings that ended
// too early) in Items.
type Finding struct {
	RuleCode      string      `json:"rule_code"`
	SubjectKind   string      `json:"subject_kind"`
	SubjectID     uuid.UUID   `json:"subject_id"`
	Severity      string      `json:"severity"`
	ExplanationZH string      `json:"explanation_zh"`
	Explanation   string      `json:"explanation"`
	Items         []uuid.UUID `json:"items,omitempty"`
	// HouseholdStatus is a household subject's status today (or on the
	// year's last day, for a past year).
	HouseholdStatus string `json:"household_status,omitempty"`
	// Unpaired marks a household with nobody responsible for it today.
	Unpaired bool `json:"unpaired,omitempty"`
}

// CheckCoverage runs the yearly coverage duties and the standing pairing and
// stationing rules over a county's facts for calendar year, as of today.
// Visits and days after today are not looked at.
func CheckCoverage(p Profile, in CoverageInput, year int, today domain.Date) []Finding {
	yearP, _ := PeriodOf(WindowYear, domain.Date{Year: year, Month: time.January, Day: 1})
	yearOver := !today.Before(yearP.End)
	var out []Finding
	c := p.Coverage
	if c.TownHead.Enabled {
		out = append(out, townHeadFindings(c.TownHead, in, yearP, today, yearOver)...)
	}
	if c.CountyLeader.Enabled {
		out = append(out, countyLeaderFindings(c.CountyLeader, in, yearP, today, yearOver)...)
	}
	if c.EveryPaired.Enabled {
		out = append(out, everyPairedFindings(c.EveryPaired, in, yearP, today)...)
	}
	if c.PairingQuota.Enabled {
		out = append(out, quotaFindings(c.PairingQuota, in, today)...)
	}
	if c.ResidentTerm.Enabled {
		out = append(out, residentTermFindings(c.ResidentTerm, in, yearP)...)
	}
	return out
}

// dutyDays marks the days of the year (up to today) on which c holds duty kind,
// and returns the regions of those duties (nil region = anywhere).
func dutyDays(c CadreFacts, kind string, yearP Period, today domain.Date) (held func(domain.Date) bool, regions []*uuid.UUID) {
	var duties []domain.Duty
	for _, d := range c.Duties {
		if d.Kind != kind {
			continue
		}
		end := yearP.End
		if d.EndOn != nil && d.EndOn.Before(end) {
			end = *d.EndOn
		}
		if d.StartOn.Before(end) && d.StartOn.Before(addDays(today, 1)) && !end.Before(addDays(yearP.Start, 1)) {
			duties = append(duties, d)
			regions = append(regions, d.RegionID)
		}
	}
	return func(day domain.Date) bool {
		for _, d := range duties {
			if d.ActiveOn(day) {
				return true
			}
		}
		return false
	}, regions
}

// personalVisits returns the cadre's own qualifying visits within the year,
// by today, on days the duty was held.
func personalVisits(v VisitCoverage, visits []VisitFact, cadre uuid.UUID, yearP Period, today domain.Date, held func(domain.Date) bool) []VisitFact {
	r := Rule{CountKinds: v.CountKinds, DisqualifyingFlags: v.DisqualifyingFlags}
	var out []VisitFact
	for _, x := range visits {
		on := x.On()
		if x.CadreID != cadre || x.Deleted || !yearP.Contains(on) || on.After(today) || !held(on) || r.visitReason(x) != "" {
			continue
		}
		out = append(out, x)
	}
	return out
}

func severity(yearOver bool) string {
	if yearOver {
		return SeverityViolation
	}
	return SeverityWarning
}

func townHeadFindings(v VisitCoverage, in CoverageInput, yearP Period, today domain.Date, yearOver bool) []Finding {
	var out []Finding
	for _, c := range in.Cadres {
		held, regions := dutyDays(c, domain.DutyTownHead, yearP, today)
		if len(regions) == 0 {
			continue
		}
		visited := map[uuid.UUID]bool{}
		for _, x := range personalVisits(v, in.Visits, c.ID, yearP, today, held) {
			visited[x.HouseholdID] = true
		}
		var missing []uuid.UUID
		total := 0
		for _, h := range in.Households {
			if !inRegions(regions, h.TownID) || !statusDuring(h, v.Statuses, yearP, today) {
				continue
			}
			total++
			if !visited[h.ID] {
				missing = append(missing, h.ID)
			}
		}
		if len(missing) == 0 {
			continue
		}
		out = append(out, Finding{
			RuleCode: CodeTownHeadCoverage, SubjectKind: FindingCadre, SubjectID: c.ID, Severity: severity(yearOver), Items: missing,
			ExplanationZH: fmt.Sprintf("%s·%d年：镇街应遍访的%d户中，尚有%d户本人未走访%s。", v.NameZH, yearP.Start.Year, total, len(missing), stillTimeZH(yearOver)),
			Explanation:   fmt.Sprintf("%s %d: %d of %d households not yet visited in person.", CodeTownHeadCoverage, yearP.Start.Year, len(missing), total),
		})
	}
	return out
}

func countyLeaderFindings(v VisitCoverage, in CoverageInput, yearP Period, today domain.Date, yearOver bool) []Finding {
	var out []Finding
	for _, c := range in.Cadres {
		held, regions := dutyDays(c, domain.DutyCountyLeader, yearP, today)
		if len(regions) == 0 {
			continue
		}
		visited := map[uuid.UUID]bool{}
		for _, x := range personalVisits(v, in.Visits, c.ID, yearP, today, held) {
			visited[x.VillageID] = true
		}
		var missing []uuid.UUID
		total := 0
		for _, vil := range in.Villages {
			if !vil.Poor || !inRegions(regions, vil.CountyID) {
				continue
			}
			total++
			if !visited[vil.ID] {
				missing = append(missing, vil.ID)
			}
		}
		if len(missing) == 0 {
			continue
		}
		out = append(out, Finding{
			RuleCode: CodeCountyLeaderCover, SubjectKind: FindingCadre, SubjectID: c.ID, Severity: severity(yearOver), Items: missing,
			ExplanationZH: fmt.Sprintf("%s·%d年：全县%d个贫困村中，尚有%d个本人未到访%s。", v.NameZH, yearP.Start.Year, total, len(missing), stillTimeZH(yearOver)),
			Explanation:   fmt.Sprintf("%s %d: %d of %d poor villages not yet visited in person.", CodeCountyLeaderCover, yearP.Start.Year, len(missing), total),
		})
	}
	return out
}

func stillTimeZH(yearOver bool) string {
	if yearOver {
		return "，年度已结束，未实现全覆盖"
	}
	return "，请在年内完成"
}

// inRegions: a duty without a region covers every subject passed in.
func inRegions(regions []*uuid.UUID, id uuid.UUID) bool {
	for _, r := range regions {
		if r == nil || *r == id {
			return true
		}
	}
	return false
}

// statusDuring reports whether h had one of statuses on some day of the year up to today.
func statusDuring(h HouseholdFacts, statuses []string, yearP Period, today domain.Date) bool {
	for d := yearP.Start; d.Before(yearP.End) && !d.After(today); d = addDays(d, 1) {
		if s, ok := h.spanOn(d); ok && contains(statuses, s.Status) {
			return true
		}
	}
	return false
}

// everyPairedFindings looks for days of the year up to today on which a
// household in scope had nobody responsible. A re-pairing that ends one
// pairing and starts the next the same day leaves no gap; a pairing that
// ends with no successor before the household exits is what 不脱贫不脱钩
// forbids, and it is named in Items.
func everyPairedFindings(r EveryPaired, in CoverageInput, yearP Period, today domain.Date) []Finding {
	var out []Finding
	for _, h := range in.Households {
		var gaps []string
		var gapsEN []string
		var ended []uuid.UUID
		current := false
		inGap := false
		var gapStart domain.Date
		last := yearP.Last()
		if today.Before(last) {
			last = today
		}
		for d := yearP.Start; !d.After(last); d = addDays(d, 1) {
			s, ok := h.spanOn(d)
			gap := ok && contains(r.Statuses, s.Status) && !h.anyPairingOn(d)
			if gap && !inGap {
				gapStart, inGap = d, true
				for _, p := range h.Pairings {
					if p.EndOn != nil && *p.EndOn == d {
						ended = append(ended, p.ID)
					}
				}
			}
			if !gap && inGap {
				gaps = append(gaps, gapStart.String()+"至"+addDays(d, -1).String())
				gapsEN = append(gapsEN, gapStart.String()+" to "+addDays(d, -1).String())
				inGap = false
			}
			if gap && d == today {
				current = true
			}
		}
		if inGap {
			gaps = append(gaps, gapStart.String()+"至"+last.String())
			gapsEN = append(gapsEN, gapStart.String()+" to "+last.String())
		}
		if len(gaps) == 0 {
			continue
		}
		sev, now := SeverityWarning, ""
		if current {
			sev, now = SeverityViolation, "目前仍无帮扶责任人，不在任何干部的走访任务中，请尽快结对。"
		}
		endedZH := ""
		if len(ended) > 0 {
			endedZH = fmt.Sprintf("有%d个结对关系在该户脱贫前结束且未接续。", len(ended))
		}
		status := ""
		if s, ok := h.spanOn(last); ok {
			status = s.Status
		}
		label, _ := domain.Statuses.Label(status)
		out = append(out, Finding{
			RuleCode: CodeEveryHouseholdPair, SubjectKind: FindingHousehold, SubjectID: h.ID, Severity: sev, Items: ended,
			HouseholdStatus: status, Unpaired: current,
			ExplanationZH: fmt.Sprintf("%s：该户（%s）在%s期间无帮扶责任人。%s%s", r.NameZH, label, strings.Join(gaps, "、"), endedZH, now),
			Explanation:   fmt.Sprintf("%s: no responsible cadre %s; %d pairings ended without a successor.", CodeEveryHouseholdPair, strings.Join(gapsEN, ", "), len(ended)),
		})
	}
	return out
}

// quotaFindings compares each ranked cadre's households paired on today with
// the 321 quota. Only shortfalls are findings: pairing more is allowed.
func quotaFindings(q PairingQuota, in CoverageInput, today domain.Date) []Finding {
	paired := map[uuid.UUID][]uuid.UUID{}
	for _, h := range in.Households {
		for _, p := range h.Pairings {
			if p.ActiveOn(today) && !containsID(paired[p.CadreID], h.ID) {
				paired[p.CadreID] = append(paired[p.CadreID], h.ID)
			}
		}
	}
	var out []Finding
	for _, c := range in.Cadres {
		want, ok := q.Quota[c.Rank]
		if !ok || len(paired[c.ID]) >= want {
			continue
		}
		rank, _ := domain.Ranks.Label(c.Rank)
		have := len(paired[c.ID])
		out = append(out, Finding{
			RuleCode: CodePairingQuota321, SubjectKind: FindingCadre, SubjectID: c.ID, Severity: SeverityViolation, Items: paired[c.ID],
			ExplanationZH: fmt.Sprintf("%s：%s应结对帮扶%d户，截至%s实际结对%d户，还差%d户。", q.NameZH, rank, want, today, have, want-have),
			Explanation:   fmt.Sprintf("%s: a %s cadre pairs %d households; %d paired on %s.", CodePairingQuota321, c.Rank, want, have, today),
		})
	}
	return out
}

// residentTermFindings flags resident postings that overlap the year and
// ended (or are set to end) before the minimum term.
func residentTermFindings(t ResidentTerm, in CoverageInput, yearP Period) []Finding {
	var out []Finding
	for _, c := range in.Cadres {
		for _, d := range c.Duties {
			if d.Kind != domain.DutyResident || d.EndOn == nil || !d.StartOn.Before(yearP.End) || d.EndOn.Before(yearP.Start) {
				continue
			}
			s := d.StartOn.Start()
			minEnd := domain.DateOf(s.AddDate(0, t.MinMonths, 0))
			if !d.EndOn.Before(minEnd) {
				continue
			}
			months := monthsBetween(d.StartOn, *d.EndOn)
			out = append(out, Finding{
				RuleCode: CodeResidentTerm, SubjectKind: FindingCadre, SubjectID: c.ID, Severity: SeverityViolation,
				ExplanationZH: fmt.Sprintf("%s：派驻自%s至%s，约%d个月，不足%d个月（应至少到%s）。", t.NameZH, d.StartOn, addDays(*d.EndOn, -1), months, t.MinMonths, addDays(minEnd, -1)),
				Explanation:   fmt.Sprintf("%s: posted %s until %s, under %d months.", CodeResidentTerm, d.StartOn, *d.EndOn, t.MinMonths),
			})
		}
	}
	return out
}

func monthsBetween(a, b domain.Date) int {
	m := (b.Year-a.Year)*12 + int(b.Month) - int(a.Month)
	if b.Day < a.Day {
		m--
	}
	return m
}

func containsID(ids []uuid.UUID, id uuid.UUID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}
