package storage

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

type loginFailureRow struct {
	Key         string     `gorm:"column:key;primaryKey"`
	Failures    int        `gorm:"column:failures"`
	WindowStart time.Time  `gorm:"column:window_start"`
	LockedUntil *time.Time `gorm:"column:locked_until"`
}

func (loginFailureRow) TableName() string { return "login_failures" }

// LockedUntil returns until when key is locked out (zero if it is not).
func (s *Store) LockedUntil(ctx context.Context, key string, now time.Time) (time.Time, error) {
	var row loginFailureRow
	err := s.db.WithContext(ctx).Where("key = ?", key).Take(&row).Error
	if isNotFound(err) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, translate(err, "login throttle")
	}
	if row.LockedUntil != nil && row.LockedUntil.After(now) {
		return row.LockedUntil.UTC(), nil
	}
	return time.Time{}, nil
}

// RecordLoginFailure counts a failure for key in a window; once max failures
// fall in one window the key is locked for lock.
func (s *Store) RecordLoginFailure(ctx context.Context, key string, now time.Time, window time.Duration, max int, lock time.Duration) error {
	return s.inTx(ctx, "login throttle", func(tx *gorm.DB) error {
		var row loginFailureRow
		q := tx
		if s.dialect == Postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		err := q.Where("key = ?", key).Take(&row).Error
		if isNotFound(err) {
			row = loginFailureRow{Key: key, Failures: 1, WindowStart: now.UTC()}
			return tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "key"}},
				DoUpdates: clause.Assignments(map[string]any{"failures": gorm.Expr("login_failures.failures + 1")})}).Create(&row).Error
		}
		if err != nil {
			return err
		}
		if now.Sub(row.WindowStart) > window {
			row.Failures, row.WindowStart, row.LockedUntil = 0, now.UTC(), nil
		}
		row.Failures++
		if row.Failures >= max {
			until := now.Add(lock).UTC()
			row.LockedUntil = &until
			row.Failures, row.WindowStart = 0, now.UTC()
		}
		return tx.Save(&row).Error
	})
}

// ClearLoginFailures forgets the failures of key after a good login.
func (s *Store) ClearLoginFailures(ctx context.Context, key string) error {
	return translate(s.db.WithContext(ctx).Where("key = ? AND locked_until IS NULL", key).Delete(&loginFailureRow{}).Error, "login throttle")
}
