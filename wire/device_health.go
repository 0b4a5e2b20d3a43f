package wire

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// The headers a phone sends on every push, pull and snapshot to report its
// own state (docs/sync-protocol.md, "Device sync health"). They are
// telemetry: the server records what is well-formed and ignores the rest,
// and no value, however wrong, fails a sync.
const (
	HeaderOutboxRecords = "X-Outbox-Records" // changes waiting in the outbox, the batch in flight included
	HeaderOutboxPhotos  = "X-Outbox-Photos"  // photos waiting to be uploaded
	HeaderOutboxBytes   = "X-Outbox-Bytes"   // bytes of both still to go up
	HeaderAppVersion    = "X-App-Version"    // the app's own version string
)

// MaxAppVersion bounds X-App-Version, in characters.
const MaxAppVersion = 64

// maxCountDigits bounds a backlog count: 18 digits always fit an int64.
const maxCountDigits = 18

// DeviceReport is what a phone says of itself in the headers of a sync
// request. A nil count, or an empty AppVersion, was not sent or was
// malformed: nothing is known of it from this request.
type DeviceReport struct {
	OutboxRecords *int64
	OutboxPhotos  *int64
	OutboxBytes   *int64
	AppVersion    string
}

// NewDeviceReport is the report of a phone that knows its whole backlog.
func NewDeviceReport(records, photos, bytes int64, appVersion string) DeviceReport {
	return DeviceReport{OutboxRecords: &records, OutboxPhotos: &photos, OutboxBytes: &bytes, AppVersion: appVersion}
}

// HasBacklog reports whether any backlog count is known.
func (r DeviceReport) HasBacklog() bool {
	return r.OutboxRecords != nil || r.OutboxPhotos != nil || r.OutboxBytes != nil
}

// SetHeaders writes the report's known values into h.
func (r DeviceReport) SetHeaders(h http.Header) {
	for _, c := range r.counts() {
		if *c.v != nil {
			h.Set(c.name, strconv.FormatInt(**c.v, 10))
		}
	}
	if r.AppVersion != "" {
		h.Set(HeaderAppVersion, r.AppVersion)
	}
}

func (r *DeviceReport) counts() []struct {
	name string
	v    **int64
} {
	return []struct {
		name string
		v    **int64
	}{{HeaderOutboxRecords, &r.OutboxRecords}, {HeaderOutboxPhotos, &r.OutboxPhotos}, {HeaderOutboxBytes, &r.OutboxBytes}}
}

// HeaderProblem is a device-report header that was left out, and why.
type HeaderProblem struct {
	Header string
	Reason string // "repeated", "not_a_count", "too_long", "not_printable"
}

// ReadDeviceReport reads the device-report headers of a request. Each value
// stands alone: a malformed one is left out (and named in problems) while
// the others are kept. A count is a plain decimal of at most 18 digits (no
// sign); the app version is 1–64 printable ASCII characters (spaces
// trimmed). A header sent twice is ambiguous and left out.
func ReadDeviceReport(h http.Header) (r DeviceReport, problems []HeaderProblem) {
	value := func(name string) (string, bool) {
		vs := h.Values(name)
		switch len(vs) {
		case 0:
			return "", false
		case 1:
			return strings.TrimSpace(vs[0]), true
		}
		problems = append(problems, HeaderProblem{Header: name, Reason: "repeated"})
		return "", false
	}
	for _, c := range r.counts() {
		v, ok := value(c.name)
		if !ok {
			continue
		}
		n, reason := parseCount(v)
		if reason != "" {
			problems = append(problems, HeaderProblem{Header: c.name, Reason: reason})
			continue
		}
		*c.v = &n
	}
	if v, ok := value(HeaderAppVersion); ok {
		if reason := appVersionProblem(v); reason != "" {
			problems = append(problems, HeaderProblem{Header: HeaderAppVersion, Reason: reason})
		} else {
			r.AppVersion = v
		}
	}
	return r, problems
}

func parseCount(v string) (int64, string) {
	if v == "" || len(v) > maxCountDigits {
		return 0, "not_a_count"
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, "not_a_count"
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, "not_a_count"
	}
	return n, ""
}

func appVersionProblem(v string) string {
	if v == "" {
		return "not_printable"
	}
	if len(v) > MaxAppVersion {
		return "too_long"
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			return "not_printable"
		}
	}
	return ""
}

// DeviceHealth is one phone's sync health as GET /api/v1/devices lists it.
type DeviceHealth struct {
	ID         uuid.UUID  `json:"id"`
	DeviceID   string     `json:"device_id"`
	Name       string     `json:"name"`
	User       UserRef    `json:"user"`
	Region     RegionRef  `json:"region"`
	FirstSeen  time.Time  `json:"first_seen"`
	LastSeen   time.Time  `json:"last_seen"`
	LastSyncAt *time.Time `json:"last_sync_at"`
	LastPushAt *time.Time `json:"last_push_at"`
	LastPullAt *time.Time `json:"last_pull_at"`
	// CursorLag is how many feed positions the cursor of the last pull
	// lay behind the feed head then: 0 caught up, nil not known.
	CursorLag     *int64         `json:"cursor_lag"`
	Backlog       *OutboxBacklog `json:"backlog"`
	ClockOffsetMS *int64         `json:"clock_offset_ms"`
	AppVersion    *string        `json:"app_version"`
	RevokedAt     *time.Time     `json:"revoked_at"`
}

// OutboxBacklog is the backlog a phone last reported; a count it did not
// send well-formed in that report is null.
type OutboxBacklog struct {
	Records    *int64    `json:"records"`
	Photos     *int64    `json:"photos"`
	Bytes      *int64    `json:"bytes"`
	ReportedAt time.Time `json:"reported_at"`
}

// UserRef names a user in a listing.
type UserRef struct {
	ID          uuid.UUID `json:"id"`
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	Role        string    `json:"role"`
}

// RegionRef names a region in a listing.
type RegionRef struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
}
