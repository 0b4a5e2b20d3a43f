package app

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/wire"
)

// TestEveryPathJudgesAFieldAlike sends the same bad household and member
// values through the register's PATCH route (a supervisor) and through a
// phone's push (the paired cadre): both must refuse them, naming the same
// field, and neither may store anything.
func TestEveryPathJudgesAFieldAlike(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		h := e.householdA.Household
		m := e.householdA.Members[0]
		supervisor, cadre := e.login(t, "supervisor-a"), e.login(t, "cadre-a")
		cases := []struct {
			name   string
			entity string // household or member
			data   map[string]any
			field  string // pointer within the record
			reason string
		}{
			{"latitude out of range", "household", map[string]any{"home": map[string]any{"lat": 91, "lon": 113.6}}, "/home/lat", "out_of_range"},
			{"longitude out of range", "household", map[string]any{"home": map[string]any{"lat": 34.7, "lon": 181}}, "/home/lon", "out_of_range"},
			{"latitude missing", "household", map[string]any{"home": map[string]any{"lon": 113.6}}, "/home/lat", "required"},
			{"latitude null", "household", map[string]any{"home": map[string]any{"lat": nil, "lon": 113.6}}, "/home/lat", "required"},
			{"longitude null", "household", map[string]any{"home": map[string]any{"lat": 34.7, "lon": nil}}, "/home/lon", "required"},
			{"latitude a string", "household", map[string]any{"home": map[string]any{"lat": "NaN", "lon": 113.6}}, "/home/lat", "invalid_type"},
			{"unknown member of home", "household", map[string]any{"home": map[string]any{"lat": 34.7, "lon": 113.6, "alt": 80}}, "/home/alt", "unknown_field"},
			{"phone not a number", "household", map[string]any{"phone": "call me"}, "/phone", "invalid_format"},
			{"negative housing area", "household", map[string]any{"housing_area": -5}, "/housing_area", "out_of_range"},
			{"unknown cause", "household", map[string]any{"causes": []string{"illness", "bad_luck"}}, "/causes/1", "invalid_enum"},
			{"unknown safety grade", "household", map[string]any{"housing_safety_grade": "Z"}, "/housing_safety_grade", "invalid_enum"},
			{"notes too long", "household", map[string]any{"income_notes": strings.Repeat("收", 2001)}, "/income_notes", "too_long"},
			{"member phone", "member", map[string]any{"phone": "12"}, "/phone", "invalid_format"},
			{"member health", "member", map[string]any{"health": "tired"}, "/health", "invalid_enum"},
		}
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := e.counts(t)
				path := "/api/v1/households/" + h.ID.String()
				change := map[string]any{"entity": "household", "op": "update", "id": h.ID, "base_version": 1, "data": tc.data}
				if tc.entity == "member" {
					path += "/members/" + m.ID.String()
					change = map[string]any{"entity": "member", "op": "update", "id": m.ID, "household_id": h.ID, "base_version": 1, "data": tc.data}
				}
				patch := map[string]any{"version": 1}
				for k, v := range tc.data {
					patch[k] = v
				}
				r := e.do(t, "PATCH", path, supervisor, patch)
				if p := r.problem(t); r.Status != http.StatusUnprocessableEntity || !p.hasFieldReason(tc.field, tc.reason) {
					t.Fatalf("PATCH: want 422 naming %s (%s), got %d %s", tc.field, tc.reason, r.Status, r.Body)
				}
				res := e.push(t, cadre, "same-check-"+uuid.NewString()[:8], batch("phone-a", time.Now(), change)).pushResult(t).Results[0]
				want := "/changes/0/data" + tc.field
				if res.Status != wire.StatusRejected || !hasFieldError(res, want, tc.reason) {
					t.Fatalf("push: want rejected naming %s (%s), got %+v", want, tc.reason, res)
				}
				sameCounts(t, before, e.counts(t))
				if hh, err := e.app.Store.HouseholdByID(context.Background(), h.ID); err != nil || hh.Version != 1 {
					t.Fatalf("case %d: household version %d (%v): a refused edit was stored", i, hh.Version, err)
				}
				if mm, err := e.app.Store.MembersByID(context.Background(), []uuid.UUID{m.ID}); err != nil || mm[m.ID].Version != 1 {
					t.Fatalf("case %d: member version %d (%v): a refused edit was stored", i, mm[m.ID].Version, err)
				}
			})
		}
	})
}

