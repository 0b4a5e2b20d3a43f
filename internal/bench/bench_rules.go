package bench

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/fieldvisit/fieldvisit/domain"
	fvapp "github.com/fieldvisit/fieldvisit/internal/app"
	"github.com/fieldvisit/fieldvisit/internal/compliance"
	"github.com/fieldvisit/fieldvisit/internal/compliance/rules"
)

// B5 (issue 6): the visit-rule statuses at province scale. A generator loads
// regions, cadres, households, pairings, a year of visits and the current
// year's statuses (computed in Go by the same rules engine the worker uses)
// by COPY, then measures the missed-visit report of one village and of one
// county, and what keeping statuses current costs per pushed visit against
// a plain INSERT of that visit.

const (
	benchTownsPerCounty   = 20
	benchVillagesPerTown  = 10
	benchCadresPerVillage = 8
)

// Household statuses as generated; poverty types and exit years only for
// registered and exited households.
var benchPovertyTypes = []string{domain.PovertyOrdinary, domain.PovertyOrdinary, domain.PovertyOrdinary, domain.PovertyOrdinary,
	domain.PovertyOrdinary, domain.PovertyOrdinary, domain.PovertyOrdinary, domain.PovertyDibao, domain.PovertyDibao, domain.PovertyWubao}

type rulesVillage struct {
	id, town, county uuid.UUID
	path, code, name string
}

type rulesHousehold struct {
	id       uuid.UUID
	pairing  uuid.UUID
	village  int32
	cadre    int32 // paired cadre (index into cadres); -1 for general households
	status   string
	ptype    string
	exitYear int
}

type rulesFixture struct {
	seed       uint64
	now        time.Time
	today      domain.Date
	pairFrom   domain.Date
	perHH      int
	province   rulesVillage
	city       rulesVillage
	admin      uuid.UUID
	counties   []rulesVillage
	villages   []rulesVillage
	cadres     []uuid.UUID
	households []rulesHousehold
	// registryOnly loads regions, users, households and pairings, and
	// neither visits nor compliance statuses (bench sample draws from the
	// registry alone).
	registryOnly bool
	// visitsOnly loads the registry and the visits, and no compliance
	// statuses (bench export reads visits alone).
	visitsOnly bool
	// arrivalOrder writes the visits to the table in the order a server
	// receives them (by received time, every household's mixed with all
	// the others'), as a live county's table lies, instead of household by
	// household: a read by household then touches a heap page per visit,
	// and a sort by village and household starts from no order at all.
	arrivalOrder bool
	// photosPerVisit is how many photos a visit lists on average (0 to
	// twice as many each); 0 leaves every visit's list empty, as the
	// benches did before the fourteenth session. Photos are drawn from the
	// visit's id, not the fixture's stream, so nothing else generated
	// changes with it.
	photosPerVisit int
}

