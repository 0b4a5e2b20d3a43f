package app

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/casework"
	"github.com/fieldvisit/fieldvisit/wire"
)

// warnedHousehold is a household of village A with the given status,
// paired with village A's cadre, whose phone recorded a visit there with
// the triggers; it returns the household, the visit change as pushed and
// the warnings the household has.
func (e *testEnv) warnedHousehold(t *testing.T, status, head, id17 string, triggers ...string) (domain.Household, map[string]any, []wire.RiskWarning) {
	t.Helper()
	h := e.fixture.AddHouseholdWithStatus(t, e.app.Registry, e.villageA, head, id17, status).Household
	e.pair(t, h.ID, e.cadreA.ID)
	v := visitWithTriggers(h.ID, triggers...)
	res := e.push(t, e.login(t, "cadre-a"), "warn-"+uuid.NewString()[:8], batch("phone-a", time.Now(), v)).pushResult(t).Results[0]
	if res.Status != wire.StatusApplied {
		t.Fatalf("visit with triggers: %+v", res)
	}
	return h, v, e.warningsOf(t, "supervisor-a", "?household_id="+h.ID.String())
}

func visitWithTriggers(household uuid.UUID, triggers ...string) map[string]any {
	v := visitChange(uuid.New(), household, "入户了解情况", 34.7)
	ts := []any{}
	for _, code := range triggers {
		ts = append(ts, map[string]any{"code": code, "note": "走访发现"})
	}
	v["data"].(map[string]any)["risk_triggers"] = ts
	return v
}

func (e *testEnv) warningsOf(t *testing.T, who, query string) []wire.RiskWarning {
	t.Helper()
	var page wire.Page[wire.RiskWarning]
	r := e.do(t, "GET", "/api/v1/risk-warnings"+query, e.login(t, who), nil)
	if r.Status != http.StatusOK {
		t.Fatalf("risk warnings%s as %s: %d %s", query, who, r.Status, r.Body)
	}
	r.json(t, &page)
	return page.Items
}

func (e *testEnv) status(t *testing.T, h uuid.UUID) wire.HouseholdFile {
	t.Helper()
	var f wire.HouseholdFile
	e.do(t, "GET", "/api/v1/households/"+h.String(), e.login(t, "supervisor-a"), nil).json(t, &f)
	return f
}

