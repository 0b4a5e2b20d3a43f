package casework

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// Store is the persistence casework needs. Its Tx hands out a TxStore
// whose reads and writes join one transaction, so a procedure's last step
// and the status move it makes commit together.
type Store interface {
	TxStore
	LedgerStore
	Tx(ctx context.Context, fn func(TxStore) error) error
	// VerdictVersion is the version of everything the exit verdicts of
	// the households under regionPath are judged from, as of the call:
	// every write committed before it that could change one (a visit's
	// checklist answers, an income account, a risk warning, a household's
	// status, an exit standard, an unannounced campaign) makes it differ
	// from every version read before that write.
	VerdictVersion(ctx context.Context, regionPath string) (VerdictVersion, error)
	// HouseholdsChangedSince is the households under regionPath whose
	// verdicts may have changed between two versions whose Feed are after
	// and upTo (a standard or campaign aside), at most limit+1 of them.
	HouseholdsChangedSince(ctx context.Context, regionPath string, after, upTo int64, limit int) ([]uuid.UUID, error)
}

// TxStore is the persistence inside a transaction (and outside one, for
// single reads). A versioned write over a record changed since it was read
// fails as stale.
type TxStore interface {
	Household(ctx context.Context, scope domain.HouseholdScope, today domain.Date, id uuid.UUID) (domain.Household, error)
	Households(ctx context.Context, f domain.HouseholdFilter) ([]domain.Household, int64, error)
	RegionWithin(ctx context.Context, path string, id uuid.UUID) (domain.Region, error)
	Members(ctx context.Context, countyID, householdID uuid.UUID) ([]domain.Member, error)

	IncomeAccounts(ctx context.Context, countyID, householdID uuid.UUID) ([]IncomeAccount, error)
	// IncomeAccount locks the account it returns until the transaction
	// ends; the second result is who wrote its stored version.
	IncomeAccount(ctx context.Context, countyID, householdID uuid.UUID, year int) (IncomeAccount, *uuid.UUID, error)
	// IncomeAccountsOf reads the accounts of the households for the years
	// from..to, by household and year.
	IncomeAccountsOf(ctx context.Context, households []uuid.UUID, from, to int) (map[uuid.UUID]map[int]IncomeAccount, error)
	SaveIncomeAccount(ctx context.Context, a IncomeAccount, expectedVersion int64, audit domain.AuditEntry) error

	// ExitStandard is a year's stored standard (not found: none stored).
	ExitStandard(ctx context.Context, year int) (ExitStandard, error)
	SaveExitStandard(ctx context.Context, st ExitStandard, expectedVersion int64, audit domain.AuditEntry) error
	// LatestChecklist is, per household and checklist item, the answer of
	// the latest visit (not deleted) that answered it, of those the reader
	// may see.
	LatestChecklist(ctx context.Context, r domain.VisitReader, households []uuid.UUID) (map[uuid.UUID]map[string]ChecklistAnswer, error)

	Procedure(ctx context.Context, withinPath string, id uuid.UUID) (Procedure, error)
	// ProcedureForUpdate locks the procedure until the transaction ends.
	ProcedureForUpdate(ctx context.Context, withinPath string, id uuid.UUID) (Procedure, error)
	OpenProcedures(ctx context.Context, countyID, householdID uuid.UUID) ([]Procedure, error)
	// HouseholdProcedures reads all of a household's procedures with their
	// steps, oldest first.
	HouseholdProcedures(ctx context.Context, countyID, householdID uuid.UUID) ([]Procedure, error)
	CreateProcedure(ctx context.Context, pr Procedure, audit domain.AuditEntry) error
	// HouseholdByID reads a household whatever the scope: a visit's, once
	// the push took the visit.
	HouseholdByID(ctx context.Context, id uuid.UUID) (domain.Household, error)

	// Warning reads a warning of a household within withinPath;
	// WarningForUpdate locks it until the transaction ends.
	Warning(ctx context.Context, withinPath string, id uuid.UUID) (Warning, error)
	WarningForUpdate(ctx context.Context, withinPath string, id uuid.UUID) (Warning, error)
	Warnings(ctx context.Context, f WarningFilter) ([]Warning, int64, error)
	OpenWarnings(ctx context.Context, countyID, householdID uuid.UUID) ([]Warning, error)
	// OpenWarningsOf reads the open warnings of the households, by
	// household, oldest seen first.
	OpenWarningsOf(ctx context.Context, households []uuid.UUID) (map[uuid.UUID][]Warning, error)
	// InsertWarnings stores new warnings, with their households' region
	// paths; a warning whose id is stored already is left as it is.
	InsertWarnings(ctx context.Context, ws []Warning) error
	// SaveWarning writes a warning's state over expectedVersion.
	SaveWarning(ctx context.Context, w Warning, expectedVersion int64, audit domain.AuditEntry) error

	// AddStep appends a step and writes the procedure's new status and
	// version over expectedVersion.
	AddStep(ctx context.Context, pr Procedure, st Step, expectedVersion int64, audit domain.AuditEntry) error

	// Poor-village exit (贫困村出列).
	Regions(ctx context.Context, f domain.RegionFilter) ([]domain.Region, int64, error)
	// VillageExitStandard is a year's stored criteria (not found: none stored).
	VillageExitStandard(ctx context.Context, year int) (VillageExitStandard, error)
	SaveVillageExitStandard(ctx context.Context, st VillageExitStandard, expectedVersion int64, audit domain.AuditEntry) error
	// VillageRecord is a village's record of a year (not found: none).
	VillageRecord(ctx context.Context, countyID, villageID uuid.UUID, year int) (VillageRecord, error)
	VillageRecordsOf(ctx context.Context, villages []uuid.UUID, year int) (map[uuid.UUID]VillageRecord, error)
	// SaveVillageRecord writes r over expectedVersion (0: none stored yet).
	SaveVillageRecord(ctx context.Context, r VillageRecord, expectedVersion int64, audit domain.AuditEntry) error
	// VillagePopulations counts the people of each village's households
	// on the register today.
	VillagePopulations(ctx context.Context, villages []uuid.UUID) (map[uuid.UUID]Population, error)
	// VillageExits is each village's latest exit.
	VillageExits(ctx context.Context, villages []uuid.UUID) (map[uuid.UUID]VillageExit, error)
	SaveVillageExit(ctx context.Context, e VillageExit, audit domain.AuditEntry) error
	// VillageProcedures reads all of a village's procedures with their
	// steps, oldest first.
	VillageProcedures(ctx context.Context, countyID, villageID uuid.UUID) ([]Procedure, error)
}

// StatusMover moves a household's status through the register inside tx,
// so history, change feed and rules follow a procedure's outcome as they
// follow a status change made by hand (the app binds registry.Service).
type StatusMover interface {
	ChangeStatus(ctx context.Context, tx TxStore, p domain.Principal, householdID uuid.UUID, in StatusMove) error
}

// StatusMove is the register's status change a completed procedure makes.
type StatusMove struct {
	Status      string
	PovertyType string
	ExitYear    *int
	EffectiveOn domain.Date
	Reason      string
	// Cause is a relapse's cause (domain.RelapseCauses).
	Cause   string
	Version int64
}

// Service is the casework use cases.
type Service struct {
	store  Store
	status StatusMover
	now    func() time.Time
	counts qualifyingCounts
	// spillDir is where the XLSX exports' rows wait past 16 MB (SpillTo).
	spillDir string
}

// NewService builds the service; now is the clock.
func NewService(store Store, status StatusMover, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, status: status, now: now}
}

// SpillTo names the directory where excelize's temporary files go (""
// is the system's): the server gives its own, which serve empties at
// start and checks is writable.
func (s *Service) SpillTo(dir string) { s.spillDir = dir }

func (s *Service) today() domain.Date { return domain.DateOf(s.now()) }
