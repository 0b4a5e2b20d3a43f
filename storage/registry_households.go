package storage

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/registry"
)

type householdRow struct {
	CountyID           uuid.UUID           `gorm:"column:county_id;primaryKey"`
	ID                 uuid.UUID           `gorm:"column:id;primaryKey"`
	RegionID           uuid.UUID           `gorm:"column:region_id"`
	VillageID          uuid.UUID           `gorm:"column:village_id"`
	RegionPath         string              `gorm:"column:region_path"`
	Number             string              `gorm:"column:number"`
	HeadName           string              `gorm:"column:head_name"`
	Address            string              `gorm:"column:address"`
	Phone              string              `gorm:"column:phone"`
	HomeLat            *float64            `gorm:"column:home_lat"`
	HomeLon            *float64            `gorm:"column:home_lon"`
	HousingStructure   string              `gorm:"column:housing_structure"`
	HousingSafetyGrade string              `gorm:"column:housing_safety_grade"`
	HousingArea        *float64            `gorm:"column:housing_area"`
	ArableLand         *float64            `gorm:"column:arable_land"`
	AnnualIncome       *float64            `gorm:"column:annual_income"`
	IncomeNotes        string              `gorm:"column:income_notes"`
	Causes             jsonValue[[]string] `gorm:"column:causes"`
	PovertyType        string              `gorm:"column:poverty_type"`
	Status             string              `gorm:"column:status"`
	ExitYear           *int                `gorm:"column:exit_year"`
	RegisteredYear     *int                `gorm:"column:registered_year"`
	DeclaredSize       *int                `gorm:"column:declared_size"`
	Version            int64               `gorm:"column:version"`
	CreatedAt          time.Time           `gorm:"column:created_at"`
	UpdatedAt          time.Time           `gorm:"column:updated_at"`
}

func (householdRow) TableName() string { return "households" }

