package rules

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fieldvisit/fieldvisit/domain"
)

// judge returns the one status of code in period, failing when absent.
func judge(t *testing.T, p Profile, h HouseholdFacts, visits []VisitFact, key string, today domain.Date, code string) Status {
	t.Helper()
	st, ok := find(EvaluateHousehold(p, h, visits, period(key), today), code)
	if !ok {
		t.Fatalf("no %s status for %s", code, key)
	}
	return st
}

func TestYearly6(t *testing.T) {
	everyQuarter := []VisitFact{
		assist(cadreA, 2026, 1, 10), assist(cadreA, 2026, 3, 5), assist(cadreA, 2026, 5, 6),
		assist(cadreA, 2026, 8, 8), assist(cadreA, 2026, 10, 9), assist(cadreA, 2026, 12, 30),
	}
	tests := []struct {
		name     string
		visits   []VisitFact
		key      string
		today    domain.Date
		state    string
		required int
		counted  int
	}{
		{"six in the year", everyQuarter, "2026", day(2027, 1, 2), StateMet, 6, 6},
		{"five in the year, year over", everyQuarter[:5], "2026", day(2027, 1, 1), StateMissed, 6, 5},
		{"five in the year, last day", everyQuarter[:5], "2026", day(2026, 12, 31), StateDueSoon, 6, 5},
		{"on pace in July", everyQuarter[:3], "2026", day(2026, 7, 1), StateOnTrack, 6, 3},
		{"behind pace in July", everyQuarter[:1], "2026", day(2026, 7, 1), StateOverdue, 6, 1},
		{"behind pace beats due soon", everyQuarter[:2], "2026", day(2026, 12, 20), StateOverdue, 6, 2},
		{"quarter met", everyQuarter, "2026-Q1", day(2026, 2, 1), StateMet, 1, 2},
		{"quarter open, early", nil, "2026-Q2", day(2026, 4, 3), StateOnTrack, 1, 0},
		{"quarter due in 14 days", nil, "2026-Q2", day(2026, 6, 17), StateDueSoon, 1, 0},
		{"quarter not yet due soon", nil, "2026-Q2", day(2026, 6, 16), StateOnTrack, 1, 0},
		{"quarter missed on the next day", nil, "2026-Q2", day(2026, 7, 1), StateMissed, 1, 0},
		{"quarter not started", nil, "2026-Q4", day(2026, 7, 1), StateOnTrack, 1, 0},
		{"last day of Q4 counts", everyQuarter, "2026-Q4", day(2027, 1, 1), StateMet, 1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := judge(t, DefaultProfile(), registered(), tt.visits, tt.key, tt.today, CodeYearly6)
			if st.State != tt.state || st.Required != tt.required || st.CountedN != tt.counted {
				t.Errorf("got %s %d/%d, want %s %d/%d\n%s", st.State, st.CountedN, st.Required, tt.state, tt.counted, tt.required, st.ExplanationZH)
			}
			if st.ExplanationZH == "" || st.Explanation == "" {
				t.Error("no explanation")
			}
		})
	}
}

func TestNewYearInShanghaiNotUTC(t *testing.T) {
	// 2026-12-31T17:00Z is 2027-01-01 01:00 in Shanghai.
	v := visitAt(cadreA, domain.KindAssist, time.Date(2026, 12, 31, 17, 0, 0, 0, time.UTC))
	q4 := judge(t, DefaultProfile(), registered(), []VisitFact{v}, "2026-Q4", day(2027, 1, 5), CodeYearly6)
	if q4.CountedN != 0 || q4.State != StateMissed || !slices.Equal(reasons(q4), []string{ReasonOutsideWindow}) {
		t.Errorf("2026-Q4: %s %d counted, reasons %v", q4.State, q4.CountedN, reasons(q4))
	}
	q1 := judge(t, DefaultProfile(), registered(), []VisitFact{v}, "2027-Q1", day(2027, 1, 5), CodeYearly6)
	if q1.CountedN != 1 || q1.Counted[0].On != day(2027, 1, 1) {
		t.Errorf("2027-Q1: %d counted, want the visit on 2027-01-01", q1.CountedN)
	}
	y := judge(t, DefaultProfile(), registered(), []VisitFact{v}, "2027", day(2027, 1, 5), CodeYearly6)
	if y.CountedN != 1 {
		t.Errorf("2027: %d counted", y.CountedN)
	}
	// 15:59Z on Dec 31 is still 2026 in Shanghai.
	w := visitAt(cadreA, domain.KindAssist, time.Date(2026, 12, 31, 15, 59, 0, 0, time.UTC))
	q4 = judge(t, DefaultProfile(), registered(), []VisitFact{w}, "2026-Q4", day(2027, 1, 5), CodeYearly6)
	if q4.CountedN != 1 {
		t.Errorf("15:59Z on Dec 31 belongs to 2026 in Shanghai")
	}
	// Visits of other windows that no reading of the timestamp puts here are not listed.
	far := assist(cadreA, 2026, 5, 5)
	q4 = judge(t, DefaultProfile(), registered(), []VisitFact{far}, "2026-Q4", day(2027, 1, 5), CodeYearly6)
	if len(q4.NotCounted) != 0 {
		t.Errorf("a May visit is listed for Q4: %v", reasons(q4))
	}
}

