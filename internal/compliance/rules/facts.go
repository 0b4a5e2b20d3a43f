package rules

import (
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// Span is one stretch of a household's status history, To exclusive (open
// when nil), read the same way as a pairing's dates.
type Span struct {
	Status      string       `json:"status"`
	PovertyType string       `json:"poverty_type,omitempty"`
	ExitYear    int          `json:"exit_year,omitempty"` // 0 when unknown
	From        domain.Date  `json:"from"`
	To          *domain.Date `json:"to,omitempty"`
}

// HouseholdFacts is what the rules need to know of a household: where it is,
// its status history and its pairing history. Rules read history, not the
// current status, so a household that exits in June is judged as registered
// until June.
type HouseholdFacts struct {
	ID          uuid.UUID        `json:"id"`
	VillageID   uuid.UUID        `json:"village_id"`
	RegionID    uuid.UUID        `json:"region_id"` // village group, or the village when it has no groups
	TownID      uuid.UUID        `json:"town_id"`
	StatusSpans []Span           `json:"status_spans"`
	Pairings    []domain.Pairing `json:"pairings"`
}

// spanOn returns the span in force on d: the covering span that started
// last, so a correction recorded as a later overlapping span wins.
func (h HouseholdFacts) spanOn(d domain.Date) (Span, bool) {
	var best Span
	found := false
	for _, s := range h.StatusSpans {
		if domain.InForce(s.From, s.To, d) && (!found || s.From.After(best.From)) {
			best, found = s, true
		}
	}
	return best, found
}

// pairedOn reports whether cadre held a pairing with the household on d.
func (h HouseholdFacts) pairedOn(cadre uuid.UUID, d domain.Date) bool {
	for _, p := range h.Pairings {
		if p.CadreID == cadre && p.ActiveOn(d) {
			return true
		}
	}
	return false
}

// anyPairingOn reports whether some cadre was responsible for the household on d.
func (h HouseholdFacts) anyPairingOn(d domain.Date) bool {
	for _, p := range h.Pairings {
		if p.ActiveOn(d) {
			return true
		}
	}
	return false
}

// VisitFact is what the rules need of a visit. Flags are evidence flag codes
// set elsewhere; the rules only decide which of them disqualify.
type VisitFact struct {
	ID          uuid.UUID  `json:"id"`
	HouseholdID uuid.UUID  `json:"household_id"`
	CadreID     uuid.UUID  `json:"cadre_id"`
	VillageID   uuid.UUID  `json:"village_id"`
	RegionID    uuid.UUID  `json:"region_id"` // the household's village group (or village)
	Kind        string     `json:"kind"`
	StartedAt   time.Time  `json:"started_at"`
	EndedAt     *time.Time `json:"ended_at,omitempty"`
	Flags       []string   `json:"flags,omitempty"`
	Deleted     bool       `json:"deleted,omitempty"`
}

// On is the Shanghai calendar day the visit started on; a visit belongs to
// the day it started even when it runs past midnight.
func (v VisitFact) On() domain.Date { return domain.DateOf(v.StartedAt) }

// VisitFactOf reduces a domain visit to its facts; village and region come
// from the household, which the visit does not carry.
func VisitFactOf(v domain.Visit, villageID, regionID uuid.UUID) VisitFact {
	flags := make([]string, 0, len(v.Flags))
	for _, f := range v.Flags {
		flags = append(flags, f.Code)
	}
	return VisitFact{
		ID: v.ID, HouseholdID: v.HouseholdID, CadreID: v.CadreID, VillageID: villageID, RegionID: regionID,
		Kind: v.Kind, StartedAt: v.StartedAt, EndedAt: v.EndedAt, Flags: flags, Deleted: v.Deleted,
	}
}

// CadreFacts is what duty rules need of a cadre. UnitVillageIDs are the
// villages the cadre's unit assists; duty rules count visits there (or in the
// duty's own region when the duty names one).
type CadreFacts struct {
	ID             uuid.UUID     `json:"id"`
	Rank           string        `json:"rank,omitempty"`
	Duties         []domain.Duty `json:"duties"`
	UnitVillageIDs []uuid.UUID   `json:"unit_village_ids,omitempty"`
}

// UnitFacts is an assisting unit with its assignments and the cadres whose
// visits count as the unit's work. Assignment EndOn is exclusive.
type UnitFacts struct {
	ID          uuid.UUID               `json:"id"`
	Assignments []domain.UnitAssignment `json:"assignments"`
	CadreIDs    []uuid.UUID             `json:"cadre_ids"`
}

// Village is a village with its county and whether it is a designated poor
// village (贫困村), which is a designation of its own, not derived from its
// households.
type Village struct {
	ID       uuid.UUID `json:"id"`
	TownID   uuid.UUID `json:"town_id"`
	CountyID uuid.UUID `json:"county_id"`
	Poor     bool      `json:"poor"`
}

// CoverageInput is the county-wide picture CheckCoverage judges.
type CoverageInput struct {
	Households []HouseholdFacts `json:"households"`
	Cadres     []CadreFacts     `json:"cadres"`
	Visits     []VisitFact      `json:"visits"`
	Villages   []Village        `json:"villages"`
}
