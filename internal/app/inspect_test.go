package app

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/wire"
)

// inspectable gives the small county enough households to sample: in each
// village, statuses of both strata.
func (e *testEnv) inspectable(t *testing.T) {
	t.Helper()
	statuses := []string{domain.StatusRegistered, domain.StatusExited, domain.StatusRemoved, domain.StatusRemoved}
	n := 0
	for _, v := range []domain.Region{e.villageA, e.villageB} {
		for i := range 8 {
			n++
			h := e.addHousehold(t, v, fmt.Sprintf("户%d", n), fmt.Sprintf("41012219750101%03d", n))
			if s := statuses[i%len(statuses)]; s != domain.StatusRegistered {
				e.setStatus(t, h.Household.ID, s)
			}
		}
	}
}

// setStatus moves a registered household to exited or removed (through
// the register).
func (e *testEnv) setStatus(t *testing.T, household uuid.UUID, status string) {
	t.Helper()
	body := map[string]any{"version": 1, "status": status, "effective_on": "2025-06-30", "reason": "回头看"}
	if status == domain.StatusExited {
		body["exit_year"] = 2025
	}
	if r := e.do(t, "POST", "/api/v1/households/"+household.String()+"/status", e.login(t, "admin"), body); r.Status != http.StatusOK {
		t.Fatalf("status %s: %d %s", status, r.Status, r.Body)
	}
}

func (e *testEnv) newCampaign(t *testing.T, tok string, body map[string]any) wire.Inspection {
	t.Helper()
	r := e.do(t, "POST", "/api/v1/inspections", tok, body)
	if r.Status != http.StatusCreated {
		t.Fatalf("create campaign: %d %s", r.Status, r.Body)
	}
	var c wire.Inspection
	r.json(t, &c)
	return c
}

func (e *testEnv) campaignBody(mode string, inspectors ...uuid.UUID) map[string]any {
	if inspectors == nil {
		inspectors = []uuid.UUID{e.inspector.ID}
	}
	return map[string]any{"region_id": e.town.ID, "name": "城关镇第四季度督查", "period_from": "2026-11-01", "period_to": "2026-12-31",
		"mode": mode, "inspector_ids": inspectors, "plan": map[string]any{"key_poor_villages": true, "villages_per_town": 4,
			"exclude_last_campaigns": 0, "strata": []map[string]any{
				{"code": "poor", "statuses": []string{"registered", "exited", "relapsed"}, "size": 5},
				{"code": "other", "statuses": []string{"edge", "general", "removed"}, "size": 5}}}}
}

// TestCampaignsAreValidated: a campaign's every field is checked and
// named, and only managers create one.
func TestCampaignsAreValidated(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	sup := e.login(t, "supervisor-a")
	admin := e.login(t, "admin")
	with := func(change func(b map[string]any)) map[string]any {
		b := e.campaignBody("announced")
		change(b)
		return b
	}
	cases := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"no name", with(func(b map[string]any) { b["name"] = " " }), "/name"},
		{"period backwards", with(func(b map[string]any) { b["period_to"] = "2026-10-01" }), "/period_to"},
		{"unknown mode", with(func(b map[string]any) { b["mode"] = "surprise" }), "/mode"},
		{"no inspector", with(func(b map[string]any) { b["inspector_ids"] = []uuid.UUID{} }), "/inspector_ids"},
		{"a cadre as inspector", with(func(b map[string]any) { b["inspector_ids"] = []uuid.UUID{e.cadreA.ID} }), "/inspector_ids/0"},
		{"a village as region", with(func(b map[string]any) { b["region_id"] = e.villageA.ID }), "/region_id"},
		{"a region elsewhere", with(func(b map[string]any) { b["region_id"] = uuid.New() }), "/region_id"},
		{"too many villages", with(func(b map[string]any) { b["plan"].(map[string]any)["villages_per_town"] = 51 }), "/plan/villages_per_town"},
		{"an unknown status", with(func(b map[string]any) {
			b["plan"].(map[string]any)["strata"].([]map[string]any)[0]["statuses"] = []string{"rich"}
		}), "/plan/strata/0/statuses/0"},
		{"a status in two strata", with(func(b map[string]any) {
			b["plan"].(map[string]any)["strata"].([]map[string]any)[1]["statuses"] = []string{"registered"}
		}), "/plan/strata/1/statuses/0"},
		{"a negative size", with(func(b map[string]any) { b["plan"].(map[string]any)["strata"].([]map[string]any)[0]["size"] = -1 }), "/plan/strata/0/size"},
		{"cross-inspection by the town's own inspector", with(func(b map[string]any) { b["mode"] = "cross" }), "/inspector_ids"},
	}
	before := e.count(t, "inspection_campaigns")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(t, "POST", "/api/v1/inspections", admin, tc.body)
			if p := r.problem(t); r.Status != http.StatusUnprocessableEntity || !p.hasField(tc.field) {
				t.Fatalf("want 422 naming %s, got %d %s", tc.field, r.Status, r.Body)
			}
		})
	}
	for _, who := range []string{"cadre-a", "inspector"} {
		if r := e.do(t, "POST", "/api/v1/inspections", e.login(t, who), e.campaignBody("announced")); r.Status != http.StatusForbidden {
			t.Errorf("%s creates a campaign: %d, want 403", who, r.Status)
		}
	}
	// A village supervisor cannot reach the town.
	if r := e.do(t, "POST", "/api/v1/inspections", sup, e.campaignBody("announced")); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("a village's supervisor creates a campaign over the town: %d, want 422", r.Status)
	}
	if n := e.count(t, "inspection_campaigns"); n != before {
		t.Fatalf("refused campaigns were stored: %d", n-before)
	}
}

