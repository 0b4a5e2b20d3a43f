package storage

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/fieldvisit/fieldvisit/internal/compliance"
	"github.com/fieldvisit/fieldvisit/internal/photos"
)

// A work queue (compliance_queue, evidence_queue) is shared by every
// replica: a worker claims a batch by stamping claimed_until, and the others
// take only rows unclaimed or whose claim has passed (a replica killed
// mid-batch). On PostgreSQL the batch is picked FOR UPDATE SKIP LOCKED, so
// two workers claiming at once never wait on each other nor take the same
// row; SQLite (one process, one writer at a time) runs the same statement
// without the lock clause. Called in a transaction, the claim lasts as long
// as the transaction's row locks anyway and is undone by its rollback.
type workQueue struct {
	table string
	key   []string // the primary key's columns
	order string   // oldest first, the key breaking ties
}

var (
	complianceWork = workQueue{table: "compliance_queue", key: []string{"subject_kind", "subject_id", "year"}, order: "enqueued_at, subject_id"}
	evidenceWork   = workQueue{table: "evidence_queue", key: []string{"county_id", "visit_id"}, order: "enqueued_at, visit_id"}
)

// claim stamps up to limit claimable rows claimed until until and scans them
// into out, oldest first.
func (q workQueue) claim(db *gorm.DB, d Dialect, limit int, now, until time.Time, out any) error {
	lock := ""
	if d == Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	keys := strings.Join(q.key, ", ")
	join := make([]string, len(q.key))
	for i, k := range q.key {
		join[i] = fmt.Sprintf("%s.%s = c.%s", q.table, k, k)
	}
	sql := fmt.Sprintf(`UPDATE %[1]s SET claimed_until = @until
		FROM (SELECT %[2]s FROM %[1]s WHERE claimed_until IS NULL OR claimed_until < @now ORDER BY %[3]s LIMIT @limit%[4]s) c
		WHERE %[5]s
		RETURNING %[6]s`, q.table, keys, q.order, lock, strings.Join(join, " AND "), q.returning())
	return db.Raw(sql, map[string]any{"until": until.UTC(), "now": now.UTC(), "limit": limit}).Scan(out).Error
}

// returning names the key and enqueued_at of the updated table (PostgreSQL
// would find the key columns ambiguous with the claimed batch's).
func (q workQueue) returning() string {
	cols := append(append([]string{}, q.key...), "enqueued_at")
	for i, c := range cols {
		cols[i] = q.table + "." + c
	}
	return strings.Join(cols, ", ")
}

// release ends the claims stamped until until on the rows with the given
// keys still queued: a batch that failed is taken again at once, not after
// the lease.
func (q workQueue) release(db *gorm.DB, keys [][]any, until time.Time) error {
	if len(keys) == 0 {
		return nil
	}
	return db.Table(q.table).Where("claimed_until = ?", until.UTC()).
		Where("("+strings.Join(q.key, ", ")+") IN ?", keys).Update("claimed_until", nil).Error
}

// requeued ends the claim on a row queued again while it was being worked
// on (the done step deleted it otherwise), so any worker takes it at once.
func (q workQueue) requeued(tx *gorm.DB, key ...any) error {
	where := strings.Join(q.key, " = ? AND ") + " = ?"
	return tx.Table(q.table).Where(where, key...).Where("claimed_until IS NOT NULL").Update("claimed_until", nil).Error
}

// ClaimComplianceQueue claims up to limit queued subjects until until,
// oldest first, skipping those another worker holds.
func (s *Store) ClaimComplianceQueue(ctx context.Context, limit int, now, until time.Time) ([]compliance.QueuedSubject, error) {
	var rows []complianceQueueRow
	if err := complianceWork.claim(s.db.WithContext(ctx), s.dialect, limit, now, until, &rows); err != nil {
		return nil, translate(err, "compliance queue")
	}
	out := make([]compliance.QueuedSubject, len(rows))
	for i, r := range rows {
		out[i] = toQueuedSubject(r)
	}
	sortOldestFirst(out, func(q compliance.QueuedSubject) (time.Time, string) { return q.EnqueuedAt, q.ID.String() })
	return out, nil
}

// ReleaseComplianceClaims hands back the subjects of a claim not judged.
// In a transaction it does nothing: the rollback undoes the claim.
func (s *Store) ReleaseComplianceClaims(ctx context.Context, qs []compliance.QueuedSubject, until time.Time) error {
	if s.inTxn {
		return nil
	}
	keys := make([][]any, len(qs))
	for i, q := range qs {
		keys[i] = []any{q.Kind, q.ID, q.Year}
	}
	return translate(complianceWork.release(s.db.WithContext(ctx), keys, until), "compliance queue")
}

// ClaimEvidenceQueue claims up to limit queued visits until until, oldest
// first, skipping those another worker holds.
func (s *Store) ClaimEvidenceQueue(ctx context.Context, limit int, now, until time.Time) ([]photos.QueuedVisit, error) {
	var rows []evidenceQueueRow
	if err := evidenceWork.claim(s.db.WithContext(ctx), s.dialect, limit, now, until, &rows); err != nil {
		return nil, translate(err, "evidence queue")
	}
	out := make([]photos.QueuedVisit, len(rows))
	for i, r := range rows {
		out[i] = toQueuedVisit(r)
	}
	sortOldestFirst(out, func(q photos.QueuedVisit) (time.Time, string) { return q.EnqueuedAt, q.VisitID.String() })
	return out, nil
}

// ReleaseEvidenceClaims hands back the visits of a claim not assessed. In a
// transaction it does nothing: the rollback undoes the claim.
func (s *Store) ReleaseEvidenceClaims(ctx context.Context, qs []photos.QueuedVisit, until time.Time) error {
	if s.inTxn {
		return nil
	}
	keys := make([][]any, len(qs))
	for i, q := range qs {
		keys[i] = []any{q.CountyID, q.VisitID}
	}
	return translate(evidenceWork.release(s.db.WithContext(ctx), keys, until), "evidence queue")
}

// sortOldestFirst puts a claimed batch oldest first: RETURNING keeps no
// order.
func sortOldestFirst[T any](qs []T, by func(T) (time.Time, string)) {
	slices.SortFunc(qs, func(a, b T) int {
		ta, ia := by(a)
		tb, ib := by(b)
		return cmp.Or(ta.Compare(tb), strings.Compare(ia, ib))
	})
}
