package app

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/wire"
)

func mapKeys[K comparable, V any](m map[K]V) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// existingProblem is a 409 refusing a second item for a finding.
type existingProblem struct {
	Reason     string    `json:"reason"`
	DetailZH   string    `json:"detail_zh"`
	ExistingID uuid.UUID `json:"existing_id"`
}

// TestRectificationItemsNeedAProblemAndOneAtATime: an item is registered
// only for a finding that records a problem — a problem answer, or a
// discrepancy with the cadre's records though every answer is in order —
// and a finding has one item not closed at a time: a second registration
// (a retry, or someone else's) is 409 naming the item it has, so the
// retrying phone can read it. Once that item is closed a new one may be
// registered, and the old one is not reopened beside it. Nothing refused
// is written.
func TestRectificationItemsNeedAProblemAndOneAtATime(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		e.inspectable(t)
		c, sampled := e.drawCampaign(t, "announced")
		insp, admin, cadre := e.login(t, "inspector"), e.login(t, "admin"), e.login(t, "cadre-a")
		hA, hB := e.householdA.Household.ID, e.householdB.Household.ID
		var other uuid.UUID // a sampled household of village A besides A
		hs, err := e.app.Store.HouseholdsByID(t.Context(), mapKeys(sampled))
		if err != nil {
			t.Fatal(err)
		}
		for id, h := range hs {
			if id != hA && h.VillageID == e.villageA.ID {
				other = id
				break
			}
		}
		if other == uuid.Nil {
			t.Fatal("no other household of village A was drawn")
		}
		// Cadre A recorded three visits to household A this quarter; the
		// household recalls none, though every answer is in order.
		for _, days := range []int{10, 20, 30} {
			if r := e.pushOne(t, cadre, "phone-a", visitOn(uuid.New(), hA, domain.KindAssist, time.Now().AddDate(0, 0, -days))); r.Status != wire.StatusApplied {
				t.Fatalf("cadre A's visit: %+v", r)
			}
		}
		findingOf := func(r response) uuid.UUID {
			t.Helper()
			if r.Status != http.StatusOK && r.Status != http.StatusCreated {
				t.Fatalf("findings: %d %s", r.Status, r.Body)
			}
			var f wire.InspectionFinding
			r.json(t, &f)
			return f.ID
		}
		village := func(v uuid.UUID, change func(a map[string]any)) uuid.UUID {
			a := villageAnswers()
			if change != nil {
				change(a)
			}
			return findingOf(e.do(t, "PUT", findingsPath(c.ID, "villages", v), insp, map[string]any{"answers": a}))
		}
		denied := findingOf(e.record(t, insp, c.ID, hA, householdAnswers(func(a map[string]any) { a["visits_recalled"] = map[string]any{"count": 0} }), nil))
		problem := findingOf(e.record(t, insp, c.ID, other, householdAnswers(func(a map[string]any) { a["housing"] = map[string]any{"choice": "problem"} }), nil))
		inOrder := findingOf(e.record(t, insp, c.ID, hB, householdAnswers(nil), nil))
		noRoad := village(e.villageA.ID, func(a map[string]any) { a["road"] = map[string]any{"yes": false} })
		villageInOrder := village(e.villageB.ID, nil)

		itemFor := func(finding uuid.UUID, responsible uuid.UUID) map[string]any {
			return map[string]any{"problem": "督查发现的问题", "campaign_id": c.ID, "finding_id": finding, "responsible_user_id": responsible,
				"deadline": e.daysFromToday(20)}
		}
		first := map[uuid.UUID]uuid.UUID{} // finding → its item
		cases := []struct {
			name    string
			tok     string
			finding uuid.UUID
			status  int
			reason  string // of the refusal, at /finding_id
		}{
			{"a 两不愁三保障 problem in the answers", insp, problem, http.StatusCreated, ""},
			{"visits the records claim and the household denies", insp, denied, http.StatusCreated, ""},
			{"a village without its road", insp, noRoad, http.StatusCreated, ""},
			{"a household with everything in order", insp, inOrder, http.StatusUnprocessableEntity, "no_problem"},
			{"the same, by an admin", admin, inOrder, http.StatusUnprocessableEntity, "no_problem"},
			{"a village with everything in order", insp, villageInOrder, http.StatusUnprocessableEntity, "no_problem"},
			{"the problem's finding again: a retry", insp, problem, http.StatusConflict, "finding_has_item"},
			{"the discrepancy's finding again, by an admin", admin, denied, http.StatusConflict, "finding_has_item"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				responsible := e.cadreA.ID
				if tc.finding == inOrder || tc.finding == villageInOrder {
					responsible = e.cadreB.ID
				}
				items, events := e.count(t, "ledger_items"), e.count(t, "ledger_item_events")
				r := e.do(t, "POST", "/api/v1/rectifications", tc.tok, itemFor(tc.finding, responsible))
				if r.Status != tc.status {
					t.Fatalf("want %d, got %d %s", tc.status, r.Status, r.Body)
				}
				if r.Status == http.StatusCreated {
					var it wire.RectificationDetail
					r.json(t, &it)
					first[tc.finding] = it.ID
					return
				}
				p := r.problem(t)
				if len(p.Errors) != 1 || p.Errors[0].Field != "/finding_id" || p.Errors[0].Reason != tc.reason || p.Errors[0].MessageZH == "" {
					t.Fatalf("want the refusal at /finding_id (%s), in Chinese: %s", tc.reason, r.Body)
				}
				if e.count(t, "ledger_items") != items || e.count(t, "ledger_item_events") != events {
					t.Fatal("a refused item was written")
				}
				if r.Status == http.StatusConflict {
					var ex existingProblem
					r.json(t, &ex)
					if ex.ExistingID != first[tc.finding] || !strings.Contains(ex.DetailZH, first[tc.finding].String()) {
						t.Fatalf("the refusal names %s, want the finding's item %s: %s", ex.ExistingID, first[tc.finding], r.Body)
					}
					// The phone that retried reads the item it made.
					if got := e.do(t, "GET", "/api/v1/rectifications/"+ex.ExistingID.String(), tc.tok, nil); got.Status != http.StatusOK {
						t.Fatalf("read the existing item: %d %s", got.Status, got.Body)
					}
				}
			})
		}

		// Closed (销号), the finding takes a new item; the old one is then
		// not reopened beside it.
		old := first[denied]
		evidence := e.visitBy(t, cadre, hA, "evidence")
		for _, step := range []struct {
			tok  string
			body map[string]any
		}{
			{cadre, map[string]any{"action": "submit", "version": 1, "evidence": map[string]any{"visit_ids": []uuid.UUID{evidence}}}},
			{admin, map[string]any{"action": "approve", "version": 2}},
		} {
			if r := e.act(t, step.tok, old, step.body); r.Status != http.StatusOK {
				t.Fatalf("%s: %d %s", step.body["action"], r.Status, r.Body)
			}
		}
		again := e.rectify(t, insp, itemFor(denied, e.cadreA.ID))
		events := e.count(t, "ledger_item_events")
		r := e.act(t, admin, old, map[string]any{"action": "reopen", "version": 3, "note": "回头看发现仍有问题"})
		if r.Status != http.StatusConflict {
			t.Fatalf("reopen beside the finding's new item: %d %s", r.Status, r.Body)
		}
		var ex existingProblem
		if r.json(t, &ex); ex.Reason != "finding_has_item" || ex.ExistingID != again.ID {
			t.Fatalf("the refused reopening names %s, want the new item %s: %s", ex.ExistingID, again.ID, r.Body)
		}
		if e.count(t, "ledger_item_events") != events {
			t.Fatal("a refused reopening was recorded")
		}
	})
}

