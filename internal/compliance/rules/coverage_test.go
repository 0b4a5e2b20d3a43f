package rules

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

func household(n int, status string, pairings ...domain.Pairing) HouseholdFacts {
	h := HouseholdFacts{ID: id(n), VillageID: village, RegionID: group, TownID: town,
		StatusSpans: []Span{{Status: status, From: day(2020, 1, 1)}}}
	for _, p := range pairings {
		p.HouseholdID = h.ID
		h.Pairings = append(h.Pairings, p)
	}
	return h
}

func pairing(n int, cadre uuid.UUID, from domain.Date, to *domain.Date) domain.Pairing {
	return domain.Pairing{ID: id(n), CadreID: cadre, StartOn: from, EndOn: to}
}

func onlyRule(fs []Finding, code string) []Finding {
	return slices.DeleteFunc(slices.Clone(fs), func(f Finding) bool { return f.RuleCode != code })
}

func TestTownHeadCoverage(t *testing.T) {
	head := CadreFacts{ID: cadreC, Duties: []domain.Duty{duty(domain.DutyTownHead, &town, day(2024, 1, 1), nil)}}
	h1, h2, h3 := household(51, domain.StatusRegistered), household(52, domain.StatusRegistered), household(53, domain.StatusExited)
	otherTown := household(54, domain.StatusRegistered)
	otherTown.TownID = id(60)
	v1 := assist(cadreC, 2026, 3, 1)
	v1.HouseholdID = h1.ID
	v2 := visitAt(cadreC, domain.KindCondolence, sh(2026, 2, 1, 9)) // a festival visit is not 遍访
	v2.HouseholdID = h2.ID
	in := CoverageInput{Households: []HouseholdFacts{h1, h2, h3, otherTown}, Cadres: []CadreFacts{head}, Visits: []VisitFact{v1, v2}}
	fs := onlyRule(CheckCoverage(DefaultProfile(), in, 2026, day(2026, 6, 1)), CodeTownHeadCoverage)
	if len(fs) != 1 || fs[0].SubjectID != cadreC || !slices.Equal(fs[0].Items, []uuid.UUID{h2.ID}) || fs[0].Severity != SeverityWarning {
		t.Fatalf("%+v", fs)
	}
	if !strings.Contains(fs[0].ExplanationZH, "2户中，尚有1户") {
		t.Errorf("explanation: %s", fs[0].ExplanationZH)
	}
	fs = onlyRule(CheckCoverage(DefaultProfile(), in, 2026, day(2027, 1, 1)), CodeTownHeadCoverage)
	if len(fs) != 1 || fs[0].Severity != SeverityViolation {
		t.Errorf("after the year: %+v", fs)
	}
	v3 := visitAt(cadreC, domain.KindInspection, sh(2026, 11, 1, 9))
	v3.HouseholdID = h2.ID
	in.Visits = append(in.Visits, v3)
	if fs := onlyRule(CheckCoverage(DefaultProfile(), in, 2026, day(2027, 1, 1)), CodeTownHeadCoverage); len(fs) != 0 {
		t.Errorf("all visited: %+v", fs)
	}
	p := DefaultProfile()
	p.Coverage.TownHead.Enabled = false
	in.Visits = nil
	if fs := onlyRule(CheckCoverage(p, in, 2026, day(2027, 1, 1)), CodeTownHeadCoverage); len(fs) != 0 {
		t.Error("a disabled check reported")
	}
}

func TestCountyLeaderCoverage(t *testing.T) {
	leader := CadreFacts{ID: cadreC, Duties: []domain.Duty{duty(domain.DutyCountyLeader, &county, day(2024, 1, 1), nil)}}
	poor2 := id(61)
	villages := []Village{{ID: village, CountyID: county, Poor: true}, {ID: poor2, CountyID: county, Poor: true}, {ID: id(62), CountyID: county}}
	v := assist(cadreC, 2026, 4, 1)
	in := CoverageInput{Cadres: []CadreFacts{leader}, Villages: villages, Visits: []VisitFact{v}}
	fs := onlyRule(CheckCoverage(DefaultProfile(), in, 2026, day(2026, 12, 1)), CodeCountyLeaderCover)
	if len(fs) != 1 || !slices.Equal(fs[0].Items, []uuid.UUID{poor2}) {
		t.Fatalf("%+v", fs)
	}
	// A visit the year before does not count for this year.
	if fs := onlyRule(CheckCoverage(DefaultProfile(), in, 2027, day(2027, 2, 1)), CodeCountyLeaderCover); len(fs) != 1 || len(fs[0].Items) != 2 {
		t.Errorf("2027: %+v", fs)
	}
}

