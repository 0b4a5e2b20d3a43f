package app

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/wire"
)

// TestExitCandidatesCountFollowsEveryWrite: the count of qualifying
// households the candidates list gives on every page is judged once while
// nothing changes, and after each kind of write that changes a verdict the
// next request — first page or a later one — counts it: a visit's
// checklist answers, an income account, a risk warning opened and
// resolved, the year's exit standard, a household exited and one
// registered. Every page's count is checked against the verdicts of the
// pages' own households, which are judged afresh on each request.
func TestExitCandidatesCountFollowsEveryWrite(t *testing.T) {
	dialectsAt(t, caseworkClock, func(t *testing.T, e *testEnv) {
		admin, supervisor, cadre := e.login(t, "admin"), e.login(t, "supervisor-a"), e.login(t, "cadre-a")
		now := e.app.Now()
		hA, hB := e.householdA.Household.ID, e.addHousehold(t, e.villageA, "钱七", "41012219700101030").Household.ID
		hC := e.addHousehold(t, e.villageA, "孙八", "41012219700101048").Household.ID
		for _, h := range []uuid.UUID{hB, hC} {
			e.pair(t, h, e.cadreA.ID)
		}
		qualify(t, e, hA)
		qualify(t, e, hB)
		visit := func(h uuid.UUID, minutesAgo int, problem string, triggers ...string) map[string]any {
			v := checkedVisit(h, now)
			v["data"].(map[string]any)["started_at"] = now.Add(-time.Duration(minutesAgo) * time.Minute).Format(time.RFC3339)
			v["data"].(map[string]any)["ended_at"] = now.Add(-time.Duration(minutesAgo-10) * time.Minute).Format(time.RFC3339)
			if problem != "" {
				v["data"].(map[string]any)["checklist"].(map[string]any)[problem] = map[string]any{"answer": "problem", "note": "未落实"}
			}
			ts := []any{}
			for _, code := range triggers {
				ts = append(ts, map[string]any{"code": code, "note": "户主确诊大病"})
			}
			v["data"].(map[string]any)["risk_triggers"] = ts
			return v
		}
		push := func(v map[string]any) { e.push(t, cadre, uuid.NewString(), batch("phone-a", now, v)).pushResult(t) }
		ok := func(r response, what string) {
			t.Helper()
			if r.Status != http.StatusOK && r.Status != http.StatusCreated {
				t.Fatalf("%s: %d %s", what, r.Status, r.Body)
			}
		}
		householdVersion := func(h uuid.UUID) int64 {
			var f wire.HouseholdFile
			e.do(t, "GET", "/api/v1/households/"+h.String(), supervisor, nil).json(t, &f)
			return f.Version
		}
		// counted pages through the list one household a page: every page
		// must say the number of the pages' households that qualify.
		counted := func(after string) int64 {
			t.Helper()
			qualifying, said := e.candidatePages(t, supervisor, e.villageA.ID, 1)
			for i, n := range said {
				if n != qualifying {
					t.Errorf("%s: page %d of %d says %d qualify, the pages hold %d", after, i+1, len(said), n, qualifying)
				}
			}
			return qualifying
		}
		want := counted("the households qualified")
		if want < 2 {
			t.Fatalf("%d qualify before the writes, want the two made to", want)
		}
		var warning wire.RiskWarning
		var edge uuid.UUID
		for _, tc := range []struct {
			name  string
			write func()
			delta int64
		}{
			{"a visit answering every item, no income yet", func() { push(visit(hC, 100, "")) }, 0},
			{"an income account", func() {
				ok(e.do(t, "PUT", incomeAccountPath(hC, 2026), supervisor, map[string]any{"version": 0, "wages_fen": 333_500}), "account")
			}, +1},
			{"a visit's checklist answers", func() { push(visit(hB, 60, "medical")) }, -1},
			{"a risk warning opened", func() { push(visit(hA, 60, "", "serious_illness")) }, -1},
			{"the risk warning resolved", func() {
				ws := e.warningsOf(t, "supervisor-a", "?state=open&household_id="+hA.String())
				if len(ws) != 1 {
					t.Fatalf("%d open warnings, want 1", len(ws))
				}
				warning = ws[0]
				ok(e.do(t, "POST", "/api/v1/risk-warnings/"+warning.ID.String()+"/resolve", supervisor,
					map[string]any{"version": warning.Version, "resolution": "cleared", "note": "风险已消除"}), "resolve")
			}, +1},
			{"the year's exit standard edited", func() {
				incomeOnly := map[string]any{"version": 0, "per_capita_fen": 333_500, "poverty_line_fen": 280_000, "stable_years": 1,
					"indicators": []map[string]any{{"code": "income", "name_zh": "人均纯收入稳定超过脱贫标准", "check": "income"}}}
				ok(e.do(t, "PUT", "/api/v1/exit-standards/2026", admin, incomeOnly), "standard")
			}, +1}, // hB's medical problem no longer counts
			{"a household exited", func() {
				ok(e.do(t, "POST", "/api/v1/households/"+hC.String()+"/status", supervisor, map[string]any{
					"version": householdVersion(hC), "status": "exited", "exit_year": 2026, "effective_on": "2026-06-30"}), "exit")
			}, -1},
			{"an edge household with an income account", func() {
				var created wire.HouseholdFile
				r := e.do(t, "POST", "/api/v1/households", supervisor, map[string]any{"region_id": e.villageA.ID, "head_name": "周九", "status": "edge",
					"members": []map[string]any{{"name": "周九", "relation": "head", "id_number": validID("41012219800101056")}}})
				ok(r, "edge household")
				r.json(t, &created)
				edge = created.ID
				ok(e.do(t, "PUT", incomeAccountPath(edge, 2026), supervisor, map[string]any{"version": 0, "wages_fen": 400_000}), "edge account")
			}, 0},
			{"the edge household registered", func() {
				ok(e.do(t, "POST", "/api/v1/households/"+edge.String()+"/status", supervisor, map[string]any{
					"version": householdVersion(edge), "status": "registered", "poverty_type": "ordinary", "effective_on": "2026-08-15"}), "register")
			}, +1},
		} {
			tc.write()
			want += tc.delta
			if got := counted("after " + tc.name); got != want {
				t.Errorf("after %s: %d qualify, want %d", tc.name, got, want)
			}
		}
	})
}
