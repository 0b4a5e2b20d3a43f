package wire

import (
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// InspectionTargets are the opinion rates a campaign's report ranks
// against. In a plan sent to the server a missing one takes its default
// (知晓率 1, 满意率 0.95); answers always carry both.
type InspectionTargets struct {
	Awareness    *float64 `json:"awareness"`
	Satisfaction *float64 `json:"satisfaction"`
}

// InspectionForms answers GET /api/v1/inspection-forms.
type InspectionForms struct {
	Forms []InspectionForm `json:"forms"`
}

// InspectionForm is one versioned form (督查表).
type InspectionForm struct {
	Code    string     `json:"code"`
	Version int        `json:"version"`
	TitleZH string     `json:"title_zh"`
	Items   []FormItem `json:"items"`
}

// FormItem is one question of a form.
type FormItem struct {
	Code     string       `json:"code"`
	LabelZH  string       `json:"label_zh"`
	Group    string       `json:"group"`
	Kind     string       `json:"kind"`
	Choices  []FormChoice `json:"choices"`
	Max      *int         `json:"max"` // a count's largest value, a text's length; null for other kinds
	Required bool         `json:"required"`
}

// FormChoice is one possible answer of a choice item.
type FormChoice struct {
	Code    string `json:"code"`
	LabelZH string `json:"label_zh"`
}

// FindingAnswer is the answer to one item; the field set depends on the
// item's kind (choice, choices, count, yes, text).
type FindingAnswer struct {
	Choice  string   `json:"choice,omitempty"`
	Choices []string `json:"choices,omitempty"`
	Count   *int     `json:"count,omitempty"`
	Yes     *bool    `json:"yes,omitempty"`
	Text    string   `json:"text,omitempty"`
}

// FindingsInput is the body of PUT …/households/{household_id}/findings
// and …/villages/{village_id}/findings.
type FindingsInput struct {
	Answers map[string]FindingAnswer `json:"answers"`
	VisitID *uuid.UUID               `json:"visit_id"`
	// Version is the version of the findings being corrected; left out (or
	// 0) the first time they are recorded.
	Version *int64 `json:"version"`
}

// VisitFindings are the household form an inspector fills in offline and
// pushes with the inspection visit it was filled in on (a visit's
// data.findings; docs/sync-protocol.md §7.5).
type VisitFindings struct {
	// CampaignID is the campaign of one of the inspector's active tasks at
	// the household (the task's campaign_id); it may be left out when they
	// have exactly one there.
	CampaignID *uuid.UUID               `json:"campaign_id,omitempty"`
	Answers    map[string]FindingAnswer `json:"answers"`
}

// InspectionFinding is one form filled in.
type InspectionFinding struct {
	ID           uuid.UUID                `json:"id"`
	InspectionID uuid.UUID                `json:"inspection_id"`
	HouseholdID  *uuid.UUID               `json:"household_id"`
	VillageID    uuid.UUID                `json:"village_id"`
	FormCode     string                   `json:"form_code"`
	FormVersion  int                      `json:"form_version"`
	Answers      map[string]FindingAnswer `json:"answers"`
	InspectorID  uuid.UUID                `json:"inspector_id"`
	VisitID      *uuid.UUID               `json:"visit_id"`
	RecordedAt   time.Time                `json:"recorded_at"`
	UpdatedAt    time.Time                `json:"updated_at"`
	Version      int64                    `json:"version"`
}

// InspectionFindings answers GET /api/v1/inspections/{id}/findings.
type InspectionFindings struct {
	InspectionID uuid.UUID           `json:"inspection_id"`
	Items        []InspectionFinding `json:"items"`
}

// InspectionReport answers GET /api/v1/inspections/{id}/report.
type InspectionReport struct {
	InspectionID   uuid.UUID              `json:"inspection_id"`
	Name           string                 `json:"name"`
	Status         string                 `json:"status"`
	GeneratedOn    domain.Date            `json:"generated_on"`
	Targets        ReportTargets          `json:"targets"`
	Coverage       ReportCoverage         `json:"coverage"`
	Shortfalls     []SampleShortfall      `json:"shortfalls"`
	Households     []HouseholdDiscrepancy `json:"households"`
	LikelyPaper    []HouseholdDiscrepancy `json:"likely_paper"`
	ByCadre        []DiscrepancyGroup     `json:"by_cadre"`
	ByVillage      []DiscrepancyGroup     `json:"by_village"`
	ByTown         []DiscrepancyGroup     `json:"by_town"`
	Opinion        ReportOpinion          `json:"opinion"`
	Precision      ReportPrecision        `json:"precision"`
	Rectifications RectificationCounts    `json:"rectifications"`
}

// ReportPrecision counts the inspected households' answers on 精准识别
// (错评, 漏评), 精准退出 (错退) and 帮扶成效.
type ReportPrecision struct {
	Identification struct {
		Answers           int `json:"answers"`
		Accurate          int `json:"accurate"`
		ShouldRegister    int `json:"should_register"`    // 漏评
		WronglyRegistered int `json:"wrongly_registered"` // 错评
	} `json:"identification"`
	Exit struct {
		Answers        int `json:"answers"`
		CriteriaMet    int `json:"criteria_met"`
		CriteriaNotMet int `json:"criteria_not_met"` // 错退
		NotExited      int `json:"not_exited"`
	} `json:"exit"`
	Effect struct {
		Answers int `json:"answers"`
		Clear   int `json:"clear"`
		Some    int `json:"some"`
		None    int `json:"none"`
	} `json:"effect"`
}

// ReportTargets are the targets a report ranks against.
type ReportTargets struct {
	Awareness    float64 `json:"awareness"`
	Satisfaction float64 `json:"satisfaction"`
}

// ReportCoverage is how far the inspectors have got.
type ReportCoverage struct {
	Households   int               `json:"households"`
	Done         int               `json:"done"`
	Villages     int               `json:"villages"`
	VillagesDone int               `json:"villages_done"`
	ByVillage    []VillageCoverage `json:"by_village"`
}

// VillageCoverage is one sampled village's progress.
type VillageCoverage struct {
	VillageID       uuid.UUID `json:"village_id"`
	VillageName     string    `json:"village_name"`
	TownID          uuid.UUID `json:"town_id"`
	TownName        string    `json:"town_name"`
	Stratum         string    `json:"stratum"`
	Households      int       `json:"households"`
	Done            int       `json:"done"`
	VillageFormDone bool      `json:"village_form_done"`
}

// HouseholdDiscrepancy is one inspected household's discrepancy score,
// with the facts behind it and a reason for every point.
type HouseholdDiscrepancy struct {
	HouseholdID     uuid.UUID           `json:"household_id"`
	Number          string              `json:"number"`
	HeadName        string              `json:"head_name"`
	VillageID       uuid.UUID           `json:"village_id"`
	VillageName     string              `json:"village_name"`
	TownID          uuid.UUID           `json:"town_id"`
	TownName        string              `json:"town_name"`
	Stratum         string              `json:"stratum"`
	CadreID         *uuid.UUID          `json:"cadre_id"`
	CadreName       string              `json:"cadre_name"`
	RecordedVisits  int                 `json:"recorded_visits"`
	FlaggedVisits   int                 `json:"flagged_visits"`
	PhotoReuse      bool                `json:"photo_reuse"`
	RecalledVisits  int                 `json:"recalled_visits"`
	CadreRecognised bool                `json:"cadre_recognised"`
	Points          int                 `json:"points"`
	LikelyPaper     bool                `json:"likely_paper"`
	Reasons         []DiscrepancyReason `json:"reasons"`
}

// DiscrepancyReason is one disagreement and the points it adds.
type DiscrepancyReason struct {
	Code      string  `json:"code"`
	Points    int     `json:"points"`
	Message   string  `json:"message"`
	MessageZH string  `json:"message_zh"`
	Value     float64 `json:"value"`
}

// DiscrepancyGroup is the scores of one cadre's, village's or town's
// inspected households.
type DiscrepancyGroup struct {
	ID          uuid.UUID `json:"id"`
	Name        string    `json:"name"`
	Households  int       `json:"households"`
	MeanPoints  float64   `json:"mean_points"`
	LikelyPaper int       `json:"likely_paper"`
}

// ReportOpinion is the opinion rates overall and ranked by town, village
// and cadre.
type ReportOpinion struct {
	Overall   OpinionRates    `json:"overall"`
	ByTown    []RankedOpinion `json:"by_town"`
	ByVillage []RankedOpinion `json:"by_village"`
	ByCadre   []RankedOpinion `json:"by_cadre"`
}

// OpinionRates are 群众满意度 and 政策知晓率 over inspected households.
type OpinionRates struct {
	Households          int      `json:"households"`
	SatisfactionAnswers int      `json:"satisfaction_answers"`
	Satisfied           int      `json:"satisfied"`
	SatisfactionRate    *float64 `json:"satisfaction_rate"`
	AwarenessAnswers    int      `json:"awareness_answers"`
	AwarenessRate       *float64 `json:"awareness_rate"`
	MeetsSatisfaction   bool     `json:"meets_satisfaction"`
	MeetsAwareness      bool     `json:"meets_awareness"`
	Shortfall           float64  `json:"shortfall"`
}

// RankedOpinion is one town's, village's or cadre's rates and rank.
type RankedOpinion struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
	Rank int       `json:"rank"`
	OpinionRates
}

