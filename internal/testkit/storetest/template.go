package storetest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/fieldvisit/fieldvisit/internal/testkit"
	"github.com/fieldvisit/fieldvisit/storage"
)

// MigratedPostgresURL returns the URL of a fresh PostgreSQL database that
// already holds every migration, dropped when tb ends: a copy of a
// template database migrated once for this schema. Migrating each test's
// database instead cost a few hundred milliseconds of DDL per test, and
// hundreds of tests make one.
//
// The template, fv_tmpl_<digest of the migrations>, stays on the server
// for later runs and for other checkouts with the same migrations; a
// change of the migrations makes a new one, and the oldest are dropped
// (keptTemplates), so they do not pile up.
func MigratedPostgresURL(tb testing.TB) string {
	tb.Helper()
	for try := 0; ; try++ {
		name, err := postgresTemplate.name(testkit.PostgresURL(tb))
		if err != nil {
			tb.Fatalf("storetest: migrated template database: %v", err)
		}
		u, err := testkit.NewPostgresDatabaseFrom(tb, name)
		var pgErr *pgconn.PgError
		if try == 0 && errors.As(err, &pgErr) && pgErr.Code == "3D000" {
			// Another run, on newer migrations, dropped it as old: make
			// it again.
			postgresTemplate.forget()
			continue
		}
		if err != nil {
			tb.Fatal(err)
		}
		return u
	}
}

// keptTemplates is how many templates of other migrations stay on the
// server: those of the checkouts tested at the same time, most likely.
const keptTemplates = 4

// postgresTemplate is the template of this process's migrations, made (or
// found) at its first use.
var postgresTemplate templateDatabase

type templateDatabase struct {
	mu    sync.Mutex
	ready string // the template's name once it exists
}

func (d *templateDatabase) forget() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ready = ""
}

// name returns the template's name, making it first when the server has
// none.
func (d *templateDatabase) name(serverURL string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ready != "" {
		return d.ready, nil
	}
	digest, err := storage.SchemaDigest(storage.Postgres)
	if err != nil {
		return "", err
	}
	name := "fv_tmpl_" + digest[:16]
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := ensureTemplate(ctx, serverURL, name); err != nil {
		return "", err
	}
	d.ready = name
	return name, nil
}

// ensureTemplate makes the template database name unless it exists. The
// test processes of a run (go test -p 2) and of other checkouts share
// the server, so one makes it while the others wait on an advisory lock,
// and it gets its name only once fully migrated: a process killed midway
// leaves no half-migrated template behind under it.
func ensureTemplate(ctx context.Context, serverURL, name string) error {
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background()) // and with it the advisory lock
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(hashtext($1))", name); err != nil {
		return err
	}
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	building := name + "_building"
	ident := pgx.Identifier{building}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil { // a killed process's
		return err
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		return err
	}
	u, err := url.Parse(serverURL)
	if err != nil {
		return err
	}
	u.Path = "/" + building
	db, _, err := storage.OpenMigrated(ctx, u.String(), "", nil)
	if err != nil {
		return fmt.Errorf("migrating %s: %w", building, err)
	}
	db.Close()
	// No one may connect to a template: a session on it makes copying
	// it fail. FORCE ends the migration's sessions, should the server not
	// have seen them go yet.
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+ident+" WITH ALLOW_CONNECTIONS false"); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", building); err != nil {
		return err
	}
	if err := renameDatabase(ctx, conn, building, name); err != nil {
		return err
	}
	return dropOldTemplates(ctx, conn, name)
}

// renameDatabase renames from to to, waiting for the sessions just
// terminated to be gone.
func renameDatabase(ctx context.Context, conn *pgx.Conn, from, to string) error {
	rename := "ALTER DATABASE " + pgx.Identifier{from}.Sanitize() + " RENAME TO " + pgx.Identifier{to}.Sanitize()
	return testkit.RetryWhileInUse(func() error { _, err := conn.Exec(ctx, rename); return err })
}

// dropOldTemplates drops the templates of other migrations but the
// keptTemplates newest (by OID, which grows with each new database).
func dropOldTemplates(ctx context.Context, conn *pgx.Conn, current string) error {
	rows, err := conn.Query(ctx, `SELECT datname FROM pg_database
		WHERE datname ~ '^fv_tmpl_[0-9a-f]{16}$' AND datname <> $1 ORDER BY oid DESC OFFSET $2`, current, keptTemplates)
	if err != nil {
		return err
	}
	old, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, name := range old {
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			return err
		}
	}
	return nil
}
