package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fieldvisit/fieldvisit/internal/localserver"
	"github.com/fieldvisit/fieldvisit/internal/periodic"
)

// runAll starts the cluster, plays the sim with its faults and runs the
// checks, adding each outcome to sum. An error is a set-up that failed.
func (c *cluster) runAll(ctx context.Context, sum *summary) error {
	logf("work directory %s", c.dir)
	steps := []struct {
		what string
		do   func(context.Context) error
	}{
		{"build fieldvisit", c.buildFieldvisit},
		{"PostgreSQL primary and standby", c.startPostgres},
		{"MinIO cluster", c.startMinIO},
		{"haproxy", c.startHAProxy},
		{"fieldvisit replicas", c.startReplicas},
	}
	for _, s := range steps {
		t0 := time.Now()
		if err := s.do(ctx); err != nil {
			return fmt.Errorf("%s: %w", s.what, err)
		}
		sum.note(s.what, "up in %s", time.Since(t0).Round(100*time.Millisecond))
	}
	jobsSince := time.Now()
	if err := c.runSimWithFaults(ctx, sum); err != nil {
		return err
	}
	for _, check := range []func(context.Context, *summary) error{
		c.checkQueuesDrain,
		func(ctx context.Context, sum *summary) error { return c.checkJobRuns(ctx, sum, jobsSince) },
		c.checkPhotosStored,
		c.checkStandby,
		c.checkReportsAgree,
	} {
		if err := check(ctx, sum); err != nil {
			return err
		}
	}
	return nil
}