// benchRulesCmd is `fieldvisit bench rules [flags]`.
func benchRulesCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, scratch := newBenchFlags("bench rules", stderr)
	nHouseholds := fs.Int("households", 1_000_000, "households generated")
	perHH := fs.Int("visits-per-household", 12, "visits per household on average, over the last 365 days")
	nCounties := fs.Int("counties", 50, "counties (each 20 towns × 10 villages × 8 cadres)")
	nVillageReports := fs.Int("village-reports", 100, "random villages whose missed-visit report is timed")
	nCountyReports := fs.Int("county-reports", 20, "random counties whose missed-visit report is timed")
	nPushes := fs.Int("pushes", 300, "visits pushed for the incremental-update cost (and as many plain inserts)")
	seed := fs.Uint64("seed", 1, "generator seed")
	partitions := fs.Int("partitions", 0, "hash-partition visits, changes and compliance_statuses by county into N partitions before the load (0: the migrated layout)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 || *nHouseholds < 1 || *perHH < 0 || *nCounties < 1 || *partitions < 0 {
		return errors.New("usage: fieldvisit bench rules [--households N] [--visits-per-household N] [--counties N] [--postgres URL]")
	}
	app, dbURL, done, err := scratch.open(ctx, stdout, 1)
	if err != nil {
		return err
	}
	defer done()
	prof, err := app.Compliance.GetProfile(ctx, compliance.DefaultProfileCode)
	if err != nil {
		return err
	}

	fmt.Fprintf(stdout, "fieldvisit bench rules — PostgreSQL, %d households, ~%d visits each, %d counties (profile %s v%d); load average %s\n\n",
		*nHouseholds, *perHH, *nCounties, prof.Code, prof.Version, loadAverage())
	if *partitions > 0 {
		if err := partitionTables(ctx, dbURL, *partitions, stdout); err != nil {
			return err
		}
	}
	fx := newRulesFixture(*seed, app.Now(), *nCounties, *nHouseholds, *perHH)
	loadStart := time.Now()
	if err := fx.load(ctx, dbURL, prof, stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "load total %s\n", time.Since(loadStart).Round(time.Second))
	if err := fx.checkAgainstWorker(ctx, app); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "check: 20 households re-judged by the worker match the loaded statuses")

	rng := rand.New(rand.NewPCG(*seed, 99))
	ap := domain.Principal{UserID: fx.admin, Username: "bench-admin", Role: domain.RoleAdmin, RegionID: fx.province.id, RegionPath: fx.province.path}
	quarter, _ := rules.PeriodOf(rules.WindowQuarter, fx.today)
	year, _ := rules.PeriodOf(rules.WindowYear, fx.today)
	villageIDs := make([]uuid.UUID, len(fx.villages))
	for i, v := range fx.villages {
		villageIDs[i] = v.id
	}
	countyIDs := make([]uuid.UUID, len(fx.counties))
	for i, c := range fx.counties {
		countyIDs[i] = c.id
	}
	type reportRun struct {
		what        string
		ids         []uuid.UUID
		period      string
		goal        time.Duration
		p50, p95    time.Duration
		rows, shown int64
	}
	runs := []*reportRun{
		{what: "village", ids: pick(rng, villageIDs, *nVillageReports), period: quarter.Key(), goal: 200 * time.Millisecond},
		{what: "county", ids: pick(rng, countyIDs, *nCountyReports), period: quarter.Key(), goal: 2 * time.Second},
		{what: "village", ids: pick(rng, villageIDs, *nVillageReports), period: year.Key(), goal: 200 * time.Millisecond},
		{what: "county", ids: pick(rng, countyIDs, *nCountyReports), period: year.Key(), goal: 2 * time.Second},
	}
	// One untimed report first, so the first timed one does not pay for
	// connections and prepared statements.
	if _, err := app.Compliance.Missed(ctx, ap, compliance.ReportQuery{RegionID: fx.villages[0].id, Period: quarter.Key(), Limit: 50}); err != nil {
		return err
	}
	for _, r := range runs {
		durs := make([]time.Duration, 0, len(r.ids))
		for _, id := range r.ids {
			start := time.Now()
			rep, err := app.Compliance.Missed(ctx, ap, compliance.ReportQuery{RegionID: id, Period: r.period, Limit: 50})
			if err != nil {
				return fmt.Errorf("missed report %s %s: %w", r.what, id, err)
			}
			durs = append(durs, time.Since(start))
			r.rows += rep.Total.Total
			r.shown += rep.Count
		}
		r.p50, r.p95 = percentile(durs, 50), percentile(durs, 95)
		fmt.Fprintf(stdout, "missed report, %s, %s: n=%d p50 %s p95 %s (avg %d statuses, %d missed/overdue)\n", r.what, r.period, len(durs),
			ms(r.p50), ms(r.p95), r.rows/int64(len(durs)), r.shown/int64(len(durs)))
	}

	inc, err := fx.incremental(ctx, app, dbURL, rng, *nPushes)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "incremental: %d plain inserts, %d pushed visits\n", *nPushes, *nPushes)

	fmt.Fprintf(stdout, "\n| bench | measured | goal | status |\n|---|---|---|---|\n")
	for _, r := range runs {
		fmt.Fprintf(stdout, "| missed-visit report, one %s, %s (n=%d, ~%d statuses each) | p50 %s, p95 **%s** | p95 < %s | %s |\n",
			r.what, r.period, len(r.ids), r.rows/int64(len(r.ids)), ms(r.p50), ms(r.p95), ms(r.goal), metOr(r.p95 < r.goal))
	}
	fmt.Fprintf(stdout, "\n| per visit (mean of %d) | time | ratio to the plain INSERT |\n|---|---|---|\n", *nPushes)
	fmt.Fprintf(stdout, "| plain `INSERT INTO visits` (pgx, one row, autocommit) — ceiling | %s | 1.00 |\n", msf(inc.raw))
	fmt.Fprintf(stdout, "| `Store.InsertVisit` (visit + photo links + compliance queue + feed row) | %s | %.2f |\n", msf(inc.insert), inc.insert.Seconds()/inc.raw.Seconds())
	fmt.Fprintf(stdout, "| `JudgeQueued` until the queue is empty (household + cadre) | %s | **%.2f** |\n", msf(inc.judge), inc.judge.Seconds()/inc.raw.Seconds())
	fmt.Fprintf(stdout, "| insert + judge | %s | **%.2f** |\n", msf(inc.insert+inc.judge), (inc.insert+inc.judge).Seconds()/inc.raw.Seconds())
	fmt.Fprintf(stdout, "| (medians: plain %s, insert %s, judge %s) | | |\n", msf(inc.rawMed), msf(inc.insertMed), msf(inc.judgeMed))
	return nil
}

func metOr(ok bool) string {
	if ok {
		return "met"
	}
	return "not met"
}

func ms(d time.Duration) string  { return fmt.Sprintf("%.0f ms", d.Seconds()*1000) }
func msf(d time.Duration) string { return fmt.Sprintf("%.2f ms", d.Seconds()*1000) }

// percentile is the nearest-rank percentile of ds.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(0, min(len(s)-1, i-1))]
}

func mean(ds []time.Duration) time.Duration {
	var t time.Duration
	for _, d := range ds {
		t += d
	}
	return t / time.Duration(max(1, len(ds)))
}

// pick draws n ids without repeats while there are enough, then with.
func pick(rng *rand.Rand, ids []uuid.UUID, n int) []uuid.UUID {
	perm := rng.Perm(len(ids))
	out := make([]uuid.UUID, n)
	for i := range out {
		out[i] = ids[perm[i%len(perm)]]
	}
	return out
}

