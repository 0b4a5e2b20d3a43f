package storage

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fieldvisit/fieldvisit/domain"
)

type pairingRow struct {
	CountyID    uuid.UUID  `gorm:"column:county_id;primaryKey"`
	ID          uuid.UUID  `gorm:"column:id;primaryKey"`
	HouseholdID uuid.UUID  `gorm:"column:household_id"`
	CadreID     uuid.UUID  `gorm:"column:cadre_id"`
	StartOn     sqlDate    `gorm:"column:start_on"`
	EndOn       *sqlDate   `gorm:"column:end_on"`
	EndReason   string     `gorm:"column:end_reason"`
	CreatedBy   *uuid.UUID `gorm:"column:created_by"`
	CreatedAt   time.Time  `gorm:"column:created_at"`
}

func (pairingRow) TableName() string { return "pairings" }

func toPairingRow(p domain.Pairing) pairingRow {
	return pairingRow{CountyID: p.CountyID, ID: p.ID, HouseholdID: p.HouseholdID, CadreID: p.CadreID, StartOn: toSQLDate(p.StartOn),
		EndOn: toSQLDatePtr(p.EndOn), EndReason: p.EndReason, CreatedBy: nilIfZero(p.CreatedBy), CreatedAt: utc(p.CreatedAt)}
}

func toDomainPairing(r pairingRow) domain.Pairing {
	p := domain.Pairing{CountyID: r.CountyID, ID: r.ID, HouseholdID: r.HouseholdID, CadreID: r.CadreID, StartOn: r.StartOn.date(),
		EndOn: datePtr(r.EndOn), EndReason: r.EndReason, CreatedAt: r.CreatedAt.UTC()}
	if r.CreatedBy != nil {
		p.CreatedBy = *r.CreatedBy
	}
	return p
}

// Pairings lists pairings, newest first.
func (s *Store) Pairings(ctx context.Context, f domain.PairingFilter) ([]domain.Pairing, int64, error) {
	q := s.db.WithContext(ctx).Model(&pairingRow{}).
		Joins("JOIN households h ON h.county_id = pairings.county_id AND h.id = pairings.household_id").
		Where(like("h.region_path"), likePrefix(f.WithinPath))
	if f.HouseholdID != nil {
		q = q.Where("pairings.household_id = ?", *f.HouseholdID)
	}
	if f.CadreID != nil {
		q = q.Where("pairings.cadre_id = ?", *f.CadreID)
	}
	if f.ActiveOn != nil {
		d := toSQLDate(*f.ActiveOn)
		q = q.Where(pairingOpen("pairings"), d, d)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, translate(err, "pairing")
	}
	var rows []pairingRow
	if err := q.Select("pairings.*").Order("pairings.start_on DESC, pairings.id").Limit(f.Limit).Offset(f.Offset).Find(&rows).Error; err != nil {
		return nil, 0, translate(err, "pairing")
	}
	out := make([]domain.Pairing, len(rows))
	for i, r := range rows {
		out[i] = toDomainPairing(r)
	}
	return out, total, nil
}

// Pairing returns one pairing if its household lies in withinPath.
func (s *Store) Pairing(ctx context.Context, withinPath string, id uuid.UUID) (domain.Pairing, error) {
	var row pairingRow
	err := s.db.WithContext(ctx).Model(&pairingRow{}).
		Joins("JOIN households h ON h.county_id = pairings.county_id AND h.id = pairings.household_id").
		Where(like("h.region_path"), likePrefix(withinPath)).Where("pairings.id = ?", id).Select("pairings.*").Take(&row).Error
	return toDomainPairing(row), translate(err, "pairing")
}

// OpenPairings returns the household's pairings that have not ended.
func (s *Store) OpenPairings(ctx context.Context, countyID, householdID uuid.UUID) ([]domain.Pairing, error) {
	var rows []pairingRow
	if err := s.db.WithContext(ctx).Where("county_id = ? AND household_id = ? AND end_on IS NULL", countyID, householdID).
		Order("start_on").Find(&rows).Error; err != nil {
		return nil, translate(err, "pairing")
	}
	out := make([]domain.Pairing, len(rows))
	for i, r := range rows {
		out[i] = toDomainPairing(r)
	}
	return out, nil
}

