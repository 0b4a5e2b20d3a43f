package storage

import (
	"context"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/casework"
)

// ledgerPage is how many lines a casework ledger reads at a time: the
// file streams, and memory holds one page.
const ledgerPage = 1000

// IncomeLedger calls fn with the year's account of each household in scope
// under withinPath, by town, village, household number.
func (s *Store) IncomeLedger(ctx context.Context, scope domain.HouseholdScope, today domain.Date, withinPath string, year int,
	fn func(casework.IncomeLine) error) error {
	cond, args := scopeCondition("h", scope, today)
	for off := 0; ; off += ledgerPage {
		var rows []struct {
			ID                                                           uuid.UUID
			TownName, VillageName, Number, HeadName, PovertyType, Status string
		}
		err := s.db.WithContext(ctx).Table("income_accounts a").
			Select("a.id, t.name AS town_name, v.name AS village_name, h.number, h.head_name, h.poverty_type, h.status").
			Joins("JOIN households h ON h.county_id = a.county_id AND h.id = a.household_id").
			Joins("JOIN regions v ON v.id = h.village_id").
			Joins("LEFT JOIN regions t ON t.id = v.parent_id").
			Where("a.year = ?", year).Where(like("h.region_path"), likePrefix(withinPath)).Where(cond, args...).
			Order("t.code, v.code, h.number, h.id").Limit(ledgerPage).Offset(off).Scan(&rows).Error
		if err != nil {
			return translate(err, "income account")
		}
		ids := make([]uuid.UUID, len(rows))
		for i, r := range rows {
			ids[i] = r.ID
		}
		var accounts []incomeAccountRow
		if len(ids) > 0 {
			if err := s.db.WithContext(ctx).Where("id IN ?", ids).Find(&accounts).Error; err != nil {
				return translate(err, "income account")
			}
		}
		byID := make(map[uuid.UUID]incomeAccountRow, len(accounts))
		for _, a := range accounts {
			byID[a.ID] = a
		}
		for _, r := range rows {
			if err := fn(casework.IncomeLine{TownName: r.TownName, VillageName: r.VillageName, HouseholdNumber: r.Number, HeadName: r.HeadName,
				PovertyType: r.PovertyType, Status: r.Status, Account: byID[r.ID].account()}); err != nil {
				return err
			}
		}
		if len(rows) < ledgerPage {
			return nil
		}
	}
}

// ProcedureLedger calls fn with each procedure of kind filed under
// withinPath, with its steps: a household's by its town, village and
// number, a village's by the village, each subject's oldest first.
func (s *Store) ProcedureLedger(ctx context.Context, withinPath, kind string, fn func(casework.ProcedureLine) error) error {
	for off := 0; ; off += ledgerPage {
		var rows []struct {
			CountyID                                uuid.UUID
			ID                                      uuid.UUID
			TownName, VillageName, Number, HeadName string
		}
		err := s.db.WithContext(ctx).Table("casework_procedures p").
			Select("p.county_id, p.id, t.name AS town_name, v.name AS village_name, COALESCE(h.number, '') AS number, COALESCE(h.head_name, '') AS head_name").
			Joins("LEFT JOIN households h ON h.county_id = p.county_id AND h.id = p.household_id").
			Joins("JOIN regions v ON v.id = COALESCE(h.village_id, p.village_id)").
			Joins("LEFT JOIN regions t ON t.id = v.parent_id").
			Where("p.kind = ?", kind).Where(like("p.region_path"), likePrefix(withinPath)).
			Order("t.code, v.code, number, p.created_at, p.id").Limit(ledgerPage).Offset(off).Scan(&rows).Error
		if err != nil {
			return translate(err, "procedure")
		}
		for _, r := range rows {
			pr, err := s.procedure(ctx, s.db.WithContext(ctx).Where("county_id = ?", r.CountyID), "", r.ID)
			if err != nil {
				return err
			}
			if err := fn(casework.ProcedureLine{TownName: r.TownName, VillageName: r.VillageName, HouseholdNumber: r.Number, HeadName: r.HeadName,
				Procedure: pr}); err != nil {
				return err
			}
		}
		if len(rows) < ledgerPage {
			return nil
		}
	}
}
