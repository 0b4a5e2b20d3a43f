package pgstandby_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/fieldvisit/fieldvisit/internal/testkit/pgstandby"
)

// The standby shows what the primary committed once it has replayed it,
// and nothing committed while its replay is paused.
func TestTheStandbyFollowsThePrimaryUnlessPaused(t *testing.T) {
	p := pgstandby.Start(t)
	ctx := context.Background()
	exec(t, p.PrimaryURL, "CREATE TABLE marks (n int)")
	exec(t, p.PrimaryURL, "INSERT INTO marks VALUES (1)")
	p.CatchUp()
	if n := count(t, p.StandbyURL); n != 1 {
		t.Fatalf("standby has %d marks after catching up, want 1", n)
	}
	p.PauseReplay()
	exec(t, p.PrimaryURL, "INSERT INTO marks VALUES (2)")
	if n := count(t, p.StandbyURL); n != 1 {
		t.Fatalf("standby has %d marks while paused, want 1", n)
	}
	p.ResumeReplay()
	if n := count(t, p.StandbyURL); n != 2 {
		t.Fatalf("standby has %d marks after resuming, want 2", n)
	}
	p.StopStandby()
	if conn, err := pgx.Connect(ctx, p.StandbyURL); err == nil {
		conn.Close(ctx)
		t.Fatal("the stopped standby still answers")
	}
}

func exec(t *testing.T, url, sql string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func count(t *testing.T, url string) int {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM marks").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
