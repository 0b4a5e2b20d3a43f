package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/internal/demo"
	"github.com/fieldvisit/fieldvisit/internal/testkit"
	"github.com/fieldvisit/fieldvisit/storage"
	"github.com/fieldvisit/fieldvisit/wire"
)

// TestInitThenServe is what an operator does on a new deployment: migrate,
// bootstrap the first admin, serve, log in, and shut down cleanly.
func TestInitThenServe(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"--data-dir", dir}
			if dialect == "postgres" {
				args = append(args, "--database-url", testkit.NewPostgresDatabase(t))
			}
			ctx := context.Background()
			var out, errs bytes.Buffer
			if err := run(ctx, append([]string{"migrate"}, args...), &out, &errs); err != nil {
				t.Fatalf("migrate: %v\n%s", err, errs.String())
			}
			if !strings.Contains(out.String(), "00001") {
				t.Fatalf("migrate should list migrations: %s", out.String())
			}
			t.Setenv("FIELDVISIT_ADMIN_PASSWORD", testPassword)
			initArgs := append([]string{"init", "--region-code", "410000000000", "--region-name", "河南省"}, args...)
			if err := run(ctx, initArgs, &out, &errs); err != nil {
				t.Fatalf("init: %v\n%s", err, errs.String())
			}
			if err := run(ctx, initArgs, &out, &errs); err == nil {
				t.Fatal("a second init must refuse a database that has users")
			}

			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := ln.Addr().String()
			ln.Close()
			sctx, stop := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() {
				done <- run(sctx, append([]string{"serve", "--addr", addr}, args...), &bytes.Buffer{}, &bytes.Buffer{})
			}()
			base := "http://" + addr
			waitReady(t, base)
			res, err := http.Post(base+"/api/v1/auth/login", "application/json",
				strings.NewReader(`{"username":"admin","password":"`+testPassword+`","device_id":"ops"}`))
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Fatalf("login as the bootstrapped admin: %d", res.StatusCode)
			}
			stop()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("serve did not shut down cleanly: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("serve did not stop")
			}
		})
	}
}

func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := http.Get(base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("server never became ready")
}

