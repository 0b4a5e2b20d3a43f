package registry

import (
	"context"
	"strings"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// AuditQuery narrows a reading of the audit log.
type AuditQuery struct {
	UserID      *uuid.UUID // who acted
	HouseholdID *uuid.UUID // whose file, members or pairings
	Action      string     // create, update, read_id_numbers, login_failed, …
	From, To    *domain.Date
}

// AuditLog lists the audit log for an admin, newest first: the entries
// placed in their region subtree, and, for the admin of the top of the
// tree, every entry (sign-ins name no region).
func (s *Service) AuditLog(ctx context.Context, p domain.Principal, q AuditQuery, pg Page) ([]domain.AuditRecord, int64, error) {
	if err := requireAdmin(p); err != nil {
		return nil, 0, err
	}
	f := domain.AuditFilter{ActorID: q.UserID, HouseholdID: q.HouseholdID, Action: q.Action, Limit: pg.Limit, Offset: pg.Offset}
	if strings.Count(p.RegionPath, "/") > 2 {
		f.WithinPath = p.RegionPath
	}
	if q.From != nil {
		from := q.From.Start()
		f.From = &from
	}
	if q.To != nil {
		to := q.To.AddDays(1).Start()
		f.To = &to
	}
	if q.From != nil && q.To != nil && q.To.Before(*q.From) {
		return nil, 0, domain.Invalid(domain.FieldError{Field: "to", Reason: "out_of_range", Message: "to is before from", MessageZH: "结束日期早于开始日期"})
	}
	return s.store.AuditLog(ctx, f)
}
