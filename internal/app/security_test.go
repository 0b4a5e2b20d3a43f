package app

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/auth"
	"github.com/fieldvisit/fieldvisit/wire"
)

// TestObjectAccessAcrossVillages is the BOLA matrix: a supervisor of village
// B, and a cadre of village B, get 404 for every object route that names an
// object of village A — reads and writes alike — and nothing is written.
// TestEveryObjectRouteIsInTheMatrix keeps the matrix complete.
func TestObjectAccessAcrossVillages(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		routes := e.objectRoutesOfVillageA(t)
		for _, who := range []string{"supervisor-b", "cadre-b"} {
			token := e.login(t, who)
			before := e.counts(t)
			for _, rt := range routes {
				t.Run(who+" "+rt.method+" "+rt.path, func(t *testing.T) {
					r := e.rawRequest(t, rt.method, rt.path, token, rt.header, rt.body)
					want := http.StatusNotFound
					if rt.rolesOnly && who == "cadre-b" || rt.inspectorsOnly {
						want = http.StatusForbidden // the role may act on no such object, wherever it is
					}
					if r.Status != want {
						t.Fatalf("want %d, got %d: %s", want, r.Status, r.Body)
					}
					if rt.method != "HEAD" {
						r.problem(t)
					}
				})
			}
			sameCounts(t, before, e.counts(t))
		}
		// A list filtered by another village's region is refused the same
		// way as one filtered by a region that does not exist: 404
		// (TestRegionFilterOutOfScope holds every route to it).
		for _, region := range []string{e.villageA.ID.String(), "00000000-0000-4000-8000-000000000000"} {
			r := e.do(t, "GET", "/api/v1/households?region_id="+region, e.login(t, "supervisor-b"), nil)
			if p := r.problem(t); r.Status != http.StatusNotFound || p.Type != "urn:fieldvisit:problem:not_found" {
				t.Fatalf("filter by region %s: want 404, got %d %s", region, r.Status, r.Body)
			}
		}
		// Cadres see no other account, even in their own village.
		if r := e.do(t, "GET", "/api/v1/users/"+e.supervisorA.ID.String(), e.login(t, "cadre-a"), nil); r.Status != http.StatusNotFound {
			t.Fatalf("cadre reading a colleague's account: want 404, got %d", r.Status)
		}
		// The owner of the objects still reaches them: the 404s above come
		// from the scope check, not from broken routes.
		hPath := "/api/v1/households/" + e.householdA.Household.ID.String()
		tok := e.login(t, "supervisor-a")
		if r := e.do(t, "GET", hPath, tok, nil); r.Status != http.StatusOK {
			t.Fatalf("supervisor of village A: want 200, got %d %s", r.Status, r.Body)
		}
		if r := e.do(t, "GET", hPath, e.login(t, "cadre-a"), nil); r.Status != http.StatusOK {
			t.Fatalf("paired cadre: want 200, got %d %s", r.Status, r.Body)
		}
	})
}

// objectRoute is one row of the BOLA matrix: a request naming an object
// of village A, and the route (as the router spells it) it exercises.
type objectRoute struct {
	method, route, path string
	header              map[string]string
	body                []byte
	rolesOnly           bool // managers' work: a cadre is refused by role (403) before any object is looked up
	inspectorsOnly      bool // inspectors' work: a supervisor and a cadre are refused by role (403) alike
}