// pairingRecordScan is a pairing with its cadre's name.
type pairingRecordScan struct {
	Pairing    pairingRow `gorm:"embedded"`
	CadreName  string     `gorm:"column:cadre_name"`
	CadrePhone string     `gorm:"column:cadre_phone"`
}

// PairingHistory returns every pairing of the household, ended ones too,
// oldest first, with the cadres' names and phones (empty for a removed account).
func (s *Store) PairingHistory(ctx context.Context, countyID, householdID uuid.UUID) ([]domain.PairingRecord, error) {
	var rows []pairingRecordScan
	if err := s.db.WithContext(ctx).Table("pairings").Select("pairings.*, u.display_name AS cadre_name, u.phone AS cadre_phone").
		Joins("LEFT JOIN users u ON u.id = pairings.cadre_id").
		Where("pairings.county_id = ? AND pairings.household_id = ?", countyID, householdID).
		Order("pairings.start_on, pairings.created_at, pairings.id").Scan(&rows).Error; err != nil {
		return nil, translate(err, "pairing")
	}
	out := make([]domain.PairingRecord, len(rows))
	for i, r := range rows {
		out[i] = domain.PairingRecord{Pairing: toDomainPairing(r.Pairing), CadreName: r.CadreName, CadrePhone: r.CadrePhone}
	}
	return out, nil
}

// Pair ends the pairings listed in end (on their EndOn, with a reason) and
// creates p, in one transaction: a re-pairing never leaves a household with
// no responsible cadre in between.
func (s *Store) Pair(ctx context.Context, p *domain.Pairing, end []domain.Pairing, audit domain.AuditEntry) error {
	return s.inTx(ctx, "pairing", func(tx *gorm.DB) error {
		for _, e := range end {
			res := tx.Model(&pairingRow{}).Where("county_id = ? AND id = ? AND end_on IS NULL", e.CountyID, e.ID).
				Updates(map[string]any{"end_on": toSQLDatePtr(e.EndOn), "end_reason": e.EndReason})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				return domain.Conflict("the pairing was already ended", "该结对关系已被解除")
			}
			if err := s.appendChange(tx, pairingChange(e, "update")); err != nil {
				return err
			}
		}
		if p != nil {
			row := toPairingRow(*p)
			if err := tx.Create(&row).Error; err != nil {
				return err
			}
			if err := s.appendChange(tx, pairingChange(*p, "create")); err != nil {
				return err
			}
		}
		// Who may count a visit changed: the households and cadres are
		// judged again from the earliest date the change touches.
		now := s.stamp()
		thisYear := domain.DateOf(now).Year
		var queue []complianceQueueRow
		touched := end
		if p != nil {
			touched = append(slices.Clone(end), *p)
		}
		for _, e := range touched {
			from := e.StartOn.Year
			if e.EndOn != nil {
				from = e.EndOn.Year
			}
			queue = append(queue, householdYears(e.CountyID, e.HouseholdID, from, thisYear, now)...)
			queue = append(queue, cadreYear(e.CountyID, e.CadreID, thisYear, now))
		}
		if err := enqueueCompliance(tx, s.importBatch(), queue); err != nil {
			return err
		}
		return s.appendAudit(tx, audit)
	})
}

// CadreLoad counts each cadre's open pairings, for the 321 quota check.
func (s *Store) CadreLoad(ctx context.Context, cadreID uuid.UUID, today domain.Date) (int64, error) {
	var n int64
	d := toSQLDate(today)
	err := s.db.WithContext(ctx).Model(&pairingRow{}).Where("cadre_id = ? AND "+pairingOpen(""), cadreID, d, d).Count(&n).Error
	return n, translate(err, "pairing")
}
