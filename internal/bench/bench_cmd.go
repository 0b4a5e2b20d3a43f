package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/fieldvisit/fieldvisit/domain"
	fvapp "github.com/fieldvisit/fieldvisit/internal/app"
	"github.com/fieldvisit/fieldvisit/internal/importer"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	"github.com/fieldvisit/fieldvisit/storage"
	"github.com/fieldvisit/fieldvisit/wire"
)

// benchCmd measures the sync path against the raw ceiling of the same
// database in the same run, so the figures are ratios that survive noisy
// machines: B1 push ingest vs batched INSERT … ON CONFLICT of the same rows,
// B2 a replayed batch vs its first push, B4 a fresh phone's first pull (as
// the client makes it: a snapshot, then the feed) vs raw SELECTs of the
// same rows.
// Command runs `fieldvisit bench NAME [flags]` (or, as older scripts
// write it, `fieldvisit bench [flags] NAME`): one of subcommands.
func Command(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	name, rest, ok := fvapp.Subcommand(args, slices.Sorted(maps.Keys(subcommands)))
	if !ok {
		if fvapp.IsHelp(args) {
			fmt.Fprintln(stdout, "usage: fieldvisit bench NAME [flags]; \"fieldvisit bench NAME -h\" lists a benchmark's flags")
			for _, c := range fvapp.Commands {
				if strings.HasPrefix(c.Name, "bench ") {
					fmt.Fprintf(stdout, "  fieldvisit %-13s %s\n", c.Name, c.Summary)
				}
			}
			return nil
		}
		return errors.New("usage: fieldvisit bench sync|photos|rules|sample|wire|export|feed|exit [flags] (fieldvisit bench -h lists them)")
	}
	return subcommands[name](ctx, rest, stdout, stderr)
}

// subcommands are the benchmarks by name; fvapp.Commands describes each
// as "bench NAME".
var subcommands = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) error{
	"sync":   benchSyncCmd,
	"photos": benchPhotosCmd,
	"rules":  benchRulesCmd,
	"sample": benchSampleCmd,
	"wire":   benchWireCmd,
	"export": benchExportCmd,
	"feed":   benchFeedCmd,
	"exit":   benchExitCmd,
}

// Subcommands names the benchmarks `fieldvisit bench` runs.
func Subcommands() []string { return slices.Sorted(maps.Keys(subcommands)) }

