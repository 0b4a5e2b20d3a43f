package storage

import (
	"context"

	"gorm.io/gorm"

	"github.com/fieldvisit/fieldvisit/internal/compliance"
)

type visitLedgerScan struct {
	Visit       visitRow `gorm:"embedded"`
	TownName    string   `gorm:"column:town_name"`
	VillageName string   `gorm:"column:village_name"`
	HouseholdNo string   `gorm:"column:household_no"`
	HeadName    string   `gorm:"column:head_name"`
	PovertyType string   `gorm:"column:poverty_type"`
	Status      string   `gorm:"column:status"`
	CadreName   string   `gorm:"column:cadre_name"`
}

// VisitLedger streams the live visits of a region and date range in
// village, household and time order to fn, one row at a time, so a county's
// year of visits is never held in memory.
func (s *Store) VisitLedger(ctx context.Context, f compliance.VisitLedgerFilter, fn func(compliance.VisitLedgerRow) error) error {
	q := s.db.WithContext(ctx).Table("visits").
		Select("visits.*, t.name AS town_name, v.name AS village_name, h.number AS household_no, h.head_name, h.poverty_type, h.status, u.display_name AS cadre_name").
		Joins("JOIN households h ON h.county_id = visits.county_id AND h.id = visits.household_id").
		Joins("JOIN regions v ON v.id = h.village_id").
		Joins("LEFT JOIN regions t ON t.id = v.parent_id").
		Joins("JOIN users u ON u.id = visits.cadre_id").
		Where("visits.deleted = ? AND visits.started_at >= ? AND visits.started_at < ?", false, f.From.UTC(), f.To.UTC()).
		Where(like("h.region_path"), likePrefix(f.RegionPath))
	rows, err := s.ledgerVisits(q, f).Order("t.name, v.name, h.number, h.head_name, visits.started_at, visits.id").Rows()
	if err != nil {
		return translate(err, "visit")
	}
	defer rows.Close()
	for rows.Next() {
		var r visitLedgerScan
		if err := s.db.ScanRows(rows, &r); err != nil {
			return translate(err, "visit")
		}
		err := fn(compliance.VisitLedgerRow{Visit: toDomainVisit(r.Visit), TownName: r.TownName, VillageName: r.VillageName, HouseholdNo: r.HouseholdNo,
			HeadName: r.HeadName, PovertyType: r.PovertyType, Status: r.Status, CadreName: r.CadreName})
		if err != nil {
			return err
		}
	}
	return translate(rows.Err(), "visit")
}

// ledgerVisits narrows a query of visits joined to their households (h)
// by the filter's cadre, household fields and household scope.
func (s *Store) ledgerVisits(q *gorm.DB, f compliance.VisitLedgerFilter) *gorm.DB {
	if f.Households != nil {
		q = q.Where("h.id IN (?)", s.householdsIn(*f.Households, f.Today))
	}
	if f.CadreID != nil {
		q = q.Where("visits.cadre_id = ?", *f.CadreID)
	}
	if f.PovertyType != "" {
		q = q.Where("h.poverty_type = ?", f.PovertyType)
	}
	if f.HouseholdStatus != "" {
		q = q.Where("h.status = ?", f.HouseholdStatus)
	}
	return q
}
