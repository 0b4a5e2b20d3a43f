package bench

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
)

// countyPartitioned are the tables that grow with the visits, rebuilt by
// `bench rules --partitions N` as hash-partitioned by county (issue 21,
// item 7): the layout Citus would give them with the county as
// distribution column, on plain PostgreSQL.
var countyPartitioned = []string{"visits", "changes", "compliance_statuses"}

// partitionByCounty rebuilds the freshly migrated (empty) table as
// declaratively hash-partitioned by county_id into parts partitions,
// keeping its columns, defaults, checks, keys and indexes. PostgreSQL, like
// Citus, wants the partition column in every primary key and unique
// index: a key without county_id gets it in front, and a unique index
// without it is kept as a plain index. Each such change is returned as a
// note. Foreign keys to the table are dropped and made again against the
// new keys.
func partitionByCounty(ctx context.Context, conn *pgx.Conn, table string, parts int) (notes []string, err error) {
	t := pgx.Identifier{table}.Sanitize()
	type constraint struct{ table, name, def string }
	read := func(q string) ([]constraint, error) {
		rows, err := conn.Query(ctx, q, table)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []constraint
		for rows.Next() {
			var c constraint
			if err := rows.Scan(&c.table, &c.name, &c.def); err != nil {
				return nil, err
			}
			out = append(out, c)
		}
		return out, rows.Err()
	}
	own, err := read(`SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
		WHERE conrelid = $1::regclass AND contype IN ('p', 'u', 'f') ORDER BY contype DESC, conname`) // p, then u, then f
	if err != nil {
		return nil, err
	}
	incoming, err := read(`SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
		WHERE confrelid = $1::regclass AND contype = 'f' ORDER BY conname`)
	if err != nil {
		return nil, err
	}
	indexes, err := read(`SELECT tablename, indexname, indexdef FROM pg_indexes i WHERE schemaname = current_schema() AND tablename = $1
		AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname) ORDER BY indexname`)
	if err != nil {
		return nil, err
	}
	stmts := []string{}
	for _, c := range incoming {
		stmts = append(stmts, fmt.Sprintf("ALTER TABLE %s DROP CONSTRAINT %s", c.table, pgx.Identifier{c.name}.Sanitize()))
	}
	stmts = append(stmts, fmt.Sprintf("CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING STORAGE) PARTITION BY HASH (county_id)",
		pgx.Identifier{table + "_by_county"}.Sanitize(), t))
	for i := 0; i < parts; i++ {
		stmts = append(stmts, fmt.Sprintf("CREATE TABLE %s PARTITION OF %s FOR VALUES WITH (MODULUS %d, REMAINDER %d)",
			pgx.Identifier{fmt.Sprintf("%s_p%d", table, i)}.Sanitize(), pgx.Identifier{table + "_by_county"}.Sanitize(), parts, i))
	}
	stmts = append(stmts, "DROP TABLE "+t, fmt.Sprintf("ALTER TABLE %s RENAME TO %s", pgx.Identifier{table + "_by_county"}.Sanitize(), t))
	for _, c := range own {
		def := c.def
		if key := keyColumns.FindStringSubmatch(def); key != nil && !strings.Contains(key[2], "county_id") {
			def = key[1] + " (county_id, " + key[2] + ")" + def[len(key[0]):]
			notes = append(notes, fmt.Sprintf("%s.%s: %s → %s", table, c.name, c.def, def))
		}
		stmts = append(stmts, fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s %s", t, pgx.Identifier{c.name}.Sanitize(), def))
	}
	for _, ix := range indexes {
		def := ix.def
		if strings.HasPrefix(def, "CREATE UNIQUE INDEX") && !strings.Contains(def, "county_id") {
			def = "CREATE INDEX" + strings.TrimPrefix(def, "CREATE UNIQUE INDEX")
			notes = append(notes, fmt.Sprintf("%s: unique index %s kept as a plain index (no county_id in it)", table, ix.name))
		}
		stmts = append(stmts, def)
	}
	for _, c := range incoming {
		stmts = append(stmts, fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s %s", c.table, pgx.Identifier{c.name}.Sanitize(), c.def))
	}
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		for _, s := range stmts {
			if _, err := tx.Exec(ctx, s); err != nil {
				return fmt.Errorf("partitioning %s: %s: %w", table, s, err)
			}
		}
		return nil
	})
	return notes, err
}

// keyColumns reads a PRIMARY KEY or UNIQUE constraint's definition.
var keyColumns = regexp.MustCompile(`^(PRIMARY KEY|UNIQUE) \(([^)]*)\)`)

// partitionTables partitions every table of countyPartitioned and says
// what it changed.
func partitionTables(ctx context.Context, dbURL string, parts int, out io.Writer) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, table := range countyPartitioned {
		notes, err := partitionByCounty(ctx, conn, table, parts)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "partitioned %s by hash of county_id into %d\n", table, parts)
		for _, n := range notes {
			fmt.Fprintf(out, "  %s\n", n)
		}
	}
	return nil
}
