package plans

import (
	"testing"

	"github.com/fieldvisit/fieldvisit/domain"
)

// TestOverdue: a measure is late once its target date has passed, unless
// it is done or dropped; on its target date it is not late yet. The
// listing's SQL spells the same rule (storage.planWhere).
func TestOverdue(t *testing.T) {
	target := domain.Date{Year: 2026, Month: 12, Day: 1}
	tests := []struct {
		state string
		day   domain.Date
		want  bool
	}{
		{domain.PlanPlanned, target, false},
		{domain.PlanPlanned, target.AddDays(1), true},
		{domain.PlanInProgress, target.AddDays(1), true},
		{domain.PlanDone, target.AddDays(1), false},
		{domain.PlanDropped, target.AddDays(30), false},
	}
	for _, tc := range tests {
		it := domain.PlanItem{PlanItemDetails: domain.PlanItemDetails{State: tc.state, TargetOn: target}}
		if got := Overdue(it, tc.day); got != tc.want {
			t.Errorf("%s on %s: overdue %v, want %v", tc.state, tc.day, got, tc.want)
		}
	}
}
