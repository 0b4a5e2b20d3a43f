package storage

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/sync"
)

// Plan items (一户一案, issue 20) are household records phones edit
// offline: stored with a version, deleted as tombstones, each write with
// its feed row, so they reach every phone that holds the household.

type planItemRow struct {
	CountyID           uuid.UUID `gorm:"column:county_id;primaryKey"`
	ID                 uuid.UUID `gorm:"column:id;primaryKey"`
	HouseholdID        uuid.UUID `gorm:"column:household_id"`
	Route              string    `gorm:"column:route"`
	Measure            string    `gorm:"column:measure"`
	ResponsibleCadreID uuid.UUID `gorm:"column:responsible_cadre_id"`
	TargetOn           sqlDate   `gorm:"column:target_on"`
	State              string    `gorm:"column:state"`
	Notes              string    `gorm:"column:notes"`
	Deleted            bool      `gorm:"column:deleted"`
	Version            int64     `gorm:"column:version"`
	CreatedBy          uuid.UUID `gorm:"column:created_by"`
	UpdatedBy          uuid.UUID `gorm:"column:updated_by"`
	DeviceID           string    `gorm:"column:device_id"`
	CreatedAt          time.Time `gorm:"column:created_at"`
	UpdatedAt          time.Time `gorm:"column:updated_at"`
}

func (planItemRow) TableName() string { return "plan_items" }

var planItemColumns = []string{"county_id", "id", "household_id", "route", "measure", "responsible_cadre_id", "target_on", "state", "notes",
	"deleted", "version", "created_by", "updated_by", "device_id", "created_at", "updated_at"}

func (r *planItemRow) fields() []any {
	return []any{&r.CountyID, &r.ID, &r.HouseholdID, &r.Route, &r.Measure, &r.ResponsibleCadreID, &r.TargetOn, &r.State, &r.Notes,
		&r.Deleted, &r.Version, &r.CreatedBy, &r.UpdatedBy, &r.DeviceID, &r.CreatedAt, &r.UpdatedAt}
}

func toPlanItemRow(p domain.PlanItem) planItemRow {
	return planItemRow{CountyID: p.CountyID, ID: p.ID, HouseholdID: p.HouseholdID, Route: p.Route, Measure: p.Measure,
		ResponsibleCadreID: p.ResponsibleCadreID, TargetOn: toSQLDate(p.TargetOn), State: p.State, Notes: p.Notes, Deleted: p.Deleted,
		Version: p.Version, CreatedBy: p.CreatedBy, UpdatedBy: p.UpdatedBy, DeviceID: p.DeviceID, CreatedAt: p.CreatedAt.UTC(), UpdatedAt: p.UpdatedAt.UTC()}
}