// TestRiskTriggersPutHouseholdsOnTheLists: a trigger at a general household
// puts it on the edge list, at an exited one on the watch list, at a
// registered one on the register list (open, it holds the household's
// exit: TestAnExitNeedsAHouseholdThatQualifies); the same visit pushed
// again raises nothing more. The town's supervisors see them by list;
// another village's supervisor sees none and gets 404 resolving one, a
// cadre 403 (resolving is managers' work). Resolutions that move a status
// go through the register: a relapse without its cause is 422 and moves
// nothing; with it, the status history keeps the cause.
func TestRiskTriggersPutHouseholdsOnTheLists(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		general, visit, edge := e.warnedHousehold(t, domain.StatusGeneral, "边缘甲", "41012219850615101", "serious_illness", "disaster")
		exited, _, watch := e.warnedHousehold(t, domain.StatusExited, "脱贫乙", "41012219850615102", "job_loss")
		if len(edge) != 2 || edge[0].List != "edge" || edge[0].State != "open" || edge[0].HeadName != "边缘甲" {
			t.Fatalf("general household: want two open edge warnings, got %+v", edge)
		}
		if len(watch) != 1 || watch[0].List != "watch" || watch[0].Trigger != "job_loss" || watch[0].TriggerLabel != "失业/务工中断" ||
			watch[0].SeenOn.String() != "2026-11-20" || watch[0].CadreID != e.cadreA.ID {
			t.Fatalf("exited household: want one watch warning of the visit's day and cadre, got %+v", watch)
		}
		registered := visitWithTriggers(e.householdA.Household.ID, "income_drop")
		e.push(t, e.login(t, "cadre-a"), "warn-registered", batch("phone-a", time.Now(), registered)).pushResult(t)
		inRegister := e.warningsOf(t, "supervisor-a", "?household_id="+e.householdA.Household.ID.String())
		if len(inRegister) != 1 || inRegister[0].List != "register" || inRegister[0].Trigger != "income_drop" || inRegister[0].State != "open" {
			t.Fatalf("a registered household: want one open register warning, got %+v", inRegister)
		}
		if res := e.push(t, e.login(t, "cadre-a"), "warn-again", batch("phone-a", time.Now(), visit)).pushResult(t).Results[0]; res.Status != wire.StatusDuplicate {
			t.Fatalf("the visit sent again: %+v", res)
		}
		for _, tc := range []struct {
			who, query string
			want       int
		}{
			{"supervisor-a", "?list=edge", 2}, {"supervisor-a", "?list=watch", 1}, {"supervisor-a", "?list=register", 1}, {"supervisor-a", "?state=open", 4},
			{"supervisor-a", "?region_id=" + e.villageA.ID.String(), 4}, {"admin", "", 4}, {"supervisor-b", "", 0},
		} {
			if got := e.warningsOf(t, tc.who, tc.query); len(got) != tc.want {
				t.Errorf("%s lists %s: want %d warnings, got %d", tc.who, tc.query, tc.want, len(got))
			}
		}
		if r := e.do(t, "GET", "/api/v1/risk-warnings", e.login(t, "cadre-a"), nil); r.Status != http.StatusForbidden {
			t.Errorf("a cadre lists warnings: want 403, got %d", r.Status)
		}
		resolve := func(who string, w wire.RiskWarning, body map[string]any) response {
			body["version"] = w.Version
			return e.do(t, "POST", "/api/v1/risk-warnings/"+w.ID.String()+"/resolve", e.login(t, who), body)
		}
		before := e.counts(t)
		for who, want := range map[string]int{"supervisor-b": http.StatusNotFound, "cadre-b": http.StatusForbidden, "cadre-a": http.StatusForbidden} {
			if r := resolve(who, watch[0], map[string]any{"resolution": "cleared", "note": "x"}); r.Status != want {
				t.Errorf("%s resolves village A's warning: want %d, got %d %s", who, want, r.Status, r.Body)
			}
		}
		for _, tc := range []struct {
			name  string
			w     wire.RiskWarning
			body  map[string]any
			field string
		}{
			{"relapse without its cause", watch[0], map[string]any{"resolution": "relapsed"}, "/cause"},
			{"relapse with an unknown cause", watch[0], map[string]any{"resolution": "relapsed", "cause": "bad_luck"}, "/cause"},
			{"cleared without a note", edge[0], map[string]any{"resolution": "cleared"}, "/note"},
			{"a general household cannot relapse", edge[0], map[string]any{"resolution": "relapsed", "cause": "disaster"}, "/resolution"},
			{"unknown resolution", edge[0], map[string]any{"resolution": "ignored"}, "/resolution"},
			{"a registered household cannot become edge", inRegister[0], map[string]any{"resolution": "edge"}, "/resolution"},
		} {
			if r := resolve("supervisor-a", tc.w, tc.body); r.Status != http.StatusUnprocessableEntity || !r.problem(t).hasField(tc.field) {
				t.Errorf("%s: want 422 naming %s, got %d %s", tc.name, tc.field, r.Status, r.Body)
			}
		}
		sameCounts(t, before, e.counts(t))
		if f := e.status(t, exited.ID); f.Household.Status != domain.StatusExited {
			t.Fatalf("a refused relapse moved the household to %s", f.Household.Status)
		}
		var done wire.RiskWarning
		if r := resolve("supervisor-a", watch[0], map[string]any{"resolution": "relapsed", "cause": "job_loss", "note": "务工中断后无收入"}); r.Status != http.StatusOK {
			t.Fatalf("relapse: %d %s", r.Status, r.Body)
		} else if r.json(t, &done); done.State != "resolved" || done.Cause != "job_loss" {
			t.Fatalf("relapse: %+v", done)
		}
		f := e.status(t, exited.ID)
		last := f.StatusHistory[len(f.StatusHistory)-1]
		if f.Household.Status != domain.StatusRelapsed || last.To != domain.StatusRelapsed || last.Cause != "job_loss" {
			t.Fatalf("after the relapse: status %s, last change %+v", f.Household.Status, last)
		}
		if r := resolve("supervisor-a", done, map[string]any{"resolution": "cleared", "note": "x"}); r.Status != http.StatusConflict {
			t.Errorf("resolving twice: want 409, got %d %s", r.Status, r.Body)
		}
		if r := resolve("supervisor-a", edge[0], map[string]any{"resolution": "edge"}); r.Status != http.StatusOK {
			t.Fatalf("to edge: %d %s", r.Status, r.Body)
		}
		if f := e.status(t, general.ID); f.Household.Status != domain.StatusEdge {
			t.Fatalf("to edge: the household is %s", f.Household.Status)
		}
		if r := resolve("supervisor-a", edge[1], map[string]any{"resolution": "cleared", "note": "已获临时救助"}); r.Status != http.StatusOK {
			t.Fatalf("cleared: %d %s", r.Status, r.Body)
		}
		if r := resolve("supervisor-a", inRegister[0], map[string]any{"resolution": "cleared", "note": "产业分红恢复"}); r.Status != http.StatusOK {
			t.Fatalf("cleared in the register: %d %s", r.Status, r.Body)
		}
		if open := e.warningsOf(t, "supervisor-a", "?state=open"); len(open) != 0 {
			t.Fatalf("open warnings left: %+v", open)
		}
	})
}

