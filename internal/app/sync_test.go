package app

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	"github.com/fieldvisit/fieldvisit/wire"
)

// push sends a batch with an Idempotency-Key and returns the raw answer.
func (e *testEnv) push(t *testing.T, token, key string, body any) response {
	t.Helper()
	raw, ok := body.([]byte)
	if !ok {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	req := httptest.NewRequest("POST", "/api/v1/sync/push", bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	rec := httptest.NewRecorder()
	e.app.Handler.ServeHTTP(rec, req)
	res := response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	if res.Status >= 500 && res.Status != http.StatusServiceUnavailable {
		t.Errorf("push answered %d: %s", res.Status, res.Body)
	}
	e.validator.CheckResponse(t, httptest.NewRequest("POST", "/api/v1/sync/push", nil), res.Status, res.Header, res.Body)
	return res
}

func visitChange(id, household uuid.UUID, notes string, lat float64) map[string]any {
	return map[string]any{"entity": "visit", "op": "create", "id": id, "household_id": household, "data": map[string]any{
		"kind": "assist", "started_at": "2026-11-20T09:30:00+08:00", "ended_at": "2026-11-20T10:05:00+08:00", "notes": notes,
		"checklist": map[string]any{"food": map[string]any{"answer": "met"}, "housing": map[string]any{"answer": "problem", "note": "屋顶漏雨"}},
		"measures":  []string{"policy_briefing"}, "met_with": []string{"张三"}, "household_confirmed": true,
		"gps":    []map[string]any{{"lat": lat, "lon": 113.6, "accuracy": 12, "provider": "gps", "mock": false, "device_time": "2026-11-20T09:31:00+08:00"}},
		"photos": []any{}}}
}

func batch(device string, deviceTime time.Time, changes ...map[string]any) map[string]any {
	return map[string]any{"device_id": device, "device_time": deviceTime.Format(time.RFC3339), "changes": changes}
}

func (r response) pushResult(t *testing.T) wire.PushResponse {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("push: %d %s", r.Status, r.Body)
	}
	var out wire.PushResponse
	r.json(t, &out)
	return out
}

func (e *testEnv) visitCount(t *testing.T) int64 { return e.count(t, "visits") }

// TestPushIsExactlyOnce: a replayed batch gets the stored answer byte for
// byte and changes nothing; the same key with another body is refused.
func TestPushIsExactlyOnce(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		tok := e.login(t, "cadre-a")
		hA := e.householdA.Household.ID
		body := batch("phone-1", time.Now(), visitChange(uuid.New(), hA, "第一次走访", 34.7))
		first := e.push(t, tok, "batch-1", body)
		res := first.pushResult(t)
		if res.Results[0].Status != wire.StatusApplied || res.Applied != 1 {
			t.Fatalf("first push: %s", first.Body)
		}
		again := e.push(t, tok, "batch-1", body)
		if again.Status != http.StatusOK || !bytes.Equal(again.Body, first.Body) {
			t.Fatalf("replay must return the stored answer byte for byte:\n%s\n%s", first.Body, again.Body)
		}
		if n := e.visitCount(t); n != 1 {
			t.Fatalf("replay stored %d visits", n)
		}
		other := e.push(t, tok, "batch-1", batch("phone-1", time.Now(), visitChange(uuid.New(), hA, "另一批", 34.7)))
		if p := other.problem(t); other.Status != http.StatusUnprocessableEntity || !p.hasField("Idempotency-Key") {
			t.Fatalf("same key, other body: want 422 naming Idempotency-Key, got %d %s", other.Status, other.Body)
		}
		if n := e.visitCount(t); n != 1 {
			t.Fatalf("a refused batch stored visits: %d", n)
		}
		// The same record in a new batch (the phone lost the answer and
		// rebuilt its batch) is recognised by its id: nothing doubles.
		dup := e.push(t, tok, "batch-2", body).pushResult(t)
		if dup.Results[0].Status != wire.StatusDuplicate || e.visitCount(t) != 1 {
			t.Fatalf("re-sent record: %+v, %d visits", dup.Results[0], e.visitCount(t))
		}
		// Keys belong to their user: another cadre's identical key is theirs.
		tokB := e.login(t, "cadre-b")
		r := e.push(t, tokB, "batch-1", batch("phone-b", time.Now(), visitChange(uuid.New(), e.householdB.Household.ID, "乙", 34.7))).pushResult(t)
		if r.Results[0].Status != wire.StatusApplied {
			t.Fatalf("another user's key: %+v", r.Results[0])
		}
	})
}

