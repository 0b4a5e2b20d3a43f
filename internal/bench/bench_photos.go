package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/fieldvisit/fieldvisit/domain"
	fvapp "github.com/fieldvisit/fieldvisit/internal/app"
	"github.com/fieldvisit/fieldvisit/internal/photos/photoimage"
)

// benchPhotosCmd is B3 (issue 5): photo uploads through the HTTP API
// against direct PutObject of the same bytes to the same MinIO in the same
// run, and the server's RSS growth under 16 parallel 2 MB uploads.
//
// Throughput runs against the API in this process (httptest, like bench
// sync, so no background workers compete with the rounds); the RSS part
// starts `fieldvisit serve` as a child process so that its memory is
// measured alone, thumbnail worker included.
func benchPhotosCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, scratch := newBenchFlags("bench photos", stderr)
	endpoint := fs.String("s3-endpoint", fvapp.Env("FIELDVISIT_BENCH_S3_ENDPOINT", os.Getenv("FIELDVISIT_TEST_S3_ENDPOINT")),
		"MinIO/S3 host:port (FIELDVISIT_BENCH_S3_ENDPOINT, else FIELDVISIT_TEST_S3_ENDPOINT); fresh buckets are created and removed")
	accessKey := fs.String("s3-access-key", fvapp.Env("FIELDVISIT_BENCH_S3_ACCESS_KEY", os.Getenv("FIELDVISIT_TEST_S3_ACCESS_KEY")), "S3 access key")
	secretKey := fs.String("s3-secret-key", fvapp.Env("FIELDVISIT_BENCH_S3_SECRET_KEY", os.Getenv("FIELDVISIT_TEST_S3_SECRET_KEY")), "S3 secret key")
	rounds := fs.Int("rounds", 5, "rounds per photo size (the ratio is their median); API and raw alternate within each round")
	small := fs.Int("small", 48, "300 KB photos per round")
	large := fs.Int("large", 24, "2 MB photos per round")
	conc := fs.Int("concurrency", 4, "uploads in flight, for the API and for the raw ceiling alike")
	rssParallel := fs.Int("rss-parallel", 16, "parallel 2 MB uploads while the server's RSS is sampled")
	rssWaves := fs.Int("rss-waves", 3, "waves of --rss-parallel uploads")
	skipRSS := fs.Bool("skip-rss", false, "skip the RSS part (no child server)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the throughput rounds (API in this process) to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return errors.New("usage: fieldvisit bench photos [flags]")
	}
	if *endpoint == "" {
		return errors.New("bench photos needs an S3 endpoint: set FIELDVISIT_BENCH_S3_ENDPOINT (and _ACCESS_KEY, _SECRET_KEY) or run it under `go run ./internal/testenv --`")
	}
	if *accessKey == "" || *secretKey == "" {
		return errors.New("bench photos needs S3 credentials: FIELDVISIT_BENCH_S3_ACCESS_KEY and FIELDVISIT_BENCH_S3_SECRET_KEY")
	}
	if *rounds < 1 || *small < 1 || *large < 1 || *conc < 1 || *rssParallel < 1 || *rssWaves < 1 {
		return errors.New("bench photos: counts must be positive")
	}
	s3 := benchS3{endpoint: *endpoint, accessKey: *accessKey, secretKey: *secretKey}

	dbURL, drop, err := scratchDatabase(ctx, *scratch.server)
	if err != nil {
		return err
	}
	if *scratch.keep {
		fmt.Fprintf(stdout, "bench: scratch database kept: %s\n", dbURL)
	} else {
		defer drop()
	}
	tmp, err := os.MkdirTemp("", "fieldvisit-bench-photos-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	// Raw clients: minio-go as a plain program would use it, and one that
	// may send x-amz-checksum-* headers (the store's request shape).
	plain, err := s3.client(false)
	if err != nil {
		return err
	}
	checked, err := s3.client(true)
	if err != nil {
		return err
	}
	apiBucket, rawBucket, rssBucket := benchBucket(), benchBucket(), benchBucket()
	defer s3.removeBuckets(plain, apiBucket, rawBucket, rssBucket)
	if err := plain.MakeBucket(ctx, rawBucket, minio.MakeBucketOptions{}); err != nil {
		return fmt.Errorf("creating bucket %s: %w", rawBucket, err)
	}

	// Photos, made before any clock starts; every one distinct, since
	// photo content is deduplicated by hash.
	type sizeSpec struct {
		name           string
		w, h, q, count int
	}
	specs := []sizeSpec{{"300 KB", 1320, 990, 85, *small}, {"2 MB", 2480, 1860, 95, *large}}
	fmt.Fprintf(stdout, "fieldvisit bench photos — B3, MinIO at %s, PostgreSQL scratch database, %d in flight, %d CPUs\n\n", *endpoint, *conc, runtime.NumCPU())
	sets := make([][]benchPhoto, len(specs))
	warmSets := make([][]benchPhoto, len(specs)) // untimed, each way once before the rounds
	seed := time.Now().UnixNano()
	for i, sp := range specs {
		start := time.Now()
		sets[i], err = makePhotos(sp.w, sp.h, sp.q, *rounds*sp.count, seed+int64(i)<<32)
		if err != nil {
			return err
		}
		if warmSets[i], err = makePhotos(sp.w, sp.h, sp.q, 2**conc, seed+int64(i)<<32+1<<31); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "generated %d %s photos (%d×%d q%d, mean %.0f KB) in %.1fs\n",
			len(sets[i]), sp.name, sp.w, sp.h, sp.q, meanSize(sets[i])/1000, time.Since(start).Seconds())
	}

	app, err := fvapp.NewApp(ctx, fvapp.Config{DataDir: filepath.Join(tmp, "inproc"), DatabaseURL: dbURL,
		S3Endpoint: s3.endpoint, S3AccessKey: s3.accessKey, S3SecretKey: s3.secretKey, S3Bucket: apiBucket,
		HashConcurrency: 4, ShutdownTimeout: time.Second}, fvapp.NewLogger(io.Discard, "error"))
	if err != nil {
		return err
	}
	appClosed := false
	defer func() {
		if !appClosed {
			app.Close()
		}
	}()
	srv := httptest.NewServer(app.Handler)
	defer srv.Close()
	fx, err := benchFixture(ctx, app, 4, 0)
	if err != nil {
		return err
	}
	hc := benchHTTPClient(max(*conc, *rssParallel))

	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()

	// Throughput: each round uploads its own photos three ways, the order
	// rotating from round to round so that no way always goes first.
	type way struct {
		name string
		put  func(ctx context.Context, p benchPhoto, worker int) error
	}
	ways := []way{
		{"API", func(ctx context.Context, p benchPhoto, w int) error {
			return benchPutPhoto(ctx, hc, srv.URL, fx.tokens[w%len(fx.tokens)], p)
		}},
		{"raw", func(ctx context.Context, p benchPhoto, _ int) error {
			_, err := plain.PutObject(ctx, rawBucket, "raw/"+p.sha, bytes.NewReader(p.body), int64(len(p.body)),
				minio.PutObjectOptions{ContentType: "image/jpeg"})
			return err
		}},
		{"raw-checksum", func(ctx context.Context, p benchPhoto, _ int) error {
			_, err := checked.PutObject(ctx, rawBucket, "raw-checksum/"+p.sha, bytes.NewReader(p.body), int64(len(p.body)),
				minio.PutObjectOptions{ContentType: "image/jpeg", DisableMultipart: true, DisableContentSha256: true,
					UserMetadata: map[string]string{"x-amz-checksum-sha256": p.sha64}})
			return err
		}},
	}
	type sizeResult struct {
		name   string
		bytes  float64
		count  int
		dur    []time.Duration      // per way, summed over rounds
		ratios [][]float64          // per raw way, per round: API rate / raw rate
		cpu    []map[string]float64 // per way: CPU seconds by process, summed over rounds
	}
	var results []sizeResult
	for i, sp := range specs {
		res := sizeResult{name: sp.name, dur: make([]time.Duration, len(ways)), ratios: make([][]float64, len(ways)), cpu: make([]map[string]float64, len(ways))}
		for wi := range ways {
			res.cpu[wi] = map[string]float64{}
		}
		// Warm-up, untimed: every way's connections are open and its code
		// paths run once before the first timed round.
		for _, w := range ways {
			if _, err := uploadAll(ctx, *conc, warmSets[i], w.put); err != nil {
				return fmt.Errorf("%s %s warm-up: %w", sp.name, w.name, err)
			}
		}
		for r := 0; r < *rounds; r++ {
			batch := sets[i][r*sp.count : (r+1)*sp.count]
			var took [3]time.Duration
			var busy [3]float64
			for k := range ways {
				wi := (k + r) % len(ways)
				before, procBefore := machineCPU(), processCPU()
				d, err := uploadAll(ctx, *conc, batch, ways[wi].put)
				if err != nil {
					return fmt.Errorf("%s %s round %d: %w", sp.name, ways[wi].name, r+1, err)
				}
				busy[wi] = machineCPU().busySince(before)
				for k, v := range processCPU() {
					res.cpu[wi][k] += v - procBefore[k]
				}
				took[wi] = d
				res.dur[wi] += d
			}
			n := float64(len(batch))
			line := fmt.Sprintf("%-6s round %d:", sp.name, r+1)
			for wi, w := range ways {
				line += fmt.Sprintf("  %s %.1f photos/s (CPU %.0f%%)", w.name, n/took[wi].Seconds(), 100*busy[wi])
				if wi > 0 {
					ratio := took[wi].Seconds() / took[0].Seconds()
					res.ratios[wi] = append(res.ratios[wi], ratio)
				}
			}
			fmt.Fprintf(stdout, "%s  (ratio API/raw %.2f, API/raw-checksum %.2f)\n", line,
				res.ratios[1][len(res.ratios[1])-1], res.ratios[2][len(res.ratios[2])-1])
		}
		for _, p := range sets[i] {
			res.bytes += float64(len(p.body))
		}
		res.count = len(sets[i])
		line := fmt.Sprintf("%-6s CPU ms per photo (this process, i.e. API or raw client / minio / postgres):", sp.name)
		for wi, w := range ways {
			c := res.cpu[wi]
			per := func(k string) float64 { return 1000 * c[k] / float64(res.count) }
			line += fmt.Sprintf("  %s %.2f / %.2f / %.2f", w.name, per("self"), per("minio"), per("postgres"))
		}
		fmt.Fprintln(stdout, line)
		results = append(results, res)
	}
	stopProfile()
	srv.Close()
	appClosed = true
	app.Close()

	// RSS: a separate server process, measured alone.
	var rss *rssResult
	if !*skipRSS {
		photosNeeded := 4 + *rssParallel**rssWaves
		pool := sets[len(sets)-1] // 2 MB photos; new content in the child's own bucket
		if len(pool) < photosNeeded {
			extra, err := makePhotos(specs[1].w, specs[1].h, specs[1].q, photosNeeded-len(pool), seed+99<<32)
			if err != nil {
				return err
			}
			pool = append(slices.Clone(pool), extra...)
		}
		r, err := benchRSS(ctx, stdout, hc, s3, dbURL, filepath.Join(tmp, "child"), app.Config.KeyDir, fx.tokens, rssBucket, pool[:photosNeeded], *rssParallel, *rssWaves)
		if err != nil {
			return err
		}
		rss = &r
	}

	fmt.Fprintf(stdout, "\n| B3 | API | raw PutObject (minio-go defaults) | raw PutObject, unsigned + x-amz-checksum-sha256 | API / raw (median of %d rounds) | API / raw-checksum (median) | goal |\n|---|---|---|---|---|---|---|\n", *rounds)
	for _, res := range results {
		cell := func(wi int) string {
			s := res.dur[wi].Seconds()
			return fmt.Sprintf("%.1f MB/s, %.1f photos/s", res.bytes/1e6/s, float64(res.count)/s)
		}
		fmt.Fprintf(stdout, "| %s × %d | %s | %s | %s | **%.2f** | **%.2f** | ≥ 0.80 |\n", res.name, res.count,
			cell(0), cell(1), cell(2), median(res.ratios[1]), median(res.ratios[2]))
	}
	if rss != nil {
		fmt.Fprintf(stdout, "\n| server RSS, %d parallel 2 MB uploads × %d waves | idle (before warm-up) | baseline (after 4 uploads) | peak | growth over baseline | goal |\n|---|---|---|---|---|---|\n", *rssParallel, *rssWaves)
		fmt.Fprintf(stdout, "| %.1f MB/s through the API | %.1f MB | %.1f MB | %.1f MB | **%.1f MB** | ≤ 20 MB |\n",
			rss.mbps, rss.idle/1e6, rss.baseline/1e6, rss.peak/1e6, (rss.peak-rss.baseline)/1e6)
	}
	return nil
}