// objectRoutesOfVillageA creates one object of each kind in village A (a
// visit with a photo, a resumable upload, a conflict) and returns a
// request on every object route that names one of them.
func (e *testEnv) objectRoutesOfVillageA(t *testing.T) []objectRoute {
	t.Helper()
	hA := e.householdA.Household
	mA := e.householdA.Members[0]
	hPath := "/api/v1/households/" + hA.ID.String()
	mPath := hPath + "/members/" + mA.ID.String()
	visitA, photoA := uuid.New(), uuid.New()
	img := testJPEG(t, 7, time.Now(), nil)
	tokA := e.login(t, "cadre-a")
	if r := e.putPhoto(t, tokA, photoA, img, sha256Hex(img), "image/jpeg", ""); r.Status != http.StatusCreated {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	v := visitChange(visitA, hA.ID, "甲村走访", 34.7)
	v["data"].(map[string]any)["photos"] = []any{map[string]any{"photo_id": photoA, "sha256": sha256Hex(img)}}
	e.push(t, tokA, "bola-visit", batch("phone-a", time.Now(), v)).pushResult(t)
	other := testJPEG(t, 8, time.Now(), nil)
	var up wire.Upload
	e.do(t, "POST", "/api/v1/photo-uploads", tokA, wire.StartUpload{PhotoID: uuid.New(), SHA256: sha256Hex(other), Size: int64(len(other)),
		ContentType: "image/jpeg", Method: "chunked"}).json(t, &up)
	// A conflict in village A: the office edits, the phone overwrites.
	if r := e.do(t, "PATCH", hPath, e.login(t, "supervisor-a"), map[string]any{"version": 1, "income_notes": "办公室"}); r.Status != http.StatusOK {
		t.Fatalf("office edit: %d", r.Status)
	}
	res := e.push(t, tokA, "bola-conflict", batch("phone-a", time.Now(), map[string]any{"entity": "household", "op": "update", "id": hA.ID,
		"base_version": 1, "data": map[string]any{"income_notes": "手机"}, "base": map[string]any{"income_notes": ""}})).pushResult(t)
	if len(res.Results[0].ConflictIDs) != 1 {
		t.Fatalf("no conflict to resolve: %+v", res.Results[0])
	}
	conflictA := res.Results[0].ConflictIDs[0].String()
	// A campaign over another town: neither village's users are above it
	// or inside it.
	elsewhere := e.addRegion(t, e.county, domain.LevelTown, "410122300000", "王店镇")
	campaignBody := e.campaignBody("announced")
	campaignBody["region_id"] = elsewhere.ID
	campaign := e.newCampaign(t, e.login(t, "admin"), campaignBody).ID.String()
	rectification := "/api/v1/rectifications/" + e.rectify(t, e.login(t, "admin"), e.rectificationBody()).ID.String()
	// A 民生诉求 heard at household A, which village A's cadre answers for.
	ledgerItems := "/api/v1/ledgers/livelihood_request/items"
	ledgerBody := map[string]any{"problem": "自来水管破裂", "household_id": hA.ID, "deadline": domain.DateOf(time.Now().AddDate(0, 0, 30)).String()}
	var ledgerItem wire.Rectification
	if r := e.do(t, "POST", ledgerItems, tokA, ledgerBody); r.Status != http.StatusCreated {
		t.Fatalf("ledger item: %d %s", r.Status, r.Body)
	} else {
		r.json(t, &ledgerItem)
	}
	ledgerItemPath := ledgerItems + "/" + ledgerItem.ID.String()
	// A warning to village A's cadre: the managers of village A and above
	// see it.
	var warning wire.AccountabilityAction
	e.do(t, "POST", "/api/v1/accountability", e.login(t, "admin"), map[string]any{"kind": "warning", "target_user_id": e.cadreA.ID,
		"reason": "走访不实"}).json(t, &warning)
	js := func(v any) []byte {
		b, _ := json.Marshal(v)
		return b
	}
	jsonHeader := map[string]string{"Content-Type": "application/json"}
	row := func(method, route, path string, body any) objectRoute {
		if body == nil {
			return objectRoute{method: method, route: route, path: path}
		}
		return objectRoute{method: method, route: route, path: path, header: jsonHeader, body: js(body)}
	}
	// An income account and an exit procedure of household A, which
	// meets the standard (an exit starts for no other).
	e.push(t, tokA, "bola-checked-visit", batch("phone-a", time.Now(), checkedVisit(hA.ID, time.Now()))).pushResult(t)
	if r := e.do(t, "PUT", hPath+"/income-accounts/2025", tokA, map[string]any{"version": 0, "wages_fen": 500_000}); r.Status != http.StatusOK {
		t.Fatalf("income account: %d %s", r.Status, r.Body)
	}
	var procedure wire.Procedure
	e.do(t, "POST", hPath+"/procedures", e.login(t, "supervisor-a"), map[string]any{"kind": "exit", "year": 2025}).json(t, &procedure)
	procedurePath := "/api/v1/procedures/" + procedure.ID.String()
	// The town's adjustment batch, proposing a cadre for an unpaired
	// household of village A: village B's users are not above the town.
	e.addHousehold(t, e.villageA, "周九", "41012219800101051")
	var adjusting wire.AdjustmentBatch
	e.do(t, "POST", "/api/v1/adjustment-batches", e.login(t, "admin"), map[string]any{"region_id": e.town.ID, "year": 2025}).json(t, &adjusting)
	if len(adjusting.Items) == 0 {
		t.Fatalf("the town's adjustment batch has no item")
	}
	batchPath := "/api/v1/adjustment-batches/" + adjusting.ID.String()
	batchItemPath := batchPath + "/items/" + adjusting.Items[0].ID.String()
	// A warning on village A's edge list.
	_, _, warnings := e.warnedHousehold(t, domain.StatusGeneral, "边缘户", "41012219850615109", "disaster")
	warningPath := "/api/v1/risk-warnings/" + warnings[0].ID.String()
	village, user, unit := e.villageA.ID.String(), e.cadreA.ID.String(), e.unitA.String()
	pairing, photo, upload := e.pairingA.ID.String(), photoA.String(), up.ID.String()
	return []objectRoute{
		row("GET", "/api/v1/regions/:id", "/api/v1/regions/"+village, nil),
		managers(row("PATCH", "/api/v1/regions/:id", "/api/v1/regions/"+village, map[string]any{"name": "改名"})),
		row("GET", "/api/v1/regions/:id/rule-profile", "/api/v1/regions/"+village+"/rule-profile", nil),
		row("GET", "/api/v1/households/:id", hPath, nil),
		managers(row("PATCH", "/api/v1/households/:id", hPath, map[string]any{"version": 2, "phone": "13800000000"})),
		managers(row("POST", "/api/v1/households/:id/status", hPath+"/status", map[string]any{"version": 2, "status": "exited", "exit_year": 2025, "effective_on": "2025-06-30"})),
		row("GET", "/api/v1/households/:id/compliance", hPath+"/compliance", nil),
		managers(row("POST", "/api/v1/households/:id/poverty-type", hPath+"/poverty-type", map[string]any{"version": 2, "poverty_type": "wubao",
			"effective_on": "2025-06-30", "reason": "纳入五保"})),
		row("GET", "/api/v1/households/:id/income-accounts", hPath+"/income-accounts", nil),
		row("GET", "/api/v1/households/:id/income-accounts/:year", hPath+"/income-accounts/2025", nil),
		row("PUT", "/api/v1/households/:id/income-accounts/:year", hPath+"/income-accounts/2025", map[string]any{"version": 1, "wages_fen": 1}),
		managers(row("POST", "/api/v1/households/:id/procedures", hPath+"/procedures", map[string]any{"kind": "removal", "year": 2025, "reason": "x"})),
		managers(row("GET", "/api/v1/procedures/:id", procedurePath, nil)),
		managers(row("POST", "/api/v1/procedures/:id/steps", procedurePath+"/steps", map[string]any{"version": 1, "step": "village_review",
			"done_on": "2025-06-30", "confirmed": []string{"livelihood", "agreement"}})),
		managers(row("GET", "/api/v1/adjustment-batches/:id", batchPath, nil)),
		managers(row("POST", "/api/v1/adjustment-batches/:id/approve", batchPath+"/approve", nil)),
		managers(row("POST", "/api/v1/adjustment-batches/:id/close", batchPath+"/close", nil)),
		managers(row("POST", "/api/v1/adjustment-batches/:id/imports", batchPath+"/imports", nil)),
		managers(row("POST", "/api/v1/adjustment-batches/:id/items/:item_id/approve", batchItemPath+"/approve", nil)),
		managers(row("POST", "/api/v1/adjustment-batches/:id/items/:item_id/reject", batchItemPath+"/reject", map[string]any{"reason": "x"})),
		managers(row("POST", "/api/v1/risk-warnings/:id/resolve", warningPath+"/resolve", map[string]any{"version": 1, "resolution": "cleared", "note": "x"})),
		managers(row("GET", "/api/v1/villages/:id/exit-records/:year", "/api/v1/villages/"+village+"/exit-records/2025", nil)),
		managers(row("PUT", "/api/v1/villages/:id/exit-records/:year", "/api/v1/villages/"+village+"/exit-records/2025",
			map[string]any{"version": 0, "collective_income_fen": 5_000_000})),
		managers(row("GET", "/api/v1/villages/:id/procedures", "/api/v1/villages/"+village+"/procedures", nil)),
		managers(row("POST", "/api/v1/villages/:id/procedures", "/api/v1/villages/"+village+"/procedures", map[string]any{"kind": "village_exit", "year": 2025})),
		row("GET", "/api/v1/households/:id/members", hPath+"/members", nil),
		managers(row("POST", "/api/v1/households/:id/members", hPath+"/members", map[string]any{"name": "新成员", "relation": "child"})),
		row("GET", "/api/v1/households/:id/members/:member_id", mPath, nil),
		managers(row("PATCH", "/api/v1/households/:id/members/:member_id", mPath, map[string]any{"version": 1, "phone": "13800000000"})),
		row("DELETE", "/api/v1/households/:id/members/:member_id", mPath, nil),
		row("GET", "/api/v1/pairings/:id", "/api/v1/pairings/"+pairing, nil),
		managers(row("POST", "/api/v1/pairings/:id/end", "/api/v1/pairings/"+pairing+"/end", map[string]any{"reason": "调整", "new_cadre_id": e.cadreB.ID})),
		row("GET", "/api/v1/users/:id", "/api/v1/users/"+user, nil),
		managers(row("PATCH", "/api/v1/users/:id", "/api/v1/users/"+user, map[string]any{"display_name": "改名"})),
		row("PUT", "/api/v1/users/:id/password", "/api/v1/users/"+user+"/password", map[string]any{"password": "another-long-password"}),
		row("GET", "/api/v1/users/:id/devices", "/api/v1/users/"+user+"/devices", nil),
		row("POST", "/api/v1/users/:id/devices/:device_id/revoke", "/api/v1/users/"+user+"/devices/"+uuid.NewString()+"/revoke", nil),
		row("GET", "/api/v1/cadres/:id/summary", "/api/v1/cadres/"+user+"/summary", nil),
		row("GET", "/api/v1/cadres/:id/handbook.pdf", "/api/v1/cadres/"+user+"/handbook.pdf", nil),
		row("GET", "/api/v1/households/:id/forms/:form", hPath+"/forms/clear-card.pdf", nil),
		row("GET", "/api/v1/regions/:id/forms/:form", "/api/v1/regions/"+village+"/forms/clear-card.pdf", nil),
		row("GET", "/api/v1/units/:id", "/api/v1/units/"+unit, nil),
		managers(row("POST", "/api/v1/units/:id/assignments", "/api/v1/units/"+unit+"/assignments", map[string]any{"village_id": e.villageB.ID, "start_on": "2025-01-01"})),
		row("GET", "/api/v1/visits/:id", "/api/v1/visits/"+visitA.String(), nil),
		managers(row("POST", "/api/v1/conflicts/:id/resolve", "/api/v1/conflicts/"+conflictA+"/resolve", map[string]any{"resolution": "restore_lost"})),
		row("GET", "/api/v1/photos/:id", "/api/v1/photos/"+photo, nil),
		row("GET", "/api/v1/photos/:id/content", "/api/v1/photos/"+photo+"/content", nil),
		row("GET", "/api/v1/photos/:id/thumbnail", "/api/v1/photos/"+photo+"/thumbnail", nil),
		{method: "PUT", route: "/api/v1/photos/:id", path: "/api/v1/photos/" + photo, body: other,
			header: map[string]string{"Content-Type": "image/jpeg", "X-Content-SHA256": sha256Hex(other)}},
		row("GET", "/api/v1/photo-uploads/:id", "/api/v1/photo-uploads/"+upload, nil),
		row("HEAD", "/api/v1/photo-uploads/:id", "/api/v1/photo-uploads/"+upload, nil),
		{method: "PATCH", route: "/api/v1/photo-uploads/:id", path: "/api/v1/photo-uploads/" + upload, body: other[:100],
			header: map[string]string{"Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}},
		row("POST", "/api/v1/photo-uploads/:id/complete", "/api/v1/photo-uploads/"+upload+"/complete", nil),
		row("GET", "/api/v1/inspections/:id", "/api/v1/inspections/"+campaign, nil),
		managers(row("POST", "/api/v1/inspections/:id/sample", "/api/v1/inspections/"+campaign+"/sample", map[string]any{"seed": "x"})),
		row("GET", "/api/v1/inspections/:id/sample", "/api/v1/inspections/"+campaign+"/sample", nil),
		row("POST", "/api/v1/inspections/:id/sample/verify", "/api/v1/inspections/"+campaign+"/sample/verify", nil),
		row("POST", "/api/v1/inspections/:id/end", "/api/v1/inspections/"+campaign+"/end", nil),
		row("GET", "/api/v1/rectifications/:id", rectification, nil),
		row("GET", "/api/v1/households/:id/plan", hPath+"/plan", nil),
		row("GET", "/api/v1/ledgers/:kind/items/:id", ledgerItemPath, nil),
		row("POST", "/api/v1/ledgers/:kind/items/:id/actions", ledgerItemPath+"/actions", map[string]any{"action": "start", "version": 1}),
		row("POST", "/api/v1/rectifications/:id/actions", rectification+"/actions", map[string]any{"action": "start", "version": 1}),
		inspectors(row("PUT", "/api/v1/inspections/:id/households/:household_id/findings", "/api/v1/inspections/"+campaign+"/households/"+hA.ID.String()+"/findings",
			map[string]any{"answers": householdAnswers(nil)})),
		inspectors(row("PUT", "/api/v1/inspections/:id/villages/:village_id/findings", "/api/v1/inspections/"+campaign+"/villages/"+village+"/findings",
			map[string]any{"answers": villageAnswers()})),
		row("GET", "/api/v1/inspections/:id/findings", "/api/v1/inspections/"+campaign+"/findings", nil),
		row("GET", "/api/v1/inspections/:id/report", "/api/v1/inspections/"+campaign+"/report", nil),
		managers(row("POST", "/api/v1/accountability/:id/follow-up", "/api/v1/accountability/"+warning.ID.String()+"/follow-up",
			map[string]any{"follow_up": "已整改", "followed_up_on": domain.DateOf(time.Now()).String(), "version": 1})),
	}
}

func managers(r objectRoute) objectRoute {
	r.rolesOnly = true
	return r
}

// inspectors marks a route only the campaign's inspectors use; their own
// reach (their campaign's sample, away from their town) is
// TestCrossInspectorsRecordOnlyAway's and inspect_findings_test's.
func inspectors(r objectRoute) objectRoute {
	r.inspectorsOnly = true
	return r
}

// routesWithoutObjects are the routes with a path parameter that name no
// object of a region, each with why it is not in the BOLA matrix.
var routesWithoutObjects = map[string]string{
	"GET /docs/*asset":                         "static files of the API docs page",
	"HEAD /docs/*asset":                        "static files of the API docs page",
	"GET /api/v1/rule-profiles/:code":          "rule profiles are shared configuration, readable by every signed-in user",
	"PUT /api/v1/rule-profiles/:code":          "admins only (TestRuleProfileAdmin); profiles belong to no region",
	"PUT /api/v1/regions/:id/rule-profile":     "admins only (TestRuleProfileAdmin): no supervisor or cadre passes the role check",
	"GET /api/v1/exit-standards/:year":         "a year's exit standard belongs to no region; managers read it (TestExitCandidatesAtTheThreshold)",
	"PUT /api/v1/exit-standards/:year":         "admins only (TestExitCandidatesAtTheThreshold): no supervisor or cadre passes the role check",
	"GET /api/v1/village-exit-standards/:year": "a year's village criteria belong to no region; managers read them (TestVillageExitProcedure)",
	"PUT /api/v1/village-exit-standards/:year": "admins only (TestVillageExitCriteriaAreConfigurable): no supervisor or cadre passes the role check",
	"GET /api/v1/ledgers/:kind/items":          "a ledger's listing, scoped to the caller (TestCadreLedgerItemsAreRecordedOfflineAndClosedOnEvidence: another village's supervisor lists none)",
	"POST /api/v1/ledgers/:kind/items":         "the kind names no object; a household of another village in the body is 422 household not found, as an unknown one",
}

// TestEveryObjectRouteIsInTheMatrix: a route with a path parameter must be
// in the BOLA matrix or say why it names no object — a new {id} route
// without a row fails here.
func TestEveryObjectRouteIsInTheMatrix(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	inMatrix := map[string]bool{}
	for _, rt := range e.objectRoutesOfVillageA(t) {
		inMatrix[rt.method+" "+rt.route] = true
	}
	for _, r := range e.app.Handler.(*gin.Engine).Routes() {
		key := r.Method + " " + r.Path
		if !strings.ContainsAny(r.Path, ":*") {
			continue
		}
		if r.Path == "/ui/*path" {
			// The web console routes within itself and reads objects only
			// through the services, as the caller (TestConsole: a cadre's
			// map and another village's 404).
			continue
		}
		if r.Path == "/app/*path" {
			// The field app's own files (shell, scripts, service worker):
			// no object; the app reads households through the API as its
			// cadre (TestFieldApp).
			continue
		}
		if !inMatrix[key] && routesWithoutObjects[key] == "" {
			t.Errorf("%s names an object but has no row in TestObjectAccessAcrossVillages", key)
		}
		delete(inMatrix, key)
	}
	for key := range inMatrix {
		t.Errorf("the matrix has a row for %s, which the router does not serve", key)
	}
}

// TestListsStayInScope: listings never include objects outside the caller's
// scope.
func TestListsStayInScope(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		for _, tc := range []struct {
			user string
			want int64
		}{{"cadre-a", 1}, {"cadre-b", 1}, {"supervisor-a", 1}, {"admin", 2}, {"inspector", 0}} {
			var page struct {
				Total int64 `json:"total"`
				Items []struct {
					ID string `json:"id"`
				} `json:"items"`
			}
			e.do(t, "GET", "/api/v1/households", e.login(t, tc.user), nil).json(t, &page)
			if page.Total != tc.want || int64(len(page.Items)) != tc.want {
				t.Errorf("%s sees %d households (total %d), want %d", tc.user, len(page.Items), page.Total, tc.want)
			}
		}
		var units struct {
			Items []struct {
				Name string `json:"name"`
			} `json:"items"`
		}
		e.do(t, "GET", "/api/v1/units", e.login(t, "admin"), nil).json(t, &units)
		if len(units.Items) != 1 || units.Items[0].Name != "县农业农村局" {
			t.Errorf("units list: %+v", units.Items)
		}
		var regions struct {
			Items []struct {
				Code string `json:"code"`
			} `json:"items"`
		}
		e.do(t, "GET", "/api/v1/regions", e.login(t, "cadre-b"), nil).json(t, &regions)
		for _, r := range regions.Items {
			if r.Code != e.villageB.Code {
				t.Errorf("cadre of village B sees region %s", r.Code)
			}
		}
	})
}

// regionFilterQuery is what a route taking region_id needs besides it to
// answer at all (its other required parameters).
var regionFilterQuery = map[string]string{
	"/api/v1/exit-candidates":         "year=2026",
	"/api/v1/village-exit-candidates": "year=2026",
	"/api/v1/compliance/missed":       "period=2026",
	"/api/v1/compliance/forecast":     "period=2026",
	"/api/v1/exports/visits":          "period=2026",
	"/api/v1/exports/missed":          "period=2026",
	"/api/v1/exports/progress":        "period=2026",
}

// TestRegionFilterOutOfScope: every route taking a region_id filter (each
// GET of openapi.yaml with that query parameter) answers 404 for a region
// outside the caller's subtree, exactly as for one that does not exist —
// the existence of other regions is not revealed, and a client sees one
// behaviour on every route — and writes nothing; the caller's own region
// is answered.
func TestRegionFilterOutOfScope(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		supB := e.login(t, "supervisor-b")
		var routes []string
		for _, rt := range e.validator.Routes() {
			item := e.validator.Doc().Paths.Find(rt.Path)
			op := item.GetOperation(rt.Method)
			if rt.Method != "GET" || op.Parameters.GetByInAndName("query", "region_id") == nil && item.Parameters.GetByInAndName("query", "region_id") == nil {
				continue
			}
			routes = append(routes, strings.ReplaceAll(rt.Path, "{kind}", "livelihood_request"))
		}
		if len(routes) < 20 {
			t.Fatalf("only %d routes take region_id: %v", len(routes), routes)
		}
		for _, path := range routes {
			query := func(region uuid.UUID) string {
				q := "region_id=" + region.String()
				if extra := regionFilterQuery[path]; extra != "" {
					q += "&" + extra
				}
				return path + "?" + q
			}
			t.Run(path, func(t *testing.T) {
				before := e.counts(t)
				for _, tc := range []struct {
					name   string
					region uuid.UUID
				}{
					{"another village", e.villageA.ID},
					{"the county above", e.county.ID},
					{"no region", uuid.New()},
				} {
					r := e.do(t, "GET", query(tc.region), supB, nil)
					if r.Status != http.StatusNotFound {
						t.Fatalf("%s: want 404, got %d %s", tc.name, r.Status, r.Body)
					}
					if p := r.problem(t); p.Type != "urn:fieldvisit:problem:not_found" || !strings.Contains(string(r.Body), "region") {
						t.Fatalf("%s: want a not-found problem naming the region: %s", tc.name, r.Body)
					}
				}
				sameCounts(t, before, e.counts(t))
				if r := e.do(t, "GET", query(e.villageB.ID), supB, nil); r.Status == http.StatusNotFound {
					t.Fatalf("the caller's own village: 404 %s", r.Body)
				}
			})
		}
	})
}

