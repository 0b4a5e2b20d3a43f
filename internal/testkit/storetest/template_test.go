package storetest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/fieldvisit/fieldvisit/internal/testkit"
	"github.com/fieldvisit/fieldvisit/storage"
)

// TestMigratedPostgresURL: each database is fresh and migrated already
// (opening it applies nothing), what one test writes no other copy sees,
// and a template dropped under a run (as a run on newer migrations drops
// old ones) is made again.
func TestMigratedPostgresURL(t *testing.T) {
	ctx := context.Background()
	open := func(t *testing.T) *storage.DB {
		t.Helper()
		db, applied, err := storage.OpenMigrated(ctx, MigratedPostgresURL(t), t.TempDir(), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if applied != 0 {
			t.Errorf("opening a copy of the template applied %d migrations, want none", applied)
		}
		return db
	}
	hasScratch := func(t *testing.T, db *storage.DB) bool {
		t.Helper()
		return db.Gorm.Migrator().HasTable("scratch")
	}

	first := open(t)
	if err := first.Gorm.Exec(`CREATE TABLE scratch (id int)`).Error; err != nil {
		t.Fatal(err)
	}
	if !hasScratch(t, first) {
		t.Fatal("the first copy lost its own table")
	}
	if hasScratch(t, open(t)) {
		t.Error("a second copy holds the table the first one made")
	}

	serverURL := testkit.PostgresURL(t)
	name, err := postgresTemplate.name(serverURL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		t.Fatal(err)
	}
	if hasScratch(t, open(t)) {
		t.Error("a copy of the remade template holds the table")
	}
}
