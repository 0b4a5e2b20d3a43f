package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// benchFeedCmd is `fieldvisit bench feed` (issue 21, item 6): many phones
// syncing at once — each sync a push of a few visits and then a pull of
// the feed from the phone's cursor — through the real HTTP API, against
// the same syncs done raw on as many pgx connections (the visits and
// their feed rows numbered as they are inserted, no sequencer, then the
// feed rows after the phone's cursor read back). Both ways run for the
// same time in every round, in alternating order; a sampler counts the
// database sessions waiting on the sequencer's advisory lock meanwhile.
func benchFeedCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, scratch := newBenchFlags("bench feed", stderr)
	phones := fs.Int("phones", 50, "phones syncing at once")
	rounds := fs.Int("rounds", 5, "rounds; each runs the API way and the raw way for --seconds")
	seconds := fs.Float64("seconds", 5, "how long each way runs in a round")
	batch := fs.Int("batch", 10, "visits per push")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 || *phones < 1 || *rounds < 1 || *seconds <= 0 || *batch < 1 {
		return errors.New("usage: fieldvisit bench feed [--phones N] [--rounds N] [--seconds S] [--batch N]")
	}
	loadBefore := loadAverage()
	app, dbURL, done, err := scratch.open(ctx, stderr, 4)
	if err != nil {
		return err
	}
	defer done()
	srv := httptest.NewServer(app.Handler)
	defer srv.Close()
	// Each way has phones of its own: a raw phone's visits must not land
	// in an API phone's feed (they would, were they the same cadre's).
	fx, err := benchFixture(ctx, app, 2**phones, 0)
	if err != nil {
		return err
	}
	sqlDB, err := app.DB.Gorm.DB()
	if err != nil {
		return err
	}
	hc := benchHTTPClient(*phones)
	api := make([]feedPhone, *phones)
	for p := range api {
		api[p] = feedPhone{token: fx.tokens[p], household: fx.households[p], cadre: fx.cadres[p]}
		if _, api[p].cursor, err = pullWith(hc, &api[p].buf, srv.URL, api[p].token, ""); err != nil {
			return err
		}
	}
	start, err := app.Store.SequenceChanges(ctx)
	if err != nil {
		return err
	}
	raw := make([]rawFeedPhone, *phones)
	for p := range raw {
		raw[p] = rawFeedPhone{household: fx.households[*phones+p], cadre: fx.cadres[*phones+p], after: start}
		if raw[p].conn, err = pgx.Connect(ctx, dbURL); err != nil {
			return err
		}
		defer raw[p].conn.Close(ctx)
	}
	if err := analyze(ctx, dbURL); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "fieldvisit bench feed — PostgreSQL, %d phones, each sync a push of %d visits then a pull; %d rounds of %.0f s a way; load average before: %s\n\n",
		*phones, *batch, *rounds, *seconds, loadBefore)

	apiSync := func(p, i int) (time.Duration, time.Duration, error) {
		ph := &api[p]
		body := visitBatch(ph.household, *batch, fmt.Sprintf("feed-%d-%d", p, i))
		t0 := time.Now()
		if err := pushWith(hc, srv.URL, ph.token, uuid.NewString(), body); err != nil {
			return 0, 0, err
		}
		t1 := time.Now()
		_, cur, err := pullWith(hc, &ph.buf, srv.URL, ph.token, ph.cursor)
		ph.cursor = cur
		return t1.Sub(t0), time.Since(t1), err
	}
	rawSync := func(p, _ int) (time.Duration, time.Duration, error) {
		ph := &raw[p]
		rows := make([]visitInsert, *batch)
		for i := range rows {
			rows[i] = visitInsert{uuid.New(), ph.household}
		}
		t0 := time.Now()
		if err := rawPushNumbered(ctx, ph.conn, fx.county, ph.cadre, rows); err != nil {
			return 0, 0, err
		}
		t1 := time.Now()
		err := ph.pull(ctx)
		return t1.Sub(t0), time.Since(t1), err
	}
	var results [2][]feedWayResult
	for r := 0; r < *rounds; r++ {
		order := []int{0, 1}
		if r%2 == 1 {
			order = []int{1, 0}
		}
		for _, way := range order {
			syncOnce := apiSync
			if way == 1 {
				syncOnce = rawSync
			}
			waitBefore := sqlDB.Stats().WaitDuration
			res, err := runFeedWay(ctx, dbURL, *phones, time.Duration(*seconds*float64(time.Second)), syncOnce)
			if err != nil {
				return err
			}
			res.poolWait = sqlDB.Stats().WaitDuration - waitBefore
			results[way] = append(results[way], res)
		}
		a, w := results[0][r], results[1][r]
		fmt.Fprintf(stdout, "round %d: API %.0f pulls/s (p50 %s, p99 %s; lock wait %.2f sessions, pool wait %.1f s, CPU busy %.0f %%), raw %.0f pulls/s (p50 %s, p99 %s, CPU busy %.0f %%)\n",
			r+1, a.pullsPerSecond(), msf(a.pullP50()), msf(a.pullP99()), a.lockWaiting(), a.poolWait.Seconds(), a.busy*100,
			w.pullsPerSecond(), msf(w.pullP50()), msf(w.pullP99()), w.busy*100)
	}
	med := func(way int, f func(feedWayResult) float64) float64 {
		xs := make([]float64, len(results[way]))
		for i, r := range results[way] {
			xs[i] = f(r)
		}
		return median(xs)
	}
	ratio := func(f func(feedWayResult) float64) float64 {
		xs := make([]float64, len(results[0]))
		for i := range xs {
			xs[i] = f(results[0][i]) / f(results[1][i])
		}
		return median(xs)
	}
	perSec := func(r feedWayResult) float64 { return r.pullsPerSecond() }
	p50 := func(r feedWayResult) float64 { return r.pullP50().Seconds() * 1000 }
	p99 := func(r feedWayResult) float64 { return r.pullP99().Seconds() * 1000 }
	push50 := func(r feedWayResult) float64 { return percentile(r.push, 50).Seconds() * 1000 }
	fmt.Fprintf(stdout, "\nload average after: %s\n\n", loadAverage())
	fmt.Fprintf(stdout, "| %d phones, medians of %d rounds | API | raw (same run) | API / raw (median of the rounds' ratios) |\n|---|---|---|---|\n", *phones, *rounds)
	fmt.Fprintf(stdout, "| pulls/s (each after a push of %d visits) | %.0f | %.0f | **%.2f** |\n", *batch, med(0, perSec), med(1, perSec), ratio(perSec))
	fmt.Fprintf(stdout, "| pull latency p50 | %.1f ms | %.1f ms | %.2f× |\n", med(0, p50), med(1, p50), ratio(p50))
	fmt.Fprintf(stdout, "| pull latency p99 | %.1f ms | %.1f ms | %.2f× |\n", med(0, p99), med(1, p99), ratio(p99))
	fmt.Fprintf(stdout, "| push latency p50 | %.1f ms | %.1f ms | %.2f× |\n", med(0, push50), med(1, push50), ratio(push50))
	fmt.Fprintf(stdout, "| sessions waiting on the sequencer lock (mean) | %.2f | %.2f | — |\n",
		med(0, feedWayResult.lockWaiting), med(1, feedWayResult.lockWaiting))
	fmt.Fprintf(stdout, "| sequencer lock wait / summed push + pull time | %.1f %% | — | — |\n", med(0, feedWayResult.lockShare)*100)
	fmt.Fprintf(stdout, "| app pool wait / summed push + pull time | %.1f %% | — | — |\n", med(0, feedWayResult.poolShare)*100)
	fmt.Fprintf(stdout, "| machine CPU busy | %.0f %% | %.0f %% | — |\n", med(0, func(r feedWayResult) float64 { return r.busy * 100 }), med(1, func(r feedWayResult) float64 { return r.busy * 100 }))
	return nil
}