// TestRoleLimits is the BFLA matrix: a cadre (and an inspector) on routes
// reserved to supervisors and admins gets 403 — even for objects in scope —
// and nothing is written.
func TestRoleLimits(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		hA := e.householdA.Household
		hPath := "/api/v1/households/" + hA.ID.String()
		routes := []struct {
			method, path string
			body         any
		}{
			{"POST", "/api/v1/regions", map[string]any{"parent_id": e.villageA.ID, "level": "group", "code": "410122100201009", "name": "九组"}},
			{"PATCH", "/api/v1/regions/" + e.villageA.ID.String(), map[string]any{"is_poor_village": false}},
			{"POST", "/api/v1/households", map[string]any{"region_id": e.villageA.ID, "head_name": "王五", "status": "registered", "poverty_type": "ordinary"}},
			{"PATCH", hPath, map[string]any{"version": 1, "phone": "13800000000"}},
			{"POST", hPath + "/status", map[string]any{"version": 1, "status": "exited", "exit_year": 2025, "effective_on": "2025-06-30"}},
			{"POST", hPath + "/members", map[string]any{"name": "新成员", "relation": "child"}},
			{"DELETE", hPath + "/members/" + e.householdA.Members[0].ID.String(), nil},
			{"GET", "/api/v1/users", nil},
			{"POST", "/api/v1/users", map[string]any{"username": "newcadre", "display_name": "新干部", "role": "cadre", "region_id": e.villageA.ID, "password": "long-enough-password"}},
			{"POST", "/api/v1/units", map[string]any{"name": "县水利局", "region_id": e.county.ID}},
			{"POST", "/api/v1/pairings", map[string]any{"household_id": hA.ID, "cadre_id": e.cadreA.ID}},
			{"POST", "/api/v1/imports", "户主姓名\n张三\n"},
			{"GET", "/api/v1/conflicts", nil},
			{"POST", "/api/v1/conflicts/" + uuid.NewString() + "/resolve", map[string]any{"resolution": "keep_won"}},
		}
		for _, who := range []string{"cadre-a"} {
			token := e.login(t, who)
			before := e.counts(t)
			for _, rt := range routes {
				t.Run(who+" "+rt.method+" "+rt.path, func(t *testing.T) {
					r := e.do(t, rt.method, rt.path, token, rt.body)
					if r.Status != http.StatusForbidden {
						t.Fatalf("want 403, got %d: %s", r.Status, r.Body)
					}
					r.problem(t)
				})
			}
			sameCounts(t, before, e.counts(t))
		}
		// A supervisor may not create admins or supervisors.
		r := e.do(t, "POST", "/api/v1/users", e.login(t, "supervisor-a"), map[string]any{"username": "boss", "display_name": "Boss", "role": "admin",
			"region_id": e.villageA.ID, "password": "long-enough-password"})
		if r.Status != http.StatusForbidden {
			t.Fatalf("supervisor creating an admin: want 403, got %d %s", r.Status, r.Body)
		}
	})
}

