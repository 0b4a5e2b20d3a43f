package app

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// secretRoute is one row of the secrecy matrix: a read whose answer could
// tell that a household is in an unannounced campaign's sample, and the
// route (as the router spells it) it exercises. The path may name
// {campaign}, {visit} (the inspector's visit), {photo} (its photo),
// {rectification} (the inspector's item for its findings), {region} (the
// viewer's own) and {cursor} (the viewer's phone's, from before the
// campaign).
type secretRoute struct {
	route, path string
	// ofTheVisit: the route reads the household's visits (or their
	// photos), where the inspector's visit rightly shows once it has
	// arrived — by then its household is done.
	ofTheVisit bool
}

// routesThatCouldTell are every read a cadre or an office has of
// households, visits, the sync feed, compliance reports and exports, the
// audit log, rectifications, accountability and inspections.
// TestEveryReadIsInTheSecrecyMatrix keeps the list complete.
func (e *testEnv) routesThatCouldTell() []secretRoute {
	hA, hB := e.householdA.Household.ID.String(), e.householdB.Household.ID.String()
	row := func(route, path string) secretRoute { return secretRoute{route: route, path: path} }
	visits := func(route, path string) secretRoute { return secretRoute{route: route, path: path, ofTheVisit: true} }
	return []secretRoute{
		row("/api/v1/households", "/api/v1/households"),
		row("/api/v1/households/:id", "/api/v1/households/"+hA),
		row("/api/v1/households/:id", "/api/v1/households/"+hB),
		row("/api/v1/households/:id/members", "/api/v1/households/"+hA+"/members"),
		row("/api/v1/households/:id/members/:member_id", "/api/v1/households/"+hA+"/members/"+e.householdA.Members[0].ID.String()),
		// Visits that do not count are listed, an inspection among them.
		visits("/api/v1/households/:id/compliance", "/api/v1/households/"+hA+"/compliance"),
		row("/api/v1/households/:id/income-accounts", "/api/v1/households/"+hA+"/income-accounts"),
		// A plan's progress names the visits that recorded it.
		visits("/api/v1/households/:id/plan", "/api/v1/households/"+hA+"/plan"),
		visits("/api/v1/plan-items", "/api/v1/plan-items"),
		// A warning names the visit that recorded its trigger.
		visits("/api/v1/risk-warnings", "/api/v1/risk-warnings"),
		row("/api/v1/ledgers/:kind/items", "/api/v1/ledgers/livelihood_request/items"),
		// Candidates read the latest visit's checklist, an inspection's too.
		visits("/api/v1/exit-candidates", "/api/v1/exit-candidates?region_id={region}"),
		row("/api/v1/pairings", "/api/v1/pairings"),
		row("/api/v1/pairings/:id", "/api/v1/pairings/"+e.pairingA.ID.String()),
		visits("/api/v1/visits", "/api/v1/visits"),
		visits("/api/v1/visits", "/api/v1/visits?household_id="+hA),
		visits("/api/v1/visits/:id", "/api/v1/visits/{visit}"),
		visits("/api/v1/photos/:id", "/api/v1/photos/{photo}"),
		visits("/api/v1/photos/:id/content", "/api/v1/photos/{photo}/content"),
		visits("/api/v1/photos/:id/thumbnail", "/api/v1/photos/{photo}/thumbnail"),
		row("/api/v1/sync/snapshot", "/api/v1/sync/snapshot"),
		row("/api/v1/sync/pull", "/api/v1/sync/pull"),
		row("/api/v1/sync/pull", "/api/v1/sync/pull?cursor={cursor}"),
		row("/api/v1/worklist", "/api/v1/worklist"),
		row("/api/v1/cadres/:id/summary", "/api/v1/cadres/"+e.cadreA.ID.String()+"/summary"),
		row("/api/v1/compliance/missed", "/api/v1/compliance/missed?region_id={region}"),
		row("/api/v1/compliance/forecast", "/api/v1/compliance/forecast?region_id={region}"),
		row("/api/v1/compliance/coverage", "/api/v1/compliance/coverage?region_id={region}"),
		visits("/api/v1/exports/visits", "/api/v1/exports/visits?region_id={region}&format=csv"),
		row("/api/v1/exports/missed", "/api/v1/exports/missed?region_id={region}&format=csv"),
		row("/api/v1/exports/progress", "/api/v1/exports/progress?region_id={region}&format=csv"),
		row("/api/v1/exports/rectifications", "/api/v1/exports/rectifications?format=csv"),
		row("/api/v1/exports/register", "/api/v1/exports/register?region_id={region}&format=csv"),
		row("/api/v1/exports/income", "/api/v1/exports/income?region_id={region}&format=csv"),
		row("/api/v1/rectifications", "/api/v1/rectifications"),
		row("/api/v1/rectifications", "/api/v1/rectifications?campaign_id={campaign}"),
		row("/api/v1/rectifications/:id", "/api/v1/rectifications/{rectification}"),
		row("/api/v1/accountability", "/api/v1/accountability"),
		row("/api/v1/accountability", "/api/v1/accountability?campaign_id={campaign}"),
		row("/api/v1/audit-log", "/api/v1/audit-log"),
		row("/api/v1/conflicts", "/api/v1/conflicts"),
		row("/api/v1/inspections", "/api/v1/inspections"),
		row("/api/v1/inspections", "/api/v1/inspections?region_id={region}"),
		row("/api/v1/inspections/:id", "/api/v1/inspections/{campaign}"),
		row("/api/v1/inspections/:id/sample", "/api/v1/inspections/{campaign}/sample"),
		row("/api/v1/inspections/:id/findings", "/api/v1/inspections/{campaign}/findings"),
		row("/api/v1/inspections/:id/report", "/api/v1/inspections/{campaign}/report"),
		row("/api/v1/inspections/:id/report", "/api/v1/inspections/{campaign}/report?format=csv"),
	}
}

