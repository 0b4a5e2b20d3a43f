// Package devicehealth keeps each phone's sync health — when it last
// pushed and pulled, how far behind the feed its last pull left it, the
// outbox backlog and app version it reported, and its clock offset — and
// lists it for the supervisors of the phone user's region (GET
// /api/v1/devices, the console's devices page). A device is a user's
// phone as login registered it (one per user and device_id); the sync
// routes tell the service what each request showed.
//
// Recording is telemetry: it never fails a sync. What a request showed is
// kept with one UPSERT outside the sync's transaction. A value the phone
// did not send, or sent malformed, is not recorded: the app version and
// clock offset keep their last known values, and a backlog report names
// such a count as unknown (a request with no count at all keeps the last
// report).
package devicehealth

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/wire"
)

// Store is the persistence device health needs.
type Store interface {
	// SaveDeviceSync keeps what one sync request showed of a device,
	// creating the device's row if login never did.
	SaveDeviceSync(ctx context.Context, r SyncRecord) error
	// DeviceHealth lists devices by filter, the most stale first.
	DeviceHealth(ctx context.Context, f Filter) ([]Device, int64, error)
	RegionWithin(ctx context.Context, path string, id uuid.UUID) (domain.Region, error)
}

// What a sync request was.
const (
	KindPush     = "push"
	KindPull     = "pull"
	KindSnapshot = "snapshot" // a fresh phone's first pull in one answer: kept as a pull
)

// Sync is what one acknowledged sync request showed of the caller's phone.
type Sync struct {
	Kind string
	// ArrivedAt is when the request arrived (its headers, before any
	// body): the instant the phone's clock is compared with.
	ArrivedAt time.Time
	// DeviceTime is the phone's clock as the push carried it (zero: not
	// known for this request).
	DeviceTime time.Time
	// Lag is the pull's sync.PageEnd.Lag (nil: not known).
	Lag    *int64
	Report wire.DeviceReport
}

// SyncRecord is a Sync as it is stored for the device: a nil or empty
// field leaves the stored value as it was, except the lag of a pull,
// which is always the last pull's (nil: not known).
type SyncRecord struct {
	UserID        uuid.UUID
	DeviceID      string
	At            time.Time
	Pull          bool // a pull or snapshot; else a push
	Lag           *int64
	ClockOffsetMS *int64
	// Backlog, when set, replaces the stored one whole; a count the phone
	// did not send well-formed is stored as unknown.
	Backlog    *Backlog
	AppVersion string
}

// Backlog is what a phone reported waiting in its outbox.
type Backlog struct {
	Records, Photos, Bytes *int64
	ReportedAt             time.Time
}

// Device is one phone's health, with its user and the user's region.
type Device struct {
	ID                    uuid.UUID
	DeviceID, Name        string
	UserID                uuid.UUID
	Username, DisplayName string
	Role                  string
	RegionID              uuid.UUID
	RegionName            string
	FirstSeen, LastSeen   time.Time
	LastSyncAt            *time.Time
	LastPushAt            *time.Time
	LastPullAt            *time.Time
	Lag                   *int64
	ClockOffsetMS         *int64
	Backlog               *Backlog // nil: never reported
	AppVersion            string   // "": never reported
	RevokedAt             *time.Time
}

// Filter selects devices by their user's region and their last sync. The
// web console's browser sessions (device ids starting with
// domain.BrowserDevicePrefix) are left out unless they synced: they are
// no phones.
type Filter struct {
	// WithinPath keeps the devices of users whose region lies in this
	// subtree (never empty).
	WithinPath string
	// UserID, when set, keeps that user's devices only.
	UserID *uuid.UUID
	// SyncedBefore, when set, keeps the devices in use (not revoked)
	// whose last sync — or, never synced, whose first login — is at or
	// before it.
	SyncedBefore  *time.Time
	Limit, Offset int
}

// Service records and lists device sync health.
type Service struct {
	store Store
	now   func() time.Time
}

// NewService builds the service; now is the server clock.
func NewService(store Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, now: now}
}

// Record keeps what an acknowledged sync showed of the caller's phone (the
// device the access token was issued to). A caller without a device (none
// in the token) is not recorded. The clock offset is measured at a push
// only, as server time minus the device time it carried, both taken when
// the request arrived.
func (s *Service) Record(ctx context.Context, p domain.Principal, in Sync) error {
	if p.DeviceID == "" {
		return nil
	}
	r := SyncRecord{UserID: p.UserID, DeviceID: p.DeviceID, At: in.ArrivedAt.UTC(), Pull: in.Kind != KindPush, AppVersion: in.Report.AppVersion}
	if r.At.IsZero() {
		r.At = s.now().UTC()
	}
	if r.Pull {
		r.Lag = in.Lag
	} else if !in.DeviceTime.IsZero() {
		off := r.At.Sub(in.DeviceTime).Milliseconds()
		r.ClockOffsetMS = &off
	}
	if in.Report.HasBacklog() {
		r.Backlog = &Backlog{Records: in.Report.OutboxRecords, Photos: in.Report.OutboxPhotos, Bytes: in.Report.OutboxBytes, ReportedAt: r.At}
	}
	return s.store.SaveDeviceSync(ctx, r)
}

// Query selects a devices listing.
type Query struct {
	RegionID *uuid.UUID
	// StaleDays, when set, keeps the devices in use not synced for that
	// many days or more (1–3650).
	StaleDays     *int
	Limit, Offset int
}

// MaxStaleDays bounds Query.StaleDays: ten years.
const MaxStaleDays = 3650

// Devices lists the phones of the users in the caller's region subtree
// (narrowed to RegionID's), the most stale first. Admins and supervisors
// see every user's; a cadre sees only their own phones, as GET
// /users/{id}/devices shows them; inspectors keep no devices page (403).
func (s *Service) Devices(ctx context.Context, p domain.Principal, q Query) ([]Device, int64, error) {
	f := Filter{WithinPath: p.RegionPath, Limit: q.Limit, Offset: q.Offset}
	switch p.Role {
	case domain.RoleAdmin, domain.RoleSupervisor:
	case domain.RoleCadre:
		id := p.UserID
		f.UserID = &id
	default:
		return nil, 0, domain.Forbidden()
	}
	if f.WithinPath == "" {
		return nil, 0, domain.Forbidden()
	}
	var fe domain.FieldErrors
	if q.StaleDays != nil {
		if d := *q.StaleDays; d < 1 || d > MaxStaleDays {
			fe.Add("stale_days", "out_of_range", "stale_days must be 1 to 3650", "未同步天数应为1至3650")
		} else {
			before := s.now().UTC().Add(-time.Duration(d) * 24 * time.Hour)
			f.SyncedBefore = &before
		}
	}
	if err := fe.Err(); err != nil {
		return nil, 0, err
	}
	narrowed, err := domain.RegionParam(ctx, p, q.RegionID, s.store.RegionWithin)
	if err != nil {
		return nil, 0, err
	}
	if narrowed != "" {
		f.WithinPath = narrowed
	}
	return s.store.DeviceHealth(ctx, f)
}
