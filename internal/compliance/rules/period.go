package rules

import (
	"fmt"
	"strconv"
	"time"

	"github.com/fieldvisit/fieldvisit/domain"
)

// Windows are the calendar windows a minimum is counted over.
const (
	WindowYear    = "year"
	WindowQuarter = "quarter"
	WindowMonth   = "month"
)

// Windows lists the window codes with their zh-CN labels.
var Windows = terms(WindowYear, "年度", WindowQuarter, "季度", WindowMonth, "月度")

// maxPerWindow is the most visits a window can count: with same-day visits
// merged, a window cannot count more visits than it has days.
var maxPerWindow = map[string]int{WindowYear: 366, WindowQuarter: 92, WindowMonth: 31}

// Period is one calendar window in Asia/Shanghai, End exclusive. Windows are
// judged on Shanghai calendar days because that is the day a cadre and the
// county ledger (台账) write down, whatever the server's zone.
type Period struct {
	Window string      `json:"window"`
	Start  domain.Date `json:"start"`
	End    domain.Date `json:"end"`
}

// PeriodOf returns the window of kind window that contains d.
func PeriodOf(window string, d domain.Date) (Period, error) {
	switch window {
	case WindowYear:
		return Period{window, domain.Date{Year: d.Year, Month: time.January, Day: 1}, domain.Date{Year: d.Year + 1, Month: time.January, Day: 1}}, nil
	case WindowQuarter:
		first := time.Month((int(d.Month)-1)/3*3 + 1)
		return Period{window, domain.Date{Year: d.Year, Month: first, Day: 1}, firstOfMonthAfter(d.Year, first, 3)}, nil
	case WindowMonth:
		return Period{window, domain.Date{Year: d.Year, Month: d.Month, Day: 1}, firstOfMonthAfter(d.Year, d.Month, 1)}, nil
	}
	return Period{}, fmt.Errorf("unknown window %q (want year, quarter or month)", window)
}

// PeriodOfTime returns the window that contains instant t, judged in Asia/Shanghai.
func PeriodOfTime(window string, t time.Time) (Period, error) {
	return PeriodOf(window, domain.DateOf(t))
}

// PeriodsOfYear lists the windows of kind window in year, in order.
func PeriodsOfYear(window string, year int) ([]Period, error) {
	step, ok := map[string]int{WindowYear: 12, WindowQuarter: 3, WindowMonth: 1}[window]
	if !ok {
		return nil, fmt.Errorf("unknown window %q (want year, quarter or month)", window)
	}
	var out []Period
	for m := 1; m <= 12; m += step {
		p, _ := PeriodOf(window, domain.Date{Year: year, Month: time.Month(m), Day: 1})
		out = append(out, p)
	}
	return out, nil
}

// ParsePeriod reads a key written by Period.Key: "2026", "2026-Q3" or "2026-07".
func ParsePeriod(key string) (Period, error) {
	bad := fmt.Errorf("not a period key (want 2026, 2026-Q3 or 2026-07): %q", key)
	if len(key) < 4 {
		return Period{}, bad
	}
	year, err := strconv.Atoi(key[:4])
	if err != nil || year < 1 {
		return Period{}, bad
	}
	rest := key[4:]
	switch {
	case rest == "":
		return PeriodOf(WindowYear, domain.Date{Year: year, Month: time.January, Day: 1})
	case len(rest) == 3 && rest[:2] == "-Q" && rest[2] >= '1' && rest[2] <= '4':
		q := int(rest[2] - '0')
		return PeriodOf(WindowQuarter, domain.Date{Year: year, Month: time.Month(q*3 - 2), Day: 1})
	case len(rest) == 3 && rest[0] == '-':
		m, err := strconv.Atoi(rest[1:])
		if err != nil || m < 1 || m > 12 {
			return Period{}, bad
		}
		return PeriodOf(WindowMonth, domain.Date{Year: year, Month: time.Month(m), Day: 1})
	}
	return Period{}, bad
}

// Key names the period: "2026", "2026-Q3" or "2026-07".
func (p Period) Key() string {
	switch p.Window {
	case WindowYear:
		return fmt.Sprintf("%04d", p.Start.Year)
	case WindowQuarter:
		return fmt.Sprintf("%04d-Q%d", p.Start.Year, (int(p.Start.Month)-1)/3+1)
	case WindowMonth:
		return fmt.Sprintf("%04d-%02d", p.Start.Year, int(p.Start.Month))
	}
	return p.Start.String() + "/" + p.End.String()
}

// LabelZH names the period the way a ledger does: 2026年, 2026年第3季度, 2026年7月.
func (p Period) LabelZH() string {
	switch p.Window {
	case WindowYear:
		return fmt.Sprintf("%d年", p.Start.Year)
	case WindowQuarter:
		return fmt.Sprintf("%d年第%d季度", p.Start.Year, (int(p.Start.Month)-1)/3+1)
	case WindowMonth:
		return fmt.Sprintf("%d年%d月", p.Start.Year, int(p.Start.Month))
	}
	return p.Start.String() + "至" + p.Last().String()
}

// Days is the length of the period in days (Feb 29 included in leap years).
func (p Period) Days() int { return daysBetween(p.Start, p.End) }

// Last is the last day of the period.
func (p Period) Last() domain.Date { return addDays(p.End, -1) }

// Contains reports whether d falls in the period.
func (p Period) Contains(d domain.Date) bool { return !d.Before(p.Start) && d.Before(p.End) }

// IsZero reports whether p is unset.
func (p Period) IsZero() bool { return p.Window == "" && p.Start.IsZero() }

func firstOfMonthAfter(year int, m time.Month, months int) domain.Date {
	t := time.Date(year, m+time.Month(months), 1, 0, 0, 0, 0, time.UTC)
	return domain.Date{Year: t.Year(), Month: t.Month(), Day: 1}
}

// Day arithmetic is done on UTC midnights: calendar days have no zone, and
// UTC has no DST gaps (Shanghai had DST until 1991) to shorten a day.

func dayNumber(d domain.Date) int {
	return int(time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

func dateOfNumber(n int) domain.Date {
	y, m, d := time.Unix(int64(n)*86400, 0).UTC().Date()
	return domain.Date{Year: y, Month: m, Day: d}
}

func daysBetween(from, to domain.Date) int { return dayNumber(to) - dayNumber(from) }

func addDays(d domain.Date, n int) domain.Date { return dateOfNumber(dayNumber(d) + n) }

// terms builds a vocabulary from code, label pairs.
func terms(pairs ...string) domain.Vocabulary {
	v := make(domain.Vocabulary, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		v = append(v, domain.Term{Code: pairs[i], Label: pairs[i+1]})
	}
	return v
}
