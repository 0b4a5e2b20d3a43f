package app

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fieldvisit/fieldvisit/internal/testkit"
	"github.com/fieldvisit/fieldvisit/storage"
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
// and every account has a password hash of its own (a salt of its own:
// one cracked hash must not open every account).
func TestServeDemo(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() {
		done <- run(ctx, []string{"serve", "--demo", "--demo-households", "120", "--demo-cadres", "20", "--addr", addr, "--data-dir", dir},
			&out, &bytes.Buffer{})
	}()
	base := "http://" + addr
	waitReady(t, base)
	for _, user := range []string{"admin", "supervisor", "inspector", "cadre01", "cadre20"} {
		res, err := http.Post(base+"/api/v1/auth/login", "application/json",
			strings.NewReader(`{"username":"`+user+`","password":"fieldvisit-demo","device_id":"readme"}`))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("login as %s with the demo password: %d", user, res.StatusCode)
		}
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("serve --demo: %v", err)
	}
	db, err := storage.Open(context.Background(), "", dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var accounts, hashes int64
	if err := db.Gorm.Raw("SELECT count(*), count(DISTINCT password_hash) FROM users").Row().Scan(&accounts, &hashes); err != nil {
		t.Fatal(err)
	}
	if accounts < 23 || hashes != accounts {
		t.Fatalf("%d demo accounts have %d distinct password hashes", accounts, hashes)
	}
}