// benchSyncCmd is `fieldvisit bench sync`.
func benchSyncCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, scratch := newBenchFlags("bench sync", stderr)
	rounds := fs.Int("rounds", 6, "B1 rounds of 4 phones × 500 visits")
	households := fs.Int("households", 2000, "B4: households paired with the pulling cadre")
	pullRounds := fs.Int("pull-rounds", 10, "B4 rounds (each a full pull and the raw SELECTs)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the B4 pulls (API in this process) to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("bench sync: unexpected argument %q", fs.Arg(0))
	}
	sb, err := openSyncBench(ctx, scratch, stderr, *households)
	if err != nil {
		return err
	}
	defer sb.close()
	app, dbURL, srv, fx := sb.app, sb.dbURL, sb.srv, sb.fx
	fmt.Fprintf(stdout, "fieldvisit bench sync — PostgreSQL, %d households paired with the pulling cadre\n\n", *households)

	// B1: push ingest vs raw batched INSERT … ON CONFLICT.
	var pushDur, rawDur time.Duration
	var firstBodies [][]byte
	var firstKeys []string
	for r := 0; r < *rounds; r++ {
		bodies := make([][]byte, 4)
		keys := make([]string, 4)
		for p := range bodies {
			bodies[p] = visitBatch(fx.households[p], 500, fmt.Sprintf("bench-%d-%d", r, p))
			keys[p] = fmt.Sprintf("b1-%d-%d", r, p)
		}
		d, err := parallel(4, func(p int) error { return benchPush(srv.URL, fx.tokens[p], keys[p], bodies[p]) })
		if err != nil {
			return err
		}
		pushDur += d
		if r == 0 {
			firstBodies, firstKeys = bodies, keys
		}
		rows := make([][]visitInsert, 4)
		conns := make([]*pgx.Conn, 4)
		for p := range rows {
			rows[p] = rawVisits(fx, p, 500)
			if conns[p], err = pgx.Connect(ctx, dbURL); err != nil {
				return err
			}
		}
		// Connections are opened before the clock starts: the ceiling is
		// the database's own insert speed, not connection set-up.
		d, err = parallel(4, func(p int) error { return rawInsert(ctx, conns[p], fx.county, fx.cadres[p], rows[p]) })
		for _, c := range conns {
			c.Close(ctx)
		}
		if err != nil {
			return err
		}
		rawDur += d
	}
	n := float64(*rounds * 4 * 500)
	pushRate, rawRate := n/pushDur.Seconds(), n/rawDur.Seconds()
	b1 := pushRate / rawRate

	// B2: replaying the first round's batches vs pushing them first.
	var replayDur time.Duration
	for i := 0; i < 3; i++ {
		d, err := parallel(4, func(p int) error { return benchPush(srv.URL, fx.tokens[p], firstKeys[p], firstBodies[p]) })
		if err != nil {
			return err
		}
		replayDur += d
	}
	b2 := (replayDur.Seconds() / 3) / (pushDur.Seconds() / float64(*rounds))

	// B4: a fresh phone's first pull vs raw SQL reading the same rows.
	// Statistics as autovacuum would have them on a live database, and one
	// untimed pull each way to warm both paths' caches (plans, pages)
	// alike.
	if err := analyze(ctx, dbURL); err != nil {
		return err
	}
	for _, warm := range []func(string, string) (int, error){benchSnapshot, benchPull} {
		if _, err := warm(srv.URL, fx.pullToken); err != nil {
			return err
		}
	}
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	rawScopeRead := func(conn *pgx.Conn) error { _, err := rawScope(ctx, conn, fx.pullCadre); return err }
	snapDur, snapSelDur, snapped, err := pullVsRaw(ctx, dbURL, *pullRounds,
		func() (int, error) { return benchSnapshot(srv.URL, fx.pullToken) }, rawScopeRead)
	if err != nil {
		return err
	}
	b4 := snapDur.Seconds() / snapSelDur.Seconds()
	// The same pull paged (a phone that pages, or a scope over the
	// snapshot limit), for comparison.
	pullDur, selDur, _, err := pullVsRaw(ctx, dbURL, *pullRounds,
		func() (int, error) { return benchPull(srv.URL, fx.pullToken) }, rawScopeRead)
	if err != nil {
		return err
	}

	// B4 incremental (no goal in the issue): a phone that has synced pulls
	// the feed after a supervisor edited every one of its households, vs
	// raw SQL reading the same feed rows and households.
	_, synced, err := benchPullFrom(srv.URL, fx.pullToken, "")
	if err != nil {
		return err
	}
	feedFrom, err := benchEditHouseholds(ctx, app.Store, fx.pullHouseholds)
	if err != nil {
		return err
	}
	// The edits are numbered before the clock starts, as any pull or push
	// in the county would have numbered them by the time this phone comes
	// back: numbering is the writers' cost (a pass over the unnumbered
	// rows), not this reader's, and only the first round would pay it.
	if _, err := app.Store.SequenceChanges(ctx); err != nil {
		return err
	}
	incDur, incSelDur, incPulled, err := pullVsRaw(ctx, dbURL, *pullRounds,
		func() (int, error) { n, _, err := benchPullFrom(srv.URL, fx.pullToken, synced); return n, err },
		func(conn *pgx.Conn) error { _, err := rawFeed(ctx, conn, fx.pullCadre, feedFrom); return err })
	if err != nil {
		return err
	}

	// Scope growth (no goal in the issue): another cadre's households are
	// re-paired to the pulling cadre, whose next pull brings each one
	// whole, vs raw SQL reading the new pairings' feed rows with their
	// households and members.
	_, synced, err = benchPullFrom(srv.URL, fx.pullToken, synced)
	if err != nil {
		return err
	}
	if feedFrom, err = app.Store.SequenceChanges(ctx); err != nil {
		return err
	}
	if err := benchRepair(ctx, app.Store, fx.otherPairings, fx.pullCadre); err != nil {
		return err
	}
	if _, err := app.Store.SequenceChanges(ctx); err != nil { // as for the edits above
		return err
	}
	growDur, growSelDur, grown, err := pullVsRaw(ctx, dbURL, *pullRounds,
		func() (int, error) { n, _, err := benchPullFrom(srv.URL, fx.pullToken, synced); return n, err },
		func(conn *pgx.Conn) error { _, err := rawScopeGrowth(ctx, conn, fx.pullCadre, feedFrom); return err })
	if err != nil {
		return err
	}

	fmt.Fprintf(stdout, "| bench | measured | raw ceiling (same run) | ratio | goal |\n|---|---|---|---|---|\n")
	fmt.Fprintf(stdout, "| B1 push ingest, 4 phones × 500-visit batches | %.0f visits/s | %.0f rows/s (INSERT … ON CONFLICT, 500-row statements, 4 conns) | %.2f | ≥ 0.33 |\n", pushRate, rawRate, b1)
	fmt.Fprintf(stdout, "| B2 replay of a batch vs its first push | %.1f ms | %.1f ms | %.3f | ≤ 0.10 |\n",
		replayDur.Seconds()/3*1000, pushDur.Seconds()/float64(*rounds)*1000, b2)
	perRound := func(d time.Duration) float64 { return d.Seconds() / float64(*pullRounds) * 1000 } // ms
	fmt.Fprintf(stdout, "| B4 fresh phone's first pull (%d records) as the client makes it (snapshot, then the feed) vs raw SELECT | %.1f ms | %.1f ms | %.2f× | ≤ 1.5× |\n",
		snapped, perRound(snapDur), perRound(snapSelDur), b4)
	fmt.Fprintf(stdout, "| B4 paged: the same pull 2,000 a page (phones that page; scopes over the snapshot limit) vs raw SELECT | %.1f ms | %.1f ms | %.2f× | — |\n",
		perRound(pullDur), perRound(selDur), pullDur.Seconds()/selDur.Seconds())
	fmt.Fprintf(stdout, "| B4 incremental pull (%d changes) vs raw SELECT of the feed rows and records | %.1f ms | %.1f ms | %.2f× | — |\n",
		incPulled, perRound(incDur), perRound(incSelDur), incDur.Seconds()/incSelDur.Seconds())
	fmt.Fprintf(stdout, "| B4 scope growth: pull after %d households were re-paired to the cadre (%d changes) vs raw SELECT of the pairings' feed rows, households and members | %.1f ms | %.1f ms | %.2f× | — |\n",
		len(fx.otherPairings), grown, perRound(growDur), perRound(growSelDur), growDur.Seconds()/growSelDur.Seconds())
	return nil
}

