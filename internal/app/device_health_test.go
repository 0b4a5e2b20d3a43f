package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/client"
	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/wire"
)

// Device sync health (issue 17): every acknowledged push, pull and
// snapshot records what it showed of the phone — the backlog and app
// version it reported in its headers, its clock offset at a push, how far
// behind the feed its pull left it — and GET /api/v1/devices lists it for
// the supervisors of the phone user's region.

// stopClock stops the app's clock at the current second and returns it:
// a request's arrival is then an instant the test knows.
func (e *testEnv) stopClock() time.Time {
	now := time.Now().UTC().Truncate(time.Second)
	e.app.Now = func() time.Time { return now }
	return now
}

// pushReporting pushes a batch with the device-report headers given.
func (e *testEnv) pushReporting(t *testing.T, tok, key string, body any, report map[string]string) response {
	t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	h := map[string]string{"Content-Type": "application/json", "Idempotency-Key": key}
	maps.Copy(h, report)
	return e.rawRequest(t, "POST", "/api/v1/sync/push", tok, h, raw)
}

// pullReporting asks for one pull page (or a snapshot, for path
// /api/v1/sync/snapshot) with the device-report headers given.
func (e *testEnv) pullReporting(t *testing.T, tok, path string, report map[string]string) wire.PullResponse {
	t.Helper()
	r := e.rawRequest(t, "GET", path, tok, report, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
	}
	var page wire.PullResponse
	r.json(t, &page)
	return page
}

// devices lists GET /api/v1/devices?query as tok sees it, all of it.
func (e *testEnv) devices(t *testing.T, tok, query string) []wire.DeviceHealth {
	t.Helper()
	return listing[wire.DeviceHealth](t, e, tok, "/api/v1/devices?limit=200&"+query)
}

// deviceOf finds the device of user called device in a listing.
func deviceOf(t *testing.T, items []wire.DeviceHealth, user uuid.UUID, device string) wire.DeviceHealth {
	t.Helper()
	for _, d := range items {
		if d.User.ID == user && d.DeviceID == device {
			return d
		}
	}
	t.Fatalf("device %s of user %s not listed", device, user)
	return wire.DeviceHealth{}
}

func owners(items []wire.DeviceHealth) []string {
	var out []string
	for _, d := range items {
		out = append(out, d.User.Username)
	}
	slices.Sort(out)
	return out
}

func backlogOf(d wire.DeviceHealth) string {
	b := d.Backlog
	if b == nil {
		return "none"
	}
	count := func(n *int64) string {
		if n == nil {
			return "?"
		}
		return strconv.FormatInt(*n, 10)
	}
	return count(b.Records) + "/" + count(b.Photos) + "/" + count(b.Bytes)
}

func lagOf(d wire.DeviceHealth) string {
	if d.CursorLag == nil {
		return "unknown"
	}
	return strconv.FormatInt(*d.CursorLag, 10)
}

