package domain

import (
	"time"

	"github.com/google/uuid"
)

// RefreshToken is a stored refresh token. Only its SHA-256 is kept, so a
// database leak does not hand out sessions. Tokens of one login form a
// family; each use rotates to a new member.
type RefreshToken struct {
	ID        uuid.UUID
	FamilyID  uuid.UUID
	ParentID  *uuid.UUID // the token this one replaced; nil for the first of a family
	UserID    uuid.UUID
	DeviceID  string
	TokenHash string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
	RevokedAt *time.Time
}

// RotateDecision is what the auth service decided about a presented token.
type RotateDecision struct {
	RevokeFamily  bool          // reuse detected: kill every token of the family
	Err           error         // returned to the caller after the revocation commits
	Next          *RefreshToken // the replacement token to store
	RevokeTokenID *uuid.UUID    // a replacement the phone never received (grace-window retry)
	// Again is the successor already stored, handed out once more: a
	// retry within the grace window gets the same token (nothing written).
	Again *RefreshToken
}