// TestSamplesAreReproducible: a campaign draws once; another campaign
// drawing with the same seed from the same population gets the same list;
// verify says so, and says when the population has changed since.
func TestSamplesAreReproducible(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		e.inspectable(t)
		admin := e.login(t, "admin")
		draw := func(id uuid.UUID, seed string) (response, wire.InspectionSample) {
			t.Helper()
			r := e.do(t, "POST", "/api/v1/inspections/"+id.String()+"/sample", admin, map[string]any{"seed": seed})
			var s wire.InspectionSample
			if r.Status == http.StatusCreated || r.Status == http.StatusOK {
				r.json(t, &s)
			}
			return r, s
		}
		first := e.newCampaign(t, admin, e.campaignBody("announced"))
		r, s1 := draw(first.ID, "the-published-seed")
		if r.Status != http.StatusCreated {
			t.Fatalf("draw: %d %s", r.Status, r.Body)
		}
		if len(s1.Villages) != 2 || s1.Villages[0].Stratum != "key_village" || s1.Seed != "the-published-seed" || s1.PopulationHash == "" {
			t.Fatalf("sample: %+v", s1)
		}
		strata := map[string]int{}
		for _, h := range s1.Households {
			strata[h.Stratum]++
		}
		// Each village has five registered or exited households (the
		// fixture's and four) and four removed ones.
		if strata["poor"] != 10 || strata["other"] != 8 {
			t.Fatalf("strata drawn %v, want 5+5 poor and 4+4 other", strata)
		}
		if len(s1.Shortfalls) != 3 {
			t.Fatalf("shortfalls %+v, want the town's two missing villages and each village's missing other household", s1.Shortfalls)
		}
		for _, seed := range []string{"another", ""} {
			r, _ := draw(first.ID, seed)
			var p struct{ Reason string }
			r.json(t, &p)
			if r.Status != http.StatusConflict || p.Reason != "already_drawn" {
				t.Fatalf("a second draw with seed %q: %d (reason %q), want 409 already_drawn", seed, r.Status, p.Reason)
			}
		}
		if r, again := draw(first.ID, "the-published-seed"); r.Status != http.StatusOK || fmt.Sprint(again) != fmt.Sprint(s1) {
			t.Fatalf("the draw asked again with its seed: %d, the list %v, want 200 and the same list", r.Status, again.Households)
		}
		if got := e.do(t, "GET", "/api/v1/inspections/"+first.ID.String()+"/sample", admin, nil); got.Status != http.StatusOK {
			t.Fatalf("read the sample: %d", got.Status)
		}
		second := e.newCampaign(t, admin, e.campaignBody("announced"))
		_, s2 := draw(second.ID, "the-published-seed")
		if fmt.Sprint(s2.Households) != fmt.Sprint(s1.Households) || s2.PopulationHash != s1.PopulationHash {
			t.Fatalf("the same seed and population drew another sample:\n%+v\n%+v", s1.Households, s2.Households)
		}
		verify := func() wire.SampleVerification {
			t.Helper()
			r := e.do(t, "POST", "/api/v1/inspections/"+first.ID.String()+"/sample/verify", admin, nil)
			var v wire.SampleVerification
			r.json(t, &v)
			return v
		}
		if v := verify(); !v.Reproduced || v.PopulationChanged {
			t.Fatalf("verify right after the draw: %+v", v)
		}
		e.addHousehold(t, e.villageB, "新户", "41012219800202003")
		if v := verify(); !v.PopulationChanged || v.PopulationHash == v.DrawnPopulationHash {
			t.Fatalf("verify after a household was registered: %+v", v)
		}
	})
}