// TestOneBadRecordDoesNotBlockTheBatch: each record gets its own outcome,
// bad ones with a JSON pointer; the good ones commit.
func TestOneBadRecordDoesNotBlockTheBatch(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		tok := e.login(t, "cadre-a")
		hA, hB := e.householdA.Household.ID, e.householdB.Household.ID
		good1, badGPS, nul, foreign, good2, badVersion := uuid.New(), uuid.New(), uuid.New(), uuid.New(), uuid.New(), uuid.New()
		badAccuracy := visitChange(uuid.New(), hA, "精度", 34.7)
		badAccuracy["data"].(map[string]any)["gps"].([]map[string]any)[0]["accuracy"] = 1e9
		res := e.push(t, tok, "mixed", batch("phone-1", time.Now(),
			visitChange(good1, hA, "好的", 34.7),
			visitChange(badGPS, hA, "坏的", 95),
			visitChange(nul, hA, "有\u0000空字符", 34.7),
			visitChange(foreign, hB, "别人的户", 34.7),
			badAccuracy,
			map[string]any{"entity": "household", "op": "update", "id": hA, "base_version": 1, "data": map[string]any{"status": "exited"}},
			map[string]any{"entity": "household", "op": "update", "id": hA, "base_version": 1, "data": map[string]any{"colour": "red"}},
			map[string]any{"entity": "rule", "op": "create", "id": uuid.New()},
			visitChange(good2, hA, "也好", 34.7),
			map[string]any{"entity": "visit", "op": "create", "id": "not-a-uuid"},
			map[string]any{"entity": "visit", "op": "update", "id": badVersion, "base_version": "two"},
		)).pushResult(t)
		want := []struct{ status, pointer string }{
			{wire.StatusApplied, ""},
			{wire.StatusRejected, "/changes/1/data/gps/0/lat"},
			{wire.StatusRejected, "/changes/2/data/notes"},
			{wire.StatusRejected, "/changes/3/household_id"},
			{wire.StatusRejected, "/changes/4/data/gps/0/accuracy"},
			{wire.StatusRejected, "/changes/5/data/status"},
			{wire.StatusRejected, "/changes/6/data/colour"},
			{wire.StatusRejected, "/changes/7/entity"},
			{wire.StatusApplied, ""},
			{wire.StatusRejected, "/changes/9/id"},
			{wire.StatusRejected, "/changes/10/base_version"},
		}
		for i, w := range want {
			got := res.Results[i]
			if got.Status != w.status || (w.pointer != "" && (len(got.Errors) == 0 || got.Errors[0].Field != w.pointer)) {
				t.Errorf("change %d: got %s %+v, want %s at %s", i, got.Status, got.Errors, w.status, w.pointer)
			}
		}
		// A change that does not decode still names its record.
		if r := res.Results[10]; r.Entity != "visit" || r.ID != badVersion {
			t.Errorf("the undecodable change is answered as %q %s, want visit %s", r.Entity, r.ID, badVersion)
		}
		if res.Results[5].Errors[0].Reason != "server_authority" {
			t.Errorf("status from a phone must be refused as server authority: %+v", res.Results[5].Errors)
		}
		if res.Results[3].Errors[0].Reason != "not_found" {
			t.Errorf("another village's household must look absent: %+v", res.Results[3].Errors)
		}
		if n := e.visitCount(t); n != 2 {
			t.Fatalf("want exactly the 2 good visits stored, got %d", n)
		}
		// A number beyond float64 (1e400, which json.Marshal cannot even
		// write) is refused at its pointer, like any other bad value.
		raw, err := json.Marshal(batch("phone-1", time.Now(), visitChange(uuid.New(), hA, "溢出", 34.7)))
		if err != nil {
			t.Fatal(err)
		}
		huge := e.push(t, tok, "huge", bytes.Replace(raw, []byte(`"lat":34.7`), []byte(`"lat":1e400`), 1)).pushResult(t)
		if r := huge.Results[0]; r.Status != wire.StatusRejected || len(r.Errors) == 0 || r.Errors[0].Field != "/changes/0/data/gps/0/lat" {
			t.Errorf("a latitude of 1e400: %+v", r)
		}
		if n := e.visitCount(t); n != 2 {
			t.Fatalf("the 1e400 visit was stored: %d visits", n)
		}
		// Notes are searchable, literally, in Chinese.
		for q, want := range map[string]int64{"好的": 1, "也好": 1, "好": 2, "%": 0, "坏的": 0} {
			var page wire.Page[wire.Visit]
			e.do(t, "GET", "/api/v1/visits?q="+url.QueryEscape(q), e.login(t, "supervisor-a"), nil).json(t, &page)
			if page.Total != want {
				t.Errorf("search %q found %d visits, want %d", q, page.Total, want)
			}
		}
		var h struct {
			Status string `json:"status"`
		}
		e.do(t, "GET", "/api/v1/households/"+hA.String(), e.login(t, "admin"), nil).json(t, &h)
		if h.Status != "registered" {
			t.Fatalf("a cadre's push changed the status to %s", h.Status)
		}
	})
}

