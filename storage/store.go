package storage

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Store is the repository over one database. Each method is one unit of
// work: multi-row changes run in a single transaction, so a failure leaves
// nothing half-written.
type Store struct {
	db      *gorm.DB
	dialect Dialect
	inTxn   bool // bound to a transaction by Tx: its methods join it
	now     func() time.Time
	// sequencer shares feed-numbering passes among concurrent callers.
	sequencer *feedSequencer
	standby   *standby      // where routed reads may go (replica.go); nil: none
	reads     *readObserver // told where routed reads went
}

// NewStore wraps an opened database. now is the clock every row is
// stamped with (time.Now when nil): the app passes its own, so tests can
// stand at a quarter's or a year's end.
func NewStore(db *DB, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	utc := func() time.Time { return now().UTC() }
	reads := db.reads
	if reads == nil {
		reads = &readObserver{}
	}
	return &Store{db: db.Gorm.Session(&gorm.Session{NowFunc: utc}), dialect: db.Dialect, now: now, sequencer: &feedSequencer{}, standby: db.standby, reads: reads}
}

// stamp is the time rows written now are stamped with.
func (s *Store) stamp() time.Time { return s.now().UTC() }

// inTx runs fn in a transaction. A Store already bound to one by Tx runs fn
// in it directly: the caller's transaction (or savepoint) makes the whole
// unit atomic, and a nested savepoint per method would only add round trips.
func (s *Store) inTx(ctx context.Context, what string, fn func(tx *gorm.DB) error) error {
	if s.inTxn {
		return translate(fn(s.db.WithContext(ctx)), what)
	}
	return translate(s.db.WithContext(ctx).Transaction(fn), what)
}

// likePrefix escapes s for a LIKE prefix match. Region paths hold only hex,
// dashes and slashes, but escaping keeps user-typed queries literal.
func likePrefix(s string) string { return escapeLike(s) + "%" }

func likeContains(s string) string { return "%" + escapeLike(s) + "%" }

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// like returns a LIKE condition on col that honours escapeLike's backslashes
// in both PostgreSQL and SQLite (which has no default escape character).
func like(col string) string { return col + ` LIKE ? ESCAPE '\'` }

// Tx runs fn with a Store bound to one transaction. Store methods called on
// that Store nest as savepoints, so one failing record can be rolled back
// while the rest of the batch commits.
func (s *Store) Tx(ctx context.Context, fn func(tx *Store) error) error {
	return translate(s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(&Store{db: tx, dialect: s.dialect, inTxn: true, now: s.now, reads: s.reads})
	}), "transaction")
}
