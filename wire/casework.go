package wire

import "github.com/fieldvisit/fieldvisit/domain"

// PovertyTypeChangeIn is the body of POST /api/v1/households/{id}/poverty-type.
type PovertyTypeChangeIn struct {
	Version     int64       `json:"version"`
	PovertyType string      `json:"poverty_type"`
	EffectiveOn domain.Date `json:"effective_on"`
	Reason      string      `json:"reason"`
}
