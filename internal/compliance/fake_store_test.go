package compliance_test

import (
	"cmp"
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance"
	"github.com/fieldvisit/fieldvisit/internal/compliance/rules"
)

// fakeStore is the compliance port over maps, for the service's own logic:
// what a test puts in is what the service reads, and what the service
// writes is recorded. A method no test here needs is left to the embedded
// nil Store, so calling it panics rather than answering something made up.
type fakeStore struct {
	compliance.Store

	profiles   map[string]rules.Profile
	attached   map[uuid.UUID]string // region → the profile attached to it
	regions    map[uuid.UUID]domain.Region
	households map[uuid.UUID]compliance.HouseholdHistory
	visits     []rules.VisitFact
	queue      []compliance.QueuedSubject
	names      map[uuid.UUID]string
	counts     map[compliance.Grouping][]compliance.StateCounts
	items      []compliance.ReportItem
	closes     map[string]time.Time // county/period → when it was closed
	closeFails error                // what ClosePeriod answers, when set

	saved   []compliance.Judgement
	asked   []compliance.ReportFilter // by ReportCounts and ReportItems, in order
	grouped []compliance.Grouping
	closed  []string // county/period, by ClosePeriod
}

func newFakeStore() *fakeStore {
	f := &fakeStore{profiles: map[string]rules.Profile{}, attached: map[uuid.UUID]string{}, regions: map[uuid.UUID]domain.Region{},
		households: map[uuid.UUID]compliance.HouseholdHistory{}, names: map[uuid.UUID]string{},
		counts: map[compliance.Grouping][]compliance.StateCounts{}, closes: map[string]time.Time{}}
	for _, p := range rules.Profiles() {
		f.profiles[p.Code] = p
	}
	return f
}

func closeKey(county uuid.UUID, period string) string { return county.String() + "/" + period }

func (f *fakeStore) Tx(_ context.Context, fn func(compliance.TxStore) error) error { return fn(f) }

func (f *fakeStore) ReadsCurrent(ctx context.Context) context.Context { return ctx }

func (f *fakeStore) ReadsOfClose(ctx context.Context, _ uuid.UUID, _ string) context.Context {
	return ctx
}

func (f *fakeStore) stored(p rules.Profile) (compliance.StoredProfile, error) {
	body, err := json.Marshal(p)
	return compliance.StoredProfile{Code: p.Code, NameZH: p.NameZH, Version: p.Version, Body: body, Builtin: true}, err
}

func (f *fakeStore) RuleProfile(_ context.Context, code string) (compliance.StoredProfile, error) {
	p, ok := f.profiles[code]
	if !ok {
		return compliance.StoredProfile{}, domain.NotFound("rule profile")
	}
	return f.stored(p)
}

func (f *fakeStore) RuleProfiles(_ context.Context) ([]compliance.StoredProfile, error) {
	var out []compliance.StoredProfile
	for _, code := range slices.Sorted(maps.Keys(f.profiles)) {
		sp, err := f.stored(f.profiles[code])
		if err != nil {
			return nil, err
		}
		out = append(out, sp)
	}
	return out, nil
}

func (f *fakeStore) RegionProfiles(_ context.Context, ids []uuid.UUID) (map[uuid.UUID]string, error) {
	out := map[uuid.UUID]string{}
	for _, id := range ids {
		if code, ok := f.attached[id]; ok {
			out[id] = code
		}
	}
	return out, nil
}

func (f *fakeStore) AllRegionProfiles(context.Context) (map[uuid.UUID]string, error) {
	return maps.Clone(f.attached), nil
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
	if err == nil && !strings.HasPrefix(r.Path, path) {
		return domain.Region{}, domain.NotFound("region")
	}
	return r, err
}

func (f *fakeStore) Names(_ context.Context, ids []uuid.UUID) (map[uuid.UUID]string, error) {
	out := map[uuid.UUID]string{}
	for _, id := range ids {
		if n, ok := f.names[id]; ok {
			out[id] = n
		}
	}
	return out, nil
}

func (f *fakeStore) ClaimComplianceQueue(_ context.Context, limit int, _, _ time.Time) ([]compliance.QueuedSubject, error) {
	return f.queue[:min(limit, len(f.queue))], nil
}