// TestSyncsRecordTheirDeviceHealth follows one phone through a push, its
// replays, a paged first pull, a later pull that stops behind the feed,
// and a snapshot, reading what the supervisor sees after each.
func TestSyncsRecordTheirDeviceHealth(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		now := e.stopClock()
		tok, sup := e.login(t, "cadre-a"), e.login(t, "supervisor-a")
		seen := func() wire.DeviceHealth {
			t.Helper()
			return deviceOf(t, e.devices(t, sup, ""), e.cadreA.ID, "test-phone")
		}

		d := seen()
		if d.LastSyncAt != nil || d.LastPushAt != nil || d.LastPullAt != nil || d.Backlog != nil || d.AppVersion != nil || d.ClockOffsetMS != nil || d.CursorLag != nil {
			t.Fatalf("a phone that only logged in has no sync health yet: %+v", d)
		}
		if d.User.Username != "cadre-a" || d.User.Role != domain.RoleCadre || d.Region.ID != e.villageA.ID || d.Region.Name != e.villageA.Name {
			t.Fatalf("the device names its user and region: %+v %+v", d.User, d.Region)
		}

		// A push 90 s behind the server's clock, with a week's backlog.
		report := map[string]string{"X-Outbox-Records": "3", "X-Outbox-Photos": "2", "X-Outbox-Bytes": "612345", "X-App-Version": "2.4.1 (412)",
			"X-Device-Time": now.Add(-90 * time.Second).Format(time.RFC3339Nano)}
		body := batch("test-phone", now.Add(-time.Hour), visitChange(uuid.New(), e.householdA.Household.ID, "设备状况", 34.7))
		if r := e.pushReporting(t, tok, "health-1", body, report); r.Status != http.StatusOK {
			t.Fatalf("push: %d %s", r.Status, r.Body)
		}
		d = seen()
		if d.LastPushAt == nil || !d.LastPushAt.Equal(now) || d.LastSyncAt == nil || !d.LastSyncAt.Equal(now) || !d.LastSeen.Equal(now) {
			t.Fatalf("push not recorded at %s: push %v sync %v seen %v", now, d.LastPushAt, d.LastSyncAt, d.LastSeen)
		}
		if d.ClockOffsetMS == nil || *d.ClockOffsetMS != 90_000 {
			t.Fatalf("clock offset: want 90000 ms (server − X-Device-Time), got %v", d.ClockOffsetMS)
		}
		if backlogOf(d) != "3/2/612345" || !d.Backlog.ReportedAt.Equal(now) || d.AppVersion == nil || *d.AppVersion != "2.4.1 (412)" {
			t.Fatalf("backlog %s at %v, version %v", backlogOf(d), d.Backlog, d.AppVersion)
		}
		if d.LastPullAt != nil || d.CursorLag != nil {
			t.Fatalf("a push says nothing of pulls: %+v", d)
		}

		// A replay is an acknowledged push: it counts, and measures the
		// clock by this attempt's X-Device-Time only (the body's
		// device_time is the first attempt's).
		report["X-Device-Time"] = now.Add(-30 * time.Second).Format(time.RFC3339Nano)
		if r := e.pushReporting(t, tok, "health-1", body, report); r.Status != http.StatusOK {
			t.Fatalf("replay: %d %s", r.Status, r.Body)
		}
		if d = seen(); d.ClockOffsetMS == nil || *d.ClockOffsetMS != 30_000 {
			t.Fatalf("replay with X-Device-Time: offset %v, want 30000", d.ClockOffsetMS)
		}
		delete(report, "X-Device-Time")
		if r := e.pushReporting(t, tok, "health-1", body, report); r.Status != http.StatusOK {
			t.Fatalf("replay: %d %s", r.Status, r.Body)
		}
		if d = seen(); d.ClockOffsetMS == nil || *d.ClockOffsetMS != 30_000 {
			t.Fatalf("a replay without X-Device-Time keeps the offset measured before: %v", d.ClockOffsetMS)
		}

		// Without X-Device-Time, a new batch's device_time is the phone's clock.
		body = batch("test-phone", now.Add(5*time.Second), visitChange(uuid.New(), e.householdA.Household.ID, "设备状况二", 34.7))
		if r := e.pushReporting(t, tok, "health-2", body, nil); r.Status != http.StatusOK {
			t.Fatalf("push: %d %s", r.Status, r.Body)
		}
		if d = seen(); d.ClockOffsetMS == nil || *d.ClockOffsetMS != -5_000 {
			t.Fatalf("offset from device_time: want -5000 (the phone is fast), got %v", d.ClockOffsetMS)
		}
		if backlogOf(d) != "3/2/612345" || *d.AppVersion != "2.4.1 (412)" {
			t.Fatalf("a sync without the headers leaves the reported backlog and version as they were: %s %v", backlogOf(d), *d.AppVersion)
		}

		// A first pull, one record a page: inside the snapshot walk the
		// lag is not known; the last page is caught up.
		later := now.Add(time.Minute)
		e.app.Now = func() time.Time { return later }
		empty := map[string]string{"X-Outbox-Records": "0", "X-Outbox-Photos": "0", "X-Outbox-Bytes": "0"}
		page := e.pullReporting(t, tok, "/api/v1/sync/pull?limit=1", empty)
		if !page.HasMore {
			t.Fatal("the cadre's scope holds more than one record")
		}
		d = seen()
		if d.LastPullAt == nil || !d.LastPullAt.Equal(later) || !d.LastSyncAt.Equal(later) || !d.LastPushAt.Equal(now) {
			t.Fatalf("pull at %s: pull %v sync %v push %v", later, d.LastPullAt, d.LastSyncAt, d.LastPushAt)
		}
		if lagOf(d) != "unknown" || backlogOf(d) != "0/0/0" {
			t.Fatalf("mid-snapshot page: lag %s, backlog %s", lagOf(d), backlogOf(d))
		}
		if d.ClockOffsetMS == nil || *d.ClockOffsetMS != -5_000 {
			t.Fatalf("a pull does not measure the clock: %v", d.ClockOffsetMS)
		}
		for page.HasMore {
			page = e.pullReporting(t, tok, "/api/v1/sync/pull?limit=1&cursor="+page.Cursor, empty)
		}
		if d = seen(); lagOf(d) != "0" {
			t.Fatalf("a pull that ends caught up: lag %s, want 0", lagOf(d))
		}

		// Three new visits (from another phone of the cadre's), and a pull
		// of one of them: the cursor stops two feed positions short.
		var changes []map[string]any
		for i := range 3 {
			changes = append(changes, visitChange(uuid.New(), e.householdA.Household.ID, fmt.Sprint("第", i), 34.7))
		}
		other := e.loginDevice(t, "cadre-a", "second-phone")
		if r := e.pushReporting(t, other, "health-3", batch("second-phone", later, changes...), nil); r.Status != http.StatusOK {
			t.Fatalf("push: %d %s", r.Status, r.Body)
		}
		page = e.pullReporting(t, tok, "/api/v1/sync/pull?limit=1&cursor="+page.Cursor, empty)
		if !page.HasMore {
			t.Fatal("three changes waited; a page of one must have more")
		}
		if d = seen(); lagOf(d) != "2" {
			t.Fatalf("cursor lag: want 2 feed positions behind, got %s", lagOf(d))
		}

		// A snapshot is a pull: caught up when the feed after it fits.
		e.pullReporting(t, tok, "/api/v1/sync/snapshot", map[string]string{"X-Outbox-Records": "1", "X-Outbox-Photos": "0", "X-Outbox-Bytes": "700"})
		if d = seen(); lagOf(d) != "0" || backlogOf(d) != "1/0/700" {
			t.Fatalf("after a snapshot: lag %s backlog %s", lagOf(d), backlogOf(d))
		}
		if second := deviceOf(t, e.devices(t, sup, ""), e.cadreA.ID, "second-phone"); second.LastPushAt == nil || second.LastPullAt != nil {
			t.Fatalf("each phone keeps its own health: %+v", second)
		}

		// A refused push is no sync: nothing is recorded.
		e.app.Now = func() time.Time { return later.Add(time.Minute) }
		if r := e.pushReporting(t, tok, "health-bad", "not a batch", map[string]string{"X-Outbox-Records": "9"}); r.Status == http.StatusOK {
			t.Fatalf("a malformed batch must be refused: %s", r.Body)
		}
		if d = seen(); !d.LastPushAt.Equal(now) || backlogOf(d) != "1/0/700" {
			t.Fatalf("a refused push changed the device's health: push %v backlog %s", d.LastPushAt, backlogOf(d))
		}
	})
}

