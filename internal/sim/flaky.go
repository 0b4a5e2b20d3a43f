package sim

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Faults are the per-request probabilities of what a weak rural link does.
// Their sum must stay below 1; the rest of the requests go through intact.
type Faults struct {
	DropBefore float64 // the connection fails before the request reaches the server
	DropAfter  float64 // the server gets the request (and commits); the answer is lost
	Timeout    float64 // the phone gives up waiting; half the time the server got it
	Duplicate  float64 // the request arrives twice (a proxy's retry), at once or one after the other
	Kill       float64 // pushes only: the app is killed right after the request went out
}

// DefaultFaults are harsh enough that most syncs meet at least one fault.
func DefaultFaults() Faults {
	return Faults{DropBefore: 0.08, DropAfter: 0.08, Timeout: 0.05, Duplicate: 0.06, Kill: 0.04}
}

// FaultCounts counts the faults injected.
type FaultCounts struct {
	Requests, DropBefore, DropAfter, Timeouts, Duplicates, Kills atomic.Int64
}

// Flaky is an http.RoundTripper that injects Faults, seeded. While Off is
// set it passes everything through (the good link at the end of a trip).
type Flaky struct {
	Base   http.RoundTripper
	Faults Faults
	Counts *FaultCounts
	// OnKill is called when a Kill fault fires, after the request reached
	// the server and before the error returns; the simulation abandons the
	// client there, as if the process had died.
	OnKill func()
	// TimeoutAfter is how long a timed-out request hangs first (default 30 ms).
	TimeoutAfter time.Duration
	Off          atomic.Bool

	mu  sync.Mutex
	rnd *rand.Rand
}

// NewFlaky makes a Flaky link with its own random stream.
func NewFlaky(base http.RoundTripper, f Faults, seed uint64, counts *FaultCounts) *Flaky {
	if base == nil {
		base = http.DefaultTransport
	}
	if counts == nil {
		counts = &FaultCounts{}
	}
	return &Flaky{Base: base, Faults: f, Counts: counts, rnd: rand.New(rand.NewPCG(seed, seed*31+7))}
}

// ErrLinkDown and friends are what the phone sees.
var (
	ErrDroppedBefore = errors.New("sim: connection reset before the request was sent")
	ErrDroppedAfter  = errors.New("sim: connection reset while waiting for the answer")
	ErrKilled        = errors.New("sim: the app was killed")
)

type timeoutError struct{}

func (timeoutError) Error() string   { return "sim: i/o timeout waiting for the answer" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func (f *Flaky) roll() float64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rnd.Float64()
}

// RoundTrip implements http.RoundTripper.
func (f *Flaky) RoundTrip(req *http.Request) (*http.Response, error) {
	if f.Off.Load() {
		return f.Base.RoundTrip(req)
	}
	f.Counts.Requests.Add(1)
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	clone := func() *http.Request {
		r := req.Clone(req.Context())
		if body != nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
		}
		return r
	}
	// sendAndLose delivers the request and throws the answer away.
	sendAndLose := func(ctx context.Context) {
		r := clone().WithContext(ctx)
		res, err := f.Base.RoundTrip(r)
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
	}
	isPush := req.Method == http.MethodPost && req.URL.Path == "/api/v1/sync/push"
	p := f.Faults
	x := f.roll()
	switch {
	case x < p.DropBefore:
		f.Counts.DropBefore.Add(1)
		return nil, ErrDroppedBefore
	case x < p.DropBefore+p.DropAfter:
		f.Counts.DropAfter.Add(1)
		sendAndLose(context.WithoutCancel(req.Context()))
		return nil, ErrDroppedAfter
	case x < p.DropBefore+p.DropAfter+p.Timeout:
		f.Counts.Timeouts.Add(1)
		d := f.TimeoutAfter
		if d <= 0 {
			d = 30 * time.Millisecond
		}
		if f.roll() < 0.5 {
			sendAndLose(context.WithoutCancel(req.Context()))
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-req.Context().Done():
			return nil, req.Context().Err()
		case <-t.C:
		}
		return nil, timeoutError{}
	case x < p.DropBefore+p.DropAfter+p.Timeout+p.Duplicate:
		f.Counts.Duplicates.Add(1)
		if f.roll() < 0.5 {
			// One copy after the other: the second is a replay.
			sendAndLose(context.WithoutCancel(req.Context()))
			return f.Base.RoundTrip(clone())
		}
		// Both at once: the server sees a concurrent duplicate.
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			sendAndLose(context.WithoutCancel(req.Context()))
		}()
		res, err := f.Base.RoundTrip(clone())
		wg.Wait()
		return res, err
	case isPush && x < p.DropBefore+p.DropAfter+p.Timeout+p.Duplicate+p.Kill:
		f.Counts.Kills.Add(1)
		sendAndLose(context.WithoutCancel(req.Context()))
		if f.OnKill != nil {
			f.OnKill()
		}
		return nil, ErrKilled
	}
	return f.Base.RoundTrip(clone())
}
