package storage

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/casework"
)

type riskWarningRow struct {
	CountyID       uuid.UUID  `gorm:"column:county_id;primaryKey"`
	ID             uuid.UUID  `gorm:"column:id;primaryKey"`
	HouseholdID    uuid.UUID  `gorm:"column:household_id"`
	RegionPath     string     `gorm:"column:region_path"`
	List           string     `gorm:"column:list"`
	TriggerCode    string     `gorm:"column:trigger_code"`
	Note           string     `gorm:"column:note"`
	VisitID        uuid.UUID  `gorm:"column:visit_id"`
	SeenOn         sqlDate    `gorm:"column:seen_on"`
	CadreID        uuid.UUID  `gorm:"column:cadre_id"`
	State          string     `gorm:"column:state"`
	Resolution     string     `gorm:"column:resolution"`
	ResolutionNote string     `gorm:"column:resolution_note"`
	Cause          string     `gorm:"column:cause"`
	ResolvedBy     *uuid.UUID `gorm:"column:resolved_by"`
	ResolvedAt     *time.Time `gorm:"column:resolved_at"`
	CreatedAt      time.Time  `gorm:"column:created_at"`
	Version        int64      `gorm:"column:version"`
}

func (riskWarningRow) TableName() string { return "risk_warnings" }

// warningRead is a warning row with its household's head and path now.
type warningRead struct {
	Row           riskWarningRow `gorm:"embedded"`
	HeadName      string         `gorm:"column:head_name"`
	HouseholdPath string         `gorm:"column:household_path"`
}

func (wr warningRead) warning() casework.Warning {
	r := wr.Row
	w := casework.Warning{ID: r.ID, CountyID: r.CountyID, HouseholdID: r.HouseholdID, RegionPath: wr.HouseholdPath, HeadName: wr.HeadName,
		List: r.List, Trigger: r.TriggerCode, Note: r.Note, VisitID: r.VisitID, SeenOn: r.SeenOn.date(), CadreID: r.CadreID, State: r.State,
		Resolution: r.Resolution, ResolutionNote: r.ResolutionNote, Cause: r.Cause, ResolvedBy: r.ResolvedBy, CreatedAt: r.CreatedAt.UTC(),
		Version: r.Version}
	if r.ResolvedAt != nil {
		t := r.ResolvedAt.UTC()
		w.ResolvedAt = &t
	}
	return w
}

// warnings selects warnings with their household's head and region path;
// scope is the household's path now, so a household moved to another
// village takes its warnings along.
func (s *Store) warnings(ctx context.Context) *gorm.DB {
	return s.db.WithContext(ctx).Table("risk_warnings").
		Select("risk_warnings.*, households.head_name AS head_name, households.region_path AS household_path").
		Joins("JOIN households ON households.county_id = risk_warnings.county_id AND households.id = risk_warnings.household_id")
}

func (s *Store) warning(ctx context.Context, q *gorm.DB, withinPath string, id uuid.UUID) (casework.Warning, error) {
	var r warningRead
	err := q.Where("risk_warnings.id = ?", id).Where(like("households.region_path"), likePrefix(withinPath)).Take(&r).Error
	return r.warning(), translate(err, "warning")
}

// Warning reads a warning of a household in the subtree at withinPath.
func (s *Store) Warning(ctx context.Context, withinPath string, id uuid.UUID) (casework.Warning, error) {
	return s.warning(ctx, s.warnings(ctx), withinPath, id)
}

// WarningForUpdate is Warning, locking the warning for the transaction.
func (s *Store) WarningForUpdate(ctx context.Context, withinPath string, id uuid.UUID) (casework.Warning, error) {
	q := s.warnings(ctx)
	if s.dialect == Postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE", Table: clause.Table{Name: "risk_warnings"}})
	}
	return s.warning(ctx, q, withinPath, id)
}

// Warnings lists warnings by the filter, newest first.
func (s *Store) Warnings(ctx context.Context, f casework.WarningFilter) ([]casework.Warning, int64, error) {
	q := s.warnings(ctx).Where(like("households.region_path"), likePrefix(f.WithinPath))
	if f.RegionPath != "" {
		q = q.Where(like("households.region_path"), likePrefix(f.RegionPath))
	}
	if f.HouseholdID != nil {
		q = q.Where("risk_warnings.household_id = ?", *f.HouseholdID)
	}
	if f.List != "" {
		q = q.Where("risk_warnings.list = ?", f.List)
	}
	if f.State != "" {
		q = q.Where("risk_warnings.state = ?", f.State)
	}
	var total int64
	if err := q.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		return nil, 0, translate(err, "warning")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	var rows []warningRead
	if err := q.Order("risk_warnings.seen_on DESC, risk_warnings.created_at DESC, risk_warnings.id").Limit(limit).Offset(f.Offset).
		Find(&rows).Error; err != nil {
		return nil, 0, translate(err, "warning")
	}
	out := make([]casework.Warning, len(rows))
	for i, r := range rows {
		out[i] = r.warning()
	}
	return out, total, nil
}

