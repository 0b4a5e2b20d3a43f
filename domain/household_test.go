package domain

import (
	"errors"
	"testing"
)

// TestStatusChangeDates: a status change is dated from 2013, when targeted
// poverty alleviation began, to today; a date outside is refused on
// /effective_on.
func TestStatusChangeDates(t *testing.T) {
	today := Date{Year: 2026, Month: 12, Day: 8}
	registered := Household{Status: StatusRegistered, PovertyType: "ordinary"}
	for _, tc := range []struct {
		name      string
		effective Date
		want      string // the reason on /effective_on; "" is accepted
	}{
		{"today", today, ""},
		{"the first day of 2013", Date{Year: 2013, Month: 1, Day: 1}, ""},
		{"the last day of 2012", Date{Year: 2012, Month: 12, Day: 31}, "out_of_range"},
		{"1900", Date{Year: 1900, Month: 1, Day: 1}, "out_of_range"},
		{"tomorrow", Date{Year: 2026, Month: 12, Day: 9}, "out_of_range"},
		{"no date", Date{}, "required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateStatusChange(registered, StatusRemoved, nil, "", tc.effective, today)
			var got string
			var de *Error
			if errors.As(err, &de) {
				for _, f := range de.Fields {
					if f.Field == "/effective_on" {
						got = f.Reason
					}
				}
			} else if err != nil {
				t.Fatalf("not a domain error: %v", err)
			}
			if got != tc.want {
				t.Errorf("/effective_on: %q (%v), want %q", got, err, tc.want)
			}
		})
	}
}