func TestPushBatchLimits(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	tok := e.login(t, "cadre-a")
	hA := e.householdA.Household.ID
	many := make([]map[string]any, 501)
	for i := range many {
		many[i] = visitChange(uuid.New(), hA, "多", 34.7)
	}
	cases := []struct {
		name, key string
		body      any
		status    int
		field     string
	}{
		{"no key", "", batch("p", time.Now(), visitChange(uuid.New(), hA, "x", 34.7)), 422, "Idempotency-Key"},
		{"bad key", "bad key with spaces", batch("p", time.Now()), 422, "Idempotency-Key"},
		{"501 changes", "big", batch("p", time.Now(), many...), 413, "/changes"},
		{"malformed", "m1", []byte(`{"device_id": "p", "changes": [`), 400, "body"},
		{"invalid UTF-8", "m2", []byte("{\"device_id\": \"\xff\"}"), 400, "body"},
		{"unknown top-level field", "m3", map[string]any{"device_id": "p", "device_time": time.Now(), "changes": []any{}, "admin": true}, 422, "/admin"},
		{"no device time", "m4", map[string]any{"device_id": "p", "changes": []any{}}, 422, "/device_time"},
		// A year no clock shows: its offset in milliseconds would not fit.
		{"device time in year 9999", "m5", map[string]any{"device_id": "p", "device_time": "9999-12-31T23:59:59Z", "changes": []any{}}, 422, "/device_time"},
		{"device time in year 0", "m6", map[string]any{"device_id": "p", "device_time": "0000-01-01T00:00:00Z", "changes": []any{}}, 422, "/device_time"},
		{"a member of the batch given twice", "m7", []byte(`{"device_id": "p", "device_id": "q", "device_time": "2026-11-20T09:30:00+08:00", "changes": []}`), 422, "/device_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.push(t, tok, tc.key, tc.body)
			if r.Status != tc.status {
				t.Fatalf("want %d, got %d %s", tc.status, r.Status, r.Body)
			}
			if p := r.problem(t); !p.hasField(tc.field) {
				t.Fatalf("problem does not name %s: %s", tc.field, r.Body)
			}
			if n := e.visitCount(t); n != 0 {
				t.Fatalf("a refused batch stored %d visits", n)
			}
		})
	}
}

// TestConcurrentDuplicateBatches: the same batch sent twice at once is
// applied once; both senders get the same answer.
func TestConcurrentDuplicateBatches(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		tok := e.login(t, "cadre-a")
		changes := make([]map[string]any, 100)
		for i := range changes {
			changes[i] = visitChange(uuid.New(), e.householdA.Household.ID, fmt.Sprintf("并发%d", i), 34.7)
		}
		body := batch("phone-1", time.Now(), changes...)
		var wg sync.WaitGroup
		answers := make([][]byte, 4)
		for i := range answers {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				r := e.push(t, tok, "same-batch", body)
				if r.Status == http.StatusOK {
					answers[i] = r.Body
				} else if r.Status != http.StatusConflict {
					t.Errorf("concurrent duplicate: %d %s", r.Status, r.Body)
				}
			}(i)
		}
		wg.Wait()
		var first []byte
		for _, a := range answers {
			if a == nil {
				continue
			}
			if first == nil {
				first = a
			} else if !bytes.Equal(first, a) {
				t.Fatal("concurrent duplicates got different answers")
			}
		}
		if n := e.visitCount(t); n != 100 {
			t.Fatalf("want 100 visits, got %d", n)
		}
	})
}

// TestClockHonesty: device time is stored as given, the offset is measured
// at push, and implausible times are flagged; nothing is ordered by them.
func TestClockHonesty(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	tok := e.login(t, "cadre-a")
	wrongClock := time.Now().Add(-72 * time.Hour) // the phone thinks it is three days ago
	id := uuid.New()
	vc := visitChange(id, e.householdA.Household.ID, "时钟错误", 34.7)
	res := e.push(t, tok, "clock", batch("phone-1", wrongClock, vc)).pushResult(t)
	if off := time.Duration(res.ClockOffsetMS) * time.Millisecond; off < 71*time.Hour || off > 73*time.Hour {
		t.Fatalf("measured offset %v, want about 72h", off)
	}
	var v wire.Visit
	e.do(t, "GET", "/api/v1/visits/"+id.String(), tok, nil).json(t, &v)
	if v.StartedAt != "2026-11-20T09:30:00+08:00" {
		t.Fatalf("device time must be kept as given, got %q", v.StartedAt)
	}
	codes := map[string]bool{}
	for _, f := range v.Flags {
		codes[f.Code] = true
	}
	if !codes["clock_offset"] {
		t.Fatalf("a 3-day clock offset must be flagged: %+v", v.Flags)
	}
	future := visitChange(uuid.New(), e.householdA.Household.ID, "未来", 34.7)
	future["data"].(map[string]any)["started_at"] = time.Now().Add(48 * time.Hour).Format(time.RFC3339)
	future["data"].(map[string]any)["ended_at"] = time.Now().Add(49 * time.Hour).Format(time.RFC3339)
	r := e.push(t, tok, "future", batch("phone-1", time.Now(), future)).pushResult(t)
	if len(r.Results[0].Flags) == 0 || r.Results[0].Flags[0].Code != "future_time" {
		t.Fatalf("a visit two days in the future must be flagged: %+v", r.Results[0])
	}
}

