package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/klauspost/compress/gzhttp/writer/gzkp"
	"github.com/klauspost/compress/gzhttp/writer/zstdkp"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// benchWireCmd is B8 (issue 17): bytes on the wire for a fresh phone's
// snapshot of --households households and for its incremental pull after
// a supervisor edited each of them once, gzipped (as the phones ask) and
// plain; the API process's CPU per snapshot either way; and B4 for the
// gzipped fresh pull, against the raw SELECTs of the same run. Then the
// codecs on the snapshot's own bytes: size and CPU per snapshot for gzip
// levels and zstd, compressing (the server) and decoding (the phone).
//
// Each round alternates plain, gzip and raw, so all three see the same
// machine; the figures are medians over --rounds.
func benchWireCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, scratch := newBenchFlags("bench wire", stderr)
	households := fs.Int("households", 2000, "households paired with the pulling cadre (3 members each)")
	rounds := fs.Int("rounds", 5, "rounds; each times the plain pull, the gzipped pull and the raw SELECTs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 || *rounds < 1 || *households < 1 {
		return errors.New("usage: fieldvisit bench wire [--households N] [--rounds N]")
	}
	loadBefore := loadAverage()
	sb, err := openSyncBench(ctx, scratch, stderr, *households)
	if err != nil {
		return err
	}
	defer sb.close()
	app, dbURL, fx := sb.app, sb.dbURL, sb.fx
	if err := analyze(ctx, dbURL); err != nil {
		return err
	}
	// The phone reads what crossed the wire: the transport must neither ask
	// for gzip by itself nor decode it.
	hc := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	phone := wirePhone{hc: hc, base: sb.srv.URL, token: fx.pullToken}
	for _, enc := range []string{"identity", "gzip"} { // warm both paths alike
		if _, err := phone.pull(snapshotStart, enc); err != nil {
			return err
		}
	}

	fresh, err := wireRounds(ctx, dbURL, *rounds, func(enc string) (wirePull, error) { return phone.pull(snapshotStart, enc) },
		func(conn *pgx.Conn) error { _, err := rawScope(ctx, conn, fx.pullCadre); return err })
	if err != nil {
		return err
	}
	snapshotPath := "/api/v1/sync/snapshot?limit=2000"
	snapHandler, err := handlerCPUs(app.Handler, *rounds, snapshotPath, fx.pullToken)
	if err != nil {
		return err
	}
	synced, err := phone.pull(snapshotStart, "gzip")
	if err != nil {
		return err
	}
	feedFrom, err := benchEditHouseholds(ctx, app.Store, fx.pullHouseholds)
	if err != nil {
		return err
	}
	incremental, err := wireRounds(ctx, dbURL, *rounds, func(enc string) (wirePull, error) { return phone.pull(synced.cursor, enc) },
		func(conn *pgx.Conn) error { _, err := rawFeed(ctx, conn, fx.pullCadre, feedFrom); return err })
	if err != nil {
		return err
	}
	incHandler, err := handlerCPUs(app.Handler, *rounds, "/api/v1/sync/pull?limit=2000&cursor="+url.QueryEscape(synced.cursor), fx.pullToken)
	if err != nil {
		return err
	}
	codecs, err := codecTable(fresh.body, *rounds)
	if err != nil {
		return err
	}

	fmt.Fprintf(stdout, "fieldvisit bench wire — PostgreSQL, %d households paired with the pulling cadre (3 members each), medians of %d rounds\n", *households, *rounds)
	fmt.Fprintf(stdout, "load average (1, 5, 15 min): %s before, %s after\n\n", loadBefore, loadAverage())
	fmt.Fprintf(stdout, "| B8 | plain bytes | gzip bytes | gzip / plain | goal |\n|---|---|---|---|---|\n")
	for _, r := range []struct {
		name string
		res  wireResult
	}{{fmt.Sprintf("fresh phone: snapshot (%d changes)", fresh.changes), fresh}, {fmt.Sprintf("incremental pull (%d changes)", incremental.changes), incremental}} {
		fmt.Fprintf(stdout, "| %s | %d | %d | **%.3f×** | ≤ 0.15× %s |\n", r.name, r.res.plainBytes, r.res.gzipBytes,
			float64(r.res.gzipBytes)/float64(r.res.plainBytes), metOr(float64(r.res.gzipBytes) <= 0.15*float64(r.res.plainBytes)))
	}
	fmt.Fprintf(stdout, "\n| server CPU per pull | handler alone, plain | handler alone, gzip | gzip − plain | API process over loopback, plain | …, gzip | gzip − plain |\n|---|---|---|---|---|---|---|\n")
	for _, r := range []struct {
		name    string
		res     wireResult
		handler [2]time.Duration
	}{{"fresh phone: snapshot", fresh, snapHandler}, {"incremental pull", incremental, incHandler}} {
		fmt.Fprintf(stdout, "| %s | %s | %s | %+.1f ms | %s | %s | %+.1f ms |\n", r.name, msf(r.handler[0]), msf(r.handler[1]), (r.handler[1]-r.handler[0]).Seconds()*1000,
			msf(r.res.plainCPU), msf(r.res.gzipCPU), (r.res.gzipCPU-r.res.plainCPU).Seconds()*1000)
	}
	fmt.Fprintf(stdout, "(handler alone: the request served in this process into a writer that drops the bytes, no socket; over loopback: the process's CPU for the pull as the phone makes it, the socket's both ends included, the phone's decoding not)\n")
	fmt.Fprintf(stdout, "\n| B4: time to the last byte vs raw SELECT (same rounds) | plain | gzip | raw | plain / raw | gzip / raw | goal (gzip) | gzip with the phone's decoding / raw |\n|---|---|---|---|---|---|---|---|\n")
	for _, r := range []struct {
		name string
		res  wireResult
	}{{"fresh phone: snapshot", fresh}, {"incremental pull", incremental}} {
		goal := "—"
		if r.name == "fresh phone: snapshot" {
			goal = "≤ 1.5× " + metOr(r.res.gzipTime <= r.res.rawTime*3/2)
		}
		fmt.Fprintf(stdout, "| %s | %s | %s | %s | %.2f× | **%.2f×** | %s | %.2f× |\n", r.name, msf(r.res.plainTime), msf(r.res.gzipTime), msf(r.res.rawTime),
			r.res.plainTime.Seconds()/r.res.rawTime.Seconds(), r.res.gzipTime.Seconds()/r.res.rawTime.Seconds(), goal, r.res.gzipDecoded.Seconds()/r.res.rawTime.Seconds())
	}
	fmt.Fprintf(stdout, "\n| codec on the snapshot's %d bytes (as gzhttp's writers make it) | bytes | of plain | compress CPU | decode CPU |\n|---|---|---|---|---|\n", len(fresh.body))
	for _, c := range codecs {
		fmt.Fprintf(stdout, "| %s | %d | %.3f× | %s | %s |\n", c.name, c.size, float64(c.size)/float64(len(fresh.body)), msf(c.compress), msf(c.decode))
	}
	return nil
}