// TestGPSStampsNeedBothCoordinates: a visit's fix with a coordinate left
// out or null is refused at its JSON pointer (not read as 0, a real place
// far from the household), on create and on edit alike, and a value of the
// wrong type is named by a pointer a client can follow.
func TestGPSStampsNeedBothCoordinates(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		tok := e.login(t, "cadre-a")
		hA := e.householdA.Household.ID
		fix := func(lat, lon any, omit string) map[string]any {
			g := map[string]any{"lat": lat, "lon": lon, "accuracy": 12, "provider": "gps", "mock": false, "device_time": "2026-11-20T09:31:00+08:00"}
			delete(g, omit)
			return g
		}
		good := fix(34.7, 113.6, "")
		cases := []struct {
			name   string
			second map[string]any
			field  string
			reason string
		}{
			{"latitude left out", fix(nil, 113.6, "lat"), "/gps/1/lat", "required"},
			{"latitude null", fix(nil, 113.6, ""), "/gps/1/lat", "required"},
			{"longitude left out", fix(34.7, nil, "lon"), "/gps/1/lon", "required"},
			{"latitude the string NaN", fix("NaN", 113.6, ""), "/gps/1/lat", "invalid_type"},
			{"unknown member", map[string]any{"lat": 34.7, "lon": 113.6, "accuracy": 5, "provider": "gps", "device_time": "2026-11-20T09:31:00+08:00", "altitude": 80}, "/gps/1/altitude", "unknown_field"},
		}
		stored := uuid.New()
		e.push(t, tok, "gps-stored", batch("phone-a", time.Now(), visitChange(stored, hA, "先存一条", 34.7))).pushResult(t)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := e.visitCount(t)
				create := visitChange(uuid.New(), hA, "定位缺失", 34.7)
				create["data"].(map[string]any)["gps"] = []any{good, tc.second}
				update := map[string]any{"entity": "visit", "op": "update", "id": stored, "base_version": 1,
					"data": map[string]any{"gps": []any{good, tc.second}}}
				out := e.push(t, tok, "gps-"+uuid.NewString()[:8], batch("phone-a", time.Now(), create, update)).pushResult(t)
				for i, res := range out.Results {
					want := "/changes/" + string(rune('0'+i)) + "/data" + tc.field
					if res.Status != wire.StatusRejected || !hasFieldError(res, want, tc.reason) {
						t.Fatalf("change %d: want rejected naming %s (%s), got %+v", i, want, tc.reason, res)
					}
				}
				if n := e.visitCount(t); n != before {
					t.Fatalf("a refused visit was stored: %d visits, had %d", n, before)
				}
			})
		}
	})
}

func hasFieldError(r wire.PushResult, field, reason string) bool {
	for _, f := range r.Errors {
		if f.Field == field && f.Reason == reason {
			return true
		}
	}
	return false
}

func (p problemBody) hasFieldReason(field, reason string) bool {
	for _, e := range p.Errors {
		if e.Field == field && e.Reason == reason {
			return true
		}
	}
	return false
}

// TestANameGivenTwiceIsRefused: JSON that names a member twice means
// whatever a parser chooses; the server refuses it, in a push change (that
// change alone) as in a resource body.
func TestANameGivenTwiceIsRefused(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	tok := e.login(t, "cadre-a")
	hA := e.householdA.Household.ID
	good, _ := json.Marshal(visitChange(uuid.New(), hA, "好的", 34.7))
	twice := `{"entity":"visit","op":"create","id":"` + uuid.NewString() + `","household_id":"` + hA.String() +
		`","data":{"kind":"assist","started_at":"2026-11-20T09:30:00+08:00","notes":"一","notes":"二"}}`
	body := `{"device_id":"phone-a","device_time":"` + time.Now().Format(time.RFC3339) + `","changes":[` + string(good) + `,` + twice + `]}`
	out := e.push(t, tok, "twice", []byte(body)).pushResult(t)
	if out.Results[0].Status != wire.StatusApplied || out.Results[1].Status != wire.StatusRejected ||
		!hasFieldError(out.Results[1], "/changes/1/data/notes", "duplicate") {
		t.Fatalf("want the good change applied and the other rejected naming /changes/1/data/notes: %+v", out.Results)
	}
}
