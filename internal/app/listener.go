package app

import (
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/net/netutil"
)

// defaultMaxConnections bounds the connections served at once. A county's
// phones (a few thousand cadres, syncing in bursts at morning and evening)
// and its offices hold a few hundred at peak; each costs a goroutine, its
// buffers and a file descriptor, and the body rules let a slow client
// keep one for as long as it trickles, so a crowd of them must not grow
// without bound.
const defaultMaxConnections = 2048

// capWarnEvery spaces out the log line of a full server: under a flood it
// would otherwise be written for every connection.
const capWarnEvery = time.Minute

// connMetrics are the series of the connection cap.
type connMetrics struct {
	open, max prometheus.Gauge
	atCap     prometheus.Counter
}

func newConnMetrics() *connMetrics {
	return &connMetrics{
		open: prometheus.NewGauge(prometheus.GaugeOpts{Name: "fieldvisit_http_connections_open",
			Help: "Client connections accepted and not yet closed."}),
		max: prometheus.NewGauge(prometheus.GaugeOpts{Name: "fieldvisit_http_connections_max",
			Help: "The cap on client connections (--max-connections)."}),
		atCap: prometheus.NewCounter(prometheus.CounterOpts{Name: "fieldvisit_http_connections_at_cap_total",
			Help: "Times every connection slot was taken; new connections then wait to be accepted until one closes."}),
	}
}

func (m *connMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.open, m.max, m.atCap}
}

// cappedListener serves at most max connections at once
// (netutil.LimitListener). Past the cap new connections are not refused:
// they wait in the kernel's accept queue until one closes, so a phone
// that connects in a crowd gets a late answer rather than an error.
type cappedListener struct {
	net.Listener
	max      int64
	open     atomic.Int64
	metrics  *connMetrics
	log      *slog.Logger
	lastWarn atomic.Int64 // unix nanoseconds
	missed   atomic.Int64 // times at the cap since the last warning line
}

func capConnections(ln net.Listener, max int, m *connMetrics, log *slog.Logger) net.Listener {
	m.max.Set(float64(max))
	return &cappedListener{Listener: netutil.LimitListener(ln, max), max: int64(max), metrics: m, log: log}
}

func (l *cappedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.metrics.open.Inc()
	if l.open.Add(1) >= l.max {
		l.metrics.atCap.Inc()
		l.warnAtCap()
	}
	return &countedConn{Conn: c, l: l}, nil
}

func (l *cappedListener) warnAtCap() {
	times := l.missed.Add(1)
	now, last := time.Now().UnixNano(), l.lastWarn.Load()
	if now-last < int64(capWarnEvery) || !l.lastWarn.CompareAndSwap(last, now) {
		return
	}
	l.missed.Add(-times)
	l.log.Warn("connection cap reached: new connections wait until one closes; raise --max-connections if this is ordinary load",
		"max_connections", l.max, "times_at_cap", times)
}

// countedConn gives its slot back once, however often it is closed.
type countedConn struct {
	net.Conn
	l    *cappedListener
	once sync.Once
}

func (c *countedConn) Close() error {
	// Counted down before the slot is freed, so the gauge never shows
	// more than the cap.
	c.once.Do(func() {
		c.l.open.Add(-1)
		c.l.metrics.open.Dec()
	})
	return c.Conn.Close()
}