// TestRolesAreRefusedBeforeTheBody: a role that may never use a writing
// route gets 403 whatever its body — a bad one included — so that it
// learns nothing of what the route validates, and nothing is written; a
// role that may use the route gets the 422 for the same body (the refusal
// is the role's, not the body's).
func TestRolesAreRefusedBeforeTheBody(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		hPath := "/api/v1/households/" + e.householdA.Household.ID.String()
		someID := uuid.NewString()
		const bad = `{"no_such_field": 1}`
		routes := []struct {
			method, path string
			refused      []string // roles that may never use the route
			allowed      string   // a role that may, answered 422 for the bad body
		}{
			{"POST", "/api/v1/regions", []string{"supervisor-a", "cadre-a", "inspector"}, "admin"},
			{"PATCH", "/api/v1/regions/" + e.villageA.ID.String(), []string{"cadre-a", "inspector"}, "admin"},
			{"POST", "/api/v1/households", []string{"cadre-a", "inspector"}, "admin"},
			{"PATCH", hPath, []string{"cadre-a", "inspector"}, "supervisor-a"},
			{"POST", hPath + "/status", []string{"cadre-a", "inspector"}, "admin"},
			{"POST", hPath + "/poverty-type", []string{"cadre-a", "inspector"}, "admin"},
			{"PUT", hPath + "/income-accounts/2026", []string{"inspector"}, "cadre-a"},
			{"POST", hPath + "/procedures", []string{"cadre-a", "inspector"}, "admin"},
			{"POST", "/api/v1/procedures/" + someID + "/steps", []string{"cadre-a", "inspector"}, "admin"},
			{"PUT", "/api/v1/exit-standards/2026", []string{"supervisor-a", "cadre-a", "inspector"}, "admin"},
			{"POST", "/api/v1/adjustment-batches", []string{"cadre-a", "inspector"}, "admin"},
			{"POST", "/api/v1/adjustment-batches/" + someID + "/items/" + someID + "/reject", []string{"cadre-a", "inspector"}, "admin"},
			{"PUT", "/api/v1/village-exit-standards/2026", []string{"supervisor-a", "cadre-a", "inspector"}, "admin"},
			{"PUT", "/api/v1/villages/" + e.villageA.ID.String() + "/exit-records/2025", []string{"cadre-a", "inspector"}, "admin"},
			{"POST", "/api/v1/villages/" + e.villageA.ID.String() + "/procedures", []string{"cadre-a", "inspector"}, "admin"},
			{"POST", hPath + "/members", []string{"cadre-a", "inspector"}, "admin"},
			{"PATCH", hPath + "/members/" + e.householdA.Members[0].ID.String(), []string{"cadre-a", "inspector"}, "admin"},
			{"POST", "/api/v1/units", []string{"cadre-a", "inspector"}, "admin"},
			{"POST", "/api/v1/units/" + e.unitA.String() + "/assignments", []string{"cadre-a", "inspector"}, "admin"},
			{"POST", "/api/v1/users", []string{"cadre-a", "inspector"}, "admin"},
			{"PATCH", "/api/v1/users/" + e.cadreA.ID.String(), []string{"cadre-a", "inspector"}, "admin"},
			{"POST", "/api/v1/pairings", []string{"cadre-a", "inspector"}, "admin"},
			{"POST", "/api/v1/pairings/" + e.pairingA.ID.String() + "/end", []string{"cadre-a", "inspector"}, "admin"},
			{"POST", "/api/v1/conflicts/" + someID + "/resolve", []string{"cadre-a", "inspector"}, "admin"},
			{"PUT", "/api/v1/rule-profiles/default", []string{"supervisor-a", "cadre-a", "inspector"}, "admin"},
			{"PUT", "/api/v1/regions/" + e.town.ID.String() + "/rule-profile", []string{"supervisor-a", "cadre-a", "inspector"}, "admin"},
			{"POST", "/api/v1/compliance/closes", []string{"cadre-a", "inspector"}, "admin"},
			{"POST", "/api/v1/inspections", []string{"cadre-a", "inspector"}, "admin"},
			{"POST", "/api/v1/inspections/" + someID + "/sample", []string{"cadre-a", "inspector"}, "admin"},
			{"PUT", "/api/v1/inspections/" + someID + "/households/" + e.householdA.Household.ID.String() + "/findings", []string{"admin", "supervisor-a", "cadre-a"}, "inspector"},
			{"PUT", "/api/v1/inspections/" + someID + "/villages/" + e.villageA.ID.String() + "/findings", []string{"admin", "supervisor-a", "cadre-a"}, "inspector"},
			{"POST", "/api/v1/accountability", []string{"cadre-a", "inspector"}, "admin"},
			{"POST", "/api/v1/accountability/" + someID + "/follow-up", []string{"cadre-a", "inspector"}, "admin"},
			{"POST", "/api/v1/rectifications", []string{"cadre-a"}, "inspector"},
			{"POST", "/api/v1/ledgers/livelihood_request/items", []string{"inspector"}, "cadre-a"},
			{"POST", "/api/v1/ledgers/livelihood_request/items/" + someID + "/actions", []string{"inspector"}, "cadre-a"},
			{"POST", "/api/v1/risk-warnings/" + someID + "/resolve", []string{"cadre-a", "inspector"}, "admin"},
		}
		tokens := map[string]string{}
		for _, who := range []string{"admin", "supervisor-a", "cadre-a", "inspector"} {
			tokens[who] = e.login(t, who)
		}
		for _, rt := range routes {
			t.Run(rt.method+" "+rt.path, func(t *testing.T) {
				before := e.counts(t)
				for _, who := range rt.refused {
					r := e.do(t, rt.method, rt.path, tokens[who], bad)
					if r.Status != http.StatusForbidden {
						t.Fatalf("%s with a bad body: want 403, got %d %s", who, r.Status, r.Body)
					}
					if p := r.problem(t); len(p.Errors) != 0 {
						t.Fatalf("%s: the 403 tells of the body: %s", who, r.Body)
					}
				}
				sameCounts(t, before, e.counts(t))
				r := e.do(t, rt.method, rt.path, tokens[rt.allowed], bad)
				if r.Status != http.StatusUnprocessableEntity || !r.problem(t).hasField("/no_such_field") {
					t.Fatalf("%s with the bad body: want 422 naming /no_such_field, got %d %s", rt.allowed, r.Status, r.Body)
				}
			})
		}
	})
}

