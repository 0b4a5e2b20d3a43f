package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/client/clienttest"

	"github.com/fieldvisit/fieldvisit/domain"
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

			sctx, stop := context.WithCancel(ctx)
			base, done := serveInProcess(t, sctx, args, &bytes.Buffer{}, &bytes.Buffer{})
			if status, _ := login(t, base, "admin", testPassword); status != http.StatusOK {
				t.Fatalf("login as the bootstrapped admin: %d", status)
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

// serveInProcess runs `serve` with args on a free loopback port until ctx
// ends, as the binary would, and waits until it is ready; done gets what
// serve returned.
func serveInProcess(t *testing.T, ctx context.Context, args []string, stdout, stderr io.Writer) (base string, done <-chan error) {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t))
	ch := make(chan error, 1)
	go func() { ch <- run(ctx, append(append([]string{"serve"}, args...), "--addr", addr), stdout, stderr) }()
	base = "http://" + addr
	waitReady(t, base)
	return base, ch
}

// login logs user in with password and returns the answer's status and
// access token.
func login(t *testing.T, base, user, password string) (int, string) {
	t.Helper()
	body, _ := json.Marshal(wire.Login{Username: user, Password: password, DeviceID: "cli-test"})
	res, err := http.Post(base+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tokens wire.Tokens
	if res.StatusCode == http.StatusOK {
		if err := json.NewDecoder(res.Body).Decode(&tokens); err != nil {
			t.Fatalf("login as %s: %v", user, err)
		}
	}
	return res.StatusCode, tokens.AccessToken
}

// TestServeDemo is the README's first command as a new user types it (with
// a smaller county): the demo accounts log in with the printed password,
// the inspections are there to look at (demoInspections), and every
// account has a password hash of its own (a salt of its own: one cracked
// hash must not open every account).
func TestServeDemo(t *testing.T) {
	dir := t.TempDir()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var out lockedBuffer
	base, done := serveInProcess(t, ctx, []string{"--demo", "--demo-households", "120", "--demo-cadres", "20", "--data-dir", dir}, &out, &bytes.Buffer{})
	pasteDemoCommands(t, out.String())
	tokens := map[string]string{}
	for _, user := range []string{"admin", "supervisor", "inspector", "cadre01", "cadre20"} {
		status, token := login(t, base, user, demo.Password)
		if status != http.StatusOK {
			t.Errorf("login as %s with the demo password: %d", user, status)
		}
		tokens[user] = token
	}
	inspections := demoInspections(t, base, tokens)
	demoCasework(t, base, tokens)
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

// pasteDemoCommands runs the shell lines the demo's banner offers, as a
// new user pastes them, and checks they reached the API as the supervisor:
// the households, the missed-visit report, the 台账 file.
func pasteDemoCommands(t *testing.T, banner string) {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("no curl to paste the banner's commands into")
	}
	_, after, ok := strings.Cut(banner, "try the API as the supervisor")
	if !ok {
		t.Fatalf("the banner offers no commands:\n%s", banner)
	}
	var script []string
	for _, l := range strings.Split(after, "\n")[1:] {
		if !strings.HasPrefix(l, "  ") {
			break
		}
		script = append(script, strings.TrimSpace(l))
	}
	dir := t.TempDir()
	sh := exec.Command("sh", "-e", "-c", strings.Join(script, "\n"))
	sh.Dir = dir
	out, err := sh.CombinedOutput()
	if err != nil {
		t.Fatalf("the banner's commands failed: %v\n%s\n%s", err, strings.Join(script, "\n"), out)
	}
	if !strings.Contains(string(out), `"items":[`) || !strings.Contains(string(out), `"period_label"`) || strings.Contains(string(out), "urn:fieldvisit:problem") {
		t.Errorf("the banner's commands did not answer the households and the missed report:\n%s\n%s", strings.Join(script, "\n"), out)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.xlsx"))
	if len(files) != 1 {
		t.Fatalf("the banner's export wrote %v", files)
	}
	if b, err := os.ReadFile(files[0]); err != nil || !bytes.HasPrefix(b, []byte("PK")) {
		t.Errorf("the exported 台账 is not an XLSX file: %.200s", b)
	}
}

// demoSeen is what the API shows of the demo's finished campaign.
type demoSeen struct {
	paper          []string       // the report's likely paper visits, by household number
	rectifications map[string]int // its rectifications by state
}

// demoGetter returns a GET of base's path as a demo user (by tokens),
// decoding a 200 answer into v and failing the test on any other.
func demoGetter(t *testing.T, base string, tokens map[string]string) func(user, path string, v any) {
	return func(user, path string, v any) {
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
}

// demoCasework reads the demo's casework as the supervisor would: this
// year's exit candidates of the county include households that qualify.
func demoCasework(t *testing.T, base string, tokens map[string]string) {
	t.Helper()
	get := demoGetter(t, base, tokens)
	var me wire.User
	get("supervisor", "/api/v1/me", &me)
	var cands wire.ExitCandidates
	get("supervisor", fmt.Sprintf("/api/v1/exit-candidates?region_id=%s&year=%d&limit=200", me.RegionID, time.Now().In(domain.Shanghai).Year()), &cands)
	qualify := 0
	for _, c := range cands.Items {
		if c.Qualifies {
			qualify++
		}
	}
	if qualify == 0 {
		t.Errorf("none of the demo's %d exit candidates qualifies", len(cands.Items))
	}
}

// demoInspections reads the demo's inspections as a new user would: the
// supervisor finds the finished campaign, its report listing the planted
// paper visit, and its rectifications; the inspector's phone gets the
// running unannounced campaign's tasks on a snapshot, and nothing else.
func demoInspections(t *testing.T, base string, tokens map[string]string) demoSeen {
	t.Helper()
	get := demoGetter(t, base, tokens)
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

// binaryRun is one run of the fieldvisit binary.
type binaryRun struct {
	stdout, stderr string
	code           int
}

// runBinary runs the real binary (built once per test process) with args,
// standard input stdin and env added to the environment, and waits for it.
func runBinary(t *testing.T, stdin string, env []string, args ...string) binaryRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, clienttest.Binary(t), args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errs
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("fieldvisit %s: %v", strings.Join(args, " "), err)
	}
	return binaryRun{stdout: out.String(), stderr: errs.String(), code: cmd.ProcessState.ExitCode()}
}

// flagLine is a flag's first line in a -h listing: "  -name [type]".
var flagLine = regexp.MustCompile(`(?m)^  -([a-z0-9-]+)( [a-z.0-9]+)?\n((?:    \t.*\n?)*)`)

// TestCommandHelp: every command of the usage answers -h with exit
// status 0, its own synopsis, and its own flags only, each with a
// description; the top-level help lists every command.
func TestCommandHelp(t *testing.T) {
	store := []string{"data-dir", "database-url", "s3-endpoint", "s3-access-key", "s3-secret-key", "s3-bucket", "s3-secure", "key-dir"}
	server := []string{"addr", "close-after-days", "hash-concurrency", "photo-max-bytes", "snapshot-households", "shutdown-timeout",
		"trusted-proxies", "body-timeout", "upload-min-bytes", "upload-window", "secure-cookies", "max-connections"}
	demoFlags := []string{"demo", "demo-households", "demo-cadres"}
	cases := map[string]struct{ want, refused []string }{
		"serve":            {want: slices.Concat(store, server, demoFlags, []string{"log-level"})},
		"migrate":          {want: []string{"data-dir", "database-url", "log-level"}, refused: slices.Concat(server, demoFlags, store[2:])},
		"init":             {want: slices.Concat(store, []string{"region-code", "region-name", "region-level", "admin"}), refused: slices.Concat(server, demoFlags)},
		"import":           {want: slices.Concat(store, []string{"as", "dry-run", "allow-partial", "json"}), refused: slices.Concat(server, demoFlags)},
		"photos reconcile": {want: slices.Concat(store, []string{"fix", "grace"}), refused: slices.Concat(server, demoFlags)},
		"sim":              {want: []string{"cadres", "days", "link", "server"}, refused: []string{"addr", "demo"}},
		"soak":             {want: []string{"minutes", "phones", "postgres"}, refused: []string{"addr", "demo"}},
		"bench sync":       {want: []string{"rounds", "pull-rounds", "postgres", "keep"}, refused: []string{"addr", "demo"}},
		"bench photos":     {want: []string{"s3-endpoint", "rss-parallel", "postgres"}, refused: []string{"addr", "demo"}},
		"bench rules":      {want: []string{"households", "visits-per-household", "partitions", "postgres"}, refused: []string{"addr", "demo"}},
		"bench sample":     {want: []string{"households", "rounds", "postgres"}, refused: []string{"addr", "demo"}},
		"bench wire":       {want: []string{"households", "rounds", "postgres"}, refused: []string{"addr", "demo"}},
		"bench export":     {want: []string{"visits", "rounds", "postgres"}, refused: []string{"addr", "demo"}},
		"bench exit":       {want: []string{"households", "rounds", "postgres"}, refused: []string{"addr", "demo"}},
		"bench feed":       {want: []string{"phones", "rounds", "seconds", "batch", "postgres"}, refused: []string{"addr", "demo"}},
	}
	for _, c := range Commands {
		t.Run(c.Name, func(t *testing.T) {
			tc, ok := cases[c.Name]
			if !ok {
				t.Fatalf("no help case for %q: add one", c.Name)
			}
			for _, help := range []string{"-h", "--help"} {
				r := runBinary(t, "", nil, append(strings.Fields(c.Name), help)...)
				if r.code != 0 {
					t.Fatalf("%s %s: exit status %d\n%s%s", c.Name, help, r.code, r.stdout, r.stderr)
				}
				text := r.stdout + r.stderr
				if !strings.HasPrefix(text, "usage: fieldvisit "+c.Name+" ") || !strings.Contains(text, c.Summary) {
					t.Errorf("%s %s does not start with its synopsis and summary:\n%s", c.Name, help, text)
				}
				listed := map[string]bool{}
				for _, m := range flagLine.FindAllStringSubmatch(text, -1) {
					listed[m[1]] = true
					if strings.TrimSpace(strings.ReplaceAll(m[3], "\t", "")) == "" {
						t.Errorf("%s: flag -%s has no description", c.Name, m[1])
					}
				}
				for _, f := range tc.want {
					if !listed[f] {
						t.Errorf("%s %s does not list -%s", c.Name, help, f)
					}
				}
				for _, f := range tc.refused {
					if listed[f] {
						t.Errorf("%s %s lists -%s, which it does not read", c.Name, help, f)
					}
				}
			}
		})
	}
	for _, help := range []string{"-h", "--help", "help"} {
		r := runBinary(t, "", nil, help)
		if r.code != 0 {
			t.Errorf("fieldvisit %s: exit status %d", help, r.code)
		}
		for _, c := range Commands {
			if !strings.Contains(r.stdout, "fieldvisit "+c.Name+" "+c.Synopsis) {
				t.Errorf("fieldvisit %s does not list %q", help, c.Name)
			}
		}
	}
}

// TestEveryCommandIsInTheUsage: a command Run runs is listed in Commands.
func TestEveryCommandIsInTheUsage(t *testing.T) {
	for name := range commands {
		if !slices.ContainsFunc(Commands, func(c CommandHelp) bool { return strings.Fields(c.Name)[0] == name }) {
			t.Errorf("command %q is missing from Commands (and so from the usage)", name)
		}
	}
}

// TestCommandErrors: what a new operator gets wrong is answered with
// exit status 1 and one message naming what to change, said once
// ("demo: demo: …" was), and nothing is written.
func TestCommandErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cases := []struct {
		name  string
		args  []string
		env   []string
		stdin string
		says  []string
	}{
		{name: "unknown command", args: []string{"serv"}, says: []string{`unknown command "serv"`, "fieldvisit serve"}},
		{name: "init without a password", args: []string{"init", "--region-code", "410000000000", "--region-name", "河南省"},
			says: []string{"FIELDVISIT_ADMIN_PASSWORD"}},
		{name: "init with a short password", args: []string{"init", "--region-code", "410000000000", "--region-name", "河南省"},
			env: []string{"FIELDVISIT_ADMIN_PASSWORD=short"}, says: []string{"FIELDVISIT_ADMIN_PASSWORD: 密码长度应为10至128个字符"}},
		{name: "init with a bad region", args: []string{"init", "--region-code", "41", "--region-name", "河南省"},
			env: []string{"FIELDVISIT_ADMIN_PASSWORD=" + testPassword}, says: []string{"--region-code: 行政区划代码应为12位"}},
		{name: "a demo too small", args: []string{"serve", "--demo", "--demo-households", "50", "--addr", "127.0.0.1:0"},
			says: []string{"fieldvisit: demo: 50 households are too few"}},
		{name: "serve on a busy address", args: []string{"serve", "--demo", "--addr", busy.Addr().String()},
			says: []string{"listen on " + busy.Addr().String(), "--addr"}},
		{name: "an argument too many", args: []string{"migrate", "now"}, says: []string{`migrate: unexpected argument "now"`}},
		{name: "bench without a benchmark", args: []string{"bench"}, says: []string{"fieldvisit bench sync|photos|rules|sample|wire"}},
	}
	doubled := regexp.MustCompile(`\b([a-z]+): ([a-z]+: )?\b([a-z]+): `)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir() + "/data"
			r := runBinary(t, tc.stdin, append([]string{"FIELDVISIT_DATA_DIR=" + dir}, tc.env...), tc.args...)
			if r.code != 1 {
				t.Errorf("exit status %d, want 1", r.code)
			}
			for _, s := range tc.says {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr does not say %q:\n%s", s, r.stderr)
				}
			}
			for _, line := range strings.Split(r.stderr, "\n") {
				if m := doubled.FindStringSubmatch(line); m != nil && (m[1] == m[3] || m[1] == strings.TrimSuffix(m[2], ": ")) {
					t.Errorf("a prefix said twice: %s", line)
				}
			}
			if _, err := os.Stat(dir); err == nil {
				t.Errorf("the refused command created the data directory %s", dir)
			}
		})
	}
}

