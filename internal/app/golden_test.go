package app

import (
	"bytes"
	"flag"
	"math/rand"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/internal/testkit"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/golden from this run's answers")

// TestWireFormatIsStable replays one fixed story — a cadre's push with
// every outcome, a conflicting edit, pulls, a snapshot, the register's
// reads, the visit-rule reports and a 台账 export — on both databases and
// compares each answer, byte for byte, with the file under testdata/golden.
// Phones in the field and the SDK decode these bodies: a change to a field
// name, an order or a number's spelling must be deliberate (rerun with
// -update-golden and read the diff). Ids are made deterministic by seeding
// the UUID generator; times of the run itself are replaced by "<now>".
func TestWireFormatIsStable(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			cfg := Config{DataDir: t.TempDir(), HashConcurrency: 4, ShutdownTimeout: time.Second}
			if dialect == "postgres" {
				cfg.DatabaseURL = testkit.NewPostgresDatabase(t)
			}
			uuid.SetRand(rand.New(rand.NewSource(20261124)))
			t.Cleanup(func() { uuid.SetRand(nil) })
			e := newTestEnvAt(t, cfg, goldenNow)
			for _, a := range goldenStory(t, e) {
				compareGolden(t, a.name, a.body)
			}
		})
	}
}

// goldenNow is the story's clock: a Tuesday in the fourth quarter.
var goldenNow = time.Date(2026, 11, 24, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))

type goldenAnswer struct {
	name string
	body []byte
}

func goldenStory(t *testing.T, e *testEnv) []goldenAnswer {
	t.Helper()
	var out []goldenAnswer
	keep := func(name string, r response) {
		t.Helper()
		if r.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", name, r.Status, r.Body)
		}
		out = append(out, goldenAnswer{name, r.Body})
	}
	cadre, sup := e.login(t, "cadre-a"), e.login(t, "supervisor-a")
	hA := e.householdA.Household.ID
	mA := e.householdA.Members[0].ID
	deviceTime := goldenNow.Add(-90 * time.Second)
	v1, v2 := uuid.New(), uuid.New()
	withPhoto := visitChange(v2, hA, "带照片的走访", 34.7005)
	withPhoto["data"].(map[string]any)["photos"] = []any{map[string]any{"photo_id": uuid.New(), "sha256": strings.Repeat("ab", 32)}}
	first := batch("phone-a", deviceTime,
		visitChange(v1, hA, "了解家庭收入情况", 34.7),
		withPhoto,
		visitChange(uuid.New(), hA, "坐标超出范围", 95),
		map[string]any{"entity": "household", "op": "update", "id": hA, "base_version": 1, "data": map[string]any{"phone": "13800138000"},
			"base": map[string]any{"phone": ""}},
		map[string]any{"entity": "member", "op": "update", "id": mA, "household_id": hA, "base_version": 1, "data": map[string]any{"health": "chronic"}},
	)
	r := e.push(t, cadre, "golden-1", first)
	keep("push", r)
	if again := e.push(t, cadre, "golden-1", first); !bytes.Equal(again.Body, r.Body) {
		t.Fatalf("replay differs:\n%s\n%s", r.Body, again.Body)
	}
	// The office fixes the income notes; the phone, still at version 2,
	// writes them too: a conflict, the office's value kept for review.
	if r := e.do(t, "PATCH", "/api/v1/households/"+hA.String(), sup, map[string]any{"version": 2, "income_notes": "务工收入约两万元"}); r.Status != http.StatusOK {
		t.Fatalf("office edit: %d %s", r.Status, r.Body)
	}
	keep("push_conflict", e.push(t, cadre, "golden-2", batch("phone-a", deviceTime, map[string]any{"entity": "household", "op": "update",
		"id": hA, "base_version": 2, "data": map[string]any{"income_notes": "种植收入为主"}, "base": map[string]any{"income_notes": ""}})))

	cursor := ""
	for page := 0; ; page++ {
		path := "/api/v1/sync/pull?limit=3"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		r := e.do(t, "GET", path, cadre, nil)
		keep("pull_"+string(rune('0'+page)), r)
		var p struct {
			Cursor  string `json:"cursor"`
			HasMore bool   `json:"has_more"`
		}
		r.json(t, &p)
		if cursor = p.Cursor; !p.HasMore || page > 8 {
			break
		}
	}
	keep("snapshot", e.do(t, "GET", "/api/v1/sync/snapshot", cadre, nil))

	e.judgeCompliance(t)
	county := e.county.ID.String()
	keep("worklist", e.do(t, "GET", "/api/v1/worklist", cadre, nil))
	keep("household_compliance", e.do(t, "GET", "/api/v1/households/"+hA.String()+"/compliance?year=2026", sup, nil))
	keep("missed", e.do(t, "GET", "/api/v1/compliance/missed?region_id="+county+"&period=2026-Q4", e.login(t, "admin"), nil))
	keep("household_file", e.do(t, "GET", "/api/v1/households/"+hA.String(), sup, nil))
	keep("members_masked", e.do(t, "GET", "/api/v1/households/"+hA.String()+"/members", cadre, nil))
	keep("visit", e.do(t, "GET", "/api/v1/visits/"+v2.String(), sup, nil))
	keep("visits", e.do(t, "GET", "/api/v1/visits?household_id="+hA.String(), sup, nil))
	keep("conflicts", e.do(t, "GET", "/api/v1/conflicts", sup, nil))
	keep("export_visits_csv", e.do(t, "GET", "/api/v1/exports/visits?region_id="+county+"&period=2026-11&format=csv", e.login(t, "admin"), nil))
	return out
}

var (
	goldenTime   = regexp.MustCompile(`\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`)
	goldenCursor = regexp.MustCompile(`"cursor":"[^"]*"`)
)

// normalizeGolden replaces what is the run's own rather than the wire
// format's: the instants the server stamped (by its clock, stopped at
// goldenNow, or by the machine's, for anything stamped outside the app)
// and cursors, which number the feed as the database does. Instants the
// story wrote (visit times, four days before goldenNow) stay as they are.
func normalizeGolden(b []byte) []byte {
	real := time.Now()
	b = goldenTime.ReplaceAllFunc(b, func(m []byte) []byte {
		s := strings.Replace(string(m), " ", "T", 1)
		at, err := time.Parse(time.RFC3339Nano, s)
		if err == nil && (at.Sub(real).Abs() < 72*time.Hour || at.Sub(goldenNow).Abs() < 72*time.Hour) {
			return []byte("<now>")
		}
		return m
	})
	return goldenCursor.ReplaceAll(b, []byte(`"cursor":"<cursor>"`))
}

func compareGolden(t *testing.T, name string, body []byte) {
	t.Helper()
	ext := ".json"
	if strings.HasSuffix(name, "_csv") {
		ext = ".csv"
	}
	path := filepath.Join("testdata", "golden", name+ext)
	got := normalizeGolden(body)
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v (run with -update-golden to write it)", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s changed:\n got: %s\nwant: %s", path, clip(got), clip(want))
	}
}

func clip(b []byte) string {
	if len(b) > 3000 {
		return string(b[:3000]) + "…"
	}
	return string(b)
}
