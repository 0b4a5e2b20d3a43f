package app

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance/rules"
	"github.com/fieldvisit/fieldvisit/internal/testkit/pgstandby"
	"github.com/fieldvisit/fieldvisit/wire"
)

// newStandbyEnv starts the app on a throwaway primary with a streaming
// standby as its read replica (FIELDVISIT_DATABASE_REPLICA_URL).
func newStandbyEnv(t *testing.T) (*testEnv, *pgstandby.Pair) {
	t.Helper()
	pair := pgstandby.Start(t)
	cfg := Config{DataDir: t.TempDir(), HashConcurrency: 4, ShutdownTimeout: time.Second,
		DatabaseURL: pair.PrimaryURL, DatabaseReplicaURL: pair.StandbyURL}
	return newTestEnvConfig(t, cfg, io.Discard), pair
}

var readsLine = regexp.MustCompile(`^fieldvisit_db_reads_total\{reason="([a-z_]+)",target="([a-z]+)"\} (\d+)`)

// reads is fieldvisit_db_reads_total as /metrics shows it, by
// "target/reason".
func (e *testEnv) reads(t *testing.T) map[string]int {
	t.Helper()
	out := map[string]int{}
	lines := bufio.NewScanner(bytes.NewReader(e.do(t, "GET", "/metrics", "", nil).Body))
	for lines.Scan() {
		if m := readsLine.FindStringSubmatch(lines.Text()); m != nil {
			n, _ := strconv.Atoi(m[3])
			out[m[2]+"/"+m[1]] = n
		}
	}
	return out
}

// readsSince says which routed reads were counted since before.
func (e *testEnv) readsSince(t *testing.T, before map[string]int) map[string]int {
	t.Helper()
	out := map[string]int{}
	for k, n := range e.reads(t) {
		if d := n - before[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

func pulledID(changes []wire.PulledChange, id uuid.UUID) bool {
	for _, c := range changes {
		if c.ID == id {
			return true
		}
	}
	return false
}

// TestPullsReadTheStandbyOnlyWhenItHasTheirFeed: a pull's reads go to the
// standby only when it holds the feed up to the page's watermark. A write
// the standby has not replayed (its replay paused) is pulled from the
// primary, never missed; once replayed, the same pull is answered by the
// standby with the write in it; with the standby stopped, pulls still
// answer, from the primary.
func TestPullsReadTheStandbyOnlyWhenItHasTheirFeed(t *testing.T) {
	e, pair := newStandbyEnv(t)
	tok := e.login(t, "cadre-a")
	_, cur := e.pullAll(t, tok, "", 500)
	pair.CatchUp()
	visit := uuid.New()
	// pull pulls from cursor and returns what the routed reads counted;
	// the visit must be in it once written.
	written := false
	pull := func(cursor string) map[string]int {
		t.Helper()
		before := e.reads(t)
		if changes, _ := e.pullAll(t, tok, cursor, 500); pulledID(changes, visit) != written {
			t.Fatalf("pull from %q: the visit (written: %v) in %+v", cursor, written, changes)
		}
		return e.readsSince(t, before)
	}
	if got := pull(cur); got["replica/replayed"] == 0 || got["primary/behind"] != 0 {
		t.Fatalf("a caught-up standby should answer the pull: %v", got)
	}

	pair.PauseReplay()
	e.push(t, tok, uuid.NewString(), batch("phone-1", time.Now(), visitChange(visit, e.householdA.Household.ID, "暂停回放时的走访", 34.7))).pushResult(t)
	written = true
	if got := pull(cur); got["primary/behind"] == 0 || got["replica/replayed"] != 0 {
		t.Fatalf("a standby behind the feed must not answer: %v", got)
	}

	pair.ResumeReplay()
	if got := pull(cur); got["replica/replayed"] == 0 || got["primary/behind"] != 0 {
		t.Fatalf("the standby has replayed the write and should answer: %v", got)
	}

	pair.StopStandby()
	got := pull(cur)
	for k, n := range pull("") { // a fresh walk too
		got[k] += n
	}
	if got["primary/unreachable"] == 0 || got["replica/replayed"] != 0 {
		t.Fatalf("a stopped standby: %v", got)
	}
}

// TestAFrozenReportFromTheStandbyEqualsThePrimarys: a closed period's
// report is read from the standby only once the standby holds the close,
// and then says exactly what the primary said; live reports and exports
// wait for a standby that catches up at once.
func TestAFrozenReportFromTheStandbyEqualsThePrimarys(t *testing.T) {
	e, pair := newStandbyEnv(t)
	admin := e.login(t, "admin")
	e.pairSinceLastYear(t)
	e.judgeCompliance(t)
	thisQuarter, _ := rules.PeriodOf(rules.WindowQuarter, domain.DateOf(e.app.Now()))
	last, _ := rules.PeriodOf(rules.WindowQuarter, thisQuarter.Start.AddDays(-1))

	pair.PauseReplay()
	if r := e.do(t, "POST", "/api/v1/compliance/closes", admin, map[string]any{"region_id": e.county.ID, "period": last.Key()}); r.Status != http.StatusCreated {
		t.Fatalf("closing last quarter: %d %s", r.Status, r.Body)
	}
	report := func() []byte {
		t.Helper()
		r := e.do(t, "GET", fmt.Sprintf("/api/v1/compliance/missed?region_id=%s&period=%s", e.county.ID, last.Key()), admin, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("report: %d %s", r.Status, r.Body)
		}
		return r.Body
	}
	before := e.reads(t)
	fromPrimary := report()
	if got := e.readsSince(t, before); got["primary/behind"] != 1 || got["replica/close_replayed"] != 0 {
		t.Fatalf("a standby without the close must not answer its report: %v", got)
	}
	var rep wire.ComplianceReport
	response{Body: fromPrimary}.json(t, &rep)
	if !rep.Frozen || rep.Total.Total == 0 {
		t.Fatalf("the report is not of a frozen close with statuses: %s", fromPrimary)
	}

	pair.ResumeReplay()
	before = e.reads(t)
	if fromStandby := report(); !bytes.Equal(fromStandby, fromPrimary) {
		t.Errorf("the standby's report differs:\nprimary %s\nstandby %s", fromPrimary, fromStandby)
	}
	if got := e.readsSince(t, before); got["replica/close_replayed"] != 1 {
		t.Errorf("a standby holding the close should answer its report: %v", got)
	}

	before = e.reads(t)
	if r := e.do(t, "GET", fmt.Sprintf("/api/v1/compliance/missed?region_id=%s&period=%s", e.county.ID, thisQuarter.Key()), admin, nil); r.Status != http.StatusOK {
		t.Fatalf("live report: %d %s", r.Status, r.Body)
	}
	if r := e.do(t, "GET", "/api/v1/exports/visits?region_id="+e.county.ID.String(), admin, nil); r.Status != http.StatusOK {
		t.Fatalf("visit export: %d %.300s", r.Status, r.Body)
	}
	if got := e.readsSince(t, before); got["replica/replayed"] != 2 {
		t.Errorf("a live report and an export on a standby that keeps up: %v", got)
	}
}
