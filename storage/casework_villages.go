package storage

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/casework"
)

// Poor-village exit (贫困村出列): the year's criteria, what was recorded of
// each village, and the villages' exits.

type villageExitStandardRow struct {
	Year                int                                 `gorm:"column:year;primaryKey"`
	IncidencePermille   int                                 `gorm:"column:incidence_permille"`
	CollectiveIncomeFen int64                               `gorm:"column:collective_income_fen"`
	Indicators          jsonValue[[]villageIndicatorColumn] `gorm:"column:indicators"`
	Version             int64                               `gorm:"column:version"`
	UpdatedAt           time.Time                           `gorm:"column:updated_at"`
}

func (villageExitStandardRow) TableName() string { return "village_exit_standards" }

// villageIndicatorColumn is storage's own spelling of a village item.
type villageIndicatorColumn struct {
	Code   string `json:"code"`
	NameZH string `json:"name_zh"`
}

type villageExitRecordRow struct {
	CountyID            uuid.UUID                  `gorm:"column:county_id;primaryKey"`
	VillageID           uuid.UUID                  `gorm:"column:village_id;primaryKey"`
	Year                int                        `gorm:"column:year;primaryKey"`
	CollectiveIncomeFen *int64                     `gorm:"column:collective_income_fen"`
	Indicators          jsonValue[map[string]bool] `gorm:"column:indicators"`
	Notes               string                     `gorm:"column:notes"`
	Version             int64                      `gorm:"column:version"`
	UpdatedBy           uuid.UUID                  `gorm:"column:updated_by"`
	UpdatedAt           time.Time                  `gorm:"column:updated_at"`
}

func (villageExitRecordRow) TableName() string { return "village_exit_records" }

func (r villageExitRecordRow) record() casework.VillageRecord {
	ind := r.Indicators.V
	if ind == nil {
		ind = map[string]bool{}
	}
	return casework.VillageRecord{CountyID: r.CountyID, VillageID: r.VillageID, Year: r.Year, CollectiveIncomeFen: r.CollectiveIncomeFen,
		Indicators: ind, Notes: r.Notes, Version: r.Version, UpdatedBy: r.UpdatedBy, UpdatedAt: r.UpdatedAt.UTC()}
}

type villageExitRow struct {
	CountyID    uuid.UUID `gorm:"column:county_id;primaryKey"`
	VillageID   uuid.UUID `gorm:"column:village_id;primaryKey"`
	ProcedureID uuid.UUID `gorm:"column:procedure_id;primaryKey"`
	Year        int       `gorm:"column:year"`
	ExitedOn    sqlDate   `gorm:"column:exited_on"`
	RecordedBy  uuid.UUID `gorm:"column:recorded_by"`
	RecordedAt  time.Time `gorm:"column:recorded_at"`
}

func (villageExitRow) TableName() string { return "village_exits" }

// VillageExitStandard reads a year's configured village criteria.
func (s *Store) VillageExitStandard(ctx context.Context, year int) (casework.VillageExitStandard, error) {
	var r villageExitStandardRow
	if err := s.db.WithContext(ctx).Where("year = ?", year).Take(&r).Error; err != nil {
		return casework.VillageExitStandard{}, translate(err, "village exit standard")
	}
	st := casework.VillageExitStandard{Year: r.Year, IncidencePermille: r.IncidencePermille, CollectiveIncomeFen: r.CollectiveIncomeFen,
		Indicators: []casework.VillageIndicator{}, Version: r.Version, UpdatedAt: r.UpdatedAt.UTC()}
	for _, in := range r.Indicators.V {
		st.Indicators = append(st.Indicators, casework.VillageIndicator{Code: in.Code, NameZH: in.NameZH})
	}
	return st, nil
}

// SaveVillageExitStandard writes a year's criteria over expectedVersion (0: none stored yet).
func (s *Store) SaveVillageExitStandard(ctx context.Context, st casework.VillageExitStandard, expectedVersion int64, audit domain.AuditEntry) error {
	row := villageExitStandardRow{Year: st.Year, IncidencePermille: st.IncidencePermille, CollectiveIncomeFen: st.CollectiveIncomeFen,
		Indicators: jsonValue[[]villageIndicatorColumn]{V: []villageIndicatorColumn{}}, Version: st.Version, UpdatedAt: utc(st.UpdatedAt)}
	for _, in := range st.Indicators {
		row.Indicators.V = append(row.Indicators.V, villageIndicatorColumn{Code: in.Code, NameZH: in.NameZH})
	}
	return s.saveVersioned(ctx, "village exit standard", "出列标准", &row, expectedVersion, audit, "year = ?", st.Year)
}

// saveVersioned creates row when expectedVersion is 0, else replaces the
// row matched by where (with its arguments) at expectedVersion; either
// way a lost race is stale. The audit entry joins the transaction.
func (s *Store) saveVersioned(ctx context.Context, what, whatZH string, row any, expectedVersion int64, audit domain.AuditEntry, where string,
	whereArgs ...any) error {
	return s.inTx(ctx, what, func(tx *gorm.DB) error {
		if expectedVersion == 0 {
			if err := tx.Create(row).Error; err != nil {
				if domain.Reason(translate(err, what)) == "duplicate" {
					return domain.Stale(what, whatZH)
				}
				return err
			}
		} else {
			res := tx.Model(row).Where(where, whereArgs...).Where("version = ?", expectedVersion).Select("*").Updates(row)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				return domain.Stale(what, whatZH)
			}
		}
		return s.appendAudit(tx, audit)
	})
}