// exitsInJune is registered until 2026-06-15, exited (in 2026) from then.
func exitsInJune() HouseholdFacts {
	h := registered()
	h.StatusSpans = []Span{
		{Status: domain.StatusRegistered, PovertyType: domain.PovertyOrdinary, From: day(2020, 1, 1), To: datePtr(2026, 6, 15)},
		{Status: domain.StatusExited, PovertyType: domain.PovertyOrdinary, ExitYear: 2026, From: day(2026, 6, 15)},
	}
	return h
}

func TestHouseholdExitsInJune(t *testing.T) {
	h := exitsInJune()
	visits := []VisitFact{assist(cadreA, 2026, 2, 1), assist(cadreA, 2026, 5, 1), assist(cadreA, 2026, 6, 14), assist(cadreA, 2026, 6, 20), visitAt(cadreA, domain.KindFollowup, sh(2026, 9, 1, 9))}
	y := judge(t, DefaultProfile(), h, visits, "2026", day(2026, 12, 31), CodeYearly6)
	// Jan 1 – Jun 14 is 165 of 365 days: ceil(6 × 165 / 365) = 3.
	if y.Required != 3 || !y.Prorated || y.ApplicableDays != 165 || y.FullRequired != 6 {
		t.Errorf("required %d of %d over %d days, prorated %v", y.Required, y.FullRequired, y.ApplicableDays, y.Prorated)
	}
	if y.State != StateMet || y.CountedN != 3 || y.DueOn != day(2026, 6, 14) {
		t.Errorf("state %s, %d counted, due %s", y.State, y.CountedN, y.DueOn)
	}
	if !slices.Equal(reasons(y), []string{ReasonNotApplicable, ReasonNotApplicable}) {
		t.Errorf("visits after the exit: %v", reasons(y))
	}
	for _, s := range []string{"按适用天数折算应走访3次", "2026-01-01至2026-06-14", "2026-06-15起为已脱贫"} {
		if !strings.Contains(y.ExplanationZH, s) {
			t.Errorf("explanation lacks %q: %s", s, y.ExplanationZH)
		}
	}
	// The yearly minimum for the registered months is over once the household exits.
	y = judge(t, DefaultProfile(), h, visits[:1], "2026", day(2026, 8, 1), CodeYearly6)
	if y.State != StateMissed {
		t.Errorf("two short after exit: %s, want missed", y.State)
	}
	// Q2: yearly-6 covers Apr 1 – Jun 14 (75 of 91 days), exited-followup Jun 15 – 30 (16 days).
	q2 := EvaluateHousehold(DefaultProfile(), h, visits, period("2026-Q2"), day(2026, 12, 31))
	y6, _ := find(q2, CodeYearly6)
	fu, ok := find(q2, CodeExitedFollowup)
	if !ok || y6.Required != 1 || y6.State != StateMet || fu.Required != 1 || fu.ApplicableDays != 16 || fu.CountedN != 1 {
		t.Errorf("Q2: yearly-6 %d/%d %s; exited-followup %d/%d over %d days", y6.CountedN, y6.Required, y6.State, fu.CountedN, fu.Required, fu.ApplicableDays)
	}
	// Q3: only exited-followup, and a followup counts.
	q3 := EvaluateHousehold(DefaultProfile(), h, visits, period("2026-Q3"), day(2026, 12, 31))
	if _, ok := find(q3, CodeYearly6); ok || len(q3) != 1 {
		t.Errorf("Q3 statuses: %d", len(q3))
	}
	if fu, _ := find(q3, CodeExitedFollowup); fu.State != StateMet || fu.Prorated {
		t.Errorf("Q3 exited-followup: %s prorated %v", fu.State, fu.Prorated)
	}
	// Q1 has no exited-followup status at all.
	if _, ok := find(EvaluateHousehold(DefaultProfile(), h, visits, period("2026-Q1"), day(2026, 12, 31)), CodeExitedFollowup); ok {
		t.Error("exited-followup judged before the exit")
	}
}

