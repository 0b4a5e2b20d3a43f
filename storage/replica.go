package storage

// Reads that may be answered by a PostgreSQL streaming standby.
//
// Writes, transactions, the feed sequencer and every read a service makes
// without asking stay on the primary. A service that can take a copy says
// how fresh it must be — ReadsAsOf (the change feed up to a watermark: a
// pull), ReadsCurrent (all the primary had committed when asked: live
// reports, exports, timelines) or ReadsOfClose (a period's frozen close) —
// and gets a context under which this package's plain reads go to the
// standby if, checked then, it holds that much; otherwise, or when the
// standby does not answer, they go to the primary, never to an error.
// Services never learn which database answered.
//
// gorm.io/plugin/dbresolver was not used: it sends every read outside a
// transaction to a replica unless told otherwise, and its policy sees no
// context to hold a per-request freshness rule.

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
)

// Read targets and the reasons a routed read went where it did, as the
// fieldvisit_db_reads_total counter labels them.
const (
	ReadPrimary = "primary"
	ReadReplica = "replica"

	ReasonReplayed      = "replayed"       // the standby had replayed what the reads need (the feed to their watermark, or the WAL as of the request)
	ReasonCloseReplayed = "close_replayed" // the standby holds the period's frozen close
	ReasonNoReplica     = "no_replica"     // no standby is configured
	ReasonNoPosition    = "no_position"    // the primary did not say how far its WAL has got
	ReasonBehind        = "behind"         // the standby had not replayed far enough
	ReasonUnreachable   = "unreachable"    // the standby did not answer (or recently failed)
	ReasonFailed        = "replica_failed" // a read on the standby failed and was run again on the primary
)

// standbyDownFor is how long a standby that failed is passed over before
// it is asked again, so that a dead one costs one timeout, not one a read.
const standbyDownFor = 5 * time.Second

// standbyCheckTimeout bounds asking the standby how far it has replayed.
const standbyCheckTimeout = time.Second

// standby is the streaming replica reads may go to.
type standby struct {
	pool      *sql.DB
	downUntil atomic.Int64 // unix nanoseconds
	reads     *readObserver
	log       *slog.Logger
}

// readObserver is told where each routed read went and why.
type readObserver struct {
	fn atomic.Pointer[func(target, reason string)]
}

func (o *readObserver) count(target, reason string) {
	if fn := o.fn.Load(); fn != nil && *fn != nil {
		(*fn)(target, reason)
	}
}

func (r *standby) down() bool { return time.Now().UnixNano() < r.downUntil.Load() }

func (r *standby) failed(err error) {
	r.downUntil.Store(time.Now().Add(standbyDownFor).UnixNano())
	// The idle connections to a standby that failed are likely dead too
	// (a restart ends them all): dropping them spares the next check one.
	r.pool.SetMaxIdleConns(0)
	r.pool.SetMaxIdleConns(8)
	if r.log != nil {
		r.log.Warn("read replica failed; reading from the primary", "error", err.Error(), "retry_after", standbyDownFor.String())
	}
}

// onStandby marks a context whose plain reads the standby answers.
type onStandby struct{}

func readsOnStandby(ctx context.Context) bool { b, _ := ctx.Value(onStandby{}).(bool); return b }

// routedPool is the primary's connection pool as GORM sees it, with plain
// queries under an onStandby context sent to the standby. Everything else
// — statements that write, transactions, single-row reads — goes to the
// primary; a query the standby fails is run again on the primary.
type routedPool struct {
	primary *sql.DB
	standby *standby
}

var (
	_ gorm.ConnPool       = (*routedPool)(nil)
	_ gorm.TxBeginner     = (*routedPool)(nil)
	_ gorm.GetDBConnector = (*routedPool)(nil)
)

func (p *routedPool) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return p.primary.PrepareContext(ctx, query)
}

func (p *routedPool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return p.primary.ExecContext(ctx, query, args...)
}

