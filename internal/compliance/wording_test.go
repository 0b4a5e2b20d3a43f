package compliance_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance"
	"github.com/fieldvisit/fieldvisit/internal/compliance/rules"
	"github.com/fieldvisit/fieldvisit/internal/testkit/storetest"
	"github.com/fieldvisit/fieldvisit/storage"
)

// halfWidth is a profile's text as builds before 2026-12-07 wrote it:
// half-width marks between Chinese characters.
var halfWidth = strings.NewReplacer("：", ": ", "，", ",", "；", ";", "（", "(", "）", ")")

// TestAReadyProfileFollowsTheBuildsWording: a database made by an older
// build keeps the ready profiles as that build wrote them. At start a
// ready profile no admin has saved takes this build's wording as its next
// version, once; one an admin saved, and one whose rules differ from the
// build's, are left as they are.
func TestAReadyProfileFollowsTheBuildsWording(t *testing.T) {
	storetest.EachCounty(t, func(t *testing.T, db *storage.DB, store *storage.Store, c storetest.County) {
		ctx := context.Background()
		svc := compliance.NewService(store.Compliance(), time.Now, nil)
		if err := svc.EnsureProfiles(ctx); err != nil {
			t.Fatal(err)
		}
		older := func(code string, change func(*rules.Profile)) string {
			t.Helper()
			p, err := svc.GetProfile(ctx, code)
			if err != nil {
				t.Fatal(err)
			}
			body, err := json.Marshal(p.Profile)
			if err != nil {
				t.Fatal(err)
			}
			var old rules.Profile
			if err := json.Unmarshal([]byte(halfWidth.Replace(string(body))), &old); err != nil {
				t.Fatal(err)
			}
			if change != nil {
				change(&old)
			}
			raw, err := json.Marshal(old)
			if err != nil {
				t.Fatal(err)
			}
			column := "?"
			if db.Dialect == storage.Postgres {
				column = "CAST(? AS jsonb)"
			}
			if err := db.Gorm.Exec("UPDATE rule_profiles SET body = "+column+" WHERE code = ?", string(raw), code).Error; err != nil {
				t.Fatal(err)
			}
			return old.Rules[0].Source
		}
		// default: as an older build left it. monthly: the older wording
		// and a rule of its own (a county's wish the build knows nothing
		// of). monthly-paired: saved by an admin with the older wording.
		older("default", nil)
		older("monthly", func(p *rules.Profile) { p.Rules[0].Minimums[0].Count++ })
		adminOld := older("monthly-paired", nil)
		paired, err := svc.GetProfile(ctx, "monthly-paired")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SaveProfile(ctx, domain.Principal{UserID: c.Admin.UserID, Username: "admin", Role: domain.RoleAdmin}, "monthly-paired", paired.Profile, paired.Version); err != nil {
			t.Fatal(err)
		}

		for range 2 { // the second start changes nothing more
			if err := svc.EnsureProfiles(ctx); err != nil {
				t.Fatal(err)
			}
		}
		built := map[string]rules.Profile{}
		for _, p := range rules.Profiles() {
			built[p.Code] = p
		}
		for _, tc := range []struct {
			code        string
			version     int
			source      string
			builtSource bool
		}{
			{"default", 2, built["default"].Rules[0].Source, true},
			{"monthly", 1, halfWidth.Replace(built["monthly"].Rules[0].Source), false},
			{"monthly-paired", 2, adminOld, false},
		} {
			p, err := svc.GetProfile(ctx, tc.code)
			if err != nil {
				t.Fatal(err)
			}
			if p.Version != tc.version || p.Rules[0].Source != tc.source {
				t.Errorf("%s after the build's start: version %d citing %q; want version %d citing %q", tc.code, p.Version, p.Rules[0].Source, tc.version, tc.source)
			}
			if tc.builtSource && strings.ContainsAny(p.Rules[0].Source, ":,;()") {
				t.Errorf("%s still cites with half-width marks: %q", tc.code, p.Rules[0].Source)
			}
		}
	})
}
