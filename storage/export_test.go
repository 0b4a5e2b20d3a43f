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

// MigrateUpTo applies the pending migrations up to version, so a test can
// run one migration over the data it meets whatever newer ones follow;
// it returns how many were applied.
func (db *DB) MigrateUpTo(ctx context.Context, version int64) (int, error) {
	p, err := db.migrationProvider()
	if err != nil {
		return 0, err
	}
	res, err := p.UpTo(ctx, version)
	return len(res), err
}
