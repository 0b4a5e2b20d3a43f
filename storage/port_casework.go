package storage

import (
	"context"

	"github.com/fieldvisit/fieldvisit/internal/casework"
)

// Casework returns the store as the casework service's port (casework.Store).
func (s *Store) Casework() CaseworkStore { return CaseworkStore{s} }

// CaseworkStore adapts Store to casework.Store: its transactions hand out
// casework.TxStore, bound to the transaction, so the register's status
// service can join it (the app binds it so).
type CaseworkStore struct{ *Store }

func (s CaseworkStore) Tx(ctx context.Context, fn func(casework.TxStore) error) error {
	return s.Store.Tx(ctx, func(tx *Store) error { return fn(CaseworkStore{tx}) })
}

var (
	_ casework.Store   = CaseworkStore{}
	_ casework.TxStore = CaseworkStore{}
)