// feedPhone is one phone of the API way: its token, household and cursor.
type feedPhone struct {
	token     string
	household uuid.UUID
	cadre     uuid.UUID
	cursor    string
	buf       bytes.Buffer
}

// rawFeedPhone is one phone of the raw way: its own connection, opened
// before the clock starts, and the last feed number it read.
type rawFeedPhone struct {
	conn      *pgx.Conn
	household uuid.UUID
	cadre     uuid.UUID
	after     int64
}

// pull reads the phone's feed rows after its cursor as the API's page
// query selects them (its household's rows, its own visits), each with
// its record (a household row's household, a visit row's visit), up to a
// page.
func (ph *rawFeedPhone) pull(ctx context.Context) error {
	rows, err := ph.conn.Query(ctx, `SELECT c.county_id, c.id, c.seq, c.entity, c.entity_id, c.household_id, c.cadre_id, c.op, c.version, h.*, v.*
		FROM changes c LEFT JOIN households h ON h.county_id = c.county_id AND h.id = CASE WHEN c.entity = 'household' THEN c.entity_id END
		LEFT JOIN visits v ON v.county_id = c.county_id AND v.id = CASE WHEN c.entity = 'visit' THEN c.entity_id END
		WHERE c.seq > $1 AND (c.household_id = $2 OR (c.entity IN ('visit', 'pairing', 'task') AND c.cadre_id = $3)) ORDER BY c.seq LIMIT 2001`,
		ph.after, ph.household, ph.cadre)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return err
		}
		ph.after = vals[2].(int64)
	}
	return rows.Err()
}

