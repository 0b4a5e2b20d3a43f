package storage

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/sync"
)

// feedEntry is what a writer appends to the change feed, in its own
// transaction; the row is numbered later (SequenceChanges), and a pull
// reads it back as a sync.Change.
type feedEntry struct {
	CountyID    uuid.UUID
	Entity      string
	EntityID    uuid.UUID
	HouseholdID *uuid.UUID
	CadreID     *uuid.UUID
	Op          string
	Version     int64
}

type changeRow struct {
	CountyID    uuid.UUID  `gorm:"column:county_id;primaryKey"`
	ID          uuid.UUID  `gorm:"column:id;primaryKey"`
	Seq         *int64     `gorm:"column:seq"`
	Entity      string     `gorm:"column:entity"`
	EntityID    uuid.UUID  `gorm:"column:entity_id"`
	HouseholdID *uuid.UUID `gorm:"column:household_id"`
	CadreID     *uuid.UUID `gorm:"column:cadre_id"`
	Op          string     `gorm:"column:op"`
	Version     int64      `gorm:"column:version"`
	CreatedAt   time.Time  `gorm:"column:created_at"`
}

func (changeRow) TableName() string { return "changes" }

// appendChange writes a change-feed row in the caller's transaction. On
// SQLite (one writer at a time) the row is numbered at once; on PostgreSQL
// it waits for the sequencer, which numbers rows only after they commit.
func (s *Store) appendChange(tx *gorm.DB, c feedEntry) error {
	return s.appendChangeAs(tx, uuid.New(), c)
}

// appendChangeAs is appendChange with the row's id chosen by the caller.
func (s *Store) appendChangeAs(tx *gorm.DB, id uuid.UUID, c feedEntry) error {
	row := changeRow{CountyID: c.CountyID, ID: id, Entity: c.Entity, EntityID: c.EntityID, HouseholdID: c.HouseholdID,
		CadreID: c.CadreID, Op: c.Op, Version: c.Version, CreatedAt: s.stamp()}
	if s.dialect == SQLite {
		return tx.Exec(`INSERT INTO changes (county_id, id, seq, entity, entity_id, household_id, cadre_id, op, version, created_at)
			VALUES (?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM changes), ?, ?, ?, ?, ?, ?, ?)`,
			row.CountyID, row.ID, row.Entity, row.EntityID, row.HouseholdID, row.CadreID, row.Op, row.Version, row.CreatedAt).Error
	}
	return tx.Create(&row).Error
}

// appendChanges writes many feed rows in one go (imports, draws, the
// demo). On SQLite they are numbered here; on PostgreSQL after commit.
func (s *Store) appendChanges(tx *gorm.DB, cs []feedEntry) error {
	if len(cs) == 0 {
		return nil
	}
	var next int64
	if s.dialect == SQLite {
		var max *int64
		if err := tx.Raw("SELECT MAX(seq) FROM changes").Scan(&max).Error; err != nil {
			return err
		}
		if max != nil {
			next = *max
		}
	}
	now := s.stamp()
	n := len(cs)
	counties, ids, entities, entityIDs := make([]uuid.UUID, n), make([]uuid.UUID, n), make([]string, n), make([]uuid.UUID, n)
	households, cadres, ops, versions, seqs, created := make([]*uuid.UUID, n), make([]*uuid.UUID, n), make([]string, n), make([]int64, n), make([]*int64, n), make([]time.Time, n)
	for i, c := range cs {
		counties[i], ids[i], entities[i], entityIDs[i] = c.CountyID, uuid.New(), c.Entity, c.EntityID
		households[i], cadres[i], ops[i], versions[i], created[i] = c.HouseholdID, c.CadreID, c.Op, c.Version, now
		if s.dialect == SQLite {
			next++
			seq := next
			seqs[i] = &seq
		}
	}
	return s.insertColumns(tx, "changes", n,
		bulkColumn{"county_id", "uuid", counties}, bulkColumn{"id", "uuid", ids}, bulkColumn{"seq", "bigint", seqs},
		bulkColumn{"entity", "text", entities}, bulkColumn{"entity_id", "uuid", entityIDs}, bulkColumn{"household_id", "uuid", households},
		bulkColumn{"cadre_id", "uuid", cadres}, bulkColumn{"op", "text", ops}, bulkColumn{"version", "bigint", versions},
		bulkColumn{"created_at", "timestamptz", created})
}

// sequencerLock is the advisory-lock key that serialises numbering.
const sequencerLock = 7_271_003

