package storage

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/sync"
)

type idempotencyRow struct {
	UserID        uuid.UUID `gorm:"column:user_id;primaryKey"`
	Key           string    `gorm:"column:key;primaryKey"`
	RequestSHA256 string    `gorm:"column:request_sha256"`
	StatusCode    int       `gorm:"column:status_code"`
	Response      []byte    `gorm:"column:response"`
	CreatedAt     time.Time `gorm:"column:created_at"`
	ExpiresAt     time.Time `gorm:"column:expires_at"`
}

func (idempotencyRow) TableName() string { return "idempotency_keys" }

// ClaimIdempotencyKey inserts the key in the current transaction. It returns
// false when the key is already taken; on PostgreSQL a concurrent claimer's
// insert waits here until the first transaction commits or rolls back, so
// duplicates of an in-flight batch wait for its answer.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, userID uuid.UUID, key, requestSHA256 string, now time.Time, keep time.Duration) (bool, error) {
	row := idempotencyRow{UserID: userID, Key: key, RequestSHA256: requestSHA256, Response: []byte{}, CreatedAt: now.UTC(), ExpiresAt: now.Add(keep).UTC()}
	res := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
	if res.Error != nil {
		return false, translate(res.Error, "idempotency key")
	}
	return res.RowsAffected == 1, nil
}

// StoredResponse returns what was answered for a key.
func (s *Store) StoredResponse(ctx context.Context, userID uuid.UUID, key string) (requestSHA256 string, status int, body []byte, err error) {
	var row idempotencyRow
	err = s.db.WithContext(ctx).Where("user_id = ? AND key = ?", userID, key).Take(&row).Error
	return row.RequestSHA256, row.StatusCode, row.Response, translate(err, "idempotency key")
}

// SaveResponse records the answer for a claimed key in the same transaction
// as the batch's effects.
func (s *Store) SaveResponse(ctx context.Context, userID uuid.UUID, key string, status int, body []byte) error {
	return translate(s.db.WithContext(ctx).Model(&idempotencyRow{}).Where("user_id = ? AND key = ?", userID, key).
		Updates(map[string]any{"status_code": status, "response": body}).Error, "idempotency key")
}

// DeleteExpiredKeys removes idempotency keys past their expiry (kept ≥ 90 days).
func (s *Store) DeleteExpiredKeys(ctx context.Context, now time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Where("expires_at < ?", now.UTC()).Delete(&idempotencyRow{})
	return res.RowsAffected, translate(res.Error, "idempotency key")
}

type conflictRow struct {
	CountyID    uuid.UUID  `gorm:"column:county_id;primaryKey"`
	ID          uuid.UUID  `gorm:"column:id;primaryKey"`
	Entity      string     `gorm:"column:entity"`
	EntityID    uuid.UUID  `gorm:"column:entity_id"`
	HouseholdID uuid.UUID  `gorm:"column:household_id"`
	Field       string     `gorm:"column:field"`
	BaseValue   *string    `gorm:"column:base_value"`
	LostValue   *string    `gorm:"column:lost_value"`
	WonValue    *string    `gorm:"column:won_value"`
	LostVersion int64      `gorm:"column:lost_version"`
	WonVersion  int64      `gorm:"column:won_version"`
	LostBy      *uuid.UUID `gorm:"column:lost_by"`
	WonBy       *uuid.UUID `gorm:"column:won_by"`
	WonDevice   string     `gorm:"column:won_device"`
	CreatedAt   time.Time  `gorm:"column:created_at"`
	ResolvedAt  *time.Time `gorm:"column:resolved_at"`
	ResolvedBy  *uuid.UUID `gorm:"column:resolved_by"`
	Resolution  string     `gorm:"column:resolution"`
}

func (conflictRow) TableName() string { return "conflicts" }

func rawPtr(r json.RawMessage) *string {
	if r == nil {
		return nil
	}
	s := string(r)
	return &s
}

func ptrRaw(s *string) json.RawMessage {
	if s == nil {
		return nil
	}
	return json.RawMessage(*s)
}

// InsertConflicts records losing values.
func (s *Store) InsertConflicts(ctx context.Context, cs []sync.Conflict) error {
	if len(cs) == 0 {
		return nil
	}
	rows := make([]conflictRow, len(cs))
	for i, c := range cs {
		rows[i] = toConflictRow(c)
	}
	return translate(s.db.WithContext(ctx).Create(&rows).Error, "conflict")
}