// TestUnannouncedCampaignsStayHidden: until an unannounced campaign ends,
// only its creator, its inspectors and the admins above it know of it; the
// inspected village's supervisor and cadres get 404 and do not see it
// listed. Ended, it is the office's to see.
func TestUnannouncedCampaignsStayHidden(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	e.inspectable(t)
	county := e.addUser(t, "county-supervisor", domain.RoleSupervisor, e.county, nil, "")
	creator := e.login(t, county.Username)
	body := e.campaignBody("unannounced")
	c := e.newCampaign(t, creator, body)
	if r := e.do(t, "POST", "/api/v1/inspections/"+c.ID.String()+"/sample", creator, nil); r.Status != http.StatusCreated {
		t.Fatalf("draw: %d %s", r.Status, r.Body)
	}
	paths := []string{"/api/v1/inspections/" + c.ID.String(), "/api/v1/inspections/" + c.ID.String() + "/sample"}
	listed := func(tok string) bool {
		var page struct{ Items []wire.Inspection }
		e.do(t, "GET", "/api/v1/inspections", tok, nil).json(t, &page)
		for _, it := range page.Items {
			if it.ID == c.ID {
				return true
			}
		}
		return false
	}
	for _, tc := range []struct {
		who  string
		sees bool
	}{
		{county.Username, true}, {"inspector", true}, {"admin", true},
		{"supervisor-a", false}, {"supervisor-b", false},
	} {
		tok := e.login(t, tc.who)
		for _, p := range paths {
			want := http.StatusNotFound
			if tc.sees {
				want = http.StatusOK
			}
			if r := e.do(t, "GET", p, tok, nil); r.Status != want {
				t.Errorf("%s GET %s: %d, want %d", tc.who, p, r.Status, want)
			}
		}
		if listed(tok) != tc.sees {
			t.Errorf("%s sees it listed: %v, want %v", tc.who, !tc.sees, tc.sees)
		}
	}
	for _, who := range []string{"cadre-a", "cadre-b"} {
		if r := e.do(t, "GET", paths[0], e.login(t, who), nil); r.Status != http.StatusNotFound {
			t.Errorf("%s reads the campaign: %d, want 404", who, r.Status)
		}
	}
	if r := e.do(t, "POST", "/api/v1/inspections/"+c.ID.String()+"/end", creator, nil); r.Status != http.StatusOK {
		t.Fatalf("end: %d %s", r.Status, r.Body)
	}
	if r := e.do(t, "GET", paths[1], e.login(t, "supervisor-a"), nil); r.Status != http.StatusOK {
		t.Fatalf("after the end the village's supervisor reads the sample: %d", r.Status)
	}
}

// TestCrossInspectionNeverSendsAnInspectorHome: in cross mode a sampled
// household goes to every inspector of the campaign but those who work in
// its town.
func TestCrossInspectionNeverSendsAnInspectorHome(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	e.inspectable(t)
	other := e.addRegion(t, e.county, domain.LevelTown, "410122200000", "李庄乡")
	away := e.addUser(t, "inspector-away", domain.RoleInspector, other, nil, "")
	admin := e.login(t, "admin")
	body := e.campaignBody("cross", e.inspector.ID, away.ID)
	body["region_id"] = e.county.ID
	c := e.newCampaign(t, admin, body)
	if r := e.do(t, "POST", "/api/v1/inspections/"+c.ID.String()+"/sample", admin, nil); r.Status != http.StatusCreated {
		t.Fatalf("draw: %d %s", r.Status, r.Body)
	}
	var home, visiting int64
	db := e.app.DB.Gorm
	db.Table("inspection_tasks").Where("campaign_id = ? AND inspector_id = ?", c.ID, e.inspector.ID).Count(&home)
	db.Table("inspection_tasks").Where("campaign_id = ? AND inspector_id = ?", c.ID, away.ID).Count(&visiting)
	if home != 0 || visiting == 0 {
		t.Fatalf("tasks: %d for the town's own inspector, %d for the visitor", home, visiting)
	}
}