// syncBench is a scratch app served over loopback, with the fixture of a
// cadre paired with n households: what bench sync and bench wire pull.
type syncBench struct {
	app   *fvapp.App
	dbURL string
	srv   *httptest.Server
	fx    benchFix
	close func()
}

func openSyncBench(ctx context.Context, scratch scratchFlags, stderr io.Writer, households int) (*syncBench, error) {
	app, dbURL, done, err := scratch.open(ctx, stderr, 4)
	if err != nil {
		return nil, err
	}
	srv := httptest.NewServer(app.Handler)
	fx, err := benchFixture(ctx, app, 4, households)
	if err != nil {
		srv.Close()
		done()
		return nil, err
	}
	return &syncBench{app: app, dbURL: dbURL, srv: srv, fx: fx, close: func() { srv.Close(); done() }}, nil
}

// analyze gives the planner the statistics autovacuum would have on a
// live database.
func analyze(ctx context.Context, dbURL string) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "ANALYZE")
	return err
}

// benchRepair ends each pairing and pairs its household with cadre, as a
// supervisor's re-pairing does.
func benchRepair(ctx context.Context, st *storage.Store, pairings []domain.Pairing, cadre uuid.UUID) error {
	today := domain.DateOf(time.Now())
	for _, old := range pairings {
		old.EndOn, old.EndReason = &today, "工作调整"
		p := domain.Pairing{ID: uuid.New(), CountyID: old.CountyID, HouseholdID: old.HouseholdID, CadreID: cadre, StartOn: today, CreatedAt: time.Now().UTC()}
		if err := st.Pair(ctx, &p, []domain.Pairing{old}, domain.AuditEntry{}); err != nil {
			return err
		}
	}
	return nil
}

