package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/auth"
	"github.com/fieldvisit/fieldvisit/internal/demo"
	"github.com/fieldvisit/fieldvisit/internal/importer"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	"github.com/fieldvisit/fieldvisit/internal/testkit/storetest"
	"github.com/fieldvisit/fieldvisit/openapi"
	"github.com/fieldvisit/fieldvisit/server"
	"github.com/fieldvisit/fieldvisit/storage"
	fvsync "github.com/fieldvisit/fieldvisit/sync"
)

// client drives the real handler and validates every exchange.
type client struct {
	t     *testing.T
	h     http.Handler
	v     *Validator
	token string
}

// call sends body (JSON unless contentType says otherwise), expects want,
// validates the response against the document (and the request too, when
// validReq), and returns the decoded JSON body (nil when not JSON).
func (c *client) call(method, target, body string, want int, validReq bool) map[string]any {
	c.t.Helper()
	return c.raw(method, target, "application/json", []byte(body), want, validReq)
}

func (c *client) raw(method, target, contentType string, body []byte, want int, validReq bool) map[string]any {
	c.t.Helper()
	m, _ := c.send(method, target, contentType, nil, body, want, validReq)
	return m
}

// send is raw with extra request headers; it also returns the body as sent.
func (c *client) send(method, target, contentType string, hdr http.Header, body []byte, want int, validReq bool) (map[string]any, []byte) {
	c.t.Helper()
	req := httptest.NewRequest(method, target, bytes.NewReader(body))
	if len(body) > 0 {
		req.Header.Set("Content-Type", contentType)
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if validReq {
		c.v.CheckRequest(c.t, req, body)
	}
	w := httptest.NewRecorder()
	c.h.ServeHTTP(w, req)
	res := w.Result()
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		c.t.Errorf("%s %s: status %d, want %d: %s", method, target, res.StatusCode, want, out)
	}
	c.v.CheckResponse(c.t, req, res.StatusCode, res.Header, out)
	var m map[string]any
	_ = json.Unmarshal(out, &m)
	return m, out
}

func str(m map[string]any, path ...string) string {
	var cur any = m
	for _, p := range path {
		mm, _ := cur.(map[string]any)
		cur = mm[p]
	}
	switch x := cur.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return ""
}

func first(m map[string]any, key string) map[string]any {
	items, _ := m[key].([]any)
	if len(items) == 0 {
		return nil
	}
	it, _ := items[0].(map[string]any)
	return it
}

