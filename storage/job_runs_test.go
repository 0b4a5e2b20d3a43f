package storage_test

import (
	"context"
	"fmt"
	gosync "sync"
	"testing"
	"time"

	"github.com/fieldvisit/fieldvisit/internal/periodic"
	"github.com/fieldvisit/fieldvisit/internal/testkit/storetest"
	"github.com/fieldvisit/fieldvisit/storage"
)

// TestAJobRunsOncePerPeriodAcrossReplicas: of replicas claiming a job's
// period at once, exactly one runs it; a finished period is never run
// again; the next period is; a claim whose replica died (unfinished, past
// its lease) is taken over, and one still within its lease is not.
func TestAJobRunsOncePerPeriodAcrossReplicas(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := storage.NewStore(db, nil)
		at := time.Date(2026, 12, 6, 14, 20, 0, 0, time.UTC)
		hour := periodic.Period(at, time.Hour)
		claim := func(holder, period string, now time.Time) bool {
			t.Helper()
			ok, err := s.ClaimJobRun(ctx, "cleanup", period, holder, now, now.Add(10*time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}

		// Eight replicas at once, on PostgreSQL truly concurrent.
		var mu gosync.Mutex
		winners := 0
		var wg gosync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if ok, err := s.ClaimJobRun(ctx, "cleanup", hour, fmt.Sprintf("replica-%d", i), at, at.Add(10*time.Minute)); err != nil {
					t.Error(err)
				} else if ok {
					mu.Lock()
					winners++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if winners != 1 {
			t.Fatalf("%d replicas claimed the same period; want 1", winners)
		}

		// The winner died: within its lease nobody takes over; past it, one does.
		if claim("replica-x", hour, at.Add(5*time.Minute)) {
			t.Fatal("a claim within its lease was taken over")
		}
		if !claim("replica-x", hour, at.Add(11*time.Minute)) {
			t.Fatal("a claim past its lease (its replica died) was not taken over")
		}
		if err := s.FinishJobRun(ctx, "cleanup", hour, "replica-x"); err != nil {
			t.Fatal(err)
		}
		if claim("replica-y", hour, at.Add(30*time.Minute)) {
			t.Fatal("a finished period ran again")
		}
		next := periodic.Period(at.Add(time.Hour), time.Hour)
		if !claim("replica-y", next, at.Add(time.Hour)) {
			t.Fatal("the next period did not run")
		}
		// A replica whose clock lags asks for the period before: no.
		if claim("replica-z", hour, at.Add(time.Hour)) {
			t.Fatal("an earlier period ran after a later one")
		}
		runs, err := s.JobRuns(ctx)
		if err != nil || runs["cleanup"] != 3 {
			t.Fatalf("runs %v, %v; want cleanup claimed 3 times (first, the take-over, the next hour)", runs, err)
		}
	})
}