// TestConflictsKeepTheLosingValue: two phones edit the same household from
// the same version. Different fields merge; the same field keeps the
// loser for a supervisor, who can restore it.
func TestConflictsKeepTheLosingValue(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		h := e.householdA.Household
		// A second cadre shares the household.
		sup := e.login(t, "supervisor-a")
		r := e.do(t, "POST", "/api/v1/users", sup, map[string]any{"username": "cadre-a2", "display_name": "王二", "role": "cadre",
			"region_id": e.villageA.ID, "password": testPassword})
		if r.Status != http.StatusCreated {
			t.Fatalf("create cadre: %d %s", r.Status, r.Body)
		}
		var c2 struct {
			ID string `json:"id"`
		}
		r.json(t, &c2)
		if r := e.do(t, "POST", "/api/v1/pairings", sup, map[string]any{"household_id": h.ID, "cadre_id": c2.ID}); r.Status != http.StatusCreated {
			t.Fatalf("pair: %d %s", r.Status, r.Body)
		}
		tok1, tok2 := e.login(t, "cadre-a"), e.login(t, "cadre-a2")
		edit := func(tok, key string, data, base map[string]any) wire.PushResult {
			return e.push(t, tok, key, batch("p-"+key, time.Now(), map[string]any{"entity": "household", "op": "update", "id": h.ID,
				"base_version": 1, "data": data, "base": base})).pushResult(t).Results[0]
		}
		a := edit(tok1, "e1", map[string]any{"phone": "13900000001", "income_notes": "外出务工"}, map[string]any{"phone": "", "income_notes": ""})
		if a.Status != wire.StatusApplied || a.Version != 2 {
			t.Fatalf("first edit: %+v", a)
		}
		b := edit(tok2, "e2", map[string]any{"address": "东风村一组8号"}, map[string]any{"address": ""})
		if b.Status != wire.StatusMerged || b.Version != 3 {
			t.Fatalf("non-overlapping edit from an old version must merge: %+v", b)
		}
		c := edit(tok2, "e3", map[string]any{"phone": "13700000002"}, map[string]any{"phone": ""})
		if c.Status != wire.StatusConflict || len(c.ConflictIDs) != 1 {
			t.Fatalf("overlapping edit: %+v", c)
		}
		var file struct {
			Phone, Address, IncomeNotes string
			Version                     int64
		}
		var raw map[string]any
		e.do(t, "GET", "/api/v1/households/"+h.ID.String(), sup, nil).json(t, &raw)
		file.Phone, file.Address, file.IncomeNotes = raw["phone"].(string), raw["address"].(string), raw["income_notes"].(string)
		if file.Phone != "13700000002" || file.Address != "东风村一组8号" || file.IncomeNotes != "外出务工" {
			t.Fatalf("after merge: %+v", file)
		}
		var inbox wire.Page[wire.Conflict]
		e.do(t, "GET", "/api/v1/conflicts?open=true", sup, nil).json(t, &inbox)
		if inbox.Total != 1 || inbox.Items[0].Field != "phone" || string(inbox.Items[0].LostValue) != `"13900000001"` {
			t.Fatalf("conflict inbox: %+v", inbox)
		}
		if r := e.do(t, "GET", "/api/v1/conflicts", e.login(t, "supervisor-b"), nil); r.Status != http.StatusOK || strings.Contains(string(r.Body), h.ID.String()) {
			t.Fatalf("another village's supervisor must not see the conflict: %s", r.Body)
		}
		if r := e.do(t, "POST", "/api/v1/conflicts/"+inbox.Items[0].ID.String()+"/resolve", e.login(t, "supervisor-b"), map[string]any{"resolution": "restore_lost"}); r.Status != http.StatusNotFound {
			t.Fatalf("resolving another village's conflict: want 404, got %d", r.Status)
		}
		r = e.do(t, "POST", "/api/v1/conflicts/"+inbox.Items[0].ID.String()+"/resolve", sup, map[string]any{"resolution": "restore_lost"})
		if r.Status != http.StatusOK {
			t.Fatalf("resolve: %d %s", r.Status, r.Body)
		}
		e.do(t, "GET", "/api/v1/households/"+h.ID.String(), sup, nil).json(t, &raw)
		if raw["phone"] != "13900000001" || raw["version"].(float64) != 5 {
			t.Fatalf("restored value: phone %v version %v", raw["phone"], raw["version"])
		}
	})
}

