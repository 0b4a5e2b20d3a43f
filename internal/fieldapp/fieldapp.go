// Package fieldapp serves the cadres' offline field app at /app/: an
// installable web app (manifest, service worker, app shell and plain ES
// modules, all embedded) that keeps the cadre's households and an outbox in
// IndexedDB and speaks the sync protocol (docs/sync-protocol.md) to the
// JSON API from the browser, exactly as a native phone app would. It owns
// the app's files and how they are served — caching, compression, the
// Content-Security-Policy and the service worker's build — and nothing
// else: the app holds no server session, and every byte of data it shows
// comes from /api/v1 with the cadre's Bearer token.
package fieldapp

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"

	"github.com/fieldvisit/fieldvisit/internal/webasset"
)

// Prefix is where the app is mounted; the service worker's scope.
const Prefix = "/app/"

//go:embed static
var staticFiles embed.FS

// Options configure the app.
type Options struct {
	// Version is the app's version as a cadre reads it to the help desk
	// (sent as X-App-Version); the build's hash is appended to it.
	Version string
}

// DefaultVersion is the app's version when Options leave it empty.
const DefaultVersion = "1.0.0"

// App is the field app's http.Handler.
type App struct {
	assets  *webasset.Set
	build   string
	version string
}

// New loads the embedded files, compresses each once, and makes the two
// files that depend on all the others: the service worker, which names
// the build and the files it keeps offline, and the app shell.
func New(opt Options) (*App, error) {
	if opt.Version == "" {
		opt.Version = DefaultVersion
	}
	set, err := webasset.Load(staticFiles, "static", Prefix, false)
	if err != nil {
		return nil, err
	}
	// The build is the hash of every file and the version: any change
	// gives the service worker new bytes, which is how the browser learns
	// of an update.
	names := []string{}
	for _, a := range set.All() {
		if a.Name != "sw.js" && a.Name != "index.html" {
			names = append(names, a.Name)
		}
	}
	slices.Sort(names)
	h := sha256.New()
	h.Write([]byte(opt.Version))
	for _, n := range append([]string{"sw.js", "index.html"}, names...) {
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(set.Asset(n).Plain))
		h.Write(set.Asset(n).Plain)
	}
	a := &App{assets: set, build: hex.EncodeToString(h.Sum(nil))[:12]}
	a.version = opt.Version + " (" + a.build + ") web"

	shell, err := template.New("index.html").Parse(string(set.Asset("index.html").Plain))
	if err != nil {
		return nil, fmt.Errorf("fieldapp: index.html: %w", err)
	}
	var page bytes.Buffer
	if err := shell.Execute(&page, map[string]string{"Version": a.version, "Build": a.build}); err != nil {
		return nil, fmt.Errorf("fieldapp: index.html: %w", err)
	}
	if _, err := set.Put("index.html", "text/html; charset=utf-8", page.Bytes()); err != nil {
		return nil, err
	}

	precache := []string{Prefix}
	for _, n := range names {
		precache = append(precache, Prefix+n)
	}
	list, _ := json.Marshal(precache)
	sw := string(set.Asset("sw.js").Plain)
	for placeholder, value := range map[string]string{`"__BUILD__"`: `"` + a.build + `"`, `["__PRECACHE__"]`: string(list)} {
		if !strings.Contains(sw, placeholder) {
			return nil, fmt.Errorf("fieldapp: sw.js lacks %s", placeholder)
		}
		sw = strings.Replace(sw, placeholder, value, 1)
	}
	if _, err := set.Put("sw.js", "text/javascript; charset=utf-8", []byte(sw)); err != nil {
		return nil, err
	}
	if _, err := set.Put("manifest.webmanifest", "application/manifest+json", set.Asset("manifest.webmanifest").Plain); err != nil {
		return nil, err
	}
	return a, nil
}

// Build is the hash that names this build of the app (in the service
// worker's cache name and in X-App-Version).
func (a *App) Build() string { return a.build }

// Version is what the app sends as X-App-Version.
func (a *App) Version() string { return a.version }

// FirstLoad lists what a browser fetches on its first visit — the shell
// and every file the service worker keeps offline — as sent gzipped: the
// page-weight budget is checked on it.
func (a *App) FirstLoad() (files map[string]int) {
	files = map[string]int{}
	for _, f := range a.assets.All() {
		n := len(f.Plain)
		if f.Gzipped != nil {
			n = len(f.Gzipped)
		}
		files[f.URL] = n
	}
	return files
}

// ContentSecurityPolicy allows nothing inline and nothing from elsewhere:
// every script is one of the embedded modules; photos are shown from blob:
// URLs of the phone's own copies; the API is the same origin.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; " +
	"worker-src 'self'; manifest-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// ServeHTTP answers everything under /app/: the shell at /app/, the
// service worker at its stable URL /app/sw.js, and the other files at
// theirs, each revalidated by its ETag (the service worker keeps them
// offline, so a stable URL costs a cadre nothing).
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	webasset.SetSecurityHeaders(h, ContentSecurityPolicy)
	if r.URL.Path == strings.TrimSuffix(Prefix, "/") {
		http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "该地址只支持 GET", http.StatusMethodNotAllowed)
		return
	}
	if r.URL.Path == Prefix {
		a.assets.Asset("index.html").Write(w, r)
		return
	}
	if r.URL.Path == Prefix+"index.html" || !a.assets.Serve(w, r) {
		h.Set("Cache-Control", "no-store")
		http.Error(w, "未找到该页面", http.StatusNotFound)
	}
}