func TestHouseholdRegisteredInOctober(t *testing.T) {
	h := registered()
	h.StatusSpans = []Span{{Status: domain.StatusRegistered, From: day(2026, 10, 1)}}
	h.Pairings[0].StartOn = day(2026, 10, 1)
	visits := []VisitFact{assist(cadreA, 2026, 9, 20), assist(cadreA, 2026, 11, 3)}
	y := judge(t, DefaultProfile(), h, visits, "2026", day(2026, 11, 10), CodeYearly6)
	// 92 of 365 days: ceil(6 × 92 / 365) = 2.
	if y.Required != 2 || y.CountedN != 1 || y.State != StateOnTrack {
		t.Errorf("year: %d/%d %s", y.CountedN, y.Required, y.State)
	}
	if !slices.Equal(reasons(y), []string{ReasonNotApplicable}) {
		t.Errorf("September visit: %v", reasons(y))
	}
	for _, q := range []string{"2026-Q1", "2026-Q2", "2026-Q3"} {
		if sts := EvaluateHousehold(DefaultProfile(), h, visits, period(q), day(2026, 11, 10)); len(sts) != 0 {
			t.Errorf("%s: %d statuses before registration", q, len(sts))
		}
	}
	q4 := judge(t, DefaultProfile(), h, visits, "2026-Q4", day(2026, 11, 10), CodeYearly6)
	if q4.Required != 1 || q4.Prorated || q4.State != StateMet {
		t.Errorf("Q4: %d/%d %s", q4.CountedN, q4.Required, q4.State)
	}
}

func TestGraceDaysAtWindowEdge(t *testing.T) {
	h := registered()
	h.StatusSpans = []Span{{Status: domain.StatusRegistered, From: day(2026, 3, 28)}}
	q1 := judge(t, DefaultProfile(), h, nil, "2026-Q1", day(2026, 4, 2), CodeYearly6)
	if q1.Required != 0 || q1.State != StateMet || !q1.Prorated || !strings.Contains(q1.ExplanationZH, "不作要求") {
		t.Errorf("4 days of Q1: %d required, %s: %s", q1.Required, q1.State, q1.ExplanationZH)
	}
	h.StatusSpans[0].From = day(2026, 3, 25) // 7 days: ceil(1 × 7 / 90) = 1
	q1 = judge(t, DefaultProfile(), h, nil, "2026-Q1", day(2026, 4, 2), CodeYearly6)
	if q1.Required != 1 || q1.State != StateMissed {
		t.Errorf("7 days of Q1: %d required, %s", q1.Required, q1.State)
	}
	p := DefaultProfile()
	p.Rules[0].GraceDays = 10
	q1 = judge(t, p, h, nil, "2026-Q1", day(2026, 4, 2), CodeYearly6)
	if q1.Required != 0 {
		t.Errorf("grace 10: %d required", q1.Required)
	}
}

