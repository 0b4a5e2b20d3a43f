package app

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/contract"
	"github.com/fieldvisit/fieldvisit/internal/itemledger"
	"github.com/fieldvisit/fieldvisit/wire"
)

// rectificationBody is a valid item about household A, answered for by
// cadre A, due in 30 days.
func (e *testEnv) rectificationBody() map[string]any {
	return map[string]any{"problem": "住房安全未保障：屋顶漏雨", "household_id": e.householdA.Household.ID,
		"responsible_user_id": e.cadreA.ID, "deadline": e.daysFromToday(30)}
}

// daysFromToday is the app's today moved by n days, as the API spells it.
func (e *testEnv) daysFromToday(n int) string {
	return domain.DateOf(e.app.Now()).AddDays(n).String()
}

// rectify registers an item as tok.
func (e *testEnv) rectify(t *testing.T, tok string, body map[string]any) wire.RectificationDetail {
	t.Helper()
	r := e.do(t, "POST", "/api/v1/rectifications", tok, body)
	if r.Status != http.StatusCreated {
		t.Fatalf("register a rectification: %d %s", r.Status, r.Body)
	}
	var out wire.RectificationDetail
	r.json(t, &out)
	return out
}

// act takes an action on an item.
func (e *testEnv) act(t *testing.T, tok string, id uuid.UUID, body map[string]any) response {
	t.Helper()
	return e.do(t, "POST", "/api/v1/rectifications/"+id.String()+"/actions", tok, body)
}

// visitBy pushes a visit by the cadre of tok to a household and returns its id.
func (e *testEnv) visitBy(t *testing.T, tok string, household uuid.UUID, key string) uuid.UUID {
	t.Helper()
	id := uuid.New()
	// Begun today: evidence is dated no earlier than the problem.
	now := time.Now()
	e.push(t, tok, key, batch("phone-"+key, now, visitOn(id, household, domain.KindAssist, earlierToday(time.Hour)))).pushResult(t)
	return id
}

// ledgerItems lists items as tok with a query string.
func (e *testEnv) ledgerItems(t *testing.T, tok, query string) []wire.Rectification {
	t.Helper()
	return listing[wire.Rectification](t, e, tok, "/api/v1/rectifications"+query)
}

// listing reads a whole listing that one page holds, as tok sees it.
func listing[T any](t *testing.T, e *testEnv, tok, path string) []T {
	t.Helper()
	r := e.do(t, "GET", path, tok, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
	}
	var page wire.Page[T]
	r.json(t, &page)
	if int(page.Total) != len(page.Items) {
		t.Fatalf("GET %s: total %d, %d items", path, page.Total, len(page.Items))
	}
	return page.Items
}

func ids(items []wire.Rectification) []uuid.UUID {
	out := make([]uuid.UUID, len(items))
	for i, it := range items {
		out[i] = it.ID
	}
	return out
}

