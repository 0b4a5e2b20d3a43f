package app

import (
	"maps"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/wire"
)

// TestCadreSummary: a cadre's page lists the households paired with them
// today, each with the current statuses they answer for and the worst of
// them, their visits per month over the last twelve (deleted ones and older
// ones left out) and the evidence flags on those visits. The cadre reads
// their own, the supervisors above them and the admin theirs; anyone else
// gets 404, as for an unknown id.
func TestCadreSummary(t *testing.T) {
	dialectsAt(t, reportNow, func(t *testing.T, e *testEnv) {
		c := e.reportCounty(t) // cadre A visited 张三 on 2026-11-05
		cadre := e.login(t, "cadre-a")
		zhang := e.householdA.Household.ID
		e.visitOn(t, cadre, zhang, "2026-06-15")
		e.visitOn(t, cadre, zhang, "2025-11-10") // thirteen months ago: outside the rhythm
		deleted := e.visitOn(t, cadre, zhang, "2026-10-20")
		e.push(t, cadre, uuid.NewString(), batch("test-phone", reportNow,
			map[string]any{"entity": "visit", "op": "delete", "id": deleted, "base_version": 1})).pushResult(t)
		e.judgeCompliance(t)

		// What the page should say of the flags: the flags of the cadre's
		// live visits of the last twelve months, as the visits route reads them.
		var visits wire.Page[wire.Visit]
		e.do(t, "GET", "/api/v1/visits?limit=200&cadre_id="+e.cadreA.ID.String(), e.login(t, "admin"), nil).json(t, &visits)
		rhythmStart := time.Date(2025, 12, 1, 0, 0, 0, 0, domain.Shanghai)
		wantFlags := map[string]int64{}
		for _, v := range visits.Items {
			started, err := time.Parse(time.RFC3339, v.StartedAt)
			if err != nil {
				t.Fatal(err)
			}
			if !v.Deleted && !started.Before(rhythmStart) {
				for _, f := range v.Flags {
					wantFlags[f.Code]++
				}
			}
		}

		summaryOf := "/api/v1/cadres/" + e.cadreA.ID.String() + "/summary"
		for _, who := range []string{"cadre-a", "supervisor-a", "admin"} {
			var s wire.CadreSummary
			r := e.do(t, "GET", summaryOf, e.login(t, who), nil)
			if r.Status != http.StatusOK {
				t.Fatalf("%s reads cadre A's page: %d %s", who, r.Status, r.Body)
			}
			r.json(t, &s)
			if s.Cadre.ID != e.cadreA.ID || s.Today.String() != "2026-11-20" || !slices.Equal(s.Periods, []string{"2026", "2026-Q4", "2026-11"}) {
				t.Errorf("%s: cadre %s, today %s, periods %q", who, s.Cadre.ID, s.Today, s.Periods)
			}
			var names []string
			for _, h := range s.Households {
				names = append(names, h.HeadName)
				if h.VillageName != "东风村" || len(h.Statuses) == 0 || h.WorstState == nil {
					t.Errorf("%s: household %s reads %+v", who, h.HeadName, h)
					continue
				}
				worst := h.Statuses[0].State // statuses come worst first
				for _, st := range h.Statuses {
					if st.AnsweringCadre == nil || *st.AnsweringCadre != e.cadreA.ID || !slices.Contains(s.Periods, st.Period) {
						t.Errorf("%s: %s's status %s %s is not cadre A's of a current period", who, h.HeadName, st.RuleCode, st.Period)
					}
				}
				if *h.WorstState != worst {
					t.Errorf("%s: %s's worst state %s, its statuses begin with %s", who, h.HeadName, *h.WorstState, worst)
				}
			}
			slices.Sort(names)
			if !slices.Equal(names, []string{"张三", "赵六"}) {
				t.Errorf("%s: households %q, want cadre A's 张三 and 赵六 (not 王五, cadre C's)", who, names)
			}
			zhangQ4 := slices.IndexFunc(s.Households, func(h wire.CadreHousehold) bool {
				return h.HouseholdID == zhang && slices.ContainsFunc(h.Statuses, func(st wire.ComplianceItem) bool {
					return st.Period == "2026-Q4" && st.State == "met" && st.Counted == 1
				})
			})
			if zhangQ4 < 0 {
				t.Errorf("%s: 张三's quarter is not met by the visit of 5 November: %+v", who, s.Households)
			}
			if len(s.Duties) != 0 {
				t.Errorf("%s: cadre A holds no duty, the page lists %+v", who, s.Duties)
			}
			months := map[string]int{}
			for _, m := range s.Months {
				months[m.Month] = m.Visits
			}
			if len(s.Months) != 12 || s.Months[0].Month != "2025-12" || s.Months[11].Month != "2026-11" || s.Months[11].LabelZH != "2026年11月" ||
				months["2026-06"] != 1 || months["2026-10"] != 0 || months["2026-11"] != 1 {
				t.Errorf("%s: rhythm %+v, want one visit in June and one in November 2026", who, s.Months)
			}
			gotFlags := map[string]int64{}
			for _, f := range s.Flags {
				gotFlags[f.Code] = f.Visits
				if f.LabelZH == "" {
					t.Errorf("%s: flag %s has no label", who, f.Code)
				}
			}
			if len(wantFlags) == 0 || !maps.Equal(gotFlags, wantFlags) {
				t.Errorf("%s: flags %v, the visits carry %v", who, gotFlags, wantFlags)
			}
		}

		for _, tc := range []struct{ who, id, why string }{
			{"cadre-a", c.cadreC.ID.String(), "another cadre of the village"},
			{"cadre-b", e.cadreA.ID.String(), "a cadre of another village"},
			{"supervisor-b", e.cadreA.ID.String(), "a supervisor of another village"},
			{"inspector", e.cadreA.ID.String(), "an inspector"},
			{"admin", e.supervisorA.ID.String(), "an account that is no cadre"},
			{"admin", uuid.NewString(), "an unknown id"},
			{"admin", "cadre-a", "a malformed id"},
		} {
			if r := e.do(t, "GET", "/api/v1/cadres/"+tc.id+"/summary", e.login(t, tc.who), nil); r.Status != http.StatusNotFound {
				t.Errorf("%s (%s): %d %s, want 404", tc.why, tc.who, r.Status, r.Body)
			}
		}
	})
}
