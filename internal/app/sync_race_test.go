package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/fieldvisit/fieldvisit/domain"
	fvsync "github.com/fieldvisit/fieldvisit/sync"
	"github.com/fieldvisit/fieldvisit/wire"
)

// pushStored sends a batch as a phone does: after a 409 (a race the server
// lost and rolled back) it sends the same key and bytes again, until the
// answer is anything else. It returns that answer and the 409s before it.
// Safe to call from several goroutines.
func (e *testEnv) pushStored(t *testing.T, token, key string, body []byte) (final response, lost []response) {
	t.Helper()
	for range 50 {
		r := e.push(t, token, key, body)
		if r.Status != http.StatusConflict {
			return r, lost
		}
		lost = append(lost, r)
		time.Sleep(5 * time.Millisecond) // the answer says Retry-After: 1; a test need not wait that long
	}
	return lost[len(lost)-1], lost
}

// checkLostRace checks a 409 is the documented answer to a lost race: a
// conflict problem telling the phone when to send the same batch again.
func checkLostRace(t *testing.T, r response) {
	t.Helper()
	if p := r.problem(t); p.Type != "urn:fieldvisit:problem:conflict" || r.Header.Get("Retry-After") == "" {
		t.Errorf("a lost race must answer a conflict problem with Retry-After, got %s (Retry-After %q)", r.Body, r.Header.Get("Retry-After"))
	}
}

