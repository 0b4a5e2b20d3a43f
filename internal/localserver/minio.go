package localserver

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// MinIOVersion pins the MinIO server the tests run against. Bumping it
// rebuilds the cached binary on every machine on its next `make test`.
const MinIOVersion = "v0.0.0-20260212201848-7aac2a2c5b7c"

// MinIOBinary returns the cached MinIO server binary, building it first if
// needed. The build goes to a temporary GOBIN next to the cache and is then
// renamed into place, so concurrent first runs cannot see half a binary.
func MinIOBinary(ctx context.Context, logf func(format string, args ...any)) (string, error) {
	cacheRoot, err := os.UserCacheDir() // $XDG_CACHE_HOME or ~/.cache
	if err != nil {
		return "", err
	}
	cacheDir := filepath.Join(cacheRoot, "fieldvisit")
	bin := filepath.Join(cacheDir, "minio-"+MinIOVersion)
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

	logf("building MinIO server (first run only, ~7 min on 2 cores)…")
	start := time.Now()
	cmd := exec.CommandContext(ctx, "go", "install", "github.com/minio/minio@"+MinIOVersion)
	cmd.Dir = gobin // outside any module: go install pkg@version ignores go.mod anyway
	cmd.Env = append(os.Environ(), "GOBIN="+gobin)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building MinIO %s: %w\n%s", MinIOVersion, err, out)
	}
	if err := os.Rename(filepath.Join(gobin, "minio"), bin); err != nil {
		return "", err
	}
	logf("built MinIO in %s, cached at %s", time.Since(start).Round(time.Second), bin)
	return bin, nil
}
