package app

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestExitCandidatesCountEveryPage: the 脱贫候选 page says how many of the
// whole list qualify, the same on every page — 33 of the village's 35
// registered households, with 30 to a page (it counted the page's own).
func TestExitCandidatesCountEveryPage(t *testing.T) {
	dialectsAt(t, caseworkClock, func(t *testing.T, e *testEnv) {
		admin, supervisor := e.login(t, "admin"), e.login(t, "supervisor-a")
		// Income alone decides, so an account is all a household needs.
		incomeOnly := map[string]any{"version": 0, "per_capita_fen": 333_500, "poverty_line_fen": 280_000, "stable_years": 1,
			"indicators": []map[string]any{{"code": "income", "name_zh": "人均纯收入稳定超过脱贫标准", "check": "income"}}}
		if r := e.do(t, "PUT", "/api/v1/exit-standards/2026", admin, incomeOnly); r.Status != http.StatusOK {
			t.Fatalf("standard: %d %s", r.Status, r.Body)
		}
		households := []string{e.householdA.Household.ID.String()}
		for i := range 34 {
			households = append(households, e.addHousehold(t, e.villageA, fmt.Sprintf("候选%02d", i), fmt.Sprintf("41012219800101%03d", i)).Household.ID.String())
		}
		const qualifying = 33
		for i, h := range households {
			perCapita := 333_500
			if i >= qualifying {
				perCapita = 200_000
			}
			if r := e.do(t, "PUT", "/api/v1/households/"+h+"/income-accounts/2026", supervisor, map[string]any{"version": 0, "wages_fen": perCapita}); r.Status != http.StatusOK {
				t.Fatalf("account: %d %s", r.Status, r.Body)
			}
		}

		srv := httptest.NewServer(e.app.Handler)
		t.Cleanup(srv.Close)
		c := (&consoleEnv{app: e.app, url: srv.URL}).client(t)
		if r := c.login("supervisor-a", testPassword); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("login: %d", r.StatusCode)
		}
		for _, pg := range []string{"1", "2"} {
			u := "/ui/exit-candidates?" + url.Values{"region": {e.villageA.ID.String()}, "year": {"2026"}, "page": {pg}}.Encode()
			r := c.get(u)
			// A count still being judged is asked for again by the page
			// itself (htmx, the same URL), as here.
			for try := 0; strings.Contains(r.body, `<strong id="qualifying" title=`) && try < 200; try++ {
				if !strings.Contains(r.body, `hx-get="`+strings.ReplaceAll(u, "&", "&amp;")+`"`) {
					t.Fatalf("page %s: a count being judged that the page does not ask for again: %s", pg, r.body)
				}
				time.Sleep(50 * time.Millisecond)
				r = c.get(u)
			}
			want := fmt.Sprintf(`所选地区在册贫困户 %d 户，其中符合退出条件 <strong class="tone-good" id="qualifying">%d</strong> 户`, len(households), qualifying)
			if r.StatusCode != http.StatusOK || !strings.Contains(r.body, want) {
				t.Errorf("page %s: %d, want it to say %q", pg, r.StatusCode, want)
			}
		}
	})
}
