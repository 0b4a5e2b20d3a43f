package app

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fieldvisit/fieldvisit/wire"
)

// consoleOf is the app's console signed in as username.
func (e *testEnv) consoleOf(t *testing.T, username string) *consoleClient {
	t.Helper()
	srv := httptest.NewServer(e.app.Handler)
	t.Cleanup(srv.Close)
	c := (&consoleEnv{app: e.app, url: srv.URL}).client(t)
	if r := c.login(username, testPassword); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("login %s: %d", username, r.StatusCode)
	}
	return c
}

// TestConflictInboxNamesTheRegisteredIncome: a conflict on the household's
// annual income names it in the inbox as the household page does, the
// register's 家庭年纯收入 rather than a 家庭年收入 to be taken for the
// 收入测算's.
func TestConflictInboxNamesTheRegisteredIncome(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		h := e.householdA.Household
		var file map[string]any
		e.do(t, "GET", "/api/v1/households/"+h.ID.String(), e.login(t, "supervisor-a"), nil).json(t, &file)
		cadre := e.login(t, "cadre-a")
		for i, income := range []float64{12000, 15000} {
			res := e.push(t, cadre, "income-"+string(rune('a'+i)), batch("phone-"+string(rune('a'+i)), time.Now(), map[string]any{"entity": "household",
				"op": "update", "id": h.ID, "base_version": file["version"], "data": map[string]any{"annual_income": income},
				"base": map[string]any{"annual_income": file["annual_income"]}})).pushResult(t).Results[0]
			if want := []string{wire.StatusApplied, wire.StatusConflict}[i]; res.Status != want {
				t.Fatalf("edit %d: %+v, want %s", i+1, res, want)
			}
		}
		r := e.consoleOf(t, "supervisor-a").get("/ui/conflicts")
		if want := `<td data-label="字段">家庭年纯收入（档案登记）</td>`; r.StatusCode != http.StatusOK || !strings.Contains(r.body, want) {
			t.Errorf("the inbox: %d, want the field named %q", r.StatusCode, want)
		}
	})
}
