package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	gosync "sync"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"golang.org/x/sync/errgroup"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/sync"
)

// A fresh phone's snapshot walks its scope in three phases: households by
// id, then members and then open pairings, each in (household, id) order.
// Every query starts from the scope's households — for a cadre, from their
// own pairings — and reaches the rest by index, so its cost follows the
// size of the scope, not of the province's tables. Rows are handed to the
// caller as they are scanned, never collected first.

var pairingColumns = []string{"county_id", "id", "household_id", "cadre_id", "start_on", "end_on", "end_reason", "created_by", "created_at"}

func (r *pairingRow) fields() []any {
	return []any{&r.CountyID, &r.ID, &r.HouseholdID, &r.CadreID, &r.StartOn, &r.EndOn, &r.EndReason, &r.CreatedBy, &r.CreatedAt}
}

// pairingRecordSelect is what a pulled pairing is read as: the pairing
// (alias p) and its cadre's name and phone, joined in the same statement
// (pairingCadreJoin) rather than looked up a query per pairing; empty for
// an account that is gone.
func pairingRecordSelect(p string) string {
	return qualified(p, pairingColumns) + ", COALESCE(u.display_name, ''), COALESCE(u.phone, '')"
}

// pairingCadreJoin joins the cadre (alias u) of pairing alias p. Users are
// a reference table (docs/scale.md): the join stays within the county.
func pairingCadreJoin(p string) string { return " LEFT JOIN users u ON u.id = " + p + ".cadre_id" }

func (r *pairingRecordScan) fields() []any {
	return append(r.Pairing.fields(), &r.CadreName, &r.CadrePhone)
}

func (r *pairingRecordScan) record() domain.PairingRecord {
	return domain.PairingRecord{Pairing: toDomainPairing(r.Pairing), CadreName: r.CadreName, CadrePhone: r.CadrePhone}
}

// snapshotScope is the SQL that walks a scope's households in id order:
// from (with h the household), where, their arguments (from's first), and
// key, the household id column the walk is ordered by. A cadre's walk runs
// down their pairings (index pairings_cadre is ordered by household), so a
// page stops reading once it is full; an inspector's down their active
// tasks; a region's walk sorts the region's households. day is the day
// pairings are judged open on.
type snapshotScope struct {
	from, where, key string
	args             []any
	day              sqlDate
}

// households is the query for the scope's households (alias h), in no
// particular order, and its arguments.
func (w snapshotScope) households() (string, []any) {
	return "SELECT " + qualified("h", householdColumns) + " FROM " + w.from + " WHERE " + w.where, slices.Clip(w.args)
}

// members is the query for the members (alias c) of the scope's
// households, in no particular order.
func (w snapshotScope) members() (string, []any) {
	return w.children("members", memberColumns, "", nil)
}

// openPairings is the query for the pairings (alias c) of the scope's
// households open on the day, with their cadres' names and phones, in no
// particular order.
func (w snapshotScope) openPairings() (string, []any) {
	return w.childrenJoined("pairings", pairingRecordSelect("c"), pairingCadreJoin("c"), " AND "+pairingOpen("c"), []any{w.day, w.day})
}

// children is the query for the rows of table (alias c, columns cols,
// extra condition cond) that belong to the scope's households.
func (w snapshotScope) children(table string, cols []string, cond string, condArgs []any) (string, []any) {
	return w.childrenJoined(table, qualified("c", cols), "", cond, condArgs)
}

// childrenJoined is children selecting sel, with join after the rows'
// table.
func (w snapshotScope) childrenJoined(table, sel, join, cond string, condArgs []any) (string, []any) {
	q := "SELECT " + sel + " FROM " + w.from + " JOIN " + table + " c ON c.county_id = h.county_id AND c.household_id = " + w.key + join +
		" WHERE " + w.where + cond
	return q, append(slices.Clip(w.args), condArgs...)
}

// childrenAfter pages a members or openPairings query: the rows after a
// key, in (household, id) order, up to limit.
func (w snapshotScope) childrenAfter(q string, args []any, after sync.ChildKey, limit int) (string, []any) {
	return q + " AND " + w.key + " >= ? AND (" + w.key + " > ? OR c.id > ?) ORDER BY " + w.key + ", c.id LIMIT ?",
		append(args, after.HouseholdID, after.HouseholdID, after.ID, limit)
}

