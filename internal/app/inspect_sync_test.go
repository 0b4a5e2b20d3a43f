package app

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/wire"
)

// visitOn is a visit of kind to household that began at (written in China
// time, as a phone there writes it), with a GPS fix.
func visitOn(id, household uuid.UUID, kind string, at time.Time) map[string]any {
	v := visitChange(id, household, "入户核查：两不愁三保障逐项核实", 34.7)
	d := v["data"].(map[string]any)
	cn := at.In(domain.Shanghai)
	d["kind"] = kind
	d["started_at"] = cn.Format(time.RFC3339)
	d["ended_at"] = cn.Add(40 * time.Minute).Format(time.RFC3339)
	d["gps"].([]map[string]any)[0]["device_time"] = cn.Add(time.Minute).Format(time.RFC3339)
	return v
}

// earlierToday is a moment up to ago before now, but never before today
// began in China: evidence and the periods are judged by the China date,
// and an hour before 00:30 in Beijing is yesterday there (a test run
// between 16:00 and 17:00 UTC).
func earlierToday(ago time.Duration) time.Time {
	now := time.Now()
	if today := domain.DateOf(now).Start(); now.Add(-ago).Before(today) {
		return today
	}
	return now.Add(-ago)
}

// summary names each change (entity, op, id) for a failure message.
func summary(changes []wire.PulledChange) []string {
	out := make([]string, len(changes))
	for i, c := range changes {
		out[i] = c.Entity + " " + c.Op + " " + c.ID.String()
	}
	return out
}

// idsOf is the ids of the changes of entity with op.
func idsOf(changes []wire.PulledChange, entity, op string) map[uuid.UUID]bool {
	out := map[uuid.UUID]bool{}
	for _, c := range changes {
		if c.Entity == entity && c.Op == op {
			out[c.ID] = true
		}
	}
	return out
}

func setOf(ids ...uuid.UUID) map[uuid.UUID]bool {
	out := map[uuid.UUID]bool{}
	for _, id := range ids {
		out[id] = true
	}
	return out
}

// sameSet fails the test when got and want differ, naming what.
func sameSet(t *testing.T, what string, got, want map[uuid.UUID]bool) {
	t.Helper()
	if !maps.Equal(got, want) {
		var extra, missing []uuid.UUID
		for id := range got {
			if !want[id] {
				extra = append(extra, id)
			}
		}
		for id := range want {
			if !got[id] {
				missing = append(missing, id)
			}
		}
		t.Errorf("%s: %d extra %v, %d missing %v", what, len(extra), extra, len(missing), missing)
	}
}

// snapshot reads the caller's snapshot, which must fit one answer.
func (e *testEnv) snapshot(t *testing.T, tok string) ([]wire.PulledChange, string) {
	t.Helper()
	r := e.do(t, "GET", "/api/v1/sync/snapshot?limit=2000", tok, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("snapshot: %d %s", r.Status, r.Body)
	}
	var page wire.PullResponse
	r.json(t, &page)
	if page.HasMore {
		t.Fatal("snapshot: more than one answer")
	}
	return page.Changes, page.Cursor
}

// drawCampaign creates a campaign of mode for the inspectors over the
// town, as the admin, draws it, and returns it with its sampled
// households.
func (e *testEnv) drawCampaign(t *testing.T, mode string, inspectors ...uuid.UUID) (wire.Inspection, map[uuid.UUID]bool) {
	t.Helper()
	admin := e.login(t, "admin")
	c := e.newCampaign(t, admin, e.campaignBody(mode, inspectors...))
	r := e.do(t, "POST", "/api/v1/inspections/"+c.ID.String()+"/sample", admin, map[string]any{"seed": "inspect-sync"})
	if r.Status != http.StatusCreated {
		t.Fatalf("draw: %d %s", r.Status, r.Body)
	}
	var s wire.InspectionSample
	r.json(t, &s)
	sampled := map[uuid.UUID]bool{}
	for _, h := range s.Households {
		sampled[h.HouseholdID] = true
	}
	return c, sampled
}

