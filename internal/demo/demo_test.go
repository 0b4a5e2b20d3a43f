package demo_test

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/demo"
	"github.com/fieldvisit/fieldvisit/internal/testkit/storetest"
	"github.com/fieldvisit/fieldvisit/storage"
)

var today = domain.Date{Year: 2025, Month: time.June, Day: 16}

// small is the size most tests use to stay fast.
func small() demo.Options {
	return demo.Options{Households: 300, Cadres: 30, Today: today, HashPassword: fakeHashes()}
}

// fakeHashes stands in for argon2id, which would make these tests slow:
// each call returns another well-formed hash, as a fresh salt would.
func fakeHashes() func(context.Context) (string, error) {
	var n atomic.Int64
	return func(context.Context) (string, error) {
		salt := base64.RawStdEncoding.EncodeToString(binary.BigEndian.AppendUint64(nil, uint64(n.Add(1))))
		return "$argon2id$v=19$m=65536,t=1,p=4$" + salt + "$dGVzdA", nil
	}
}

// openDB opens a fresh database of dialect for the demo.
func openDB(t *testing.T, dialect string) (*storage.Store, *sql.DB) {
	t.Helper()
	db := storetest.Open(t, dialect)
	sqlDB, err := db.SQL()
	if err != nil {
		t.Fatal(err)
	}
	return storage.NewStore(db, nil), sqlDB
}

func seed(t *testing.T, store *storage.Store, opt demo.Options) demo.Summary {
	t.Helper()
	start := time.Now()
	sum, err := demo.Seed(context.Background(), store, opt)
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	t.Logf("seeded %d households, %d members, %d cadres, %d pairings in %v", sum.Households, sum.Members, sum.Cadres, sum.Pairings, time.Since(start).Round(time.Millisecond))
	return sum
}