// rawScopeGrowth is the ceiling for the scope-growth pull: the feed rows
// of the cadre's new pairings after seq, each with its household and
// members.
func rawScopeGrowth(ctx context.Context, conn *pgx.Conn, cadre uuid.UUID, after int64) (int, error) {
	return rawRead(ctx, conn, []string{
		`SELECT c.seq, p.*, h.* FROM changes c JOIN pairings p ON p.id = c.entity_id AND p.cadre_id = $1
			JOIN households h ON h.county_id = p.county_id AND h.id = p.household_id WHERE c.seq > $2 AND c.entity = 'pairing' ORDER BY c.seq`,
		`SELECT m.* FROM changes c JOIN pairings p ON p.id = c.entity_id AND p.cadre_id = $1
			JOIN members m ON m.county_id = p.county_id AND m.household_id = p.household_id WHERE c.seq > $2 AND c.entity = 'pairing'`,
	}, cadre, after)
}

// benchEditHouseholds gives each household a new address, one edit (and
// feed row) each, as a supervisor's edits would, and returns where the
// feed stood before them.
func benchEditHouseholds(ctx context.Context, st *storage.Store, ids []uuid.UUID) (feedFrom int64, err error) {
	if feedFrom, err = st.SequenceChanges(ctx); err != nil {
		return 0, err
	}
	for _, id := range ids {
		h, err := st.HouseholdByID(ctx, id)
		if err != nil {
			return 0, err
		}
		from := h.Version
		h.Address, h.Version, h.UpdatedAt = "基准县某村新址", h.Version+1, time.Now().UTC()
		if err := st.SaveHouseholdDetails(ctx, h, from, uuid.Nil); err != nil {
			return 0, err
		}
	}
	return feedFrom, nil
}

// rawFeed is the ceiling for the incremental pull: the cadre's feed rows
// after seq with the households they name.
func rawFeed(ctx context.Context, conn *pgx.Conn, cadre uuid.UUID, after int64) (int, error) {
	return rawRead(ctx, conn, []string{`SELECT c.seq, h.* FROM changes c JOIN households h ON h.county_id = c.county_id AND h.id = c.entity_id
		JOIN pairings p ON p.county_id = h.county_id AND p.household_id = h.id AND p.cadre_id = $1 AND p.end_on IS NULL
		WHERE c.seq > $2 AND c.entity = 'household' ORDER BY c.seq`}, cadre, after)
}

// pullVsRaw alternates rounds of pull (through the API) and raw (on a
// connection opened before its clock starts) and returns their total
// times and the count of the last pull.
func pullVsRaw(ctx context.Context, dbURL string, rounds int, pull func() (int, error), raw func(*pgx.Conn) error) (pullDur, rawDur time.Duration, pulled int, err error) {
	for i := 0; i < rounds; i++ {
		start := time.Now()
		if pulled, err = pull(); err != nil {
			return
		}
		pullDur += time.Since(start)
		var conn *pgx.Conn
		if conn, err = pgx.Connect(ctx, dbURL); err != nil {
			return
		}
		start = time.Now()
		err = raw(conn)
		rawDur += time.Since(start)
		conn.Close(ctx)
		if err != nil {
			return
		}
	}
	return
}

// startCPUProfile profiles this process into path until stop is called
// (more than once is fine); an empty path profiles nothing.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	var once sync.Once
	return func() { once.Do(func() { pprof.StopCPUProfile(); f.Close() }) }, nil
}

type benchFix struct {
	tokens     []string
	cadres     []uuid.UUID
	households []uuid.UUID // one per pushing phone
	county     uuid.UUID
	pullCadre  uuid.UUID
	pullToken  string
	// the households paired with the pulling cadre
	pullHouseholds []uuid.UUID
	// households of another cadre, re-paired to the pulling cadre for the
	// scope-growth pull, with their open pairings
	otherPairings []domain.Pairing
}