// pullAll pulls until has_more is false and returns every change.
func (e *testEnv) pullAll(t *testing.T, tok, cursor string, limit int) ([]wire.PulledChange, string) {
	t.Helper()
	var all []wire.PulledChange
	for i := 0; i < 1000; i++ {
		path := "/api/v1/sync/pull?limit=" + fmt.Sprint(limit)
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		r := e.do(t, "GET", path, tok, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("pull: %d %s", r.Status, r.Body)
		}
		var page wire.PullResponse
		r.json(t, &page)
		all = append(all, page.Changes...)
		cursor = page.Cursor
		if !page.HasMore {
			return all, cursor
		}
	}
	t.Fatal("pull never ended")
	return nil, ""
}

func has(changes []wire.PulledChange, entity, op string, id uuid.UUID) bool {
	for _, c := range changes {
		if c.Entity == entity && c.Op == op && c.ID == id {
			return true
		}
	}
	return false
}

// TestPullFollowsScope: a fresh phone gets its households whole; a
// household paired later arrives whole; one re-paired away is dropped with
// tombstones; own visits from another device arrive.
func TestPullFollowsScope(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		tok := e.login(t, "cadre-a")
		h := e.householdA
		first, cursor := e.pullAll(t, tok, "", 1) // page size 1: every page boundary is crossed
		if !has(first, "household", "upsert", h.Household.ID) || !has(first, "member", "upsert", h.Members[0].ID) || !has(first, "pairing", "upsert", e.pairingA.ID) {
			t.Fatalf("fresh pull lacks the paired household file: %+v", first)
		}
		if has(first, "household", "upsert", e.householdB.Household.ID) {
			t.Fatal("fresh pull leaked another village's household")
		}
		// Own visit from a second phone.
		vid := uuid.New()
		e.push(t, tok, "other-phone", batch("phone-2", time.Now(), visitChange(vid, h.Household.ID, "另一台手机", 34.7))).pushResult(t)
		// A supervisor edits the household.
		sup := e.login(t, "supervisor-a")
		e.do(t, "PATCH", "/api/v1/households/"+h.Household.ID.String(), sup, map[string]any{"version": 1, "address": "新地址"})
		next, cursor := e.pullAll(t, tok, cursor, 50)
		if !has(next, "visit", "upsert", vid) || !has(next, "household", "upsert", h.Household.ID) {
			t.Fatalf("incremental pull missed a change: %+v", next)
		}
		// Re-pair the household to another cadre: it leaves cadre-a's scope.
		r := e.do(t, "POST", "/api/v1/users", sup, map[string]any{"username": "cadre-a3", "display_name": "赵三", "role": "cadre", "region_id": e.villageA.ID, "password": testPassword})
		var c3 struct {
			ID string `json:"id"`
		}
		r.json(t, &c3)
		if r := e.do(t, "POST", "/api/v1/pairings/"+e.pairingA.ID.String()+"/end", sup, map[string]any{"reason": "工作调整", "new_cadre_id": c3.ID}); r.Status != http.StatusOK {
			t.Fatalf("re-pair: %d %s", r.Status, r.Body)
		}
		gone, _ := e.pullAll(t, tok, cursor, 50)
		if !has(gone, "household", "delete", h.Household.ID) || !has(gone, "member", "delete", h.Members[0].ID) || !has(gone, "pairing", "delete", e.pairingA.ID) {
			t.Fatalf("scope shrank but no tombstones: %+v", gone)
		}
		// The new cadre's phone, already synced once, gets the household whole.
		tok3 := e.login(t, "cadre-a3")
		arrived, _ := e.pullAll(t, tok3, "", 50)
		if !has(arrived, "household", "upsert", h.Household.ID) || !has(arrived, "member", "upsert", h.Members[0].ID) {
			t.Fatalf("new cadre's pull lacks the household: %+v", arrived)
		}
		if r := e.do(t, "GET", "/api/v1/sync/pull?cursor=garbage", tok, nil); r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("a forged cursor: want 422, got %d", r.Status)
		}
	})
}

