package storage

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm/clause"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/devicehealth"
)

var _ devicehealth.Store = (*Store)(nil)

// deviceHealthColumns are the sync-health columns of a device row.
type deviceHealthColumns struct {
	LastSyncAt     *time.Time `gorm:"column:last_sync_at"`
	LastPushAt     *time.Time `gorm:"column:last_push_at"`
	LastPullAt     *time.Time `gorm:"column:last_pull_at"`
	PullLag        *int64     `gorm:"column:pull_lag"`
	ClockOffsetMS  *int64     `gorm:"column:clock_offset_ms"`
	BacklogRecords *int64     `gorm:"column:backlog_records"`
	BacklogPhotos  *int64     `gorm:"column:backlog_photos"`
	BacklogBytes   *int64     `gorm:"column:backlog_bytes"`
	BacklogAt      *time.Time `gorm:"column:backlog_at"`
	AppVersion     *string    `gorm:"column:app_version"`
}

// deviceSyncRow is a device row as the first sync of a device that never
// logged in writes it; later syncs update the row in place.
type deviceSyncRow struct {
	ID        uuid.UUID           `gorm:"column:id;primaryKey"`
	UserID    uuid.UUID           `gorm:"column:user_id"`
	DeviceID  string              `gorm:"column:device_id"`
	FirstSeen time.Time           `gorm:"column:first_seen"`
	LastSeen  time.Time           `gorm:"column:last_seen"`
	Health    deviceHealthColumns `gorm:"embedded"`
}

func (deviceSyncRow) TableName() string { return "devices" }

// SaveDeviceSync keeps one sync's report in one UPSERT. On PostgreSQL it
// commits without waiting for the WAL flush: a health record lost in a
// crash is replaced by the phone's next sync, and the sync itself must not
// wait on a second fsync for it.
func (s *Store) SaveDeviceSync(ctx context.Context, r devicehealth.SyncRecord) error {
	at := r.At.UTC()
	row := deviceSyncRow{ID: deviceRowID(r.UserID, r.DeviceID), UserID: r.UserID, DeviceID: r.DeviceID, FirstSeen: at, LastSeen: at}
	h := &row.Health
	h.LastSyncAt = &at
	set := map[string]any{"last_seen": at, "last_sync_at": at}
	if r.Pull {
		h.LastPullAt, h.PullLag = &at, r.Lag
		set["last_pull_at"], set["pull_lag"] = at, r.Lag
	} else {
		h.LastPushAt = &at
		set["last_push_at"] = at
		if r.ClockOffsetMS != nil {
			h.ClockOffsetMS = r.ClockOffsetMS
			set["clock_offset_ms"] = *r.ClockOffsetMS
		}
	}
	if b := r.Backlog; b != nil {
		reported := b.ReportedAt.UTC()
		h.BacklogRecords, h.BacklogPhotos, h.BacklogBytes, h.BacklogAt = b.Records, b.Photos, b.Bytes, &reported
		set["backlog_records"], set["backlog_photos"], set["backlog_bytes"], set["backlog_at"] = b.Records, b.Photos, b.Bytes, reported
	}
	if r.AppVersion != "" {
		v := r.AppVersion
		h.AppVersion = &v
		set["app_version"] = v
	}
	if s.dialect == Postgres {
		return translate(s.relaxedUpsertDevice(ctx, row, set), "device")
	}
	return translate(s.db.WithContext(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "user_id"}, {Name: "device_id"}},
		DoUpdates: clause.Assignments(set)}).Create(&row).Error, "device")
}

// relaxedUpsertDevice is the PostgreSQL upsert of a sync's report in one
// statement and one round trip: the statement turns synchronous_commit off
// for its own transaction (set_config with is_local) as it reads its row,
// where BEGIN, SET LOCAL, the upsert and COMMIT cost four round trips on
// every pull and push. Only the columns in set are updated on a row that
// exists.
func (s *Store) relaxedUpsertDevice(ctx context.Context, row deviceSyncRow, set map[string]any) error {
	h := row.Health
	cols := []struct {
		name, cast string
		value      any
	}{
		{"id", "uuid", row.ID}, {"user_id", "uuid", row.UserID}, {"device_id", "text", row.DeviceID},
		{"first_seen", "timestamptz", row.FirstSeen}, {"last_seen", "timestamptz", row.LastSeen},
		{"last_sync_at", "timestamptz", h.LastSyncAt}, {"last_push_at", "timestamptz", h.LastPushAt},
		{"last_pull_at", "timestamptz", h.LastPullAt}, {"pull_lag", "bigint", h.PullLag},
		{"clock_offset_ms", "bigint", h.ClockOffsetMS}, {"backlog_records", "bigint", h.BacklogRecords},
		{"backlog_photos", "bigint", h.BacklogPhotos}, {"backlog_bytes", "bigint", h.BacklogBytes},
		{"backlog_at", "timestamptz", h.BacklogAt}, {"app_version", "text", h.AppVersion},
	}
	var names, values, updates []string
	args := make([]any, 0, len(cols))
	for _, c := range cols {
		names = append(names, c.name)
		values = append(values, "?::"+c.cast)
		args = append(args, c.value)
		if _, ok := set[c.name]; ok {
			updates = append(updates, c.name+" = EXCLUDED."+c.name)
		}
	}
	q := "INSERT INTO devices (" + strings.Join(names, ", ") + ") SELECT " + strings.Join(values, ", ") +
		" FROM (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed" +
		" ON CONFLICT (user_id, device_id) DO UPDATE SET " + strings.Join(updates, ", ")
	return s.db.WithContext(ctx).Exec(q, args...).Error
}

