package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fieldvisit/fieldvisit/internal/localserver"
)

// pgSettings are the primary's and the standby's (a hot standby needs at
// least the primary's max_connections). fsync is off: the cluster is
// thrown away and the machine is shared; commits stay synchronous.
var pgSettings = []string{
	"-c", "listen_addresses=127.0.0.1",
	"-c", "wal_level=replica",
	"-c", "max_wal_senders=4",
	"-c", "hot_standby=on",
	"-c", "max_connections=200",
	"-c", "fsync=off",
}

// startPostgres makes a primary with initdb, a standby from it with
// pg_basebackup -R (which writes primary_conninfo and standby.signal), and
// the fieldvisit database on the primary.
func (c *cluster) startPostgres(ctx context.Context) error {
	bin, err := localserver.PostgresBinDir()
	if err != nil {
		return err
	}
	c.pgBin = bin
	pgDir := filepath.Join(c.dir, "pg")
	if err := os.Mkdir(pgDir, 0o700); err != nil {
		return err
	}
	if c.pgCred, err = localserver.PostgresCredential(pgDir); err != nil {
		return err
	}
	p, err := ports(2)
	if err != nil {
		return err
	}
	c.primaryPort, c.standbyPort = p[0], p[1]
	primaryData, standbyData := filepath.Join(pgDir, "primary"), filepath.Join(pgDir, "standby")

	if out, err := c.asPostgres("initdb", "-D", primaryData, "-U", "postgres", "--auth=trust",
		"--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions").CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	c.primaryURL = c.pgURL(c.primaryPort, "postgres")
	if c.primary, err = c.startPG(ctx, "pg-primary", primaryData, c.primaryPort, pgDir); err != nil {
		return err
	}
	if out, err := c.asPostgres("pg_basebackup", "-h", "127.0.0.1", "-p", strconv.Itoa(c.primaryPort), "-U", "postgres",
		"-D", standbyData, "-R", "-X", "stream", "--no-sync").CombinedOutput(); err != nil {
		return fmt.Errorf("pg_basebackup: %w\n%s", err, out)
	}
	if c.standby, err = c.startPG(ctx, "pg-standby", standbyData, c.standbyPort, pgDir); err != nil {
		return err
	}
	var recovering bool
	if err := pgQuery(ctx, c.pgURL(c.standbyPort, "postgres"), func(conn *pgx.Conn) error {
		return conn.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&recovering)
	}); err != nil || !recovering {
		return fmt.Errorf("the standby is not in recovery (%v)", err)
	}
	if err := pgQuery(ctx, c.primaryURL, func(conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, "CREATE DATABASE fieldvisit")
		return err
	}); err != nil {
		return fmt.Errorf("create database: %w", err)
	}
	c.primaryURL, c.standbyURL = c.pgURL(c.primaryPort, "fieldvisit"), c.pgURL(c.standbyPort, "fieldvisit")
	logf("PostgreSQL: primary on %d, streaming standby on %d", c.primaryPort, c.standbyPort)
	return nil
}

func (c *cluster) pgURL(port int, db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", port, db)
}

// asPostgres is a PostgreSQL program run as the postgres OS user when
// this runs as root (PostgreSQL refuses root).
func (c *cluster) asPostgres(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(c.pgBin, name), args...)
	cmd.Dir = c.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.pgCred}
	return cmd
}

func (c *cluster) startPG(ctx context.Context, name, data string, port int, socketDir string) (*localserver.Process, error) {
	args := append([]string{"-D", data, "-p", strconv.Itoa(port), "-c", "unix_socket_directories=" + socketDir}, pgSettings...)
	p, err := c.start(name, c.asPostgres("postgres", args...))
	if err != nil {
		return nil, err
	}
	url := c.pgURL(port, "postgres")
	err = p.WaitReady(ctx, 2*time.Minute, func(ctx context.Context) error {
		return pgQuery(ctx, url, func(conn *pgx.Conn) error { return conn.Ping(ctx) })
	})
	return p, err
}
