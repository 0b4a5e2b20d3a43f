package app

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// reportRoute is one row of the cross-scope table for compliance reports
// and exports: a route that names households (and the notes of their
// visits) as a region's manager reads it. {region} is the town, the inspector's own region.
type reportRoute struct {
	path string
	// refused: the route is closed to inspectors (403), rather than
	// answered within their tasks.
	refused bool
}

var reportRoutes = []reportRoute{
	{path: "/api/v1/compliance/missed?region_id={region}&period=2026&state=met,on_track,due_soon,overdue,missed"},
	{path: "/api/v1/compliance/forecast?region_id={region}&period=2026"},
	{path: "/api/v1/compliance/coverage?region_id={region}", refused: true},
	{path: "/api/v1/exports/visits?region_id={region}&period=2026&format=csv"},
	{path: "/api/v1/exports/visits?region_id={region}&period=2026&format=xlsx"},
	{path: "/api/v1/exports/missed?region_id={region}&period=2026&format=csv&state=met,on_track,due_soon,overdue,missed"},
	{path: "/api/v1/exports/progress?region_id={region}&period=2026&format=csv"},
}

// TestInspectorsReadReportsWithinTheirTasks: an inspector's sight is the
// households of their active tasks (DESIGN §8) — with none, the county's
// reports and 台账 exports name no household, no visit note, no cadre and
// no cadre duty, while an admin over the town reads them all (so the table
// can fail); the coverage report, which names the region's households and
// cadres wholesale, is refused.
func TestInspectorsReadReportsWithinTheirTasks(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		const note = "民情日记：户主胃病复发，需协调医疗救助"
		e.push(t, e.login(t, "cadre-a"), uuid.NewString(), batch("phone-a", e.app.Now(),
			visitChange(uuid.New(), e.householdA.Household.ID, note, 34.75))).pushResult(t)
		e.judgeCompliance(t)
		var secrets []string
		for _, s := range []string{e.householdA.Household.HeadName, e.householdA.Household.Number, e.householdB.Household.HeadName,
			e.householdB.Household.Number, note, e.cadreA.DisplayName} {
			if s != "" { // the fixture's households have no number
				secrets = append(secrets, s)
			}
		}
		town := e.town.ID.String()
		manager, inspector := e.login(t, "admin"), e.login(t, "inspector")
		for _, rt := range reportRoutes {
			path := strings.ReplaceAll(rt.path, "{region}", town)
			t.Run(path, func(t *testing.T) {
				seen := e.do(t, "GET", path, manager, nil)
				if seen.Status != http.StatusOK {
					t.Fatalf("the admin: %d %s", seen.Status, seen.Body)
				}
				if !containsAny(readable(t, path, seen), secrets) {
					t.Fatalf("the admin's answer names none of the households: the row proves nothing (%.300s)", seen.Body)
				}
				r := e.do(t, "GET", path, inspector, nil)
				if rt.refused {
					if r.Status != http.StatusForbidden {
						t.Fatalf("inspector: %d, want 403", r.Status)
					}
					return
				}
				if r.Status != http.StatusOK {
					t.Fatalf("inspector: %d %s", r.Status, r.Body)
				}
				for _, s := range secrets {
					if strings.Contains(readable(t, path, r), s) {
						t.Errorf("an inspector without tasks reads %q", s)
					}
				}
			})
		}
	})
}

// readable is an answer's text: an XLSX download's cells, else the body.
func readable(t *testing.T, path string, r response) string {
	if !strings.Contains(path, "format=xlsx") {
		return string(r.Body)
	}
	var cells []string
	for _, row := range xlsxRows(t, r.Body) {
		cells = append(cells, row...)
	}
	return strings.Join(cells, "\n")
}

// containsAny reports whether text holds any of the strings.
func containsAny(text string, ss []string) bool {
	for _, s := range ss {
		if strings.Contains(text, s) {
			return true
		}
	}
	return false
}
