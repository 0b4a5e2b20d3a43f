package printforms

import (
	"context"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	fvsync "github.com/fieldvisit/fieldvisit/sync"
)

// fakeRegister is a village's register as a caller who may read all of
// it sees it: scoping is the services' business and the integration
// tests' (internal/app printforms_test.go).
type fakeRegister struct {
	files   map[uuid.UUID]registry.HouseholdFile
	regions map[uuid.UUID]domain.Region
	users   map[uuid.UUID]domain.User
}

func (f *fakeRegister) HouseholdFile(_ context.Context, _ domain.Principal, id uuid.UUID) (registry.HouseholdFile, error) {
	if hf, ok := f.files[id]; ok {
		return hf, nil
	}
	return registry.HouseholdFile{}, domain.NotFound("household")
}

func (f *fakeRegister) Household(ctx context.Context, p domain.Principal, id uuid.UUID) (domain.Household, error) {
	hf, err := f.HouseholdFile(ctx, p, id)
	return hf.Household, err
}

func (f *fakeRegister) Households(_ context.Context, _ domain.Principal, q registry.HouseholdQuery, pg registry.Page) ([]domain.Household, int64, error) {
	var out []domain.Household
	for _, hf := range f.files {
		if q.CadreID != nil && !slices.ContainsFunc(hf.OpenPairings, func(p domain.PairingRecord) bool { return p.CadreID == *q.CadreID }) {
			continue
		}
		out = append(out, hf.Household)
	}
	slices.SortFunc(out, func(a, b domain.Household) int { return strings.Compare(a.Number, b.Number) })
	total := int64(len(out))
	out = out[min(pg.Offset, len(out)):]
	return out[:min(pg.Limit, len(out))], total, nil
}

func (f *fakeRegister) Region(_ context.Context, _ domain.Principal, id uuid.UUID) (domain.Region, error) {
	if r, ok := f.regions[id]; ok {
		return r, nil
	}
	return domain.Region{}, domain.NotFound("region")
}

func (f *fakeRegister) User(_ context.Context, _ domain.Principal, id uuid.UUID) (domain.User, error) {
	if u, ok := f.users[id]; ok {
		return u, nil
	}
	return domain.User{}, domain.NotFound("user")
}

// fakeVisits filters by household, cadre, days and counted, as
// sync.Service does, in received order.
type fakeVisits struct {
	visits  []domain.Visit
	counted map[uuid.UUID]bool
}

func (f *fakeVisits) Visits(_ context.Context, _ domain.Principal, q fvsync.VisitQuery) ([]domain.Visit, int64, error) {
	var out []domain.Visit
	for _, v := range f.visits {
		day := domain.DateOf(v.StartedAt)
		switch {
		case q.HouseholdID != nil && v.HouseholdID != *q.HouseholdID,
			q.CadreID != nil && v.CadreID != *q.CadreID,
			q.From != nil && day.Before(*q.From),
			q.To != nil && day.After(*q.To),
			q.Counted != nil && f.counted[v.ID] != *q.Counted:
			continue
		}
		out = append(out, v)
	}
	total := int64(len(out))
	out = out[min(q.Offset, len(out)):]
	return out[:min(q.Limit, len(out))], total, nil
}

// fakeCasework answers one plan and income history for every household.
type fakeCasework struct {
	plan    []PlanMeasure
	incomes []IncomeAccount
}

func (f fakeCasework) Plan(context.Context, domain.Principal, uuid.UUID) ([]PlanMeasure, error) {
	return f.plan, nil
}

func (f fakeCasework) Incomes(context.Context, domain.Principal, uuid.UUID) ([]IncomeAccount, error) {
	return f.incomes, nil
}

func (f fakeCasework) VillageExit(context.Context, domain.Principal, uuid.UUID, int) (VillageExitRecord, error) {
	return VillageExitRecord{}, domain.NotFound("village exit")
}
