package storage

import (
	"context"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance"
)

// VisitFlagCounts counts the live visits of a region and date range by
// each flag code they carry. The flags are a JSON array on the visit, so
// the two dialects unnest it their own way; a visit is counted once per
// code however many times the code repeats on it.
func (s *Store) VisitFlagCounts(ctx context.Context, f compliance.VisitLedgerFilter) (map[string]int64, error) {
	flags, code := s.visitFlagRows()
	q := s.db.WithContext(ctx).Table("visits").
		Select(code+" AS code, COUNT(DISTINCT visits.id) AS visits").
		Joins("JOIN households h ON h.county_id = visits.county_id AND h.id = visits.household_id").
		Joins("CROSS JOIN "+flags).
		Where("visits.deleted = ? AND visits.started_at >= ? AND visits.started_at < ?", false, f.From.UTC(), f.To.UTC()).
		Where(like("h.region_path"), likePrefix(f.RegionPath))
	var rows []struct {
		Code   string
		Visits int64
	}
	if err := s.ledgerVisits(q, f).Group("code").Scan(&rows).Error; err != nil {
		return nil, translate(err, "visit")
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		if r.Code != "" {
			out[r.Code] = r.Visits
		}
	}
	return out, nil
}

// HouseholdMarks lists the households of a map that scope allows, in
// village and number order, each with its worst state of the periods: the
// household's own statuses and its pairs' (keyed by the household), read
// through the primary key.
func (s *Store) HouseholdMarks(ctx context.Context, f compliance.MarkFilter) ([]compliance.HouseholdMark, error) {
	worst := `(SELECT MIN(CASE (` + stateSQL + `) WHEN 'missed' THEN 0 WHEN 'overdue' THEN 1 WHEN 'due_soon' THEN 2 WHEN 'on_track' THEN 3 ELSE 4 END)
		FROM compliance_statuses s WHERE s.subject_kind IN ('household', 'pairing') AND s.subject_id = households.id AND s.period_key IN @periods)`
	q := scopeHouseholds(s.db.WithContext(ctx).Model(&householdRow{}), f.Scope, f.Today).
		Select("households.id, households.village_id, v.name AS village_name, t.name AS town_name, households.number, households.head_name, "+
			"households.status, households.home_lat, households.home_lon, "+worst+" AS worst",
			map[string]any{"today": f.Today.String(), "periods": f.PeriodKeys}).
		Joins("JOIN regions v ON v.id = households.village_id").
		Joins("LEFT JOIN regions t ON t.id = v.parent_id")
	if f.VillageID != nil {
		q = q.Where("households.village_id = ?", *f.VillageID)
	}
	var rows []struct {
		ID          uuid.UUID
		VillageID   uuid.UUID
		VillageName string
		TownName    *string
		Number      string
		HeadName    string
		Status      string
		HomeLat     *float64
		HomeLon     *float64
		Worst       *int
	}
	if err := q.Order("households.village_id, households.number, households.id").Scan(&rows).Error; err != nil {
		return nil, translate(err, "household")
	}
	states := []string{"missed", "overdue", "due_soon", "on_track", "met"}
	out := make([]compliance.HouseholdMark, len(rows))
	for i, r := range rows {
		m := compliance.HouseholdMark{ID: r.ID, VillageID: r.VillageID, VillageName: r.VillageName, TownName: deref(r.TownName),
			Number: r.Number, HeadName: r.HeadName, Status: r.Status}
		if r.HomeLat != nil && r.HomeLon != nil {
			m.Home = &domain.GeoPoint{Lat: *r.HomeLat, Lon: *r.HomeLon}
		}
		if r.Worst != nil && *r.Worst >= 0 && *r.Worst < len(states) {
			m.State = states[*r.Worst]
		}
		out[i] = m
	}
	return out, nil
}
