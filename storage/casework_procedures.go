package storage

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/casework"
)

type procedureRow struct {
	CountyID    uuid.UUID  `gorm:"column:county_id;primaryKey"`
	ID          uuid.UUID  `gorm:"column:id;primaryKey"`
	HouseholdID *uuid.UUID `gorm:"column:household_id"` // nil for a village's procedure
	VillageID   *uuid.UUID `gorm:"column:village_id"`
	RegionPath  string     `gorm:"column:region_path"`
	Kind        string     `gorm:"column:kind"`
	Year        int        `gorm:"column:year"`
	PovertyType string     `gorm:"column:poverty_type"`
	Reason      string     `gorm:"column:reason"`
	Status      string     `gorm:"column:status"`
	CreatedBy   uuid.UUID  `gorm:"column:created_by"`
	CreatedAt   time.Time  `gorm:"column:created_at"`
	UpdatedAt   time.Time  `gorm:"column:updated_at"`
	Version     int64      `gorm:"column:version"`
}

func (procedureRow) TableName() string { return "casework_procedures" }

type procedureStepRow struct {
	CountyID    uuid.UUID              `gorm:"column:county_id;primaryKey"`
	ID          uuid.UUID              `gorm:"column:id;primaryKey"`
	ProcedureID uuid.UUID              `gorm:"column:procedure_id"`
	Code        string                 `gorm:"column:code"`
	Seq         int                    `gorm:"column:seq"`
	DoneOn      sqlDate                `gorm:"column:done_on"`
	Note        string                 `gorm:"column:note"`
	DocumentIDs jsonValue[[]string]    `gorm:"column:document_ids"`
	PhotoIDs    jsonValue[[]uuid.UUID] `gorm:"column:photo_ids"`
	Confirmed   jsonValue[[]string]    `gorm:"column:confirmed"`
	RecordedBy  uuid.UUID              `gorm:"column:recorded_by"`
	RecordedAt  time.Time              `gorm:"column:recorded_at"`
}

func (procedureStepRow) TableName() string { return "casework_procedure_steps" }

func (s *Store) procedure(ctx context.Context, q *gorm.DB, withinPath string, id uuid.UUID) (casework.Procedure, error) {
	var r procedureRow
	if err := q.Where("id = ?", id).Where(like("region_path"), likePrefix(withinPath)).Take(&r).Error; err != nil {
		return casework.Procedure{}, translate(err, "procedure")
	}
	var steps []procedureStepRow
	if err := s.db.WithContext(ctx).Where("county_id = ? AND procedure_id = ?", r.CountyID, r.ID).Order("seq").Find(&steps).Error; err != nil {
		return casework.Procedure{}, translate(err, "procedure")
	}
	pr := casework.Procedure{ID: r.ID, CountyID: r.CountyID, HouseholdID: uuidOf(r.HouseholdID), VillageID: uuidOf(r.VillageID), RegionPath: r.RegionPath, Kind: r.Kind, Year: r.Year,
		PovertyType: r.PovertyType, Reason: r.Reason, Status: r.Status, Steps: make([]casework.Step, len(steps)), CreatedBy: r.CreatedBy,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), Version: r.Version}
	for i, st := range steps {
		pr.Steps[i] = casework.Step{ID: st.ID, ProcedureID: st.ProcedureID, Code: st.Code, Seq: st.Seq, DoneOn: st.DoneOn.date(), Note: st.Note,
			DocumentIDs: nonNil(st.DocumentIDs.V), PhotoIDs: st.PhotoIDs.V, Confirmed: nonNil(st.Confirmed.V), RecordedBy: st.RecordedBy,
			RecordedAt: st.RecordedAt.UTC()}
		if pr.Steps[i].PhotoIDs == nil {
			pr.Steps[i].PhotoIDs = []uuid.UUID{}
		}
	}
	return pr, nil
}

// Procedure reads a procedure of a household in the subtree at withinPath.
func (s *Store) Procedure(ctx context.Context, withinPath string, id uuid.UUID) (casework.Procedure, error) {
	return s.procedure(ctx, s.db.WithContext(ctx), withinPath, id)
}

// ProcedureForUpdate is Procedure, locking the procedure for the transaction.
func (s *Store) ProcedureForUpdate(ctx context.Context, withinPath string, id uuid.UUID) (casework.Procedure, error) {
	return s.procedure(ctx, s.locking(s.db.WithContext(ctx)), withinPath, id)
}

// HouseholdProcedures reads every procedure of a household, open and
// completed, with its steps, oldest first.
func (s *Store) HouseholdProcedures(ctx context.Context, countyID, householdID uuid.UUID) ([]casework.Procedure, error) {
	return s.proceduresOf(ctx, countyID, "household_id", householdID)
}

