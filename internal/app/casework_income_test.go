package app

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/casework"
	"github.com/fieldvisit/fieldvisit/wire"
)

// caseworkClock stands the casework tests in mid-August 2026.
var caseworkClock = time.Date(2026, time.August, 15, 10, 0, 0, 0, domain.Shanghai)

func incomeAccountPath(household uuid.UUID, year int) string {
	return fmt.Sprintf("/api/v1/households/%s/income-accounts/%d", household, year)
}

// incomeChange is an income_account change of a push.
func incomeChange(op string, household uuid.UUID, year int, baseVersion int64, data map[string]any) map[string]any {
	data["year"] = year
	ch := map[string]any{"entity": "income_account", "op": op, "id": casework.IncomeAccountID(household, year), "household_id": household, "data": data}
	if baseVersion > 0 {
		ch["base_version"] = baseVersion
	}
	return ch
}

// TestIncomeAccountRoutes: the paired cadre writes a year's account and
// reads back its sums; every bad amount is a 422 naming the field and
// writes nothing; stale versions are 409; other villages' cadres and
// supervisors do not see it, inspectors do not write it.
func TestIncomeAccountRoutes(t *testing.T) {
	dialectsAt(t, caseworkClock, func(t *testing.T, e *testEnv) {
		cadre, supervisor := e.login(t, "cadre-a"), e.login(t, "supervisor-a")
		hA := e.householdA.Household.ID
		path := incomeAccountPath(hA, 2026)
		good := func(version int64) map[string]any {
			return map[string]any{"version": version, "wages_fen": 1_200_000, "business_fen": 300_000, "transfers_fen": 50_000, "pensions_fen": 80_000,
				"property_fen": 40_000, "costs_fen": 120_000, "notes": "光伏分红400元"}
		}
		with := func(k string, v any) map[string]any { b := good(0); b[k] = v; return b }
		for _, tc := range []struct {
			name, token, path string
			body              map[string]any
			status            int
			field             string
		}{
			{"negative wages", cadre, path, with("wages_fen", -1), http.StatusUnprocessableEntity, "/wages_fen"},
			{"costs beyond the limit", cadre, path, with("costs_fen", 10_000_000_001), http.StatusUnprocessableEntity, "/costs_fen"},
			{"31 members", cadre, path, with("members_counted", 31), http.StatusUnprocessableEntity, "/members_counted"},
			{"a year before the register", cadre, incomeAccountPath(hA, 2012), good(0), http.StatusUnprocessableEntity, "/year"},
			{"yuan as a float", cadre, path, with("wages_fen", 12.5), http.StatusUnprocessableEntity, "/wages_fen"},
			{"an update of an account not yet written", cadre, path, good(3), http.StatusConflict, ""},
			{"an inspector", e.login(t, "inspector"), path, good(0), http.StatusForbidden, ""},
			{"another village's cadre", e.login(t, "cadre-b"), path, good(0), http.StatusNotFound, ""},
			{"another village's supervisor", e.login(t, "supervisor-b"), path, good(0), http.StatusNotFound, ""},
		} {
			r := e.do(t, "PUT", tc.path, tc.token, tc.body)
			if r.Status != tc.status {
				t.Errorf("%s: %d %s, want %d", tc.name, r.Status, r.Body, tc.status)
				continue
			}
			if tc.field != "" && !r.problem(t).hasField(tc.field) {
				t.Errorf("%s: %s does not name %s", tc.name, r.Body, tc.field)
			}
		}
		if n := e.count(t, "income_accounts"); n != 0 {
			t.Fatalf("refused writes left %d accounts", n)
		}

		var a wire.IncomeAccount
		r := e.do(t, "PUT", path, cadre, good(0))
		r.json(t, &a)
		// One member in the register: the whole net is per capita.
		if r.Status != http.StatusOK || a.Version != 1 || a.GrossFen != 1_670_000 || a.NetFen != 1_550_000 || a.MembersCounted != 1 ||
			a.PerCapitaFen != 1_550_000 || a.ID != casework.IncomeAccountID(hA, 2026) {
			t.Fatalf("first write: %d %s", r.Status, r.Body)
		}
		if r := e.do(t, "PUT", path, supervisor, good(0)); r.Status != http.StatusConflict {
			t.Errorf("a second create over version 1: %d", r.Status)
		}
		loss := with("costs_fen", 2_000_000)
		loss["version"], loss["members_counted"] = 1, 3
		r = e.do(t, "PUT", path, supervisor, loss)
		r.json(t, &a)
		if r.Status != http.StatusOK || a.Version != 2 || a.NetFen != -330_000 || a.PerCapitaFen != -110_000 {
			t.Fatalf("a loss-making year: %d %s", r.Status, r.Body)
		}
		e.do(t, "PUT", incomeAccountPath(hA, 2025), cadre, good(0))
		var list struct {
			Items []wire.IncomeAccount `json:"items"`
		}
		r = e.do(t, "GET", "/api/v1/households/"+hA.String()+"/income-accounts", e.login(t, "inspector"), nil)
		if r.Status != http.StatusNotFound {
			t.Errorf("an inspector without a task there reads the accounts: %d", r.Status)
		}
		e.do(t, "GET", "/api/v1/households/"+hA.String()+"/income-accounts", supervisor, nil).json(t, &list)
		if len(list.Items) != 2 || list.Items[0].Year != 2026 || list.Items[1].Year != 2025 {
			t.Errorf("history by year: %+v", list.Items)
		}
		if r := e.do(t, "GET", incomeAccountPath(hA, 2024), supervisor, nil); r.Status != http.StatusNotFound {
			t.Errorf("a year without an account: %d", r.Status)
		}
		if r := e.do(t, "GET", incomeAccountPath(hA, 2026), e.login(t, "supervisor-b"), nil); r.Status != http.StatusNotFound {
			t.Errorf("another village's supervisor reads the account: %d", r.Status)
		}
	})
}

