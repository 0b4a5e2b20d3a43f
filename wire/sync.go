package wire

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// Sync entities and operations.
const (
	EntityVisit     = "visit"
	EntityHousehold = "household"
	EntityMember    = "member"
	EntityPairing   = "pairing"
	EntityTask      = "task" // pull only: an inspector's inspection task

	OpCreate = "create"
	OpUpdate = "update"
	OpDelete = "delete"
	OpUpsert = "upsert" // pull only: the record as it is now
)

// Push outcomes, one per change.
const (
	StatusApplied   = "applied"   // stored as sent
	StatusMerged    = "merged"    // stored, combined with others' non-overlapping edits
	StatusConflict  = "conflict"  // stored by policy; a losing value was kept for review (conflict_ids)
	StatusDuplicate = "duplicate" // this exact change was stored before; nothing changed
	StatusRejected  = "rejected"  // nothing stored for this change; errors say why
)

// MaxPushChanges bounds one push batch.
const MaxPushChanges = 500

// PushRequest is the body of POST /api/v1/sync/push. DeviceTime is the
// phone's clock when it sent the batch; the server measures the offset.
type PushRequest struct {
	DeviceID   string    `json:"device_id"`
	DeviceTime time.Time `json:"device_time"`
	Changes    []Change  `json:"changes"`
}

// Change is one record change made on the phone. Updates carry the version
// they were made from and, for each changed field, the value it had then
// (Base), so the server can merge edits that do not overlap.
type Change struct {
	Entity      string                     `json:"entity"`
	Op          string                     `json:"op"`
	ID          uuid.UUID                  `json:"id"`
	HouseholdID *uuid.UUID                 `json:"household_id,omitempty"`
	BaseVersion int64                      `json:"base_version,omitempty"`
	Data        map[string]json.RawMessage `json:"data,omitempty"`
	Base        map[string]json.RawMessage `json:"base,omitempty"`
}

// PushResponse answers a push; it is stored and replayed byte for byte for
// the same Idempotency-Key.
type PushResponse struct {
	ReceivedAt    time.Time    `json:"received_at"`
	ClockOffsetMS int64        `json:"clock_offset_ms"`
	Results       []PushResult `json:"results"`
	Applied       int          `json:"applied"`
	Rejected      int          `json:"rejected"`
}

// PushResult is the outcome of one change. Errors point into the request
// ("/changes/3/data/gps/0/lat").
type PushResult struct {
	Index       int                 `json:"index"`
	Entity      string              `json:"entity"`
	ID          uuid.UUID           `json:"id"`
	Status      string              `json:"status"`
	Version     int64               `json:"version,omitempty"`
	ConflictIDs []uuid.UUID         `json:"conflict_ids,omitempty"`
	Errors      []domain.FieldError `json:"errors,omitempty"`
	Flags       []Flag              `json:"flags,omitempty"`
}

// PullResponse is the body of GET /api/v1/sync/pull. Cursor is opaque;
// pass it back unchanged. HasMore says to pull again at once.
type PullResponse struct {
	Changes []PulledChange `json:"changes"`
	Cursor  string         `json:"cursor"`
	HasMore bool           `json:"has_more"`
	// Due is a cadre's worklist as of the pull, on the last page only, so
	// the phone shows who is due, when and why while offline.
	Due []DueItem `json:"due,omitempty"`
}

// DueItem is one visit rule a cadre has not yet met.
type DueItem struct {
	HouseholdID *uuid.UUID  `json:"household_id"`
	RuleCode    string      `json:"rule_code"`
	RuleNameZH  string      `json:"rule_name_zh"`
	Period      string      `json:"period"`
	Required    int         `json:"required"`
	Counted     int         `json:"counted"`
	DueOn       domain.Date `json:"due_on"`
	State       string      `json:"state"`
	ReasonZH    string      `json:"reason_zh"`
}

// PulledChange is a record as it is now (upsert) or a tombstone (delete:
// deleted, or no longer in the caller's scope; the phone drops it).
type PulledChange struct {
	Entity      string          `json:"entity"`
	Op          string          `json:"op"`
	ID          uuid.UUID       `json:"id"`
	HouseholdID *uuid.UUID      `json:"household_id,omitempty"`
	Version     int64           `json:"version"`
	Data        json.RawMessage `json:"data,omitempty"`
	// Record, when set, is encoded in place of Data (the server's pull,
	// which appends each record straight into the page).
	Record JSONAppender `json:"-"`
}

