package wire

import (
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// RuleProfileBody is a profile of rules as an admin writes it (PUT
// /rule-profiles/{code}): the rules are data, each with the seed sentence
// it encodes. Version is the version being replaced, 0 for a new profile.
// The shapes are the API's own, not the rule engine's, so that changing
// the engine cannot change the protocol unnoticed.
type RuleProfileBody struct {
	Code     string        `json:"code"`
	NameZH   string        `json:"name_zh"`
	Version  int           `json:"version"`
	Rules    []Rule        `json:"rules"`
	Coverage CoverageRules `json:"coverage"`
}

// RuleProfile is a stored profile as the API reads it.
type RuleProfile struct {
	RuleProfileBody
	Builtin   bool      `json:"builtin"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Rule is one visit-frequency or duty requirement of a profile.
type Rule struct {
	Code               string    `json:"code"`
	NameZH             string    `json:"name_zh"`
	Source             string    `json:"source"`
	DesignChoice       string    `json:"design_choice,omitempty"`
	Subject            string    `json:"subject"`
	Statuses           []string  `json:"statuses,omitempty"`
	PovertyTypes       []string  `json:"poverty_types,omitempty"`
	ExitedSinceYear    int       `json:"exited_since_year,omitempty"`
	Duties             []string  `json:"duties,omitempty"`
	Minimums           []Minimum `json:"minimums"`
	CountKinds         []string  `json:"count_kinds"`
	DisqualifyingFlags []string  `json:"disqualifying_flags,omitempty"`
	MinDurationMinutes int       `json:"min_duration_minutes,omitempty"`
	DueSoonDays        int       `json:"due_soon_days,omitempty"`
	GraceDays          int       `json:"grace_days,omitempty"`
	AnyCadre           bool      `json:"any_cadre,omitempty"`
}

// Minimum is one count a rule requires within each window of a kind.
type Minimum struct {
	Window string `json:"window"`
	Count  int    `json:"count"`
}

// CoverageRules are a profile's yearly and standing checks.
type CoverageRules struct {
	TownHead     VisitCoverage `json:"town_head"`
	CountyLeader VisitCoverage `json:"county_leader"`
	PairingQuota PairingQuota  `json:"pairing_quota"`
	EveryPaired  EveryPaired   `json:"every_household_paired"`
	ResidentTerm ResidentTerm  `json:"resident_term"`
}

// VisitCoverage is a "visit them all" duty (town heads, county leaders).
type VisitCoverage struct {
	Enabled            bool     `json:"enabled"`
	NameZH             string   `json:"name_zh"`
	Source             string   `json:"source"`
	DesignChoice       string   `json:"design_choice,omitempty"`
	Statuses           []string `json:"statuses,omitempty"`
	CountKinds         []string `json:"count_kinds"`
	DisqualifyingFlags []string `json:"disqualifying_flags,omitempty"`
}

// PairingQuota is the "321" rule: active pairings a cadre of each rank holds.
type PairingQuota struct {
	Enabled bool           `json:"enabled"`
	NameZH  string         `json:"name_zh"`
	Source  string         `json:"source"`
	Quota   map[string]int `json:"quota"`
}

// EveryPaired is 不脱贫不脱钩: households of these statuses always have a cadre.
type EveryPaired struct {
	Enabled      bool     `json:"enabled"`
	NameZH       string   `json:"name_zh"`
	Source       string   `json:"source"`
	DesignChoice string   `json:"design_choice,omitempty"`
	Statuses     []string `json:"statuses"`
}

// ResidentTerm is the minimum stationing of resident team members.
type ResidentTerm struct {
	Enabled   bool   `json:"enabled"`
	NameZH    string `json:"name_zh"`
	Source    string `json:"source"`
	MinMonths int    `json:"min_months"`
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

// ComplianceItem is a status in a report or worklist, with the names a
// person reads; the visit lists are left to the household timeline.
type ComplianceItem struct {
	ComplianceStatus
	HouseholdName   string     `json:"household_name"`
	HouseholdNumber string     `json:"household_number"`
	AnsweringCadre  *uuid.UUID `json:"answering_cadre_id"`
	CadreName       string     `json:"cadre_name"`
	VillageID       *uuid.UUID `json:"village_id"`
	VillageName     string     `json:"village_name"`
	ReasonZH        string     `json:"reason_zh,omitempty"`
	Risk            *Risk      `json:"risk,omitempty"`
}

// Risk says whether a status will be missed at its cadre's own pace.
type Risk struct {
	AtRisk      bool    `json:"at_risk"`
	Needed      int     `json:"needed"`       // counted visits still missing
	DaysLeft    int     `json:"days_left"`    // days from today through the due day
	WorkingLeft int     `json:"working_left"` // working days from today through the due day
	Pace        float64 `json:"pace"`         // the cadre's counted visits a working day lately
	Capacity    int     `json:"capacity"`     // visits the cadre can make by the due day at that pace
	Owed        int     `json:"owed"`         // visits the cadre owes across their households by the due day
	Score       float64 `json:"score"`        // 0 (none) to 1 (certain): the share of owed left undone
	ReasonZH    string  `json:"reason_zh"`
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

// Forecast lists statuses at risk of being missed, worst first.
type Forecast struct {
	Period *string          `json:"period"` // null: the current year, quarter and month together`
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
	// HouseholdStatus and its label are a household subject's status;
	// Unpaired marks a household nobody is responsible for today.
	HouseholdStatus      string `json:"household_status,omitempty"`
	HouseholdStatusLabel string `json:"household_status_label,omitempty"`
	Unpaired             bool   `json:"unpaired"`
}

// UnpairedHouseholds counts the households with nobody responsible for
// them today, in all and by status.
type UnpairedHouseholds struct {
	Total    int            `json:"total"`
	ByStatus map[string]int `json:"by_status"`
}

// NamedItem is an object a finding is about.
type NamedItem struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
}

