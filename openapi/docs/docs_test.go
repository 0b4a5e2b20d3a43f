package docs

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

const (
	testPrefix  = "/docs"
	testSpecURL = "/openapi.yaml"
)

func get(t *testing.T, h http.Handler, method, target string, header http.Header) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, target, err)
	}
	return res, string(body)
}

func getPage(t *testing.T, h http.Handler, target string) string {
	t.Helper()
	res, body := get(t, h, http.MethodGet, target, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d, want 200", target, res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("GET %s: Content-Type %q, want text/html", target, ct)
	}
	return body
}

var (
	attrURL   = regexp.MustCompile(`(?:src|href)="([^"]*)"`)
	scriptTag = regexp.MustCompile(`(?s)<script([^>]*)>(.*?)</script>`)
)

// referencedAssets gives the src and href URLs of the page that point into
// the prefix's assets.
func referencedAssets(t *testing.T, page, prefix string) []string {
	t.Helper()
	var urls []string
	for _, m := range attrURL.FindAllStringSubmatch(page, -1) {
		u := strings.ReplaceAll(m[1], "&amp;", "&")
		if strings.HasPrefix(u, prefix+"/assets/") {
			urls = append(urls, u)
		}
	}
	if len(urls) == 0 {
		t.Fatal("page references no asset")
	}
	return urls
}

func TestPage(t *testing.T) {
	h := Handler(testPrefix, testSpecURL)
	for _, target := range []string{"/docs", "/docs/"} {
		page := getPage(t, h, target)
		for _, want := range []string{
			`<html lang="zh-CN">`,
			"<title>fieldvisit API 文档</title>",
			`data-spec-url="` + testSpecURL + `"`,
		} {
			if !strings.Contains(page, want) {
				t.Errorf("GET %s: page lacks %q", target, want)
			}
		}
		if strings.Contains(page, "http://") || strings.Contains(page, "https://") {
			t.Errorf("GET %s: page refers to an external host:\n%s", target, page)
		}
		for _, m := range attrURL.FindAllStringSubmatch(page, -1) {
			if u := m[1]; strings.HasPrefix(u, "//") || !strings.HasPrefix(u, "/") {
				t.Errorf("GET %s: URL %q is not an absolute path on this origin", target, u)
			}
		}
	}
}

func TestPageHeaders(t *testing.T) {
	h := Handler(testPrefix, testSpecURL)
	res, _ := get(t, h, http.MethodGet, "/docs", nil)
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self';", "img-src 'self' data:", "connect-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "http") || strings.Contains(csp, "*") {
		t.Errorf("Content-Security-Policy %q allows another origin", csp)
	}
	if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options %q, want nosniff", got)
	}
}

// With script-src 'self' and no 'unsafe-inline', an inline script would not
// run: every script must be an empty element with a src.
func TestPageHasNoInlineScript(t *testing.T) {
	page := getPage(t, Handler(testPrefix, testSpecURL), "/docs")
	scripts := scriptTag.FindAllStringSubmatch(page, -1)
	if len(scripts) == 0 {
		t.Fatal("page has no script")
	}
	for _, s := range scripts {
		if !strings.Contains(s[1], "src=") || strings.TrimSpace(s[2]) != "" {
			t.Errorf("inline script: %s", s[0])
		}
	}
	if regexp.MustCompile(`\son[a-z]+=`).MatchString(page) {
		t.Error("page has an inline event handler")
	}
}

func TestReferencedAssets(t *testing.T) {
	h := Handler(testPrefix, testSpecURL)
	page := getPage(t, h, "/docs")
	seen := map[string]bool{}
	for _, u := range referencedAssets(t, page, testPrefix) {
		res, body := get(t, h, http.MethodGet, u, nil)
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d, want 200", u, res.StatusCode)
			continue
		}
		if body == "" {
			t.Errorf("GET %s: empty body", u)
		}
		ct := res.Header.Get("Content-Type")
		name := u[strings.LastIndex(u, "/")+1 : strings.Index(u, "?")]
		seen[name] = true
		var want string
		switch {
		case strings.HasSuffix(name, ".js"):
			want = "text/javascript"
		case strings.HasSuffix(name, ".css"):
			want = "text/css"
		case strings.HasSuffix(name, ".png"):
			want = "image/png"
		default:
			t.Errorf("page references unexpected asset %s", u)
			continue
		}
		if !strings.HasPrefix(ct, want) {
			t.Errorf("GET %s: Content-Type %q, want %s", u, ct, want)
		}
		if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") || !strings.Contains(cc, "immutable") {
			t.Errorf("GET %s: Cache-Control %q, want a long immutable one", u, cc)
		}
		if res.Header.Get("ETag") == "" {
			t.Errorf("GET %s: no ETag", u)
		}
	}
	for _, name := range []string{"swagger-ui-bundle.js", "swagger-ui.css", "init.js", "favicon-32x32.png"} {
		if !seen[name] {
			t.Errorf("page does not reference %s", name)
		}
	}
}

