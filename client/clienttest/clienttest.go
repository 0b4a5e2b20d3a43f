// Package clienttest starts the real fieldvisit server for the tests of the
// client SDK and of the simulation: the `fieldvisit` binary built from this
// module, run as `fieldvisit serve --demo` on a loopback port over a fresh
// data directory (SQLite) or a fresh PostgreSQL database.
//
// The server runs as a child process because its wiring (NewApp) lives in
// package main, which other packages cannot import; the binary is built
// once per test process, and `serve --demo` seeds the demo county (demo
// accounts admin, supervisor, cadre01…, password demo.Password) before it
// starts listening.
package clienttest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fieldvisit/fieldvisit/internal/testkit"
	"github.com/fieldvisit/fieldvisit/storage/blob"
)

// Server is a running fieldvisit server.
type Server struct {
	URL         string
	DataDir     string
	DatabaseURL string         // "" for SQLite
	S3          *blob.S3Config // nil: photos in the data directory
	cmd         *exec.Cmd
	logs        *syncBuffer
	done        chan struct{}
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary builds cmd/fieldvisit once per test process and returns its path.
func Binary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		// One binary per checkout at a fixed place, replaced by rename: a
		// test process running the previous one keeps its (unlinked) file,
		// and nothing piles up in the temporary directory run after run.
		// Per checkout, because tests of several checkouts (git worktrees)
		// run at once on one machine, and each must run its own server.
		goBin := "go"
		if _, err := exec.LookPath(goBin); err != nil {
			if root := os.Getenv("GOROOT"); root != "" {
				goBin = filepath.Join(root, "bin", "go")
			}
		}
		gomod, err := exec.Command(goBin, "env", "GOMOD").Output()
		if err != nil {
			buildErr = fmt.Errorf("go env GOMOD: %v", err)
			return
		}
		checkout := sha256.Sum256(bytes.TrimSpace(gomod))
		dir := filepath.Join(os.TempDir(), "fieldvisit-clienttest", hex.EncodeToString(checkout[:6]))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			buildErr = err
			return
		}
		tmp, err := os.CreateTemp(dir, "build-*")
		if err != nil {
			buildErr = err
			return
		}
		tmp.Close()
		cmd := exec.Command(goBin, "build", "-o", tmp.Name(), "github.com/fieldvisit/fieldvisit/cmd/fieldvisit")
		if out, err := cmd.CombinedOutput(); err != nil {
			os.Remove(tmp.Name())
			buildErr = fmt.Errorf("go build fieldvisit: %v\n%s", err, out)
			return
		}
		binPath = filepath.Join(dir, "fieldvisit")
		if err := os.Rename(tmp.Name(), binPath); err != nil {
			os.Remove(tmp.Name())
			buildErr = err
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return binPath
}

var servingLine = regexp.MustCompile(`serving on (http://[0-9.:\[\]a-z]+)`)

// Start runs `fieldvisit serve --demo` on dialect "sqlite" or "postgres",
// with photos in the data directory, or "postgres+s3" with photos in a
// fresh bucket of the test MinIO server, and stops it when the test ends.
// The PostgreSQL database is a fresh one from testkit (the test is skipped
// without PostgreSQL or MinIO, except under CI). Extra flags go to serve.
func Start(tb testing.TB, dialect string, flags ...string) *Server {
	tb.Helper()
	bin := Binary(tb)
	s := &Server{DataDir: tb.TempDir(), logs: &syncBuffer{}, done: make(chan struct{})}
	switch dialect {
	case "sqlite":
	case "postgres", "postgres+s3":
		s.DatabaseURL = testkit.NewPostgresDatabase(tb)
	default:
		tb.Fatalf("clienttest: unknown dialect %q", dialect)
	}
	args := []string{"serve", "--demo", "--addr", "127.0.0.1:0", "--data-dir", s.DataDir, "--database-url", s.DatabaseURL,
		"--log-level", "warn", "--shutdown-timeout", "3s",
		// A smaller county than the demo's default: the tests need its
		// people, not its size, and every test server seeds it anew.
		"--demo-households", "800", "--demo-cadres", "40"}
	if dialect == "postgres+s3" {
		c := testkit.S3(tb)
		s.S3 = &blob.S3Config{Endpoint: c.Endpoint, AccessKey: c.AccessKey, SecretKey: c.SecretKey, Bucket: testkit.NewBucketName(tb)}
		args = append(args, "--s3-endpoint", c.Endpoint, "--s3-access-key", c.AccessKey, "--s3-secret-key", c.SecretKey,
			"--s3-bucket", s.S3.Bucket)
	}
	args = append(args, flags...)
	s.cmd = exec.Command(bin, args...)
	s.cmd.Env = cleanEnv()
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	s.cmd.Stderr = s.logs
	if err := s.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(s.logs, line)
			if m := servingLine.FindStringSubmatch(line); m != nil && !sent {
				urls <- m[1]
				sent = true
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() {
		_ = s.cmd.Wait()
		close(s.done)
	}()
	tb.Cleanup(func() { s.Stop(tb) })
	select {
	case s.URL = <-urls:
	case <-s.done:
		tb.Fatalf("fieldvisit serve exited before serving:\n%s", s.logs.String())
	case <-time.After(3 * time.Minute):
		tb.Fatalf("fieldvisit serve did not start within 3 minutes:\n%s", s.logs.String())
	}
	return s
}

// Stop ends the server (SIGTERM, then SIGKILL after 10 s); safe to call twice.
func (s *Server) Stop(tb testing.TB) {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	if tb.Failed() {
		tb.Logf("fieldvisit server log (tail):\n%s", tail(s.logs.String(), 4000))
	}
}

// Blobs opens the server's photo store (its data directory or its bucket)
// for a test to count what is stored.
func (s *Server) Blobs(tb testing.TB) blob.Store {
	tb.Helper()
	var st blob.Store
	var err error
	if s.S3 != nil {
		st, err = blob.NewS3(context.Background(), *s.S3)
	} else {
		st, err = blob.NewLocal(filepath.Join(s.DataDir, "photos"))
	}
	if err != nil {
		tb.Fatalf("clienttest: open the photo store: %v", err)
	}
	return st
}

// Logs returns what the server wrote so far.
func (s *Server) Logs() string { return s.logs.String() }

// Context is a context that ends with the test (or in 10 minutes).
func Context(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	tb.Cleanup(cancel)
	return ctx
}

// cleanEnv drops FIELDVISIT_* settings of the developer's shell so the
// flags alone decide.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if len(kv) > 11 && kv[:11] == "FIELDVISIT_" && !bytes.HasPrefix([]byte(kv), []byte("FIELDVISIT_TEST_")) {
			continue
		}
		out = append(out, kv)
	}
	return out
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
