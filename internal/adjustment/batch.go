package adjustment

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/casework"
)

// Item kinds: the change an item proposes.
const (
	KindExit           = "exit"           // starts the exit procedure (两公示一公告)
	KindIdentification = "identification" // starts the identification procedure (识别纳入)
	KindRemoval        = "removal"        // starts the removal procedure (清退)
	KindRepairing      = "repairing"      // pairs a cadre, or hands the household to another (结对调整)
	KindPovertyType    = "poverty_type"   // moves the poverty type on its own (贫困户属性变更)
)

// KindLabels are the kinds' zh-CN names.
var KindLabels = domain.Vocabulary{{Code: KindExit, Label: "脱贫退出"}, {Code: KindIdentification, Label: "识别纳入"},
	{Code: KindRemoval, Label: "清退"}, {Code: KindRepairing, Label: "结对调整"}, {Code: KindPovertyType, Label: "贫困户属性变更"}}

// Item states.
const (
	StatePending  = "pending"  // waiting for the supervisor
	StateApplied  = "applied"  // approved and applied
	StateRejected = "rejected" // rejected, or left pending when the batch closed
	StateStale    = "stale"    // approved, but the household moved on since the proposal: not applied
)

// StateLabels are the states' zh-CN names.
var StateLabels = domain.Vocabulary{{Code: StatePending, Label: "待审批"}, {Code: StateApplied, Label: "已执行"},
	{Code: StateRejected, Label: "已驳回"}, {Code: StateStale, Label: "已失效"}}

// Batch states.
const (
	BatchOpen   = "open"
	BatchClosed = "closed"
)

// Where an item came from.
const (
	SourceCandidates = "candidates" // built from the candidate lists
	SourceImport     = "import"     // a row of a supervisor's spreadsheet
)

// Batch is one region's adjustment round of a year.
type Batch struct {
	ID         uuid.UUID
	CountyID   uuid.UUID
	RegionID   uuid.UUID
	RegionName string
	RegionPath string
	Year       int
	Status     string
	CreatedBy  uuid.UUID
	CreatedAt  time.Time
	UpdatedAt  time.Time
	ClosedAt   *time.Time
	// Counts are the items by state.
	Counts map[string]int
	// Items are filled by Batch, not by Batches.
	Items []Item
}

// Item is one proposed change with its reason and evidence.
type Item struct {
	ID              uuid.UUID
	BatchID         uuid.UUID
	CountyID        uuid.UUID
	Seq             int
	HouseholdID     uuid.UUID
	HouseholdNumber string // read with the item, for people
	HeadName        string
	Kind            string
	Source          string
	Reason          string
	Evidence        []string
	// HouseholdVersion is the household's version when proposed: a
	// household changed since is not changed again on an old proposal.
	HouseholdVersion int64
	PovertyType      string     // identification: the type registered with; poverty_type: the new type
	CadreID          *uuid.UUID // repairing: the cadre proposed
	CadreName        string
	FromCadreID      *uuid.UUID // repairing: the cadre handing over (nil: the household had none)
	State            string
	StateReason      string
	ResultID         *uuid.UUID // the procedure started or the pairing made
	ReviewedBy       *uuid.UUID
	ReviewedAt       *time.Time
	CreatedAt        time.Time
}

