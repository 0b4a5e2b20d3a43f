package client_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/client"
	"github.com/fieldvisit/fieldvisit/client/clienttest"
	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/demo"
	"github.com/fieldvisit/fieldvisit/wire"
)

// These tests run the client against the real server (`fieldvisit serve
// --demo`, see clienttest) on SQLite and on PostgreSQL. Each subtest uses
// its own demo cadre so they can share one server per dialect.

func dialects(t *testing.T, fn func(t *testing.T, srv *clienttest.Server)) {
	for _, d := range []string{"sqlite", "postgres"} {
		t.Run(d, func(t *testing.T) {
			fn(t, clienttest.Start(t, d))
		})
	}
}

func TestAgainstServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real server")
	}
	dialects(t, func(t *testing.T, srv *clienttest.Server) {
		t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, srv, "cadre01") })
		t.Run("DroppedResponse", func(t *testing.T) { testDroppedResponse(t, srv, "cadre02") })
		t.Run("KilledAndRestarted", func(t *testing.T) { testKilledAndRestarted(t, srv, "cadre03") })
		t.Run("TwoDevicesConverge", func(t *testing.T) { testTwoDevicesConverge(t, srv, "cadre04") })
		t.Run("RefreshGrace", func(t *testing.T) { testRefreshGrace(t, srv, "cadre05") })
		t.Run("RefreshAhead", func(t *testing.T) { testRefreshAhead(t, srv, "cadre05") })
		t.Run("ScopeChange", func(t *testing.T) { testScopeChange(t, srv, "cadre39", "cadre40") })
		t.Run("SnapshotEqualsPaging", func(t *testing.T) { testSnapshotEqualsPaging(t, srv, "cadre06") })
		t.Run("InspectorFindings", func(t *testing.T) { testInspectorFindings(t, srv) })
		t.Run("PlanItemsConverge", func(t *testing.T) { testPlanItemsConverge(t, srv, "cadre12") })
	})
}

// tap is a RoundTripper that lets tests lose answers after the server
// committed, or stop the "process" right after a request went out.
type tap struct {
	base http.RoundTripper
	mu   sync.Mutex
	// dropAfter: answers to lose for requests whose path has this prefix.
	dropPath  string
	dropTimes int
	// after is called once a request was answered; true loses the answer
	// (the process died before reading it).
	after func(r *http.Request) bool
	// unreachable: requests whose path has this prefix never reach the
	// server (no signal).
	unreachable string
	sent        []sentReq
}

type sentReq struct {
	path, key string
	body      []byte // as the client made it: decoded, when it went gzipped
	coding    string // its Content-Encoding
	status    int    // the server's answer (0: none)
}

func newTap() *tap { return &tap{base: http.DefaultTransport} }

func (t *tap) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	coding := r.Header.Get("Content-Encoding")
	if coding == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		if body, err = io.ReadAll(zr); err != nil {
			return nil, err
		}
	}
	t.mu.Lock()
	t.sent = append(t.sent, sentReq{path: r.URL.Path, key: r.Header.Get("Idempotency-Key"), body: body, coding: coding})
	i := len(t.sent) - 1
	if t.unreachable != "" && strings.HasPrefix(r.URL.Path, t.unreachable) {
		t.mu.Unlock()
		return nil, errors.New("tap: no signal")
	}
	drop := t.dropTimes > 0 && strings.HasPrefix(r.URL.Path, t.dropPath)
	if drop {
		t.dropTimes--
	}
	after := t.after
	t.mu.Unlock()
	res, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.sent[i].status = res.StatusCode
	t.mu.Unlock()
	if after != nil && after(r) {
		drop = true
	}
	if drop {
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return nil, errors.New("tap: connection lost after the server answered")
	}
	return res, nil
}

func (t *tap) pushes() []sentReq {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []sentReq
	for _, s := range t.sent {
		if s.path == "/api/v1/sync/push" {
			out = append(out, s)
		}
	}
	return out
}

func open(t *testing.T, srv *clienttest.Server, dir, device string, tp *tap) *client.Client {
	t.Helper()
	cfg := phoneConfig(t, srv.URL, dir, device)
	if tp != nil {
		cfg.HTTPClient = &http.Client{Transport: tp}
	}
	return openConfig(t, cfg)
}

// phoneConfig is how the tests configure a phone: quick retries, the
// client's log in the test's.
func phoneConfig(t *testing.T, url, dir, device string) client.Config {
	return client.Config{BaseURL: url, DeviceID: device, Dir: dir, Backoff: client.Backoff{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond},
		Logf: t.Logf}
}