// TestRectificationLife is an item's life through the API as a table: every
// transition allowed and refused, by whom, with what evidence — 销号 on
// evidence only, and never on another cadre's visit.
func TestRectificationLife(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		sup, cadre := e.login(t, "supervisor-a"), e.login(t, "cadre-a")
		// A second cadre paired with the same household: their visit is
		// real, and about the household, but not cadre A's to show.
		other := e.addUser(t, "cadre-a2", domain.RoleCadre, e.villageA, &e.unitA, domain.RankStaff)
		e.pair(t, e.householdA.Household.ID, other.ID)
		theirs := e.visitBy(t, e.login(t, "cadre-a2"), e.householdA.Household.ID, "theirs")
		mine := e.visitBy(t, cadre, e.householdA.Household.ID, "mine")
		photo := uuid.New()
		img := testJPEG(t, 3, time.Now(), nil)
		if r := e.putPhoto(t, cadre, photo, img, sha256Hex(img), "image/jpeg", ""); r.Status != http.StatusCreated {
			t.Fatalf("photo: %d %s", r.Status, r.Body)
		}
		item := e.rectify(t, sup, e.rectificationBody())
		if item.Status != "open" || item.State != "open" || item.Version != 1 || len(item.History) != 1 || item.History[0].Action != "create" ||
			item.HeadName != "张三" || item.VillageName != "东风村" || item.TownName != "城关镇" || item.ResponsibleName != "cadre-a" {
			t.Fatalf("registered: %+v", item)
		}
		ev := func(visits []uuid.UUID, photos []uuid.UUID) map[string]any {
			return map[string]any{"visit_ids": visits, "photo_ids": photos}
		}
		version := item.Version
		steps := []struct {
			name     string
			tok      string
			action   string
			evidence map[string]any
			note     string
			stale    bool
			status   int
			field    string // the problem names it
			after    string // the status after a 200
		}{
			{"the cadre may never close an item, open or not", cadre, "approve", nil, "", false, http.StatusForbidden, "", ""},
			{"an open item is not closed", sup, "approve", ev([]uuid.UUID{mine}, nil), "", false, http.StatusConflict, "/action", ""},
			{"nor reopened", sup, "reopen", nil, "回头看", false, http.StatusConflict, "/action", ""},
			{"a submission needs evidence", cadre, "submit", nil, "", false, http.StatusUnprocessableEntity, "/evidence", ""},
			{"an unknown action", cadre, "delete", nil, "", false, http.StatusUnprocessableEntity, "/action", ""},
			{"the cadre starts", cadre, "start", nil, "已联系施工队", false, http.StatusOK, "", "in_progress"},
			{"not twice", cadre, "start", nil, "", false, http.StatusConflict, "/action", ""},
			{"work in progress cannot be closed", sup, "approve", ev([]uuid.UUID{mine}, nil), "", false, http.StatusConflict, "/action", ""},
			{"another cadre's visit is not the cadre's evidence", cadre, "submit", ev([]uuid.UUID{theirs}, nil), "", false, http.StatusUnprocessableEntity, "/evidence/visit_ids/0", ""},
			{"a visit that does not exist", cadre, "submit", ev([]uuid.UUID{uuid.New()}, nil), "", false, http.StatusUnprocessableEntity, "/evidence/visit_ids/0", ""},
			{"a photo that was never uploaded", cadre, "submit", ev(nil, []uuid.UUID{uuid.New()}), "", false, http.StatusUnprocessableEntity, "/evidence/photo_ids/0", ""},
			{"documents have no store yet", cadre, "submit", map[string]any{"document_ids": []string{uuid.NewString()}}, "", false, http.StatusUnprocessableEntity, "/evidence/document_ids", ""},
			{"the cadre submits their visit", cadre, "submit", ev([]uuid.UUID{mine}, nil), "屋顶已修缮", false, http.StatusOK, "", "submitted"},
			{"the cadre cannot approve their own work", cadre, "approve", nil, "", false, http.StatusForbidden, "", ""},
			{"nor submit again", cadre, "submit", ev([]uuid.UUID{mine}, nil), "", false, http.StatusConflict, "/action", ""},
			{"a rejection says why", sup, "reject", nil, "", false, http.StatusUnprocessableEntity, "/note", ""},
			{"the supervisor sends it back", sup, "reject", nil, "照片不清楚", false, http.StatusOK, "", "in_progress"},
			{"the cadre submits a visit and a photo", cadre, "submit", ev([]uuid.UUID{mine}, []uuid.UUID{photo}), "补充照片", false, http.StatusOK, "", "submitted"},
			{"an approval on a stale version", sup, "approve", nil, "", true, http.StatusConflict, "", ""},
			{"the supervisor closes it (销号)", sup, "approve", nil, "", false, http.StatusOK, "", "closed"},
			{"a closed item is not approved twice", sup, "approve", nil, "", false, http.StatusConflict, "/action", ""},
			{"the cadre cannot reopen it", cadre, "reopen", nil, "回头看", false, http.StatusForbidden, "", ""},
			{"a reopening says why", sup, "reopen", nil, "", false, http.StatusUnprocessableEntity, "/note", ""},
			{"the supervisor reopens it", sup, "reopen", nil, "回头看发现仍漏雨", false, http.StatusOK, "", "in_progress"},
		}
		for _, st := range steps {
			body := map[string]any{"action": st.action, "version": version, "note": st.note}
			if st.stale {
				body["version"] = version - 1
			}
			if st.evidence != nil {
				body["evidence"] = st.evidence
			}
			before := e.count(t, "ledger_item_events")
			r := e.act(t, st.tok, item.ID, body)
			if r.Status != st.status {
				t.Fatalf("%s: %d, want %d: %s", st.name, r.Status, st.status, r.Body)
			}
			if r.Status != http.StatusOK {
				if p := r.problem(t); st.field != "" && !p.hasField(st.field) {
					t.Fatalf("%s: the problem does not name %s: %s", st.name, st.field, r.Body)
				}
				if n := e.count(t, "ledger_item_events"); n != before {
					t.Fatalf("%s: a refused action was recorded", st.name)
				}
				continue
			}
			var got wire.RectificationDetail
			r.json(t, &got)
			if got.Status != st.after || got.Version != version+1 {
				t.Fatalf("%s: status %s version %d, want %s %d", st.name, got.Status, got.Version, st.after, version+1)
			}
			version = got.Version
			switch got.Status {
			case "closed":
				if got.ClosedAt == nil || got.ClosedBy == nil || *got.ClosedBy != e.supervisorA.ID || len(got.AllowedActions) != 1 ||
					got.Evidence.PhotoIDs[0] != photo.String() {
					t.Fatalf("%s: closed without its record: %+v", st.name, got)
				}
			case "in_progress":
				if got.ClosedAt != nil || got.ClosedBy != nil {
					t.Fatalf("%s: an item in progress keeps a close: %+v", st.name, got)
				}
			}
		}
		var read wire.RectificationDetail
		e.do(t, "GET", "/api/v1/rectifications/"+item.ID.String(), cadre, nil).json(t, &read)
		var actions []string
		for _, h := range read.History {
			actions = append(actions, h.Action)
		}
		if got := strings.Join(actions, ","); got != "create,start,submit,reject,submit,approve,reopen" {
			t.Fatalf("history %s", got)
		}
		if read.History[2].Evidence.VisitIDs[0] != mine.String() || read.History[3].Note != "照片不清楚" || read.History[3].ByName != "supervisor-a" {
			t.Fatalf("history keeps who, why and what: %+v", read.History)
		}
		// The cadre sees what they may do; they may not approve.
		if strings.Join(read.AllowedActions, ",") != "submit" {
			t.Fatalf("the cadre's actions on an item in progress: %v", read.AllowedActions)
		}
		var audited int64
		if err := e.app.DB.Gorm.Table("audit_log").Where("object_type = ? AND object_id = ? AND household_id = ?", "rectification",
			item.ID.String(), e.householdA.Household.ID).Count(&audited).Error; err != nil {
			t.Fatal(err)
		}
		if audited != 7 {
			t.Fatalf("%d audit entries about the item, want one per write (7)", audited)
		}
	})
}