func TestEveryHouseholdPaired(t *testing.T) {
	gapped := household(71, domain.StatusRegistered,
		pairing(171, cadreA, day(2020, 1, 1), datePtr(2026, 3, 1)),
		pairing(172, cadreB, day(2026, 3, 16), nil))
	repaired := household(72, domain.StatusRegistered, // same-day re-pairing leaves no gap
		pairing(173, cadreA, day(2020, 1, 1), datePtr(2026, 5, 1)),
		pairing(174, cadreB, day(2026, 5, 1), nil))
	unpaired := household(73, domain.StatusExited, pairing(175, cadreA, day(2020, 1, 1), datePtr(2026, 9, 1)))
	general := household(74, domain.StatusGeneral)
	edge := household(75, domain.StatusEdge) // issue 19: edge households had nobody and no finding
	in := CoverageInput{Households: []HouseholdFacts{gapped, repaired, unpaired, general, edge}}
	fs := onlyRule(CheckCoverage(DefaultProfile(), in, 2026, day(2026, 10, 1)), CodeEveryHouseholdPair)
	if len(fs) != 3 {
		t.Fatalf("%+v", fs)
	}
	if fs[2].SubjectID != edge.ID || !fs[2].Unpaired || fs[2].HouseholdStatus != domain.StatusEdge || fs[2].Severity != SeverityViolation ||
		!strings.Contains(fs[2].ExplanationZH, "该户（边缘户）") {
		t.Errorf("unpaired edge household: %+v", fs[2])
	}
	if fs[0].Unpaired || !fs[1].Unpaired || fs[1].HouseholdStatus != domain.StatusExited {
		t.Errorf("only households with nobody today are unpaired: %+v", fs[:2])
	}
	if fs[0].SubjectID != gapped.ID || fs[0].Severity != SeverityWarning || !slices.Equal(fs[0].Items, []uuid.UUID{id(171)}) ||
		!strings.Contains(fs[0].ExplanationZH, "2026-03-01至2026-03-15") {
		t.Errorf("gap: %+v", fs[0])
	}
	if fs[1].SubjectID != unpaired.ID || fs[1].Severity != SeverityViolation || !strings.Contains(fs[1].ExplanationZH, "目前仍无帮扶责任人") {
		t.Errorf("unpaired exited household: %+v", fs[1])
	}
}

func TestPairingQuota321(t *testing.T) {
	countyLevel := CadreFacts{ID: cadreA, Rank: domain.RankCountyLevel}
	section := CadreFacts{ID: cadreB, Rank: domain.RankSectionLevel}
	staff := CadreFacts{ID: cadreC, Rank: domain.RankStaff}
	unranked := CadreFacts{ID: id(13)}
	in := CoverageInput{Cadres: []CadreFacts{countyLevel, section, staff, unranked}, Households: []HouseholdFacts{
		household(81, domain.StatusRegistered, pairing(181, cadreA, day(2024, 1, 1), nil), pairing(182, cadreC, day(2024, 1, 1), nil)),
		household(82, domain.StatusRegistered, pairing(183, cadreA, day(2024, 1, 1), nil), pairing(184, cadreB, day(2024, 1, 1), datePtr(2026, 1, 1))),
		household(83, domain.StatusRegistered, pairing(185, cadreB, day(2024, 1, 1), nil)),
	}}
	fs := onlyRule(CheckCoverage(DefaultProfile(), in, 2026, day(2026, 6, 1)), CodePairingQuota321)
	if len(fs) != 2 || fs[0].SubjectID != cadreA || fs[1].SubjectID != cadreB {
		t.Fatalf("%+v", fs)
	}
	if !strings.Contains(fs[0].ExplanationZH, "县处级应结对帮扶3户") || !strings.Contains(fs[1].ExplanationZH, "实际结对1户") {
		t.Errorf("%s / %s", fs[0].ExplanationZH, fs[1].ExplanationZH)
	}
}

func TestResidentTerm(t *testing.T) {
	early := CadreFacts{ID: cadreA, Duties: []domain.Duty{duty(domain.DutyResident, &village, day(2025, 3, 1), datePtr(2026, 9, 1))}}
	full := CadreFacts{ID: cadreB, Duties: []domain.Duty{duty(domain.DutyResident, &village, day(2024, 3, 1), datePtr(2026, 3, 1))}}
	ongoing := CadreFacts{ID: cadreC, Duties: []domain.Duty{duty(domain.DutyResident, &village, day(2026, 3, 1), nil)}}
	in := CoverageInput{Cadres: []CadreFacts{early, full, ongoing}}
	fs := onlyRule(CheckCoverage(DefaultProfile(), in, 2026, day(2026, 10, 1)), CodeResidentTerm)
	if len(fs) != 1 || fs[0].SubjectID != cadreA || !strings.Contains(fs[0].ExplanationZH, "约18个月") {
		t.Fatalf("%+v", fs)
	}
}
