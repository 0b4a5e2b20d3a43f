package app

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/adjustment"
	"github.com/fieldvisit/fieldvisit/internal/casework"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	"github.com/fieldvisit/fieldvisit/storage"
)

// adjustmentChanges applies an approved adjustment item through the
// services that make the same change one by one — casework's procedures
// and the register's pairings and poverty types — built on the item's
// transaction: history, change feed, re-judging and audit are those of
// the single change, and commit with the item's new state or not at all.
type adjustmentChanges struct{ now func() time.Time }

func adjustmentTx(tx adjustment.Store) (*storage.Store, error) {
	st, ok := tx.(storage.AdjustmentStore)
	if !ok {
		return nil, fmt.Errorf("app: an adjustment item is applied in storage's transaction, not %T", tx)
	}
	return st.Store, nil
}

func (c adjustmentChanges) StartProcedure(ctx context.Context, tx adjustment.Store, p domain.Principal, householdID uuid.UUID, in casework.NewProcedure) (uuid.UUID, error) {
	st, err := adjustmentTx(tx)
	if err != nil {
		return uuid.Nil, err
	}
	pr, err := casework.NewService(st.Casework(), registerStatus{c.now}, c.now).StartProcedure(ctx, p, householdID, in)
	return pr.ID, err
}

func (c adjustmentChanges) Repair(ctx context.Context, tx adjustment.Store, p domain.Principal, householdID uuid.UUID, from *uuid.UUID, cadreID uuid.UUID,
	on domain.Date, reason string) (uuid.UUID, error) {
	st, err := adjustmentTx(tx)
	if err != nil {
		return uuid.Nil, err
	}
	reg := registry.NewService(st, nil, c.now)
	if from == nil {
		pr, err := reg.Pair(ctx, p, registry.NewPairing{HouseholdID: householdID, CadreID: cadreID, StartOn: on})
		return pr.ID, err
	}
	h, err := reg.Household(ctx, p, householdID)
	if err != nil {
		return uuid.Nil, err
	}
	open, err := st.OpenPairings(ctx, h.CountyID, householdID)
	if err != nil {
		return uuid.Nil, err
	}
	for _, pr := range open {
		if pr.CadreID == *from {
			_, next, err := reg.EndPairing(ctx, p, pr.ID, registry.EndInput{On: on, Reason: reason, NewCadreID: &cadreID})
			if err != nil || next == nil {
				return uuid.Nil, err
			}
			return next.ID, nil
		}
	}
	return uuid.Nil, domain.Conflict("the cadre handing over is no longer paired with the household", "原帮扶责任人的结对已变更")
}

func (c adjustmentChanges) ChangePovertyType(ctx context.Context, tx adjustment.Store, p domain.Principal, householdID uuid.UUID, povertyType string,
	on domain.Date, reason string, version int64) error {
	st, err := adjustmentTx(tx)
	if err != nil {
		return err
	}
	_, err = registry.NewService(st, nil, c.now).ChangePovertyType(ctx, p, householdID, registry.PovertyTypeInput{PovertyType: povertyType,
		EffectiveOn: on, Reason: reason, Version: version})
	return err
}
