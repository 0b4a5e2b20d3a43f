package storage

import (
	"context"
	"time"

	"github.com/fieldvisit/fieldvisit/internal/periodic"
)

var _ periodic.Store = (*Store)(nil)

// ClaimJobRun claims job for period on behalf of holder until leaseUntil,
// and reports whether the caller is to run it: the period is newer than
// the one last claimed, or that claim is the same period, unfinished and
// past its lease (its replica died). One statement, so two replicas
// claiming at once serialise on the job's row and only one gets it.
func (s *Store) ClaimJobRun(ctx context.Context, job, period, holder string, now, leaseUntil time.Time) (bool, error) {
	var claimed []string
	err := s.db.WithContext(ctx).Raw(`INSERT INTO job_runs (job, period, holder, lease_until, done, runs) VALUES (?, ?, ?, ?, false, 1)
		ON CONFLICT (job) DO UPDATE SET period = excluded.period, holder = excluded.holder, lease_until = excluded.lease_until,
			done = false, runs = job_runs.runs + 1
		WHERE job_runs.period < excluded.period
			OR (job_runs.period = excluded.period AND NOT job_runs.done AND job_runs.lease_until < ?)
		RETURNING job`, job, period, holder, leaseUntil.UTC(), now.UTC()).Scan(&claimed).Error
	return len(claimed) == 1, translate(err, "job")
}

// FinishJobRun marks holder's claim of job for period done.
func (s *Store) FinishJobRun(ctx context.Context, job, period, holder string) error {
	err := s.db.WithContext(ctx).Exec(`UPDATE job_runs SET done = true WHERE job = ? AND period = ? AND holder = ?`, job, period, holder).Error
	return translate(err, "job")
}

// JobRuns is how many periods each job has been claimed for.
func (s *Store) JobRuns(ctx context.Context) (map[string]int64, error) {
	var rows []struct {
		Job  string
		Runs int64
	}
	if err := s.db.WithContext(ctx).Raw(`SELECT job, runs FROM job_runs`).Scan(&rows).Error; err != nil {
		return nil, translate(err, "job")
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.Job] = r.Runs
	}
	return out, nil
}