// loginDevice logs username in from the phone device.
func (e *testEnv) loginDevice(t *testing.T, username, device string) string {
	t.Helper()
	r := e.do(t, "POST", "/api/v1/auth/login", "", map[string]string{"username": username, "password": testPassword, "device_id": device})
	if r.Status != http.StatusOK {
		t.Fatalf("login %s on %s: %d %s", username, device, r.Status, r.Body)
	}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	r.json(t, &out)
	return out.AccessToken
}

// TestDeviceReportHeadersNeverFailASync: whatever a phone puts in the
// device-report headers, its push and pull are answered as without them.
// Each malformed value is left out of the record (a backlog count as
// unknown, the app version as it was); the well-formed ones are kept.
func TestDeviceReportHeadersNeverFailASync(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		tok, sup := e.login(t, "cadre-a"), e.login(t, "supervisor-a")
		baseline := map[string]string{"X-Outbox-Records": "1", "X-Outbox-Photos": "1", "X-Outbox-Bytes": "1", "X-App-Version": "base-1"}
		long := strings.Repeat("9", 64)
		cases := []struct {
			name        string
			report      map[string]string
			wantBacklog string
			wantVersion string
		}{
			{"negative count", map[string]string{"X-Outbox-Records": "-1", "X-Outbox-Photos": "2", "X-Outbox-Bytes": "3"}, "?/2/3", "base-1"},
			{"count in words", map[string]string{"X-Outbox-Records": "4", "X-Outbox-Photos": "two", "X-Outbox-Bytes": "3"}, "4/?/3", "base-1"},
			{"count past int64", map[string]string{"X-Outbox-Records": "4", "X-Outbox-Photos": "2", "X-Outbox-Bytes": "99999999999999999999"}, "4/2/?", "base-1"},
			{"signed count, nothing else", map[string]string{"X-Outbox-Records": "+5"}, "1/1/1", "base-1"}, // no count well-formed: no report
			{"two values in one", map[string]string{"X-Outbox-Records": "3, 4", "X-Outbox-Photos": "0"}, "?/0/?", "base-1"},
			{"spaces are trimmed", map[string]string{"X-Outbox-Records": " 7 ", "X-Outbox-Photos": "0", "X-Outbox-Bytes": "70"}, "7/0/70", "base-1"},
			{"only records reported", map[string]string{"X-Outbox-Records": "5"}, "5/?/?", "base-1"},
			{"nothing reported", map[string]string{}, "1/1/1", "base-1"},
			{"version of 65 characters", map[string]string{"X-App-Version": long + "9"}, "1/1/1", "base-1"},
			{"version of 64 characters", map[string]string{"X-App-Version": long}, "1/1/1", long},
			{"version not ASCII", map[string]string{"X-App-Version": "版本2.0"}, "1/1/1", "base-1"},
			{"version with a control character", map[string]string{"X-App-Version": "2.0\x7f"}, "1/1/1", "base-1"},
			{"SQL in a version is a version", map[string]string{"X-App-Version": "1'; DROP TABLE devices;--"}, "1/1/1", "1'; DROP TABLE devices;--"},
		}
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				for step, report := range []map[string]string{baseline, c.report} {
					key := fmt.Sprintf("headers-%d-%d", i, step)
					if r := e.pushReporting(t, tok, key, batch("test-phone", time.Now()), report); r.Status != http.StatusOK {
						t.Fatalf("push with %v: %d %s", report, r.Status, r.Body)
					}
					if step == 1 {
						break // the pull would report the same again
					}
					e.pullReporting(t, tok, "/api/v1/sync/pull", report)
				}
				d := deviceOf(t, e.devices(t, sup, ""), e.cadreA.ID, "test-phone")
				if got := backlogOf(d); got != c.wantBacklog {
					t.Errorf("backlog %s, want %s", got, c.wantBacklog)
				}
				if d.AppVersion == nil || *d.AppVersion != c.wantVersion {
					t.Errorf("app version %v, want %q", d.AppVersion, c.wantVersion)
				}
				e.pullReporting(t, tok, "/api/v1/sync/pull", c.report)
			})
		}
	})
}

