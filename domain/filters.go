package domain

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Filters narrow the listings of the register, visits and the audit log.
// Several services list the same records, so the filters are shared here;
// every one is applied together with the caller's scope.

// RegionParam resolves a listing's region_id parameter: the path of the
// region it names within the caller's subtree, or "" when none was given.
// An id that names no region there is not found (404), the same answer
// whether it does not exist or lies outside, and the same as every route
// taking region_id gives (a report's, an export's), so a listing reveals
// nothing of other regions. within is the store's RegionWithin.
func RegionParam(ctx context.Context, p Principal, id *uuid.UUID,
	within func(ctx context.Context, path string, id uuid.UUID) (Region, error)) (string, error) {
	if id == nil {
		return "", nil
	}
	r, err := within(ctx, p.RegionPath, *id)
	if err != nil {
		return "", err
	}
	return r.Path, nil
}

// RegionFilter narrows a region listing.
type RegionFilter struct {
	WithinPath string // only regions in this subtree
	ParentID   *uuid.UUID
	Level      string
	Query      string // name contains
	Limit      int
	Offset     int
}

// VisitFilter narrows a visit listing; Scope is always applied through the
// visit's household.
type VisitFilter struct {
	Scope          HouseholdScope
	Reader         VisitReader // the secret inspection visits are kept from whom they are hidden
	Today          Date
	HouseholdID    *uuid.UUID
	CadreID        *uuid.UUID
	OnlyCadreID    *uuid.UUID // a cadre reads only their own visits
	IncludeDeleted bool
	Query          string // notes (民情日记) contain this text, literally
	// StartedFrom and StartedBefore bound the visit's start, [from, before).
	StartedFrom, StartedBefore *time.Time
	RegionPath                 string // the household lies in this subtree
	Kind                       string
	Flag                       string // the visit carries this flag
	// Counted, when set, keeps the visits some compliance status counts
	// (true) or none does (false).
	Counted       *bool
	Limit, Offset int
}

// UserFilter narrows a user listing.
type UserFilter struct {
	WithinPath string
	Role       string
	UnitID     *uuid.UUID
	Query      string
	Limit      int
	Offset     int
}

// PairingFilter narrows a pairing listing. Pairings are visible when their
// household lies in WithinPath.
type PairingFilter struct {
	WithinPath  string
	HouseholdID *uuid.UUID
	CadreID     *uuid.UUID
	ActiveOn    *Date
	Limit       int
	Offset      int
}

// HouseholdFilter narrows a household listing; Scope is always applied.
type HouseholdFilter struct {
	Scope       HouseholdScope
	Today       Date
	WithinPath  string // a region subtree chosen by the caller, inside their scope
	Status      string
	PovertyType string
	CadreID     *uuid.UUID // paired now with this cadre
	Unpaired    bool       // no open pairing now
	Query       string     // head name or household number contains
	// Among, when not nil, keeps the households among these ids (none for
	// an empty list).
	Among  []uuid.UUID
	Limit  int
	Offset int
}

// AuditFilter narrows a reading of the audit log; empty fields match all.
type AuditFilter struct {
	WithinPath  string // entries placed in this subtree; "" reads every entry
	ActorID     *uuid.UUID
	HouseholdID *uuid.UUID
	ObjectType  string
	ObjectID    string
	Action      string
	From, To    *time.Time // From ≤ at < To
	Limit       int
	Offset      int
}
