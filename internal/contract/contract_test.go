package contract

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/openapi"
	"github.com/fieldvisit/fieldvisit/server"
)

// recorder is a testing.TB that records failures instead of failing, so a
// test can assert that the validator rejects something.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	failed bool
	msgs   []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = true
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

func (r *recorder) Error(args ...any) { r.Errorf("%s", fmt.Sprint(args...)) }

func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...) }

func (r *recorder) Fatal(args ...any) { r.Error(args...) }

func (r *recorder) Fail() { r.Errorf("Fail called") }

func (r *recorder) FailNow() { r.Errorf("FailNow called") }

func (r *recorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

func TestSpecLoadsAndValidates(t *testing.T) {
	v := New(t)
	doc := v.Doc()
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Error("document is not treated as OpenAPI 3.1")
	}
	if doc.Info == nil || doc.Info.Title != "fieldvisit API" || doc.Info.Version != "1.0.0" {
		t.Errorf("info = %+v", doc.Info)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "/" {
		t.Errorf("servers = %v, want one with url /", doc.Servers)
	}
}

// ginRoutes lists the routes server.New registers, in the document's path
// syntax. Catch-all routes (/docs/*asset) are left out: they serve static
// files the document does not describe.
func ginRoutes(t *testing.T) []Route {
	t.Helper()
	h := server.New(server.Deps{})
	eng, ok := h.(*gin.Engine)
	if !ok {
		t.Fatalf("server.New returned %T, want *gin.Engine", h)
	}
	param := regexp.MustCompile(`:([A-Za-z0-9_]+)`)
	var out []Route
	for _, r := range eng.Routes() {
		if strings.Contains(r.Path, "*") {
			continue
		}
		out = append(out, Route{Method: r.Method, Path: param.ReplaceAllString(r.Path, "{$1}")})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}

func TestEveryRouteIsDocumentedAndViceVersa(t *testing.T) {
	v := New(t)
	served := ginRoutes(t)
	spec := v.Routes()
	for _, r := range served {
		if !slices.Contains(spec, r) {
			t.Errorf("server registers %s %s, openapi.yaml does not document it", r.Method, r.Path)
		}
	}
	for _, r := range spec {
		if !slices.Contains(served, r) {
			t.Errorf("openapi.yaml documents %s %s, server.New does not register it", r.Method, r.Path)
		}
	}
	if len(served) < 30 {
		t.Errorf("only %d routes found; is server.New still building them all?", len(served))
	}
}

// TestSecurity checks which operations need a bearer token: everything
// under /api/v1 except login, refresh, logout and the vocabularies; and
// that every operation taking a body documents how a bad, slow (408) or
// large one is refused.
func TestSecurity(t *testing.T) {
	v := New(t)
	public := map[string]bool{
		"/api/v1/auth/login": true, "/api/v1/auth/refresh": true, "/api/v1/auth/logout": true, "/api/v1/vocabularies": true,
	}
	doc := v.Doc()
	for _, r := range v.Routes() {
		op := doc.Paths.Find(r.Path).GetOperation(r.Method)
		sec := doc.Security
		if op.Security != nil {
			sec = *op.Security
		}
		authed := len(sec) > 0
		want := strings.HasPrefix(r.Path, "/api/v1/") && !public[r.Path]
		if authed != want {
			t.Errorf("%s %s: bearer auth required = %v, want %v", r.Method, r.Path, authed, want)
		}
		if want && op.Responses.Status(http.StatusUnauthorized) == nil {
			t.Errorf("%s %s: authenticated but 401 is not documented", r.Method, r.Path)
		}
		if strings.HasPrefix(r.Path, "/api/v1/") && op.Responses.Status(http.StatusInternalServerError) == nil {
			t.Errorf("%s %s: 500 is not documented", r.Method, r.Path)
		}
		// Every API operation refuses a query parameter it does not take
		// (server/strict_query.go), those without parameters too.
		if strings.HasPrefix(r.Path, "/api/v1/") && op.Responses.Status(http.StatusUnprocessableEntity) == nil {
			t.Errorf("%s %s: refuses an unknown query parameter with 422, which is not documented", r.Method, r.Path)
		}
		if op.RequestBody != nil {
			for _, code := range []int{http.StatusBadRequest, http.StatusRequestTimeout, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity} {
				if op.Responses.Status(code) == nil {
					t.Errorf("%s %s: takes a body but %d is not documented", r.Method, r.Path, code)
				}
			}
		}
	}
}

// TestRequestBodiesAreClosed checks that every JSON request body rejects
// unknown members, as the server does.
func TestRequestBodiesAreClosed(t *testing.T) {
	v := New(t)
	doc := v.Doc()
	for _, r := range v.Routes() {
		op := doc.Paths.Find(r.Path).GetOperation(r.Method)
		if op.RequestBody == nil {
			continue
		}
		mt := op.RequestBody.Value.Content.Get("application/json")
		if mt == nil {
			continue
		}
		s := mt.Schema.Value
		if s.AdditionalProperties.Has == nil || *s.AdditionalProperties.Has {
			t.Errorf("%s %s: request body schema %s does not set additionalProperties: false", r.Method, r.Path, mt.Schema.Ref)
		}
	}
}

// TestEnumsMatchVocabularies keeps the document's enums equal to the
// domain's code lists ("" aside, which the *OrEmpty schemas add).
func TestEnumsMatchVocabularies(t *testing.T) {
	v := New(t)
	schemas := v.Doc().Components.Schemas
	for name, vocab := range map[string]domain.Vocabulary{
		"RegionLevel": domain.RegionLevels, "Status": domain.Statuses, "StatusOrEmpty": domain.Statuses,
		"PovertyType": domain.PovertyTypes, "PovertyTypeOrEmpty": domain.PovertyTypes, "Cause": domain.Causes,
		"HousingStructureOrEmpty": domain.HousingStructures, "HousingSafetyGradeOrEmpty": domain.HousingSafetyGrades,
		"Relation": domain.Relations, "HealthStateOrEmpty": domain.HealthStates, "DisabilityOrEmpty": domain.Disabilities,
		"EducationLevelOrEmpty": domain.EducationLevels, "WorkStateOrEmpty": domain.WorkStates, "Role": domain.Roles,
		"RankOrEmpty": domain.Ranks, "DutyKind": domain.Duties,
		"VisitKind": domain.VisitKinds, "Measure": domain.Measures, "ChecklistItem": domain.ChecklistItems,
		"ChecklistAnswer": domain.ChecklistAnswers, "GPSProvider": domain.GPSProviders,
	} {
		ref, ok := schemas[name]
		if !ok {
			t.Errorf("components/schemas/%s is missing", name)
			continue
		}
		var got []string
		hasEmpty := false
		for _, e := range ref.Value.Enum {
			s, _ := e.(string)
			if s == "" {
				hasEmpty = true
				continue
			}
			got = append(got, s)
		}
		if want := vocab.Codes(); !slices.Equal(got, want) {
			t.Errorf("%s enum = %v, want %v (domain order)", name, got, want)
		}
		if orEmpty := strings.HasSuffix(name, "OrEmpty"); hasEmpty != orEmpty {
			t.Errorf("%s: enum has \"\" = %v, want %v", name, hasEmpty, orEmpty)
		}
	}
}

func problemHeader() http.Header {
	return http.Header{"Content-Type": {"application/problem+json"}, "X-Request-Id": {"req-1"}}
}

func TestProblemBodyAgainst404(t *testing.T) {
	v := New(t)
	req := httptest.NewRequest(http.MethodGet, "/api/v1/households/3f1c2a4e-8b7d-4c1e-9a2b-5d6e7f8a9b0c", nil)
	good := `{"type":"urn:fieldvisit:problem:not_found","title":"Not found","status":404,"detail":"household not found",` +
		`"instance":"/api/v1/households/3f1c2a4e-8b7d-4c1e-9a2b-5d6e7f8a9b0c","title_zh":"未找到","detail_zh":"未找到该农户","request_id":"req-1"}`

	rec := &recorder{TB: t}
	v.CheckResponse(rec, req, http.StatusNotFound, problemHeader(), []byte(good))
	if rec.Failed() {
		t.Errorf("a valid problem was rejected: %v", rec.msgs)
	}

	cases := map[string]struct {
		status int
		header http.Header
		body   string
	}{
		"missing status":                      {404, problemHeader(), strings.Replace(good, `"status":404,`, "", 1)},
		"status differs from the HTTP status": {404, problemHeader(), strings.Replace(good, `"status":404`, `"status":400`, 1)},
		"unknown member":                      {404, problemHeader(), strings.Replace(good, `{`, `{"stack":"x",`, 1)},
		"wrong media type":                    {404, http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"req-1"}}, good},
		"missing X-Request-ID":                {404, http.Header{"Content-Type": {"application/problem+json"}}, good},
		"undocumented status":                 {418, problemHeader(), good},
	}
	for name, c := range cases {
		rec := &recorder{TB: t}
		v.CheckResponse(rec, req, c.status, c.header, []byte(c.body))
		if !rec.Failed() {
			t.Errorf("%s: accepted", name)
		}
	}

	rec = &recorder{TB: t}
	v.CheckResponse(rec, httptest.NewRequest(http.MethodGet, "/api/v1/no-such-thing", nil), 404, problemHeader(), []byte(good))
	if !rec.Failed() {
		t.Error("a path the document does not have was accepted")
	}
}