func count(t *testing.T, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func strings1(t *testing.T, db *sql.DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func TestSeed(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			store, db := openDB(t, dialect)
			var stages []string
			opt := small()
			opt.Progress = func(stage string, done, total int) {
				if len(stages) == 0 || stages[len(stages)-1] != stage {
					stages = append(stages, stage)
				}
				if done > total {
					t.Errorf("progress %s %d/%d", stage, done, total)
				}
			}
			sum := seed(t, store, opt)
			if want := []string{"regions", "units", "users", "households", "visits"}; !reflect.DeepEqual(stages, want) {
				t.Errorf("progress stages %v, want %v", stages, want)
			}

			// Counts are as requested and as summarised.
			if sum.Households != 300 || sum.Cadres != 30 {
				t.Errorf("summary %+v, want 300 households and 30 cadres", sum)
			}
			checks := []struct {
				what  string
				got   int
				query string
			}{
				{"towns", sum.Towns, "SELECT count(*) FROM regions WHERE level = 'town'"},
				{"villages", sum.Villages, "SELECT count(*) FROM regions WHERE level = 'village'"},
				{"groups", sum.Groups, "SELECT count(*) FROM regions WHERE level = 'group'"},
				{"households", sum.Households, "SELECT count(*) FROM households"},
				{"members", sum.Members, "SELECT count(*) FROM members"},
				{"cadres", sum.Cadres, "SELECT count(*) FROM users WHERE role = 'cadre'"},
				{"units", sum.Units, "SELECT count(*) FROM units"},
				{"pairings", sum.Pairings, "SELECT count(*) FROM pairings"},
			}
			for _, c := range checks {
				if n := count(t, db, c.query); n != c.got || n == 0 {
					t.Errorf("%s: summary %d, database %d", c.what, c.got, n)
				}
			}
			if sum.Towns < 4 || sum.Towns > 6 {
				t.Errorf("%d towns, want 4–6", sum.Towns)
			}
			if n := count(t, db, "SELECT count(*) FROM regions WHERE level = 'county'"); n != 1 {
				t.Errorf("%d counties, want 1", n)
			}
			if n := count(t, db, "SELECT count(*) FROM regions WHERE is_poor_village"); n == 0 || n*2 > sum.Villages {
				t.Errorf("%d poor villages of %d", n, sum.Villages)
			}
			if n := count(t, db, "SELECT count(*) FROM unit_assignments WHERE group_id IS NOT NULL"); n == 0 {
				t.Error("no unit is assigned to a village group")
			}

			// Every ID number is valid and unique, and matches birth date and sex.
			rows, err := db.Query("SELECT id_number, gender, birth_date, relation FROM members")
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			heads := 0
			for rows.Next() {
				var id, gender, relation string
				var birth any
				if err := rows.Scan(&id, &gender, &birth, &relation); err != nil {
					t.Fatal(err)
				}
				if reason, _, _, ok := domain.ValidateIDNumber(id, today); !ok {
					t.Errorf("ID number %s: %s", id, reason)
				}
				if !strings.HasPrefix(id, "411530") {
					t.Errorf("ID number %s is not of the demo county", id)
				}
				if seen[id] {
					t.Errorf("ID number %s twice", id)
				}
				seen[id] = true
				if gender != domain.GenderFromID(id) {
					t.Errorf("gender %s for %s", gender, id)
				}
				if relation == "head" {
					heads++
				}
			}
			rows.Close()
			if heads != sum.Households {
				t.Errorf("%d heads for %d households", heads, sum.Households)
			}

			// Every status and poverty type is present.
			for _, s := range domain.Statuses.Codes() {
				if n := count(t, db, "SELECT count(*) FROM households WHERE status = $1", s); n == 0 {
					t.Errorf("no household with status %s", s)
				}
			}
			for _, pt := range domain.PovertyTypes.Codes() {
				if n := count(t, db, "SELECT count(*) FROM households WHERE poverty_type = $1", pt); n == 0 {
					t.Errorf("no household of poverty type %s", pt)
				}
			}
			if n := count(t, db, "SELECT count(*) FROM households WHERE status IN ('edge','general') AND poverty_type <> ''"); n != 0 {
				t.Errorf("%d never-registered households have a poverty type", n)
			}
			if n := count(t, db, "SELECT count(*) FROM households WHERE status = 'exited' AND (exit_year IS NULL OR exit_year < 2016 OR exit_year > 2020)"); n != 0 {
				t.Errorf("%d exited households without an exit year in 2016–2020", n)
			}
			if n := count(t, db, `SELECT count(*) FROM households h WHERE h.status = 'registered' AND EXISTS (
				SELECT 1 FROM household_status_changes c WHERE c.county_id = h.county_id AND c.household_id = h.id AND c.to_status = 'relapsed')`); n == 0 {
				t.Error("no relapsed household was registered again")
			}

			// Histories replay through the register's transition rules and end in the current status.
			type hrow struct {
				id, county uuid.UUID
				status     string
				exitYear   *int
			}
			var hs []hrow
			hrows, err := db.Query("SELECT CAST(id AS TEXT), CAST(county_id AS TEXT), status, exit_year FROM households ORDER BY id")
			if err != nil {
				t.Fatal(err)
			}
			for hrows.Next() {
				var r hrow
				var id, county string
				if err := hrows.Scan(&id, &county, &r.status, &r.exitYear); err != nil {
					t.Fatal(err)
				}
				r.id, r.county = uuid.MustParse(id), uuid.MustParse(county)
				hs = append(hs, r)
			}
			hrows.Close()
			for _, r := range hs {
				sc, pc, err := store.StatusHistory(ctx, r.county, r.id)
				if err != nil {
					t.Fatal(err)
				}
				cur := domain.Household{}
				for _, c := range sc {
					if c.From != cur.Status {
						t.Fatalf("household %s: change %s→%s follows %s", r.id, c.From, c.To, cur.Status)
					}
					if err := domain.ValidateStatusChange(cur, c.To, c.ExitYear, "ordinary", c.EffectiveOn, today); err != nil {
						t.Fatalf("household %s: %s→%s: %v", r.id, c.From, c.To, err)
					}
					cur.Status = c.To
				}
				if cur.Status != r.status {
					t.Errorf("household %s: history ends in %s, status is %s", r.id, cur.Status, r.status)
				}
				if r.status == domain.StatusExited && (len(sc) != 2 || sc[0].To != domain.StatusRegistered) {
					t.Errorf("exited household %s has history %+v", r.id, sc)
				}
				if (r.status == domain.StatusEdge || r.status == domain.StatusGeneral) != (len(pc) == 0) {
					t.Errorf("household %s (%s) has %d poverty-type changes", r.id, r.status, len(pc))
				}
			}

			// Registered, relapsed, exited and edge households have exactly one
			// open pairing today, with a cadre whose region contains them;
			// others none (issue 19: edge households had nobody).
			for _, s := range domain.Statuses.Codes() {
				_, unpaired, err := store.Households(ctx, domain.HouseholdFilter{Scope: domain.HouseholdScope{RegionPath: "/"}, Today: today, Status: s, Unpaired: true, Limit: 1})
				if err != nil {
					t.Fatal(err)
				}
				_, all, err := store.Households(ctx, domain.HouseholdFilter{Scope: domain.HouseholdScope{RegionPath: "/"}, Today: today, Status: s, Limit: 1})
				if err != nil {
					t.Fatal(err)
				}
				paired := s == domain.StatusRegistered || s == domain.StatusRelapsed || s == domain.StatusExited || s == domain.StatusEdge
				if paired && unpaired != 0 || !paired && unpaired != all {
					t.Errorf("status %s: %d of %d households unpaired", s, unpaired, all)
				}
			}
			// An edge household is paired with a town cadre (乡镇干部包干托底)
			// from the day it was put on the edge list, not before.
			if n := count(t, db, `SELECT count(*) FROM households h JOIN pairings p ON p.county_id = h.county_id AND p.household_id = h.id
				JOIN users u ON u.id = p.cadre_id JOIN regions r ON r.id = u.region_id JOIN household_status_changes sc ON sc.household_id = h.id AND sc.to_status = 'edge'
				WHERE h.status = 'edge' AND (r.level <> 'town' OR p.start_on < sc.effective_on)`); n != 0 {
				t.Errorf("%d edge households paired with a cadre outside their town's staff or before they were on the edge list", n)
			}
			if n := count(t, db, `SELECT count(*) FROM (SELECT household_id FROM pairings WHERE end_on IS NULL GROUP BY household_id HAVING count(*) > 1) x`); n != 0 {
				t.Errorf("%d households with more than one open pairing", n)
			}
			if n := count(t, db, `SELECT count(*) FROM pairings p JOIN households h ON h.county_id = p.county_id AND h.id = p.household_id
				JOIN users u ON u.id = p.cadre_id WHERE u.role <> 'cadre' OR substr(h.region_path, 1, length(u.region_path)) <> u.region_path`); n != 0 {
				t.Errorf("%d pairings with a cadre whose region does not contain the household", n)
			}
			if n := count(t, db, "SELECT count(*) FROM pairings WHERE end_on IS NOT NULL AND end_reason <> ''"); n == 0 {
				t.Error("no re-pairing in the history")
			}
			if n := count(t, db, "SELECT count(*) FROM users u WHERE role = 'cadre' AND NOT EXISTS (SELECT 1 FROM pairings p WHERE p.cadre_id = u.id)"); n != 0 {
				t.Errorf("%d cadres without any pairing", n)
			}

			// cadre01 sees a handful of households in one village.
			u, _, err := store.UserCredentials(ctx, "cadre01")
			if err != nil {
				t.Fatal(err)
			}
			pr := domain.Principal{UserID: u.ID, Username: u.Username, Role: u.Role, RegionID: u.RegionID, RegionPath: u.RegionPath}
			mine, n, err := store.Households(ctx, domain.HouseholdFilter{Scope: pr.HouseholdScope(), Today: today, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			if n < 5 || n > 10 {
				t.Errorf("cadre01 sees %d households, want 5–10", n)
			}
			for _, h := range mine {
				if h.VillageID != mine[0].VillageID {
					t.Errorf("cadre01's households lie in more than one village")
				}
			}
			if u.Role != domain.RoleCadre || u.UnitID == nil || u.Rank == "" {
				t.Errorf("cadre01 is %+v", u)
			}

			// Accounts: admin, supervisor, inspector and the cadres, each with a hash of its own.
			if n := count(t, db, "SELECT count(*) - count(DISTINCT password_hash) FROM users"); n != 0 {
				t.Errorf("%d accounts share a password hash with another", n)
			}
			for _, a := range []struct{ name, role, level string }{
				{"admin", domain.RoleAdmin, domain.LevelProvince},
				{"supervisor", domain.RoleSupervisor, domain.LevelCounty},
				{"inspector", domain.RoleInspector, domain.LevelCounty},
				{"cadre30", domain.RoleCadre, ""},
			} {
				u, hash, err := store.UserCredentials(ctx, a.name)
				if err != nil {
					t.Fatalf("user %s: %v", a.name, err)
				}
				r, err := store.Region(ctx, u.RegionID)
				if err != nil {
					t.Fatal(err)
				}
				if u.Role != a.role || a.level != "" && r.Level != a.level || !strings.HasPrefix(hash, "$argon2id$") {
					t.Errorf("user %s: role %s, region level %s", a.name, u.Role, r.Level)
				}
			}
			if len(sum.Accounts) < 4 || sum.Accounts[0].Username != "admin" || sum.Accounts[3].Username != "cadre01" {
				t.Errorf("accounts %+v", sum.Accounts)
			}
			for _, k := range domain.Duties.Codes() {
				if n := count(t, db, "SELECT count(*) FROM users WHERE CAST(duties AS TEXT) LIKE $1", `%"`+k+`"%`); n == 0 {
					t.Errorf("no cadre with duty %s", k)
				}
			}
			for _, k := range domain.Ranks.Codes() {
				if n := count(t, db, "SELECT count(*) FROM users WHERE rank = $1", k); n == 0 {
					t.Errorf("no cadre of rank %s", k)
				}
			}
		})
	}
}

func TestSeedIsIdempotent(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			store, db := openDB(t, dialect)
			first := seed(t, store, small())
			tables := []string{"regions", "units", "unit_assignments", "users", "households", "members", "household_status_changes", "pairings", "audit_log",
				"visits", "devices", "changes", "evidence_queue"}
			before := map[string]int{}
			for _, tb := range tables {
				before[tb] = count(t, db, "SELECT count(*) FROM "+tb)
			}
			opt := small()
			opt.Households = 500 // ignored: the demo exists
			second := seed(t, store, opt)
			if !reflect.DeepEqual(first, second) {
				t.Errorf("second seed returned %+v, want %+v", second, first)
			}
			for _, tb := range tables {
				if n := count(t, db, "SELECT count(*) FROM "+tb); n != before[tb] {
					t.Errorf("%s: %d rows after the second seed, %d before", tb, n, before[tb])
				}
			}
		})
	}
}

