package storage

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/casework"
	"github.com/fieldvisit/fieldvisit/sync"
)

type incomeAccountRow struct {
	CountyID       uuid.UUID  `gorm:"column:county_id;primaryKey"`
	ID             uuid.UUID  `gorm:"column:id;primaryKey"`
	HouseholdID    uuid.UUID  `gorm:"column:household_id"`
	Year           int        `gorm:"column:year"`
	WagesFen       int64      `gorm:"column:wages_fen"`
	BusinessFen    int64      `gorm:"column:business_fen"`
	TransfersFen   int64      `gorm:"column:transfers_fen"`
	PensionsFen    int64      `gorm:"column:pensions_fen"`
	PropertyFen    int64      `gorm:"column:property_fen"`
	CostsFen       int64      `gorm:"column:costs_fen"`
	MembersCounted int        `gorm:"column:members_counted"`
	Notes          string     `gorm:"column:notes"`
	Version        int64      `gorm:"column:version"`
	UpdatedBy      *uuid.UUID `gorm:"column:updated_by"`
	DeviceID       string     `gorm:"column:device_id"`
	CreatedAt      time.Time  `gorm:"column:created_at"`
	UpdatedAt      time.Time  `gorm:"column:updated_at"`
}

func (incomeAccountRow) TableName() string { return "income_accounts" }

func toIncomeAccountRow(a casework.IncomeAccount) incomeAccountRow {
	f := a.IncomeFields
	return incomeAccountRow{CountyID: a.CountyID, ID: a.ID, HouseholdID: a.HouseholdID, Year: a.Year, WagesFen: f.WagesFen, BusinessFen: f.BusinessFen,
		TransfersFen: f.TransfersFen, PensionsFen: f.PensionsFen, PropertyFen: f.PropertyFen, CostsFen: f.CostsFen, MembersCounted: f.MembersCounted,
		Notes: f.Notes, Version: a.Version, UpdatedBy: nilIfZero(a.UpdatedBy), DeviceID: a.DeviceID, CreatedAt: utc(a.CreatedAt), UpdatedAt: utc(a.UpdatedAt)}
}

func (r incomeAccountRow) account() casework.IncomeAccount {
	a := casework.IncomeAccount{ID: r.ID, CountyID: r.CountyID, HouseholdID: r.HouseholdID, Year: r.Year, IncomeFields: casework.IncomeFields{
		WagesFen: r.WagesFen, BusinessFen: r.BusinessFen, TransfersFen: r.TransfersFen, PensionsFen: r.PensionsFen, PropertyFen: r.PropertyFen,
		CostsFen: r.CostsFen, MembersCounted: r.MembersCounted, Notes: r.Notes}, Version: r.Version, DeviceID: r.DeviceID,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if r.UpdatedBy != nil {
		a.UpdatedBy = *r.UpdatedBy
	}
	return a
}

// IncomeAccounts lists a household's accounts, newest year first.
func (s *Store) IncomeAccounts(ctx context.Context, countyID, householdID uuid.UUID) ([]casework.IncomeAccount, error) {
	var rows []incomeAccountRow
	if err := s.db.WithContext(ctx).Where("county_id = ? AND household_id = ?", countyID, householdID).Order("year DESC").Find(&rows).Error; err != nil {
		return nil, translate(err, "income account")
	}
	out := make([]casework.IncomeAccount, len(rows))
	for i, r := range rows {
		out[i] = r.account()
	}
	return out, nil
}

// IncomeAccount reads (and, in a transaction, locks) a year's account and
// who wrote its stored version.
func (s *Store) IncomeAccount(ctx context.Context, countyID, householdID uuid.UUID, year int) (casework.IncomeAccount, *uuid.UUID, error) {
	var r incomeAccountRow
	err := s.locking(s.db.WithContext(ctx)).Where("county_id = ? AND household_id = ? AND year = ?", countyID, householdID, year).Take(&r).Error
	if err != nil {
		return casework.IncomeAccount{}, nil, translate(err, "income account")
	}
	return r.account(), r.UpdatedBy, nil
}

// IncomeAccountsOf reads the accounts of households for the years from..to.
func (s *Store) IncomeAccountsOf(ctx context.Context, households []uuid.UUID, from, to int) (map[uuid.UUID]map[int]casework.IncomeAccount, error) {
	out := map[uuid.UUID]map[int]casework.IncomeAccount{}
	if len(households) == 0 {
		return out, nil
	}
	var rows []incomeAccountRow
	if err := s.db.WithContext(ctx).Where("household_id IN ? AND year BETWEEN ? AND ?", households, from, to).Find(&rows).Error; err != nil {
		return nil, translate(err, "income account")
	}
	for _, r := range rows {
		if out[r.HouseholdID] == nil {
			out[r.HouseholdID] = map[int]casework.IncomeAccount{}
		}
		out[r.HouseholdID][r.Year] = r.account()
	}
	return out, nil
}

// SaveIncomeAccount creates an account (expectedVersion 0) or replaces the
// stored one at expectedVersion, with its audit entry.
func (s *Store) SaveIncomeAccount(ctx context.Context, a casework.IncomeAccount, expectedVersion int64, audit domain.AuditEntry) error {
	return s.inTx(ctx, "income account", func(tx *gorm.DB) error {
		row := toIncomeAccountRow(a)
		op := "update"
		if expectedVersion == 0 {
			op = "create"
			if err := tx.Create(&row).Error; err != nil {
				return err
			}
		} else {
			res := tx.Model(&incomeAccountRow{}).Where("county_id = ? AND id = ? AND version = ?", a.CountyID, a.ID, expectedVersion).
				Select("*").Omit("created_at").Updates(&row)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				return domain.Stale("income account", "收入测算")
			}
		}
		if err := s.appendChange(tx, incomeAccountChange(a, op)); err != nil {
			return err
		}
		return s.appendAudit(tx, audit)
	})
}

