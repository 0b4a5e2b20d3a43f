package contract

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The sync shapes carry conditions (what a change needs for its entity and
// op, what a result holds for its status, what a pulled change holds for
// its op and entity); these tests show each is enforced, not just parsed.

const (
	uuidA = "3f1c2a4e-8b7d-4c1e-9a2b-5d6e7f8a9b0c"
	uuidB = "4f1c2a4e-8b7d-4c1e-9a2b-5d6e7f8a9b0c"
)

// checkBodies validates good as the 200 answer to req and expects each of
// bad to be refused.
func checkBodies(t *testing.T, req *http.Request, good string, bad map[string]string) {
	t.Helper()
	v := New(t)
	hdr := http.Header{"Content-Type": {"application/json"}}
	rec := &recorder{TB: t}
	v.CheckResponse(rec, req, http.StatusOK, hdr, []byte(good))
	if rec.Failed() {
		t.Fatalf("%s %s: a valid answer was rejected: %v", req.Method, req.URL.Path, rec.msgs)
	}
	for name, body := range bad {
		if body == good {
			t.Fatalf("%s: the replacement did not apply", name)
		}
		rec := &recorder{TB: t}
		v.CheckResponse(rec, req, http.StatusOK, hdr, []byte(body))
		if !rec.Failed() {
			t.Errorf("%s %s: %s: accepted", req.Method, req.URL.Path, name)
		}
	}
}

func TestPushResponseChecks(t *testing.T) {
	const rejErrors = `"errors":[{"field":"/changes/2/entity","reason":"invalid_enum","message":"m","message_zh":"无效"}]`
	good := `{"received_at":"2026-11-20T01:31:02.123456Z","clock_offset_ms":-1500,"results":[` +
		`{"index":0,"entity":"visit","id":"` + uuidA + `","status":"applied","version":1,` +
		`"flags":[{"code":"clock_offset","message":"off","message_zh":"偏差","value":259200,"limit":600}]},` +
		`{"index":1,"entity":"household","id":"` + uuidB + `","status":"conflict","version":3,"conflict_ids":["` + uuidA + `"]},` +
		`{"index":2,"entity":"rule","id":"00000000-0000-0000-0000-000000000000","status":"rejected",` + rejErrors + `},` +
		`{"index":3,"entity":"visit","id":"` + uuidA + `","status":"duplicate","version":2}],"applied":3,"rejected":1}`
	checkBodies(t, httptest.NewRequest("POST", "/api/v1/sync/push", nil), good, map[string]string{
		"unknown member":             strings.Replace(good, `"applied":3`, `"applied":3,"stored":true`, 1),
		"unknown status":             strings.Replace(good, `"status":"duplicate"`, `"status":"skipped"`, 1),
		"rejected without errors":    strings.Replace(good, `"status":"rejected",`+rejErrors, `"status":"rejected"`, 1),
		"rejected with a version":    strings.Replace(good, `"status":"rejected",`, `"status":"rejected","version":1,`, 1),
		"applied without version":    strings.Replace(good, `"status":"applied","version":1,`, `"status":"applied",`, 1),
		"applied with errors":        strings.Replace(good, `"status":"duplicate","version":2}`, `"status":"duplicate","version":2,"errors":[{"field":"/x","reason":"r","message":"m","message_zh":"z"}]}`, 1),
		"conflict without ids":       strings.Replace(good, `,"conflict_ids":["`+uuidA+`"]`, ``, 1),
		"ids without conflict":       strings.Replace(good, `"status":"conflict"`, `"status":"merged"`, 1),
		"unknown flag code":          strings.Replace(good, `"code":"clock_offset"`, `"code":"odd"`, 1),
		"flag without message_zh":    strings.Replace(good, `,"message_zh":"偏差"`, ``, 1),
		"offset not an integer":      strings.Replace(good, `"clock_offset_ms":-1500`, `"clock_offset_ms":-1500.5`, 1),
		"conflict id not a uuid":     strings.Replace(good, `"conflict_ids":["`+uuidA+`"]`, `"conflict_ids":["x"]`, 1),
		"error field shape differs":  strings.Replace(good, `"reason":"invalid_enum",`, ``, 1),
		"received_at not date-time":  strings.Replace(good, `2026-11-20T01:31:02.123456Z`, `2026-11-20`, 1),
		"results missing":            strings.Replace(good, `"results":[`, `"resultz":[`, 1),
		"negative rejected count":    strings.Replace(good, `"rejected":1}`, `"rejected":-1}`, 1),
		"result index negative":      strings.Replace(good, `"index":3`, `"index":-3`, 1),
		"empty conflict_ids on list": strings.Replace(good, `"conflict_ids":["`+uuidA+`"]`, `"conflict_ids":[]`, 1),
	})
}

func TestPullResponseChecks(t *testing.T) {
	household := `{"id":"` + uuidA + `","county_id":"` + uuidA + `","region_id":"` + uuidA + `","village_id":"` + uuidA + `","number":"","head_name":"王建国",` +
		`"address":"","phone":"","home":null,"housing_structure":"","housing_safety_grade":"","housing_area":null,` +
		`"arable_land":null,"annual_income":null,"income_notes":"","causes":[],"poverty_type":"ordinary","poverty_type_label":"一般贫困户","status":"registered",` +
		`"status_label":"在册未脱贫","exit_year":null,"registered_year":2016,"version":4,"created_at":"2024-01-01T00:00:00Z","updated_at":"2024-01-01T00:00:00Z"}`
	pairing := `{"id":"` + uuidB + `","household_id":"` + uuidA + `","cadre_id":"` + uuidB + `","start_on":"2024-01-01","end_on":null,"end_reason":"","created_at":"2024-01-01T00:00:00Z",` +
		`"cadre_name":"李明","cadre_phone":"13800138000"}`
	good := `{"changes":[` +
		`{"entity":"household","op":"upsert","id":"` + uuidA + `","household_id":"` + uuidA + `","version":4,"data":` + household + `},` +
		`{"entity":"pairing","op":"upsert","id":"` + uuidB + `","household_id":"` + uuidA + `","version":1,"data":` + pairing + `},` +
		`{"entity":"member","op":"delete","id":"` + uuidB + `","household_id":"` + uuidA + `","version":0}` +
		`],"cursor":"eyJ2IjoxLCJwIjo0LCJ3Ijo5fQ","has_more":false}`
	checkBodies(t, httptest.NewRequest("GET", "/api/v1/sync/pull?limit=10", nil), good, map[string]string{
		"upsert without data":       strings.Replace(good, `"version":1,"data":`+pairing, `"version":1`, 1),
		"tombstone with data":       strings.Replace(good, `"version":0}`, `"version":0,"data":{}}`, 1),
		"pairing data as household": strings.Replace(good, `"version":1,"data":`+pairing, `"version":1,"data":`+household, 1),
		"pairing without its cadre": strings.Replace(good, `,"cadre_name":"李明","cadre_phone":"13800138000"`, ``, 1),
		"household data not closed": strings.Replace(good, `"version":4,"data":{`, `"version":4,"data":{"secret":1,`, 1),
		"household data incomplete": strings.Replace(good, `"registered_year":2016,`, ``, 1),
		"unknown entity":            strings.Replace(good, `"entity":"pairing"`, `"entity":"rule"`, 1),
		"push op in the feed":       strings.Replace(good, `"op":"delete"`, `"op":"update"`, 1),
		"unknown member":            strings.Replace(good, `"has_more":false`, `"has_more":false,"total":3`, 1),
		"empty cursor":              strings.Replace(good, `"cursor":"eyJ2IjoxLCJwIjo0LCJ3Ijo5fQ"`, `"cursor":""`, 1),
		"has_more missing":          strings.Replace(good, `,"has_more":false`, ``, 1),
		"change without version":    strings.Replace(good, `,"version":0}`, `}`, 1),
	})
}

const goodVisit = `{"id":"` + uuidA + `","household_id":"` + uuidA + `","cadre_id":"` + uuidB + `","device_id":"phone-1","kind":"assist",` +
	`"started_at":"2026-11-20T09:30:00+08:00","ended_at":"2026-11-20T02:05:00Z","received_at":"2026-11-20T02:31:00.5Z","clock_offset_ms":12,` +
	`"notes":"屋顶漏雨","checklist":{"food":{"answer":"met"},"housing":{"answer":"problem","note":"屋顶漏雨"}},"measures":["policy_briefing"],` +
	`"met_with":["张三"],"household_confirmed":null,"gps":[{"lat":34.7,"lon":113.6,"accuracy":12,"provider":"gps","mock":false,` +
	`"device_time":"2026-11-20T09:31:00+08:00"}],"photos":[{"photo_id":"` + uuidB + `","sha256":"` + sha + `"}],` +
	`"flags":[],"plan_progress":[],"risk_triggers":[],"income_updates":[],"deleted":false,"version":1,"updated_at":"2026-11-20T02:31:00.5Z"}`

const sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

func TestVisitResponseChecks(t *testing.T) {
	checkBodies(t, httptest.NewRequest("GET", "/api/v1/visits/"+uuidA, nil), goodVisit, map[string]string{
		"unknown checklist item": strings.Replace(goodVisit, `"food":`, `"meat":`, 1),
		"unknown answer":         strings.Replace(goodVisit, `"answer":"met"`, `"answer":"yes"`, 1),
		"unknown measure":        strings.Replace(goodVisit, `"policy_briefing"`, `"leaflets"`, 1),
		"unknown kind":           strings.Replace(goodVisit, `"kind":"assist"`, `"kind":"party"`, 1),
		"gps without mock":       strings.Replace(goodVisit, `"mock":false,`, ``, 1),
		"bad provider":           strings.Replace(goodVisit, `"provider":"gps"`, `"provider":"wifi"`, 1),
		"upper-case sha256":      strings.Replace(goodVisit, sha, strings.ToUpper(sha), 1),
		"unknown member":         strings.Replace(goodVisit, `"deleted":false`, `"deleted":false,"county_id":"`+uuidA+`"`, 1),
		"null flags":             strings.Replace(goodVisit, `"flags":[]`, `"flags":null`, 1),
		"started_at not a time":  strings.Replace(goodVisit, `"started_at":"2026-11-20T09:30:00+08:00"`, `"started_at":"2026-11-20"`, 1),
	})
	page := `{"items":[` + goodVisit + `],"total":1,"limit":50,"offset":0}`
	checkBodies(t, httptest.NewRequest("GET", "/api/v1/visits?include_deleted=true", nil), page, map[string]string{
		"page without total": strings.Replace(page, `"total":1,`, ``, 1),
		"bad item":           strings.Replace(page, `"version":1`, `"version":0`, 1),
	})
}

func TestConflictResponseChecks(t *testing.T) {
	open := `{"id":"` + uuidA + `","entity":"household","entity_id":"` + uuidB + `","household_id":"` + uuidB + `","field":"phone",` +
		`"base_value":null,"lost_value":"13900000001","won_value":{"any":["json",1,true]},"lost_version":2,"won_version":4,` +
		`"lost_by":null,"won_by":"` + uuidA + `","created_at":"2026-11-20T02:31:00Z","resolved_at":null,"resolution":""}`
	page := `{"items":[` + open + `],"total":1,"limit":50,"offset":0}`
	checkBodies(t, httptest.NewRequest("GET", "/api/v1/conflicts?open=true", nil), page, map[string]string{
		"unknown entity":             strings.Replace(page, `"entity":"household"`, `"entity":"pairing"`, 1),
		"open but with a resolution": strings.Replace(page, `"resolution":""`, `"resolution":"keep_won"`, 1),
		"value missing":              strings.Replace(page, `"base_value":null,`, ``, 1),
		"unknown member":             strings.Replace(page, `"field":"phone",`, `"field":"phone","county_id":"`+uuidA+`",`, 1),
	})
	resolved := strings.Replace(strings.Replace(open, `"resolved_at":null`, `"resolved_at":"2026-11-21T08:00:00Z"`, 1), `"resolution":""`, `"resolution":"restore_lost"`, 1)
	checkBodies(t, httptest.NewRequest("POST", "/api/v1/conflicts/"+uuidA+"/resolve", nil), resolved, map[string]string{
		"resolved without a resolution": strings.Replace(resolved, `"resolution":"restore_lost"`, `"resolution":""`, 1),
		"unknown resolution":            strings.Replace(resolved, `"resolution":"restore_lost"`, `"resolution":"merge"`, 1),
	})
}

func TestSyncRequestChecks(t *testing.T) {
	v := New(t)
	visitData := `{"kind":"assist","started_at":"2026-11-20T09:30:00+08:00","ended_at":null,"notes":"走访","checklist":{"water":{"answer":"not_applicable"}},` +
		`"measures":["medical"],"met_with":["李四"],"household_confirmed":true,"gps":[{"lat":34.7,"lon":113.6,"accuracy":8.5,"provider":"fused",` +
		`"mock":false,"device_time":"2026-11-20T09:31:00+08:00"}],"photos":[{"photo_id":"` + uuidB + `","sha256":"` + sha + `"}]}`
	change := func(fields string) string {
		return `{"device_id":"phone-1","device_time":"2026-11-20T10:00:00+08:00","changes":[` + fields + `]}`
	}
	create := `{"entity":"visit","op":"create","id":"` + uuidA + `","household_id":"` + uuidB + `","data":` + visitData + `}`
	good := change(create +
		`,{"entity":"visit","op":"update","id":"` + uuidA + `","base_version":1,"data":{"notes":"补记"},"base":{"notes":"走访"}}` +
		`,{"entity":"visit","op":"delete","id":"` + uuidA + `","base_version":2}` +
		`,{"entity":"household","op":"update","id":"` + uuidB + `","base_version":3,"data":{"phone":"13900000001","home":null,"causes":["illness"]},"base":{"phone":""}}` +
		`,{"entity":"member","op":"update","id":"` + uuidA + `","household_id":"` + uuidB + `","base_version":1,"data":{"health":"chronic","work":""}}` +
		`,{"entity":"visit","op":"update","id":"` + uuidA + `","base_version":3,"data":{"findings":{"campaign_id":"` + uuidB +
		`","answers":{"satisfaction":{"choice":"satisfied"},"visits_recalled":{"count":3}}}}}`)
	push := func(body, key string) *http.Request {
		r := httptest.NewRequest("POST", "/api/v1/sync/push", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		if key != "" {
			r.Header.Set("Idempotency-Key", key)
		}
		return r
	}
	for name, body := range map[string]string{"full batch": good, "empty batch": change(``)} {
		rec := &recorder{TB: t}
		v.CheckRequest(rec, push(body, "batch:2026-11-20.1"), []byte(body))
		if rec.Failed() {
			t.Errorf("%s: a valid push was rejected: %v", name, rec.msgs)
		}
	}
	bad := map[string]string{
		"unknown envelope member":      strings.Replace(good, `"device_id":"phone-1",`, `"device_id":"phone-1","user":"x",`, 1),
		"unknown change member":        strings.Replace(good, `"op":"delete",`, `"op":"delete","force":true,`, 1),
		"no device_time":               strings.Replace(good, `"device_time":"2026-11-20T10:00:00+08:00",`, ``, 1),
		"bad device_id":                strings.Replace(good, `"device_id":"phone-1"`, `"device_id":"phone 1"`, 1),
		"create without household_id":  strings.Replace(good, `,"household_id":"`+uuidB+`","data":{"kind"`, `,"data":{"kind"`, 1),
		"create without kind":          strings.Replace(good, `"kind":"assist",`, ``, 1),
		"create with a server field":   strings.Replace(good, `"kind":"assist",`, `"kind":"assist","flags":[],`, 1),
		"bad gps in a new visit":       strings.Replace(good, `"lat":34.7`, `"lat":95`, 1),
		"update without base_version":  strings.Replace(good, `"op":"update","id":"`+uuidA+`","base_version":1,`, `"op":"update","id":"`+uuidA+`",`, 1),
		"empty visit edit":             strings.Replace(good, `"data":{"notes":"补记"}`, `"data":{}`, 1),
		"delete without base_version":  strings.Replace(good, `,"base_version":2}`, `}`, 1),
		"household status from phone":  strings.Replace(good, `"data":{"phone":"13900000001",`, `"data":{"status":"exited","phone":"13900000001",`, 1),
		"household create":             strings.Replace(good, `{"entity":"household","op":"update"`, `{"entity":"household","op":"create"`, 1),
		"member without household_id":  strings.Replace(good, `"entity":"member","op":"update","id":"`+uuidA+`","household_id":"`+uuidB+`",`, `"entity":"member","op":"update","id":"`+uuidA+`",`, 1),
		"member name from phone":       strings.Replace(good, `"data":{"health":"chronic"`, `"data":{"name":"王五","health":"chronic"`, 1),
		"unknown entity":               strings.Replace(good, `{"entity":"visit","op":"delete"`, `{"entity":"pairing","op":"delete"`, 1),
		"pull op":                      strings.Replace(good, `"op":"delete"`, `"op":"upsert"`, 1),
		"base_version zero":            strings.Replace(good, `"base_version":2`, `"base_version":0`, 1),
		"change id not a uuid":         strings.Replace(good, `"op":"delete","id":"`+uuidA+`"`, `"op":"delete","id":"x"`, 1),
		"changes not an array":         change(``)[:len(change(``))-3] + `{}}`,
		"data that is not an object":   strings.Replace(good, `"data":{"notes":"补记"}`, `"data":"notes"`, 1),
		"findings with another member": strings.Replace(good, `"findings":{`, `"findings":{"inspection_id":"`+uuidB+`",`, 1),
		"findings without answers":     strings.Replace(good, `","answers":{"satisfaction"`, `","replies":{"satisfaction"`, 1),
		"an answer of no item's shape": strings.Replace(good, `"visits_recalled":{"count":3}`, `"visits_recalled":{"number":3}`, 1),
		"non-JSON request is not JSON": `{"device_id":`,
	}
	for name, body := range bad {
		if body == good {
			t.Fatalf("%s: the replacement did not apply", name)
		}
		rec := &recorder{TB: t}
		v.CheckRequest(rec, push(body, "k1"), []byte(body))
		if !rec.Failed() {
			t.Errorf("push: %s: accepted", name)
		}
	}
	for name, key := range map[string]string{"missing Idempotency-Key": "", "bad Idempotency-Key": "two words"} {
		rec := &recorder{TB: t}
		v.CheckRequest(rec, push(good, key), []byte(good))
		if !rec.Failed() {
			t.Errorf("push: %s: accepted", name)
		}
	}

	others := []struct {
		method, target, body string
		ok                   bool
	}{
		{"GET", "/api/v1/sync/pull", "", true},
		{"GET", "/api/v1/sync/pull?limit=2000&cursor=eyJ2IjoxLCJwIjo0LCJ3Ijo5fQ", "", true},
		{"GET", "/api/v1/sync/pull?limit=2001", "", false},
		{"GET", "/api/v1/sync/pull?limit=0", "", false},
		{"GET", "/api/v1/visits?household_id=" + uuidA + "&cadre_id=" + uuidB + "&include_deleted=true&limit=200&offset=10", "", true},
		{"GET", "/api/v1/visits?household_id=nope", "", false},
		{"GET", "/api/v1/visits?include_deleted=maybe", "", false},
		{"GET", "/api/v1/conflicts?open=false&household_id=" + uuidA, "", true},
		{"GET", "/api/v1/conflicts?open=1x", "", false},
		{"POST", "/api/v1/conflicts/" + uuidA + "/resolve", `{"resolution":"keep_won"}`, true},
		{"POST", "/api/v1/conflicts/" + uuidA + "/resolve", `{"resolution":"restore_lost"}`, true},
		{"POST", "/api/v1/conflicts/" + uuidA + "/resolve", `{"resolution":"merge"}`, false},
		{"POST", "/api/v1/conflicts/" + uuidA + "/resolve", `{}`, false},
		{"POST", "/api/v1/conflicts/" + uuidA + "/resolve", `{"resolution":"keep_won","note":"x"}`, false},
	}
	for _, c := range others {
		r := httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
		if c.body != "" {
			r.Header.Set("Content-Type", "application/json")
		}
		rec := &recorder{TB: t}
		v.CheckRequest(rec, r, []byte(c.body))
		if rec.Failed() == c.ok {
			t.Errorf("%s %s %s: valid = %v, want %v: %v", c.method, c.target, c.body, !rec.Failed(), c.ok, rec.msgs)
		}
	}
}