// TestResponseBodyChecks shows that a response body drifting from the
// Go types in any way (a field more or less, a wrong format, enum or
// nullability) is caught.
func TestResponseBodyChecks(t *testing.T) {
	v := New(t)
	const id = "3f1c2a4e-8b7d-4c1e-9a2b-5d6e7f8a9b0c"
	good := `{"id":"` + id + `","county_id":"` + id + `","region_id":"` + id + `","village_id":"` + id + `","number":"","head_name":"王建国",` +
		`"address":"","phone":"","home":{"lat":32.1,"lon":114.9},"housing_structure":"","housing_safety_grade":"B","housing_area":null,` +
		`"arable_land":2.5,"annual_income":null,"income_notes":"","causes":["illness"],"poverty_type":"","poverty_type_label":"","status":"edge",` +
		`"status_label":"边缘户","exit_year":null,"registered_year":null,"version":1,"created_at":"2024-01-01T00:00:00Z","updated_at":"2024-01-01T08:00:00.123456+08:00"}`
	req := httptest.NewRequest(http.MethodPatch, "/api/v1/households/"+id, nil)
	hdr := http.Header{"Content-Type": {"application/json; charset=utf-8"}}

	rec := &recorder{TB: t}
	v.CheckResponse(rec, req, http.StatusOK, hdr, []byte(good))
	if rec.Failed() {
		t.Fatalf("a valid household was rejected: %v", rec.msgs)
	}
	for name, body := range map[string]string{
		"unknown member":          strings.Replace(good, `{`, `{"path":"/x/",`, 1),
		"missing member":          strings.Replace(good, `"version":1,`, ``, 1),
		"not a uuid":              strings.Replace(good, `"id":"3f1c`, `"id":"zz1c`, 1),
		"not a date-time":         strings.Replace(good, `2024-01-01T00:00:00Z`, `2024-01-01`, 1),
		"unknown enum code":       strings.Replace(good, `"status":"edge"`, `"status":"rich"`, 1),
		"null where not nullable": strings.Replace(good, `"number":""`, `"number":null`, 1),
		"latitude out of range":   strings.Replace(good, `"lat":32.1`, `"lat":132.1`, 1),
		"not JSON":                `{"id":`,
	} {
		rec := &recorder{TB: t}
		v.CheckResponse(rec, req, http.StatusOK, hdr, []byte(body))
		if !rec.Failed() {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestCheckRequest(t *testing.T) {
	v := New(t)
	newReq := func(method, target, body string) *http.Request {
		r := httptest.NewRequest(method, target, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		return r
	}
	ok := []struct{ method, target, body string }{
		{"POST", "/api/v1/auth/login", `{"username":"wang.fang","password":"correct horse","device_id":"phone-1"}`},
		{"POST", "/api/v1/households", `{"region_id":"3f1c2a4e-8b7d-4c1e-9a2b-5d6e7f8a9b0c","head_name":"王建国","status":"registered",` +
			`"poverty_type":"dibao","causes":["illness","lack_labor"],"home":{"lat":27.1,"lon":103.7},"housing_area":null,` +
			`"members":[{"name":"王建国","relation":"head","id_number":"11010119800101001x"}]}`},
		{"PATCH", "/api/v1/households/3f1c2a4e-8b7d-4c1e-9a2b-5d6e7f8a9b0c", `{"version":3,"phone":"138 0000 0000","home":null}`},
		{"POST", "/api/v1/households/3f1c2a4e-8b7d-4c1e-9a2b-5d6e7f8a9b0c/status", `{"version":3,"status":"exited","exit_year":2019,"effective_on":"2019-12-01"}`},
		{"POST", "/api/v1/pairings/3f1c2a4e-8b7d-4c1e-9a2b-5d6e7f8a9b0c/end", `{"on":"2024-01-01","reason":"调岗"}`},
		{"GET", "/api/v1/households?status=edge&limit=200&unpaired=true", ""},
		{"POST", "/api/v1/users/3f1c2a4e-8b7d-4c1e-9a2b-5d6e7f8a9b0c/devices/4f1c2a4e-8b7d-4c1e-9a2b-5d6e7f8a9b0c/revoke", ""},
	}
	for _, c := range ok {
		rec := &recorder{TB: t}
		v.CheckRequest(rec, newReq(c.method, c.target, c.body), []byte(c.body))
		if rec.Failed() {
			t.Errorf("%s %s: a valid request was rejected: %v", c.method, c.target, rec.msgs)
		}
	}
	bad := []struct{ name, method, target, body string }{
		{"unknown field", "POST", "/api/v1/auth/login", `{"username":"a","password":"b","device_id":"c","admin":true}`},
		{"server-owned field", "PATCH", "/api/v1/households/3f1c2a4e-8b7d-4c1e-9a2b-5d6e7f8a9b0c", `{"version":3,"status":"exited"}`},
		{"missing version", "PATCH", "/api/v1/households/3f1c2a4e-8b7d-4c1e-9a2b-5d6e7f8a9b0c", `{"phone":"13800000000"}`},
		{"bad enum", "POST", "/api/v1/households/3f1c2a4e-8b7d-4c1e-9a2b-5d6e7f8a9b0c/status", `{"version":1,"status":"rich","effective_on":"2020-01-01"}`},
		{"exit without year", "POST", "/api/v1/households/3f1c2a4e-8b7d-4c1e-9a2b-5d6e7f8a9b0c/status", `{"version":1,"status":"exited","effective_on":"2020-01-01"}`},
		{"limit too big", "GET", "/api/v1/households?limit=500", ""},
		{"body where none is taken", "POST", "/api/v1/users/3f1c2a4e-8b7d-4c1e-9a2b-5d6e7f8a9b0c/devices/4f1c2a4e-8b7d-4c1e-9a2b-5d6e7f8a9b0c/revoke", `{}`},
	}
	for _, c := range bad {
		rec := &recorder{TB: t}
		v.CheckRequest(rec, newReq(c.method, c.target, c.body), []byte(c.body))
		if !rec.Failed() {
			t.Errorf("%s: accepted", c.name)
		}
	}
}

// TestLiveExchanges drives the real router on the routes that answer
// without a database (health, documents, vocabularies, and the errors
// raised before any service is called) and validates every answer.
func TestLiveExchanges(t *testing.T) {
	v := New(t)
	h := server.New(server.Deps{Spec: openapi.Spec})
	const id = "3f1c2a4e-8b7d-4c1e-9a2b-5d6e7f8a9b0c"
	cases := []struct {
		method, target, contentType, body string
		status                            int
	}{
		{"GET", "/healthz", "", "", 200},
		{"GET", "/readyz", "", "", 200},
		{"GET", "/metrics", "", "", 200},
		{"GET", "/openapi.yaml", "", "", 200},
		{"GET", "/docs", "", "", 200},
		{"HEAD", "/docs", "", "", 200},
		{"GET", "/api/v1/vocabularies", "", "", 200},
		{"GET", "/api/v1/me", "", "", 401},
		{"GET", "/api/v1/households/" + id, "", "", 401},
		{"PATCH", "/api/v1/households/" + id + "/members/" + id, "application/json", `{"version":1}`, 401},
		{"POST", "/api/v1/imports", "text/csv", "a,b\n", 401},
		{"POST", "/api/v1/auth/login", "application/json", `{"username":`, 400},
		{"POST", "/api/v1/auth/login", "text/plain", `{}`, 400},
		{"POST", "/api/v1/auth/login", "application/json", `{"username":"a","password":"b","device_id":"c","role":"admin"}`, 422},
		{"POST", "/api/v1/auth/refresh", "application/json", `{"refresh_token":` + strings.Repeat(" ", 1<<20) + `""}`, 413},
		{"POST", "/api/v1/auth/logout", "application/json", `{"refresh_token":7}`, 422},
		{"POST", "/api/v1/sync/push", "application/json", `{}`, 401},
		{"GET", "/api/v1/sync/pull?limit=10", "", "", 401},
		{"GET", "/api/v1/visits", "", "", 401},
		{"GET", "/api/v1/visits/" + id, "", "", 401},
		{"GET", "/api/v1/conflicts?open=true", "", "", 401},
		{"POST", "/api/v1/conflicts/" + id + "/resolve", "application/json", `{"resolution":"keep_won"}`, 401},
	}
	// A dependency that is down makes /readyz answer 503 with Retry-After.
	down := server.New(server.Deps{Ready: []server.ReadyCheck{
		{Name: "database", Check: func(context.Context) error { return errors.New("connection refused") }},
		{Name: "blob_store", Check: func(context.Context) error { return nil }},
	}})
	req := httptest.NewRequest(http.MethodGet, "/readyz", nil)
	w := httptest.NewRecorder()
	down.ServeHTTP(w, req)
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the database down: status %d, want 503", w.Code)
	}
	v.CheckResponse(t, req, w.Code, w.Header(), w.Body.Bytes())

	for _, c := range cases {
		req := httptest.NewRequest(c.method, c.target, strings.NewReader(c.body))
		if c.contentType != "" {
			req.Header.Set("Content-Type", c.contentType)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		res := w.Result()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != c.status {
			t.Errorf("%s %s: status %d, want %d: %s", c.method, c.target, res.StatusCode, c.status, body)
			continue
		}
		v.CheckResponse(t, req, res.StatusCode, res.Header, body)
	}
}
