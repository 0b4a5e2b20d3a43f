package inspect

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/inspect/forms"
	"github.com/fieldvisit/fieldvisit/internal/photos/evidence"
)

func day(s string) domain.Date {
	d, err := domain.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// TestResponsibleCadre: the cadre responsible is the one paired with the
// household on the day of the findings; of two in force, the latest begun.
func TestResponsibleCadre(t *testing.T) {
	h, other := uuid.New(), uuid.New()
	early, late, gone, elsewhere := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	end := day("2026-06-01")
	pairings := []domain.Pairing{
		{ID: uuid.New(), HouseholdID: h, CadreID: gone, StartOn: day("2025-01-01"), EndOn: &end},
		{ID: uuid.New(), HouseholdID: h, CadreID: early, StartOn: day("2026-06-01")},
		{ID: uuid.New(), HouseholdID: h, CadreID: late, StartOn: day("2026-11-01")},
		{ID: uuid.New(), HouseholdID: other, CadreID: elsewhere, StartOn: day("2020-01-01")},
	}
	cases := []struct {
		on   string
		want *uuid.UUID
	}{
		{"2024-12-31", nil},
		{"2026-05-31", &gone},
		{"2026-06-01", &early}, // the old pairing ended the day before
		{"2026-12-01", &late},
	}
	for _, tc := range cases {
		got := ResponsibleCadre(pairings, h, day(tc.on))
		if same := (got == nil) == (tc.want == nil) && (got == nil || *got == *tc.want); !same {
			t.Errorf("on %s: %v, want %v", tc.on, got, tc.want)
		}
	}
}

// TestHouseholdFacts: what is counted of the cadre's records — their own
// visits of the three months before the findings, not the inspectors'
// inspection visits nor another cadre's, nor older ones — and what is
// read from the latest of them.
func TestHouseholdFacts(t *testing.T) {
	h := SampledHousehold{HouseholdID: uuid.New(), VillageID: uuid.New(), TownID: uuid.New()}
	cadre, inspector, colleague := uuid.New(), uuid.New(), uuid.New()
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, domain.Shanghai)
	n3 := 1
	yes := true
	f := Finding{RecordedAt: at, Answers: map[string]forms.Answer{
		forms.ItemVisitsRecalled: {Count: &n3}, forms.ItemCadreRecognised: {Yes: &yes}, forms.ItemMeasures: {Choices: []string{"industry"}},
		"housing": {Choice: "problem"}, "food": {Choice: "met"},
	}}
	visit := func(by uuid.UUID, kind string, daysBefore int, flags []string, measures []string, checklist map[string]string) VisitFact {
		return VisitFact{ID: uuid.New(), HouseholdID: h.HouseholdID, CadreID: by, Kind: kind, StartedAt: at.AddDate(0, 0, -daysBefore),
			Flags: flags, Measures: measures, Checklist: checklist}
	}
	visits := []VisitFact{
		visit(cadre, domain.KindAssist, 80, []string{evidence.FlagNoPhoto}, []string{"industry"}, map[string]string{"housing": "problem"}),
		visit(cadre, domain.KindFollowup, 40, []string{evidence.FlagPhotoReuse}, []string{"medical", "industry"}, nil),
		visit(cadre, domain.KindAssist, 5, nil, nil, map[string]string{"housing": "met", "food": "met", "water": "problem"}),
		visit(cadre, domain.KindAssist, 100, []string{evidence.FlagNoPhoto}, []string{"dibao"}, nil),               // older than three months
		visit(inspector, domain.KindInspection, 0, nil, nil, map[string]string{"housing": "problem"}),              // the inspector's
		visit(cadre, domain.KindInspection, 1, nil, nil, nil),                                                      // an inspection, whoever made it
		visit(colleague, domain.KindAssist, 10, nil, []string{"employment"}, map[string]string{"clothing": "met"}), // not the cadre responsible
		{ID: uuid.New(), HouseholdID: uuid.New(), CadreID: cadre, Kind: domain.KindAssist, StartedAt: at.AddDate(0, 0, -3)},
	}
	got := HouseholdFacts(h, f, &cadre, visits)
	type summary struct {
		Recorded, Flagged  int
		Reuse              bool
		Measures, Met      []string
		Recalled           int
		Recognised         bool
		Received, Problems []string
	}
	want := fmt.Sprintf("%+v", summary{3, 2, true, []string{"industry", "medical"}, []string{"food", "housing"}, 1, true, []string{"industry"}, []string{"housing"}})
	have := fmt.Sprintf("%+v", summary{got.RecordedVisits, got.FlaggedVisits, got.PhotoReuse, got.RecordedMeasure, got.CadreMet, got.RecalledVisits,
		got.CadreRecognised, got.MeasuresReceived, got.ProblemsFound})
	if have != want {
		t.Fatalf("facts\n got %s\nwant %s", have, want)
	}
	if unpaired := HouseholdFacts(h, f, nil, visits); unpaired.RecordedVisits != 0 || unpaired.CadreID != nil || unpaired.RecalledVisits != 1 {
		t.Fatalf("an unpaired household has no cadre's records: %+v", unpaired)
	}
}

// TestOpinionRanking: the rates of each group, whether they meet the
// targets, and the order: furthest below the targets first, then the
// lower 知晓率, then the lower 满意率.
func TestOpinionRanking(t *testing.T) {
	v := func(n byte) uuid.UUID { return uuid.UUID{n} }
	answer := func(village uuid.UUID, satisfied *bool, aware float64) HouseholdScore {
		var s HouseholdScore
		s.VillageID = village
		s.Account = forms.HouseholdAccount{Satisfied: satisfied, Aware: &aware}
		return s
	}
	yes, no := true, false
	scores := []HouseholdScore{
		// village 1: 19 of 20 satisfied (95%), all aware: meets both
		// village 2: all satisfied, half partly aware (75%)
		// village 3: all satisfied, all partly aware (50%)
		// village 4: nobody satisfied, all aware
		answer(v(2), &yes, 1), answer(v(2), &yes, 0.5),
		answer(v(3), &yes, 0.5),
		answer(v(4), &no, 1),
	}
	for i := range 20 {
		s := &yes
		if i == 0 {
			s = &no
		}
		scores = append(scores, answer(v(1), s, 1))
	}
	groups := opinionBy(scores, func(s HouseholdScore) *uuid.UUID { return &s.VillageID }, DefaultTargets())
	var order []string
	for _, g := range groups {
		order = append(order, fmt.Sprintf("%d:%d %.4f %v/%v", g.Rank, g.ID[0], g.Shortfall, g.MeetsSatisfaction, g.MeetsAwareness))
	}
	want := []string{"1:4 0.9500 false/true", "2:3 0.5000 true/false", "3:2 0.2500 true/false", "4:1 0.0000 true/true"}
	if fmt.Sprint(order) != fmt.Sprint(want) {
		t.Fatalf("ranking\n got %v\nwant %v", order, want)
	}
	lenient := opinionBy(scores, func(s HouseholdScore) *uuid.UUID { return &s.VillageID }, Targets{Awareness: 0.5, Satisfaction: 0})
	for _, g := range lenient {
		if g.Shortfall != 0 || !g.MeetsAwareness || !g.MeetsSatisfaction {
			t.Errorf("village %d against lenient targets: %+v", g.ID[0], g)
		}
	}
	if lenient[0].ID != v(3) {
		t.Errorf("with every target met, the lowest 知晓率 ranks first: %d", lenient[0].ID[0])
	}
}
