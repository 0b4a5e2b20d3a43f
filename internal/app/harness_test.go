package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"
	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/contract"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	"github.com/fieldvisit/fieldvisit/internal/testkit"
	"github.com/fieldvisit/fieldvisit/internal/testkit/storetest"
)

// dialects runs a test once on SQLite (the embedded default) and once on
// PostgreSQL, each with a fresh database.
func dialects(t *testing.T, fn func(t *testing.T, env *testEnv)) {
	t.Helper()
	for _, d := range []string{"sqlite", "postgres"} {
		t.Run(d, func(t *testing.T) {
			fn(t, newTestEnv(t, d))
		})
	}
}

// dialectsAt is dialects with the app's clock stopped at now, so that
// visits and periods fall on known days.
func dialectsAt(t *testing.T, now time.Time, fn func(t *testing.T, env *testEnv)) {
	t.Helper()
	for _, d := range []string{"sqlite", "postgres"} {
		t.Run(d, func(t *testing.T) {
			fn(t, newTestEnvAt(t, testConfig(t, d), now))
		})
	}
}

// testEnv is a running app with a small county: two villages (A and B) in
// one town, with a supervisor, cadre and household in each.
type testEnv struct {
	fixture   storetest.County
	app       *App
	validator *contract.Validator
	admin     domain.Principal

	county, town, villageA, villageB, groupA domain.Region
	supervisorA, supervisorB, cadreA, cadreB domain.User
	inspector                                domain.User
	householdA, householdB                   registry.HouseholdFile
	pairingA                                 domain.Pairing
	unitA                                    uuid.UUID
}

const testPassword = storetest.Password

func newTestEnv(t *testing.T, dialect string) *testEnv {
	t.Helper()
	var w io.Writer = io.Discard
	if os.Getenv("FIELDVISIT_TEST_LOG") != "" { // to read the service's log while debugging a test
		w = os.Stderr
	}
	return newTestEnvLogging(t, dialect, w)
}

// newTestEnvLogging is newTestEnv with the service's JSON log sent to w.
func newTestEnvLogging(t *testing.T, dialect string, w io.Writer) *testEnv {
	t.Helper()
	return newTestEnvConfig(t, testConfig(t, dialect), w)
}

// testConfig is the app's configuration for a dialect: "sqlite" or
// "postgres", each with "+s3" for photos in MinIO rather than a directory.
func testConfig(t *testing.T, dialect string) Config {
	t.Helper()
	cfg := Config{DataDir: t.TempDir(), HashConcurrency: 4, ShutdownTimeout: time.Second}
	db, blobs, _ := strings.Cut(dialect, "+")
	if db == "postgres" {
		cfg.DatabaseURL = storetest.MigratedPostgresURL(t)
	}
	if blobs == "s3" {
		s3 := testkit.S3(t)
		cfg.S3Endpoint, cfg.S3AccessKey, cfg.S3SecretKey, cfg.S3Bucket = s3.Endpoint, s3.AccessKey, s3.SecretKey, testkit.NewBucketName(t)
	}
	return cfg
}

// newTestEnvConfig starts the app with cfg (a test may point it at a proxy
// in front of S3) and seeds the small county.
func newTestEnvConfig(t *testing.T, cfg Config, w io.Writer) *testEnv {
	t.Helper()
	return startTestEnv(t, cfg, w, nil)
}

// newTestEnvAt is newTestEnvConfig with the app's clock stopped at now
// from the start, the county's seeding included.
func newTestEnvAt(t *testing.T, cfg Config, now time.Time) *testEnv {
	t.Helper()
	return startTestEnv(t, cfg, io.Discard, func() time.Time { return now })
}

// testPasswordParams are the argon2id parameters of the apps the tests
// build, far below production's (auth.PasswordParams: 19 MiB, 2 passes).
// Every app seeds its county's six accounts and most tests log in, and at
// production cost that hashing was a good part of the package's CPU; no
// test here is about hashing's cost (internal/auth's tests are), and a
// login still runs the real argon2id check.
var testPasswordParams = argon2id.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

func startTestEnv(t *testing.T, cfg Config, w io.Writer, clock func() time.Time) *testEnv {
	t.Helper()
	e := startApp(t, cfg, w, clock)
	e.seed(t)
	return e
}

// newProvinceTestEnv is a running app on the database `fieldvisit init`
// leaves: the province and its admin, no county (e.county and the rest are
// zero) — where a county's register is first imported.
func newProvinceTestEnv(t *testing.T, dialect string) *testEnv {
	t.Helper()
	e := startApp(t, testConfig(t, dialect), io.Discard, nil)
	e.fixture = storetest.NewProvince(t, e.app.Store, e.app.Auth.Hasher())
	e.admin = e.fixture.Admin
	return e
}

// startApp starts the app with cfg on an empty database.
func startApp(t *testing.T, cfg Config, w io.Writer, clock func() time.Time) *testEnv {
	t.Helper()
	ctx := context.Background()
	if cfg.passwordParams == nil {
		cfg.passwordParams = &testPasswordParams
	}
	app, err := NewApp(ctx, cfg, slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatalf("NewApp: %v", err)
	}
	t.Cleanup(func() { app.Close() })
	e := &testEnv{app: app, validator: contract.New(t)}
	if clock != nil {
		app.Now = clock
		e.rebuildAuth(t)
	}
	return e
}

