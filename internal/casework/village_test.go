package casework

import (
	"strings"
	"testing"

	"github.com/fieldvisit/fieldvisit/domain"
)

// TestJudgeVillage: the incidence must be strictly below the bar, the
// collective income reach it to the fen, and every yes/no item be
// recorded yes; a village that has exited does not qualify again. Every
// criterion says why, in Chinese.
func TestJudgeVillage(t *testing.T) {
	st := DefaultVillageExitStandard(2026) // below 20‰, 50,000.00 yuan
	allYes := map[string]bool{}
	for _, in := range st.Indicators {
		allYes[in.Code] = true
	}
	oneNo := map[string]bool{}
	for k, v := range allYes {
		oneNo[k] = v
	}
	oneNo["road"] = false
	income := func(fen int64) *int64 { return &fen }
	for _, tc := range []struct {
		name      string
		pop       Population
		income    *int64
		items     map[string]bool
		exit      *VillageExit
		qualifies bool
		failing   string
	}{
		{"every criterion met", Population{Poor: 1, All: 100}, income(5_000_000), allYes, nil, true, ""},
		{"incidence exactly at the bar", Population{Poor: 2, All: 100}, income(5_000_000), allYes, nil, false, "incidence"},
		{"nobody poor", Population{Poor: 0, All: 100}, income(5_000_000), allYes, nil, true, ""},
		{"nobody on the register", Population{}, income(5_000_000), allYes, nil, false, "incidence"},
		{"collective income one fen short", Population{Poor: 1, All: 100}, income(4_999_999), allYes, nil, false, "collective_income"},
		{"collective income not recorded", Population{Poor: 1, All: 100}, nil, allYes, nil, false, "collective_income"},
		{"a road missing", Population{Poor: 1, All: 100}, income(5_000_000), oneNo, nil, false, "road"},
		{"items not recorded", Population{Poor: 1, All: 100}, income(5_000_000), nil, nil, false, "clinic"},
		{"exited already", Population{Poor: 0, All: 100}, income(5_000_000), allYes, &VillageExit{Year: 2025, ExitedOn: domain.Date{Year: 2025, Month: 9, Day: 1}},
			false, "not_exited"},
	} {
		c := JudgeVillage(domain.Region{}, st, tc.pop, VillageRecord{CollectiveIncomeFen: tc.income, Indicators: tc.items}, tc.exit)
		if c.Qualifies != tc.qualifies {
			t.Errorf("%s: qualifies %v, want %v (%+v)", tc.name, c.Qualifies, tc.qualifies, c.Reasons)
		}
		for _, r := range c.Reasons {
			if r.ReasonZH == "" {
				t.Errorf("%s: %s says no why", tc.name, r.Code)
			}
			if r.Code == tc.failing && r.Met {
				t.Errorf("%s: %s is met: %+v", tc.name, r.Code, r)
			}
		}
	}
}

// TestPermille: the incidence reads in ‰ with one decimal, rounded half up.
func TestPermille(t *testing.T) {
	for _, tc := range []struct {
		part, all int
		want      string
	}{{3, 200, "15.0"}, {1, 3, "333.3"}, {2, 3, "666.7"}, {1, 2000, "0.5"}, {0, 10, "0.0"}, {5, 0, "0.0"}, {7, 7, "1000.0"}} {
		if got := Permille(tc.part, tc.all); got != tc.want {
			t.Errorf("%d of %d: %s, want %s", tc.part, tc.all, got, tc.want)
		}
	}
	if r := JudgeVillage(domain.Region{}, DefaultVillageExitStandard(2026), Population{Poor: 3, All: 200}, VillageRecord{}, nil).Reasons[0]; !strings.Contains(r.ReasonZH, "15.0‰") {
		t.Errorf("the incidence reason: %s", r.ReasonZH)
	}
}