// TestRelapseNeedsItsCause: the register's own status route asks a
// relapse for its cause from the vocabulary, and keeps it in the history.
func TestRelapseNeedsItsCause(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		h := e.fixture.AddHouseholdWithStatus(t, e.app.Registry, e.villageA, "脱贫丙", "41012219850615103", domain.StatusExited).Household
		tok := e.login(t, "supervisor-a")
		path := "/api/v1/households/" + h.ID.String() + "/status"
		for _, tc := range []struct {
			name   string
			body   map[string]any
			reason string
		}{
			{"no cause", map[string]any{"status": "relapsed"}, "required"},
			{"unknown cause", map[string]any{"status": "relapsed", "cause": "bad_luck"}, "invalid_enum"},
		} {
			tc.body["version"], tc.body["effective_on"] = h.Version, "2026-11-01"
			if r := e.do(t, "POST", path, tok, tc.body); r.Status != http.StatusUnprocessableEntity || !r.problem(t).hasFieldReason("/cause", tc.reason) {
				t.Errorf("%s: want 422 at /cause (%s), got %d %s", tc.name, tc.reason, r.Status, r.Body)
			}
		}
		r := e.do(t, "POST", path, tok, map[string]any{"version": h.Version, "status": "relapsed", "cause": "serious_illness", "effective_on": "2026-11-01"})
		var f wire.HouseholdFile
		if r.json(t, &f); r.Status != http.StatusOK || f.StatusHistory[len(f.StatusHistory)-1].Cause != "serious_illness" {
			t.Fatalf("relapse with its cause: %d %s", r.Status, r.Body)
		}
	})
}