type benchPhoto struct {
	body  []byte
	sha   string // hex
	sha64 string // base64 of the raw digest
}

// makePhotos generates n distinct JPEGs on every CPU.
func makePhotos(w, h, q, n int, seed int64) ([]benchPhoto, error) {
	out := make([]benchPhoto, n)
	taken := time.Now().Add(-time.Hour)
	var next atomic.Int64
	_, err := parallel(runtime.NumCPU(), func(int) error {
		for {
			i := int(next.Add(1) - 1)
			if i >= n {
				return nil
			}
			b, err := photoimage.GenerateJPEG(photoimage.GenerateOptions{Width: w, Height: h, Seed: seed + int64(i), Quality: q,
				TakenAt: &taken, GPS: &domain.GeoPoint{Lat: 34.7, Lon: 113.6}, Label: "bench " + strconv.Itoa(i)})
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			out[i] = benchPhoto{body: b, sha: hex.EncodeToString(sum[:]), sha64: base64.StdEncoding.EncodeToString(sum[:])}
		}
	})
	return out, err
}

func meanSize(ps []benchPhoto) float64 {
	var t float64
	for _, p := range ps {
		t += float64(len(p.body))
	}
	return t / float64(len(ps))
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// uploadAll puts every photo with n workers and returns the wall time.
func uploadAll(ctx context.Context, n int, photos []benchPhoto, put func(context.Context, benchPhoto, int) error) (time.Duration, error) {
	var next atomic.Int64
	return parallel(n, func(w int) error {
		for {
			i := int(next.Add(1) - 1)
			if i >= len(photos) || ctx.Err() != nil {
				return ctx.Err()
			}
			if err := put(ctx, photos[i], w); err != nil {
				return err
			}
		}
	})
}

// benchPutPhoto is PUT /api/v1/photos/{id} as the phone app sends it.
func benchPutPhoto(ctx context.Context, hc *http.Client, base, token string, p benchPhoto) error {
	req, err := http.NewRequestWithContext(ctx, "PUT", base+"/api/v1/photos/"+uuid.NewString(), bytes.NewReader(p.body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "image/jpeg")
	req.Header.Set("X-Content-SHA256", p.sha)
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusCreated {
		return fmt.Errorf("PUT photo: %d %.300s", res.StatusCode, b)
	}
	return nil
}

// benchHTTPClient keeps a connection per uploader open, as a phone does.
func benchHTTPClient(conns int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 4 * conns
	t.MaxIdleConnsPerHost = 2 * conns
	return &http.Client{Transport: t, Timeout: 5 * time.Minute}
}

type benchS3 struct{ endpoint, accessKey, secretKey string }

func (s benchS3) client(trailing bool) (*minio.Client, error) {
	c, err := minio.New(s.endpoint, &minio.Options{Creds: credentials.NewStaticV4(s.accessKey, s.secretKey, ""), TrailingHeaders: trailing})
	if err != nil {
		return nil, fmt.Errorf("S3 client for %s: %w", s.endpoint, err)
	}
	return c, nil
}

// removeBuckets empties and removes the run's buckets (those that exist).
func (s benchS3) removeBuckets(c *minio.Client, buckets ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, b := range buckets {
		if ok, err := c.BucketExists(ctx, b); err != nil || !ok {
			continue
		}
		objs := c.ListObjects(ctx, b, minio.ListObjectsOptions{Recursive: true})
		for e := range c.RemoveObjects(ctx, b, objs, minio.RemoveObjectsOptions{}) {
			_ = e // best effort
		}
		_ = c.RemoveBucket(ctx, b)
	}
}

func benchBucket() string { return "fv-bench-" + strings.ReplaceAll(uuid.NewString()[:13], "-", "") }

type rssResult struct {
	idle           float64 // bytes, ready, before any upload
	baseline, peak float64 // bytes, after the warm-up; highest sample
	mbps           float64
}

// benchRSS starts `fieldvisit serve` on the scratch database and its own
// bucket, with the signing keys of the in-process app so that the fixture's
// tokens work there (logging in through it would leave argon2id's 64 MiB
// per hash in its heap and blur the baseline), warms it up with a few sequential uploads, then samples its VmRSS
// every 20 ms while waves of parallel 2 MB uploads run (and for a second
// after, while the thumbnail worker catches up).
func benchRSS(ctx context.Context, stdout io.Writer, hc *http.Client, s3 benchS3, dbURL, dataDir, keyDir string, tokens []string, bucket string, photos []benchPhoto, par, waves int) (rssResult, error) {
	srv, err := startServe(ctx, hc, dataDir,
		"FIELDVISIT_DATABASE_URL="+dbURL, "FIELDVISIT_KEY_DIR="+keyDir,
		"FIELDVISIT_S3_ENDPOINT="+s3.endpoint, "FIELDVISIT_S3_ACCESS_KEY="+s3.accessKey, "FIELDVISIT_S3_SECRET_KEY="+s3.secretKey,
		"FIELDVISIT_S3_BUCKET="+bucket, "FIELDVISIT_S3_SECURE=false", "FIELDVISIT_LOG_LEVEL=warn", "FIELDVISIT_PHOTO_MAX_BYTES=15000000")
	if err != nil {
		return rssResult{}, fmt.Errorf("RSS bench: %w", err)
	}
	defer srv.stop()
	pid, base := srv.pid, srv.base
	fail := func(err error) (rssResult, error) {
		return rssResult{}, fmt.Errorf("RSS bench (server pid %d): %w\nserver log tail:\n%s", pid, err, srv.logTail())
	}

	idle, err := vmRSS(pid)
	if err != nil {
		return fail(err)
	}
	// Warm-up: a few sequential uploads, then let the thumbnail worker finish.
	for i := 0; i < 4; i++ {
		if err := benchPutPhoto(ctx, hc, base, tokens[i%len(tokens)], photos[i]); err != nil {
			return fail(err)
		}
	}
	time.Sleep(2 * time.Second)
	baseline, err := vmRSS(pid)
	if err != nil {
		return fail(err)
	}

	var mu sync.Mutex
	peak := baseline
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if v, err := vmRSS(pid); err == nil {
					mu.Lock()
					peak = max(peak, v)
					mu.Unlock()
				}
			}
		}
	}()
	var total time.Duration
	var sent float64
	for w := 0; w < waves; w++ {
		wave := photos[4+w*par : 4+(w+1)*par]
		d, err := parallel(par, func(i int) error { return benchPutPhoto(ctx, hc, base, tokens[i%len(tokens)], wave[i]) })
		if err != nil {
			close(stop)
			<-sampled
			return fail(err)
		}
		total += d
		for _, p := range wave {
			sent += float64(len(p.body))
		}
		mu.Lock()
		fmt.Fprintf(stdout, "RSS wave %d: %d × 2 MB in %.2fs, peak so far %.1f MB (baseline %.1f MB)\n", w+1, par, d.Seconds(), peak/1e6, baseline/1e6)
		mu.Unlock()
	}
	time.Sleep(time.Second)
	close(stop)
	<-sampled
	return rssResult{idle: idle, baseline: baseline, peak: peak, mbps: sent / 1e6 / total.Seconds()}, nil
}