func (e *testEnv) endCampaign(t *testing.T, id uuid.UUID) {
	t.Helper()
	if r := e.do(t, "POST", "/api/v1/inspections/"+id.String()+"/end", e.login(t, "admin"), nil); r.Status != http.StatusOK {
		t.Fatalf("end: %d %s", r.Status, r.Body)
	}
}

// outsideHousehold registers a household in a village of another town,
// which a campaign over the test town never draws.
func (e *testEnv) outsideHousehold(t *testing.T) uuid.UUID {
	t.Helper()
	town := e.addRegion(t, e.county, domain.LevelTown, "410122200000", "李庄乡")
	village := e.addRegion(t, town, domain.LevelVillage, "410122200201", "李庄村")
	return e.addHousehold(t, village, "王五", "41012219800101003").Household.ID
}

// membersOf is the ids of the members of the households, read from the
// register.
func (e *testEnv) membersOf(t *testing.T, households map[uuid.UUID]bool) map[uuid.UUID]bool {
	t.Helper()
	out := map[uuid.UUID]bool{}
	for id := range households {
		h, err := e.app.Store.HouseholdByID(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		ms, err := e.app.Store.Members(context.Background(), h.CountyID, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			out[m.ID] = true
		}
	}
	return out
}

// TestInspectorsSyncTheirSample: an inspector's phone holds exactly the
// households their campaign drew for them — with members, pairings, the
// tasks and what the cadres recorded there in the last 12 months — and
// nothing else; a phone that synced before the draw gets the same on its
// next pull; new visits of those households follow; the inspector records
// inspection visits there (only there, only inspections, and edits nothing
// of the register), judged for evidence like any visit; and when the
// campaign ends it all leaves the phone, but the inspector's own visits.
func TestInspectorsSyncTheirSample(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		e.inspectable(t)
		outside := e.outsideHousehold(t)
		hA, hB := e.householdA.Household.ID, e.householdB.Household.ID
		cadre, insp := e.login(t, "cadre-a"), e.login(t, "inspector")
		now := time.Now()

		recent, old := uuid.New(), uuid.New()
		e.push(t, cadre, uuid.NewString(), batch("cadre-phone", now,
			visitOn(recent, hA, domain.KindAssist, now.AddDate(0, 0, -3)),
			visitOn(old, hA, domain.KindAssist, now.AddDate(0, -13, 0)))).pushResult(t)

		// A phone that synced before the draw holds nothing.
		before, early := e.pullAll(t, insp, "", 50)
		if len(before) != 0 {
			t.Fatalf("an inspector without tasks pulled %v", summary(before))
		}

		c, sampled := e.drawCampaign(t, "announced")
		if !sampled[hA] || !sampled[hB] || sampled[outside] {
			t.Fatalf("the draw: %v (want the fixture's two households, not the other town's)", sampled)
		}

		snap, cursor := e.snapshot(t, insp)
		sameSet(t, "snapshot households", idsOf(snap, "household", "upsert"), sampled)
		sameSet(t, "snapshot members", idsOf(snap, "member", "upsert"), e.membersOf(t, sampled))
		sameSet(t, "snapshot pairings", idsOf(snap, "pairing", "upsert"), setOf(e.pairingA.ID, e.fixture.PairingB.ID))
		sameSet(t, "snapshot visits (the cadre's of the last 12 months)", idsOf(snap, "visit", "upsert"), setOf(recent))
		tasks := map[uuid.UUID]bool{}
		for _, ch := range snap {
			switch {
			case ch.Op != "upsert":
				t.Errorf("a snapshot tombstone: %s %s", ch.Entity, ch.ID)
			case ch.Entity == "task":
				var task wire.Task
				if err := decodeStrict(ch.Data, &task); err != nil {
					t.Fatalf("task %s: %v", ch.Data, err)
				}
				if task.CampaignID != c.ID || task.CampaignName != c.Name || task.Mode != "announced" || task.PeriodFrom.String() != "2026-11-01" ||
					!sampled[task.HouseholdID] || *ch.HouseholdID != task.HouseholdID || task.VillageName == "" || task.Stratum == "" || task.Done {
					t.Errorf("task %s", ch.Data)
				}
				tasks[task.HouseholdID] = true
			case !slices.Contains([]string{"household", "member", "pairing", "visit"}, ch.Entity):
				t.Errorf("snapshot entity %s", ch.Entity)
			}
		}
		sameSet(t, "tasks' households", tasks, sampled)

		// The phone that synced before the draw catches up to the same,
		// and so does a fresh phone paging one record at a time.
		caught, _ := e.pullAll(t, insp, early, 50)
		if got, want := latest(caught), latest(snap); !maps.Equal(got, want) {
			t.Errorf("the pull after the draw left %v, the snapshot %v", got, want)
		}
		if paged, _ := e.pullAll(t, insp, "", 1); !maps.Equal(latest(paged), latest(snap)) {
			t.Errorf("a paged fresh pull left %v, the snapshot %v", latest(paged), latest(snap))
		}

		for _, tc := range []struct {
			household uuid.UUID
			want      int
		}{{hA, http.StatusOK}, {outside, http.StatusNotFound}} {
			if r := e.do(t, "GET", "/api/v1/households/"+tc.household.String(), insp, nil); r.Status != tc.want {
				t.Errorf("the inspector reads household %s: %d, want %d", tc.household, r.Status, tc.want)
			}
		}
		if r := e.do(t, "PATCH", "/api/v1/households/"+hA.String(), insp, map[string]any{"version": 1, "address": "督查改的地址"}); r.Status != http.StatusForbidden {
			t.Errorf("the inspector edits a sampled household through the register: %d, want 403", r.Status)
		}

		// The cadre's new visit follows; an edit of a visit older than
		// the window does not bring it.
		later := uuid.New()
		e.push(t, cadre, uuid.NewString(), batch("cadre-phone", now,
			visitOn(later, hA, domain.KindFollowup, now.AddDate(0, 0, -1)),
			map[string]any{"entity": "visit", "op": "update", "id": old, "base_version": 1, "data": map[string]any{"notes": "补记"}})).pushResult(t)
		followed, cursor := e.pullAll(t, insp, cursor, 50)
		if !has(followed, "visit", "upsert", later) || has(followed, "visit", "upsert", old) {
			t.Errorf("after the cadre's push the inspector pulled %v", summary(followed))
		}

		// The inspector records an inspection where they were sent, and
		// nowhere else, and nothing but inspections.
		mine := uuid.New()
		img := testJPEG(t, 41, now, nil)
		inspection := visitOn(mine, hA, domain.KindInspection, now.Add(-2*time.Hour))
		photo := uuid.New()
		inspection["data"].(map[string]any)["photos"] = []any{map[string]any{"photo_id": photo, "sha256": sha256Hex(img)}}
		memberID := e.householdA.Members[0].ID
		res := e.push(t, insp, uuid.NewString(), batch("inspector-phone", now,
			inspection,
			visitOn(uuid.New(), outside, domain.KindInspection, now.Add(-time.Hour)),
			visitOn(uuid.New(), hB, domain.KindAssist, now.Add(-time.Hour)),
			map[string]any{"entity": "household", "op": "update", "id": hA, "base_version": 1, "data": map[string]any{"phone": "13900000009"}},
			map[string]any{"entity": "member", "op": "update", "id": memberID, "household_id": hA, "base_version": 1,
				"data": map[string]any{"phone": "13900000008"}})).pushResult(t)
		want := []struct{ status, field, reason string }{
			{"applied", "", ""},
			{"rejected", "/changes/1/household_id", "not_found"},
			{"rejected", "/changes/2/data/kind", "not_allowed"},
			{"rejected", "/changes/3/data/phone", "server_authority"},
			{"rejected", "/changes/4/data/phone", "server_authority"},
		}
		for i, w := range want {
			got := res.Results[i]
			if got.Status != w.status || (w.field != "" && (len(got.Errors) != 1 || got.Errors[0].Field != w.field || got.Errors[0].Reason != w.reason)) {
				t.Errorf("change %d: %+v, want %s %s %s", i, got, w.status, w.field, w.reason)
			}
		}
		// Judged for evidence like any visit: its photo is missing until
		// the inspector uploads it.
		e.assessEvidence(t)
		if !e.visitHasFlag(t, mine, "photo_missing") {
			t.Error("the inspection visit is not flagged while its photo is on its way")
		}
		if r := e.putPhoto(t, insp, photo, img, sha256Hex(img), "image/jpeg", "?visit_id="+mine.String()); r.Status != http.StatusCreated {
			t.Fatalf("the inspector's photo: %d %s", r.Status, r.Body)
		}
		e.assessEvidence(t)
		if e.visitHasFlag(t, mine, "photo_missing") {
			t.Error("the inspection visit is still flagged once its photo arrived")
		}
		back, cursor := e.pullAll(t, insp, cursor, 50)
		if !has(back, "visit", "upsert", mine) {
			t.Errorf("the inspector's own visit did not come back: %v", summary(back))
		}
		// The inspector's visit is not the cadre's: it stays off the
		// cadre's phone.
		if all, _ := e.pullAll(t, cadre, "", 50); has(all, "visit", "upsert", mine) || len(idsOf(all, "task", "upsert")) != 0 {
			t.Error("the cadre's phone got the inspector's visit")
		}

		e.endCampaign(t, c.ID)
		gone, _ := e.pullAll(t, insp, cursor, 50)
		taskIDs := idsOf(snap, "task", "upsert")
		sameSet(t, "task tombstones", idsOf(gone, "task", "delete"), taskIDs)
		sameSet(t, "household tombstones", idsOf(gone, "household", "delete"), sampled)
		sameSet(t, "member tombstones", idsOf(gone, "member", "delete"), e.membersOf(t, sampled))
		sameSet(t, "visit tombstones (the cadre's, not the inspector's)", idsOf(gone, "visit", "delete"), setOf(recent, later))
		if left := latest(slices.Concat(snap, followed, back, gone)); len(left) != 1 || left["visit/"+mine.String()] == 0 {
			t.Errorf("after the end the phone keeps %v, want only the inspector's own visit", left)
		}
		if r := e.do(t, "GET", "/api/v1/households/"+hA.String(), insp, nil); r.Status != http.StatusNotFound {
			t.Errorf("after the end the inspector reads a sampled household: %d, want 404", r.Status)
		}
		if r := e.do(t, "GET", "/api/v1/visits/"+mine.String(), insp, nil); r.Status != http.StatusOK {
			t.Errorf("after the end the inspector reads their own visit: %d, want 200", r.Status)
		}
		fresh, _ := e.snapshot(t, insp)
		if got := latest(fresh); len(got) != 1 || got["visit/"+mine.String()] == 0 {
			t.Errorf("a fresh phone after the end: %v, want only the inspector's own visit", got)
		}
	})
}

