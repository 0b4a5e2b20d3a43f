package storage

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fieldvisit/fieldvisit/domain"
)

type auditRow struct {
	ID          uuid.UUID                 `gorm:"column:id;primaryKey"`
	At          time.Time                 `gorm:"column:at"`
	ActorID     *uuid.UUID                `gorm:"column:actor_id"`
	ActorName   string                    `gorm:"column:actor_name"`
	Action      string                    `gorm:"column:action"`
	ObjectType  string                    `gorm:"column:object_type"`
	ObjectID    string                    `gorm:"column:object_id"`
	HouseholdID *uuid.UUID                `gorm:"column:household_id"`
	RegionPath  string                    `gorm:"column:region_path"`
	Detail      jsonValue[map[string]any] `gorm:"column:detail"`
	RequestID   string                    `gorm:"column:request_id"`
}

func (auditRow) TableName() string { return "audit_log" }

func (s *Store) appendAudit(tx *gorm.DB, e domain.AuditEntry) error {
	if e.Action == "" {
		return nil
	}
	if e.Detail == nil {
		e.Detail = map[string]any{}
	}
	if e.RegionPath == "" && e.HouseholdID != nil {
		// An admin reads the log of their subtree: place the entry there.
		var paths []string
		if err := tx.Model(&householdRow{}).Where("id = ?", *e.HouseholdID).Limit(1).Pluck("region_path", &paths).Error; err != nil {
			return err
		}
		if len(paths) == 1 {
			e.RegionPath = paths[0]
		}
	}
	row := auditRow{ID: uuid.New(), At: s.stamp(), ActorID: e.ActorID, ActorName: e.ActorName, Action: e.Action,
		ObjectType: e.ObjectType, ObjectID: e.ObjectID, HouseholdID: e.HouseholdID, RegionPath: e.RegionPath,
		Detail: jsonValue[map[string]any]{e.Detail}, RequestID: e.RequestID}
	return tx.Create(&row).Error
}

// Audit appends an entry outside any other change (logins, failed logins).
func (s *Store) Audit(ctx context.Context, e domain.AuditEntry) error {
	return translate(s.appendAudit(s.db.WithContext(ctx), e), "audit entry")
}

// AuditLog lists entries, newest first, with how many match in all.
func (s *Store) AuditLog(ctx context.Context, f domain.AuditFilter) ([]domain.AuditRecord, int64, error) {
	q := s.db.WithContext(ctx).Model(&auditRow{})
	if f.WithinPath != "" {
		q = q.Where(like("region_path"), likePrefix(f.WithinPath))
	}
	if f.ObjectType != "" {
		q = q.Where("object_type = ?", f.ObjectType)
	}
	if f.ObjectID != "" {
		q = q.Where("object_id = ?", f.ObjectID)
	}
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if f.ActorID != nil {
		q = q.Where("actor_id = ?", *f.ActorID)
	}
	if f.HouseholdID != nil {
		q = q.Where("household_id = ?", *f.HouseholdID)
	}
	if f.From != nil {
		q = q.Where("at >= ?", f.From.UTC())
	}
	if f.To != nil {
		q = q.Where("at < ?", f.To.UTC())
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, translate(err, "audit entry")
	}
	var rows []auditRow
	if err := q.Order("at DESC, id").Limit(f.Limit).Offset(f.Offset).Find(&rows).Error; err != nil {
		return nil, 0, translate(err, "audit entry")
	}
	out := make([]domain.AuditRecord, len(rows))
	for i, r := range rows {
		out[i] = domain.AuditRecord{ID: r.ID, At: r.At.UTC(), AuditEntry: domain.AuditEntry{ActorID: r.ActorID, ActorName: r.ActorName, Action: r.Action,
			ObjectType: r.ObjectType, ObjectID: r.ObjectID, HouseholdID: r.HouseholdID, RegionPath: r.RegionPath, Detail: r.Detail.V, RequestID: r.RequestID}}
	}
	return out, total, nil
}

// LogAuth records a login, failed login or token event.
func (s *Store) LogAuth(ctx context.Context, actor *uuid.UUID, actorName, action, requestID string, detail map[string]any) error {
	return s.Audit(ctx, domain.AuditEntry{ActorID: actor, ActorName: actorName, Action: action, ObjectType: "session", RequestID: requestID, Detail: detail})
}
