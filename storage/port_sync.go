package storage

import (
	"context"

	"github.com/fieldvisit/fieldvisit/sync"
)

// Sync returns the store as the sync service's port (sync.Store).
func (s *Store) Sync() SyncStore { return SyncStore{s} }

// SyncStore adapts Store to sync.Store: its transactions hand out sync.TxStore.
type SyncStore struct{ *Store }

// Tx runs fn in a transaction, or in a savepoint when s is bound to one
// already (a push's records).
func (s SyncStore) Tx(ctx context.Context, fn func(sync.TxStore) error) error {
	return s.Store.Tx(ctx, func(tx *Store) error { return fn(SyncStore{tx}) })
}

var (
	_ sync.Store   = SyncStore{}
	_ sync.TxStore = SyncStore{}
)
