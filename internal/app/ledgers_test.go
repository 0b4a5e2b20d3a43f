package app

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/wire"
)

// ledgerItemCreate is a phone's new item of a cadre ledger.
func ledgerItemCreate(id, household uuid.UUID, kind, problem, deadline string) map[string]any {
	return map[string]any{"entity": "ledger_item", "op": "create", "id": id, "household_id": household,
		"data": map[string]any{"kind": kind, "problem": problem, "deadline": deadline}}
}

// TestCadreLedgerItemsAreRecordedOfflineAndClosedOnEvidence: a cadre's
// phone records what it heard on a visit in the 民生诉求 ledger; the item
// is created once however often it is sent, every bad one is rejected
// alone naming its field, reads are scoped, and it is closed (销号) only
// on evidence, by a supervisor.
func TestCadreLedgerItemsAreRecordedOfflineAndClosedOnEvidence(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		h, other := e.householdA.Household.ID, e.householdB.Household.ID
		tok := e.login(t, "cadre-a")
		deadline := time.Now().AddDate(0, 1, 0).Format("2006-01-02")
		id := uuid.New()
		item := ledgerItemCreate(id, h, "livelihood_request", "村道破损，雨天出行困难", deadline)
		if r := e.pushOne(t, tok, "phone-1", item); r.Status != wire.StatusApplied || r.Version != 1 {
			t.Fatalf("create: %+v", r)
		}
		if r := e.pushOne(t, tok, "phone-1", item); r.Status != wire.StatusDuplicate || r.Version != 1 {
			t.Fatalf("the same item again: %+v", r)
		}
		tests := []struct {
			name   string
			tok    string
			change map[string]any
			field  string
			reason string
		}{
			{"no problem", tok, ledgerItemCreate(uuid.New(), h, "hardship", " ", deadline), "/changes/0/data/problem", "required"},
			{"no deadline", tok, withoutDeadline(ledgerItemCreate(uuid.New(), h, "hardship", "大病", deadline)), "/changes/0/data/deadline", "required"},
			{"a deadline that is no date", tok, ledgerItemCreate(uuid.New(), h, "hardship", "大病", "下个月"), "/changes/0/data/deadline", "invalid_value"},
			{"a deadline before the day it was recorded", tok, ledgerItemCreate(uuid.New(), h, "hardship", "大病", "2020-01-01"), "/changes/0/data/deadline", "out_of_range"},
			{"a deadline past 2100", tok, ledgerItemCreate(uuid.New(), h, "hardship", "大病", "9999-12-31"), "/changes/0/data/deadline", "out_of_range"},
			{"an unknown ledger", tok, ledgerItemCreate(uuid.New(), h, "gossip", "x", deadline), "/changes/0/data/kind", "invalid_enum"},
			{"the rectification ledger", tok, ledgerItemCreate(uuid.New(), h, "rectification", "x", deadline), "/changes/0/entity", "forbidden"},
			{"another village's household", tok, ledgerItemCreate(uuid.New(), other, "hardship", "x", deadline), "/changes/0/household_id", "unknown"},
			{"an inspector", e.login(t, "inspector"), ledgerItemCreate(uuid.New(), h, "hardship", "x", deadline), "/changes/0/entity", "forbidden"},
			{"the id of another item", tok, ledgerItemCreate(id, h, "hardship", "另一件事", deadline), "/changes/0/id", "id_taken"},
			{"an update", tok, map[string]any{"entity": "ledger_item", "op": "update", "id": id, "base_version": 1, "data": map[string]any{"problem": "x"}}, "/changes/0/op", "unsupported"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				before := e.count(t, "ledger_items")
				r := e.pushOne(t, tc.tok, "phone-1", tc.change)
				if r.Status != wire.StatusRejected || len(r.Errors) == 0 || r.Errors[0].Field != tc.field || r.Errors[0].Reason != tc.reason || r.Errors[0].MessageZH == "" {
					t.Fatalf("want rejected at %s (%s), got %+v", tc.field, tc.reason, r)
				}
				if e.count(t, "ledger_items") != before {
					t.Fatal("a rejected item was written")
				}
			})
		}

		// Reads are scoped: the cadre who answers for it and the village's
		// supervisor see it; another village's supervisor does not.
		path := "/api/v1/ledgers/livelihood_request/items"
		sup, supB := e.login(t, "supervisor-a"), e.login(t, "supervisor-b")
		for _, who := range []struct {
			tok  string
			want int64
		}{{tok, 1}, {sup, 1}, {supB, 0}} {
			var page wire.Page[wire.Rectification]
			e.do(t, "GET", path, who.tok, nil).json(t, &page)
			if page.Total != who.want {
				t.Fatalf("listing: want %d, got %+v", who.want, page)
			}
		}
		if r := e.do(t, "GET", path+"/"+id.String(), supB, nil); r.Status != http.StatusNotFound {
			t.Fatalf("another village's supervisor reads the item: %d", r.Status)
		}
		if r := e.do(t, "GET", "/api/v1/ledgers/rectification/items", sup, nil); r.Status != http.StatusNotFound {
			t.Fatalf("the rectification ledger is no cadre ledger: %d", r.Status)
		}

		// 销号 needs evidence: the cadre's submission without is refused,
		// with the visit that dealt with it accepted; only a supervisor
		// closes it.
		act := func(tok string, body map[string]any) response {
			return e.do(t, "POST", path+"/"+id.String()+"/actions", tok, body)
		}
		if r := act(tok, map[string]any{"action": "submit", "version": 1}); r.Status != http.StatusUnprocessableEntity || !r.problem(t).hasField("/evidence") {
			t.Fatalf("a submission without evidence: %d %s", r.Status, r.Body)
		}
		vid := uuid.New()
		e.pushOne(t, tok, "phone-1", visitOn(vid, h, domain.KindAssist, earlierToday(time.Hour))) // after the item
		r := act(tok, map[string]any{"action": "submit", "version": 1, "evidence": map[string]any{"visit_ids": []string{vid.String()}}})
		if r.Status != http.StatusOK {
			t.Fatalf("submit: %d %s", r.Status, r.Body)
		}
		if r := act(tok, map[string]any{"action": "approve", "version": 2}); r.Status != http.StatusForbidden {
			t.Fatalf("a cadre closes their own item: %d", r.Status)
		}
		r = act(sup, map[string]any{"action": "approve", "version": 2})
		var closed wire.RectificationDetail
		r.json(t, &closed)
		if r.Status != http.StatusOK || closed.Status != "closed" || closed.Kind != "livelihood_request" {
			t.Fatalf("approve: %d %s", r.Status, r.Body)
		}
	})
}

func withoutDeadline(change map[string]any) map[string]any {
	delete(change["data"].(map[string]any), "deadline")
	return change
}
