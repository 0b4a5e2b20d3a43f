package printforms

import (
	"cmp"
	"context"
	"slices"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	fvsync "github.com/fieldvisit/fieldvisit/sync"
)

// visitPage is how many visits one read asks for.
const visitPage = 200

// householdRecord is everything a household's forms print, each part read
// with the caller's scope: a cadre's forms show the visits they may read.
type householdRecord struct {
	file    registry.HouseholdFile
	place   string         // 乡镇 and 行政村, as far as the caller sees them
	visits  []domain.Visit // oldest first, deleted ones left out
	counted map[uuid.UUID]bool
	cadres  map[uuid.UUID]string // who made the visits
	plan    []PlanMeasure
	incomes []IncomeAccount
}

// names remembers, for one request, the places and people already looked
// up: a village's forms in bulk name the same village and cadres on every
// household.
type names struct {
	places map[uuid.UUID]string
	people map[uuid.UUID]string
}

func newNames() *names {
	return &names{places: map[uuid.UUID]string{}, people: map[uuid.UUID]string{}}
}

// readHousehold reads a household's record for form; a household the
// caller may not read is not found.
func (s *Service) readHousehold(ctx context.Context, p domain.Principal, id uuid.UUID, form string, known *names) (householdRecord, error) {
	f, err := s.register.HouseholdFile(ctx, p, id)
	if err != nil {
		return householdRecord{}, err
	}
	r := householdRecord{file: f, cadres: map[uuid.UUID]string{}}
	village := f.Household.VillageID
	if _, ok := known.places[village]; !ok {
		if known.places[village], err = s.place(ctx, p, village); err != nil {
			return householdRecord{}, err
		}
	}
	r.place = known.places[village]
	q := fvsync.VisitQuery{HouseholdID: &id}
	if r.visits, r.counted, err = s.readVisits(ctx, p, q); err != nil {
		return householdRecord{}, err
	}
	for _, pr := range f.PairingHistory {
		r.cadres[pr.CadreID] = cmp.Or(pr.CadreName, "—")
	}
	for _, v := range r.visits {
		if _, ok := r.cadres[v.CadreID]; ok {
			continue
		}
		if _, ok := known.people[v.CadreID]; !ok {
			known.people[v.CadreID] = s.userName(ctx, p, v.CadreID)
		}
		r.cadres[v.CadreID] = known.people[v.CadreID]
	}
	if form == FormRecordCard {
		return r, nil
	}
	if r.plan, err = s.casework.Plan(ctx, p, id); err != nil {
		return householdRecord{}, err
	}
	if r.incomes, err = s.casework.Incomes(ctx, p, id); err != nil {
		return householdRecord{}, err
	}
	return r, nil
}

// readVisits reads every visit q finds, oldest first, and which of them
// some compliance status counts.
func (s *Service) readVisits(ctx context.Context, p domain.Principal, q fvsync.VisitQuery) ([]domain.Visit, map[uuid.UUID]bool, error) {
	all, err := s.pageVisits(ctx, p, q)
	if err != nil || len(all) == 0 {
		return all, map[uuid.UUID]bool{}, err
	}
	yes := true
	q.Counted = &yes
	counted, err := s.pageVisits(ctx, p, q)
	if err != nil {
		return nil, nil, err
	}
	set := make(map[uuid.UUID]bool, len(counted))
	for _, v := range counted {
		set[v.ID] = true
	}
	slices.SortStableFunc(all, func(a, b domain.Visit) int { return a.StartedAt.Compare(b.StartedAt) })
	return all, set, nil
}

func (s *Service) pageVisits(ctx context.Context, p domain.Principal, q fvsync.VisitQuery) ([]domain.Visit, error) {
	var out []domain.Visit
	q.Limit = visitPage
	for q.Offset = 0; ; q.Offset += visitPage {
		vs, total, err := s.visits.Visits(ctx, p, q)
		if err != nil {
			return nil, err
		}
		out = append(out, vs...)
		if len(vs) < visitPage || int64(len(out)) >= total {
			return out, nil
		}
	}
}

// place names the village with its town, as far as the caller may see
// them (a cadre may not see the town).
func (s *Service) place(ctx context.Context, p domain.Principal, villageID uuid.UUID) (string, error) {
	v, err := s.register.Region(ctx, p, villageID)
	if domain.IsCode(err, domain.CodeNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if v.ParentID == nil {
		return v.Name, nil
	}
	town, err := s.register.Region(ctx, p, *v.ParentID)
	if err != nil {
		return v.Name, nil
	}
	return town.Name + v.Name, nil
}

// userName is a person's display name, or 其他干部 for one the caller may
// not look up.
func (s *Service) userName(ctx context.Context, p domain.Principal, id uuid.UUID) string {
	u, err := s.register.User(ctx, p, id)
	if err != nil {
		return "其他干部"
	}
	return cmp.Or(u.DisplayName, u.Username)
}
