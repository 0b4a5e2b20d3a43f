package app

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/casework"
	"github.com/fieldvisit/fieldvisit/internal/testkit/pdftest"
	"github.com/fieldvisit/fieldvisit/internal/testkit/storetest"
	"github.com/fieldvisit/fieldvisit/wire"
)

// villageCandidateOf is a village's line of the village candidates list.
func villageCandidateOf(t *testing.T, e *testEnv, token string, village string) wire.VillageCandidate {
	t.Helper()
	var cs wire.VillageExitCandidates
	r := e.do(t, "GET", "/api/v1/village-exit-candidates?year=2026&region_id="+village, token, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("village candidates: %d %s", r.Status, r.Body)
	}
	r.json(t, &cs)
	qualifying := 0
	for _, c := range cs.Items {
		if c.Qualifies {
			qualifying++
		}
	}
	if cs.Total != len(cs.Items) || cs.Qualifying != qualifying {
		t.Errorf("the village list says %d villages, %d qualifying; it holds %d, %d qualifying", cs.Total, cs.Qualifying, len(cs.Items), qualifying)
	}
	for _, c := range cs.Items {
		if c.VillageID.String() == village {
			return c
		}
	}
	t.Fatalf("village %s is not on the candidates list: %s", village, r.Body)
	return wire.VillageCandidate{}
}

