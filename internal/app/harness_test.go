package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/contract"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	"github.com/fieldvisit/fieldvisit/internal/testkit"
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

// testEnv is a running app with a small county: two villages (A and B) in
// one town, with a supervisor, cadre and household in each.
type testEnv struct {
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

const testPassword = "correct-horse-battery"

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
	cfg := Config{DataDir: t.TempDir(), HashConcurrency: 4, ShutdownTimeout: time.Second}
	db, blobs, _ := strings.Cut(dialect, "+")
	if db == "postgres" {
		cfg.DatabaseURL = testkit.NewPostgresDatabase(t)
	}
	if blobs == "s3" {
		s3 := testkit.S3(t)
		cfg.S3Endpoint, cfg.S3AccessKey, cfg.S3SecretKey, cfg.S3Bucket = s3.Endpoint, s3.AccessKey, s3.SecretKey, testkit.NewBucketName(t)
	}
	return newTestEnvConfig(t, cfg, w)
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

func startTestEnv(t *testing.T, cfg Config, w io.Writer, clock func() time.Time) *testEnv {
	t.Helper()
	ctx := context.Background()
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
	e.seed(t)
	return e
}

// must unwraps a seeding call; a failure there is a broken fixture, so it
// panics (failing the test) rather than threading t through every helper.
func must[T any](v T, err error) T {
	if err != nil {
		panic(fmt.Sprintf("seed: %v", err))
	}
	return v
}

func (e *testEnv) seed(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	s, reg := e.app.Store, e.app.Registry
	// The first admin is bootstrapped below the API, as `fieldvisit` does.
	provinceID := uuid.New()
	province := domain.Region{ID: provinceID, Level: domain.LevelProvince, Code: "410000000000", Name: "河南省", Path: "/" + provinceID.String() + "/"}
	if err := s.CreateRegion(ctx, province, storageAudit()); err != nil {
		t.Fatal(err)
	}
	hash := must(e.app.Auth.Hasher().Hash(ctx, testPassword))
	adminUser := domain.User{ID: uuid.New(), Username: "admin", DisplayName: "管理员", Role: domain.RoleAdmin, RegionID: province.ID, RegionPath: province.Path, Active: true, Duties: []domain.Duty{}}
	if err := s.CreateUser(ctx, adminUser, hash, storageAudit()); err != nil {
		t.Fatal(err)
	}
	e.admin = domain.Principal{UserID: adminUser.ID, Username: "admin", Role: domain.RoleAdmin, RegionID: province.ID, RegionPath: province.Path}
	region := func(parent *domain.Region, level, code, name string, poor bool) domain.Region {
		var pid *uuid.UUID
		if parent != nil {
			pid = &parent.ID
		}
		return must(reg.CreateRegion(ctx, e.admin, registry.NewRegion{ParentID: pid, Level: level, Code: code, Name: name, IsPoorVillage: poor}))
	}
	city := region(&province, domain.LevelCity, "410100000000", "郑州市", false)
	e.county = region(&city, domain.LevelCounty, "410122000000", "示范县", false)
	e.town = region(&e.county, domain.LevelTown, "410122100000", "城关镇", false)
	e.villageA = region(&e.town, domain.LevelVillage, "410122100201", "东风村", true)
	e.villageB = region(&e.town, domain.LevelVillage, "410122100202", "红旗村", false)
	e.groupA = region(&e.villageA, domain.LevelGroup, "410122100201001", "一组", false)
	unit := must(reg.CreateUnit(ctx, e.admin, "县农业农村局", e.county.ID))
	e.unitA = unit.ID
	e.supervisorA = e.addUser("supervisor-a", domain.RoleSupervisor, e.villageA, nil, "")
	e.supervisorB = e.addUser("supervisor-b", domain.RoleSupervisor, e.villageB, nil, "")
	e.cadreA = e.addUser("cadre-a", domain.RoleCadre, e.villageA, &e.unitA, domain.RankStaff)
	e.cadreB = e.addUser("cadre-b", domain.RoleCadre, e.villageB, &e.unitA, domain.RankStaff)
	e.inspector = e.addUser("inspector", domain.RoleInspector, e.town, nil, "")
	e.householdA = e.addHousehold(e.groupA, "张三", "41012219650312001")
	e.householdB = e.addHousehold(e.villageB, "李四", "41012219700101002")
	e.pairingA = e.pair(e.householdA.Household.ID, e.cadreA.ID)
	e.pair(e.householdB.Household.ID, e.cadreB.ID)
}

// addUser creates an account with the test password, as the admin.
func (e *testEnv) addUser(name, role string, r domain.Region, unit *uuid.UUID, rank string) domain.User {
	return must(e.app.Registry.CreateUser(context.Background(), e.admin, registry.NewUser{Password: testPassword, User: domain.User{
		Username: name, DisplayName: name, Role: role, RegionID: r.ID, UnitID: unit, Rank: rank}}))
}

// addHousehold registers a one-member household in r; id17 is the head's
// identity number without its check character.
func (e *testEnv) addHousehold(r domain.Region, head, id17 string) registry.HouseholdFile {
	idn := id17 + string(domain.IDNumberCheckChar(id17))
	return must(e.app.Registry.CreateHousehold(context.Background(), e.admin, registry.NewHousehold{RegionID: r.ID, Status: domain.StatusRegistered,
		PovertyType: domain.PovertyDibao, EffectiveOn: domain.Date{Year: 2024, Month: 3, Day: 1},
		Details: domain.HouseholdDetails{HeadName: head, Causes: []string{"illness"}, Home: &domain.GeoPoint{Lat: 34.7, Lon: 113.6}},
		Members: []domain.MemberDetails{{Name: head, Relation: "head", IDNumber: idn}}}))
}

// pair pairs a household with a cadre from today, as the admin.
func (e *testEnv) pair(household, cadre uuid.UUID) domain.Pairing {
	return must(e.app.Registry.Pair(context.Background(), e.admin, registry.NewPairing{HouseholdID: household, CadreID: cadre}))
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
	var n int64
	if err := e.app.DB.Gorm.Table(table).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func (e *testEnv) counts(t *testing.T) map[string]int64 {
	out := map[string]int64{}
	for _, tb := range []string{"regions", "households", "members", "users", "pairings", "units", "household_status_changes"} {
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