func TestRepairingMidQuarter(t *testing.T) {
	h := registered()
	h.Pairings = []domain.Pairing{
		{ID: id(100), HouseholdID: hhID, CadreID: cadreA, StartOn: day(2020, 1, 1), EndOn: datePtr(2026, 8, 15)},
		{ID: id(101), HouseholdID: hhID, CadreID: cadreB, StartOn: day(2026, 8, 15)},
	}
	visits := []VisitFact{
		assist(cadreA, 2026, 7, 10), // A, while paired: counts
		assist(cadreB, 2026, 8, 1),  // B, before pairing
		assist(cadreA, 2026, 9, 1),  // A, after the pairing ended
		assist(cadreB, 2026, 9, 2),  // B, paired: counts
		assist(cadreC, 2026, 9, 3),  // never paired
	}
	q3 := judge(t, DefaultProfile(), h, visits, "2026-Q3", day(2026, 10, 1), CodeYearly6)
	if q3.CountedN != 2 || q3.Counted[0].CadreID != cadreA || q3.Counted[1].CadreID != cadreB {
		t.Errorf("counted %+v", q3.Counted)
	}
	if !slices.Equal(reasons(q3), []string{ReasonBeforePairing, ReasonAfterPairing, ReasonNotPaired}) {
		t.Errorf("reasons %v", reasons(q3))
	}
	// A rule that takes any cadre counts them all (one a day).
	p := DefaultProfile()
	p.Rules[0].AnyCadre = true
	q3 = judge(t, p, h, visits, "2026-Q3", day(2026, 10, 1), CodeYearly6)
	if q3.CountedN != 5 {
		t.Errorf("any cadre: %d counted", q3.CountedN)
	}
	// Under 003 each pair is judged on its own days: A for Jul 1 – Aug 14, B from Aug 15.
	paired := MonthlyPairedProfile()
	aug := EvaluateHousehold(paired, h, visits, period("2026-08"), day(2026, 9, 1))
	a, okA := find(aug, CodeMonthlyPaired, cadreA)
	b, okB := find(aug, CodeMonthlyPaired, cadreB)
	if !okA || !okB || a.ApplicableDays != 14 || b.ApplicableDays != 17 {
		t.Fatalf("August pairs: A %v %d days, B %v %d days", okA, a.ApplicableDays, okB, b.ApplicableDays)
	}
	// A: 14 of 31 days → ceil(14/31) = 1, no visit in August → missed once Aug 14 has passed.
	if a.Required != 1 || a.State != StateMissed || a.DueOn != day(2026, 8, 14) {
		t.Errorf("A: %d/%d %s due %s", a.CountedN, a.Required, a.State, a.DueOn)
	}
	if b.State != StateMissed || !slices.Equal(reasons(b), []string{ReasonBeforePairing}) {
		t.Errorf("B: %s %v", b.State, reasons(b))
	}
	sep := EvaluateHousehold(paired, h, visits, period("2026-09"), day(2026, 10, 1))
	if _, ok := find(sep, CodeMonthlyPaired, cadreA); ok {
		t.Error("A is no longer paired in September")
	}
	if b, _ := find(sep, CodeMonthlyPaired, cadreB); b.State != StateMet || b.CountedN != 1 {
		t.Errorf("B in September: %s", b.State)
	}
}

func TestKindsFlagsDurationAndDeletion(t *testing.T) {
	short := visitAt(cadreA, domain.KindAssist, sh(2026, 4, 6, 9))
	end := short.StartedAt.Add(5 * time.Minute)
	short.EndedAt = &end
	open := visitAt(cadreA, domain.KindAssist, sh(2026, 4, 7, 9))
	open.EndedAt = nil
	deleted := assist(cadreA, 2026, 4, 8)
	deleted.Deleted = true
	visits := []VisitFact{
		visitAt(cadreA, domain.KindCondolence, sh(2026, 4, 1, 9)),
		visitAt(cadreA, domain.KindInspection, sh(2026, 4, 2, 9)),
		visitAt(cadreA, domain.KindAssist, sh(2026, 4, 3, 9), "mock_location"),
		visitAt(cadreA, domain.KindAssist, sh(2026, 4, 4, 9), "poor_accuracy", "far_from_home"),
		visitAt(cadreA, domain.KindAssist, sh(2026, 4, 5, 9), "poor_accuracy", "no_photo"), // weak evidence: counts
		short, open, deleted,
	}
	p := DefaultProfile()
	p.Rules[0].MinDurationMinutes = 15
	q := judge(t, p, registered(), visits, "2026-Q2", day(2026, 5, 1), CodeYearly6)
	want := []string{ReasonKind, ReasonKind, "flag:mock_location", "flag:far_from_home", ReasonTooShort, ReasonDeleted}
	if !slices.Equal(reasons(q), want) {
		t.Errorf("reasons %v, want %v", reasons(q), want)
	}
	if q.CountedN != 2 || q.Counted[0].On != day(2026, 4, 5) || q.Counted[1].On != day(2026, 4, 7) {
		t.Errorf("counted %+v", q.Counted)
	}
	if !strings.Contains(q.NotCounted[0].ReasonZH, "慰问") || !strings.Contains(q.NotCounted[2].ReasonZH, "虚拟定位") {
		t.Errorf("zh reasons %q %q", q.NotCounted[0].ReasonZH, q.NotCounted[2].ReasonZH)
	}
	// Condolence counting is a setting.
	p.Rules[0].CountKinds = append(p.Rules[0].CountKinds, domain.KindCondolence)
	q = judge(t, p, registered(), visits, "2026-Q2", day(2026, 5, 1), CodeYearly6)
	if q.CountedN != 3 {
		t.Errorf("with condolence counted: %d", q.CountedN)
	}
}