// TestServerOwnedFieldsAreRefused: ids, versions, statuses, hashes and other
// server-owned fields cannot be set through a body (mass assignment).
func TestServerOwnedFieldsAreRefused(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		hPath := "/api/v1/households/" + e.householdA.Household.ID.String()
		admin := e.login(t, "admin")
		cadre := e.login(t, "cadre-a")
		supervisor := e.login(t, "supervisor-a")
		cases := []struct {
			name, token, method, path string
			body                      map[string]any
			field                     string
		}{
			{"household id on create", admin, "POST", "/api/v1/households", map[string]any{"id": uuid.New(), "region_id": e.villageA.ID, "head_name": "王五", "status": "registered", "poverty_type": "ordinary"}, "/id"},
			{"county on create", admin, "POST", "/api/v1/households", map[string]any{"county_id": uuid.New(), "region_id": e.villageA.ID, "head_name": "王五", "status": "registered", "poverty_type": "ordinary"}, "/county_id"},
			{"status through patch", admin, "PATCH", hPath, map[string]any{"version": 1, "status": "exited"}, "/status"},
			{"poverty type through patch", admin, "PATCH", hPath, map[string]any{"version": 1, "poverty_type": "wubao"}, "/poverty_type"},
			{"created_at through patch", admin, "PATCH", hPath, map[string]any{"version": 1, "created_at": "2020-01-01T00:00:00Z"}, "/created_at"},
			{"password hash on user", admin, "POST", "/api/v1/users", map[string]any{"username": "x-user", "display_name": "X", "role": "cadre", "region_id": e.villageA.ID, "password": "long-enough-password", "password_hash": "x"}, "/password_hash"},
			{"a cadre's role", supervisor, "PATCH", "/api/v1/users/" + e.cadreA.ID.String(), map[string]any{"role": "admin"}, "/role"},
			{"a cadre's region path", supervisor, "PATCH", "/api/v1/users/" + e.cadreA.ID.String(), map[string]any{"region_path": "/"}, "/region_path"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := e.counts(t)
				r := e.do(t, tc.method, tc.path, tc.token, tc.body)
				if r.Status != http.StatusUnprocessableEntity {
					t.Fatalf("want 422, got %d: %s", r.Status, r.Body)
				}
				if p := r.problem(t); !p.hasField(tc.field) {
					t.Fatalf("problem does not name %s: %s", tc.field, r.Body)
				}
				sameCounts(t, before, e.counts(t))
			})
		}
		var me struct {
			Role string `json:"role"`
		}
		e.do(t, "GET", "/api/v1/me", cadre, nil).json(t, &me)
		if me.Role != "cadre" {
			t.Fatalf("cadre's role changed to %q", me.Role)
		}
	})
}