// TestAPhoneRegistersNoFindingsItemAroundTheRule: the phone's way in — a
// ledger_item create in a push, which the item ledger judges as the API
// does (itemledger.Service.CreateIn) — carries no finding: the ledgers it
// takes are the cadres' own (四本台账), so an item for a finding is
// registered only through the API above, where the rule is kept. A push
// naming a finding or the rectification ledger is rejected, alone and
// written nowhere, whoever sends it.
func TestAPhoneRegistersNoFindingsItemAroundTheRule(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		camp := e.newCampaign(t, e.login(t, "admin"), e.campaignBody("announced"))
		finding := e.addFinding(t, camp.ID, e.householdA.Household)
		hA := e.householdA.Household.ID
		naming := func(kind string) map[string]any {
			change := ledgerItemCreate(uuid.New(), hA, kind, "督查发现的问题", e.daysFromToday(20))
			data := change["data"].(map[string]any)
			data["campaign_id"], data["finding_id"] = camp.ID, finding
			return change
		}
		for _, tc := range []struct {
			name   string
			who    string
			change map[string]any
			field  string
		}{
			{"an inspector's rectification for a finding", "inspector", naming("rectification"), "/changes/0/data/campaign_id"},
			{"an admin's rectification for a finding", "admin", naming("rectification"), "/changes/0/data/campaign_id"},
			{"a cadre's ledger item naming a finding", "cadre-a", naming("hardship"), "/changes/0/data/campaign_id"},
			{"a cadre's rectification", "cadre-a", ledgerItemCreate(uuid.New(), hA, "rectification", "整改", e.daysFromToday(20)), "/changes/0/entity"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := e.count(t, "ledger_items")
				r := e.pushOne(t, e.login(t, tc.who), "phone-1", tc.change)
				if r.Status != wire.StatusRejected || len(r.Errors) == 0 || r.Errors[0].Field != tc.field || r.Errors[0].MessageZH == "" {
					t.Fatalf("want rejected at %s, got %+v", tc.field, r)
				}
				if e.count(t, "ledger_items") != before {
					t.Fatal("a rejected item was written")
				}
			})
		}
	})
}
