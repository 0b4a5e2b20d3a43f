package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance/rules"
)

// TestAnUnusableTemporaryDirectoryIsRefused: when <data dir>/tmp cannot
// take files, excelize would unpack an import's sheets and hold an
// export's rows in memory without a word; every import and XLSX export of
// the server (each service is given the directory once, in build) refuses
// instead, 503 (the log names the directory for the operator; the answer
// does not). A CSV export spills nothing and still answers. Root writes
// through chmod, so the directory is made a file.
func TestAnUnusableTemporaryDirectoryIsRefused(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	admin := e.login(t, "admin")
	tmp := filepath.Join(e.app.Config.DataDir, "tmp")
	if err := os.RemoveAll(tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tmp, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	quarter, _ := rules.PeriodOf(rules.WindowQuarter, domain.DateOf(e.app.Now()))
	county := "region_id=" + e.county.ID.String() + "&period=" + quarter.Key()
	cases := []struct {
		name, method, path string
		body               []byte
	}{
		{"the visit ledger", "GET", "/api/v1/exports/visits?" + county, nil},
		{"the missed list", "GET", "/api/v1/exports/missed?" + county, nil},
		{"the progress table", "GET", "/api/v1/exports/progress?" + county, nil},
		{"the register", "GET", "/api/v1/exports/register", nil},
		{"the income ledger", "GET", "/api/v1/exports/income?year=2026&region_id=" + e.villageA.ID.String(), nil},
		{"the exit ledger", "GET", "/api/v1/exports/exits?region_id=" + e.villageA.ID.String(), nil},
		{"the rectification ledger", "GET", "/api/v1/exports/rectifications", nil},
		{"a register import", "POST", "/api/v1/imports?dry_run=true", bigWorkbook(t)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Not e.do, which takes any 5xx for a failure.
			req := httptest.NewRequest(c.method, c.path, bytes.NewReader(c.body))
			req.Header.Set("Authorization", "Bearer "+admin)
			rec := httptest.NewRecorder()
			e.app.Handler.ServeHTTP(rec, req)
			e.validator.CheckResponse(t, httptest.NewRequest(c.method, c.path, nil), rec.Code, rec.Header(), rec.Body.Bytes())
			var p struct {
				Detail   string `json:"detail"`
				DetailZH string `json:"detail_zh"`
				Reason   string `json:"reason"`
			}
			_ = json.Unmarshal(rec.Body.Bytes(), &p)
			if rec.Code != http.StatusServiceUnavailable || p.Reason != "tmp_dir_unusable" || strings.Contains(rec.Body.String(), tmp) {
				t.Errorf("%s %s: %d %s; want 503 tmp_dir_unusable, without the server's path %s", c.method, c.path, rec.Code, rec.Body, tmp)
			}
		})
	}
	if r := e.do(t, "GET", "/api/v1/exports/visits?"+county+"&format=csv", admin, nil); r.Status != http.StatusOK {
		t.Errorf("a CSV visit ledger: %d %s; a CSV spills nothing", r.Status, r.Body)
	}
}

// TestServeRefusesAnUnusableTemporaryDirectory: serve does not start on a
// temporary directory it cannot make or write; it says which, and how to
// mend it.
func TestServeRefusesAnUnusableTemporaryDirectory(t *testing.T) {
	for _, c := range []struct {
		name string
		make func(t *testing.T, dataDir string)
	}{
		{"tmp is a file", func(t *testing.T, dataDir string) {
			if err := os.WriteFile(filepath.Join(dataDir, "tmp"), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"tmp links to a place under a file", func(t *testing.T, dataDir string) {
			file := filepath.Join(dataDir, "file")
			if err := os.WriteFile(file, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join(file, "tmp"), filepath.Join(dataDir, "tmp")); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			c.make(t, dir)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			err := serveCmd(ctx, []string{"--data-dir", dir, "--addr", "127.0.0.1:0"}, io.Discard, io.Discard)
			tmp := filepath.Join(dir, "tmp")
			if err == nil || !strings.Contains(err.Error(), "temporary directory "+tmp) || !strings.Contains(err.Error(), "--data-dir") {
				t.Errorf("serve on %s: %v; want a refusal naming it and saying how to mend it", tmp, err)
			}
		})
	}
}