// readsThatCannotTell are the API's other reads, each with why no
// inspection shows in it.
var readsThatCannotTell = map[string]string{
	"/api/v1/me":                                   "the caller's own account",
	"/api/v1/vocabularies":                         "fixed code lists",
	"/api/v1/inspection-forms":                     "the forms, the same for everyone",
	"/api/v1/rule-profiles":                        "rule profiles: shared configuration",
	"/api/v1/rule-profiles/:code":                  "rule profiles: shared configuration",
	"/api/v1/regions":                              "the administrative tree; no campaign writes it",
	"/api/v1/regions/:id":                          "the administrative tree; no campaign writes it",
	"/api/v1/regions/:id/rule-profile":             "which rules a region follows",
	"/api/v1/units":                                "assisting units",
	"/api/v1/units/:id":                            "assisting units",
	"/api/v1/users":                                "accounts: an inspector's own sign-ins show there, never a household",
	"/api/v1/users/:id":                            "accounts: an inspector's own sign-ins show there, never a household",
	"/api/v1/users/:id/devices":                    "an account's phones and when they synced, never what",
	"/api/v1/devices":                              "phones' sync health: when they synced, how much waits on them and how far behind the whole server's feed a pull left them, never what or where",
	"/api/v1/photo-uploads/:id":                    "an upload in progress is its uploader's alone",
	"/api/v1/households/:id/income-accounts/:year": "one year's income account, which no campaign writes (the list is in the matrix)",
	"/api/v1/exit-standards/:year":                 "a year's exit standard: shared configuration",
	"/api/v1/ledgers/:kind/items/:id":              "one ledger item, which no campaign writes (the list is in the matrix)",
	"/api/v1/exports/exits":                        "the procedures' ledger, which no campaign writes",
	"/api/v1/village-exit-standards/:year":         "a year's village criteria: shared configuration",
	"/api/v1/village-exit-candidates":              "poor villages judged from household statuses and the village's own records, which no campaign writes",
	"/api/v1/villages/:id/exit-records/:year":      "a village's collective income and items, which no campaign writes",
	"/api/v1/villages/:id/procedures":              "a village's exit procedure, which no campaign writes",
	"/api/v1/procedures/:id":                       "a supervisor's exit or identification procedure, which no campaign writes",
	// An adjustment batch is a snapshot of proposals stored when it was
	// built: its exit evidence is the exit-candidates list's (a row of the
	// matrix) and it reads inspection findings of ended campaigns only.
	"/api/v1/adjustment-batches":     "an adjustment round's batches: stored proposals; findings of ended campaigns only",
	"/api/v1/adjustment-batches/:id": "an adjustment round's batch: stored proposals; findings of ended campaigns only",
	// The printed forms are laid out from the household file and the
	// visits listing (both rows of the matrix), through the same services.
	"/api/v1/households/:id/forms/:form": "a household's printed forms, drawn from the household file and the visits listing",
	"/api/v1/regions/:id/forms/:form":    "a village's printed forms, drawn from the household file and the visits listing",
	"/api/v1/cadres/:id/handbook.pdf":    "a cadre's 帮扶手册, drawn from the visits listing",
}