func toDomainHousehold(r householdRow) domain.Household {
	h := domain.Household{ID: r.ID, CountyID: r.CountyID, RegionID: r.RegionID, VillageID: r.VillageID,
		HouseholdDetails: domain.HouseholdDetails{Number: r.Number, HeadName: r.HeadName, Address: r.Address, Phone: r.Phone,
			HousingStructure: r.HousingStructure, HousingSafetyGrade: r.HousingSafetyGrade, HousingArea: r.HousingArea,
			ArableLand: r.ArableLand, AnnualIncome: r.AnnualIncome, IncomeNotes: r.IncomeNotes, Causes: r.Causes.V},
		PovertyType: r.PovertyType,
		Status:      r.Status, ExitYear: r.ExitYear, RegisteredYear: r.RegisteredYear, DeclaredSize: r.DeclaredSize, Version: r.Version,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if r.HomeLat != nil && r.HomeLon != nil {
		h.Home = &domain.GeoPoint{Lat: *r.HomeLat, Lon: *r.HomeLon}
	}
	if h.Causes == nil {
		h.Causes = []string{}
	}
	return h
}

func toHouseholdRow(h domain.Household, regionPath string) householdRow {
	r := householdRow{CountyID: h.CountyID, ID: h.ID, RegionID: h.RegionID, VillageID: h.VillageID, RegionPath: regionPath,
		Number: h.Number, HeadName: h.HeadName, Address: h.Address, Phone: h.Phone, HousingStructure: h.HousingStructure,
		HousingSafetyGrade: h.HousingSafetyGrade, HousingArea: h.HousingArea, ArableLand: h.ArableLand,
		AnnualIncome: h.AnnualIncome, IncomeNotes: h.IncomeNotes, Causes: jsonValue[[]string]{h.Causes},
		PovertyType: h.PovertyType, Status: h.Status, ExitYear: h.ExitYear, RegisteredYear: h.RegisteredYear, DeclaredSize: h.DeclaredSize,
		Version: h.Version, CreatedAt: utc(h.CreatedAt), UpdatedAt: utc(h.UpdatedAt)}
	if r.Causes.V == nil {
		r.Causes.V = []string{}
	}
	if h.Home != nil {
		r.HomeLat, r.HomeLon = &h.Home.Lat, &h.Home.Lon
	}
	return r
}

type statusChangeRow struct {
	CountyID    uuid.UUID  `gorm:"column:county_id;primaryKey"`
	ID          uuid.UUID  `gorm:"column:id;primaryKey"`
	HouseholdID uuid.UUID  `gorm:"column:household_id"`
	FromStatus  string     `gorm:"column:from_status"`
	ToStatus    string     `gorm:"column:to_status"`
	ExitYear    *int       `gorm:"column:exit_year"`
	EffectiveOn sqlDate    `gorm:"column:effective_on"`
	Reason      string     `gorm:"column:reason"`
	Cause       string     `gorm:"column:cause"`
	ChangedBy   *uuid.UUID `gorm:"column:changed_by"`
	RecordedAt  time.Time  `gorm:"column:recorded_at"`
}

func (statusChangeRow) TableName() string { return "household_status_changes" }

type povertyTypeChangeRow struct {
	CountyID    uuid.UUID  `gorm:"column:county_id;primaryKey"`
	ID          uuid.UUID  `gorm:"column:id;primaryKey"`
	HouseholdID uuid.UUID  `gorm:"column:household_id"`
	FromType    string     `gorm:"column:from_type"`
	ToType      string     `gorm:"column:to_type"`
	EffectiveOn sqlDate    `gorm:"column:effective_on"`
	Reason      string     `gorm:"column:reason"`
	ChangedBy   *uuid.UUID `gorm:"column:changed_by"`
	RecordedAt  time.Time  `gorm:"column:recorded_at"`
}

func (povertyTypeChangeRow) TableName() string { return "household_poverty_type_changes" }

func nilIfZero(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}

func toStatusChangeRow(c domain.StatusChange) statusChangeRow {
	return statusChangeRow{CountyID: c.CountyID, ID: c.ID, HouseholdID: c.HouseholdID, FromStatus: c.From, ToStatus: c.To,
		ExitYear: c.ExitYear, EffectiveOn: toSQLDate(c.EffectiveOn), Reason: c.Reason, Cause: c.Cause, ChangedBy: nilIfZero(c.ChangedBy), RecordedAt: utc(c.RecordedAt)}
}

func toPovertyTypeChangeRow(c domain.PovertyTypeChange) povertyTypeChangeRow {
	return povertyTypeChangeRow{CountyID: c.CountyID, ID: c.ID, HouseholdID: c.HouseholdID, FromType: c.From, ToType: c.To,
		EffectiveOn: toSQLDate(c.EffectiveOn), Reason: c.Reason, ChangedBy: nilIfZero(c.ChangedBy), RecordedAt: utc(c.RecordedAt)}
}

// Households lists the households the filter selects, by village and head name.
func (s *Store) Households(ctx context.Context, f domain.HouseholdFilter) ([]domain.Household, int64, error) {
	q := scopeHouseholds(s.db.WithContext(ctx).Model(&householdRow{}), f.Scope, f.Today)
	if f.WithinPath != "" {
		q = q.Where(like("households.region_path"), likePrefix(f.WithinPath))
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.PovertyType != "" {
		q = q.Where("poverty_type = ?", f.PovertyType)
	}
	if f.CadreID != nil {
		q = q.Where(pairedWith("households"), *f.CadreID, toSQLDate(f.Today), toSQLDate(f.Today))
	}
	if f.Unpaired {
		q = q.Where(unpairedNow, toSQLDate(f.Today), toSQLDate(f.Today))
	}
	if f.Query != "" {
		q = q.Where("("+like("head_name")+" OR "+like("number")+")", likeContains(f.Query), likeContains(f.Query))
	}
	if f.Among != nil {
		if len(f.Among) == 0 {
			return []domain.Household{}, 0, nil
		}
		q = q.Where("households.id IN ?", f.Among)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, translate(err, "household")
	}
	var rows []householdRow
	if err := q.Order("region_path, head_name, id").Limit(f.Limit).Offset(f.Offset).Find(&rows).Error; err != nil {
		return nil, 0, translate(err, "household")
	}
	out := make([]domain.Household, len(rows))
	for i, r := range rows {
		out[i] = toDomainHousehold(r)
	}
	return out, total, nil
}

// Household returns one household if scope allows it; otherwise not found.
func (s *Store) Household(ctx context.Context, scope domain.HouseholdScope, today domain.Date, id uuid.UUID) (domain.Household, error) {
	var row householdRow
	err := scopeHouseholds(s.db.WithContext(ctx).Model(&householdRow{}), scope, today).Where("id = ?", id).Take(&row).Error
	return toDomainHousehold(row), translate(err, "household")
}

// HouseholdByNumber finds a household of a county by its 户编号.
func (s *Store) HouseholdByNumber(ctx context.Context, countyID uuid.UUID, number string) (domain.Household, error) {
	var row householdRow
	err := s.db.WithContext(ctx).Where("county_id = ? AND number = ? AND number <> ''", countyID, number).Take(&row).Error
	return toDomainHousehold(row), translate(err, "household")
}

// CreateHousehold writes a household with its members and first history
// entries in one transaction.
func (s *Store) CreateHousehold(ctx context.Context, n registry.HouseholdRegistration) error {
	return s.inTx(ctx, "household", func(tx *gorm.DB) error { return s.createHousehold(tx, n) })
}

func (s *Store) createHousehold(tx *gorm.DB, n registry.HouseholdRegistration) error {
	row := toHouseholdRow(n.Household, n.RegionPath)
	if err := tx.Create(&row).Error; err != nil {
		return err
	}
	for _, m := range n.Members {
		mr := toMemberRow(m)
		if err := tx.Create(&mr).Error; err != nil {
			return err
		}
		if err := s.appendChange(tx, memberChange(m, "create")); err != nil {
			return err
		}
	}
	if err := s.appendChange(tx, householdChange(n.Household, "create")); err != nil {
		return err
	}
	sc := toStatusChangeRow(n.Status)
	if err := tx.Create(&sc).Error; err != nil {
		return err
	}
	if n.PovertyType != nil {
		pc := toPovertyTypeChangeRow(*n.PovertyType)
		if err := tx.Create(&pc).Error; err != nil {
			return err
		}
	}
	return s.appendAudit(tx, n.Audit)
}

// UpdateHousehold saves edited file fields if the stored version is still
// expectedVersion (optimistic locking), bumping the version.
func (s *Store) UpdateHousehold(ctx context.Context, h domain.Household, expectedVersion int64, audit domain.AuditEntry) (domain.Household, error) {
	var out domain.Household
	err := s.inTx(ctx, "household", func(tx *gorm.DB) error {
		row := toHouseholdRow(h, "")
		var was householdRow
		if err := tx.Select("head_name").Where("county_id = ? AND id = ?", h.CountyID, h.ID).Take(&was).Error; err != nil {
			return err
		}
		res := tx.Model(&householdRow{}).Where("county_id = ? AND id = ? AND version = ?", h.CountyID, h.ID, expectedVersion).
			Updates(map[string]any{
				"number": row.Number, "head_name": row.HeadName, "address": row.Address, "phone": row.Phone,
				"home_lat": row.HomeLat, "home_lon": row.HomeLon, "housing_structure": row.HousingStructure,
				"housing_safety_grade": row.HousingSafetyGrade, "housing_area": row.HousingArea, "arable_land": row.ArableLand,
				"annual_income": row.AnnualIncome, "income_notes": row.IncomeNotes, "causes": row.Causes,
				"version": gorm.Expr("version + 1"), "updated_at": s.stamp(),
			})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return domain.Stale("household", "农户信息")
		}
		var fresh householdRow
		if err := tx.Where("county_id = ? AND id = ?", h.CountyID, h.ID).Take(&fresh).Error; err != nil {
			return err
		}
		out = toDomainHousehold(fresh)
		if err := s.appendChange(tx, householdChange(out, "update")); err != nil {
			return err
		}
		if fresh.HeadName != was.HeadName {
			if err := s.renameHeadMember(tx, out.CountyID, out.ID, fresh.HeadName); err != nil {
				return err
			}
		}
		return s.appendAudit(tx, audit)
	})
	return out, err
}

// The household's 户主姓名 and its head member's name are one fact kept in
// two places (the register's sheets carry both, and the importer checks
// they agree): renaming either renames the other, in the same
// transaction, as a change of its own in the feed. A register export of a
// household renamed on one side only did not re-import.

// renameHeadMember gives the household's head member (relation head) the
// name its 户主姓名 was changed to.
func (s *Store) renameHeadMember(tx *gorm.DB, countyID, householdID uuid.UUID, name string) error {
	var heads []memberRow
	if err := tx.Where("county_id = ? AND household_id = ? AND relation = ? AND name <> ?", countyID, householdID, domain.RelationHead, name).
		Find(&heads).Error; err != nil {
		return err
	}
	for _, m := range heads {
		if err := tx.Model(&memberRow{}).Where("county_id = ? AND id = ?", countyID, m.ID).
			Updates(map[string]any{"name": name, "version": gorm.Expr("version + 1"), "updated_at": s.stamp()}).Error; err != nil {
			return err
		}
		m.Name, m.Version = name, m.Version+1
		if err := s.appendChange(tx, memberChange(toDomainMember(m), "update")); err != nil {
			return err
		}
	}
	return nil
}

// renameHousehold gives the household the 户主姓名 its head member was
// renamed to.
func (s *Store) renameHousehold(tx *gorm.DB, countyID, householdID uuid.UUID, headName string) error {
	res := tx.Model(&householdRow{}).Where("county_id = ? AND id = ? AND head_name <> ?", countyID, householdID, headName).
		Updates(map[string]any{"head_name": headName, "version": gorm.Expr("version + 1"), "updated_at": s.stamp()})
	if res.Error != nil || res.RowsAffected == 0 {
		return res.Error
	}
	var fresh householdRow
	if err := tx.Where("county_id = ? AND id = ?", countyID, householdID).Take(&fresh).Error; err != nil {
		return err
	}
	return s.appendChange(tx, householdChange(toDomainHousehold(fresh), "update"))
}

// ChangeHouseholdStatus records a status (and optionally poverty type) change
// and updates the household's current values, in one transaction.
func (s *Store) ChangeHouseholdStatus(ctx context.Context, h domain.Household, expectedVersion int64, sc domain.StatusChange, pc *domain.PovertyTypeChange, audit domain.AuditEntry) error {
	return s.inTx(ctx, "household", func(tx *gorm.DB) error {
		updates := map[string]any{"status": sc.To, "exit_year": sc.ExitYear, "version": gorm.Expr("version + 1"), "updated_at": s.stamp()}
		if sc.To == domain.StatusRegistered && h.RegisteredYear == nil {
			y := sc.EffectiveOn.Year
			updates["registered_year"] = y
		}
		if pc != nil {
			updates["poverty_type"] = pc.To
		}
		res := tx.Model(&householdRow{}).Where("county_id = ? AND id = ? AND version = ?", h.CountyID, h.ID, expectedVersion).Updates(updates)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return domain.Stale("household", "农户信息")
		}
		row := toStatusChangeRow(sc)
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		if pc != nil {
			prow := toPovertyTypeChangeRow(*pc)
			if err := tx.Create(&prow).Error; err != nil {
				return err
			}
		}
		h.Version = expectedVersion + 1
		return s.householdHistoryChanged(tx, h, sc.EffectiveOn.Year, audit)
	})
}

