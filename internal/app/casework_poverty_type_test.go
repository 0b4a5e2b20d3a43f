package app

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance/rules"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	"github.com/fieldvisit/fieldvisit/internal/testkit/storetest"
	"github.com/fieldvisit/fieldvisit/wire"
)

// povertyTypeChange is the body of POST /households/{id}/poverty-type.
func povertyTypeChange(version int64, to, on, reason string) map[string]any {
	return map[string]any{"version": version, "poverty_type": to, "effective_on": on, "reason": reason}
}

// TestPovertyTypeChangesOnItsOwn: a household moves between 一般, 低保 and
// 五保 without a status move; every bad request is a 4xx naming the field
// and writes nothing; the change is in the file's history, the audit log
// and the phones' feed.
func TestPovertyTypeChangesOnItsOwn(t *testing.T) {
	dialectsAt(t, time.Date(2026, time.August, 15, 10, 0, 0, 0, domain.Shanghai), func(t *testing.T, e *testEnv) {
		admin, supervisorA, supervisorB, cadre := e.login(t, "admin"), e.login(t, "supervisor-a"), e.login(t, "supervisor-b"), e.login(t, "cadre-a")
		hA := e.householdA.Household
		general := storetest.Must(e.app.Registry.CreateHousehold(context.Background(), e.admin, registry.NewHousehold{RegionID: e.villageA.ID,
			Status: domain.StatusGeneral, Details: domain.HouseholdDetails{HeadName: "李四"}}))(t)
		path := "/api/v1/households/" + hA.ID.String() + "/poverty-type"
		before := e.count(t, "household_poverty_type_changes")
		for _, tc := range []struct {
			name, token, path string
			body              map[string]any
			status            int
			field             string
		}{
			{"a cadre may not", cadre, path, povertyTypeChange(1, domain.PovertyWubao, "2026-05-01", "纳入五保"), http.StatusForbidden, ""},
			{"another village's supervisor does not see it", supervisorB, path, povertyTypeChange(1, domain.PovertyWubao, "2026-05-01", "纳入五保"), http.StatusNotFound, ""},
			{"unknown type", supervisorA, path, povertyTypeChange(1, "tekun", "2026-05-01", "x"), http.StatusUnprocessableEntity, "/poverty_type"},
			{"the same type", supervisorA, path, povertyTypeChange(1, domain.PovertyDibao, "2026-05-01", "x"), http.StatusUnprocessableEntity, "/poverty_type"},
			{"in the future", supervisorA, path, povertyTypeChange(1, domain.PovertyWubao, "2026-08-16", "x"), http.StatusUnprocessableEntity, "/effective_on"},
			{"before the last change", supervisorA, path, povertyTypeChange(1, domain.PovertyWubao, "2024-02-29", "x"), http.StatusUnprocessableEntity, "/effective_on"},
			{"no reason", supervisorA, path, povertyTypeChange(1, domain.PovertyWubao, "2026-05-01", ""), http.StatusUnprocessableEntity, "/reason"},
			{"no version", supervisorA, path, povertyTypeChange(0, domain.PovertyWubao, "2026-05-01", "x"), http.StatusUnprocessableEntity, "/version"},
			{"stale version", supervisorA, path, povertyTypeChange(7, domain.PovertyWubao, "2026-05-01", "x"), http.StatusConflict, ""},
			{"a household never registered has no type", supervisorA, "/api/v1/households/" + general.Household.ID.String() + "/poverty-type",
				povertyTypeChange(general.Household.Version, domain.PovertyWubao, "2026-05-01", "x"), http.StatusUnprocessableEntity, "/poverty_type"},
		} {
			r := e.do(t, "POST", tc.path, tc.token, tc.body)
			if r.Status != tc.status {
				t.Errorf("%s: %d %s, want %d", tc.name, r.Status, r.Body, tc.status)
				continue
			}
			if tc.field != "" && !r.problem(t).hasField(tc.field) {
				t.Errorf("%s: %s does not name %s", tc.name, r.Body, tc.field)
			}
		}
		if n := e.count(t, "household_poverty_type_changes"); n != before {
			t.Fatalf("refused changes wrote %d history rows", n-before)
		}

		var f wire.HouseholdFile
		r := e.do(t, "POST", path, supervisorA, povertyTypeChange(hA.Version, domain.PovertyWubao, "2026-05-01", "纳入五保供养"))
		r.json(t, &f)
		if r.Status != http.StatusOK || f.Household.PovertyType != domain.PovertyWubao || f.Household.Status != domain.StatusRegistered ||
			f.Household.Version != hA.Version+1 {
			t.Fatalf("change: %d %s", r.Status, r.Body)
		}
		last := f.PovertyTypeHistory[len(f.PovertyTypeHistory)-1]
		if len(f.PovertyTypeHistory) != 2 || last.From != domain.PovertyDibao || last.To != domain.PovertyWubao ||
			last.EffectiveOn != (domain.Date{Year: 2026, Month: time.May, Day: 1}) || last.Reason != "纳入五保供养" {
			t.Errorf("poverty-type history: %+v", f.PovertyTypeHistory)
		}
		if len(f.StatusHistory) != 1 {
			t.Errorf("a type change moved the status: %+v", f.StatusHistory)
		}

		var audit struct {
			Items []struct {
				ObjectID string `json:"object_id"`
			} `json:"items"`
		}
		e.do(t, "GET", "/api/v1/audit-log?action=change_poverty_type", admin, nil).json(t, &audit)
		if len(audit.Items) != 1 || audit.Items[0].ObjectID != hA.ID.String() {
			t.Errorf("audit entries: %+v", audit.Items)
		}
		var pulled wire.PullResponse
		e.do(t, "GET", "/api/v1/sync/pull?limit=2000", cadre, nil).json(t, &pulled)
		seen := false
		for _, c := range pulled.Changes {
			seen = seen || (c.Entity == "household" && c.ID == hA.ID && c.Version == hA.Version+1)
		}
		if !seen {
			t.Errorf("the paired cadre's pull lacks the household at version %d", hA.Version+1)
		}
	})
}