// viewer is who must not learn of the campaign: a token, their region and
// their phone's cursor from before it.
type viewer struct {
	name, token, cursor string
	region              uuid.UUID
}

// asCompared is an answer as the matrix compares it: the status and the
// body, less what differs between any two requests (a problem's request
// id and instance, a page's cursor) and the order the snapshot promises
// none of.
func asCompared(t *testing.T, r response) string {
	t.Helper()
	ct := r.Header.Get("Content-Type")
	if !strings.Contains(ct, "json") {
		return strconv.Itoa(r.Status) + " " + string(r.Body)
	}
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("%s: %v", r.Body, err)
	}
	delete(m, "request_id")
	delete(m, "instance")
	delete(m, "cursor")
	if changes, ok := m["changes"].([]any); ok {
		sort.Slice(changes, func(i, j int) bool {
			a, _ := json.Marshal(changes[i])
			b, _ := json.Marshal(changes[j])
			return string(a) < string(b)
		})
	}
	b, _ := json.Marshal(m)
	return strconv.Itoa(r.Status) + " " + string(b)
}

// TestUnannouncedSamplesStayHiddenOnEveryRoute: until a household's
// inspection is done, no route tells the inspected village's cadre, or the
// town's and the village's offices, that it is in an unannounced
// campaign's sample. With the clock stopped, every route answers them
// exactly as before the campaign was created, while it is drawn and its
// inspector syncs, reads the household, uploads a photo and has a visit
// refused. When the inspector's visit arrives, only the routes that read
// the household's visits change, and the household is done by then; its
// findings and their item in the ledger change nothing more. No answer
// ever names the campaign or a task.
func TestUnannouncedSamplesStayHiddenOnEveryRoute(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		stopped := time.Now()
		e.app.Now = func() time.Time { return stopped }
		e.rebuildAuth(t)
		e.inspectable(t)
		townOffice := e.addUser(t, "supervisor-town", domain.RoleSupervisor, e.town, nil, "")
		hA := e.householdA.Household.ID
		cadre := e.login(t, "cadre-a")
		e.push(t, cadre, uuid.NewString(), batch("cadre-phone", stopped, visitOn(uuid.New(), hA, domain.KindAssist, stopped.AddDate(0, 0, -3)))).pushResult(t)
		viewers := []viewer{{name: "cadre-a", token: cadre, region: e.villageA.ID}, {name: "supervisor-a", region: e.villageA.ID},
			{name: townOffice.Username, region: e.town.ID}}
		for i := range viewers {
			if viewers[i].token == "" {
				viewers[i].token = e.login(t, viewers[i].name)
			}
			_, viewers[i].cursor = e.pullAll(t, viewers[i].token, "", 500)
		}
		routes := e.routesThatCouldTell()
		visit, photo := uuid.New(), uuid.New()
		ids := map[string]string{"{campaign}": uuid.NewString(), "{visit}": visit.String(), "{photo}": photo.String(), "{rectification}": uuid.NewString()}
		var needles []string
		answers := func(t *testing.T) map[string]string {
			t.Helper()
			out := map[string]string{}
			for _, v := range viewers {
				for _, rt := range routes {
					path := rt.path
					for k, id := range ids {
						path = strings.ReplaceAll(path, k, id)
					}
					path = strings.NewReplacer("{region}", v.region.String(), "{cursor}", v.cursor).Replace(path)
					got := asCompared(t, e.do(t, "GET", path, v.token, nil))
					for _, n := range needles {
						if strings.Contains(got, n) {
							t.Errorf("%s GET %s names %s: %s", v.name, path, n, got)
						}
					}
					out[v.name+" "+rt.path] = got
				}
			}
			return out
		}
		same := func(t *testing.T, from, to map[string]string, what string, mayShowTheVisit bool) (shown bool) {
			t.Helper()
			for _, v := range viewers {
				for _, rt := range routes {
					k := v.name + " " + rt.path
					switch {
					case from[k] == to[k]:
					case rt.ofTheVisit && mayShowTheVisit:
						shown = shown || strings.Contains(to[k], visit.String())
					default:
						t.Errorf("%s GET %s changed %s:\nbefore %.300s\nafter  %.300s", v.name, rt.path, what, from[k], to[k])
					}
				}
			}
			return shown
		}
		before := answers(t)

		c, sampled := e.drawCampaign(t, "unannounced")
		if !sampled[hA] {
			t.Fatal("household A was not drawn")
		}
		insp := e.login(t, "inspector")
		ids["{campaign}"] = c.ID.String()
		needles = append(needles, c.ID.String(), c.Name)
		snap, _ := e.snapshot(t, insp)
		for id := range idsOf(snap, "task", "upsert") {
			needles = append(needles, id.String())
		}
		for _, p := range []string{"", "/members", "/compliance"} {
			if r := e.do(t, "GET", "/api/v1/households/"+hA.String()+p, insp, nil); r.Status != http.StatusOK {
				t.Fatalf("the inspector reads household A%s: %d %s", p, r.Status, r.Body)
			}
		}
		img := testJPEG(t, 51, stopped, nil)
		if r := e.putPhoto(t, insp, photo, img, sha256Hex(img), "image/jpeg", ""); r.Status != http.StatusCreated {
			t.Fatalf("the inspector's photo: %d %s", r.Status, r.Body)
		}
		// Its thumbnail is made now, not by whichever read comes first.
		if _, err := e.app.Photos.MakeThumbnails(context.Background(), 10); err != nil {
			t.Fatal(err)
		}
		inspection := visitOn(visit, hA, domain.KindInspection, stopped.Add(-time.Hour))
		inspection["data"].(map[string]any)["photos"] = []any{map[string]any{"photo_id": photo, "sha256": sha256Hex(img)}}
		refused := withFindings(visitOn(visit, hA, domain.KindInspection, stopped.Add(-time.Hour)), recalled(100), nil)
		if res := e.push(t, insp, uuid.NewString(), batch("inspector-phone", stopped, refused)).pushResult(t); res.Rejected != 1 {
			t.Fatalf("a visit with a bad form: %+v", res.Results[0])
		}
		during := answers(t)
		same(t, before, during, "while the campaign ran", false)

		// The visit arrives, alone: its household is done, and the visit
		// shows to none of the town's readers while the campaign runs (it
		// showed, and told the town an inspector had come).
		if res := e.push(t, insp, uuid.NewString(), batch("inspector-phone", stopped, inspection)).pushResult(t); res.Applied != 1 {
			t.Fatalf("the inspection: %+v", res.Results[0])
		}
		arrived := answers(t)
		same(t, during, arrived, "when the inspection arrived", false)
		if e.doneAt(t, c.ID, hA) == nil {
			t.Error("the inspector's visit did not do its household")
		}
		// Its findings follow in an edit, and an item for them goes in the
		// ledger: nothing more shows.
		withProblem := recalled(1)
		withProblem["housing"] = map[string]any{"choice": "problem"}
		findings := map[string]any{"entity": "visit", "op": "update", "id": visit, "base_version": 1,
			"data": map[string]any{"findings": map[string]any{"answers": withProblem}}}
		if res := e.push(t, insp, uuid.NewString(), batch("inspector-phone", stopped, findings)).pushResult(t); res.Applied != 1 {
			t.Fatalf("the findings: %+v", res.Results[0])
		}
		finding, _ := e.findingOf(t, insp, c.ID, hA)
		item := e.rectify(t, insp, map[string]any{"problem": "住房安全未保障：屋顶漏雨", "campaign_id": c.ID, "finding_id": finding.ID,
			"responsible_user_id": e.cadreA.ID, "deadline": e.daysFromToday(15)})
		ids["{rectification}"] = item.ID.String()
		same(t, arrived, answers(t), "with the findings and their ledger item", false)
	})
}

// TestEveryReadIsInTheSecrecyMatrix: every read of the API is in the
// secrecy matrix or says why no inspection shows in it — a new route
// without a row fails here.
func TestEveryReadIsInTheSecrecyMatrix(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	inMatrix := map[string]bool{}
	for _, rt := range e.routesThatCouldTell() {
		inMatrix[rt.route] = true
	}
	for _, r := range e.app.Handler.(*gin.Engine).Routes() {
		if r.Method != "GET" || !strings.HasPrefix(r.Path, "/api/v1/") {
			continue
		}
		if !inMatrix[r.Path] && readsThatCannotTell[r.Path] == "" {
			t.Errorf("GET %s has no row in TestUnannouncedSamplesStayHiddenOnEveryRoute", r.Path)
		}
		delete(inMatrix, r.Path)
	}
	for route := range inMatrix {
		t.Errorf("the matrix has a row for GET %s, which the router does not serve", route)
	}
}
