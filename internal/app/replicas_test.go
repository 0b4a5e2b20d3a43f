package app

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/fieldvisit/fieldvisit/internal/periodic"
)

// TestReplicasRunEachPeriodicJobOnce: three replicas of the API on one
// PostgreSQL database start their background workers together; each
// periodic job (upload clean-up, photo reconciliation, dated-pairing
// announcements, closing periods) is claimed once for the period, by one
// of them, not once per replica.
func TestReplicasRunEachPeriodicJobOnce(t *testing.T) {
	cfg := testConfig(t, "postgres")
	began := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 3)
	for _, a := range newReplicas(ctx, t, cfg, 3) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() { served <- a.Serve(ctx, ln) }()
	}
	probe, err := NewApp(context.Background(), cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	want := []string{"cleanup-uploads", "reconcile-photos", "announce-dated-pairings", "close-periods"}
	deadline := time.Now().Add(20 * time.Second)
	for {
		runs, err := probe.Store.JobRuns(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) == len(want) || time.Now().After(deadline) {
			time.Sleep(2 * time.Second) // every replica has looked at its jobs by now, most more than once
			runs, err = probe.Store.JobRuns(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			// A test that straddles the hour sees the hourly jobs' next
			// period too.
			periods := int64(1)
			if periodic.Period(began, time.Hour) != periodic.Period(time.Now(), time.Hour) {
				periods = 2
			}
			for _, job := range want {
				if runs[job] < 1 || runs[job] > periods {
					t.Errorf("job %s claimed %d times by 3 replicas in %d period(s); want once a period", job, runs[job], periods)
				}
			}
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	for range 3 {
		if err := <-served; err != nil {
			t.Errorf("replica: %v", err)
		}
	}
}

// newReplicas starts n apps on cfg's database, each with its own data
// directory, as replicas behind a load balancer are.
func newReplicas(ctx context.Context, t *testing.T, cfg Config, n int) []*App {
	t.Helper()
	replicas := make([]*App, n)
	for i := range replicas {
		replica := cfg
		replica.DataDir = t.TempDir()
		a, err := NewApp(ctx, replica, slog.New(slog.NewJSONHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		replicas[i] = a
	}
	return replicas
}
