package app

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance/rules"
	"github.com/fieldvisit/fieldvisit/wire"
)

// TestUnannouncedInspectionVisitsStayHidden: an inspection visit at a
// household drawn for a running unannounced campaign (明察暗访) is hidden
// from everyone the campaign is hidden from — the town's office, the
// paired cadre, a county supervisor who did not create it, the inspector
// of another campaign over the same household — on every path that shows
// visits (the list, the visit by id, the console's household page, the
// compliance timeline, the 台账 export, the pull); its creator, its
// inspector and the admin above see it. Once the campaign ends everyone
// sees it as they see any visit.
func TestUnannouncedInspectionVisitsStayHidden(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		e.inspectable(t)
		hA := e.householdA.Household.ID
		e.addUser(t, "town-sup", domain.RoleSupervisor, e.town, nil, "")
		e.addUser(t, "county-sup", domain.RoleSupervisor, e.county, nil, "")
		e.addUser(t, "county-lead", domain.RoleSupervisor, e.county, nil, "")
		other := e.addUser(t, "inspector-b", domain.RoleInspector, e.town, nil, "")

		// The other inspector's announced campaign draws the same
		// households, so hA is on their phone too.
		_, sampled := e.drawCampaign(t, "announced", other.ID)
		lead := e.login(t, "county-lead")
		secret := e.newCampaign(t, lead, e.campaignBody("unannounced"))
		if r := e.do(t, "POST", "/api/v1/inspections/"+secret.ID.String()+"/sample", lead, map[string]any{"seed": "secret"}); r.Status != http.StatusCreated {
			t.Fatalf("draw: %d %s", r.Status, r.Body)
		}
		if !sampled[hA] {
			t.Fatal("the announced campaign did not draw household A")
		}

		now := time.Now()
		id := uuid.New()
		const notes = "暗访核查:家中饮水未通,与帮扶手册记录不符"
		v := visitOn(id, hA, domain.KindInspection, now.Add(-time.Hour))
		v["data"].(map[string]any)["notes"] = notes
		e.push(t, e.login(t, "inspector"), uuid.NewString(), batch("inspector-phone", now, v)).pushResult(t)
		e.judgeCompliance(t)

		srv := httptest.NewServer(e.app.Handler)
		t.Cleanup(srv.Close)
		console := &consoleEnv{app: e.app, url: srv.URL}
		quarter, _ := rules.PeriodOf(rules.WindowQuarter, domain.DateOf(now))

		type path = string
		paths := map[path]func(t *testing.T, username, tok string) bool{
			"visit list": func(t *testing.T, _, tok string) bool {
				r := e.do(t, "GET", "/api/v1/visits?limit=200", tok, nil)
				return r.Status == http.StatusOK && strings.Contains(string(r.Body), id.String())
			},
			"visit by id": func(t *testing.T, _, tok string) bool {
				r := e.do(t, "GET", "/api/v1/visits/"+id.String(), tok, nil)
				if r.Status != http.StatusOK && r.Status != http.StatusNotFound {
					t.Errorf("GET the visit: %d %s", r.Status, r.Body)
				}
				return r.Status == http.StatusOK
			},
			"console household page": func(t *testing.T, username, _ string) bool {
				c := console.client(t)
				if r := c.login(username, testPassword); r.StatusCode != http.StatusSeeOther {
					return false // no console for this role
				}
				r := c.get("/ui/households/" + hA.String())
				return r.StatusCode == http.StatusOK && strings.Contains(pageText(t, r), notes)
			},
			"compliance timeline": func(t *testing.T, _, tok string) bool {
				r := e.do(t, "GET", "/api/v1/households/"+hA.String()+"/compliance", tok, nil)
				return r.Status == http.StatusOK && strings.Contains(string(r.Body), id.String())
			},
			"export csv": func(t *testing.T, _, tok string) bool {
				r := e.do(t, "GET", "/api/v1/exports/visits?format=csv&region_id="+e.town.ID.String()+"&period="+quarter.Key(), tok, nil)
				return r.Status == http.StatusOK && strings.Contains(string(r.Body), notes)
			},
			"pull": func(t *testing.T, _, tok string) bool {
				r := e.do(t, "GET", "/api/v1/sync/pull?limit=2000", tok, nil)
				if r.Status != http.StatusOK {
					return false
				}
				var page wire.PullResponse
				r.json(t, &page)
				return idsOf(page.Changes, "visit", "upsert")[id]
			},
		}
		// What each reader sees of the visit on each path once the campaign
		// ended: as of any visit (a cadre reads and pulls only their own;
		// only inspectors pull others' visits; the inspector's list is of
		// their active tasks, and theirs ended).
		ended := map[string]map[path]bool{
			"town-sup":    {"visit list": true, "visit by id": true, "console household page": true, "compliance timeline": true, "export csv": true},
			"cadre-a":     {"compliance timeline": true},
			"county-sup":  {"visit list": true, "visit by id": true, "console household page": true, "compliance timeline": true, "export csv": true},
			"county-lead": {"visit list": true, "visit by id": true, "console household page": true, "compliance timeline": true, "export csv": true},
			"inspector":   {"visit by id": true, "pull": true},
			"admin":       {"visit list": true, "visit by id": true, "console household page": true, "compliance timeline": true, "export csv": true},
			"inspector-b": {"visit list": true, "visit by id": true, "console household page": true, "compliance timeline": true, "export csv": true, "pull": true},
		}
		// While it runs: hidden from whom the campaign is hidden; its
		// creator, inspector and the admin above see it, the inspector
		// through their tasks too.
		running := map[string]map[path]bool{
			"town-sup": {}, "cadre-a": {}, "county-sup": {}, "inspector-b": {},
			"county-lead": ended["county-lead"], "admin": ended["admin"],
			"inspector": {"visit list": true, "visit by id": true, "console household page": true, "compliance timeline": true, "export csv": true, "pull": true},
		}
		check := func(t *testing.T, want map[string]map[path]bool) {
			for reader, sees := range want {
				tok := e.login(t, reader)
				for name, read := range paths {
					if got := read(t, reader, tok); got != sees[name] {
						t.Errorf("%s, %s: sees the inspection visit %v, want %v", reader, name, got, sees[name])
					}
				}
			}
		}
		t.Run("running", func(t *testing.T) { check(t, running) })
		// The other inspector's phone syncs past the visit while it is hidden.
		phoneB := e.login(t, "inspector-b")
		_, cursorB := e.pullAll(t, phoneB, "", 500)

		if r := e.do(t, "POST", "/api/v1/inspections/"+secret.ID.String()+"/end", lead, nil); r.Status != http.StatusOK {
			t.Fatalf("end: %d %s", r.Status, r.Body)
		}
		e.judgeCompliance(t)
		t.Run("ended", func(t *testing.T) { check(t, ended) })
		if got, _ := e.pullAll(t, phoneB, cursorB, 500); !idsOf(got, "visit", "upsert")[id] {
			t.Errorf("a phone that synced past the hidden visit does not receive it once the campaign ended: %v", summary(got))
		}
	})
}
