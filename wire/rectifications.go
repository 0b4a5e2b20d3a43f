package wire

import (
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// NewRectification is the body of POST /api/v1/rectifications.
type NewRectification struct {
	Problem           string      `json:"problem"`
	HouseholdID       *uuid.UUID  `json:"household_id"`
	VillageID         *uuid.UUID  `json:"village_id"`
	CampaignID        *uuid.UUID  `json:"campaign_id"`
	FindingID         *uuid.UUID  `json:"finding_id"`
	ResponsibleUserID *uuid.UUID  `json:"responsible_user_id"`
	ResponsibleUnitID *uuid.UUID  `json:"responsible_unit_id"`
	Deadline          domain.Date `json:"deadline"`
}

// ItemEvidence is what shows an item was dealt with. Ids are strings so
// that a malformed one is named by its place in the list.
type ItemEvidence struct {
	VisitIDs    []string `json:"visit_ids"`
	PhotoIDs    []string `json:"photo_ids"`
	DocumentIDs []string `json:"document_ids"`
	Note        string   `json:"note"`
}

// ItemAction is the body of POST /api/v1/rectifications/{id}/actions.
// Note is the reason of a withdraw (撤销原因).
type ItemAction struct {
	Action   string       `json:"action"`
	Version  int64        `json:"version"`
	Evidence ItemEvidence `json:"evidence"`
	Note     string       `json:"note"`
}

// ItemEvent is one step of an item's history.
type ItemEvent struct {
	Action      string       `json:"action"`
	ActionLabel string       `json:"action_label"`
	From        string       `json:"from"`
	To          string       `json:"to"`
	By          uuid.UUID    `json:"by"`
	ByName      string       `json:"by_name"`
	At          time.Time    `json:"at"`
	Note        string       `json:"note"`
	Evidence    ItemEvidence `json:"evidence"`
}

// Rectification is an item of the rectification ledger (整改台账).
type Rectification struct {
	ID                  uuid.UUID    `json:"id"`
	Kind                string       `json:"kind"`
	Problem             string       `json:"problem"`
	HouseholdID         *uuid.UUID   `json:"household_id"`
	HouseholdNumber     string       `json:"household_number"`
	HeadName            string       `json:"head_name"`
	VillageID           uuid.UUID    `json:"village_id"`
	VillageName         string       `json:"village_name"`
	TownID              *uuid.UUID   `json:"town_id"`
	TownName            string       `json:"town_name"`
	CampaignID          *uuid.UUID   `json:"campaign_id"`
	CampaignName        string       `json:"campaign_name"`
	FindingID           *uuid.UUID   `json:"finding_id"`
	ResponsibleUserID   *uuid.UUID   `json:"responsible_user_id"`
	ResponsibleName     string       `json:"responsible_name"`
	ResponsibleUnitID   *uuid.UUID   `json:"responsible_unit_id"`
	ResponsibleUnitName string       `json:"responsible_unit_name"`
	Deadline            *domain.Date `json:"deadline"`
	Status              string       `json:"status"`
	State               string       `json:"state"`
	StateLabel          string       `json:"state_label"`
	Evidence            ItemEvidence `json:"evidence"`
	AllowedActions      []string     `json:"allowed_actions"`
	CreatedBy           uuid.UUID    `json:"created_by"`
	CreatedAt           time.Time    `json:"created_at"`
	UpdatedAt           time.Time    `json:"updated_at"`
	ClosedAt            *time.Time   `json:"closed_at"`
	ClosedBy            *uuid.UUID   `json:"closed_by"`
	ClosedByName        string       `json:"closed_by_name"`
	WithdrawnAt         *time.Time   `json:"withdrawn_at"`
	WithdrawnBy         *uuid.UUID   `json:"withdrawn_by"`
	WithdrawReason      string       `json:"withdraw_reason"`
	Version             int64        `json:"version"`
}

// RectificationDetail is an item with its history, oldest step first.
type RectificationDetail struct {
	Rectification
	History []ItemEvent `json:"history"`
}
