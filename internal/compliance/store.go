package compliance

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance/rules"
)

// Store is the persistence the compliance service needs (its port); package
// storage implements it. Tx runs fn in one transaction, so judging a batch
// of subjects can commit once.
type Store interface {
	TxStore
	Tx(ctx context.Context, fn func(TxStore) error) error
}

// TxStore is what the service reads and writes, whether in a transaction
// of its own or not: each method is one unit of work.
type TxStore interface {
	// Rule profiles and where they are attached.
	EnsureRuleProfiles(ctx context.Context, ps []StoredProfile, now time.Time) error
	RuleProfiles(ctx context.Context) ([]StoredProfile, error)
	RuleProfile(ctx context.Context, code string) (StoredProfile, error)
	// SaveRuleProfile stores a new profile (expectedVersion 0) or the next
	// version of one, and queues everything judged by it for the years.
	SaveRuleProfile(ctx context.Context, p StoredProfile, expectedVersion int, years []int, now time.Time, audit domain.AuditEntry) (StoredProfile, error)
	RegionProfiles(ctx context.Context, regionIDs []uuid.UUID) (map[uuid.UUID]string, error)
	AllRegionProfiles(ctx context.Context) (map[uuid.UUID]string, error)
	// AssignRuleProfile attaches a profile to a region (code "" detaches
	// it) and queues everything in the region for the years.
	AssignRuleProfile(ctx context.Context, region domain.Region, code string, years []int, now time.Time, audit domain.AuditEntry) error

	// The register, as far as judging and reports read it.
	Region(ctx context.Context, id uuid.UUID) (domain.Region, error)
	RegionWithin(ctx context.Context, path string, id uuid.UUID) (domain.Region, error)
	CountyIDs(ctx context.Context) ([]uuid.UUID, error)
	Household(ctx context.Context, scope domain.HouseholdScope, today domain.Date, id uuid.UUID) (domain.Household, error)
	User(ctx context.Context, id uuid.UUID) (domain.User, error)
	UnitRegionPath(ctx context.Context, unitID uuid.UUID) (string, error)
	UnitAssignments(ctx context.Context, unitID uuid.UUID) ([]domain.UnitAssignment, error)
	UnitCadreIDs(ctx context.Context, unitID uuid.UUID) ([]uuid.UUID, error)
	// Names are the display names of users and the names of regions.
	Names(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]string, error)

	// The queue of subjects to judge, their facts and their judgements.
	// ClaimComplianceQueue claims up to limit queued subjects, oldest
	// first, until until: no other worker takes them meanwhile.
	ClaimComplianceQueue(ctx context.Context, limit int, now, until time.Time) ([]QueuedSubject, error)
	// ReleaseComplianceClaims hands back the subjects of the claim ending
	// at until that are still queued, for any worker to take at once.
	ReleaseComplianceClaims(ctx context.Context, qs []QueuedSubject, until time.Time) error
	// QueueUnjudged queues up to limit subjects never judged for the year.
	QueueUnjudged(ctx context.Context, year, limit int, now time.Time) (int64, error)
	QueueSubject(ctx context.Context, kind string, id uuid.UUID, year int, countyID uuid.UUID, now time.Time) error
	ComplianceHouseholdFacts(ctx context.Context, householdID uuid.UUID) (HouseholdHistory, error)
	// HouseholdVisitFacts and CadreVisitFacts list visits started in
	// [from, to), deleted ones included so a judgement can say they were.
	// HouseholdVisitFacts leaves out the visits hidden from the reader
	// (domain.VisitReader): the stored judgements are built for nobody
	// (the zero reader), so no report shows a secret inspection visit.
	HouseholdVisitFacts(ctx context.Context, r domain.VisitReader, countyID, householdID uuid.UUID, from, to time.Time) ([]rules.VisitFact, error)
	CadreVisitFacts(ctx context.Context, cadreIDs []uuid.UUID, from, to time.Time) ([]rules.VisitFact, error)
	CountyCoverageFacts(ctx context.Context, path string, from, to time.Time) (CoverageFacts, error)
	// SaveJudgement replaces the subject's statuses for the year and takes
	// it off the queue unless it was queued again meanwhile (then its claim
	// ends, so it is judged again at once).
	SaveJudgement(ctx context.Context, j Judgement) error

	// Reports and closes.
	// ReadsCurrent returns ctx for reads that must reflect everything
	// committed before now, and ReadsOfClose for reads of a county's
	// frozen close of a period: the store answers them (in a transaction: always the primary) from wherever
	// holds that much (a read replica, or the primary).
	ReadsCurrent(ctx context.Context) context.Context
	ReadsOfClose(ctx context.Context, countyID uuid.UUID, periodKey string) context.Context
	ReportCounts(ctx context.Context, f ReportFilter, by Grouping) ([]StateCounts, error)
	ReportItems(ctx context.Context, f ReportFilter) ([]ReportItem, int64, error)
	// ClosePeriod freezes a county's statuses for a period as they stand on
	// today; closing a period twice is a conflict.
	ClosePeriod(ctx context.Context, countyID uuid.UUID, periodKey string, today domain.Date, now time.Time, audit domain.AuditEntry) error
	PeriodClose(ctx context.Context, countyID uuid.UUID, periodKey string) (*time.Time, error)
	ClosedPeriods(ctx context.Context, countyID uuid.UUID) (map[string]bool, error)
	// PairedHouseholds lists the households within path paired with the
	// cadre on day, by village and number.
	PairedHouseholds(ctx context.Context, path string, cadreID uuid.UUID, day domain.Date) ([]PairedHousehold, error)
	// CadreVisitFactsWithin lists the cadre's visits to households within
	// path started in [from, to), deleted ones included.
	CadreVisitFactsWithin(ctx context.Context, path string, cadreID uuid.UUID, from, to time.Time) ([]rules.VisitFact, error)
	// VisitLedger streams the 台账's visits to fn one at a time.
	VisitLedger(ctx context.Context, f VisitLedgerFilter, fn func(VisitLedgerRow) error) error
	// VisitFlagCounts counts the visits a ledger would list by each flag
	// they carry (a visit with two flags counts once under each).
	VisitFlagCounts(ctx context.Context, f VisitLedgerFilter) (map[string]int64, error)
	// HouseholdMarks lists the households of a map in scope, each with its
	// village and town names, home point and worst state of the period.
	HouseholdMarks(ctx context.Context, f MarkFilter) ([]HouseholdMark, error)
}

