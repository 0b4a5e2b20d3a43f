package testkit

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestNewPostgresDatabase checks the life of a test database: created empty,
// usable, and dropped when its test ends.
func TestNewPostgresDatabase(t *testing.T) {
	ctx := context.Background()
	serverURL := PostgresURL(t) // skips or fails here if there is no server
	var dbURL, name string
	t.Run("create", func(t *testing.T) {
		dbURL = NewPostgresDatabase(t)
		t.Logf("database %s", redact(dbURL))
		u, err := url.Parse(dbURL)
		if err != nil {
			t.Fatal(err)
		}
		name = strings.TrimPrefix(u.Path, "/")
		if !regexp.MustCompile(`^fv_test_[0-9a-f]{16}$`).MatchString(name) {
			t.Fatalf("database name %q", name)
		}
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var current string
		if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&current); err != nil {
			t.Fatal(err)
		}
		if current != name {
			t.Fatalf("connected to %q, want %q", current, name)
		}
		if _, err := conn.Exec(ctx, "CREATE TABLE t (id int PRIMARY KEY)"); err != nil {
			t.Fatal(err)
		}
		// Left open on purpose until here: the drop must force it closed.
	})
	if name == "" {
		t.FailNow() // "create" failed
	}

	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("database %s still exists after its test ended", name)
	}
}

func TestNewPostgresDatabaseIsolated(t *testing.T) {
	a, b := NewPostgresDatabase(t), NewPostgresDatabase(t)
	if a == b {
		t.Fatalf("two tests got the same database %s", a)
	}
}

func TestNewBucketName(t *testing.T) {
	valid := regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)
	seen := map[string]bool{}
	for range 100 {
		n := NewBucketName(t)
		if !valid.MatchString(n) || seen[n] {
			t.Fatalf("bad or repeated bucket name %q", n)
		}
		seen[n] = true
	}
}

func TestS3Reachable(t *testing.T) {
	c := S3(t)
	if c.AccessKey == "" || c.SecretKey == "" {
		t.Fatalf("S3 credentials missing: %+v", c)
	}
}

func TestFreePort(t *testing.T) {
	if p := FreePort(t); p <= 0 || p > 65535 {
		t.Fatalf("port %d", p)
	}
}
