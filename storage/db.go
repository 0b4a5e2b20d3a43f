package storage

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	pgxuuid "github.com/vgarvardt/pgx-google-uuid/v5"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

//go:embed migrations
var migrations embed.FS

// Dialect names the SQL engine behind a DB.
type Dialect string

const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// DB is the opened database with its dialect.
type DB struct {
	Gorm    *gorm.DB
	Dialect Dialect
	standby *standby      // where routed reads may go (AttachReplica); nil: none
	reads   *readObserver // told where routed reads went
}

// Open connects to url: a postgres:// URL, or empty for the SQLite file
// fieldvisit.db in dataDir (the embedded default).
func Open(ctx context.Context, url, dataDir string, log *slog.Logger) (*DB, error) {
	cfg := gormConfig()
	var (
		g   *gorm.DB
		err error
		d   Dialect
	)
	switch {
	case isPostgresURL(url):
		d = Postgres
		var db *sql.DB
		if db, err = openPostgresPool(url); err != nil {
			return nil, err
		}
		g, err = gorm.Open(postgres.New(postgres.Config{Conn: db}), cfg)
	case url == "":
		d = SQLite
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data dir: %w", err)
		}
		path := filepath.Join(dataDir, "fieldvisit.db")
		// WAL keeps readers off the writer's back; busy_timeout rides out the
		// rare lock; foreign keys are off by default in SQLite.
		dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)&_txlock=immediate"
		g, err = gorm.Open(sqlite.Open(dsn), cfg)
	default:
		return nil, fmt.Errorf("database URL must start with postgres:// (or be empty for the embedded SQLite file)")
	}
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", d, err)
	}
	sqlDB, err := g.DB()
	if err != nil {
		return nil, err
	}
	if d == SQLite {
		// One connection: SQLite has one writer anyway, and a single
		// connection makes every transaction see its own writes.
		sqlDB.SetMaxOpenConns(1)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("connect to %s database: %w", d, err)
	}
	if log != nil {
		log.Info("database opened", "dialect", string(d))
	}
	return &DB{Gorm: g, Dialect: d, reads: &readObserver{}}, nil
}

func gormConfig() *gorm.Config {
	return &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,                                         // repositories open the transactions they need
		NowFunc:                func() time.Time { return time.Now().UTC() }, // NewStore puts its own clock in
		TranslateError:         false,
	}
}

func isPostgresURL(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

// openPostgresPool opens (without connecting) a pool of pgx connections
// to url: the primary's, or a read replica's.
func openPostgresPool(url string) (*sql.DB, error) {
	pc, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	// pgx would send a uuid.UUID through its driver.Valuer text form,
	// failing a binary encoding first and building an error for every
	// parameter (a quarter of a bulk insert's CPU); registered, it
	// goes as its 16 bytes.
	db := stdlib.OpenDB(*pc, stdlib.OptionAfterConnect(func(_ context.Context, c *pgx.Conn) error {
		pgxuuid.Register(c.TypeMap())
		return nil
	}))
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(8)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return db, nil
}

// Close releases the connections.
func (db *DB) Close() error {
	sqlDB, err := db.Gorm.DB()
	if err != nil {
		return err
	}
	if db.standby != nil {
		db.standby.pool.Close()
	}
	return sqlDB.Close()
}

// Ping checks the database answers; /readyz uses it.
func (db *DB) Ping(ctx context.Context) error {
	sqlDB, err := db.Gorm.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// OpenMigrated is Open followed by Migrate, which is what serving and
// every database test do: it returns the database and how many migrations
// it applied, and closes the database again if migrating fails.
func OpenMigrated(ctx context.Context, url, dataDir string, log *slog.Logger) (*DB, int, error) {
	db, err := Open(ctx, url, dataDir, log)
	if err != nil {
		return nil, 0, err
	}
	n, err := db.Migrate(ctx)
	if err != nil {
		db.Close()
		return nil, 0, err
	}
	return db, n, nil
}

// Migrate applies every pending migration of the dialect and returns how many
// were applied.
func (db *DB) Migrate(ctx context.Context) (int, error) {
	p, err := db.migrationProvider()
	if err != nil {
		return 0, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("migrate: %w", err)
	}
	return len(res), nil
}

// MigrationStatus lists each migration with whether it is applied.
func (db *DB) MigrationStatus(ctx context.Context) ([]string, error) {
	p, err := db.migrationProvider()
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range st {
		out = append(out, fmt.Sprintf("%05d %-8s %s", s.Source.Version, s.State, filepath.Base(s.Source.Path)))
	}
	return out, nil
}

// SchemaDigest identifies the dialect's migrations by their names and
// contents: databases migrated from one digest have one schema. Tests key
// a database migrated once, then copied for each test, by it.
func SchemaDigest(d Dialect) (string, error) {
	dir := "migrations/" + string(d)
	h := sha256.New()
	err := fs.WalkDir(migrations, dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := migrations.ReadFile(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %d\n", path, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (db *DB) migrationProvider() (*goose.Provider, error) {
	sqlDB, err := db.Gorm.DB()
	if err != nil {
		return nil, err
	}
	dir, dialect := "migrations/postgres", goose.DialectPostgres
	if db.Dialect == SQLite {
		dir, dialect = "migrations/sqlite", goose.DialectSQLite3
	}
	fsys, err := fs.Sub(migrations, dir)
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(dialect, sqlDB, fsys)
}

// SQL exposes the underlying pool for the few callers (tests, benchmarks)
// that need database/sql.
func (db *DB) SQL() (*sql.DB, error) { return db.Gorm.DB() }

// errNoRows is what every "not found" path checks.
func isNotFound(err error) bool {
	return errors.Is(err, gorm.ErrRecordNotFound) || errors.Is(err, sql.ErrNoRows)
}
