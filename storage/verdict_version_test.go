package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/casework"
	"github.com/fieldvisit/fieldvisit/internal/testkit/storetest"
	"github.com/fieldvisit/fieldvisit/storage"
)

// TestVerdictVersionMovesWithEveryVerdictInput: the version the exit
// candidates' count is kept under moves with each write its verdicts are
// judged from — a visit, an income account, a risk warning opened and
// resolved, an exit standard — for the county and for a village in it,
// and stands still while nothing is written.
func TestVerdictVersionMovesWithEveryVerdictInput(t *testing.T) {
	storetest.EachCounty(t, func(t *testing.T, db *storage.DB, st *storage.Store, c storetest.County) {
		ctx := context.Background()
		h := c.HouseholdA.Household
		now := time.Date(2026, 8, 15, 2, 0, 0, 0, time.UTC)
		version := func(path string) casework.VerdictVersion {
			t.Helper()
			v, err := st.VerdictVersion(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		start := version(c.County.Path)
		warning := casework.Warning{ID: uuid.New(), CountyID: h.CountyID, HouseholdID: h.ID, List: casework.ListRegister, Trigger: "serious_illness",
			VisitID: uuid.New(), SeenOn: domain.DateOf(now), CadreID: c.CadreA.ID, State: casework.WarningOpen, CreatedAt: now, Version: 1}
		for _, tc := range []struct {
			name  string
			write func() error
		}{
			{"a visit", func() error {
				v := c.Visit(h.ID, now)
				v.Checklist = map[string]domain.ChecklistEntry{"food": {Answer: "met"}}
				return st.InsertVisit(ctx, v)
			}},
			{"an income account", func() error {
				return st.SaveIncomeAccount(ctx, casework.IncomeAccount{ID: uuid.New(), CountyID: h.CountyID, HouseholdID: h.ID, Year: 2026,
					IncomeFields: casework.IncomeFields{WagesFen: 333_500, MembersCounted: 1}, Version: 1, CreatedAt: now, UpdatedAt: now}, 0, domain.AuditEntry{})
			}},
			{"a risk warning opened", func() error { return st.InsertWarnings(ctx, []casework.Warning{warning}) }},
			{"the risk warning resolved", func() error {
				resolved := warning
				resolved.State, resolved.Resolution, resolved.Version = casework.WarningResolved, "cleared", 2
				return st.SaveWarning(ctx, resolved, 1, domain.AuditEntry{})
			}},
			{"an exit standard", func() error {
				return st.SaveExitStandard(ctx, casework.DefaultExitStandard(2026), 0, domain.AuditEntry{})
			}},
		} {
			county, village := version(c.County.Path), version(c.VillageA.Path)
			if again := version(c.County.Path); again != county {
				t.Fatalf("before %s: nothing written, the version moved from %+v to %+v", tc.name, county, again)
			}
			if err := tc.write(); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if v := version(c.County.Path); v == county {
				t.Errorf("%s: the county's version stays %+v", tc.name, v)
			}
			if v := version(c.VillageA.Path); v == village {
				t.Errorf("%s: the village's version stays %+v", tc.name, v)
			}
		}
		// Household A alone was written since start: it alone may judge
		// otherwise, and the list's households among it are it.
		end := version(c.County.Path)
		changed, err := st.HouseholdsChangedSince(ctx, c.VillageA.Path, start.Feed, end.Feed, 10)
		if err != nil || len(changed) != 1 || changed[0] != h.ID {
			t.Errorf("households changed since the first write: %v %v, want only A %s", changed, err, h.ID)
		}
		if none, err := st.HouseholdsChangedSince(ctx, c.County.Path, end.Feed, end.Feed, 10); err != nil || len(none) != 0 {
			t.Errorf("households changed since the last version: %v %v, want none", none, err)
		}
		list := domain.HouseholdFilter{Scope: c.Admin.HouseholdScope(), WithinPath: c.County.Path, Limit: 10}
		for _, tc := range []struct {
			among []uuid.UUID
			want  int
		}{{[]uuid.UUID{c.HouseholdB.Household.ID}, 1}, {[]uuid.UUID{}, 0}, {nil, 2}} {
			list.Among = tc.among
			hs, _, err := st.Households(ctx, list)
			if err != nil || len(hs) != tc.want || tc.want == 1 && hs[0].ID != c.HouseholdB.Household.ID {
				t.Errorf("households among %v: %d (%v), want %d", tc.among, len(hs), err, tc.want)
			}
		}
	})
}
