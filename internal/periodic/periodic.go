// Package periodic runs the service's periodic jobs — expiring abandoned
// uploads, closing ended periods, announcing dated pairings to phones,
// reconciling the photo store — once per period across every replica of
// the API. Each replica's workers ask for each job in turn; the first to
// claim the period in the database runs it, the others skip it. A claim is
// a lease: a replica killed mid-job leaves the period unfinished, and
// another runs it once the lease has passed.
package periodic

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"time"
)

// Store keeps each job's last claimed period.
type Store interface {
	// ClaimJobRun reports whether holder is to run job for period: a newer
	// period than the last claimed, or the same one unfinished and past its
	// lease. It records the claim until leaseUntil.
	ClaimJobRun(ctx context.Context, job, period, holder string, now, leaseUntil time.Time) (bool, error)
	// FinishJobRun marks holder's claim done, so the period is never run again.
	FinishJobRun(ctx context.Context, job, period, holder string) error
}

// Job is work to run once a period.
type Job struct {
	Name  string        // unique among jobs; the row it is claimed by
	Every time.Duration // the period: an hour, a day (periods are UTC-aligned)
	Lease time.Duration // how long a claim holds before another replica may take it over; longer than the job ever runs
	Run   func(context.Context) (int, error)
}

// Runner claims and runs jobs for one replica.
type Runner struct {
	store  Store
	holder string
	now    func() time.Time
}

// NewRunner is a runner for this process, known to the others by its host
// name, process id and a random suffix.
func NewRunner(store Store, now func() time.Time) *Runner {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return &Runner{store: store, now: now, holder: fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))}
}

// Period is the key of the period of length every that t falls in.
func Period(t time.Time, every time.Duration) string {
	return t.UTC().Truncate(every).Format("2006-01-02T15:04")
}

// Due runs j if no replica has run it in the current period yet and this
// one claims it. ran says whether it ran; n is what the job reported. A
// job that fails is left unfinished: it runs again, here or elsewhere,
// once its lease has passed.
func (r *Runner) Due(ctx context.Context, j Job) (ran bool, n int, err error) {
	now := r.now()
	period := Period(now, j.Every)
	claimed, err := r.store.ClaimJobRun(ctx, j.Name, period, r.holder, now, now.Add(j.Lease))
	if err != nil || !claimed {
		return false, 0, err
	}
	if n, err = j.Run(ctx); err != nil {
		return true, n, err
	}
	return true, n, r.store.FinishJobRun(ctx, j.Name, period, r.holder)
}