// benchFixture builds a county with phones pushing cadres (one household
// each) and one cadre paired with n households of 3 members.
func benchFixture(ctx context.Context, app *fvapp.App, phones, n int) (benchFix, error) {
	var fx benchFix
	countyID := uuid.New()
	path := "/" + countyID.String() + "/"
	fx.county = countyID
	st := app.Store
	if err := st.CreateRegion(ctx, domain.Region{ID: countyID, Level: domain.LevelCounty, Code: "410122000000", Name: "基准县", Path: path, CountyID: &countyID}, domain.AuditEntry{}); err != nil {
		return fx, err
	}
	hash, err := app.Auth.Hasher().Hash(ctx, "bench-password-1")
	if err != nil {
		return fx, err
	}
	admin := domain.User{ID: uuid.New(), Username: "bench-admin", DisplayName: "admin", Role: domain.RoleAdmin, RegionID: countyID, RegionPath: path, Active: true, Duties: []domain.Duty{}}
	if err := st.CreateUser(ctx, admin, hash, domain.AuditEntry{}); err != nil {
		return fx, err
	}
	ap := domain.Principal{UserID: admin.ID, Role: domain.RoleAdmin, RegionID: countyID, RegionPath: path}
	town, err := app.Registry.CreateRegion(ctx, ap, registry.NewRegion{ParentID: &countyID, Level: domain.LevelTown, Code: "410122100000", Name: "镇"})
	if err != nil {
		return fx, err
	}
	village, err := app.Registry.CreateRegion(ctx, ap, registry.NewRegion{ParentID: &town.ID, Level: domain.LevelVillage, Code: "410122100201", Name: "村"})
	if err != nil {
		return fx, err
	}
	cadre := func(name string) (domain.User, error) {
		u := domain.User{ID: uuid.New(), Username: name, DisplayName: name, Role: domain.RoleCadre, RegionID: village.ID, RegionPath: village.Path, Active: true, Duties: []domain.Duty{}}
		return u, st.CreateUser(ctx, u, hash, domain.AuditEntry{})
	}
	today := domain.DateOf(time.Now())
	now := time.Now().UTC()
	var plan importer.Plan
	addHousehold := func(c domain.User, members int) uuid.UUID {
		h := domain.Household{ID: uuid.New(), CountyID: countyID, RegionID: village.ID, VillageID: village.ID, Status: domain.StatusRegistered,
			PovertyType: domain.PovertyOrdinary, Version: 1, CreatedAt: now, UpdatedAt: now,
			HouseholdDetails: domain.HouseholdDetails{HeadName: "户主", Causes: []string{"illness"}, Home: &domain.GeoPoint{Lat: 34.7, Lon: 113.6}}}
		plan.Households = append(plan.Households, importer.NewHousehold{Household: h, RegionPath: village.Path})
		plan.StatusChanges = append(plan.StatusChanges, domain.StatusChange{ID: uuid.New(), CountyID: countyID, HouseholdID: h.ID, To: h.Status, EffectiveOn: today, RecordedAt: now})
		for m := 0; m < members; m++ {
			mem := domain.Member{ID: uuid.New(), CountyID: countyID, HouseholdID: h.ID, Version: 1, CreatedAt: now, UpdatedAt: now,
				MemberDetails: domain.MemberDetails{Name: fmt.Sprintf("成员%d", m), Relation: map[bool]string{true: "head", false: "child"}[m == 0]}}
			plan.Members = append(plan.Members, mem)
		}
		plan.Pairings = append(plan.Pairings, domain.Pairing{ID: uuid.New(), CountyID: countyID, HouseholdID: h.ID, CadreID: c.ID, StartOn: today, CreatedAt: now})
		return h.ID
	}
	for p := 0; p < phones; p++ {
		c, err := cadre(fmt.Sprintf("bench-phone-%d", p))
		if err != nil {
			return fx, err
		}
		fx.households = append(fx.households, addHousehold(c, 1))
		fx.cadres = append(fx.cadres, c.ID)
		tok, err := app.Auth.Login(ctx, c.Username, "bench-password-1", "bench", "127.0.0.1", "bench")
		if err != nil {
			return fx, err
		}
		fx.tokens = append(fx.tokens, tok.AccessToken)
	}
	pc, err := cadre("bench-puller")
	if err != nil {
		return fx, err
	}
	fx.pullCadre = pc.ID
	for i := 0; i < n; i++ {
		fx.pullHouseholds = append(fx.pullHouseholds, addHousehold(pc, 3))
	}
	other, err := cadre("bench-other")
	if err != nil {
		return fx, err
	}
	for i := 0; i < n/4; i++ {
		addHousehold(other, 3)
		fx.otherPairings = append(fx.otherPairings, plan.Pairings[len(plan.Pairings)-1])
	}
	if err := st.ApplyImport(ctx, plan); err != nil {
		return fx, err
	}
	tok, err := app.Auth.Login(ctx, pc.Username, "bench-password-1", "bench", "127.0.0.1", "bench")
	if err != nil {
		return fx, err
	}
	fx.pullToken = tok.AccessToken
	return fx, nil
}