// TestAManagerMayActForTheResponsible: a supervisor starts and submits an
// item on the cadre's behalf, straight from open, with evidence of their
// subtree; an inspector of no campaign of it does not see it.
func TestAManagerMayActForTheResponsible(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	sup := e.login(t, "supervisor-a")
	visit := e.visitBy(t, e.login(t, "cadre-a"), e.householdA.Household.ID, "v")
	item := e.rectify(t, sup, e.rectificationBody())
	r := e.act(t, sup, item.ID, map[string]any{"action": "submit", "version": 1, "evidence": map[string]any{"visit_ids": []uuid.UUID{visit}}})
	if r.Status != http.StatusOK {
		t.Fatalf("the supervisor submits for the cadre: %d %s", r.Status, r.Body)
	}
	if r := e.do(t, "GET", "/api/v1/rectifications/"+item.ID.String(), e.login(t, "inspector"), nil); r.Status != http.StatusNotFound {
		t.Fatalf("an inspector reads an item of no campaign of theirs: %d", r.Status)
	}
}

// TestRectificationsAreValidated: every field of a new item is checked and
// named, only managers and inspectors register items, and nothing
// refused is written.
func TestRectificationsAreValidated(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	sup, admin := e.login(t, "supervisor-a"), e.login(t, "admin")
	inactive := e.addUser(t, "cadre-gone", domain.RoleCadre, e.villageA, nil, domain.RankStaff)
	if r := e.do(t, "PATCH", "/api/v1/users/"+inactive.ID.String(), admin, map[string]any{"active": false}); r.Status != http.StatusOK {
		t.Fatalf("deactivate: %d %s", r.Status, r.Body)
	}
	var unitB wire.Unit
	if r := e.do(t, "POST", "/api/v1/units", admin, map[string]any{"name": "县水利局", "region_id": e.county.ID}); r.Status != http.StatusCreated {
		t.Fatalf("unit: %d %s", r.Status, r.Body)
	} else {
		r.json(t, &unitB)
	}
	with := func(change func(b map[string]any)) map[string]any {
		b := e.rectificationBody()
		change(b)
		return b
	}
	cases := []struct {
		name  string
		tok   string
		body  map[string]any
		field string
	}{
		{"no problem", sup, with(func(b map[string]any) { b["problem"] = "  " }), "/problem"},
		{"a problem too long", sup, with(func(b map[string]any) { b["problem"] = strings.Repeat("漏", 2001) }), "/problem"},
		{"no deadline", sup, with(func(b map[string]any) { delete(b, "deadline") }), "/deadline"},
		{"a deadline in the past", sup, with(func(b map[string]any) { b["deadline"] = e.daysFromToday(-1) }), "/deadline"},
		{"a deadline that is no date", sup, with(func(b map[string]any) { b["deadline"] = "2026-02-30" }), "/deadline"},
		{"neither household nor village", sup, with(func(b map[string]any) { delete(b, "household_id") }), "/household_id"},
		{"an unknown household", sup, with(func(b map[string]any) { b["household_id"] = uuid.New() }), "/household_id"},
		{"another village's household", sup, with(func(b map[string]any) { b["household_id"] = e.householdB.Household.ID }), "/household_id"},
		{"a village that is not the household's", admin, with(func(b map[string]any) { b["village_id"] = e.villageB.ID }), "/village_id"},
		{"a town as village", admin, with(func(b map[string]any) { delete(b, "household_id"); b["village_id"] = e.town.ID }), "/village_id"},
		{"nobody responsible", sup, with(func(b map[string]any) { delete(b, "responsible_user_id") }), "/responsible_user_id"},
		{"another village's cadre", sup, with(func(b map[string]any) { b["responsible_user_id"] = e.cadreB.ID }), "/responsible_user_id"},
		{"a supervisor as the cadre", sup, with(func(b map[string]any) { b["responsible_user_id"] = e.supervisorA.ID }), "/responsible_user_id"},
		{"a cadre no longer active", sup, with(func(b map[string]any) { b["responsible_user_id"] = inactive.ID }), "/responsible_user_id"},
		{"an unknown unit", sup, with(func(b map[string]any) { b["responsible_unit_id"] = uuid.New() }), "/responsible_unit_id"},
		{"a cadre of another unit", sup, with(func(b map[string]any) { b["responsible_unit_id"] = unitB.ID }), "/responsible_user_id"},
		{"an unknown campaign", sup, with(func(b map[string]any) { b["campaign_id"] = uuid.New() }), "/campaign_id"},
		{"a finding without its campaign", sup, with(func(b map[string]any) { b["finding_id"] = uuid.New() }), "/campaign_id"},
		{"a status set by hand", sup, with(func(b map[string]any) { b["status"] = "closed" }), "/status"},
		{"an inspector without a finding", e.login(t, "inspector"), e.rectificationBody(), "/finding_id"},
	}
	before := []int64{e.count(t, "ledger_items"), e.count(t, "ledger_item_events")}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(t, "POST", "/api/v1/rectifications", tc.tok, tc.body)
			if p := r.problem(t); r.Status != http.StatusUnprocessableEntity || !p.hasField(tc.field) {
				t.Fatalf("want 422 naming %s, got %d %s", tc.field, r.Status, r.Body)
			}
		})
	}
	if r := e.do(t, "POST", "/api/v1/rectifications", e.login(t, "cadre-a"), e.rectificationBody()); r.Status != http.StatusForbidden {
		t.Errorf("a cadre registers an item: %d, want 403", r.Status)
	}
	if after := []int64{e.count(t, "ledger_items"), e.count(t, "ledger_item_events")}; after[0] != before[0] || after[1] != before[1] {
		t.Fatalf("refused items were stored: %v → %v", before, after)
	}
	// The unit alone may answer for it, and a village alone may be the place.
	body := with(func(b map[string]any) {
		delete(b, "household_id")
		delete(b, "responsible_user_id")
		b["village_id"], b["responsible_unit_id"] = e.villageA.ID, e.unitA
	})
	if it := e.rectify(t, sup, body); it.HouseholdID != nil || it.ResponsibleUnitName != "县农业农村局" || it.VillageID != e.villageA.ID {
		t.Fatalf("a village's item answered for by a unit: %+v", it)
	}
}

