package storage

import (
	"context"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"fieldvisit/domain"
)

// Lock order. Writers that touch rows under several households (a push
// batch), or a household's rows from a background job, first lock the
// households concerned, all in one statement, in (county_id, id) order; the
// rows under a household (its members, visits, conflicts) only after that.
// Queue rows, which any writer may share, are upserted in key order
// (enqueue). Two writers taking locks in different orders each end up
// holding a row the other waits for, and PostgreSQL breaks the circle by
// failing one of them (40P01): two phones editing the same households in
// different orders did exactly that. SQLite has one writer at a time and
// needs none of this.

// LockHouseholds locks, until the end of the transaction the Store is bound
// to, the households named in households and those the visits named in
// visits belong to (the visits themselves are only read, not locked), in
// the lock order. Ids that name nothing are passed over: the changes that
// carry them are refused later, one by one.
func (s *Store) LockHouseholds(ctx context.Context, households, visits []uuid.UUID) error {
	if !s.inTxn {
		// Locks taken outside a transaction are released at once: a bug.
		return &domain.Error{Code: domain.CodeInternal, Message: "households locked outside a transaction"}
	}
	return translate(s.lockHouseholds(s.db.WithContext(ctx), households, visits), "household")
}

// lockHouseholds takes the locks in one statement: PostgreSQL locks the rows
// as the sort hands them over, so the order holds across the whole set. A
// push names at most 500 changes, so the statement stays small.
func (s *Store) lockHouseholds(tx *gorm.DB, households, visits []uuid.UUID) error {
	if s.dialect != Postgres || len(households)+len(visits) == 0 {
		return nil
	}
	var locked []struct{ CountyID, ID uuid.UUID }
	return tx.Raw(`SELECT county_id, id FROM households
		WHERE id IN ? OR (county_id, id) IN (SELECT county_id, household_id FROM visits WHERE id IN ?)
		ORDER BY county_id, id FOR UPDATE`, uniqueIDs(households), uniqueIDs(visits)).Scan(&locked).Error
}
