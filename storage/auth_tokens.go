package storage

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/fieldvisit/fieldvisit/domain"
)

type refreshTokenRow struct {
	ID        uuid.UUID  `gorm:"column:id;primaryKey"`
	FamilyID  uuid.UUID  `gorm:"column:family_id"`
	ParentID  *uuid.UUID `gorm:"column:parent_id"`
	UserID    uuid.UUID  `gorm:"column:user_id"`
	DeviceID  string     `gorm:"column:device_id"`
	TokenHash string     `gorm:"column:token_hash"`
	CreatedAt time.Time  `gorm:"column:created_at"`
	ExpiresAt time.Time  `gorm:"column:expires_at"`
	UsedAt    *time.Time `gorm:"column:used_at"`
	RevokedAt *time.Time `gorm:"column:revoked_at"`
}

func (refreshTokenRow) TableName() string { return "refresh_tokens" }

func toRefreshToken(r refreshTokenRow) domain.RefreshToken {
	return domain.RefreshToken{ID: r.ID, FamilyID: r.FamilyID, ParentID: r.ParentID, UserID: r.UserID, DeviceID: r.DeviceID, TokenHash: r.TokenHash,
		CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(), UsedAt: r.UsedAt, RevokedAt: r.RevokedAt}
}

// SaveRefreshToken stores a new token (first of a family, at login).
func (s *Store) SaveRefreshToken(ctx context.Context, t domain.RefreshToken) error {
	row := refreshTokenRow{ID: t.ID, FamilyID: t.FamilyID, UserID: t.UserID, DeviceID: t.DeviceID, TokenHash: t.TokenHash,
		CreatedAt: utc(t.CreatedAt), ExpiresAt: utc(t.ExpiresAt)}
	return translate(s.db.WithContext(ctx).Create(&row).Error, "refresh token")
}

// RotateRefreshToken is the one place the refresh decision is made, under a
// row lock so two phones racing with the same token cannot both win. decide
// sees the presented token and its family's newest token and returns what to
// do; the whole decision and its writes commit together.
// Besides the newest token, decide learns how many tokens the presented
// one has already been replaced by: a second replacement is a grace retry
// already spent.
func (s *Store) RotateRefreshToken(ctx context.Context, hash string, decide func(presented, newest domain.RefreshToken, successors int) (domain.RotateDecision, error)) (domain.RotateDecision, error) {
	var out domain.RotateDecision
	err := s.inTx(ctx, "refresh token", func(tx *gorm.DB) error {
		var row refreshTokenRow
		q := tx
		if s.dialect == Postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		if err := q.Where("token_hash = ?", hash).Take(&row).Error; err != nil {
			if isNotFound(err) {
				return domain.Unauthorized("unknown refresh token")
			}
			return err
		}
		var newest refreshTokenRow
		if err := tx.Where("family_id = ?", row.FamilyID).Order("created_at DESC, id DESC").Take(&newest).Error; err != nil {
			return err
		}
		var successors int64
		if err := tx.Model(&refreshTokenRow{}).Where("family_id = ? AND parent_id = ?", row.FamilyID, row.ID).Count(&successors).Error; err != nil {
			return err
		}
		d, err := decide(toRefreshToken(row), toRefreshToken(newest), int(successors))
		if err != nil {
			return err
		}
		now := s.stamp()
		if d.RevokeFamily {
			if err := tx.Model(&refreshTokenRow{}).Where("family_id = ? AND revoked_at IS NULL", row.FamilyID).Update("revoked_at", now).Error; err != nil {
				return err
			}
			out = d
			return nil
		}
		if d.RevokeTokenID != nil {
			if err := tx.Model(&refreshTokenRow{}).Where("id = ? AND revoked_at IS NULL", *d.RevokeTokenID).Update("revoked_at", now).Error; err != nil {
				return err
			}
		}
		if row.UsedAt == nil {
			if err := tx.Model(&refreshTokenRow{}).Where("id = ?", row.ID).Update("used_at", now).Error; err != nil {
				return err
			}
		}
		if d.Next != nil {
			n := d.Next
			nr := refreshTokenRow{ID: n.ID, FamilyID: row.FamilyID, ParentID: &row.ID, UserID: row.UserID, DeviceID: row.DeviceID, TokenHash: n.TokenHash,
				CreatedAt: utc(n.CreatedAt), ExpiresAt: utc(n.ExpiresAt)}
			if err := tx.Create(&nr).Error; err != nil {
				return err
			}
		}
		out = d
		return nil
	})
	if err != nil {
		return domain.RotateDecision{}, err
	}
	if out.RevokeFamily && out.Err != nil {
		return out, out.Err
	}
	return out, nil
}

// RevokeRefreshFamily revokes the family of the token with this hash (logout).
func (s *Store) RevokeRefreshFamily(ctx context.Context, hash string) error {
	return s.inTx(ctx, "refresh token", func(tx *gorm.DB) error {
		var row refreshTokenRow
		if err := tx.Where("token_hash = ?", hash).Take(&row).Error; err != nil {
			if isNotFound(err) {
				return nil // logging out twice is fine
			}
			return err
		}
		return tx.Model(&refreshTokenRow{}).Where("family_id = ? AND revoked_at IS NULL", row.FamilyID).Update("revoked_at", s.stamp()).Error
	})
}
