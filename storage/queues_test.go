package storage

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/testkit"
)

// TestEnqueueLocksRowsInKeyOrder: queue rows gathered in any order are
// upserted in key order, so two writers sharing queue rows never each hold
// one the other waits for. Another transaction holds the lower row; an
// enqueue handed the rows highest first waits for it holding nothing, so
// the other transaction takes the higher row too, and the enqueue goes
// through once it ends. (Upserting in the order given, the enqueue would
// hold the higher row, and PostgreSQL would fail it to break the circle.)
func TestEnqueueLocksRowsInKeyOrder(t *testing.T) {
	ctx := context.Background()
	// An internal test cannot use storetest (it imports this package).
	db, _, err := OpenMigrated(ctx, testkit.NewPostgresDatabase(t), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	county, low, high := uuid.New(), uuid.New(), uuid.New()
	if domain.CompareIDs(low, high) > 0 {
		low, high = high, low
	}
	queued := func(ids ...uuid.UUID) []complianceQueueRow {
		rows := make([]complianceQueueRow, len(ids))
		for i, id := range ids {
			rows[i] = cadreYear(county, id, 2026, time.Now().UTC())
		}
		return rows
	}

	other := db.Gorm.Begin()
	defer other.Rollback()
	if err := enqueueCompliance(other, 100, queued(low)); err != nil {
		t.Fatal(err)
	}
	enqueued := make(chan error, 1)
	go func() {
		enqueued <- db.Gorm.Transaction(func(tx *gorm.DB) error { return enqueueCompliance(tx, 100, queued(high, low)) })
	}()
	waitForLockWait(t, db.Gorm)
	if err := enqueueCompliance(other, 100, queued(high)); err != nil {
		t.Fatalf("the other transaction could not take the higher row: %v", err)
	}
	if err := other.Rollback().Error; err != nil {
		t.Fatal(err)
	}
	if err := <-enqueued; err != nil {
		t.Fatalf("the enqueue handed its rows highest first failed: %v", err)
	}
}

// waitForLockWait returns once a session of the database waits for a row
// lock.
func waitForLockWait(t testing.TB, db *gorm.DB) {
	t.Helper()
	for range 2000 {
		var waiting int64
		err := db.Raw(`SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`).Scan(&waiting).Error
		if err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the enqueue never waited for the row the other transaction holds")
}
