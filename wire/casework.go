package wire

import (
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// PovertyTypeChangeIn is the body of POST /api/v1/households/{id}/poverty-type.
type PovertyTypeChangeIn struct {
	Version     int64       `json:"version"`
	PovertyType string      `json:"poverty_type"`
	EffectiveOn domain.Date `json:"effective_on"`
	Reason      string      `json:"reason"`
}

// EntityIncomeAccount is a household's income account of one year, which
// phones create and update through the sync push.
const EntityIncomeAccount = "income_account"

// IncomeAmounts are an income account's editable fields; amounts in fen.
type IncomeAmounts struct {
	WagesFen       int64  `json:"wages_fen"`
	BusinessFen    int64  `json:"business_fen"`
	TransfersFen   int64  `json:"transfers_fen"`
	PensionsFen    int64  `json:"pensions_fen"`
	PropertyFen    int64  `json:"property_fen"`
	CostsFen       int64  `json:"costs_fen"`
	MembersCounted int    `json:"members_counted"`
	Notes          string `json:"notes"`
}

// IncomeAccountData is the data of an income_account change in a push:
// the year the account is of, and its amounts.
type IncomeAccountData struct {
	Year int `json:"year"`
	IncomeAmounts
}

// IncomeAccountIn is the body of PUT /api/v1/households/{id}/income-accounts/{year}:
// the amounts with the version read (0 to create the account; required, so
// that a body left empty creates nothing by accident).
type IncomeAccountIn struct {
	Version *int64 `json:"version"`
	IncomeAmounts
}

// IncomeAccount is a household's income account of a year with its sums.
type IncomeAccount struct {
	ID          uuid.UUID `json:"id"`
	HouseholdID uuid.UUID `json:"household_id"`
	IncomeAccountData
	GrossFen     int64     `json:"gross_fen"`
	NetFen       int64     `json:"net_fen"`
	PerCapitaFen int64     `json:"per_capita_fen"`
	Version      int64     `json:"version"`
	UpdatedBy    uuid.UUID `json:"updated_by"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// ExitIndicator is one item of a year's exit indicator list.
type ExitIndicator struct {
	Code   string `json:"code"`
	NameZH string `json:"name_zh"`
	Check  string `json:"check"`
}

// ExitStandard is a year's exit thresholds (PUT and GET /api/v1/exit-standards/{year}).
type ExitStandard struct {
	Year           int             `json:"year"`
	PerCapitaFen   int64           `json:"per_capita_fen"`
	PovertyLineFen int64           `json:"poverty_line_fen"`
	StableYears    int             `json:"stable_years"`
	Indicators     []ExitIndicator `json:"indicators"`
	Version        int64           `json:"version"`
	Builtin        bool            `json:"builtin"`
}

// ExitReason says whether one indicator is met, and why.
type ExitReason struct {
	Code     string `json:"code"`
	NameZH   string `json:"name_zh"`
	Met      bool   `json:"met"`
	Pending  bool   `json:"pending"`
	ReasonZH string `json:"reason_zh"`
}

// ExitCandidate is one household of the exit-candidates list.
type ExitCandidate struct {
	HouseholdID     uuid.UUID    `json:"household_id"`
	HouseholdNumber string       `json:"household_number"`
	HeadName        string       `json:"head_name"`
	PovertyType     string       `json:"poverty_type"`
	Qualifies       bool         `json:"qualifies"`
	PerCapitaFen    *int64       `json:"per_capita_fen"`
	Reasons         []ExitReason `json:"reasons"`
}

// ExitCandidates is the answer of GET /api/v1/exit-candidates.
type ExitCandidates struct {
	Year     int             `json:"year"`
	Standard ExitStandard    `json:"standard"`
	Items    []ExitCandidate `json:"items"`
	Total    int64           `json:"total"`
	// Qualifying counts the households of the whole list, every page,
	// that qualify; null while the whole list is still being judged (the
	// list's first request in a process): a later request has it.
	Qualifying *int64 `json:"qualifying"`
}

// NewProcedure is the body of POST /api/v1/households/{id}/procedures.
type NewProcedure struct {
	Kind        string `json:"kind"`
	Year        int    `json:"year"`
	PovertyType string `json:"poverty_type"`
	Reason      string `json:"reason"`
}

// StepIn is the body of POST /api/v1/procedures/{id}/steps.
type StepIn struct {
	Version     int64       `json:"version"`
	Step        string      `json:"step"`
	DoneOn      domain.Date `json:"done_on"`
	Note        string      `json:"note"`
	DocumentIDs []string    `json:"document_ids"`
	PhotoIDs    []uuid.UUID `json:"photo_ids"`
	Confirmed   []string    `json:"confirmed"`
}

// ProcedureStep is one recorded step.
type ProcedureStep struct {
	Step        string      `json:"step"`
	StepLabel   string      `json:"step_label"`
	DoneOn      domain.Date `json:"done_on"`
	Note        string      `json:"note"`
	DocumentIDs []string    `json:"document_ids"`
	PhotoIDs    []uuid.UUID `json:"photo_ids"`
	Confirmed   []string    `json:"confirmed"`
	RecordedBy  uuid.UUID   `json:"recorded_by"`
	RecordedAt  time.Time   `json:"recorded_at"`
}

// Procedure is a household's or a village's procedure with its steps and
// the next one: household_id is null for a village's (village_id says which).
type Procedure struct {
	ID          uuid.UUID       `json:"id"`
	HouseholdID *uuid.UUID      `json:"household_id"`
	VillageID   *uuid.UUID      `json:"village_id,omitempty"`
	Kind        string          `json:"kind"`
	KindLabel   string          `json:"kind_label"`
	Year        int             `json:"year"`
	PovertyType string          `json:"poverty_type"`
	Reason      string          `json:"reason"`
	Status      string          `json:"status"`
	Steps       []ProcedureStep `json:"steps"`
	NextStep    *string         `json:"next_step"`
	Version     int64           `json:"version"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

// FromIncomeAccount converts an account, with its gross, net and
// per-capita net income.
func FromIncomeAccount(a domain.IncomeAccount) IncomeAccount {
	f := a.IncomeFields
	return IncomeAccount{ID: a.ID, HouseholdID: a.HouseholdID, IncomeAccountData: IncomeAccountData{Year: a.Year, IncomeAmounts: IncomeAmounts{
		WagesFen: f.WagesFen, BusinessFen: f.BusinessFen, TransfersFen: f.TransfersFen, PensionsFen: f.PensionsFen, PropertyFen: f.PropertyFen,
		CostsFen: f.CostsFen, MembersCounted: f.MembersCounted, Notes: f.Notes}}, GrossFen: f.GrossFen(), NetFen: f.NetFen(), PerCapitaFen: f.PerCapitaFen(),
		Version: a.Version, UpdatedBy: a.UpdatedBy, UpdatedAt: a.UpdatedAt}
}

// VillageIndicator is one yes/no item of the village criteria (五通七有).
type VillageIndicator struct {
	Code   string `json:"code"`
	NameZH string `json:"name_zh"`
}

// VillageExitStandard is a year's criteria for a poor village's exit
// (GET|PUT /api/v1/village-exit-standards/{year}).
type VillageExitStandard struct {
	Year                int                `json:"year"`
	IncidencePermille   int                `json:"incidence_permille"`
	CollectiveIncomeFen int64              `json:"collective_income_fen"`
	Indicators          []VillageIndicator `json:"indicators"`
	Version             int64              `json:"version"`
	Builtin             bool               `json:"builtin"`
}

// VillageRecordIn is the body of PUT /api/v1/villages/{id}/exit-records/{year}.
type VillageRecordIn struct {
	Version             int64           `json:"version"`
	CollectiveIncomeFen *int64          `json:"collective_income_fen"`
	Indicators          map[string]bool `json:"indicators"`
	Notes               string          `json:"notes"`
}

// VillageRecord is what was recorded of a village for a year.
type VillageRecord struct {
	VillageID           uuid.UUID       `json:"village_id"`
	Year                int             `json:"year"`
	CollectiveIncomeFen *int64          `json:"collective_income_fen"`
	Indicators          map[string]bool `json:"indicators"`
	Notes               string          `json:"notes"`
	Version             int64           `json:"version"`
}

// VillageExit is a village's exit (出列) with its year.
type VillageExit struct {
	Year        int         `json:"year"`
	ExitedOn    domain.Date `json:"exited_on"`
	ProcedureID uuid.UUID   `json:"procedure_id"`
}

// VillageCandidate is a poor village judged against a year's criteria.
type VillageCandidate struct {
	VillageID     uuid.UUID     `json:"village_id"`
	VillageName   string        `json:"village_name"`
	VillageCode   string        `json:"village_code"`
	PoorMembers   int           `json:"poor_members"`
	AllMembers    int           `json:"all_members"`
	IncidenceText string        `json:"incidence_permille"`
	Record        VillageRecord `json:"record"`
	Exit          *VillageExit  `json:"exit"`
	Qualifies     bool          `json:"qualifies"`
	Reasons       []ExitReason  `json:"reasons"`
}

// VillageExitCandidates is GET /api/v1/village-exit-candidates.
type VillageExitCandidates struct {
	Year     int                 `json:"year"`
	Standard VillageExitStandard `json:"standard"`
	// Total and Qualifying are of the whole list, as ExitCandidates'
	// (this list is never paged: they are its items' own).
	Total      int                `json:"total"`
	Qualifying int                `json:"qualifying"`
	Items      []VillageCandidate `json:"items"`
}
