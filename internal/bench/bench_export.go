package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/xuri/excelize/v2"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance"
)

// benchExportCmd is `fieldvisit bench export [flags]`: B7, the visit 台账
// of a county's year (a million visits) downloaded through the API as a
// supervisor's browser does (GET /api/v1/exports/visits, no gzip: the
// bench measures the export, not the compressor), as CSV and as XLSX,
// against the raw ceilings of the same run on connections opened before
// the clock starts: pgx scanning the same rows (the cells the 台账 writes,
// in its order), and pgx feeding the same cells to encoding/csv and to
// excelize's StreamWriter (its own Write) without the service. Rounds
// export the last --round-days of the year; the whole year is exported
// once per format after them. Memory: the API runs in this process, whose
// peak RSS (VmHWM, reset before each download) is read after it; flat
// memory is the same peak for a round and for the year.
func benchExportCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, scratch := newBenchFlags("bench export", stderr)
	visits := fs.Int("visits", 1_000_000, "visits of the county's year (about: each household gets 0 to 20)")
	rounds := fs.Int("rounds", 5, "rounds per format, each the API download and the raw ceilings of the last --round-days")
	roundDays := fs.Int("round-days", 73, "days of the ledger a round exports (365: every round the whole year)")
	seed := fs.Uint64("seed", 1, "generator seed")
	photos := fs.Int("photos", 2, "photos a visit lists on average, 0 to twice as many each (2, as `fieldvisit sim` takes; 0: none, as the benches before the fourteenth session)")
	heapOrder := fs.String("heap-order", "arrival", "how the visits lie in their table: arrival (by received time, as a live county's do) or household (household by household, as before the twelfth session)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the rounds (API and ceilings, all in this process) to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 || *visits < 1000 || *rounds < 1 || *roundDays < 1 || *roundDays > 365 || *photos < 0 || *photos > 10 || (*heapOrder != "arrival" && *heapOrder != "household") {
		return errors.New("usage: fieldvisit bench export [--visits N] [--rounds N] [--round-days 1-365] [--heap-order arrival|household] [--photos 0-10] [--postgres URL]")
	}
	app, dbURL, done, err := scratch.open(ctx, stdout, 1)
	if err != nil {
		return err
	}
	defer done()
	fmt.Fprintf(stdout, "fieldvisit bench export — PostgreSQL, the visit 台账 of one county, %d visits over a year with %d photos each on average, in %s order in their table\n\n",
		*visits, *photos, *heapOrder)
	fx := newRulesFixture(*seed, app.Now(), 1, max(*visits/10, 1), 10)
	fx.visitsOnly = true
	fx.arrivalOrder = *heapOrder == "arrival"
	fx.photosPerVisit = *photos
	if err := fx.load(ctx, dbURL, compliance.Profile{}, stdout); err != nil {
		return err
	}
	if _, _, err := sampleActors(ctx, app, fx); err != nil {
		return err
	}
	// A fresh token for every download: a run outlasts an access token.
	login := func() (string, error) {
		tok, err := app.Auth.Login(ctx, "sample-admin", "bench-password-1", "bench", "127.0.0.1", "bench")
		return tok.AccessToken, err
	}
	srv := httptest.NewServer(app.Handler)
	defer srv.Close()
	hc := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	county := fx.counties[0]
	year := exportSpan{from: fx.today.AddDays(-364), to: fx.today}
	round := exportSpan{from: fx.today.AddDays(-(*roundDays - 1)), to: fx.today}

	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, sp := range []*exportSpan{&year, &round} {
		if sp.rows, err = rawLedger(ctx, conn, county.path, *sp, nil); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "\nthe year: %d visits (%s to %s); a round: %d visits (%d days); load average before the rounds %s\n\n",
		year.rows, year.from, year.to, round.rows, *roundDays, loadAverage())
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()

	// measure exports sp as format once: the bare scan, the bare writer,
	// then the API.
	measure := func(sp exportSpan, f string) (exportRun, error) {
		var m exportRun
		start := time.Now()
		if _, err := rawLedger(ctx, conn, county.path, sp, nil); err != nil {
			return m, err
		}
		m.scan = time.Since(start)
		start = time.Now()
		if err := rawWrite(ctx, conn, county.path, sp, f); err != nil {
			return m, err
		}
		m.raw = time.Since(start)
		token, err := login()
		if err != nil {
			return m, err
		}
		d, peak, size, n, err := apiExport(hc, srv.URL, token, county.id.String(), sp, f)
		if err != nil {
			return m, err
		}
		if f == "csv" && n != sp.rows {
			return m, fmt.Errorf("bench export: the CSV has %d visit lines, the database %d", n, sp.rows)
		}
		m.api, m.peakMB, m.sizeMB = d, peak, size
		fmt.Fprintf(stdout, "  %7d rows %-4s API %6.1f s (%7.0f rows/s, %5.0f MB), raw %6.1f s, scan %5.1f s, peak RSS %4.0f MB, load %s\n", sp.rows, f,
			d.Seconds(), float64(sp.rows)/d.Seconds(), size, m.raw.Seconds(), m.scan.Seconds(), peak, loadAverage())
		return m, nil
	}
	before := machineCPU()
	runs := map[string][]exportRun{}
	whole := map[string]exportRun{}
	for _, f := range []string{"csv", "xlsx"} {
		for r := 0; r < *rounds; r++ {
			m, err := measure(round, f)
			if err != nil {
				return err
			}
			runs[f] = append(runs[f], m)
		}
		if whole[f], err = measure(year, f); err != nil {
			return err
		}
	}
	busy := machineCPU().busySince(before)

	fmt.Fprintf(stdout, "\n| B7: rows/s (median of %d rounds of %d visits; the year of %d visits once) | bare scan S | bare writer W (scan + writer) | **API** | API / W | goal | peak RSS: round / year | file: year |\n|---|---|---|---|---|---|---|---|\n",
		*rounds, round.rows, year.rows)
	goals := map[string]float64{"csv": 200_000, "xlsx": 50_000}
	for _, f := range []string{"csv", "xlsx"} {
		pick := func(get func(exportRun) time.Duration) float64 {
			ds := make([]time.Duration, len(runs[f]))
			for i, m := range runs[f] {
				ds[i] = get(m)
			}
			return float64(round.rows) / median(seconds(ds))
		}
		scan, raw, api := pick(func(m exportRun) time.Duration { return m.scan }), pick(func(m exportRun) time.Duration { return m.raw }),
			pick(func(m exportRun) time.Duration { return m.api })
		peak := 0.0
		for _, m := range runs[f] {
			peak = max(peak, m.peakMB)
		}
		w := whole[f]
		yr := func(d time.Duration) float64 { return float64(year.rows) / d.Seconds() }
		fmt.Fprintf(stdout, "| %s, rounds | %.0f | %.0f | **%.0f** | %.2f | ≥ %.0f k: %s | %.0f MB | — |\n", strings.ToUpper(f), scan, raw, api, api/raw,
			goals[f]/1000, metOr(api >= goals[f]), peak)
		fmt.Fprintf(stdout, "| %s, the year | %.0f | %.0f | **%.0f** | %.2f | ≥ %.0f k: %s | %.0f MB | %.0f MB |\n", strings.ToUpper(f), yr(w.scan), yr(w.raw),
			yr(w.api), w.raw.Seconds()/w.api.Seconds(), goals[f]/1000, metOr(yr(w.api) >= goals[f]), w.peakMB, w.sizeMB)
	}
	fmt.Fprintf(stdout, "\nthe year's XLSX written by excelize's own Write (default deflate level): %.0f MB\n", lastRawXLSXMB)
	fmt.Fprintf(stdout, "\nmachine: %.0f%% of the CPUs busy during the rounds; load average after %s\n", busy*100, loadAverage())
	return nil
}