func visitBatch(household uuid.UUID, n int, note string) []byte {
	changes := make([]wire.Change, n)
	started := time.Now().Add(-time.Hour)
	for i := range changes {
		hid := household
		data, _ := json.Marshal(domain.VisitDetails{Kind: domain.KindAssist, StartedAt: started, Notes: note + "：了解家庭收入和医疗报销情况",
			Checklist: map[string]domain.ChecklistEntry{"food": {Answer: "met"}, "housing": {Answer: "met"}},
			Measures:  []string{"policy_briefing"}, MetWith: []string{"户主"},
			GPS: []domain.GPSStamp{{Lat: 34.7, Lon: 113.6, Accuracy: 10, Provider: "gps", DeviceTime: started}}})
		var m map[string]json.RawMessage
		_ = json.Unmarshal(data, &m)
		changes[i] = wire.Change{Entity: wire.EntityVisit, Op: wire.OpCreate, ID: uuid.New(), HouseholdID: &hid, Data: m}
	}
	b, _ := json.Marshal(wire.PushRequest{DeviceID: "bench", DeviceTime: time.Now(), Changes: changes})
	return b
}

func benchPush(base, token, key string, body []byte) error {
	return pushWith(http.DefaultClient, base, token, key, body)
}

// pushWith is benchPush on the client hc (bench feed's phones share one
// that keeps a connection per phone).
func pushWith(hc *http.Client, base, token, key string, body []byte) error {
	req, _ := http.NewRequest("POST", base+"/api/v1/sync/push", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	// A phone reports its backlog on every sync, so the server's health
	// record is written as it is for phones.
	wire.NewDeviceReport(wire.MaxPushChanges, 0, int64(len(body)), "bench").SetHeaders(req.Header)
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || bytes.Contains(b, []byte(`"rejected"`)) && !bytes.Contains(b, []byte(`"rejected":0`)) {
		return fmt.Errorf("push: %d %.300s", res.StatusCode, b)
	}
	return nil
}

// benchPull reads a fresh phone's whole feed. It counts changes and reads
// the cursor from the page's tail without decoding every record: B4
// measures the server, not this client's JSON decoder.
func benchPull(base, token string) (int, error) {
	n, _, err := benchPullFrom(base, token, "")
	return n, err
}

// benchSnapshot reads a fresh phone's whole scope as the client does: one
// snapshot, then pull pages while more is waiting (none, here).
func benchSnapshot(base, token string) (int, error) {
	n, _, err := benchPullFrom(base, token, snapshotStart)
	return n, err
}

// snapshotStart is the cursor benchPullFrom reads as "begin with a
// snapshot".
const snapshotStart = "\x00snapshot"

// pullBody is where benchPullFrom reads a page, kept between pages so the
// client's buffer regrowth (several ms for a 5 MB snapshot) is not counted
// against the server.
var pullBody bytes.Buffer

// benchPullFrom pulls from cursor until has_more is false and returns the
// number of changes and the last cursor.
func benchPullFrom(base, token, cursor string) (int, string, error) {
	return pullWith(http.DefaultClient, &pullBody, base, token, cursor)
}

// pullWith is benchPullFrom on the client hc, reading pages into buf
// (one per phone when phones pull at once).
func pullWith(hc *http.Client, buf *bytes.Buffer, base, token, cursor string) (int, string, error) {
	count := 0
	for {
		u := base + "/api/v1/sync/pull?limit=2000&cursor=" + url.QueryEscape(cursor)
		if cursor == snapshotStart {
			u = base + "/api/v1/sync/snapshot?limit=2000"
		}
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		// B4 as it was first measured, uncompressed (Go's transport would
		// otherwise ask for gzip and decode it); bench wire measures the
		// gzipped pull.
		req.Header.Set("Accept-Encoding", "identity")
		wire.NewDeviceReport(0, 0, 0, "bench").SetHeaders(req.Header)
		res, err := hc.Do(req)
		if err != nil {
			return 0, "", err
		}
		buf.Reset()
		_, err = buf.ReadFrom(res.Body)
		res.Body.Close()
		if err != nil {
			return 0, "", err
		}
		body := buf.Bytes()
		if res.StatusCode != 200 {
			return 0, "", fmt.Errorf("pull: %d %.200s", res.StatusCode, body)
		}
		count += bytes.Count(body, []byte(`{"entity":`))
		var tail struct {
			Cursor  string `json:"cursor"`
			HasMore bool   `json:"has_more"`
		}
		i := bytes.LastIndex(body, []byte(`],"cursor":`))
		if i < 0 || json.Unmarshal(append([]byte("{"), body[i+2:]...), &tail) != nil {
			return 0, "", fmt.Errorf("pull: unexpected page end %.200s", body[max(0, len(body)-200):])
		}
		cursor = tail.Cursor
		if !tail.HasMore {
			return count, cursor, nil
		}
	}
}

func parallel(n int, fn func(i int) error) (time.Duration, error) {
	start := time.Now()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) { defer wg.Done(); errs[i] = fn(i) }(i)
	}
	wg.Wait()
	return time.Since(start), errors.Join(errs...)
}