func (f *fakeStore) ReleaseComplianceClaims(context.Context, []compliance.QueuedSubject, time.Time) error {
	return nil
}

func (f *fakeStore) ComplianceHouseholdFacts(_ context.Context, id uuid.UUID) (compliance.HouseholdHistory, error) {
	h, ok := f.households[id]
	if !ok {
		return compliance.HouseholdHistory{}, domain.NotFound("household")
	}
	return h, nil
}

func (f *fakeStore) HouseholdVisitFacts(_ context.Context, _ domain.VisitReader, _, householdID uuid.UUID, from, to time.Time) ([]rules.VisitFact, error) {
	var out []rules.VisitFact
	for _, v := range f.visits {
		if v.HouseholdID == householdID && !v.StartedAt.Before(from) && v.StartedAt.Before(to) {
			out = append(out, v)
		}
	}
	return out, nil
}

func (f *fakeStore) SaveJudgement(_ context.Context, j compliance.Judgement) error {
	f.saved = append(f.saved, j)
	return nil
}

func (f *fakeStore) ReportCounts(_ context.Context, filter compliance.ReportFilter, by compliance.Grouping) ([]compliance.StateCounts, error) {
	f.asked = append(f.asked, filter)
	f.grouped = append(f.grouped, by)
	return f.counts[by], nil
}

func (f *fakeStore) ReportItems(_ context.Context, filter compliance.ReportFilter) ([]compliance.ReportItem, int64, error) {
	f.asked = append(f.asked, filter)
	return f.items, int64(len(f.items)), nil
}

func (f *fakeStore) PeriodClose(_ context.Context, county uuid.UUID, period string) (*time.Time, error) {
	if at, ok := f.closes[closeKey(county, period)]; ok {
		return &at, nil
	}
	return nil, nil
}

func (f *fakeStore) CountyIDs(context.Context) ([]uuid.UUID, error) {
	var out []uuid.UUID
	for _, r := range f.regions {
		if r.Level == domain.LevelCounty {
			out = append(out, r.ID)
		}
	}
	slices.SortFunc(out, func(a, b uuid.UUID) int { return cmp.Compare(a.String(), b.String()) })
	return out, nil
}

func (f *fakeStore) ClosedPeriods(_ context.Context, county uuid.UUID) (map[string]bool, error) {
	out := map[string]bool{}
	for k := range f.closes {
		if c, period, _ := strings.Cut(k, "/"); c == county.String() {
			out[period] = true
		}
	}
	return out, nil
}

func (f *fakeStore) ClosePeriod(_ context.Context, county uuid.UUID, period string, _ domain.Date, now time.Time, _ domain.AuditEntry) error {
	if f.closeFails != nil {
		return f.closeFails
	}
	f.closed = append(f.closed, closeKey(county, period))
	f.closes[closeKey(county, period)] = now
	return nil
}

// place is a county with a town and a village, as the register holds them.
type place struct {
	county, town, village domain.Region
}

func newPlace(f *fakeStore) place {
	countyID, townID, villageID := uuid.New(), uuid.New(), uuid.New()
	county := domain.Region{ID: countyID, Level: domain.LevelCounty, Name: "县", Path: "/" + countyID.String() + "/", CountyID: &countyID}
	town := domain.Region{ID: townID, ParentID: &countyID, Level: domain.LevelTown, Name: "镇", Path: county.Path + townID.String() + "/", CountyID: &countyID}
	village := domain.Region{ID: villageID, ParentID: &townID, Level: domain.LevelVillage, Name: "村", Path: town.Path + villageID.String() + "/", CountyID: &countyID}
	for _, r := range []domain.Region{county, town, village} {
		f.regions[r.ID] = r
	}
	return place{county: county, town: town, village: village}
}

// service is the service over f with its clock stopped at now.
func service(tb testing.TB, f *fakeStore, now time.Time) *compliance.Service {
	tb.Helper()
	return compliance.NewService(f, func() time.Time { return now }, nil)
}

// at is a moment of day d in Asia/Shanghai.
func at(d domain.Date, hour int) time.Time { return d.Start().Add(time.Duration(hour) * time.Hour) }
