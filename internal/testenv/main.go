// Command testenv prepares the real services fieldvisit's tests need, runs a
// command with their addresses in its environment, and tears them down:
//
//	go run ./internal/testenv -- go test -count=1 ./...
//
// (that is what `make test` runs). It sets:
//
//	FIELDVISIT_TEST_POSTGRES_URL   a PostgreSQL server URL (internal/testkit
//	                               creates one database per test on it)
//	FIELDVISIT_TEST_S3_ENDPOINT    host:port of a MinIO server
//	FIELDVISIT_TEST_S3_ACCESS_KEY
//	FIELDVISIT_TEST_S3_SECRET_KEY
//	FIELDVISIT_TEST_CHROMIUM       the browser the console's browser tests drive
//
// PostgreSQL: a server already answering at 127.0.0.1:5432 as user postgres
// (trust auth) is used as is. Otherwise a throwaway cluster is made with
// initdb in a temporary directory, started on a free port (as the postgres OS
// user when running as root) and removed at the end. Setting
// FIELDVISIT_TEST_FORCE_THROWAWAY_PG=1 skips the probe and always makes the
// throwaway cluster (to test that path).
//
// MinIO: a pinned server build is cached at
// $XDG_CACHE_HOME/fieldvisit/minio-<version> (~/.cache/... by default),
// built with `go install` on first use (~7 min on 2 cores), and started on free
// ports with a temporary data directory and random credentials.
//
// Chromium: Debian's chromium at /usr/bin/chromium, installed with
// apt-get when missing (as root; otherwise the browser tests skip, or fail
// under CI=true).
//
// Poppler: Debian's poppler-utils (pdftotext, pdftoppm), installed with
// apt-get when missing, for the printed-form tests.
//
// A variable already set in the environment is respected: its service is
// neither probed nor started. The command's exit code is testenv's; SIGINT
// and SIGTERM are passed on to the command, and the services are stopped
// whatever happens.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fieldvisit/fieldvisit/internal/localserver"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: go run ./internal/testenv -- COMMAND [ARG...]")
		return 2
	}

	// Until the command runs, a signal cancels the setup; then it is passed
	// on to the command.
	var child atomic.Pointer[os.Process]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		for s := range sigs {
			if p := child.Load(); p != nil {
				_ = p.Signal(s)
			} else {
				cancel()
			}
		}
	}()

	var teardown []func()
	defer func() {
		for i := len(teardown) - 1; i >= 0; i-- {
			teardown[i]()
		}
	}()
	env := os.Environ()

	if os.Getenv(envPostgresURL) == "" {
		url, stop, err := setupPostgres(ctx)
		if err != nil {
			return setupFailed(ctx, "PostgreSQL", err)
		}
		teardown = append(teardown, stop)
		env = append(env, envPostgresURL+"="+url)
	} else {
		logf("PostgreSQL: using %s from the environment", envPostgresURL)
	}

	if os.Getenv(envS3Endpoint) == "" {
		s3, stop, err := setupMinIO(ctx)
		if err != nil {
			return setupFailed(ctx, "MinIO", err)
		}
		teardown = append(teardown, stop)
		env = append(env,
			envS3Endpoint+"="+s3.endpoint,
			envS3AccessKey+"="+s3.accessKey,
			envS3SecretKey+"="+s3.secretKey,
		)
	} else {
		logf("MinIO: using %s from the environment", envS3Endpoint)
	}

	if os.Getenv(envChromium) == "" {
		if path, err := setupChromium(ctx); err != nil {
			logf("Chromium: %v (the browser tests will skip, or fail under CI=true)", err)
		} else {
			env = append(env, envChromium+"="+path)
		}
	}

	if err := setupPoppler(ctx); err != nil {
		logf("Poppler: %v (the PDF tests will skip, or fail under CI=true)", err)
	}

	if ctx.Err() != nil {
		return 130
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// Should testenv be killed outright, the tests go too, rather than run
	// on against servers that are gone.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		logf("%v", err)
		return 127
	}
	child.Store(cmd.Process)
	if ctx.Err() != nil { // a signal came in between
		_ = cmd.Process.Signal(syscall.SIGTERM)
	}
	return exitCode(cmd.Wait())
}

func setupFailed(ctx context.Context, what string, err error) int {
	if ctx.Err() != nil {
		logf("interrupted while setting up %s", what)
		return 130
	}
	logf("%s: %v", what, err)
	return 1
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	logf("%v", err)
	return 1
}

// Names shared with internal/testkit, repeated there to keep test code out
// of this program.
const (
	envPostgresURL      = "FIELDVISIT_TEST_POSTGRES_URL"
	envForceThrowawayPG = "FIELDVISIT_TEST_FORCE_THROWAWAY_PG"
	envS3Endpoint       = "FIELDVISIT_TEST_S3_ENDPOINT"
	envS3AccessKey      = "FIELDVISIT_TEST_S3_ACCESS_KEY"
	envS3SecretKey      = "FIELDVISIT_TEST_S3_SECRET_KEY"
	envChromium         = "FIELDVISIT_TEST_CHROMIUM"
)

// stopOrKill stops srv with sig, killing it after grace, and says so.
func stopOrKill(srv *localserver.Process, sig syscall.Signal, grace time.Duration) {
	if srv.Stop(sig, grace) {
		logf("%s did not stop within %v; killed it", srv.Name, grace)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "testenv: "+format+"\n", args...)
}
