package sync

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/wire"
)

// VisitQuery filters a visit listing.
type VisitQuery struct {
	HouseholdID    *uuid.UUID
	CadreID        *uuid.UUID
	IncludeDeleted bool
	Query          string
	// From and To are days (Asia/Shanghai) the visit started on, both
	// included.
	From, To      *domain.Date
	RegionID      *uuid.UUID
	Kind          string
	Flag          string
	Counted       *bool
	Limit, Offset int
}

// Visits lists visits the caller may read: a cadre their own; supervisors
// and admins those to households in their subtree; an inspector those to
// the households of their active tasks.
func (s *Service) Visits(ctx context.Context, p domain.Principal, q VisitQuery) ([]domain.Visit, int64, error) {
	f := domain.VisitFilter{Scope: p.HouseholdScope(), Reader: p.VisitReader(), Today: domain.DateOf(s.now()), HouseholdID: q.HouseholdID, CadreID: q.CadreID,
		IncludeDeleted: q.IncludeDeleted, Query: q.Query, Kind: q.Kind, Flag: q.Flag, Counted: q.Counted, Limit: q.Limit, Offset: q.Offset}
	var fe domain.FieldErrors
	if q.Kind != "" && !domain.VisitKinds.Has(q.Kind) {
		fe.Add("kind", "invalid_enum", "kind must be a visit kind (GET /api/v1/vocabularies: visit_kinds)", "走访类型无效")
	}
	if q.Flag != "" && !domain.VisitFlags.Has(q.Flag) {
		fe.Add("flag", "invalid_enum", "flag must be a visit flag (GET /api/v1/vocabularies: visit_flags)", "核验标记无效")
	}
	if q.From != nil {
		from := q.From.Start()
		f.StartedFrom = &from
	}
	if q.To != nil {
		if q.From != nil && q.To.Before(*q.From) {
			fe.Add("to", "out_of_range", "to must not be before from", "结束日期不能早于开始日期")
		}
		before := q.To.AddDays(1).Start()
		f.StartedBefore = &before
	}
	if err := fe.Err(); err != nil {
		return nil, 0, err
	}
	path, err := domain.RegionParam(ctx, p, q.RegionID, s.store.RegionWithin)
	if err != nil {
		return nil, 0, err
	}
	f.RegionPath = path
	if p.Role == domain.RoleCadre {
		id := p.UserID
		f.OnlyCadreID = &id
	}
	return s.store.Visits(ctx, f)
}

// Visit returns one visit the caller may read; anything else is not found.
func (s *Service) Visit(ctx context.Context, p domain.Principal, id uuid.UUID) (domain.Visit, error) {
	v, err := s.store.VisitFor(ctx, p.VisitReader(), id)
	if err != nil {
		return domain.Visit{}, err
	}
	if p.Role == domain.RoleCadre {
		if v.CadreID != p.UserID {
			return domain.Visit{}, domain.NotFound("visit")
		}
		return v, nil
	}
	// An inspector's own visits stay theirs to read once the campaign
	// ended and the household left their scope, as they stay in their
	// feed.
	if v.CadreID == p.UserID {
		return v, nil
	}
	if _, err := s.store.Household(ctx, p.HouseholdScope(), domain.DateOf(s.now()), v.HouseholdID); err != nil {
		return domain.Visit{}, err
	}
	return v, nil
}

// ConflictQuery filters the conflict inbox.
type ConflictQuery struct {
	Open          *bool
	HouseholdID   *uuid.UUID
	Limit, Offset int
}

// Conflicts lists the conflict inbox of a supervisor's subtree.
func (s *Service) Conflicts(ctx context.Context, p domain.Principal, q ConflictQuery) ([]wire.Conflict, int64, error) {
	if !p.Manages() {
		return nil, 0, domain.Forbidden()
	}
	cs, total, err := s.store.Conflicts(ctx, ConflictFilter{WithinPath: p.RegionPath, Open: q.Open, HouseholdID: q.HouseholdID, Limit: q.Limit, Offset: q.Offset})
	if err != nil {
		return nil, 0, err
	}
	out := make([]wire.Conflict, len(cs))
	for i, c := range cs {
		out[i] = toWireConflict(c)
	}
	return out, total, nil
}

func toWireConflict(c Conflict) wire.Conflict {
	return wire.Conflict{ID: c.ID, Entity: c.Entity, EntityID: c.EntityID, HouseholdID: c.HouseholdID, Field: c.Field, BaseValue: c.BaseValue,
		LostValue: c.LostValue, WonValue: c.WonValue, LostVersion: c.LostVersion, WonVersion: c.WonVersion, LostBy: c.LostBy, WonBy: c.WonBy,
		CreatedAt: c.CreatedAt, ResolvedAt: c.ResolvedAt, Resolution: c.Resolution}
}

// Resolution choices.
const (
	KeepWon     = "keep_won"     // the stored value stands
	RestoreLost = "restore_lost" // put the losing value back, as a new version
)