// TestLiveAgainstDemoCounty runs the whole API on a small demo county in
// SQLite and validates every request it means to be valid and every
// response against openapi.yaml.
func TestLiveAgainstDemoCounty(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds a demo county")
	}
	ctx := context.Background()
	v := New(t)
	db := storetest.Open(t, "sqlite")
	store := storage.NewStore(db, nil)
	hasher := auth.NewHasher(2)
	hashPassword := func(ctx context.Context) (string, error) { return hasher.Hash(ctx, demo.Password) }
	if _, err := demo.Seed(ctx, store, demo.Options{Households: 120, Cadres: 20, HashPassword: hashPassword}); err != nil {
		t.Fatal(err)
	}
	keys, err := auth.LoadOrCreateKeyRing(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	h := server.New(server.Deps{
		Auth: auth.NewService(store, keys, hasher, auth.Config{}, nil), Registry: registry.NewService(store, hasher, nil), Spec: openapi.Spec,
		Import: func(ctx context.Context, r io.Reader, opt importer.Options) (importer.Report, error) {
			return importer.Import(ctx, store, r, opt)
		},
		Ready: []server.ReadyCheck{{Name: "database", Check: db.Ping}, {Name: "blob_store", Check: func(context.Context) error { return nil }}},
		Sync:  fvsync.NewService(store.Sync(), fvsync.Config{}, nil, slog.New(slog.NewTextHandler(io.Discard, nil))),
	})
	c := &client{t: t, h: h, v: v}
	today := domain.DateOf(time.Now()).String()

	// ---- operations and public routes
	c.call("GET", "/readyz", "", 200, true)
	c.call("GET", "/api/v1/vocabularies", "", 200, true)
	c.call("GET", "/api/v1/households", "", 401, true)
	for i := 0; i < 5; i++ {
		c.call("POST", "/api/v1/auth/login", `{"username":"supervisor","password":"wrong password","device_id":"contract-sv"}`, 401, true)
	}
	c.call("POST", "/api/v1/auth/login", `{"username":"supervisor","password":"`+demo.Password+`","device_id":"contract-sv"}`, 429, true)

	// ---- auth
	c.call("POST", "/api/v1/auth/login", `{"username":"admin","password":"wrong password","device_id":"contract-admin"}`, 401, true)
	login := c.call("POST", "/api/v1/auth/login", `{"username":"admin","password":"`+demo.Password+`","device_id":"contract-admin"}`, 200, true)
	refreshed := c.call("POST", "/api/v1/auth/refresh", `{"refresh_token":"`+str(login, "refresh_token")+`"}`, 200, true)
	c.call("POST", "/api/v1/auth/refresh", `{"refresh_token":"no-such-token"}`, 401, true)
	c.call("POST", "/api/v1/auth/refresh", `{"refresh_token":""}`, 422, false)
	c.token = str(refreshed, "access_token")
	me := c.call("GET", "/api/v1/me", "", 200, true)
	adminID := str(me, "id")

	// ---- regions
	villages := c.call("GET", "/api/v1/regions?level=village&limit=3", "", 200, true)
	village := first(villages, "items")
	villageID, countyID := str(village, "id"), str(village, "county_id")
	c.call("GET", "/api/v1/regions/"+villageID, "", 200, true)
	c.call("GET", "/api/v1/regions/not-a-uuid", "", 404, false)
	c.call("GET", "/api/v1/regions?level=hamlet", "", 422, false)
	c.call("PATCH", "/api/v1/regions/"+villageID, `{"is_poor_village":true}`, 200, true)
	group := `{"parent_id":"` + villageID + `","level":"group","code":"` + str(village, "code") + `987","name":"契约测试组"}`
	c.call("POST", "/api/v1/regions", group, 201, true)
	c.call("POST", "/api/v1/regions", group, 422, true)

	// ---- households and members
	c.call("GET", "/api/v1/households?limit=5", "", 200, true)
	c.call("GET", "/api/v1/households?region_id="+villageID+"&status=registered&unpaired=false", "", 200, true)
	reg := first(c.call("GET", "/api/v1/households?status=registered&limit=1", "", 200, true), "items")
	hid := str(reg, "id")
	file := c.call("GET", "/api/v1/households/"+hid, "", 200, true)
	ver := str(file, "version")
	upd := c.call("PATCH", "/api/v1/households/"+hid, `{"version":`+ver+`,"address":"契约路1号","home":{"lat":32.1,"lon":114.9},"housing_area":88.5}`, 200, true)
	c.call("PATCH", "/api/v1/households/"+hid, `{"version":`+ver+`,"address":"契约路2号"}`, 409, true)
	c.call("PATCH", "/api/v1/households/"+hid, `{"version":`+str(upd, "version")+`,"status":"exited"}`, 422, false)
	c.call("POST", "/api/v1/households/"+hid+"/status", `{"version":`+str(upd, "version")+`,"status":"general","effective_on":"`+today+`"}`, 422, true)
	exited := c.call("POST", "/api/v1/households/"+hid+"/status",
		`{"version":`+str(upd, "version")+`,"status":"exited","exit_year":`+today[:4]+`,"effective_on":"`+today+`","reason":"契约测试"}`, 200, true)
	_ = exited
	c.call("GET", "/api/v1/households/"+hid+"/members", "", 200, true)
	m := c.call("POST", "/api/v1/households/"+hid+"/members", `{"name":"契约小孙","relation":"grandchild","education":"preschool"}`, 201, true)
	mid := str(m, "id")
	c.call("GET", "/api/v1/households/"+hid+"/members/"+mid, "", 200, true)
	c.call("PATCH", "/api/v1/households/"+hid+"/members/"+mid, `{"version":1,"health":"healthy","phone":null}`, 200, true)
	c.call("PATCH", "/api/v1/households/"+hid+"/members/"+mid, `{"version":1,"health":"chronic"}`, 409, true)
	c.call("DELETE", "/api/v1/households/"+hid+"/members/"+mid, "", 204, true)
	c.call("GET", "/api/v1/households/"+hid+"/members/"+mid, "", 404, true)

	id17 := "41152319800101001"
	idNumber := id17 + string(domain.IDNumberCheckChar(id17))
	newHH := c.call("POST", "/api/v1/households", `{"region_id":"`+villageID+`","head_name":"契约户主","status":"edge","causes":["illness"],`+
		`"members":[{"name":"契约户主","relation":"head","id_number":"`+idNumber+`","work":"farming"},{"name":"契约配偶","relation":"spouse"}]}`, 201, true)
	newHID := str(newHH, "id")
	c.call("POST", "/api/v1/households", `{"region_id":"`+villageID+`","head_name":"契约户主二","status":"registered"}`, 422, false)

	// ---- units
	c.call("GET", "/api/v1/units?limit=2", "", 200, true)
	unit := c.call("POST", "/api/v1/units", `{"name":"契约测试局","region_id":"`+countyID+`"}`, 201, true)
	unitID := str(unit, "id")
	c.call("GET", "/api/v1/units/"+unitID, "", 200, true)
	c.call("POST", "/api/v1/units/"+unitID+"/assignments", `{"village_id":"`+villageID+`","start_on":"2024-01-01","end_on":null}`, 201, true)
	c.call("GET", "/api/v1/units/"+unitID, "", 200, true)

	// ---- users and devices
	c.call("GET", "/api/v1/users?role=cadre&limit=3", "", 200, true)
	cadre := c.call("POST", "/api/v1/users", `{"username":"contract.cadre","display_name":"契约干部","role":"cadre","region_id":"`+countyID+`",`+
		`"unit_id":"`+unitID+`","rank":"staff","duties":[{"kind":"resident","region_id":"`+villageID+`","start_on":"2024-01-01"}],"password":"契约测试密码-123"}`, 201, true)
	cadreID := str(cadre, "id")
	c.call("GET", "/api/v1/users/"+cadreID, "", 200, true)
	c.call("PATCH", "/api/v1/users/"+cadreID, `{"phone":"138-0000-0000","clear_unit":true}`, 200, true)
	c.call("PUT", "/api/v1/users/"+cadreID+"/password", `{"password":"another password 456"}`, 204, true)
	c.call("PUT", "/api/v1/users/"+cadreID+"/password", `{"password":"short"}`, 422, false)
	c.call("GET", "/api/v1/users/"+adminID+"/devices", "", 200, true)

	cc := &client{t: t, h: h, v: v}
	cl := cc.call("POST", "/api/v1/auth/login", `{"username":"contract.cadre","password":"another password 456","device_id":"phone:contract-1"}`, 200, true)
	cc.token = str(cl, "access_token")
	devs := c.call("GET", "/api/v1/users/"+cadreID+"/devices", "", 200, true)
	c.call("POST", "/api/v1/users/"+cadreID+"/devices/"+str(first(devs, "items"), "id")+"/revoke", "", 200, true)
	cc.call("POST", "/api/v1/auth/refresh", `{"refresh_token":"`+str(cl, "refresh_token")+`"}`, 401, true)

	// ---- pairings
	c.call("GET", "/api/v1/pairings?limit=2&active_on="+today, "", 200, true)
	c.call("GET", "/api/v1/pairings/"+str(first(c.call("GET", "/api/v1/pairings?limit=1", "", 200, true), "items"), "id"), "", 200, true)
	p := c.call("POST", "/api/v1/pairings", `{"household_id":"`+newHID+`","cadre_id":"`+cadreID+`"}`, 201, true)
	c.call("POST", "/api/v1/pairings", `{"household_id":"`+newHID+`","cadre_id":"`+cadreID+`"}`, 422, true)
	c.call("POST", "/api/v1/pairings/"+str(p, "id")+"/end", `{"reason":"契约测试结束"}`, 200, true)
	c.call("POST", "/api/v1/pairings/"+str(p, "id")+"/end", `{"reason":"再次结束"}`, 422, true)
	open := first(c.call("GET", "/api/v1/households/"+hid, "", 200, true), "pairings")
	if open == nil {
		t.Fatalf("household %s has no open pairing to hand over", hid)
	}
	handover := c.call("POST", "/api/v1/pairings/"+str(open, "id")+"/end", `{"reason":"调岗","on":"`+today+`","new_cadre_id":"`+cadreID+`"}`, 200, true)
	if str(handover, "next", "cadre_id") != cadreID {
		t.Errorf("handover: next = %v", handover["next"])
	}

	// ---- imports
	csv := "乡镇,所属村,户主姓名,与户主关系,姓名,身份证号\n无此镇,无此村,张三,户主,张三,123\n"
	c.raw("POST", "/api/v1/imports?dry_run=true", "text/csv", []byte(csv), 200, true)
	c.raw("POST", "/api/v1/imports?filename=t.csv", "text/csv", []byte(csv), 422, true)
	c.raw("POST", "/api/v1/imports", "text/csv", []byte(" \n"), 422, true)
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, _ := mw.CreateFormFile("file", "台账.csv")
	_, _ = fw.Write([]byte(csv))
	_ = mw.Close()
	c.raw("POST", "/api/v1/imports?allow_partial=true", mw.FormDataContentType(), form.Bytes(), 200, true)
	var empty bytes.Buffer
	ew := multipart.NewWriter(&empty)
	_ = ew.WriteField("other", "x")
	_ = ew.Close()
	c.raw("POST", "/api/v1/imports", ew.FormDataContentType(), empty.Bytes(), 400, false)

	// ---- a cadre and an inspector
	cadre01 := &client{t: t, h: h, v: v}
	l1 := cadre01.call("POST", "/api/v1/auth/login", `{"username":"cadre01","password":"`+demo.Password+`","device_id":"cadre01-phone"}`, 200, true)
	cadre01.token = str(l1, "access_token")
	cadre01.call("GET", "/api/v1/households", "", 200, true)
	cadre01.call("GET", "/api/v1/users", "", 403, true)
	cadre01.call("GET", "/api/v1/users/"+adminID, "", 404, true)
	cadre01.call("POST", "/api/v1/units", `{"name":"x","region_id":"`+countyID+`"}`, 403, true)
	cadre01.call("POST", "/api/v1/imports", "", 403, false)
	own := first(cadre01.call("GET", "/api/v1/households?limit=1", "", 200, true), "items")
	if own != nil {
		cadre01.call("GET", "/api/v1/households/"+str(own, "id"), "", 200, true)
		cadre01.call("PATCH", "/api/v1/households/"+str(own, "id"), `{"version":`+str(own, "version")+`,"address":"x"}`, 403, true)
	}
	insp := &client{t: t, h: h, v: v}
	li := insp.call("POST", "/api/v1/auth/login", `{"username":"inspector","password":"`+demo.Password+`","device_id":"insp"}`, 200, true)
	insp.token = str(li, "access_token")
	insp.call("GET", "/api/v1/pairings", "", 200, true)
	insp.call("GET", "/api/v1/households/"+hid, "", 404, true)
	insp.call("GET", "/api/v1/conflicts", "", 403, true)
	insp.call("GET", "/api/v1/visits", "", 200, true)

	liveSync(t, c, cadre01)

	insp.call("POST", "/api/v1/auth/logout", `{"refresh_token":"`+str(li, "refresh_token")+`"}`, 204, true)
}