// exportRun is one export of a span in one format: the bare scan, the
// bare writer, the API download, the peak RSS during the download and the
// file's size.
type exportRun struct {
	scan, raw, api time.Duration
	peakMB, sizeMB float64
}

// exportSpan is the days a ledger covers and how many visits fall in them.
type exportSpan struct {
	from, to domain.Date
	rows     int
}

// ledgerCells is the visit 台账's query without the service: the cells it
// writes, in its order (storage.VisitLedger's joins, filter and ORDER BY).
const ledgerCells = `SELECT t.name, v.name, h.number, h.head_name, h.poverty_type, h.status, u.display_name,
	vi.started_at, vi.ended_at, vi.kind, vi.measures::text, vi.checklist::text, vi.met_with::text, vi.household_confirmed,
	jsonb_array_length(vi.photos), vi.photos->0->>'photo_id', vi.flags::text, vi.notes, vi.received_at
FROM visits vi
JOIN households h ON h.county_id = vi.county_id AND h.id = vi.household_id
JOIN regions v ON v.id = h.village_id
LEFT JOIN regions t ON t.id = v.parent_id
JOIN users u ON u.id = vi.cadre_id
WHERE NOT vi.deleted AND vi.started_at >= $1 AND vi.started_at < $2 AND h.region_path LIKE $3
ORDER BY t.name, v.name, h.number, h.head_name, vi.started_at, vi.id`

