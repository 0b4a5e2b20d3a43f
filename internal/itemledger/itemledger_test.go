package itemledger

import (
	"fmt"
	"strings"
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
		withdrawer   bool     // may register such an item there (Service.mayWithdraw)
		given, held  Evidence // evidence sent with the action; evidence of the latest submission
		to           string   // "" when refused
		code         domain.Code
	}{
		{Open, Start, false, false, Evidence{}, Evidence{}, InProgress, ""},
		{Open, Submit, false, false, proof, Evidence{}, Submitted, ""},
		{Open, Submit, false, false, Evidence{}, Evidence{}, "", domain.CodeInvalid},
		{Open, Approve, true, false, proof, Evidence{}, "", domain.CodeConflict},
		{Open, Reject, true, false, Evidence{}, Evidence{}, "", domain.CodeConflict},
		{Open, Reopen, true, false, Evidence{}, Evidence{}, "", domain.CodeConflict},
		{InProgress, Submit, false, false, proof, Evidence{}, Submitted, ""},
		{InProgress, Start, false, false, Evidence{}, Evidence{}, "", domain.CodeConflict},
		{InProgress, Approve, true, false, proof, Evidence{}, "", domain.CodeConflict},
		{Submitted, Approve, true, false, Evidence{}, proof, Closed, ""},
		{Submitted, Approve, true, false, proof, Evidence{}, Closed, ""},
		{Submitted, Approve, true, false, Evidence{}, Evidence{}, "", domain.CodeInvalid},
		{Submitted, Approve, false, false, Evidence{}, proof, "", domain.CodeForbidden},
		{Submitted, Reject, true, false, Evidence{}, proof, InProgress, ""},
		{Submitted, Reject, false, false, Evidence{}, proof, "", domain.CodeForbidden},
		{Submitted, Submit, false, false, proof, proof, "", domain.CodeConflict},
		{Closed, Reopen, true, false, Evidence{}, proof, InProgress, ""},
		{Closed, Reopen, false, false, Evidence{}, proof, "", domain.CodeForbidden},
		{Closed, Start, false, false, Evidence{}, proof, "", domain.CodeConflict},
		{Closed, Approve, true, false, proof, proof, "", domain.CodeConflict},
		{Open, "delete", true, false, Evidence{}, Evidence{}, "", domain.CodeInvalid},
		{Open, Approve, false, false, Evidence{}, proof, "", domain.CodeForbidden}, // who may act before what the state allows
		{Open, Approve, true, false, Evidence{}, proof, "", domain.CodeConflict},
		// 撤销: any item not yet ended, by whoever may register it there;
		// an item closed or already withdrawn is 409 naming its state.
		{Open, Withdraw, false, true, Evidence{}, Evidence{}, Withdrawn, ""},
		{InProgress, Withdraw, false, true, Evidence{}, Evidence{}, Withdrawn, ""},
		{Submitted, Withdraw, true, true, Evidence{}, proof, Withdrawn, ""},
		{Open, Withdraw, true, false, Evidence{}, Evidence{}, "", domain.CodeForbidden},
		{Closed, Withdraw, true, true, Evidence{}, proof, "", domain.CodeConflict},
		{Withdrawn, Withdraw, true, true, Evidence{}, Evidence{}, "", domain.CodeConflict},
		{Withdrawn, Reopen, true, true, Evidence{}, Evidence{}, "", domain.CodeConflict},
		{Withdrawn, Start, false, true, Evidence{}, Evidence{}, "", domain.CodeConflict},
	}
	for _, tc := range cases {
		who := "responsible"
		if tc.supervisor {
			who = "supervisor"
		}
		t.Run(fmt.Sprintf("%s %s by %s", tc.from, tc.action, who), func(t *testing.T) {
			to, err := Move(KindRectification, Item{Status: tc.from, Evidence: tc.held}, tc.action, tc.supervisor, tc.withdrawer, tc.given)
			if to != tc.to || domain.ErrorCode(err) != tc.code {
				t.Fatalf("got %q, %v; want %q, %q", to, err, tc.to, tc.code)
			}
			if tc.code == domain.CodeConflict {
				de := err.(*domain.Error)
				if len(de.Fields) != 1 || de.Fields[0].Field != "/action" || !strings.Contains(de.MessageZH, StateLabel(KindRectification, tc.from)) {
					t.Fatalf("a refused transition names the item's state and the allowed actions: %+v", de)
				}
			}
		})
	}
}

// TestOverdueIsReadOffTheDeadline: an item not closed by its deadline is
// overdue from the next day; a closed or withdrawn one never is.
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
		{Withdrawn, deadline.AddDays(1), Withdrawn},
	} {
		if got := (Item{Status: tc.status, Deadline: deadline}).State(tc.day); got != tc.want {
			t.Errorf("%s on %s: %s, want %s", tc.status, tc.day, got, tc.want)
		}
	}
	if got := (Item{Status: Open}).State(deadline); got != Open {
		t.Errorf("an item without a deadline is never overdue: %s", got)
	}
}
