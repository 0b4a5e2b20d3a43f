package demo_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/demo"
)

// backtestDay is the day issue 19 tried the demo on; docs/rules.md records
// the figures this test prints for it.
var backtestDay = domain.Date{Year: 2026, Month: time.December, Day: 6}

// TestForecastBacktest replays the at-risk forecast two and four weeks
// before the end of each closed quarter of the demo's year and prints
// recall and precision as the table in docs/rules.md (run with -v). It
// fails if the forecast falls below what it achieved when it was written,
// so a change that makes it warn less well shows.
func TestForecastBacktest(t *testing.T) {
	if testing.Short() {
		t.Skip("draws the full demo county")
	}
	rows, err := demo.BacktestForecast(demo.Options{Today: backtestDay})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n| quarter | before the end | households judged | missed | flagged | flagged and missed | recall | precision |\n|---|---|---|---|---|---|---|---|\n")
	line := func(r demo.BacktestRow) {
		fmt.Fprintf(&b, "| %s | %d days | %d | %d | %d | %d | %.2f | %.2f |\n", r.Quarter, r.LeadDays, r.Judged, r.Missed, r.Flagged, r.Hits, r.Recall(), r.Precision())
	}
	for _, r := range rows {
		line(r)
	}
	floors := map[int][2]float64{14: {0.65, 0.65}, 28: {0.55, 0.55}} // recall, precision
	for _, total := range demo.BacktestTotals(rows) {
		line(total)
		if f := floors[total.LeadDays]; total.Recall() < f[0] || total.Precision() < f[1] {
			t.Errorf("%d days before the end: recall %.2f, precision %.2f; below the floors %.2f and %.2f it was written to",
				total.LeadDays, total.Recall(), total.Precision(), f[0], f[1])
		}
	}
	t.Log(b.String())
}