// TestPovertyTypeChangeJudgedFromItsDate: under a profile whose yearly rule
// binds dibao households and whose monthly rule binds wubao ones, a change
// from dibao to wubao on May 1 ends the quarterly minimum after Q1 and
// starts the monthly one from May, both in the same year.
func TestPovertyTypeChangeJudgedFromItsDate(t *testing.T) {
	dialectsAt(t, time.Date(2026, time.August, 15, 10, 0, 0, 0, domain.Shanghai), func(t *testing.T, e *testEnv) {
		admin, supervisor := e.login(t, "admin"), e.login(t, "supervisor-a")
		hA := e.householdA.Household
		e.pairSinceLastYear(t)

		p := rules.DefaultProfile()
		p.Code, p.NameZH, p.Version = "typed", "按贫困户属性分别走访", 0
		p.Rules[0].PovertyTypes = []string{domain.PovertyDibao}
		monthly := rules.MonthlyProfile().Rules[0]
		monthly.PovertyTypes, monthly.ExitedSinceYear = []string{domain.PovertyWubao}, 0
		p.Rules = append(p.Rules, monthly)
		if r := e.do(t, "PUT", "/api/v1/rule-profiles/typed", admin, p); r.Status != http.StatusCreated {
			t.Fatalf("profile: %d %s", r.Status, r.Body)
		}
		if r := e.do(t, "PUT", "/api/v1/regions/"+e.town.ID.String()+"/rule-profile", admin, map[string]any{"profile_code": "typed"}); r.Status != http.StatusOK {
			t.Fatalf("attach: %d %s", r.Status, r.Body)
		}
		if r := e.do(t, "POST", "/api/v1/households/"+hA.ID.String()+"/poverty-type", supervisor,
			povertyTypeChange(hA.Version, domain.PovertyWubao, "2026-05-01", "纳入五保供养")); r.Status != http.StatusOK {
			t.Fatalf("change: %d %s", r.Status, r.Body)
		}
		e.judgeCompliance(t)
		tl := e.timeline(t, supervisor, hA.ID, 2026)
		for _, tc := range []struct {
			rule, period string
			applies      bool
		}{
			{rules.CodeYearly6, "2026-Q1", true},
			{rules.CodeYearly6, "2026-Q3", false},
			{rules.CodeMonthly, "2026-04", false},
			{rules.CodeMonthly, "2026-05", true},
			{rules.CodeMonthly, "2026-07", true},
		} {
			if got := findStatus(tl.Statuses, tc.rule, tc.period) != nil; got != tc.applies {
				t.Errorf("%s in %s applies: %v, want %v", tc.rule, tc.period, got, tc.applies)
			}
		}
		if y := findStatus(tl.Statuses, rules.CodeYearly6, "2026"); y == nil || !y.Prorated || y.Required >= 6 {
			t.Errorf("the yearly minimum of a household dibao until May: %+v", y)
		}
	})
}
