package wire

import (
	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// EntityLedgerItem is an item of a cadre's ledger (四本台账: 民生诉求,
// 困难群众) recorded on a visit, offline: phones create them (push only).
const EntityLedgerItem = "ledger_item"

// LedgerItemData is a ledger item's `data` in a push: which ledger, what
// was heard, who answers for it (the pushing cadre when left out) and by
// when.
type LedgerItemData struct {
	Kind              string      `json:"kind"`
	Problem           string      `json:"problem"`
	ResponsibleUserID *uuid.UUID  `json:"responsible_user_id,omitempty"`
	Deadline          domain.Date `json:"deadline"`
}

// NewLedgerItem is the body of POST /api/v1/ledgers/{kind}/items.
type NewLedgerItem struct {
	Problem           string      `json:"problem"`
	HouseholdID       *uuid.UUID  `json:"household_id"`
	VillageID         *uuid.UUID  `json:"village_id"`
	ResponsibleUserID *uuid.UUID  `json:"responsible_user_id"`
	ResponsibleUnitID *uuid.UUID  `json:"responsible_unit_id"`
	Deadline          domain.Date `json:"deadline"`
}
