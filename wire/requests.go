package wire

import (
	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// Request bodies of the register and the session routes, and the answers
// that are only a wrapper of other records.

// NewUnit is the body of POST /api/v1/units.
type NewUnit struct {
	Name     string    `json:"name"`
	RegionID uuid.UUID `json:"region_id"`
}

// NewAssignment is the body of POST /api/v1/units/{id}/assignments.
type NewAssignment struct {
	VillageID uuid.UUID    `json:"village_id"`
	GroupID   *uuid.UUID   `json:"group_id"`
	StartOn   domain.Date  `json:"start_on"`
	EndOn     *domain.Date `json:"end_on"`
}

// NewUser is the body of POST /api/v1/users.
type NewUser struct {
	Username    string     `json:"username"`
	DisplayName string     `json:"display_name"`
	Role        string     `json:"role"`
	RegionID    uuid.UUID  `json:"region_id"`
	Phone       string     `json:"phone"`
	UnitID      *uuid.UUID `json:"unit_id"`
	Rank        string     `json:"rank"`
	Duties      []Duty     `json:"duties"`
	Password    string     `json:"password"`
}

// UserPatch is the body of PATCH /api/v1/users/{id}: a field left out keeps its value.
type UserPatch struct {
	DisplayName *string    `json:"display_name"`
	Phone       *string    `json:"phone"`
	RegionID    *uuid.UUID `json:"region_id"`
	UnitID      *uuid.UUID `json:"unit_id"`
	ClearUnit   bool       `json:"clear_unit"`
	Rank        *string    `json:"rank"`
	Duties      *[]Duty    `json:"duties"`
	Active      *bool      `json:"active"`
}

// PasswordChange is the body of PUT /api/v1/users/{id}/password.
// CurrentPassword is required to change one's own: a stolen access token
// alone must not take the account over.
type PasswordChange struct {
	Password        string `json:"password"`
	CurrentPassword string `json:"current_password"`
}

// NewPairing is the body of POST /api/v1/pairings.
type NewPairing struct {
	HouseholdID uuid.UUID    `json:"household_id"`
	CadreID     uuid.UUID    `json:"cadre_id"`
	StartOn     *domain.Date `json:"start_on"`
}

// EndPairing is the body of POST /api/v1/pairings/{id}/end.
type EndPairing struct {
	On         *domain.Date `json:"on"`
	Reason     string       `json:"reason"`
	NewCadreID *uuid.UUID   `json:"new_cadre_id"`
}

// EndedPairing is the answer of POST /api/v1/pairings/{id}/end: the ended pairing and the one that replaced it.
type EndedPairing struct {
	Ended Pairing  `json:"ended"`
	Next  *Pairing `json:"next"`
}

// ConflictResolution is the body of POST /api/v1/conflicts/{id}/resolve.
type ConflictResolution struct {
	Resolution string `json:"resolution"`
}

// Login is the body of POST /api/v1/auth/login.
type Login struct {
	Username string `json:"username"`
	Password string `json:"password"`
	DeviceID string `json:"device_id"`
}

// Tokens is the answer of a login or a refresh.
type Tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	User         User   `json:"user"`
}

// RefreshToken is the body of POST /api/v1/auth/refresh and /auth/logout.
type RefreshToken struct {
	RefreshToken string `json:"refresh_token"`
}

// NewRegion is the body of POST /api/v1/regions.
type NewRegion struct {
	ParentID      *uuid.UUID `json:"parent_id"`
	Level         string     `json:"level"`
	Code          string     `json:"code"`
	Name          string     `json:"name"`
	IsPoorVillage bool       `json:"is_poor_village"`
}

// RegionPatch is the body of PATCH /api/v1/regions/{id}.
type RegionPatch struct {
	Name          *string `json:"name"`
	IsPoorVillage *bool   `json:"is_poor_village"`
}

// StatusChangeIn is the body of POST /api/v1/households/{id}/status.
type StatusChangeIn struct {
	Version     int64       `json:"version"`
	Status      string      `json:"status"`
	PovertyType string      `json:"poverty_type"`
	ExitYear    *int        `json:"exit_year"`
	EffectiveOn domain.Date `json:"effective_on"`
	Reason      string      `json:"reason"`
	// Cause is required with status relapsed (relapse_causes).
	Cause string `json:"cause"`
}