// incomeNotesBatch edits income_notes on each household, in the order
// given, from the first version (base_version 1, base ""), so that every
// edit after a household's first overwrites someone's value.
func incomeNotesBatch(t testing.TB, device string, households []uuid.UUID, note func(uuid.UUID) string) []byte {
	t.Helper()
	changes := make([]map[string]any, len(households))
	for i, h := range households {
		changes[i] = map[string]any{"entity": "household", "op": "update", "id": h, "base_version": 1,
			"base": map[string]any{"income_notes": ""}, "data": map[string]any{"income_notes": note(h)}}
	}
	b, err := json.Marshal(batch(device, time.Now(), changes...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sharedHouseholds registers n households in village A, each paired with
// every cadre given.
func (e *testEnv) sharedHouseholds(t testing.TB, n int, cadres ...uuid.UUID) []uuid.UUID {
	t.Helper()
	ids := make([]uuid.UUID, n)
	for i := range ids {
		h := e.addHousehold(t, e.groupA, fmt.Sprintf("共%d", i), fmt.Sprintf("41012219800101%03d", 100+i))
		for _, c := range cadres {
			e.pair(t, h.Household.ID, c)
		}
		ids[i] = h.Household.ID
	}
	return ids
}

// TestCrossedHouseholdEditsAreAllStored: two cadres sharing households
// push at the same moment, round after round, batches editing income_notes
// on the same households, one in order and one reversed: the pattern that
// made PostgreSQL break a deadlock by failing a change, which the batch
// then stored as rejected under its key for ever. Every edit must be
// stored (applied, merged or conflict, never rejected); batches lock their
// households in one order, so none loses a race (were one to, its 409
// stores nothing and the same key and bytes store it); and at the end
// every value written is accounted for: each edit added one version, and
// every value but the last is kept as a conflict.
func TestCrossedHouseholdEditsAreAllStored(t *testing.T) {
	const households, rounds = 5, 40
	e := newTestEnv(t, "postgres")
	second := e.addUser(t, "cadre-a2", domain.RoleCadre, e.villageA, &e.unitA, domain.RankStaff)
	hs := e.sharedHouseholds(t, households, e.cadreA.ID, second.ID)
	reversed := slices.Clone(hs)
	slices.Reverse(reversed)
	phones := []struct {
		user, device string
		token        string
		order        []uuid.UUID
	}{
		{user: "cadre-a", device: "phone-in-order", token: e.login(t, "cadre-a"), order: hs},
		{user: "cadre-a2", device: "phone-reversed", token: e.login(t, "cadre-a2"), order: reversed},
	}
	written := map[uuid.UUID][]string{}
	var edits, rejected, races int
	for round := range rounds {
		bodies := make([][]byte, len(phones))
		for i, p := range phones {
			bodies[i] = incomeNotesBatch(t, p.device, p.order, func(h uuid.UUID) string {
				note := fmt.Sprintf("%s 第%d轮", p.user, round)
				written[h] = append(written[h], note)
				return note
			})
		}
		finals := make([]response, len(phones))
		lost := make([][]response, len(phones))
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, p := range phones {
			wg.Go(func() {
				<-start
				finals[i], lost[i] = e.pushStored(t, p.token, fmt.Sprintf("%s-%d", p.device, round), bodies[i])
			})
		}
		close(start)
		wg.Wait()
		for i := range phones {
			for _, r := range lost[i] {
				checkLostRace(t, r)
			}
			races += len(lost[i])
			for _, res := range finals[i].pushResult(t).Results {
				edits++
				switch res.Status {
				case wire.StatusApplied, wire.StatusMerged, wire.StatusConflict:
				default:
					rejected++
					t.Errorf("round %d, %s, change %d: %s %+v", round, phones[i].device, res.Index, res.Status, res.Errors)
				}
			}
		}
	}
	t.Logf("%d rounds, %d edits: %d lost races answered 409 and stored on retry, %d edits refused", rounds, edits, races, rejected)
	if races > 0 {
		t.Errorf("%d batches lost a race: batches that lock their households in one order cannot deadlock", races)
	}

	ctx := context.Background()
	for _, id := range hs {
		h, err := e.app.Store.HouseholdByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if want := int64(1 + len(written[id])); h.Version != want {
			t.Errorf("household %s: version %d after %d edits, want %d", id, h.Version, len(written[id]), want)
		}
		conflicts, _, err := e.app.Store.Conflicts(ctx, fvsync.ConflictFilter{HouseholdID: &id, Limit: 10 * rounds})
		if err != nil {
			t.Fatal(err)
		}
		kept := map[string]int{h.IncomeNotes: 1}
		for _, c := range conflicts {
			var lost string
			if err := json.Unmarshal(c.LostValue, &lost); err != nil {
				t.Fatalf("conflict %s: lost value %s: %v", c.ID, c.LostValue, err)
			}
			kept[lost]++
		}
		var missing []string
		for _, note := range written[id] {
			if kept[note] != 1 {
				missing = append(missing, note)
			}
		}
		if len(missing) > 0 || len(kept) != len(written[id]) {
			t.Errorf("household %s: the final value and its %d conflicts must hold each of the %d values written once; not so for %q",
				id, len(conflicts), len(written[id]), missing)
		}
	}
}

// TestLostRaceAbortsThePush: when PostgreSQL breaks a deadlock by failing
// the push, wherever in the batch that happens, the whole batch rolls back
// and answers 409 with Retry-After; nothing is stored under the key, so the
// same key and bytes then store the batch. The deadlock is made for real:
// another transaction holds a row the change needs, then waits for the
// push's transaction by claiming the same key.
func TestLostRaceAbortsThePush(t *testing.T) {
	e := newTestEnv(t, "postgres")
	ctx := context.Background()
	tok := e.login(t, "cadre-a")
	h := e.householdA.Household
	edited := uuid.New()
	e.push(t, tok, "setup", batch("phone-1", time.Now(), visitChange(edited, h.ID, "先记一笔", 34.7))).pushResult(t)

	cases := []struct {
		name   string
		change map[string]any
		hold   string // run by the other transaction first, to hold what the change needs
		args   []any
	}{
		{
			name: "a household edit, waiting for its household",
			change: map[string]any{"entity": "household", "op": "update", "id": h.ID, "base_version": 1,
				"base": map[string]any{"income_notes": ""}, "data": map[string]any{"income_notes": "外出务工"}},
			hold: `SELECT id FROM households WHERE id = $1 FOR UPDATE`,
			args: []any{h.ID},
		},
		{
			name: "a visit edit, waiting for its visit",
			change: map[string]any{"entity": "visit", "op": "update", "id": edited, "base_version": 1,
				"base": map[string]any{"notes": "先记一笔"}, "data": map[string]any{"notes": "补记"}},
			hold: `SELECT id FROM visits WHERE id = $1 FOR UPDATE`,
			args: []any{edited},
		},
		{
			name:   "new visits, waiting for the compliance queue",
			change: visitChange(uuid.New(), h.ID, "新的走访", 34.7),
			hold: `INSERT INTO compliance_queue (subject_kind, subject_id, year, county_id, enqueued_at)
				VALUES ('household', $1, 2026, $2, now())
				ON CONFLICT (subject_kind, subject_id, year) DO UPDATE SET enqueued_at = excluded.enqueued_at`,
			args: []any{h.ID, h.CountyID},
		},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key := fmt.Sprintf("raced-%d", i)
			body, err := json.Marshal(batch("phone-1", time.Now(), tc.change))
			if err != nil {
				t.Fatal(err)
			}
			other := pgConnect(t, e)
			tx, err := other.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(ctx)
			if _, err := tx.Exec(ctx, tc.hold, tc.args...); err != nil {
				t.Fatal(err)
			}
			answer := make(chan response, 1)
			go func() { answer <- e.push(t, tok, key, body) }()
			waitForLockWait(t, e)
			// The push holds its key until it ends: claiming the key too
			// closes the circle. The push has waited longer, so PostgreSQL's
			// deadlock check fails the push, and this insert goes through
			// once the push is rolled back (or finds the key taken if the
			// push went on and committed).
			_, claimErr := tx.Exec(ctx, `INSERT INTO idempotency_keys (user_id, key, request_sha256, status_code, response, created_at, expires_at)
				VALUES ($1, $2, 'other', 0, '', now(), now()) ON CONFLICT DO NOTHING`, e.cadreA.ID, key)
			r := <-answer
			if claimErr != nil {
				t.Logf("the other transaction lost the deadlock instead: %v", claimErr)
			}
			if r.Status != http.StatusConflict {
				t.Fatalf("a push failed by a deadlock must answer 409, got %d %s", r.Status, r.Body)
			}
			checkLostRace(t, r)
			if err := tx.Rollback(ctx); err != nil {
				t.Fatal(err)
			}
			var stored int64
			if err := e.app.DB.Gorm.Table("idempotency_keys").Where("user_id = ? AND key = ?", e.cadreA.ID, key).Count(&stored).Error; err != nil {
				t.Fatal(err)
			}
			if stored != 0 {
				t.Fatal("a batch answered 409 left its key claimed: a retry would replay instead of applying it")
			}
			retry := e.push(t, tok, key, body)
			res := retry.pushResult(t).Results[0]
			if res.Status != wire.StatusApplied {
				t.Fatalf("the retry of a lost race must apply the change, got %s %+v", res.Status, res.Errors)
			}
			if replay := e.push(t, tok, key, body); string(replay.Body) != string(retry.Body) {
				t.Fatalf("after the retry the key replays its answer: %s, then %s", retry.Body, replay.Body)
			}
		})
	}
}

// pgConnect opens a connection of the test's own to the app's database.
func pgConnect(t testing.TB, e *testEnv) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, e.app.Config.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(ctx) })
	return c
}