func randUUID(rng *rand.Rand) uuid.UUID {
	var u uuid.UUID
	a, b := rng.Uint64(), rng.Uint64()
	for i := 0; i < 8; i++ {
		u[i], u[8+i] = byte(a>>(8*i)), byte(b>>(8*i))
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u
}

func newRulesFixture(seed uint64, now time.Time, nCounties, nHouseholds, perHH int) *rulesFixture {
	rng := rand.New(rand.NewPCG(seed, 1))
	today := domain.DateOf(now)
	fx := &rulesFixture{seed: seed, now: now.UTC().Truncate(time.Second), today: today, perHH: perHH,
		pairFrom: domain.Date{Year: today.Year - 1, Month: time.January, Day: 1}}
	prov, city := randUUID(rng), randUUID(rng)
	fx.province = rulesVillage{id: prov, path: "/" + prov.String() + "/", code: "410000000000", name: "基准省"}
	fx.admin = randUUID(rng)
	cityPath := fx.province.path + city.String() + "/"
	fx.city = rulesVillage{id: city, path: cityPath, code: "419900000000", name: "基准市"}
	for c := 0; c < nCounties; c++ {
		cid := randUUID(rng)
		county := rulesVillage{id: cid, county: cid, path: cityPath + cid.String() + "/", code: fmt.Sprintf("41%04d000000", c+1), name: fmt.Sprintf("基准%d县", c+1)}
		fx.counties = append(fx.counties, county)
		for t := 0; t < benchTownsPerCounty; t++ {
			tid := randUUID(rng)
			tpath := county.path + tid.String() + "/"
			for v := 0; v < benchVillagesPerTown; v++ {
				vid := randUUID(rng)
				fx.villages = append(fx.villages, rulesVillage{id: vid, town: tid, county: cid, path: tpath + vid.String() + "/",
					code: fmt.Sprintf("41%04d%03d%03d", c+1, t+1, v+1), name: fmt.Sprintf("%d镇%d村", t+1, v+1)})
			}
		}
	}
	fx.cadres = make([]uuid.UUID, len(fx.villages)*benchCadresPerVillage)
	for i := range fx.cadres {
		fx.cadres[i] = randUUID(rng)
	}
	fx.households = make([]rulesHousehold, nHouseholds)
	for i := range fx.households {
		h := &fx.households[i]
		// Villages interleave across the load order, so one village's rows
		// are spread over the tables as they are after years of edits.
		h.village = int32(i % len(fx.villages))
		h.id = randUUID(rng)
		h.cadre = -1
		switch r := rng.IntN(100); {
		case r < 30:
			h.status = domain.StatusRegistered
		case r < 40:
			h.status, h.exitYear = domain.StatusExited, 2016+rng.IntN(5)
		case r < 45:
			h.status = domain.StatusEdge
		default:
			h.status = domain.StatusGeneral
		}
		if h.status == domain.StatusRegistered || h.status == domain.StatusExited {
			h.ptype = benchPovertyTypes[rng.IntN(len(benchPovertyTypes))]
		}
		if h.status != domain.StatusGeneral {
			h.cadre = h.village*benchCadresPerVillage + int32(rng.IntN(benchCadresPerVillage))
			h.pairing = randUUID(rng)
		}
	}
	return fx
}

type genVisit struct {
	id               uuid.UUID
	cadre            int32
	kind             string
	started, ended   time.Time
	received         time.Time
	offsetMS         int64
	note, check, gps string
	measures         string
	photos           string
}

var (
	benchNotes = []string{"了解家庭收入和医疗报销情况", "宣讲产业扶持政策，核实务工收入", "查看危房改造进度", "核实义务教育资助落实情况",
		"了解种养殖产业发展和销售情况", "核对家庭成员变化，更新明白卡", "协调小额信贷续贷", "检查饮水安全和住房安全"}
	benchChecklists = []string{`{"food":{"answer":"met"},"clothing":{"answer":"met"},"education":{"answer":"met"},"medical":{"answer":"met"},"housing":{"answer":"met"},"water":{"answer":"met"}}`,
		`{"food":{"answer":"met"},"clothing":{"answer":"met"},"medical":{"answer":"problem","note":"慢性病报销未到位"},"housing":{"answer":"met"},"water":{"answer":"met"}}`,
		`{"food":{"answer":"met"},"housing":{"answer":"met"}}`}
	benchMeasures = []string{`["policy_briefing"]`, `["industry","policy_briefing"]`, `["employment"]`, `["medical"]`, `["education"]`, `[]`}
)

// visits regenerates household i's visits: the same every call, so the
// statuses pass need not hold the visits pass in memory.
func (fx *rulesFixture) visits(i int) []genVisit {
	h := &fx.households[i]
	rng := rand.New(rand.NewPCG(fx.seed, uint64(i)+1<<40))
	n := 0
	if fx.perHH > 0 {
		n = rng.IntN(2*fx.perHH + 1)
	}
	out := make([]genVisit, n)
	dayStart := fx.today.Start()
	for k := range out {
		v := &out[k]
		v.id = randUUID(rng)
		v.cadre = h.cadre
		if v.cadre < 0 || rng.IntN(20) == 0 { // general households: any village cadre; now and then a colleague
			v.cadre = h.village*benchCadresPerVillage + int32(rng.IntN(benchCadresPerVillage))
		}
		switch r := rng.IntN(100); {
		case r < 80:
			v.kind = domain.KindAssist
		case r < 90:
			v.kind = domain.KindFollowup
		case r < 97:
			v.kind = domain.KindCondolence
		default:
			v.kind = domain.KindInspection
		}
		d := rng.IntN(365)
		v.started = dayStart.Add(-time.Duration(d)*24*time.Hour + 8*time.Hour + time.Duration(rng.IntN(10*3600))*time.Second)
		if v.started.After(fx.now) {
			v.started = v.started.Add(-24 * time.Hour)
		}
		v.ended = v.started.Add(time.Duration(10+rng.IntN(110)) * time.Minute)
		v.received = v.ended.Add(time.Duration(rng.IntN(72*3600)) * time.Second)
		if v.received.After(fx.now) {
			v.received = fx.now
		}
		v.offsetMS = int64(rng.IntN(4000) - 2000)
		v.note = benchNotes[rng.IntN(len(benchNotes))]
		v.check = benchChecklists[rng.IntN(len(benchChecklists))]
		v.measures = benchMeasures[rng.IntN(len(benchMeasures))]
		v.gps = fmt.Sprintf(`[{"lat":%.5f,"lon":%.5f,"accuracy":%d,"provider":"gps","mock":false,"device_time":"%s"}]`,
			34.5+rng.Float64(), 113.5+rng.Float64(), 5+rng.IntN(40), v.started.UTC().Format(time.RFC3339))
		v.photos = fx.photoList(v.id)
	}
	return out
}

// photoList is a visit's photos as a phone lists them (an id and the
// content's SHA-256 each), drawn from the visit's id.
func (fx *rulesFixture) photoList(visit uuid.UUID) string {
	if fx.photosPerVisit == 0 {
		return "[]"
	}
	rng := rand.New(rand.NewPCG(binary.LittleEndian.Uint64(visit[:8]), binary.LittleEndian.Uint64(visit[8:])))
	var b strings.Builder
	b.WriteByte('[')
	for k := range rng.IntN(2*fx.photosPerVisit + 1) {
		if k > 0 {
			b.WriteByte(',')
		}
		var sum [32]byte
		for i := range 4 {
			binary.LittleEndian.PutUint64(sum[8*i:], rng.Uint64())
		}
		fmt.Fprintf(&b, `{"photo_id":"%s","sha256":"%x"}`, randUUID(rng), sum)
	}
	b.WriteByte(']')
	return b.String()
}

// visitsInHouseholdOrder yields every household's visits, household by
// household, generating them as it goes.
func (fx *rulesFixture) visitsInHouseholdOrder() func() (int, genVisit, bool) {
	i := 0
	var pending []genVisit
	return func() (int, genVisit, bool) {
		for len(pending) == 0 {
			if i == len(fx.households) {
				return 0, genVisit{}, false
			}
			pending = fx.visits(i)
			i++
		}
		v := pending[0]
		pending = pending[1:]
		return i - 1, v, true
	}
}

// visitsInArrivalOrder yields the same visits by received time (ids break
// ties), all generated first: a million visits are ~200 MB of the bench
// process, never of the server it measures.
func (fx *rulesFixture) visitsInArrivalOrder() func() (int, genVisit, bool) {
	type arrived struct {
		household int
		v         genVisit
	}
	var all []arrived
	for i := range fx.households {
		for _, v := range fx.visits(i) {
			all = append(all, arrived{i, v})
		}
	}
	slices.SortFunc(all, func(a, b arrived) int {
		if c := a.v.received.Compare(b.v.received); c != 0 {
			return c
		}
		return bytes.Compare(a.v.id[:], b.v.id[:])
	})
	k := 0
	return func() (int, genVisit, bool) {
		if k == len(all) {
			return 0, genVisit{}, false
		}
		k++
		return all[k-1].household, all[k-1].v, true
	}
}

func dateTime(d domain.Date) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
}

