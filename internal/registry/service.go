package registry

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// Store is the persistence the register needs. Each write is one unit of
// work together with its audit entry, so nothing changes without its trace.
// A write that breaks a uniqueness rule fails with reason "duplicate", which
// the service answers as a field error; a versioned update of a record
// changed since it was read fails as stale.
type Store interface {
	CreateRegion(ctx context.Context, r domain.Region, audit domain.AuditEntry) error
	Region(ctx context.Context, id uuid.UUID) (domain.Region, error)
	RegionWithin(ctx context.Context, path string, id uuid.UUID) (domain.Region, error)
	Regions(ctx context.Context, f domain.RegionFilter) ([]domain.Region, int64, error)
	UpdateRegion(ctx context.Context, r domain.Region, audit domain.AuditEntry) error

	Households(ctx context.Context, f domain.HouseholdFilter) ([]domain.Household, int64, error)
	Household(ctx context.Context, scope domain.HouseholdScope, today domain.Date, id uuid.UUID) (domain.Household, error)
	CreateHousehold(ctx context.Context, n HouseholdRegistration) error
	UpdateHousehold(ctx context.Context, h domain.Household, expectedVersion int64, audit domain.AuditEntry) (domain.Household, error)
	ChangeHouseholdStatus(ctx context.Context, h domain.Household, expectedVersion int64, sc domain.StatusChange, pc *domain.PovertyTypeChange, audit domain.AuditEntry) error
	// ChangeHouseholdPovertyType records a poverty-type change without a
	// status move, with the same feed entry and re-judging as a status change.
	ChangeHouseholdPovertyType(ctx context.Context, h domain.Household, expectedVersion int64, pc domain.PovertyTypeChange, audit domain.AuditEntry) error
	StatusHistory(ctx context.Context, countyID, householdID uuid.UUID) ([]domain.StatusChange, []domain.PovertyTypeChange, error)

	Members(ctx context.Context, countyID, householdID uuid.UUID) ([]domain.Member, error)
	Member(ctx context.Context, countyID, householdID, id uuid.UUID) (domain.Member, error)
	CreateMember(ctx context.Context, m domain.Member, audit domain.AuditEntry) error
	UpdateMember(ctx context.Context, m domain.Member, expectedVersion int64, audit domain.AuditEntry) (domain.Member, error)
	DeleteMember(ctx context.Context, countyID, householdID, id uuid.UUID, audit domain.AuditEntry) error

	CreateUnit(ctx context.Context, u domain.Unit, audit domain.AuditEntry) error
	Unit(ctx context.Context, id uuid.UUID) (UnitWithPath, error)
	Units(ctx context.Context, withinPath, query string, limit, offset int) ([]UnitWithPath, int64, error)
	CreateUnitAssignment(ctx context.Context, a domain.UnitAssignment, audit domain.AuditEntry) error
	UnitAssignments(ctx context.Context, unitID uuid.UUID) ([]domain.UnitAssignment, error)

	CreateUser(ctx context.Context, u domain.User, passwordHash string, audit domain.AuditEntry) error
	User(ctx context.Context, id uuid.UUID) (domain.User, error)
	Users(ctx context.Context, f domain.UserFilter) ([]domain.User, int64, error)
	UpdateUser(ctx context.Context, u domain.User, audit domain.AuditEntry) error
	SetPassword(ctx context.Context, id uuid.UUID, hash string, audit domain.AuditEntry) error
	UserCredentials(ctx context.Context, username string) (domain.User, string, error)

	Pairings(ctx context.Context, f domain.PairingFilter) ([]domain.Pairing, int64, error)
	Pairing(ctx context.Context, withinPath string, id uuid.UUID) (domain.Pairing, error)
	OpenPairings(ctx context.Context, countyID, householdID uuid.UUID) ([]domain.Pairing, error)
	// PairingHistory lists every pairing of the household, ended ones too,
	// oldest first, with the cadres' names.
	PairingHistory(ctx context.Context, countyID, householdID uuid.UUID) ([]domain.PairingRecord, error)
	Pair(ctx context.Context, p *domain.Pairing, end []domain.Pairing, audit domain.AuditEntry) error

	Devices(ctx context.Context, userID uuid.UUID) ([]domain.Device, error)
	Device(ctx context.Context, userID, id uuid.UUID) (domain.Device, error)
	RevokeDevice(ctx context.Context, userID, id uuid.UUID, audit domain.AuditEntry) error

	// The login throttle (as auth keeps it), which the check of one's own
	// current password shares: see checkCurrent.
	LockedUntil(ctx context.Context, key string, now time.Time) (time.Time, error)
	RecordLoginFailure(ctx context.Context, key string, now time.Time, window time.Duration, max int, lock time.Duration) error
	ClearLoginFailures(ctx context.Context, key string) error

	Audit(ctx context.Context, e domain.AuditEntry) error
	AuditLog(ctx context.Context, f domain.AuditFilter) ([]domain.AuditRecord, int64, error)
}

// HouseholdRegistration is everything written together when a household is
// registered: the household filed under its region's path, its members, its
// first status (and poverty type) record, and the audit entry.
type HouseholdRegistration struct {
	Household   domain.Household
	RegionPath  string
	Members     []domain.Member
	Status      domain.StatusChange
	PovertyType *domain.PovertyTypeChange
	Audit       domain.AuditEntry
}

// PasswordHasher hashes new passwords and checks a current one
// (auth.Hasher).
type PasswordHasher interface {
	Hash(ctx context.Context, password string) (string, error)
	Verify(ctx context.Context, password, hash string) (bool, error)
}

// Service is the register's use cases.
type Service struct {
	store  Store
	hasher PasswordHasher
	now    func() time.Time
}

// NewService builds the service; now is the clock.
func NewService(store Store, hasher PasswordHasher, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, hasher: hasher, now: now}
}

func (s *Service) today() domain.Date { return domain.DateOf(s.now()) }

// Page selects a slice of a listing.
type Page struct {
	Limit  int
	Offset int
}

func audit(p domain.Principal, action, objectType string, id uuid.UUID, regionPath string, detail map[string]any) domain.AuditEntry {
	actor := p.UserID
	return domain.AuditEntry{ActorID: &actor, ActorName: p.Username, Action: action, ObjectType: objectType,
		ObjectID: id.String(), RegionPath: regionPath, Detail: detail, RequestID: p.RequestID}
}

// householdAudit is audit for an entry about a household, its members or
// its pairings: the entry names the household, and is placed in its region.
func householdAudit(p domain.Principal, action, objectType string, id, household uuid.UUID, detail map[string]any) domain.AuditEntry {
	e := audit(p, action, objectType, id, "", detail)
	e.HouseholdID = &household
	return e
}

func requireManager(p domain.Principal) error {
	if !p.Manages() {
		return domain.Forbidden()
	}
	return nil
}

func requireAdmin(p domain.Principal) error {
	if p.Role != domain.RoleAdmin {
		return domain.Forbidden()
	}
	return nil
}

// visibleRegion loads a region and hides it (not found) outside the caller's subtree.
func (s *Service) visibleRegion(ctx context.Context, p domain.Principal, id uuid.UUID) (domain.Region, error) {
	return s.store.RegionWithin(ctx, p.RegionPath, id)
}
