package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/Shopify/toxiproxy/v2/stream"
	"github.com/Shopify/toxiproxy/v2/toxics"
	"github.com/rs/zerolog"
	zlog "github.com/rs/zerolog/log"
)

// LinkProfile is a phone's mobile link as Shopify's toxiproxy makes it:
// every phone talks to the server through its own proxy (its own listening
// port), whose toxics shape each direction.
type LinkProfile struct {
	Name string
	// BytesPerSecond is the bandwidth of each direction (toxiproxy's
	// bandwidth toxic counts in units of 1,000 bytes per second, so it must
	// be a multiple of 1,000); 0 leaves the link unshaped.
	BytesPerSecond int64
	// Latency is added to each direction: the round trip gains twice it.
	Latency, Jitter time.Duration
	// AnswerLost is the share of connections whose first answer from the
	// server is swallowed and the connection reset (reset_peer,
	// downstream): the server got the request and committed, the phone
	// never hears. RequestStalled is the share whose upload is swallowed
	// and the connection closed once the phone stops sending (timeout,
	// upstream).
	AnswerLost, RequestStalled float32
	// Slices cuts the stream into small pieces with small pauses (the
	// slicer toxic), as a radio link delivers it.
	Slices bool
}

// Link profiles of `fieldvisit sim --link`.
var (
	// Link2G is a GPRS/EDGE link from a village: 64 kbit/s each way,
	// 300 ms round trip, ~5 % of connections cut.
	Link2G = LinkProfile{Name: "2g", BytesPerSecond: 8_000, Latency: 150 * time.Millisecond, Jitter: 30 * time.Millisecond,
		AnswerLost: 0.03, RequestStalled: 0.02, Slices: true}
	// Link3G is a weak 3G link: 1 Mbit/s each way, 100 ms round trip, ~1 %
	// of connections cut.
	Link3G = LinkProfile{Name: "3g", BytesPerSecond: 125_000, Latency: 50 * time.Millisecond, Jitter: 10 * time.Millisecond,
		AnswerLost: 0.006, RequestStalled: 0.004, Slices: true}
	// LinkGood is the proxy with no toxics: the same path, nothing shaped.
	LinkGood = LinkProfile{Name: "good"}
)

// LinkProfileNamed returns the profile called name (2g, 3g or good).
func LinkProfileNamed(name string) (LinkProfile, error) {
	for _, p := range []LinkProfile{Link2G, Link3G, LinkGood} {
		if p.Name == name {
			return p, nil
		}
	}
	return LinkProfile{}, fmt.Errorf("sim: unknown link %q (2g, 3g or good)", name)
}

// Floor is the least time the link needs to carry up bytes to the server
// and down bytes back when it never idles: each direction's bytes over
// that direction's bandwidth. A request and its answer take turns on a
// phone's single connection, so the two directions add up. An unshaped
// link has no floor (0).
func (p LinkProfile) Floor(up, down int64) time.Duration {
	if p.BytesPerSecond <= 0 {
		return 0
	}
	return time.Duration(float64(up+down) / float64(p.BytesPerSecond) * float64(time.Second))
}

// proxyLink is one phone's proxy in front of the server.
type proxyLink struct {
	profile LinkProfile
	proxy   *toxiproxy.Proxy
	up      *atomic.Int64 // bytes the link carried to the server
	down    *atomic.Int64 // bytes the link carried back
	meters  []string
}

// Addr is where the phone connects ("127.0.0.1:port").
func (l *proxyLink) Addr() string { return l.proxy.Listen }

// Moved is what the link carried each way since it opened.
func (l *proxyLink) Moved() (up, down int64) { return l.up.Load(), l.down.Load() }

// linkSet runs the phones' proxies in this process.
type linkSet struct {
	api      *toxiproxy.ApiServer
	upstream string
	mu       sync.Mutex
	links    []*proxyLink
}

func newLinkSet(server string) (*linkSet, error) {
	u, err := url.Parse(server)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("sim: --link needs a server URL with a host: %q", server)
	}
	host := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	// The toxics log every interruption through zerolog's global logger;
	// nothing else in this program uses it.
	zlog.Logger = zerolog.Nop()
	return &linkSet{api: toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop()), upstream: host}, nil
}

