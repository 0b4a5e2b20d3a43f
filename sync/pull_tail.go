package sync

import (
	"context"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/fieldvisit/fieldvisit/wire"
)

// tailPhases are the phases a cadre's or supervisor's walk goes through
// after its households, in order (an inspector's tasks and the visits at
// their households come between the first two; for anyone else those
// phases are empty).
var tailPhases = []int{phaseVisits, phasePlanItems, phaseIncomeAccounts}

// tail reads the walk's phases after its households from their start, all
// at once, numbers the feed beside them, and hands out up to left of their
// records in phase order. Read one after the other, the three small reads
// and the numbering were a fifth of a paged pull's time (B4 paged); what a
// read brought beyond the page is read again by the next page; with no
// room left (left 0) it only looks whether the walk holds more, the three
// looks at once rather than one after the other. It moves c
// to where the page ends and reports how many records went out, whether
// the walk holds more, and the feed's new watermark.
func (pl puller) tail(ctx context.Context, c *cursor, left int) (n int, more bool, w int64, err error) {
	type phaseRead struct {
		got  encodedList
		more bool
	}
	reads := make([]phaseRead, len(tailPhases))
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { w, err = pl.svc.store.SequenceChanges(gctx); return err })
	for i, phase := range tailPhases {
		g.Go(func() error {
			r := pl
			r.emit = reads[i].got.add
			_, _, more, err := r.snapshot(gctx, phase, ChildKey{}, left)
			reads[i].more = more
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return 0, false, 0, err
	}
	for i, phase := range tailPhases {
		got := reads[i].got.changes
		out := got[:min(len(got), left-n)]
		emit := pl.page.Part()
		for _, ch := range out {
			if err := emit(ch); err != nil {
				return 0, false, 0, err
			}
		}
		n += len(out)
		if len(out) < len(got) || reads[i].more {
			c.Phase, c.H, c.After = phase, uuid.Nil, uuid.Nil
			if len(out) > 0 {
				k := tailKey(phase, out[len(out)-1])
				c.H, c.After = k.HouseholdID, k.ID
			}
			return n, true, w, nil
		}
	}
	c.Phase, c.H, c.After = phaseFeed, uuid.Nil, uuid.Nil
	return n, false, w, nil
}

// tailKey is where a tail phase goes on after a record it handed out: its
// own visits are walked by id, plan items and income accounts by
// household and id.
func tailKey(phase int, ch wire.PulledChange) ChildKey {
	if phase == phaseVisits {
		return ChildKey{ID: ch.ID}
	}
	return ChildKey{HouseholdID: *ch.HouseholdID, ID: ch.ID}
}
