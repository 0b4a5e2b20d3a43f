package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/wire"
)

// fakeClock is a phone clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type harness struct {
	t      *testing.T
	fs     *fakeServer
	dir    string
	clock  *fakeClock
	rt     *dropAfter
	sleeps []time.Duration
	logs   []string
	mu     sync.Mutex
}

func newHarness(t *testing.T) *harness {
	cst := time.FixedZone("CST", 8*3600)
	h := &harness{t: t, fs: newFakeServer(t), dir: t.TempDir(), clock: &fakeClock{t: time.Date(2024, 5, 6, 9, 30, 0, 0, cst)}}
	h.rt = &dropAfter{base: http.DefaultTransport}
	return h
}

func (h *harness) open() *Client {
	h.t.Helper()
	c, err := New(h.config())
	if err != nil {
		h.t.Fatalf("New: %v", err)
	}
	h.t.Cleanup(func() { c.Close() })
	return c
}

func (h *harness) config() Config {
	return Config{BaseURL: h.fs.srv.URL, DeviceID: "phone-1", Dir: h.dir, Now: h.clock.Now, HTTPClient: &http.Client{Transport: h.rt},
		Backoff: Backoff{Min: time.Second, Max: 30 * time.Second, Attempts: 5}, Seed: 1,
		Sleep: func(ctx context.Context, d time.Duration) error {
			h.mu.Lock()
			h.sleeps = append(h.sleeps, d)
			h.mu.Unlock()
			return ctx.Err()
		},
		Logf: func(f string, a ...any) {
			h.mu.Lock()
			h.logs = append(h.logs, fmt.Sprintf(f, a...))
			h.mu.Unlock()
		}}
}

// ready logs in and pulls one household.
func (h *harness) ready() (*Client, uuid.UUID) {
	h.t.Helper()
	hid := h.fs.addHousehold(map[string]any{"phone": "13800000000", "annual_income": 8000.0, "causes": []string{"illness"}})
	c := h.open()
	ctx := context.Background()
	if _, err := c.Login(ctx, "cadre01", "pw"); err != nil {
		h.t.Fatal(err)
	}
	if _, err := c.Pull(ctx); err != nil {
		h.t.Fatal(err)
	}
	return c, hid
}

func (h *harness) visit(hid uuid.UUID, notes string) NewVisit {
	yes := true
	now := h.clock.Now()
	return NewVisit{HouseholdID: hid, Kind: domain.KindAssist, StartedAt: now.Add(-time.Hour), Notes: notes,
		Checklist:          map[string]domain.ChecklistEntry{"food": {Answer: "met"}, "housing": {Answer: "problem", Note: "屋顶漏雨"}},
		Measures:           []string{"medical"},
		MetWith:            []string{"张三"},
		HouseholdConfirmed: &yes,
		GPS:                []domain.GPSStamp{{Lat: 32.1, Lon: 114.1, Accuracy: 12, Provider: "gps", DeviceTime: now.Add(-time.Hour)}}}
}