// TestOverdueIsReadOffTheDeadline: an item not closed by its deadline is
// listed as overdue (and no longer under its stored status) from the next
// day, without any job running; a closed one never is.
func TestOverdueIsReadOffTheDeadline(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		sup := e.login(t, "supervisor-a")
		soon := e.rectificationBody()
		soon["deadline"] = e.daysFromToday(10)
		late := e.rectify(t, sup, soon)
		onTime := e.rectify(t, sup, e.rectificationBody())
		closed := e.rectify(t, sup, soon)
		visit := e.visitBy(t, e.login(t, "cadre-a"), e.householdA.Household.ID, "v")
		for _, a := range []map[string]any{
			{"action": "submit", "version": 1, "evidence": map[string]any{"visit_ids": []uuid.UUID{visit}}},
			{"action": "approve", "version": 2},
		} {
			if r := e.act(t, sup, closed.ID, a); r.Status != http.StatusOK {
				t.Fatalf("%s: %d %s", a["action"], r.Status, r.Body)
			}
		}
		if got := e.ledgerItems(t, sup, "?status=overdue"); len(got) != 0 {
			t.Fatalf("overdue before any deadline: %v", ids(got))
		}
		later := e.app.Now().Add(20 * 24 * time.Hour)
		e.app.Now = func() time.Time { return later }
		e.rebuildAuth(t)
		sup = e.login(t, "supervisor-a")
		for _, tc := range []struct {
			status string
			want   []uuid.UUID
		}{
			{"overdue", []uuid.UUID{late.ID}},
			{"open", []uuid.UUID{onTime.ID}},
			{"closed", []uuid.UUID{closed.ID}},
			{"", []uuid.UUID{late.ID, onTime.ID, closed.ID}},
		} {
			if got := ids(e.ledgerItems(t, sup, "?status="+tc.status)); !slices.Equal(got, tc.want) {
				t.Errorf("status=%s: %v, want %v", tc.status, got, tc.want)
			}
		}
		var read wire.RectificationDetail
		e.do(t, "GET", "/api/v1/rectifications/"+late.ID.String(), sup, nil).json(t, &read)
		if read.Status != "open" || read.State != "overdue" || read.StateLabel != "逾期未整改" {
			t.Fatalf("an overdue item reads %s/%s/%s", read.Status, read.State, read.StateLabel)
		}
		r := e.do(t, "GET", "/api/v1/rectifications?status=late", sup, nil)
		if p := r.problem(t); r.Status != http.StatusUnprocessableEntity || !p.hasField("status") {
			t.Fatalf("an unknown status: %d %s", r.Status, r.Body)
		}
	})
}

