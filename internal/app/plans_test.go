package app

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/wire"
)

// planItemCreate is a phone's new measure of a household's plan.
func planItemCreate(id, household, cadre uuid.UUID, measure string) map[string]any {
	return map[string]any{"entity": "plan_item", "op": "create", "id": id, "household_id": household, "data": map[string]any{
		"route": "industry", "measure": measure, "responsible_cadre_id": cadre, "target_on": "2027-06-30", "state": "planned", "notes": ""}}
}

// planItemEdit is a phone's edit of a measure made from baseVersion.
func planItemEdit(id uuid.UUID, baseVersion int64, data, base map[string]any) map[string]any {
	return map[string]any{"entity": "plan_item", "op": "update", "id": id, "base_version": baseVersion, "data": data, "base": base}
}

// pushOne pushes one change under a fresh key from device and returns its result.
func (e *testEnv) pushOne(t *testing.T, tok, device string, change map[string]any) wire.PushResult {
	t.Helper()
	return e.push(t, tok, uuid.NewString(), batch(device, time.Now(), change)).pushResult(t).Results[0]
}

// pulledPlanItem is the latest state of a plan item in a pull: its data
// and version, or nil when the last word was a tombstone or nothing.
func pulledPlanItem(t *testing.T, changes []wire.PulledChange, id uuid.UUID) (*wire.PlanItem, int64) {
	t.Helper()
	return pulledRecord[wire.PlanItem](t, changes, wire.EntityPlanItem, id)
}

// pulledRecord is the latest state of a record of entity in a pull: its
// data and version, or nil when the last word was a tombstone or nothing.
func pulledRecord[T any](t *testing.T, changes []wire.PulledChange, entity string, id uuid.UUID) (*T, int64) {
	t.Helper()
	var out *T
	var version int64
	for _, c := range changes {
		if c.Entity != entity || c.ID != id || c.Version < version {
			continue
		}
		version, out = c.Version, nil
		if c.Op == wire.OpUpsert {
			out = new(T)
			if err := json.Unmarshal(c.Data, out); err != nil {
				t.Fatal(err)
			}
		}
	}
	return out, version
}

func (e *testEnv) householdPlan(t *testing.T, tok string, household uuid.UUID) wire.HouseholdPlan {
	t.Helper()
	r := e.do(t, "GET", "/api/v1/households/"+household.String()+"/plan", tok, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("plan: %d %s", r.Status, r.Body)
	}
	var plan wire.HouseholdPlan
	r.json(t, &plan)
	return plan
}