func TestRecordVisitIsDurableAcrossRestart(t *testing.T) {
	h := newHarness(t)
	c, hid := h.ready()
	id, err := c.RecordVisit(h.visit(hid, "入户走访，了解家庭收入情况。"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.EditHousehold(hid, map[string]any{"phone": "13900000001"}); err != nil {
		t.Fatal(err)
	}
	before := c.PendingChanges()
	c.Close() // as if killed: Close writes nothing

	c2 := h.open()
	if got := c2.Pending(); got != 2 {
		t.Fatalf("pending after restart = %d, want 2", got)
	}
	after := c2.PendingChanges()
	if a, b := string(mustJSON(before)), string(mustJSON(after)); a != b {
		t.Fatalf("outbox changed across restart:\n%s\n%s", a, b)
	}
	v, ok := c2.Visit(id)
	if !ok || v.Notes != "入户走访，了解家庭收入情况。" || v.HouseholdID != hid {
		t.Fatalf("local visit after restart: %+v %v", v, ok)
	}
	if hh, _ := c2.Household(hid); hh.Phone != "13900000001" {
		t.Fatalf("local household phone = %q", hh.Phone)
	}
	if _, ok := c2.User(); !ok || !c2.LoggedIn() {
		t.Fatal("session lost across restart")
	}
}

func TestCoalescing(t *testing.T) {
	h := newHarness(t)
	c, hid := h.ready()

	// create + edit while unsent: one create with the edit folded in.
	id, _ := c.RecordVisit(h.visit(hid, "初次记录"))
	if err := c.EditVisit(id, map[string]any{"notes": "修改后的记录"}); err != nil {
		t.Fatal(err)
	}
	pc := c.PendingChanges()
	if len(pc) != 1 || pc[0].Op != wire.OpCreate || string(pc[0].Data["notes"]) != `"修改后的记录"` {
		t.Fatalf("create+edit: %s", mustJSON(pc))
	}
	// create + delete while unsent: nothing at all.
	if err := c.DeleteVisit(id); err != nil {
		t.Fatal(err)
	}
	if n := c.Pending(); n != 0 {
		t.Fatalf("create+delete left %d changes", n)
	}
	if _, ok := c.Visit(id); ok {
		t.Fatal("deleted visit still shown")
	}

	// two edits of a pulled record: one update, base = before the first.
	if err := c.EditHousehold(hid, map[string]any{"phone": "13900000001"}); err != nil {
		t.Fatal(err)
	}
	if err := c.EditHousehold(hid, map[string]any{"phone": "13900000002", "annual_income": 9000.5}); err != nil {
		t.Fatal(err)
	}
	pc = c.PendingChanges()
	if len(pc) != 1 || pc[0].BaseVersion != 1 {
		t.Fatalf("edit+edit: %s", mustJSON(pc))
	}
	ch := pc[0]
	if string(ch.Data["phone"]) != `"13900000002"` || string(ch.Base["phone"]) != `"13800000000"` || string(ch.Base["annual_income"]) != `8000` {
		t.Fatalf("edit+edit data/base: %s / %s", mustJSON(ch.Data), mustJSON(ch.Base))
	}

	// Push, then a new edit is not folded into the sent batch.
	if _, err := c.Push(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.EditHousehold(hid, map[string]any{"phone": "13900000003"}); err != nil {
		t.Fatal(err)
	}
	pc = c.PendingChanges()
	if len(pc) != 1 || string(pc[0].Base["phone"]) != `"13900000002"` || pc[0].BaseVersion != 2 {
		t.Fatalf("edit after ack: %s", mustJSON(pc))
	}
}

func TestLocalChecks(t *testing.T) {
	h := newHarness(t)
	c, hid := h.ready()
	var ve *ValidationError
	if err := c.EditHousehold(hid, map[string]any{"status": "exited"}); !errors.As(err, &ve) || ve.Fields[0].Reason != "not_editable" {
		t.Fatalf("server-owned field: %v", err)
	}
	if err := c.EditHousehold(hid, map[string]any{"housing_safety_grade": "Z"}); !errors.As(err, &ve) {
		t.Fatalf("bad enum: %v", err)
	}
	v := h.visit(hid, "x")
	v.GPS[0].Accuracy = 0
	if _, err := c.RecordVisit(v); !errors.As(err, &ve) || ve.Fields[0].Field != "/gps/0/accuracy" {
		t.Fatalf("bad gps: %v", err)
	}
	if err := c.EditVisit(uuid.New(), map[string]any{"notes": "x"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown visit: %v", err)
	}
	if n := c.Pending(); n != 0 {
		t.Fatalf("invalid changes queued: %d", n)
	}
}

// A batch's key and exact body are saved before the first send, and every
// retry — in the same process or after a restart — sends them again.
func TestPushRetriesSameKeyAndBody(t *testing.T) {
	h := newHarness(t)
	c, hid := h.ready()
	id, _ := c.RecordVisit(h.visit(hid, "走访"))
	h.rt.path, h.rt.times = "/api/v1/sync/push", 2 // two answers lost after the server committed
	h.clock.Add(time.Minute)
	rep, err := c.Push(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(h.fs.pushes) != 3 {
		t.Fatalf("pushes sent = %d, want 3", len(h.fs.pushes))
	}
	for _, p := range h.fs.pushes[1:] {
		if p.key != h.fs.pushes[0].key || !bodiesEqual(p.body, h.fs.pushes[0].body) {
			t.Fatal("a retry changed the key or the body")
		}
	}
	if h.fs.applied != 1 {
		t.Fatalf("server applied %d changes, want 1", h.fs.applied)
	}
	if len(rep.Outcomes) != 1 || rep.Outcomes[0].Result.Status != wire.StatusApplied || rep.Outcomes[0].Result.ID != id {
		t.Fatalf("outcomes: %+v", rep.Outcomes)
	}
	// device_time is the phone's clock when the batch was formed.
	var req wire.PushRequest
	_ = json.Unmarshal(h.fs.pushes[0].body, &req)
	if !req.DeviceTime.Equal(h.clock.Now()) || req.DeviceID != "phone-1" {
		t.Fatalf("device_time %s, want %s", req.DeviceTime, h.clock.Now())
	}
	if len(h.sleeps) != 2 || h.sleeps[0] < 500*time.Millisecond || h.sleeps[0] > time.Second || h.sleeps[1] < time.Second || h.sleeps[1] > 2*time.Second {
		t.Fatalf("backoff waits %v", h.sleeps)
	}
	// Until pulled, the acknowledged visit stays on the phone.
	if _, ok := c.Visit(id); !ok || c.Pending() != 0 {
		t.Fatal("acknowledged visit vanished before the pull")
	}
	if _, err := c.Pull(context.Background()); err != nil {
		t.Fatal(err)
	}
	v, ok := c.Visit(id)
	if !ok || v.Version != 1 {
		t.Fatalf("after pull: %+v %v", v, ok)
	}
	c.mu.Lock()
	nAcked := len(c.st.Acked)
	c.mu.Unlock()
	if nAcked != 0 {
		t.Fatalf("%d acknowledged changes still overlaid after the pull", nAcked)
	}
}

func TestKilledMidPushResendsAfterRestart(t *testing.T) {
	h := newHarness(t)
	c, hid := h.ready()
	for i := range 3 {
		if _, err := c.RecordVisit(h.visit(hid, fmt.Sprintf("第%d次走访", i+1))); err != nil {
			t.Fatal(err)
		}
	}
	// The request reaches the server, the answer is lost, and the process
	// dies before it can retry (the context ends: nothing more is done).
	ctx, kill := context.WithCancel(context.Background())
	h.rt.path, h.rt.times = "/api/v1/sync/push", 1
	h.fs.fail = func(r *http.Request) (int, string, bool) {
		if r.URL.Path == "/api/v1/sync/push" {
			kill()
		}
		return 0, "", false
	}
	if _, err := c.Push(ctx); err == nil {
		t.Fatal("push survived its own death")
	}
	pushes := h.fs.waitPushes(t, 1)
	h.fs.mu.Lock()
	h.fs.fail = nil
	h.fs.mu.Unlock()
	key := c.InflightKey()
	if key == "" || len(pushes) != 1 || key != pushes[0].key {
		t.Fatalf("inflight key %q, sent %d", key, len(pushes))
	}
	c.Close()

	c2 := h.open()
	if c2.InflightKey() != key || c2.Pending() != 3 {
		t.Fatalf("after restart: key %q pending %d", c2.InflightKey(), c2.Pending())
	}
	h.clock.Add(3 * 24 * time.Hour) // days later, the same bytes
	rep, err := c2.Push(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Batches[0].Resumed || rep.Batches[0].Key != key {
		t.Fatalf("batch report %+v", rep.Batches)
	}
	pushes, applied := h.fs.sent()
	if len(pushes) != 2 || !bodiesEqual(pushes[0].body, pushes[1].body) || applied != 3 {
		t.Fatalf("pushes %d applied %d", len(pushes), applied)
	}
	// The body keeps the time the batch was formed; X-Device-Time says
	// the phone's clock at each attempt.
	if got, want := pushes[1].deviceTime, h.clock.Now().Format(time.RFC3339Nano); got != want || pushes[0].deviceTime == got {
		t.Fatalf("X-Device-Time %q then %q, want %q at the resend", pushes[0].deviceTime, got, want)
	}
	if c2.Pending() != 0 {
		t.Fatal("outbox not emptied")
	}
}

// An edit made while the visit's create is in flight gets its base version
// from the create's acknowledgement when its own batch is formed.
func TestBaseVersionFromAck(t *testing.T) {
	h := newHarness(t)
	c, hid := h.ready()
	id, _ := c.RecordVisit(h.visit(hid, "走访"))
	h.rt.path, h.rt.times = "/api/v1/sync/push", 1
	h.fs.fail = func(r *http.Request) (int, string, bool) { return 0, "", false }
	c.cfg.Backoff.Attempts = 1
	if _, err := c.Push(context.Background()); err == nil {
		t.Fatal("expected the lost answer to fail this push")
	}
	c.cfg.Backoff.Attempts = 5
	if err := c.EditVisit(id, map[string]any{"notes": "补充记录"}); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteVisit(uuid.New()); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	rep, err := c.Push(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Outcomes) != 2 || rep.Outcomes[1].Change.BaseVersion != 1 || rep.Outcomes[1].Result.Status != wire.StatusApplied {
		t.Fatalf("outcomes %s", mustJSON(rep.Outcomes))
	}
	if v, _ := c.Visit(id); v.Notes != "补充记录" {
		t.Fatalf("notes %q", v.Notes)
	}
}

func TestRetryAfterAndGivingUp(t *testing.T) {
	h := newHarness(t)
	c, hid := h.ready()
	_, _ = c.RecordVisit(h.visit(hid, "走访"))
	h.fs.fail = func(r *http.Request) (int, string, bool) {
		if r.URL.Path == "/api/v1/sync/push" {
			return http.StatusServiceUnavailable, "7", true
		}
		return 0, "", false
	}
	_, err := c.Push(context.Background())
	var gu *GaveUpError
	var pe *ProblemError
	if !errors.As(err, &gu) || gu.Attempts != 5 || !errors.As(err, &pe) || pe.Status != 503 {
		t.Fatalf("err = %v", err)
	}
	for _, d := range h.sleeps {
		if d < 7*time.Second {
			t.Fatalf("waited %s despite Retry-After: 7", d)
		}
	}
	key := c.InflightKey()
	h.fs.fail = nil
	if _, err := c.Push(context.Background()); err != nil || c.Pending() != 0 {
		t.Fatalf("after recovery: %v, pending %d", err, c.Pending())
	}
	for _, p := range h.fs.pushes {
		if p.key != key {
			t.Fatal("key changed across calls")
		}
	}
}

func TestRefusedBatchIsSetAside(t *testing.T) {
	h := newHarness(t)
	c, hid := h.ready()
	_, _ = c.RecordVisit(h.visit(hid, "走访"))
	h.fs.fail = func(r *http.Request) (int, string, bool) {
		if r.URL.Path == "/api/v1/sync/push" {
			return http.StatusBadRequest, "", true
		}
		return 0, "", false
	}
	_, err := c.Push(context.Background())
	var bre *BatchRefusedError
	if !errors.As(err, &bre) || bre.Changes != 1 {
		t.Fatalf("err = %v", err)
	}
	if c.Pending() != 0 || len(c.Failed()) != 1 {
		t.Fatalf("pending %d failed %d", c.Pending(), len(c.Failed()))
	}
	h.fs.fail = nil
	if n, _ := c.RequeueFailed(); n != 1 {
		t.Fatal("requeue")
	}
	if rep, err := c.Push(context.Background()); err != nil || rep.Count(wire.StatusApplied) != 1 {
		t.Fatalf("%v %+v", err, rep)
	}
}

func TestRefreshOnUnauthorized(t *testing.T) {
	h := newHarness(t)
	c, hid := h.ready()
	_, _ = c.RecordVisit(h.visit(hid, "走访"))
	// The access token is refused (expired); the first refresh attempt
	// fails in transit; the retry presents the same refresh token. (The
	// real server's grace window is exercised in client_test.go.)
	h.fs.mu.Lock()
	h.fs.access = "a-new"
	h.fs.mu.Unlock()
	h.rt.path, h.rt.times = "/api/v1/auth/refresh", 1
	lost := true
	h.fs.fail = func(r *http.Request) (int, string, bool) {
		if r.URL.Path == "/api/v1/auth/refresh" && lost {
			lost = false
			return http.StatusBadGateway, "", true
		}
		return 0, "", false
	}
	if _, err := c.Push(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	access, refresh := c.st.AccessToken, c.st.RefreshToken
	c.mu.Unlock()
	if access != h.fs.access || refresh != h.fs.refresh {
		t.Fatalf("tokens %s/%s, server %s/%s", access, refresh, h.fs.access, h.fs.refresh)
	}
	// A dead refresh token without credentials: log in again.
	h.fs.mu.Lock()
	h.fs.access, h.fs.refresh = "other", "other"
	h.fs.mu.Unlock()
	if _, err := c.Pull(context.Background()); !errors.Is(err, ErrLoginRequired) {
		t.Fatalf("err = %v", err)
	}
	// With credentials the client logs in by itself.
	c.cfg.Credentials = func(context.Context) (string, string, error) { return "cadre01", "pw", nil }
	if _, err := c.Pull(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestPullByVersionTombstonesAndCursor(t *testing.T) {
	h := newHarness(t)
	c, hid := h.ready()
	other := h.fs.addHousehold(map[string]any{"phone": "13700000000"})
	h.fs.mu.Lock()
	rec := h.fs.recs[hid]
	rec.version = 5
	rec.data["phone"] = mustJSON("13811111111")
	h.fs.publish(hid)
	stale := h.fs.log[len(h.fs.log)-1]
	stale.Version = 3 // an older copy later in the feed must not win
	stale.Data = mustJSON(map[string]any{"id": hid, "phone": "stale", "version": 3})
	h.fs.log = append(h.fs.log, stale)
	h.fs.mu.Unlock()
	c.cfg.PullLimit = 1
	rep, err := c.Pull(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Pages != 3 {
		t.Fatalf("pages %d", rep.Pages)
	}
	if hh, _ := c.Household(hid); hh.Phone != "13811111111" || hh.Version != 5 {
		t.Fatalf("household %+v", hh)
	}
	if _, ok := c.Household(other); !ok {
		t.Fatal("new household missing")
	}
	cur := c.Cursor()
	c.Close()
	c = h.open()
	if c.Cursor() != cur {
		t.Fatal("cursor not kept")
	}
	h.fs.mu.Lock()
	h.fs.recs[other].deleted = true
	h.fs.recs[other].version++
	h.fs.publish(other)
	h.fs.mu.Unlock()
	if _, err := c.Pull(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Household(other); ok {
		t.Fatal("tombstoned household kept")
	}
	if len(c.Households()) != 1 {
		t.Fatalf("households %d", len(c.Households()))
	}
}

func TestTornWriteFallsBackToLastCompleteSave(t *testing.T) {
	h := newHarness(t)
	c, hid := h.ready()
	if _, err := c.RecordVisit(h.visit(hid, "第一次")); err != nil {
		t.Fatal(err)
	}
	want := c.PendingChanges()
	if _, err := c.RecordVisit(h.visit(hid, "第二次")); err != nil {
		t.Fatal(err)
	}
	gen := c.disk.gen
	c.Close()

	// The last save was torn: half the slot made it to disk.
	newest := slotPath(h.dir, gen)
	raw, _ := os.ReadFile(newest)
	if err := os.WriteFile(newest, raw[:len(raw)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	c2 := h.open()
	if got := c2.PendingChanges(); string(mustJSON(got)) != string(mustJSON(want)) {
		t.Fatalf("recovered outbox %s, want %s", mustJSON(got), mustJSON(want))
	}
	if !strings.Contains(strings.Join(h.logs, "\n"), "damaged state slot") {
		t.Fatalf("recovery not logged: %q", h.logs)
	}
	// The next save goes on normally.
	if _, err := c2.RecordVisit(h.visit(hid, "第三次")); err != nil {
		t.Fatal(err)
	}
	c2.Close()
	c3 := h.open()
	if c3.Pending() != 2 {
		t.Fatalf("pending %d", c3.Pending())
	}
	c3.Close()

	// A flipped byte is caught by the checksum, too.
	gen = c3.disk.gen
	raw, _ = os.ReadFile(slotPath(h.dir, gen))
	raw[len(raw)-3] ^= 0x20
	_ = os.WriteFile(slotPath(h.dir, gen), raw, 0o600)
	c4 := h.open()
	if c4.Pending() != 1 {
		t.Fatalf("pending after bit flip %d", c4.Pending())
	}
	c4.Close()

	// Both slots damaged: refuse rather than start empty.
	for i := uint64(0); i < 2; i++ {
		_ = os.WriteFile(slotPath(h.dir, i), []byte("garbage"), 0o600)
	}
	if _, err := New(h.config()); !errors.Is(err, ErrCorruptState) {
		t.Fatalf("err = %v", err)
	}
}

func TestTornFirstSaveStartsFresh(t *testing.T) {
	dir := t.TempDir()
	_ = os.WriteFile(filepath.Join(dir, slotPrefix+"1"), []byte("fieldvisit-client-state 1 1 999 ab"), 0o600)
	c, err := New(Config{BaseURL: "http://127.0.0.1:1", Dir: dir, NoFsync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Pending() != 0 || c.DeviceID() == "" {
		t.Fatal("fresh state expected")
	}
}

func TestOneClientPerDir(t *testing.T) {
	dir := t.TempDir()
	c, err := New(Config{BaseURL: "http://127.0.0.1:1", Dir: dir, DeviceID: "d1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{BaseURL: "http://127.0.0.1:1", Dir: dir}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second client: %v", err)
	}
	c.Close()
	c2, err := New(Config{BaseURL: "http://127.0.0.1:1", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if c2.DeviceID() != "d1" {
		t.Fatalf("device id %q not kept", c2.DeviceID())
	}
	if _, err := New(Config{BaseURL: "http://127.0.0.1:1", Dir: t.TempDir(), DeviceID: "x"}); err != nil {
		t.Fatal(err)
	}
}

// A batch the server finds too large committed nothing: it is split, under
// new keys, until the parts fit; a single change too large is set aside.
func TestTooLargeBatchIsSplit(t *testing.T) {
	h := newHarness(t)
	c, hid := h.ready()
	for i := range 9 {
		if _, err := c.RecordVisit(h.visit(hid, strings.Repeat("走访记录", 40)+fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	h.fs.mu.Lock()
	h.fs.maxBody = 3000 // about two visits
	h.fs.mu.Unlock()
	rep, err := c.Push(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Count(wire.StatusApplied) != 9 || c.Pending() != 0 || h.fs.applied != 9 {
		t.Fatalf("applied %d, pending %d, server applied %d", rep.Count(wire.StatusApplied), c.Pending(), h.fs.applied)
	}
	keys := map[string]bool{}
	for _, p := range h.fs.pushes {
		keys[p.key] = true
	}
	if len(keys) < 4 {
		t.Fatalf("only %d keys used", len(keys))
	}
	// One change alone above the limit: refused, set aside.
	if _, err := c.RecordVisit(h.visit(hid, strings.Repeat("很长的记录", 300))); err != nil {
		t.Fatal(err)
	}
	_, err = c.Push(context.Background())
	var bre *BatchRefusedError
	if !errors.As(err, &bre) || bre.Err.Status != 413 || len(c.Failed()) != 1 || c.Pending() != 0 {
		t.Fatalf("err %v, failed %d, pending %d", err, len(c.Failed()), c.Pending())
	}
}

// A change the server failed on unexpectedly is answered rejected with
// internal_error inside a 200 (and a replay would repeat it): it goes again
// in a new batch, on the next Push, ahead of later changes.
func TestInternalErrorIsSentAgain(t *testing.T) {
	h := newHarness(t)
	c, hid := h.ready()
	a, _ := c.RecordVisit(h.visit(hid, "甲"))
	b, _ := c.RecordVisit(h.visit(hid, "乙"))
	h.fs.mu.Lock()
	h.fs.internalOnce = map[uuid.UUID]bool{a: true}
	h.fs.mu.Unlock()
	rep, err := c.Push(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Outcomes) != 2 || !rep.Outcomes[0].Requeued || rep.Outcomes[1].Result.Status != wire.StatusApplied || c.Pending() != 1 {
		t.Fatalf("outcomes %s, pending %d", mustJSON(rep.Outcomes), c.Pending())
	}
	if _, ok := c.Visit(a); !ok {
		t.Fatal("the failed visit vanished from the phone")
	}
	if err := c.EditVisit(a, map[string]any{"notes": "甲（补充）"}); err != nil {
		t.Fatal(err)
	}
	if err := c.EditVisit(b, map[string]any{"notes": "乙（补充）"}); err != nil {
		t.Fatal(err)
	}
	rep, err = c.Push(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Count(wire.StatusApplied) != 2 || c.Pending() != 0 {
		t.Fatalf("outcomes %s", mustJSON(rep.Outcomes))
	}
	if _, err := c.Pull(context.Background()); err != nil {
		t.Fatal(err)
	}
	if v, _ := c.Visit(a); v.Notes != "甲（补充）" || v.Version != 1 {
		t.Fatalf("visit a %+v", v)
	}
}

// TestInspectorPhoneKeepsTasks: an inspector's phone keeps the tasks the
// pull brings, across a restart, lists them, and drops one when its
// tombstone comes (the campaign ended).
func TestInspectorPhoneKeepsTasks(t *testing.T) {
	h := newHarness(t)
	c, hid := h.ready()
	task := wire.Task{ID: uuid.New(), CampaignID: uuid.New(), CampaignName: "城关镇第四季度督查", Mode: "announced",
		PeriodFrom: domain.Date{Year: 2024, Month: 5, Day: 1}, PeriodTo: domain.Date{Year: 2024, Month: 6, Day: 30},
		HouseholdID: hid, VillageID: uuid.New(), VillageName: "东风村", TownID: uuid.New(), Stratum: "poor"}
	h.fs.mu.Lock()
	h.fs.log = append(h.fs.log, wire.PulledChange{Entity: wire.EntityTask, Op: wire.OpUpsert, ID: task.ID, HouseholdID: &hid, Version: 1,
		Data: mustJSON(task)})
	h.fs.mu.Unlock()
	if _, err := c.Pull(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.Close()
	c = h.open()
	if got := c.Tasks(); len(got) != 1 || got[0] != task {
		t.Fatalf("tasks after a restart: %+v, want %+v", got, task)
	}
	h.fs.mu.Lock()
	h.fs.log = append(h.fs.log, wire.PulledChange{Entity: wire.EntityTask, Op: wire.OpDelete, ID: task.ID, HouseholdID: &hid, Version: 2})
	h.fs.mu.Unlock()
	if _, err := c.Pull(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := c.Tasks(); len(got) != 0 {
		t.Fatalf("tasks after the tombstone: %+v", got)
	}
}

// TestInspectorSendsFindingsWithTheVisit: findings recorded with an
// inspection visit go in its create; attached later, before the create is
// sent, they fold into it, and after it was acknowledged they go as an
// edit of the visit carrying nothing but them. Findings on a visit that
// is no inspection are refused on the phone.
func TestInspectorSendsFindingsWithTheVisit(t *testing.T) {
	h := newHarness(t)
	c, hid := h.ready()
	count := func(n int) *int { return &n }
	campaign := uuid.New()
	first := wire.VisitFindings{CampaignID: &campaign, Answers: map[string]wire.FindingAnswer{"visits_recalled": {Count: count(1)}}}
	second := wire.VisitFindings{Answers: map[string]wire.FindingAnswer{"visits_recalled": {Count: count(2)}}}

	v := h.visit(hid, "入户核查")
	v.Findings = &first
	var ve *ValidationError
	if _, err := c.RecordVisit(v); !errors.As(err, &ve) || ve.Fields[0].Field != "/findings" {
		t.Fatalf("findings on a help visit: %v", err)
	}
	v.Kind = domain.KindInspection
	withFindings, err := c.RecordVisit(v)
	if err != nil {
		t.Fatal(err)
	}
	v.Findings = nil
	later, err := c.RecordVisit(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AttachFindings(later, second); err != nil {
		t.Fatal(err)
	}
	sentFindings := func(ch wire.Change) wire.VisitFindings {
		t.Helper()
		var f wire.VisitFindings
		if err := json.Unmarshal(ch.Data["findings"], &f); err != nil {
			t.Fatalf("%s: %v", ch.Data["findings"], err)
		}
		return f
	}
	pc := c.PendingChanges()
	if len(pc) != 2 || pc[0].Op != wire.OpCreate || pc[1].Op != wire.OpCreate {
		t.Fatalf("pending: %s", mustJSON(pc))
	}
	if f := sentFindings(pc[0]); *f.CampaignID != campaign || *f.Answers["visits_recalled"].Count != 1 {
		t.Fatalf("recorded with the visit: %s", pc[0].Data["findings"])
	}
	if f := sentFindings(pc[1]); f.CampaignID != nil || *f.Answers["visits_recalled"].Count != 2 {
		t.Fatalf("attached before the create was sent: %s", pc[1].Data["findings"])
	}
	if _, err := c.Push(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.AttachFindings(withFindings, second); err != nil {
		t.Fatal(err)
	}
	pc = c.PendingChanges()
	if len(pc) != 1 || pc[0].Op != wire.OpUpdate || pc[0].ID != withFindings || pc[0].BaseVersion != 1 || len(pc[0].Data) != 1 ||
		*sentFindings(pc[0]).Answers["visits_recalled"].Count != 2 {
		t.Fatalf("attached after the ack: %s", mustJSON(pc))
	}
}