// ResolveConflict closes a conflict, optionally restoring the losing value
// as a new version of the record (which then syncs to phones like any edit).
func (s *Service) ResolveConflict(ctx context.Context, p domain.Principal, id uuid.UUID, choice string) (wire.Conflict, error) {
	if !p.Manages() {
		return wire.Conflict{}, domain.Forbidden()
	}
	if choice != KeepWon && choice != RestoreLost {
		return wire.Conflict{}, domain.Invalid(domain.FieldError{Field: "/resolution", Reason: "invalid_enum", Message: "resolution must be keep_won or restore_lost",
			MessageZH: "处理方式应为keep_won或restore_lost"})
	}
	now := s.now().UTC()
	var out Conflict
	err := s.store.Tx(ctx, func(tx TxStore) error {
		c, err := tx.ConflictInScope(ctx, p.RegionPath, id)
		if err != nil {
			return err
		}
		if c.ResolvedAt != nil {
			return domain.Conflict("the conflict was already resolved", "该冲突已处理")
		}
		if choice == RestoreLost {
			if err := s.restore(ctx, tx, p, c, now); err != nil {
				return err
			}
		}
		if err := tx.ResolveConflict(ctx, c, p.UserID, choice, now); err != nil {
			return err
		}
		c.ResolvedAt, c.Resolution = &now, choice
		out = c
		return nil
	})
	if err != nil {
		return wire.Conflict{}, err
	}
	_, _ = s.store.SequenceChanges(ctx)
	return toWireConflict(out), nil
}

// restore writes the lost value back through the same path a phone's edit
// takes, as an edit made from the current version.
func (s *Service) restore(ctx context.Context, tx TxStore, p domain.Principal, c Conflict, now time.Time) error {
	hid := c.HouseholdID
	ch := wire.Change{Entity: c.Entity, Op: wire.OpUpdate, ID: c.EntityID, HouseholdID: &hid, Data: map[string]json.RawMessage{c.Field: c.LostValue}}
	b := &batch{svc: s, tx: tx, p: p, req: wire.PushRequest{DeviceID: "conflict-resolution"}, received: now, today: domain.DateOf(now)}
	switch c.Entity {
	case wire.EntityVisit:
		v, err := tx.VisitForUpdate(ctx, c.EntityID)
		if err != nil {
			return err
		}
		if c.Field == "deleted" {
			return s.restoreDeletedVisit(ctx, tx, p, v, c, now)
		}
		ch.BaseVersion = v.Version
		b.p.UserID = v.CadreID // the visit stays the cadre's
	case wire.EntityHousehold:
		h, _, err := tx.HouseholdForUpdate(ctx, p.HouseholdScope(), b.today, c.EntityID)
		if err != nil {
			return err
		}
		ch.BaseVersion = h.Version
	case wire.EntityMember:
		m, _, err := tx.MemberForUpdate(ctx, c.CountyID, c.HouseholdID, c.EntityID)
		if err != nil {
			return err
		}
		ch.BaseVersion = m.Version
	case wire.EntityIncomeAccount:
		if err := s.restoringIncomeAccount(ctx, tx, c, &ch); err != nil {
			return err
		}
	case wire.EntityPlanItem:
		return s.restorePlanItem(ctx, tx, b, c, ch)
	}
	_, err := recordTx{batch: b, tx: tx, ptr: "", ch: ch}.run(ctx)
	if rej, ok := err.(*rejection); ok {
		return domain.Invalid(rej.fields...)
	}
	return err
}

// restoreDeletedVisit brings a deleted visit back with the contents it
// had; what it recorded for the casework takes effect again.
func (s *Service) restoreDeletedVisit(ctx context.Context, tx TxStore, p domain.Principal, v domain.Visit, c Conflict, now time.Time) error {
	var old wire.Visit
	if err := json.Unmarshal(c.LostValue, &old); err != nil {
		return err
	}
	nv := v
	nv.Deleted, nv.Version, nv.UpdatedAt = false, v.Version+1, now
	kept := old.Details()
	nv.Notes, nv.Checklist, nv.Measures, nv.MetWith = kept.Notes, kept.Checklist, kept.Measures, kept.MetWith
	nv.HouseholdConfirmed, nv.GPS, nv.Photos, nv.Kind, nv.EndedAt = kept.HouseholdConfirmed, kept.GPS, kept.Photos, kept.Kind, kept.EndedAt
	nv.PlanProgress, nv.RiskTriggers, nv.IncomeUpdates = kept.PlanProgress, kept.RiskTriggers, kept.IncomeUpdates
	if err := tx.SaveVisit(ctx, nv, v.Version); err != nil {
		return err
	}
	if s.cfg.VisitCasework == nil {
		return nil
	}
	p.UserID = v.CadreID // the visit stays the cadre's
	return s.cfg.VisitCasework.VisitWritten(ctx, tx, p, &v, nv)
}
