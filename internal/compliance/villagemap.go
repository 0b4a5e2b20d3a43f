package compliance

import (
	"cmp"
	"context"
	"slices"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance/rules"
)

// The 挂图作战 map (seed 004): the villages of the caller's sight at the
// centre of their households, coloured by this month's compliance, and a
// village's households coloured by their own. Positions come from the
// households' home points, the only coordinates the register holds; no
// tiles or outlines are needed.

// HouseholdMark is a household on the map.
type HouseholdMark struct {
	ID          uuid.UUID
	VillageID   uuid.UUID
	VillageName string
	TownName    string
	Number      string
	HeadName    string
	Status      string // the register's status (domain.Status…)
	Home        *domain.GeoPoint
	// State is the worst state of the household's statuses in the
	// periods asked (rules.State…), "" when none was judged.
	State string
}

// MarkFilter selects the households of a map.
type MarkFilter struct {
	Scope      domain.HouseholdScope
	Today      domain.Date // the day scope and the live states are read on
	PeriodKeys []string
	VillageID  *uuid.UUID // only this village's households
}

// VillageMark is a village on the map.
type VillageMark struct {
	ID         uuid.UUID
	Name       string
	TownName   string
	Centroid   *domain.GeoPoint // the mean of its households' home points; nil when none has one
	Households int              // in the caller's sight
	Located    int              // of which with a home point
	// Counts are the period's statuses of the village that the caller
	// answers for (a cadre) or oversees (everyone else).
	Counts StateCounts
}

// VillageMap is the map as of today.
type VillageMap struct {
	Month    rules.Period  // the month the map is drawn in
	Villages []VillageMark // worst first (OnPaceRate, then most behind, then MetRate): the villages behind (落后村) lead
}

// mapPeriods are what a map colours by: the statuses of every period in
// force this month (the month's own, the quarter's, the year's), since
// most rules count by quarter or year (DESIGN §6) and a month alone would
// leave most households unjudged.
func (s *Service) mapPeriods() (rules.Period, []string) {
	per, _ := rules.PeriodOf(rules.WindowMonth, s.today())
	return per, currentKeys(s.today())
}

// VillageMap places the villages holding households in the caller's sight
// (a cadre: their own households; an inspector: their tasks') at the mean
// of those households' home points, with the counts of the periods in
// force (mapPeriods), worst first.
func (s *Service) VillageMap(ctx context.Context, p domain.Principal) (VillageMap, error) {
	month, keys := s.mapPeriods()
	marks, err := s.store.HouseholdMarks(ctx, MarkFilter{Scope: p.HouseholdScope(), Today: s.today(), PeriodKeys: keys})
	if err != nil {
		return VillageMap{}, err
	}
	f := ReportFilter{RegionPath: p.RegionPath, PeriodKeys: keys, Today: s.today(), Households: tasksOnly(p)}
	if p.Role == domain.RoleCadre {
		id := p.UserID
		f.CadreID = &id
	}
	counts := map[string]StateCounts{}
	if f.RegionPath != "" {
		byVillage, err := s.store.ReportCounts(ctx, f, ByVillage)
		if err != nil {
			return VillageMap{}, err
		}
		for _, c := range byVillage {
			counts[c.Group] = c
		}
	}
	return VillageMap{Month: month, Villages: villagesOf(marks, counts)}, nil
}

// villagesOf gathers households into their villages, worst first.
func villagesOf(marks []HouseholdMark, counts map[string]StateCounts) []VillageMark {
	type sum struct {
		VillageMark
		lat, lon float64
	}
	byID := map[uuid.UUID]*sum{}
	var order []uuid.UUID
	for _, m := range marks {
		v := byID[m.VillageID]
		if v == nil {
			v = &sum{VillageMark: VillageMark{ID: m.VillageID, Name: m.VillageName, TownName: m.TownName, Counts: counts[m.VillageID.String()]}}
			byID[m.VillageID] = v
			order = append(order, m.VillageID)
		}
		v.Households++
		if m.Home != nil {
			v.Located++
			v.lat += m.Home.Lat
			v.lon += m.Home.Lon
		}
	}
	out := make([]VillageMark, len(order))
	for i, id := range order {
		v := byID[id]
		if v.Located > 0 {
			v.Centroid = &domain.GeoPoint{Lat: v.lat / float64(v.Located), Lon: v.lon / float64(v.Located)}
		}
		out[i] = v.VillageMark
	}
	slices.SortStableFunc(out, func(a, b VillageMark) int {
		ra, rb := a.Counts.OnPaceRate(), b.Counts.OnPaceRate()
		if (ra < 0) != (rb < 0) { // villages with nothing judged go last
			if ra < 0 {
				return 1
			}
			return -1
		}
		return cmp.Or(cmp.Compare(ra, rb), cmp.Compare(b.Counts.Missed+b.Counts.Overdue, a.Counts.Missed+a.Counts.Overdue),
			cmp.Compare(a.Counts.MetRate(), b.Counts.MetRate()), cmp.Compare(a.TownName, b.TownName), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// VillageHouseholds lists a village's households in the caller's sight
// with their worst state in the periods in force (mapPeriods), worst
// first. A village where the caller sees no household is not found,
// whether it exists or not.
func (s *Service) VillageHouseholds(ctx context.Context, p domain.Principal, villageID uuid.UUID) ([]HouseholdMark, rules.Period, error) {
	per, keys := s.mapPeriods()
	marks, err := s.store.HouseholdMarks(ctx, MarkFilter{Scope: p.HouseholdScope(), Today: s.today(), PeriodKeys: keys, VillageID: &villageID})
	if err != nil {
		return nil, per, err
	}
	if len(marks) == 0 {
		return nil, per, domain.NotFound("region")
	}
	slices.SortStableFunc(marks, func(a, b HouseholdMark) int {
		return cmp.Or(cmp.Compare(markRank(a.State), markRank(b.State)), cmp.Compare(a.Number, b.Number))
	})
	return marks, per, nil
}

// markRank orders a household's state worst first; nothing judged last.
func markRank(state string) int {
	if state == "" {
		return len(rules.States) + 1
	}
	return len(rules.States) - 1 - rules.StateRank(state)
}