// decodeStrict decodes a pulled record as the contract has it: no field
// unknown to the wire type.
func decodeStrict(b []byte, v any) error { return wire.DecodeStrict(b, v) }

// TestTasksReachOnlyTheirInspectors: an unannounced campaign's draw puts
// nothing on the phones of the inspected village's cadre and supervisor,
// nor of an inspector not on the campaign: only its inspector learns of
// it.
func TestTasksReachOnlyTheirInspectors(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		e.inspectable(t)
		e.addUser(t, "inspector-2", domain.RoleInspector, e.town, nil, "")
		phones := map[string]string{}
		for _, who := range []string{"cadre-a", "supervisor-a", "inspector-2", "inspector"} {
			_, phones[who] = e.pullAll(t, e.login(t, who), "", 500)
		}
		c, sampled := e.drawCampaign(t, "unannounced")
		for who, cursor := range phones {
			got, _ := e.pullAll(t, e.login(t, who), cursor, 500)
			if who == "inspector" {
				if len(idsOf(got, "task", "upsert")) != len(sampled) {
					t.Errorf("the campaign's inspector got %d tasks for %d households", len(idsOf(got, "task", "upsert")), len(sampled))
				}
				continue
			}
			if len(got) != 0 {
				t.Errorf("%s's phone learned of the unannounced campaign %s: %v", who, c.ID, summary(got))
			}
		}
		if snap, _ := e.snapshot(t, e.login(t, "inspector-2")); len(snap) != 0 {
			t.Errorf("an inspector not on the campaign holds %v", summary(snap))
		}
	})
}