func TestSeedRefusesForeignDatabase(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			store, db := openDB(t, dialect)
			id := uuid.New()
			if err := store.CreateRegion(ctx, domain.Region{ID: id, Level: domain.LevelProvince, Code: "420000000000", Name: "湖北省", Path: "/" + id.String() + "/"}, domain.AuditEntry{}); err != nil {
				t.Fatal(err)
			}
			if _, ok, err := demo.Seeded(ctx, store); ok || err != nil {
				t.Fatalf("Seeded on a foreign database: %v, %v", ok, err)
			}
			_, err := demo.Seed(ctx, store, small())
			if !errors.Is(err, demo.ErrNotDemoDatabase) {
				t.Fatalf("seed on a foreign database: %v, want ErrNotDemoDatabase", err)
			}
			if n := count(t, db, "SELECT count(*) FROM regions"); n != 1 {
				t.Errorf("%d regions after the refused seed", n)
			}
		})
	}
}

// TestSeedStartsOverAfterAnInterruptedSeeding: a seeding cut half-way
// (the server stopped during its first start) is reported, StartOver
// empties what it left, and the next Seed builds the whole county; StartOver
// touches neither a database the demo did not seed nor a complete demo.
func TestSeedStartsOverAfterAnInterruptedSeeding(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			db := storetest.Open(t, dialect)
			store := storage.NewStore(db, nil)
			sqlDB, err := db.SQL()
			if err != nil {
				t.Fatal(err)
			}
			if err := demo.StartOver(ctx, db); err == nil {
				t.Error("StartOver on a database the demo never seeded succeeded")
			}
			cctx, cancel := context.WithCancel(ctx)
			opt := small()
			opt.Progress = func(stage string, done, total int) {
				if stage == "users" {
					cancel()
				}
			}
			if _, err := demo.Seed(cctx, store, opt); err == nil {
				t.Fatal("cancelled seed succeeded")
			}
			if _, err := demo.Seed(ctx, store, small()); !errors.Is(err, demo.ErrIncomplete) {
				t.Fatalf("seed after an interrupted one: %v, want ErrIncomplete", err)
			}
			if err := demo.StartOver(ctx, db); err != nil {
				t.Fatalf("StartOver: %v", err)
			}
			for _, tb := range []string{"regions", "users", "audit_log", "settings"} {
				if n := count(t, sqlDB, "SELECT count(*) FROM "+tb); n != 0 {
					t.Errorf("%s: %d rows left after StartOver", tb, n)
				}
			}
			sum := seed(t, store, small())
			if sum.Households != 300 || count(t, sqlDB, "SELECT count(*) FROM households") != 300 {
				t.Errorf("the county seeded after starting over: %+v", sum)
			}
			if err := demo.StartOver(ctx, db); err == nil {
				t.Error("StartOver on a complete demo succeeded")
			}
			if _, ok, err := demo.Seeded(ctx, store); !ok || err != nil {
				t.Errorf("the complete demo after a refused StartOver: %v, %v", ok, err)
			}
		})
	}
}

