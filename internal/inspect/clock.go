package inspect

import "time"

// WithClock returns the service judging time by now instead: a campaign
// replayed as it happened (the demo county's, weeks before the day it is
// seeded) is checked against the days it happened on, by the same rules.
func (s *Service) WithClock(now func() time.Time) *Service {
	c := *s
	c.now = now
	return &c
}
