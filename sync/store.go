package sync

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/wire"
)

// Store is the persistence sync needs outside a push's or a resolution's
// transaction: the feed, the snapshot walks, the lookups behind a pull page
// and the listings. The storage package implements it (storage.Store.Sync).
type Store interface {
	// Tx runs fn in one transaction: a push batch and its stored answer
	// commit together, or not at all.
	Tx(ctx context.Context, fn func(TxStore) error) error
	StoredResponse(ctx context.Context, userID uuid.UUID, key string) (requestSHA256 string, status int, body []byte, err error)
	DeleteExpiredKeys(ctx context.Context, now time.Time) (int64, error)

	// SequenceChanges numbers the committed feed rows in commit order and
	// returns the watermark: every row up to it is committed and visible.
	SequenceChanges(ctx context.Context) (int64, error)
	// ReadsAsOf returns ctx for reads that need the feed up to watermark
	// w: every change up to it numbered and visible, and every record at
	// least as it was when its change was numbered. The store answers
	// them from wherever holds that much (a read replica, or the primary).
	ReadsAsOf(ctx context.Context, w int64) context.Context
	Changes(ctx context.Context, f ChangeFilter) ([]Change, error)
	// AnnounceDatedPairings writes a feed row, once, for every pairing that
	// began or ended on a day in (from, to] and returns how many it wrote.
	AnnounceDatedPairings(ctx context.Context, from, to domain.Date) (int, error)

	// The paged snapshot walk, in key order, up to limit records a call.
	HouseholdsAfter(ctx context.Context, scope domain.HouseholdScope, today domain.Date, after uuid.UUID, limit int, each func(domain.Household) error) error
	MembersAfter(ctx context.Context, scope domain.HouseholdScope, today domain.Date, after ChildKey, limit int, each func(domain.Member) error) error
	PairingsAfter(ctx context.Context, scope domain.HouseholdScope, today domain.Date, after ChildKey, limit int, each func(domain.PairingRecord) error) error
	VisitsAfter(ctx context.Context, cadreID, after uuid.UUID, limit int) ([]domain.Visit, error)
	// WholeScope is the snapshot in one piece, in no order; ScopeRange the
	// part of it whose households have ids in (after, upto], and
	// ScopeKeysAfter the ids of the scope's households after after, in
	// order, up to limit (where such a part ends).
	WholeScope(ctx context.Context, scope domain.HouseholdScope, today domain.Date, sinks ScopeSinks) error
	ScopeRange(ctx context.Context, scope domain.HouseholdScope, today domain.Date, after, upto uuid.UUID, sinks ScopeSinks) error
	ScopeKeysAfter(ctx context.Context, scope domain.HouseholdScope, today domain.Date, after uuid.UUID, limit int) ([]uuid.UUID, error)
	// An inspector's part of the walk: their active tasks by (household,
	// campaign as the ID), and the visits others recorded since since to
	// those tasks' households, by id, deleted ones left out.
	TasksAfter(ctx context.Context, inspectorID uuid.UUID, after ChildKey, limit int, each func(Task) error) error
	ScopeVisitsAfter(ctx context.Context, r domain.VisitReader, inspectorID uuid.UUID, since time.Time, after uuid.UUID, limit int) ([]domain.Visit, error)

	// What the records behind a page of feed rows are now, a few queries a
	// page. The ...ByID lookups ignore scope: the feed judges it. Pairings
	// are read, here as in the snapshot, with their cadre's name and phone
	// joined in the same statement.
	CurrentVisits(ctx context.Context, r domain.VisitReader, ids []uuid.UUID) (map[uuid.UUID]domain.Visit, error)
	MembersByID(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]domain.Member, error)
	PairingsByID(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]domain.PairingRecord, error)
	HouseholdsByID(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]domain.Household, error)
	HouseholdsInScope(ctx context.Context, scope domain.HouseholdScope, today domain.Date, ids []uuid.UUID) (map[uuid.UUID]domain.Household, error)
	MembersOf(ctx context.Context, households []domain.Household) (map[uuid.UUID][]domain.Member, error)
	// An inspector's tasks on the households, active or not, by id; and
	// what a household brings to an inspector's phone, by household: its
	// pairings open on day, and its visits since since (deleted included).
	TasksOf(ctx context.Context, inspectorID uuid.UUID, households []uuid.UUID) (map[uuid.UUID]Task, error)
	OpenPairingsOf(ctx context.Context, households []domain.Household, day domain.Date) (map[uuid.UUID][]domain.PairingRecord, error)
	VisitsSince(ctx context.Context, r domain.VisitReader, households []domain.Household, since time.Time) (map[uuid.UUID][]domain.Visit, error)
	HouseholdsInRegions(ctx context.Context, within string, regions []uuid.UUID, after uuid.UUID, limit int) ([]domain.Household, error)

	Household(ctx context.Context, scope domain.HouseholdScope, today domain.Date, id uuid.UUID) (domain.Household, error)
	Visit(ctx context.Context, id uuid.UUID) (domain.Visit, error)
	// VisitFor is Visit as a reader may see it: a visit hidden from them
	// (domain.VisitReader) is not found.
	VisitFor(ctx context.Context, r domain.VisitReader, id uuid.UUID) (domain.Visit, error)
	Visits(ctx context.Context, f domain.VisitFilter) ([]domain.Visit, int64, error)
	// RegionWithin is the region id when it lies in the subtree at path.
	RegionWithin(ctx context.Context, path string, id uuid.UUID) (domain.Region, error)
	Conflicts(ctx context.Context, f ConflictFilter) ([]Conflict, int64, error)

	PlanStore
	IncomeAccountStore
}

