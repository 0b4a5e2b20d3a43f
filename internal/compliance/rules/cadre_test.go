package rules

import (
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

func duty(kind string, region *uuid.UUID, from domain.Date, to *domain.Date) domain.Duty {
	return domain.Duty{Kind: kind, RegionID: region, StartOn: from, EndOn: to}
}

func TestUnitHeadQuarterly(t *testing.T) {
	otherVillage := id(30)
	c := CadreFacts{ID: cadreA, Duties: []domain.Duty{duty(domain.DutyUnitHead, nil, day(2025, 1, 1), nil)}, UnitVillageIDs: []uuid.UUID{village}}
	away := assist(cadreA, 2026, 8, 3)
	away.VillageID, away.RegionID = otherVillage, otherVillage
	visits := []VisitFact{away, assist(cadreB, 2026, 8, 4)} // cadreB's visit is not the head's
	st, ok := find(EvaluateCadre(DefaultProfile(), c, visits, period("2026-Q3"), day(2026, 9, 20)), CodeUnitHeadQuarterly)
	if !ok || st.State != StateDueSoon || !slices.Equal(reasons(st), []string{ReasonOutsideArea}) || *st.CadreID != cadreA {
		t.Fatalf("%v %s %v", ok, st.State, reasons(st))
	}
	visits = append(visits, assist(cadreA, 2026, 9, 25))
	st, _ = find(EvaluateCadre(DefaultProfile(), c, visits, period("2026-Q3"), day(2026, 9, 26)), CodeUnitHeadQuarterly)
	if st.State != StateMet {
		t.Errorf("after a visit to the unit's village: %s", st.State)
	}
	// The duty's own region wins over nothing: with a region, visits there count.
	c.UnitVillageIDs = nil
	c.Duties[0].RegionID = &otherVillage
	st, _ = find(EvaluateCadre(DefaultProfile(), c, visits[:1], period("2026-Q3"), day(2026, 9, 26)), CodeUnitHeadQuarterly)
	if st.State != StateMet {
		t.Errorf("visit in the duty's region: %s", st.State)
	}
	// No duty, no status; members' rule does not apply to a head.
	sts := EvaluateCadre(DefaultProfile(), CadreFacts{ID: cadreA}, visits, period("2026-Q3"), day(2026, 9, 26))
	if len(sts) != 0 {
		t.Errorf("%d statuses for a cadre without duties", len(sts))
	}
}

func TestUnitMembersMonthly4CountsDays(t *testing.T) {
	c := CadreFacts{ID: cadreA, Duties: []domain.Duty{duty(domain.DutyOrdinaryMember, nil, day(2025, 1, 1), nil)}, UnitVillageIDs: []uuid.UUID{village}}
	second := assist(cadreA, 2026, 3, 2)
	second.HouseholdID = id(99) // another household, same day: one day in the village
	visits := []VisitFact{assist(cadreA, 2026, 3, 2), second, assist(cadreA, 2026, 3, 9), assist(cadreA, 2026, 3, 16)}
	st, _ := find(EvaluateCadre(DefaultProfile(), c, visits, period("2026-03"), day(2026, 3, 20)), CodeUnitMembersMonthly4)
	if st.CountedN != 3 || st.Required != 4 || st.State != StateOnTrack || !slices.Equal(reasons(st), []string{ReasonSameDay}) {
		t.Errorf("%d/%d %s %v", st.CountedN, st.Required, st.State, reasons(st))
	}
	// Pace: by Mar 20, 4 × 19/31 = 2 expected; 1 counted is behind.
	st, _ = find(EvaluateCadre(DefaultProfile(), c, visits[:1], period("2026-03"), day(2026, 3, 20)), CodeUnitMembersMonthly4)
	if st.State != StateOverdue {
		t.Errorf("one day by Mar 20: %s", st.State)
	}
	// A member from Mar 16: 16 of 31 days → ceil(4 × 16 / 31) = 3, only visits from then count.
	c.Duties[0].StartOn = day(2026, 3, 16)
	st, _ = find(EvaluateCadre(DefaultProfile(), c, visits, period("2026-03"), day(2026, 3, 20)), CodeUnitMembersMonthly4)
	if st.Required != 3 || st.CountedN != 1 || !st.Prorated {
		t.Errorf("from Mar 16: %d/%d", st.CountedN, st.Required)
	}
	// Leadership members follow the same rule.
	c.Duties = []domain.Duty{duty(domain.DutyLeadershipMember, nil, day(2025, 1, 1), datePtr(2026, 3, 10))}
	st, _ = find(EvaluateCadre(DefaultProfile(), c, visits, period("2026-03"), day(2026, 3, 20)), CodeUnitMembersMonthly4)
	// Mar 1–9: 9 days → ceil(4 × 9 / 31) = 2, done by Mar 9.
	if st.Required != 2 || st.CountedN != 2 || st.State != StateMet || st.DueOn != day(2026, 3, 9) {
		t.Errorf("leadership until Mar 10: %d/%d %s due %s", st.CountedN, st.Required, st.State, st.DueOn)
	}
}

func TestUnitGroupMonthly(t *testing.T) {
	otherGroup := id(31)
	u := UnitFacts{ID: unitID, CadreIDs: []uuid.UUID{cadreA, cadreB}, Assignments: []domain.UnitAssignment{
		{ID: id(40), UnitID: unitID, VillageID: village, GroupID: &group, StartOn: day(2026, 1, 1)},
	}}
	elsewhere := assist(cadreA, 2026, 4, 2)
	elsewhere.RegionID = otherGroup
	visits := []VisitFact{
		elsewhere, assist(cadreC, 2026, 4, 3), // cadre C is not the unit's: ignored
		visitAt(cadreA, domain.KindAssist, sh(2026, 4, 8, 9)), visitAt(cadreB, domain.KindAssist, sh(2026, 4, 8, 14)),
	}
	sts := EvaluateUnit(DefaultProfile(), u, visits, period("2026-04"), day(2026, 4, 10))
	if len(sts) != 1 {
		t.Fatalf("%d statuses", len(sts))
	}
	st := sts[0]
	if st.State != StateMet || st.CountedN != 1 || *st.UnitID != unitID || *st.RegionID != group ||
		!slices.Equal(reasons(st), []string{ReasonOutsideArea, ReasonSameDay}) {
		t.Errorf("%s %d %v", st.State, st.CountedN, reasons(st))
	}
	// Reassigned to another group on Apr 20: each group judged on its own days.
	u.Assignments[0].EndOn = datePtr(2026, 4, 20)
	u.Assignments = append(u.Assignments, domain.UnitAssignment{ID: id(41), UnitID: unitID, VillageID: village, GroupID: &otherGroup, StartOn: day(2026, 4, 20)})
	sts = EvaluateUnit(DefaultProfile(), u, visits, period("2026-04"), day(2026, 5, 1))
	if len(sts) != 2 || sts[0].State != StateMet || sts[1].State != StateMissed || sts[1].ApplicableDays != 11 {
		t.Errorf("after reassignment: %+v", sts)
	}
}