type exitStandardRow struct {
	Year           int                              `gorm:"column:year;primaryKey"`
	PerCapitaFen   int64                            `gorm:"column:per_capita_fen"`
	PovertyLineFen int64                            `gorm:"column:poverty_line_fen"`
	StableYears    int                              `gorm:"column:stable_years"`
	Indicators     jsonValue[[]exitIndicatorColumn] `gorm:"column:indicators"`
	Version        int64                            `gorm:"column:version"`
	UpdatedAt      time.Time                        `gorm:"column:updated_at"`
}

func (exitStandardRow) TableName() string { return "exit_standards" }

// exitIndicatorColumn is storage's own spelling of an indicator.
type exitIndicatorColumn struct {
	Code   string `json:"code"`
	NameZH string `json:"name_zh"`
	Check  string `json:"check"`
}

// ExitStandard reads a year's configured standard.
func (s *Store) ExitStandard(ctx context.Context, year int) (casework.ExitStandard, error) {
	var r exitStandardRow
	if err := s.db.WithContext(ctx).Where("year = ?", year).Take(&r).Error; err != nil {
		return casework.ExitStandard{}, translate(err, "exit standard")
	}
	st := casework.ExitStandard{Year: r.Year, PerCapitaFen: r.PerCapitaFen, PovertyLineFen: r.PovertyLineFen, StableYears: r.StableYears,
		Version: r.Version, UpdatedAt: r.UpdatedAt.UTC()}
	for _, in := range r.Indicators.V {
		st.Indicators = append(st.Indicators, casework.Indicator{Code: in.Code, NameZH: in.NameZH, Check: in.Check})
	}
	return st, nil
}

// SaveExitStandard writes a year's standard over expectedVersion (0: none stored yet).
func (s *Store) SaveExitStandard(ctx context.Context, st casework.ExitStandard, expectedVersion int64, audit domain.AuditEntry) error {
	return s.inTx(ctx, "exit standard", func(tx *gorm.DB) error {
		row := exitStandardRow{Year: st.Year, PerCapitaFen: st.PerCapitaFen, PovertyLineFen: st.PovertyLineFen, StableYears: st.StableYears,
			Version: st.Version, UpdatedAt: utc(st.UpdatedAt)}
		for _, in := range st.Indicators {
			row.Indicators.V = append(row.Indicators.V, exitIndicatorColumn{Code: in.Code, NameZH: in.NameZH, Check: in.Check})
		}
		if expectedVersion == 0 {
			if err := tx.Create(&row).Error; err != nil {
				if domain.Reason(translate(err, "exit standard")) == "duplicate" {
					return domain.Stale("exit standard", "脱贫标准")
				}
				return err
			}
		} else {
			res := tx.Model(&exitStandardRow{}).Where("year = ? AND version = ?", st.Year, expectedVersion).Select("*").Updates(&row)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				return domain.Stale("exit standard", "脱贫标准")
			}
		}
		return s.appendAudit(tx, audit)
	})
}

