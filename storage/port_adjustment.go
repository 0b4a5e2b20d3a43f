package storage

import (
	"context"

	"github.com/fieldvisit/fieldvisit/internal/adjustment"
)

// Adjustment returns the store as the adjustment round's port (adjustment.Store).
func (s *Store) Adjustment() AdjustmentStore { return AdjustmentStore{s} }

// AdjustmentStore adapts Store to adjustment.Store: its transactions hand
// out an AdjustmentStore bound to the transaction, so the services that
// apply an item (casework, the register) can join it (the app binds them
// so), and Tx inside one is a savepoint.
type AdjustmentStore struct{ *Store }

func (s AdjustmentStore) Tx(ctx context.Context, fn func(adjustment.Store) error) error {
	return s.Store.Tx(ctx, func(tx *Store) error { return fn(AdjustmentStore{tx}) })
}

var _ adjustment.Store = AdjustmentStore{}