// oldCursor is a cursor as the server wrote them before inspectors' tasks
// were synced: phase p of the walk, the feed watermark w, nothing else.
func oldCursor(p int, w int64) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, `{"v":1,"p":%d,"w":%d}`, p, w))
}

// TestCursorsFromBeforeTasksStillWork: cursors given out before the tasks
// were synced keep their meaning. An inspector's phone that stood in its
// own visits (phase 3) goes on through the tasks and their households'
// visits; one in the feed (phase 4) reads on in it; a cadre's goes on as
// before and meets no task; a phase the server never wrote is refused.
func TestCursorsFromBeforeTasksStillWork(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		e.inspectable(t)
		insp, cadre := e.login(t, "inspector"), e.login(t, "cadre-a")
		recent := uuid.New()
		e.push(t, cadre, uuid.NewString(), batch("cadre-phone", time.Now(),
			visitOn(recent, e.householdA.Household.ID, domain.KindAssist, time.Now().AddDate(0, 0, -2)))).pushResult(t)
		_, early := e.pullAll(t, insp, "", 50)
		w := cursorWatermark(t, early)
		_, sampled := e.drawCampaign(t, "announced")

		walked, _ := e.pullAll(t, insp, oldCursor(3, w), 1)
		sameSet(t, "tasks after an old visits-phase cursor", keysOf(tasksByHousehold(t, walked)), sampled)
		if !has(walked, "visit", "upsert", recent) {
			t.Error("an old visits-phase cursor skipped the visits of the inspector's households")
		}
		fed, _ := e.pullAll(t, insp, oldCursor(4, w), 50)
		sameSet(t, "households after an old feed cursor", idsOf(fed, "household", "upsert"), sampled)

		own, _ := e.pullAll(t, cadre, oldCursor(3, 0), 1)
		if !has(own, "visit", "upsert", recent) || len(idsOf(own, "task", "upsert")) != 0 {
			t.Errorf("a cadre's old cursor: %v", summary(own))
		}
		// Phase 7 walks the households' plans (一户一案), 8 their income
		// accounts (收入测算); 9 was never written.
		for _, p := range []int{-1, 9} {
			if r := e.do(t, "GET", "/api/v1/sync/pull?cursor="+oldCursor(p, w), insp, nil); r.Status != http.StatusUnprocessableEntity {
				t.Errorf("phase %d: %d, want 422", p, r.Status)
			}
		}
	})
}