// SequenceChanges numbers the committed, unnumbered change rows and returns
// the watermark: the highest number such that every change up to it is
// committed and visible. Numbering happens under an advisory lock, after
// commit, so numbers follow commit order: a writer that began earlier but
// committed later gets a later number, and a reader's cursor can never pass
// a change that is still to appear. Concurrent callers share passes
// (feedSequencer): each gets the watermark of a pass that began after it
// called.
func (s *Store) SequenceChanges(ctx context.Context) (int64, error) {
	if s.dialect == Postgres && !s.inTxn {
		w, err := s.sequencer.sequence(ctx, s.sequencePostgres)
		return w, translate(err, "change feed")
	}
	if s.dialect == Postgres {
		err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", sequencerLock).Error; err != nil {
				return err
			}
			return tx.Exec("UPDATE changes SET seq = nextval('changes_seq') WHERE seq IS NULL").Error
		})
		if err != nil {
			return 0, translate(err, "change feed")
		}
	}
	var w *int64
	if err := s.db.WithContext(ctx).Raw("SELECT MAX(seq) FROM changes").Scan(&w).Error; err != nil {
		return 0, translate(err, "change feed")
	}
	if w == nil {
		return 0, nil
	}
	return *w, nil
}

// sequenceStatements number the rows and read the watermark in one round
// trip (every pull page with feed rows starts with it): a simple-protocol
// message of several statements runs them in order as one transaction,
// rolled back whole if one fails, and each statement still sees what
// committed before it began (read committed), the numbering included. The
// watermark is read before the lock is released, which only makes it more
// careful than reading it after.
var sequenceStatements = fmt.Sprintf(`SELECT pg_advisory_xact_lock(%d);
UPDATE changes SET seq = nextval('changes_seq') WHERE seq IS NULL;
SELECT MAX(seq) FROM changes`, sequencerLock)

func (s *Store) sequencePostgres(ctx context.Context) (int64, error) {
	var w int64
	err := s.nativePrimary(ctx, func(conn *pgx.Conn) error {
		results, err := conn.PgConn().Exec(ctx, sequenceStatements).ReadAll()
		if err != nil {
			return err
		}
		if len(results) != 3 || len(results[2].Rows) != 1 || len(results[2].Rows[0]) != 1 {
			return fmt.Errorf("storage: sequencing answered %d results", len(results))
		}
		if v := results[2].Rows[0][0]; v != nil { // NULL: the feed is empty
			w, err = strconv.ParseInt(string(v), 10, 64)
		}
		return err
	})
	return w, err
}

var changeColumns = []string{"county_id", "id", "seq", "entity", "entity_id", "household_id", "cadre_id", "op", "version"}

func (r *changeRow) fields() []any {
	return []any{&r.CountyID, &r.ID, &r.Seq, &r.Entity, &r.EntityID, &r.HouseholdID, &r.CadreID, &r.Op, &r.Version}
}

// Changes returns the feed rows in (After, UpTo] relevant to the filter, in
// feed order, each household row with its household as it is now. A page
// names up to 2,000 rows, scanned natively rather than through GORM's
// reflection. On PostgreSQL the households come in the same statement (a
// left join on household rows), so an edited household is read once and
// the scope walked once; SQLite reads them after, in scope.
func (s *Store) Changes(ctx context.Context, f sync.ChangeFilter) ([]sync.Change, error) {
	inScope, args := scopeCondition("households", f.Scope, f.Today)
	own := "1 = 0"
	if f.CadreID != nil {
		// Only inspectors have task rows: those of their own tasks.
		own = "(c.entity IN ('visit', 'pairing', 'task') AND c.cadre_id = ?)"
		args = append(args, *f.CadreID)
	}
	scoped := "'household', 'member', 'pairing', 'plan_item', 'income_account'"
	if f.HouseholdVisits {
		scoped += ", 'visit'"
	}
	where := " WHERE c.seq > ? AND c.seq <= ? AND ((c.entity IN (" + scoped +
		") AND c.household_id IN (SELECT households.id FROM households WHERE " + inScope + ")) OR " + own + ") ORDER BY c.seq LIMIT ?"
	args = append(append([]any{f.After, f.UpTo}, args...), f.Limit)
	if s.dialect == Postgres {
		out, err := s.changesWithHouseholds(ctx, where, args, f.Limit)
		return out, translate(err, "change feed")
	}
	out := make([]sync.Change, 0, min(f.Limit, 2000))
	var households []uuid.UUID
	err := eachRow(ctx, s, "change feed", "SELECT "+qualified("c", changeColumns)+" FROM changes c"+where, args, (*changeRow).fields,
		func(r *changeRow) error {
			if r.Entity == "household" {
				households = append(households, r.EntityID)
			}
			out = append(out, toSyncChange(*r))
			return nil
		})
	if err != nil || len(households) == 0 {
		return out, err
	}
	now, err := s.HouseholdsInScope(ctx, f.Scope, f.Today, households)
	if err != nil {
		return nil, err
	}
	for i, c := range out {
		if h, ok := now[c.EntityID]; ok && c.Entity == "household" {
			out[i].Household = &h
		}
	}
	return out, nil
}

