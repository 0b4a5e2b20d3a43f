package storage

import (
	"slices"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// enqueue upserts work-queue rows, refreshing enqueued_at of rows already
// queued. Each row goes in once: PostgreSQL refuses an upsert that touches
// one row twice, and one write can name a subject twice (a photo both
// declaring a visit and listed by it; a visit's old and new year alike).
// Rows go in in key order, whatever order the caller gathered them in: an
// upsert locks the rows it touches one after another, and two writers
// sharing queue rows (two pushes, a push and the evidence job) must take
// them in the same order or each can end up waiting for the other (see
// LockHouseholds). key is the row's conflict key, compare orders keys, and
// columns are the key's column names.
func enqueue[T any, K comparable](tx *gorm.DB, batch int, rows []T, key func(T) K, compare func(a, b K) int, columns ...string) error {
	seen := make(map[K]bool, len(rows))
	unique := rows[:0:0]
	for _, r := range rows {
		if k := key(r); !seen[k] {
			seen[k] = true
			unique = append(unique, r)
		}
	}
	slices.SortFunc(unique, func(a, b T) int { return compare(key(a), key(b)) })
	conflict := make([]clause.Column, len(columns))
	for i, c := range columns {
		conflict[i] = clause.Column{Name: c}
	}
	for _, c := range chunks(unique, batch) {
		err := tx.Clauses(clause.OnConflict{Columns: conflict, DoUpdates: clause.AssignmentColumns([]string{"enqueued_at"})}).Create(&c).Error
		if err != nil {
			return err
		}
	}
	return nil
}
