package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// owedQuarter is household n's Q4 2026 status of one visit, with counted
// visits so far, answered for by cadre.
func owedQuarter(n, counted int, cadre *uuid.UUID) Owed {
	return Owed{Cadre: cadre, Status: Status{RuleCode: CodeEdge, Subject: SubjectHousehold, HouseholdID: id(500 + n),
		Period: period("2026-Q4"), Required: 1, CountedN: counted, DueOn: day(2026, 12, 31)}}
}

// households gives cadre n households each 0 of 1 in Q4 2026.
func households(n int, cadre *uuid.UUID) []Owed {
	var out []Owed
	for i := range n {
		out = append(out, owedQuarter(i, 0, cadre))
	}
	return out
}

// paced is a pace of visits household visits over the 30 working days of
// six weeks.
func paced(visits int) Pace { return Pace{WorkingDays: 30, Visits: visits, VisitDays: min(visits, 30)} }

func TestForecastWarnsAtTheCadresOwnPace(t *testing.T) {
	a := cadreA
	dec6 := day(2026, 12, 6) // 25 days left, 19 working days
	tests := []struct {
		name      string
		owed      []Owed
		pace      Pace
		today     domain.Date
		atRisk    bool
		score     float64
		owedTotal int
		reason    string
	}{
		// Issue 19: 0 of 1 with 25 days left across 20 households was
		// silent, since 25 days ÷ 20 households left each "a day".
		{"twenty households, a visit every three working days", households(20, &a), paced(10), dec6, true, 0.7, 20, "约14次完不成"},
		{"twenty households, three visits every two working days", households(20, &a), paced(45), dec6, false, 0, 20, "时间尚够"},
		{"no visit in six weeks", households(3, &a), Pace{WorkingDays: 30}, dec6, true, 1, 3, "没有计入的走访"},
		{"met", []Owed{owedQuarter(0, 1, &a)}, paced(0), dec6, false, 0, 0, "已达标"},
		{"past the due day", []Owed{owedQuarter(0, 0, &a)}, paced(30), day(2027, 1, 1), true, 1, 0, "已过截止日"},
		{"nobody answers for the household", households(1, nil), paced(30), dec6, true, 1, 0, "没有帮扶责任人"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			risks := Forecast(tt.owed, map[uuid.UUID]Pace{a: tt.pace}, tt.today)
			r := risks[0]
			if r.AtRisk != tt.atRisk || r.Score != tt.score || r.Owed != tt.owedTotal || !strings.Contains(r.ReasonZH, tt.reason) {
				t.Errorf("got %+v, want at risk %v, score %v, owed %d, a reason with %q", r, tt.atRisk, tt.score, tt.owedTotal, tt.reason)
			}
		})
	}
}

func TestForecastSumsWhatIsOwedByEachDeadline(t *testing.T) {
	a := cadreA
	hh := id(700)
	status := func(per string, required, counted int, due domain.Date) Owed {
		return Owed{Cadre: &a, Status: Status{RuleCode: CodeYearly6, Subject: SubjectHousehold, HouseholdID: hh, Period: period(per),
			Required: required, CountedN: counted, DueOn: due}}
	}
	month := Owed{Cadre: &a, Status: Status{RuleCode: CodeMonthly, Subject: SubjectHousehold, HouseholdID: id(701), Period: period("2026-12"),
		Required: 1, DueOn: day(2026, 12, 15)}} // the household's rule stops applying mid-month
	owed := []Owed{
		status("2026", 6, 3, day(2026, 12, 31)),    // 3 more this year
		status("2026-Q4", 1, 0, day(2026, 12, 31)), // and one this quarter: the same visits
		month,
	}
	risks := Forecast(owed, map[uuid.UUID]Pace{a: paced(30)}, day(2026, 12, 6))
	if risks[0].Owed != 4 || risks[1].Owed != 4 {
		t.Errorf("by 12-31 the cadre owes 3 visits to one household and 1 to another, got %d and %d", risks[0].Owed, risks[1].Owed)
	}
	if risks[2].Owed != 1 {
		t.Errorf("by 12-15 the cadre owes only the mid-month visit, got %d", risks[2].Owed)
	}
}

func TestForecastCertainMisses(t *testing.T) {
	a := cadreA
	st := Status{RuleCode: CodeMonthly, Subject: SubjectHousehold, HouseholdID: id(1), Period: period("2026-12"), Required: 3, DueOn: day(2026, 12, 31)}
	r := Forecast([]Owed{{Status: st, Cadre: &a}}, map[uuid.UUID]Pace{a: paced(300)}, day(2026, 12, 30))[0]
	if !r.AtRisk || r.Score != 1 || !strings.Contains(r.ReasonZH, "每户每天最多计1次") {
		t.Errorf("three visits in two days cannot count, whatever the pace: %+v", r)
	}
}