// Store is the persistence the adjustment round needs. Tx hands out a
// Store bound to one transaction; Tx on that Store is a savepoint, so an
// item's change that a service refuses rolls back alone.
type Store interface {
	Tx(ctx context.Context, fn func(Store) error) error

	RegionWithin(ctx context.Context, path string, id uuid.UUID) (domain.Region, error)
	Household(ctx context.Context, scope domain.HouseholdScope, today domain.Date, id uuid.UUID) (domain.Household, error)
	Households(ctx context.Context, f domain.HouseholdFilter) ([]domain.Household, int64, error)
	// HouseholdsByNumber finds households of the subtree at withinPath by 户编号.
	HouseholdsByNumber(ctx context.Context, withinPath string, numbers []string) (map[string]domain.Household, error)
	OpenPairings(ctx context.Context, countyID, householdID uuid.UUID) ([]domain.Pairing, error)
	// PairableCadres are the active cadres whose region holds the
	// household, deepest region first, each with the households paired
	// with them now.
	PairableCadres(ctx context.Context, countyID, householdID uuid.UUID) ([]Cadre, error)
	// IdentificationFindings are the latest findings per household of the
	// subtree's ended campaigns (an unannounced one stays secret until it
	// ends) whose 精准识别 answer is 漏评 or 错评.
	IdentificationFindings(ctx context.Context, withinPath string) ([]Finding, error)
	// OpenProcedureHouseholds are the households of the subtree with an
	// open casework procedure.
	OpenProcedureHouseholds(ctx context.Context, withinPath string) (map[uuid.UUID]bool, error)

	// CreateBatch writes a batch with its items; a second open batch of
	// the same region and year is a conflict.
	CreateBatch(ctx context.Context, b Batch, items []Item, audit domain.AuditEntry) error
	Batches(ctx context.Context, withinPath string, regionPath string, limit, offset int) ([]Batch, int64, error)
	// Batch reads a batch of the subtree with its items in order.
	Batch(ctx context.Context, withinPath string, id uuid.UUID) (Batch, error)
	// BatchForUpdate locks the batch (without items) until the transaction ends.
	BatchForUpdate(ctx context.Context, withinPath string, id uuid.UUID) (Batch, error)
	// ItemForUpdate locks an item of the batch until the transaction ends.
	ItemForUpdate(ctx context.Context, countyID, batchID, id uuid.UUID) (Item, error)
	AddItems(ctx context.Context, b Batch, items []Item, audit domain.AuditEntry) error
	// SaveItemState writes an item's state, reason, result and review.
	SaveItemState(ctx context.Context, it Item, audit domain.AuditEntry) error
	CloseBatch(ctx context.Context, b Batch, audit domain.AuditEntry) error
}

// Cadre is a cadre who may be paired with a household, with their load.
type Cadre struct {
	ID          uuid.UUID
	Username    string
	DisplayName string
	RegionPath  string
	Households  int
}

// Finding is an inspection finding on a household's identification.
type Finding struct {
	HouseholdID  uuid.UUID
	CampaignName string
	Choice       string // should_register (漏评) | wrongly_registered (错评)
	RecordedAt   time.Time
}

// Changes applies an approved item through the services that make the
// same change one by one, bound to the item's transaction tx (the app
// binds casework's and the register's services).
type Changes interface {
	StartProcedure(ctx context.Context, tx Store, p domain.Principal, householdID uuid.UUID, in casework.NewProcedure) (uuid.UUID, error)
	// Repair pairs cadreID with the household; with from set, it ends that
	// cadre's pairing in the same step (re-pairing).
	Repair(ctx context.Context, tx Store, p domain.Principal, householdID uuid.UUID, from *uuid.UUID, cadreID uuid.UUID, on domain.Date, reason string) (uuid.UUID, error)
	ChangePovertyType(ctx context.Context, tx Store, p domain.Principal, householdID uuid.UUID, povertyType string, on domain.Date, reason string, version int64) error
}

// ExitJudge judges households against a year's exit standard (casework).
type ExitJudge interface {
	ExitCandidates(ctx context.Context, p domain.Principal, q casework.CandidateQuery) ([]casework.Candidate, int64, casework.ExitStandard, error)
}

// Service is the adjustment round's use cases.
type Service struct {
	store   Store
	exits   ExitJudge
	changes Changes
	now     func() time.Time
	// spillDir is where the spreadsheets an import reads unpack (SpillTo).
	spillDir string
}

// NewService builds the service; now is the clock.
func NewService(store Store, exits ExitJudge, changes Changes, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, exits: exits, changes: changes, now: now}
}

// SpillTo names the directory where excelize's temporary files go (""
// is the system's): the server gives its own, which serve empties at
// start and checks is writable.
func (s *Service) SpillTo(dir string) { s.spillDir = dir }

func (s *Service) today() domain.Date { return domain.DateOf(s.now()) }

func batchAudit(p domain.Principal, b Batch, action string, detail map[string]any) domain.AuditEntry {
	actor := p.UserID
	if detail == nil {
		detail = map[string]any{}
	}
	detail["year"] = b.Year
	return domain.AuditEntry{ActorID: &actor, ActorName: p.Username, Action: action, ObjectType: "adjustment_batch", ObjectID: b.ID.String(),
		RegionPath: b.RegionPath, RequestID: p.RequestID, Detail: detail}
}

func itemAudit(p domain.Principal, b Batch, it Item, action string) domain.AuditEntry {
	e := batchAudit(p, b, action, map[string]any{"item_id": it.ID.String(), "kind": it.Kind, "state": it.State})
	hid := it.HouseholdID
	e.HouseholdID = &hid
	return e
}
