package webasset

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func TestAcceptsGzipReadsQualities(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   bool
	}{
		{"", false},
		{"gzip", true},
		{"br, gzip;q=0.5", true},
		{"gzip;q=0", false},
		{"*", true},
		{"*;q=0", false},
		{"gzip;q=0, *", false},
		{"identity", false},
		{"X-GZIP", true},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept-Encoding", tc.header)
		if got := AcceptsGzip(r); got != tc.want {
			t.Errorf("Accept-Encoding %q: gzip %v, want %v", tc.header, got, tc.want)
		}
	}
}

func TestAStableURLIsRevalidatedAndAFingerprintedOneIsImmutable(t *testing.T) {
	files := fstest.MapFS{"static/app.js": {Data: []byte(strings.Repeat("console.log('外出走访');\n", 100))}}
	for _, tc := range []struct {
		name        string
		fingerprint bool
		url         string
		cache       string
	}{
		{"stable", false, "/app/app.js", "no-cache"},
		{"fingerprinted", true, "/ui/assets/app.", "public, max-age=31536000, immutable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := "/app/"
			if tc.fingerprint {
				prefix = "/ui/assets/"
			}
			s, err := Load(files, "static", prefix, tc.fingerprint)
			if err != nil {
				t.Fatal(err)
			}
			u, err := s.URL("app.js")
			if err != nil || !strings.HasPrefix(u, tc.url) {
				t.Fatalf("URL %q (%v), want it to start %q", u, err, tc.url)
			}
			r := httptest.NewRequest("GET", u, nil)
			r.Header.Set("Accept-Encoding", "gzip")
			w := httptest.NewRecorder()
			if !s.Serve(w, r) || w.Code != http.StatusOK {
				t.Fatalf("served %d", w.Code)
			}
			if got := w.Header().Get("Cache-Control"); got != tc.cache {
				t.Errorf("Cache-Control %q, want %q", got, tc.cache)
			}
			if w.Header().Get("Content-Encoding") != "gzip" || w.Body.Len() >= len(files["static/app.js"].Data) {
				t.Errorf("not gzipped: %d bytes, encoding %q", w.Body.Len(), w.Header().Get("Content-Encoding"))
			}
			if tc.fingerprint {
				return
			}
			again := httptest.NewRequest("GET", u, nil)
			again.Header.Set("If-None-Match", w.Header().Get("ETag"))
			w2 := httptest.NewRecorder()
			s.Serve(w2, again)
			if w2.Code != http.StatusNotModified || w2.Body.Len() != 0 {
				t.Errorf("revalidation with the ETag answered %d with %d bytes, want 304 and none", w2.Code, w2.Body.Len())
			}
		})
	}
}

func TestUnknownURLIsLeftToTheCaller(t *testing.T) {
	s, err := Load(fstest.MapFS{"a/x.css": {Data: []byte("a{}")}}, "a", "/ui/assets/", true)
	if err != nil {
		t.Fatal(err)
	}
	if s.Serve(httptest.NewRecorder(), httptest.NewRequest("GET", "/ui/assets/x.000000000000.css", nil)) {
		t.Error("an old fingerprint was served")
	}
}
