package storage

import (
	"context"

	"github.com/fieldvisit/fieldvisit/internal/photos"
)

// Photos returns the store as the photo service's port (photos.Store).
func (s *Store) Photos() PhotoStore { return PhotoStore{s} }

// PhotoStore adapts Store to photos.Store: its transactions hand out photos.TxStore.
type PhotoStore struct{ *Store }

func (s PhotoStore) Tx(ctx context.Context, fn func(photos.TxStore) error) error {
	return s.Store.Tx(ctx, func(tx *Store) error { return fn(PhotoStore{tx}) })
}

var _ photos.Store = PhotoStore{}
