package storage

import "context"

// MigrateDownTo rolls the schema back to version, so a test can leave the
// data a migration meets and run it over them.
func (db *DB) MigrateDownTo(ctx context.Context, version int64) error {
	p, err := db.migrationProvider()
	if err != nil {
		return err
	}
	_, err = p.DownTo(ctx, version)
	return err
}
