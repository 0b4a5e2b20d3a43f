// Package plans owns the reading of households' plans (一户一案, DESIGN
// §6b): each household's measures on its routes out of poverty, with the
// progress visits recorded on them, and the listing supervisors follow
// them by. The cadres' phones write the plans through the sync protocol
// (sync's plan_item entity); this package authorises and shapes the reads.
package plans

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// Store is what the plan reads need from persistence.
type Store interface {
	Household(ctx context.Context, scope domain.HouseholdScope, today domain.Date, id uuid.UUID) (domain.Household, error)
	RegionWithin(ctx context.Context, path string, id uuid.UUID) (domain.Region, error)
	// PlanLines lists live plan items by the filter, by target date.
	PlanLines(ctx context.Context, f Filter) ([]Line, int64, error)
	// PlanProgress returns, by plan item, what the live visits to the
	// households recorded on it.
	PlanProgress(ctx context.Context, households []uuid.UUID) (map[uuid.UUID][]Progress, error)
}

// Filter is a listing as the store runs it.
type Filter struct {
	WithinPath    string // the caller's subtree
	RegionPath    string // asked for
	HouseholdID   *uuid.UUID
	ResponsibleID *uuid.UUID
	Route, State  string
	// Overdue on Today: past the target date and neither done nor dropped.
	Overdue       *bool
	Today         domain.Date
	Limit, Offset int
}

// Line is a plan item with the name of its responsible cadre.
type Line struct {
	domain.PlanItem
	ResponsibleName string
}

// Progress is what one visit recorded on a measure.
type Progress struct {
	VisitID   uuid.UUID
	CadreID   uuid.UUID
	StartedAt time.Time
	Note      string
}

// View is a plan item as read: with whether it is overdue and its
// progress, the latest first.
type View struct {
	Line
	Overdue  bool
	Progress []Progress
}

// Plan is a household's plan.
type Plan struct {
	HouseholdID uuid.UUID
	Routes      []string // the routes of its measures, in vocabulary order
	Items       []View
}

// Overdue reports whether a measure is late on day: its target date has
// passed and it is neither done nor dropped.
func Overdue(it domain.PlanItem, day domain.Date) bool {
	return it.State != domain.PlanDone && it.State != domain.PlanDropped && it.TargetOn.Before(day)
}

// Service reads plans.
type Service struct {
	store Store
	now   func() time.Time
}

// NewService builds the service; now is the clock.
func NewService(store Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, now: now}
}

// HouseholdPlan is the plan of a household in the caller's scope; any
// other household is not found.
func (s *Service) HouseholdPlan(ctx context.Context, p domain.Principal, id uuid.UUID) (Plan, error) {
	today := domain.DateOf(s.now())
	h, err := s.store.Household(ctx, p.HouseholdScope(), today, id)
	if err != nil {
		return Plan{}, err
	}
	lines, _, err := s.store.PlanLines(ctx, Filter{HouseholdID: &h.ID, Today: today})
	if err != nil {
		return Plan{}, err
	}
	views, err := s.views(ctx, lines, today)
	if err != nil {
		return Plan{}, err
	}
	plan := Plan{HouseholdID: h.ID, Routes: []string{}, Items: views}
	for _, route := range domain.PlanRoutes.Codes() {
		if slices.ContainsFunc(lines, func(l Line) bool { return l.Route == route }) {
			plan.Routes = append(plan.Routes, route)
		}
	}
	return plan, nil
}

// Query is a listing as asked.
type Query struct {
	RegionID, HouseholdID, ResponsibleID *uuid.UUID
	Route, State                         string
	Overdue                              *bool
	Limit, Offset                        int
}

// Items lists the measures of the households of a supervisor's subtree.
func (s *Service) Items(ctx context.Context, p domain.Principal, q Query) ([]View, int64, error) {
	if !p.Manages() {
		return nil, 0, domain.Forbidden()
	}
	var fe domain.FieldErrors
	if q.Route != "" && !domain.PlanRoutes.Has(q.Route) {
		fe.Add("route", "invalid_enum", "route must be a plan route (GET /api/v1/vocabularies: plan_routes)", "脱贫路径无效")
	}
	if q.State != "" && !domain.PlanItemStates.Has(q.State) {
		fe.Add("state", "invalid_enum", "state must be planned, in_progress, done or dropped", "措施状态无效")
	}
	if err := fe.Err(); err != nil {
		return nil, 0, err
	}
	path, err := domain.RegionParam(ctx, p, q.RegionID, s.store.RegionWithin)
	if err != nil {
		return nil, 0, err
	}
	today := domain.DateOf(s.now())
	lines, total, err := s.store.PlanLines(ctx, Filter{WithinPath: p.RegionPath, RegionPath: path, HouseholdID: q.HouseholdID,
		ResponsibleID: q.ResponsibleID, Route: q.Route, State: q.State, Overdue: q.Overdue, Today: today, Limit: q.Limit, Offset: q.Offset})
	if err != nil {
		return nil, 0, err
	}
	views, err := s.views(ctx, lines, today)
	return views, total, err
}

// views adds to each line its progress and whether it is overdue.
func (s *Service) views(ctx context.Context, lines []Line, today domain.Date) ([]View, error) {
	households := make([]uuid.UUID, 0, len(lines))
	for _, l := range lines {
		households = append(households, l.HouseholdID)
	}
	progress, err := s.store.PlanProgress(ctx, households)
	if err != nil {
		return nil, err
	}
	out := make([]View, len(lines))
	for i, l := range lines {
		ps := slices.Clone(progress[l.ID])
		slices.SortFunc(ps, func(a, b Progress) int { return b.StartedAt.Compare(a.StartedAt) })
		if ps == nil {
			ps = []Progress{}
		}
		out[i] = View{Line: l, Overdue: Overdue(l.PlanItem, today), Progress: ps}
	}
	return out, nil
}