// TestSnapshotIsAFreshPullInOneAnswer: GET /sync/snapshot carries what a
// fresh phone's paged pull carries (the own visits of another phone
// included), its cursor goes on with the feed, a scope larger than the
// server sends whole is refused naming the scope, and a bad limit names
// the limit.
func TestSnapshotIsAFreshPullInOneAnswer(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		tok := e.login(t, "cadre-a")
		h := e.householdA
		vid := uuid.New()
		e.push(t, tok, "other-phone", batch("snap-1", time.Now(), visitChange(vid, h.Household.ID, "快照之前", 34.7))).pushResult(t)

		paged, _ := e.pullAll(t, tok, "", 1)
		r := e.do(t, "GET", "/api/v1/sync/snapshot?limit=1", tok, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("snapshot: %d %s", r.Status, r.Body)
		}
		var page wire.PullResponse
		r.json(t, &page)
		rest, cursor := []wire.PulledChange(nil), page.Cursor
		if page.HasMore {
			rest, cursor = e.pullAll(t, tok, page.Cursor, 50)
		}
		if got, want := latest(append(page.Changes, rest...)), latest(paged); !maps.Equal(got, want) {
			t.Fatalf("snapshot gave %v, a paged fresh pull %v", got, want)
		}
		if !has(page.Changes, "household", "upsert", h.Household.ID) || !has(page.Changes, "visit", "upsert", vid) ||
			has(page.Changes, "household", "upsert", e.householdB.Household.ID) {
			t.Fatalf("snapshot lacks the cadre's household or visit, or leaks another village's: %+v", page.Changes)
		}
		// Households, then members, then pairings, then visits and the
		// feed, as documented: a tombstone in the feed follows what it
		// removes.
		rank := map[string]int{"household": 0, "member": 1, "pairing": 2, "visit": 3}
		for i := 1; i < len(page.Changes); i++ {
			if rank[page.Changes[i].Entity] < rank[page.Changes[i-1].Entity] {
				t.Fatalf("snapshot change %d (%s) follows a %s", i, page.Changes[i].Entity, page.Changes[i-1].Entity)
			}
		}
		// The cursor goes on with the feed.
		sup := e.login(t, "supervisor-a")
		e.do(t, "PATCH", "/api/v1/households/"+h.Household.ID.String(), sup, map[string]any{"version": 1, "address": "快照之后的新地址"})
		next, _ := e.pullAll(t, tok, cursor, 50)
		if !has(next, "household", "upsert", h.Household.ID) {
			t.Fatalf("the pull after the snapshot missed an edit: %+v", next)
		}

		for _, limit := range []string{"0", "2001", "x"} {
			r := e.do(t, "GET", "/api/v1/sync/snapshot?limit="+limit, tok, nil)
			if r.Status != http.StatusUnprocessableEntity || !bytes.Contains(r.Body, []byte(`"field":"limit"`)) {
				t.Errorf("limit=%s: want 422 naming limit, got %d %s", limit, r.Status, r.Body)
			}
		}
	})
}

func TestSnapshotRefusesAScopeTooLargeToSendWhole(t *testing.T) {
	e := newTestEnvConfig(t, Config{DataDir: t.TempDir(), HashConcurrency: 4, ShutdownTimeout: time.Second, SnapshotHouseholds: 1}, io.Discard)
	admin := e.login(t, "admin") // the whole province: both villages' households
	r := e.do(t, "GET", "/api/v1/sync/snapshot", admin, nil)
	if r.Status != http.StatusUnprocessableEntity || !bytes.Contains(r.Body, []byte(`"field":"scope"`)) || !bytes.Contains(r.Body, []byte(`"reason":"too_large"`)) {
		t.Fatalf("want 422 naming the scope, got %d %s", r.Status, r.Body)
	}
	// A cadre's one household still comes whole; the admin pages.
	if r := e.do(t, "GET", "/api/v1/sync/snapshot", e.login(t, "cadre-a"), nil); r.Status != http.StatusOK {
		t.Fatalf("a scope within the limit: %d %s", r.Status, r.Body)
	}
	if all, _ := e.pullAll(t, admin, "", 500); !has(all, "household", "upsert", e.householdB.Household.ID) {
		t.Fatal("the paged pull of the large scope lacks a household")
	}
}

// latest maps each record a pull left standing to its version (a
// tombstone removes it), as a phone keeping the higher version would.
func latest(changes []wire.PulledChange) map[string]int64 {
	out := map[string]int64{}
	for _, c := range changes {
		k := c.Entity + "/" + c.ID.String()
		if v, ok := out[k]; ok && v > c.Version {
			continue
		}
		if c.Op == wire.OpDelete {
			delete(out, k)
			continue
		}
		out[k] = c.Version
	}
	return out
}

// TestDeletedMemberTombstoneOutranksThePhone: a member deleted in the
// register reaches a phone as a tombstone with a version above the one it
// holds, so a phone keeping the higher version drops the member.
func TestDeletedMemberTombstoneOutranksThePhone(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	tok := e.login(t, "cadre-a")
	_, cursor := e.pullAll(t, tok, "", 100)
	m := e.householdA.Members[0]
	path := "/api/v1/households/" + e.householdA.Household.ID.String() + "/members/" + m.ID.String()
	if r := e.do(t, "DELETE", path, e.login(t, "supervisor-a"), nil); r.Status != http.StatusNoContent {
		t.Fatalf("delete member: %d %s", r.Status, r.Body)
	}
	changes, _ := e.pullAll(t, tok, cursor, 100)
	for _, c := range changes {
		if c.Entity == wire.EntityMember && c.ID == m.ID && c.Op == wire.OpDelete {
			if c.Version <= m.Version {
				t.Fatalf("tombstone version %d does not outrank the phone's %d", c.Version, m.Version)
			}
			return
		}
	}
	t.Fatalf("no tombstone for the deleted member: %+v", changes)
}

