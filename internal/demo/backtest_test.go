package demo_test

import (
	"time"

	"github.com/fieldvisit/fieldvisit/domain"
	"testing"

	"github.com/fieldvisit/fieldvisit/internal/demo"
)

func TestForecastBacktest(t *testing.T) {
	rows, err := demo.BacktestForecast(demo.Options{Today: backtestDay})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		t.Logf("%s lead %2d: judged %d missed %d flagged %d hits %d recall %.2f precision %.2f", r.Quarter, r.LeadDays, r.Judged, r.Missed, r.Flagged, r.Hits, r.Recall(), r.Precision())
	}
}

// backtestDay is the day issue 19 tried the demo on.
var backtestDay = domain.Date{Year: 2026, Month: time.December, Day: 6}