// open starts a phone's proxy on a port of its own, with no toxics yet
// (the phone is in the office, on the county's network).
func (s *linkSet) open(name string, p LinkProfile) (*proxyLink, error) {
	px := toxiproxy.NewProxy(s.api, name, "127.0.0.1:0", s.upstream)
	if err := px.Start(); err != nil {
		return nil, fmt.Errorf("sim: %s's link: %w", name, err)
	}
	l := &proxyLink{profile: p, proxy: px, up: &atomic.Int64{}, down: &atomic.Int64{}}
	s.mu.Lock()
	s.links = append(s.links, l)
	s.mu.Unlock()
	return l, nil
}

// goField puts the profile's toxics on the link and starts counting what
// it carries: from here the phone is in the village.
func (l *proxyLink) goField() error {
	l.up.Store(0)
	l.down.Store(0)
	for _, t := range l.toxics() {
		b, err := json.Marshal(t)
		if err != nil {
			return err
		}
		if _, err := l.proxy.Toxics.AddToxicJson(bytes.NewReader(b)); err != nil {
			return fmt.Errorf("sim: %s's link: toxic %s: %w", l.proxy.Name, t.Name, err)
		}
	}
	return nil
}

// goHome takes the toxics off (the phone is back on a good network).
func (l *proxyLink) goHome() { l.proxy.Toxics.ResetToxics(context.Background()) }

func (l *proxyLink) close() {
	l.proxy.Stop()
	for _, m := range l.meters {
		meters.Delete(m)
	}
}

func (s *linkSet) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.links {
		l.close()
	}
}

// toxicSpec is a toxic as toxiproxy's API reads it.
type toxicSpec struct {
	Name       string  `json:"name"`
	Type       string  `json:"type"`
	Stream     string  `json:"stream"`
	Toxicity   float32 `json:"toxicity"`
	Attributes any     `json:"attributes"`
}

// toxics are the link's toxics in chain order for each direction: delay,
// then the bandwidth, then the meter (so it counts what the radio carried,
// cut connections included), then slices, then the cuts.
func (l *proxyLink) toxics() []toxicSpec {
	p := l.profile
	var ts []toxicSpec
	for _, dir := range []string{"upstream", "downstream"} {
		if p.Latency > 0 {
			ts = append(ts, toxicSpec{Name: "latency_" + dir, Type: "latency", Stream: dir, Toxicity: 1,
				Attributes: map[string]int64{"latency": p.Latency.Milliseconds(), "jitter": p.Jitter.Milliseconds()}})
		}
		if p.BytesPerSecond > 0 {
			ts = append(ts, toxicSpec{Name: "bandwidth_" + dir, Type: pacedToxicType, Stream: dir, Toxicity: 1,
				Attributes: map[string]int64{"bytes_per_second": p.BytesPerSecond}})
		}
		counter := l.up
		if dir == "downstream" {
			counter = l.down
		}
		meter := fmt.Sprintf("%p/%s", l, dir)
		meters.Store(meter, counter)
		l.meters = append(l.meters, meter)
		ts = append(ts, toxicSpec{Name: "meter_" + dir, Type: meterToxicType, Stream: dir, Toxicity: 1,
			Attributes: map[string]string{"meter": meter}})
		if p.Slices {
			ts = append(ts, toxicSpec{Name: "slicer_" + dir, Type: "slicer", Stream: dir, Toxicity: 1,
				Attributes: map[string]int{"average_size": 600, "size_variation": 400, "delay": 2000}})
		}
		switch {
		case dir == "downstream" && p.AnswerLost > 0:
			ts = append(ts, toxicSpec{Name: "reset_peer_" + dir, Type: "reset_peer", Stream: dir, Toxicity: p.AnswerLost,
				Attributes: map[string]int64{"timeout": 0}})
		case dir == "upstream" && p.RequestStalled > 0:
			ts = append(ts, toxicSpec{Name: "timeout_" + dir, Type: "timeout", Stream: dir, Toxicity: p.RequestStalled,
				Attributes: map[string]int64{"timeout": 2000}})
		}
	}
	return ts
}