// TestVisitAfterRepairingIsKeptAndFlagged: a cadre offline for days visits
// a household that was re-paired to someone else meanwhile. The visit
// happened: it is stored, flagged outside_pairing, not refused.
func TestVisitAfterRepairingIsKeptAndFlagged(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	sup := e.login(t, "supervisor-a")
	r := e.do(t, "POST", "/api/v1/users", sup, map[string]any{"username": "cadre-new", "display_name": "新干部", "role": "cadre",
		"region_id": e.villageA.ID, "password": testPassword})
	var c struct {
		ID string `json:"id"`
	}
	r.json(t, &c)
	if r := e.do(t, "POST", "/api/v1/pairings/"+e.pairingA.ID.String()+"/end", sup, map[string]any{"reason": "调整", "new_cadre_id": c.ID}); r.Status != http.StatusOK {
		t.Fatalf("re-pair: %d %s", r.Status, r.Body)
	}
	tok := e.login(t, "cadre-a")
	visit := visitChange(uuid.New(), e.householdA.Household.ID, "不知道已调整", 34.7)
	visit["data"].(map[string]any)["started_at"] = time.Now().Format(time.RFC3339)
	visit["data"].(map[string]any)["ended_at"] = time.Now().Add(30 * time.Minute).Format(time.RFC3339)
	res := e.push(t, tok, "late", batch("phone-1", time.Now(), visit)).pushResult(t).Results[0]
	if res.Status != wire.StatusApplied || len(res.Flags) == 0 || res.Flags[len(res.Flags)-1].Code != "outside_pairing" {
		t.Fatalf("want the visit kept and flagged outside_pairing, got %+v", res)
	}
	// A household the cadre was never paired with stays refused.
	res = e.push(t, tok, "never", batch("phone-1", time.Now(), visitChange(uuid.New(), e.householdB.Household.ID, "从未结对", 34.7))).pushResult(t).Results[0]
	if res.Status != wire.StatusRejected {
		t.Fatalf("a household never paired must be refused: %+v", res)
	}
}

// TestDutyRegionWidensTheCadresScope: a town head (DESIGN §6: visits every
// registered household of the town, paired or not) syncs the town's
// households, records visits to ones nobody paired them with, and when the
// duty ends the phone is told to drop them; given again, they come back.
func TestDutyRegionWidensTheCadresScope(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		admin := e.login(t, "admin")
		today := domain.DateOf(time.Now())
		duty := func(end *domain.Date) []map[string]any {
			d := map[string]any{"kind": domain.DutyTownHead, "region_id": e.town.ID, "start_on": today.AddDays(-30).String()}
			if end != nil {
				d["end_on"] = end.String()
			}
			return []map[string]any{d}
		}
		r := e.do(t, "POST", "/api/v1/users", admin, map[string]any{"username": "town-head", "display_name": "王镇长", "role": "cadre",
			"region_id": e.town.ID, "rank": domain.RankSectionLevel, "duties": duty(nil), "password": testPassword})
		if r.Status != http.StatusCreated {
			t.Fatalf("create town head: %d %s", r.Status, r.Body)
		}
		var head struct {
			ID string `json:"id"`
		}
		r.json(t, &head)
		tok := e.login(t, "town-head")
		a, b := e.householdA, e.householdB

		first, cursor := e.pullAll(t, tok, "", 1)
		for _, h := range []registry.HouseholdFile{a, b} {
			if !has(first, "household", "upsert", h.Household.ID) || !has(first, "member", "upsert", h.Members[0].ID) {
				t.Fatalf("the town head's fresh pull lacks %s's file: %+v", h.Household.HeadName, first)
			}
		}
		if other, _ := e.pullAll(t, e.login(t, "cadre-a"), "", 50); has(other, "household", "upsert", b.Household.ID) {
			t.Fatal("a cadre without the duty sees another village's household")
		}

		vid := uuid.New()
		res := e.push(t, tok, "town-head-1", batch("head-phone", time.Now(), visitChange(vid, b.Household.ID, "镇长遍访", 34.7))).pushResult(t)
		if res.Results[0].Status != "applied" {
			t.Fatalf("the town head's visit to an unpaired household of the town: %+v", res.Results[0])
		}

		// The duty ends today: the phone drops the town's households.
		end := today
		if r := e.do(t, "PATCH", "/api/v1/users/"+head.ID, admin, map[string]any{"duties": duty(&end)}); r.Status != http.StatusOK {
			t.Fatalf("end the duty: %d %s", r.Status, r.Body)
		}
		gone, cursor := e.pullAll(t, tok, cursor, 1)
		for _, h := range []registry.HouseholdFile{a, b} {
			if !has(gone, "household", "delete", h.Household.ID) || !has(gone, "member", "delete", h.Members[0].ID) {
				t.Fatalf("duty ended but no tombstones for %s: %+v", h.Household.HeadName, gone)
			}
		}
		if has(gone, "visit", "delete", vid) {
			t.Fatal("the cadre's own visit must stay on the phone")
		}
		res = e.push(t, tok, "town-head-2", batch("head-phone", time.Now(), visitChange(uuid.New(), b.Household.ID, "卸任后", 34.7))).pushResult(t)
		if res.Results[0].Status != "rejected" {
			t.Fatalf("a visit after the duty ended: %+v", res.Results[0])
		}

		// Given the duty again, the households come back whole.
		if r := e.do(t, "PATCH", "/api/v1/users/"+head.ID, admin, map[string]any{"duties": duty(nil)}); r.Status != http.StatusOK {
			t.Fatalf("give the duty again: %d %s", r.Status, r.Body)
		}
		back, _ := e.pullAll(t, tok, cursor, 50)
		for _, h := range []registry.HouseholdFile{a, b} {
			if !has(back, "household", "upsert", h.Household.ID) || !has(back, "member", "upsert", h.Members[0].ID) {
				t.Fatalf("duty given again but %s did not come back: %+v", h.Household.HeadName, back)
			}
		}

		// A cursor that claims someone else's duty region learns nothing.
		forged := forgeCursor(t, cursor, e.villageB.ID)
		if r := e.do(t, "GET", "/api/v1/sync/pull?limit=50&cursor="+forged, e.login(t, "cadre-a"), nil); r.Status != http.StatusOK ||
			strings.Contains(string(r.Body), b.Household.ID.String()) {
			t.Fatalf("a forged cursor revealed another village's household: %d %s", r.Status, r.Body)
		}
	})
}