// TestServeDemo is the README's first command as a new user types it (with
// a smaller county): the demo accounts log in with the printed password,
// the inspections are there to look at (demoInspections), and every
// account has a password hash of its own (a salt of its own: one cracked
// hash must not open every account).
func TestServeDemo(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() {
		done <- run(ctx, []string{"serve", "--demo", "--demo-households", "120", "--demo-cadres", "20", "--addr", addr, "--data-dir", dir},
			&out, &bytes.Buffer{})
	}()
	base := "http://" + addr
	waitReady(t, base)
	tokens := map[string]string{}
	for _, user := range []string{"admin", "supervisor", "inspector", "cadre01", "cadre20"} {
		res, err := http.Post(base+"/api/v1/auth/login", "application/json",
			strings.NewReader(`{"username":"`+user+`","password":"fieldvisit-demo","device_id":"readme"}`))
		if err != nil {
			t.Fatal(err)
		}
		var login struct {
			AccessToken string `json:"access_token"`
		}
		err = json.NewDecoder(res.Body).Decode(&login)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || err != nil {
			t.Errorf("login as %s with the demo password: %d %v", user, res.StatusCode, err)
		}
		tokens[user] = login.AccessToken
	}
	inspections := demoInspections(t, base, tokens)
	stop()
	if err := <-done; err != nil {
		t.Fatalf("serve --demo: %v", err)
	}
	db, err := storage.Open(context.Background(), "", dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sum, ok, err := demo.Seeded(context.Background(), storage.NewStore(db, nil))
	if err != nil || !ok || len(sum.Inspections) != 2 {
		t.Fatalf("the demo's summary: %v %v %+v", ok, err, sum.Inspections)
	}
	if f := sum.Inspections[0]; !slices.Equal(f.PaperHouseholds, inspections.paper) || !maps.Equal(f.Rectifications, inspections.rectifications) {
		t.Errorf("the summary says %v likely paper visits and rectifications %v; the API shows %v and %v",
			f.PaperHouseholds, f.Rectifications, inspections.paper, inspections.rectifications)
	}
	var accounts, hashes int64
	if err := db.Gorm.Raw("SELECT count(*), count(DISTINCT password_hash) FROM users").Row().Scan(&accounts, &hashes); err != nil {
		t.Fatal(err)
	}
	if accounts < 23 || hashes != accounts {
		t.Fatalf("%d demo accounts have %d distinct password hashes", accounts, hashes)
	}
}

// demoSeen is what the API shows of the demo's finished campaign.
type demoSeen struct {
	paper          []string       // the report's likely paper visits, by household number
	rectifications map[string]int // its rectifications by state
}

// demoInspections reads the demo's inspections as a new user would: the
// supervisor finds the finished campaign, its report listing the planted
// paper visit, and its rectifications; the inspector's phone gets the
// running unannounced campaign's tasks on a snapshot, and nothing else.
func demoInspections(t *testing.T, base string, tokens map[string]string) demoSeen {
	t.Helper()
	get := func(user, path string, v any) {
		t.Helper()
		req, err := http.NewRequest("GET", base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tokens[user])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			body, _ := io.ReadAll(res.Body)
			t.Fatalf("GET %s as %s: %d %s", path, user, res.StatusCode, body)
		}
		if err := json.NewDecoder(res.Body).Decode(v); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	var list wire.Page[wire.Inspection]
	get("supervisor", "/api/v1/inspections", &list)
	var finished, running *wire.Inspection
	for i, c := range list.Items {
		switch {
		case c.Mode == "announced" && c.Status == "ended":
			finished = &list.Items[i]
		case c.Mode == "unannounced" && c.Status == "drawn":
			running = &list.Items[i]
		}
	}
	if len(list.Items) != 2 || finished == nil || running == nil {
		t.Fatalf("the supervisor lists %+v; want a finished announced campaign and a running unannounced one", list.Items)
	}

	seen := demoSeen{rectifications: map[string]int{}}
	var rep wire.InspectionReport
	get("supervisor", "/api/v1/inspections/"+finished.ID.String()+"/report", &rep)
	if rep.Coverage.Households == 0 || rep.Coverage.Done != rep.Coverage.Households || rep.Coverage.VillagesDone != rep.Coverage.Villages {
		t.Errorf("the finished campaign's coverage %+v", rep.Coverage)
	}
	for _, h := range rep.LikelyPaper {
		seen.paper = append(seen.paper, h.Number)
		if h.RecalledVisits != 1 || h.CadreRecognised || h.RecordedVisits < 1 || h.CadreName == "" ||
			!slices.ContainsFunc(h.Reasons, func(r wire.DiscrepancyReason) bool { return r.Code == "cadre_not_recognised" }) {
			t.Errorf("likely paper visit %+v", h)
		}
	}
	if len(seen.paper) == 0 {
		t.Error("the finished campaign's report lists no likely paper visit")
	}
	var items wire.Page[wire.Rectification]
	get("supervisor", "/api/v1/rectifications?campaign_id="+finished.ID.String(), &items)
	for _, it := range items.Items {
		seen.rectifications[it.State]++
	}
	if seen.rectifications["in_progress"] == 0 || seen.rectifications["overdue"] == 0 || len(items.Items) < 2 {
		t.Errorf("the finished campaign's rectifications: %v", seen.rectifications)
	}

	var sample wire.InspectionSample
	get("inspector", "/api/v1/inspections/"+running.ID.String()+"/sample", &sample)
	sampled := map[uuid.UUID]bool{}
	for _, h := range sample.Households {
		sampled[h.HouseholdID] = true
	}
	var snap wire.PullResponse
	get("inspector", "/api/v1/sync/snapshot?limit=2000", &snap)
	tasks, households := map[uuid.UUID]bool{}, map[uuid.UUID]bool{}
	for _, ch := range snap.Changes {
		switch ch.Entity {
		case "task":
			var task wire.Task
			if err := json.Unmarshal(ch.Data, &task); err != nil {
				t.Fatal(err)
			}
			if task.CampaignID != running.ID || ch.Op != "upsert" {
				t.Errorf("the inspector's snapshot holds task %+v (%s)", task, ch.Op)
			}
			tasks[task.HouseholdID] = true
		case "household":
			households[ch.ID] = true
		}
	}
	if len(sampled) == 0 || !maps.Equal(tasks, sampled) || !maps.Equal(households, sampled) {
		t.Errorf("the inspector's snapshot: %d tasks and %d households; the running campaign sampled %d", len(tasks), len(households), len(sampled))
	}
	return seen
}
