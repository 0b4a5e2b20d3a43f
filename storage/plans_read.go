package storage

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/plans"
)

// planLineRow is a plan item with its responsible cadre's name.
type planLineRow struct {
	Item            planItemRow `gorm:"embedded"`
	ResponsibleName string      `gorm:"column:responsible_name"`
}

// PlanLines lists the live plan items the filter selects, by target date
// and id, with the total before paging (plans.Store).
func (s *Store) PlanLines(ctx context.Context, f plans.Filter) ([]plans.Line, int64, error) {
	db := s.db.WithContext(ctx)
	var total int64
	if err := planWhere(db.Table("plan_items p"), f).Count(&total).Error; err != nil {
		return nil, 0, translate(err, "plan item")
	}
	q := planWhere(db.Table("plan_items p"), f).Select("p.*, COALESCE(u.display_name, '') AS responsible_name").
		Joins("LEFT JOIN users u ON u.id = p.responsible_cadre_id").Order("p.target_on, p.id")
	if f.Limit > 0 {
		q = q.Limit(f.Limit).Offset(f.Offset)
	}
	var rows []planLineRow
	if err := q.Scan(&rows).Error; err != nil {
		return nil, 0, translate(err, "plan item")
	}
	out := make([]plans.Line, len(rows))
	for i, r := range rows {
		out[i] = plans.Line{PlanItem: toDomainPlanItem(r.Item), ResponsibleName: r.ResponsibleName}
	}
	return out, total, nil
}

// planWhere narrows q (plan_items p) to the filter's live items.
func planWhere(q *gorm.DB, f plans.Filter) *gorm.DB {
	q = q.Joins("JOIN households h ON h.county_id = p.county_id AND h.id = p.household_id").Where("NOT p.deleted")
	for _, path := range []string{f.WithinPath, f.RegionPath} {
		if path != "" {
			q = q.Where(like("h.region_path"), likePrefix(path))
		}
	}
	if f.HouseholdID != nil {
		q = q.Where("p.household_id = ?", *f.HouseholdID)
	}
	if f.ResponsibleID != nil {
		q = q.Where("p.responsible_cadre_id = ?", *f.ResponsibleID)
	}
	if f.Route != "" {
		q = q.Where("p.route = ?", f.Route)
	}
	if f.State != "" {
		q = q.Where("p.state = ?", f.State)
	}
	if f.Overdue != nil {
		// plans.Overdue, spelled in SQL.
		late := "(p.state NOT IN ('done', 'dropped') AND p.target_on < ?)"
		if !*f.Overdue {
			late = "NOT " + late
		}
		q = q.Where(late, toSQLDate(f.Today))
	}
	return q
}

// PlanProgress reads what the live visits to the households recorded on
// their plans, by plan item (plans.Store).
func (s *Store) PlanProgress(ctx context.Context, households []uuid.UUID) (map[uuid.UUID][]plans.Progress, error) {
	out := map[uuid.UUID][]plans.Progress{}
	households = uniqueIDs(households)
	if len(households) == 0 {
		return out, nil
	}
	type progressRow struct {
		ID           uuid.UUID                        `gorm:"column:id"`
		CadreID      uuid.UUID                        `gorm:"column:cadre_id"`
		StartedAt    time.Time                        `gorm:"column:started_at"`
		PlanProgress jsonValue[[]domain.PlanProgress] `gorm:"column:plan_progress"`
	}
	for _, part := range chunks(households, lookupChunk) {
		var rows []progressRow
		err := ofHouseholds(s.db.WithContext(ctx).Table("visits"), "visits", part).Select("id", "cadre_id", "started_at", "plan_progress").
			Where("NOT deleted").Scan(&rows).Error
		if err != nil {
			return nil, translate(err, "visit")
		}
		for _, r := range rows {
			for _, p := range r.PlanProgress.V {
				out[p.PlanItemID] = append(out[p.PlanItemID], plans.Progress{VisitID: r.ID, CadreID: r.CadreID, StartedAt: r.StartedAt.UTC(), Note: p.Note})
			}
		}
	}
	return out, nil
}
