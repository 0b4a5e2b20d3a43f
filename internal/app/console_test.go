package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/demo"
	"github.com/fieldvisit/fieldvisit/internal/itemledger"
	"github.com/fieldvisit/fieldvisit/internal/registry"
)

// consoleEnv is the app with a small demo county (300 households, 30
// cadres) on SQLite, served over real HTTP for a browser, on a clock a
// test may move forward.
type consoleEnv struct {
	app    *App
	url    string
	offset atomic.Int64 // added to the wall clock, in nanoseconds
}

func newConsoleEnv(t *testing.T) *consoleEnv {
	t.Helper()
	ctx := context.Background()
	cfg := Config{DataDir: t.TempDir(), HashConcurrency: 4, ShutdownTimeout: time.Second, DemoHouseholds: 300, DemoCadres: 30,
		passwordParams: &testPasswordParams}
	app, err := NewApp(ctx, cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	e := &consoleEnv{app: app}
	app.Now = func() time.Time { return time.Now().Add(time.Duration(e.offset.Load())) }
	if err := app.build(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := seedDemo(ctx, app, io.Discard); err != nil {
		t.Fatal(err)
	}
	t.Logf("demo county seeded in %v", time.Since(start).Round(time.Millisecond))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { app.Handler.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	e.url = srv.URL
	return e
}

// later moves the app's clock forward.
func (e *consoleEnv) later(d time.Duration) { e.offset.Add(int64(d)) }

// principal is a demo user as the services see them.
func (e *consoleEnv) principal(t *testing.T, username string) domain.Principal {
	t.Helper()
	ctx := context.Background()
	tok, err := e.app.Auth.Login(ctx, username, demo.Password, "test-phone", "127.0.0.1", "")
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.app.Auth.Authenticate(ctx, tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// consoleClient is a browser-like HTTP client: a cookie jar, redirects
// not followed, gzip asked for and left compressed (so a test reads the
// bytes on the wire).
type consoleClient struct {
	t    *testing.T
	e    *consoleEnv
	http *http.Client
}

func (e *consoleEnv) client(t *testing.T) *consoleClient {
	jar, _ := cookiejar.New(nil)
	return &consoleClient{t: t, e: e, http: &http.Client{Jar: jar, Transport: &http.Transport{DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// page is one answer with its body as sent.
type page struct {
	*http.Response
	body string
}

func (c *consoleClient) do(method, path string, form url.Values, header map[string]string) page {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.e.url+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	if res.StatusCode >= 500 {
		c.t.Errorf("%s %s answered %d: %s", method, path, res.StatusCode, b)
	}
	if !strings.HasPrefix(res.Header.Get("Content-Security-Policy"), "default-src 'self'; script-src 'self'; style-src 'self';") {
		c.t.Errorf("%s %s: no strict CSP: %q", method, path, res.Header.Get("Content-Security-Policy"))
	}
	return page{Response: res, body: string(b)}
}

func (c *consoleClient) get(path string) page { return c.do("GET", path, nil, nil) }

var (
	hiddenToken = regexp.MustCompile(`name="csrf_token" value="([0-9a-f]+)"`)
	metaToken   = regexp.MustCompile(`<meta name="csrf-token" content="([0-9a-f]+)">`)
)

func match(t *testing.T, re *regexp.Regexp, s string) string {
	t.Helper()
	m := re.FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("%s not found in %.400s", re, s)
	}
	return m[1]
}

// login signs in through the form, as a browser does.
func (c *consoleClient) login(username, password string) page {
	c.t.Helper()
	form := c.get("/ui/login")
	return c.do("POST", "/ui/login", url.Values{"username": {username}, "password": {password}, "csrf_token": {match(c.t, hiddenToken, form.body)}}, nil)
}

// mustLogin signs in and returns the session's CSRF token.
func (c *consoleClient) mustLogin(username string) string {
	c.t.Helper()
	if r := c.login(username, demo.Password); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/ui/" {
		c.t.Fatalf("login %s: %d %s", username, r.StatusCode, r.body)
	}
	overview := c.get("/ui/")
	if overview.StatusCode != http.StatusOK {
		c.t.Fatalf("overview after login: %d", overview.StatusCode)
	}
	return match(c.t, metaToken, overview.body)
}

func (c *consoleClient) cookie(name string) string {
	u, _ := url.Parse(c.e.url + "/ui/")
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// apiRefresh presents a refresh token to the API, as a phone would.
func (e *consoleEnv) apiRefresh(t *testing.T, token string) int {
	t.Helper()
	res, err := http.Post(e.url+"/api/v1/auth/refresh", "application/json", strings.NewReader(`{"refresh_token":"`+token+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// openRectifications is what the overview must show: the 整改台账 items
// not closed, as the ledger service counts them for the caller.
func (e *consoleEnv) openRectifications(t *testing.T, p domain.Principal) int64 {
	t.Helper()
	var total int64
	for _, st := range []string{itemledger.Open, itemledger.InProgress, itemledger.Submitted, itemledger.Overdue} {
		_, n, err := e.app.ItemLedger.Items(context.Background(), p, itemledger.Query{Kind: itemledger.KindRectification, State: st, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		total += n
	}
	return total
}

// householdsOf lists every household a user sees, by village.
func (e *consoleEnv) householdsOf(t *testing.T, p domain.Principal) map[uuid.UUID]map[uuid.UUID]bool {
	t.Helper()
	out := map[uuid.UUID]map[uuid.UUID]bool{}
	for offset := 0; ; offset += 500 {
		hs, total, err := e.app.Registry.Households(context.Background(), p, registry.HouseholdQuery{}, registry.Page{Limit: 500, Offset: offset})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hs {
			if out[h.VillageID] == nil {
				out[h.VillageID] = map[uuid.UUID]bool{}
			}
			out[h.VillageID][h.ID] = true
		}
		if int64(offset+500) >= total {
			return out
		}
	}
}

// TestConsole: the web console against a small demo county, over plain
// HTTP where a browser adds nothing (consoleSessions) and in Chromium
// (consoleInBrowser). One county serves both: seeding it is most of the
// time.
func TestConsole(t *testing.T) {
	e := newConsoleEnv(t)
	t.Run("sessions", func(t *testing.T) { consoleSessions(t, e) })
	t.Run("browser", func(t *testing.T) { consoleInBrowser(t, e) })
	t.Run("inspections", func(t *testing.T) { consoleInspections(t, e) })
	t.Run("admin", func(t *testing.T) { consoleAdmin(t, e) })
	t.Run("imports", func(t *testing.T) { consoleImports(t, e) })
	t.Run("reports", func(t *testing.T) { consoleReports(t, e) })
	t.Run("progress and cadres", func(t *testing.T) { consoleProgressAndCadres(t, e) })
	t.Run("reports in the browser", func(t *testing.T) { reportsInBrowser(t, e) })
	t.Run("household file", func(t *testing.T) { consoleHouseholdFile(t, e) })
	t.Run("devices", func(t *testing.T) { consoleDevices(t, e) })
	t.Run("printed forms", func(t *testing.T) { consolePrintedForms(t, e) })
	t.Run("casework", func(t *testing.T) { consoleCasework(t, e) })
	t.Run("adjustment", func(t *testing.T) { consoleAdjustment(t, e) })
	t.Run("village exit", func(t *testing.T) { consoleVillageExit(t, e) })
	t.Run("identification", func(t *testing.T) { consoleIdentification(t, e) })
	t.Run("exit refused", func(t *testing.T) { consoleExitRefused(t, e) })
	t.Run("cadre ledgers", func(t *testing.T) { consoleLedgers(t, e) })
	t.Run("audit log", func(t *testing.T) { consoleAudit(t, e) })
}

// consoleSessions: browser sessions over plain HTTP — login errors in
// Chinese, CSRF refused (missing token, another origin) with nothing
// changed, logout ending the login everywhere, concurrent requests at the
// access token's expiry rotating the refresh token once, security headers
// on every answer, the page-weight budget, and a cadre's map data.
func consoleSessions(t *testing.T, e *consoleEnv) {
	t.Run("login errors are shown in Chinese", func(t *testing.T) {
		for _, tt := range []struct {
			name, username, password string
			status                   int
			message                  string
		}{
			{"wrong password", "supervisor", "wrong-password", http.StatusUnauthorized, "用户名或密码错误"},
			{"unknown user", "nobody", "wrong-password", http.StatusUnauthorized, "用户名或密码错误"},
			{"empty username", "", "x", http.StatusUnprocessableEntity, "用户名"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				r := e.client(t).login(tt.username, tt.password)
				if r.StatusCode != tt.status || !strings.Contains(r.body, `class="form-error"`) || !strings.Contains(r.body, tt.message) {
					t.Errorf("%d, want %d with %q: %.600s", r.StatusCode, tt.status, tt.message, r.body)
				}
			})
		}
		c := e.client(t)
		for range 5 {
			c.login("cadre30", "wrong-password")
		}
		if r := c.login("cadre30", demo.Password); r.StatusCode != http.StatusTooManyRequests || !strings.Contains(r.body, "登录失败次数过多") ||
			r.Header.Get("Retry-After") == "" {
			t.Errorf("a throttled login: %d %q, want 429 in Chinese with Retry-After", r.StatusCode, r.body)
		}
	})

	t.Run("every role's pages", func(t *testing.T) {
		for _, user := range []string{"admin", "supervisor", "inspector", "cadre01"} {
			c := e.client(t)
			c.mustLogin(user)
			for _, path := range []string{"/ui/", "/ui/map", "/ui/map/data", "/ui/overview/rates"} {
				r := c.get(path)
				if r.StatusCode != http.StatusOK && !(user == "cadre01" && path == "/ui/overview/rates") {
					t.Errorf("%s %s: %d %.300s", user, path, r.StatusCode, r.body)
				}
			}
			if r := c.get("/ui/no-such-page"); r.StatusCode != http.StatusNotFound || !strings.Contains(r.body, "未找到") {
				t.Errorf("%s on a missing page: %d, want the 404 page in Chinese", user, r.StatusCode)
			}
		}
	})

	t.Run("the session's cookies", func(t *testing.T) {
		c := e.client(t)
		r := c.login("supervisor", demo.Password)
		seen := map[string]*http.Cookie{}
		for _, ck := range r.Cookies() {
			seen[ck.Name] = ck
		}
		for _, name := range []string{"fv_access", "fv_refresh", "fv_device"} {
			ck := seen[name]
			if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/ui/" {
				t.Errorf("cookie %s: %+v, want HttpOnly, SameSite=Strict, Path=/ui/", name, ck)
			}
		}
		if d := seen["fv_device"]; d == nil || !strings.HasPrefix(d.Value, "web-") {
			t.Errorf("the browser's device id: %+v, want web-…", d)
		}
		if r := e.client(t).get("/ui/map"); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/ui/login" {
			t.Errorf("signed out: %d %s, want a redirect to the login", r.StatusCode, r.Header.Get("Location"))
		}
		if r := e.client(t).do("GET", "/ui/overview/rates", nil, map[string]string{"HX-Request": "true"}); r.Header.Get("HX-Redirect") != "/ui/login" {
			t.Errorf("an htmx request signed out: %d, HX-Redirect %q", r.StatusCode, r.Header.Get("HX-Redirect"))
		}
		if r := e.client(t).get("/ui"); r.StatusCode != http.StatusMovedPermanently || r.Header.Get("Location") != "/ui/" {
			t.Errorf("/ui: %d %s", r.StatusCode, r.Header.Get("Location"))
		}
	})

	t.Run("CSRF is refused and nothing changes", func(t *testing.T) {
		c := e.client(t)
		token := c.mustLogin("supervisor")
		refresh := c.cookie("fv_refresh")
		before := tableRows(t, e.app, "refresh_tokens")
		for _, tt := range []struct {
			name   string
			path   string
			form   url.Values
			header map[string]string
		}{
			{"logout without a token", "/ui/logout", url.Values{}, nil},
			{"logout with a wrong token", "/ui/logout", url.Values{"csrf_token": {strings.Repeat("0", 64)}}, nil},
			{"logout from another origin", "/ui/logout", url.Values{"csrf_token": {token}}, map[string]string{"Origin": "http://evil.example"}},
			{"logout from an opaque origin", "/ui/logout", url.Values{"csrf_token": {token}}, map[string]string{"Origin": "null"}},
			{"logout cross-site", "/ui/logout", url.Values{"csrf_token": {token}}, map[string]string{"Sec-Fetch-Site": "cross-site"}},
			{"login without a token", "/ui/login", url.Values{"username": {"supervisor"}, "password": {demo.Password}}, nil},
			{"login from another origin", "/ui/login", url.Values{"username": {"supervisor"}, "password": {demo.Password}},
				map[string]string{"Origin": "http://evil.example"}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				r := c.do("POST", tt.path, tt.form, tt.header)
				if r.StatusCode != http.StatusForbidden || !strings.Contains(r.body, "请求被拒绝") {
					t.Errorf("%d, want 403 with the Chinese page: %.300s", r.StatusCode, r.body)
				}
			})
		}
		if after := tableRows(t, e.app, "refresh_tokens"); after != before {
			t.Errorf("refused requests changed the refresh tokens: %d rows, then %d", before, after)
		}
		if r := c.get("/ui/"); r.StatusCode != http.StatusOK || c.cookie("fv_refresh") != refresh {
			t.Errorf("the session after refused requests: %d", r.StatusCode)
		}
		// With the token, from the console's own origin, the same request works.
		if r := c.do("POST", "/ui/logout", url.Values{"csrf_token": {token}}, map[string]string{"Origin": e.url, "Sec-Fetch-Site": "same-origin"}); r.StatusCode != http.StatusSeeOther {
			t.Errorf("logout with the token: %d", r.StatusCode)
		}
	})

	t.Run("logout ends the login everywhere", func(t *testing.T) {
		c := e.client(t)
		token := c.mustLogin("supervisor")
		refresh := c.cookie("fv_refresh")
		r := c.do("POST", "/ui/logout", nil, map[string]string{"X-CSRF-Token": token})
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/ui/login" {
			t.Fatalf("logout: %d %s", r.StatusCode, r.Header.Get("Location"))
		}
		cleared := map[string]bool{}
		for _, ck := range r.Cookies() {
			if ck.MaxAge < 0 && ck.Value == "" {
				cleared[ck.Name] = true
			}
		}
		if !cleared["fv_access"] || !cleared["fv_refresh"] {
			t.Errorf("logout cleared %v, want fv_access and fv_refresh", cleared)
		}
		if status := e.apiRefresh(t, refresh); status != http.StatusUnauthorized {
			t.Errorf("the old refresh token at /api/v1/auth/refresh: %d, want 401", status)
		}
		if r := c.get("/ui/"); r.StatusCode != http.StatusSeeOther {
			t.Errorf("the console after logout: %d, want a redirect to the login", r.StatusCode)
		}
	})

	t.Run("guessing one's current password is throttled", func(t *testing.T) {
		// The password form asks for the current password; five wrong ones
		// lock the check (as five wrong logins lock a login), and the
		// console says so (429 in Chinese with Retry-After), not a 500.
		// The new password is too short throughout, so nothing changes
		// whatever the check answers.
		c := e.client(t)
		token := c.mustLogin("supervisor")
		path := "/ui/admin/users/" + e.principal(t, "supervisor").UserID.String() + "/password"
		guess := func(current string) page {
			return c.do("POST", path, url.Values{"csrf_token": {token}, "password": {"short"}, "current_password": {current}}, nil)
		}
		for i := range 5 {
			if r := guess(fmt.Sprintf("guess-%d", i)); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, "当前密码不正确") {
				t.Fatalf("guess %d: %d %.600s, want the form with 当前密码不正确", i+1, r.StatusCode, r.body)
			}
		}
		if r := guess(demo.Password); r.StatusCode != http.StatusTooManyRequests || !strings.Contains(r.body, "当前密码输错次数过多") ||
			r.Header.Get("Retry-After") == "" {
			t.Errorf("after five wrong guesses: %d %q, want 429 in Chinese with Retry-After", r.StatusCode, r.body)
		}
	})

	t.Run("concurrent requests at expiry rotate once", func(t *testing.T) {
		c := e.client(t)
		c.mustLogin("supervisor")
		first := c.cookie("fv_refresh")
		e.later(16 * time.Minute) // past the access token's 15 minutes and leeway
		u, _ := url.Parse(e.url + "/ui/")
		cookies := c.http.Jar.Cookies(u)
		const n = 8
		var wg sync.WaitGroup
		statuses, rotated := make([]int, n), make([]string, n)
		for i := range n {
			wg.Go(func() {
				req, _ := http.NewRequest("GET", e.url+"/ui/overview/rates", nil)
				for _, ck := range cookies {
					req.AddCookie(ck)
				}
				res, err := http.DefaultTransport.RoundTrip(req)
				if err != nil {
					t.Error(err)
					return
				}
				res.Body.Close()
				statuses[i] = res.StatusCode
				for _, ck := range res.Cookies() {
					if ck.Name == "fv_refresh" {
						rotated[i] = ck.Value
					}
				}
			})
		}
		wg.Wait()
		for i := range n {
			if statuses[i] != http.StatusOK || rotated[i] == "" || rotated[i] != rotated[0] || rotated[i] == first {
				t.Errorf("request %d: %d, rotated to %q (first request: %q)", i, statuses[i], rotated[i], rotated[0])
			}
		}
		// The login lives on: its new refresh token rotates at the API.
		if status := e.apiRefresh(t, rotated[0]); status != http.StatusOK {
			t.Errorf("the rotated refresh token: %d, want 200 (the login must not have been revoked)", status)
		}
	})

	t.Run("assets are fingerprinted, cached for a year and gzipped", func(t *testing.T) {
		c := e.client(t)
		c.mustLogin("supervisor")
		overview := c.do("GET", "/ui/", nil, map[string]string{"Accept-Encoding": "gzip"})
		if cc := overview.Header.Get("Cache-Control"); cc != "no-store" || overview.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("the overview page: Cache-Control %q, Content-Encoding %q", cc, overview.Header.Get("Content-Encoding"))
		}
		for _, a := range assetURLs(pageText(t, overview)) {
			r := c.do("GET", a, nil, map[string]string{"Accept-Encoding": "gzip"})
			if r.StatusCode != http.StatusOK || r.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" || r.Header.Get("Content-Encoding") != "gzip" {
				t.Errorf("%s: %d, Cache-Control %q, Content-Encoding %q", a, r.StatusCode, r.Header.Get("Cache-Control"), r.Header.Get("Content-Encoding"))
			}
			if plain := c.get(a); plain.Header.Get("Content-Encoding") != "" || len(plain.body) <= len(r.body) {
				t.Errorf("%s without gzip: Content-Encoding %q, %d bytes (gzipped %d)", a, plain.Header.Get("Content-Encoding"), len(plain.body), len(r.body))
			}
		}
		if r := c.get("/ui/assets/console.000000000000.css"); r.StatusCode != http.StatusNotFound {
			t.Errorf("an unknown fingerprint: %d", r.StatusCode)
		}
	})

	t.Run("page weight", func(t *testing.T) {
		// README: the first load (login, then the overview, every asset
		// included) at most 500 KB on the wire; a later page (the map,
		// its data included, the shared assets cached) at most 60 KB.
		c := e.client(t)
		gz := map[string]string{"Accept-Encoding": "gzip"}
		cached := map[string]bool{}
		weigh := func(r page) int {
			n := len(r.body)
			for _, a := range assetURLs(pageText(t, r)) {
				if !cached[a] {
					cached[a] = true
					n += len(c.do("GET", a, nil, gz).body)
				}
			}
			return n
		}
		loginPage := c.do("GET", "/ui/login", nil, gz)
		first := weigh(loginPage)
		signIn := c.do("POST", "/ui/login", url.Values{"username": {"supervisor"}, "password": {demo.Password},
			"csrf_token": {match(t, hiddenToken, pageText(t, loginPage))}}, gz)
		first += len(signIn.body) + weigh(c.do("GET", "/ui/", nil, gz))
		later := weigh(c.do("GET", "/ui/map", nil, gz)) + len(c.do("GET", "/ui/map/data", nil, gz).body)
		t.Logf("first load %.1f KB, the map after it %.1f KB (compressed, on the wire)", float64(first)/1000, float64(later)/1000)
		if first > 500_000 {
			t.Errorf("first load %d bytes, budget 500 KB", first)
		}
		if later > 60_000 {
			t.Errorf("the map after the overview %d bytes, budget 60 KB", later)
		}
	})

	t.Run("a cadre's map holds only their households", func(t *testing.T) {
		c := e.client(t)
		c.mustLogin("cadre01")
		mine := e.householdsOf(t, e.principal(t, "cadre01"))
		if len(mine) == 0 {
			t.Fatal("cadre01 has no households in the demo")
		}
		var data struct {
			Villages []struct {
				ID         uuid.UUID `json:"id"`
				Households int       `json:"households"`
			} `json:"villages"`
		}
		decode(t, c.get("/ui/map/data"), &data)
		if len(data.Villages) != len(mine) {
			t.Errorf("cadre01's map has %d villages, they have households in %d", len(data.Villages), len(mine))
		}
		for _, v := range data.Villages {
			var hs struct {
				Households []struct {
					ID uuid.UUID `json:"id"`
				} `json:"households"`
			}
			decode(t, c.get("/ui/map/data?village="+v.ID.String()), &hs)
			if len(hs.Households) != len(mine[v.ID]) || v.Households != len(mine[v.ID]) {
				t.Errorf("village %s: %d households listed, cadre01 has %d", v.ID, len(hs.Households), len(mine[v.ID]))
			}
			for _, h := range hs.Households {
				if !mine[v.ID][h.ID] {
					t.Errorf("cadre01's map lists household %s, not theirs", h.ID)
				}
			}
		}
		// Another village, by direct URL: the same 404 as no village at all.
		var other uuid.UUID
		for v := range e.householdsOf(t, e.principal(t, "supervisor")) {
			if mine[v] == nil {
				other = v
				break
			}
		}
		for _, path := range []string{"/ui/map/data?village=" + other.String(), "/ui/map/data?village=" + uuid.NewString()} {
			if r := c.get(path); r.StatusCode != http.StatusNotFound || !strings.Contains(r.body, "不在您的查看范围内") {
				t.Errorf("%s: %d %s", path, r.StatusCode, r.body)
			}
		}
		if r := c.get("/ui/map?village=" + other.String()); r.StatusCode != http.StatusNotFound || !strings.Contains(r.body, "未找到") {
			t.Errorf("another village's map page: %d, want the 404 page in Chinese", r.StatusCode)
		}
		if r := c.get("/ui/map/data?village=not-a-uuid"); r.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("a malformed village id: %d, want 422", r.StatusCode)
		}
	})
}

var assetRef = regexp.MustCompile(`(?:href|src)="(/ui/assets/[^"]+)"`)

// assetURLs are the assets a page links.
func assetURLs(html string) []string {
	var out []string
	for _, m := range assetRef.FindAllStringSubmatch(html, -1) {
		out = append(out, m[1])
	}
	return out
}

// pageText is a page's text, whether or not it came compressed.
func pageText(t *testing.T, r page) string {
	t.Helper()
	if r.Header.Get("Content-Encoding") != "gzip" {
		return r.body
	}
	return string(gunzip(t, []byte(r.body)))
}

func decode(t *testing.T, r page, v any) {
	t.Helper()
	if r.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %s", r.Request.URL, r.StatusCode, r.body)
	}
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatal(err)
	}
}
