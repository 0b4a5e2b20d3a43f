package storage

import (
	"context"

	"github.com/fieldvisit/fieldvisit/internal/inspect"
)

// Inspect returns the store as the inspection service's port (inspect.Store).
func (s *Store) Inspect() InspectStore { return InspectStore{s} }

// InspectStore adapts Store to inspect.Store: its transactions hand out inspect.TxStore.
type InspectStore struct{ *Store }

func (s InspectStore) Tx(ctx context.Context, fn func(inspect.TxStore) error) error {
	return s.Store.Tx(ctx, func(tx *Store) error { return fn(InspectStore{tx}) })
}

var (
	_ inspect.Store        = InspectStore{}
	_ inspect.VisitTxStore = InspectStore{}
)
