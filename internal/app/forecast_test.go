package app

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance/rules"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	"github.com/fieldvisit/fieldvisit/internal/testkit/storetest"
	"github.com/fieldvisit/fieldvisit/wire"
)

// TestForecastWarnsWhileThereIsTime (issue 19): on 2026-12-06, 25 days
// before the quarter ends, a household still owed its quarterly visit by a
// cadre who has made no visit in six weeks is at risk — the forecast of
// every current period says so, ranked, with the reason in Chinese — and
// once the cadre's recent pace covers what they owe, it is not.
func TestForecastWarnsWhileThereIsTime(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, domain.Shanghai)
	dialectsAt(t, now, func(t *testing.T, e *testEnv) {
		e.pairSinceLastYear(t)
		e.judgeCompliance(t)
		supervisor, cadre := e.login(t, "supervisor-a"), e.login(t, "cadre-a")
		forecast := func() wire.Forecast {
			t.Helper()
			var fc wire.Forecast
			e.read(t, supervisor, "/api/v1/compliance/forecast?region_id="+e.villageA.ID.String(), &fc)
			return fc
		}
		household := e.householdA.Household.ID
		atRisk := func(fc wire.Forecast) (periods []string) {
			for _, it := range fc.Items {
				if it.HouseholdID != nil && *it.HouseholdID == household {
					periods = append(periods, it.Period)
				}
			}
			return periods
		}

		fc := forecast()
		if fc.Period != nil || len(fc.Items) == 0 {
			t.Fatalf("with no period asked the forecast covers the current periods: %+v", fc)
		}
		if got := atRisk(fc); !containsAll(got, "2026-Q4", "2026") {
			t.Errorf("household A at risk in %v, want the quarter and the year", got)
		}
		first := fc.Items[0]
		if first.Risk == nil || !first.Risk.AtRisk || first.Risk.Score != 1 || !strings.Contains(first.ReasonZH, "近6周没有计入的走访") {
			t.Errorf("the worst risk first, with why: %+v %+v", first, first.Risk)
		}

		// Four visits in November meet the quarter, leave two owed this
		// year, and are a pace (4 in 30 working days, 2.5 in the 19 left)
		// that covers them.
		var visits []map[string]any
		for _, d := range []int{2, 10, 16, 25} {
			visits = append(visits, visitAt(uuid.New(), household, time.Date(2026, 11, d, 10, 0, 0, 0, domain.Shanghai), domain.KindAssist))
		}
		e.push(t, cadre, uuid.NewString(), batch("test-phone", now, visits...)).pushResult(t)
		e.judgeCompliance(t)
		if got := atRisk(forecast()); len(got) != 0 {
			t.Errorf("a cadre on pace still at risk in %v", got)
		}
		var wl wire.Worklist
		e.do(t, "GET", "/api/v1/worklist", cadre, nil).json(t, &wl)
		if len(wl.Items) == 0 {
			t.Fatal("the cadre's worklist is empty; two visits are still owed this year")
		}
		for _, it := range wl.Items {
			if it.Risk == nil || it.Risk.AtRisk || it.Risk.Pace <= 0 {
				t.Errorf("the cadre's worklist item %s %s: %+v", it.RuleCode, it.Period, it.Risk)
			}
		}
	})
}

func containsAll(have []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || h == w
		}
		if !found {
			return false
		}
	}
	return true
}

// TestCoverageNamesHouseholdsWithoutACadre (issue 19): an edge household
// nobody is responsible for is a finding of its own in the coverage
// report — named, with its status, marked unpaired and counted — and it
// goes once a cadre takes it on.
func TestCoverageNamesHouseholdsWithoutACadre(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		ctx := context.Background()
		id17 := "41152519800101123"
		edge := storetest.Must(e.app.Registry.CreateHousehold(ctx, e.admin, registry.NewHousehold{RegionID: e.villageA.ID, Status: domain.StatusEdge,
			EffectiveOn: domain.Date{Year: 2024, Month: time.March, Day: 1},
			Details:     domain.HouseholdDetails{HeadName: "王五", Causes: []string{"illness"}, Home: &domain.GeoPoint{Lat: 34.7, Lon: 113.6}},
			Members:     []domain.MemberDetails{{Name: "王五", Relation: "head", IDNumber: id17 + string(domain.IDNumberCheckChar(id17))}}}))(t)
		admin := e.login(t, "admin")
		coverage := func() (wire.Coverage, *wire.Finding) {
			t.Helper()
			c := e.coverage(t, admin)
			return c, finding(c, rules.CodeEveryHouseholdPair, edge.Household.ID)
		}
		c, f := coverage()
		if f == nil || !f.Unpaired || f.SubjectName != "王五" || f.HouseholdStatus != domain.StatusEdge || f.HouseholdStatusLabel != "边缘户" ||
			f.Severity != rules.SeverityViolation || !strings.Contains(f.ExplanationZH, "目前仍无帮扶责任人") {
			t.Fatalf("the unpaired edge household's finding: %+v", f)
		}
		if c.Unpaired.ByStatus[domain.StatusEdge] != 1 || c.Unpaired.Total < 1 {
			t.Errorf("unpaired households: %+v", c.Unpaired)
		}
		e.fixture.Pair(t, e.app.Registry, edge.Household.ID, e.cadreA.ID)
		if c, f := coverage(); (f != nil && f.Unpaired) || c.Unpaired.ByStatus[domain.StatusEdge] != 0 {
			t.Errorf("after pairing, still unpaired: %+v %+v", f, c.Unpaired)
		}
	})
}

// read GETs path as tok into out, failing the test unless it answers 200.
func (e *testEnv) read(t *testing.T, tok, path string, out any) {
	t.Helper()
	r := e.do(t, "GET", path, tok, nil)
	r.json(t, out)
	if r.Status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
	}
}

// coverage is the county's coverage report as tok reads it.
func (e *testEnv) coverage(t *testing.T, tok string) wire.Coverage {
	t.Helper()
	var c wire.Coverage
	e.read(t, tok, "/api/v1/compliance/coverage?region_id="+e.county.ID.String(), &c)
	return c
}

// finding is c's finding of rule about subject; nil when there is none.
func finding(c wire.Coverage, rule string, subject uuid.UUID) *wire.Finding {
	for i := range c.Findings {
		if c.Findings[i].RuleCode == rule && c.Findings[i].SubjectID == subject {
			return &c.Findings[i]
		}
	}
	return nil
}
