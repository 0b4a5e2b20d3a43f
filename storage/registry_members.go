package storage

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fieldvisit/fieldvisit/domain"
)

type memberRow struct {
	CountyID    uuid.UUID `gorm:"column:county_id;primaryKey"`
	ID          uuid.UUID `gorm:"column:id;primaryKey"`
	HouseholdID uuid.UUID `gorm:"column:household_id"`
	Name        string    `gorm:"column:name"`
	Relation    string    `gorm:"column:relation"`
	IDNumber    string    `gorm:"column:id_number"`
	Gender      string    `gorm:"column:gender"`
	BirthDate   *sqlDate  `gorm:"column:birth_date"`
	Health      string    `gorm:"column:health"`
	Disability  string    `gorm:"column:disability"`
	Education   string    `gorm:"column:education"`
	Work        string    `gorm:"column:work"`
	Phone       string    `gorm:"column:phone"`
	Version     int64     `gorm:"column:version"`
	CreatedAt   time.Time `gorm:"column:created_at"`
	UpdatedAt   time.Time `gorm:"column:updated_at"`
}

func (memberRow) TableName() string { return "members" }

func toMemberRow(m domain.Member) memberRow {
	return memberRow{CountyID: m.CountyID, ID: m.ID, HouseholdID: m.HouseholdID, Name: m.Name, Relation: m.Relation,
		IDNumber: m.IDNumber, Gender: m.Gender, BirthDate: toSQLDatePtr(m.BirthDate), Health: m.Health, Disability: m.Disability,
		Education: m.Education, Work: m.Work, Phone: m.Phone, Version: m.Version, CreatedAt: utc(m.CreatedAt), UpdatedAt: utc(m.UpdatedAt)}
}

func toDomainMember(r memberRow) domain.Member {
	return domain.Member{CountyID: r.CountyID, ID: r.ID, HouseholdID: r.HouseholdID,
		MemberDetails: domain.MemberDetails{Name: r.Name, Relation: r.Relation, IDNumber: r.IDNumber, Health: r.Health,
			Disability: r.Disability, Education: r.Education, Work: r.Work, Phone: r.Phone},
		Gender: r.Gender, BirthDate: datePtr(r.BirthDate), Version: r.Version, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

// Members lists a household's members, head first.
func (s *Store) Members(ctx context.Context, countyID, householdID uuid.UUID) ([]domain.Member, error) {
	var rows []memberRow
	err := s.db.WithContext(ctx).Where("county_id = ? AND household_id = ?", countyID, householdID).
		Order("CASE WHEN relation = 'head' THEN 0 ELSE 1 END, birth_date, name, id").Find(&rows).Error
	if err != nil {
		return nil, translate(err, "member")
	}
	out := make([]domain.Member, len(rows))
	for i, r := range rows {
		out[i] = toDomainMember(r)
	}
	return out, nil
}

// Member returns one member of a household.
func (s *Store) Member(ctx context.Context, countyID, householdID, id uuid.UUID) (domain.Member, error) {
	var row memberRow
	err := s.db.WithContext(ctx).Where("county_id = ? AND household_id = ? AND id = ?", countyID, householdID, id).Take(&row).Error
	return toDomainMember(row), translate(err, "member")
}

// MemberByIDNumber finds a member of a county by 身份证号.
func (s *Store) MemberByIDNumber(ctx context.Context, countyID uuid.UUID, idNumber string) (domain.Member, error) {
	var row memberRow
	err := s.db.WithContext(ctx).Where("county_id = ? AND id_number = ? AND id_number <> ''", countyID, idNumber).Take(&row).Error
	return toDomainMember(row), translate(err, "member")
}

// CreateMember adds a member.
func (s *Store) CreateMember(ctx context.Context, m domain.Member, audit domain.AuditEntry) error {
	return s.inTx(ctx, "member", func(tx *gorm.DB) error {
		row := toMemberRow(m)
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		if err := s.appendChange(tx, memberChange(m, "create")); err != nil {
			return err
		}
		return s.appendAudit(tx, audit)
	})
}

// UpdateMember saves a member if its stored version is still expectedVersion.
func (s *Store) UpdateMember(ctx context.Context, m domain.Member, expectedVersion int64, audit domain.AuditEntry) (domain.Member, error) {
	var out domain.Member
	err := s.inTx(ctx, "member", func(tx *gorm.DB) error {
		row := toMemberRow(m)
		res := tx.Model(&memberRow{}).Where("county_id = ? AND household_id = ? AND id = ? AND version = ?", m.CountyID, m.HouseholdID, m.ID, expectedVersion).
			Updates(map[string]any{"name": row.Name, "relation": row.Relation, "id_number": row.IDNumber, "gender": row.Gender,
				"birth_date": row.BirthDate, "health": row.Health, "disability": row.Disability, "education": row.Education,
				"work": row.Work, "phone": row.Phone, "version": gorm.Expr("version + 1"), "updated_at": s.stamp()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return domain.Stale("member", "成员信息")
		}
		var fresh memberRow
		if err := tx.Where("county_id = ? AND id = ?", m.CountyID, m.ID).Take(&fresh).Error; err != nil {
			return err
		}
		out = toDomainMember(fresh)
		if err := s.appendChange(tx, memberChange(out, "update")); err != nil {
			return err
		}
		if fresh.Relation == domain.RelationHead {
			if err := s.renameHousehold(tx, out.CountyID, out.HouseholdID, fresh.Name); err != nil {
				return err
			}
		}
		return s.appendAudit(tx, audit)
	})
	return out, err
}

// DeleteMember removes a member (a person who left the household or died);
// the audit log keeps the record of it.
func (s *Store) DeleteMember(ctx context.Context, countyID, householdID, id uuid.UUID, audit domain.AuditEntry) error {
	return s.inTx(ctx, "member", func(tx *gorm.DB) error {
		var row memberRow
		if err := s.locking(tx).Where("county_id = ? AND household_id = ? AND id = ?", countyID, householdID, id).Take(&row).Error; err != nil {
			return err
		}
		if err := tx.Where("county_id = ? AND id = ?", countyID, id).Delete(&memberRow{}).Error; err != nil {
			return err
		}
		// The tombstone outranks every version a phone may hold.
		hid := householdID
		if err := s.appendChange(tx, feedEntry{CountyID: countyID, Entity: "member", EntityID: id, HouseholdID: &hid, Op: "delete", Version: row.Version + 1}); err != nil {
			return err
		}
		return s.appendAudit(tx, audit)
	})
}