// TestDevicesListingIsScoped: supervisors and admins see the phones of the
// users of their subtree (narrowed by region_id), a cadre their own,
// an inspector nothing; every bad parameter is a 422 that names it.
func TestDevicesListingIsScoped(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		otherTown := e.addRegion(t, e.county, domain.LevelTown, "410122101000", "二郎镇")
		e.addUser(t, "supervisor-t2", domain.RoleSupervisor, otherTown, nil, "")
		tokens := map[string]string{}
		for _, u := range []string{"admin", "supervisor-a", "supervisor-b", "supervisor-t2", "cadre-a", "cadre-b", "inspector"} {
			tokens[u] = e.login(t, u)
		}
		everyone := []string{"admin", "cadre-a", "cadre-b", "inspector", "supervisor-a", "supervisor-b", "supervisor-t2"}
		cases := []struct {
			who, query string
			want       []string // owners of the devices listed
			status     int      // when not 200
			field      string   // the parameter a 422 names
		}{
			{who: "admin", want: everyone},
			{who: "admin", query: "region_id=" + e.villageB.ID.String(), want: []string{"cadre-b", "supervisor-b"}},
			{who: "admin", query: "region_id=" + e.town.ID.String(), want: []string{"cadre-a", "cadre-b", "inspector", "supervisor-a", "supervisor-b"}},
			{who: "supervisor-a", want: []string{"cadre-a", "supervisor-a"}},
			{who: "supervisor-a", query: "region_id=" + e.villageB.ID.String(), status: 404},
			{who: "supervisor-t2", want: []string{"supervisor-t2"}},
			{who: "supervisor-t2", query: "region_id=" + e.town.ID.String(), status: 404},
			{who: "cadre-a", want: []string{"cadre-a"}},
			{who: "cadre-a", query: "region_id=" + e.villageA.ID.String(), want: []string{"cadre-a"}},
			{who: "cadre-a", query: "region_id=" + e.villageB.ID.String(), status: 404},
			{who: "inspector", status: 403},
			{who: "admin", query: "region_id=east-village", status: 422, field: "region_id"},
			{who: "admin", query: "region_id=" + uuid.NewString(), status: 404},
			{who: "admin", query: "stale_days=0", status: 422, field: "stale_days"},
			{who: "admin", query: "stale_days=-3", status: 422, field: "stale_days"},
			{who: "admin", query: "stale_days=3651", status: 422, field: "stale_days"},
			{who: "admin", query: "stale_days=seven", status: 422, field: "stale_days"},
			{who: "admin", query: "stale_days=1.5", status: 422, field: "stale_days"},
			{who: "admin", query: "limit=0", status: 422, field: "limit"},
		}
		for _, c := range cases {
			t.Run(c.who+"?"+c.query, func(t *testing.T) {
				if c.status == 0 {
					if got := owners(e.devices(t, tokens[c.who], c.query)); !slices.Equal(got, c.want) {
						t.Fatalf("devices of %v, want %v", got, c.want)
					}
					return
				}
				r := e.do(t, "GET", "/api/v1/devices?"+c.query, tokens[c.who], nil)
				if r.Status != c.status {
					t.Fatalf("want %d, got %d %s", c.status, r.Status, r.Body)
				}
				if p := r.problem(t); c.field != "" && !p.hasField(c.field) {
					t.Fatalf("the problem must name %s: %s", c.field, r.Body)
				}
			})
		}
	})
}

