package compliance

import (
	"testing"

	"github.com/google/uuid"
)

// TestVillagesWorstFirst: the map's villages lead with those behind —
// statuses overdue or missed — not with those whose visits are merely not
// done yet early in a period; villages with nothing judged go last.
func TestVillagesWorstFirst(t *testing.T) {
	villages := []struct {
		name   string
		counts StateCounts
		onPace float64
	}{
		{"early in the month, all on track", StateCounts{Total: 10, Met: 2, OnTrack: 8}, 1},
		{"nearly done, one missed", StateCounts{Total: 10, Met: 9, Missed: 1}, 0.9},
		{"half behind", StateCounts{Total: 4, Met: 1, OnTrack: 1, Overdue: 2}, 0.5},
		{"all met", StateCounts{Total: 5, Met: 5}, 1},
		{"nothing judged", StateCounts{}, -1},
	}
	var marks []HouseholdMark
	counts := map[string]StateCounts{}
	for _, v := range villages {
		id := uuid.New()
		marks = append(marks, HouseholdMark{ID: uuid.New(), VillageID: id, VillageName: v.name})
		counts[id.String()] = v.counts
	}
	got := villagesOf(marks, counts)
	want := []string{"half behind", "nearly done, one missed", "early in the month, all on track", "all met", "nothing judged"}
	for i, v := range got {
		if v.Name != want[i] {
			t.Errorf("place %d: %q, want %q", i+1, v.Name, want[i])
		}
	}
	for _, v := range got {
		for _, w := range villages {
			if w.name == v.Name && v.Counts.OnPaceRate() != w.onPace {
				t.Errorf("%s: on pace %.2f, want %.2f", v.Name, v.Counts.OnPaceRate(), w.onPace)
			}
		}
	}
}
