package server

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/fieldvisit/fieldvisit/domain"
)

const (
	ctxRequestID = "fieldvisit.request_id"
	ctxPrincipal = "fieldvisit.principal"
	ctxToken     = "fieldvisit.token" // auth.Token, set by authenticateToken
	ctxLogger    = "fieldvisit.logger"
)

// loggerOf returns the service's logger for this request.
func loggerOf(c *gin.Context) *slog.Logger {
	if l, ok := c.Get(ctxLogger); ok {
		return l.(*slog.Logger)
	}
	return slog.Default()
}

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// withRequestID takes a well-formed X-Request-ID from the caller (the phone
// SDK sends one per attempt) or makes one, and echoes it.
func withRequestID(c *gin.Context) {
	id := c.GetHeader("X-Request-ID")
	if !requestIDPattern.MatchString(id) {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		id = hex.EncodeToString(b)
	}
	c.Set(ctxRequestID, id)
	c.Header("X-Request-ID", id)
	c.Next()
}

func requestID(c *gin.Context) string { return c.GetString(ctxRequestID) }

// metrics are the HTTP series every replica exports.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	bodyCuts *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fieldvisit_http_requests_total", Help: "HTTP requests by route, method and status."},
			[]string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "fieldvisit_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: prometheus.DefBuckets}, []string{"route", "method"}),
		bodyCuts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fieldvisit_http_body_cuts_total",
			Help: "Request bodies cut for arriving too slowly, by route and rule (deadline: JSON; progress: uploads)."}, []string{"route", "rule"}),
	}
	reg.MustRegister(m.requests, m.duration, m.bodyCuts)
	return m
}

// observe logs each request as one JSON line (no bodies, no tokens, no ID
// numbers: only the route template, never the raw query) and records metrics.
func observe(log *slog.Logger, m *metrics) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Set(ctxLogger, log)
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		status := c.Writer.Status()
		elapsed := time.Since(start)
		m.requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(status)).Inc()
		m.duration.WithLabelValues(route, c.Request.Method).Observe(elapsed.Seconds())
		attrs := []any{"request_id", requestID(c), "method", c.Request.Method, "route", route, "status", status,
			"duration_ms", elapsed.Milliseconds(), "bytes", c.Writer.Size()}
		if p, ok := principalOf(c); ok {
			attrs = append(attrs, "user_id", p.UserID.String(), "role", p.Role)
		}
		level := slog.LevelInfo
		if status >= 500 && c.Request.Context().Err() == nil {
			level = slog.LevelError // a client that hung up is not an outage
		}
		log.Log(c.Request.Context(), level, "http request", attrs...)
	}
}

// recoverProblem turns a panic into a logged 500 problem, never a stack
// trace on the wire.
func recoverProblem(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				log.Error("panic in handler", "panic", r, "request_id", requestID(c), "route", c.FullPath())
				writeError(c, &domain.Error{Code: domain.CodeInternal, Message: "an unexpected error occurred", MessageZH: "服务器出现意外错误"})
			}
		}()
		c.Next()
	}
}

// securityHeaders are sent on every answer.
func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	c.Next()
}

// only lets through the callers of the given roles and refuses the others
// with 403 before anything of the request is read. It runs behind
// authenticate.
func only(roles ...string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !slices.Contains(roles, principal(c).Role) {
			writeError(c, domain.Forbidden())
			c.Abort()
			return
		}
		c.Next()
	}
}
