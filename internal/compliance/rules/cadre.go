package rules

import (
	"slices"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// EvaluateCadre judges the cadre-subject rules of p (duties such as unit head
// or unit member) for one cadre in one window. A rule applies on the days the
// cadre holds one of its duties (Duty.EndOn exclusive), prorated like
// household rules. Visits count where the duty is: the duty's own region when
// it names one, else the villages the cadre's unit assists; with neither
// known every village counts. One counted visit per day, because the seed
// counts times a cadre goes to the village (进村), not households.
func EvaluateCadre(p Profile, c CadreFacts, visits []VisitFact, period Period, today domain.Date) []Status {
	own := sortedVisits(visits, func(v VisitFact) bool { return v.CadreID == c.ID })
	var out []Status
	for _, r := range p.Rules {
		if r.Subject != SubjectCadre {
			continue
		}
		for _, m := range r.Minimums {
			if m.Window != period.Window {
				continue
			}
			mask, places := cadreCoverage(r, c, period)
			if mask == nil {
				continue
			}
			id := c.ID
			j := &judgement{rule: r, min: m, period: period, applicable: mask,
				status: Status{RuleCode: r.Code, RuleNameZH: r.NameZH, Subject: r.Subject, CadreID: &id, Period: period}}
			j.check = func(v VisitFact, _ domain.Date) string {
				if len(places) > 0 && !slices.Contains(places, v.VillageID) && !slices.Contains(places, v.RegionID) {
					return ReasonOutsideArea
				}
				return ""
			}
			out = append(out, j.judge(own, today))
		}
	}
	return out
}

// cadreCoverage marks the days c holds one of r's duties and collects the
// places those duties are judged in; a nil mask means no day is covered.
func cadreCoverage(r Rule, c CadreFacts, period Period) (mask []bool, places []uuid.UUID) {
	n := period.Days()
	mask = make([]bool, n)
	covers := false
	for _, d := range c.Duties {
		if !contains(r.Duties, d.Kind) {
			continue
		}
		if d.RegionID != nil && !slices.Contains(places, *d.RegionID) {
			places = append(places, *d.RegionID)
		}
		for i := range n {
			if d.ActiveOn(addDays(period.Start, i)) {
				mask[i], covers = true, true
			}
		}
	}
	if !covers {
		return nil, nil
	}
	for _, v := range c.UnitVillageIDs {
		if !slices.Contains(places, v) {
			places = append(places, v)
		}
	}
	return mask, places
}

// EvaluateUnit judges the unit-group rules of p for one assisting unit in one
// window: one status per village group (or village, for an assignment
// without a group) the unit is assigned to during the period. Any of the
// unit's cadres visiting a household there counts as the unit's work; two
// of them on the same day count once.
func EvaluateUnit(p Profile, u UnitFacts, visits []VisitFact, period Period, today domain.Date) []Status {
	own := sortedVisits(visits, func(v VisitFact) bool { return slices.Contains(u.CadreIDs, v.CadreID) })
	var out []Status
	for _, r := range p.Rules {
		if r.Subject != SubjectUnitGroup {
			continue
		}
		for _, m := range r.Minimums {
			if m.Window != period.Window {
				continue
			}
			for _, place := range assignedPlaces(u) {
				mask := make([]bool, period.Days())
				covers := false
				for _, a := range u.Assignments {
					if assignmentPlace(a) != place {
						continue
					}
					for i := range mask {
						if domain.InForce(a.StartOn, a.EndOn, addDays(period.Start, i)) {
							mask[i], covers = true, true
						}
					}
				}
				if !covers {
					continue
				}
				unit, region := u.ID, place
				j := &judgement{rule: r, min: m, period: period, applicable: mask,
					status: Status{RuleCode: r.Code, RuleNameZH: r.NameZH, Subject: r.Subject, UnitID: &unit, RegionID: &region, Period: period}}
				j.check = func(v VisitFact, _ domain.Date) string {
					if v.RegionID != region && v.VillageID != region {
						return ReasonOutsideArea
					}
					return ""
				}
				out = append(out, j.judge(own, today))
			}
		}
	}
	return out
}

func assignmentPlace(a domain.UnitAssignment) uuid.UUID {
	if a.GroupID != nil {
		return *a.GroupID
	}
	return a.VillageID
}

// assignedPlaces lists the unit's groups in the order of first assignment.
func assignedPlaces(u UnitFacts) []uuid.UUID {
	as := slices.Clone(u.Assignments)
	slices.SortStableFunc(as, func(a, b domain.UnitAssignment) int { return daysBetween(b.StartOn, a.StartOn) })
	var out []uuid.UUID
	for _, a := range as {
		if p := assignmentPlace(a); !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}