// TestPlanEditsFromTwoPhonesConverge: a cadre's two phones edit the same
// measure offline. Edits of different fields merge; the same field edited
// on both is last writer by server order with the lost value kept for a
// supervisor, who can restore it; a delete made from an older version
// keeps the measure whole. Both phones end with the same measure.
func TestPlanEditsFromTwoPhonesConverge(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		h := e.householdA.Household.ID
		tok := e.login(t, "cadre-a")
		sup := e.login(t, "supervisor-a")
		id := uuid.New()
		if r := e.pushOne(t, tok, "phone-1", planItemCreate(id, h, e.cadreA.ID, "种植油茶3亩")); r.Status != wire.StatusApplied || r.Version != 1 {
			t.Fatalf("create: %+v", r)
		}
		if r := e.pushOne(t, tok, "phone-1", planItemCreate(id, h, e.cadreA.ID, "种植油茶3亩")); r.Status != wire.StatusDuplicate || r.Version != 1 {
			t.Fatalf("the same create again must be a duplicate: %+v", r)
		}
		phone1, cursor1 := e.pullAll(t, tok, "", 1)
		phone2, cursor2 := e.pullAll(t, tok, "", 50)
		for _, got := range [][]wire.PulledChange{phone1, phone2} {
			if it, v := pulledPlanItem(t, got, id); it == nil || v != 1 || it.Measure != "种植油茶3亩" {
				t.Fatalf("a fresh pull must carry the measure: %+v v%d", it, v)
			}
		}

		// Both phones hold version 1 and edit offline.
		steps := []struct {
			name       string
			device     string
			data, base map[string]any
			status     string
			version    int64
		}{
			{"phone 1 starts the work", "phone-1", map[string]any{"state": "in_progress"}, map[string]any{"state": "planned"}, wire.StatusApplied, 2},
			{"phone 2 notes something else: merged", "phone-2", map[string]any{"notes": "苗木已订购"}, map[string]any{"notes": ""}, wire.StatusMerged, 3},
			{"phone 2 also changed the state: conflict", "phone-2", map[string]any{"state": "done"}, map[string]any{"state": "planned"}, wire.StatusConflict, 4},
		}
		var conflictID uuid.UUID
		for _, s := range steps {
			r := e.pushOne(t, tok, s.device, planItemEdit(id, 1, s.data, s.base))
			if r.Status != s.status || r.Version != s.version {
				t.Fatalf("%s: want %s v%d, got %+v", s.name, s.status, s.version, r)
			}
			if s.status == wire.StatusConflict {
				conflictID = r.ConflictIDs[0]
			}
		}
		// Both phones pull and hold the same measure.
		more1, _ := e.pullAll(t, tok, cursor1, 50)
		more2, _ := e.pullAll(t, tok, cursor2, 50)
		a, va := pulledPlanItem(t, more1, id)
		b, vb := pulledPlanItem(t, more2, id)
		if a == nil || b == nil || va != 4 || vb != 4 || *a != *b || a.State != "done" || a.Notes != "苗木已订购" {
			t.Fatalf("phones did not converge: %+v v%d / %+v v%d", a, va, b, vb)
		}

		var inbox wire.Page[wire.Conflict]
		e.do(t, "GET", "/api/v1/conflicts?open=true", sup, nil).json(t, &inbox)
		if inbox.Total != 1 || inbox.Items[0].ID != conflictID || inbox.Items[0].Entity != "plan_item" || inbox.Items[0].Field != "state" ||
			string(inbox.Items[0].LostValue) != `"in_progress"` {
			t.Fatalf("conflict inbox: %+v", inbox)
		}
		if r := e.do(t, "POST", "/api/v1/conflicts/"+conflictID.String()+"/resolve", sup, map[string]any{"resolution": "restore_lost"}); r.Status != http.StatusOK {
			t.Fatalf("resolve: %d %s", r.Status, r.Body)
		}
		plan := e.householdPlan(t, sup, h)
		if len(plan.Items) != 1 || plan.Items[0].State != "in_progress" || plan.Items[0].Version != 5 || plan.Items[0].Notes != "苗木已订购" {
			t.Fatalf("restored: %+v", plan.Items)
		}

		// Phone 2, still at version 3, deletes the measure: deleted, and
		// the measure as it was kept whole; a supervisor brings it back.
		del := e.pushOne(t, tok, "phone-2", map[string]any{"entity": "plan_item", "op": "delete", "id": id, "base_version": 3})
		if del.Status != wire.StatusConflict || del.Version != 6 {
			t.Fatalf("stale delete: %+v", del)
		}
		if plan := e.householdPlan(t, sup, h); len(plan.Items) != 0 || len(plan.Routes) != 0 {
			t.Fatalf("a deleted measure is no part of the plan: %+v", plan)
		}
		gone, _ := e.pullAll(t, tok, "", 50)
		if it, _ := pulledPlanItem(t, gone, id); it != nil {
			t.Fatalf("a fresh phone must not get a deleted measure: %+v", it)
		}
		if r := e.do(t, "POST", "/api/v1/conflicts/"+del.ConflictIDs[0].String()+"/resolve", sup, map[string]any{"resolution": "restore_lost"}); r.Status != http.StatusOK {
			t.Fatalf("restore delete: %d %s", r.Status, r.Body)
		}
		plan = e.householdPlan(t, sup, h)
		if len(plan.Items) != 1 || plan.Items[0].State != "in_progress" || plan.Items[0].Version != 7 || strings.Join(plan.Routes, ",") != "industry" {
			t.Fatalf("restored delete: %+v", plan)
		}
	})
}