// forgeCursor rewrites a cursor's duty regions, as a tampering phone might.
func forgeCursor(t *testing.T, cursor string, region uuid.UUID) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	c["d"] = []string{region.String()}
	raw, _ = json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(raw)
}

// TestPairingDatesReachThePhone: a re-pairing set to take effect on a later
// date changes both phones' scope on that date, with no write that day;
// the hourly announcement puts it in the feed, so the old cadre's phone
// drops the household and the new one's receives it whole.
func TestPairingDatesReachThePhone(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		sup := e.login(t, "supervisor-a")
		r := e.do(t, "POST", "/api/v1/users", sup, map[string]any{"username": "cadre-a3", "display_name": "赵三", "role": "cadre", "region_id": e.villageA.ID, "password": testPassword})
		var c3 struct {
			ID string `json:"id"`
		}
		r.json(t, &c3)
		on := domain.DateOf(time.Now()).AddDays(3)
		if r := e.do(t, "POST", "/api/v1/pairings/"+e.pairingA.ID.String()+"/end", sup,
			map[string]any{"reason": "工作调整", "new_cadre_id": c3.ID, "on": on.String()}); r.Status != http.StatusOK {
			t.Fatalf("re-pair from a later date: %d %s", r.Status, r.Body)
		}
		h := e.householdA
		oldTok, newTok := e.login(t, "cadre-a"), e.login(t, "cadre-a3")
		before, oldCursor := e.pullAll(t, oldTok, "", 50)
		if !has(before, "household", "upsert", h.Household.ID) {
			t.Fatal("until the date the household stays with its cadre")
		}
		early, newCursor := e.pullAll(t, newTok, "", 50)
		if has(early, "household", "upsert", h.Household.ID) {
			t.Fatal("the new cadre got the household before the date")
		}

		later := on.Start().Add(9 * time.Hour)
		e.app.Now = func() time.Time { return later }
		e.rebuildAuth(t)
		n, err := e.app.Sync.AnnounceScopeDates(context.Background())
		if err != nil || n != 2 {
			t.Fatalf("announced %d dated pairings (%v), want the old one's end and the new one's start", n, err)
		}
		if again, err := e.app.Sync.AnnounceScopeDates(context.Background()); err != nil || again != 0 {
			t.Fatalf("announcing again wrote %d (%v), want nothing", again, err)
		}
		oldTok, newTok = e.login(t, "cadre-a"), e.login(t, "cadre-a3")
		gone, _ := e.pullAll(t, oldTok, oldCursor, 50)
		if !has(gone, "household", "delete", h.Household.ID) || !has(gone, "member", "delete", h.Members[0].ID) {
			t.Fatalf("on the date the old cadre's phone was not told to drop the household: %+v", gone)
		}
		arrived, _ := e.pullAll(t, newTok, newCursor, 50)
		if !has(arrived, "household", "upsert", h.Household.ID) || !has(arrived, "member", "upsert", h.Members[0].ID) {
			t.Fatalf("on the date the new cadre's phone did not receive the household: %+v", arrived)
		}
	})
}