// LatestChecklist reads, per household and checklist item, the answer of
// the latest visit (not deleted) that answered it, among those reader r
// may see (visitShown).
func (s *Store) LatestChecklist(ctx context.Context, r domain.VisitReader, households []uuid.UUID) (map[uuid.UUID]map[string]casework.ChecklistAnswer, error) {
	out := map[uuid.UUID]map[string]casework.ChecklistAnswer{}
	if len(households) == 0 {
		return out, nil
	}
	var rows []struct {
		ID          uuid.UUID
		HouseholdID uuid.UUID
		StartedAt   time.Time
		Checklist   jsonValue[map[string]domain.ChecklistEntry]
	}
	if err := ofHouseholds(shownTo(s.db.WithContext(ctx).Table("visits"), "visits", r), "visits", households).Select("id, household_id, started_at, checklist").
		Where("deleted = ?", false).Order("started_at DESC").Scan(&rows).Error; err != nil {
		return nil, translate(err, "visit")
	}
	for _, r := range rows {
		m := out[r.HouseholdID]
		if m == nil {
			m = map[string]casework.ChecklistAnswer{}
			out[r.HouseholdID] = m
		}
		for item, e := range r.Checklist.V {
			if _, seen := m[item]; !seen {
				m[item] = casework.ChecklistAnswer{Answer: e.Answer, VisitID: r.ID, On: domain.DateOf(r.StartedAt)}
			}
		}
	}
	return out, nil
}

// incomeAccountColumns are the columns a pull scans natively.
var incomeAccountColumns = []string{"county_id", "id", "household_id", "year", "wages_fen", "business_fen", "transfers_fen", "pensions_fen",
	"property_fen", "costs_fen", "members_counted", "notes", "version", "updated_by", "device_id", "created_at", "updated_at"}

func (r *incomeAccountRow) fields() []any {
	return []any{&r.CountyID, &r.ID, &r.HouseholdID, &r.Year, &r.WagesFen, &r.BusinessFen, &r.TransfersFen, &r.PensionsFen,
		&r.PropertyFen, &r.CostsFen, &r.MembersCounted, &r.Notes, &r.Version, &r.UpdatedBy, &r.DeviceID, &r.CreatedAt, &r.UpdatedAt}
}

func incomeAccountChange(a domain.IncomeAccount, op string) feedEntry {
	hid := a.HouseholdID
	return feedEntry{CountyID: a.CountyID, Entity: "income_account", EntityID: a.ID, HouseholdID: &hid, Op: op, Version: a.Version}
}

// IncomeAccountsByID returns the accounts among ids, without scope (the
// feed judges it).
func (s *Store) IncomeAccountsByID(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]domain.IncomeAccount, error) {
	out := make(map[uuid.UUID]domain.IncomeAccount, len(ids))
	err := eachByID(ctx, s, "income account", "SELECT "+qualified("a", incomeAccountColumns)+" FROM income_accounts a WHERE a.id", nil, ids,
		(*incomeAccountRow).fields, func(r *incomeAccountRow) { out[r.ID] = r.account() })
	return out, err
}

// IncomeAccountsOfHouseholds returns the accounts of the households, by household.
func (s *Store) IncomeAccountsOfHouseholds(ctx context.Context, households []domain.Household) (map[uuid.UUID][]domain.IncomeAccount, error) {
	out := make(map[uuid.UUID][]domain.IncomeAccount, len(households))
	err := eachOfHouseholds(ctx, s, "income account", "SELECT "+qualified("a", incomeAccountColumns)+" FROM income_accounts a WHERE a.county_id = ? AND a.household_id", households,
		(*incomeAccountRow).fields, func(r *incomeAccountRow) { out[r.HouseholdID] = append(out[r.HouseholdID], r.account()) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// IncomeAccountsAfter hands each account of scope's households after the
// key to each, in (household, id) order, up to limit (a fresh phone's walk).
func (s *Store) IncomeAccountsAfter(ctx context.Context, scope domain.HouseholdScope, today domain.Date, after sync.ChildKey, limit int, each func(domain.IncomeAccount) error) error {
	w := scopeWalk(scope, today)
	aq, aargs := w.children("income_accounts", incomeAccountColumns, "", nil)
	q, args := w.childrenAfter(aq, aargs, after, limit)
	return eachRow(ctx, s, "income account", q, args, (*incomeAccountRow).fields,
		func(r *incomeAccountRow) error { return each(r.account()) })
}