// The paced toxic is the link's bandwidth. Toxiproxy's own bandwidth toxic
// waits 100 ms after each 100-ms piece has been handed on, so every late
// timer wake-up and every wait for the next toxic adds up: on this 2-CPU
// machine at load ~20 its 2G links carried ~4.9 of their 8 kB/s (B9, run
// 1), and phones measured against the nominal floor looked 1.6× slow for
// the proxy's sake. The paced toxic sends each piece at its due time on an
// absolute schedule (bytes so far over the rate, from when the link was
// last idle), so a late wake-up is made up by the next wait being shorter:
// never faster than the rate, and as fast as long as the proxy gets CPU at
// all. An idle link earns no credit.
const pacedToxicType = "fieldvisit_paced_bandwidth"

// pacedPiece is how much of the stream the paced toxic hands on at once:
// a tenth of a second of the link.
const pacedPiece = 10

type pacedToxic struct {
	BytesPerSecond int64 `json:"bytes_per_second"`
}

func (t *pacedToxic) Pipe(stub *toxics.ToxicStub) {
	piece := max(1, int(t.BytesPerSecond/pacedPiece))
	var due time.Time // when the link has carried everything handed on so far
	for {
		select {
		case <-stub.Interrupt:
			return
		case c := <-stub.Input:
			if c == nil {
				stub.Close()
				return
			}
			if now := time.Now(); due.Before(now) {
				due = now
			}
			for data := c.Data; len(data) > 0; {
				n := min(len(data), piece)
				due = due.Add(time.Duration(int64(n) * int64(time.Second) / t.BytesPerSecond))
				if wait := time.Until(due); wait > 0 {
					select {
					case <-time.After(wait):
					case <-stub.Interrupt:
						_ = stub.WriteOutput(&stream.StreamChunk{Data: data, Timestamp: c.Timestamp}, 5*time.Second) // nothing dropped on the floor
						return
					}
				}
				stub.Output <- &stream.StreamChunk{Data: data[:n], Timestamp: c.Timestamp}
				data = data[n:]
			}
		}
	}
}

// The meter toxic counts the bytes that pass it. Toxiproxy builds a toxic
// from its JSON attributes, so the counter is found by name.
const meterToxicType = "fieldvisit_meter"

var meters sync.Map // name → *atomic.Int64

type meterToxic struct {
	Meter string `json:"meter"`
}

func (t *meterToxic) Pipe(stub *toxics.ToxicStub) {
	var n *atomic.Int64
	if v, ok := meters.Load(t.Meter); ok {
		n = v.(*atomic.Int64)
	}
	for {
		select {
		case <-stub.Interrupt:
			return
		case c := <-stub.Input:
			if c == nil {
				stub.Close()
				return
			}
			if n != nil {
				n.Add(int64(len(c.Data)))
			}
			stub.Output <- c
		}
	}
}

func init() {
	toxics.Register(meterToxicType, new(meterToxic))
	toxics.Register(pacedToxicType, new(pacedToxic))
}

// LinkUse is what one phone's field sync moved and how long it took.
type LinkUse struct {
	Device         string
	Up, Down       int64
	Floor, Took    time.Duration
	Photos         int   // photos it uploaded
	PhotoBytesSent int64 // photo bytes it sent, resends included
	RecordsStored  time.Duration
}

// Ratio is took over floor (0 without a floor).
func (u LinkUse) Ratio() float64 {
	if u.Floor <= 0 {
		return 0
	}
	return u.Took.Seconds() / u.Floor.Seconds()
}

// slowest is the use with the largest took/floor ratio.
func slowest(uses []LinkUse) (LinkUse, bool) {
	if len(uses) == 0 {
		return LinkUse{}, false
	}
	s := append([]LinkUse(nil), uses...)
	sort.SliceStable(s, func(i, j int) bool { return s[i].Ratio() > s[j].Ratio() })
	return s[0], true
}

// linkTable is one line per phone, slowest relative to its floor first.
func linkTable(uses []LinkUse) string {
	s := append([]LinkUse(nil), uses...)
	sort.SliceStable(s, func(i, j int) bool { return s[i].Ratio() > s[j].Ratio() })
	var b strings.Builder
	for _, u := range s {
		fmt.Fprintf(&b, "  %-12s up=%-9d down=%-8d photos=%-3d photo_bytes_sent=%-9d records_in=%5.1fs floor=%6.1fs took=%6.1fs ratio=%.3f\n",
			u.Device, u.Up, u.Down, u.Photos, u.PhotoBytesSent, u.RecordsStored.Seconds(), u.Floor.Seconds(), u.Took.Seconds(), u.Ratio())
	}
	return b.String()
}
