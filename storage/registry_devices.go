package storage

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/fieldvisit/fieldvisit/domain"
)

type deviceRow struct {
	ID        uuid.UUID  `gorm:"column:id;primaryKey"`
	UserID    uuid.UUID  `gorm:"column:user_id"`
	DeviceID  string     `gorm:"column:device_id"`
	Name      string     `gorm:"column:name"`
	FirstSeen time.Time  `gorm:"column:first_seen"`
	LastSeen  time.Time  `gorm:"column:last_seen"`
	RevokedAt *time.Time `gorm:"column:revoked_at"`
}

func (deviceRow) TableName() string { return "devices" }

func toDomainDevice(r deviceRow) domain.Device {
	return domain.Device{ID: r.ID, UserID: r.UserID, DeviceID: r.DeviceID, Name: r.Name, FirstSeen: r.FirstSeen.UTC(), LastSeen: r.LastSeen.UTC(), RevokedAt: r.RevokedAt}
}

// TouchDevice registers a user's phone on first login and updates last_seen
// afterwards; it returns the device so a revoked one can be refused.
func (s *Store) TouchDevice(ctx context.Context, userID uuid.UUID, deviceID string, now time.Time) (domain.Device, error) {
	var out deviceRow
	err := s.inTx(ctx, "device", func(tx *gorm.DB) error {
		row := deviceRow{ID: uuid.New(), UserID: userID, DeviceID: deviceID, FirstSeen: now.UTC(), LastSeen: now.UTC()}
		if err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "user_id"}, {Name: "device_id"}},
			DoUpdates: clause.Assignments(map[string]any{"last_seen": now.UTC()})}).Create(&row).Error; err != nil {
			return err
		}
		return tx.Where("user_id = ? AND device_id = ?", userID, deviceID).Take(&out).Error
	})
	return toDomainDevice(out), err
}

// DeviceInUse reports whether deviceID is one of the user's phones (it
// signed in once) and not revoked.
func (s *Store) DeviceInUse(ctx context.Context, userID uuid.UUID, deviceID string) (bool, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&deviceRow{}).Where("user_id = ? AND device_id = ? AND revoked_at IS NULL", userID, deviceID).Count(&n).Error
	return n > 0, translate(err, "device")
}

// Devices lists a user's devices.
func (s *Store) Devices(ctx context.Context, userID uuid.UUID) ([]domain.Device, error) {
	var rows []deviceRow
	if err := s.db.WithContext(ctx).Where("user_id = ?", userID).Order("last_seen DESC").Find(&rows).Error; err != nil {
		return nil, translate(err, "device")
	}
	out := make([]domain.Device, len(rows))
	for i, r := range rows {
		out[i] = toDomainDevice(r)
	}
	return out, nil
}

// Device returns one device of a user.
func (s *Store) Device(ctx context.Context, userID, id uuid.UUID) (domain.Device, error) {
	var row deviceRow
	err := s.db.WithContext(ctx).Where("user_id = ? AND id = ?", userID, id).Take(&row).Error
	return toDomainDevice(row), translate(err, "device")
}

// RevokeDevice marks a phone lost or retired and revokes its refresh tokens.
func (s *Store) RevokeDevice(ctx context.Context, userID, id uuid.UUID, audit domain.AuditEntry) error {
	return s.inTx(ctx, "device", func(tx *gorm.DB) error {
		var row deviceRow
		if err := tx.Where("user_id = ? AND id = ?", userID, id).Take(&row).Error; err != nil {
			return err
		}
		now := s.stamp()
		if err := tx.Model(&deviceRow{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", now).Error; err != nil {
			return err
		}
		if err := tx.Model(&refreshTokenRow{}).Where("user_id = ? AND device_id = ? AND revoked_at IS NULL", userID, row.DeviceID).
			Update("revoked_at", now).Error; err != nil {
			return err
		}
		return s.appendAudit(tx, audit)
	})
}