func scopeWalk(scope domain.HouseholdScope, today domain.Date) snapshotScope {
	d := toSQLDate(today)
	if scope.Nothing {
		return snapshotScope{from: "households h", where: "1 = 0", key: "h.id", day: d}
	}
	if scope.InspectorID != nil {
		// An inspector's walk runs down their active tasks.
		return snapshotScope{from: inspectedHouseholds + " JOIN households h ON h.county_id = it.county_id AND h.id = it.household_id",
			where: "1 = 1", key: "it.household_id", args: []any{*scope.InspectorID}, day: d}
	}
	if scope.RegionPath == "" {
		return snapshotScope{from: "households h", where: "1 = 0", key: "h.id", day: d}
	}
	if scope.CadreID != nil && len(scope.DutyRegions(today)) > 0 {
		// A cadre with a duty region (a town head's town) walks the
		// region's households, those paired with them included.
		cond, args := pairedOrDuty("h", scope, today)
		return snapshotScope{from: "households h", where: like("h.region_path") + " AND " + cond, key: "h.id",
			args: append([]any{likePrefix(scope.RegionPath)}, args...), day: d}
	}
	if scope.CadreID != nil {
		return snapshotScope{
			from:  "pairings cp JOIN households h ON h.county_id = cp.county_id AND h.id = cp.household_id",
			where: "cp.cadre_id = ? AND " + pairingOpen("cp") + " AND " + like("h.region_path"),
			key:   "cp.household_id",
			args:  []any{*scope.CadreID, d, d, likePrefix(scope.RegionPath)},
			day:   d,
		}
	}
	return snapshotScope{from: "households h", where: like("h.region_path"), key: "h.id", args: []any{likePrefix(scope.RegionPath)}, day: d}
}

// eachRow runs query and hands every row, scanned through fields of one
// reused T, to each.
//
// On PostgreSQL the query is planned for its actual arguments every time:
// it goes as an unnamed statement (pgx's cache-describe mode caches only
// its parameter and column types), which PostgreSQL plans afresh at each
// execution, in one round trip. A named prepared statement may switch to
// a generic plan after five executions, and with the region prefix unknown
// PostgreSQL guesses the scope is tiny and walks every household of the
// table for each pairing (72 ms instead of 4 ms for a page of 2,000
// members, measured); keeping the named statement and forcing custom plans
// instead (SET LOCAL plan_cache_mode) took a transaction and three more
// round trips a query.
func eachRow[T any](ctx context.Context, s *Store, entity, query string, args []any, fields func(*T) []any, each func(*T) error) error {
	return eachRowAs(ctx, s, pgx.QueryExecModeCacheDescribe, entity, query, args, fields, each)
}

// eachRowPrepared is eachRow for a lookup by key that every request makes:
// a named prepared statement, parsed and planned once per connection,
// where a generic plan is as good as a custom one.
func eachRowPrepared[T any](ctx context.Context, s *Store, entity, query string, args []any, fields func(*T) []any, each func(*T) error) error {
	return eachRowAs(ctx, s, pgx.QueryExecModeCacheStatement, entity, query, args, fields, each)
}

// oneRowPrepared is eachRowPrepared for a query that answers at most one
// row: that row, or domain.NotFound(entity) when there is none.
func oneRowPrepared[T any](ctx context.Context, s *Store, entity, query string, args []any, fields func(*T) []any) (T, error) {
	var row T
	found := false
	err := eachRowPrepared(ctx, s, entity, query, args, fields, func(r *T) error { row, found = *r, true; return nil })
	if err == nil && !found {
		err = domain.NotFound(entity)
	}
	return row, err
}

func eachRowAs[T any](ctx context.Context, s *Store, mode pgx.QueryExecMode, entity, query string, args []any, fields func(*T) []any, each func(*T) error) error {
	var err error
	if s.dialect == Postgres {
		err = s.nativePostgres(ctx, func(conn *pgx.Conn) error {
			rows, err := conn.Query(ctx, postgresSQL(mode, query), append([]any{mode}, args...)...)
			if err != nil {
				return err
			}
			defer rows.Close()
			if err := scanEach(rows, nativeTargets, fields, each); err != nil {
				return err
			}
			rows.Close()
			return rows.Err()
		})
	} else {
		var rows *sql.Rows
		if rows, err = s.db.WithContext(ctx).Raw(query, args...).Rows(); err == nil {
			defer rows.Close()
			err = scanEach(rows, nil, fields, each)
		}
	}
	var ce callerError
	if errors.As(err, &ce) {
		return ce.err
	}
	return translate(err, entity)
}

// rowScanner is what database/sql's and pgx's result sets share.
type rowScanner interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

