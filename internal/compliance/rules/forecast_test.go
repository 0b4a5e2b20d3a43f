package rules

import "testing"

func TestForecast(t *testing.T) {
	base := Status{Period: period("2026-Q2"), Required: 3, DueOn: day(2026, 6, 30)}
	tests := []struct {
		name    string
		counted int
		today   [3]int
		load    int
		atRisk  bool
		needed  int
		days    int
	}{
		{"met", 3, [3]int{2026, 6, 30}, 5, false, 0, 1},
		{"plenty of time", 1, [3]int{2026, 5, 1}, 5, false, 2, 61},
		{"too many households for the days left", 1, [3]int{2026, 6, 25}, 4, true, 2, 6},
		{"one household, two days left, two needed", 1, [3]int{2026, 6, 29}, 1, false, 2, 2},
		{"past the due day", 2, [3]int{2026, 7, 1}, 1, true, 1, 0},
		{"window not started", 0, [3]int{2026, 3, 1}, 10, false, 3, 91},
		{"zero load treated as one", 0, [3]int{2026, 6, 29}, 0, true, 3, 2},
	}
	for _, tt := range tests {
		st := base
		st.CountedN = tt.counted
		r := Forecast(st, day(tt.today[0], time1(tt.today[1]), tt.today[2]), tt.load)
		if r.AtRisk != tt.atRisk || r.Needed != tt.needed || r.DaysLeft != tt.days || r.ReasonZH == "" {
			t.Errorf("%s: %+v", tt.name, r)
		}
	}
}