// TestForgedTokens: every JWT attack gets 401.
func TestForgedTokens(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	keys, err := auth.LoadKeyRing(e.app.Config.KeyDir)
	if err != nil {
		t.Fatal(err)
	}
	kid, priv := keys.SigningKey()
	now := time.Now()
	// A real login's session (its refresh-token family), which every
	// access token names.
	var real jwt.MapClaims
	if _, _, err := jwt.NewParser().ParseUnverified(e.loginTokens(t, "cadre-a", "phone").AccessToken, &real); err != nil {
		t.Fatal(err)
	}
	claims := func(mut func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"iss": "fieldvisit", "aud": []string{"fieldvisit-api"}, "sub": e.cadreA.ID.String(), "role": "cadre",
			"exp": now.Add(10 * time.Minute).Unix(), "iat": now.Unix(), "nbf": now.Unix(), "sid": real["sid"]}
		if mut != nil {
			mut(c)
		}
		return c
	}
	sign := func(c jwt.MapClaims, k string, key ed25519.PrivateKey) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
		tok.Header["kid"] = k
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	good := sign(claims(nil), kid, priv)
	if r := e.do(t, "GET", "/api/v1/me", good, nil); r.Status != http.StatusOK {
		t.Fatalf("control: a well-formed token must work, got %d %s", r.Status, r.Body)
	}
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	parts := strings.Split(good, ".")
	b64 := base64.RawURLEncoding.EncodeToString
	noneTok := b64([]byte(`{"alg":"none","typ":"JWT","kid":"`+kid+`"}`)) + "." + parts[1] + "."
	pub := priv.Public().(ed25519.PublicKey)
	hsTok := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(nil))
		tok.Header["kid"] = kid
		s, _ := tok.SignedString([]byte(pub))
		return s
	}()
	tampered := parts[0] + "." + b64([]byte(`{"iss":"fieldvisit","aud":["fieldvisit-api"],"sub":"`+e.admin.UserID.String()+`","role":"admin","exp":`+
		strconv.FormatInt(now.Add(time.Hour).Unix(), 10)+`}`)) + "." + parts[2]
	cases := map[string]string{
		"alg none":                  noneTok,
		"HS256 with the public key": hsTok,
		"expired": sign(claims(func(c jwt.MapClaims) {
			c["exp"] = now.Add(-time.Hour).Unix()
			c["iat"] = now.Add(-2 * time.Hour).Unix()
		}), kid, priv),
		"no exp":           sign(claims(func(c jwt.MapClaims) { delete(c, "exp") }), kid, priv),
		"wrong audience":   sign(claims(func(c jwt.MapClaims) { c["aud"] = []string{"other-api"} }), kid, priv),
		"wrong issuer":     sign(claims(func(c jwt.MapClaims) { c["iss"] = "evil" }), kid, priv),
		"no issuer":        sign(claims(func(c jwt.MapClaims) { delete(c, "iss") }), kid, priv),
		"tampered payload": tampered,
		"unknown kid":      sign(claims(nil), "no-such-kid", priv),
		"foreign key":      sign(claims(nil), kid, otherKey),
		"unknown subject":  sign(claims(func(c jwt.MapClaims) { c["sub"] = uuid.NewString() }), kid, priv),
		"no session":       sign(claims(func(c jwt.MapClaims) { delete(c, "sid") }), kid, priv),
		"unknown session":  sign(claims(func(c jwt.MapClaims) { c["sid"] = uuid.NewString() }), kid, priv),
		"garbage":          "not.a.jwt",
		"empty":            "",
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			r := e.do(t, "GET", "/api/v1/me", tok, nil)
			if r.Status != http.StatusUnauthorized {
				t.Fatalf("want 401, got %d: %s", r.Status, r.Body)
			}
			r.problem(t)
		})
	}
}