func TestTwoCadresSameDay(t *testing.T) {
	h := registered()
	h.Pairings = append(h.Pairings, domain.Pairing{ID: id(101), HouseholdID: hhID, CadreID: cadreB, StartOn: day(2020, 1, 1)})
	visits := []VisitFact{
		visitAt(cadreB, domain.KindAssist, sh(2026, 5, 6, 15)),
		visitAt(cadreA, domain.KindAssist, sh(2026, 5, 6, 9)),
		// 23:30 and 00:30 Shanghai are different days even though 1 hour apart.
		visitAt(cadreA, domain.KindAssist, sh(2026, 5, 7, 23).Add(30*time.Minute)),
		visitAt(cadreA, domain.KindAssist, sh(2026, 5, 8, 0).Add(30*time.Minute)),
	}
	m := judge(t, MonthlyProfile(), h, visits, "2026-05", day(2026, 5, 31), CodeMonthly)
	if m.CountedN != 3 || m.Counted[0].CadreID != cadreA || !slices.Equal(reasons(m), []string{ReasonSameDay}) {
		t.Errorf("household: %d counted, first by %v, reasons %v", m.CountedN, m.Counted[0].CadreID, reasons(m))
	}
	paired := EvaluateHousehold(MonthlyPairedProfile(), h, visits, period("2026-05"), day(2026, 5, 31))
	a, _ := find(paired, CodeMonthlyPaired, cadreA)
	b, _ := find(paired, CodeMonthlyPaired, cadreB)
	if a.CountedN != 3 || b.CountedN != 1 || a.State != StateMet || b.State != StateMet {
		t.Errorf("pairs: A %d %s, B %d %s", a.CountedN, a.State, b.CountedN, b.State)
	}
}

func TestLeapDay(t *testing.T) {
	v := visitAt(cadreA, domain.KindAssist, time.Date(2028, 2, 28, 16, 30, 0, 0, time.UTC)) // Feb 29 00:30 Shanghai
	feb := judge(t, MonthlyProfile(), registered(), []VisitFact{v}, "2028-02", day(2028, 3, 1), CodeMonthly)
	if feb.State != StateMet || feb.Counted[0].On != day(2028, 2, 29) || feb.Period.Days() != 29 {
		t.Errorf("Feb 2028: %s on %v", feb.State, feb.Counted)
	}
	// Registered from Feb 15 2028: 15 of 29 days → ceil(15/29) = 1; 366-day year.
	h := registered()
	h.StatusSpans = []Span{{Status: domain.StatusRegistered, From: day(2028, 2, 15)}}
	feb = judge(t, MonthlyProfile(), h, nil, "2028-02", day(2028, 2, 29), CodeMonthly)
	if feb.ApplicableDays != 15 || feb.Required != 1 || feb.State != StateDueSoon {
		t.Errorf("part of Feb 2028: %d days, %d required, %s", feb.ApplicableDays, feb.Required, feb.State)
	}
	y := judge(t, DefaultProfile(), h, nil, "2028", day(2028, 2, 29), CodeYearly6)
	// Feb 15 – Dec 31 2028 is 321 of 366 days: ceil(6 × 321 / 366) = 6.
	if y.ApplicableDays != 321 || y.Required != 6 {
		t.Errorf("2028: %d days, %d required", y.ApplicableDays, y.Required)
	}
}

