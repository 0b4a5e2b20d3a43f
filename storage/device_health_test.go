package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fieldvisit/fieldvisit/internal/auth"
	"github.com/fieldvisit/fieldvisit/internal/devicehealth"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	"github.com/fieldvisit/fieldvisit/internal/testkit/storetest"
	"github.com/fieldvisit/fieldvisit/storage"
)

// A sync from a phone whose row login did not make (a device row lost,
// say) makes the row; later syncs update it in place, each keeping what
// it knows and leaving the rest.
func TestSaveDeviceSyncMakesTheRowOnce(t *testing.T) {
	storetest.EachCounty(t, func(t *testing.T, db *storage.DB, store *storage.Store, county storetest.County) {
		ctx := context.Background()
		n := func(v int64) *int64 { return &v }
		pushed := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
		pulled := pushed.Add(time.Minute)
		for _, r := range []devicehealth.SyncRecord{
			{UserID: county.CadreA.ID, DeviceID: "lost-row", At: pushed, ClockOffsetMS: n(-4000), AppVersion: "1.0",
				Backlog: &devicehealth.Backlog{Records: n(2), ReportedAt: pushed}},
			{UserID: county.CadreA.ID, DeviceID: "lost-row", At: pulled, Pull: true, Lag: n(0)},
		} {
			if err := store.SaveDeviceSync(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		ds, total, err := store.DeviceHealth(ctx, devicehealth.Filter{WithinPath: county.VillageA.Path, Limit: 10})
		if err != nil || total != 1 || len(ds) != 1 {
			t.Fatalf("want the one device, got %d %+v %v", total, ds, err)
		}
		d := ds[0]
		if !d.FirstSeen.Equal(pushed) || !d.LastSeen.Equal(pulled) || !d.LastPushAt.Equal(pushed) || !d.LastPullAt.Equal(pulled) || !d.LastSyncAt.Equal(pulled) {
			t.Fatalf("times: %+v", d)
		}
		if *d.ClockOffsetMS != -4000 || *d.Lag != 0 || d.AppVersion != "1.0" || *d.Backlog.Records != 2 || d.Backlog.Photos != nil {
			t.Fatalf("what each sync knew: %+v backlog %+v", d, d.Backlog)
		}
		if d.Username != "cadre-a" || d.RegionID != county.VillageA.ID || d.RegionName != county.VillageA.Name {
			t.Fatalf("user and region: %+v", d)
		}
	})
}

// BenchmarkSaveDeviceSync is what each sync request adds on PostgreSQL:
// one device's health record (a push's, the larger of the two), against
// the raw ceiling of the same row written by one plain UPSERT over pgx on
// a connection opened before the clock, committed durably as a sync's own
// transaction is. Compare the two within one run:
//
//	go run ./internal/testenv -- go test -run '^$' -bench SaveDeviceSync -count 5 ./storage
func BenchmarkSaveDeviceSync(b *testing.B) {
	ctx := context.Background()
	url := storetest.URL(b, "postgres")
	db, _, err := storage.OpenMigrated(ctx, url, b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	store := storage.NewStore(db, nil)
	county := storetest.NewCounty(b, store, registry.NewService(store, auth.NewHasher(1), nil), auth.NewHasher(1))
	user := county.CadreA.ID
	n := func(v int64) *int64 { return &v }
	record := func(at time.Time) devicehealth.SyncRecord {
		return devicehealth.SyncRecord{UserID: user, DeviceID: "bench-phone", At: at, ClockOffsetMS: n(1200),
			Backlog: &devicehealth.Backlog{Records: n(500), Photos: n(12), Bytes: n(3_600_000), ReportedAt: at}, AppVersion: "3.2.0 (5120)"}
	}
	if err := store.SaveDeviceSync(ctx, record(time.Now())); err != nil {
		b.Fatal(err)
	}
	b.Run("api", func(b *testing.B) {
		for b.Loop() {
			if err := store.SaveDeviceSync(ctx, record(time.Now())); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The raw ceiling commits the same way (asynchronously, one
	// pipelined round trip); raw-durable is what the same UPSERT costs
	// committed durably, as a plain autocommit write would be.
	upsert := `INSERT INTO devices (id, user_id, device_id, first_seen, last_seen, last_sync_at, last_push_at,
		clock_offset_ms, backlog_records, backlog_photos, backlog_bytes, backlog_at, app_version)
		VALUES (gen_random_uuid(), $1, 'bench-phone', $2, $2, $2, $2, 1200, 500, 12, 3600000, $2, '3.2.0 (5120)')
		ON CONFLICT (user_id, device_id) DO UPDATE SET last_seen = $2, last_sync_at = $2, last_push_at = $2, clock_offset_ms = 1200,
		backlog_records = 500, backlog_photos = 12, backlog_bytes = 3600000, backlog_at = $2, app_version = '3.2.0 (5120)'`
	raw := func(durable bool) func(b *testing.B) {
		return func(b *testing.B) {
			conn, err := pgx.Connect(ctx, url)
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close(ctx)
			for b.Loop() {
				now := time.Now().UTC()
				if durable {
					_, err = conn.Exec(ctx, upsert, user, now)
				} else {
					batch := &pgx.Batch{}
					batch.Queue("BEGIN")
					batch.Queue("SET LOCAL synchronous_commit = off")
					batch.Queue(upsert, user, now)
					batch.Queue("COMMIT")
					err = conn.SendBatch(ctx, batch).Close()
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.Run("raw", raw(false))
	b.Run("raw-durable", raw(true))
}
