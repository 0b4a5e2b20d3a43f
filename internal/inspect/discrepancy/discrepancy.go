// Package discrepancy scores how far an inspected household's account and
// the inspector's findings disagree with what its cadre recorded (DESIGN
// §7: findings that disagree with the cadre's records are flagged; seed 001:
// 调研走形式). It is pure: the inspection service gathers the facts, this
// package weighs them, and every point of a score comes with its reason in
// Chinese and English, so a supervisor can see why a visit looks like 纸上帮扶
// (paper assistance: recorded, never done).
package discrepancy

import (
	"fmt"
	"slices"
	"sort"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// Facts are what is known of one inspected household.
type Facts struct {
	HouseholdID, VillageID, TownID uuid.UUID
	CadreID                        *uuid.UUID // the cadre responsible at the inspection; nil when unpaired

	// From the cadre's records over the window (the last three months).
	RecordedVisits  int      // visits the cadre recorded to this household
	FlaggedVisits   int      // of those, visits with evidence flags
	PhotoReuse      bool     // a photo of these visits was also used elsewhere
	RecordedMeasure []string // measures the cadre recorded doing or arranging
	CadreMet        []string // 两不愁三保障 items the cadre's latest visit recorded as met

	// From the household, as the inspector heard it.
	RecalledVisits   int  // how many visits the household remembers
	CadreRecognised  bool // the household knew who their cadre is
	MeasuresReceived []string

	// From the inspector's own findings.
	ProblemsFound []string // 两不愁三保障 items the inspector found a problem with
}

// Reason is one disagreement and what it adds to the score.
type Reason struct {
	Code      string  `json:"code"`
	Points    int     `json:"points"`
	Message   string  `json:"message"`
	MessageZH string  `json:"message_zh"`
	Value     float64 `json:"value,omitempty"`
}

// Score is a household's discrepancy score, 0 (the accounts agree) to 100.
type Score struct {
	HouseholdID uuid.UUID
	CadreID     *uuid.UUID
	VillageID   uuid.UUID
	TownID      uuid.UUID
	Points      int
	Reasons     []Reason
	// LikelyPaper marks records that look made on paper: visits were
	// recorded, and the household's account denies them (纸上帮扶).
	LikelyPaper bool
}

// Weights of each reason; a reason with a count adds its weight per unit,
// up to its cap.
const (
	perVisitNotRecalled   = 10 // each recorded visit beyond the first the household does not remember
	capVisitsNotRecalled  = 40
	cadreNotRecognised    = 25
	allVisitsFlagged      = 15
	photoReuse            = 15
	perMeasureNotReceived = 5
	capMeasures           = 15
	perContradiction      = 10 // a 两不愁三保障 item recorded met that the inspector found a problem with
	capContradictions     = 20
	// PaperThreshold is the score from which a household's visits are
	// listed as likely paper visits.
	PaperThreshold = 40
)

// Weigh scores one household.
func Weigh(f Facts) Score {
	s := Score{HouseholdID: f.HouseholdID, CadreID: f.CadreID, VillageID: f.VillageID, TownID: f.TownID, Reasons: []Reason{}}
	add := func(r Reason) {
		if r.Points > 0 {
			s.Reasons = append(s.Reasons, r)
			s.Points += r.Points
		}
	}
	// Memory is imperfect: one visit forgotten is not a discrepancy.
	if missing := f.RecordedVisits - f.RecalledVisits; missing >= 2 {
		add(Reason{Code: "visits_not_recalled", Points: min(capVisitsNotRecalled, perVisitNotRecalled*missing), Value: float64(missing),
			Message:   fmt.Sprintf("the cadre recorded %d visits in the last three months; the household recalls %d", f.RecordedVisits, f.RecalledVisits),
			MessageZH: fmt.Sprintf("帮扶干部近三个月记录入户%d次，农户只记得%d次", f.RecordedVisits, f.RecalledVisits)})
	}
	if f.RecordedVisits > 0 && !f.CadreRecognised {
		add(Reason{Code: "cadre_not_recognised", Points: cadreNotRecognised,
			Message: "the household does not know its cadre", MessageZH: "农户不认识帮扶干部"})
	}
	if f.RecordedVisits > 0 && f.FlaggedVisits == f.RecordedVisits {
		add(Reason{Code: "all_visits_flagged", Points: allVisitsFlagged, Value: float64(f.FlaggedVisits),
			Message: "every recorded visit carries evidence flags", MessageZH: "记录的走访全部存在存疑标记"})
	}
	if f.PhotoReuse {
		add(Reason{Code: "photo_reuse", Points: photoReuse,
			Message: "a photo of these visits was used for another visit too", MessageZH: "走访照片被重复用于其他走访"})
	}
	var notReceived []string
	for _, m := range dedupe(f.RecordedMeasure) {
		if !slices.Contains(f.MeasuresReceived, m) {
			notReceived = append(notReceived, m)
		}
	}
	if len(notReceived) > 0 {
		add(Reason{Code: "measures_not_received", Points: min(capMeasures, perMeasureNotReceived*len(notReceived)), Value: float64(len(notReceived)),
			Message:   fmt.Sprintf("%d measure(s) the cadre recorded the household says it did not receive: %v", len(notReceived), notReceived),
			MessageZH: fmt.Sprintf("干部记录的帮扶措施中有%d项农户称未享受：%s", len(notReceived), labels(domain.Measures, notReceived))})
	}
	var contradicted []string
	for _, item := range dedupe(f.ProblemsFound) {
		if slices.Contains(f.CadreMet, item) {
			contradicted = append(contradicted, item)
		}
	}
	if len(contradicted) > 0 {
		add(Reason{Code: "checklist_contradicted", Points: min(capContradictions, perContradiction*len(contradicted)), Value: float64(len(contradicted)),
			Message:   fmt.Sprintf("the cadre recorded %v as met; the inspector found problems", contradicted),
			MessageZH: fmt.Sprintf("干部记录为已保障的%s，督查发现存在问题", labels(domain.ChecklistItems, contradicted))})
	}
	s.Points = min(100, s.Points)
	s.LikelyPaper = f.RecordedVisits > 0 && s.Points >= PaperThreshold
	return s
}

// Group is the scores of the households of one cadre, village or town.
type Group struct {
	ID          uuid.UUID
	Households  int
	MeanPoints  float64
	LikelyPaper int // households whose visits look made on paper
}

// By sums scores by key (a cadre, a village or a town); households without
// one (an unpaired household, grouped by cadre) are left out. Groups come
// worst first, then by id.
func By(scores []Score, key func(Score) *uuid.UUID) []Group {
	sums := map[uuid.UUID]*Group{}
	points := map[uuid.UUID]int{}
	for _, s := range scores {
		k := key(s)
		if k == nil {
			continue
		}
		g := sums[*k]
		if g == nil {
			g = &Group{ID: *k}
			sums[*k] = g
		}
		g.Households++
		points[*k] += s.Points
		if s.LikelyPaper {
			g.LikelyPaper++
		}
	}
	out := make([]Group, 0, len(sums))
	for k, g := range sums {
		g.MeanPoints = float64(points[k]) / float64(g.Households)
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].MeanPoints != out[j].MeanPoints {
			return out[i].MeanPoints > out[j].MeanPoints
		}
		return out[i].ID.String() < out[j].ID.String()
	})
	return out
}

// ByCadre, ByVillage and ByTown are By's keys.
func ByCadre(s Score) *uuid.UUID   { return s.CadreID }
func ByVillage(s Score) *uuid.UUID { return &s.VillageID }
func ByTown(s Score) *uuid.UUID    { return &s.TownID }

func dedupe(in []string) []string {
	var out []string
	for _, v := range in {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func labels(v domain.Vocabulary, codes []string) string {
	out := ""
	for i, c := range codes {
		l, ok := v.Label(c)
		if !ok {
			l = c
		}
		if i > 0 {
			out += "、"
		}
		out += l
	}
	return out
}