// waitForLockWait returns once a session of the app's database waits for a
// row lock.
func waitForLockWait(t testing.TB, e *testEnv) {
	t.Helper()
	ctx := context.Background()
	watcher := pgConnect(t, e)
	for range 2000 {
		var waiting int
		err := watcher.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the push never waited for the row the other transaction holds")
}

// TestEvidenceJobAndPushesShareHouseholds: the evidence job writes flags on
// new visits while the cadre's other phone pushes edits of those same
// visits, in another order. The job locks what a push locks, in the same
// order, so neither waits on the other in a circle: no push loses a race,
// no judgement is failed by a deadlock, and once the job has caught up
// every edit is stored, every visit judged and nothing stays queued.
func TestEvidenceJobAndPushesShareHouseholds(t *testing.T) {
	const households, perHousehold, rounds = 6, 2, 30
	var logs lockedBuffer
	e := newTestEnvLogging(t, "postgres", &logs)
	ctx := context.Background()
	tok := e.login(t, "cadre-a")
	hs := e.sharedHouseholds(t, households, e.cadreA.ID)
	var visits, races, rejected int
	var jobErrors []error
	store := func(key string, changes []map[string]any) {
		t.Helper()
		body, err := json.Marshal(batch("phone-"+key, time.Now(), changes...))
		if err != nil {
			t.Fatal(err)
		}
		final, lost := e.pushStored(t, tok, key, body)
		races += len(lost)
		for _, r := range lost {
			checkLostRace(t, r)
		}
		for _, res := range final.pushResult(t).Results {
			if res.Status == wire.StatusRejected {
				rejected++
				t.Errorf("%s, change %d: rejected %+v", key, res.Index, res.Errors)
			}
		}
	}
	for round := range rounds {
		notes := fmt.Sprintf("第%d轮", round)
		var creates, edits []map[string]any
		for range perHousehold {
			for _, h := range hs {
				id := uuid.New()
				creates = append(creates, visitChange(id, h, notes, 34.7))
				edits = append(edits, map[string]any{"entity": "visit", "op": "update", "id": id, "base_version": 1,
					"base": map[string]any{"notes": notes}, "data": map[string]any{"notes": notes + "补记"}})
			}
		}
		store(fmt.Sprintf("create-%d", round), creates)
		visits += len(creates)
		slices.Reverse(edits)
		done := make(chan struct{})
		var jobErr []error
		var wg sync.WaitGroup
		wg.Go(func() {
			for {
				if _, err := e.app.Photos.AssessQueued(ctx, 100); err != nil {
					jobErr = append(jobErr, err)
				}
				select {
				case <-done:
					return
				default:
				}
			}
		})
		store(fmt.Sprintf("edit-%d", round), edits)
		close(done)
		wg.Wait()
		jobErrors = append(jobErrors, jobErr...)
	}
	t.Logf("%d rounds, %d visits created and edited: %d lost races answered 409 and stored on retry, %d changes refused, %d job runs failed",
		rounds, visits, races, rejected, len(jobErrors))
	for _, err := range jobErrors {
		t.Errorf("the evidence job failed: %v", err)
	}
	if races > 0 || strings.Contains(logs.String(), "40P01") {
		t.Errorf("a push or a judgement deadlocked (%d pushes lost a race); the log:\n%s", races, deadlockLines(logs.String()))
	}
	e.assessEvidence(t)
	if n := e.count(t, "evidence_queue"); n != 0 {
		t.Errorf("%d visits still queued after the job caught up", n)
	}
	all, _, err := e.app.Store.Visits(ctx, domain.VisitFilter{Scope: e.admin.HouseholdScope(), Limit: 10 * visits})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != visits {
		t.Fatalf("%d visits stored, want %d", len(all), visits)
	}
	for _, v := range all {
		if v.Version != 2 || !slices.ContainsFunc(v.Flags, func(f domain.Flag) bool { return f.Code == "no_photo" }) {
			t.Errorf("visit %s: version %d, flags %+v; want the edit stored and the visit judged", v.ID, v.Version, v.Flags)
		}
	}
}

// TestEvidenceJobTakesTheHouseholdFirst: a push holds a household and a
// compliance queue row its earlier changes wrote, then edits a visit of
// that household; meanwhile the evidence job judges that visit. The job
// takes the visit's household before the visit, as the push did, so it
// waits for the push rather than holding the visit the push needs while
// waiting for the queue row the push holds: the push gets its visit, and
// the job judges the visit once the push is over. (Played step by step
// with a transaction of the test's own standing for the push.)
func TestEvidenceJobTakesTheHouseholdFirst(t *testing.T) {
	e := newTestEnv(t, "postgres")
	ctx := context.Background()
	h := e.householdA.Household
	visit := uuid.New()
	e.push(t, e.login(t, "cadre-a"), "setup", batch("phone-1", time.Now(), visitChange(visit, h.ID, "待核查", 34.7))).pushResult(t)

	push, err := pgConnect(t, e).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer push.Rollback(ctx)
	for _, step := range []struct {
		sql  string
		args []any
	}{
		{`SELECT id FROM households WHERE county_id = $1 AND id = $2 FOR UPDATE`, []any{h.CountyID, h.ID}},
		{`INSERT INTO compliance_queue (subject_kind, subject_id, year, county_id, enqueued_at) VALUES ('cadre', $1, 2026, $2, now())
			ON CONFLICT (subject_kind, subject_id, year) DO UPDATE SET enqueued_at = excluded.enqueued_at`, []any{e.cadreA.ID, h.CountyID}},
	} {
		if _, err := push.Exec(ctx, step.sql, step.args...); err != nil {
			t.Fatal(err)
		}
	}
	job := e.startEvidenceJob(ctx)
	waitForLockWait(t, e)
	if _, err := push.Exec(ctx, `SELECT id FROM visits WHERE id = $1 FOR UPDATE`, visit); err != nil {
		t.Fatalf("the push could not lock the visit the job is judging: %v", err)
	}
	if err := push.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if got := <-job; got.err != nil || got.judged != 1 {
		t.Fatalf("the job judged %d visits (%v), want the one queued", got.judged, got.err)
	}
	if !e.visitHasFlag(t, visit, "no_photo") || e.count(t, "evidence_queue") != 0 {
		t.Fatal("the visit was not judged, or stays queued")
	}
}

// TestEvidenceJobKeepsAVisitItLostARaceFor: when PostgreSQL breaks a
// deadlock by failing the job's judgement (here against a writer of the
// test's own that takes the visit before its household), the job goes on
// without failing and the visit stays queued, to be judged on the next
// pass.
func TestEvidenceJobKeepsAVisitItLostARaceFor(t *testing.T) {
	e := newTestEnv(t, "postgres")
	ctx := context.Background()
	h := e.householdA.Household
	visit := uuid.New()
	e.push(t, e.login(t, "cadre-a"), "setup", batch("phone-1", time.Now(), visitChange(visit, h.ID, "待核查", 34.7))).pushResult(t)

	other, err := pgConnect(t, e).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Rollback(ctx)
	if _, err := other.Exec(ctx, `SELECT id FROM visits WHERE id = $1 FOR UPDATE`, visit); err != nil {
		t.Fatal(err)
	}
	job := e.startEvidenceJob(ctx)
	waitForLockWait(t, e)
	// The job holds the household and waits for the visit: asking for the
	// household closes the circle, and the job, waiting longer, is failed.
	if _, err := other.Exec(ctx, `SELECT id FROM households WHERE id = $1 FOR UPDATE`, h.ID); err != nil {
		t.Fatalf("the other writer lost the deadlock instead of the job: %v", err)
	}
	if err := other.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if got := <-job; got.err != nil || got.judged != 0 {
		t.Fatalf("the job judged %d visits (%v), want its judgement failed by the deadlock and the job gone on without failing", got.judged, got.err)
	}
	if n := e.count(t, "evidence_queue"); n != 1 {
		t.Fatalf("%d visits queued after the lost race, want the visit kept", n)
	}
	e.assessEvidence(t)
	if !e.visitHasFlag(t, visit, "no_photo") {
		t.Fatal("the visit kept in the queue was never judged")
	}
}

// deadlockLines picks the log lines telling of a deadlock.
func deadlockLines(log string) string {
	var out []string
	for line := range strings.Lines(log) {
		if strings.Contains(line, "40P01") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "")
}

// TestAPushLocksNothingOutsideItsScope: a phone that names another
// village's household (or another cadre's visit) is refused that change,
// and it takes no lock on that household on the way, so it cannot hold up
// the writers who may touch it. Held by another transaction here, the
// household would make such a push wait; it must answer at once.
func TestAPushLocksNothingOutsideItsScope(t *testing.T) {
	e := newTestEnv(t, "postgres")
	ctx := context.Background()
	hA := e.householdA.Household
	visitA := uuid.New()
	e.push(t, e.login(t, "cadre-a"), "a-visit", batch("phone-a", time.Now(), visitChange(visitA, hA.ID, "甲", 34.7))).pushResult(t)
	other, err := pgConnect(t, e).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Rollback(ctx)
	if _, err := other.Exec(ctx, `SELECT id FROM households WHERE id = $1 FOR UPDATE`, hA.ID); err != nil {
		t.Fatal(err)
	}
	tokB := e.login(t, "cadre-b")
	done := make(chan wire.PushResponse, 1)
	go func() {
		done <- e.push(t, tokB, "foreign", batch("phone-b", time.Now(),
			map[string]any{"entity": "household", "op": "update", "id": hA.ID, "base_version": 1, "data": map[string]any{"phone": "13800000000"}},
			map[string]any{"entity": "visit", "op": "update", "id": visitA, "base_version": 1, "data": map[string]any{"notes": "改"}},
		)).pushResult(t)
	}()
	select {
	case out := <-done:
		for _, r := range out.Results {
			if r.Status != wire.StatusRejected {
				t.Errorf("a change outside cadre B's scope: %+v", r)
			}
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the push waited for a household outside its scope, held by another transaction")
	}
}

// jobOutcome is what one pass of the evidence job did.
type jobOutcome struct {
	judged int
	err    error
}

// startEvidenceJob runs one pass of the evidence job in the background.
func (e *testEnv) startEvidenceJob(ctx context.Context) <-chan jobOutcome {
	job := make(chan jobOutcome, 1)
	go func() {
		n, err := e.app.Photos.AssessQueued(ctx, 100)
		job <- jobOutcome{n, err}
	}()
	return job
}
