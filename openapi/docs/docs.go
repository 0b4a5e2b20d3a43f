// Package docs serves the embedded, offline API documentation page: a
// Swagger UI page that renders the service's OpenAPI contract.
//
// Every file the page needs (Swagger UI's script, style sheet and icon, and
// the small init.js that starts it) is embedded in the binary from assets/,
// so the page works on machines with no internet access. The page makes no
// request to any other origin, and its Content-Security-Policy forbids the
// browser to make one.
//
// Mount the handler on both the bare prefix and the prefix with a slash:
//
//	h := docs.Handler("/docs", "/openapi.yaml")
//	mux.Handle("/docs", h)
//	mux.Handle("/docs/", h)
//
// The handler reads the full request path; do not wrap it in
// http.StripPrefix. assets/VERSION records the swagger-ui-dist version that
// assets/ was copied from; README.md beside this file says how to update it.
package docs

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed assets
var assetFS embed.FS

//go:embed index.html
var indexHTML string

// contentSecurityPolicy is sent with the HTML page. Scripts come only from
// this origin (init.js is a file, so no inline script is needed); inline
// styles are allowed because Swagger UI sets style attributes and injects
// <style> elements; images may be data: URIs, which the style sheet uses.
const contentSecurityPolicy = "default-src 'self'; " +
	"script-src 'self'; " +
	"style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; " +
	"font-src 'self' data:; " +
	"connect-src 'self'; " +
	"object-src 'none'; " +
	"base-uri 'none'; " +
	"form-action 'self'; " +
	"frame-ancestors 'self'"

// immutable is the Cache-Control of an asset requested with the version
// parameter that matches its content.
const immutable = "public, max-age=31536000, immutable"

// asset is one embedded file, ready to serve.
type asset struct {
	data        []byte
	contentType string
	version     string // first 16 hex digits of the content's SHA-256
}

// assets holds every embedded file by its name under assets/.
var assets = loadAssets()

func loadAssets() map[string]*asset {
	m := make(map[string]*asset)
	err := fs.WalkDir(assetFS, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := assetFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		m[strings.TrimPrefix(p, "assets/")] = &asset{
			data:        data,
			contentType: contentType(p),
			version:     hex.EncodeToString(sum[:8]),
		}
		return nil
	})
	if err != nil {
		panic("docs: reading embedded assets: " + err.Error())
	}
	return m
}

// contentType gives the media type by file extension. It does not use
// mime.TypeByExtension, whose answer depends on the host's MIME tables.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".png":
		return "image/png"
	case ".html":
		return "text/html; charset=utf-8"
	default: // LICENSE, NOTICE, VERSION, *.txt
		return "text/plain; charset=utf-8"
	}
}

// page is the data of index.html.
type page struct {
	SpecURL string
}

// Handler returns an http.Handler serving the docs page at prefix (e.g. "/docs"): GET prefix and prefix+"/" give the HTML page, prefix+"/assets/..." the embedded files, with correct Content-Type and a long Cache-Control for versioned assets. specURL is where the page loads the spec from (e.g. "/openapi.yaml").
//
// The page links each asset as prefix+"/assets/NAME?v=HASH", HASH being
// taken from the file's content; a request whose v matches gets a
// one-year immutable Cache-Control, any other a no-cache one with an ETag.
// specURL should be on the same origin: the page's Content-Security-Policy
// lets it fetch from nowhere else. Methods other than GET and HEAD get 405,
// paths under prefix that are neither the page nor an embedded file 404.
func Handler(prefix, specURL string) http.Handler {
	prefix = strings.TrimRight(prefix, "/")
	if prefix != "" && !strings.HasPrefix(prefix, "/") {
		prefix = "/" + prefix
	}
	assetPrefix := prefix + "/assets/"

	tmpl := template.Must(template.New("index.html").Funcs(template.FuncMap{
		"asset": func(name string) (string, error) {
			a, ok := assets[name]
			if !ok {
				return "", fs.ErrNotExist
			}
			return assetPrefix + name + "?v=" + a.version, nil
		},
	}).Parse(indexHTML))
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, page{SpecURL: specURL}); err != nil {
		panic("docs: rendering index.html: " + err.Error())
	}
	html := buf.Bytes()
	sum := sha256.Sum256(html)
	htmlETag := `"` + hex.EncodeToString(sum[:8]) + `"`

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case p == prefix || p == prefix+"/":
			if !allowMethod(w, r) {
				return
			}
			h := w.Header()
			h.Set("Content-Type", "text/html; charset=utf-8")
			h.Set("Content-Security-Policy", contentSecurityPolicy)
			h.Set("Cache-Control", "no-cache")
			h.Set("ETag", htmlETag)
			setCommonHeaders(h)
			http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(html))

		case strings.HasPrefix(p, assetPrefix):
			a, ok := assets[strings.TrimPrefix(p, assetPrefix)]
			if !ok {
				http.NotFound(w, r)
				return
			}
			if !allowMethod(w, r) {
				return
			}
			h := w.Header()
			h.Set("Content-Type", a.contentType)
			if r.URL.Query().Get("v") == a.version {
				h.Set("Cache-Control", immutable)
			} else {
				h.Set("Cache-Control", "no-cache")
			}
			h.Set("ETag", `"`+a.version+`"`)
			setCommonHeaders(h)
			http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.data))

		default:
			http.NotFound(w, r)
		}
	})
}

// allowMethod answers 405 to anything but GET and HEAD and reports whether
// the request may go on.
func allowMethod(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
	return false
}

func setCommonHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}