// Subjects are what one judgement is about: a queued subject's statuses for
// a year are judged and replaced together. A household's and a cadre's
// codes are those of the rules judging them; a unit is judged for the
// village groups it is placed in.
const (
	SubjectHousehold = rules.SubjectHousehold
	SubjectCadre     = rules.SubjectCadre
	SubjectUnit      = "unit"
)

// StatusSubjects are the rule subjects (rules.Subject…) of the statuses one
// judgement of a subject of this kind replaces: a household's own and its
// pairs', a cadre's duties, a unit's places.
func StatusSubjects(kind string) []string {
	switch kind {
	case SubjectHousehold:
		return []string{rules.SubjectHousehold, rules.SubjectPairing}
	case SubjectCadre:
		return []string{rules.SubjectCadre}
	case SubjectUnit:
		return []string{rules.SubjectUnitGroup}
	}
	return nil
}

// QueuedSubject is a household, cadre or unit whose statuses for a year
// must be judged again.
type QueuedSubject struct {
	Kind       string // SubjectHousehold, SubjectCadre or SubjectUnit
	ID         uuid.UUID
	Year       int
	CountyID   uuid.UUID
	EnqueuedAt time.Time // zero: not taken from the queue
}

// StoredProfile is a rule profile as saved: its body is the profile's JSON.
type StoredProfile struct {
	Code      string
	NameZH    string
	Version   int
	Body      []byte
	Builtin   bool
	UpdatedBy *uuid.UUID
	UpdatedAt time.Time
}

// HouseholdHistory is what judging a household needs from the database:
// the household with its status and poverty-type histories and pairings.
type HouseholdHistory struct {
	Household      domain.Household
	RegionPath     string
	StatusChanges  []domain.StatusChange
	PovertyChanges []domain.PovertyTypeChange
	Pairings       []domain.Pairing
}

// CoverageFacts is a county's picture for the coverage and standing rules:
// its households with their histories, villages, cadres and the visits of
// cadres whose duty is to cover (town heads, county leaders).
type CoverageFacts struct {
	Households []HouseholdHistory
	Villages   []domain.Region
	Cadres     []domain.User
	Visits     []rules.VisitFact
}