func scanEach[T any](rows rowScanner, targets func([]any) []any, fields func(*T) []any, each func(*T) error) error {
	var v, zero T
	dst := fields(&v)
	if targets != nil {
		dst = targets(dst)
	}
	for rows.Next() {
		// Zeroed first: a scanner may reuse what a field holds (a JSON
		// slice would share its array with the previous row).
		v = zero
		if err := rows.Scan(dst...); err != nil {
			return err
		}
		if err := each(&v); err != nil {
			return callerError{err}
		}
	}
	return rows.Err()
}

// nativePostgres runs fn on a pooled connection's own pgx handle: scanning
// through database/sql converts every value twice (a UUID is formatted as
// text by the driver and parsed back by uuid.Scan), which was most of a
// snapshot page's CPU. It reads: under a context routed to the standby
// (replica.go) the connection is the standby's, or the primary's when the
// standby gives none.
func (s *Store) nativePostgres(ctx context.Context, fn func(*pgx.Conn) error) error {
	pool, err := s.readPool(ctx)
	if err != nil {
		return err
	}
	conn, err := pool.Conn(ctx)
	if err != nil && s.standby != nil && pool == s.standby.pool && ctx.Err() == nil {
		s.standby.failed(err)
		s.countRead(ReadPrimary, ReasonFailed)
		if pool, err = s.db.DB(); err == nil {
			conn, err = pool.Conn(ctx)
		}
	}
	if err != nil {
		return err
	}
	return onNativeConn(conn, fn)
}

// nativePrimary is nativePostgres on the primary, for what writes.
func (s *Store) nativePrimary(ctx context.Context, fn func(*pgx.Conn) error) error {
	pool, err := s.db.DB()
	if err != nil {
		return err
	}
	conn, err := pool.Conn(ctx)
	if err != nil {
		return err
	}
	return onNativeConn(conn, fn)
}

func onNativeConn(conn *sql.Conn, fn func(*pgx.Conn) error) error {
	defer conn.Close()
	return conn.Raw(func(driverConn any) error {
		c, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("storage: PostgreSQL connection is a %T, not pgx", driverConn)
		}
		return fn(c.Conn())
	})
}

// nativeTargets lets pgx scan UUIDs as their 16 bytes (uuid.UUID would
// otherwise be scanned through its text form).
func nativeTargets(dst []any) []any {
	out := make([]any, len(dst))
	for i, d := range dst {
		if u, ok := d.(*uuid.UUID); ok {
			out[i] = (*[16]byte)(u)
		} else {
			out[i] = d
		}
	}
	return out
}

// postgresSQL is query with numbered placeholders; the prepared queries,
// a fixed few that every request using them asks (an upload's, a session
// check's), are numbered once.
func postgresSQL(mode pgx.QueryExecMode, query string) string {
	if mode != pgx.QueryExecModeCacheStatement {
		return numberedPlaceholders(query)
	}
	if q, ok := numberedPrepared.Load(query); ok {
		return q.(string)
	}
	q := numberedPlaceholders(query)
	numberedPrepared.Store(query, q)
	return q
}

var numberedPrepared gosync.Map