// TestIncomeAccountSyncsOffline: two phones each start the same year's
// account offline; the second merges into the first, the overlapping value
// kept as a conflict; a later edit from an older version merges field by
// field; bad values and a made-up id are refused with the field named.
func TestIncomeAccountSyncsOffline(t *testing.T) {
	dialectsAt(t, caseworkClock, func(t *testing.T, e *testEnv) {
		cadre := e.login(t, "cadre-a")
		hA := e.householdA.Household.ID
		now := e.app.Now()
		first := e.push(t, cadre, uuid.NewString(), batch("phone-1", now,
			incomeChange("create", hA, 2026, 0, map[string]any{"wages_fen": 100_000, "property_fen": 40_000}))).pushResult(t)
		second := e.push(t, cadre, uuid.NewString(), batch("phone-2", now,
			incomeChange("create", hA, 2026, 0, map[string]any{"wages_fen": 90_000, "costs_fen": 5_000}))).pushResult(t)
		if first.Results[0].Status != wire.StatusApplied || second.Results[0].Status != "conflict" || len(second.Results[0].ConflictIDs) != 1 {
			t.Fatalf("two creates: %+v then %+v", first.Results, second.Results)
		}
		var a wire.IncomeAccount
		e.do(t, "GET", incomeAccountPath(hA, 2026), cadre, nil).json(t, &a)
		if a.Version != 2 || a.WagesFen != 90_000 || a.CostsFen != 5_000 || a.PropertyFen != 40_000 {
			t.Fatalf("after both phones: %+v", a)
		}
		var conflicts struct {
			Items []struct {
				Entity    string `json:"entity"`
				Field     string `json:"field"`
				LostValue any    `json:"lost_value"`
			} `json:"items"`
		}
		e.do(t, "GET", "/api/v1/conflicts?household_id="+hA.String(), e.login(t, "supervisor-a"), nil).json(t, &conflicts)
		if !slices.ContainsFunc(conflicts.Items, func(c struct {
			Entity    string `json:"entity"`
			Field     string `json:"field"`
			LostValue any    `json:"lost_value"`
		}) bool {
			return c.Entity == "income_account" && c.Field == "wages_fen" && c.LostValue == float64(100_000)
		}) {
			t.Errorf("the lost wages are not kept for review: %+v", conflicts.Items)
		}

		// Phone 1 edits pensions from version 1: nobody else changed them.
		up := incomeChange("update", hA, 2026, 1, map[string]any{"pensions_fen": 80_000})
		up["base"] = map[string]any{"pensions_fen": 0}
		res := e.push(t, cadre, uuid.NewString(), batch("phone-1", now, up)).pushResult(t)
		if res.Results[0].Status != "merged" || res.Results[0].Version != 3 {
			t.Errorf("a non-overlapping edit from an old version: %+v", res.Results)
		}

		// The supervisor restores the wages phone 2 overwrote.
		if r := e.do(t, "POST", "/api/v1/conflicts/"+second.Results[0].ConflictIDs[0].String()+"/resolve", e.login(t, "supervisor-a"),
			map[string]any{"resolution": "restore_lost"}); r.Status != http.StatusOK {
			t.Fatalf("restore: %d %s", r.Status, r.Body)
		}
		e.do(t, "GET", incomeAccountPath(hA, 2026), cadre, nil).json(t, &a)
		if a.WagesFen != 100_000 || a.PensionsFen != 80_000 || a.Version != 4 {
			t.Errorf("after restoring the lost wages: %+v", a)
		}

		before := e.count(t, "income_accounts")
		wrongID := incomeChange("create", hA, 2025, 0, map[string]any{"wages_fen": 1})
		wrongID["id"] = uuid.New()
		for _, tc := range []struct {
			name   string
			change map[string]any
			field  string
		}{
			{"negative costs", incomeChange("create", hA, 2025, 0, map[string]any{"costs_fen": -5}), "/changes/0/data/costs_fen"},
			{"no year", map[string]any{"entity": "income_account", "op": "create", "id": uuid.New(), "household_id": hA, "data": map[string]any{"wages_fen": 1}},
				"/changes/0/data/year"},
			{"a made-up id", wrongID, "/changes/0/id"},
			{"an unknown field", incomeChange("create", hA, 2025, 0, map[string]any{"salary": 1}), "/changes/0/data/salary"},
			// The PUT's body screen refuses it at /notes; a push must too (a
			// NUL is more than PostgreSQL's text can hold).
			{"a NUL in the notes", incomeChange("create", hA, 2025, 0, map[string]any{"wages_fen": 1, "notes": "光伏\u0000分红"}), "/changes/0/data/notes"},
			{"an update with no account", incomeChange("update", hA, 2024, 1, map[string]any{"wages_fen": 1}), "/changes/0/id"},
			{"a delete", incomeChange("delete", hA, 2026, 3, map[string]any{}), "/changes/0/op"},
			{"another village's household", incomeChange("create", e.householdB.Household.ID, 2026, 0, map[string]any{"wages_fen": 1}),
				"/changes/0/household_id"},
		} {
			res := e.push(t, cadre, uuid.NewString(), batch("phone-1", now, tc.change)).pushResult(t)
			r := res.Results[0]
			if r.Status != wire.StatusRejected || !slices.ContainsFunc(r.Errors, func(f domain.FieldError) bool { return f.Field == tc.field }) {
				t.Errorf("%s: %+v, want rejected at %s", tc.name, r, tc.field)
			}
		}
		if n := e.count(t, "income_accounts"); n != before {
			t.Errorf("rejected changes wrote %d accounts", n-before)
		}
	})
}