func (p *routedPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if readsOnStandby(ctx) && !p.standby.down() {
		rows, err := p.standby.pool.QueryContext(ctx, query, args...)
		if err == nil || ctx.Err() != nil {
			return rows, err
		}
		p.standby.failed(err)
		p.standby.reads.count(ReadPrimary, ReasonFailed)
	}
	return p.primary.QueryContext(ctx, query, args...)
}

func (p *routedPool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return p.primary.QueryRowContext(ctx, query, args...)
}

func (p *routedPool) BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error) {
	return p.primary.BeginTx(ctx, opts)
}

func (p *routedPool) GetDBConn() (*sql.DB, error) { return p.primary, nil }

// AttachReplica lets routed reads go to the PostgreSQL streaming standby
// at url; call it before NewStore. A standby that does not answer now is
// not an error: reads go to the primary until it does.
func (db *DB) AttachReplica(ctx context.Context, url string, log *slog.Logger) error {
	if db.Dialect != Postgres {
		return errors.New("a read replica needs a PostgreSQL primary (FIELDVISIT_DATABASE_URL)")
	}
	if !isPostgresURL(url) {
		return errors.New("the read replica's URL must start with postgres://")
	}
	pool, err := openPostgresPool(url)
	if err != nil {
		return err
	}
	primary, err := db.Gorm.DB()
	if err != nil {
		pool.Close()
		return err
	}
	r := &standby{pool: pool, reads: db.reads, log: log}
	g, err := gorm.Open(postgres.New(postgres.Config{Conn: &routedPool{primary: primary, standby: r}}), gormConfig())
	if err != nil {
		pool.Close()
		return err
	}
	pingCtx, cancel := context.WithTimeout(ctx, standbyCheckTimeout)
	defer cancel()
	if err := pool.PingContext(pingCtx); err != nil && log != nil {
		log.Warn("read replica does not answer; reading from the primary until it does", "error", err.Error())
	}
	db.Gorm, db.standby = g, r
	return nil
}

// ReplicaSQL is the read replica's pool, nil without one (for its
// connection metrics).
func (db *DB) ReplicaSQL() *sql.DB {
	if db.standby == nil {
		return nil
	}
	return db.standby.pool
}

// ObserveReads has fn told where each routed read went and why (the
// fieldvisit_db_reads_total counter); nil stops telling.
func (s *Store) ObserveReads(fn func(target, reason string)) {
	s.reads.fn.Store(&fn)
}

func (s *Store) countRead(target, reason string) { s.reads.count(target, reason) }

// ReadsAsOf returns ctx for reads that need the change feed up to
// watermark w: every change up to it numbered and visible, and every
// record at least as it was when its change was numbered. The standby
// answers them when it shows a feed numbered to w or beyond: numbering
// runs one transaction at a time under a lock, after the writes it
// numbers committed, and a standby replays commits in the primary's
// order, so a standby that shows number w has replayed the numbering of
// everything up to w and the writes behind it. Unrelated writes since
// (sessions, audit, device health) do not hold it back.
func (s *Store) ReadsAsOf(ctx context.Context, w int64) context.Context {
	return s.routeReads(ctx, ReasonReplayed, 0, func(check context.Context) (bool, error) {
		var max sql.NullInt64
		err := s.standby.pool.QueryRowContext(check, "SELECT MAX(seq) FROM changes").Scan(&max)
		return max.Int64 >= w, err
	})
}

// currentWait is how long ReadsCurrent waits for the standby to replay
// what the primary has just written (an export's own audit row, a
// judgement a moment ago) before it gives the reads to the primary.
const currentWait = 100 * time.Millisecond

