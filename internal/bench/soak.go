package bench

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	fvapp "github.com/fieldvisit/fieldvisit/internal/app"
	"github.com/fieldvisit/fieldvisit/internal/sim"
)

// SoakCommand runs `fieldvisit soak`: the simulation's phones in a loop
// (records, photos, syncs, the supervisor's re-pairings) against one
// server on PostgreSQL and, when configured, S3. Every --sample it reads
// the server's RSS, goroutines, open files and database pool; it ends with
// a table and a line saying whether any of them grew after the warm-up
// (growthRule) and the peak RSS (B6: ≤ 150 MB).
//
// The demo county is seeded in this process; the server then runs as a
// child `fieldvisit serve` on that database, so that what is measured is
// the server alone: in one process, the phones' JPEG encoding and the
// seeding's leftovers swung the RSS between 140 and 420 MB and said
// nothing about the server.
func SoakCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, scratch := newBenchFlags("soak", stderr)
	minutes := fs.Float64("minutes", 10, "how long the phones play")
	phones := fs.Int("phones", 20, "phones (one cadre each: cadre01 …)")
	every := fs.Duration("sample", 10*time.Second, "time between samples")
	warmup := fs.Duration("warmup", 0, "samples before this are the warm-up, not judged (default: a fifth of the run, at most 2 minutes)")
	dbURL := fs.String("database-url", "", "postgres:// URL of an empty or demo database (default: a scratch database on --postgres, dropped afterwards)")
	s3 := soakS3Flags(fs)
	var so sim.SoakOptions
	fs.IntVar(&so.PhotosPerVisit, "photos-per-visit", 1, "photos per visit, recorded into the photo outbox and uploaded by the next sync")
	fs.IntVar(&so.PhotoKB, "photo-kb", 300, "size of each photo, in kilobytes (about)")
	fs.DurationVar(&so.Pause, "pause", 2*time.Second, "a phone's rest between rounds")
	fs.DurationVar(&so.RepairEvery, "repair-every", 30*time.Second, "time between the supervisor's re-pairings")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("soak: unexpected argument %q", fs.Arg(0))
	}
	if *minutes <= 0 || *phones <= 0 || *every <= 0 {
		return errors.New("soak: --minutes, --phones and --sample must be positive")
	}
	run := time.Duration(*minutes * float64(time.Minute))
	if *warmup == 0 {
		*warmup = min(run/5, 2*time.Minute)
	}
	cfg := fvapp.Config{DatabaseURL: *dbURL, LogLevel: "error", S3Endpoint: s3.endpoint, S3AccessKey: s3.accessKey, S3SecretKey: s3.secretKey,
		S3Bucket: s3.bucket}
	if cfg.DatabaseURL == "" {
		u, drop, err := scratchDatabase(ctx, *scratch.server)
		if err != nil {
			return err
		}
		if *scratch.keep {
			fmt.Fprintf(stdout, "soak: scratch database kept: %s\n", u)
		} else {
			defer drop()
		}
		cfg.DatabaseURL = u
	}
	if cfg.S3Endpoint != "" && cfg.S3Bucket == "" {
		cfg.S3Bucket = benchBucket()
		if c, err := (benchS3{endpoint: s3.endpoint, accessKey: s3.accessKey, secretKey: s3.secretKey}).client(false); err == nil {
			defer benchS3{}.removeBuckets(c, cfg.S3Bucket)
		}
	}
	dataDir, err := os.MkdirTemp("", "fieldvisit-soak-server-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dataDir)
	cfg.DataDir = dataDir
	seeded, err := fvapp.StartDemoServer(ctx, cfg, "soak", io.Discard, stderr)
	if err != nil {
		return err
	}
	seeded.Stop()
	hc := &http.Client{Timeout: 30 * time.Second}
	srv, err := startServe(ctx, hc, dataDir, "FIELDVISIT_DATABASE_URL="+cfg.DatabaseURL, "FIELDVISIT_S3_ENDPOINT="+cfg.S3Endpoint,
		"FIELDVISIT_S3_ACCESS_KEY="+cfg.S3AccessKey, "FIELDVISIT_S3_SECRET_KEY="+cfg.S3SecretKey, "FIELDVISIT_S3_BUCKET="+cfg.S3Bucket,
		"FIELDVISIT_S3_SECURE=false", "FIELDVISIT_LOG_LEVEL=error")
	if err != nil {
		return err
	}
	defer srv.stop()
	photoStore := "local photo directory"
	if cfg.S3Endpoint != "" {
		photoStore = "S3 at " + cfg.S3Endpoint
	}
	so.Server, so.Cadres, so.Out = srv.base, *phones, io.Discard
	so.Concurrency = *phones
	soak, err := sim.StartSoak(ctx, so)
	if err != nil {
		return err
	}
	defer soak.Close()
	fmt.Fprintf(stdout, "soak: %d phones for %s against `fieldvisit serve` (pid %d) at %s (PostgreSQL, %s), %d photo(s) of ~%d KB per visit; sampling every %s, warm-up %s; %d CPUs\n",
		*phones, run, srv.pid, srv.base, photoStore, so.PhotosPerVisit, so.PhotoKB, *every, *warmup, runtime.NumCPU())
	fmt.Fprintf(stdout, "soak: load average at start: %s\n", loadAverage())

	var samples []soakSample
	start := time.Now()
	sampleNow := func() {
		s := sampleServer(hc, srv)
		s.at = time.Since(start)
		s.work = soak.Work()
		samples = append(samples, s)
		fmt.Fprintln(stdout, s.row())
	}
	fmt.Fprintln(stdout, soakHeader)
	sampleNow()
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(*every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				sampleNow()
			}
		}
	}()
	runErr := soak.Run(ctx, run)
	close(done)
	wg.Wait()
	sampleNow()
	fmt.Fprintf(stdout, "soak: load average at end: %s\n", loadAverage())
	for _, p := range soak.Problems() {
		fmt.Fprintf(stdout, "soak: PROBLEM %s\n", p)
	}
	verdict := judgeSoak(samples, *warmup)
	for _, l := range verdict.lines {
		fmt.Fprintln(stdout, l)
	}
	fmt.Fprintln(stdout, verdict.summary(*minutes, *phones, len(samples)))
	if runErr != nil && ctx.Err() == nil {
		return runErr
	}
	return ctx.Err()
}

