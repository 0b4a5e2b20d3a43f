package domain

import (
	"fmt"
	"time"
)

// Shanghai is the time zone every calendar window is judged in. Loaded from
// the embedded tz database (time/tzdata is imported by the binary) so that a
// server without /usr/share/zoneinfo still judges Dec 31 vs Jan 1 right.
var Shanghai = mustLoad("Asia/Shanghai")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.FixedZone("CST", 8*3600) // China has had no DST since 1991
	}
	return loc
}

// The years the service takes dates in. FirstYear is when targeted poverty
// alleviation (精准扶贫) began: no visit, measure or rule of it lies before.
// LastYear bounds every date a person or a phone's clock can give: a year
// past it is a slip of the keyboard or no clock at all, and offsets in
// milliseconds from it would not fit. Messages spell the numbers out, so a
// change here changes them too.
const (
	FirstYear = 2013
	LastYear  = 2100
)

// Date is a calendar day with no time of day, written "2006-01-02".
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the day t falls on in Asia/Shanghai.
func DateOf(t time.Time) Date {
	y, m, d := t.In(Shanghai).Date()
	return Date{y, m, d}
}

// ParseDate parses "2006-01-02" and rejects impossible days.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return Date{}, fmt.Errorf("not a date in the form YYYY-MM-DD: %q", s)
	}
	return Date{t.Year(), t.Month(), t.Day()}, nil
}

// IsZero reports whether d is unset.
func (d Date) IsZero() bool { return d.Year == 0 }

// String formats d as "2006-01-02".
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// Start is the first instant of d in Asia/Shanghai.
func (d Date) Start() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, Shanghai) }

// Before reports whether d is strictly before o.
func (d Date) Before(o Date) bool { return d.Start().Before(o.Start()) }

// After reports whether d is strictly after o.
func (d Date) After(o Date) bool { return d.Start().After(o.Start()) }

// AddDays moves d by n days.
func (d Date) AddDays(n int) Date { return DateOf(d.Start().AddDate(0, 0, n)) }

// MarshalText implements encoding.TextMarshaler.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Date) UnmarshalText(b []byte) error {
	p, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = p
	return nil
}
