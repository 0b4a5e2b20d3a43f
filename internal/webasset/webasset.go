// Package webasset serves the files a browser front end embeds (the web
// console's and the field app's): each read once at start-up, gzipped
// once at the best level, and answered with the caching its URL allows —
// a fingerprinted URL is immutable for a year, a stable one (a service
// worker, an app shell) is revalidated by its ETag on every load.
package webasset

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
)

// Asset is one file, ready to serve: its bytes, their gzip form and its
// URL.
type Asset struct {
	Name        string // path under the loaded directory, e.g. "vendor/leaflet-1.9.4.js"
	URL         string
	ContentType string
	Plain       []byte
	Gzipped     []byte // nil when gzip would not make it smaller
	etag        string
	immutable   bool
}

// Set is every asset by name and by URL.
type Set struct {
	prefix      string
	fingerprint bool
	byName      map[string]*Asset
	byURL       map[string]*Asset
}

// Load reads every file under dir in fsys. With fingerprint, an asset's
// URL is prefix + "<name without extension>.<12 hex digits of its
// SHA-256>.<ext>" (a changed file gets a new URL, so browsers may keep
// every URL for a year); without, it is prefix + name, revalidated on
// every use.
func Load(fsys fs.FS, dir, prefix string, fingerprint bool) (*Set, error) {
	s := &Set{prefix: prefix, fingerprint: fingerprint, byName: map[string]*Asset{}, byURL: map[string]*Asset{}}
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		_, err = s.Put(strings.TrimPrefix(p, dir+"/"), "", b)
		return err
	})
	return s, err
}

// Put adds (or replaces) an asset made at start-up rather than read from
// files — a service worker that lists the other assets, say. An empty
// contentType is taken from the name's extension.
func (s *Set) Put(name, contentType string, b []byte) (*Asset, error) {
	sum := sha256.Sum256(b)
	ext := path.Ext(name)
	a := &Asset{Name: name, Plain: b, ContentType: contentType, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, immutable: s.fingerprint}
	if s.fingerprint {
		a.URL = s.prefix + strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:6]) + ext
	} else {
		a.URL = s.prefix + name
	}
	if a.ContentType == "" {
		a.ContentType = mime.TypeByExtension(ext)
	}
	if a.ContentType == "" {
		a.ContentType = "application/octet-stream"
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	if buf.Len() < len(b) {
		a.Gzipped = buf.Bytes()
	}
	if old, ok := s.byName[name]; ok {
		delete(s.byURL, old.URL)
	}
	s.byName[name], s.byURL[a.URL] = a, a
	return a, nil
}

// URL is the URL of an asset; templates call it, and a name that does not
// exist fails the page's rendering rather than linking to nothing.
func (s *Set) URL(name string) (string, error) {
	a, ok := s.byName[name]
	if !ok {
		return "", fmt.Errorf("webasset: no asset %q", name)
	}
	return a.URL, nil
}

// Asset is the asset of that name, or nil.
func (s *Set) Asset(name string) *Asset { return s.byName[name] }

// All lists every asset (in no particular order).
func (s *Set) All() []*Asset {
	out := make([]*Asset, 0, len(s.byName))
	for _, a := range s.byName {
		out = append(out, a)
	}
	return out
}

// Serve answers the asset at the request's path, gzipped when the browser
// takes it, and reports whether there was one. An unknown URL (an old
// fingerprint after an upgrade included) is left to the caller.
func (s *Set) Serve(w http.ResponseWriter, r *http.Request) bool {
	a, ok := s.byURL[r.URL.Path]
	if !ok {
		return false
	}
	a.Write(w, r)
	return true
}

// Write answers the asset: immutable for a year when its URL is
// fingerprinted, otherwise "no-cache" with an ETag, so a browser (or a
// service worker checking for its update) revalidates it with a 304.
func (a *Asset) Write(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", a.ContentType)
	h.Set("Vary", "Accept-Encoding")
	if a.immutable {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", a.etag)
		if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatches(inm, a.etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	body := a.Plain
	if a.Gzipped != nil && AcceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		body = a.Gzipped
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// etagMatches reads If-None-Match (RFC 9110 §13.1.2): a list of tags, weak
// ones compared weakly, or *.
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

// AcceptsGzip reads Accept-Encoding (RFC 9110 §12.5.3): gzip, or *, with
// a quality above zero; an explicit gzip entry wins over *.
func AcceptsGzip(r *http.Request) bool {
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

// SetSecurityHeaders sets what every page and file of an embedded web app
// answers with: its Content-Security-Policy, no framing, no type sniffing,
// and no referrer sent off the origin.
func SetSecurityHeaders(h http.Header, csp string) {
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
}