// householdOfRow is the household a feed row brings along: its entity on
// a household row, NULL on others. Spelled as the join key (rather than a
// condition beside it), it spares the other rows a probe of the
// households index that could find nothing.
const householdOfRow = "CASE WHEN c.entity = 'household' THEN c.entity_id END"

// changesWithHouseholds reads the feed rows selected by where (and args)
// with the household of each household row. The household's columns are
// NULL on other rows: those are scanned without them (pgx skips a nil
// destination), so the household row's fields keep their plain types.
func (s *Store) changesWithHouseholds(ctx context.Context, where string, args []any, limit int) ([]sync.Change, error) {
	q := "SELECT " + qualified("c", changeColumns) + ", " + qualified("h", householdColumns) +
		" FROM changes c LEFT JOIN households h ON h.county_id = c.county_id AND h.id = " + householdOfRow + where
	out := make([]sync.Change, 0, min(limit, 2000))
	err := s.nativePostgres(ctx, func(conn *pgx.Conn) error {
		rows, err := conn.Query(ctx, numberedPlaceholders(q), append([]any{pgx.QueryExecModeCacheDescribe}, args...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		var c changeRow
		var h householdRow
		withHousehold := append(nativeTargets(c.fields()), nativeTargets(h.fields())...)
		without := slices.Concat(withHousehold[:len(changeColumns)], make([]any, len(householdColumns)))
		householdID := len(changeColumns) + slices.Index(householdColumns, "id")
		for rows.Next() {
			c, h = changeRow{}, householdRow{}
			found := rows.RawValues()[householdID] != nil
			dst := without
			if found {
				dst = withHousehold
			}
			if err := rows.Scan(dst...); err != nil {
				return err
			}
			ch := toSyncChange(c)
			if found {
				dh := toDomainHousehold(h)
				ch.Household = &dh
			}
			out = append(out, ch)
		}
		return rows.Err()
	})
	return out, err
}

// toSyncChange reads a numbered feed row back (Changes selects only
// numbered rows).
func toSyncChange(r changeRow) sync.Change {
	return sync.Change{Seq: *r.Seq, CountyID: r.CountyID, Entity: r.Entity, EntityID: r.EntityID, HouseholdID: r.HouseholdID,
		CadreID: r.CadreID, Op: r.Op, Version: r.Version}
}

// datedChanges names the feed rows AnnounceDatedPairings writes: one per
// pairing and date, so announcing the same day twice writes nothing new.
var datedChanges = uuid.MustParse("5b0c7a4e-2f8d-4f1e-9c43-6a1d0e7b9f21")

// AnnounceDatedPairings writes a feed row for every pairing that began or
// ended on a day in (from, to]. Such a pairing changed who holds the
// household on that day without any write on that day (its dates were set
// in advance), so nothing else would tell the phones. It returns how many
// rows it wrote; rows already written are left alone.
func (s *Store) AnnounceDatedPairings(ctx context.Context, from, to domain.Date) (int, error) {
	f, t := toSQLDate(from), toSQLDate(to)
	var rows []pairingRow
	err := s.db.WithContext(ctx).Where("(start_on > ? AND start_on <= ?) OR (end_on > ? AND end_on <= ?)", f, t, f, t).Find(&rows).Error
	if err != nil {
		return 0, translate(err, "pairing")
	}
	n := 0
	for _, r := range rows {
		p := toDomainPairing(r)
		var days []*domain.Date
		// A pairing that began on the day it was made was announced then.
		if p.StartOn.After(domain.DateOf(p.CreatedAt)) {
			days = append(days, &p.StartOn)
		}
		for _, day := range append(days, p.EndOn) {
			if day == nil || !day.After(from) || day.After(to) {
				continue
			}
			id := uuid.NewSHA1(datedChanges, []byte(p.ID.String()+"/"+day.String()))
			wrote := false
			err := s.inTx(ctx, "pairing", func(tx *gorm.DB) error {
				var seen int64
				if err := tx.Model(&changeRow{}).Where("county_id = ? AND id = ?", p.CountyID, id).Count(&seen).Error; err != nil || seen > 0 {
					return err
				}
				wrote = true
				return s.appendChangeAs(tx, id, pairingChange(p, "update"))
			})
			if err != nil {
				return n, err
			}
			if wrote {
				n++
			}
		}
	}
	return n, nil
}
