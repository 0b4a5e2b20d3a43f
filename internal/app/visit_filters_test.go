package app

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/wire"
)

// TestVisitFilters: GET /visits narrows by the days a visit started on,
// the region of its household, its kind, a flag it carries and whether a
// compliance status counts it — each filter proven against the same
// visits unfiltered — and names every bad value in a 422.
func TestVisitFilters(t *testing.T) {
	dialectsAt(t, reportNow, func(t *testing.T, e *testEnv) {
		e.pairSinceLastYear(t)
		at := func(day string) time.Time {
			d, err := domain.ParseDate(day)
			if err != nil {
				t.Fatal(err)
			}
			return d.Start().Add(10 * time.Hour)
		}
		assistEarly, assistLate, condolence, other := uuid.New(), uuid.New(), uuid.New(), uuid.New()
		far := visitAt(uuid.New(), e.householdA.Household.ID, at("2026-11-12"), domain.KindAssist)
		far["data"].(map[string]any)["gps"] = []map[string]any{{"lat": 35.9, "lon": 114.9, "accuracy": 10, "provider": "gps", "mock": false,
			"device_time": at("2026-11-12").Format(time.RFC3339)}}
		e.push(t, e.login(t, "cadre-a"), uuid.NewString(), batch("phone-a", e.app.Now(),
			visitAt(assistEarly, e.householdA.Household.ID, at("2026-11-03"), domain.KindAssist),
			visitAt(assistLate, e.householdA.Household.ID, at("2026-11-18"), domain.KindAssist),
			visitAt(condolence, e.householdA.Household.ID, at("2026-11-10"), domain.KindCondolence), far)).pushResult(t)
		e.push(t, e.login(t, "cadre-b"), uuid.NewString(), batch("phone-b", e.app.Now(),
			visitAt(other, e.householdB.Household.ID, at("2026-11-05"), domain.KindAssist))).pushResult(t)
		e.judgeCompliance(t)

		admin := e.login(t, "admin")
		list := func(query string) []wire.Visit {
			t.Helper()
			var page wire.Page[wire.Visit]
			r := e.do(t, "GET", "/api/v1/visits?limit=200&"+query, admin, nil)
			if r.Status != http.StatusOK {
				t.Fatalf("%s: %d %s", query, r.Status, r.Body)
			}
			r.json(t, &page)
			return page.Items
		}
		ids := func(vs []wire.Visit) []uuid.UUID {
			out := make([]uuid.UUID, len(vs))
			for i, v := range vs {
				out[i] = v.ID
			}
			slices.SortFunc(out, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
			return out
		}
		all := list("")
		if len(all) != 5 {
			t.Fatalf("%d visits, want 5", len(all))
		}
		flagged := uuid.Nil
		for _, v := range all {
			for _, f := range v.Flags {
				if f.Code == "far_from_home" {
					flagged = v.ID
				}
			}
		}
		if flagged == uuid.Nil {
			t.Fatal("no visit was flagged far from home: the flag row would prove nothing")
		}
		// what keeps the visits of all for which keep is true.
		what := func(keep func(v wire.Visit) bool) []uuid.UUID {
			var out []wire.Visit
			for _, v := range all {
				if keep(v) {
					out = append(out, v)
				}
			}
			return ids(out)
		}
		day := func(v wire.Visit) string {
			start, err := time.Parse(time.RFC3339, v.StartedAt)
			if err != nil {
				t.Fatal(err)
			}
			return start.In(domain.Shanghai).Format(time.DateOnly)
		}
		counted := list("counted=true")
		for _, tt := range []struct {
			name, query string
			want        []uuid.UUID
		}{
			{"from a day on", "from=2026-11-10", what(func(v wire.Visit) bool { return day(v) >= "2026-11-10" })},
			{"up to a day, that day included", "to=2026-11-10", what(func(v wire.Visit) bool { return day(v) <= "2026-11-10" })},
			{"between two days", "from=2026-11-05&to=2026-11-12", what(func(v wire.Visit) bool { return day(v) >= "2026-11-05" && day(v) <= "2026-11-12" })},
			{"a village", "region_id=" + e.villageB.ID.String(), []uuid.UUID{other}},
			{"a kind", "kind=condolence", []uuid.UUID{condolence}},
			{"a flag", "flag=far_from_home", []uuid.UUID{flagged}},
			{"not counted: the condolence visit and the flagged one among them", "counted=false",
				what(func(v wire.Visit) bool { return !slices.Contains(ids(counted), v.ID) })},
			{"filters combine", "kind=assist&region_id=" + e.villageA.ID.String() + "&from=2026-11-15", []uuid.UUID{assistLate}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				got := ids(list(tt.query))
				if !slices.Equal(got, ids2(tt.want)) {
					t.Errorf("%s: %v, want %v", tt.query, got, tt.want)
				}
				if len(got) == 0 || len(got) == len(all) {
					t.Errorf("%s: %d of %d visits — the row does not show the filter narrowing", tt.query, len(got), len(all))
				}
			})
		}
		if len(counted) == 0 || slices.Contains(ids(counted), condolence) || slices.Contains(ids(counted), flagged) {
			t.Errorf("counted=true lists %v: a condolence visit and one far from home count for no rule", ids(counted))
		}

		for _, tt := range []struct{ query, field string }{
			{"kind=walk", "kind"},
			{"flag=nope", "flag"},
			{"from=2026-13-01", "from"},
			{"from=2026-11-10&to=2026-11-01", "to"},
			{"counted=maybe", "counted"},
		} {
			r := e.do(t, "GET", "/api/v1/visits?"+url.PathEscape(tt.query), admin, nil)
			if r.Status != http.StatusUnprocessableEntity {
				t.Errorf("%s: %d, want 422", tt.query, r.Status)
				continue
			}
			if p := r.problem(t); len(p.Errors) != 1 || p.Errors[0].Field != tt.field {
				t.Errorf("%s: names %+v, want %s", tt.query, p.Errors, tt.field)
			}
		}
	})
}

// ids2 is want sorted as ids sorts.
func ids2(want []uuid.UUID) []uuid.UUID {
	out := slices.Clone(want)
	slices.SortFunc(out, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	return out
}
