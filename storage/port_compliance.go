package storage

import (
	"context"

	"github.com/fieldvisit/fieldvisit/internal/compliance"
)

// Compliance returns the store as the compliance service's port (compliance.Store).
func (s *Store) Compliance() ComplianceStore { return ComplianceStore{s} }

// ComplianceStore adapts Store to compliance.Store: its transactions hand out compliance.TxStore.
type ComplianceStore struct{ *Store }

func (s ComplianceStore) Tx(ctx context.Context, fn func(compliance.TxStore) error) error {
	return s.Store.Tx(ctx, func(tx *Store) error { return fn(ComplianceStore{tx}) })
}

var _ compliance.Store = ComplianceStore{}