// toConflictRow is a new conflict's row: resolving it is ResolveConflict's.
func toConflictRow(c sync.Conflict) conflictRow {
	return conflictRow{CountyID: c.CountyID, ID: c.ID, Entity: c.Entity, EntityID: c.EntityID, HouseholdID: c.HouseholdID, Field: c.Field,
		BaseValue: rawPtr(c.BaseValue), LostValue: rawPtr(c.LostValue), WonValue: rawPtr(c.WonValue), LostVersion: c.LostVersion,
		WonVersion: c.WonVersion, LostBy: c.LostBy, WonBy: c.WonBy, WonDevice: c.WonDevice, CreatedAt: c.CreatedAt.UTC()}
}

func toSyncConflict(r conflictRow) sync.Conflict {
	return sync.Conflict{ID: r.ID, CountyID: r.CountyID, Entity: r.Entity, EntityID: r.EntityID, HouseholdID: r.HouseholdID, Field: r.Field,
		BaseValue: ptrRaw(r.BaseValue), LostValue: ptrRaw(r.LostValue), WonValue: ptrRaw(r.WonValue), LostVersion: r.LostVersion,
		WonVersion: r.WonVersion, LostBy: r.LostBy, WonBy: r.WonBy, WonDevice: r.WonDevice, CreatedAt: r.CreatedAt.UTC(),
		ResolvedAt: r.ResolvedAt, ResolvedBy: r.ResolvedBy, Resolution: r.Resolution}
}

// Conflicts lists conflicts whose household lies in the subtree, newest first.
func (s *Store) Conflicts(ctx context.Context, f sync.ConflictFilter) ([]sync.Conflict, int64, error) {
	q := s.db.WithContext(ctx).Model(&conflictRow{}).
		Joins("JOIN households h ON h.county_id = conflicts.county_id AND h.id = conflicts.household_id").
		Where(like("h.region_path"), likePrefix(f.WithinPath))
	if f.Open != nil {
		if *f.Open {
			q = q.Where("conflicts.resolved_at IS NULL")
		} else {
			q = q.Where("conflicts.resolved_at IS NOT NULL")
		}
	}
	if f.HouseholdID != nil {
		q = q.Where("conflicts.household_id = ?", *f.HouseholdID)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, translate(err, "conflict")
	}
	var rows []conflictRow
	if err := q.Select("conflicts.*").Order("conflicts.created_at DESC, conflicts.id").Limit(f.Limit).Offset(f.Offset).Find(&rows).Error; err != nil {
		return nil, 0, translate(err, "conflict")
	}
	out := make([]sync.Conflict, len(rows))
	for i, r := range rows {
		out[i] = toSyncConflict(r)
	}
	return out, total, nil
}

// ConflictInScope returns one conflict whose household lies in the subtree.
func (s *Store) ConflictInScope(ctx context.Context, withinPath string, id uuid.UUID) (sync.Conflict, error) {
	var row conflictRow
	err := s.locking(s.db.WithContext(ctx).Model(&conflictRow{}).
		Joins("JOIN households h ON h.county_id = conflicts.county_id AND h.id = conflicts.household_id").
		Where(like("h.region_path"), likePrefix(withinPath)).Where("conflicts.id = ?", id).Select("conflicts.*")).Take(&row).Error
	return toSyncConflict(row), translate(err, "conflict")
}

// ResolveConflict marks a conflict resolved.
func (s *Store) ResolveConflict(ctx context.Context, c sync.Conflict, by uuid.UUID, resolution string, now time.Time) error {
	res := s.db.WithContext(ctx).Model(&conflictRow{}).Where("county_id = ? AND id = ? AND resolved_at IS NULL", c.CountyID, c.ID).
		Updates(map[string]any{"resolved_at": now.UTC(), "resolved_by": by, "resolution": resolution})
	if res.Error != nil {
		return translate(res.Error, "conflict")
	}
	if res.RowsAffected == 0 {
		return domain.Conflict("the conflict was already resolved", "该冲突已处理")
	}
	return nil
}