// checkQueuesDrain waits for the judging and evidence queues and the
// thumbnail backlog to empty: work a killed replica held comes back when
// its claim lapses. (The photo workers look at their periodic jobs only
// between drains, so this comes before the jobs are counted.)
func (c *cluster) checkQueuesDrain(ctx context.Context, sum *summary) error {
	t0 := time.Now()
	var compliance, evidence, thumbs int64
	for {
		err := pgQuery(ctx, c.primaryURL, func(conn *pgx.Conn) error {
			return conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM compliance_queue), (SELECT count(*) FROM evidence_queue),
				(SELECT count(*) FROM photos WHERE thumb_state = 'pending')`).Scan(&compliance, &evidence, &thumbs)
		})
		if err != nil {
			return err
		}
		if compliance == 0 && evidence == 0 && thumbs == 0 || time.Since(t0) > 5*time.Minute {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
	sum.check(compliance == 0 && evidence == 0 && thumbs == 0, "queues drain", "compliance_queue=%d evidence_queue=%d thumbnails pending=%d after %s",
		compliance, evidence, thumbs, time.Since(t0).Round(time.Second))
	return nil
}

// periodicJobs are the jobs the replicas run once a period (internal/app).
var periodicJobs = []struct {
	name  string
	every time.Duration
}{
	{"cleanup-uploads", time.Hour},
	{"reconcile-photos", 24 * time.Hour},
	{"announce-dated-pairings", time.Hour},
	{"close-periods", time.Hour},
}

// checkJobRuns reads job_runs: each job was claimed once for each period
// the run spans (a period crossed late may not be claimed yet), by one
// replica, and finished — not once per replica, not again after a kill.
func (c *cluster) checkJobRuns(ctx context.Context, sum *summary, since time.Time) error {
	type jobRun struct {
		runs   int64
		done   bool
		holder string
	}
	read := func() (map[string]jobRun, error) {
		got := map[string]jobRun{}
		err := pgQuery(ctx, c.primaryURL, func(conn *pgx.Conn) error {
			rows, err := conn.Query(ctx, `SELECT job, runs, done, holder FROM job_runs`)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var job string
				var r jobRun
				if err := rows.Scan(&job, &r.runs, &r.done, &r.holder); err != nil {
					return err
				}
				got[job] = r
			}
			return rows.Err()
		})
		return got, err
	}
	// The workers look at their jobs every 5 s once their queues are
	// empty; then a few more rounds, in which no replica may claim again.
	t0 := time.Now()
	var got map[string]jobRun
	for {
		var err error
		if got, err = read(); err != nil {
			return err
		}
		all := true
		for _, j := range periodicJobs {
			all = all && got[j.name].done
		}
		if all || time.Since(t0) > 2*time.Minute {
			break
		}
		time.Sleep(time.Second)
	}
	time.Sleep(12 * time.Second)
	got, err := read()
	if err != nil {
		return err
	}
	now := time.Now()
	for _, j := range periodicJobs {
		periods := int64(1)
		if periodic.Period(since, j.every) != periodic.Period(now, j.every) {
			periods = 2
		}
		r := got[j.name]
		sum.check(r.runs >= 1 && r.runs <= periods && r.done, "job "+j.name,
			"claimed %d time(s) in %d period(s) by 3 replicas, done=%v, last by %s", r.runs, periods, r.done, r.holder)
	}
	return nil
}

var missingBytes = regexp.MustCompile(`photo records whose bytes are missing: (\d+)`)

// checkPhotosStored runs `fieldvisit photos reconcile` on the cluster:
// every photo record's bytes must be in the MinIO cluster.
func (c *cluster) checkPhotosStored(ctx context.Context, sum *summary) error {
	var photos int64
	if err := pgQuery(ctx, c.primaryURL, func(conn *pgx.Conn) error {
		return conn.QueryRow(ctx, `SELECT count(*) FROM photos`).Scan(&photos)
	}); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, c.bin, "photos", "reconcile")
	cmd.Env = c.replicaEnv(0)
	cmd.Env = append(cmd.Env, "FIELDVISIT_DATA_DIR="+filepath.Join(c.dir, "reconcile"))
	out, err := cmd.CombinedOutput()
	m := missingBytes.FindSubmatch(out)
	if err != nil || m == nil {
		sum.check(false, "photo bytes stored", "photos reconcile: %v\n%s", err, out)
		return nil
	}
	missing, _ := strconv.Atoi(string(m[1]))
	sum.check(missing == 0 && photos > 0, "photo bytes stored", "%d photo records, %d without their bytes in MinIO", photos, missing)
	return nil
}

// fingerprintTables are compared between primary and standby.
var fingerprintTables = []string{"households", "members", "pairings", "visits", "photos", "visit_photos", "changes", "conflicts", "compliance_statuses", "job_runs"}

// fingerprint is each table's row count and a hash of its rows.
func fingerprint(ctx context.Context, url string) (map[string]string, error) {
	out := map[string]string{}
	err := pgQuery(ctx, url, func(conn *pgx.Conn) error {
		for _, t := range fingerprintTables {
			var n int64
			var h string
			q := fmt.Sprintf(`SELECT count(*), coalesce(md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))), '') FROM %s t`, t)
			if err := conn.QueryRow(ctx, q).Scan(&n, &h); err != nil {
				return fmt.Errorf("%s: %w", t, err)
			}
			out[t] = fmt.Sprintf("%d rows %s", n, h[:min(8, len(h))])
		}
		return nil
	})
	return out, err
}

// checkStandby waits until the standby has replayed the primary's WAL up
// to now, then compares the tables' fingerprints. The primary may still
// write (a worker's tick) between its fingerprint and its WAL position:
// then the comparison is taken again.
func (c *cluster) checkStandby(ctx context.Context, sum *summary) error {
	var last string
	for attempt := 1; attempt <= 3; attempt++ {
		want, err := fingerprint(ctx, c.primaryURL)
		if err != nil {
			return err
		}
		var lsn string
		if err := pgQuery(ctx, c.primaryURL, func(conn *pgx.Conn) error {
			return conn.QueryRow(ctx, `SELECT pg_current_wal_lsn()::text`).Scan(&lsn)
		}); err != nil {
			return err
		}
		t0 := time.Now()
		caught := false
		for !caught && time.Since(t0) < time.Minute {
			if err := pgQuery(ctx, c.standbyURL, func(conn *pgx.Conn) error {
				return conn.QueryRow(ctx, `SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), $1::pg_lsn) >= 0`, lsn).Scan(&caught)
			}); err != nil {
				return err
			}
			if !caught {
				time.Sleep(200 * time.Millisecond)
			}
		}
		got, err := fingerprint(ctx, c.standbyURL)
		if err != nil {
			return err
		}
		var diff []string
		for _, t := range fingerprintTables {
			if want[t] != got[t] {
				diff = append(diff, fmt.Sprintf("%s: primary %s, standby %s", t, want[t], got[t]))
			}
		}
		if caught && len(diff) == 0 {
			sum.check(true, "standby equals primary", "replayed to %s in %s; %d tables alike (visits: %s)", lsn, time.Since(t0).Round(time.Millisecond), len(fingerprintTables), want["visits"])
			return nil
		}
		last = fmt.Sprintf("caught up: %v; %s", caught, strings.Join(diff, "; "))
	}
	sum.check(false, "standby equals primary", "%s", last)
	return nil
}

// checkReportsAgree reads the county's missed-visit report of the quarter
// through each replica (which read from the standby where the build
// routes reads there) and from a reference process on the primary alone:
// all must be the same bytes.
func (c *cluster) checkReportsAgree(ctx context.Context, sum *summary) error {
	p, err := ports(1)
	if err != nil {
		return err
	}
	refAddr := addr(p[0])
	cmd := exec.Command(c.bin, "serve")
	var env []string
	for _, kv := range c.replicaEnv(0) {
		if !strings.HasPrefix(kv, "FIELDVISIT_DATABASE_REPLICA_URL=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "FIELDVISIT_ADDR="+refAddr, "FIELDVISIT_DATA_DIR="+filepath.Join(c.dir, "reference"), "FIELDVISIT_DRAIN_DELAY=0s")
	ref, err := c.start("reference", cmd)
	if err != nil {
		return err
	}
	if err := ref.WaitReady(ctx, 2*time.Minute, localserver.HTTPReady("http://"+refAddr+"/readyz")); err != nil {
		return err
	}
	token, user, err := login(ctx, "http://"+c.apiLB, "supervisor")
	if err != nil {
		return err
	}
	now := time.Now()
	path := fmt.Sprintf("/api/v1/compliance/missed?region_id=%s&period=%d-Q%d&limit=200", user.RegionID, now.Year(), (int(now.Month())-1)/3+1)
	want, err := getAuthed(ctx, "http://"+refAddr+path, token)
	if err != nil {
		return err
	}
	var differ []string
	for i, a := range c.replicaAddrs {
		got, err := getAuthed(ctx, "http://"+a+path, token)
		if err != nil {
			return err
		}
		if !bytes.Equal(got, want) {
			differ = append(differ, fmt.Sprintf("replica%d (%d bytes)", i+1, len(got)))
		}
	}
	sum.check(len(differ) == 0, "report via replicas", "%s: %d bytes from the primary alone; differ: %v", path[:strings.Index(path, "?")], len(want), differ)
	reads, found := 0.0, false
	for _, a := range c.replicaAddrs {
		n, ok := replicaReads(ctx, "http://"+a+"/metrics")
		reads += n
		found = found || ok
	}
	if found {
		sum.note("reads on the standby", `fieldvisit_db_reads_total{target="replica"} = %.0f across the replicas`, reads)
	} else {
		sum.note("reads on the standby", "this build does not route reads to FIELDVISIT_DATABASE_REPLICA_URL (no fieldvisit_db_reads_total on /metrics)")
	}
	return nil
}

func getAuthed(ctx context.Context, url, token string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err == nil && res.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s %s", url, res.Status, b)
	}
	return b, err
}

// replicaReads sums fieldvisit_db_reads_total{target="replica"} on a
// replica's /metrics; found says whether the metric is there at all.
func replicaReads(ctx context.Context, url string) (total float64, found bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, false
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, false
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "fieldvisit_db_reads_total{") {
			continue
		}
		found = true
		if strings.Contains(line, `target="replica"`) {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			total += v
		}
	}
	return total, found
}