// seed builds the small county of every end-to-end test (storetest's
// county, through the app's own register service).
func (e *testEnv) seed(t *testing.T) {
	t.Helper()
	e.use(storetest.NewCounty(t, e.app.Store, e.app.Registry, e.app.Auth.Hasher()))
}

// newCountyDatabaseTestEnv is a running app on a database set up at county
// level: the small county is its top region, with no province or city.
func newCountyDatabaseTestEnv(t *testing.T, dialect string) *testEnv {
	t.Helper()
	e := startApp(t, testConfig(t, dialect), io.Discard, nil)
	e.use(storetest.NewCountyDatabase(t, e.app.Store, e.app.Registry, e.app.Auth.Hasher()))
	return e
}

// use makes c the environment's fixture.
func (e *testEnv) use(c storetest.County) {
	e.fixture = c
	e.admin, e.county, e.town, e.villageA, e.villageB, e.groupA = c.Admin, c.County, c.Town, c.VillageA, c.VillageB, c.GroupA
	e.supervisorA, e.supervisorB, e.cadreA, e.cadreB, e.inspector = c.SupervisorA, c.SupervisorB, c.CadreA, c.CadreB, c.Inspector
	e.householdA, e.householdB, e.pairingA, e.unitA = c.HouseholdA, c.HouseholdB, c.PairingA, c.UnitA
}

// addRegion creates a region under parent, as the admin.
func (e *testEnv) addRegion(t testing.TB, parent domain.Region, level, code, name string) domain.Region {
	t.Helper()
	return e.fixture.AddRegion(t, e.app.Registry, parent, level, code, name)
}

// addUser creates an account with the test password, as the admin.
func (e *testEnv) addUser(t testing.TB, name, role string, r domain.Region, unit *uuid.UUID, rank string) domain.User {
	t.Helper()
	return e.fixture.AddUser(t, e.app.Registry, name, role, r, unit, rank)
}

// addHousehold registers a one-member household in r; id17 is the head's
// identity number without its check character.
func (e *testEnv) addHousehold(t testing.TB, r domain.Region, head, id17 string) registry.HouseholdFile {
	t.Helper()
	return e.fixture.AddHousehold(t, e.app.Registry, r, head, id17)
}

// pair pairs a household with a cadre from today, as the admin.
func (e *testEnv) pair(t testing.TB, household, cadre uuid.UUID) domain.Pairing {
	t.Helper()
	return e.fixture.Pair(t, e.app.Registry, household, cadre)
}

// response is one answer of the API.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

func (r response) problem(t *testing.T) problemBody {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("want problem+json, got %q: %s", ct, r.Body)
	}
	var p problemBody
	r.json(t, &p)
	return p
}

type problemBody struct {
	Type    string `json:"type"`
	Status  int    `json:"status"`
	TitleZH string `json:"title_zh"`
	Errors  []struct {
		Field     string `json:"field"`
		Reason    string `json:"reason"`
		MessageZH string `json:"message_zh"`
	} `json:"errors"`
}

func (p problemBody) hasField(field string) bool {
	for _, e := range p.Errors {
		if e.Field == field {
			return true
		}
	}
	return false
}

// do sends a request through the real router and validates the response
// against openapi.yaml. body may be nil, a string/[]byte (sent raw) or a
// value (sent as JSON).
func (e *testEnv) do(t *testing.T, method, path, token string, body any) response {
	t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			t.Fatal(err)
		}
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(raw))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	e.app.Handler.ServeHTTP(rec, req)
	res := response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	if rec.Code >= 500 {
		t.Errorf("%s %s answered %d: %s", method, path, rec.Code, res.Body)
	}
	vreq := httptest.NewRequest(method, path, nil)
	e.validator.CheckResponse(t, vreq, res.Status, res.Header, res.Body)
	return res
}

// login returns an access token for username.
func (e *testEnv) login(t *testing.T, username string) string {
	t.Helper()
	r := e.do(t, "POST", "/api/v1/auth/login", "", map[string]string{"username": username, "password": testPassword, "device_id": "test-phone"})
	if r.Status != http.StatusOK {
		t.Fatalf("login %s: %d %s", username, r.Status, r.Body)
	}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	r.json(t, &out)
	return out.AccessToken
}

// count returns the number of rows of a table, for no-partial-write checks.
func (e *testEnv) count(t *testing.T, table string) int64 {
	t.Helper()
	return tableRows(t, e.app, table)
}

// tableRows counts the rows of one of app's tables.
func tableRows(t *testing.T, app *App, table string) int64 {
	t.Helper()
	var n int64
	if err := app.DB.Gorm.Table(table).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func (e *testEnv) counts(t *testing.T) map[string]int64 {
	out := map[string]int64{}
	for _, tb := range []string{"regions", "households", "members", "users", "pairings", "units", "household_status_changes",
		"income_accounts", "plan_items", "ledger_items", "casework_procedures", "risk_warnings"} {
		out[tb] = e.count(t, tb)
	}
	return out
}

func sameCounts(t *testing.T, before, after map[string]int64) {
	t.Helper()
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s: %d rows before, %d after: a rejected request wrote something", k, v, after[k])
		}
	}
}

// rebuildAuth rebuilds the services and router after a test swapped the clock.
func (e *testEnv) rebuildAuth(t *testing.T) {
	t.Helper()
	if err := e.app.build(); err != nil {
		t.Fatal(err)
	}
}

// run runs a command as the binary would, with no standard input.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return Run(ctx, args, strings.NewReader(""), stdout, stderr)
}