// TestPlanItemsAreCheckedAndScoped: every bad plan change is rejected
// alone, naming the field, and writes nothing; a visit records progress
// only on its household's measures; the plan travels with the household
// (tombstones when it leaves a phone's scope); reads are region-scoped.
func TestPlanItemsAreCheckedAndScoped(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		h, other := e.householdA.Household.ID, e.householdB.Household.ID
		tok := e.login(t, "cadre-a")
		id := uuid.New()
		if r := e.pushOne(t, tok, "phone-1", planItemCreate(id, h, e.cadreA.ID, "外出务工技能培训")); r.Status != wire.StatusApplied {
			t.Fatalf("create: %+v", r)
		}
		with := func(change map[string]any, field string, v any) map[string]any {
			data := map[string]any{}
			for k, x := range change["data"].(map[string]any) {
				data[k] = x
			}
			if v == nil {
				delete(data, field)
			} else {
				data[field] = v
			}
			out := map[string]any{}
			for k, x := range change {
				out[k] = x
			}
			out["data"] = data
			return out
		}
		fresh := func() map[string]any { return planItemCreate(uuid.New(), h, e.cadreA.ID, "危房改造") }
		tests := []struct {
			name   string
			tok    string
			change map[string]any
			field  string
			reason string
		}{
			{"unknown route", tok, with(fresh(), "route", "lottery"), "/changes/0/data/route", "invalid_enum"},
			{"no measure", tok, with(fresh(), "measure", nil), "/changes/0/data/measure", "required"},
			{"no target date", tok, with(fresh(), "target_on", nil), "/changes/0/data/target_on", "required"},
			{"bad state", tok, with(fresh(), "state", "finished"), "/changes/0/data/state", "invalid_enum"},
			{"a responsible cadre not paired", tok, with(fresh(), "responsible_cadre_id", e.cadreB.ID), "/changes/0/data/responsible_cadre_id", "not_paired"},
			{"an unknown field", tok, with(fresh(), "budget", 5), "/changes/0/data/budget", "unknown_field"},
			{"another village's household", tok, planItemCreate(uuid.New(), other, e.cadreA.ID, "x"), "/changes/0/household_id", "not_found"},
			{"an inspector", e.login(t, "inspector"), fresh(), "/changes/0/entity", "not_allowed"},
			{"an update of an unknown field", tok, planItemEdit(id, 1, map[string]any{"budget": 5}, nil), "/changes/0/data/budget", "unknown_field"},
			{"an update without base_version", tok, planItemEdit(id, 0, map[string]any{"notes": "x"}, nil), "/changes/0/base_version", "required"},
			{"an update from the future", tok, planItemEdit(id, 9, map[string]any{"notes": "x"}, nil), "/changes/0/base_version", "out_of_range"},
			{"another cadre's household", e.login(t, "cadre-b"), planItemEdit(id, 1, map[string]any{"notes": "x"}, nil), "/changes/0/id", "not_found"},
			{"a visit's progress on another household's measure", tok, progressVisit(uuid.New(), other, id), "/changes/0/household_id", "not_found"},
			{"a visit's progress on no measure", tok, progressVisit(uuid.New(), h, uuid.New()), "/changes/0/data/plan_progress/0/plan_item_id", "unknown"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				tables := []string{"plan_items", "visits", "conflicts"}
				before := map[string]int64{}
				for _, table := range tables {
					before[table] = e.count(t, table)
				}
				r := e.pushOne(t, tc.tok, "phone-1", tc.change)
				if r.Status != wire.StatusRejected || len(r.Errors) != 1 || r.Errors[0].Field != tc.field || r.Errors[0].Reason != tc.reason || r.Errors[0].MessageZH == "" {
					t.Fatalf("want rejected at %s (%s), got %+v", tc.field, tc.reason, r)
				}
				for _, table := range tables {
					if before[table] != e.count(t, table) {
						t.Fatalf("a rejected change wrote %s", table)
					}
				}
			})
		}

		// A visit records progress on the measure; the plan shows it.
		vid := uuid.New()
		if r := e.pushOne(t, tok, "phone-1", progressVisit(vid, h, id)); r.Status != wire.StatusApplied {
			t.Fatalf("visit with progress: %+v", r)
		}
		sup := e.login(t, "supervisor-a")
		plan := e.householdPlan(t, sup, h)
		if len(plan.Items) != 1 || len(plan.Items[0].Progress) != 1 || plan.Items[0].Progress[0].VisitID != vid || plan.Items[0].Progress[0].Note != "已报名县里的电焊培训班" {
			t.Fatalf("progress on the plan: %+v", plan.Items)
		}
		var page wire.Page[wire.PlanItemView]
		e.do(t, "GET", "/api/v1/plan-items?route=industry&overdue=false", sup, nil).json(t, &page)
		if page.Total != 1 || page.Items[0].ID != id || page.Items[0].ResponsibleName == "" {
			t.Fatalf("plan items: %+v", page)
		}

		// Reads stay in scope.
		supB := e.login(t, "supervisor-b")
		if r := e.do(t, "GET", "/api/v1/households/"+h.String()+"/plan", supB, nil); r.Status != http.StatusNotFound {
			t.Fatalf("another village's supervisor reads the plan: %d", r.Status)
		}
		e.do(t, "GET", "/api/v1/plan-items", supB, nil).json(t, &page)
		if page.Total != 0 {
			t.Fatalf("another village's supervisor lists the plan: %+v", page)
		}
		if r := e.do(t, "GET", "/api/v1/plan-items?region_id="+e.villageA.ID.String(), supB, nil); r.Status != http.StatusNotFound {
			t.Fatalf("a region outside the subtree: %d %s", r.Status, r.Body)
		}
		if r := e.do(t, "GET", "/api/v1/plan-items", tok, nil); r.Status != http.StatusForbidden {
			t.Fatalf("a cadre lists plan items: %d", r.Status)
		}
		if r := e.do(t, "GET", "/api/v1/households/"+other.String()+"/plan", tok, nil); r.Status != http.StatusNotFound {
			t.Fatalf("a cadre reads another's household plan: %d", r.Status)
		}

		// The plan leaves the phone with its household, and reaches the new cadre's.
		_, cursor := e.pullAll(t, tok, "", 50)
		newCadre := e.addUser(t, "cadre-a9", "cadre", e.villageA, nil, "staff")
		if r := e.do(t, "POST", "/api/v1/pairings/"+e.pairingA.ID.String()+"/end", sup, map[string]any{"reason": "工作调整", "new_cadre_id": newCadre.ID}); r.Status != http.StatusOK {
			t.Fatalf("re-pair: %d %s", r.Status, r.Body)
		}
		gone, _ := e.pullAll(t, tok, cursor, 50)
		if !has(gone, "plan_item", "delete", id) || !has(gone, "household", "delete", h) {
			t.Fatalf("the plan must leave with its household: %+v", gone)
		}
		tok9 := e.login(t, "cadre-a9")
		r := e.do(t, "GET", "/api/v1/sync/snapshot", tok9, nil)
		var snap wire.PullResponse
		r.json(t, &snap)
		if it, _ := pulledPlanItem(t, snap.Changes, id); it == nil || it.ResponsibleCadreID != e.cadreA.ID {
			t.Fatalf("the new cadre's snapshot lacks the plan: %s", r.Body)
		}
		// The measure's old responsible cadre no longer blocks an edit of
		// its notes; naming a cadre not paired with it is refused.
		if r := e.pushOne(t, tok9, "phone-9", planItemEdit(id, 1, map[string]any{"notes": "已换人帮扶"}, map[string]any{"notes": ""})); r.Status != wire.StatusApplied {
			t.Fatalf("the new cadre's edit: %+v", r)
		}
		r2 := e.pushOne(t, tok9, "phone-9", planItemEdit(id, 2, map[string]any{"responsible_cadre_id": e.cadreB.ID}, nil))
		if r2.Status != wire.StatusRejected || r2.Errors[0].Field != "/changes/0/data/responsible_cadre_id" || r2.Errors[0].Reason != "not_paired" {
			t.Fatalf("naming a cadre not paired: %+v", r2)
		}
	})
}