type soakS3 struct{ endpoint, accessKey, secretKey, bucket string }

// soakS3Flags are the S3 settings: FIELDVISIT_S3_* as `serve` reads them,
// else the test environment's MinIO; none means the local photo directory.
func soakS3Flags(fs *flag.FlagSet) *soakS3 {
	var s soakS3
	fs.StringVar(&s.endpoint, "s3-endpoint", fvapp.Env("FIELDVISIT_S3_ENDPOINT", os.Getenv("FIELDVISIT_TEST_S3_ENDPOINT")),
		"S3 host:port (FIELDVISIT_S3_ENDPOINT, else FIELDVISIT_TEST_S3_ENDPOINT); empty: the local photo directory")
	fs.StringVar(&s.accessKey, "s3-access-key", fvapp.Env("FIELDVISIT_S3_ACCESS_KEY", os.Getenv("FIELDVISIT_TEST_S3_ACCESS_KEY")), "S3 access key")
	fs.StringVar(&s.secretKey, "s3-secret-key", fvapp.Env("FIELDVISIT_S3_SECRET_KEY", os.Getenv("FIELDVISIT_TEST_S3_SECRET_KEY")), "S3 secret key")
	fs.StringVar(&s.bucket, "s3-bucket", os.Getenv("FIELDVISIT_S3_BUCKET"), "S3 bucket (default: a fresh one, removed afterwards)")
	return &s
}

// soakSample is one reading of the process.
type soakSample struct {
	at              time.Duration
	rss             int64 // bytes (VmRSS)
	goroutines      int
	openFiles       int
	dbOpen, dbInUse int
	work            map[string]int
}

const soakHeader = "    time  rss_mb  goroutines  open_files  db_open  db_in_use   visits  syncs  photos  re-pairings"

func (s soakSample) row() string {
	return fmt.Sprintf("%8s  %6.1f  %10d  %10d  %7d  %9d  %7d  %5d  %6d  %11d", s.at.Round(time.Second), float64(s.rss)/1e6, s.goroutines,
		s.openFiles, s.dbOpen, s.dbInUse, s.work["visits"], s.work["syncs"], s.work["photo-uploads"], s.work["re-pairings"])
}