// copyStage COPYs rows into table and prints the stage's timing.
func copyStage(ctx context.Context, conn *pgx.Conn, out io.Writer, table string, cols []string, next func() ([]any, error)) error {
	start := time.Now()
	n, err := conn.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromFunc(next))
	if err != nil {
		return fmt.Errorf("COPY %s: %w", table, err)
	}
	d := time.Since(start)
	fmt.Fprintf(out, "  %-22s %11d rows  %8s  %9.0f rows/s\n", table, n, d.Round(100*time.Millisecond), float64(n)/d.Seconds())
	return nil
}

// withoutIndexes drops a table's secondary indexes for a bulk load and
// returns how to build them again, from the definitions the migrations made.
func withoutIndexes(ctx context.Context, conn *pgx.Conn, table string) (func(io.Writer) error, error) {
	rows, err := conn.Query(ctx, `SELECT i.indexname, i.indexdef FROM pg_indexes i
		WHERE i.schemaname = current_schema() AND i.tablename = $1
		AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`, table)
	if err != nil {
		return nil, err
	}
	var names, defs []string
	for rows.Next() {
		var n, d string
		if err := rows.Scan(&n, &d); err != nil {
			rows.Close()
			return nil, err
		}
		// A partitioned table's index reads "ON ONLY t" (the parent
		// alone); built again, it must cover the partitions too.
		names, defs = append(names, n), append(defs, strings.Replace(d, " ON ONLY ", " ON ", 1))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, n := range names {
		if _, err := conn.Exec(ctx, "DROP INDEX "+pgx.Identifier{n}.Sanitize()); err != nil {
			return nil, err
		}
	}
	return func(out io.Writer) error {
		start := time.Now()
		for _, d := range defs {
			if _, err := conn.Exec(ctx, d); err != nil {
				return err
			}
		}
		fmt.Fprintf(out, "  %-22s %d indexes rebuilt  %8s\n", table, len(defs), time.Since(start).Round(100*time.Millisecond))
		return nil
	}, nil
}

func (fx *rulesFixture) load(ctx context.Context, dbURL string, prof compliance.Profile, out io.Writer) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	// The generated rows are consistent by construction: skip the per-row
	// foreign-key triggers while loading (superuser only; checked otherwise).
	if _, err := conn.Exec(ctx, "SET session_replication_role = replica"); err != nil {
		fmt.Fprintf(out, "  (foreign keys checked during the load: %v)\n", err)
	}
	if _, err := conn.Exec(ctx, "SET maintenance_work_mem = '512MB'"); err != nil {
		return err
	}
	now := fx.now
	fmt.Fprintln(out, "load:")

	// Regions: province, city, counties, towns, villages.
	type regionRow struct {
		id, parent uuid.UUID
		level      string
		code, name string
		county     *uuid.UUID
		path       string
		poor       bool
	}
	var regions []regionRow
	regions = append(regions, regionRow{id: fx.province.id, level: domain.LevelProvince, code: fx.province.code, name: fx.province.name, path: fx.province.path})
	city := fx.city
	regions = append(regions, regionRow{id: city.id, parent: fx.province.id, level: domain.LevelCity, code: city.code, name: city.name, path: city.path})
	for ci, c := range fx.counties {
		cid := c.id
		regions = append(regions, regionRow{id: c.id, parent: city.id, level: domain.LevelCounty, code: c.code, name: c.name, county: &cid, path: c.path})
		base := ci * benchTownsPerCounty * benchVillagesPerTown
		for t := 0; t < benchTownsPerCounty; t++ {
			v0 := fx.villages[base+t*benchVillagesPerTown]
			regions = append(regions, regionRow{id: v0.town, parent: c.id, level: domain.LevelTown, code: v0.code[:9] + "000",
				name: fmt.Sprintf("%s%d镇", c.name, t+1), county: &cid, path: strings.TrimSuffix(v0.path, v0.id.String()+"/")})
			for v := 0; v < benchVillagesPerTown; v++ {
				vil := fx.villages[base+t*benchVillagesPerTown+v]
				regions = append(regions, regionRow{id: vil.id, parent: vil.town, level: domain.LevelVillage, code: vil.code, name: vil.name,
					county: &cid, path: vil.path, poor: v%3 == 0})
			}
		}
	}
	i := 0
	err = copyStage(ctx, conn, out, "regions", []string{"id", "parent_id", "level", "code", "name", "county_id", "path", "is_poor_village"}, func() ([]any, error) {
		if i == len(regions) {
			return nil, nil
		}
		r := regions[i]
		i++
		var parent, county any
		if r.parent != uuid.Nil {
			parent = r.parent
		}
		if r.county != nil {
			county = *r.county
		}
		return []any{r.id, parent, r.level, r.code, r.name, county, r.path, r.poor}, nil
	})
	if err != nil {
		return err
	}

	// Users: an admin at the province and the village cadres.
	i = -1
	err = copyStage(ctx, conn, out, "users", []string{"id", "username", "display_name", "role", "region_id", "region_path", "rank", "duties", "password_hash", "active", "created_at", "updated_at"}, func() ([]any, error) {
		defer func() { i++ }()
		if i == -1 {
			return []any{fx.admin, "bench-admin", "省管理员", domain.RoleAdmin, fx.province.id, fx.province.path, "", "[]", "bench-not-a-hash", true, now, now}, nil
		}
		if i == len(fx.cadres) {
			return nil, nil
		}
		v := fx.villages[i/benchCadresPerVillage]
		return []any{fx.cadres[i], fmt.Sprintf("cadre-%07d", i), fmt.Sprintf("干部%d", i), domain.RoleCadre, v.id, v.path, domain.RankStaff, "[]",
			"bench-not-a-hash", true, now, now}, nil
	})
	if err != nil {
		return err
	}

	// Households.
	surnames := []rune("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗")
	given := []string{"建国", "桂英", "秀兰", "志强", "国华", "玉梅", "德福", "春生", "永红", "海军"}
	seq := make([]int32, len(fx.villages))
	undo, err := withoutIndexes(ctx, conn, "households")
	if err != nil {
		return err
	}
	i = 0
	err = copyStage(ctx, conn, out, "households", []string{"county_id", "id", "region_id", "village_id", "region_path", "number", "head_name", "address",
		"home_lat", "home_lon", "causes", "poverty_type", "status", "exit_year", "registered_year", "annual_income", "version", "created_at", "updated_at"}, func() ([]any, error) {
		if i == len(fx.households) {
			return nil, nil
		}
		h := &fx.households[i]
		v := fx.villages[h.village]
		seq[h.village]++
		var exit, reg any
		causes := "[]"
		if h.exitYear != 0 {
			exit = h.exitYear
		}
		if h.status == domain.StatusRegistered || h.status == domain.StatusExited {
			reg, causes = 2014+i%3, `["illness"]`
		}
		row := []any{v.county, h.id, v.id, v.id, v.path, fmt.Sprintf("%s%04d", v.code, seq[h.village]),
			string(surnames[i%len(surnames)]) + given[(i/7)%len(given)], v.name + fmt.Sprintf("%d组", 1+i%6),
			34.5 + float64(i%1000)/1000, 113.5 + float64(i%997)/997, causes, h.ptype, h.status, exit, reg, float64(3000 + i%20000), int64(1), now, now}
		i++
		return row, nil
	})
	if err != nil {
		return err
	}
	if err := undo(out); err != nil {
		return err
	}

	// Pairings: every non-general household with a cadre of its village
	// since January 1 of last year.
	i = 0
	pairFrom := dateTime(fx.pairFrom)
	err = copyStage(ctx, conn, out, "pairings", []string{"county_id", "id", "household_id", "cadre_id", "start_on", "created_at"}, func() ([]any, error) {
		for i < len(fx.households) && fx.households[i].cadre < 0 {
			i++
		}
		if i == len(fx.households) {
			return nil, nil
		}
		h := &fx.households[i]
		i++
		return []any{fx.villages[h.village].county, h.pairing, h.id, fx.cadres[h.cadre], pairFrom, now}, nil
	})
	if err != nil {
		return err
	}

	if fx.registryOnly {
		return analyzeAndSize(ctx, conn, out)
	}

	// Visits.
	undo, err = withoutIndexes(ctx, conn, "visits")
	if err != nil {
		return err
	}
	next := fx.visitsInHouseholdOrder()
	if fx.arrivalOrder {
		next = fx.visitsInArrivalOrder()
	}
	err = copyStage(ctx, conn, out, "visits", []string{"county_id", "id", "household_id", "cadre_id", "device_id", "kind", "started_at", "ended_at",
		"started_at_text", "received_at", "clock_offset_ms", "notes", "checklist", "measures", "met_with", "household_confirmed", "gps", "photos", "flags",
		"deleted", "version", "created_at", "updated_at"}, func() ([]any, error) {
		hi, v, ok := next()
		if !ok {
			return nil, nil
		}
		h := &fx.households[hi]
		confirmed := v.kind != domain.KindInspection
		return []any{fx.villages[h.village].county, v.id, h.id, fx.cadres[v.cadre], fmt.Sprintf("dev-%07d", v.cadre), v.kind, v.started, v.ended,
			v.started.In(domain.Shanghai).Format(time.RFC3339), v.received, v.offsetMS, v.note, v.check, v.measures, `["户主"]`, confirmed, v.gps,
			v.photos, "[]", false, int64(1), v.received, v.received}, nil
	})
	if err != nil {
		return err
	}
	if err := undo(out); err != nil {
		return err
	}
	if fx.visitsOnly {
		return analyzeAndSize(ctx, conn, out)
	}

	// Statuses of the current year, judged in Go exactly as the worker does,
	// and the subjects judged (every household and cadre, so the worker
	// does not judge them again).
	undo, err = withoutIndexes(ctx, conn, "compliance_statuses")
	if err != nil {
		return err
	}
	rowsC := fx.statusRows(ctx, prof)
	var batch [][]any
	err = copyStage(ctx, conn, out, "compliance_statuses", []string{"county_id", "subject_kind", "subject_id", "cadre_key", "rule_code", "period_key",
		"year", "window_kind", "household_id", "cadre_id", "village_id", "town_id", "region_path", "required", "full_required", "counted", "prorated",
		"due_on", "due_soon_from", "overdue_from", "detail", "profile_code", "profile_version", "computed_at"}, func() ([]any, error) {
		for len(batch) == 0 {
			b, ok := <-rowsC
			if !ok {
				return nil, nil
			}
			if b.err != nil {
				return nil, b.err
			}
			batch = b.rows
		}
		r := batch[0]
		batch = batch[1:]
		return r, nil
	})
	if err != nil {
		return err
	}
	if err := undo(out); err != nil {
		return err
	}
	year := fx.today.Year
	i = 0
	err = copyStage(ctx, conn, out, "compliance_subjects", []string{"subject_kind", "subject_id", "year", "county_id", "profile_code", "profile_version", "judged_at"}, func() ([]any, error) {
		switch {
		case i < len(fx.households):
			h := &fx.households[i]
			i++
			return []any{compliance.SubjectHousehold, h.id, year, fx.villages[h.village].county, prof.Code, prof.Version, now}, nil
		case i < len(fx.households)+len(fx.cadres):
			c := i - len(fx.households)
			i++
			return []any{compliance.SubjectCadre, fx.cadres[c], year, fx.villages[c/benchCadresPerVillage].county, prof.Code, prof.Version, now}, nil
		}
		return nil, nil
	})
	if err != nil {
		return err
	}

	return analyzeAndSize(ctx, conn, out)
}