func TestForecastOfDuties(t *testing.T) {
	a := cadreA
	duty := Status{RuleCode: CodeUnitMembersMonthly4, Subject: SubjectCadre, CadreID: &a, Period: period("2026-12"), Required: 4, CountedN: 1, DueOn: day(2026, 12, 31)}
	unit := Status{RuleCode: CodeUnitGroup, Subject: SubjectUnitGroup, Period: period("2026-12"), Required: 1, DueOn: day(2026, 12, 31)}
	tests := []struct {
		name   string
		owed   Owed
		pace   Pace
		atRisk bool
	}{
		{"out in the village one working day in ten", Owed{Status: duty, Cadre: &a}, Pace{WorkingDays: 30, Visits: 9, VisitDays: 3}, true},
		{"out one working day in three", Owed{Status: duty, Cadre: &a}, Pace{WorkingDays: 30, Visits: 30, VisitDays: 10}, false},
		{"a unit's duty has the working days it needs", Owed{Status: unit}, Pace{}, false},
	}
	for _, tt := range tests {
		if r := Forecast([]Owed{tt.owed}, map[uuid.UUID]Pace{a: tt.pace}, day(2026, 12, 6))[0]; r.AtRisk != tt.atRisk || r.ReasonZH == "" {
			t.Errorf("%s: %+v", tt.name, r)
		}
	}
}

func TestPaces(t *testing.T) {
	today := day(2026, 12, 7) // a Monday: six weeks back is 2026-10-26, 30 working days
	other := id(900)
	visit := func(cadre uuid.UUID, household uuid.UUID, on domain.Date, kind string, flags ...string) VisitFact {
		v := visitAt(cadre, kind, on.Start().Add(10*time.Hour), flags...)
		v.HouseholdID = household
		return v
	}
	visits := []VisitFact{
		visit(cadreA, hhID, day(2026, 12, 1), domain.KindAssist),
		visit(cadreA, hhID, day(2026, 12, 1), domain.KindFollowup),   // the same household the same day: once
		visit(cadreA, other, day(2026, 12, 1), domain.KindAssist),    // another household that day
		visit(cadreA, other, day(2026, 11, 2), domain.KindFollowup),  // another day
		visit(cadreA, hhID, day(2026, 10, 25), domain.KindAssist),    // before the six weeks
		visit(cadreA, hhID, day(2026, 12, 7), domain.KindAssist),     // today: not yet part of the pace
		visit(cadreA, hhID, day(2026, 11, 3), domain.KindCondolence), // 慰问 does not count
		visit(cadreA, hhID, day(2026, 11, 4), domain.KindAssist, "mock_location"),
		visit(cadreB, hhID, day(2026, 11, 4), domain.KindAssist),
	}
	got := Paces(visits, DefaultProfile().CountsForPace, today)
	want := map[uuid.UUID]Pace{cadreA: {WorkingDays: 30, Visits: 3, VisitDays: 2}, cadreB: {WorkingDays: 30, Visits: 1, VisitDays: 1}}
	if len(got) != len(want) || got[cadreA] != want[cadreA] || got[cadreB] != want[cadreB] {
		t.Errorf("paces %+v, want %+v", got, want)
	}
	if p := got[cadreA].PerDay(); p != 0.1 {
		t.Errorf("cadre A's pace %v a working day, want 0.1", p)
	}
}

func TestRankRisksWorstFirst(t *testing.T) {
	owed := []Owed{owedQuarter(0, 0, nil), owedQuarter(1, 0, nil), owedQuarter(2, 0, nil)}
	owed[2].Status.DueOn = day(2026, 12, 20)
	risks := []Risk{{Score: 0.5, Needed: 1}, {Score: 1, Needed: 1}, {Score: 0.5, Needed: 1}}
	if got := RankRisks(risks, owed); got[0] != 1 || got[1] != 2 || got[2] != 0 {
		t.Errorf("order %v: the certain miss first, then the sooner deadline", got)
	}
}

func TestWorkingDays(t *testing.T) {
	if n := WorkingDays(day(2026, 12, 6), day(2026, 12, 31)); n != 19 {
		t.Errorf("working days 12-06 (a Sunday) through 12-31: %d, want 19", n)
	}
	if n := WorkingDays(day(2026, 12, 31), day(2026, 12, 30)); n != 0 {
		t.Errorf("an empty range: %d", n)
	}
}