func TestSeedRejectsBadOptions(t *testing.T) {
	store, _ := openDB(t, "sqlite")
	for _, o := range []func(*demo.Options){
		func(o *demo.Options) { o.HashPassword = nil },
		func(o *demo.Options) { o.Households = 50 },
		func(o *demo.Options) { o.Cadres = 5 },
		func(o *demo.Options) { o.Today = domain.Date{Year: 2019, Month: 1, Day: 1} },
	} {
		opt := small()
		o(&opt)
		if _, err := demo.Seed(context.Background(), store, opt); err == nil {
			t.Errorf("Seed(%+v) succeeded", opt)
		}
	}
}

// heads lists the households' heads and their ID numbers in a stable order.
func heads(t *testing.T, db *sql.DB) []string {
	return strings1(t, db, `SELECT h.region_path || ' ' || h.head_name || ' ' || m.id_number FROM households h
		JOIN members m ON m.county_id = h.county_id AND m.household_id = h.id AND m.relation = 'head'
		ORDER BY h.region_path, h.number, m.id_number`)
}

func TestSeedIsDeterministic(t *testing.T) {
	storeA, dbA := openDB(t, "sqlite")
	storeB, dbB := openDB(t, "sqlite")
	a, b := seed(t, storeA, small()), seed(t, storeB, small())
	if !reflect.DeepEqual(a, b) {
		t.Errorf("summaries differ:\n%+v\n%+v", a, b)
	}
	ha, hb := heads(t, dbA), heads(t, dbB)
	if len(ha) != 300 || !reflect.DeepEqual(ha, hb) {
		t.Fatalf("heads differ (%d and %d rows)", len(ha), len(hb))
	}
	q := "SELECT name || ' ' || id_number FROM members ORDER BY id"
	if !reflect.DeepEqual(strings1(t, dbA, q), strings1(t, dbB, q)) {
		t.Error("members differ")
	}
	q = "SELECT username || ' ' || display_name || ' ' || region_path FROM users ORDER BY username"
	if !reflect.DeepEqual(strings1(t, dbA, q), strings1(t, dbB, q)) {
		t.Error("users differ")
	}
	for what, q := range map[string]string{
		"plan items":      "SELECT id || ' ' || measure || ' ' || state || ' ' || target_on FROM plan_items ORDER BY id",
		"income accounts": "SELECT id || ' ' || wages_fen || ' ' || costs_fen FROM income_accounts ORDER BY id",
		"ledger items":    "SELECT id || ' ' || problem || ' ' || deadline FROM ledger_items ORDER BY id",
	} {
		if a := strings1(t, dbA, q); len(a) == 0 || !reflect.DeepEqual(a, strings1(t, dbB, q)) {
			t.Errorf("%s differ (%d rows)", what, len(a))
		}
	}

	// Another seed draws another county.
	storeC, dbC := openDB(t, "sqlite")
	opt := small()
	opt.Seed = 7
	seed(t, storeC, opt)
	if reflect.DeepEqual(ha, heads(t, dbC)) {
		t.Error("seed 7 drew the same county as the default seed")
	}
}