// TestStaleDevices: stale_days=N keeps the phones in use whose last sync
// — or, never synced, whose first login — is N days ago or more. A web
// console session is no phone, unless it syncs.
func TestStaleDevices(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		start := e.stopClock()
		at := func(days int) {
			moved := start.Add(time.Duration(days) * 24 * time.Hour)
			e.app.Now = func() time.Time { return moved }
		}
		never := e.addUser(t, "cadre-never", domain.RoleCadre, e.villageA, &e.unitA, domain.RankStaff)
		retired := e.addUser(t, "cadre-retired", domain.RoleCadre, e.villageB, &e.unitA, domain.RankStaff)
		// Day 0: cadre A's phone syncs; two others only log in, and a
		// supervisor signs in to the console.
		e.pullReporting(t, e.login(t, "cadre-a"), "/api/v1/sync/pull", nil)
		e.login(t, "cadre-never")
		e.login(t, "cadre-retired")
		e.loginDevice(t, "supervisor-a", domain.BrowserDevicePrefix+"5f3a9c21")
		// Day 5: cadre B's phone syncs, and so does a browser of theirs
		// (an offline web app, say).
		at(5)
		e.pullReporting(t, e.login(t, "cadre-b"), "/api/v1/sync/pull", nil)
		e.pullReporting(t, e.loginDevice(t, "cadre-b", domain.BrowserDevicePrefix+"app"), "/api/v1/sync/pull", nil)
		// Day 8: the admin retires one phone and looks.
		at(8)
		admin := e.login(t, "admin")
		retiredPhone := deviceOf(t, e.devices(t, admin, ""), retired.ID, "test-phone")
		if r := e.do(t, "POST", "/api/v1/users/"+retired.ID.String()+"/devices/"+retiredPhone.ID.String()+"/revoke", admin, nil); r.Status != http.StatusOK {
			t.Fatalf("revoke: %d %s", r.Status, r.Body)
		}
		for _, c := range []struct {
			days int
			want []string
		}{
			{1, []string{"cadre-a", "cadre-b", "cadre-b", "cadre-never"}},
			{3, []string{"cadre-a", "cadre-b", "cadre-b", "cadre-never"}}, // cadre B synced exactly 3 days ago
			{4, []string{"cadre-a", "cadre-never"}},
			{8, []string{"cadre-a", "cadre-never"}},
			{9, nil},
		} {
			items := e.devices(t, admin, "stale_days="+strconv.Itoa(c.days))
			if got := owners(items); !slices.Equal(got, c.want) {
				t.Errorf("stale_days=%d: devices of %v, want %v", c.days, got, c.want)
			}
			for i := 1; i < len(items); i++ {
				if items[i].LastSyncAt != nil && items[i-1].LastSyncAt != nil && items[i].LastSyncAt.Before(*items[i-1].LastSyncAt) {
					t.Errorf("stale_days=%d: not the most stale first: %v", c.days, owners(items))
				}
			}
		}
		if d := deviceOf(t, e.devices(t, admin, "stale_days=8"), never.ID, "test-phone"); d.LastSyncAt != nil {
			t.Fatalf("a phone that never synced is listed as such: %+v", d)
		}
		if got := owners(e.devices(t, admin, "region_id="+e.villageA.ID.String())); !slices.Equal(got, []string{"cadre-a", "cadre-never"}) {
			t.Fatalf("the supervisor's console session is no phone: %v", got)
		}
		if got := owners(e.devices(t, admin, "stale_days=1&region_id="+e.villageB.ID.String())); !slices.Equal(got, []string{"cadre-b", "cadre-b"}) {
			t.Fatalf("stale and region together: %v", got)
		}
	})
}

