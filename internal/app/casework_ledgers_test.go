package app

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/casework"
	"github.com/fieldvisit/fieldvisit/wire"
)

// TestCaseworkLedgersRoundTrip: the income ledger (收入台账) and the exit
// ledger (脱贫退出台账), read back from the XLSX and the CSV, say what the
// API says: each account's sources, net and per-capita net to the fen,
// each procedure step's date. They are scoped as the visit 台账 is.
func TestCaseworkLedgersRoundTrip(t *testing.T) {
	dialectsAt(t, caseworkClock, func(t *testing.T, e *testEnv) {
		supervisor := e.login(t, "supervisor-a")
		hA := e.householdA.Household.ID
		var account wire.IncomeAccount
		r := e.do(t, "PUT", incomeAccountPath(hA, 2026), supervisor, map[string]any{"version": 0, "wages_fen": 1_200_001, "business_fen": 300_000,
			"transfers_fen": 5, "pensions_fen": 80_000, "property_fen": 40_000, "costs_fen": 120_000, "members_counted": 3, "notes": "=光伏分红"})
		r.json(t, &account)
		if r.Status != http.StatusOK {
			t.Fatalf("account: %d %s", r.Status, r.Body)
		}
		// An exit procedure half-way (the household meets the standard):
		// the review and the first notice.
		e.push(t, e.login(t, "cadre-a"), uuid.NewString(), batch("phone-a", e.app.Now(), checkedVisit(hA, e.app.Now()))).pushResult(t)
		var pr wire.Procedure
		e.do(t, "POST", "/api/v1/households/"+hA.String()+"/procedures", supervisor, map[string]any{"kind": "exit", "year": 2026}).json(t, &pr)
		review := procedureStep(1, "village_review", "2026-07-01")
		review["confirmed"] = []string{"livelihood", "agreement"}
		for _, body := range []map[string]any{review, procedureStep(2, "first_notice", "2026-07-02", "村公示-1", "村公示-2")} {
			if r := e.do(t, "POST", "/api/v1/procedures/"+pr.ID.String()+"/steps", supervisor, body); r.Status != http.StatusOK {
				t.Fatalf("step: %d %s", r.Status, r.Body)
			}
		}

		f := account
		povertyTypeLabel, _ := domain.PovertyTypes.Label(e.householdA.Household.PovertyType)
		wantIncome := []string{"1", "城关镇", "东风村", e.householdA.Household.Number, "张三", povertyTypeLabel, "在册未脱贫", "2026",
			casework.Yuan(f.WagesFen), casework.Yuan(f.BusinessFen), casework.Yuan(f.TransfersFen), casework.Yuan(f.PensionsFen),
			casework.Yuan(f.PropertyFen), casework.Yuan(f.CostsFen), casework.Yuan(f.NetFen), strconv.Itoa(f.MembersCounted),
			casework.Yuan(f.PerCapitaFen), "=光伏分红"}
		wantExit := []string{"1", "城关镇", "东风村", e.householdA.Household.Number, "张三", "脱贫退出", "2026", "进行中",
			"2026-07-01", "", "2026-07-02", "村公示-1、村公示-2", "", "", "", "", ""}
		for _, format := range []string{"xlsx", "csv"} {
			for _, tc := range []struct {
				path string
				want []string
			}{
				{"/api/v1/exports/income?year=2026&region_id=" + e.villageA.ID.String(), wantIncome},
				{"/api/v1/exports/exits?region_id=" + e.villageA.ID.String(), wantExit},
			} {
				r := e.do(t, "GET", tc.path+"&format="+format, supervisor, nil)
				if r.Status != http.StatusOK {
					t.Fatalf("%s %s: %d %s", format, tc.path, r.Status, r.Body)
				}
				var rows [][]string
				if format == "xlsx" {
					rows = xlsxRows(t, r.Body)
				} else {
					rows = csvRows(t, r.Body)
				}
				if len(rows) != 4 {
					t.Fatalf("%s %s: %d rows, want title, subtitle, headings and one line: %q", format, tc.path, len(rows), rows)
				}
				got := rows[3]
				for len(got) < len(tc.want) {
					got = append(got, "") // XLSX drops trailing empty cells
				}
				if format == "csv" && got[len(got)-1] == "'=光伏分红" {
					got[len(got)-1] = "=光伏分红" // CSV defuses a formula-looking note
				}
				if fmt.Sprint(got) != fmt.Sprint(tc.want) {
					t.Errorf("%s %s:\n got %q\nwant %q", format, tc.path, got, tc.want)
				}
			}
		}

		for _, tc := range []struct {
			name, token, path string
			status            int
		}{
			{"an inspector's income ledger", e.login(t, "inspector"), "/api/v1/exports/income", http.StatusForbidden},
			{"a cadre's exit ledger", e.login(t, "cadre-a"), "/api/v1/exports/exits", http.StatusForbidden},
			{"another village's supervisor", e.login(t, "supervisor-b"), "/api/v1/exports/income?region_id=" + e.villageA.ID.String(), http.StatusNotFound},
			{"another village's cadre", e.login(t, "cadre-b"), "/api/v1/exports/income?region_id=" + e.villageA.ID.String(), http.StatusNotFound},
			{"an unknown kind", supervisor, "/api/v1/exports/exits?kind=graduation", http.StatusUnprocessableEntity},
			{"a year before the register", supervisor, "/api/v1/exports/income?year=2010", http.StatusUnprocessableEntity},
			{"an unknown format", supervisor, "/api/v1/exports/income?format=pdf", http.StatusUnprocessableEntity},
		} {
			if r := e.do(t, "GET", tc.path, tc.token, nil); r.Status != tc.status {
				t.Errorf("%s: %d %s, want %d", tc.name, r.Status, r.Body, tc.status)
			}
		}
		// A cadre's income ledger is their paired households: cadre A sees
		// household A's line.
		if rows := csvRows(t, e.do(t, "GET", "/api/v1/exports/income?format=csv&year=2026", e.login(t, "cadre-a"), nil).Body); len(rows) != 4 {
			t.Errorf("cadre A's income ledger: %q", rows)
		}
	})
}
