package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	"github.com/fieldvisit/fieldvisit/internal/testkit/storetest"
	"github.com/fieldvisit/fieldvisit/storage"
)

func TestMigrationsAreIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *storage.DB) {
		n, err := db.Migrate(context.Background())
		if err != nil || n != 0 {
			t.Fatalf("second migrate applied %d (%v), want 0", n, err)
		}
		st, err := db.MigrationStatus(context.Background())
		if err != nil || len(st) == 0 {
			t.Fatalf("status: %v %v", st, err)
		}
	})
}

func TestAuditLogIsAppendOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *storage.DB) {
		s := storage.NewStore(db, nil)
		ctx := context.Background()
		if err := s.Audit(ctx, domain.AuditEntry{Action: "login", ObjectType: "session", Detail: map[string]any{"ip": "10.0.0.1"}}); err != nil {
			t.Fatal(err)
		}
		if err := db.Gorm.Exec("UPDATE audit_log SET action = 'forged'").Error; err == nil {
			t.Fatal("UPDATE on audit_log must fail")
		}
		if err := db.Gorm.Exec("DELETE FROM audit_log").Error; err == nil {
			t.Fatal("DELETE on audit_log must fail")
		}
		recs, _, err := s.AuditLog(ctx, domain.AuditFilter{ObjectType: "session", Limit: 10})
		if err != nil || len(recs) != 1 || recs[0].Action != "login" {
			t.Fatalf("audit log after attempted tampering: %+v %v", recs, err)
		}
	})
}

func TestDriverErrorsBecomeDomainErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *storage.DB) {
		s := storage.NewStore(db, nil)
		ctx := context.Background()
		id := uuid.New()
		r := domain.Region{ID: id, Level: domain.LevelProvince, Code: "410000000000", Name: "河南省", Path: "/" + id.String() + "/"}
		if err := s.CreateRegion(ctx, r, domain.AuditEntry{}); err != nil {
			t.Fatal(err)
		}
		r2 := r
		r2.ID = uuid.New()
		err := s.CreateRegion(ctx, r2, domain.AuditEntry{})
		if domain.ErrorCode(err) != domain.CodeConflict || domain.Reason(err) != "duplicate" {
			t.Fatalf("duplicate code: got %v (%s/%s)", err, domain.ErrorCode(err), domain.Reason(err))
		}
		if _, err := s.Region(ctx, uuid.New()); domain.ErrorCode(err) != domain.CodeNotFound {
			t.Fatalf("missing region: got %v", err)
		}
		bad := domain.Region{ID: uuid.New(), ParentID: ptr(uuid.New()), Level: domain.LevelCity, Code: "410100000000", Name: "x", Path: "/x/"}
		if err := s.CreateRegion(ctx, bad, domain.AuditEntry{}); domain.ErrorCode(err) != domain.CodeInvalid {
			t.Fatalf("dangling parent: got %v", err)
		}
		// A failed write leaves no audit line behind: one transaction.
		recs, _, _ := s.AuditLog(ctx, domain.AuditFilter{Limit: 10})
		if len(recs) != 0 {
			t.Fatalf("audit entries of failed writes: %d", len(recs))
		}
	})
}

func TestOptimisticLockingRefusesStaleVersions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *storage.DB) {
		s := storage.NewStore(db, nil)
		ctx := context.Background()
		county := uuid.New()
		for _, r := range []domain.Region{
			{ID: county, Level: domain.LevelCounty, Code: "410122000000", Name: "县", Path: "/" + county.String() + "/", CountyID: &county},
		} {
			if err := s.CreateRegion(ctx, r, domain.AuditEntry{}); err != nil {
				t.Fatal(err)
			}
		}
		now := time.Now().UTC()
		h := domain.Household{ID: uuid.New(), CountyID: county, RegionID: county, VillageID: county, HouseholdDetails: domain.HouseholdDetails{HeadName: "张三", Causes: []string{}},
			Status: domain.StatusEdge, Version: 1, CreatedAt: now, UpdatedAt: now}
		err := s.CreateHousehold(ctx, registry.HouseholdRegistration{Household: h, RegionPath: "/" + county.String() + "/",
			Status: domain.StatusChange{ID: uuid.New(), HouseholdID: h.ID, CountyID: county, To: domain.StatusEdge, EffectiveOn: domain.DateOf(now), RecordedAt: now}})
		if err != nil {
			t.Fatal(err)
		}
		h.Phone = "13800000001"
		if _, err := s.UpdateHousehold(ctx, h, 1, domain.AuditEntry{}); err != nil {
			t.Fatal(err)
		}
		h.Phone = "13800000002"
		if _, err := s.UpdateHousehold(ctx, h, 1, domain.AuditEntry{}); domain.Reason(err) != "stale_version" {
			t.Fatalf("second writer with the old version: got %v", err)
		}
	})
}

func ptr[T any](v T) *T { return &v }