// HouseholdForUpdate loads a household in scope, locking it.
func (s *Store) HouseholdForUpdate(ctx context.Context, scope domain.HouseholdScope, today domain.Date, id uuid.UUID) (domain.Household, *uuid.UUID, error) {
	var row householdRow
	err := s.locking(scopeHouseholds(s.db.WithContext(ctx).Model(&householdRow{}), scope, today).Where("id = ?", id)).Take(&row).Error
	if err != nil {
		return domain.Household{}, nil, translate(err, "household")
	}
	var by struct{ UpdatedBy *uuid.UUID }
	if err := s.db.WithContext(ctx).Model(&householdRow{}).Select("updated_by").Where("county_id = ? AND id = ?", row.CountyID, row.ID).Take(&by).Error; err != nil {
		return domain.Household{}, nil, translate(err, "household")
	}
	return toDomainHousehold(row), by.UpdatedBy, nil
}

// SaveHouseholdDetails writes a household's details at a new version on
// behalf of by (a sync push or a conflict resolution) with its feed row.
func (s *Store) SaveHouseholdDetails(ctx context.Context, h domain.Household, expectedVersion int64, by uuid.UUID) error {
	return s.inTx(ctx, "household", func(tx *gorm.DB) error {
		row := toHouseholdRow(h, "")
		res := tx.Model(&householdRow{}).Where("county_id = ? AND id = ? AND version = ?", h.CountyID, h.ID, expectedVersion).
			Updates(map[string]any{"address": row.Address, "phone": row.Phone, "home_lat": row.HomeLat, "home_lon": row.HomeLon,
				"housing_structure": row.HousingStructure, "housing_safety_grade": row.HousingSafetyGrade, "housing_area": row.HousingArea,
				"arable_land": row.ArableLand, "annual_income": row.AnnualIncome, "income_notes": row.IncomeNotes, "causes": row.Causes,
				"version": h.Version, "updated_at": h.UpdatedAt.UTC(), "updated_by": by})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return domain.Stale("household", "农户信息")
		}
		return s.appendChange(tx, householdChange(h, "update"))
	})
}

func householdChange(h domain.Household, op string) feedEntry {
	hid := h.ID
	return feedEntry{CountyID: h.CountyID, Entity: "household", EntityID: h.ID, HouseholdID: &hid, Op: op, Version: h.Version}
}

func memberChange(m domain.Member, op string) feedEntry {
	hid := m.HouseholdID
	return feedEntry{CountyID: m.CountyID, Entity: "member", EntityID: m.ID, HouseholdID: &hid, Op: op, Version: m.Version}
}

func pairingChange(p domain.Pairing, op string) feedEntry {
	hid, cid := p.HouseholdID, p.CadreID
	return feedEntry{CountyID: p.CountyID, Entity: "pairing", EntityID: p.ID, HouseholdID: &hid, CadreID: &cid, Op: op, Version: 1}
}

// MemberForUpdate loads a member, locking it.
func (s *Store) MemberForUpdate(ctx context.Context, countyID, householdID, id uuid.UUID) (domain.Member, *uuid.UUID, error) {
	var row memberRow
	err := s.locking(s.db.WithContext(ctx)).Where("county_id = ? AND household_id = ? AND id = ?", countyID, householdID, id).Take(&row).Error
	if err != nil {
		return domain.Member{}, nil, translate(err, "member")
	}
	var by struct{ UpdatedBy *uuid.UUID }
	if err := s.db.WithContext(ctx).Model(&memberRow{}).Select("updated_by").Where("county_id = ? AND id = ?", countyID, id).Take(&by).Error; err != nil {
		return domain.Member{}, nil, translate(err, "member")
	}
	return toDomainMember(row), by.UpdatedBy, nil
}

// SaveMemberDetails writes a member at a new version with its feed row.
func (s *Store) SaveMemberDetails(ctx context.Context, m domain.Member, expectedVersion int64, by uuid.UUID) error {
	return s.inTx(ctx, "member", func(tx *gorm.DB) error {
		res := tx.Model(&memberRow{}).Where("county_id = ? AND id = ? AND version = ?", m.CountyID, m.ID, expectedVersion).
			Updates(map[string]any{"phone": m.Phone, "health": m.Health, "disability": m.Disability, "education": m.Education,
				"work": m.Work, "version": m.Version, "updated_at": m.UpdatedAt.UTC(), "updated_by": by})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return domain.Stale("member", "成员信息")
		}
		return s.appendChange(tx, memberChange(m, "update"))
	})
}

// HouseholdByID returns a household by id without scope (the feed checks scope).
func (s *Store) HouseholdByID(ctx context.Context, id uuid.UUID) (domain.Household, error) {
	var row householdRow
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&row).Error
	return toDomainHousehold(row), translate(err, "household")
}
