// Package contract validates real HTTP exchanges against openapi.yaml in
// tests: a test that drives the server checks each answer with
// CheckResponse (and, when it sends well-formed input, each request with
// CheckRequest), so the document the binary serves cannot drift from what
// the handlers do.
//
// The document is openapi.Spec, the same bytes the server embeds. It is an
// OpenAPI 3.1 document; kin-openapi (v0.153.0) reads the version from its
// `openapi` field and then validates the document, and every request and
// response body, with its JSON Schema 2020-12 validator.
package contract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/fieldvisit/fieldvisit/openapi"
)

// uuidPattern is what the server's uuid.Parse accepts in the canonical
// 36-character form (any version), for the "uuid" format kin-openapi does
// not define by itself.
const uuidPattern = `^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`

// Validator checks requests and responses against the embedded spec.
// It is safe for concurrent use by parallel tests.
type Validator struct {
	doc    *openapi3.T
	router routers.Router
}

// Route is one operation of the document.
type Route struct {
	Method string // upper case, e.g. "GET"
	Path   string // as in the document, e.g. "/api/v1/households/{id}"
}

var (
	loadOnce sync.Once
	loaded   *Validator
	loadErr  error
)

// New returns a Validator for openapi.Spec. The document is parsed and
// validated once per test binary; if it is not a valid OpenAPI 3.1
// document, or cannot be routed, the test fails.
func New(tb testing.TB) *Validator {
	tb.Helper()
	loadOnce.Do(func() { loaded, loadErr = load(openapi.Spec) })
	if loadErr != nil {
		tb.Fatalf("contract: openapi.yaml: %v", loadErr)
		return nil
	}
	return loaded
}

func load(spec []byte) (*Validator, error) {
	loader := openapi3.NewLoader()
	loader.Context = context.Background()
	doc, err := loader.LoadFromData(spec)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		return nil, fmt.Errorf("openapi %q: want a 3.1 document", doc.OpenAPI)
	}
	// Validate turns on 3.1 (JSON Schema 2020-12) rules by itself, from
	// the document's version.
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("invalid document: %w", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("router: %w", err)
	}
	return &Validator{doc: doc, router: router}, nil
}

// Doc returns the parsed document. Callers must not modify it.
func (v *Validator) Doc() *openapi3.T { return v.doc }

// Routes lists every operation of the document, sorted by path and method.
func (v *Validator) Routes() []Route {
	var out []Route
	for path, item := range v.doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, Route{Method: strings.ToUpper(method), Path: path})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}

// options are the filter settings of every check. Authentication is not the
// document's business here (the server's tests check it); defaults are not
// written into the request; every response status must be documented.
func options() *openapi3filter.Options {
	return &openapi3filter.Options{
		AuthenticationFunc:                openapi3filter.NoopAuthenticationFunc,
		IncludeResponseStatus:             true,
		RejectWhenRequestBodyNotSpecified: true,
		SkipSettingDefaults:               true,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{
			openapi3.WithStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(uuidPattern)),
		},
	}
}

// CheckResponse validates one answer to req: the operation must exist in
// the document, status must be documented for it, the documented headers
// must be present and well-formed, and a JSON or problem+json body must
// match its schema. Other bodies (YAML, HTML, Prometheus text) are checked
// only for a documented Content-Type. req's body is not read.
// Failures are reported with tb.Errorf.
func (v *Validator) CheckResponse(tb testing.TB, req *http.Request, status int, header http.Header, body []byte) {
	tb.Helper()
	if header == nil {
		header = http.Header{}
	}
	route, params, err := v.findRoute(req)
	if err != nil {
		tb.Errorf("contract: %v", err)
		return
	}
	what := fmt.Sprintf("%s %s → %d", req.Method, route.Path, status)
	resp := route.Operation.Responses.Status(status)
	if resp == nil {
		resp = route.Operation.Responses.Default()
	}
	if resp == nil || resp.Value == nil {
		tb.Errorf("contract: %s: status %d is not documented for this operation (documented: %s)", what, status, documented(route.Operation))
		return
	}
	ct := header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	content := resp.Value.Content
	switch {
	case len(content) == 0 && len(body) > 0:
		tb.Errorf("contract: %s: the document says no body, got %d bytes of %q: %s", what, len(body), ct, excerpt(string(body)))
		return
	case len(content) > 0 && req.Method != http.MethodHead && content.Get(ct) == nil:
		tb.Errorf("contract: %s: Content-Type %q is not documented (documented: %s)", what, ct, strings.Join(mediaTypes(content), ", "))
		return
	}

	opts := options()
	if !isJSON(mt) {
		opts.ExcludeResponseBody = true
	}
	r := req.Clone(context.Background())
	r.Body = http.NoBody
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: opts},
		Status:                 status,
		Header:                 header,
		Options:                opts,
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		tb.Errorf("contract: %s: response does not match openapi.yaml: %s\nbody: %s", what, excerpt(err.Error()), excerpt(string(body)))
	}
}

// CheckRequest validates a request the test is about to send (or sent):
// the operation must exist, and its path and query parameters and its
// body must match the document. body is the request body (req.Body is
// neither read nor replaced). Use it only for well-formed input: a test
// that deliberately sends a bad request should not call it.
// Failures are reported with tb.Errorf.
func (v *Validator) CheckRequest(tb testing.TB, req *http.Request, body []byte) {
	tb.Helper()
	r := req.Clone(context.Background())
	if len(body) == 0 {
		r.Body, r.ContentLength = http.NoBody, 0
	} else {
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	}
	route, params, err := v.findRoute(r)
	if err != nil {
		tb.Errorf("contract: %v", err)
		return
	}
	opts := options()
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: opts}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		tb.Errorf("contract: %s %s: request does not match openapi.yaml: %s\nbody: %s", req.Method, route.Path, excerpt(err.Error()), excerpt(string(body)))
	}
}

func (v *Validator) findRoute(req *http.Request) (*routers.Route, map[string]string, error) {
	route, params, err := v.router.FindRoute(req)
	switch {
	case errors.Is(err, routers.ErrMethodNotAllowed):
		return nil, nil, fmt.Errorf("%s %s: the document has the path but not this method", req.Method, req.URL.Path)
	case err != nil:
		return nil, nil, fmt.Errorf("%s %s: no such operation in openapi.yaml: %v", req.Method, req.URL.Path, err)
	}
	return route, params, nil
}

// isJSON reports whether a media type is JSON (application/json or a
// +json suffix such as application/problem+json).
func isJSON(mt string) bool {
	mt = strings.ToLower(mt)
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

func documented(op *openapi3.Operation) string {
	codes := make([]string, 0, op.Responses.Len())
	for code := range op.Responses.Map() {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	return strings.Join(codes, ", ")
}

func mediaTypes(c openapi3.Content) []string {
	out := make([]string, 0, len(c))
	for k := range c {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// excerpt shortens s for a failure message, cutting at a character boundary.
func excerpt(s string) string {
	const max = 4000
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
