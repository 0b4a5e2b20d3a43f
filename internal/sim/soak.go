package sim

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"sync"
	"time"
)

// Soak keeps phones busy against a server for as long as it runs: each
// phone, on a good link, records a visit or a few (with their photos),
// syncs, uploads its photos and pauses; every so often the supervisor
// re-pairs a household (scopes shrink and grow). It checks nothing and
// keeps no account of the acknowledged changes, so it can run for hours:
// it is the load of `fieldvisit soak`, which watches the server.
type Soak struct {
	r      *run
	pause  time.Duration
	every  time.Duration
	ownDir bool // the phones' directory is a temporary one, removed by Close
}

// SoakOptions shape a soak; Options give the server, the phones (Cadres,
// one phone each) and the photos.
type SoakOptions struct {
	Options
	// Pause is a phone's rest between rounds (default 2 s), RepairEvery
	// the time between the supervisor's re-pairings (default 30 s).
	Pause, RepairEvery time.Duration
}

// StartSoak makes the phones and brings each to its first sync.
func StartSoak(ctx context.Context, so SoakOptions) (*Soak, error) {
	o := so.Options
	o.Days, o.TwoDevices, o.Faults = 1, -1, &Faults{}
	if err := o.defaults(); err != nil {
		return nil, err
	}
	r := newRun(ctx, o)
	r.untracked = true
	if o.Dir == "" {
		dir, err := os.MkdirTemp("", "fieldvisit-soak-")
		if err != nil {
			return nil, err
		}
		o.Dir = dir
		r.o.Dir = dir
	}
	r.base = o.Dir
	ownDir := so.Dir == ""
	if err := r.setup(); err != nil {
		return nil, err
	}
	sup, err := r.session(ctx, o.Supervisor, "supervisor")
	if err != nil {
		return nil, err
	}
	r.sup = sup
	for _, c := range r.cadres {
		for _, d := range c.devices {
			d.link.Off.Store(true) // a good link: the soak is about the server
		}
	}
	s := &Soak{r: r, pause: so.Pause, every: so.RepairEvery, ownDir: ownDir}
	if s.pause <= 0 {
		s.pause = 2 * time.Second
	}
	if s.every <= 0 {
		s.every = 30 * time.Second
	}
	return s, nil
}

// Run plays rounds until d has passed or ctx ends.
func (s *Soak) Run(ctx context.Context, d time.Duration) error {
	r := s.r
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var wg sync.WaitGroup
	for _, c := range r.cadres {
		for _, dev := range c.devices {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					s.round(ctx, dev)
					select {
					case <-ctx.Done():
					case <-time.After(s.pause):
					}
				}
			}()
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		seq := mrand.New(mrand.NewPCG(r.o.Seed, 0x50a6))
		t := time.NewTicker(s.every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				r.repair(seq)
			}
		}
	}()
	wg.Wait()
	if err := r.ctx.Err(); err != nil {
		return err
	}
	return nil
}

// round is one phone's round: work offline, then sync (records, news,
// then photos).
func (s *Soak) round(ctx context.Context, d *device) {
	r := s.r
	r.work1(d, 1)
	if _, err := r.sync(d, time.Minute); err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		r.count("sync-errors", 1)
	}
}

// Work is what the phones did so far: visits, syncs, photo uploads, …
func (s *Soak) Work() map[string]int { return s.r.snapshotWork() }

// Problems are the first things that went wrong, with a count of the rest.
func (s *Soak) Problems() []string {
	r := s.r
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]string(nil), r.problems...)
	if r.nProblem > len(r.problems) {
		out = append(out, fmt.Sprintf("… and %d more", r.nProblem-len(r.problems)))
	}
	return out
}

// Close closes the phones and removes their state.
func (s *Soak) Close() {
	for _, c := range s.r.cadres {
		for _, d := range c.devices {
			d.c.Close()
			d.cancel()
		}
	}
	s.r.sup.Close()
	if s.ownDir {
		os.RemoveAll(s.r.base)
	}
}
