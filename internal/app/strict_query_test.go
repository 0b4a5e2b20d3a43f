package app

import (
	"net/http"
	"testing"
)

// TestUnknownQueryParametersAreRefused: a query parameter the route does
// not take is a 422 naming it, as an unknown body field is — a misspelt
// filter must never quietly answer the unfiltered list — while the
// parameters the document declares keep working.
func TestUnknownQueryParametersAreRefused(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	admin, cadre := e.login(t, "admin"), e.login(t, "cadre-a")
	region := e.county.ID.String()
	for _, tt := range []struct {
		name, token, path string
		status            int
		fields            []string
	}{
		{"a filter /visits does not take", admin, "/api/v1/visits?frm=2026-11-01", http.StatusUnprocessableEntity, []string{"frm"}},
		{"camel case", admin, "/api/v1/households?regionId=" + region, http.StatusUnprocessableEntity, []string{"regionId"}},
		{"every unknown one named", admin, "/api/v1/households?limit=5&sort=name&order=desc", http.StatusUnprocessableEntity, []string{"order", "sort"}},
		{"a misspelt sync cursor", cadre, "/api/v1/sync/pull?cursr=abc", http.StatusUnprocessableEntity, []string{"cursr"}},
		{"a report", admin, "/api/v1/compliance/missed?region_id=" + region + "&village=x", http.StatusUnprocessableEntity, []string{"village"}},
		{"an export", admin, "/api/v1/exports/visits?region_id=" + region + "&format=csv&fromDate=2026-01-01", http.StatusUnprocessableEntity, []string{"fromDate"}},
		{"declared parameters pass", admin, "/api/v1/households?limit=5&offset=0", http.StatusOK, nil},
		{"a report with its own", admin, "/api/v1/compliance/missed?region_id=" + region + "&period=2026", http.StatusOK, nil},
		{"a route without parameters", admin, "/api/v1/me", http.StatusOK, nil},
		{"a parameter to a route that takes none", admin, "/api/v1/households/" + e.householdA.Household.ID.String() + "/plan?state=done", http.StatusUnprocessableEntity, []string{"state"}},
		{"a printed form asked for by month", admin, "/api/v1/households/" + e.householdA.Household.ID.String() + "/forms/file.pdf?month=2026-11", http.StatusUnprocessableEntity, []string{"month"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, "GET", tt.path, tt.token, nil)
			if r.Status != tt.status {
				t.Fatalf("%s: %d, want %d: %s", tt.path, r.Status, tt.status, r.Body)
			}
			if tt.fields == nil {
				return
			}
			p := r.problem(t)
			var got []string
			for _, f := range p.Errors {
				if f.Reason != "unknown_parameter" {
					t.Errorf("%s: reason %q", f.Field, f.Reason)
				}
				got = append(got, f.Field)
			}
			if len(got) != len(tt.fields) {
				t.Fatalf("named %v, want %v", got, tt.fields)
			}
			for i := range got {
				if got[i] != tt.fields[i] {
					t.Errorf("named %v, want %v", got, tt.fields)
				}
			}
		})
	}
}