// analyzeAndSize gives the planner the statistics autovacuum would have
// on a live database and prints the database's size.
func analyzeAndSize(ctx context.Context, conn *pgx.Conn, out io.Writer) error {
	start := time.Now()
	if _, err := conn.Exec(ctx, "ANALYZE"); err != nil {
		return err
	}
	var size int64
	if err := conn.QueryRow(ctx, "SELECT pg_database_size(current_database())").Scan(&size); err != nil {
		return err
	}
	fmt.Fprintf(out, "  ANALYZE %s; database %.1f GB\n", time.Since(start).Round(100*time.Millisecond), float64(size)/1e9)
	return nil
}

type statusBatch struct {
	rows [][]any
	err  error
}

// complianceHousehold is what storage.ComplianceHouseholdFacts would load
// for household i: no status history, one pairing.
func (fx *rulesFixture) complianceHousehold(i int) compliance.HouseholdHistory {
	h := &fx.households[i]
	v := fx.villages[h.village]
	dh := domain.Household{ID: h.id, CountyID: v.county, RegionID: v.id, VillageID: v.id, Status: h.status, PovertyType: h.ptype}
	if h.exitYear != 0 {
		y := h.exitYear
		dh.ExitYear = &y
	}
	c := compliance.HouseholdHistory{Household: dh, RegionPath: v.path}
	if h.cadre >= 0 {
		c.Pairings = []domain.Pairing{{ID: h.pairing, CountyID: v.county, HouseholdID: h.id, CadreID: fx.cadres[h.cadre], StartOn: fx.pairFrom, CreatedAt: fx.now}}
	}
	return c
}

