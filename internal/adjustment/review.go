package adjustment

import (
	"context"
	"errors"
	"strconv"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/casework"
)

// Batches lists the batches of the caller's subtree, newest first; with
// regionID, those of that region and below.
func (s *Service) Batches(ctx context.Context, p domain.Principal, regionID *uuid.UUID, limit, offset int) ([]Batch, int64, error) {
	if !p.Manages() {
		return nil, 0, domain.Forbidden()
	}
	path := p.RegionPath
	if regionID != nil {
		r, err := s.store.RegionWithin(ctx, p.RegionPath, *regionID)
		if err != nil {
			return nil, 0, err
		}
		path = r.Path
	}
	return s.store.Batches(ctx, p.RegionPath, path, limit, offset)
}

// Batch reads a batch of the caller's subtree with its items; another
// region's batch is not found.
func (s *Service) Batch(ctx context.Context, p domain.Principal, id uuid.UUID) (Batch, error) {
	if !p.Manages() {
		return Batch{}, domain.Forbidden()
	}
	return s.store.Batch(ctx, p.RegionPath, id)
}

// Approve applies one item in its own transaction. An item already
// applied (or found stale) is answered as it stands, so approving twice
// changes nothing; a rejected item or a closed batch is a conflict.
func (s *Service) Approve(ctx context.Context, p domain.Principal, batchID, itemID uuid.UUID) (Item, error) {
	if !p.Manages() {
		return Item{}, domain.Forbidden()
	}
	var out Item
	err := s.store.Tx(ctx, func(tx Store) error {
		b, it, err := s.lockItem(ctx, tx, p, batchID, itemID)
		if err != nil {
			return err
		}
		switch {
		case it.State == StateApplied || it.State == StateStale:
			out = it
			return nil
		case it.State == StateRejected:
			return &domain.Error{Code: domain.CodeConflict, Reason: "rejected", Message: "the item was rejected", MessageZH: "该项已驳回，不能再审批通过"}
		case b.Status != BatchOpen:
			return batchClosed()
		}
		out, err = s.apply(ctx, tx, p, b, it)
		return err
	})
	return out, err
}

// Reject rejects a pending item, with an optional reason; rejecting a
// rejected item again changes nothing.
func (s *Service) Reject(ctx context.Context, p domain.Principal, batchID, itemID uuid.UUID, reason string) (Item, error) {
	if !p.Manages() {
		return Item{}, domain.Forbidden()
	}
	var fe domain.FieldErrors
	domain.CheckText(&fe, "/reason", "驳回理由", reason, 0, 500)
	if err := fe.Err(); err != nil {
		return Item{}, err
	}
	var out Item
	err := s.store.Tx(ctx, func(tx Store) error {
		b, it, err := s.lockItem(ctx, tx, p, batchID, itemID)
		if err != nil {
			return err
		}
		switch {
		case it.State == StateRejected:
			out = it
			return nil
		case it.State != StatePending:
			label, _ := StateLabels.Label(it.State)
			return &domain.Error{Code: domain.CodeConflict, Reason: "not_pending", Message: "the item is " + it.State, MessageZH: "该项" + label + "，不能驳回"}
		case b.Status != BatchOpen:
			return batchClosed()
		}
		out = s.reviewed(p, it, StateRejected, reason)
		return tx.SaveItemState(ctx, out, itemAudit(p, b, out, "reject_item"))
	})
	return out, err
}

// ApproveAll applies every pending item, each in its own transaction
// (one item's failure never undoes another's change), and answers the
// batch as it then stands.
func (s *Service) ApproveAll(ctx context.Context, p domain.Principal, batchID uuid.UUID) (Batch, error) {
	b, err := s.Batch(ctx, p, batchID)
	if err != nil {
		return Batch{}, err
	}
	if b.Status != BatchOpen {
		return Batch{}, batchClosed()
	}
	for _, it := range b.Items {
		if it.State != StatePending {
			continue
		}
		if _, err := s.Approve(ctx, p, batchID, it.ID); err != nil && !domain.IsCode(err, domain.CodeConflict) {
			return Batch{}, err
		}
	}
	return s.Batch(ctx, p, batchID)
}

// Close ends the round: items still pending are rejected as not reviewed,
// and the batch takes no more approvals. Closing a closed batch changes
// nothing.
func (s *Service) Close(ctx context.Context, p domain.Principal, batchID uuid.UUID) (Batch, error) {
	if !p.Manages() {
		return Batch{}, domain.Forbidden()
	}
	err := s.store.Tx(ctx, func(tx Store) error {
		b, err := tx.BatchForUpdate(ctx, p.RegionPath, batchID)
		if err != nil || b.Status == BatchClosed {
			return err
		}
		full, err := tx.Batch(ctx, p.RegionPath, batchID)
		if err != nil {
			return err
		}
		for _, it := range full.Items {
			if it.State == StatePending {
				it = s.reviewed(p, it, StateRejected, "批次关闭时未审批")
				if err := tx.SaveItemState(ctx, it, itemAudit(p, b, it, "reject_item")); err != nil {
					return err
				}
			}
		}
		now := s.now().UTC()
		b.Status, b.ClosedAt, b.UpdatedAt = BatchClosed, &now, now
		return tx.CloseBatch(ctx, b, batchAudit(p, b, "close", nil))
	})
	if err != nil {
		return Batch{}, err
	}
	return s.Batch(ctx, p, batchID)
}

