package app

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// TestPushSurvivesKilledConnections: PostgreSQL connections are killed at
// random points of a 300-record push (as when the database restarts or the
// server dies). Every answer is 200 or 503 with Retry-After, never a 500;
// the database holds all of the batch or none of it; and retrying the same
// key until it succeeds stores every record exactly once.
func TestPushSurvivesKilledConnections(t *testing.T) {
	e := newTestEnv(t, "postgres")
	tok := e.login(t, "cadre-a")
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, e.app.Config.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	killAll := func() {
		_, _ = admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)
	}
	total := int64(0)
	for round, delay := range []time.Duration{0, 2 * time.Millisecond, 8 * time.Millisecond, 20 * time.Millisecond, 60 * time.Millisecond} {
		changes := make([]map[string]any, 300)
		for i := range changes {
			changes[i] = visitChange(uuid.New(), e.householdA.Household.ID, fmt.Sprintf("第%d轮", round), 34.7)
		}
		body := batch("phone-1", time.Now(), changes...)
		key := fmt.Sprintf("fault-%d", round)
		go func() { time.Sleep(delay); killAll() }()
		first := e.push(t, tok, key, body)
		switch first.Status {
		case http.StatusOK:
		case http.StatusServiceUnavailable:
			if first.Header.Get("Retry-After") == "" {
				t.Fatalf("round %d: 503 without Retry-After", round)
			}
		default:
			t.Fatalf("round %d: a killed connection answered %d: %s", round, first.Status, first.Body)
		}
		time.Sleep(100 * time.Millisecond) // let the kill land before counting
		n := countAfterKill(t, e)
		if n != total && n != total+300 {
			t.Fatalf("round %d: %d visits after the kill: the batch was half written", round, n-total)
		}
		var final response
		for attempt := 0; attempt < 50; attempt++ {
			final = e.push(t, tok, key, body)
			if final.Status == http.StatusOK {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if final.Status != http.StatusOK {
			t.Fatalf("round %d: the retry never succeeded: %d %s", round, final.Status, final.Body)
		}
		if first.Status == http.StatusOK && string(first.Body) != string(final.Body) {
			t.Fatalf("round %d: the retry after a committed push must replay its answer", round)
		}
		total += 300
		if n := countAfterKill(t, e); n != total {
			t.Fatalf("round %d: want %d visits after the retry, got %d", round, total, n)
		}
	}
}

// countAfterKill counts visits through the app's pool, some of whose
// connections the test has just killed: a dead connection fails once.
func countAfterKill(t *testing.T, e *testEnv) int64 {
	t.Helper()
	var n int64
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if err = e.app.DB.Gorm.Table("visits").Count(&n).Error; err == nil {
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("count visits: %v", err)
	return 0
}
