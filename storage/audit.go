package storage

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// AuditEntry is one line of the append-only audit log, written in the same
// transaction as the change it records.
type AuditEntry struct {
	ActorID    *uuid.UUID
	ActorName  string
	Action     string // create, update, delete, login, login_failed, …
	ObjectType string
	ObjectID   string
	RegionPath string
	Detail     map[string]any // never ID numbers, passwords or tokens
	RequestID  string
}

type auditRow struct {
	ID         uuid.UUID                 `gorm:"column:id;primaryKey"`
	At         time.Time                 `gorm:"column:at"`
	ActorID    *uuid.UUID                `gorm:"column:actor_id"`
	ActorName  string                    `gorm:"column:actor_name"`
	Action     string                    `gorm:"column:action"`
	ObjectType string                    `gorm:"column:object_type"`
	ObjectID   string                    `gorm:"column:object_id"`
	RegionPath string                    `gorm:"column:region_path"`
	Detail     jsonValue[map[string]any] `gorm:"column:detail"`
	RequestID  string                    `gorm:"column:request_id"`
}

func (auditRow) TableName() string { return "audit_log" }

func appendAudit(tx *gorm.DB, e AuditEntry) error {
	if e.Action == "" {
		return nil
	}
	if e.Detail == nil {
		e.Detail = map[string]any{}
	}
	row := auditRow{ID: uuid.New(), At: time.Now().UTC(), ActorID: e.ActorID, ActorName: e.ActorName, Action: e.Action,
		ObjectType: e.ObjectType, ObjectID: e.ObjectID, RegionPath: e.RegionPath, Detail: jsonValue[map[string]any]{e.Detail}, RequestID: e.RequestID}
	return tx.Create(&row).Error
}

// Audit appends an entry outside any other change (logins, failed logins).
func (s *Store) Audit(ctx context.Context, e AuditEntry) error {
	return translate(appendAudit(s.db.WithContext(ctx), e), "audit entry")
}

// AuditRecord is an audit entry as read back.
type AuditRecord struct {
	AuditEntry
	ID uuid.UUID
	At time.Time
}

// AuditLog lists entries in a region subtree, newest first.
func (s *Store) AuditLog(ctx context.Context, withinPath, objectType, objectID string, limit, offset int) ([]AuditRecord, error) {
	q := s.db.WithContext(ctx).Model(&auditRow{})
	if withinPath != "" {
		q = q.Where(like("region_path"), likePrefix(withinPath))
	}
	if objectType != "" {
		q = q.Where("object_type = ?", objectType)
	}
	if objectID != "" {
		q = q.Where("object_id = ?", objectID)
	}
	var rows []auditRow
	if err := q.Order("at DESC").Limit(limit).Offset(offset).Find(&rows).Error; err != nil {
		return nil, translate(err, "audit entry")
	}
	out := make([]AuditRecord, len(rows))
	for i, r := range rows {
		out[i] = AuditRecord{ID: r.ID, At: r.At, AuditEntry: AuditEntry{ActorID: r.ActorID, ActorName: r.ActorName, Action: r.Action,
			ObjectType: r.ObjectType, ObjectID: r.ObjectID, RegionPath: r.RegionPath, Detail: r.Detail.V, RequestID: r.RequestID}}
	}
	return out, nil
}

// LogAuth records a login, failed login or token event.
func (s *Store) LogAuth(ctx context.Context, actor *uuid.UUID, actorName, action, requestID string, detail map[string]any) error {
	return s.Audit(ctx, AuditEntry{ActorID: actor, ActorName: actorName, Action: action, ObjectType: "session", RequestID: requestID, Detail: detail})
}