// JudgedStatus is one stored status with where it belongs.
type JudgedStatus struct {
	Status     rules.Status
	CountyID   uuid.UUID
	CadreID    *uuid.UUID // who answers for it
	VillageID  *uuid.UUID
	TownID     *uuid.UUID
	RegionPath string
}

// Judgement is everything judging one subject for one year produced.
type Judgement struct {
	Subject        QueuedSubject
	ProfileCode    string
	ProfileVersion int
	Statuses       []JudgedStatus
	At             time.Time
}

// ReportFilter selects statuses for a report.
type ReportFilter struct {
	RegionPath string
	PeriodKeys []string
	Today      domain.Date // the day the live statuses' states are read on
	Frozen     bool        // read the period's frozen close instead of the live statuses
	CadreID    *uuid.UUID  // only what this cadre answers for
	RuleCode   string
	// PovertyType and HouseholdStatus keep the statuses of households
	// whose current poverty type or status it is.
	PovertyType     string
	HouseholdStatus string
	States          []string // only these states (rules.State…)
	// Households, when set, keeps the statuses of the households in this
	// scope on Today (an inspector's: their tasks'); statuses without a
	// household (a cadre's duties) drop out.
	Households *domain.HouseholdScope
	Limit      int
	Offset     int
}

// Grouping is how a report's counts are split.
type Grouping int

// The groupings of a report's counts.
const (
	Overall   Grouping = iota // one total
	ByVillage                 // by the village a status belongs to
	ByTown
	ByCadre // by the cadre who answers for it
	ByRule
)

// StateCounts counts statuses by state for one group of a report.
type StateCounts struct {
	Group    string // the group's id (village, town, cadre) or rule code; "" for none
	Total    int64
	Met      int64
	OnTrack  int64
	DueSoon  int64
	Overdue  int64
	Missed   int64
	Required int64
	Counted  int64 // counted visits, each status's capped at what it requires
}

// MetRate is the share of the statuses met, or -1 when none was judged.
func (c StateCounts) MetRate() float64 {
	if c.Total == 0 {
		return -1
	}
	return float64(c.Met) / float64(c.Total)
}

// OnPaceRate is the share of the statuses met or still on pace (on track,
// due soon) — the rest are behind (overdue) or missed — or -1 when none
// was judged. The map and the console colour by it: early in a period
// most statuses are on track but not yet met, and a village whose cadres
// are all on pace is not behind (落后) however few of its visits are done.
func (c StateCounts) OnPaceRate() float64 {
	if c.Total == 0 {
		return -1
	}
	return float64(c.Total-c.Overdue-c.Missed) / float64(c.Total)
}

// ReportItem is one status of a report with its state on the report's day
// and the names a person reads.
type ReportItem struct {
	JudgedStatus
	State         string
	HouseholdName string
	HouseholdNo   string
	CadreName     string
	VillageName   string
}

// PairedHousehold is a household paired with a cadre, with its village's
// name and the first day of the pairing.
type PairedHousehold struct {
	Household   domain.Household
	VillageName string
	PairedSince domain.Date
}

// VisitLedgerFilter selects the visits of a 台账.
type VisitLedgerFilter struct {
	RegionPath      string
	CadreID         *uuid.UUID // only this cadre's visits
	PovertyType     string     // only visits to households of this (current) poverty type
	HouseholdStatus string     // only visits to households of this (current) status
	From, To        time.Time  // started in [From, To)
	// Households, when set, keeps the visits to households in this scope
	// on Today (an inspector's: their tasks').
	Households *domain.HouseholdScope
	Today      domain.Date
	Reader     domain.VisitReader // the visits hidden from the reader are left out
}

// VisitLedgerRow is one visit with the names its 台账 line shows. Visit
// carries what the line shows (no GPS fixes, device or versions, and no
// photo list: the line shows PhotoCount and links FirstPhotoID, uuid.Nil
// when there is none).
type VisitLedgerRow struct {
	Visit        domain.Visit
	PhotoCount   int
	FirstPhotoID uuid.UUID
	TownName     string
	VillageName  string
	HouseholdNo  string
	HeadName     string
	PovertyType  string
	Status       string
	CadreName    string
}