// progressVisit is a new visit recording progress on a measure.
func progressVisit(id, household, item uuid.UUID) map[string]any {
	v := visitChange(id, household, "走访了解培训情况", 34.7)
	v["data"].(map[string]any)["plan_progress"] = []map[string]any{{"plan_item_id": item, "note": "已报名县里的电焊培训班"}}
	return v
}

// TestACreateOverADeletedRecordAnswersDeleted: a phone that creates again,
// with other content, a visit or measure another of the cadre's phones
// deleted is told it was deleted — as an update of it is. It was told
// "exists, send an update", and the update "deleted": a loop.
func TestACreateOverADeletedRecordAnswersDeleted(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		h := e.householdA.Household.ID
		tok := e.login(t, "cadre-a")
		cadre := e.cadreA.ID
		for _, tc := range []struct {
			entity        string
			create, again func(id uuid.UUID) map[string]any
			edit          func(id uuid.UUID, version int64) map[string]any
		}{
			{"visit",
				func(id uuid.UUID) map[string]any { return visitChange(id, h, "第一次记录", 34.7) },
				func(id uuid.UUID) map[string]any { return visitChange(id, h, "另一台手机上的记录", 34.7) },
				func(id uuid.UUID, v int64) map[string]any {
					return map[string]any{"entity": "visit", "op": "update", "id": id, "base_version": v, "data": map[string]any{"notes": "补充"}}
				}},
			{"plan_item",
				func(id uuid.UUID) map[string]any { return planItemCreate(id, h, cadre, "发展养殖") },
				func(id uuid.UUID) map[string]any { return planItemCreate(id, h, cadre, "外出务工") },
				func(id uuid.UUID, v int64) map[string]any {
					return planItemEdit(id, v, map[string]any{"notes": "补充"}, map[string]any{"notes": ""})
				}},
		} {
			t.Run(tc.entity, func(t *testing.T) {
				id := uuid.New()
				created := e.pushOne(t, tok, "phone-1", tc.create(id))
				if created.Status != wire.StatusApplied {
					t.Fatalf("create: %+v", created)
				}
				if r := e.pushOne(t, tok, "phone-1", map[string]any{"entity": tc.entity, "op": "delete", "id": id, "base_version": created.Version}); r.Status != wire.StatusApplied {
					t.Fatalf("delete: %+v", r)
				}
				for name, change := range map[string]map[string]any{"create with other content": tc.again(id), "update": tc.edit(id, created.Version)} {
					r := e.pushOne(t, tok, "phone-2", change)
					if r.Status != wire.StatusRejected || len(r.Errors) != 1 || r.Errors[0].Reason != "deleted" || r.Errors[0].Field != "/changes/0/id" {
						t.Errorf("%s of the deleted %s: %+v, want rejected, deleted at /changes/0/id", name, tc.entity, r)
					}
				}
			})
		}
	})
}
