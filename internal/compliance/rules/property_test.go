package rules

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"pgregory.net/rapid"

	"github.com/fieldvisit/fieldvisit/domain"
)

var (
	propCadres   = []uuid.UUID{cadreA, cadreB, cadreC}
	propStatuses = []string{domain.StatusRegistered, domain.StatusExited, domain.StatusEdge, domain.StatusRelapsed, domain.StatusGeneral}
	propKinds    = []string{domain.KindAssist, domain.KindFollowup, domain.KindCondolence, domain.KindInspection}
	propFlags    = []string{"", "", "", "mock_location", "poor_accuracy", "photo_reuse"}
)

// drawDay draws a day from late 2025 to early 2027 so windows' edges are hit.
func drawDay(t *rapid.T, label string) domain.Date {
	return addDays(day(2025, 12, 1), rapid.IntRange(0, 460).Draw(t, label))
}

func drawHousehold(t *rapid.T) HouseholdFacts {
	h := HouseholdFacts{ID: hhID, VillageID: village, RegionID: group, TownID: town}
	from := day(2024, 1, 1)
	for i := range rapid.IntRange(1, 3).Draw(t, "spans") {
		s := Span{Status: rapid.SampledFrom(propStatuses).Draw(t, "status"), ExitYear: rapid.SampledFrom([]int{0, 2015, 2020}).Draw(t, "exit"), From: from}
		if i < 2 && rapid.Bool().Draw(t, "ends") {
			to := drawDay(t, "to")
			if to.After(from) {
				s.To = &to
				from = to
			}
		}
		h.StatusSpans = append(h.StatusSpans, s)
		if s.To == nil {
			break
		}
	}
	for i := range rapid.IntRange(0, 3).Draw(t, "pairings") {
		p := domain.Pairing{ID: id(200 + i), HouseholdID: hhID, CadreID: rapid.SampledFrom(propCadres).Draw(t, "cadre"), StartOn: drawDay(t, "pstart")}
		if rapid.Bool().Draw(t, "pends") {
			end := addDays(p.StartOn, rapid.IntRange(1, 200).Draw(t, "plen"))
			p.EndOn = &end
		}
		h.Pairings = append(h.Pairings, p)
	}
	return h
}

func drawVisit(t *rapid.T, n int) VisitFact {
	at := drawDay(t, "vday").Start().Add(time.Duration(rapid.IntRange(0, 24*60-1).Draw(t, "minute")) * time.Minute)
	v := VisitFact{ID: id(300 + n), HouseholdID: hhID, CadreID: rapid.SampledFrom(propCadres).Draw(t, "vcadre"), VillageID: village, RegionID: group,
		Kind: rapid.SampledFrom(propKinds).Draw(t, "kind"), StartedAt: at, Deleted: rapid.IntRange(0, 9).Draw(t, "deleted") == 0}
	if f := rapid.SampledFrom(propFlags).Draw(t, "flag"); f != "" {
		v.Flags = []string{f}
	}
	if rapid.Bool().Draw(t, "hasEnd") {
		end := at.Add(time.Duration(rapid.IntRange(1, 120).Draw(t, "dur")) * time.Minute)
		v.EndedAt = &end
	}
	return v
}

func drawPeriod(t *rapid.T) Period {
	p, _ := PeriodOf(rapid.SampledFrom([]string{WindowYear, WindowQuarter, WindowMonth}).Draw(t, "window"), drawDay(t, "pday"))
	return p
}

func statusKey(s Status) string {
	k := s.RuleCode + "/" + s.Period.Key()
	if s.CadreID != nil {
		k += "/" + s.CadreID.String()
	}
	return k
}

// Adding a visit, counted or not, never makes any status worse and never
// lowers a count; it never adds or removes a status either.
func TestAddingAVisitNeverMakesAStateWorse(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		prof := rapid.SampledFrom(Profiles()).Draw(t, "profile")
		prof.Rules[0].MinDurationMinutes = rapid.SampledFrom([]int{0, 15}).Draw(t, "minDuration")
		h := drawHousehold(t)
		var visits []VisitFact
		for i := range rapid.IntRange(0, 12).Draw(t, "visits") {
			visits = append(visits, drawVisit(t, i))
		}
		per := drawPeriod(t)
		today := drawDay(t, "today")
		before := EvaluateHousehold(prof, h, visits, per, today)
		after := EvaluateHousehold(prof, h, append(slices.Clone(visits), drawVisit(t, 99)), per, today)
		if len(before) != len(after) {
			t.Fatalf("a visit changed the set of statuses: %d → %d", len(before), len(after))
		}
		for i := range before {
			b, a := before[i], after[i]
			if statusKey(a) != statusKey(b) || a.Required != b.Required {
				t.Fatalf("status %d changed identity or requirement", i)
			}
			if a.CountedN < b.CountedN || StateRank(a.State) > StateRank(b.State) {
				t.Fatalf("%s: %s (%d) → %s (%d)", statusKey(b), b.State, b.CountedN, a.State, a.CountedN)
			}
		}
	})
}

// Shuffling the visits changes nothing.
func TestVisitOrderNeverMatters(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		prof := rapid.SampledFrom(Profiles()).Draw(t, "profile")
		h := drawHousehold(t)
		var visits []VisitFact
		for i := range rapid.IntRange(0, 10).Draw(t, "visits") {
			visits = append(visits, drawVisit(t, i))
		}
		per := drawPeriod(t)
		today := drawDay(t, "today")
		want := EvaluateHousehold(prof, h, visits, per, today)
		shuffled := rapid.Permutation(visits).Draw(t, "order")
		if got := EvaluateHousehold(prof, h, shuffled, per, today); !slices.EqualFunc(got, want, statusEqual) {
			t.Fatal("visit order changed the result")
		}
	})
}