// wirePull is one pull of a phone, from a cursor until has_more is false.
type wirePull struct {
	wire, plain int           // bytes as they crossed, and decoded
	changes     int           // changes in it
	cursor      string        // the last page's
	serverCPU   time.Duration // the process's CPU while it ran, less the phone's decoding
	took        time.Duration // until the last byte of the last page, the phone's decoding left out
	decoded     time.Duration // until the last page was in and decoded
	body        []byte        // the first page, decoded
}

type wirePhone struct {
	hc          *http.Client
	base, token string
}

// pull reads the feed from cursor (snapshotStart: a snapshot first) with
// Accept-Encoding enc, as a phone does: each page read whole and decoded
// (its cursor says whether to go on). It is timed twice: until the last
// byte, the phone's decoding left out (B4 measures the server and the
// transfer, as bench sync leaves out the client's JSON decoding), and
// until the last page is decoded. The CPU is the process's (the server's
// handlers, and this client reading the socket) without the decoding,
// which is the phone's.
func (p wirePhone) pull(cursor, enc string) (wirePull, error) {
	var out wirePull
	var pages [][]byte
	var coding string
	var decodeCPU, decodeTime time.Duration
	cpu, start := processCPUTime(), time.Now()
	for {
		u := p.base + "/api/v1/sync/pull?limit=2000&cursor=" + url.QueryEscape(cursor)
		if cursor == snapshotStart {
			u = p.base + "/api/v1/sync/snapshot?limit=2000"
		}
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("Authorization", "Bearer "+p.token)
		req.Header.Set("Accept-Encoding", enc)
		res, err := p.hc.Do(req)
		if err != nil {
			return out, err
		}
		var b bytes.Buffer
		_, err = b.ReadFrom(res.Body)
		res.Body.Close()
		if err != nil {
			return out, err
		}
		if res.StatusCode != http.StatusOK {
			return out, fmt.Errorf("pull: %d %.200s", res.StatusCode, b.Bytes())
		}
		if len(pages) == 0 {
			coding = res.Header.Get("Content-Encoding")
		}
		out.wire += b.Len()
		d, dt := processCPUTime(), time.Now()
		page, err := decodePage(b.Bytes(), res.Header.Get("Content-Encoding"))
		decodeCPU, decodeTime = decodeCPU+processCPUTime()-d, decodeTime+time.Since(dt)
		if err != nil {
			return out, err
		}
		pages = append(pages, page)
		var tail struct {
			Cursor  string `json:"cursor"`
			HasMore bool   `json:"has_more"`
		}
		i := bytes.LastIndex(page, []byte(`],"cursor":`))
		if i < 0 || json.Unmarshal(append([]byte("{"), page[i+2:]...), &tail) != nil {
			return out, fmt.Errorf("pull: unexpected page end %.200s", page[max(0, len(page)-200):])
		}
		if cursor = tail.Cursor; !tail.HasMore {
			break
		}
	}
	out.decoded, out.serverCPU, out.cursor = time.Since(start), processCPUTime()-cpu-decodeCPU, cursor
	out.took = out.decoded - decodeTime
	out.body = pages[0]
	for _, page := range pages {
		out.plain += len(page)
		out.changes += bytes.Count(page, []byte(`{"entity":`))
	}
	// The first page is the big one; a last page under 1 KiB goes plain.
	if want := map[string]string{"gzip": "gzip", "identity": ""}[enc]; coding != want {
		return out, fmt.Errorf("pull: asked for %s, answered in %q", enc, coding)
	}
	return out, nil
}

