package storage_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/casework"
	"github.com/fieldvisit/fieldvisit/internal/testkit/storetest"
	"github.com/fieldvisit/fieldvisit/storage"
)

// TestSavedExitStandardsGainTheOpenRiskCheck: a year's standard saved
// before no_open_risk was an indicator gains it once, where the built-in
// list has it (before the indicators confirmed at the village review,
// else last), with its version moved on; one that checks open risks
// already is left as it was; and the exit candidates of such a year then
// name a household's open risk. The admin may still remove it.
func TestSavedExitStandardsGainTheOpenRiskCheck(t *testing.T) {
	codes := func(ins []casework.Indicator) []string {
		out := make([]string, len(ins))
		for i, in := range ins {
			out[i] = in.Code
		}
		return out
	}
	builtin := casework.DefaultExitStandard(2026).Indicators
	withoutRisk := slices.DeleteFunc(slices.Clone(builtin), func(in casework.Indicator) bool { return in.Check == casework.CheckNoOpenRisk })
	risk := builtin[slices.IndexFunc(builtin, func(in casework.Indicator) bool { return in.Check == casework.CheckNoOpenRisk })]
	renamedRisk := casework.Indicator{Code: "risk_cleared", NameZH: "风险已消除", Check: casework.CheckNoOpenRisk}
	standards := []struct {
		name  string
		year  int
		saved []casework.Indicator
		want  []string // the codes after the migration; nil: as saved
	}{
		{"the nine of before the decision", 2026, withoutRisk, codes(builtin)},
		{"none confirmed at the review", 2025, withoutRisk[:3], []string{"income", "food", "clothing", "no_open_risk"}},
		{"confirmed ones first", 2024, []casework.Indicator{withoutRisk[8], withoutRisk[0], withoutRisk[7]},
			[]string{"no_open_risk", "agreement", "income", "livelihood"}},
		{"the risk check last, as an admin placed it", 2023, append(slices.Clone(withoutRisk), risk), nil},
		{"the risk check under another code", 2022, []casework.Indicator{withoutRisk[0], renamedRisk, withoutRisk[7]}, nil},
	}
	storetest.EachCounty(t, func(t *testing.T, db *storage.DB, store *storage.Store, county storetest.County) {
		ctx := context.Background()
		if err := db.MigrateDownTo(ctx, 20); err != nil {
			t.Fatal(err)
		}
		for _, s := range standards {
			st := casework.DefaultExitStandard(s.year)
			st.Indicators, st.Version, st.UpdatedAt = s.saved, 1, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
			if err := store.SaveExitStandard(ctx, st, 0, domain.AuditEntry{}); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := db.MigrateUpTo(ctx, 21); err != nil || n != 1 {
			t.Fatalf("migrate over saved standards: %d applied, %v", n, err)
		}
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		for _, s := range standards {
			got, err := store.ExitStandard(ctx, s.year)
			if err != nil {
				t.Fatal(err)
			}
			if s.want == nil {
				if !slices.Equal(got.Indicators, s.saved) || got.Version != 1 {
					t.Errorf("%s: changed to %v, version %d", s.name, got.Indicators, got.Version)
				}
				continue
			}
			if !slices.Equal(codes(got.Indicators), s.want) || got.Version != 2 {
				t.Errorf("%s: %v, version %d; want %v, version 2", s.name, codes(got.Indicators), got.Version, s.want)
			}
			if at := slices.Index(codes(got.Indicators), risk.Code); at >= 0 && got.Indicators[at] != risk {
				t.Errorf("%s: the added indicator %+v, want %+v", s.name, got.Indicators[at], risk)
			}
		}
		var stored string
		if err := db.Gorm.Raw("SELECT CAST(indicators AS TEXT) FROM exit_standards WHERE year = 2026").Scan(&stored).Error; err != nil {
			t.Fatal(err)
		}
		var asStored []map[string]string
		if err := json.Unmarshal([]byte(stored), &asStored); err != nil || slices.ContainsFunc(asStored, func(in map[string]string) bool { return len(in) != 3 }) {
			t.Fatalf("the stored list is not an array of indicators as storage spells them: %s (%v)", stored, err)
		}

		// A serious illness seen at household A is not resolved: 2026 does
		// not let it exit, and says why.
		h := county.HouseholdA.Household
		seen := domain.Date{Year: 2026, Month: time.November, Day: 2}
		if err := store.InsertWarnings(ctx, []casework.Warning{{ID: uuid.New(), CountyID: h.CountyID, HouseholdID: h.ID, List: casework.ListRegister,
			Trigger: "serious_illness", VisitID: uuid.New(), SeenOn: seen, CadreID: county.CadreA.ID, State: casework.WarningOpen,
			CreatedAt: time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC), Version: 1}}); err != nil {
			t.Fatal(err)
		}
		now := func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }
		cw := casework.NewService(store.Casework(), nil, now)
		cands, _, _, err := cw.ExitCandidates(ctx, county.Admin, casework.CandidateQuery{RegionID: county.County.ID, Year: 2026, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(cands, func(c casework.Candidate) bool { return c.Household.ID == h.ID })
		if i < 0 {
			t.Fatalf("household A is not a candidate: %+v", cands)
		}
		j := slices.IndexFunc(cands[i].Reasons, func(r casework.Reason) bool { return r.Code == risk.Code })
		if j < 0 || cands[i].Reasons[j].Met || cands[i].Reasons[j].ReasonZH != "存在未消除的返贫风险：大病（2026-11-02 登记）" {
			t.Fatalf("household A's reasons do not hold it for the open illness: %+v", cands[i].Reasons)
		}

		// The admin removes the indicator again: it stays removed.
		st, err := cw.ExitStandardOf(ctx, county.Admin, 2026)
		if err != nil {
			t.Fatal(err)
		}
		st.Indicators = withoutRisk
		if _, err := cw.PutExitStandard(ctx, county.Admin, st); err != nil {
			t.Fatal(err)
		}
		if n, err := db.Migrate(ctx); err != nil || n != 0 {
			t.Fatalf("migrate again: %d applied, %v", n, err)
		}
		if got, err := store.ExitStandard(ctx, 2026); err != nil || slices.Contains(codes(got.Indicators), risk.Code) {
			t.Errorf("the standard the admin saved without the risk check: %v (%v)", codes(got.Indicators), err)
		}
	})
}
