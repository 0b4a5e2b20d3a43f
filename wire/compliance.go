package wire

import (
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance/rules"
)

// RuleProfile is a profile of rules as the admin API reads and writes it:
// the rules themselves are data (rules.Profile) with their seed sources.
type RuleProfile struct {
	rules.Profile
	Builtin   bool      `json:"builtin"`
	UpdatedAt time.Time `json:"updated_at"`
}

// RegionRuleProfile says which profile judges a region.
type RegionRuleProfile struct {
	RegionID        uuid.UUID  `json:"region_id"`
	ProfileCode     string     `json:"profile_code"`
	ProfileNameZH   string     `json:"profile_name_zh"`
	ProfileVersion  int        `json:"profile_version"`
	Own             bool       `json:"own"`
	InheritedFromID *uuid.UUID `json:"inherited_from_id"`
}

// VisitJudgement says whether one visit counted and why not.
type VisitJudgement struct {
	VisitID  uuid.UUID   `json:"visit_id"`
	CadreID  uuid.UUID   `json:"cadre_id"`
	On       domain.Date `json:"on"`
	Kind     string      `json:"kind"`
	Counted  bool        `json:"counted"`
	Reason   string      `json:"reason,omitempty"`
	ReasonZH string      `json:"reason_zh,omitempty"`
}

// ComplianceStatus is one rule's standing for one subject in one period.
type ComplianceStatus struct {
	RuleCode       string           `json:"rule_code"`
	RuleNameZH     string           `json:"rule_name_zh"`
	Subject        string           `json:"subject"`
	HouseholdID    *uuid.UUID       `json:"household_id"`
	CadreID        *uuid.UUID       `json:"cadre_id"`
	Period         string           `json:"period"`
	PeriodLabel    string           `json:"period_label"`
	PeriodStart    domain.Date      `json:"period_start"`
	PeriodEnd      domain.Date      `json:"period_end"` // exclusive
	State          string           `json:"state"`
	StateLabel     string           `json:"state_label"`
	Required       int              `json:"required"`
	FullRequired   int              `json:"full_required"`
	Counted        int              `json:"counted"`
	ApplicableDays int              `json:"applicable_days"`
	Prorated       bool             `json:"prorated"`
	DueOn          domain.Date      `json:"due_on"`
	ExplanationZH  string           `json:"explanation_zh"`
	Explanation    string           `json:"explanation"`
	CountedVisits  []VisitJudgement `json:"counted_visits"`
	NotCounted     []VisitJudgement `json:"not_counted"`
}

func judgements(vs []rules.VisitJudgement) []VisitJudgement {
	out := make([]VisitJudgement, len(vs))
	for i, v := range vs {
		out[i] = VisitJudgement{VisitID: v.VisitID, CadreID: v.CadreID, On: v.On, Kind: v.Kind, Counted: v.Counted, Reason: v.Reason, ReasonZH: v.ReasonZH}
	}
	return out
}

// FromStatus converts a judged status; state is the state on the day asked
// (a stored status is read on a later day than it was judged).
func FromStatus(st rules.Status, state string) ComplianceStatus {
	label, _ := rules.States.Label(state)
	out := ComplianceStatus{RuleCode: st.RuleCode, RuleNameZH: st.RuleNameZH, Subject: st.Subject, CadreID: st.CadreID,
		Period: st.Period.Key(), PeriodLabel: st.Period.LabelZH(), PeriodStart: st.Period.Start, PeriodEnd: st.Period.End,
		State: state, StateLabel: label, Required: st.Required, FullRequired: st.FullRequired, Counted: st.CountedN,
		ApplicableDays: st.ApplicableDays, Prorated: st.Prorated, DueOn: st.DueOn, ExplanationZH: st.ExplanationZH,
		Explanation: st.Explanation, CountedVisits: judgements(st.Counted), NotCounted: judgements(st.NotCounted)}
	if st.HouseholdID != uuid.Nil {
		h := st.HouseholdID
		out.HouseholdID = &h
	}
	return out
}

// ComplianceItem is a status in a report or worklist, with the names a
// person reads; the visit lists are left to the household timeline.
type ComplianceItem struct {
	ComplianceStatus
	HouseholdName   string      `json:"household_name"`
	HouseholdNumber string      `json:"household_number"`
	AnsweringCadre  *uuid.UUID  `json:"answering_cadre_id"`
	CadreName       string      `json:"cadre_name"`
	VillageID       *uuid.UUID  `json:"village_id"`
	VillageName     string      `json:"village_name"`
	ReasonZH        string      `json:"reason_zh,omitempty"`
	Risk            *rules.Risk `json:"risk,omitempty"`
}

// StateCounts count statuses by state, with the completion rate.
type StateCounts struct {
	ID       string  `json:"id,omitempty"`
	Name     string  `json:"name,omitempty"`
	Total    int64   `json:"total"`
	Met      int64   `json:"met"`
	OnTrack  int64   `json:"on_track"`
	DueSoon  int64   `json:"due_soon"`
	Overdue  int64   `json:"overdue"`
	Missed   int64   `json:"missed"`
	Required int64   `json:"required_visits"`
	Counted  int64   `json:"counted_visits"`
	MetRate  float64 `json:"met_rate"` // met ÷ total
}

// ComplianceReport is the missed-visit report of a region and period.
type ComplianceReport struct {
	Region      Region               `json:"region"`
	Period      string               `json:"period"`
	PeriodLabel string               `json:"period_label"`
	Today       domain.Date          `json:"today"`
	Frozen      bool                 `json:"frozen"`
	ClosedAt    *time.Time           `json:"closed_at"`
	Total       StateCounts          `json:"total"`
	Regions     []StateCounts        `json:"regions"`
	Cadres      []StateCounts        `json:"cadres"`
	Rules       []StateCounts        `json:"rules"`
	Items       Page[ComplianceItem] `json:"items"`
}

// Worklist is a cadre's visits still owed.
type Worklist struct {
	Today domain.Date      `json:"today"`
	Items []ComplianceItem `json:"items"`
}

// Timeline is a household's statuses for a year, judged afresh.
type Timeline struct {
	HouseholdID    uuid.UUID          `json:"household_id"`
	Year           int                `json:"year"`
	ProfileCode    string             `json:"profile_code"`
	ProfileVersion int                `json:"profile_version"`
	Statuses       []ComplianceStatus `json:"statuses"`
}

// Forecast lists statuses at risk of being missed.
type Forecast struct {
	Period string           `json:"period"`
	Today  domain.Date      `json:"today"`
	Items  []ComplianceItem `json:"items"`
}

// PeriodClose answers a close.
type PeriodClose struct {
	RegionID uuid.UUID `json:"region_id"`
	Period   string    `json:"period"`
	ClosedAt time.Time `json:"closed_at"`
}

// Finding is one breach of a coverage or standing rule.
type Finding struct {
	RuleCode      string      `json:"rule_code"`
	SubjectKind   string      `json:"subject_kind"`
	SubjectID     uuid.UUID   `json:"subject_id"`
	SubjectName   string      `json:"subject_name"`
	Severity      string      `json:"severity"`
	ExplanationZH string      `json:"explanation_zh"`
	Explanation   string      `json:"explanation"`
	Items         []NamedItem `json:"items"`
}

// NamedItem is an object a finding is about.
type NamedItem struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
}

// Coverage is a region's coverage findings for a year.
type Coverage struct {
	RegionID       uuid.UUID `json:"region_id"`
	Year           int       `json:"year"`
	ProfileCode    string    `json:"profile_code"`
	ProfileVersion int       `json:"profile_version"`
	Findings       []Finding `json:"findings"`
}