// addFinding records a finding of a campaign about a household — a
// problem with its housing, so an item may be registered for it — as the
// inspection's forms would (the findings service is not this test's).
func (e *testEnv) addFinding(t *testing.T, campaign uuid.UUID, h domain.Household) uuid.UUID {
	t.Helper()
	id := uuid.New()
	now := e.app.Now().UTC()
	err := e.app.DB.Gorm.Exec(`INSERT INTO inspection_findings (id, campaign_id, county_id, household_id, village_id, form_code, form_version,
		answers, inspector_id, recorded_at, updated_at, version) VALUES (?, ?, ?, ?, ?, 'household', 1, '{"housing":{"choice":"problem"}}', ?, ?, ?, 1)`,
		id, campaign, h.CountyID, h.ID, h.VillageID, e.inspector.ID, now, now).Error
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestRectificationsStayInScope: each role lists only what it may see — a
// manager their subtree, a cadre what they answer for, an inspector their
// campaigns' items — and reads nothing else; a region filter outside the
// subtree is refused. An unannounced campaign's items stay hidden from the
// inspected village until the campaign ends, as the campaign does.
func TestRectificationsStayInScope(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		admin := e.login(t, "admin")
		county := e.addUser(t, "county-supervisor", domain.RoleSupervisor, e.county, nil, "")
		a := e.rectify(t, e.login(t, "supervisor-a"), e.rectificationBody())
		b := e.rectify(t, e.login(t, "supervisor-b"), map[string]any{"problem": "饮水不安全", "household_id": e.householdB.Household.ID,
			"responsible_user_id": e.cadreB.ID, "deadline": e.daysFromToday(30)})
		camp := e.newCampaign(t, e.login(t, county.Username), e.campaignBody("unannounced"))
		finding := e.addFinding(t, camp.ID, e.householdA.Household)
		insp := e.login(t, "inspector")
		// The inspector's item takes the finding's household.
		found := e.rectify(t, insp, map[string]any{"problem": "帮扶措施不落实", "campaign_id": camp.ID, "finding_id": finding,
			"responsible_user_id": e.cadreA.ID, "deadline": e.daysFromToday(15)})
		if found.HouseholdID == nil || *found.HouseholdID != e.householdA.Household.ID || found.CampaignName != camp.Name {
			t.Fatalf("an inspector's item: %+v", found)
		}
		for _, tc := range []struct {
			who  string
			sees []uuid.UUID
		}{
			{"admin", []uuid.UUID{a.ID, b.ID, found.ID}},
			{county.Username, []uuid.UUID{a.ID, b.ID, found.ID}},
			{"supervisor-a", []uuid.UUID{a.ID}}, // the campaign is held from the village
			{"supervisor-b", []uuid.UUID{b.ID}},
			{"cadre-a", []uuid.UUID{a.ID}},
			{"cadre-b", []uuid.UUID{b.ID}},
			{"inspector", []uuid.UUID{found.ID}},
		} {
			tok := e.login(t, tc.who)
			if got := ids(e.ledgerItems(t, tok, "")); !slices.Equal(got, tc.sees) {
				t.Errorf("%s lists %v, want %v", tc.who, got, tc.sees)
			}
			for _, it := range []uuid.UUID{a.ID, b.ID, found.ID} {
				want := http.StatusNotFound
				if slices.Contains(tc.sees, it) {
					want = http.StatusOK
				}
				if r := e.do(t, "GET", "/api/v1/rectifications/"+it.String(), tok, nil); r.Status != want {
					t.Errorf("%s reads %s: %d, want %d", tc.who, it, r.Status, want)
				}
			}
		}
		if got := ids(e.ledgerItems(t, admin, "?region_id="+e.villageB.ID.String())); !slices.Equal(got, []uuid.UUID{b.ID}) {
			t.Errorf("admin filtered by village B: %v", got)
		}
		if got := ids(e.ledgerItems(t, admin, "?campaign_id="+camp.ID.String())); !slices.Equal(got, []uuid.UUID{found.ID}) {
			t.Errorf("admin filtered by campaign: %v", got)
		}
		if got := ids(e.ledgerItems(t, admin, "?responsible_id="+e.cadreB.ID.String())); !slices.Equal(got, []uuid.UUID{b.ID}) {
			t.Errorf("admin filtered by cadre B: %v", got)
		}
		for _, region := range []string{e.villageA.ID.String(), uuid.NewString()} {
			r := e.do(t, "GET", "/api/v1/rectifications?region_id="+region, e.login(t, "supervisor-b"), nil)
			if r.Status != http.StatusNotFound {
				t.Fatalf("filter by region %s: want 404, got %d %s", region, r.Status, r.Body)
			}
		}
		// An inspector reads but moves nothing.
		if r := e.act(t, insp, found.ID, map[string]any{"action": "start", "version": 1}); r.Status != http.StatusForbidden {
			t.Errorf("an inspector starts an item: %d", r.Status)
		}
		if r := e.do(t, "POST", "/api/v1/inspections/"+camp.ID.String()+"/end", e.login(t, county.Username), nil); r.Status != http.StatusOK {
			t.Fatalf("end: %d %s", r.Status, r.Body)
		}
		if got := ids(e.ledgerItems(t, e.login(t, "cadre-a"), "")); !slices.Equal(got, []uuid.UUID{a.ID, found.ID}) {
			t.Errorf("once the campaign ended, cadre A lists %v", got)
		}
	})
}