// deviceRowID is the id a device row gets when its first sync, not a
// login, makes it. It is derived from the user and device, not drawn: the
// row nearly always exists (login made it) and the id is then thrown
// away, and a sync must not use up the random source tests seed.
func deviceRowID(user uuid.UUID, device string) uuid.UUID {
	return uuid.NewSHA1(user, []byte(device))
}

// deviceHealthRow is a device read with its user and the user's region.
type deviceHealthRow struct {
	ID          uuid.UUID           `gorm:"column:id"`
	DeviceID    string              `gorm:"column:device_id"`
	Name        string              `gorm:"column:name"`
	UserID      uuid.UUID           `gorm:"column:user_id"`
	Username    string              `gorm:"column:username"`
	DisplayName string              `gorm:"column:display_name"`
	Role        string              `gorm:"column:role"`
	RegionID    uuid.UUID           `gorm:"column:region_id"`
	RegionName  string              `gorm:"column:region_name"`
	FirstSeen   time.Time           `gorm:"column:first_seen"`
	LastSeen    time.Time           `gorm:"column:last_seen"`
	RevokedAt   *time.Time          `gorm:"column:revoked_at"`
	Health      deviceHealthColumns `gorm:"embedded"`
}

func (r deviceHealthRow) device() devicehealth.Device {
	utcPtr := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		u := t.UTC()
		return &u
	}
	h := r.Health
	d := devicehealth.Device{ID: r.ID, DeviceID: r.DeviceID, Name: r.Name, UserID: r.UserID, Username: r.Username, DisplayName: r.DisplayName,
		Role: r.Role, RegionID: r.RegionID, RegionName: r.RegionName, FirstSeen: r.FirstSeen.UTC(), LastSeen: r.LastSeen.UTC(),
		LastSyncAt: utcPtr(h.LastSyncAt), LastPushAt: utcPtr(h.LastPushAt), LastPullAt: utcPtr(h.LastPullAt), Lag: h.PullLag,
		ClockOffsetMS: h.ClockOffsetMS, RevokedAt: utcPtr(r.RevokedAt)}
	if h.BacklogAt != nil {
		d.Backlog = &devicehealth.Backlog{Records: h.BacklogRecords, Photos: h.BacklogPhotos, Bytes: h.BacklogBytes, ReportedAt: h.BacklogAt.UTC()}
	}
	if h.AppVersion != nil {
		d.AppVersion = *h.AppVersion
	}
	return d
}

// DeviceHealth lists devices by filter, the longest unsynced first (a
// device never synced counts from its first login), with the total.
func (s *Store) DeviceHealth(ctx context.Context, f devicehealth.Filter) ([]devicehealth.Device, int64, error) {
	q := s.db.WithContext(ctx).Table("devices d").
		Joins("JOIN users u ON u.id = d.user_id").
		Joins("JOIN regions r ON r.id = u.region_id").
		Where(like("u.region_path"), likePrefix(f.WithinPath)).
		// A console browser session is no phone: it never syncs.
		Where("NOT ("+like("d.device_id")+" AND d.last_sync_at IS NULL)", likePrefix(domain.BrowserDevicePrefix))
	if f.UserID != nil {
		q = q.Where("d.user_id = ?", *f.UserID)
	}
	if f.SyncedBefore != nil {
		q = q.Where("d.revoked_at IS NULL AND COALESCE(d.last_sync_at, d.first_seen) <= ?", f.SyncedBefore.UTC())
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, translate(err, "device")
	}
	var rows []deviceHealthRow
	err := q.Select("d.id, d.device_id, d.name, d.user_id, u.username, u.display_name, u.role, u.region_id, r.name AS region_name, " +
		"d.first_seen, d.last_seen, d.last_sync_at, d.last_push_at, d.last_pull_at, d.pull_lag, d.clock_offset_ms, " +
		"d.backlog_records, d.backlog_photos, d.backlog_bytes, d.backlog_at, d.app_version, d.revoked_at").
		Order("COALESCE(d.last_sync_at, d.first_seen), d.id").Limit(f.Limit).Offset(f.Offset).Scan(&rows).Error
	if err != nil {
		return nil, 0, translate(err, "device")
	}
	out := make([]devicehealth.Device, len(rows))
	for i, r := range rows {
		out[i] = r.device()
	}
	return out, total, nil
}