// TestVisitCaseworkFieldsAreJudgedOnCreateAndEdit: a bad risk trigger or
// income update is refused at its pointer on a visit's create and on its
// edit alike, and nothing of the change is written.
func TestVisitCaseworkFieldsAreJudgedOnCreateAndEdit(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		tok := e.login(t, "cadre-a")
		hA := e.householdA.Household.ID
		stored := uuid.New()
		e.push(t, tok, "cw-stored", batch("phone-a", time.Now(), visitChange(stored, hA, "先存一条", 34.7))).pushResult(t)
		trig := func(code string) []any { return []any{map[string]any{"code": code, "note": ""}} }
		income := func(source string, fen int64) []any {
			return []any{map[string]any{"source": source, "amount_fen": fen}}
		}
		// A visit in a year no account route takes (2013 to next year).
		farYear := map[string]any{"started_at": "2099-06-01T09:00:00+08:00", "ended_at": "2099-06-01T10:00:00+08:00"}
		for _, tc := range []struct {
			name, field string
			value       any
			pointer     string
			reason      string
			also        map[string]any // more of the visit's data
		}{
			{"unknown trigger", "risk_triggers", trig("bad_luck"), "/risk_triggers/0/code", "invalid_enum", nil},
			{"trigger twice", "risk_triggers", append(trig("disaster"), trig("disaster")...), "/risk_triggers/1/code", "duplicate", nil},
			{"trigger without code", "risk_triggers", []any{map[string]any{"note": "x"}}, "/risk_triggers/0/code", "invalid_enum", nil},
			{"unknown income source", "income_updates", income("lottery", 100), "/income_updates/0/source", "invalid_enum", nil},
			{"zero amount", "income_updates", income("wages", 0), "/income_updates/0/amount_fen", "out_of_range", nil},
			{"negative amount", "income_updates", income("costs", -5), "/income_updates/0/amount_fen", "out_of_range", nil},
			{"amount beyond 100 million yuan", "income_updates", income("wages", 10_000_000_001), "/income_updates/0/amount_fen", "out_of_range", nil},
			{"income updates dated past next year", "income_updates", income("wages", 100), "/income_updates", "out_of_range", farYear},
			{"measure twice", "measures", []any{"medical", "medical"}, "/measures/1", "duplicate", nil},
			{"a visit after 2100", "started_at", "2101-01-01T09:00:00+08:00", "/started_at", "out_of_range", nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := e.counts(t)
				create := visitChange(uuid.New(), hA, "新走访", 34.7)
				create["data"].(map[string]any)[tc.field] = tc.value
				update := map[string]any{"entity": "visit", "op": "update", "id": stored, "base_version": 1, "data": map[string]any{tc.field: tc.value}}
				for k, v := range tc.also {
					create["data"].(map[string]any)[k] = v
					update["data"].(map[string]any)[k] = v
				}
				out := e.push(t, tok, "cw-"+uuid.NewString()[:8], batch("phone-a", time.Now(), create, update)).pushResult(t)
				for i, res := range out.Results {
					want := "/changes/" + string(rune('0'+i)) + "/data" + tc.pointer
					if res.Status != wire.StatusRejected || !hasFieldError(res, want, tc.reason) {
						t.Fatalf("change %d: want rejected naming %s (%s), got %+v", i, want, tc.reason, res)
					}
				}
				sameCounts(t, before, e.counts(t))
			})
		}
	})
}

// TestIncomeUpdatesFromVisits: a visit's income updates add to the account
// of its year once — the visit pushed twice counts once; an edit adds the
// difference, merging with an office edit of another line made meanwhile;
// a delete takes them back.
func TestIncomeUpdatesFromVisits(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		tok := e.login(t, "cadre-a")
		hA := e.householdA.Household.ID
		account := func() wire.IncomeAccount {
			var a wire.IncomeAccount
			if r := e.do(t, "GET", "/api/v1/households/"+hA.String()+"/income-accounts/2026", tok, nil); r.Status != http.StatusOK {
				t.Fatalf("account: %d %s", r.Status, r.Body)
			} else {
				r.json(t, &a)
			}
			return a
		}
		id := uuid.New()
		v := visitChange(id, hA, "务工增收", 34.7)
		v["data"].(map[string]any)["income_updates"] = []any{
			map[string]any{"source": "wages", "amount_fen": 300_000, "note": "外出务工三个月"},
			map[string]any{"source": "costs", "amount_fen": 20_000, "note": "购买种苗"},
		}
		for i, key := range []string{"income-1", "income-2"} {
			res := e.push(t, tok, key, batch("phone-a", time.Now(), v)).pushResult(t).Results[0]
			if want := []string{wire.StatusApplied, wire.StatusDuplicate}[i]; res.Status != want {
				t.Fatalf("push %d: want %s, got %+v", i, want, res)
			}
			if a := account(); a.WagesFen != 300_000 || a.CostsFen != 20_000 || a.MembersCounted != 1 {
				t.Fatalf("after push %d: %+v", i, a)
			}
		}
		a := account()
		if r := e.do(t, "PUT", "/api/v1/households/"+hA.String()+"/income-accounts/2026", e.login(t, "supervisor-a"),
			map[string]any{"version": a.Version, "wages_fen": a.WagesFen, "costs_fen": a.CostsFen, "pensions_fen": 120_000, "members_counted": 1}); r.Status != http.StatusOK {
			t.Fatalf("office edit: %d %s", r.Status, r.Body)
		}
		edit := map[string]any{"entity": "visit", "op": "update", "id": id, "base_version": 1, "data": map[string]any{"income_updates": []any{
			map[string]any{"source": "wages", "amount_fen": 450_000, "note": "外出务工三个月（更正）"}}}}
		if res := e.push(t, tok, "income-edit", batch("phone-a", time.Now(), edit)).pushResult(t).Results[0]; res.Status != wire.StatusApplied {
			t.Fatalf("edit: %+v", res)
		}
		if a := account(); a.WagesFen != 450_000 || a.CostsFen != 0 || a.PensionsFen != 120_000 {
			t.Fatalf("after the edit: %+v", a)
		}
		del := map[string]any{"entity": "visit", "op": "delete", "id": id, "base_version": 2}
		if res := e.push(t, tok, "income-delete", batch("phone-a", time.Now(), del)).pushResult(t).Results[0]; res.Status != wire.StatusApplied {
			t.Fatalf("delete: %+v", res)
		}
		if a := account(); a.WagesFen != 0 || a.PensionsFen != 120_000 {
			t.Fatalf("after the delete: %+v", a)
		}
	})
}

