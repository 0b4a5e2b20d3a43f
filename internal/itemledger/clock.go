package itemledger

import "time"

// WithClock returns the service judging time by now instead: an item
// replayed as it happened (the demo county's, weeks before the day it is
// seeded) gets its deadline and its steps checked against the days they
// happened on, by the same rules.
func (s *Service) WithClock(now func() time.Time) *Service {
	c := *s
	c.now = now
	return &c
}