// TestAPlanThatDrawsNothingIsRefused: a plan that would draw no household
// — every stratum's size 0, or no village (none sampled per town and no
// poor villages) — is 422 at creation naming each plan field to change,
// in Chinese, and no campaign is stored; one drawing anything at all is
// taken.
func TestAPlanThatDrawsNothingIsRefused(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	admin := e.login(t, "admin")
	plan := func(keyPoor bool, perTown int, sizes ...int) map[string]any {
		b := e.campaignBody("announced")
		p := b["plan"].(map[string]any)
		p["key_poor_villages"], p["villages_per_town"] = keyPoor, perTown
		for i, n := range sizes {
			p["strata"].([]map[string]any)[i]["size"] = n
		}
		return b
	}
	for _, tc := range []struct {
		name   string
		body   map[string]any
		fields []string // named, in any order; nil: created
	}{
		{"every stratum's size 0", plan(true, 4, 0, 0), []string{"/plan/strata/0/size", "/plan/strata/1/size"}},
		{"no village drawn", plan(false, 0, 5, 5), []string{"/plan/villages_per_town"}},
		{"neither", plan(false, 0, 0, 0), []string{"/plan/villages_per_town", "/plan/strata/0/size", "/plan/strata/1/size"}},
		{"one stratum is enough", plan(true, 4, 0, 1), nil},
		{"the poor villages alone are enough", plan(true, 0, 5, 0), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.counts(t)
			r := e.do(t, "POST", "/api/v1/inspections", admin, tc.body)
			if tc.fields == nil {
				if r.Status != http.StatusCreated {
					t.Fatalf("want 201, got %d %s", r.Status, r.Body)
				}
				return
			}
			p := r.problem(t)
			if r.Status != http.StatusUnprocessableEntity || len(p.Errors) != len(tc.fields) {
				t.Fatalf("want 422 naming %v, got %d %s", tc.fields, r.Status, r.Body)
			}
			for _, f := range tc.fields {
				if !p.hasField(f) {
					t.Errorf("%s not named: %s", f, r.Body)
				}
			}
			for _, fe := range p.Errors {
				if fe.Reason != "nothing_to_draw" || fe.MessageZH == "" || latin.MatchString(fe.MessageZH) {
					t.Errorf("want a Chinese nothing_to_draw: %+v", fe)
				}
			}
			sameCounts(t, before, e.counts(t))
		})
	}
}

// TestTheDrawSeesTheHouseholdsAsTheyAreNow: what a draw sorts households
// by is read as it stands when the draw runs — no stored judgement that a
// job brings up to date later: a household removed from the register just
// before is drawn among the others at once, and the households of the
// last campaign are left out as soon as it is drawn. The same seed over
// the same data draws the same list.
func TestTheDrawSeesTheHouseholdsAsTheyAreNow(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		e.inspectable(t)
		admin := e.login(t, "admin")
		draw := func(exclude int) wire.InspectionSample {
			t.Helper()
			body := e.campaignBody("announced")
			body["plan"].(map[string]any)["exclude_last_campaigns"] = exclude
			c := e.newCampaign(t, admin, body)
			r := e.do(t, "POST", "/api/v1/inspections/"+c.ID.String()+"/sample", admin, map[string]any{"seed": "as-they-are"})
			if r.Status != http.StatusCreated {
				t.Fatalf("draw: %d %s", r.Status, r.Body)
			}
			var s wire.InspectionSample
			r.json(t, &s)
			return s
		}
		stratumOf := func(s wire.InspectionSample, h uuid.UUID) string {
			for _, d := range s.Households {
				if d.HouseholdID == h {
					return d.Stratum
				}
			}
			return ""
		}
		hA := e.householdA.Household.ID
		if got := stratumOf(draw(0), hA); got != "poor" {
			t.Fatalf("household A, registered, drawn as %q", got)
		}
		e.setStatus(t, hA, domain.StatusRemoved)
		removed := draw(0)
		if got := stratumOf(removed, hA); got != "other" {
			t.Fatalf("household A, removed just before the draw, drawn as %q, want other", got)
		}
		if again := draw(0); fmt.Sprint(again.Households) != fmt.Sprint(removed.Households) || again.PopulationHash != removed.PopulationHash {
			t.Fatal("the same seed over the same data drew another list")
		}
		for _, h := range draw(1).Households {
			if stratumOf(removed, h.HouseholdID) != "" {
				t.Fatalf("household %s of the last campaign was drawn again", h.HouseholdID)
			}
		}
	})
}