// handlerCPUs is the API's CPU for one GET served in this process straight
// into a writer that drops the bytes — the handler's own work (reads,
// JSON, compression) without socket or client — plain and gzipped,
// medians of rounds after one warm-up each.
func handlerCPUs(h http.Handler, rounds int, path, token string) ([2]time.Duration, error) {
	var out [2]time.Duration
	for i, enc := range []string{"identity", "gzip"} {
		var cpus []time.Duration
		for r := range rounds + 1 {
			req := httptest.NewRequest("GET", path, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Accept-Encoding", enc)
			w := &droppingWriter{header: http.Header{}}
			cpu := processCPUTime()
			h.ServeHTTP(w, req)
			if r > 0 {
				cpus = append(cpus, processCPUTime()-cpu)
			}
			if w.status != http.StatusOK || w.header.Get("Content-Encoding") != map[string]string{"gzip": "gzip"}[enc] {
				return out, fmt.Errorf("%s with %s: %d in %q", path, enc, w.status, w.header.Get("Content-Encoding"))
			}
		}
		out[i] = medianDuration(cpus)
	}
	return out, nil
}

// droppingWriter is a ResponseWriter that keeps the status and headers
// and drops the body.
type droppingWriter struct {
	header http.Header
	status int
}

func (w *droppingWriter) Header() http.Header { return w.header }
func (w *droppingWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *droppingWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return len(b), nil
}
func (w *droppingWriter) Flush() {}

// decodePage decodes a page from its Content-Encoding.
func decodePage(b []byte, coding string) ([]byte, error) {
	if coding != "gzip" {
		return b, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// wireResult are the medians of a pull's rounds.
type wireResult struct {
	plainBytes, gzipBytes int
	changes               int
	plainCPU, gzipCPU     time.Duration
	plainTime, gzipTime   time.Duration
	gzipDecoded           time.Duration // gzipTime with the phone's decoding
	rawTime               time.Duration
	body                  []byte // a page as decoded, for the codec table
}

// wireRounds times rounds of the plain pull, the gzipped one and the raw
// ceiling, and checks that both pulls carry the same changes.
func wireRounds(ctx context.Context, dbURL string, rounds int, pull func(enc string) (wirePull, error), raw func(*pgx.Conn) error) (wireResult, error) {
	var res wireResult
	var plainCPU, gzipCPU, plainTime, gzipTime, gzipDecoded, rawTime []time.Duration
	for range rounds {
		plain, err := pull("identity")
		if err != nil {
			return res, err
		}
		gz, err := pull("gzip")
		if err != nil {
			return res, err
		}
		if plain.changes != gz.changes || plain.plain != gz.plain && absDiff(plain.plain, gz.plain) > plain.plain/100 {
			return res, fmt.Errorf("the gzipped pull (%d changes, %d bytes decoded) is not the plain one (%d, %d)", gz.changes, gz.plain, plain.changes, plain.plain)
		}
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			return res, err
		}
		start := time.Now()
		err = raw(conn)
		rawTime = append(rawTime, time.Since(start))
		conn.Close(ctx)
		if err != nil {
			return res, err
		}
		res.plainBytes, res.gzipBytes, res.changes, res.body = plain.wire, gz.wire, plain.changes, plain.body
		plainCPU, gzipCPU = append(plainCPU, plain.serverCPU), append(gzipCPU, gz.serverCPU)
		plainTime, gzipTime, gzipDecoded = append(plainTime, plain.took), append(gzipTime, gz.took), append(gzipDecoded, gz.decoded)
	}
	res.plainCPU, res.gzipCPU = medianDuration(plainCPU), medianDuration(gzipCPU)
	res.plainTime, res.gzipTime, res.gzipDecoded, res.rawTime = medianDuration(plainTime), medianDuration(gzipTime), medianDuration(gzipDecoded), medianDuration(rawTime)
	return res, nil
}

func absDiff(a, b int) int { return max(a-b, b-a) }

func medianDuration(ds []time.Duration) time.Duration {
	return time.Duration(median(seconds(ds)) * float64(time.Second))
}

// codecResult is one codec's cost on the snapshot's bytes.
type codecResult struct {
	name             string
	size             int
	compress, decode time.Duration // medians, process CPU
}

// codecTable compresses body with each candidate as gzhttp's own writer
// factories make them (pooled writers, zstd with gzhttp's 128 KiB
// window), and decodes it as a phone would.
func codecTable(body []byte, rounds int) ([]codecResult, error) {
	type codec struct {
		name   string
		writer func(io.Writer) io.WriteCloser
		reader func(io.Reader) (io.Reader, error) // one decoder reused round after round, as a phone keeps one
	}
	gzipAt := func(level int) func(io.Writer) io.WriteCloser {
		return func(w io.Writer) io.WriteCloser { return gzkp.NewWriter(w, level) }
	}
	zstdAt := func(level zstd.EncoderLevel) func(io.Writer) io.WriteCloser {
		return func(w io.Writer) io.WriteCloser { return zstdkp.NewWriter(w, int(level)) }
	}
	var zr gzip.Reader
	gunzip := func(r io.Reader) (io.Reader, error) { return &zr, zr.Reset(r) }
	zd, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	if err != nil {
		return nil, err
	}
	defer zd.Close()
	unzstd := func(r io.Reader) (io.Reader, error) { return zd, zd.Reset(r) }
	codecs := []codec{
		{"gzip level 1 (the server's)", gzipAt(1), gunzip},
		{"gzip level 3", gzipAt(3), gunzip},
		{"gzip level 6 (gzip's default)", gzipAt(6), gunzip},
		{"gzip level 9", gzipAt(9), gunzip},
		{"zstd fastest (gzhttp's default)", zstdAt(zstd.SpeedFastest), unzstd},
		{"zstd default", zstdAt(zstd.SpeedDefault), unzstd},
		{"zstd better", zstdAt(zstd.SpeedBetterCompression), unzstd},
	}
	var out []codecResult
	for _, c := range codecs {
		var compress, decode []time.Duration
		var size int
		for range rounds + 1 { // the first warms the pools, and is not counted
			var buf bytes.Buffer
			cpu := processCPUTime()
			w := c.writer(&buf)
			if _, err := w.Write(body); err != nil {
				return nil, err
			}
			if err := w.Close(); err != nil {
				return nil, err
			}
			compress = append(compress, processCPUTime()-cpu)
			size = buf.Len()
			cpu = processCPUTime()
			r, err := c.reader(&buf)
			if err != nil {
				return nil, err
			}
			n, err := io.Copy(io.Discard, r)
			if err != nil || int(n) != len(body) {
				return nil, fmt.Errorf("%s: decoded %d bytes of %d: %v", c.name, n, len(body), err)
			}
			decode = append(decode, processCPUTime()-cpu)
		}
		out = append(out, codecResult{name: c.name, size: size, compress: medianDuration(compress[1:]), decode: medianDuration(decode[1:])})
	}
	return out, nil
}

// loadAverage is the machine's load average as uptime prints it.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