// TestRectificationLedgerExport: the 整改台账 opens as XLSX with its Chinese
// headings and one line per item in scope, and as CSV with a byte-order
// mark; bad parameters answer 422 before anything is streamed.
func TestRectificationLedgerExport(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	sup := e.login(t, "supervisor-a")
	e.rectify(t, sup, e.rectificationBody())
	r := e.do(t, "GET", "/api/v1/exports/rectifications", sup, nil)
	if r.Status != http.StatusOK || !strings.Contains(r.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %v %s", r.Status, r.Header, r.Body)
	}
	rows := xlsxRows(t, r.Body)
	want := []string{"序号", "乡镇", "行政村", "户编号", "户主", "问题", "来源", "责任人/单位", "整改时限", "状态", "整改情况", "销号日期"}
	if len(rows) != 4 || rows[0][0] != "整改台账" || strings.Join(rows[2], ",") != strings.Join(want, ",") {
		t.Fatalf("ledger rows: %q", rows)
	}
	line := rows[3]
	if line[1] != "城关镇" || line[2] != "东风村" || line[4] != "张三" || line[6] != "日常督导" || line[7] != "cadre-a" || line[9] != "待整改" {
		t.Fatalf("ledger line: %q", line)
	}
	r = e.do(t, "GET", "/api/v1/exports/rectifications?format=csv&status=open", sup, nil)
	if r.Status != http.StatusOK || !strings.HasPrefix(string(r.Body), "\uFEFF") || !strings.Contains(string(r.Body), "屋顶漏雨") {
		t.Fatalf("csv: %d %s", r.Status, r.Body)
	}
	if r := e.do(t, "GET", "/api/v1/exports/rectifications", e.login(t, "supervisor-b"), nil); len(xlsxRows(t, r.Body)) != 3 {
		t.Fatalf("another village's supervisor exports village A's item")
	}
	for query, field := range map[string]string{"?format=pdf": "format", "?status=late": "status"} {
		r := e.do(t, "GET", "/api/v1/exports/rectifications"+query, sup, nil)
		if p := r.problem(t); r.Status != http.StatusUnprocessableEntity || !p.hasField(field) {
			t.Errorf("export%s: want 422 naming %s, got %d %s", query, field, r.Status, r.Body)
		}
	}
}