// VillageRecord reads a village's record of a year.
func (s *Store) VillageRecord(ctx context.Context, countyID, villageID uuid.UUID, year int) (casework.VillageRecord, error) {
	var r villageExitRecordRow
	if err := s.db.WithContext(ctx).Where("county_id = ? AND village_id = ? AND year = ?", countyID, villageID, year).Take(&r).Error; err != nil {
		return casework.VillageRecord{}, translate(err, "village record")
	}
	return r.record(), nil
}

// VillageRecordsOf reads the villages' records of a year, by village.
func (s *Store) VillageRecordsOf(ctx context.Context, villages []uuid.UUID, year int) (map[uuid.UUID]casework.VillageRecord, error) {
	out := map[uuid.UUID]casework.VillageRecord{}
	if len(villages) == 0 {
		return out, nil
	}
	var rows []villageExitRecordRow
	if err := s.db.WithContext(ctx).Where("village_id IN ? AND year = ?", villages, year).Find(&rows).Error; err != nil {
		return nil, translate(err, "village record")
	}
	for _, r := range rows {
		out[r.VillageID] = r.record()
	}
	return out, nil
}

// SaveVillageRecord writes a village's record of a year over expectedVersion.
func (s *Store) SaveVillageRecord(ctx context.Context, r casework.VillageRecord, expectedVersion int64, audit domain.AuditEntry) error {
	row := villageExitRecordRow{CountyID: r.CountyID, VillageID: r.VillageID, Year: r.Year, CollectiveIncomeFen: r.CollectiveIncomeFen,
		Indicators: jsonValue[map[string]bool]{V: r.Indicators}, Notes: r.Notes, Version: r.Version, UpdatedBy: r.UpdatedBy, UpdatedAt: utc(r.UpdatedAt)}
	return s.saveVersioned(ctx, "village record", "村出列指标", &row, expectedVersion, audit, "county_id = ? AND village_id = ? AND year = ?",
		r.CountyID, r.VillageID, r.Year)
}

// VillagePopulations counts, per village, the members of its households
// on the register (a household listing no members counts the size it
// declared), and of those the registered and relapsed ones.
func (s *Store) VillagePopulations(ctx context.Context, villages []uuid.UUID) (map[uuid.UUID]casework.Population, error) {
	out := map[uuid.UUID]casework.Population{}
	if len(villages) == 0 {
		return out, nil
	}
	var rows []struct {
		VillageID    uuid.UUID
		Status       string
		DeclaredSize *int
		Members      int
	}
	err := s.db.WithContext(ctx).Table("households h").
		Select("h.village_id, h.status, h.declared_size, (SELECT COUNT(*) FROM members m WHERE m.county_id = h.county_id AND m.household_id = h.id) AS members").
		Where("h.village_id IN ?", villages).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "household")
	}
	for _, r := range rows {
		n := r.Members
		if n == 0 && r.DeclaredSize != nil {
			n = *r.DeclaredSize
		}
		p := out[r.VillageID]
		p.All += n
		if r.Status == domain.StatusRegistered || r.Status == domain.StatusRelapsed {
			p.Poor += n
		}
		out[r.VillageID] = p
	}
	return out, nil
}

// VillageExits reads each village's latest exit.
func (s *Store) VillageExits(ctx context.Context, villages []uuid.UUID) (map[uuid.UUID]casework.VillageExit, error) {
	out := map[uuid.UUID]casework.VillageExit{}
	if len(villages) == 0 {
		return out, nil
	}
	var rows []villageExitRow
	if err := s.db.WithContext(ctx).Where("village_id IN ?", villages).Order("recorded_at").Find(&rows).Error; err != nil {
		return nil, translate(err, "village exit")
	}
	for _, r := range rows {
		out[r.VillageID] = casework.VillageExit{CountyID: r.CountyID, VillageID: r.VillageID, ProcedureID: r.ProcedureID, Year: r.Year,
			ExitedOn: r.ExitedOn.date(), RecordedBy: r.RecordedBy, RecordedAt: r.RecordedAt.UTC()}
	}
	return out, nil
}

// SaveVillageExit records a village's exit.
func (s *Store) SaveVillageExit(ctx context.Context, e casework.VillageExit, audit domain.AuditEntry) error {
	return s.inTx(ctx, "village exit", func(tx *gorm.DB) error {
		row := villageExitRow{CountyID: e.CountyID, VillageID: e.VillageID, ProcedureID: e.ProcedureID, Year: e.Year, ExitedOn: toSQLDate(e.ExitedOn),
			RecordedBy: e.RecordedBy, RecordedAt: utc(e.RecordedAt)}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		return s.appendAudit(tx, audit)
	})
}

func uuidOf(id *uuid.UUID) uuid.UUID {
	if id == nil {
		return uuid.Nil
	}
	return *id
}
