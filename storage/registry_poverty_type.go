package storage

import (
	"context"

	"gorm.io/gorm"

	"github.com/fieldvisit/fieldvisit/domain"
)

// ChangeHouseholdPovertyType records a poverty-type change on its own: the
// household's current type and version, the dated history row, the feed
// entry phones pull, the re-judging of the years it touches and the audit
// entry, in one transaction.
func (s *Store) ChangeHouseholdPovertyType(ctx context.Context, h domain.Household, expectedVersion int64, pc domain.PovertyTypeChange, audit domain.AuditEntry) error {
	return s.inTx(ctx, "household", func(tx *gorm.DB) error {
		res := tx.Model(&householdRow{}).Where("county_id = ? AND id = ? AND version = ?", h.CountyID, h.ID, expectedVersion).
			Updates(map[string]any{"poverty_type": pc.To, "version": gorm.Expr("version + 1"), "updated_at": s.stamp()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return domain.Stale("household", "农户信息")
		}
		row := toPovertyTypeChangeRow(pc)
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		h.Version = expectedVersion + 1
		return s.householdHistoryChanged(tx, h, pc.EffectiveOn.Year, audit)
	})
}