func batchClosed() error {
	return &domain.Error{Code: domain.CodeConflict, Reason: "batch_closed", Message: "the batch is closed", MessageZH: "该调整批次已关闭"}
}

func (s *Service) lockItem(ctx context.Context, tx Store, p domain.Principal, batchID, itemID uuid.UUID) (Batch, Item, error) {
	b, err := tx.BatchForUpdate(ctx, p.RegionPath, batchID)
	if err != nil {
		return Batch{}, Item{}, err
	}
	it, err := tx.ItemForUpdate(ctx, b.CountyID, b.ID, itemID)
	return b, it, err
}

func (s *Service) reviewed(p domain.Principal, it Item, state, reason string) Item {
	now := s.now().UTC()
	by := p.UserID
	it.State, it.StateReason, it.ReviewedBy, it.ReviewedAt = state, reason, &by, &now
	return it
}

// apply makes an item's change through its service in a savepoint of the
// item's transaction. A household that moved on since the proposal, or a
// change its service now refuses, marks the item stale with the reason
// and changes nothing else.
func (s *Service) apply(ctx context.Context, tx Store, p domain.Principal, b Batch, it Item) (Item, error) {
	today := s.today()
	stale := func(reason string) (Item, error) {
		it = s.reviewed(p, it, StateStale, reason)
		return it, tx.SaveItemState(ctx, it, itemAudit(p, b, it, "stale_item"))
	}
	h, err := tx.Household(ctx, p.HouseholdScope(), today, it.HouseholdID)
	if domain.IsCode(err, domain.CodeNotFound) {
		return stale("该户已不在本区域")
	}
	if err != nil {
		return Item{}, err
	}
	if h.Version != it.HouseholdVersion {
		return stale("提出后该户信息已变更（版本" + strconv.FormatInt(it.HouseholdVersion, 10) + "→" + strconv.FormatInt(h.Version, 10) + "），未执行；请核实后单独办理")
	}
	if it.Kind == KindRepairing {
		open, err := tx.OpenPairings(ctx, h.CountyID, h.ID)
		if err != nil {
			return Item{}, err
		}
		if reason := pairingMoved(open, it.FromCadreID); reason != "" {
			return stale(reason)
		}
	}
	var result *uuid.UUID
	err = tx.Tx(ctx, func(sub Store) error {
		id, err := s.change(ctx, sub, p, b, it, h, today)
		if id != uuid.Nil {
			result = &id
		}
		return err
	})
	switch code := domain.ErrorCode(err); {
	case err == nil:
	case domain.IsLostRace(err):
		return Item{}, err
	case code == domain.CodeInvalid || code == domain.CodeConflict || code == domain.CodeNotFound:
		return stale("未执行：" + refusal(err))
	default:
		return Item{}, err
	}
	it = s.reviewed(p, it, StateApplied, "")
	it.ResultID = result
	return it, tx.SaveItemState(ctx, it, itemAudit(p, b, it, "apply_item"))
}

// change is the single change an item stands for.
func (s *Service) change(ctx context.Context, tx Store, p domain.Principal, b Batch, it Item, h domain.Household, today domain.Date) (uuid.UUID, error) {
	label, _ := KindLabels.Label(it.Kind)
	reason := strconv.Itoa(b.Year) + "年度动态调整（" + label + "）：" + it.Reason
	if len([]rune(reason)) > 500 {
		reason = string([]rune(reason)[:500])
	}
	switch it.Kind {
	case KindExit:
		return s.changes.StartProcedure(ctx, tx, p, h.ID, casework.NewProcedure{Kind: casework.KindExit, Year: b.Year, Reason: reason})
	case KindIdentification:
		return s.changes.StartProcedure(ctx, tx, p, h.ID, casework.NewProcedure{Kind: casework.KindIdentification, Year: today.Year,
			PovertyType: it.PovertyType, Reason: reason})
	case KindRemoval:
		return s.changes.StartProcedure(ctx, tx, p, h.ID, casework.NewProcedure{Kind: casework.KindRemoval, Year: today.Year, Reason: reason})
	case KindRepairing:
		return s.changes.Repair(ctx, tx, p, h.ID, it.FromCadreID, *it.CadreID, today, reason)
	case KindPovertyType:
		return uuid.Nil, s.changes.ChangePovertyType(ctx, tx, p, h.ID, it.PovertyType, today, reason, it.HouseholdVersion)
	}
	return uuid.Nil, domain.Invalid(domain.FieldError{Field: "/kind", Reason: "invalid_enum", Message: "unknown item kind", MessageZH: "调整类型无效"})
}

// pairingMoved says why a re-pairing proposal no longer fits the
// household's pairings ("" when it still does).
func pairingMoved(open []domain.Pairing, from *uuid.UUID) string {
	if from == nil {
		if len(open) > 0 {
			return "提出后该户已有帮扶责任人，未执行"
		}
		return ""
	}
	for _, pr := range open {
		if pr.CadreID == *from {
			return ""
		}
	}
	return "提出后原帮扶责任人的结对已变更，未执行"
}

// refusal is what a service said when it refused the change, in Chinese.
func refusal(err error) string {
	var de *domain.Error
	if !errors.As(err, &de) {
		return "变更被拒绝"
	}
	for _, f := range de.Fields {
		if f.MessageZH != "" {
			return f.MessageZH
		}
	}
	if de.MessageZH != "" {
		return de.MessageZH
	}
	return "变更被拒绝"
}
