package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/testkit/storetest"
	"github.com/fieldvisit/fieldvisit/storage"
)

// TestOneOpenItemPerFindingMigratesOverDuplicates: findings that got two
// items not closed before the rule keep both — the migration does not fail
// on them, and a ledger loses nothing — the later marked duplicate_of the
// first, which is the item a second registration is pointed to; from then
// on the index refuses another open item for a finding, not one for a
// finding whose item is closed.
func TestOneOpenItemPerFindingMigratesOverDuplicates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		if err := db.MigrateDownTo(ctx, 19); err != nil {
			t.Fatal(err)
		}
		county, twice, once := uuid.New(), uuid.New(), uuid.New()
		at := time.Date(2026, 11, 2, 1, 0, 0, 0, time.UTC)
		insert := func(finding uuid.UUID, status string, minutes int) uuid.UUID {
			t.Helper()
			id := uuid.New()
			err := db.Gorm.Exec(`INSERT INTO ledger_items (id, county_id, kind, finding_id, region_path, problem, status, created_by, created_at,
				updated_at, version) VALUES (?, ?, 'rectification', ?, '/p/', '住房不安全', ?, ?, ?, ?, 1)`,
				id, county, finding, status, uuid.New(), at.Add(time.Duration(minutes)*time.Minute), at).Error
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		closed := insert(twice, "closed", 0)
		first := insert(twice, "open", 1)
		second := insert(twice, "in_progress", 2)
		only := insert(once, "submitted", 3)
		if n, err := db.MigrateUpTo(ctx, 20); err != nil || n != 1 {
			t.Fatalf("migrate over duplicates: %d applied, %v", n, err)
		}
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		marks := map[uuid.UUID]*uuid.UUID{}
		for _, id := range []uuid.UUID{closed, first, second, only} {
			var row struct {
				DuplicateOf *uuid.UUID `gorm:"column:duplicate_of"`
			}
			if err := db.Gorm.Table("ledger_items").Select("duplicate_of").Where("id = ?", id).Take(&row).Error; err != nil {
				t.Fatal(err)
			}
			marks[id] = row.DuplicateOf
		}
		if marks[closed] != nil || marks[first] != nil || marks[only] != nil || marks[second] == nil || *marks[second] != first {
			t.Fatalf("duplicate_of: closed %v, first %v, second %v (want %s), only %v", marks[closed], marks[first], marks[second], first, marks[only])
		}
		st := storage.NewStore(db, nil)
		if got, err := st.OpenLedgerItemOfFinding(ctx, twice); err != nil || got != first {
			t.Fatalf("the finding's open item: %s (%v), want the first, %s", got, err, first)
		}
		if _, err := st.OpenLedgerItemOfFinding(ctx, uuid.New()); !domain.IsCode(err, domain.CodeNotFound) {
			t.Fatalf("a finding without items: %v", err)
		}
		err := db.Gorm.Exec(`INSERT INTO ledger_items (id, county_id, kind, finding_id, region_path, problem, status, created_by, created_at,
			updated_at, version) VALUES (?, ?, 'rectification', ?, '/p/', '重复', 'open', ?, ?, ?, 1)`, uuid.New(), county, once, uuid.New(), at, at).Error
		if err == nil {
			t.Fatal("a second open item for a finding was stored")
		}
		insert(uuid.New(), "open", 4) // another finding's
		insert(once, "closed", 5)     // a closed one beside the open
	})
}

// TestAWithdrawnItemIsNotItsFindingsOpenItem: a withdrawn item (撤销,
// migration 00022) keeps its when, by whom and why, and is left out of
// the one-open-item rule as a closed one is: a new item for its finding is
// stored beside it, and it is never the finding's open item.
func TestAWithdrawnItemIsNotItsFindingsOpenItem(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		county, finding, by := uuid.New(), uuid.New(), uuid.New()
		at := time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)
		insert := func(status string, minutes int) uuid.UUID {
			t.Helper()
			id := uuid.New()
			when := at.Add(time.Duration(minutes) * time.Minute)
			var withdrawnAt *time.Time
			var withdrawnBy *uuid.UUID
			reason := ""
			if status == "withdrawn" {
				withdrawnAt, withdrawnBy, reason = &when, &by, "重复登记"
			}
			err := db.Gorm.Exec(`INSERT INTO ledger_items (id, county_id, kind, finding_id, region_path, problem, status, created_by, created_at,
				updated_at, withdrawn_at, withdrawn_by, withdraw_reason, version) VALUES (?, ?, 'rectification', ?, '/p/', '住房不安全', ?, ?, ?, ?, ?, ?, ?, 1)`,
				id, county, finding, status, uuid.New(), when, when, withdrawnAt, withdrawnBy, reason).Error
			if err != nil {
				t.Fatalf("store a %s item: %v", status, err)
			}
			return id
		}
		st := storage.NewStore(db, nil)
		withdrawn := insert("withdrawn", 0)
		if _, err := st.OpenLedgerItemOfFinding(ctx, finding); !domain.IsCode(err, domain.CodeNotFound) {
			t.Fatalf("a finding whose only item is withdrawn has an open item: %v", err)
		}
		open := insert("open", 1)
		if got, err := st.OpenLedgerItemOfFinding(ctx, finding); err != nil || got != open {
			t.Fatalf("the finding's open item: %s (%v), want %s", got, err, open)
		}
		l, err := st.LedgerItem(ctx, withdrawn)
		if err != nil || l.Status != "withdrawn" || l.WithdrawReason != "重复登记" || l.WithdrawnBy == nil || *l.WithdrawnBy != by ||
			l.WithdrawnAt == nil || !l.WithdrawnAt.Equal(at) || l.ClosedAt != nil {
			t.Fatalf("the withdrawn item reads back as %+v (%v)", l.Record, err)
		}
	})
}