// RectificationCounts are a campaign's rectifications by status.
type RectificationCounts struct {
	Total      int `json:"total"`
	Open       int `json:"open"`
	InProgress int `json:"in_progress"`
	Submitted  int `json:"submitted"`
	Closed     int `json:"closed"`
	Withdrawn  int `json:"withdrawn"`
	Overdue    int `json:"overdue"`
}

// NewAccountabilityAction is the body of POST /api/v1/accountability.
type NewAccountabilityAction struct {
	Kind         string     `json:"kind"`
	CampaignID   *uuid.UUID `json:"campaign_id"`
	TargetUnitID *uuid.UUID `json:"target_unit_id"`
	TargetUserID *uuid.UUID `json:"target_user_id"`
	Reason       string     `json:"reason"`
}

// AccountabilityFollowUp is the body of POST
// /api/v1/accountability/{id}/follow-up.
type AccountabilityFollowUp struct {
	FollowUp     string      `json:"follow_up"`
	FollowedUpOn domain.Date `json:"followed_up_on"`
	Version      int64       `json:"version"`
}

// AccountabilityAction is a supervision order (督办单), circular (通报) or
// warning (黄牌警告), with its follow-up.
type AccountabilityAction struct {
	ID           uuid.UUID    `json:"id"`
	Kind         string       `json:"kind"`
	KindLabel    string       `json:"kind_label"`
	CampaignID   *uuid.UUID   `json:"campaign_id"`
	TargetUnitID *uuid.UUID   `json:"target_unit_id"`
	TargetUserID *uuid.UUID   `json:"target_user_id"`
	TargetName   string       `json:"target_name"`
	Reason       string       `json:"reason"`
	IssuedBy     uuid.UUID    `json:"issued_by"`
	IssuedByName string       `json:"issued_by_name"`
	IssuedAt     time.Time    `json:"issued_at"`
	FollowUp     string       `json:"follow_up"`
	FollowedUpOn *domain.Date `json:"followed_up_on"`
	Version      int64        `json:"version"`
}
