package storage_test

import (
	"context"
	gosync "sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance"
	"github.com/fieldvisit/fieldvisit/internal/photos"
	"github.com/fieldvisit/fieldvisit/internal/testkit/storetest"
	"github.com/fieldvisit/fieldvisit/storage"
)

// queueClaims is a compliance queue of fresh cadre subjects in one county,
// queued a microsecond apart from at.
type queueClaims struct {
	t      *testing.T
	s      *storage.Store
	county uuid.UUID
	at     time.Time
}

func (q queueClaims) queue(n int) []uuid.UUID {
	q.t.Helper()
	ids := make([]uuid.UUID, n)
	for i := range ids {
		ids[i] = uuid.New()
		q.requeue(ids[i], q.at.Add(time.Duration(i)*time.Microsecond))
	}
	return ids
}

func (q queueClaims) requeue(id uuid.UUID, at time.Time) {
	q.t.Helper()
	if err := q.s.QueueSubject(context.Background(), compliance.SubjectCadre, id, 2026, q.county, at); err != nil {
		q.t.Fatal(err)
	}
}

func (q queueClaims) claim(limit int, now time.Time) []compliance.QueuedSubject {
	q.t.Helper()
	got, err := q.s.ClaimComplianceQueue(context.Background(), limit, now, now.Add(compliance.ClaimLease))
	if err != nil {
		q.t.Fatal(err)
	}
	return got
}

func ids(qs []compliance.QueuedSubject) []uuid.UUID {
	out := make([]uuid.UUID, len(qs))
	for i, q := range qs {
		out[i] = q.ID
	}
	return out
}

// TestQueueClaimsShareTheQueue: workers claiming the judging queue at once
// (on PostgreSQL truly concurrently, FOR UPDATE SKIP LOCKED) take disjoint
// batches that together are the whole queue, oldest first; a claim holds
// the others off until its lease passes (its replica was killed), and then
// another worker takes it over; a batch handed back is taken again at once.
func TestQueueClaimsShareTheQueue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *storage.DB) {
		at := time.Date(2026, 12, 6, 14, 0, 0, 0, time.UTC)
		q := queueClaims{t: t, s: storage.NewStore(db, nil), county: uuid.New(), at: at}
		queued := q.queue(60)

		var mu gosync.Mutex
		taken := map[uuid.UUID]int{}
		var wg gosync.WaitGroup
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					got, err := q.s.ClaimComplianceQueue(context.Background(), 7, at, at.Add(compliance.ClaimLease))
					if err != nil {
						t.Error(err)
						return
					}
					if len(got) == 0 {
						return
					}
					for i := 1; i < len(got); i++ {
						if got[i].EnqueuedAt.Before(got[i-1].EnqueuedAt) {
							t.Errorf("a batch is not oldest first: %v", got)
						}
					}
					mu.Lock()
					for _, s := range got {
						taken[s.ID]++
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		for _, id := range queued {
			if taken[id] != 1 {
				t.Errorf("subject %s was claimed %d times; want once", id, taken[id])
			}
		}
		if len(taken) != len(queued) {
			t.Errorf("%d subjects claimed; %d queued", len(taken), len(queued))
		}

		// Every subject is claimed: within the lease nobody takes one; past
		// it (the replicas were killed) another worker takes them all over.
		if got := q.claim(100, at.Add(compliance.ClaimLease/2)); len(got) != 0 {
			t.Fatalf("claims within their lease were taken over: %v", ids(got))
		}
		later := at.Add(compliance.ClaimLease + time.Second)
		batch := q.claim(100, later)
		if len(batch) != len(queued) {
			t.Fatalf("past the lease %d subjects were taken over; want %d", len(batch), len(queued))
		}

		// Handed back (the judging failed), they are taken again at once.
		if err := q.s.ReleaseComplianceClaims(context.Background(), batch[:10], later.Add(compliance.ClaimLease)); err != nil {
			t.Fatal(err)
		}
		if got := q.claim(100, later); len(got) != 10 || got[0].ID != batch[0].ID {
			t.Fatalf("after handing back 10 subjects, %d were claimable; want those 10", len(got))
		}
	})
}

// TestAJudgedClaimLeavesTheQueueUnlessQueuedAgain: judging a claimed
// subject takes it off the queue; one queued again while it was being
// judged stays, with its claim ended, so the next worker judges it again
// at once rather than after the lease.
func TestAJudgedClaimLeavesTheQueueUnlessQueuedAgain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		at := time.Date(2026, 12, 6, 14, 0, 0, 0, time.UTC)
		q := queueClaims{t: t, s: storage.NewStore(db, nil), county: uuid.New(), at: at}
		q.queue(2)
		batch := q.claim(10, at)
		if len(batch) != 2 {
			t.Fatalf("claimed %d subjects; want 2", len(batch))
		}
		stays, done := batch[0], batch[1]
		q.requeue(stays.ID, at.Add(time.Second)) // a push while the worker judges
		for _, sub := range batch {
			j := compliance.Judgement{Subject: sub, ProfileCode: compliance.DefaultProfileCode, ProfileVersion: 1, At: at}
			if err := q.s.SaveJudgement(ctx, j); err != nil {
				t.Fatal(err)
			}
		}
		got := q.claim(10, at.Add(2*time.Second))
		if len(got) != 1 || got[0].ID != stays.ID {
			t.Fatalf("after judging, the claimable subjects are %v; want only %s, queued again (not %s)", ids(got), stays.ID, done.ID)
		}
	})
}

// TestAnAssessedClaimLeavesTheEvidenceQueueUnlessQueuedAgain: the evidence
// queue is claimed like the judging queue; a visit assessed leaves it, and
// one edited (queued again) while it was being assessed stays, claimable
// at once.
func TestAnAssessedClaimLeavesTheEvidenceQueueUnlessQueuedAgain(t *testing.T) {
	storetest.EachCounty(t, func(t *testing.T, db *storage.DB, s *storage.Store, county storetest.County) {
		ctx := context.Background()
		started := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
		edited, assessed := county.Visit(county.HouseholdA.Household.ID, started), county.Visit(county.HouseholdA.Household.ID, started)
		for _, v := range []domain.Visit{edited, assessed} {
			if err := s.InsertVisit(ctx, v); err != nil {
				t.Fatal(err)
			}
		}
		claim := func() []photos.QueuedVisit {
			t.Helper()
			now := time.Now()
			got, err := s.ClaimEvidenceQueue(ctx, 10, now, now.Add(photos.ClaimLease))
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		batch := claim()
		if len(batch) != 2 {
			t.Fatalf("claimed %d visits; want 2", len(batch))
		}
		if again := claim(); len(again) != 0 {
			t.Fatalf("claimed visits were claimed again: %v", again)
		}
		edited.Notes, edited.Version = "补记", 2
		if err := s.SaveVisit(ctx, edited, 1); err != nil {
			t.Fatal(err)
		}
		for _, q := range batch {
			if err := s.DoneEvidence(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		if got := claim(); len(got) != 1 || got[0].VisitID != edited.ID {
			t.Fatalf("after assessing, the claimable visits are %v; want only the edited %s", got, edited.ID)
		}
	})
}