// TestVillageExitProcedure walks a poor village out (贫困村出列) through the
// household procedures' step mechanism: refused while the register's
// incidence and the recorded collective income and 五通七有 items fall
// short, then started, every step allowed and refused, and the
// announcement marks the village exited with its year. Another county's
// supervisor and another village's get 404 everywhere.
func TestVillageExitProcedure(t *testing.T) {
	dialectsAt(t, caseworkClock, func(t *testing.T, e *testEnv) {
		ctx := context.Background()
		supervisor := e.login(t, "supervisor-a")
		village := e.villageA.ID.String()
		city := storetest.Must(e.app.Store.Region(ctx, *e.county.ParentID))(t)
		farCounty := e.addRegion(t, city, domain.LevelCounty, "410123000000", "远方县")
		e.addUser(t, "supervisor-far", domain.RoleSupervisor, farCounty, nil, "")
		far, neighbour := e.login(t, "supervisor-far"), e.login(t, "supervisor-b")

		c := villageCandidateOf(t, e, supervisor, village)
		if c.Qualifies || c.PoorMembers != c.AllMembers || c.AllMembers == 0 || c.Exit != nil {
			t.Fatalf("a village of registered households only: %+v", c)
		}
		start := "/api/v1/villages/" + village + "/procedures"
		if r := e.do(t, "POST", start, supervisor, map[string]any{"kind": "village_exit", "year": 2026}); r.Status != http.StatusUnprocessableEntity ||
			!r.problem(t).hasField("/year") {
			t.Errorf("a village short of the criteria starts: %d %s", r.Status, r.Body)
		}
		// Its one registered household exits; the village records its
		// collective income and every item of the year's criteria.
		if r := e.do(t, "POST", "/api/v1/households/"+e.householdA.Household.ID.String()+"/status", supervisor, map[string]any{
			"version": e.householdA.Household.Version, "status": "exited", "exit_year": 2026, "effective_on": "2026-06-30"}); r.Status != http.StatusOK {
			t.Fatalf("household exit: %d %s", r.Status, r.Body)
		}
		items := map[string]bool{}
		for _, in := range casework.DefaultVillageExitStandard(2026).Indicators {
			items[in.Code] = true
		}
		record := "/api/v1/villages/" + village + "/exit-records/2026"
		for _, tc := range []struct {
			name, token string
			body        map[string]any
			status      int
			field       string
		}{
			{"a cadre", e.login(t, "cadre-a"), map[string]any{"version": 0, "collective_income_fen": 5_000_000}, http.StatusForbidden, ""},
			{"another county's supervisor", far, map[string]any{"version": 0}, http.StatusNotFound, ""},
			{"another village's supervisor", neighbour, map[string]any{"version": 0}, http.StatusNotFound, ""},
			{"an item not in the criteria", supervisor, map[string]any{"version": 0, "indicators": map[string]bool{"airport": true}},
				http.StatusUnprocessableEntity, "/indicators/airport"},
			{"a negative income", supervisor, map[string]any{"version": 0, "collective_income_fen": -1}, http.StatusUnprocessableEntity,
				"/collective_income_fen"},
			{"one fen short", supervisor, map[string]any{"version": 0, "collective_income_fen": 4_999_999, "indicators": items}, http.StatusOK, ""},
			{"a stale version", supervisor, map[string]any{"version": 0, "collective_income_fen": 5_000_000, "indicators": items}, http.StatusConflict, ""},
		} {
			r := e.do(t, "PUT", record, tc.token, tc.body)
			if r.Status != tc.status {
				t.Errorf("%s: %d %s, want %d", tc.name, r.Status, r.Body, tc.status)
			} else if tc.field != "" && !r.problem(t).hasField(tc.field) {
				t.Errorf("%s: %s does not name %s", tc.name, r.Body, tc.field)
			}
		}
		c = villageCandidateOf(t, e, supervisor, village)
		if c.Qualifies || c.PoorMembers != 0 || reasonOf(c.Reasons, "collective_income").Met || !reasonOf(c.Reasons, "incidence").Met {
			t.Fatalf("one fen short of the collective income: %+v", c)
		}
		if r := e.do(t, "PUT", record, supervisor, map[string]any{"version": 1, "collective_income_fen": 5_000_000, "indicators": items}); r.Status != http.StatusOK {
			t.Fatalf("record: %d %s", r.Status, r.Body)
		}
		if c = villageCandidateOf(t, e, supervisor, village); !c.Qualifies {
			t.Fatalf("a village meeting every criterion: %+v", c.Reasons)
		}

		for _, tc := range []struct {
			name, token, method, path string
			body                      map[string]any
			status                    int
		}{
			{"another county's supervisor lists", far, "GET", "/api/v1/village-exit-candidates?year=2026&region_id=" + village, nil, http.StatusNotFound},
			{"another county's supervisor starts", far, "POST", start, map[string]any{"kind": "village_exit", "year": 2026}, http.StatusNotFound},
			{"another village's supervisor starts", neighbour, "POST", start, map[string]any{"kind": "village_exit", "year": 2026}, http.StatusNotFound},
			{"a cadre lists", e.login(t, "cadre-a"), "GET", "/api/v1/village-exit-candidates?year=2026&region_id=" + village, nil, http.StatusForbidden},
			{"a household kind for a village", supervisor, "POST", start, map[string]any{"kind": "exit", "year": 2026}, http.StatusUnprocessableEntity},
			{"the village kind for a household", supervisor, "POST", "/api/v1/households/" + e.householdA.Household.ID.String() + "/procedures",
				map[string]any{"kind": "village_exit", "year": 2026}, http.StatusUnprocessableEntity},
			{"a village that is not poor", e.login(t, "admin"), "POST", "/api/v1/villages/" + e.villageB.ID.String() + "/procedures",
				map[string]any{"kind": "village_exit", "year": 2026}, http.StatusUnprocessableEntity},
		} {
			if r := e.do(t, tc.method, tc.path, tc.token, tc.body); r.Status != tc.status {
				t.Errorf("%s: %d %s, want %d", tc.name, r.Status, r.Body, tc.status)
			}
		}

		var pr wire.Procedure
		r := e.do(t, "POST", start, supervisor, map[string]any{"kind": "village_exit", "year": 2026})
		r.json(t, &pr)
		if r.Status != http.StatusCreated || pr.NextStep == nil || *pr.NextStep != "town_proposal" || pr.HouseholdID != nil ||
			pr.VillageID == nil || *pr.VillageID != e.villageA.ID {
			t.Fatalf("start: %d %s", r.Status, r.Body)
		}
		if r := e.do(t, "POST", start, supervisor, map[string]any{"kind": "village_exit", "year": 2026}); r.Status != http.StatusConflict {
			t.Errorf("a second open procedure: %d %s", r.Status, r.Body)
		}
		steps := "/api/v1/procedures/" + pr.ID.String() + "/steps"
		for _, tc := range []struct {
			name   string
			body   map[string]any
			status int
			field  string
		}{
			{"the notice before the proposal", procedureStep(1, "county_review_notice", "2026-07-01", "县公示-1"), http.StatusConflict, ""},
			{"a household exit's step", procedureStep(1, "village_review", "2026-07-01"), http.StatusUnprocessableEntity, "/step"},
			{"the proposal", procedureStep(1, "town_proposal", "2026-07-01", "镇申请-1"), http.StatusOK, ""},
			{"the proposal again", procedureStep(2, "town_proposal", "2026-07-01", "镇申请-1"), http.StatusConflict, ""},
			{"a notice with nothing posted", procedureStep(2, "county_review_notice", "2026-07-02"), http.StatusUnprocessableEntity, "/document_ids"},
			{"the county's review and notice", procedureStep(2, "county_review_notice", "2026-07-02", "县公示-1"), http.StatusOK, ""},
			{"the announcement six days on", procedureStep(3, "announcement", "2026-07-08", "县公告-1"), http.StatusUnprocessableEntity, "/done_on"},
		} {
			r := e.do(t, "POST", steps, supervisor, tc.body)
			if r.Status != tc.status {
				t.Errorf("%s: %d %s, want %d", tc.name, r.Status, r.Body, tc.status)
			} else if tc.field != "" && !r.problem(t).hasField(tc.field) {
				t.Errorf("%s: %s does not name %s", tc.name, r.Body, tc.field)
			}
		}
		if c := villageCandidateOf(t, e, supervisor, village); c.Exit != nil {
			t.Fatalf("exited before the announcement: %+v", c.Exit)
		}
		if r := e.do(t, "GET", "/api/v1/procedures/"+pr.ID.String(), far, nil); r.Status != http.StatusNotFound {
			t.Errorf("another county's supervisor reads the village's procedure: %d", r.Status)
		}
		r = e.do(t, "POST", steps, supervisor, procedureStep(3, "announcement", "2026-07-09", "县公告-1"))
		r.json(t, &pr)
		if r.Status != http.StatusOK || pr.Status != casework.ProcedureCompleted || pr.NextStep != nil || len(pr.Steps) != 3 {
			t.Fatalf("announcement: %d %s", r.Status, r.Body)
		}
		c = villageCandidateOf(t, e, supervisor, village)
		if c.Exit == nil || c.Exit.Year != 2026 || c.Exit.ExitedOn.String() != "2026-07-09" || c.Exit.ProcedureID != pr.ID || c.Qualifies {
			t.Errorf("after the announcement: %+v", c)
		}
		if r := e.do(t, "POST", start, supervisor, map[string]any{"kind": "village_exit", "year": 2026}); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("an exited village starts again: %d %s", r.Status, r.Body)
		}
		// The village's exit record prints, in Chinese, with every step.
		form := e.do(t, "GET", "/api/v1/regions/"+village+"/forms/village-exit.pdf", supervisor, nil)
		if form.Status != http.StatusOK || form.Header.Get("Content-Type") != "application/pdf" {
			t.Fatalf("the printed exit record: %d %.200s", form.Status, form.Body)
		}
		text := strings.Join(strings.Fields(pdftest.Text(t, form.Body)), "")
		for _, want := range []string{"贫困村出列档案", "2026年度出列", "县级审核并在村内公示", "县公告-1", "村集体经济收入达到50000.00元"} {
			if !strings.Contains(text, want) {
				t.Errorf("the printed exit record does not say %q: %s", want, text)
			}
		}
		if r := e.do(t, "GET", "/api/v1/regions/"+village+"/forms/village-exit.pdf", far, nil); r.Status != http.StatusNotFound {
			t.Errorf("another county's supervisor prints the record: %d", r.Status)
		}
		// The record is the office's: a cadre or an inspector of the village
		// is refused, as the document says.
		for _, who := range []string{"cadre-a", "inspector"} {
			if r := e.do(t, "GET", "/api/v1/regions/"+village+"/forms/village-exit.pdf", e.login(t, who), nil); r.Status != http.StatusForbidden {
				t.Errorf("%s prints the village's exit record: %d", who, r.Status)
			}
		}
		var listed struct{ Items []wire.Procedure }
		e.do(t, "GET", start, supervisor, nil).json(t, &listed)
		if len(listed.Items) != 1 || listed.Items[0].ID != pr.ID {
			t.Errorf("the village's procedures: %+v", listed.Items)
		}
	})
}
