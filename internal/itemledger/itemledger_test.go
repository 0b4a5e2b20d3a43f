package itemledger

import (
	"fmt"
	"testing"

	"github.com/fieldvisit/fieldvisit/domain"
)

// TestEveryTransition is the item's life as a table: every status against
// every action, who may take it, and what it needs.
func TestEveryTransition(t *testing.T) {
	proof := Evidence{PhotoIDs: []string{"p1"}}
	cases := []struct {
		from, action string
		supervisor   bool
		given, held  Evidence // evidence sent with the action; evidence of the latest submission
		to           string   // "" when refused
		code         domain.Code
	}{
		{Open, Start, false, Evidence{}, Evidence{}, InProgress, ""},
		{Open, Submit, false, proof, Evidence{}, Submitted, ""},
		{Open, Submit, false, Evidence{}, Evidence{}, "", domain.CodeInvalid},
		{Open, Approve, true, proof, Evidence{}, "", domain.CodeConflict},
		{Open, Reject, true, Evidence{}, Evidence{}, "", domain.CodeConflict},
		{Open, Reopen, true, Evidence{}, Evidence{}, "", domain.CodeConflict},
		{InProgress, Submit, false, proof, Evidence{}, Submitted, ""},
		{InProgress, Start, false, Evidence{}, Evidence{}, "", domain.CodeConflict},
		{InProgress, Approve, true, proof, Evidence{}, "", domain.CodeConflict},
		{Submitted, Approve, true, Evidence{}, proof, Closed, ""},
		{Submitted, Approve, true, proof, Evidence{}, Closed, ""},
		{Submitted, Approve, true, Evidence{}, Evidence{}, "", domain.CodeInvalid},
		{Submitted, Approve, false, Evidence{}, proof, "", domain.CodeForbidden},
		{Submitted, Reject, true, Evidence{}, proof, InProgress, ""},
		{Submitted, Reject, false, Evidence{}, proof, "", domain.CodeForbidden},
		{Submitted, Submit, false, proof, proof, "", domain.CodeConflict},
		{Closed, Reopen, true, Evidence{}, proof, InProgress, ""},
		{Closed, Reopen, false, Evidence{}, proof, "", domain.CodeForbidden},
		{Closed, Start, false, Evidence{}, proof, "", domain.CodeConflict},
		{Closed, Approve, true, proof, proof, "", domain.CodeConflict},
		{Open, "delete", true, Evidence{}, Evidence{}, "", domain.CodeInvalid},
		{Open, Approve, false, Evidence{}, proof, "", domain.CodeForbidden}, // who may act before what the state allows
		{Open, Approve, true, Evidence{}, proof, "", domain.CodeConflict},
	}
	for _, tc := range cases {
		who := "responsible"
		if tc.supervisor {
			who = "supervisor"
		}
		t.Run(fmt.Sprintf("%s %s by %s", tc.from, tc.action, who), func(t *testing.T) {
			to, err := Move(KindRectification, Item{Status: tc.from, Evidence: tc.held}, tc.action, tc.supervisor, tc.given)
			if to != tc.to || domain.ErrorCode(err) != tc.code {
				t.Fatalf("got %q, %v; want %q, %q", to, err, tc.to, tc.code)
			}
			if tc.code == domain.CodeConflict {
				de := err.(*domain.Error)
				if len(de.Fields) != 1 || de.Fields[0].Field != "/action" || de.MessageZH == "" {
					t.Fatalf("a refused transition names the allowed actions: %+v", de)
				}
			}
		})
	}
}

// TestOverdueIsReadOffTheDeadline: an item not closed by its deadline is
// overdue from the next day; a closed one never is.
func TestOverdueIsReadOffTheDeadline(t *testing.T) {
	deadline := domain.Date{Year: 2026, Month: 12, Day: 31}
	for _, tc := range []struct {
		status string
		day    domain.Date
		want   string
	}{
		{Open, deadline, Open},
		{Open, deadline.AddDays(1), Overdue},
		{InProgress, deadline.AddDays(30), Overdue},
		{Submitted, deadline.AddDays(1), Overdue},
		{Closed, deadline.AddDays(365), Closed},
	} {
		if got := (Item{Status: tc.status, Deadline: deadline}).State(tc.day); got != tc.want {
			t.Errorf("%s on %s: %s, want %s", tc.status, tc.day, got, tc.want)
		}
	}
	if got := (Item{Status: Open}).State(deadline); got != Open {
		t.Errorf("an item without a deadline is never overdue: %s", got)
	}
}
