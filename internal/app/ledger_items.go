package app

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/itemledger"
	"github.com/fieldvisit/fieldvisit/storage"
	fvsync "github.com/fieldvisit/fieldvisit/sync"
	"github.com/fieldvisit/fieldvisit/wire"
)

// syncLedgerItems gives sync the item ledger inside a push: the cadres'
// ledger items (四本台账) phones record offline are created by the one
// ledger mechanism, in the push's transaction.
type syncLedgerItems struct{ svc *itemledger.Service }

func (l syncLedgerItems) RecordLedgerItem(ctx context.Context, tx fvsync.TxStore, p domain.Principal, id, householdID uuid.UUID,
	recordedOn domain.Date, in wire.LedgerItemData) (bool, int64, error) {
	st, ok := tx.(storage.SyncStore)
	if !ok {
		return false, 0, fmt.Errorf("app: a push runs in storage's transaction, not %T", tx)
	}
	hid := householdID
	v, created, err := l.svc.CreateIn(ctx, st.Store.ItemLedger(), p, itemledger.NewItem{ID: id, Kind: in.Kind, Problem: in.Problem,
		HouseholdID: &hid, ResponsibleUserID: in.ResponsibleUserID, Deadline: in.Deadline, RecordedOn: recordedOn})
	return created, v.Version, err
}