// TestServeOnAnEmptyDatabaseSaysHowToInit: plain serve on a fresh data
// directory says nobody can log in yet and prints the init command, which
// works as printed (with a password put in) while the server runs.
func TestServeOnAnEmptyDatabaseSaysHowToInit(t *testing.T) {
	bin := clienttest.Binary(t)
	dir := t.TempDir() + "/data"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "serve", "--addr", "127.0.0.1:0", "--data-dir", dir, "--log-level", "warn")
	var errs lockedBuffer
	cmd.Stderr = &errs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); cmd.Wait() }()
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var initLine string
	timeout := time.After(time.Minute)
	for initLine == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("serve ended without saying how to init:\n%s", errs.String())
			}
			if strings.Contains(l, "fieldvisit init") {
				initLine = strings.TrimSpace(l)
			}
		case <-timeout:
			t.Fatal("serve said nothing about init within a minute")
		}
	}
	go func() { // keep the pipe drained
		for range lines {
		}
	}()
	pasted := strings.Replace(initLine, "'<10 to 128 characters>'", "'"+testPassword+"'", 1)
	if pasted == initLine {
		t.Fatalf("the init line has no password to fill in: %s", initLine)
	}
	sh := exec.Command("sh", "-c", pasted)
	sh.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := sh.CombinedOutput()
	if err != nil || !strings.Contains(string(out), `created province 河南省`) {
		t.Fatalf("the printed init command %q: %v\n%s", pasted, err, out)
	}
}

