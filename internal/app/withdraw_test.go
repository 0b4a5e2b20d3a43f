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

// withdraw asks to withdraw (撤销) an item at version with reason.
func (e *testEnv) withdraw(t *testing.T, tok string, id uuid.UUID, version int64, reason string) response {
	t.Helper()
	return e.act(t, tok, id, map[string]any{"action": "withdraw", "version": version, "note": reason})
}

// refusalZH is a refusal's reason and its Chinese detail.
type refusalZH struct {
	Reason   string `json:"reason"`
	DetailZH string `json:"detail_zh"`
}

// TestAWithdrawnItemFreesItsFinding: a rectification item registered for
// a discrepancy with the cadre's records (the household recalled no
// visit) keeps its finding from being corrected to "no problem" while it
// is open (409 has_open_item). The inspector who registered it withdraws
// it (撤销) with a reason — refused without one (422 at /note), refused
// to the responsible cadre (403) and to another village's supervisor
// (404), refused a second time (409 naming 已撤销) and for a closed item
// (409 naming 已销号), nothing refused written — and then the correction
// is taken, the withdrawn item is listed, exported and counted as 已撤销
// (not overdue, not in the report's total), and the finding may get a new
// item. Every answer is checked against the contract (testEnv.do).
func TestAWithdrawnItemFreesItsFinding(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		e.inspectable(t)
		c, sampled := e.drawCampaign(t, "announced")
		hA := e.householdA.Household.ID
		if !sampled[hA] {
			t.Fatal("household A was not drawn")
		}
		insp, admin, sup, cadre := e.login(t, "inspector"), e.login(t, "admin"), e.login(t, "supervisor-a"), e.login(t, "cadre-a")
		for _, days := range []int{10, 20, 30} {
			if r := e.pushOne(t, cadre, "phone-cadre-a", visitOn(uuid.New(), hA, domain.KindAssist, time.Now().AddDate(0, 0, -days))); r.Status != wire.StatusApplied {
				t.Fatalf("the cadre's visit: %+v", r)
			}
		}
		path := findingsPath(c.ID, "households", hA)
		if r := e.do(t, "PUT", path, insp, map[string]any{"answers": recalled(0)}); r.Status != http.StatusCreated {
			t.Fatalf("record: %d %s", r.Status, r.Body)
		}
		finding, _ := e.findingOf(t, insp, c.ID, hA)
		itemBody := map[string]any{"problem": "农户称未见帮扶干部走访", "campaign_id": c.ID, "finding_id": finding.ID,
			"responsible_user_id": e.cadreA.ID, "deadline": e.daysFromToday(20)}
		item := e.rectify(t, insp, itemBody)
		if !strings.Contains(strings.Join(item.AllowedActions, ","), "withdraw") {
			t.Fatalf("the inspector who registered the item may not withdraw it: %v", item.AllowedActions)
		}
		correct := func() response {
			t.Helper()
			f, _ := e.findingOf(t, insp, c.ID, hA)
			return e.do(t, "PUT", path, insp, map[string]any{"answers": recalled(10), "version": f.Version})
		}
		if r := correct(); r.Status != http.StatusConflict || !r.problem(t).hasField("/answers") {
			t.Fatalf("the correction to no problem while the item is open: %d %s", r.Status, r.Body)
		}

		// Closed: register one without a finding and close it (销号).
		closed := e.rectify(t, sup, e.rectificationBody())
		evidence := e.visitBy(t, cadre, hA, "withdraw-evidence")
		if r := e.act(t, cadre, closed.ID, map[string]any{"action": "submit", "version": 1, "evidence": map[string]any{"visit_ids": []uuid.UUID{evidence}}}); r.Status != http.StatusOK {
			t.Fatalf("submit: %d %s", r.Status, r.Body)
		}
		if r := e.act(t, admin, closed.ID, map[string]any{"action": "approve", "version": 2}); r.Status != http.StatusOK {
			t.Fatalf("approve: %d %s", r.Status, r.Body)
		}

		const reason = "核实后该户走访记录属实，督查时户主外出由家人作答"
		refusals := []struct {
			name    string
			tok     string
			item    uuid.UUID
			version int64
			note    string
			status  int
			field   string // a 422 names it
			stateZH string // a 409 names it
		}{
			{"without a reason", insp, item.ID, 1, " ", http.StatusUnprocessableEntity, "/note", ""},
			{"by the cadre who answers for it", cadre, item.ID, 1, reason, http.StatusForbidden, "", ""},
			{"by another village's supervisor", e.login(t, "supervisor-b"), item.ID, 1, reason, http.StatusNotFound, "", ""},
			{"a closed item", admin, closed.ID, 3, reason, http.StatusConflict, "", "已销号"},
		}
		for _, tc := range refusals {
			audits := e.count(t, "audit_log")
			r := e.withdraw(t, tc.tok, tc.item, tc.version, tc.note)
			if r.Status != tc.status {
				t.Fatalf("%s: %d, want %d: %s", tc.name, r.Status, tc.status, r.Body)
			}
			if tc.field != "" && !r.problem(t).hasField(tc.field) {
				t.Fatalf("%s: want a refusal naming %s: %s", tc.name, tc.field, r.Body)
			}
			var p refusalZH
			if r.json(t, &p); tc.stateZH != "" && !strings.Contains(p.DetailZH, tc.stateZH) {
				t.Fatalf("%s: want a refusal naming the state %s: %s", tc.name, tc.stateZH, r.Body)
			}
			if e.count(t, "audit_log") != audits {
				t.Fatalf("%s: a refused withdrawal was written", tc.name)
			}
		}

		r := e.withdraw(t, insp, item.ID, 1, reason)
		if r.Status != http.StatusOK {
			t.Fatalf("withdraw: %d %s", r.Status, r.Body)
		}
		var got wire.RectificationDetail
		r.json(t, &got)
		last := got.History[len(got.History)-1]
		if got.Status != "withdrawn" || got.State != "withdrawn" || got.StateLabel != "已撤销" || len(got.AllowedActions) != 0 ||
			got.WithdrawReason != reason || got.WithdrawnBy == nil || *got.WithdrawnBy != e.inspector.ID || got.WithdrawnAt == nil ||
			got.ClosedAt != nil {
			t.Fatalf("withdrawn: %+v", got.Rectification)
		}
		if last.Action != "withdraw" || last.ActionLabel != "撤销" || last.From != "open" || last.To != "withdrawn" || last.Note != reason ||
			last.By != e.inspector.ID {
			t.Fatalf("the history's last step: %+v", last)
		}
		r = e.withdraw(t, admin, item.ID, 2, reason)
		var again refusalZH
		if r.json(t, &again); r.Status != http.StatusConflict || again.Reason != "invalid_transition" || !strings.Contains(again.DetailZH, "已撤销") {
			t.Fatalf("withdrawn twice: %d %s", r.Status, r.Body)
		}

		if r := correct(); r.Status != http.StatusOK {
			t.Fatalf("the correction to no problem once the item is withdrawn: %d %s", r.Status, r.Body)
		}
		if ids := ids(e.ledgerItems(t, sup, "?status=withdrawn")); len(ids) != 1 || ids[0] != item.ID {
			t.Fatalf("listed as withdrawn: %v", ids)
		}
		for _, state := range []string{"open", "overdue", "closed"} {
			for _, id := range ids(e.ledgerItems(t, sup, "?status="+state)) {
				if id == item.ID {
					t.Fatalf("the withdrawn item is listed as %s", state)
				}
			}
		}
		rows := xlsxRows(t, e.do(t, "GET", "/api/v1/exports/rectifications?status=withdrawn", sup, nil).Body)
		if len(rows) != 4 || rows[3][9] != "已撤销" || rows[3][10] != "已撤销："+reason || (len(rows[3]) > 11 && rows[3][11] != "") {
			t.Fatalf("the exported ledger: %q", rows)
		}

		// The problem is found again: the finding takes a new item.
		f, _ := e.findingOf(t, insp, c.ID, hA)
		if r := e.do(t, "PUT", path, insp, map[string]any{"answers": recalled(0), "version": f.Version}); r.Status != http.StatusOK {
			t.Fatalf("the problem recorded again: %d %s", r.Status, r.Body)
		}
		e.rectify(t, insp, itemBody)
		var rep wire.InspectionReport
		e.do(t, "GET", "/api/v1/inspections/"+c.ID.String()+"/report", admin, nil).json(t, &rep)
		if rc := rep.Rectifications; rc.Total != 1 || rc.Open != 1 || rc.Withdrawn != 1 || rc.Overdue != 0 {
			t.Fatalf("the report counts %+v, want the new item open and the withdrawn one apart", rc)
		}
	})
}