// pullAll pulls from cursor until has_more is false, `limit` at a time, and
// returns every change and the last cursor.
func (c *client) pullAll(cursor string, limit int) ([]map[string]any, string) {
	c.t.Helper()
	var all []map[string]any
	for i := 0; i < 500; i++ {
		target := "/api/v1/sync/pull?limit=" + strconv.Itoa(limit)
		if cursor != "" {
			target += "&cursor=" + url.QueryEscape(cursor)
		}
		page := c.call("GET", target, "", 200, true)
		items, _ := page["changes"].([]any)
		for _, it := range items {
			m, _ := it.(map[string]any)
			all = append(all, m)
		}
		cursor = str(page, "cursor")
		if page["has_more"] != true {
			return all, cursor
		}
	}
	c.t.Fatal("pull never ended")
	return nil, ""
}

func (c *client) push(key, body string, want int, validReq bool) (map[string]any, []byte) {
	c.t.Helper()
	hdr := http.Header{}
	if key != "" {
		hdr.Set("Idempotency-Key", key)
	}
	return c.send("POST", "/api/v1/sync/push", "application/json", hdr, []byte(body), want, validReq)
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// liveSync drives the sync routes as a phone and a supervisor would: a
// fresh pull, a push with every kind of change, its replay, a conflict and
// its resolution, and an incremental pull that sees it all.
func liveSync(t *testing.T, admin, phone *client) {
	t.Helper()
	pulled, cursor := phone.pullAll("", 7)
	var hh, member map[string]any
	for _, ch := range pulled {
		data, _ := ch["data"].(map[string]any)
		switch {
		case hh == nil && ch["entity"] == "household" && ch["op"] == "upsert":
			hh = data
		case member == nil && ch["entity"] == "member" && ch["op"] == "upsert":
			member = data
		}
	}
	if hh == nil || member == nil {
		t.Fatalf("a fresh pull of cadre01 has no household or member (%d changes)", len(pulled))
	}
	hid, hver, oldPhone := str(hh, "id"), str(hh, "version"), str(hh, "phone")
	vid := uuid.NewString()
	now := time.Now().Format(time.RFC3339)
	envelope := func(changes ...string) string {
		return `{"device_id":"cadre01-phone","device_time":"` + now + `","changes":[` + strings.Join(changes, ",") + `]}`
	}
	visit := `{"entity":"visit","op":"create","id":"` + vid + `","household_id":"` + hid + `","data":{"kind":"assist","started_at":"` + now + `",` +
		`"ended_at":null,"notes":"契约走访","checklist":{"food":{"answer":"met"},"housing":{"answer":"problem","note":"屋顶漏雨"}},` +
		`"measures":["policy_briefing"],"met_with":["户主"],"household_confirmed":true,"gps":[{"lat":32.1,"lon":114.9,"accuracy":15,` +
		`"provider":"gps","mock":false,"device_time":"` + now + `"}],"photos":[]}}`
	batch := envelope(visit,
		`{"entity":"household","op":"update","id":"`+hid+`","base_version":`+hver+`,"data":{"phone":"13900000001"},"base":{"phone":`+quote(oldPhone)+`}}`,
		`{"entity":"member","op":"update","id":"`+str(member, "id")+`","household_id":"`+str(member, "household_id")+`","base_version":`+str(member, "version")+`,`+
			`"data":{"health":"chronic"},"base":{"health":`+quote(str(member, "health"))+`}}`)
	res, raw := phone.push("contract-batch-1", batch, 200, true)
	if str(res, "applied") != "3" {
		t.Errorf("first push: %s", raw)
	}
	_, again := phone.push("contract-batch-1", batch, 200, true)
	if !bytes.Equal(raw, again) {
		t.Errorf("replay differs:\n%s\n%s", raw, again)
	}
	phone.push("contract-batch-1", envelope(), 422, true)
	phone.push("", batch, 422, false)
	phone.push("contract-batch-2", `{"device_id":"cadre01-phone","changes":[`, 400, false)

	// One good and one bad record: the bad one is rejected alone.
	bad := strings.Replace(strings.Replace(visit, vid, uuid.NewString(), 1), `"lat":32.1`, `"lat":95`, 1)
	edit := `{"entity":"visit","op":"update","id":"` + vid + `","base_version":1,"data":{"notes":"补记"},"base":{"notes":"契约走访"}}`
	res, raw = phone.push("contract-batch-3", envelope(edit, bad), 200, false)
	if str(res, "applied") != "1" || str(res, "rejected") != "1" {
		t.Errorf("mixed push: %s", raw)
	}
	// An edit of the phone number from the old version overlaps the first.
	res, raw = phone.push("contract-batch-4", envelope(
		`{"entity":"household","op":"update","id":"`+hid+`","base_version":`+hver+`,"data":{"phone":"13700000002"},"base":{"phone":`+quote(oldPhone)+`}}`,
		`{"entity":"visit","op":"delete","id":"`+vid+`","base_version":2}`), 200, true)
	if !strings.Contains(string(raw), `"status":"conflict"`) {
		t.Errorf("overlapping edit: %s", raw)
	}

	phone.call("GET", "/api/v1/visits?include_deleted=true&household_id="+hid, "", 200, true)
	phone.call("GET", "/api/v1/visits/"+vid, "", 200, true)
	phone.call("GET", "/api/v1/visits?cadre_id=x", "", 422, false)
	phone.call("GET", "/api/v1/visits/"+uuid.NewString(), "", 404, true)
	admin.call("GET", "/api/v1/visits?limit=5", "", 200, true)
	admin.call("GET", "/api/v1/visits/"+vid, "", 200, true)

	next, _ := phone.pullAll(cursor, 50)
	seen := map[string]bool{}
	for _, ch := range next {
		seen[str(ch, "entity")+":"+str(ch, "op")+":"+str(ch, "id")] = true
	}
	if !seen["visit:delete:"+vid] || !seen["household:upsert:"+hid] {
		t.Errorf("incremental pull lacks the visit tombstone or the household: %v", seen)
	}
	phone.call("GET", "/api/v1/sync/pull?cursor=forged", "", 422, true)
	phone.call("GET", "/api/v1/sync/pull?limit=2001", "", 422, false)

	phone.call("GET", "/api/v1/conflicts", "", 403, true)
	phone.call("POST", "/api/v1/conflicts/"+uuid.NewString()+"/resolve", `{"resolution":"keep_won"}`, 403, true)
	inbox := admin.call("GET", "/api/v1/conflicts?open=true&household_id="+hid, "", 200, true)
	conflict := first(inbox, "items")
	if conflict == nil {
		t.Fatalf("no open conflict for %s: %v", hid, inbox)
	}
	admin.call("GET", "/api/v1/conflicts?limit=200", "", 200, true)
	admin.call("GET", "/api/v1/conflicts?open=maybe", "", 422, false)
	admin.call("POST", "/api/v1/conflicts/"+str(conflict, "id")+"/resolve", `{"resolution":"merge"}`, 422, false)
	admin.call("POST", "/api/v1/conflicts/"+uuid.NewString()+"/resolve", `{"resolution":"keep_won"}`, 404, true)
	admin.call("POST", "/api/v1/conflicts/"+str(conflict, "id")+"/resolve", `{"resolution":"restore_lost"}`, 200, true)
	admin.call("POST", "/api/v1/conflicts/"+str(conflict, "id")+"/resolve", `{"resolution":"keep_won"}`, 409, true)
	admin.call("GET", "/api/v1/conflicts?open=false", "", 200, true)
	if h := admin.call("GET", "/api/v1/households/"+hid, "", 200, true); str(h, "phone") != "13900000001" {
		t.Errorf("restore_lost: phone = %q", str(h, "phone"))
	}
}
