// Package pgstandby starts, for one test, a throwaway PostgreSQL primary
// (initdb, wal_level=replica) and a hot standby streaming from it
// (pg_basebackup -R), both on free loopback ports, and stops them when the
// test ends. It is what read-replica routing is proven against: a real
// standby whose replay can be paused, resumed and whose server can be
// stopped. As root the clusters belong to the postgres OS user (localserver.PostgresCredential).
package pgstandby

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fieldvisit/fieldvisit/internal/localserver"
)

// Pair is a primary and a streaming standby of it.
type Pair struct {
	PrimaryURL string // postgres:// URL of the primary's postgres database
	StandbyURL string // the same database on the standby
	tb         testing.TB
	standby    *process
}

// Start makes the pair, or skips the test (fails it under CI=true) when
// PostgreSQL's server programs are not installed. It takes a few seconds.
func Start(tb testing.TB) *Pair {
	tb.Helper()
	bin, err := localserver.PostgresBinDir()
	if err != nil {
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			tb.Fatalf("pgstandby: %v", err)
		}
		tb.Skipf("pgstandby: %v", err)
	}
	dir, err := os.MkdirTemp("", "fieldvisit-standby-*")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	cred, err := localserver.PostgresCredential(dir)
	if err != nil {
		tb.Fatalf("pgstandby: %v", err)
	}
	program := func(name string, args ...string) *exec.Cmd {
		cmd := exec.Command(filepath.Join(bin, name), args...)
		cmd.Dir = dir
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true, Pdeathsig: syscall.SIGKILL}
		return cmd
	}
	run := func(cmd *exec.Cmd) {
		tb.Helper()
		if out, err := cmd.CombinedOutput(); err != nil {
			tb.Fatalf("pgstandby: %s: %v\n%s", filepath.Base(cmd.Path), err, out)
		}
	}
	primaryDir, standbyDir := filepath.Join(dir, "primary"), filepath.Join(dir, "standby")
	run(program("initdb", "-D", primaryDir, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Durability is pointless for clusters deleted after the test; the
	// WAL settings are what streaming needs.
	server := func(data string, port int, extra ...string) *process {
		tb.Helper()
		args := append([]string{"-D", data, "-p", strconv.Itoa(port), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=" + dir,
			"-c", "fsync=off", "-c", "full_page_writes=off", "-c", "max_connections=60"}, extra...)
		p, err := startProcess(program("postgres", args...), data+".log")
		if err != nil {
			tb.Fatalf("pgstandby: %v", err)
		}
		tb.Cleanup(p.stop)
		url := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
		if err := p.waitReady(ctx, url); err != nil {
			tb.Fatalf("pgstandby: %v", err)
		}
		return p
	}
	primaryPort, standbyPort := freePort(tb), freePort(tb)
	server(primaryDir, primaryPort, "-c", "wal_level=replica", "-c", "max_wal_senders=4")
	run(program("pg_basebackup", "-D", standbyDir, "-h", "127.0.0.1", "-p", strconv.Itoa(primaryPort), "-U", "postgres",
		"-R", "-X", "stream", "-c", "fast", "--no-sync"))
	standby := server(standbyDir, standbyPort, "-c", "hot_standby=on")
	return &Pair{
		PrimaryURL: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", primaryPort),
		StandbyURL: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", standbyPort),
		tb:         tb, standby: standby,
	}
}

// PauseReplay stops the standby applying WAL (it still receives it), so
// what commits on the primary from now on is not visible on the standby.
func (p *Pair) PauseReplay() {
	p.tb.Helper()
	p.standbyExec("SELECT pg_wal_replay_pause()")
}

// ResumeReplay lets the standby apply WAL again and waits until it has
// replayed everything the primary had written when called.
func (p *Pair) ResumeReplay() {
	p.tb.Helper()
	p.standbyExec("SELECT pg_wal_replay_resume()")
	p.CatchUp()
}

// CatchUp waits until the standby has replayed all the WAL the primary
// had inserted when it was called.
func (p *Pair) CatchUp() {
	p.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var target string
	if err := queryOne(ctx, p.PrimaryURL, "SELECT pg_current_wal_insert_lsn()::text", &target); err != nil {
		p.tb.Fatalf("pgstandby: primary WAL position: %v", err)
	}
	for {
		var caught bool
		err := queryOne(ctx, p.StandbyURL, "SELECT pg_last_wal_replay_lsn() >= '"+target+"'::pg_lsn", &caught)
		if err == nil && caught {
			return
		}
		select {
		case <-ctx.Done():
			p.tb.Fatalf("pgstandby: standby did not reach %s: %v", target, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// StopStandby stops the standby's server for good (a fast shutdown).
func (p *Pair) StopStandby() {
	p.standby.stop()
}

func (p *Pair) standbyExec(sql string) {
	p.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var ignored any
	if err := queryOne(ctx, p.StandbyURL, sql, &ignored); err != nil {
		p.tb.Fatalf("pgstandby: %s: %v", sql, err)
	}
}

func queryOne(ctx context.Context, url, sql string, dst any) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return conn.QueryRow(ctx, sql).Scan(dst)
}

// process is a server started for the test.
type process struct {
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
}

func startProcess(cmd *exec.Cmd, logPath string) (*process, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer log.Close() // the child keeps its own descriptor
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting postgres: %w", err)
	}
	p := &process{cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

func (p *process) waitReady(ctx context.Context, url string) error {
	for {
		var one int
		err := queryOne(ctx, url, "SELECT 1", &one)
		if err == nil {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("postgres exited during startup: %v\n%s", err, p.logTail())
		case <-ctx.Done():
			return fmt.Errorf("postgres not ready: %v\n%s", err, p.logTail())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stop asks for a fast shutdown (SIGINT) and kills the server after 10 s;
// stopping a stopped server does nothing.
func (p *process) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
	}
}

func (p *process) logTail() string {
	b, _ := os.ReadFile(p.logPath)
	if len(b) > 4<<10 {
		b = b[len(b)-4<<10:]
	}
	return string(bytes.TrimSpace(b))
}

func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
