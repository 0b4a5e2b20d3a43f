package server

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/fieldvisit/fieldvisit/domain"
)

// BodyLimits bound how slowly a client may send a request body. Without
// them a client that declares a body and then sends nothing holds its
// connection, goroutine and buffers for as long as the socket lives. A body
// that breaks them is cut: the answer is 408 when one can still be
// written, nothing the request asked for is stored, and the connection is
// closed.
type BodyLimits struct {
	// Timeout is how long a JSON body may take in all, from the moment
	// the router has its headers. Such bodies are a few KB at most (a
	// household with its members), which a 2G link carries in a second
	// or two, so a phone that is still sending after this is stalled.
	Timeout time.Duration
	// Uploads (photos, chunks, push batches, imports) may take as long as
	// they need while they keep moving: at least ProgressBytes must
	// arrive within every ProgressWindow.
	ProgressBytes  int64
	ProgressWindow time.Duration
	// WriteTimeout is the server's write deadline. An upload may outlast
	// it, so its answer gets it afresh once the body is in.
	WriteTimeout time.Duration
}

// The defaults, chosen for 2G: a JSON body of a few KB arrives in a second
// or two even on GPRS; an upload must move 1 KiB per 30 s (34 B/s, a
// hundred times below GPRS's 3–5 KB/s), and 30 s let a phone ride out
// a dropout of ~15 s, after which TCP's backed-off retransmission may take
// as long again to resume.
const (
	DefaultBodyTimeout    = 10 * time.Second
	DefaultProgressBytes  = 1 << 10
	DefaultProgressWindow = 30 * time.Second
)

func (l BodyLimits) withDefaults() BodyLimits {
	if l.Timeout <= 0 {
		l.Timeout = DefaultBodyTimeout
	}
	if l.ProgressBytes <= 0 {
		l.ProgressBytes = DefaultProgressBytes
	}
	if l.ProgressWindow <= 0 {
		l.ProgressWindow = DefaultProgressWindow
	}
	return l
}

const ctxBodyClock = "fieldvisit.body_clock"

// bodyDeadline puts every request body on the JSON clock; upload routes
// move theirs to the progress rule (uploadBody). A request without a body
// gets no read deadline: the server's background read of the idle
// connection would hit it and cancel a long answer (an export) halfway.
func bodyDeadline(lim BodyLimits, m *metrics) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength == 0 {
			c.Next()
			return
		}
		rc := http.NewResponseController(c.Writer)
		// Only a real connection has a deadline to set (not a recorder in
		// a test, not a hijacked or foreign writer): without one the body
		// is left as it is.
		if err := rc.SetReadDeadline(time.Now().Add(lim.Timeout)); err != nil {
			c.Next()
			return
		}
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		bc := &bodyClock{body: c.Request.Body, rc: rc, lim: lim, log: loggerOf(c), cuts: m.bodyCuts,
			route: route, method: c.Request.Method, requestID: requestID(c), declared: c.Request.ContentLength}
		c.Request.Body = bc
		c.Set(ctxBodyClock, bc)
		c.Next()
	}
}

// uploadBody moves the route's body from the JSON clock to the progress
// rule, for bodies that may rightly take many minutes on 2G.
func uploadBody(c *gin.Context) {
	if v, ok := c.Get(ctxBodyClock); ok {
		v.(*bodyClock).toProgressRule()
	}
	c.Next()
}

// bodyClock reads a request body under its deadline, moving the deadline
// on for an upload each time enough bytes have arrived, and remembers
// whether the deadline cut the body so that the answer is 408 whatever
// the handler made of the read error (a JSON syntax error, a truncated
// image, a failed blob write).
type bodyClock struct {
	body      io.ReadCloser
	rc        *http.ResponseController
	lim       BodyLimits
	log       *slog.Logger
	cuts      *prometheus.CounterVec // by route and rule
	route     string
	method    string
	requestID string
	declared  int64 // Content-Length; -1 when chunked

	upload    bool
	sinceMove int64 // bytes since the upload's deadline last moved
	read      int64
	cut       atomic.Bool
}

func (b *bodyClock) toProgressRule() {
	b.upload = true
	b.sinceMove = 0
	_ = b.rc.SetReadDeadline(time.Now().Add(b.lim.ProgressWindow))
}

func (b *bodyClock) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	b.read += int64(n)
	if b.upload && n > 0 {
		b.sinceMove += int64(n)
		if b.sinceMove >= b.lim.ProgressBytes {
			b.sinceMove = 0
			_ = b.rc.SetReadDeadline(time.Now().Add(b.lim.ProgressWindow))
		}
	}
	switch {
	case err == io.EOF:
		// The body is in. Left standing, the deadline would fire on the
		// server's background read while the handler still works and
		// cancel the request's context.
		_ = b.rc.SetReadDeadline(time.Time{})
		if b.upload && b.lim.WriteTimeout > 0 {
			_ = b.rc.SetWriteDeadline(time.Now().Add(b.lim.WriteTimeout))
		}
	case errors.Is(err, os.ErrDeadlineExceeded):
		if b.cut.CompareAndSwap(false, true) {
			b.cuts.WithLabelValues(b.route, b.rule()).Inc()
			b.log.Info("request body too slow: cut", "request_id", b.requestID, "method", b.method, "route", b.route,
				"rule", b.rule(), "bytes_read", b.read, "content_length", b.declared)
		}
	}
	return n, err
}

func (b *bodyClock) Close() error { return b.body.Close() }

func (b *bodyClock) rule() string {
	if b.upload {
		return "progress"
	}
	return "deadline"
}

// problem is the answer to a body the clock cut.
func (b *bodyClock) problem() *domain.Error {
	if b.upload {
		return &domain.Error{Code: codeTimeout,
			Message:   fmt.Sprintf("the upload stalled: fewer than %d bytes arrived in %s; resume it or send it again", b.lim.ProgressBytes, b.lim.ProgressWindow),
			MessageZH: fmt.Sprintf("上传中断（%s内收到不足%d字节），请续传或重新发送", zhDuration(b.lim.ProgressWindow), b.lim.ProgressBytes)}
	}
	return &domain.Error{Code: codeTimeout,
		Message:   fmt.Sprintf("the request body did not arrive within %s; send the request again", b.lim.Timeout),
		MessageZH: fmt.Sprintf("请求内容未在%s内送达，请重新发送", zhDuration(b.lim.Timeout))}
}

func zhDuration(d time.Duration) string {
	if d >= time.Second && d%time.Second == 0 {
		return fmt.Sprintf("%d秒", d/time.Second)
	}
	return fmt.Sprintf("%d毫秒", d.Milliseconds())
}

// bodyCut is the 408 for a request whose body the clock cut, or nil.
func bodyCut(c *gin.Context) *domain.Error {
	v, ok := c.Get(ctxBodyClock)
	if !ok || !v.(*bodyClock).cut.Load() {
		return nil
	}
	return v.(*bodyClock).problem()
}