// headerTap records the device-report headers of each sync request a
// client sends.
type headerTap struct {
	t    testing.TB
	mu   sync.Mutex
	sent []sentSync
}

type sentSync struct {
	path   string
	report wire.DeviceReport
	body   int
}

func (h *headerTap) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasPrefix(r.URL.Path, "/api/v1/sync/") {
		report, problems := wire.ReadDeviceReport(r.Header)
		if problems != nil {
			return nil, fmt.Errorf("the client sent malformed device-report headers: %v", problems)
		}
		// The backlog counts a body as the phone made it: decoded, when it
		// travels gzipped.
		size := int(r.ContentLength)
		if r.Body != nil && r.Header.Get("Content-Encoding") == "gzip" {
			raw, err := io.ReadAll(r.Body)
			if err != nil {
				return nil, err
			}
			size = len(gunzip(h.t, raw))
			r.Body = io.NopCloser(bytes.NewReader(raw))
		}
		h.mu.Lock()
		h.sent = append(h.sent, sentSync{path: r.URL.Path, report: report, body: size})
		h.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(r)
}

func (h *headerTap) last(path string) sentSync {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := len(h.sent) - 1; i >= 0; i-- {
		if h.sent[i].path == path {
			return h.sent[i]
		}
	}
	return sentSync{}
}

