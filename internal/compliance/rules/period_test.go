package rules

import (
	"testing"
	"time"

	"github.com/fieldvisit/fieldvisit/domain"
)

func TestPeriodOf(t *testing.T) {
	tests := []struct {
		window     string
		on         domain.Date
		key        string
		start, end domain.Date
		days       int
		labelZH    string
	}{
		{WindowYear, day(2026, 7, 4), "2026", day(2026, 1, 1), day(2027, 1, 1), 365, "2026年"},
		{WindowYear, day(2028, 2, 29), "2028", day(2028, 1, 1), day(2029, 1, 1), 366, "2028年"},
		{WindowQuarter, day(2026, 7, 1), "2026-Q3", day(2026, 7, 1), day(2026, 10, 1), 92, "2026年第3季度"},
		{WindowQuarter, day(2026, 12, 31), "2026-Q4", day(2026, 10, 1), day(2027, 1, 1), 92, "2026年第4季度"},
		{WindowQuarter, day(2028, 3, 31), "2028-Q1", day(2028, 1, 1), day(2028, 4, 1), 91, "2028年第1季度"},
		{WindowQuarter, day(2026, 3, 31), "2026-Q1", day(2026, 1, 1), day(2026, 4, 1), 90, "2026年第1季度"},
		{WindowMonth, day(2028, 2, 29), "2028-02", day(2028, 2, 1), day(2028, 3, 1), 29, "2028年2月"},
		{WindowMonth, day(2026, 2, 28), "2026-02", day(2026, 2, 1), day(2026, 3, 1), 28, "2026年2月"},
		{WindowMonth, day(2026, 12, 31), "2026-12", day(2026, 12, 1), day(2027, 1, 1), 31, "2026年12月"},
	}
	for _, tt := range tests {
		p, err := PeriodOf(tt.window, tt.on)
		if err != nil {
			t.Fatal(err)
		}
		if p.Key() != tt.key || p.Start != tt.start || p.End != tt.end || p.Days() != tt.days || p.LabelZH() != tt.labelZH {
			t.Errorf("PeriodOf(%s, %s) = %s %s..%s %d days %s; want %s %s..%s %d %s", tt.window, tt.on,
				p.Key(), p.Start, p.End, p.Days(), p.LabelZH(), tt.key, tt.start, tt.end, tt.days, tt.labelZH)
		}
		if !p.Contains(tt.on) || p.Contains(p.End) || !p.Contains(p.Last()) {
			t.Errorf("%s: Contains is wrong at the edges", tt.key)
		}
		back, err := ParsePeriod(tt.key)
		if err != nil || back != p {
			t.Errorf("ParsePeriod(%q) = %v, %v; want %v", tt.key, back, err, p)
		}
	}
}

func TestPeriodOfTimeIsShanghai(t *testing.T) {
	// 17:00 UTC on Dec 31 is 01:00 on Jan 1 in Shanghai: it is next year's visit.
	p, _ := PeriodOfTime(WindowYear, time.Date(2026, 12, 31, 17, 0, 0, 0, time.UTC))
	if p.Key() != "2027" {
		t.Errorf("got %s, want 2027", p.Key())
	}
	p, _ = PeriodOfTime(WindowMonth, time.Date(2026, 12, 31, 15, 59, 59, 0, time.UTC))
	if p.Key() != "2026-12" {
		t.Errorf("got %s, want 2026-12", p.Key())
	}
	p, _ = PeriodOfTime(WindowQuarter, time.Date(2026, 3, 31, 16, 0, 0, 0, time.UTC))
	if p.Key() != "2026-Q2" {
		t.Errorf("got %s, want 2026-Q2", p.Key())
	}
}

func TestPeriodsOfYear(t *testing.T) {
	for window, n := range map[string]int{WindowYear: 1, WindowQuarter: 4, WindowMonth: 12} {
		ps, err := PeriodsOfYear(window, 2028)
		if err != nil || len(ps) != n {
			t.Fatalf("%s: %d periods, %v", window, len(ps), err)
		}
		total := 0
		for i, p := range ps {
			total += p.Days()
			if i > 0 && ps[i-1].End != p.Start {
				t.Errorf("%s: gap between %s and %s", window, ps[i-1].Key(), p.Key())
			}
		}
		if total != 366 {
			t.Errorf("%s: windows of 2028 cover %d days, want 366", window, total)
		}
	}
	if _, err := PeriodsOfYear("week", 2026); err == nil {
		t.Error("an unknown window must be an error")
	}
}

func TestParsePeriodRejects(t *testing.T) {
	for _, key := range []string{"", "26", "2026-Q5", "2026-Q0", "2026-13", "2026-00", "2026-7", "abcd", "2026-W01", "2026-07-01"} {
		if _, err := ParsePeriod(key); err == nil {
			t.Errorf("ParsePeriod(%q) accepted", key)
		}
	}
}
