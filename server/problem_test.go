package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/fieldvisit/fieldvisit/domain"
)

// TestProblemMapping is the kinds table as a specification: each domain
// error code answers its HTTP status and problem type, with the headers a
// client needs to act on it; an error that is not a domain error is a
// 500 whose text says nothing of the cause.
func TestProblemMapping(t *testing.T) {
	secret := errors.New("pq: password authentication failed for user \"fieldvisit\" at 10.0.0.5")
	cases := []struct {
		name       string
		err        error
		status     int
		problem    string
		header     string // a header the answer must carry, with value
		value      string
		hiddenText string // text that must not reach the client
	}{
		{"invalid names its fields", domain.Invalid(domain.FieldError{Field: "/phone", Reason: "invalid_format", Message: "bad", MessageZH: "格式不正确"}),
			http.StatusUnprocessableEntity, "invalid", "", "", ""},
		{"not found", domain.NotFound("household"), http.StatusNotFound, "not_found", "", "", ""},
		{"stale version", domain.Stale("household", "农户"), http.StatusConflict, "conflict", "", "", ""},
		{"lost race", domain.LostRace(secret), http.StatusConflict, "conflict", "Retry-After", "1", "10.0.0.5"},
		{"forbidden", domain.Forbidden(), http.StatusForbidden, "forbidden", "", "", ""},
		{"unauthorized asks for a bearer token", domain.Unauthorized("expired"), http.StatusUnauthorized, "unauthorized",
			"WWW-Authenticate", `Bearer realm="fieldvisit"`, ""},
		{"rate limited says when", &domain.Error{Code: domain.CodeRateLimited, Message: "slow down", RetryAfter: 90 * time.Second},
			http.StatusTooManyRequests, "rate_limited", "Retry-After", "90", ""},
		{"unavailable says when, even without a hint", domain.Unavailable("database", 0, secret), http.StatusServiceUnavailable, "unavailable",
			"Retry-After", "5", "10.0.0.5"},
		{"a fraction of a second rounds up", domain.Unavailable("photo store", 1500*time.Millisecond, nil), http.StatusServiceUnavailable,
			"unavailable", "Retry-After", "2", ""},
		{"too large", &domain.Error{Code: domain.CodeTooLarge, Message: "too big"}, http.StatusRequestEntityTooLarge, "too_large", "", "", ""},
		{"unsupported media type", &domain.Error{Code: domain.CodeUnsupported, Message: "not an image"}, http.StatusUnsupportedMediaType,
			"unsupported_media_type", "", "", ""},
		{"malformed", malformed("body", "malformed_json", "bad JSON", "JSON格式错误"), http.StatusBadRequest, "malformed", "", "", ""},
		{"a foreign error is a 500 that reveals nothing", secret, http.StatusInternalServerError, "internal", "", "", "10.0.0.5"},
		{"an unknown code is a 500", &domain.Error{Code: "no_such_code", Message: "?"}, http.StatusInternalServerError, "internal", "", "", ""},
	}
	gin.SetMode(gin.ReleaseMode)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := gin.New()
			r.GET("/x", func(c *gin.Context) { writeError(c, tc.err) })
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("Content-Type %q", ct)
			}
			var p Problem
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			if p.Type != ProblemType(domain.Code(tc.problem)) || p.Status != tc.status || p.TitleZH == "" {
				t.Fatalf("problem %+v, want type %s", p, tc.problem)
			}
			if tc.header != "" && rec.Header().Get(tc.header) != tc.value {
				t.Fatalf("%s: %q, want %q", tc.header, rec.Header().Get(tc.header), tc.value)
			}
			if tc.hiddenText != "" && strings.Contains(rec.Body.String(), tc.hiddenText) {
				t.Fatalf("the answer reveals the cause: %s", rec.Body)
			}
			if de := (*domain.Error)(nil); errors.As(tc.err, &de) && len(de.Fields) > 0 && (len(p.Errors) != len(de.Fields) || p.Errors[0].Field != de.Fields[0].Field) {
				t.Fatalf("field errors %+v, want %+v", p.Errors, de.Fields)
			}
		})
	}
}

// TestProblemToHEADHasNoBody: a HEAD request's error is its status and
// headers only (RFC 9110 §9.3.2).
func TestProblemToHEADHasNoBody(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HEAD("/x", func(c *gin.Context) { writeError(c, domain.NotFound("upload")) })
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("HEAD", "/x", nil))
	if rec.Code != http.StatusNotFound || rec.Body.Len() != 0 || rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("HEAD: %d, %d body bytes, %q", rec.Code, rec.Body.Len(), rec.Header().Get("Content-Type"))
	}
}