// rawPushNumbered is the raw way's push: the visits as B1's ceiling
// writes them and a feed row each, numbered from the sequence as it is
// inserted (what a feed without a sequencer would do, gaps and all), in
// one transaction.
func rawPushNumbered(ctx context.Context, conn *pgx.Conn, county, cadre uuid.UUID, rows []visitInsert) error {
	q, args := rawVisitInsert(county, cadre, rows)
	ids := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		ids[i] = r.id
	}
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO changes (county_id, id, seq, entity, entity_id, household_id, cadre_id, op, version, created_at)
			SELECT county_id, gen_random_uuid(), nextval('changes_seq'), 'visit', id, household_id, cadre_id, 'create', 1, now()
			FROM visits WHERE county_id = $1 AND id = ANY($2)`, county, ids)
		return err
	})
}

// feedWayResult is one way's run in one round.
type feedWayResult struct {
	took       time.Duration
	pull, push []time.Duration
	// lockSessionSeconds sums, over the sampler's ticks, the sessions
	// waiting on the sequencer's advisory lock times the tick.
	lockSessionSeconds float64
	poolWait           time.Duration // the app's connection pool (API way only)
	busy               float64       // machine CPU busy share
}

func (r feedWayResult) pullsPerSecond() float64 { return float64(len(r.pull)) / r.took.Seconds() }
func (r feedWayResult) pullP50() time.Duration  { return percentile(r.pull, 50) }
func (r feedWayResult) pullP99() time.Duration  { return percentile(r.pull, 99) }

// lockWaiting is how many sessions waited on the sequencer lock, on
// average over the run.
func (r feedWayResult) lockWaiting() float64 { return r.lockSessionSeconds / r.took.Seconds() }

func (r feedWayResult) syncSeconds() float64 {
	return (sum(r.pull) + sum(r.push)).Seconds()
}
func (r feedWayResult) lockShare() float64 { return r.lockSessionSeconds / r.syncSeconds() }
func (r feedWayResult) poolShare() float64 { return r.poolWait.Seconds() / r.syncSeconds() }

func sum(ds []time.Duration) time.Duration {
	var t time.Duration
	for _, d := range ds {
		t += d
	}
	return t
}

// lockSampleEvery is the sampler's tick: fine enough for waits of a few
// milliseconds, coarse enough that its own queries cost little.
const lockSampleEvery = 5 * time.Millisecond

// runFeedWay runs syncOnce in a loop on n phones at once for d and
// samples the sessions waiting on the sequencer's advisory lock
// meanwhile. A sync started before the deadline is counted.
func runFeedWay(ctx context.Context, dbURL string, n int, d time.Duration,
	syncOnce func(phone, i int) (push, pull time.Duration, err error)) (feedWayResult, error) {
	sampler, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return feedWayResult{}, err
	}
	defer sampler.Close(ctx)
	stop := make(chan struct{})
	sampled := make(chan float64, 1)
	go func() {
		var sessionSeconds float64
		tick := time.NewTicker(lockSampleEvery)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				sampled <- sessionSeconds
				return
			case <-tick.C:
			}
			var waiting int
			if err := sampler.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
				WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'`).Scan(&waiting); err == nil {
				sessionSeconds += float64(waiting) * lockSampleEvery.Seconds()
			}
		}
	}()
	cpuBefore := machineCPU()
	start := time.Now()
	deadline := start.Add(d)
	pulls, pushes := make([][]time.Duration, n), make([][]time.Duration, n)
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for p := 0; p < n; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				push, pull, err := syncOnce(p, i)
				if err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("phone %d: %w", p, err))
					mu.Unlock()
					return
				}
				pushes[p], pulls[p] = append(pushes[p], push), append(pulls[p], pull)
			}
		}(p)
	}
	wg.Wait()
	res := feedWayResult{took: time.Since(start), pull: slices.Concat(pulls...), push: slices.Concat(pushes...)}
	res.busy = machineCPU().busySince(cpuBefore)
	close(stop)
	res.lockSessionSeconds = <-sampled
	if len(errs) > 0 {
		return res, errors.Join(errs[:min(len(errs), 3)]...)
	}
	return res, nil
}
