package wire

import (
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// InspectionPlan is what a campaign draws.
type InspectionPlan struct {
	KeyPoorVillages      bool                `json:"key_poor_villages"`
	VillagesPerTown      int                 `json:"villages_per_town"`
	Strata               []InspectionStratum `json:"strata"`
	ExcludeLastCampaigns int                 `json:"exclude_last_campaigns"`
	Targets              *InspectionTargets  `json:"targets,omitempty"`
}

// InspectionStratum is a group of households drawn apart in every village.
type InspectionStratum struct {
	Code     string   `json:"code"`
	Statuses []string `json:"statuses"`
	Size     int      `json:"size"`
}

// NewInspection is the body of POST /api/v1/inspections.
type NewInspection struct {
	RegionID     uuid.UUID       `json:"region_id"`
	Name         string          `json:"name"`
	PeriodFrom   domain.Date     `json:"period_from"`
	PeriodTo     domain.Date     `json:"period_to"`
	Mode         string          `json:"mode"`
	Plan         *InspectionPlan `json:"plan"`
	InspectorIDs []uuid.UUID     `json:"inspector_ids"`
}

// Inspection is a campaign.
type Inspection struct {
	ID             uuid.UUID      `json:"id"`
	RegionID       uuid.UUID      `json:"region_id"`
	Name           string         `json:"name"`
	PeriodFrom     domain.Date    `json:"period_from"`
	PeriodTo       domain.Date    `json:"period_to"`
	Mode           string         `json:"mode"`
	ModeLabel      string         `json:"mode_label"`
	Plan           InspectionPlan `json:"plan"`
	InspectorIDs   []uuid.UUID    `json:"inspector_ids"`
	Status         string         `json:"status"`
	StatusLabel    string         `json:"status_label"`
	CreatedBy      uuid.UUID      `json:"created_by"`
	CreatedAt      time.Time      `json:"created_at"`
	DrawnAt        *time.Time     `json:"drawn_at"`
	EndedAt        *time.Time     `json:"ended_at"`
	PopulationHash string         `json:"population_hash"`
	Version        int64          `json:"version"`
}

// DrawRequest is the body of POST /api/v1/inspections/{id}/sample: the
// seed to draw with, or none for a fresh one.
type DrawRequest struct {
	Seed string `json:"seed"`
}

// InspectionSample is a campaign's drawn sample: anyone with the seed, the
// algorithm and the same population draws the same list.
type InspectionSample struct {
	InspectionID   uuid.UUID          `json:"inspection_id"`
	Seed           string             `json:"seed"`
	Algorithm      string             `json:"algorithm"`
	PopulationHash string             `json:"population_hash"`
	DrawnAt        time.Time          `json:"drawn_at"`
	Villages       []SampledVillage   `json:"villages"`
	Households     []SampledHousehold `json:"households"`
	Shortfalls     []SampleShortfall  `json:"shortfalls"`
}

// SampledVillage is a drawn village.
type SampledVillage struct {
	VillageID   uuid.UUID `json:"village_id"`
	VillageName string    `json:"village_name"`
	TownID      uuid.UUID `json:"town_id"`
	TownName    string    `json:"town_name"`
	Stratum     string    `json:"stratum"`
}

// SampledHousehold is a drawn household.
type SampledHousehold struct {
	HouseholdID uuid.UUID `json:"household_id"`
	Number      string    `json:"number"`
	HeadName    string    `json:"head_name"`
	VillageID   uuid.UUID `json:"village_id"`
	VillageName string    `json:"village_name"`
	TownID      uuid.UUID `json:"town_id"`
	Stratum     string    `json:"stratum"`
	Done        bool      `json:"done"`
}

// SampleShortfall is a stratum that had fewer candidates than the plan
// asked for; village_id is null for a town's village draw.
type SampleShortfall struct {
	TownID      uuid.UUID  `json:"town_id"`
	TownName    string     `json:"town_name"`
	VillageID   *uuid.UUID `json:"village_id"`
	VillageName string     `json:"village_name"`
	Stratum     string     `json:"stratum"`
	Wanted      int        `json:"wanted"`
	Found       int        `json:"found"`
}

// SampleVerification answers POST /api/v1/inspections/{id}/sample/verify.
type SampleVerification struct {
	Reproduced          bool   `json:"reproduced"`
	PopulationChanged   bool   `json:"population_changed"`
	PopulationHash      string `json:"population_hash"`
	DrawnPopulationHash string `json:"drawn_population_hash"`
}
