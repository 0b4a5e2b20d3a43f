package app

import (
	"net/http"
	"strings"
	"testing"

	"github.com/fieldvisit/fieldvisit/wire"
)

// TestAnEditJudgesOnlyWhatItSets: a village's supervisor edits a cadre of
// their village whose unit is a county bureau, which the supervisor could
// not have chosen: a new name or phone goes through and leaves the unit as
// it was, while setting that unit themselves is still refused, naming the
// field.
func TestAnEditJudgesOnlyWhatItSets(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		sup := e.login(t, "supervisor-a")
		path := "/api/v1/users/" + e.cadreA.ID.String()
		for _, tc := range []struct {
			name   string
			body   map[string]any
			status int
			field  string
		}{
			{"a new name", map[string]any{"display_name": "甲干部"}, http.StatusOK, ""},
			{"a new phone", map[string]any{"phone": "13812345678"}, http.StatusOK, ""},
			{"the county's unit, set by the village's supervisor", map[string]any{"unit_id": e.unitA}, http.StatusUnprocessableEntity, "/unit_id"},
		} {
			r := e.do(t, "PATCH", path, sup, tc.body)
			if r.Status != tc.status || tc.field != "" && !strings.Contains(string(r.Body), `"field":"`+tc.field+`"`) {
				t.Errorf("%s: %d %s; want %d naming %q", tc.name, r.Status, r.Body, tc.status, tc.field)
			}
		}
		var u wire.User
		if r := e.do(t, "GET", path, e.login(t, "admin"), nil); r.Status != http.StatusOK {
			t.Fatalf("read the cadre: %d %s", r.Status, r.Body)
		} else {
			r.json(t, &u)
		}
		if u.DisplayName != "甲干部" || u.Phone != "13812345678" || u.UnitID == nil || *u.UnitID != e.unitA {
			t.Errorf("the cadre after the edits: %q %q unit %v; want 甲干部 13812345678 and the county bureau %v", u.DisplayName, u.Phone, u.UnitID, e.unitA)
		}
	})
}