// vmRSS reads a process's resident set size, in bytes, from /proc.
func vmRSS(pid int) (float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("reading the server's RSS (needs Linux /proc): %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			if err != nil {
				return 0, fmt.Errorf("VmRSS %q: %w", rest, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// cpuTimes are the machine's CPU counters from /proc/stat (all CPUs), so a
// round can say how busy the machine was while it ran: a ratio taken on a
// saturated machine is a ratio of CPU costs, on an idle one of latencies.
type cpuTimes struct{ busy, total float64 }

func machineCPU() cpuTimes {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTimes{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	var t cpuTimes
	for i, v := range f[1:] {
		x, _ := strconv.ParseFloat(v, 64)
		t.total += x
		if i != 3 && i != 4 { // idle, iowait
			t.busy += x
		}
	}
	return t
}

// busySince is the busy share of all CPUs since before (0 when unknown).
func (t cpuTimes) busySince(before cpuTimes) float64 {
	if d := t.total - before.total; d > 0 {
		return (t.busy - before.busy) / d
	}
	return 0
}

// processCPU is the CPU time (user + system, seconds) used so far by this
// process and by every minio and postgres process on the machine, to say
// where the time of a way went.
func processCPU() map[string]float64 {
	out := map[string]float64{}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	self := strconv.Itoa(os.Getpid())
	for _, e := range ents {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		open, closing := strings.IndexByte(string(b), '('), strings.LastIndexByte(string(b), ')')
		if open < 0 || closing < open {
			continue
		}
		comm := string(b[open+1 : closing])
		name := ""
		switch {
		case e.Name() == self:
			name = "self"
		case strings.HasPrefix(comm, "minio"):
			name = "minio"
		case comm == "postgres":
			name = "postgres"
		default:
			continue
		}
		f := strings.Fields(string(b[closing+1:]))
		if len(f) < 13 {
			continue
		}
		ut, _ := strconv.ParseFloat(f[11], 64)
		st, _ := strconv.ParseFloat(f[12], 64)
		out[name] += (ut + st) / 100 // USER_HZ
	}
	return out
}
