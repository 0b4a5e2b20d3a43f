package storage

import (
	"context"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/fieldvisit/fieldvisit/domain"
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
// to, the households named in households and those of the writer's own
// visits named in visits (the visits themselves are only read, not
// locked), in the lock order. Only households in the writer's region
// subtree (within) are locked: ids that name nothing, or something the
// writer may not touch, are passed over (the changes that carry them are
// refused later, one by one), so a phone cannot hold up other counties'
// writers by naming their households.
func (s *Store) LockHouseholds(ctx context.Context, within string, writer uuid.UUID, households, visits []uuid.UUID) error {
	if !s.inTxn {
		// Locks taken outside a transaction are released at once: a bug.
		return &domain.Error{Code: domain.CodeInternal, Message: "households locked outside a transaction"}
	}
	return translate(s.lockHouseholds(s.db.WithContext(ctx), within, &writer, households, visits), "household")
}

// lockHouseholds takes the locks in one statement: PostgreSQL locks the rows
// as the sort hands them over, so the order holds across the whole set. A
// push names at most 500 changes, so the statement stays small. A nil
// writer locks the households of any of the visits (a background job).
func (s *Store) lockHouseholds(tx *gorm.DB, within string, writer *uuid.UUID, households, visits []uuid.UUID) error {
	if s.dialect != Postgres || len(households)+len(visits) == 0 {
		return nil
	}
	own := s.db.Model(&visitRow{}).Select("county_id, household_id").Where("id IN ?", uniqueIDs(visits))
	if writer != nil {
		own = own.Where("cadre_id = ?", *writer)
	}
	var locked []struct{ CountyID, ID uuid.UUID }
	return tx.Model(&householdRow{}).Select("county_id, id").
		Where(s.db.Where("id IN ?", uniqueIDs(households)).Or("(county_id, id) IN (?)", own)).
		Where(like("region_path"), likePrefix(within)).
		Order("county_id, id").Clauses(clause.Locking{Strength: "UPDATE"}).Scan(&locked).Error
}
