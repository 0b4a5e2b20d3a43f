package domain

import (
	"time"

	"github.com/google/uuid"
)

// AuditEntry is one line of the append-only audit log, written in the same
// transaction as the change it records (or, for a read of clear ID
// numbers, before the numbers are shown).
type AuditEntry struct {
	ActorID    *uuid.UUID
	ActorName  string
	Action     string // create, update, delete, login, login_failed, read_id_numbers, …
	ObjectType string
	ObjectID   string
	// HouseholdID is the household the entry concerns, if any (a household,
	// its members and pairings, a read of its members' ID numbers).
	HouseholdID *uuid.UUID
	RegionPath  string         // filled in from HouseholdID when empty
	Detail      map[string]any // never ID numbers, passwords or tokens
	RequestID   string
}

// AuditRecord is an audit entry as read back.
type AuditRecord struct {
	AuditEntry
	ID uuid.UUID
	At time.Time
}
