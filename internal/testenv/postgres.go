package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fieldvisit/fieldvisit/internal/localserver"
)

const defaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// setupPostgres returns the URL of a PostgreSQL server for the tests and a
// function that stops it (a no-op for a server that was already running).
func setupPostgres(ctx context.Context) (string, func(), error) {
	if os.Getenv(envForceThrowawayPG) == "" {
		err := errors.New("nothing listens there")
		if tcpOpen("127.0.0.1:5432") {
			err = pingPostgres(ctx, defaultPostgresURL)
		}
		if err == nil {
			logf("PostgreSQL: using the server at 127.0.0.1:5432")
			return defaultPostgresURL, func() {}, nil
		}
		logf("PostgreSQL: nothing usable at 127.0.0.1:5432 (%v); starting a throwaway cluster", err)
	} else {
		logf("PostgreSQL: %s set; starting a throwaway cluster", envForceThrowawayPG)
	}
	return startThrowawayPostgres(ctx)
}

// pingPostgres connects to url and runs SELECT 1.
func pingPostgres(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	var one int
	return conn.QueryRow(ctx, "SELECT 1").Scan(&one)
}

// startThrowawayPostgres makes a cluster with initdb in a temporary
// directory and runs it on a free port, unix socket in the same directory.
// PostgreSQL refuses to run as root, so as root the directory is handed to
// the postgres OS user and the programs run as that user.
func startThrowawayPostgres(ctx context.Context) (string, func(), error) {
	binDir, err := localserver.PostgresBinDir()
	if err != nil {
		return "", nil, fmt.Errorf("no server at 127.0.0.1:5432: %w", err)
	}
	dir, err := os.MkdirTemp("", "fieldvisit-pg-*")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }

	cred, err := localserver.PostgresCredential(dir)
	if err != nil {
		cleanup()
		return "", nil, fmt.Errorf("running as root: %w", err)
	}
	asPostgres := func(name string, args ...string) *exec.Cmd {
		cmd := exec.Command(filepath.Join(binDir, name), args...)
		cmd.Dir = dir
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		return cmd
	}

	dataDir := filepath.Join(dir, "data")
	initdb := asPostgres("initdb", "-D", dataDir, "-U", "postgres", "--auth=trust",
		"--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions")
	if out, err := initdb.CombinedOutput(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}

	port, err := localserver.FreePort()
	if err != nil {
		cleanup()
		return "", nil, err
	}
	// Durability is pointless for a cluster deleted after the run.
	pg := asPostgres("postgres", "-D", dataDir,
		"-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories="+dir,
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		"-c", "max_connections=200",
	)
	srv, err := localserver.Start("postgres", pg, filepath.Join(dir, "postgres.log"))
	if err != nil {
		cleanup()
		return "", nil, err
	}
	stop := func() {
		stopOrKill(srv, syscall.SIGINT, 15*time.Second) // SIGINT: "fast" shutdown
		cleanup()
	}

	url := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	if err := srv.WaitReady(ctx, 60*time.Second, func(ctx context.Context) error { return pingPostgres(ctx, url) }); err != nil {
		stop()
		return "", nil, err
	}
	logf("PostgreSQL: throwaway cluster ready at 127.0.0.1:%d (%s)", port, dir)
	return url, stop, nil
}

// tcpOpen reports whether something accepts connections at addr.
func tcpOpen(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