// TxStore is the persistence a push batch and a conflict resolution use
// inside their transaction. Its writes join that transaction, and its Tx
// nests as a savepoint, so one refused record rolls back alone while the
// rest of the batch commits.
type TxStore interface {
	Tx(ctx context.Context, fn func(TxStore) error) error

	// ClaimIdempotencyKey reports false when the key is taken; a claim of
	// a key whose batch is still in flight waits for that batch to end.
	ClaimIdempotencyKey(ctx context.Context, userID uuid.UUID, key, requestSHA256 string, now time.Time, keep time.Duration) (bool, error)
	SaveResponse(ctx context.Context, userID uuid.UUID, key string, status int, body []byte) error
	// LockHouseholds locks, until the transaction ends, the households
	// named and those of the writer's visits named, all in the one order
	// every writer uses; ids outside the writer's subtree (within) are
	// passed over.
	LockHouseholds(ctx context.Context, within string, writer uuid.UUID, households, visits []uuid.UUID) error

	// VisitsByID and the ...ForUpdate reads lock what they return.
	VisitsByID(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]domain.Visit, error)
	VisitForUpdate(ctx context.Context, id uuid.UUID) (domain.Visit, error)
	// HouseholdForUpdate and MemberForUpdate also return who wrote the
	// stored version (the loser of a conflict with this edit).
	HouseholdForUpdate(ctx context.Context, scope domain.HouseholdScope, today domain.Date, id uuid.UUID) (domain.Household, *uuid.UUID, error)
	MemberForUpdate(ctx context.Context, countyID, householdID, id uuid.UUID) (domain.Member, *uuid.UUID, error)
	Household(ctx context.Context, scope domain.HouseholdScope, today domain.Date, id uuid.UUID) (domain.Household, error)
	HouseholdByID(ctx context.Context, id uuid.UUID) (domain.Household, error)
	PairedOn(ctx context.Context, cadreID, householdID uuid.UUID, day domain.Date) (bool, error)
	// PairedSince reports a pairing that ended on or after since, or is open.
	PairedSince(ctx context.Context, cadreID, householdID uuid.UUID, since domain.Date) (bool, error)

	// The writes each add their feed row. The Save... ones write only over
	// expectedVersion and fail as stale otherwise.
	InsertVisit(ctx context.Context, v domain.Visit) error
	InsertVisits(ctx context.Context, vs []domain.Visit) error
	SaveVisit(ctx context.Context, v domain.Visit, expectedVersion int64) error
	SaveHouseholdDetails(ctx context.Context, h domain.Household, expectedVersion int64, by uuid.UUID) error
	SaveMemberDetails(ctx context.Context, m domain.Member, expectedVersion int64, by uuid.UUID) error

	InsertConflicts(ctx context.Context, cs []Conflict) error
	// ConflictInScope locks the conflict it returns.
	ConflictInScope(ctx context.Context, withinPath string, id uuid.UUID) (Conflict, error)
	ResolveConflict(ctx context.Context, c Conflict, by uuid.UUID, resolution string, now time.Time) error

	PlanTxStore
}

// DueList is a cadre's due list as of now: the visit rules not yet met,
// which the last page of a pull carries so the phone shows them offline.
type DueList func(ctx context.Context, p domain.Principal) ([]wire.DueItem, error)

