package importer

import (
	"context"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// Store is what an import needs from persistence: the reads feed
// validation and matching, and ApplyImport writes the whole plan in one
// transaction, so an import is all-or-nothing.
type Store interface {
	// ImportRegions returns the regions under withinPath named one of names
	// or coded one of codes; withinPath "/" is the whole tree.
	ImportRegions(ctx context.Context, withinPath string, names, codes []string) ([]domain.Region, error)
	// ImportUsers returns the users with one of usernames (anywhere) and the
	// cadres under withinPath with one of displayNames.
	ImportUsers(ctx context.Context, usernames []string, withinPath string, displayNames []string) ([]domain.User, error)
	// ImportUnits returns the units in one of regionIDs named one of names.
	ImportUnits(ctx context.Context, regionIDs []uuid.UUID, names []string) ([]domain.Unit, error)
	// ImportExisting returns the households, members and open pairings the
	// natural keys match.
	ImportExisting(ctx context.Context, lookups []Lookup) (Existing, error)
	// ApplyImport writes a plan in one transaction. A stale version on an
	// update is a conflict: someone edited the record since the import read it.
	ApplyImport(ctx context.Context, plan Plan) error
	// Audit appends an entry to the audit log on its own, outside any
	// import: an import that writes nothing (a dry run, a file with
	// errors) still records the keys it found outside the importer's
	// subtree (DefaultMaxForeignHits).
	Audit(ctx context.Context, e domain.AuditEntry) error
}

// Lookup names, for one county, the natural keys an import matches
// existing records by.
type Lookup struct {
	CountyID  uuid.UUID
	Numbers   []string // 户编号
	IDNumbers []string // members' 身份证号
	// HeadNames are the 户主姓名 of households the file lists without
	// members and without 户编号: they match stored households without a
	// number (matchByHead).
	HeadNames []string
}

// StoredHousehold is an existing household as the importer compares it,
// with the region path it is filed under.
type StoredHousehold struct {
	Household  domain.Household
	RegionPath string
	// RelapseCause and RemovalReason are a relapsed household's cause and a
	// removed household's reason, from the status change that made it so
	// (as RegisterHousehold has them); "" for other statuses.
	RelapseCause, RemovalReason string
}

// Existing is what already exists for the keys of the Lookups.
type Existing struct {
	// Households found by number, or holding a member found by ID number,
	// or without a number and headed by one of HeadNames.
	Households []StoredHousehold
	// Members of those households (all of them, not only the ones asked for).
	Members []domain.Member
	// OpenPairings of those households (end_on not set).
	OpenPairings []domain.Pairing
}

// NewUser is a user an import creates, with the password hash it gets
// (an unusable one: an admin sets the password later).
type NewUser struct {
	User         domain.User
	PasswordHash string
}

// NewHousehold is a household an import creates, with the region path it
// is filed under.
type NewHousehold struct {
	Household  domain.Household
	RegionPath string
}

// HouseholdFileUpdate changes the file fields an import carries (number, head
// name, address, phone, causes) if the stored version is still
// ExpectedVersion, bumping the version.
type HouseholdFileUpdate struct {
	Household       domain.Household
	ExpectedVersion int64
}

// MemberUpdate saves a member if its stored version is still ExpectedVersion.
type MemberUpdate struct {
	Member          domain.Member
	ExpectedVersion int64
}

// Plan is everything one import writes. The demo county is written as plans
// too, through the same bulk write.
type Plan struct {
	// Regions are created first, parents before children; RegionUpdates
	// change a region's name, poor-village mark and centroid.
	Regions            []domain.Region
	RegionUpdates      []domain.Region
	Units              []domain.Unit
	Users              []NewUser
	Households         []NewHousehold
	HouseholdUpdates   []HouseholdFileUpdate
	Members            []domain.Member
	MemberUpdates      []MemberUpdate
	StatusChanges      []domain.StatusChange
	PovertyTypeChanges []domain.PovertyTypeChange
	Pairings           []domain.Pairing
	Audit              domain.AuditEntry
	// Progress, when set, is called with the number of records written so
	// far (out of Len) as the transaction proceeds.
	Progress func(done int)
}

// Len is the number of records the plan writes, the audit entry aside.
func (p Plan) Len() int {
	return len(p.Regions) + len(p.RegionUpdates) + len(p.Units) + len(p.Users) + len(p.Households) + len(p.HouseholdUpdates) + len(p.Members) +
		len(p.MemberUpdates) + len(p.StatusChanges) + len(p.PovertyTypeChanges) + len(p.Pairings)
}