func TestDefaultAndMonthlyProfilesDisagree(t *testing.T) {
	visits := []VisitFact{
		assist(cadreA, 2026, 1, 5), assist(cadreA, 2026, 2, 5), assist(cadreA, 2026, 5, 5),
		assist(cadreA, 2026, 8, 5), assist(cadreA, 2026, 10, 5), assist(cadreA, 2026, 11, 5),
	}
	today := day(2027, 1, 3)
	def := judge(t, DefaultProfile(), registered(), visits, "2026", today, CodeYearly6)
	mon := judge(t, MonthlyProfile(), registered(), visits, "2026", today, CodeMonthly)
	if def.State != StateMet || mon.State != StateMissed || mon.Required != 12 {
		t.Errorf("default %s, monthly %s (%d required)", def.State, mon.State, mon.Required)
	}
	mar := EvaluateHousehold(MonthlyProfile(), registered(), visits, period("2026-03"), today)
	if s, _ := find(mar, CodeMonthly); s.State != StateMissed {
		t.Errorf("March under monthly: %s", s.State)
	}
	if len(EvaluateHousehold(DefaultProfile(), registered(), visits, period("2026-03"), today)) != 0 {
		t.Error("the default profile has no monthly rule")
	}
	// An exited household: default asks a quarterly followup, monthly asks
	// monthly visits only of households exited since 2016.
	h := registered()
	h.StatusSpans = []Span{{Status: domain.StatusExited, ExitYear: 2015, From: day(2015, 12, 1)}}
	if sts := EvaluateHousehold(MonthlyProfile(), h, visits, period("2026-03"), today); len(sts) != 0 {
		t.Errorf("exited in 2015 under monthly: %d statuses", len(sts))
	}
	if s, ok := find(EvaluateHousehold(DefaultProfile(), h, visits, period("2026-Q1"), today), CodeExitedFollowup); !ok || s.State != StateMet {
		t.Errorf("exited in 2015 under default: %v %s", ok, s.State)
	}
	h.StatusSpans[0].ExitYear = 2019
	if _, ok := find(EvaluateHousehold(MonthlyProfile(), h, visits, period("2026-03"), today), CodeMonthly); !ok {
		t.Error("exited in 2019 is monthly under 002's alternative")
	}
	h.StatusSpans[0].ExitYear = 0 // unknown: kept under monitoring
	if _, ok := find(EvaluateHousehold(MonthlyProfile(), h, visits, period("2026-03"), today), CodeMonthly); !ok {
		t.Error("an unknown exit year must not drop the household")
	}
}

func TestEdgeAndPovertyTypeFilter(t *testing.T) {
	h := registered()
	h.StatusSpans = []Span{{Status: domain.StatusEdge, From: day(2024, 1, 1)}}
	q := EvaluateHousehold(DefaultProfile(), h, nil, period("2026-Q2"), day(2026, 6, 20))
	if len(q) != 1 || q[0].RuleCode != CodeEdge || q[0].State != StateDueSoon {
		t.Fatalf("edge: %+v", q)
	}
	p := DefaultProfile()
	p.Rules[0].PovertyTypes = []string{domain.PovertyWubao}
	if _, ok := find(EvaluateHousehold(p, registered(), nil, period("2026"), day(2026, 6, 1)), CodeYearly6); ok {
		t.Error("a wubao-only rule judged an ordinary household")
	}
}

func TestVisitOrderDoesNotMatter(t *testing.T) {
	h := registered()
	h.Pairings = append(h.Pairings, domain.Pairing{ID: id(101), HouseholdID: hhID, CadreID: cadreB, StartOn: day(2020, 1, 1)})
	same := sh(2026, 5, 6, 9)
	visits := []VisitFact{
		visitAt(cadreA, domain.KindAssist, same), visitAt(cadreB, domain.KindAssist, same), // same instant: ID decides
		assist(cadreA, 2026, 1, 3), assist(cadreB, 2026, 2, 3), visitAt(cadreA, domain.KindCondolence, sh(2026, 2, 3, 12)),
		assist(cadreA, 2026, 9, 30), assist(cadreB, 2026, 9, 30),
	}
	for _, p := range Profiles() {
		want := EvaluateHouseholdYear(p, h, visits, 2026, day(2026, 10, 1))
		for i := range 20 {
			shuffled := slices.Clone(visits)
			for k := range shuffled { // a fixed, varied permutation
				j := (k*7 + i*3) % len(shuffled)
				shuffled[k], shuffled[j] = shuffled[j], shuffled[k]
			}
			got := EvaluateHouseholdYear(p, h, shuffled, 2026, day(2026, 10, 1))
			if !slices.EqualFunc(got, want, statusEqual) {
				t.Fatalf("%s: order %d changed the result", p.Code, i)
			}
		}
	}
}