// Inspections is what a push needs of the inspection service, which sync
// knows nothing of (the app wires it to internal/inspect).
type Inspections interface {
	// InspectionVisit runs in the savepoint of the change that wrote an
	// inspector's inspection visit v, so that what it refuses rolls the
	// visit back with it. arrived says the visit was just created: the
	// household is then done in the sample of the campaign it was for
	// (its findings', or the only running one there). findings, when the phone sent them, are recorded on
	// the visit; recorded reports that they were written. Field errors
	// name fields inside the findings object ("/answers/food", "" for the
	// object itself).
	InspectionVisit(ctx context.Context, tx TxStore, p domain.Principal, v domain.Visit, arrived bool, findings *wire.VisitFindings) (recorded bool, err error)
	// Inspects says whether a campaign ever sent the inspector p to the
	// household, running or ended: their new visit there is taken to
	// InspectionVisit, which judges it by its start, though an ended
	// campaign's household has left their scope.
	Inspects(ctx context.Context, tx TxStore, p domain.Principal, householdID uuid.UUID) (bool, error)
}

// Change is one numbered row of the change feed: which record changed, and
// how. A pull reads the record's current state behind it.
// ChangeCadreRenamed is the Op of a pairing's feed row that says only its
// cadre's name or phone changed: the pairing goes to the phones again (it
// carries them), its household does not.
const ChangeCadreRenamed = "cadre_renamed"

type Change struct {
	Seq         int64
	CountyID    uuid.UUID
	Entity      string
	EntityID    uuid.UUID
	HouseholdID *uuid.UUID
	CadreID     *uuid.UUID
	Op          string
	Version     int64
	// Household is, on a household row, the household as it is now, read
	// with the row: the filter takes household rows by the scope, so the
	// household is in it (nil: it is not, or it is gone). A page of
	// edited households needs no second read, nor a second walk of the
	// scope, to send them.
	Household *domain.Household
}

// ChangeFilter selects the feed rows relevant to one caller.
type ChangeFilter struct {
	After, UpTo int64
	Limit       int
	// Rows of households in Scope on Today, and the caller's own rows
	// (visits, pairings, an inspector's tasks) when CadreID is set.
	Scope   domain.HouseholdScope
	Today   domain.Date
	CadreID *uuid.UUID
	// HouseholdVisits adds the visit rows of households in Scope, whoever
	// recorded them: an inspector sees what the cadres recorded at the
	// households they inspect.
	HouseholdVisits bool
}

// Task is an inspector's task as their phone holds it: a household drawn
// by a campaign, with what the inspector needs to know of the campaign
// and the draw while offline.
type Task struct {
	ID                    uuid.UUID // the same for the same campaign, household and inspector
	CampaignID            uuid.UUID
	CampaignName          string
	Mode                  string
	PeriodFrom, PeriodTo  domain.Date
	HouseholdID, CountyID uuid.UUID
	InspectorID           uuid.UUID
	VillageID, TownID     uuid.UUID
	VillageName, Stratum  string
	Active                bool // false once the campaign ended
	Done                  bool // the household's inspection was recorded
}

// ChildKey is where a members or pairings phase of the snapshot walk
// stands: the household and id of the last record handed out (zero: from
// the start). Households and visits are walked by ID alone.
type ChildKey struct {
	HouseholdID, ID uuid.UUID
}

// ScopeSinks receive the records of a whole scope. Each is called from
// its own goroutine (never two calls of one sink at once).
type ScopeSinks struct {
	Household func(domain.Household) error
	Member    func(domain.Member) error
	Pairing   func(domain.PairingRecord) error
}

// Conflict is a value that lost an overlapping edit, kept for a
// supervisor to review.
type Conflict struct {
	ID          uuid.UUID
	CountyID    uuid.UUID
	Entity      string
	EntityID    uuid.UUID
	HouseholdID uuid.UUID
	Field       string
	BaseValue   json.RawMessage
	LostValue   json.RawMessage
	WonValue    json.RawMessage
	LostVersion int64
	WonVersion  int64
	LostBy      *uuid.UUID
	WonBy       *uuid.UUID
	WonDevice   string
	CreatedAt   time.Time
	ResolvedAt  *time.Time
	ResolvedBy  *uuid.UUID
	Resolution  string
}

// ConflictFilter narrows the conflict inbox to a region subtree.
type ConflictFilter struct {
	WithinPath    string
	Open          *bool
	HouseholdID   *uuid.UUID
	Limit, Offset int
}
