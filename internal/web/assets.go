package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
)

//go:embed assets
var assetFiles embed.FS

// asset is one embedded file, ready to serve: its bytes, their gzip form
// (made once at start-up) and its fingerprinted URL.
type asset struct {
	name        string // path under assets/, e.g. "vendor/leaflet-1.9.4.js"
	url         string // /ui/assets/<name without extension>.<hash>.<ext>
	contentType string
	plain       []byte
	gzipped     []byte // nil when gzip would not make it smaller
}

// assetSet is every embedded asset by name and by fingerprinted URL.
type assetSet struct {
	byName map[string]*asset
	byURL  map[string]*asset
}

// loadAssets reads the embedded assets, fingerprints each with the first
// 12 hex digits of its SHA-256 (a changed file gets a new URL, so browsers
// may keep every URL for a year) and compresses each once.
func loadAssets(prefix string) (*assetSet, error) {
	set := &assetSet{byName: map[string]*asset{}, byURL: map[string]*asset{}}
	err := fs.WalkDir(assetFiles, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := assetFiles.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "assets/")
		sum := sha256.Sum256(b)
		ext := path.Ext(name)
		a := &asset{name: name, plain: b, url: prefix + "assets/" + strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:6]) + ext,
			contentType: mime.TypeByExtension(ext)}
		if a.contentType == "" {
			a.contentType = "application/octet-stream"
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		if _, err := zw.Write(b); err != nil {
			return err
		}
		if err := zw.Close(); err != nil {
			return err
		}
		if buf.Len() < len(b) {
			a.gzipped = buf.Bytes()
		}
		set.byName[name], set.byURL[a.url] = a, a
		return nil
	})
	return set, err
}

// url is the fingerprinted URL of an asset; templates call it, and a name
// that does not exist fails the page's rendering rather than linking to
// nothing.
func (s *assetSet) url(name string) (string, error) {
	a, ok := s.byName[name]
	if !ok {
		return "", fmt.Errorf("web: no asset %q", name)
	}
	return a.url, nil
}

// serve answers a fingerprinted asset: immutable for a year, gzipped when
// the browser takes it. An unknown URL (an old fingerprint after an
// upgrade included) is not found.
func (s *assetSet) serve(w http.ResponseWriter, r *http.Request) bool {
	a, ok := s.byURL[r.URL.Path]
	if !ok {
		return false
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("Vary", "Accept-Encoding")
	body := a.plain
	if a.gzipped != nil && acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		body = a.gzipped
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
	return true
}

// acceptsGzip reads Accept-Encoding (RFC 9110 §12.5.3): gzip, or *, with
// a quality above zero; an explicit gzip entry wins over *.
func acceptsGzip(r *http.Request) bool {
	star := false
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "x-gzip" && coding != "*" {
			continue
		}
		ok := true
		if k, v, found := strings.Cut(strings.TrimSpace(params), "="); found && strings.EqualFold(strings.TrimSpace(k), "q") {
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			ok = err == nil && q > 0
		}
		if coding != "*" {
			return ok
		}
		star = ok
	}
	return star
}
