package client_test

import (
	"reflect"
	"testing"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/client"
	"github.com/fieldvisit/fieldvisit/client/clienttest"
	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/wire"
)

// testPlanItemsConverge: one cadre's two phones edit a measure of a
// household's plan offline; the edits of different fields merge, the same
// field edited on both is kept as a conflict, and both phones end with
// what a fresh phone pulls. A visit records progress on the measure.
func testPlanItemsConverge(t *testing.T, srv *clienttest.Server, user string) {
	a, _ := phone(t, srv, user, "plan-a", nil)
	b, _ := phone(t, srv, user, "plan-b", nil)
	h := a.Households()[0]
	if _, err := a.RecordPlanItem(client.NewPlanItem{HouseholdID: h.ID, Route: "lottery", Measure: "买彩票", TargetOn: domain.Date{Year: 2027, Month: 6, Day: 30}}); err == nil {
		t.Fatal("a route outside the vocabulary was queued")
	}
	id, err := a.RecordPlanItem(client.NewPlanItem{HouseholdID: h.ID, Route: "industry", Measure: "种植油茶3亩", TargetOn: domain.Date{Year: 2027, Month: 6, Day: 30}})
	must(t, err)
	v := newVisit(a, h, "查看油茶苗木")
	v.PlanProgress = []domain.PlanProgress{{PlanItemID: id, Note: "苗木已到位"}}
	_, err = a.RecordVisit(v)
	must(t, err)
	mustSync(t, a)
	mustSync(t, b)
	if items := b.PlanItems(h.ID); len(items) != 1 || items[0].ID != id {
		t.Fatalf("phone b lacks the measure: %+v", items)
	}
	must(t, a.EditPlanItem(id, map[string]any{"state": "in_progress"}))
	must(t, b.EditPlanItem(id, map[string]any{"notes": "乙：已联系合作社"}))
	must(t, b.EditPlanItem(id, map[string]any{"state": "done"}))
	if err := b.EditPlanItem(id, map[string]any{"state": "finished"}); err == nil {
		t.Fatal("a state outside the vocabulary was queued")
	}
	ra := mustSync(t, a)
	rb := mustSync(t, b)
	mustSync(t, a)
	got := map[string]int{}
	for _, o := range append(ra.Push.Outcomes, rb.Push.Outcomes...) {
		got[o.Change.Entity+"/"+o.Result.Status]++
	}
	// b's two edits went as one, made from version 1: notes merge, state
	// overlaps a's (b wins by server order, a's value kept).
	if want := map[string]int{"plan_item/applied": 1, "plan_item/conflict": 1}; !reflect.DeepEqual(got, want) {
		t.Fatalf("outcomes %v, want %v", got, want)
	}
	fresh := settledFresh(t, srv, user, "plan-fresh", a, b)
	want := fresh.PlanItems(h.ID)
	if len(want) != 1 || want[0].State != "done" || want[0].Notes != "乙：已联系合作社" || want[0].Version != 3 {
		t.Fatalf("the server's measure: %+v", want)
	}
	for _, c := range []*client.Client{a, b} {
		if !sameJSON(t, c.PlanItems(h.ID), want) {
			t.Fatalf("%s plan differs from a fresh pull: %+v", c.DeviceID(), c.PlanItems(h.ID))
		}
	}
	if vs := fresh.Visits(); len(vs) == 0 || !hasProgress(vs, id) {
		t.Fatal("the visit's progress did not come back")
	}
	must(t, a.DeletePlanItem(id))
	mustSync(t, a)
	mustSync(t, b)
	if items := b.PlanItems(h.ID); len(items) != 0 {
		t.Fatalf("the deleted measure stays on phone b: %+v", items)
	}
}

func hasProgress(vs []wire.Visit, item uuid.UUID) bool {
	for _, v := range vs {
		for _, p := range v.PlanProgress {
			if p.PlanItemID == item {
				return true
			}
		}
	}
	return false
}
