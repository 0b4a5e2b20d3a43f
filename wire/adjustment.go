package wire

import (
	"time"

	"github.com/google/uuid"
)

// NewAdjustmentBatch is the body of POST /api/v1/adjustment-batches.
type NewAdjustmentBatch struct {
	RegionID uuid.UUID `json:"region_id"`
	Year     int       `json:"year"`
}

// AdjustmentBatch is a region's adjustment round of a year (动态调整);
// Items are in the answer of one batch, not in a listing.
type AdjustmentBatch struct {
	ID         uuid.UUID        `json:"id"`
	RegionID   uuid.UUID        `json:"region_id"`
	RegionName string           `json:"region_name"`
	Year       int              `json:"year"`
	Status     string           `json:"status"`
	Counts     map[string]int   `json:"counts"`
	CreatedBy  uuid.UUID        `json:"created_by"`
	CreatedAt  time.Time        `json:"created_at"`
	UpdatedAt  time.Time        `json:"updated_at"`
	ClosedAt   *time.Time       `json:"closed_at,omitempty"`
	Items      []AdjustmentItem `json:"items,omitempty"`
}

// AdjustmentItem is one proposed change with its reason, evidence and review.
type AdjustmentItem struct {
	ID               uuid.UUID  `json:"id"`
	HouseholdID      uuid.UUID  `json:"household_id"`
	HouseholdNumber  string     `json:"household_number"`
	HeadName         string     `json:"head_name"`
	Kind             string     `json:"kind"`
	KindLabel        string     `json:"kind_label"`
	Source           string     `json:"source"`
	Reason           string     `json:"reason"`
	Evidence         []string   `json:"evidence"`
	HouseholdVersion int64      `json:"household_version"`
	PovertyType      string     `json:"poverty_type,omitempty"`
	CadreID          *uuid.UUID `json:"cadre_id,omitempty"`
	CadreName        string     `json:"cadre_name,omitempty"`
	FromCadreID      *uuid.UUID `json:"from_cadre_id,omitempty"`
	State            string     `json:"state"`
	StateLabel       string     `json:"state_label"`
	StateReason      string     `json:"state_reason,omitempty"`
	ResultID         *uuid.UUID `json:"result_id,omitempty"`
	ReviewedBy       *uuid.UUID `json:"reviewed_by,omitempty"`
	ReviewedAt       *time.Time `json:"reviewed_at,omitempty"`
}

// AdjustmentReject is the body of POST …/items/{item_id}/reject.
type AdjustmentReject struct {
	Reason string `json:"reason"`
}