type visitInsert struct {
	id, household uuid.UUID
}

func rawVisits(fx benchFix, p, n int) []visitInsert {
	out := make([]visitInsert, n)
	for i := range out {
		out[i] = visitInsert{uuid.New(), fx.households[p]}
	}
	return out
}

// rawInsert is the ceiling for B1: the same visit rows (same columns and
// JSON payloads) in one 500-row INSERT … ON CONFLICT, one transaction.
func rawInsert(ctx context.Context, conn *pgx.Conn, county, cadre uuid.UUID, rows []visitInsert) error {
	q, args := rawVisitInsert(county, cadre, rows)
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, q, args...); err != nil {
		tx.Rollback(ctx)
		return err
	}
	return tx.Commit(ctx)
}

// rawVisitInsert is the statement that inserts rows as visits of cadre,
// with their arguments.
func rawVisitInsert(county, cadre uuid.UUID, rows []visitInsert) (string, []any) {
	now := time.Now().UTC()
	var sb strings.Builder
	sb.WriteString(`INSERT INTO visits (county_id, id, household_id, cadre_id, device_id, kind, started_at, started_at_text, received_at,
		clock_offset_ms, notes, checklist, measures, met_with, gps, photos, flags, version, created_at, updated_at) VALUES `)
	args := []any{}
	for i, r := range rows {
		if i > 0 {
			sb.WriteString(",")
		}
		b := len(args)
		fmt.Fprintf(&sb, "($%d,$%d,$%d,$%d,'bench','assist',$%d,'',$%d,0,$%d,$%d,'[\"policy_briefing\"]','[\"户主\"]',$%d,'[]','[]',1,$%d,$%d)",
			b+1, b+2, b+3, b+4, b+5, b+6, b+7, b+8, b+9, b+10, b+11)
		args = append(args, county, r.id, r.household, cadre, now, now, "bench：了解家庭收入和医疗报销情况",
			`{"food":{"answer":"met"},"housing":{"answer":"met"}}`, `[{"lat":34.7,"lon":113.6,"accuracy":10,"provider":"gps","mock":false,"device_time":"2026-11-23T10:00:00Z"}]`, now, now)
	}
	sb.WriteString(" ON CONFLICT DO NOTHING")
	return sb.String(), args
}

