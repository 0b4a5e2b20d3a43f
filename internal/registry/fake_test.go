package registry_test

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/registry"
)

// fakeStore is the register's port held in maps, enough for the service's
// own decisions: who may see and change what, which audit entries it
// writes, and how it words refusals. A call to a method it does not
// implement reaches the nil registry.Store it embeds and panics, so a test
// that does not expect the service to ask for something fails loudly.
type fakeStore struct {
	registry.Store

	regions    map[uuid.UUID]domain.Region
	households map[uuid.UUID]domain.Household
	members    map[uuid.UUID][]domain.Member
	users      map[uuid.UUID]domain.User
	pairings   map[uuid.UUID]domain.Pairing

	audits   []domain.AuditEntry // appended by Audit (reads of clear ID numbers)
	auditErr error               // Audit fails with it when set
	writes   []string            // the writes asked for, by method

	pairingFilter *domain.PairingFilter // the last Pairings asked for
	auditFilter   *domain.AuditFilter   // the last AuditLog asked for
}

func newFakeStore() *fakeStore {
	return &fakeStore{regions: map[uuid.UUID]domain.Region{}, households: map[uuid.UUID]domain.Household{},
		members: map[uuid.UUID][]domain.Member{}, users: map[uuid.UUID]domain.User{}, pairings: map[uuid.UUID]domain.Pairing{}}
}

func (f *fakeStore) Region(_ context.Context, id uuid.UUID) (domain.Region, error) {
	r, ok := f.regions[id]
	if !ok {
		return domain.Region{}, domain.NotFound("region")
	}
	return r, nil
}

func (f *fakeStore) RegionWithin(ctx context.Context, path string, id uuid.UUID) (domain.Region, error) {
	r, err := f.Region(ctx, id)
	if err == nil && (path == "" || !strings.HasPrefix(r.Path, path)) {
		return domain.Region{}, domain.NotFound("region")
	}
	return r, err
}

func (f *fakeStore) Regions(context.Context, domain.RegionFilter) ([]domain.Region, int64, error) {
	return nil, 0, nil
}

// Household applies the scope as storage does, in short: a region subtree,
// and for a cadre an open pairing with them.
func (f *fakeStore) Household(_ context.Context, scope domain.HouseholdScope, _ domain.Date, id uuid.UUID) (domain.Household, error) {
	h, ok := f.households[id]
	if !ok || scope.Nothing || !strings.HasPrefix(f.regions[h.RegionID].Path, scope.RegionPath) {
		return domain.Household{}, domain.NotFound("household")
	}
	if scope.CadreID != nil && !f.pairedWith(h.ID, *scope.CadreID) {
		return domain.Household{}, domain.NotFound("household")
	}
	return h, nil
}

func (f *fakeStore) pairedWith(household, cadre uuid.UUID) bool {
	for _, p := range f.pairings {
		if p.HouseholdID == household && p.CadreID == cadre && p.EndOn == nil {
			return true
		}
	}
	return false
}

func (f *fakeStore) Households(context.Context, domain.HouseholdFilter) ([]domain.Household, int64, error) {
	return nil, 0, nil
}

func (f *fakeStore) StatusHistory(context.Context, uuid.UUID, uuid.UUID) ([]domain.StatusChange, []domain.PovertyTypeChange, error) {
	return nil, nil, nil
}

func (f *fakeStore) Members(_ context.Context, _, household uuid.UUID) ([]domain.Member, error) {
	return f.members[household], nil
}

func (f *fakeStore) Member(_ context.Context, _, household, id uuid.UUID) (domain.Member, error) {
	for _, m := range f.members[household] {
		if m.ID == id {
			return m, nil
		}
	}
	return domain.Member{}, domain.NotFound("member")
}

func (f *fakeStore) User(_ context.Context, id uuid.UUID) (domain.User, error) {
	u, ok := f.users[id]
	if !ok {
		return domain.User{}, domain.NotFound("user")
	}
	return u, nil
}

func (f *fakeStore) Users(context.Context, domain.UserFilter) ([]domain.User, int64, error) {
	return nil, 0, nil
}

func (f *fakeStore) Pairing(_ context.Context, _ string, id uuid.UUID) (domain.Pairing, error) {
	p, ok := f.pairings[id]
	if !ok {
		return domain.Pairing{}, domain.NotFound("pairing")
	}
	return p, nil
}

func (f *fakeStore) Pairings(_ context.Context, flt domain.PairingFilter) ([]domain.Pairing, int64, error) {
	f.pairingFilter = &flt
	return nil, 0, nil
}

func (f *fakeStore) OpenPairings(_ context.Context, _, household uuid.UUID) ([]domain.Pairing, error) {
	var out []domain.Pairing
	for _, p := range f.pairings {
		if p.HouseholdID == household && p.EndOn == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

func (f *fakeStore) PairingHistory(_ context.Context, _, household uuid.UUID) ([]domain.PairingRecord, error) {
	var out []domain.PairingRecord
	for _, p := range f.pairings {
		if p.HouseholdID == household {
			out = append(out, domain.PairingRecord{Pairing: p})
		}
	}
	return out, nil
}

func (f *fakeStore) Audit(_ context.Context, e domain.AuditEntry) error {
	if f.auditErr != nil {
		return f.auditErr
	}
	f.audits = append(f.audits, e)
	return nil
}

func (f *fakeStore) AuditLog(_ context.Context, flt domain.AuditFilter) ([]domain.AuditRecord, int64, error) {
	f.auditFilter = &flt
	return nil, 0, nil
}

// The writes record that they were asked for (a new household is kept, as
// the service reads its file back): the tests here are about what the
// service refuses before it writes.

func (f *fakeStore) wrote(what string) error { f.writes = append(f.writes, what); return nil }

func (f *fakeStore) CreateRegion(context.Context, domain.Region, domain.AuditEntry) error {
	return f.wrote("CreateRegion")
}

func (f *fakeStore) CreateHousehold(_ context.Context, n registry.HouseholdRegistration) error {
	f.households[n.Household.ID] = n.Household
	f.members[n.Household.ID] = n.Members
	return f.wrote("CreateHousehold")
}

func (f *fakeStore) CreateMember(context.Context, domain.Member, domain.AuditEntry) error {
	return f.wrote("CreateMember")
}

func (f *fakeStore) CreateUnit(context.Context, domain.Unit, domain.AuditEntry) error {
	return f.wrote("CreateUnit")
}

func (f *fakeStore) UpdateUser(context.Context, domain.User, domain.AuditEntry) error {
	return f.wrote("UpdateUser")
}

func (f *fakeStore) Pair(context.Context, *domain.Pairing, []domain.Pairing, domain.AuditEntry) error {
	return f.wrote("Pair")
}

// plainHasher stands in for argon2id, which is slow on purpose.
type plainHasher struct{}

func (plainHasher) Hash(_ context.Context, password string) (string, error) {
	return "plain:" + password, nil
}

func (plainHasher) Verify(_ context.Context, password, hash string) (bool, error) {
	return hash == "plain:"+password, nil
}

// clock is the fixed now of every test: 15 June 2024, 10:00 in China.
func clock() time.Time { return time.Date(2024, 6, 15, 10, 0, 0, 0, domain.Shanghai) }