// Visit is a visit as the server keeps it.
type Visit struct {
	ID                 uuid.UUID                 `json:"id"`
	HouseholdID        uuid.UUID                 `json:"household_id"`
	CadreID            uuid.UUID                 `json:"cadre_id"`
	DeviceID           string                    `json:"device_id"`
	Kind               string                    `json:"kind"`
	StartedAt          string                    `json:"started_at"` // as the phone wrote it
	EndedAt            *time.Time                `json:"ended_at"`
	ReceivedAt         time.Time                 `json:"received_at"`
	ClockOffsetMS      int64                     `json:"clock_offset_ms"`
	Notes              string                    `json:"notes"`
	Checklist          map[string]ChecklistEntry `json:"checklist"`
	Measures           []string                  `json:"measures"`
	MetWith            []string                  `json:"met_with"`
	HouseholdConfirmed *bool                     `json:"household_confirmed"`
	GPS                []GPSStamp                `json:"gps"`
	Photos             []PhotoRef                `json:"photos"`
	PlanProgress       []PlanProgress            `json:"plan_progress"`
	RiskTriggers       []RiskTrigger             `json:"risk_triggers"`
	IncomeUpdates      []IncomeUpdate            `json:"income_updates"`
	Flags              []Flag                    `json:"flags"`
	Deleted            bool                      `json:"deleted"`
	Version            int64                     `json:"version"`
	UpdatedAt          time.Time                 `json:"updated_at"`
}

// FromVisit converts a domain visit.
func FromVisit(v domain.Visit) Visit {
	out := Visit{ID: v.ID, HouseholdID: v.HouseholdID, CadreID: v.CadreID, DeviceID: v.DeviceID, Kind: v.Kind, StartedAt: v.StartedAtText,
		EndedAt: v.EndedAt, ReceivedAt: v.ReceivedAt, ClockOffsetMS: v.ClockOffsetMS, Notes: v.Notes, Checklist: fromChecklist(v.Checklist),
		Measures: v.Measures, MetWith: v.MetWith, HouseholdConfirmed: v.HouseholdConfirmed, GPS: fromGPS(v.GPS), Photos: fromPhotoRefs(v.Photos),
		PlanProgress: FromPlanProgress(v.PlanProgress), RiskTriggers: FromRiskTriggers(v.RiskTriggers), IncomeUpdates: FromIncomeUpdates(v.IncomeUpdates), Flags: FromFlags(v.Flags), Deleted: v.Deleted, Version: v.Version, UpdatedAt: v.UpdatedAt}
	for _, s := range []*[]string{&out.Measures, &out.MetWith} {
		if *s == nil {
			*s = []string{}
		}
	}
	if out.Flags == nil {
		out.Flags = []Flag{}
	}
	return out
}

// Task is an inspector's inspection task as it reaches their phone (pull
// only): a household a campaign drew for them, with the campaign and the
// draw's facts the inspector works from offline. Its id is stable for the
// campaign, household and inspector.
type Task struct {
	ID           uuid.UUID   `json:"id"`
	CampaignID   uuid.UUID   `json:"campaign_id"`
	CampaignName string      `json:"campaign_name"`
	Mode         string      `json:"mode"` // announced, unannounced, cross
	PeriodFrom   domain.Date `json:"period_from"`
	PeriodTo     domain.Date `json:"period_to"`
	HouseholdID  uuid.UUID   `json:"household_id"`
	VillageID    uuid.UUID   `json:"village_id"`
	VillageName  string      `json:"village_name"`
	TownID       uuid.UUID   `json:"town_id"`
	Stratum      string      `json:"stratum"`
	Done         bool        `json:"done"` // the household's inspection was recorded
}

// Conflict is a losing value kept for a supervisor.
type Conflict struct {
	ID          uuid.UUID       `json:"id"`
	Entity      string          `json:"entity"`
	EntityID    uuid.UUID       `json:"entity_id"`
	HouseholdID uuid.UUID       `json:"household_id"`
	Field       string          `json:"field"`
	BaseValue   json.RawMessage `json:"base_value"`
	LostValue   json.RawMessage `json:"lost_value"`
	WonValue    json.RawMessage `json:"won_value"`
	LostVersion int64           `json:"lost_version"`
	WonVersion  int64           `json:"won_version"`
	LostBy      *uuid.UUID      `json:"lost_by"`
	WonBy       *uuid.UUID      `json:"won_by"`
	CreatedAt   time.Time       `json:"created_at"`
	ResolvedAt  *time.Time      `json:"resolved_at"`
	Resolution  string          `json:"resolution"`
}