// A state and its numbers agree: met iff counted ≥ required, and the
// required count never exceeds the rule's whole-window minimum.
func TestStatusesAreConsistent(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		prof := rapid.SampledFrom(Profiles()).Draw(t, "profile")
		h := drawHousehold(t)
		var visits []VisitFact
		for i := range rapid.IntRange(0, 10).Draw(t, "visits") {
			visits = append(visits, drawVisit(t, i))
		}
		today := drawDay(t, "today")
		for _, s := range EvaluateHousehold(prof, h, visits, drawPeriod(t), today) {
			if (s.State == StateMet) != (s.CountedN >= s.Required) {
				t.Fatalf("%s: %s with %d/%d", statusKey(s), s.State, s.CountedN, s.Required)
			}
			if s.Required > s.FullRequired || s.ApplicableDays < 1 || s.ApplicableDays > s.Period.Days() {
				t.Fatalf("%s: required %d of %d over %d days", statusKey(s), s.Required, s.FullRequired, s.ApplicableDays)
			}
			if s.CountedN != len(s.Counted) || !s.Period.Contains(s.DueOn) {
				t.Fatalf("%s: counts or due day inconsistent", statusKey(s))
			}
			days := map[domain.Date]bool{}
			for _, c := range s.Counted {
				if days[c.On] {
					t.Fatalf("%s: two counted visits on %s", statusKey(s), c.On)
				}
				days[c.On] = true
			}
		}
	})
}

// The same holds for duty rules and unit-group rules.
func TestAddingAVisitNeverMakesADutyStateWorse(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		prof := rapid.SampledFrom(Profiles()).Draw(t, "profile")
		start := drawDay(t, "dutyStart")
		var end *domain.Date
		if rapid.Bool().Draw(t, "dutyEnds") {
			e := addDays(start, rapid.IntRange(1, 200).Draw(t, "dutyLen"))
			end = &e
		}
		kind := rapid.SampledFrom([]string{domain.DutyUnitHead, domain.DutyOrdinaryMember, domain.DutyLeadershipMember}).Draw(t, "duty")
		c := CadreFacts{ID: cadreA, Duties: []domain.Duty{{Kind: kind, StartOn: start, EndOn: end}}, UnitVillageIDs: []uuid.UUID{village}}
		u := UnitFacts{ID: unitID, CadreIDs: []uuid.UUID{cadreA, cadreB}, Assignments: []domain.UnitAssignment{{UnitID: unitID, VillageID: village, GroupID: &group, StartOn: start, EndOn: end}}}
		var visits []VisitFact
		for i := range rapid.IntRange(0, 12).Draw(t, "visits") {
			visits = append(visits, drawVisit(t, i))
		}
		per, today := drawPeriod(t), drawDay(t, "today")
		more := append(slices.Clone(visits), drawVisit(t, 99))
		for _, pair := range [][2][]Status{
			{EvaluateCadre(prof, c, visits, per, today), EvaluateCadre(prof, c, more, per, today)},
			{EvaluateUnit(prof, u, visits, per, today), EvaluateUnit(prof, u, more, per, today)},
		} {
			before, after := pair[0], pair[1]
			if len(before) != len(after) {
				t.Fatalf("a visit changed the set of statuses")
			}
			for i := range before {
				if after[i].CountedN < before[i].CountedN || StateRank(after[i].State) > StateRank(before[i].State) {
					t.Fatalf("%s: %s → %s", statusKey(before[i]), before[i].State, after[i].State)
				}
			}
		}
	})
}

// TestStoredStatusReadsLaterAsAFreshJudgement: a status judged on one day
// and read with StateOn on a later day says what judging the same visits on
// that later day says — what lets reports read stored statuses.
func TestStoredStatusReadsLaterAsAFreshJudgement(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := drawHousehold(t)
		var visits []VisitFact
		for i := range rapid.IntRange(0, 10).Draw(t, "visits") {
			visits = append(visits, drawVisit(t, i))
		}
		prof := rapid.SampledFrom([]Profile{DefaultProfile(), MonthlyProfile(), MonthlyPairedProfile()}).Draw(t, "profile")
		per, err := PeriodOf(rapid.SampledFrom([]string{WindowYear, WindowQuarter, WindowMonth}).Draw(t, "window"), drawDay(t, "in"))
		if err != nil {
			t.Fatal(err)
		}
		judged := addDays(per.Start, rapid.IntRange(-5, per.Days()).Draw(t, "judged"))
		later := addDays(judged, rapid.IntRange(0, 400).Draw(t, "later"))
		// Visits dated after the judging day had not happened yet.
		var known []VisitFact
		for _, v := range visits {
			if !v.On().After(judged) {
				known = append(known, v)
			}
		}
		stored := EvaluateHousehold(prof, h, known, per, judged)
		fresh := EvaluateHousehold(prof, h, known, per, later)
		if len(stored) != len(fresh) {
			t.Fatalf("%d statuses judged, %d later", len(stored), len(fresh))
		}
		for i := range stored {
			if got := stored[i].StateOn(later); got != fresh[i].State {
				t.Fatalf("%s %s: StateOn(%s) = %s, judging again says %s", stored[i].RuleCode, per.Key(), later, got, fresh[i].State)
			}
			if got := stored[i].StateOn(judged); got != stored[i].State {
				t.Fatalf("%s: StateOn(judged day) = %s, State = %s", stored[i].RuleCode, got, stored[i].State)
			}
		}
	})
}