// householdHistoryChanged follows a dated change of a household's status
// or poverty type: the feed row phones pull, the re-judging of every year
// from the change's, and the audit entry.
func (s *Store) householdHistoryChanged(tx *gorm.DB, h domain.Household, fromYear int, audit domain.AuditEntry) error {
	if err := s.appendChange(tx, householdChange(h, "update")); err != nil {
		return err
	}
	now := s.stamp()
	if err := enqueueCompliance(tx, s.importBatch(), householdYears(h.CountyID, h.ID, fromYear, domain.DateOf(now).Year, now)); err != nil {
		return err
	}
	return s.appendAudit(tx, audit)
}

// StatusHistory returns a household's status changes, oldest first.
func (s *Store) StatusHistory(ctx context.Context, countyID, householdID uuid.UUID) ([]domain.StatusChange, []domain.PovertyTypeChange, error) {
	var srows []statusChangeRow
	if err := s.db.WithContext(ctx).Where("county_id = ? AND household_id = ?", countyID, householdID).Order("effective_on, recorded_at").Find(&srows).Error; err != nil {
		return nil, nil, translate(err, "household")
	}
	var prows []povertyTypeChangeRow
	if err := s.db.WithContext(ctx).Where("county_id = ? AND household_id = ?", countyID, householdID).Order("effective_on, recorded_at").Find(&prows).Error; err != nil {
		return nil, nil, translate(err, "household")
	}
	sc := make([]domain.StatusChange, len(srows))
	for i, r := range srows {
		sc[i] = domain.StatusChange{ID: r.ID, HouseholdID: r.HouseholdID, CountyID: r.CountyID, From: r.FromStatus, To: r.ToStatus,
			ExitYear: r.ExitYear, EffectiveOn: r.EffectiveOn.date(), Reason: r.Reason, Cause: r.Cause, RecordedAt: r.RecordedAt.UTC()}
		if r.ChangedBy != nil {
			sc[i].ChangedBy = *r.ChangedBy
		}
	}
	pc := make([]domain.PovertyTypeChange, len(prows))
	for i, r := range prows {
		pc[i] = domain.PovertyTypeChange{ID: r.ID, HouseholdID: r.HouseholdID, CountyID: r.CountyID, From: r.FromType, To: r.ToType,
			EffectiveOn: r.EffectiveOn.date(), Reason: r.Reason, RecordedAt: r.RecordedAt.UTC()}
		if r.ChangedBy != nil {
			pc[i].ChangedBy = *r.ChangedBy
		}
	}
	return sc, pc, nil
}
