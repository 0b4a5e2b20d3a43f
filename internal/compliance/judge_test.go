package compliance_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance"
	"github.com/fieldvisit/fieldvisit/internal/compliance/rules"
)

// TestJudgingAQueuedHousehold: a queued household is judged by the profile
// of the deepest region it is attached to (the town's own, else the
// county's, else the default), and every status it gets is placed where
// reports look for it (its county, town, village and path) and answered for
// by the cadre paired with it. A household gone since it was queued gets an
// empty judgement, so it leaves the queue.
func TestJudgingAQueuedHousehold(t *testing.T) {
	today := domain.Date{Year: 2026, Month: time.May, Day: 15}
	for _, tc := range []struct {
		name        string
		attach      func(p place) map[uuid.UUID]string
		gone        bool
		wantProfile string
	}{
		{"no profile attached: the default judges", func(place) map[uuid.UUID]string { return nil }, false, compliance.DefaultProfileCode},
		{"the county's profile judges the households of its towns", func(p place) map[uuid.UUID]string {
			return map[uuid.UUID]string{p.county.ID: "monthly"}
		}, false, "monthly"},
		{"a town's own profile wins over its county's", func(p place) map[uuid.UUID]string {
			return map[uuid.UUID]string{p.county.ID: "monthly", p.town.ID: "monthly-paired"}
		}, false, "monthly-paired"},
		{"a household gone since it was queued is judged empty by the default", func(p place) map[uuid.UUID]string {
			return map[uuid.UUID]string{p.county.ID: "monthly"}
		}, true, compliance.DefaultProfileCode},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeStore()
			p := newPlace(f)
			f.attached = tc.attach(p)
			cadre := uuid.New()
			h := registeredHousehold(p, cadre, today)
			if !tc.gone {
				f.households[h.Household.ID] = h
			}
			queued := compliance.QueuedSubject{Kind: compliance.SubjectHousehold, ID: h.Household.ID, Year: today.Year, CountyID: p.county.ID,
				EnqueuedAt: at(today, 8)}
			f.queue = []compliance.QueuedSubject{queued}

			n, err := service(t, f, at(today, 10)).JudgeQueued(context.Background(), 10)
			if err != nil || n != 1 {
				t.Fatalf("judged %d, %v; want 1", n, err)
			}
			if len(f.saved) != 1 {
				t.Fatalf("%d judgements saved, want 1", len(f.saved))
			}
			j := f.saved[0]
			if j.Subject != queued || j.ProfileCode != tc.wantProfile || !j.At.Equal(at(today, 10)) {
				t.Errorf("judgement of %+v by %q at %s, want %+v by %q", j.Subject, j.ProfileCode, j.At, queued, tc.wantProfile)
			}
			if tc.gone {
				if len(j.Statuses) != 0 {
					t.Errorf("a gone household has %d statuses", len(j.Statuses))
				}
				return
			}
			if len(j.Statuses) == 0 {
				t.Fatal("a registered household owes visits, but no status was judged")
			}
			for _, js := range j.Statuses {
				where := []any{js.CountyID, deref(js.TownID), deref(js.VillageID), js.RegionPath, deref(js.CadreID)}
				want := []any{p.county.ID, p.town.ID, p.village.ID, p.village.Path, cadre}
				for i := range want {
					if where[i] != want[i] {
						t.Errorf("%s %s is placed at %v, want %v", js.Status.RuleCode, js.Status.Period.Key(), where, want)
						break
					}
				}
			}
		})
	}
}

// registeredHousehold is a registered household of p's village, paired
// with cadre since the year before today's.
func registeredHousehold(p place, cadre uuid.UUID, today domain.Date) compliance.HouseholdHistory {
	id := uuid.New()
	countyID := p.county.ID
	h := domain.Household{ID: id, CountyID: countyID, RegionID: p.village.ID, VillageID: p.village.ID, Status: domain.StatusRegistered,
		PovertyType: domain.PovertyTypes[0].Code}
	since := domain.Date{Year: today.Year - 1, Month: time.January, Day: 1}
	return compliance.HouseholdHistory{Household: h, RegionPath: p.village.Path,
		Pairings: []domain.Pairing{{ID: uuid.New(), CountyID: countyID, HouseholdID: id, CadreID: cadre, StartOn: since}}}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// TestAnswering: the cadre who answers for a household's status is the one
// paired on its deadline, or today while the deadline is ahead; with no
// pairing in force then, the last one that began before it; none before it,
// nobody.
func TestAnswering(t *testing.T) {
	first, second := uuid.New(), uuid.New()
	day := func(m time.Month, d int) domain.Date { return domain.Date{Year: 2026, Month: m, Day: d} }
	until := func(d domain.Date) *domain.Date { return &d }
	pairings := []domain.Pairing{
		{CadreID: first, StartOn: day(time.January, 1), EndOn: until(day(time.April, 1))},
		{CadreID: second, StartOn: day(time.May, 1), EndOn: until(day(time.July, 1))},
	}
	for _, tc := range []struct {
		name         string
		due, today   domain.Date
		wantAnswerer *uuid.UUID
	}{
		{"paired on the deadline", day(time.March, 31), day(time.June, 1), &first},
		{"the deadline is ahead: paired today", day(time.September, 30), day(time.May, 20), &second},
		{"nobody paired on the deadline: the last pairing begun before it", day(time.April, 20), day(time.June, 1), &first},
		{"after every pairing ended: the last one", day(time.December, 31), day(time.December, 31), &second},
		{"no pairing had begun", day(time.January, 1).AddDays(-1), day(time.June, 1), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := compliance.Answering(pairings, rules.Status{DueOn: tc.due}, tc.today)
			if (got == nil) != (tc.wantAnswerer == nil) || got != nil && *got != *tc.wantAnswerer {
				t.Errorf("answering: %v, want %v", deref(got), deref(tc.wantAnswerer))
			}
		})
	}
}
