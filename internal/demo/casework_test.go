package demo_test

import (
	"context"
	"slices"
	"testing"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/casework"
	"github.com/fieldvisit/fieldvisit/internal/itemledger"
	"github.com/fieldvisit/fieldvisit/internal/plans"
	"github.com/fieldvisit/fieldvisit/internal/testkit/storetest"
)

// TestSeedCasework: the demo county shows the casework as the services
// read it on the demo's Today — every registered and exited household with
// a plan of one to three measures answered for by a paired cadre, some
// measures moved on by visits, income accounts of last year and this year,
// exit candidates that qualify and some that just miss, one exit at each
// step of 两公示一公告 and one completed, and the cadres' open ledger items,
// some overdue.
func TestSeedCasework(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			store, db := openDB(t, dialect)
			sum := seed(t, store, small())
			t.Logf("casework: %+v", sum.Casework)
			supervisor := principalOf(t, store, "supervisor")
			year := today.Year

			var qualify, nearMiss int
			cands, _, _, err := casework.NewService(store.Casework(), nil, readNow).ExitCandidates(ctx, supervisor,
				casework.CandidateQuery{RegionID: supervisor.RegionID, Year: year, Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			judged := map[string]casework.Candidate{} // by household number
			for _, c := range cands {
				judged[c.Household.Number] = c
				switch {
				case c.Qualifies:
					qualify++
				case c.PerCapitaFen != nil && *c.PerCapitaFen >= 300000 && *c.PerCapitaFen < 333500:
					nearMiss++
				}
			}
			overdue, _, err := itemledger.NewService(store.ItemLedger(), readNow).Items(ctx, supervisor,
				itemledger.Query{Kind: itemledger.KindHardship, State: itemledger.Overdue, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			steps := slices.Sorted(func(yield func(string) bool) {
				for _, at := range sum.Casework.ExitProcedures {
					if !yield(at) {
						return
					}
				}
			})

			for _, tc := range []struct {
				what     string
				got, min int
			}{
				{"registered or exited households with an active pairing but no plan", -count(t, db, `SELECT count(*) FROM households h
					WHERE h.status IN ('registered', 'exited') AND EXISTS (SELECT 1 FROM pairings p WHERE p.household_id = h.id AND p.end_on IS NULL)
					AND NOT EXISTS (SELECT 1 FROM plan_items i WHERE i.household_id = h.id)`), 0},
				{"households with more than three measures", -count(t, db, `SELECT count(*) FROM (SELECT household_id FROM plan_items
					GROUP BY household_id HAVING count(*) > 3) x`), 0},
				{"measures answered for by a cadre not paired with the household", -count(t, db, `SELECT count(*) FROM plan_items i
					WHERE NOT EXISTS (SELECT 1 FROM pairings p WHERE p.household_id = i.household_id AND p.cadre_id = i.responsible_cadre_id)`), 0},
				{"plan items", count(t, db, "SELECT count(*) FROM plan_items"), 300 / 3},
				{"in-progress measures", count(t, db, "SELECT count(*) FROM plan_items WHERE state = 'in_progress'"), 10},
				{"visits recording progress on a measure", sum.Casework.ProgressVisits, 3},
				{"income accounts of last year", count(t, db, "SELECT count(*) FROM income_accounts WHERE year = $1", year-1), 100},
				{"income accounts of this year", count(t, db, "SELECT count(*) FROM income_accounts WHERE year = $1", year), 100},
				{"exit candidates who qualify", qualify, 1},
				{"exit candidates just below the standard", nearMiss, 1},
				{"open exit procedures", count(t, db, "SELECT count(*) FROM casework_procedures WHERE kind = 'exit' AND status = 'open'"), 3},
				{"completed exit procedures", count(t, db, "SELECT count(*) FROM casework_procedures WHERE kind = 'exit' AND status = 'completed'"), 1},
				{"open items of the cadres' ledgers", count(t, db, "SELECT count(*) FROM ledger_items WHERE kind IN ('livelihood_request', 'hardship') AND status = 'open'"), 10},
				{"overdue hardship items the supervisor sees", len(overdue), 1},
			} {
				if tc.got < tc.min {
					t.Errorf("%s: %d, want at least %d", tc.what, tc.got, tc.min)
				}
			}
			if want := []string{"completed", "first_notice", "second_notice", "village_review"}; !slices.Equal(steps, want) {
				t.Errorf("exit procedures stand at %v, want one at each of %v", steps, want)
			}
			// An open exit is of a household that qualifies, or its
			// announcement would be refused.
			for number, at := range sum.Casework.ExitProcedures {
				if at == "completed" {
					continue
				}
				if c := judged[number]; !c.Qualifies {
					t.Errorf("the exit at %s is of household %s, which does not qualify: %+v", at, number, c.Reasons)
				}
			}
			if sum.Casework.OverdueItems == 0 || sum.Casework.OverdueItems == sum.Casework.LedgerItems {
				t.Errorf("%d of %d ledger items overdue; want some, not all", sum.Casework.OverdueItems, sum.Casework.LedgerItems)
			}

			// The plans as the supervisor reads them: cadre01 answers for
			// measures, and visits moved some measures on.
			cadre01 := principalOf(t, store, "cadre01").UserID
			svc := plans.NewService(store.Plans(), readNow)
			mine, _, err := svc.Items(ctx, supervisor, plans.Query{ResponsibleID: &cadre01, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			if len(mine) == 0 {
				t.Error("cadre01 answers for no measure")
			}
			moving, _, err := svc.Items(ctx, supervisor, plans.Query{State: domain.PlanInProgress, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(moving, func(v plans.View) bool { return len(v.Progress) > 0 }) {
				t.Errorf("none of %d measures in progress shows a visit's progress", len(moving))
			}
		})
	}
}