// cursorWatermark reads the feed watermark out of a cursor in the feed.
func cursorWatermark(t *testing.T, cursor string) int64 {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		P int   `json:"p"`
		W int64 `json:"w"`
	}
	if err := json.Unmarshal(raw, &c); err != nil || c.P != 4 {
		t.Fatalf("cursor %s: %v", raw, err)
	}
	return c.W
}

func tasksByHousehold(t *testing.T, changes []wire.PulledChange) map[uuid.UUID]wire.Task {
	t.Helper()
	out := map[uuid.UUID]wire.Task{}
	for _, ch := range changes {
		if ch.Entity == "task" && ch.Op == "upsert" {
			var task wire.Task
			if err := decodeStrict(ch.Data, &task); err != nil {
				t.Fatal(err)
			}
			out[task.HouseholdID] = task
		}
	}
	return out
}

func keysOf[V any](m map[uuid.UUID]V) map[uuid.UUID]bool {
	out := map[uuid.UUID]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

// withFindings puts findings in a visit change's data: the answers, and
// the campaign when one is named.
func withFindings(change map[string]any, answers map[string]any, campaign *uuid.UUID) map[string]any {
	f := map[string]any{"answers": answers}
	if campaign != nil {
		f["campaign_id"] = *campaign
	}
	change["data"].(map[string]any)["findings"] = f
	return change
}

// doneAt is when the household was done in the campaign's sample (nil:
// not yet), read from the sample itself.
func (e *testEnv) doneAt(t *testing.T, campaign, household uuid.UUID) *time.Time {
	t.Helper()
	var rows []struct{ DoneAt *time.Time }
	if err := e.app.DB.Gorm.Table("inspection_sample").Select("done_at").Where("campaign_id = ? AND household_id = ?", campaign, household).
		Scan(&rows).Error; err != nil || len(rows) != 1 {
		t.Fatalf("sample row of %s in %s: %v (%d rows)", household, campaign, err, len(rows))
	}
	return rows[0].DoneAt
}

// TestHouseholdsAreDoneOnArrival: a sampled household is done the moment
// an inspector's inspection visit to it is stored — or its findings are
// recorded on the findings page — in that transaction, and only the first
// time counts; the phones of every inspector sent there learn it from
// their task, and no cadre's or office's phone hears of it.
func TestHouseholdsAreDoneOnArrival(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		e.inspectable(t)
		second := e.addUser(t, "inspector-2", domain.RoleInspector, e.town, nil, "")
		c, _ := e.drawCampaign(t, "unannounced", e.inspector.ID, second.ID)
		tokens, cursors := map[string]string{}, map[string]string{}
		for _, who := range []string{"inspector", "inspector-2", "cadre-a", "supervisor-a"} {
			tokens[who] = e.login(t, who)
			_, cursors[who] = e.pullAll(t, tokens[who], "", 500)
		}
		inspect := func(t *testing.T, household uuid.UUID) {
			t.Helper()
			res := e.push(t, tokens["inspector"], uuid.NewString(), batch("inspector-phone", time.Now(),
				visitOn(uuid.New(), household, domain.KindInspection, time.Now().Add(-time.Hour)))).pushResult(t)
			if res.Results[0].Status != wire.StatusApplied {
				t.Fatalf("inspection visit: %+v", res.Results[0])
			}
		}
		for _, tc := range []struct {
			name      string
			household uuid.UUID
			do        func(t *testing.T, household uuid.UUID)
		}{
			{"an inspection visit arrives", e.householdA.Household.ID, inspect},
			{"findings recorded on the findings page", e.householdB.Household.ID, func(t *testing.T, household uuid.UUID) {
				if r := e.record(t, tokens["inspector-2"], c.ID, household, householdAnswers(nil), nil); r.Status != http.StatusCreated {
					t.Fatalf("findings: %d %s", r.Status, r.Body)
				}
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if e.doneAt(t, c.ID, tc.household) != nil {
					t.Fatal("done before anyone went")
				}
				tc.do(t, tc.household)
				first := e.doneAt(t, c.ID, tc.household)
				if first == nil {
					t.Fatal("not done")
				}
				for _, who := range []string{"inspector", "inspector-2"} {
					var got []wire.PulledChange
					got, cursors[who] = e.pullAll(t, tokens[who], cursors[who], 500)
					if task, ok := tasksByHousehold(t, got)[tc.household]; !ok || !task.Done {
						t.Errorf("%s's phone: task %+v (sent %v), want it done", who, task, ok)
					}
				}
				// Another inspection there: the first time stays, and the
				// tasks do not come again.
				inspect(t, tc.household)
				if again := e.doneAt(t, c.ID, tc.household); again == nil || !again.Equal(*first) {
					t.Errorf("done at %v after a second visit, first %v", again, first)
				}
				for _, who := range []string{"inspector", "inspector-2"} {
					var got []wire.PulledChange
					if got, cursors[who] = e.pullAll(t, tokens[who], cursors[who], 500); len(idsOf(got, "task", "upsert")) != 0 {
						t.Errorf("%s's phone got its task again: %v", who, summary(got))
					}
				}
			})
		}
		for _, who := range []string{"cadre-a", "supervisor-a"} {
			if got, _ := e.pullAll(t, tokens[who], cursors[who], 500); len(got) != 0 {
				t.Errorf("%s's phone heard of the inspections: %v", who, summary(got))
			}
		}
	})
}