// rawLedger scans the span's ledger cells (every value decoded) and hands
// each row to fn when set; it returns the rows read.
func rawLedger(ctx context.Context, conn *pgx.Conn, path string, sp exportSpan, fn func(vals []any) error) (int, error) {
	rows, err := conn.Query(ctx, ledgerCells, sp.from.Start(), sp.to.AddDays(1).Start(), path+"%")
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return n, err
		}
		n++
		if fn != nil {
			if err := fn(vals); err != nil {
				return n, err
			}
		}
	}
	return n, rows.Err()
}

// rawWrite writes the span's ledger cells as format to nowhere with the
// bare writer: 22 cells a row like the service's (the number, the date
// and times as typed cells in XLSX).
func rawWrite(ctx context.Context, conn *pgx.Conn, path string, sp exportSpan, format string) error {
	cells := func(n int, v []any) []any {
		started, _ := v[7].(time.Time)
		ended, _ := v[8].(time.Time)
		return []any{n, v[0], v[1], v[2], v[3], v[4], v[5], v[6], started, started, ended, int(ended.Sub(started).Minutes()), v[9], v[10], v[11], v[12], v[13], v[14], v[15], v[16], v[17], v[18]}
	}
	if format == "csv" {
		w := csv.NewWriter(bufio.NewWriter(io.Discard))
		rec := make([]string, 22)
		n := 0
		_, err := rawLedger(ctx, conn, path, sp, func(v []any) error {
			n++
			for i, c := range cells(n, v) {
				rec[i] = rawText(c)
			}
			return w.Write(rec)
		})
		if err != nil {
			return err
		}
		w.Flush()
		return w.Error()
	}
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		return err
	}
	n := 0
	_, err = rawLedger(ctx, conn, path, sp, func(v []any) error {
		n++
		cell, err := excelize.CoordinatesToCellName(1, n)
		if err != nil {
			return err
		}
		return sw.SetRow(cell, cells(n, v))
	})
	if err != nil {
		return err
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	out := &countingWriter{}
	defer func() { lastRawXLSXMB = float64(out.n) / 1e6 }()
	return f.Write(out)
}

// lastRawXLSXMB is the size of the last workbook rawWrite made with
// excelize's own Write (its default deflate level), beside the API's.
var lastRawXLSXMB float64

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// rawText spells a cell for the bare CSV writer: times as the 台账 shows
// them, the rest as Go prints it.
func rawText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case time.Time:
		return x.In(domain.Shanghai).Format("2006-01-02 15:04")
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// apiExport downloads the ledger of the span through the API and returns
// how long it took, this process's peak RSS in MB during it (the API runs
// here), the file's size in MB and its number of visit lines (CSV only:
// the title, subtitle and headings aside).
func apiExport(hc *http.Client, base, token, region string, sp exportSpan, format string) (d time.Duration, peakMB, sizeMB float64, lines int, err error) {
	q := url.Values{"region_id": {region}, "from": {sp.from.String()}, "to": {sp.to.String()}, "format": {format}}
	req, err := http.NewRequest(http.MethodGet, base+"/api/v1/exports/visits?"+q.Encode(), nil)
	if err != nil {
		return 0, 0, 0, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	// VmHWM counts from here: "5" resets the peak to the current RSS,
	// after the heap the bare writers left in this process went back.
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return 0, 0, 0, 0, fmt.Errorf("resetting the peak RSS (needs Linux /proc): %w", err)
	}
	start := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		return 0, 0, 0, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return 0, 0, 0, 0, fmt.Errorf("export %s: %d %s", format, resp.StatusCode, b)
	}
	size := 0
	buf := make([]byte, 256<<10)
	for {
		n, err := resp.Body.Read(buf)
		size += n
		lines += bytes.Count(buf[:n], []byte{'\n'})
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, 0, 0, 0, err
		}
	}
	d = time.Since(start)
	peak, err := peakRSS()
	return d, peak / 1e6, float64(size) / 1e6, lines - 3, err
}

// peakRSS is this process's peak resident set size (VmHWM) in bytes.
func peakRSS() (float64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("no VmHWM in /proc/self/status")
}
