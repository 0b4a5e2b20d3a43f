package app

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance"
	"github.com/fieldvisit/fieldvisit/internal/compliance/rules"
)

// principalOf is the caller a user's API login makes, as the console and
// the handlers get it from auth.Service.
func (e *testEnv) principalOf(t *testing.T, username string) domain.Principal {
	t.Helper()
	p, err := e.app.Auth.Authenticate(context.Background(), e.login(t, username))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestConsoleQueries: what the console's overview and map read from the
// compliance service — rates by town and village, the monthly trend,
// visits by evidence flag, villages placed at their households' centre
// and a village's households — agrees with the missed-visit report and
// the stored visits, and keeps to the caller's scope, on both dialects.
func TestConsoleQueries(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		ctx := context.Background()
		now := e.app.Now()
		hA := e.householdA.Household.ID
		e.pairSinceLastYear(t)
		cadre := e.login(t, "cadre-a")
		near, far := uuid.New(), uuid.New()
		farVisit := visitAt(far, hA, now.Add(-3*time.Hour), domain.KindAssist)
		farVisit["data"].(map[string]any)["gps"] = []map[string]any{{"lat": 35.9, "lon": 113.6, "accuracy": 12, "provider": "gps", "mock": false,
			"device_time": now.Add(-3 * time.Hour).Format(time.RFC3339)}}
		e.push(t, cadre, uuid.NewString(), batch("test-phone", now, visitAt(near, hA, now.Add(-2*time.Hour), domain.KindAssist), farVisit)).pushResult(t)
		e.judgeCompliance(t)
		admin, cadreA := e.admin, e.principalOf(t, "cadre-a")
		month, _ := rules.PeriodOf(rules.WindowMonth, domain.DateOf(now))

		t.Run("flags count the visits carrying each", func(t *testing.T) {
			flags, per, err := e.app.Compliance.FlagCounts(ctx, admin, e.county.ID, "")
			if err != nil || per.Key() != month.Key() {
				t.Fatalf("flag counts: %v, period %s", err, per.Key())
			}
			want := map[string]int64{}
			for _, id := range []uuid.UUID{near, far} {
				v, err := e.app.Store.Visit(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range v.Flags {
					want[f.Code]++
				}
			}
			if want["far_from_home"] != 1 {
				t.Fatalf("the far visit should be flagged far_from_home once: %v", want)
			}
			got := map[string]int64{}
			for _, f := range flags {
				got[f.Code] = f.Visits
				if f.LabelZH == "" || f.LabelZH == f.Code {
					t.Errorf("flag %s has no Chinese label", f.Code)
				}
			}
			if len(got) != len(want) {
				t.Fatalf("flag counts %v, want %v", got, want)
			}
			for code, n := range want {
				if got[code] != n {
					t.Errorf("%s: %d visits, want %d", code, got[code], n)
				}
			}
			// A cadre does not read the region's reports.
			if _, _, err := e.app.Compliance.FlagCounts(ctx, cadreA, e.county.ID, ""); !domain.IsCode(err, domain.CodeForbidden) {
				t.Errorf("a cadre's flag counts: %v, want forbidden", err)
			}
		})

		t.Run("rates agree with the missed-visit report", func(t *testing.T) {
			rates, err := e.app.Compliance.Rates(ctx, admin, e.county.ID, nil)
			if err != nil || len(rates) != 3 {
				t.Fatalf("rates: %v (%d periods)", err, len(rates))
			}
			if rates[1].Total.Total == 0 || rates[2].Total.Total == 0 {
				t.Fatalf("nothing judged for the quarter or year: %+v", rates)
			}
			if rates[0].Period.Window != rules.WindowMonth || rates[1].Period.Window != rules.WindowQuarter || rates[2].Period.Window != rules.WindowYear {
				t.Errorf("periods: %s %s %s, want the month, quarter and year", rates[0].Period.Key(), rates[1].Period.Key(), rates[2].Period.Key())
			}
			for _, pc := range rates {
				rep, err := e.app.Compliance.Missed(ctx, admin, compliance.ReportQuery{RegionID: e.county.ID, Period: pc.Period.Key()})
				if err != nil {
					t.Fatal(err)
				}
				if pc.Total != rep.Total {
					t.Errorf("%s: rates total %+v, report total %+v", pc.Period.Key(), pc.Total, rep.Total)
				}
				var villages int64
				for _, v := range pc.Villages {
					villages += v.Total
					if v.Name == "" {
						t.Errorf("%s: village %s has no name", pc.Period.Key(), v.ID)
					}
				}
				towns := 0 // the county's one town, when anything was judged in the period
				if pc.Total.Total > 0 {
					towns = 1
				}
				if villages != pc.Total.Total || len(pc.Towns) != towns || (towns == 1 && pc.Towns[0].Total != pc.Total.Total) {
					t.Errorf("%s: villages add up to %d, towns %+v, total %d", pc.Period.Key(), villages, pc.Towns, pc.Total.Total)
				}
			}
			trend, err := e.app.Compliance.Trend(ctx, admin, e.county.ID, 12)
			if err != nil || len(trend) != 12 {
				t.Fatalf("trend: %v (%d months)", err, len(trend))
			}
			if last := trend[11]; last.Period.Key() != month.Key() || last.Total != rates[0].Total {
				t.Errorf("the trend ends with %s %+v, want %s %+v", last.Period.Key(), last.Total, month.Key(), rates[0].Total)
			}
			if _, err := e.app.Compliance.Trend(ctx, admin, e.county.ID, 0); !domain.IsCode(err, domain.CodeInvalid) {
				t.Errorf("a trend of 0 months: %v, want invalid", err)
			}
		})

		t.Run("the map places villages at their households and keeps to scope", func(t *testing.T) {
			for _, tt := range []struct {
				who      domain.Principal
				villages []uuid.UUID
			}{
				{admin, []uuid.UUID{e.villageA.ID, e.villageB.ID}},
				{cadreA, []uuid.UUID{e.villageA.ID}},
			} {
				m, err := e.app.Compliance.VillageMap(ctx, tt.who)
				if err != nil {
					t.Fatal(err)
				}
				got := map[uuid.UUID]compliance.VillageMark{}
				for _, v := range m.Villages {
					got[v.ID] = v
				}
				if len(got) != len(tt.villages) {
					t.Errorf("%s sees villages %v, want %v", tt.who.Username, got, tt.villages)
				}
				for _, id := range tt.villages {
					v := got[id]
					if v.Households != 1 || v.Centroid == nil || *v.Centroid != (domain.GeoPoint{Lat: 34.7, Lon: 113.6}) || v.Name == "" || v.TownName != e.town.Name {
						t.Errorf("%s: village %s is %+v", tt.who.Username, id, v)
					}
				}
			}
			marks, _, err := e.app.Compliance.VillageHouseholds(ctx, cadreA, e.villageA.ID)
			if err != nil || len(marks) != 1 || marks[0].ID != hA || marks[0].State == "" || marks[0].Home == nil {
				t.Fatalf("cadre A's village: %v %+v", err, marks)
			}
			if _, _, err := e.app.Compliance.VillageHouseholds(ctx, cadreA, e.villageB.ID); !domain.IsCode(err, domain.CodeNotFound) {
				t.Errorf("cadre A opening village B: %v, want not found", err)
			}
		})
	})
}
