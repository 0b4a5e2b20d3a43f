package fieldapp

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/fieldvisit/fieldvisit/internal/photos/photoimage"
	"github.com/fieldvisit/fieldvisit/internal/testkit/browsertest"
)

// TestOutboxRules drives the pure functions of static/js/outbox.js — the
// outbox's and the replica's rules of docs/sync-protocol.md §3 — in
// Chromium, as the app's own module: each case is a JavaScript expression
// over the module m and the JSON it must come to. No IndexedDB and no
// server take part; sync.js applies what these decide.
func TestOutboxRules(t *testing.T) {
	a, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(Prefix, a)
	// A blank page of the app's origin to import the module into (the app's
	// own page would start the app).
	mux.HandleFunc("/blank", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<!doctype html><title>outbox</title>")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	b := browsertest.Start(t, browsertest.SmallPhone)
	b.Do(chromedp.Navigate(srv.URL + "/blank"))

	// Records, entries and batches as IndexedDB holds them.
	const (
		household = `{entity: "household", id: "h1", household_id: "h1", version: 4, data: {phone: "1", address: "一组"}, local: {}}`
		visitV2   = `{entity: "visit", id: "v1", household_id: "h1", version: 2, data: {notes: "旧", kind: "assist"}, local: {notes: "新"}}`
		versions  = `(e, id) => ({"household:h1": 4, "visit:v1": 7})[e + ":" + id]`
	)
	// A household form as GET /api/v1/inspection-forms serves it, one item
	// of each kind.
	const form = `{code: "household", version: 1, items: [
		{code: "food", label_zh: "不愁吃", kind: "choice", choices: [{code: "met"}, {code: "problem"}], max: 0, required: true},
		{code: "plan_seen", label_zh: "查看户帮扶计划", kind: "yes_no", choices: [], max: 0, required: true},
		{code: "visits_recalled", label_zh: "入户次数", kind: "count", choices: [], max: 99, required: true},
		{code: "measures_received", label_zh: "帮扶措施", kind: "choices", choices: [{code: "dibao"}, {code: "medical"}], max: 0, required: false},
		{code: "note", label_zh: "备注", kind: "text", choices: [], max: 5, required: false}]}`
	for _, tc := range []struct {
		name   string
		module string // under /app/js/; outbox.js when empty
		expr   string // over m, the module
		want   string // JSON
	}{
		// canonical: the same value whatever the key order.
		{"the same object in another key order is the same", "", `m.same({a: 1, b: [1, {c: 2, d: 3}]}, {b: [1, {d: 3, c: 2}], a: 1})`, `true`},
		{"another array order is another value", "", `m.same([1, 2], [2, 1])`, `false`},
		{"an absent field is null", "", `m.same(undefined, null)`, `true`},

		// visible: the server copy with the cadre's unsent edits on top.
		{"the cadre sees their unsent edit", "", `m.visible(` + visitV2 + `)`, `{"notes": "新", "kind": "assist"}`},
		{"no record is nothing", "", `m.visible(undefined)`, `null`},

		// changedFields: only what differs from what the cadre saw.
		{"an edit sends only the fields it changes", "", `m.changedFields({phone: "1", address: "一组", causes: ["illness"]}, {phone: "2", address: "一组", causes: ["illness"]})`, `{"phone": "2"}`},

		// corrects: an edit changing again every field a refused edit
		// carried puts it right; one leaving a field, or a refused create, does not.
		{"an edit of every refused field corrects the refusal", "",
			`m.corrects({op: "update", data: {phone: "12", year: 2026}}, {phone: "13900000012"}, {year: 2026})`, `true`},
		{"an edit of another field leaves the refusal", "", `m.corrects({op: "update", data: {phone: "12", address: "x"}}, {phone: "13900000012"})`, `false`},
		{"a refused create is corrected as a create", "", `m.corrects({op: "create", data: {phone: "12"}}, {phone: "13900000012"})`, `false`},

		// planEdit (rules 5 and 6).
		{"a first edit is an update from the version held, with its base", "",
			`m.planEdit({entity: "household", id: "h1", householdId: "h1", rec: ` + household + `, before: {phone: "1"}, changed: {phone: "2"}})`,
			`{"action": "queue", "entry": {"entity": "household", "op": "update", "id": "h1", "household_id": "h1", "base_version": 4, "data": {"phone": "2"}, "base": {"phone": "1"}}}`},
		{"an edit while an earlier change is in flight leaves base_version to batch time", "",
			`m.planEdit({entity: "household", id: "h1", householdId: "h1", rec: ` + household + `, inFlight: true, before: {phone: "2"}, changed: {phone: "3"}})`,
			`{"action": "queue", "entry": {"entity": "household", "op": "update", "id": "h1", "household_id": "h1", "base_version": null, "data": {"phone": "3"}, "base": {"phone": "2"}}}`},
		{"an edit of an unsent update folds in, each field keeping its oldest base", "",
			`m.planEdit({entity: "household", id: "h1", householdId: "h1", unsent: {seq: 9, entity: "household", op: "update", id: "h1", base_version: 4, data: {phone: "2"}, base: {phone: "1"}}, before: {phone: "2", address: "一组"}, changed: {phone: "3", address: "二组"}})`,
			`{"action": "fold", "entry": {"seq": 9, "entity": "household", "op": "update", "id": "h1", "base_version": 4, "data": {"phone": "3", "address": "二组"}, "base": {"phone": "1", "address": "一组"}}}`},
		{"an edit of an unsent visit folds into its create, which has no base", "",
			`m.planEdit({entity: "visit", id: "v1", householdId: "h1", unsent: {seq: 3, entity: "visit", op: "create", id: "v1", data: {notes: "甲", kind: "assist"}}, before: {notes: "甲"}, changed: {notes: "乙"}})`,
			`{"action": "fold", "entry": {"seq": 3, "entity": "visit", "op": "create", "id": "v1", "data": {"notes": "乙", "kind": "assist"}}}`},
		{"an edit that changes nothing queues nothing", "",
			`m.planEdit({entity: "household", id: "h1", rec: ` + household + `, before: {phone: "1"}, changed: {}})`, `{"action": "none"}`},

		// planDelete.
		{"deleting a visit that never left the phone forgets it", "",
			`m.planDelete({id: "v1", householdId: "h1", unsent: {seq: 3, op: "create"}})`, `{"action": "forget", "drop": 3}`},
		{"deleting a stored visit queues a delete from its version and drops its unsent edit", "",
			`m.planDelete({id: "v1", householdId: "h1", rec: ` + visitV2 + `, unsent: {seq: 5, op: "update"}})`,
			`{"action": "queue", "drop": 5, "entry": {"entity": "visit", "op": "delete", "id": "v1", "household_id": "h1", "base_version": 2}}`},

		// changeOf and formBatch (rule 2).
		{"a create carries no base_version", "",
			`m.changeOf({entity: "visit", op: "create", id: "v9", household_id: "h1", data: {notes: "甲"}}, ` + versions + `)`,
			`{"entity": "visit", "op": "create", "id": "v9", "household_id": "h1", "data": {"notes": "甲"}}`},
		{"an empty base_version is the version known when the batch is formed", "",
			`m.changeOf({entity: "visit", op: "update", id: "v1", household_id: "h1", base_version: null, data: {notes: "乙"}, base: {notes: "甲"}}, ` + versions + `)`,
			`{"entity": "visit", "op": "update", "id": "v1", "household_id": "h1", "base_version": 7, "data": {"notes": "乙"}, "base": {"notes": "甲"}}`},
		{"a batch is its key and the exact body to resend", "",
			`(() => { const b = m.formBatch([{seq: 1, entity: "visit", op: "create", id: "v9", household_id: "h1", data: {notes: "甲"}}], {deviceId: "app-1", deviceTime: "2026-12-06T09:30:00+08:00", key: "k-1", versionOf: ` + versions + `}); return {key: b.key, seqs: b.seqs, body: JSON.parse(b.body), exact: b.body.startsWith('{"device_id":"app-1","device_time":"2026-12-06T09:30:00+08:00","changes":[{"entity":"visit"')}; })()`,
			`{"key": "k-1", "seqs": [1], "exact": true, "body": {"device_id": "app-1", "device_time": "2026-12-06T09:30:00+08:00", "changes": [{"entity": "visit", "op": "create", "id": "v9", "household_id": "h1", "data": {"notes": "甲"}}]}}`},
		{"a batch holds at most 500 changes", "",
			`m.formBatch(Array.from({length: 501}, (_, i) => ({seq: i + 1, entity: "visit", op: "create", id: "v" + i, data: {}})), {deviceId: "d", deviceTime: "t", key: "k", versionOf: () => 1}).seqs.length`, `500`},
		{"a batch is cut near 1 MiB", "",
			`m.formBatch(Array.from({length: 5}, (_, i) => ({seq: i + 1, entity: "visit", op: "create", id: "v" + i, data: {notes: "x".repeat(400000)}})), {deviceId: "d", deviceTime: "t", key: "k", versionOf: () => 1}).seqs`, `[1, 2]`},
		{"one change larger than the cut still goes", "",
			`m.formBatch([{seq: 4, entity: "visit", op: "create", id: "v", data: {notes: "x".repeat(1100000)}}], {deviceId: "d", deviceTime: "t", key: "k", versionOf: () => 1}).seqs`, `[4]`},

		// settle (rule 4 and §7.4).
		{"stored statuses are done; rejected and conflict go to the attention list; a missing result is rejected", "",
			`m.settle({entries: [{id: "a"}, {id: "b"}, {id: "c"}, {id: "d"}, {id: "e"}, {id: "f"}]}, {results: [
				{index: 0, status: "applied", version: 1}, {index: 1, status: "merged", version: 5}, {index: 2, status: "duplicate"},
				{index: 3, status: "conflict", version: 6, conflict_ids: ["c1"]}, {index: 4, status: "rejected", errors: [{field: "/changes/4/data/gps/0/lat", reason: "out_of_range"}]}]})
				.map((o) => [o.entry.id, o.stored, o.attention && o.attention.kind, o.attention && (o.attention.conflict_ids || o.attention.errors.map((e) => e.reason))])`,
			`[["a", true, null, null], ["b", true, null, null], ["c", true, null, null], ["d", true, "conflict", ["c1"]], ["e", false, "rejected", ["out_of_range"]], ["f", false, "rejected", ["missing_result"]]]`},

		// acknowledge.
		{"an acknowledged edit moves to the server copy with the answer's version", "",
			`m.acknowledge(` + visitV2 + `, {entity: "visit", op: "update", id: "v1", data: {notes: "新"}}, {status: "applied", version: 3})`,
			`{"entity": "visit", "id": "v1", "household_id": "h1", "version": 3, "data": {"notes": "新", "kind": "assist"}, "local": {}}`},
		{"a field edited again since the batch stays local", "",
			`m.acknowledge({...` + visitV2 + `, local: {notes: "更新"}}, {entity: "visit", op: "update", id: "v1", data: {notes: "新"}}, {status: "applied", version: 3}).local`,
			`{"notes": "更新"}`},
		{"an acknowledged delete removes the record", "",
			`m.acknowledge(` + visitV2 + `, {entity: "visit", op: "delete", id: "v1"}, {status: "applied", version: 3})`, `null`},
		{"an acknowledged ledger item leaves the phone: the pull never brings it back", "",
			`m.acknowledge({entity: "ledger_item", id: "l1", household_id: "h1", version: 0, data: {}, local: {kind: "hardship", problem: "独居老人冬季缺煤", deadline: "2027-01-15"}},
				{entity: "ledger_item", op: "create", id: "l1", data: {kind: "hardship", problem: "独居老人冬季缺煤", deadline: "2027-01-15"}}, {status: "applied", version: 1})`, `null`},

		// abandon (放弃 on a refused change).
		{"a refused create given up leaves the phone: the server never had the record", "",
			`m.abandon({entity: "visit", id: "v9", household_id: "h1", version: 0, data: {}, local: {notes: "新"}}, {entity: "visit", op: "create", id: "v9", data: {notes: "新"}})`, `null`},
		{"a refused edit given up leaves the server's copy; a field edited since stays", "",
			`(() => { const r = m.abandon({...` + household + `, local: {phone: "2", address: "二组"}}, {entity: "household", op: "update", id: "h1", data: {phone: "2", address: "三组"}}); return [r.version, r.local, m.visible(r)]; })()`,
			`[4, {"address": "二组"}, {"phone": "1", "address": "二组"}]`},
		{"a refused delete given up shows the visit again", "",
			`m.abandon({...` + visitV2 + `, local: {_deleted: true}}, {entity: "visit", op: "delete", id: "v1"})`,
			`{"entity": "visit", "id": "v1", "household_id": "h1", "version": 2, "data": {"notes": "旧", "kind": "assist"}}`},

		{"a given-up edit's photos are stray; the server's visit's own are not", "",
			`m.strayPhotos("v1", {...` + visitV2 + `, data: {photos: [{photo_id: "p1"}]}}, [{photo_id: "p1", visit_id: "v1"}, {photo_id: "p2", visit_id: "v1"}, {photo_id: "p3", visit_id: "v2"}])`,
			`["p2"]`},
		{"a given-up visit the server never had leaves every photo of it stray", "",
			`m.strayPhotos("v9", null, [{photo_id: "p1", visit_id: "v1"}, {photo_id: "p4", visit_id: "v9"}])`, `["p4"]`},

		// applyPulled (rule 9).
		{"a pulled copy older than the phone's is skipped", "",
			`m.applyPulled(` + household + `, {entity: "household", op: "upsert", id: "h1", version: 3, data: {phone: "0"}})`, `{"skip": true}`},
		{"a pulled copy of the same version replaces it (a re-judged visit)", "",
			`m.applyPulled(` + household + `, {entity: "household", op: "upsert", id: "h1", household_id: "h1", version: 4, data: {phone: "1", flags: []}}).put.data`,
			`{"phone": "1", "flags": []}`},
		{"the cadre's unsent edits stay on top of a newer copy", "",
			`(() => { const p = m.applyPulled(` + visitV2 + `, {entity: "visit", op: "upsert", id: "v1", household_id: "h1", version: 5, data: {notes: "他机", kind: "assist"}}).put; return [p.version, m.visible(p).notes]; })()`,
			`[5, "新"]`},
		{"a tombstone removes the record", "",
			`m.applyPulled(` + household + `, {entity: "household", op: "delete", id: "h1", version: 9})`, `{"del": true}`},
		{"a fresh walk marks even the records it skips, so the walk's end keeps them", "",
			`m.applyPulled({...` + household + `, version: 8}, {entity: "household", op: "upsert", id: "h1", version: 4, data: {}}, "w1").put.walk`, `"w1"`},

		// backlog (§17's headers).
		{"the backlog counts the batch in flight, the queue and the photos not refused", "",
			`m.backlog([{entity: "visit", op: "create", id: "v2", data: {}}], {body: "0123456789", seqs: [1, 2]}, [{size: 1000, offset: 400}, {size: 50, refused: {status: 422}}])`,
			`{"records": 3, "photos": 1, "bytes": 663}`},

		// nextChunkSize (§15.4).
		{"a failed chunk halves the size", "", `m.nextChunkSize(65536, {failed: true})`, `32768`},
		{"never below 16 KiB", "", `m.nextChunkSize(16384, {failed: true})`, `16384`},
		{"a fast link at most doubles it", "", `m.nextChunkSize(65536, {sentBytes: 65536, seconds: 0.01})`, `131072`},
		{"never above the upload's chunk_max", "", `m.nextChunkSize(65536, {sentBytes: 65536, seconds: 0.01, chunkMax: 100000})`, `100000`},
		{"a slow link sizes it to ten seconds", "", `m.nextChunkSize(65536, {sentBytes: 65536, seconds: 20})`, `32768`},

		// rfc3339: device times with the phone's own offset.
		{"a device time carries the phone's offset", "", `/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/.test(m.rfc3339(new Date()))`, `true`},

		// findings.js: the household form's answers (§7.5, §13.1).
		{"each item's answer takes the field of its kind; blank ones are left out", "findings.js",
			`m.answersOf(` + form + `, (c) => ({food: ["problem"], plan_seen: ["no"], visits_recalled: [" 2 "], measures_received: ["dibao", "dibao", "medical"], note: [""]})[c] || [])`,
			`{"food": {"choice": "problem"}, "plan_seen": {"yes": false}, "visits_recalled": {"count": 2}, "measures_received": {"choices": ["dibao", "medical"]}}`},
		{"the required items left blank are named in the form's order", "findings.js",
			`m.problemsOf(` + form + `, {plan_seen: {yes: true}}).map((p) => p.code)`, `["food", "visits_recalled"]`},
		{"a count that is no whole number in range, and a text too long, are refused", "findings.js",
			`m.problemsOf(` + form + `, {food: {choice: "met"}, plan_seen: {yes: true}, visits_recalled: {count: 2.5}, note: {text: "六个字的备注"}}).map((p) => p.message)`,
			`["入户次数应为0至99的整数", "备注不能超过5字"]`},
		{"per-capita net income is rounded to the fen half away from zero, as the server rounds it", "casework.js",
			`[m.netPerCapita({wages_fen: 800050, business_fen: 300025, transfers_fen: 120000, pensions_fen: 60010, costs_fen: 150032}, 5),
			  m.netPerCapita({wages_fen: 5, members_counted: 2}, 9), m.netPerCapita({costs_fen: 5}, 2), m.netPerCapita({year: 2026}, 3), m.netPerCapita({wages_fen: 100}, 0)]`,
			`[226011, 3, -3, null, null]`},
		{"a ledger item is held to the server's rules, in its words, before it is saved", "ledger.js",
			`[m.checkItem({kind: "livelihood_request", problem: "村道破损，雨天出行困难", deadline: "2027-01-15"}, "2027-01-15"),
			  m.checkItem({kind: "livelihood_request", problem: "  ", deadline: ""}, "2027-01-15"),
			  m.checkItem({kind: "hardship", problem: "缺煤\u0007", deadline: "2027-01-14"}, "2027-01-15"),
			  m.checkItem({kind: "livelihood_request", problem: "长".repeat(2001), deadline: "2027-01-16"}, "2027-01-15"),
			  m.checkItem({kind: "rectification", problem: "整改", deadline: "2027-01-16"}, "2027-01-15")]`,
			`[[], ["问题描述不能为空", "办理时限不能为空"], ["问题描述包含不可见控制字符", "解决时限不能早于今天"], ["问题描述超过2000个字符的长度限制"], ["事项类别无效"]]`},
		{"a deadline is judged on the day in China, whatever the phone's zone", "ledger.js",
			`[m.today(new Date("2027-01-14T16:30:00Z")), m.today(new Date("2027-01-14T15:59:00Z"))]`, `["2027-01-15", "2027-01-14"]`},
		{"a task the server marked done is 已核查 whatever the phone holds", "findings.js",
			`m.taskState({campaign_id: "c1", done: true}, [{id: "v1", kind: "inspection", findings: {campaign_id: "c1"}}], new Map([["visit:v1", "waiting"]]))`, `"done"`},
		{"a task whose findings wait in the outbox is 待上传; another campaign's do not count", "findings.js",
			`[m.taskState({campaign_id: "c1"}, [{id: "v1", kind: "inspection", findings: {campaign_id: "c1"}}], new Map([["visit:v1", "waiting"]])),
			  m.taskState({campaign_id: "c2"}, [{id: "v1", kind: "inspection", findings: {campaign_id: "c1"}}], new Map([["visit:v1", "waiting"]])),
			  m.taskState({campaign_id: "c1"}, [{id: "v1", kind: "inspection", findings: {campaign_id: "c1"}}], new Map([["visit:v1", "refused"]]))]`,
			`["waiting", "todo", "refused"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			module := cmp.Or(tc.module, "outbox.js")
			got := browsertest.Get(b, chromedp.Evaluate[string](`import("/app/js/`+module+`").then((m) => JSON.stringify(`+tc.expr+`))`, chromedp.EvalAwaitPromise))
			var g, w any
			if err := json.Unmarshal([]byte(got), &g); err != nil {
				t.Fatalf("result %q: %v", got, err)
			}
			if err := json.Unmarshal([]byte(tc.want), &w); err != nil {
				t.Fatalf("want %q: %v", tc.want, err)
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("%s\n got %s\nwant %s", tc.expr, got, tc.want)
			}
		})
	}

	// The EXIF stamp carries the phone's offset: the server reads the
	// moment the photo was taken whatever zone the phone is set to.
	plain, err := photoimage.GenerateJPEG(photoimage.GenerateOptions{Width: 64, Height: 48, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	taken := time.Date(2026, 11, 3, 1, 41, 7, 0, time.UTC)
	for _, zone := range []string{"Asia/Shanghai", "America/Denver", "Asia/Kolkata", "UTC"} {
		t.Run("a photo stamped in "+zone+" reads back as its moment", func(t *testing.T) {
			b.Timezone(zone)
			t.Cleanup(func() { b.Timezone("") })
			stamped := browsertest.Get(b, chromedp.Evaluate[string](fmt.Sprintf(`import("/app/js/exif.js").then((m) => {
				const jpeg = Uint8Array.from(atob(%q), (c) => c.charCodeAt(0));
				return btoa(Array.from(m.stampExif(jpeg, {taken: new Date(%d)}), (b) => String.fromCharCode(b)).join(""));
			})`, base64.StdEncoding.EncodeToString(plain), taken.UnixMilli()), chromedp.EvalAwaitPromise))
			jpeg, err := base64.StdEncoding.DecodeString(stamped)
			if err != nil {
				t.Fatal(err)
			}
			info, err := photoimage.Inspect(bytes.NewReader(jpeg), int64(len(jpeg)), photoimage.DefaultLimits())
			if err != nil || info.TakenAt == nil || !info.TakenAt.Equal(taken) {
				t.Fatalf("TakenAt = %v (%v), want %v", info.TakenAt, err, taken)
			}
		})
	}
}