// TestItemVocabulariesMatchTheContract keeps the document's enums of the
// ledger equal to the rule's vocabularies, in their order.
func TestItemVocabulariesMatchTheContract(t *testing.T) {
	schemas := contract.New(t).Doc().Components.Schemas
	for name, want := range map[string][]string{
		"ItemState":  itemledger.Statuses.Codes(),
		"ItemStatus": slices.DeleteFunc(itemledger.Statuses.Codes(), func(c string) bool { return c == itemledger.Overdue }),
		"ItemAction": slices.DeleteFunc(itemledger.Actions.Codes(), func(c string) bool { return c == itemledger.Create }),
	} {
		var got []string
		for _, v := range schemas[name].Value.Enum {
			got = append(got, v.(string))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s enum = %v, want %v", name, got, want)
		}
	}
	var kinds []string
	for _, v := range schemas["RectificationFields"].Value.Properties["kind"].Value.Enum {
		kinds = append(kinds, v.(string))
	}
	if want := itemledger.Kinds.Codes(); !slices.Equal(kinds, want) {
		t.Errorf("kind enum = %v, want %v (the ledger's kinds)", kinds, want)
	}
}

// TestAnEndedCampaignTakesNoNewWorkFromItsInspectors: once a campaign has
// ended, its inspector records no finding and registers no rectification
// under it (409, in Chinese, naming the campaign) and nothing is written;
// the follow-up goes on — its supervisor still sends out the notice for a
// finding, and the cadre works on the item the inspector registered while
// it ran.
func TestAnEndedCampaignTakesNoNewWorkFromItsInspectors(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		county := e.addUser(t, "county-supervisor", domain.RoleSupervisor, e.county, nil, "")
		sup := e.login(t, county.Username)
		camp := e.newCampaign(t, sup, e.campaignBody("announced"))
		hA := e.householdA.Household
		finding := e.addFinding(t, camp.ID, hA)
		insp := e.login(t, "inspector")
		itemOf := func(problem string) map[string]any {
			return map[string]any{"problem": problem, "campaign_id": camp.ID, "finding_id": finding, "responsible_user_id": e.cadreA.ID,
				"deadline": e.daysFromToday(15)}
		}
		running := e.rectify(t, insp, itemOf("帮扶措施不落实"))
		if r := e.do(t, "POST", "/api/v1/inspections/"+camp.ID.String()+"/end", sup, nil); r.Status != http.StatusOK {
			t.Fatalf("end: %d %s", r.Status, r.Body)
		}
		for _, tc := range []struct {
			name, method, path string
			body               any
			field              string // the member a 409 names, if any
		}{
			{"a rectification item", "POST", "/api/v1/rectifications", itemOf("结束后补登的问题"), "/campaign_id"},
			{"an item naming the household", "POST", "/api/v1/rectifications", func() map[string]any {
				b := itemOf("结束后补登的问题")
				b["household_id"] = hA.ID
				return b
			}(), "/campaign_id"},
			{"a household's findings", "PUT", findingsPath(camp.ID, "households", hA.ID), map[string]any{"answers": householdAnswers(nil)}, ""},
			{"a village's findings", "PUT", findingsPath(camp.ID, "villages", e.villageA.ID), map[string]any{"answers": villageAnswers()}, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				items, events, findings := e.count(t, "ledger_items"), e.count(t, "ledger_item_events"), e.count(t, "inspection_findings")
				r := e.do(t, tc.method, tc.path, insp, tc.body)
				if r.Status != http.StatusConflict {
					t.Fatalf("want 409, got %d %s", r.Status, r.Body)
				}
				if p := r.problem(t); !strings.Contains(string(r.Body), "已结束") || tc.field != "" && !p.hasField(tc.field) {
					t.Fatalf("want a Chinese reason (已结束) naming %q: %s", tc.field, r.Body)
				}
				if e.count(t, "ledger_items") != items || e.count(t, "ledger_item_events") != events || e.count(t, "inspection_findings") != findings {
					t.Fatalf("written after the campaign ended: %s", r.Body)
				}
			})
		}
		// The follow-up continues: the supervisor sends out the notice for
		// another finding (this one has its item).
		notice := itemOf("整改通知：饮水不安全")
		notice["finding_id"], notice["responsible_user_id"] = e.addFinding(t, camp.ID, e.householdB.Household), e.cadreB.ID
		if it := e.rectify(t, sup, notice); it.CampaignID == nil || *it.CampaignID != camp.ID {
			t.Errorf("the supervisor's notice: %+v", it)
		}
		if r := e.act(t, e.login(t, "cadre-a"), running.ID, map[string]any{"action": "start", "version": 1}); r.Status != http.StatusOK {
			t.Errorf("the cadre starts the item registered while the campaign ran: %d %s", r.Status, r.Body)
		}
	})
}