func openConfig(t *testing.T, cfg client.Config) *client.Client {
	t.Helper()
	c, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// phone opens a logged-in, pulled client for a demo cadre.
func phone(t *testing.T, srv *clienttest.Server, user, device string, tp *tap) (*client.Client, string) {
	t.Helper()
	c, dir := phoneMaybeEmpty(t, srv, user, device, tp)
	if len(c.Households()) == 0 {
		t.Fatalf("%s has no households after the first pull", user)
	}
	return c, dir
}

func phoneMaybeEmpty(t *testing.T, srv *clienttest.Server, user, device string, tp *tap) (*client.Client, string) {
	t.Helper()
	dir := t.TempDir()
	c := open(t, srv, dir, device, tp)
	ctx := clienttest.Context(t)
	if _, err := c.Login(ctx, user, demo.Password); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Pull(ctx); err != nil {
		t.Fatal(err)
	}
	return c, dir
}

func newVisit(c *client.Client, h wire.Household, notes string) client.NewVisit {
	cst := time.FixedZone("CST", 8*3600)
	start := time.Now().In(cst).Add(-2 * time.Hour).Truncate(time.Second)
	end := start.Add(40 * time.Minute)
	lat, lon := 32.13, 114.07
	if h.Home != nil {
		lat, lon = h.Home.Lat+0.0002, h.Home.Lon-0.0001
	}
	yes := true
	return client.NewVisit{HouseholdID: h.ID, Kind: domain.KindAssist, StartedAt: start, EndedAt: &end, Notes: notes,
		Checklist: map[string]domain.ChecklistEntry{"food": {Answer: "met"}, "clothing": {Answer: "met"}, "education": {Answer: "not_applicable"},
			"medical": {Answer: "met"}, "housing": {Answer: "problem", Note: "东侧墙体有裂缝"}, "water": {Answer: "met"}},
		Measures: []string{"housing_renovation", "policy_briefing"}, MetWith: []string{h.HeadName}, HouseholdConfirmed: &yes,
		GPS: []domain.GPSStamp{{Lat: lat, Lon: lon, Accuracy: 8, Provider: "gps", DeviceTime: start.Add(5 * time.Minute)}}}
}

// serverVisits lists the cadre's visits (deleted ones too) as the resource
// API shows them to the cadre.
func serverVisits(t *testing.T, c *client.Client, hid uuid.UUID) []wire.Visit {
	t.Helper()
	var page wire.Page[wire.Visit]
	if err := c.GetJSON(clienttest.Context(t), "/api/v1/visits?include_deleted=true&limit=200&household_id="+hid.String(), &page); err != nil {
		t.Fatal(err)
	}
	// The demo county's own history (its phones are "android-…") is not
	// this test's.
	var mine []wire.Visit
	for _, v := range page.Items {
		if !strings.HasPrefix(v.DeviceID, "android-") {
			mine = append(mine, v)
		}
	}
	return mine
}

func testRoundTrip(t *testing.T, srv *clienttest.Server, user string) {
	ctx := clienttest.Context(t)
	c, _ := phone(t, srv, user, "rt-phone", nil)
	h := c.Households()[0]
	id, err := c.RecordVisit(newVisit(c, h, "入户走访，户主在家，了解今年务工收入情况。"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.EditHousehold(h.ID, map[string]any{"phone": "13912345678", "income_notes": "务工收入约两万元"}); err != nil {
		t.Fatal(err)
	}
	rep, err := c.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := rep.Push.Count(wire.StatusApplied); n != 2 {
		t.Fatalf("applied %d of 2: %+v", n, rep.Push.Outcomes)
	}
	if c.Pending() != 0 {
		t.Fatal("outbox not empty")
	}
	v, ok := c.Visit(id)
	if !ok || v.Version != 1 || v.ReceivedAt.IsZero() || v.CadreID == uuid.Nil {
		t.Fatalf("pulled visit %+v %v", v, ok)
	}
	hh, _ := c.Household(h.ID)
	if hh.Phone != "13912345678" || hh.Version != h.Version+1 {
		t.Fatalf("household after sync: phone %q version %d (was %d)", hh.Phone, hh.Version, h.Version)
	}
	// The resource API agrees with the phone's replica once the server's
	// evidence judgement (flags, a few seconds behind) has been pulled too.
	var sv wire.Visit
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		if err := c.GetJSON(ctx, "/api/v1/visits/"+id.String(), &sv); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Pull(ctx); err != nil {
			t.Fatal(err)
		}
		v, _ = c.Visit(id)
		if sameJSON(t, sv, v) || time.Now().After(deadline) {
			break
		}
	}
	if !sameJSON(t, sv, v) {
		t.Fatalf("server visit %s\nphone visit %s", mustJSON(sv), mustJSON(v))
	}
	// Edit and delete round trip too.
	if err := c.EditVisit(id, map[string]any{"notes": v.Notes + "补充：已宣讲小额信贷政策。"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if v, _ := c.Visit(id); v.Version != 2 || !strings.HasSuffix(v.Notes, "小额信贷政策。") {
		t.Fatalf("after edit: %+v", v)
	}
	if err := c.DeleteVisit(id); err != nil {
		t.Fatal(err)
	}
	rep, err = c.Sync(ctx)
	if err != nil || rep.Push.Count(wire.StatusApplied) != 1 {
		t.Fatalf("%v %+v", err, rep.Push.Outcomes)
	}
	if _, ok := c.Visit(id); ok {
		t.Fatal("deleted visit still on the phone")
	}
	vs := serverVisits(t, c, h.ID)
	if len(vs) != 1 || !vs[0].Deleted || vs[0].Version != 3 {
		t.Fatalf("server visits %s", mustJSON(vs))
	}
}

func testDroppedResponse(t *testing.T, srv *clienttest.Server, user string) {
	ctx := clienttest.Context(t)
	tp := newTap()
	c, _ := phone(t, srv, user, "drop-phone", tp)
	h := c.Households()[0]
	var ids []uuid.UUID
	for i := range 3 {
		id, err := c.RecordVisit(newVisit(c, h, fmt.Sprintf("第%d次走访记录", i+1)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	tp.mu.Lock()
	tp.dropPath, tp.dropTimes = "/api/v1/sync/push", 2
	tp.mu.Unlock()
	rep, err := c.Push(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sent := tp.pushes()
	if len(sent) != 3 {
		t.Fatalf("push sent %d times, want 3", len(sent))
	}
	for _, s := range sent[1:] {
		if s.key != sent[0].key || !bytes.Equal(s.body, sent[0].body) {
			t.Fatal("retry changed key or body")
		}
	}
	// The answer seen after the retries is the first one, replayed: every
	// visit "applied" at version 1, none created twice.
	if rep.Count(wire.StatusApplied) != 3 {
		t.Fatalf("outcomes %s", mustJSON(rep.Outcomes))
	}
	vs := serverVisits(t, c, h.ID)
	if len(vs) != 3 {
		t.Fatalf("server holds %d visits, want 3", len(vs))
	}
	// A replay of the same key and body returns the stored bytes; another
	// body under that key is refused with key_reused.
	first := replay(t, srv, c, user, sent[0].key, sent[0].body)
	again := replay(t, srv, c, user, sent[0].key, sent[0].body)
	if first.status != 200 || !bytes.Equal(first.body, again.body) {
		t.Fatalf("replay: %d %s / %s", first.status, first.body, again.body)
	}
	var stored wire.PushResponse
	_ = json.Unmarshal(first.body, &stored)
	if len(stored.Results) != 3 || stored.Results[0].Status != wire.StatusApplied {
		t.Fatalf("stored answer %s", first.body)
	}
	other := bytes.Replace(sent[0].body, []byte("第1次"), []byte("第9次"), 1)
	if r := replay(t, srv, c, user, sent[0].key, other); r.status != 422 || !strings.Contains(string(r.body), "key_reused") {
		t.Fatalf("other body under the same key: %d %s", r.status, r.body)
	}
	if len(serverVisits(t, c, h.ID)) != 3 {
		t.Fatal("replays created visits")
	}
	if _, err := c.Pull(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if v, ok := c.Visit(id); !ok || v.Version != 1 {
			t.Fatalf("visit %s on the phone: %+v", id, v)
		}
	}
}

type raw struct {
	status int
	body   []byte
}

// replay posts a body under a key with a fresh login of the same user.
func replay(t *testing.T, srv *clienttest.Server, _ *client.Client, user, key string, body []byte) raw {
	t.Helper()
	lb, _ := json.Marshal(map[string]string{"username": user, "password": demo.Password, "device_id": "replayer"})
	res, err := http.Post(srv.URL+"/api/v1/auth/login", "application/json", bytes.NewReader(lb))
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/sync/push", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Idempotency-Key", key)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return raw{res.StatusCode, b}
}

func testKilledAndRestarted(t *testing.T, srv *clienttest.Server, user string) {
	tp := newTap()
	c, dir := phone(t, srv, user, "kill-phone", tp)
	h := c.Households()[0]
	for i := range 4 {
		if _, err := c.RecordVisit(newVisit(c, h, fmt.Sprintf("走访%d：了解家庭成员健康状况", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.EditHousehold(h.ID, map[string]any{"annual_income": 23456.5}); err != nil {
		t.Fatal(err)
	}
	// The request reaches the server and commits; the process dies before
	// it reads the answer.
	ctx, kill := context.WithCancel(clienttest.Context(t))
	tp.mu.Lock()
	tp.after = func(r *http.Request) bool {
		if r.URL.Path == "/api/v1/sync/push" {
			kill()
			return true
		}
		return false
	}
	tp.mu.Unlock()
	if _, err := c.Push(ctx); err == nil {
		t.Fatal("push survived the kill")
	}
	key := c.InflightKey()
	c.Close()
	tp.mu.Lock()
	tp.after = nil
	tp.mu.Unlock()
	if len(serverVisits(t, c2ForRead(t, srv, user), h.ID)) != 4 {
		t.Fatal("the killed push did not commit (test precondition)")
	}

	c2 := open(t, srv, dir, "kill-phone", tp)
	if c2.InflightKey() != key || c2.Pending() != 5 {
		t.Fatalf("restarted: key %q (was %q), pending %d", c2.InflightKey(), key, c2.Pending())
	}
	rep, err := c2.Sync(clienttest.Context(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Push.Batches) != 1 || !rep.Push.Batches[0].Resumed || rep.Push.Batches[0].Key != key {
		t.Fatalf("batches %+v", rep.Push.Batches)
	}
	if rep.Push.Count(wire.StatusApplied) != 5 {
		t.Fatalf("outcomes %s", mustJSON(rep.Push.Outcomes))
	}
	sent := tp.pushes()
	if len(sent) != 2 || !bytes.Equal(sent[0].body, sent[1].body) || sent[1].key != key {
		t.Fatalf("pushes %d", len(sent))
	}
	if n := len(serverVisits(t, c2, h.ID)); n != 4 {
		t.Fatalf("server holds %d visits, want 4", n)
	}
	if hh, _ := c2.Household(h.ID); hh.Version != h.Version+1 || hh.AnnualIncome == nil || *hh.AnnualIncome != 23456.5 {
		t.Fatalf("household %+v", hh)
	}
}

// c2ForRead is a throwaway session of the same cadre for reading.
func c2ForRead(t *testing.T, srv *clienttest.Server, user string) *client.Client {
	c := open(t, srv, t.TempDir(), "reader-"+uuid.NewString()[:8], nil)
	if _, err := c.Login(clienttest.Context(t), user, demo.Password); err != nil {
		t.Fatal(err)
	}
	return c
}

func testTwoDevicesConverge(t *testing.T, srv *clienttest.Server, user string) {
	a, _ := phone(t, srv, user, "phone-a", nil)
	b, _ := phone(t, srv, user, "phone-b", nil)
	h := a.Households()[0]
	v1, _ := a.RecordVisit(newVisit(a, h, "甲手机记录的走访"))
	v2, _ := a.RecordVisit(newVisit(a, h, "将被删除的走访"))
	mustSync(t, a)
	mustSync(t, b)
	if _, ok := b.Visit(v1); !ok {
		t.Fatal("phone b does not see phone a's visit")
	}
	// Offline on both phones: non-overlapping household edits, an
	// overlapping visit edit, a delete on one phone of a visit the other
	// edits.
	must(t, a.EditHousehold(h.ID, map[string]any{"phone": "13500000001"}))
	must(t, b.EditHousehold(h.ID, map[string]any{"housing_safety_grade": "B", "income_notes": "养殖收入增加"}))
	must(t, a.EditVisit(v1, map[string]any{"notes": "甲：补充了收入情况"}))
	must(t, b.EditVisit(v1, map[string]any{"notes": "乙：补充了健康情况", "measures": []string{"medical"}}))
	must(t, b.EditVisit(v2, map[string]any{"notes": "乙修改了这条"}))
	must(t, a.DeleteVisit(v2))
	ra := mustSync(t, a)
	rb := mustSync(t, b)
	mustSync(t, a)
	if ra.Push.Count(wire.StatusApplied) != 3 {
		t.Fatalf("a: %s", mustJSON(ra.Push.Outcomes))
	}
	got := map[string]int{}
	for _, o := range rb.Push.Outcomes {
		got[o.Change.Entity+"/"+o.Result.Status]++
	}
	// b's household edit merges; its v1 edit overlaps a's (conflict, b wins
	// by server order, a's value kept for review); its v2 edit hits a
	// deleted visit (rejected).
	want := map[string]int{"household/merged": 1, "visit/conflict": 1, "visit/rejected": 1}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("b outcomes %v, want %v: %s", got, want, mustJSON(rb.Push.Outcomes))
	}
	hh, _ := a.Household(h.ID)
	if hh.Phone != "13500000001" || hh.HousingSafetyGrade != "B" || hh.IncomeNotes != "养殖收入增加" {
		t.Fatalf("merged household %+v", hh)
	}
	if v, _ := a.Visit(v1); v.Notes != "乙：补充了健康情况" {
		t.Fatalf("v1 notes %q", v.Notes)
	}
	if _, ok := a.Visit(v2); ok {
		t.Fatal("v2 not deleted on a")
	}
	// Both phones hold the same state, which is the server's: a fresh phone
	// pulling the full snapshot sees exactly it.
	fresh := settledFresh(t, srv, user, "phone-fresh", a, b)
	for _, c := range []*client.Client{a, b} {
		if !sameJSON(t, c.Households(), fresh.Households()) {
			t.Fatalf("%s households differ from a fresh pull", c.DeviceID())
		}
		if !sameJSON(t, c.Visits(), fresh.Visits()) {
			t.Fatalf("%s visits differ from a fresh pull: %s", c.DeviceID(), visitsDiff(c.Visits(), fresh.Visits()))
		}
		for _, hh := range c.Households() {
			if !sameJSON(t, c.Members(hh.ID), fresh.Members(hh.ID)) {
				t.Fatalf("%s members differ", c.DeviceID())
			}
		}
		if !sameJSON(t, c.Pairings(), fresh.Pairings()) {
			t.Fatalf("%s pairings differ", c.DeviceID())
		}
	}
}

func testRefreshGrace(t *testing.T, srv *clienttest.Server, user string) {
	ctx := clienttest.Context(t)
	tp := newTap()
	c, dir := phone(t, srv, user, "refresh-phone", tp)
	h := c.Households()[0]
	if _, err := c.RecordVisit(newVisit(c, h, "走访")); err != nil {
		t.Fatal(err)
	}
	c.Close()
	// Make the stored access token useless, as after it expired.
	c = open(t, srv, dir, "refresh-phone", tp)
	client.ExpireAccessTokenForTest(c)
	// The first refresh answer is lost after the server rotated the token:
	// the retry presents the old refresh token within the grace window.
	tp.mu.Lock()
	tp.dropPath, tp.dropTimes = "/api/v1/auth/refresh", 1
	tp.mu.Unlock()
	rep, err := c.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Push.Count(wire.StatusApplied) != 1 {
		t.Fatalf("%+v", rep.Push.Outcomes)
	}
	var refreshes int
	for _, s := range tp.sent {
		if s.path == "/api/v1/auth/refresh" {
			refreshes++
		}
	}
	if refreshes != 2 {
		t.Fatalf("refresh sent %d times, want 2", refreshes)
	}
	// The session is alive: the rotated token works for the next refresh.
	client.ExpireAccessTokenForTest(c)
	if _, err := c.Pull(ctx); err != nil {
		t.Fatalf("after grace: %v", err)
	}
}

// testRefreshAhead: an access token about to expire (by the phone's
// clock) is renewed before a request goes out, so no request — a photo's
// long PUT on 2G least of all — is refused for it; when the renewal cannot
// get through, the current token is still used.
func testRefreshAhead(t *testing.T, srv *clienttest.Server, user string) {
	ctx := clienttest.Context(t)
	var offset atomic.Int64
	tp := newTap()
	cfg := phoneConfig(t, srv.URL, t.TempDir(), "refresh-ahead-phone")
	cfg.HTTPClient = &http.Client{Transport: tp}
	cfg.Now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	c := openConfig(t, cfg)
	if _, err := c.Login(ctx, user, demo.Password); err != nil {
		t.Fatal(err)
	}
	mustPull := func() {
		t.Helper()
		if _, err := c.Pull(ctx); err != nil {
			t.Fatal(err)
		}
	}
	mustPull()
	// requests lists what went out since from: paths and answers.
	requests := func(from int) (paths []string, refused int) {
		tp.mu.Lock()
		defer tp.mu.Unlock()
		for _, s := range tp.sent[from:] {
			paths = append(paths, s.path)
			if s.status == http.StatusUnauthorized {
				refused++
			}
		}
		return paths, refused
	}
	sentSoFar := func() int { tp.mu.Lock(); defer tp.mu.Unlock(); return len(tp.sent) }

	for _, tt := range []struct {
		name        string
		at          time.Duration // the phone's clock after login; the token lives 15 minutes
		unreachable bool
		refreshes   int
	}{
		{"fresh token: no refresh", 5 * time.Minute, false, 0},
		{"within two minutes of expiry: refreshed first", 14 * time.Minute, false, 1},
		{"the renewed token is fresh again", 20 * time.Minute, false, 0},
		{"renewal cannot get through: the current token goes", 28 * time.Minute, true, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			offset.Store(int64(tt.at))
			tp.mu.Lock()
			if tt.unreachable {
				tp.unreachable = "/api/v1/auth/refresh"
			} else {
				tp.unreachable = ""
			}
			tp.mu.Unlock()
			from := sentSoFar()
			mustPull()
			paths, refused := requests(from)
			if refused != 0 {
				t.Errorf("%d requests refused with 401: %v", refused, paths)
			}
			var ok int
			for _, p := range paths {
				if p == "/api/v1/auth/refresh" && !tt.unreachable {
					ok++
				}
			}
			if ok != tt.refreshes {
				t.Errorf("refreshes: %d, want %d (%v)", ok, tt.refreshes, paths)
			}
			if tt.refreshes > 0 && paths[0] != "/api/v1/auth/refresh" {
				t.Errorf("the refresh did not go first: %v", paths)
			}
		})
	}
}

func mustSync(t *testing.T, c *client.Client) client.SyncReport {
	t.Helper()
	r, err := c.Sync(clienttest.Context(t))
	if err != nil {
		t.Fatal(err)
	}
	if c.Pending() != 0 {
		t.Fatalf("%d changes pending after sync", c.Pending())
	}
	return r
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// sameJSON compares two values by their JSON meaning.
// settledFresh is a fresh phone's full pull once the server has finished
// judging evidence: flags are the server's judgement and arrive a few
// seconds after a visit (the worker's tick), so the phones pull again until
// they agree with a fresh pull, for at most 20 seconds.
func settledFresh(t *testing.T, srv *clienttest.Server, user, device string, phones ...*client.Client) *client.Client {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; ; i++ {
		for _, p := range phones {
			if _, err := p.Pull(clienttest.Context(t)); err != nil {
				t.Fatal(err)
			}
		}
		fresh, _ := phoneMaybeEmpty(t, srv, user, fmt.Sprintf("%s-%d", device, i), nil)
		agree := true
		for _, p := range phones {
			agree = agree && sameJSON(t, p.Visits(), fresh.Visits())
		}
		if agree || time.Now().After(deadline) {
			return fresh
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// visitsDiff names the visits two phones disagree on, with both versions.
func visitsDiff(a, b []wire.Visit) string {
	byID := func(vs []wire.Visit) map[uuid.UUID]string {
		m := map[uuid.UUID]string{}
		for _, v := range vs {
			m[v.ID] = mustJSON(v)
		}
		return m
	}
	x, y := byID(a), byID(b)
	var out []string
	for id, v := range x {
		if y[id] != v {
			out = append(out, "phone: "+v+"\nfresh: "+y[id])
		}
	}
	for id, v := range y {
		if _, ok := x[id]; !ok {
			out = append(out, "only fresh: "+v)
		}
	}
	sort.Strings(out)
	return fmt.Sprintf("%d of %d/%d differ\n%s", len(out), len(a), len(b), strings.Join(out, "\n"))
}

func sameJSON(t *testing.T, a, b any) bool {
	t.Helper()
	var x, y any
	_ = json.Unmarshal([]byte(mustJSON(a)), &x)
	_ = json.Unmarshal([]byte(mustJSON(b)), &y)
	return reflect.DeepEqual(x, y)
}

// testScopeChange re-pairs a household from one cadre to another: the first
// phone drops the household, its members and its pairing (keeping its own
// visits there), the second receives them whole, and both equal a fresh
// phone's full pull.
func testScopeChange(t *testing.T, srv *clienttest.Server, from, to string) {
	ctx := clienttest.Context(t)
	a, _ := phone(t, srv, from, "scope-a", nil)
	b, _ := phone(t, srv, to, "scope-b", nil)
	ua, _ := a.User()
	ub, _ := b.User()
	mustSync(t, b)
	var h wire.Household
	var pairing uuid.UUID
	for _, p := range a.Pairings() {
		// One the second cadre does not see yet (through a duty region,
		// say: a resident sees the whole village).
		if _, seen := b.Household(p.HouseholdID); p.CadreID == ua.ID && p.EndOn == nil && !seen {
			pairing = p.ID
			h, _ = a.Household(p.HouseholdID)
			break
		}
	}
	if pairing == uuid.Nil {
		t.Fatalf("%s has no open pairing of a household %s does not see", from, to)
	}
	if len(a.Members(h.ID)) == 0 {
		t.Fatalf("household %s has no members", h.ID)
	}
	visit, err := a.RecordVisit(newVisit(a, h, "调整结对前的最后一次走访"))
	must(t, err)
	mustSync(t, a)
	mustSync(t, b)
	if _, ok := b.Household(h.ID); ok {
		t.Fatalf("%s already sees the household", to)
	}

	sup := open(t, srv, t.TempDir(), "scope-supervisor", nil)
	if _, err := sup.Login(ctx, "supervisor", demo.Password); err != nil {
		t.Fatal(err)
	}
	var out struct {
		Ended wire.Pairing  `json:"ended"`
		Next  *wire.Pairing `json:"next"`
	}
	if err := sup.PostJSON(ctx, "/api/v1/pairings/"+pairing.String()+"/end",
		map[string]any{"reason": "工作调整，改由其他干部帮扶", "new_cadre_id": ub.ID}, &out); err != nil {
		t.Fatal(err)
	}
	if out.Next == nil {
		t.Fatal("no new pairing")
	}
	mustSync(t, a)
	mustSync(t, b)
	if _, ok := a.Household(h.ID); ok {
		t.Error("the old cadre's phone still holds the household")
	}
	if n := len(a.Members(h.ID)); n != 0 {
		t.Errorf("the old cadre's phone still holds %d members", n)
	}
	for _, p := range a.Pairings() {
		if p.HouseholdID == h.ID {
			t.Errorf("the old cadre's phone still holds pairing %+v", p)
		}
	}
	if _, ok := a.Visit(visit); !ok {
		t.Error("the old cadre's own visit vanished")
	}
	if _, ok := b.Household(h.ID); !ok {
		t.Fatal("the new cadre's phone did not receive the household")
	}
	if len(b.Members(h.ID)) == 0 {
		t.Error("the new cadre's phone did not receive the members")
	}
	for _, c := range []struct {
		phone *client.Client
		user  string
	}{{a, from}, {b, to}} {
		fresh := settledFresh(t, srv, c.user, "scope-fresh-"+c.user, c.phone)
		if !sameJSON(t, c.phone.Households(), fresh.Households()) {
			t.Errorf("%s households differ from a fresh pull", c.user)
		}
		for _, hh := range fresh.Households() {
			if !sameJSON(t, c.phone.Members(hh.ID), fresh.Members(hh.ID)) {
				t.Errorf("%s members of %s differ from a fresh pull", c.user, hh.ID)
			}
		}
		if !sameJSON(t, c.phone.Pairings(), fresh.Pairings()) {
			t.Errorf("%s pairings differ from a fresh pull:\nphone %s\nfresh %s", c.user, mustJSON(c.phone.Pairings()), mustJSON(fresh.Pairings()))
		}
		if !sameJSON(t, c.phone.Visits(), fresh.Visits()) {
			t.Errorf("%s visits differ from a fresh pull: %s", c.user, visitsDiff(c.phone.Visits(), fresh.Visits()))
		}
	}
}

// testSnapshotEqualsPaging: a fresh phone gets its scope in one snapshot
// answer, a phone configured to page gets it page by page, and a phone
// whose snapshot answer is lost pages from then on; all three hold the
// same replica, visits from another phone included.
func testSnapshotEqualsPaging(t *testing.T, srv *clienttest.Server, user string) {
	ctx := clienttest.Context(t)
	writer, _ := phone(t, srv, user, "snap-writer", nil)
	h := writer.Households()[0]
	if _, err := writer.RecordVisit(newVisit(writer, h, "快照前的走访")); err != nil {
		t.Fatal(err)
	}
	mustSync(t, writer)

	fresh := func(device string, tp *tap, paged bool) *client.Client {
		cfg := client.Config{BaseURL: srv.URL, DeviceID: device, Dir: t.TempDir(), Backoff: client.Backoff{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond},
			Logf: t.Logf, HTTPClient: &http.Client{Transport: tp}, PagedSnapshot: paged, PullLimit: 7}
		c, err := client.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if _, err := c.Login(ctx, user, demo.Password); err != nil {
			t.Fatal(err)
		}
		for i := 0; ; i++ {
			_, err := c.Pull(ctx)
			if err == nil {
				return c
			}
			if i == 3 {
				t.Fatal(err)
			}
		}
	}
	paths := func(tp *tap) (snapshots, pulls int) {
		tp.mu.Lock()
		defer tp.mu.Unlock()
		for _, s := range tp.sent {
			switch s.path {
			case "/api/v1/sync/snapshot":
				snapshots++
			case "/api/v1/sync/pull":
				pulls++
			}
		}
		return
	}
	wholeTap, pagedTap, lostTap := newTap(), newTap(), newTap()
	whole := fresh("snap-whole", wholeTap, false)
	paged := fresh("snap-paged", pagedTap, true)
	// Every attempt of the first snapshot loses its answer.
	lostTap.dropPath, lostTap.dropTimes = "/api/v1/sync/snapshot", 1000
	lost := fresh("snap-lost", lostTap, false)

	if s, _ := paths(wholeTap); s != 1 {
		t.Errorf("the fresh phone asked for %d snapshots, want 1", s)
	}
	if s, p := paths(pagedTap); s != 0 || p < 2 {
		t.Errorf("the paging phone sent %d snapshots and %d pulls, want 0 and several", s, p)
	}
	if _, p := paths(lostTap); p < 2 {
		t.Errorf("after losing its snapshot the phone sent %d pulls, want it to page", p)
	}
	// The server judges the visit's evidence a moment after it arrived
	// (flags): the phones pull again until they hold the same judgement.
	same := func(c *client.Client) bool {
		return sameJSON(t, whole.Households(), c.Households()) && sameJSON(t, whole.AllMembers(), c.AllMembers()) &&
			sameJSON(t, whole.Pairings(), c.Pairings()) && sameJSON(t, whole.Visits(), c.Visits())
	}
	for deadline := time.Now().Add(20 * time.Second); !(same(paged) && same(lost)) && time.Now().Before(deadline); {
		time.Sleep(300 * time.Millisecond)
		for _, c := range []*client.Client{whole, paged, lost} {
			if _, err := c.Pull(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, c := range map[string]*client.Client{"paged": paged, "lost": lost} {
		if !same(c) {
			t.Errorf("the %s phone's replica differs from the snapshot phone's: households %d/%d, members %d/%d, pairings %d/%d\n%s", name,
				len(whole.Households()), len(c.Households()), len(whole.AllMembers()), len(c.AllMembers()), len(whole.Pairings()), len(c.Pairings()),
				visitsDiff(whole.Visits(), c.Visits()))
		}
	}
	if len(whole.Visits()) == 0 || len(whole.Households()) == 0 {
		t.Fatalf("the snapshot phone has %d households and %d visits", len(whole.Households()), len(whole.Visits()))
	}
}

// testInspectorFindings: the demo inspector, sent to a town's households
// by an unannounced campaign, records an inspection visit with the
// household form on the phone; one push stores both, the task comes back
// done, and the findings are the visit's.
func testInspectorFindings(t *testing.T, srv *clienttest.Server) {
	ctx := clienttest.Context(t)
	office, _ := phoneMaybeEmpty(t, srv, "supervisor", "office-browser", nil)
	insp, _ := phoneMaybeEmpty(t, srv, "inspector", "inspector-phone", nil)
	var towns wire.Page[wire.Region]
	must(t, office.GetJSON(ctx, "/api/v1/regions?level=town&limit=1", &towns))
	me, _ := insp.User()
	var campaign wire.Inspection
	must(t, office.PostJSON(ctx, "/api/v1/inspections", map[string]any{"region_id": towns.Items[0].ID, "name": "SDK核查", "mode": "unannounced",
		"period_from": time.Now().AddDate(0, 0, -1).Format(time.DateOnly), "period_to": time.Now().AddDate(0, 1, 0).Format(time.DateOnly),
		"inspector_ids": []uuid.UUID{me.ID}}, &campaign))
	must(t, office.PostJSON(ctx, "/api/v1/inspections/"+campaign.ID.String()+"/sample", map[string]any{"seed": "sdk"}, nil))
	if _, err := insp.Pull(ctx); err != nil {
		t.Fatal(err)
	}
	var task wire.Task
	for _, tk := range insp.Tasks() {
		if tk.CampaignID == campaign.ID {
			task = tk
		}
	}
	h, ok := insp.Household(task.HouseholdID)
	if !ok {
		t.Fatalf("no household came with the task %+v", task)
	}
	// The form as the phone renders it, every question answered.
	var forms wire.InspectionForms
	must(t, insp.GetJSON(ctx, "/api/v1/inspection-forms", &forms))
	answers := map[string]wire.FindingAnswer{}
	for _, it := range forms.Forms[0].Items {
		yes, none := true, 0
		switch it.Kind {
		case "choice":
			answers[it.Code] = wire.FindingAnswer{Choice: it.Choices[0].Code}
		case "choices":
			answers[it.Code] = wire.FindingAnswer{Choices: []string{it.Choices[0].Code}}
		case "count":
			answers[it.Code] = wire.FindingAnswer{Count: &none}
		case "yes_no":
			answers[it.Code] = wire.FindingAnswer{Yes: &yes}
		}
	}
	v := newVisit(insp, h, "暗访入户核查")
	v.Kind, v.Measures, v.Findings = domain.KindInspection, nil, &wire.VisitFindings{Answers: answers}
	id, err := insp.RecordVisit(v)
	must(t, err)
	rep := mustSync(t, insp)
	if rep.Push.Count(wire.StatusApplied) != 1 {
		t.Fatalf("push: %+v", rep.Push.Outcomes)
	}
	for _, tk := range insp.Tasks() {
		if tk.ID == task.ID && !tk.Done {
			t.Errorf("the task is not done after its inspection: %+v", tk)
		}
	}
	var found wire.InspectionFindings
	must(t, insp.GetJSON(ctx, "/api/v1/inspections/"+campaign.ID.String()+"/findings", &found))
	if len(found.Items) != 1 || *found.Items[0].HouseholdID != h.ID || *found.Items[0].VisitID != id {
		t.Fatalf("findings: %+v", found.Items)
	}
	must(t, office.PostJSON(ctx, "/api/v1/inspections/"+campaign.ID.String()+"/end", map[string]any{}, nil))
}