// ReadsCurrent returns ctx for reads that must reflect everything
// committed before now (a live report, an export, a timeline): the
// standby answers them once it has replayed the primary's WAL as it
// stood when asked, which it is given up to currentWait to do.
func (s *Store) ReadsCurrent(ctx context.Context) context.Context {
	var at uint64
	return s.routeReads(ctx, ReasonReplayed, currentWait, func(check context.Context) (bool, error) {
		if at == 0 {
			primary, err := s.db.DB()
			if err != nil {
				return false, err
			}
			var lsn int64
			if err := primary.QueryRowContext(ctx, "SELECT (pg_current_wal_insert_lsn() - '0/0')::bigint").Scan(&lsn); err != nil {
				return false, errPrimaryPosition{err}
			}
			at = uint64(lsn)
		}
		var replayed sql.NullInt64
		if err := s.standby.pool.QueryRowContext(check, "SELECT (pg_last_wal_replay_lsn() - '0/0')::bigint").Scan(&replayed); err != nil {
			return false, err
		}
		if !replayed.Valid {
			// Not in recovery (a promoted standby): its history may
			// have left the primary's.
			return false, errors.New("the read replica is not a standby in recovery")
		}
		return uint64(replayed.Int64) >= at, nil
	})
}

// errPrimaryPosition is the primary failing to say where its WAL stands:
// the standby is not to blame.
type errPrimaryPosition struct{ error }

// ReadsOfClose returns ctx for reads of a county's frozen close of a
// period. The close and its frozen statuses commit together and never
// change, so a standby that shows the close holds all of it.
func (s *Store) ReadsOfClose(ctx context.Context, countyID uuid.UUID, periodKey string) context.Context {
	return s.routeReads(ctx, ReasonCloseReplayed, 0, func(check context.Context) (bool, error) {
		var closed bool
		err := s.standby.pool.QueryRowContext(check, "SELECT EXISTS (SELECT 1 FROM compliance_closes WHERE county_id = $1 AND period_key = $2)",
			countyID, periodKey).Scan(&closed)
		return closed, err
	})
}

// routeReads returns ctx routed to the standby when fresh says it holds
// what the reads need (asking again for up to wait), counted with
// reason; else ctx routed to the primary, counted with why.
func (s *Store) routeReads(ctx context.Context, reason string, wait time.Duration, fresh func(check context.Context) (bool, error)) context.Context {
	if s.standby == nil || s.inTxn {
		s.countRead(ReadPrimary, ReasonNoReplica)
		return onPrimary(ctx)
	}
	if s.standby.down() {
		s.countRead(ReadPrimary, ReasonUnreachable)
		return onPrimary(ctx)
	}
	deadline := time.Now().Add(wait)
	for {
		check, cancel := context.WithTimeout(ctx, standbyCheckTimeout)
		ok, err := fresh(check)
		cancel()
		var primaryFailed errPrimaryPosition
		switch {
		case errors.As(err, &primaryFailed):
			s.countRead(ReadPrimary, ReasonNoPosition)
			return onPrimary(ctx)
		case err != nil:
			if ctx.Err() == nil {
				s.standby.failed(err)
			}
			s.countRead(ReadPrimary, ReasonUnreachable)
			return onPrimary(ctx)
		case ok:
			s.countRead(ReadReplica, reason)
			return context.WithValue(ctx, onStandby{}, true)
		case time.Now().After(deadline):
			s.countRead(ReadPrimary, ReasonBehind)
			return onPrimary(ctx)
		}
		select {
		case <-ctx.Done():
			return onPrimary(ctx)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// onPrimary is ctx with its reads on the primary, whatever an outer
// context said.
func onPrimary(ctx context.Context) context.Context {
	if readsOnStandby(ctx) {
		return context.WithValue(ctx, onStandby{}, false)
	}
	return ctx
}

// readPool is the pool a native (pgx) read under ctx uses: the standby's
// when ctx was routed there and it answers, else the primary's.
func (s *Store) readPool(ctx context.Context) (*sql.DB, error) {
	if s.standby != nil && !s.inTxn && readsOnStandby(ctx) && !s.standby.down() {
		return s.standby.pool, nil
	}
	return s.db.DB()
}
