// Package testkit gives tests the real services they run against: a fresh
// PostgreSQL database per test and a MinIO (S3) server.
//
// The services come from the environment that internal/testenv sets up for
// `make test`:
//
//	FIELDVISIT_TEST_POSTGRES_URL   PostgreSQL server URL (default: the local
//	                               server, postgres://postgres@127.0.0.1:5432/postgres)
//	FIELDVISIT_TEST_S3_ENDPOINT    MinIO host:port
//	FIELDVISIT_TEST_S3_ACCESS_KEY
//	FIELDVISIT_TEST_S3_SECRET_KEY
//
// When a service cannot be reached, the test is skipped with a hint to run
// `make test`, except under CI=true, where it fails: CI must never go green
// by skipping the tests that matter.
//
// testkit imports no other fieldvisit package, so that any package's tests
// can use it; migrating a database is the caller's business.
package testkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Environment variables read by this package (set by internal/testenv).
const (
	EnvPostgresURL = "FIELDVISIT_TEST_POSTGRES_URL"
	EnvS3Endpoint  = "FIELDVISIT_TEST_S3_ENDPOINT"
	EnvS3AccessKey = "FIELDVISIT_TEST_S3_ACCESS_KEY"
	EnvS3SecretKey = "FIELDVISIT_TEST_S3_SECRET_KEY"
)

// DefaultPostgresURL is used when EnvPostgresURL is not set.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// unavailable fails the test under CI=true and skips it otherwise.
func unavailable(tb testing.TB, what string, err error) {
	tb.Helper()
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		tb.Fatalf("%s unavailable under CI=true: %v", what, err)
	}
	tb.Skipf("%s unavailable (%v); run `make test`, which starts the test services", what, err)
}

// PostgresURL returns the URL of the PostgreSQL server to test against,
// after checking that it answers.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(EnvPostgresURL)
	if u == "" {
		u = DefaultPostgresURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err == nil {
		err = conn.Ping(ctx)
		conn.Close(context.Background())
	}
	if err != nil {
		unavailable(tb, "PostgreSQL at "+redact(u), err)
	}
	return u
}

// NewPostgresDatabase creates an empty database with a random name on the
// PostgreSQL server, returns its URL, and drops it when the test ends.
func NewPostgresDatabase(tb testing.TB) string {
	tb.Helper()
	u, err := NewPostgresDatabaseFrom(tb, "")
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// NewPostgresDatabaseFrom is NewPostgresDatabase with the new database a
// copy of the database template ("": the server's default, empty
// template1), and its error returned: the caller may make a missing
// template and try again.
func NewPostgresDatabaseFrom(tb testing.TB, template string) (string, error) {
	tb.Helper()
	serverURL := PostgresURL(tb)
	u, err := url.Parse(serverURL)
	if err != nil || u.Scheme != "postgres" && u.Scheme != "postgresql" {
		tb.Fatalf("testkit: %s must be a postgres:// URL: %q", EnvPostgresURL, redact(serverURL))
	}
	name := "fv_test_" + randomHex(8)
	ident := pgx.Identifier{name}.Sanitize()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	create := "CREATE DATABASE " + ident
	if template != "" {
		create += " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	}
	// Another session may be using the template at that moment.
	err = RetryWhileInUse(func() error { return adminExec(ctx, serverURL, create) })
	if err != nil {
		return "", fmt.Errorf("testkit: creating database %s: %w", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := adminExec(ctx, serverURL, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
			tb.Errorf("testkit: dropping database %s: %v", name, err)
		}
	})

	u.Path = "/" + name
	return u.String(), nil
}

// adminExec runs one statement on its own connection (CREATE/DROP DATABASE
// cannot run inside a transaction or on the database concerned).
func adminExec(ctx context.Context, serverURL, sql string) error {
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

// RetryWhileInUse runs exec again, a little later each time (4.5 s in
// all), while PostgreSQL refuses it because another session is using an
// object it needs — a template being copied, a database whose sessions
// were just ended — and returns its last error.
func RetryWhileInUse(exec func() error) error {
	err := exec()
	for try := 1; isObjectInUse(err) && try < 10; try++ {
		time.Sleep(time.Duration(try) * 100 * time.Millisecond)
		err = exec()
	}
	return err
}

func isObjectInUse(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "55006"
}

// S3Config is how to reach the test MinIO server.
type S3Config struct {
	Endpoint  string // host:port
	AccessKey string
	SecretKey string
}

// S3 returns the test MinIO server's address and credentials, after checking
// that it accepts connections.
func S3(tb testing.TB) S3Config {
	tb.Helper()
	c := S3Config{
		Endpoint:  os.Getenv(EnvS3Endpoint),
		AccessKey: os.Getenv(EnvS3AccessKey),
		SecretKey: os.Getenv(EnvS3SecretKey),
	}
	if c.Endpoint == "" {
		unavailable(tb, "S3 (MinIO)", errors.New(EnvS3Endpoint+" is not set"))
	}
	conn, err := net.DialTimeout("tcp", c.Endpoint, 5*time.Second)
	if err != nil {
		unavailable(tb, "S3 (MinIO) at "+c.Endpoint, err)
	}
	conn.Close()
	return c
}

// NewBucketName returns a bucket name no other test uses: lowercase, valid
// for S3. Creating (and removing) the bucket is up to the caller.
func NewBucketName(tb testing.TB) string {
	tb.Helper()
	return "fv-test-" + randomHex(8)
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("testkit: finding a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// redact hides a password in a URL for messages.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Sprintf("<unparsable URL of %d bytes>", len(s))
	}
	return u.Redacted()
}
