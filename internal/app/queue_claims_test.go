package app

import (
	"context"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/internal/compliance"
)

// TestReplicasJudgeEachQueuedSubjectOnce: two replicas on one PostgreSQL
// database, two workers each, drain a judging queue of N subjects; the
// judgements they report add up to N and the queue is empty, so each
// subject was judged exactly once (every judgement takes its subject off
// the queue) — unclaimed, the workers would all judge the same oldest
// batch.
func TestReplicasJudgeEachQueuedSubjectOnce(t *testing.T) {
	const subjects = 240
	cfg := testConfig(t, "postgres")
	ctx := context.Background()
	replicas := newReplicas(ctx, t, cfg, 2)
	county, at := uuid.New(), time.Now()
	for i := range subjects {
		if err := replicas[0].Store.QueueSubject(ctx, compliance.SubjectCadre, uuid.New(), 2026, county, at.Add(time.Duration(i)*time.Microsecond)); err != nil {
			t.Fatal(err)
		}
	}

	var judged atomic.Int64
	var wg gosync.WaitGroup
	for _, a := range replicas {
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					n, err := a.Compliance.JudgeQueued(ctx, 20)
					if err != nil {
						t.Error(err)
						return
					}
					if n == 0 {
						return
					}
					judged.Add(int64(n))
				}
			}()
		}
	}
	wg.Wait()
	left, _, err := replicas[1].Store.ComplianceLag(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if left != 0 || judged.Load() != subjects {
		t.Fatalf("two replicas judged %d times with %d subjects left queued; want %d judgements, none left", judged.Load(), left, subjects)
	}
}