// rawScope is the ceiling for B4: the cadre's households, members and
// pairings read with plain SELECTs and scanned — the pairings with their
// cadre's name and phone, as the pull sends them.
func rawScope(ctx context.Context, conn *pgx.Conn, cadre uuid.UUID) (int, error) {
	return rawRead(ctx, conn, []string{
		`SELECT h.* FROM households h JOIN pairings p ON p.county_id = h.county_id AND p.household_id = h.id WHERE p.cadre_id = $1 AND p.end_on IS NULL`,
		`SELECT m.* FROM members m JOIN pairings p ON p.county_id = m.county_id AND p.household_id = m.household_id WHERE p.cadre_id = $1 AND p.end_on IS NULL`,
		`SELECT p.*, u.display_name, u.phone FROM pairings p LEFT JOIN users u ON u.id = p.cadre_id WHERE p.cadre_id = $1 AND p.end_on IS NULL`,
	}, cadre)
}

// rawRead runs each query with args and decodes every row it returns
// (rows.Values, what a raw reader pays), returning the count of rows.
func rawRead(ctx context.Context, conn *pgx.Conn, queries []string, args ...any) (int, error) {
	n := 0
	for _, q := range queries {
		rows, err := conn.Query(ctx, q, args...)
		if err != nil {
			return 0, err
		}
		for rows.Next() {
			if _, err := rows.Values(); err != nil {
				rows.Close()
				return 0, err
			}
			n++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// scratchFlags are the flags of a bench over a scratch database.
type scratchFlags struct {
	server *string
	keep   *bool
}

// newBenchFlags starts a bench's flag set with the scratch database's
// flags.
func newBenchFlags(name string, stderr io.Writer) (*flag.FlagSet, scratchFlags) {
	fs := fvapp.NewFlagSet(name, stderr)
	return fs, scratchFlags{
		server: fs.String("postgres", fvapp.Env("FIELDVISIT_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"),
			"PostgreSQL server; a scratch database is created on it and dropped afterwards"),
		keep: fs.Bool("keep", false, "keep the scratch database afterwards (its URL is printed) for EXPLAIN"),
	}
}

// open starts an app over a fresh scratch database (saying where, with
// --keep); done closes the app and drops the database unless --keep.
func (f scratchFlags) open(ctx context.Context, out io.Writer, hashConcurrency int) (*fvapp.App, string, func(), error) {
	app, dbURL, done, err := scratchApp(ctx, *f.server, hashConcurrency)
	if err != nil {
		return nil, "", nil, err
	}
	if *f.keep {
		fmt.Fprintf(out, "bench: scratch database kept: %s\n", dbURL)
	}
	return app, dbURL, func() { done(*f.keep) }, nil
}

// scratchApp is an fvapp.App over a scratch database and data directory for one
// bench run; done closes it and removes both (the database stays when
// keepDB, for EXPLAIN afterwards).
func scratchApp(ctx context.Context, server string, hashConcurrency int) (app *fvapp.App, dbURL string, done func(keepDB bool), err error) {
	dbURL, drop, err := scratchDatabase(ctx, server)
	if err != nil {
		return nil, "", nil, err
	}
	dataDir, err := os.MkdirTemp("", "fieldvisit-bench-")
	if err != nil {
		drop()
		return nil, "", nil, err
	}
	app, err = fvapp.NewApp(ctx, fvapp.Config{DataDir: dataDir, DatabaseURL: dbURL, HashConcurrency: hashConcurrency, ShutdownTimeout: time.Second}, fvapp.NewLogger(io.Discard, "error"))
	if err != nil {
		os.RemoveAll(dataDir)
		drop()
		return nil, "", nil, err
	}
	return app, dbURL, func(keepDB bool) {
		app.Close()
		os.RemoveAll(dataDir)
		if !keepDB {
			drop()
		}
	}, nil
}

// scratchDatabase creates a database on the server for one bench run.
func scratchDatabase(ctx context.Context, server string) (string, func(), error) {
	u, err := url.Parse(server)
	if err != nil {
		return "", nil, err
	}
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		return "", nil, fmt.Errorf("bench needs PostgreSQL: %w", err)
	}
	name := "fv_bench_" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		conn.Close(ctx)
		return "", nil, err
	}
	conn.Close(ctx)
	u.Path = "/" + name
	drop := func() {
		c, err := pgx.Connect(context.Background(), server)
		if err == nil {
			_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(context.Background())
		}
	}
	return u.String(), drop, nil
}