func toDomainPlanItem(r planItemRow) domain.PlanItem {
	return domain.PlanItem{ID: r.ID, CountyID: r.CountyID, HouseholdID: r.HouseholdID,
		PlanItemDetails: domain.PlanItemDetails{Route: r.Route, Measure: r.Measure, ResponsibleCadreID: r.ResponsibleCadreID,
			TargetOn: r.TargetOn.date(), State: r.State, Notes: r.Notes},
		Deleted: r.Deleted, Version: r.Version, CreatedBy: r.CreatedBy, UpdatedBy: r.UpdatedBy, DeviceID: r.DeviceID,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

func planItemChange(p domain.PlanItem, op string) feedEntry {
	hid := p.HouseholdID
	return feedEntry{CountyID: p.CountyID, Entity: "plan_item", EntityID: p.ID, HouseholdID: &hid, Op: op, Version: p.Version}
}

// PlanItemForUpdate loads a plan item by id, deleted or not, locking it.
func (s *Store) PlanItemForUpdate(ctx context.Context, id uuid.UUID) (domain.PlanItem, error) {
	var row planItemRow
	err := s.locking(s.db.WithContext(ctx)).Where("id = ?", id).Take(&row).Error
	return toDomainPlanItem(row), translate(err, "plan item")
}

// InsertPlanItem stores a new plan item and its feed row.
func (s *Store) InsertPlanItem(ctx context.Context, p domain.PlanItem) error {
	return s.inTx(ctx, "plan item", func(tx *gorm.DB) error {
		row := toPlanItemRow(p)
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		return s.appendChange(tx, planItemChange(p, "create"))
	})
}

// SavePlanItem overwrites the plan item stored at expectedVersion with p
// (whose Version is the new one) and records the change; a delete is p
// with Deleted set.
func (s *Store) SavePlanItem(ctx context.Context, p domain.PlanItem, expectedVersion int64) error {
	return s.inTx(ctx, "plan item", func(tx *gorm.DB) error {
		row := toPlanItemRow(p)
		res := tx.Model(&planItemRow{}).Where("county_id = ? AND id = ? AND version = ?", p.CountyID, p.ID, expectedVersion).
			Select("route", "measure", "responsible_cadre_id", "target_on", "state", "notes", "deleted", "version", "updated_by", "device_id",
				"updated_at").Updates(&row)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return domain.Stale("plan item", "帮扶计划措施")
		}
		op := "update"
		if p.Deleted {
			op = "delete"
		}
		return s.appendChange(tx, planItemChange(p, op))
	})
}

// LivePlanItemIDs returns which of ids are plan items of the household
// that are not deleted.
func (s *Store) LivePlanItemIDs(ctx context.Context, countyID, householdID uuid.UUID, ids []uuid.UUID) (map[uuid.UUID]bool, error) {
	out := map[uuid.UUID]bool{}
	if len(ids) == 0 {
		return out, nil
	}
	var found []uuid.UUID
	err := s.db.WithContext(ctx).Model(&planItemRow{}).Where("county_id = ? AND household_id = ? AND id IN ? AND NOT deleted", countyID, householdID, ids).
		Pluck("id", &found).Error
	for _, id := range found {
		out[id] = true
	}
	return out, translate(err, "plan item")
}

// PlanItemsByID returns the plan items among ids that exist, deleted ones
// included, by id, without scope (the feed checks it).
func (s *Store) PlanItemsByID(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]domain.PlanItem, error) {
	out := make(map[uuid.UUID]domain.PlanItem, len(ids))
	err := eachByID(ctx, s, "plan item", "SELECT "+qualified("p", planItemColumns)+" FROM plan_items p WHERE p.id", nil, ids,
		(*planItemRow).fields, func(r *planItemRow) { out[r.ID] = toDomainPlanItem(*r) })
	return out, err
}

// PlanItemsOf returns the live plan items of the households, by household.
func (s *Store) PlanItemsOf(ctx context.Context, households []domain.Household) (map[uuid.UUID][]domain.PlanItem, error) {
	out := make(map[uuid.UUID][]domain.PlanItem, len(households))
	err := eachOfHouseholds(ctx, s, "plan item", "SELECT "+qualified("p", planItemColumns)+" FROM plan_items p WHERE p.county_id = ? AND NOT p.deleted AND p.household_id", households,
		(*planItemRow).fields, func(r *planItemRow) { out[r.HouseholdID] = append(out[r.HouseholdID], toDomainPlanItem(*r)) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PlanItemsAfter hands each live plan item of scope's households after the
// key to each, in (household, id) order, up to limit (a fresh phone's walk).
func (s *Store) PlanItemsAfter(ctx context.Context, scope domain.HouseholdScope, today domain.Date, after sync.ChildKey, limit int, each func(domain.PlanItem) error) error {
	w := scopeWalk(scope, today)
	pq, pargs := w.children("plan_items", planItemColumns, " AND NOT c.deleted", nil)
	q, args := w.childrenAfter(pq, pargs, after, limit)
	return eachRow(ctx, s, "plan item", q, args, (*planItemRow).fields,
		func(r *planItemRow) error { return each(toDomainPlanItem(*r)) })
}
