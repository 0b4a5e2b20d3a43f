package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// minioVersion pins the MinIO server the tests run against. Bumping it
// rebuilds the cached binary on every machine on its next `make test`.
const minioVersion = "v0.0.0-20260212201848-7aac2a2c5b7c"

type s3Server struct {
	endpoint, accessKey, secretKey string
}

// setupMinIO starts a MinIO server on a temporary directory and returns its
// address and credentials, and a function that stops it and removes the
// directory.
func setupMinIO(ctx context.Context) (s3Server, func(), error) {
	bin, err := minioBinary(ctx)
	if err != nil {
		return s3Server{}, nil, err
	}
	dir, err := os.MkdirTemp("", "fieldvisit-minio-*")
	if err != nil {
		return s3Server{}, nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	port, err1 := freePort()
	consolePort, err2 := freePort()
	if err := errors.Join(err1, err2); err != nil {
		cleanup()
		return s3Server{}, nil, err
	}

	s := s3Server{
		endpoint:  "127.0.0.1:" + strconv.Itoa(port),
		accessKey: "fvtest-" + randomHex(6),
		secretKey: randomHex(20),
	}
	cmd := exec.Command(bin, "server", filepath.Join(dir, "data"),
		"--address", s.endpoint,
		"--console-address", "127.0.0.1:"+strconv.Itoa(consolePort),
		"--quiet")
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+s.accessKey,
		"MINIO_ROOT_PASSWORD="+s.secretKey,
		"MINIO_BROWSER=off", // no web console: less to start
		"MINIO_UPDATE=off",  // never look for updates
		"MINIO_CI_CD=on",    // no root-drive checks on throwaway data
	)
	srv, err := startServer("minio", cmd, filepath.Join(dir, "minio.log"))
	if err != nil {
		cleanup()
		return s3Server{}, nil, err
	}
	stop := func() {
		srv.stop(syscall.SIGTERM, 10*time.Second)
		cleanup()
	}

	health := "http://" + s.endpoint + "/minio/health/live"
	ready := func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, health, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %s", health, resp.Status)
		}
		return nil
	}
	if err := srv.waitReady(ctx, 60*time.Second, ready); err != nil {
		stop()
		return s3Server{}, nil, err
	}
	logf("MinIO: ready at %s (%s)", s.endpoint, dir)
	return s, stop, nil
}

// minioBinary returns the cached MinIO server binary, building it first if
// needed. The build goes to a temporary GOBIN next to the cache and is then
// renamed into place, so concurrent first runs cannot see half a binary.
func minioBinary(ctx context.Context) (string, error) {
	cacheRoot, err := os.UserCacheDir() // $XDG_CACHE_HOME or ~/.cache
	if err != nil {
		return "", err
	}
	cacheDir := filepath.Join(cacheRoot, "fieldvisit")
	bin := filepath.Join(cacheDir, "minio-"+minioVersion)
	if fi, err := os.Stat(bin); err == nil && fi.Mode().IsRegular() {
		return bin, nil
	} else if !errors.Is(err, fs.ErrNotExist) && err != nil {
		return "", err
	}

	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", err
	}
	gobin, err := os.MkdirTemp(cacheDir, "minio-build-*")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(gobin)

	fmt.Fprintln(os.Stderr, "testenv: building MinIO server (first run only, ~7 min on 2 cores)…")
	start := time.Now()
	cmd := exec.CommandContext(ctx, "go", "install", "github.com/minio/minio@"+minioVersion)
	cmd.Dir = gobin // outside any module: go install pkg@version ignores go.mod anyway
	cmd.Env = append(os.Environ(), "GOBIN="+gobin)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building MinIO %s: %w\n%s", minioVersion, err, out)
	}
	if err := os.Rename(filepath.Join(gobin, "minio"), bin); err != nil {
		return "", err
	}
	fmt.Fprintf(os.Stderr, "testenv: built MinIO in %s, cached at %s\n", time.Since(start).Round(time.Second), bin)
	return bin, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
