package fieldapp

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FirstLoadBudget is the README's page-weight budget for the field app:
// the shell and every file the service worker keeps, gzipped.
const FirstLoadBudget = 400 << 10

func TestFirstLoadStaysWithinBudget(t *testing.T) {
	a, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, n := range a.FirstLoad() {
		total += n
	}
	t.Logf("first load: %d bytes gzipped", total)
	if total > FirstLoadBudget {
		t.Errorf("first load is %d bytes compressed, over the %d budget", total, FirstLoadBudget)
	}
}

func TestServedFiles(t *testing.T) {
	a, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		method, path string
		status       int
		contentType  string
		cache        string
	}{
		{"GET", "/app/", 200, "text/html; charset=utf-8", "no-cache"},
		{"GET", "/app/sw.js", 200, "text/javascript; charset=utf-8", "no-cache"},
		{"GET", "/app/manifest.webmanifest", 200, "application/manifest+json", "no-cache"},
		{"GET", "/app/js/outbox.js", 200, "text/javascript; charset=utf-8", "no-cache"},
		{"HEAD", "/app/app.css", 200, "text/css; charset=utf-8", "no-cache"},
		{"GET", "/app/index.html", 404, "", "no-store"},
		{"GET", "/app/nothing.js", 404, "", "no-store"},
		{"POST", "/app/", 405, "", ""},
		{"GET", "/app", 301, "", ""},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			w := httptest.NewRecorder()
			a.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, nil))
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d", w.Code, tc.status)
			}
			if got := w.Header().Get("Content-Security-Policy"); !strings.Contains(got, "script-src 'self';") || !strings.Contains(got, "worker-src 'self'") {
				t.Errorf("CSP %q", got)
			}
			if tc.contentType != "" && w.Header().Get("Content-Type") != tc.contentType {
				t.Errorf("Content-Type %q, want %q", w.Header().Get("Content-Type"), tc.contentType)
			}
			if tc.cache != "" && w.Header().Get("Cache-Control") != tc.cache {
				t.Errorf("Cache-Control %q, want %q", w.Header().Get("Cache-Control"), tc.cache)
			}
		})
	}
}

func TestTheServiceWorkerNamesTheBuildAndEveryFile(t *testing.T) {
	a, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	a.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/app/sw.js", nil))
	sw := w.Body.String()
	if !strings.Contains(sw, `"`+a.Build()+`"`) || strings.Contains(sw, "__BUILD__") || strings.Contains(sw, "__PRECACHE__") {
		t.Errorf("the service worker does not name build %s", a.Build())
	}
	for _, f := range []string{`"/app/"`, `"/app/js/main.js"`, `"/app/app.css"`, `"/app/manifest.webmanifest"`} {
		if !strings.Contains(sw, f) {
			t.Errorf("the service worker does not keep %s offline", f)
		}
	}
	b, _ := New(Options{Version: "1.0.1"})
	if b.Build() == a.Build() {
		t.Error("another version has the same build: the browser would never see the update")
	}
}
