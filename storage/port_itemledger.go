package storage

import (
	"context"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/internal/inspect"
	"github.com/fieldvisit/fieldvisit/internal/itemledger"
)

// ItemLedger returns the store as the item ledger's port (itemledger.Store).
func (s *Store) ItemLedger() ItemLedgerStore { return ItemLedgerStore{s} }

// ItemLedgerStore adapts Store to itemledger.Store: its transactions hand
// out itemledger.TxStore, and campaigns and units come in the ledger's
// own types.
type ItemLedgerStore struct{ *Store }

func (s ItemLedgerStore) Tx(ctx context.Context, fn func(itemledger.TxStore) error) error {
	return s.Store.Tx(ctx, func(tx *Store) error { return fn(ItemLedgerStore{tx}) })
}

// LedgerCampaign reads what the ledger knows of a campaign.
func (s ItemLedgerStore) LedgerCampaign(ctx context.Context, id uuid.UUID) (itemledger.Campaign, error) {
	c, err := s.Campaign(ctx, id)
	if err != nil {
		return itemledger.Campaign{}, err
	}
	return itemledger.Campaign{ID: c.ID, RegionPath: c.RegionPath, Name: c.Name, CreatedBy: c.CreatedBy, Inspectors: c.Inspectors,
		Held: c.Mode == inspect.ModeUnannounced && c.Status != inspect.StatusEnded, Ended: c.Status == inspect.StatusEnded}, nil
}

// LedgerUnit reads an assisting unit with its region's path.
func (s ItemLedgerStore) LedgerUnit(ctx context.Context, id uuid.UUID) (itemledger.Unit, error) {
	u, err := s.Unit(ctx, id)
	if err != nil {
		return itemledger.Unit{}, err
	}
	return itemledger.Unit{ID: u.ID, Name: u.Name, RegionPath: u.RegionPath}, nil
}

var _ itemledger.Store = ItemLedgerStore{}
