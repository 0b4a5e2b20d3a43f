package bench

import (
	"testing"
	"time"
)

// TestGrowthRule: a gauge grew after the warm-up when its trend over the
// post-warm-up samples rises by more than the tolerance (10 % of its
// median, at least the floor); what happens during the warm-up, a single
// spike and noise do not count.
func TestGrowthRule(t *testing.T) {
	rule := growthRule{Rel: 0.10, Floor: 8}
	every := func(n int) []time.Duration {
		at := make([]time.Duration, n)
		for i := range at {
			at[i] = time.Duration(i) * 10 * time.Second
		}
		return at
	}
	for _, tc := range []struct {
		name   string
		values []float64
		warmup time.Duration
		grew   bool
		judged bool
	}{
		{"flat", []float64{100, 100, 100, 100, 100, 100}, 0, false, true},
		{"climbing during the warm-up only", []float64{20, 60, 100, 101, 100, 99, 100, 101}, 20 * time.Second, false, true},
		{"a leak: +4 every sample", []float64{100, 104, 108, 112, 116, 120, 124}, 0, true, true},
		{"one spike in the middle", []float64{100, 100, 100, 180, 100, 100, 100}, 0, false, true},
		{"noise around a level", []float64{100, 95, 106, 98, 103, 97, 104, 99}, 0, false, true},
		{"slow rise under the floor", []float64{10, 11, 12, 13, 14, 15}, 0, false, true},
		{"falling", []float64{150, 140, 130, 120, 110}, 0, false, true},
		{"too few samples after the warm-up", []float64{1, 2, 3, 4, 50}, 30 * time.Second, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := rule.judge(every(len(tc.values)), tc.values, tc.warmup)
			if v.Grew != tc.grew || v.Judged != tc.judged {
				t.Fatalf("judge = %+v, want grew=%v judged=%v", v, tc.grew, tc.judged)
			}
		})
	}
}