// statusRows judges every non-general household on all CPUs and sends the
// compliance_statuses rows, built as storage.SaveJudgement builds them.
func (fx *rulesFixture) statusRows(ctx context.Context, prof compliance.Profile) <-chan statusBatch {
	const chunk = 1000
	out := make(chan statusBatch, 4)
	next := make(chan int)
	go func() {
		defer close(next)
		for lo := 0; lo < len(fx.households); lo += chunk {
			select {
			case next <- lo:
			case <-ctx.Done():
				return
			}
		}
	}()
	from, to := domain.Date{Year: fx.today.Year, Month: time.January, Day: 1}.AddDays(-1).Start(),
		domain.Date{Year: fx.today.Year + 1, Month: time.January, Day: 1}.AddDays(1).Start() // compliance.yearBounds
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for lo := range next {
				var rows [][]any
				for i := lo; i < min(lo+chunk, len(fx.households)); i++ {
					if fx.households[i].cadre < 0 {
						continue
					}
					r, err := fx.judge(i, prof, from, to)
					if err != nil {
						out <- statusBatch{err: err}
						return
					}
					rows = append(rows, r...)
				}
				select {
				case out <- statusBatch{rows: rows}:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(out) }()
	return out
}

// visitFacts are household i's visits as storage.HouseholdVisitFacts
// returns them for [from, to).
func (fx *rulesFixture) visitFacts(i int, from, to time.Time) []rules.VisitFact {
	h := &fx.households[i]
	vid := fx.villages[h.village].id
	var facts []rules.VisitFact
	for _, v := range fx.visits(i) {
		if v.started.Before(from) || !v.started.Before(to) {
			continue
		}
		e := v.ended.UTC()
		facts = append(facts, rules.VisitFact{ID: v.id, HouseholdID: h.id, CadreID: fx.cadres[v.cadre], VillageID: vid, RegionID: vid,
			Kind: v.kind, StartedAt: v.started.UTC(), EndedAt: &e, Flags: []string{}})
	}
	return facts
}

func (fx *rulesFixture) judge(i int, prof compliance.Profile, from, to time.Time) ([][]any, error) {
	c := fx.complianceHousehold(i)
	facts := compliance.HouseholdFacts(c)
	h := c.Household
	var rows [][]any
	for _, st := range rules.EvaluateHouseholdYear(prof.Profile, facts, fx.visitFacts(i, from, to), fx.today.Year, fx.today) {
		cadre := st.CadreID
		if cadre == nil {
			cadre = compliance.Answering(c.Pairings, st, fx.today)
		}
		detail, err := json.Marshal(st)
		if err != nil {
			return nil, err
		}
		var householdID, cadreID, town, overdue any
		if st.HouseholdID != uuid.Nil {
			householdID = st.HouseholdID
		}
		if cadre != nil {
			cadreID = *cadre
		}
		if facts.TownID != uuid.Nil {
			town = facts.TownID
		}
		if st.OverdueFrom != nil {
			overdue = st.OverdueFrom.String()
		}
		key := uuid.Nil
		if st.Subject == rules.SubjectPairing && st.CadreID != nil {
			key = *st.CadreID
		}
		rows = append(rows, []any{h.CountyID, st.Subject, h.ID, key, st.RuleCode, st.Period.Key(), fx.today.Year, st.Period.Window,
			householdID, cadreID, h.VillageID, town, c.RegionPath, st.Required, st.FullRequired, st.CountedN, st.Prorated,
			st.DueOn.String(), st.DueSoonFrom.String(), overdue, string(detail), prof.Code, prof.Version, fx.now})
	}
	return rows, nil
}

// checkAgainstWorker re-judges some loaded households with the worker's
// own code and compares the stored statuses before and after.
func (fx *rulesFixture) checkAgainstWorker(ctx context.Context, app *fvapp.App) error {
	rng := rand.New(rand.NewPCG(fx.seed, 7))
	checked := 0
	for tries := 0; checked < 20 && tries < 10000; tries++ {
		i := rng.IntN(len(fx.households))
		h := &fx.households[i]
		if h.cadre < 0 {
			continue
		}
		before, err := app.Store.StoredStatuses(ctx, h.id, fx.today.Year)
		if err != nil {
			return err
		}
		county := fx.villages[h.village].county
		if err := app.Compliance.Judge(ctx, compliance.QueuedSubject{Kind: compliance.SubjectHousehold, ID: h.id, Year: fx.today.Year, CountyID: county}); err != nil {
			return err
		}
		after, err := app.Store.StoredStatuses(ctx, h.id, fx.today.Year)
		if err != nil {
			return err
		}
		b, _ := json.Marshal(before)
		a, _ := json.Marshal(after)
		if len(before) == 0 || string(a) != string(b) {
			return fmt.Errorf("bench: loaded statuses of household %s differ from the worker's judgement:\nloaded %.600s\nworker %.600s", h.id, b, a)
		}
		checked++
	}
	return nil
}

type incrementalResult struct {
	raw, insert, judge          time.Duration
	rawMed, insertMed, judgeMed time.Duration
}

// incremental measures keeping statuses current per pushed visit: a plain
// INSERT of a visit row (the ceiling) alternated with the product path,
// Store.InsertVisit then JudgeQueued until the queue is empty.
func (fx *rulesFixture) incremental(ctx context.Context, app *fvapp.App, dbURL string, rng *rand.Rand, n int) (incrementalResult, error) {
	var res incrementalResult
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return res, err
	}
	defer conn.Close(ctx)
	var registered []int
	for i, h := range fx.households {
		if h.status == domain.StatusRegistered {
			registered = append(registered, i)
		}
	}
	if len(registered) == 0 {
		return res, errors.New("bench: no registered household generated")
	}
	visit := func(k int) domain.Visit {
		h := &fx.households[registered[rng.IntN(len(registered))]]
		now := time.Now().UTC()
		started := now.Add(-time.Duration(30+rng.IntN(120)) * time.Minute).Truncate(time.Second)
		ended := started.Add(25 * time.Minute)
		confirmed := true
		return domain.Visit{ID: uuid.New(), CountyID: fx.villages[h.village].county, HouseholdID: h.id, CadreID: fx.cadres[h.cadre], DeviceID: "bench-push",
			VisitDetails: domain.VisitDetails{Kind: domain.KindAssist, StartedAt: started, EndedAt: &ended, Notes: benchNotes[k%len(benchNotes)],
				Checklist: map[string]domain.ChecklistEntry{"food": {Answer: "met"}, "housing": {Answer: "met"}, "water": {Answer: "met"}},
				Measures:  []string{"policy_briefing"}, MetWith: []string{"户主"}, HouseholdConfirmed: &confirmed,
				GPS: []domain.GPSStamp{{Lat: 34.7, Lon: 113.6, Accuracy: 12, Provider: "gps", DeviceTime: started}}, Photos: []domain.PhotoRef{}},
			StartedAtText: started.In(domain.Shanghai).Format(time.RFC3339), ReceivedAt: now, ClockOffsetMS: 120, Flags: []domain.Flag{},
			Version: 1, CreatedAt: now, UpdatedAt: now}
	}
	plain := func(v domain.Visit) error {
		cl, _ := json.Marshal(v.Checklist)
		me, _ := json.Marshal(v.Measures)
		mw, _ := json.Marshal(v.MetWith)
		gps, _ := json.Marshal(v.GPS)
		ph, _ := json.Marshal(v.Photos)
		fl, _ := json.Marshal(v.Flags)
		_, err := conn.Exec(ctx, `INSERT INTO visits (county_id, id, household_id, cadre_id, device_id, kind, started_at, ended_at, started_at_text,
			received_at, clock_offset_ms, notes, checklist, measures, met_with, household_confirmed, gps, photos, flags, deleted, version, created_at, updated_at)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23)`,
			v.CountyID, v.ID, v.HouseholdID, v.CadreID, v.DeviceID, v.Kind, v.StartedAt, v.EndedAt, v.StartedAtText, v.ReceivedAt, v.ClockOffsetMS,
			v.Notes, string(cl), string(me), string(mw), v.HouseholdConfirmed, string(gps), string(ph), string(fl), v.Deleted, v.Version, v.CreatedAt, v.UpdatedAt)
		return err
	}
	drain := func() error {
		for {
			k, err := app.Compliance.JudgeQueued(ctx, 100)
			if err != nil || k == 0 {
				return err
			}
		}
	}
	if err := drain(); err != nil { // nothing should be queued after the load
		return res, err
	}
	// Untimed warm-up of both paths.
	if err := plain(visit(0)); err != nil {
		return res, err
	}
	if err := app.Store.InsertVisit(ctx, visit(0)); err != nil {
		return res, err
	}
	if err := drain(); err != nil {
		return res, err
	}
	var raws, inserts, judges []time.Duration
	for k := 0; k < n; k++ {
		a, b := visit(k), visit(k)
		start := time.Now()
		if err := plain(a); err != nil {
			return res, err
		}
		raws = append(raws, time.Since(start))
		start = time.Now()
		if err := app.Store.InsertVisit(ctx, b); err != nil {
			return res, err
		}
		mid := time.Now()
		if err := drain(); err != nil {
			return res, err
		}
		inserts, judges = append(inserts, mid.Sub(start)), append(judges, time.Since(mid))
	}
	res.raw, res.insert, res.judge = mean(raws), mean(inserts), mean(judges)
	res.rawMed, res.insertMed, res.judgeMed = percentile(raws, 50), percentile(inserts, 50), percentile(judges, 50)
	return res, nil
}