// pulledIncomeAccount is the latest state of an account in a pull.
func pulledIncomeAccount(t *testing.T, changes []wire.PulledChange, id uuid.UUID) (*wire.IncomeAccount, int64) {
	t.Helper()
	return pulledRecord[wire.IncomeAccount](t, changes, wire.EntityIncomeAccount, id)
}

// TestIncomeAccountsAreInThePairedCadresPull: a fresh pull carries the
// household's accounts; an office edit and a visit's income update reach
// the phone in its next pull; another village's cadre never gets them.
func TestIncomeAccountsAreInThePairedCadresPull(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		hA := e.householdA.Household.ID
		path := "/api/v1/households/" + hA.String() + "/income-accounts/"
		office := e.login(t, "supervisor-a")
		if r := e.do(t, "PUT", path+"2025", office, map[string]any{"version": 0, "wages_fen": 500_000}); r.Status != http.StatusOK {
			t.Fatalf("account: %d %s", r.Status, r.Body)
		}
		id2025, id2026 := casework.IncomeAccountID(hA, 2025), casework.IncomeAccountID(hA, 2026)
		tok := e.login(t, "cadre-a")
		for _, limit := range []int{1, 50} {
			fresh, _ := e.pullAll(t, tok, "", limit)
			if a, v := pulledIncomeAccount(t, fresh, id2025); a == nil || v != 1 || a.WagesFen != 500_000 || a.PerCapitaFen != 500_000 {
				t.Fatalf("fresh pull (limit %d): %+v v%d", limit, a, v)
			}
		}
		_, cursor := e.pullAll(t, tok, "", 50)
		if r := e.do(t, "PUT", path+"2025", office, map[string]any{"version": 1, "wages_fen": 600_000}); r.Status != http.StatusOK {
			t.Fatalf("office edit: %d %s", r.Status, r.Body)
		}
		v := visitChange(uuid.New(), hA, "分红到账", 34.7)
		v["data"].(map[string]any)["income_updates"] = []any{map[string]any{"source": "property", "amount_fen": 80_000, "note": "光伏分红"}}
		e.push(t, tok, "pull-income", batch("phone-a", time.Now(), v)).pushResult(t)
		more, _ := e.pullAll(t, tok, cursor, 50)
		if a, v := pulledIncomeAccount(t, more, id2025); a == nil || v != 2 || a.WagesFen != 600_000 {
			t.Fatalf("incremental pull, the office's edit: %+v v%d", a, v)
		}
		if a, v := pulledIncomeAccount(t, more, id2026); a == nil || v != 1 || a.PropertyFen != 80_000 {
			t.Fatalf("incremental pull, the visit's update: %+v v%d", a, v)
		}
		other, _ := e.pullAll(t, e.login(t, "cadre-b"), "", 50)
		if a, _ := pulledIncomeAccount(t, other, id2025); a != nil {
			t.Fatalf("another village's cadre pulled the account: %+v", a)
		}
	})
}
