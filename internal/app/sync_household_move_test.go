package app

import (
	"testing"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/wire"
)

// TestAChangeCannotMoveARecordToAnotherHousehold: household_id on an
// update or delete of a visit or plan item must be the stored household
// (on a household's update, the household itself). Naming another one —
// in the cadre's scope or not — rejects the change at
// /changes/i/household_id (immutable) and writes nothing, where it was
// taken without the move before and the phone believed the record moved.
// The stored household, or none, goes through.
func TestAChangeCannotMoveARecordToAnotherHousehold(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		tok := e.login(t, "cadre-a")
		hA := e.householdA.Household.ID
		neighbour := e.addHousehold(t, e.villageA, "钱七", "41012219700101030").Household.ID
		e.pair(t, neighbour, e.cadreA.ID)
		elsewhere := e.householdB.Household.ID
		type record struct {
			entity string
			id     uuid.UUID
			edit   map[string]any // data of a valid update
		}
		visitID, planID := uuid.New(), uuid.New()
		records := []record{
			{"visit", visitID, map[string]any{"notes": "补记：屋顶已修好"}},
			{"plan_item", planID, map[string]any{"state": "in_progress"}},
		}
		for _, ch := range []map[string]any{visitChange(visitID, hA, "初次走访", 34.7), planItemCreate(planID, hA, e.cadreA.ID, "种植油茶3亩")} {
			if r := e.pushOne(t, tok, "phone-1", ch); r.Status != wire.StatusApplied {
				t.Fatalf("set-up %s: %+v", ch["entity"], r)
			}
		}
		change := func(rec record, op string, version int64, household *uuid.UUID) map[string]any {
			ch := map[string]any{"entity": rec.entity, "op": op, "id": rec.id, "base_version": version}
			if op == wire.OpUpdate {
				ch["data"] = rec.edit
			}
			if household != nil {
				ch["household_id"] = *household
			}
			return ch
		}
		for _, rec := range records {
			for _, op := range []string{wire.OpUpdate, wire.OpDelete} {
				for _, other := range []struct {
					name string
					id   uuid.UUID
				}{{"a household of the cadre's", neighbour}, {"another village's household", elsewhere}} {
					before := e.pushWrites(t)
					r := e.pushOne(t, tok, "phone-1", change(rec, op, 1, &other.id))
					what := rec.entity + " " + op + " naming " + other.name
					wantRejectedAt(t, what, r, "/changes/0/household_id", "immutable")
					e.wantNoWrites(t, what, before)
				}
			}
			if r := e.pushOne(t, tok, "phone-1", change(rec, wire.OpUpdate, 1, &hA)); r.Status != wire.StatusApplied || r.Version != 2 {
				t.Errorf("%s update naming its own household: %+v", rec.entity, r)
			}
			rec.edit = map[string]any{"notes": "再次补记"}
			if r := e.pushOne(t, tok, "phone-1", change(rec, wire.OpUpdate, 2, nil)); r.Status != wire.StatusApplied || r.Version != 3 {
				t.Errorf("%s update naming no household: %+v", rec.entity, r)
			}
			e.wantInHousehold(t, tok, rec.entity, rec.id, hA)
			if r := e.pushOne(t, tok, "phone-1", change(rec, wire.OpDelete, 3, &hA)); r.Status != wire.StatusApplied {
				t.Errorf("%s delete naming its own household: %+v", rec.entity, r)
			}
		}
		// The field app names the household itself on a household's edit.
		household := record{"household", hA, map[string]any{"phone": "13900000001"}}
		before := e.pushWrites(t)
		wantRejectedAt(t, "household update naming another household", e.pushOne(t, tok, "phone-1", change(household, wire.OpUpdate, 1, &neighbour)),
			"/changes/0/household_id", "immutable")
		e.wantNoWrites(t, "household update naming another household", before)
		if r := e.pushOne(t, tok, "phone-1", change(household, wire.OpUpdate, 1, &hA)); r.Status != wire.StatusApplied {
			t.Errorf("household update naming itself: %+v", r)
		}
	})
}

// wantInHousehold checks through the API that a visit or plan item is
// still the household's.
func (e *testEnv) wantInHousehold(t *testing.T, tok, entity string, id, household uuid.UUID) {
	t.Helper()
	if entity == wire.EntityPlanItem {
		for _, it := range e.householdPlan(t, tok, household).Items {
			if it.ID == id {
				return
			}
		}
		t.Errorf("plan item %s is no longer in household %s's plan", id, household)
		return
	}
	var v wire.Visit
	e.do(t, "GET", "/api/v1/visits/"+id.String(), tok, nil).json(t, &v)
	if v.HouseholdID != household {
		t.Errorf("visit %s is of household %s, want %s", id, v.HouseholdID, household)
	}
}
