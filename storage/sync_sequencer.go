package storage

import (
	"context"
	"sync"
	"time"
)

// feedSequencer shares numbering passes among the callers of one Store.
// Every pull (and every push, after its commit) needs the feed numbered up
// to what had committed when it arrived. Each used to run its own pass: take
// a pooled connection, wait on the advisory lock behind every other caller,
// number, read the watermark. With 50 phones syncing at once most of them
// sat in that queue holding connections the pushes needed. Now a caller
// that arrives while a pass runs waits for the next pass, which starts when
// the running one ends and serves everyone who arrived meanwhile: a process
// runs one pass at a time on one connection, so a pull waits for at most
// the pass in progress and its own, never behind the other pulls, and the
// lock is contended only by replicas (one pass each), not by phones.
//
// The guarantees are those of one pass: a pass that starts after a caller
// arrived numbers every row committed before that (freshness), and numbering
// under the lock after commit keeps the feed gap-free.
type feedSequencer struct {
	mu      sync.Mutex
	running bool
	// next is the pass that starts when the running one ends, with every
	// caller that arrived since it began; nil while nobody waits.
	next *sequencePass
}

// sequencePass is one numbering pass and what it answered.
type sequencePass struct {
	done      chan struct{}
	watermark int64
	err       error
}

// sequencePassTimeout bounds a pass, which runs for all its callers and so
// under none of their contexts.
const sequencePassTimeout = 30 * time.Second

// sequence returns the watermark of a pass that began after the call did.
// A caller whose ctx ends stops waiting; the pass still runs for the others.
func (q *feedSequencer) sequence(ctx context.Context, pass func(context.Context) (int64, error)) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	q.mu.Lock()
	if q.next == nil {
		q.next = &sequencePass{done: make(chan struct{})}
	}
	p := q.next
	if !q.running {
		q.running = true
		go q.drive(pass)
	}
	q.mu.Unlock()
	select {
	case <-p.done:
		return p.watermark, p.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// drive runs passes while callers wait for one, then stops.
func (q *feedSequencer) drive(pass func(context.Context) (int64, error)) {
	for {
		q.mu.Lock()
		p := q.next
		q.next = nil
		if p == nil {
			q.running = false
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), sequencePassTimeout)
		p.watermark, p.err = pass(ctx)
		cancel()
		close(p.done)
	}
}