// numberedPlaceholders turns ? into $1, $2, … (what GORM does for the
// queries it sends); the snapshot queries have no ? inside literals.
func numberedPlaceholders(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// callerError carries an error of the row callback through the
// transaction untranslated.
type callerError struct{ err error }

func (e callerError) Error() string { return e.err.Error() }

// HouseholdsAfter hands each household of scope with an id above after to
// each, in id order, up to limit (fresh-phone snapshot).
func (s *Store) HouseholdsAfter(ctx context.Context, scope domain.HouseholdScope, today domain.Date, after uuid.UUID, limit int, each func(domain.Household) error) error {
	w := scopeWalk(scope, today)
	q, args := w.households()
	return eachRow(ctx, s, "household", q+" AND "+w.key+" > ? ORDER BY "+w.key+" LIMIT ?", append(args, after, limit), (*householdRow).fields,
		func(r *householdRow) error { return each(toDomainHousehold(*r)) })
}

// MembersAfter hands each member of scope's households after the key to
// each, in (household, id) order, up to limit.
func (s *Store) MembersAfter(ctx context.Context, scope domain.HouseholdScope, today domain.Date, after sync.ChildKey, limit int, each func(domain.Member) error) error {
	w := scopeWalk(scope, today)
	mq, margs := w.members()
	q, args := w.childrenAfter(mq, margs, after, limit)
	return eachRow(ctx, s, "member", q, args, (*memberRow).fields,
		func(r *memberRow) error { return each(toDomainMember(*r)) })
}

// PairingsAfter hands each pairing open on today of scope's households
// after the key to each, in (household, id) order, up to limit.
func (s *Store) PairingsAfter(ctx context.Context, scope domain.HouseholdScope, today domain.Date, after sync.ChildKey, limit int, each func(domain.PairingRecord) error) error {
	w := scopeWalk(scope, today)
	pq, pargs := w.openPairings()
	q, args := w.childrenAfter(pq, pargs, after, limit)
	return eachRow(ctx, s, "pairing", q, args, (*pairingRecordScan).fields,
		func(r *pairingRecordScan) error { return each(r.record()) })
}

// WholeScope hands every household of scope, every member of them and
// every pairing of them open on today to sinks, in no particular order.
// It is a fresh phone's snapshot in one piece: without an order to keep,
// PostgreSQL joins each table once instead of walking an index page by
// page, and the three reads run at once on their own connections, so
// scanning and encoding one overlaps the database producing the others.
// Each read is its own transaction; a record changed meanwhile is in the
// feed after the caller's watermark anyway.
func (s *Store) WholeScope(ctx context.Context, scope domain.HouseholdScope, today domain.Date, sinks sync.ScopeSinks) error {
	return s.scopeReads(ctx, scopeWalk(scope, today), scopeNarrowing{}, scopeNarrowing{}, sinks)
}

// ScopeKeysAfter returns the ids of scope's households above after, in id
// order, up to limit: where a page of whole households ends.
func (s *Store) ScopeKeysAfter(ctx context.Context, scope domain.HouseholdScope, today domain.Date, after uuid.UUID, limit int) ([]uuid.UUID, error) {
	w := scopeWalk(scope, today)
	keys := make([]uuid.UUID, 0, min(limit, 2001))
	err := eachRow(ctx, s, "household", "SELECT "+w.key+" FROM "+w.from+" WHERE "+w.where+" AND "+w.key+" > ? ORDER BY "+w.key+" LIMIT ?",
		append(slices.Clip(w.args), after, limit), func(id *uuid.UUID) []any { return []any{id} },
		func(id *uuid.UUID) error { keys = append(keys, *id); return nil })
	return keys, err
}

// ScopeRange is WholeScope for the households with ids in (after, upto]:
// a page of whole households, read as the snapshot is.
//
// The range is put on each table the read reaches, not only on the walk's
// key: the join implies it, but PostgreSQL does not carry a range across a
// join, and without it a page's members and households are read by a scan
// of the whole table hashed against the page's pairings (members 2.2 ms
// against 1.6 ms, households 1.1 against 0.65, for a page of 600
// households in a scope of 2,500; EXPLAIN ANALYZE, medians of 6).
func (s *Store) ScopeRange(ctx context.Context, scope domain.HouseholdScope, today domain.Date, after, upto uuid.UUID, sinks sync.ScopeSinks) error {
	w := scopeWalk(scope, today)
	between := func(cols ...string) scopeNarrowing {
		var n scopeNarrowing
		for _, col := range slices.Compact(cols) { // a region's walk is keyed by h.id itself
			n.cond += " AND " + col + " > ? AND " + col + " <= ?"
			n.args = append(n.args, after, upto)
		}
		return n
	}
	return s.scopeReads(ctx, w, between(w.key, "h.id"), between(w.key, "h.id", "c.household_id"), sinks)
}

// scopeNarrowing is a condition that narrows a scope read, with its
// arguments.
type scopeNarrowing struct {
	cond string
	args []any
}

// of is query q with its arguments args, narrowed.
func (n scopeNarrowing) of(q string, args []any) (string, []any) {
	return q + n.cond, append(args, n.args...)
}

// scopeReads runs the scope's three reads at once, the households narrowed
// by own and their members and pairings by children.
func (s *Store) scopeReads(ctx context.Context, w snapshotScope, own, children scopeNarrowing, sinks sync.ScopeSinks) error {
	hq, hargs := own.of(w.households())
	mq, margs := children.of(w.members())
	pq, pargs := children.of(w.openPairings())
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return eachRow(gctx, s, "household", hq, hargs, (*householdRow).fields, func(r *householdRow) error { return sinks.Household(toDomainHousehold(*r)) })
	})
	g.Go(func() error {
		return eachRow(gctx, s, "member", mq, margs, (*memberRow).fields, func(r *memberRow) error { return sinks.Member(toDomainMember(*r)) })
	})
	g.Go(func() error {
		return eachRow(gctx, s, "pairing", pq, pargs, (*pairingRecordScan).fields, func(r *pairingRecordScan) error { return sinks.Pairing(r.record()) })
	})
	return g.Wait()
}