// TestClientReportsItsBacklog: the Go SDK sends its outbox backlog —
// records, photos and the bytes of both — and app version on every push,
// pull and snapshot, and the real server keeps what the last one said.
func TestClientReportsItsBacklog(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		srv := httptest.NewServer(e.app.Handler)
		t.Cleanup(srv.Close)
		tap := &headerTap{t: t}
		c, err := client.New(client.Config{BaseURL: srv.URL, DeviceID: "sdk-phone", Dir: t.TempDir(), AppVersion: "fieldvisit-go/1.0",
			HTTPClient: &http.Client{Transport: tap}, Backoff: client.Backoff{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		ctx := t.Context()
		if _, err := c.Login(ctx, "cadre-a", testPassword); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Pull(ctx); err != nil {
			t.Fatal(err)
		}
		if got := tap.last("/api/v1/sync/snapshot").report; !reports(got, 0, 0, 0) || got.AppVersion != "fieldvisit-go/1.0" {
			t.Fatalf("a fresh phone's snapshot reports an empty outbox and the version: %s", describeReport(got))
		}
		photo := testJPEG(t, 17, time.Now().Add(-time.Hour), nil)
		withPhoto := sdkVisit(e.householdA.Household, "入户走访一")
		withPhoto.PhotoFiles = []client.PhotoFile{{Content: bytes.NewReader(photo)}}
		for _, v := range []client.NewVisit{withPhoto, sdkVisit(e.householdA.Household, "入户走访二")} {
			if _, err := c.RecordVisit(v); err != nil {
				t.Fatal(err)
			}
		}
		if b := c.Backlog(); b != (client.Backlog{Records: 2, Photos: 1, PhotoBytes: int64(len(photo))}) {
			t.Fatalf("two visits and a photo waiting: backlog %+v", b)
		}
		if _, err := c.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		// Records go first, then the pull, then the photo.
		push := tap.last("/api/v1/sync/push")
		if !reports(push.report, 2, 1, int64(push.body+len(photo))) {
			t.Fatalf("the push reports its two changes and the photo, in bytes its own body (%d) and the photo (%d): %s",
				push.body, len(photo), describeReport(push.report))
		}
		if got := tap.last("/api/v1/sync/pull").report; !reports(got, 0, 1, int64(len(photo))) {
			t.Fatalf("the pull after it reports the photo still waiting: %s", describeReport(got))
		}
		if b := c.Backlog(); b != (client.Backlog{}) {
			t.Fatalf("after the sync nothing waits: %+v", b)
		}
		sup := e.login(t, "supervisor-a")
		if d := deviceOf(t, e.devices(t, sup, ""), e.cadreA.ID, "sdk-phone"); backlogOf(d) != fmt.Sprintf("0/1/%d", len(photo)) {
			t.Fatalf("the server keeps what the last sync request said: %s", backlogOf(d))
		}
		if _, err := c.Pull(ctx); err != nil {
			t.Fatal(err)
		}
		d := deviceOf(t, e.devices(t, sup, ""), e.cadreA.ID, "sdk-phone")
		if backlogOf(d) != "0/0/0" || d.AppVersion == nil || *d.AppVersion != "fieldvisit-go/1.0" || lagOf(d) != "0" {
			t.Fatalf("the next sync reports the photo sent: backlog %s version %v lag %s", backlogOf(d), d.AppVersion, lagOf(d))
		}
		if d.LastPushAt == nil || d.LastPullAt == nil || d.ClockOffsetMS == nil || *d.ClockOffsetMS < -5000 || *d.ClockOffsetMS > 5000 {
			t.Fatalf("push, pull and a clock in step: %+v", d)
		}
	})
}

// reports says whether r reports this backlog, every count known.
func reports(r wire.DeviceReport, records, photos, bytes int64) bool {
	return r.OutboxRecords != nil && r.OutboxPhotos != nil && r.OutboxBytes != nil &&
		*r.OutboxRecords == records && *r.OutboxPhotos == photos && *r.OutboxBytes == bytes
}

func describeReport(r wire.DeviceReport) string {
	h := http.Header{}
	r.SetHeaders(h)
	return fmt.Sprint(h)
}