// VillageProcedures reads every procedure of a village (its exit), open
// and completed, with its steps, oldest first.
func (s *Store) VillageProcedures(ctx context.Context, countyID, villageID uuid.UUID) ([]casework.Procedure, error) {
	return s.proceduresOf(ctx, countyID, "village_id", villageID)
}

// proceduresOf reads the procedures whose subject column (household_id or
// village_id) is id.
func (s *Store) proceduresOf(ctx context.Context, countyID uuid.UUID, subject string, id uuid.UUID) ([]casework.Procedure, error) {
	var ids []uuid.UUID
	if err := s.db.WithContext(ctx).Model(&procedureRow{}).Where("county_id = ? AND "+subject+" = ?", countyID, id).
		Order("created_at, id").Pluck("id", &ids).Error; err != nil {
		return nil, translate(err, "procedure")
	}
	out := make([]casework.Procedure, 0, len(ids))
	for _, id := range ids {
		pr, err := s.procedure(ctx, s.db.WithContext(ctx).Where("county_id = ?", countyID), "", id)
		if err != nil {
			return nil, err
		}
		out = append(out, pr)
	}
	return out, nil
}

// OpenProcedures lists a household's open procedures.
func (s *Store) OpenProcedures(ctx context.Context, countyID, householdID uuid.UUID) ([]casework.Procedure, error) {
	var rows []procedureRow
	if err := s.db.WithContext(ctx).Where("county_id = ? AND household_id = ? AND status = ?", countyID, householdID, casework.ProcedureOpen).
		Find(&rows).Error; err != nil {
		return nil, translate(err, "procedure")
	}
	out := make([]casework.Procedure, len(rows))
	for i, r := range rows {
		out[i] = casework.Procedure{ID: r.ID, CountyID: r.CountyID, HouseholdID: uuidOf(r.HouseholdID), VillageID: uuidOf(r.VillageID), Kind: r.Kind, Status: r.Status, Version: r.Version}
	}
	return out, nil
}

// CreateProcedure files a new procedure under its household's region path.
func (s *Store) CreateProcedure(ctx context.Context, pr casework.Procedure, audit domain.AuditEntry) error {
	return s.inTx(ctx, "procedure", func(tx *gorm.DB) error {
		var paths []string
		row := procedureRow{CountyID: pr.CountyID, ID: pr.ID}
		if pr.VillageID != uuid.Nil {
			row.VillageID = &pr.VillageID
			if err := tx.Model(&regionRow{}).Where("county_id = ? AND id = ?", pr.CountyID, pr.VillageID).Pluck("path", &paths).Error; err != nil {
				return err
			}
		} else {
			row.HouseholdID = &pr.HouseholdID
			if err := tx.Model(&householdRow{}).Where("county_id = ? AND id = ?", pr.CountyID, pr.HouseholdID).Pluck("region_path", &paths).Error; err != nil {
				return err
			}
		}
		if len(paths) == 0 {
			return domain.NotFound("household")
		}
		row.RegionPath, row.Kind, row.Year, row.PovertyType, row.Reason, row.Status = paths[0], pr.Kind, pr.Year, pr.PovertyType, pr.Reason, pr.Status
		row.CreatedBy, row.CreatedAt, row.UpdatedAt, row.Version = pr.CreatedBy, utc(pr.CreatedAt), utc(pr.UpdatedAt), pr.Version
		if err := tx.Create(&row).Error; err != nil {
			if domain.Reason(translate(err, "procedure")) == "duplicate" {
				return &domain.Error{Code: domain.CodeConflict, Reason: "open_procedure", Message: "the household has an open procedure", MessageZH: "该户已有进行中的程序"}
			}
			return err
		}
		return s.appendAudit(tx, audit)
	})
}

// AddStep appends a step and writes the procedure's status and version
// over expectedVersion.
func (s *Store) AddStep(ctx context.Context, pr casework.Procedure, st casework.Step, expectedVersion int64, audit domain.AuditEntry) error {
	return s.inTx(ctx, "procedure", func(tx *gorm.DB) error {
		res := tx.Model(&procedureRow{}).Where("county_id = ? AND id = ? AND version = ?", pr.CountyID, pr.ID, expectedVersion).
			Updates(map[string]any{"status": pr.Status, "version": pr.Version, "updated_at": utc(pr.UpdatedAt)})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return domain.Stale("procedure", "程序")
		}
		row := procedureStepRow{CountyID: pr.CountyID, ID: st.ID, ProcedureID: pr.ID, Code: st.Code, Seq: st.Seq, DoneOn: toSQLDate(st.DoneOn),
			Note: st.Note, DocumentIDs: jsonValue[[]string]{st.DocumentIDs}, PhotoIDs: jsonValue[[]uuid.UUID]{st.PhotoIDs},
			Confirmed: jsonValue[[]string]{st.Confirmed}, RecordedBy: st.RecordedBy, RecordedAt: utc(st.RecordedAt)}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		return s.appendAudit(tx, audit)
	})
}
