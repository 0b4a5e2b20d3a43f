package wire

import (
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// RiskTrigger is a risk a cadre recorded at a visit.
type RiskTrigger struct {
	Code string `json:"code"`
	Note string `json:"note"`
}

// IncomeUpdate is an amount a visit adds to a line of the income account
// of the visit's year.
type IncomeUpdate struct {
	Source    string `json:"source"`
	AmountFen int64  `json:"amount_fen"`
	Note      string `json:"note"`
}

// FromRiskTriggers converts a visit's triggers (never nil).
func FromRiskTriggers(ts []domain.RiskTrigger) []RiskTrigger {
	out := make([]RiskTrigger, len(ts))
	for i, t := range ts {
		out[i] = RiskTrigger(t)
	}
	return out
}

func riskTriggersToDomain(ts []RiskTrigger) []domain.RiskTrigger {
	if ts == nil {
		return nil
	}
	out := make([]domain.RiskTrigger, len(ts))
	for i, t := range ts {
		out[i] = domain.RiskTrigger(t)
	}
	return out
}

// FromIncomeUpdates converts a visit's income updates (never nil).
func FromIncomeUpdates(us []domain.IncomeUpdate) []IncomeUpdate {
	out := make([]IncomeUpdate, len(us))
	for i, u := range us {
		out[i] = IncomeUpdate(u)
	}
	return out
}

func incomeUpdatesToDomain(us []IncomeUpdate) []domain.IncomeUpdate {
	if us == nil {
		return nil
	}
	out := make([]domain.IncomeUpdate, len(us))
	for i, u := range us {
		out[i] = domain.IncomeUpdate(u)
	}
	return out
}

// RiskWarning is a warning on the edge or watch list (监测预警).
type RiskWarning struct {
	ID             uuid.UUID   `json:"id"`
	HouseholdID    uuid.UUID   `json:"household_id"`
	HeadName       string      `json:"head_name"`
	List           string      `json:"list"`
	Trigger        string      `json:"trigger"`
	TriggerLabel   string      `json:"trigger_label"`
	Note           string      `json:"note"`
	VisitID        uuid.UUID   `json:"visit_id"`
	SeenOn         domain.Date `json:"seen_on"`
	CadreID        uuid.UUID   `json:"cadre_id"`
	State          string      `json:"state"`
	Resolution     string      `json:"resolution"`
	ResolutionNote string      `json:"resolution_note"`
	Cause          string      `json:"cause"`
	ResolvedBy     *uuid.UUID  `json:"resolved_by"`
	ResolvedAt     *time.Time  `json:"resolved_at"`
	CreatedAt      time.Time   `json:"created_at"`
	Version        int64       `json:"version"`
}

// WarningResolution is the body of POST /api/v1/risk-warnings/{id}/resolve.
type WarningResolution struct {
	Version     int64        `json:"version"`
	Resolution  string       `json:"resolution"`
	Note        string       `json:"note"`
	Cause       string       `json:"cause"`
	EffectiveOn *domain.Date `json:"effective_on"`
}