// cancelOn is standard error that cancels a command once it says text.
type cancelOn struct {
	lockedBuffer
	text   string
	cancel context.CancelFunc
}

func (c *cancelOn) Write(p []byte) (int, error) {
	n, err := c.lockedBuffer.Write(p)
	if strings.Contains(c.String(), c.text) {
		c.cancel()
	}
	return n, err
}

// TestServeDemoStartsOverAnInterruptedSeeding: a first `serve --demo`
// stopped while it seeds leaves part of a county; the next one says so,
// starts the seeding over by itself and serves the whole demo.
func TestServeDemoStartsOverAnInterruptedSeeding(t *testing.T) {
	dir := t.TempDir()
	args := []string{"serve", "--demo", "--demo-households", "120", "--demo-cadres", "20", "--data-dir", dir, "--log-level", "warn"}
	ctx, stop := context.WithCancel(context.Background())
	first := &cancelOn{text: "seeding demo county: households", cancel: stop}
	if err := run(ctx, append(args, "--addr", "127.0.0.1:0"), io.Discard, first); err == nil {
		t.Fatal("serve --demo stopped during its seeding returned no error")
	}

	ctx, stop = context.WithCancel(context.Background())
	defer stop()
	var second lockedBuffer
	base, done := serveInProcess(t, ctx, args[1:], io.Discard, &second)
	if !strings.Contains(second.String(), "interrupted before it finished: starting it over") {
		t.Errorf("the second start did not say it started the seeding over:\n%s", second.String())
	}
	if status, _ := login(t, base, "cadre20", demo.Password); status != http.StatusOK {
		t.Errorf("the last demo cadre logs in after the seeding started over: %d", status)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("serve --demo: %v", err)
	}
}

// TestReadmeInitCommand runs the README's init command as written (the
// binary in place of `go run ./cmd/fieldvisit`), in a fresh directory.
func TestReadmeInitCommand(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var line string
	for _, l := range strings.Split(string(readme), "\n") {
		if strings.Contains(l, "go run ./cmd/fieldvisit init ") && !strings.Contains(l, "`") {
			line = l
		}
	}
	if line == "" {
		t.Fatal("the README has no init command in a shell block")
	}
	sh := exec.Command("sh", "-c", strings.Replace(line, "go run ./cmd/fieldvisit", clienttest.Binary(t), 1))
	sh.Dir = t.TempDir()
	out, err := sh.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "created province") {
		t.Fatalf("%s: %v\n%s", line, err, out)
	}
}
