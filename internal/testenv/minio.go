package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/fieldvisit/fieldvisit/internal/localserver"
)

type s3Server struct {
	endpoint, accessKey, secretKey string
}

// setupMinIO starts a MinIO server on a temporary directory and returns its
// address and credentials, and a function that stops it and removes the
// directory.
func setupMinIO(ctx context.Context) (s3Server, func(), error) {
	bin, err := localserver.MinIOBinary(ctx, logf)
	if err != nil {
		return s3Server{}, nil, err
	}
	dir, err := os.MkdirTemp("", "fieldvisit-minio-*")
	if err != nil {
		return s3Server{}, nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	port, err1 := localserver.FreePort()
	consolePort, err2 := localserver.FreePort()
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
	srv, err := localserver.Start("minio", cmd, filepath.Join(dir, "minio.log"))
	if err != nil {
		cleanup()
		return s3Server{}, nil, err
	}
	stop := func() {
		stopOrKill(srv, syscall.SIGTERM, 10*time.Second)
		cleanup()
	}

	if err := srv.WaitReady(ctx, 60*time.Second, localserver.HTTPReady("http://"+s.endpoint+"/minio/health/live")); err != nil {
		stop()
		return s3Server{}, nil, err
	}
	logf("MinIO: ready at %s (%s)", s.endpoint, dir)
	return s, stop, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