// Coverage is a region's coverage findings for a year.
type Coverage struct {
	RegionID       uuid.UUID          `json:"region_id"`
	Year           int                `json:"year"`
	ProfileCode    string             `json:"profile_code"`
	ProfileVersion int                `json:"profile_version"`
	Unpaired       UnpairedHouseholds `json:"unpaired_households"`
	Findings       []Finding          `json:"findings"`
}

// CadreSummary is a cadre's page (GET /cadres/{id}/summary): their
// households with the current statuses they answer for, their duties'
// statuses, their visits per month and the evidence flags on them.
type CadreSummary struct {
	Cadre      User             `json:"cadre"`
	Today      domain.Date      `json:"today"`
	Periods    []string         `json:"periods"` // the current year, quarter and month
	Households []CadreHousehold `json:"households"`
	Duties     []ComplianceItem `json:"duties"`
	Months     []MonthlyVisits  `json:"months"`
	Flags      []FlagCount      `json:"flags"`
}

// CadreHousehold is a household paired with the cadre today.
type CadreHousehold struct {
	HouseholdID      uuid.UUID        `json:"household_id"`
	Number           string           `json:"number"`
	HeadName         string           `json:"head_name"`
	VillageID        uuid.UUID        `json:"village_id"`
	VillageName      string           `json:"village_name"`
	PovertyType      string           `json:"poverty_type"`
	PovertyTypeLabel string           `json:"poverty_type_label"`
	Status           string           `json:"status"`
	StatusLabel      string           `json:"status_label"`
	PairedSince      domain.Date      `json:"paired_since"`
	WorstState       *string          `json:"worst_state"` // null: no rule judges it for the cadre now
	Statuses         []ComplianceItem `json:"statuses"`
}

// MonthlyVisits counts a cadre's visits of one month.
type MonthlyVisits struct {
	Month   string `json:"month"` // 2026-11
	LabelZH string `json:"label_zh"`
	Visits  int    `json:"visits"`
	Flagged int    `json:"flagged"` // with at least one evidence flag
}

// FlagCount is how many of a cadre's visits carry a flag.
type FlagCount struct {
	Code    string `json:"code"`
	LabelZH string `json:"label_zh"`
	Visits  int64  `json:"visits"`
}