func TestInitScript(t *testing.T) {
	h := Handler(testPrefix, testSpecURL)
	_, js := get(t, h, http.MethodGet, "/docs/assets/init.js", nil)
	for _, want := range []string{"SwaggerUIBundle(", "data-spec-url", "validatorUrl: null", "deepLinking: true", "queryConfigEnabled: false"} {
		if !strings.Contains(js, want) {
			t.Errorf("init.js lacks %q", want)
		}
	}
	if strings.Contains(js, "http://") || strings.Contains(js, "https://") {
		t.Error("init.js refers to an external host")
	}
}

func TestAssetCaching(t *testing.T) {
	h := Handler(testPrefix, testSpecURL)
	// Without the matching version the browser must revalidate.
	for _, target := range []string{"/docs/assets/swagger-ui.css", "/docs/assets/swagger-ui.css?v=stale"} {
		res, _ := get(t, h, http.MethodGet, target, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d", target, res.StatusCode)
		}
		if cc := res.Header.Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q, want no-cache", target, cc)
		}
	}
	res, _ := get(t, h, http.MethodGet, "/docs/assets/swagger-ui.css", nil)
	etag := res.Header.Get("ETag")
	res, body := get(t, h, http.MethodGet, "/docs/assets/swagger-ui.css", http.Header{"If-None-Match": {etag}})
	if res.StatusCode != http.StatusNotModified || body != "" {
		t.Errorf("conditional GET: status %d, body %d bytes; want 304 and none", res.StatusCode, len(body))
	}
}

func TestOtherAssets(t *testing.T) {
	h := Handler(testPrefix, testSpecURL)
	for _, name := range []string{"LICENSE", "NOTICE", "VERSION"} {
		res, body := get(t, h, http.MethodGet, "/docs/assets/"+name, nil)
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
			t.Errorf("GET %s: status %d, Content-Type %q", name, res.StatusCode, res.Header.Get("Content-Type"))
		}
		if name == "VERSION" && !regexp.MustCompile(`^5\.\d+\.\d+\n$`).MatchString(body) {
			t.Errorf("VERSION is %q, want a swagger-ui-dist 5.x version", body)
		}
	}
}

// No source map, or anything else not needed to render, is embedded.
func TestNoSourceMaps(t *testing.T) {
	err := fs.WalkDir(assetFS, "assets", func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".map") {
			t.Errorf("embedded source map %s", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestNotFound(t *testing.T) {
	h := Handler(testPrefix, testSpecURL)
	for _, target := range []string{
		"/docs/assets/nope.js",
		"/docs/assets/",
		"/docs/assets",
		"/docs/assets/swagger-ui-bundle.js.map",
		"/docs/assets/../docs.go",
		"/docs/assets/%2e%2e/index.html",
		"/docs/index.html",
		"/docs/other",
		"/elsewhere",
	} {
		res, _ := get(t, h, http.MethodGet, target, nil)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", target, res.StatusCode)
		}
	}
}

func TestMethods(t *testing.T) {
	h := Handler(testPrefix, testSpecURL)
	for _, target := range []string{"/docs", "/docs/", "/docs/assets/swagger-ui-bundle.js"} {
		for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions} {
			res, _ := get(t, h, method, target, nil)
			if res.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: status %d, want 405", method, target, res.StatusCode)
			}
			if allow := res.Header.Get("Allow"); allow != "GET, HEAD" {
				t.Errorf("%s %s: Allow %q, want \"GET, HEAD\"", method, target, allow)
			}
		}
		res, body := get(t, h, http.MethodHead, target, nil)
		if res.StatusCode != http.StatusOK || body != "" {
			t.Errorf("HEAD %s: status %d, body %d bytes; want 200 and none", target, res.StatusCode, len(body))
		}
		if res.Header.Get("Content-Length") == "" {
			t.Errorf("HEAD %s: no Content-Length", target)
		}
	}
}

func TestPrefixForms(t *testing.T) {
	for _, prefix := range []string{"/api/docs", "/api/docs/", "api/docs"} {
		h := Handler(prefix, "/api/openapi.yaml")
		page := getPage(t, h, "/api/docs")
		if !strings.Contains(page, `data-spec-url="/api/openapi.yaml"`) {
			t.Errorf("prefix %q: page lacks the spec URL", prefix)
		}
		for _, u := range referencedAssets(t, page, "/api/docs") {
			if res, _ := get(t, h, http.MethodGet, u, nil); res.StatusCode != http.StatusOK {
				t.Errorf("prefix %q: GET %s: status %d", prefix, u, res.StatusCode)
			}
		}
	}
}

// The spec URL is written into an attribute; it must not break out of it.
func TestSpecURLEscaped(t *testing.T) {
	page := getPage(t, Handler(testPrefix, `/x"><script>alert(1)</script>`), "/docs")
	if strings.Contains(page, "<script>alert") {
		t.Errorf("spec URL not escaped:\n%s", page)
	}
}

// Mounted on a ServeMux as the package doc says.
func TestServeMux(t *testing.T) {
	mux := http.NewServeMux()
	h := Handler(testPrefix, testSpecURL)
	mux.Handle("/docs", h)
	mux.Handle("/docs/", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, p := range []string{"/docs", "/docs/", "/docs/assets/init.js"} {
		res, err := srv.Client().Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d", p, res.StatusCode)
		}
	}
}