// TestSeedFullSize seeds the default demo (3,000 households, 150 cadres) on
// SQLite, the embedded default `serve --demo` uses. How long it takes is
// BenchmarkSeedFullSize's to say.
func TestSeedFullSize(t *testing.T) {
	if testing.Short() {
		t.Skip("full-size demo in -short mode")
	}
	store, db := openDB(t, "sqlite")
	sum := seed(t, store, withInspections(demo.Options{Today: today, HashPassword: fakeHashes()}, store))
	if sum.Households != 3000 || sum.Cadres != 150 {
		t.Errorf("summary %+v", sum)
	}
	if sum.Units < 15 || sum.Units > 25 {
		t.Errorf("%d units, want 15–25", sum.Units)
	}
	if sum.Villages < 40 || sum.Villages > 60 {
		t.Errorf("%d villages", sum.Villages)
	}
	if got, ok, err := demo.Seeded(context.Background(), store); err != nil || !ok || !reflect.DeepEqual(got, sum) {
		t.Errorf("Seeded = %v, %v", ok, err)
	}
	for _, s := range domain.Statuses.Codes() {
		t.Logf("status %-10s %4d", s, count(t, db, "SELECT count(*) FROM households WHERE status = $1", s))
	}
	for _, s := range domain.PovertyTypes.Codes() {
		t.Logf("type   %-10s %4d", s, count(t, db, "SELECT count(*) FROM households WHERE poverty_type = $1", s))
	}
	for _, a := range sum.Accounts {
		t.Logf("%-10s %-10s %s — %s", a.Username, a.Role, a.Region, a.Note)
	}
	checkInspections(t, store, db, sum)
	for _, in := range sum.Inspections {
		t.Logf("%s (%s, %s): %d households — %s", in.Name, in.Mode, in.Status, in.Households, in.Note)
	}
}

// BenchmarkSeedFullSize times seeding the default demo on SQLite, which a
// new user waits for on the first `serve --demo` (the README says about a
// minute on 2 cores, evidence and rule judging included).
func BenchmarkSeedFullSize(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		db := storetest.Open(b, "sqlite")
		store := storage.NewStore(db, nil)
		b.StartTimer()
		if _, err := demo.Seed(context.Background(), store, demo.Options{Today: today, HashPassword: fakeHashes()}); err != nil {
			b.Fatal(err)
		}
	}
}
