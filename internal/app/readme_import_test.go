package app

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const repoRoot = "../.."

// readmeBlocks returns the shell blocks of README.md that follow a
// "<!-- readme-test: NAME -->" line, by name.
func readmeBlocks(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := map[string]string{}
	name, inBlock := "", false
	var cur strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "<!-- readme-test: "):
			name = strings.TrimSuffix(strings.TrimPrefix(line, "<!-- readme-test: "), " -->")
		case name != "" && !inBlock && strings.HasPrefix(line, "```sh"):
			inBlock = true
			cur.Reset()
		case inBlock && strings.HasPrefix(line, "```"):
			blocks[name] = cur.String()
			name, inBlock = "", false
		case inBlock:
			cur.WriteString(line + "\n")
		}
	}
	return blocks
}

// TestReadmeImportCommands runs the README's import examples as a new user
// types them, through the built binary in a fresh directory: the demo
// import on a database seeded by serve --demo (a smaller county, as the
// README allows), and a new county from init, its region sheet and its
// registers (issue 19, items 2, 3 and 5).
func TestReadmeImportCommands(t *testing.T) {
	blocks := readmeBlocks(t)
	for _, name := range []string{"demo-import", "new-county"} {
		if !strings.Contains(blocks[name], "go run ./cmd/fieldvisit import") {
			t.Fatalf("README has no %q block of import commands: %q", name, blocks[name])
		}
	}
	bin := buildFieldvisit(t)
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	// newDir is a fresh directory that looks like a clone to the commands:
	// they name testdata/… relative to it.
	newDir := func(t *testing.T) string {
		dir := t.TempDir()
		if err := os.Symlink(filepath.Join(root, "testdata"), filepath.Join(dir, "testdata")); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	// runBlock runs a README block with sh -e, `go run ./cmd/fieldvisit`
	// standing for the built binary.
	runBlock := func(t *testing.T, dir, block string) string {
		t.Helper()
		script := strings.ReplaceAll(block, "go run ./cmd/fieldvisit", bin)
		cmd := exec.Command("sh", "-ec", script)
		cmd.Dir = dir
		cmd.Env = cleanEnv()
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("README block failed: %v\n%s\n--- output\n%s", err, block, out)
		}
		return string(out)
	}

	t.Run("the demo import", func(t *testing.T) {
		dir := newDir(t)
		seedDemoWithBinary(t, bin, dir)
		out := runBlock(t, dir, blocks["demo-import"])
		for _, want := range []string{"dry run: nothing written", "households created 2", "members    created 4", "pairings   created 2", "imported"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("a new county from init, its region sheet and its registers", func(t *testing.T) {
		dir := newDir(t)
		out := runBlock(t, dir, blocks["new-county"])
		for _, want := range []string{"created province 河南省", "regions    created 11", "sheet: 一户一行", "households created 6",
			"sheet: 一人一行", "households created 10", "imported"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "county", "fieldvisit.db")); err != nil {
			t.Errorf("the county's database is not where FIELDVISIT_DATA_DIR says: %v", err)
		}
	})
}

// cleanEnv is the test's environment without FIELDVISIT_* settings, so
// the commands run with the defaults a new user has.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "FIELDVISIT_") {
			env = append(env, kv)
		}
	}
	return env
}

// seedDemoWithBinary runs the README's `serve --demo` in dir until it serves (a
// small county), then stops it as a user would with Ctrl-C.
func seedDemoWithBinary(t *testing.T, bin, dir string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	serve := exec.CommandContext(ctx, bin, "serve", "--demo")
	serve.Dir = dir
	serve.Env = append(cleanEnv(), "FIELDVISIT_ADDR="+addr, "FIELDVISIT_DEMO_HOUSEHOLDS=120", "FIELDVISIT_DEMO_CADRES=20")
	var out bytes.Buffer
	serve.Stdout, serve.Stderr = &out, &out
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		res, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			_ = serve.Process.Kill()
			t.Fatalf("serve --demo never became ready:\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := serve.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := serve.Wait(); err != nil {
		t.Fatalf("serve --demo did not stop cleanly: %v\n%s", err, out.String())
	}
}