// OpenWarnings lists a household's open warnings.
func (s *Store) OpenWarnings(ctx context.Context, countyID, householdID uuid.UUID) ([]casework.Warning, error) {
	var rows []warningRead
	if err := s.warnings(ctx).Where("risk_warnings.county_id = ? AND risk_warnings.household_id = ? AND risk_warnings.state = ?",
		countyID, householdID, casework.WarningOpen).Order("risk_warnings.created_at, risk_warnings.id").Find(&rows).Error; err != nil {
		return nil, translate(err, "warning")
	}
	out := make([]casework.Warning, len(rows))
	for i, r := range rows {
		out[i] = r.warning()
	}
	return out, nil
}

// OpenWarningsOf reads the open warnings of the households, by
// household, oldest seen first.
func (s *Store) OpenWarningsOf(ctx context.Context, households []uuid.UUID) (map[uuid.UUID][]casework.Warning, error) {
	out := map[uuid.UUID][]casework.Warning{}
	if len(households) == 0 {
		return out, nil
	}
	var rows []warningRead
	if err := ofHouseholds(s.warnings(ctx), "risk_warnings", households).Where("risk_warnings.state = ?", casework.WarningOpen).
		Order("risk_warnings.seen_on, risk_warnings.created_at, risk_warnings.id").Find(&rows).Error; err != nil {
		return nil, translate(err, "warning")
	}
	for _, r := range rows {
		w := r.warning()
		out[w.HouseholdID] = append(out[w.HouseholdID], w)
	}
	return out, nil
}

// InsertWarnings stores new warnings under their households' region
// paths; an id stored already stays as it is.
func (s *Store) InsertWarnings(ctx context.Context, ws []casework.Warning) error {
	return s.inTx(ctx, "warning", func(tx *gorm.DB) error {
		for _, w := range ws {
			var paths []string
			if err := tx.Model(&householdRow{}).Where("county_id = ? AND id = ?", w.CountyID, w.HouseholdID).Pluck("region_path", &paths).Error; err != nil {
				return err
			}
			if len(paths) == 0 {
				return domain.NotFound("household")
			}
			row := toWarningRow(w)
			row.RegionPath = paths[0]
			res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
			if res.Error != nil {
				return res.Error
			}
			// The feed row is not for phones (no pull asks for warnings):
			// it moves the county's VerdictVersion, as an open risk keeps
			// a household from exiting.
			if res.RowsAffected > 0 {
				if err := s.appendChange(tx, warningChange(w, "create")); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func toWarningRow(w casework.Warning) riskWarningRow {
	r := riskWarningRow{CountyID: w.CountyID, ID: w.ID, HouseholdID: w.HouseholdID, RegionPath: w.RegionPath, List: w.List, TriggerCode: w.Trigger,
		Note: w.Note, VisitID: w.VisitID, SeenOn: toSQLDate(w.SeenOn), CadreID: w.CadreID, State: w.State, Resolution: w.Resolution,
		ResolutionNote: w.ResolutionNote, Cause: w.Cause, ResolvedBy: w.ResolvedBy, CreatedAt: utc(w.CreatedAt), Version: w.Version}
	if w.ResolvedAt != nil {
		t := w.ResolvedAt.UTC()
		r.ResolvedAt = &t
	}
	return r
}

// SaveWarning writes a warning's state over expectedVersion, with its
// audit entry.
func (s *Store) SaveWarning(ctx context.Context, w casework.Warning, expectedVersion int64, audit domain.AuditEntry) error {
	return s.inTx(ctx, "warning", func(tx *gorm.DB) error {
		row := toWarningRow(w)
		res := tx.Model(&riskWarningRow{}).Where("county_id = ? AND id = ? AND version = ?", w.CountyID, w.ID, expectedVersion).
			Select("state", "resolution", "resolution_note", "cause", "resolved_by", "resolved_at", "version").Updates(&row)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return domain.Stale("warning", "预警")
		}
		if err := s.appendChange(tx, warningChange(w, "update")); err != nil {
			return err
		}
		return s.appendAudit(tx, audit)
	})
}

// warningChange is a warning's feed row: no phone pulls it (Changes asks
// for none), but it moves the county's VerdictVersion.
func warningChange(w casework.Warning, op string) feedEntry {
	hid := w.HouseholdID
	return feedEntry{CountyID: w.CountyID, Entity: "risk_warning", EntityID: w.ID, HouseholdID: &hid, Op: op, Version: w.Version}
}