// sampleServer reads the server's resident memory (VmRSS of
// /proc/PID/status) and open file descriptors (/proc/PID/fd), and from its
// /metrics its goroutines and database pool.
func sampleServer(hc *http.Client, srv *serveProcess) soakSample {
	rss, _ := vmRSS(srv.pid)
	s := soakSample{rss: int64(rss)}
	if fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", srv.pid)); err == nil {
		s.openFiles = len(fds)
	}
	m := scrapeMetrics(hc, srv.base)
	s.goroutines, s.dbOpen, s.dbInUse = int(m["go_goroutines"]), int(m["go_sql_open_connections"]), int(m["go_sql_in_use_connections"])
	return s
}

// scrapeMetrics reads the server's /metrics: each sample's value by its
// name (labels dropped; the gauges read here have one series each).
func scrapeMetrics(hc *http.Client, base string) map[string]float64 {
	out := map[string]float64{}
	res, err := hc.Get(base + "/metrics")
	if err != nil {
		return out
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		name, _, _ := strings.Cut(line[:i], "{")
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[name] = v
		}
	}
	return out
}

// The tolerances of each gauge: 10 % of its post-warm-up median, and at
// least a floor below which a trend is noise (the GC's breathing, a
// connection opened for a burst).
var soakGauges = []struct {
	name  string
	unit  string
	rule  growthRule
	value func(soakSample) float64
}{
	{"rss", "MB", growthRule{Rel: 0.10, Floor: 8}, func(s soakSample) float64 { return float64(s.rss) / 1e6 }},
	{"goroutines", "", growthRule{Rel: 0.10, Floor: 10}, func(s soakSample) float64 { return float64(s.goroutines) }},
	{"open_files", "", growthRule{Rel: 0.10, Floor: 5}, func(s soakSample) float64 { return float64(s.openFiles) }},
	{"db_open", "", growthRule{Rel: 0.10, Floor: 2}, func(s soakSample) float64 { return float64(s.dbOpen) }},
}

type soakVerdict struct {
	lines          []string
	grew           []string
	judged         bool
	peak, peakWarm float64 // MB: overall, after the warm-up
	warmup         time.Duration
}

func judgeSoak(samples []soakSample, warmup time.Duration) soakVerdict {
	v := soakVerdict{judged: true, warmup: warmup}
	at := make([]time.Duration, len(samples))
	for i, s := range samples {
		at[i] = s.at
		mb := float64(s.rss) / 1e6
		v.peak = max(v.peak, mb)
		if s.at >= warmup {
			v.peakWarm = max(v.peakWarm, mb)
		}
	}
	for _, g := range soakGauges {
		vals := make([]float64, len(samples))
		for i, s := range samples {
			vals[i] = g.value(s)
		}
		j := g.rule.judge(at, vals, warmup)
		if !j.Judged {
			v.judged = false
			v.lines = append(v.lines, fmt.Sprintf("soak: %-10s not judged: %d samples after the warm-up (3 needed)", g.name, j.Samples))
			continue
		}
		word := "steady"
		if j.Grew {
			word = "GREW"
			v.grew = append(v.grew, g.name)
		}
		v.lines = append(v.lines, fmt.Sprintf("soak: %-10s trend %+8.1f%s over %d samples after the warm-up (tolerance %.1f%s): %s",
			g.name, j.Growth, g.unit, j.Samples, j.Tolerance, g.unit, word))
	}
	return v
}

// summary is the command's last line.
func (v soakVerdict) summary(minutes float64, phones, samples int) string {
	grew := "none"
	switch {
	case !v.judged:
		grew = "not-judged"
	case len(v.grew) > 0:
		grew = strings.Join(v.grew, ",")
	}
	b6 := "met"
	if v.peak > 150 {
		b6 = "missed"
	}
	return fmt.Sprintf("soak: minutes=%g phones=%d samples=%d warmup_s=%.0f grew=%s peak_rss_mb=%.1f peak_rss_after_warmup_mb=%.1f b6_peak_le_150mb=%s",
		minutes, phones, samples, v.warmup.Seconds(), grew, v.peak, v.peakWarm, b6)
}
