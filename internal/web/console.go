package web

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/klauspost/compress/gzhttp"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/adjustment"
	"github.com/fieldvisit/fieldvisit/internal/auth"
	"github.com/fieldvisit/fieldvisit/internal/casework"
	"github.com/fieldvisit/fieldvisit/internal/compliance"
	"github.com/fieldvisit/fieldvisit/internal/devicehealth"
	"github.com/fieldvisit/fieldvisit/internal/importer"
	"github.com/fieldvisit/fieldvisit/internal/inspect"
	"github.com/fieldvisit/fieldvisit/internal/itemledger"
	"github.com/fieldvisit/fieldvisit/internal/photos"
	"github.com/fieldvisit/fieldvisit/internal/plans"
	"github.com/fieldvisit/fieldvisit/internal/printforms"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	"github.com/fieldvisit/fieldvisit/internal/webasset"
	fvsync "github.com/fieldvisit/fieldvisit/sync"
)

// Prefix is where the console is mounted.
const Prefix = "/ui/"

// Deps are the services the console calls: the same ones, with the same
// caller (domain.Principal), as the API's handlers.
type Deps struct {
	Auth       *auth.Service
	Registry   *registry.Service
	Compliance *compliance.Service
	Sync       *fvsync.Service
	Photos     *photos.Service
	Inspect    *inspect.Service
	ItemLedger *itemledger.Service
	// Casework and Plans are the household's casework (脱贫候选, 一户一案,
	// 收入测算, 两公示一公告); nil leaves the casework out.
	// Adjustment is the yearly adjustment round (动态调整).
	Adjustment *adjustment.Service
	Casework   *casework.Service
	Plans      *plans.Service
	// DeviceHealth lists the phones' sync health (the devices page and
	// the overview's silent phones).
	DeviceHealth *devicehealth.Service
	// PrintForms lays out the printed forms the household and cadre
	// pages link to; nil shows no print links.
	PrintForms *printforms.Service
	// Import runs the register importer, as the API's POST /imports does.
	Import func(ctx context.Context, r io.Reader, opt importer.Options) (importer.Report, error)
	Log    *slog.Logger
	Now    func() time.Time
	// Secret keys the CSRF tokens. Every replica must have the same one
	// (internal/app derives it from the JWT signing key).
	Secret []byte
	// SecureCookies marks the cookies Secure even on a plain-HTTP request:
	// set it when a proxy in front ends TLS.
	SecureCookies bool
	// ExportRegister writes the register as the importer reads it, as the
	// API's GET /exports/register does.
	ExportRegister func(ctx context.Context, q importer.ExportQuery) (importer.Download, error)
}

// Console is the console's http.Handler.
type Console struct {
	deps      Deps
	prefix    string
	assets    *webasset.Set
	views     *views
	csrf      csrfKeys
	rotations *rotation
	handler   http.Handler
}

// New builds the console: it loads and compresses the assets and parses
// the templates once, so a broken template fails start-up, not a request.
func New(d Deps) (*Console, error) {
	if d.Auth == nil || len(d.Secret) < 16 {
		return nil, errors.New("web: the console needs the auth service and a secret of at least 16 bytes")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	c := &Console{deps: d, prefix: Prefix, csrf: csrfKeys{secret: d.Secret}, rotations: &rotation{now: d.Now}}
	var err error
	if c.assets, err = loadAssets(c.prefix); err != nil {
		return nil, err
	}
	if c.views, err = parseViews(c.assets); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ui/login", c.loginForm)
	mux.HandleFunc("POST /ui/login", c.login)
	mux.HandleFunc("POST /ui/logout", c.signedIn(c.logout))
	for _, pg := range pages {
		mux.HandleFunc("GET "+pg.pattern, c.signedIn(c.page(pg)))
	}
	for _, f := range fragments {
		mux.HandleFunc(f.pattern, c.signedIn(func(w http.ResponseWriter, r *http.Request, s *session) { f.handle(c, w, r, s) }))
	}
	mux.HandleFunc("/ui/", c.signedIn(func(w http.ResponseWriter, r *http.Request, s *session) {
		c.fail(w, r, s, domain.NotFound("page"))
	}))
	// Pages are compressed as they are written; assets were compressed
	// once (assets.go) and pass through.
	gz, err := gzhttp.NewWrapper(gzhttp.MinSize(1024))
	if err != nil {
		return nil, err
	}
	c.handler = gz(mux)
	return c, nil
}

// contentSecurityPolicy allows nothing inline and nothing from elsewhere:
// every script and style is one of the embedded files.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " +
	"font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// ServeHTTP answers everything under the console's prefix (and the
// prefix without its slash, which redirects): assets, pages, fragments,
// login and logout.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	webasset.SetSecurityHeaders(h, contentSecurityPolicy)
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		if c.assets.Serve(w, r) {
			return
		}
	}
	h.Set("Cache-Control", "no-store")
	if r.URL.Path == strings.TrimSuffix(c.prefix, "/") {
		http.Redirect(w, r, c.prefix, http.StatusMovedPermanently)
		return
	}
	c.handler.ServeHTTP(w, r)
}

// Caller is what the router in front knows about a request: its id (as
// echoed in X-Request-ID) and the client's address as the trusted-proxy
// rules read it (for the login throttle and the audit log).
type Caller struct {
	RequestID string
	ClientIP  string
}

type callerKey struct{}

// WithCaller hands the router's knowledge of a request to the console.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

func callerOf(ctx context.Context) Caller {
	c, _ := ctx.Value(callerKey{}).(Caller)
	return c
}

// signedIn runs next for a signed-in caller, after the CSRF checks on a
// state-changing request; anyone else is sent to the login page (htmx
// requests by HX-Redirect, since htmx would swap a redirect's page into
// the fragment's place).
func (c *Console) signedIn(next func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := c.authenticate(w, r)
		if errors.Is(err, errSignedOut) {
			c.toLogin(w, r)
			return
		}
		if err != nil {
			c.fail(w, r, nil, err)
			return
		}
		if unsafeMethod(r.Method) {
			limit := int64(maxFormBytes)
			if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
				limit = maxUploadBytes
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			if !c.sameOrigin(r) || !validToken(presented(r), s.csrf) {
				c.forbidCSRF(w, r, s)
				return
			}
		}
		s.principal.RequestID = callerOf(r.Context()).RequestID
		s.principal.Route = r.Pattern // "GET /ui/map": the why of an audit entry, as the API's "GET /api/v1/…"
		if !strings.Contains(r.Pattern, " ") {
			s.principal.Route = r.Method + " " + r.Pattern
		}
		next(w, r, s)
	}
}

// maxFormBytes bounds a console form's body; maxUploadBytes an upload's
// (a register to import), as the API bounds it.
const (
	maxFormBytes   = 64 << 10
	maxUploadBytes = 64 << 20
)

func (c *Console) toLogin(w http.ResponseWriter, r *http.Request) {
	target := c.prefix + "login"
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("HX-Redirect", target)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}
