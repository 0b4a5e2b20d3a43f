package discrepancy

import (
	"testing"

	"github.com/google/uuid"
)

// TestWeigh is the scoring rule as a table: what disagrees, for how many
// points, and when the records look made on paper.
func TestWeigh(t *testing.T) {
	honest := Facts{RecordedVisits: 3, RecalledVisits: 3, CadreRecognised: true, RecordedMeasure: []string{"industry"},
		MeasuresReceived: []string{"industry"}, CadreMet: []string{"food", "housing"}}
	cases := []struct {
		name    string
		change  func(f *Facts)
		reasons []string
		points  int
		paper   bool
	}{
		{"the accounts agree", func(*Facts) {}, nil, 0, false},
		{"one visit forgotten is memory, not a discrepancy", func(f *Facts) { f.RecalledVisits = 2 }, nil, 0, false},
		{"recorded 6, recalled 1", func(f *Facts) { f.RecordedVisits, f.RecalledVisits = 6, 1 }, []string{"visits_not_recalled"}, 40, true},
		{"recorded 3, recalled 1", func(f *Facts) { f.RecalledVisits = 1 }, []string{"visits_not_recalled"}, 20, false},
		{"the household does not know its cadre", func(f *Facts) { f.CadreRecognised = false }, []string{"cadre_not_recognised"}, 25, false},
		{"recorded 6, recalled 0, cadre unknown", func(f *Facts) { f.RecordedVisits, f.RecalledVisits, f.CadreRecognised = 6, 0, false },
			[]string{"visits_not_recalled", "cadre_not_recognised"}, 65, true},
		{"every visit flagged", func(f *Facts) { f.FlaggedVisits = 3 }, []string{"all_visits_flagged"}, 15, false},
		{"some visits flagged", func(f *Facts) { f.FlaggedVisits = 2 }, nil, 0, false},
		{"photo reuse", func(f *Facts) { f.PhotoReuse = true }, []string{"photo_reuse"}, 15, false},
		{"measures not received", func(f *Facts) { f.RecordedMeasure = []string{"industry", "employment", "medical", "dibao"} },
			[]string{"measures_not_received"}, 15, false},
		{"met on paper, a problem in the house", func(f *Facts) { f.ProblemsFound = []string{"housing", "water"} },
			[]string{"checklist_contradicted"}, 10, false},
		{"no recorded visits: nothing to contradict", func(f *Facts) {
			f.RecordedVisits, f.RecalledVisits, f.CadreRecognised = 0, 0, false
		}, nil, 0, false},
		{"everything at once stops at 100", func(f *Facts) {
			*f = Facts{RecordedVisits: 8, FlaggedVisits: 8, PhotoReuse: true, RecordedMeasure: []string{"industry", "employment", "medical"},
				CadreMet: []string{"food", "clothing", "housing"}, ProblemsFound: []string{"food", "clothing", "housing"}}
		}, []string{"visits_not_recalled", "cadre_not_recognised", "all_visits_flagged", "photo_reuse", "measures_not_received", "checklist_contradicted"}, 100, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := honest
			tc.change(&f)
			s := Weigh(f)
			var codes []string
			for _, r := range s.Reasons {
				codes = append(codes, r.Code)
				if r.Message == "" || r.MessageZH == "" || r.Points <= 0 {
					t.Errorf("reason %+v must explain itself in both languages", r)
				}
			}
			if s.Points != tc.points || s.LikelyPaper != tc.paper || !equal(codes, tc.reasons) {
				t.Fatalf("got %d points (paper %v) for %v, want %d (paper %v) for %v", s.Points, s.LikelyPaper, codes, tc.points, tc.paper, tc.reasons)
			}
		})
	}
}

// TestGroupsRankWorstFirst: cadres, villages and towns are ranked by their
// households' mean score, likely paper visits counted, unpaired households
// left out of the cadres' ranking.
func TestGroupsRankWorstFirst(t *testing.T) {
	a, b := uuid.MustParse("00000000-0000-4000-8000-00000000000a"), uuid.MustParse("00000000-0000-4000-8000-00000000000b")
	village := uuid.New()
	scores := []Score{
		{CadreID: &a, VillageID: village, Points: 10},
		{CadreID: &a, VillageID: village, Points: 50, LikelyPaper: true},
		{CadreID: &b, VillageID: village, Points: 70, LikelyPaper: true},
		{CadreID: nil, VillageID: village, Points: 90},
	}
	cadres := By(scores, ByCadre)
	if len(cadres) != 2 || cadres[0].ID != b || cadres[0].MeanPoints != 70 || cadres[1].MeanPoints != 30 || cadres[1].LikelyPaper != 1 {
		t.Fatalf("cadres %+v", cadres)
	}
	villages := By(scores, ByVillage)
	if len(villages) != 1 || villages[0].Households != 4 || villages[0].MeanPoints != 55 || villages[0].LikelyPaper != 2 {
		t.Fatalf("villages %+v", villages)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
