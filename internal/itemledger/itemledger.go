// Package itemledger owns the rule of every ledger fieldvisit keeps of
// items to be closed one by one (销号): an inspection's rectifications
// (整改台账, DESIGN §7) and a cadre's ledgers of requests and problems heard
// on visits (四本台账, DESIGN §6b) are the same mechanism. An item has a
// problem, a responsible person or unit and a deadline; it moves open →
// in_progress → submitted → closed, a submission may be sent back, and
// closing needs evidence and a supervisor's approval. An item registered
// in error is withdrawn (撤销) instead, with its reason: it ends there, not
// closed, and no longer counts as open. It is pure: storage
// keeps the items and their history, this package decides what may happen.
package itemledger

import (
	"slices"
	"strings"

	"github.com/fieldvisit/fieldvisit/domain"
)

// Statuses an item is stored in. Overdue is not one of them: it is read
// off the deadline (State), so an item never needs a job to become overdue.
const (
	Open       = "open"
	InProgress = "in_progress"
	Submitted  = "submitted" // the responsible party says it is done, with evidence
	Closed     = "closed"    // 销号: a supervisor accepted the evidence
	// Withdrawn (撤销): registered in error — the wrong household, twice,
	// or for a discrepancy that has since gone away. It ends the item
	// without claiming it was put right, so it is never shown as 已销号.
	Withdrawn = "withdrawn"
)

// Overdue is the state of an item not closed by its deadline.
const Overdue = "overdue"

// Statuses labels the stored statuses and the overdue state.
var Statuses = domain.Vocabulary{
	{Code: Open, Label: "待整改"}, {Code: InProgress, Label: "整改中"}, {Code: Submitted, Label: "待销号审核"}, {Code: Closed, Label: "已销号"},
	{Code: Withdrawn, Label: "已撤销"}, {Code: Overdue, Label: "逾期未整改"},
}

// Actions that move an item.
const (
	Start   = "start"   // the responsible party begins work
	Submit  = "submit"  // done: evidence attached
	Reject  = "reject"  // a supervisor sends a submission back
	Approve = "approve" // a supervisor closes it (销号)
	Reopen  = "reopen"  // a supervisor reopens a closed item found not really fixed
	// Withdraw takes back an item not closed, with its reason, by whoever
	// may register such an item there (Service.mayWithdraw).
	Withdraw = "withdraw"
)

// actions are the actions that move an item, in the order they are listed.
var actions = []string{Start, Submit, Reject, Approve, Reopen, Withdraw}

// transitions lists, for each status, the actions allowed and where they lead.
var transitions = map[string]map[string]string{
	Open:       {Start: InProgress, Submit: Submitted, Withdraw: Withdrawn},
	InProgress: {Submit: Submitted, Withdraw: Withdrawn},
	Submitted:  {Reject: InProgress, Approve: Closed, Withdraw: Withdrawn},
	Closed:     {Reopen: InProgress},
	// Withdrawn allows nothing: an item taken back in error is not worked
	// on again; a new one is registered if the problem turns out real.
}

// supervisorOnly are the actions only a supervisor (or admin) may take.
var supervisorOnly = []string{Reject, Approve, Reopen}

// Evidence is what shows an item was dealt with: a visit or a photo (at
// least one). DocumentIDs are taken in the protocol but refused while
// there is no document store (Service.checkEvidence): a photo of the paper
// stands in.
type Evidence struct {
	VisitIDs    []string
	PhotoIDs    []string
	DocumentIDs []string
	Note        string
}

// What evidence may be, in the messages that ask for it.
const (
	evidenceAccepted   = "a visit or a photo"
	evidenceAcceptedZH = "走访记录或照片"
)

// Empty reports whether the evidence names nothing.
func (e Evidence) Empty() bool {
	return len(e.VisitIDs) == 0 && len(e.PhotoIDs) == 0 && len(e.DocumentIDs) == 0
}

// Item is the part of an item the rule looks at.
type Item struct {
	Status   string
	Deadline domain.Date
	Evidence Evidence // the evidence of the latest submission
}

// EndedStatuses are the statuses of an item done with: closed (销号) or
// withdrawn (撤销). An ended item is neither open nor overdue.
var EndedStatuses = []string{Closed, Withdrawn}

// Ended reports whether the item is done with (EndedStatuses).
func (it Item) Ended() bool { return slices.Contains(EndedStatuses, it.Status) }

// State is the item's state on day: its status, or overdue when it has
// not ended and its deadline has passed.
func (it Item) State(day domain.Date) string {
	if !it.Ended() && !it.Deadline.IsZero() && it.Deadline.Before(day) {
		return Overdue
	}
	return it.Status
}

// Allowed lists the actions possible from status, in a fixed order.
func Allowed(status string) []string {
	var out []string
	for _, a := range actions {
		if _, ok := transitions[status][a]; ok {
			out = append(out, a)
		}
	}
	return out
}

// Move decides an action on it by a caller who is (or is not) a
// supervisor, and who may (or may not) withdraw it, with the evidence
// given. It returns the new status, or an error: 409 conflict naming the
// item's state and the allowed actions when the action does not apply to
// the item's status, 403 when the caller may not take it, 422 when a
// submission or approval lacks evidence.
func Move(kind string, it Item, action string, supervisor, mayWithdraw bool, ev Evidence) (string, error) {
	if !slices.Contains(actions, action) {
		return "", domain.Invalid(domain.FieldError{Field: "/action", Reason: "invalid_enum",
			Message: "action must be " + joinOr(actions), MessageZH: "操作无效"})
	}
	// Who may act comes before the item's state: a cadre is told they may
	// never approve, not that the item cannot be approved yet.
	if (slices.Contains(supervisorOnly, action) && !supervisor) || (action == Withdraw && !mayWithdraw) {
		return "", domain.Forbidden()
	}
	next, ok := transitions[it.Status][action]
	if !ok {
		allowed := Allowed(it.Status)
		return "", &domain.Error{Code: domain.CodeConflict, Reason: "invalid_transition",
			Message:   "an item that is " + it.Status + " allows only: " + joinOr(allowed),
			MessageZH: "当前状态（" + StateLabel(kind, it.Status) + "）下不能执行该操作", Fields: []domain.FieldError{{Field: "/action", Reason: "invalid_transition",
				Message: "allowed: " + joinOr(allowed), MessageZH: "当前状态下允许的操作：" + actionLabels(kind, allowed)}}}
	}
	switch action {
	case Submit:
		if ev.Empty() {
			return "", domain.Invalid(domain.FieldError{Field: "/evidence", Reason: "required",
				Message: "a submission names its evidence: " + evidenceAccepted, MessageZH: "提交须附佐证材料（" + evidenceAcceptedZH + "）"})
		}
	case Approve:
		// 销号 on evidence only: the submission's, or the approver's own.
		if it.Evidence.Empty() && ev.Empty() {
			return "", domain.Invalid(domain.FieldError{Field: "/evidence", Reason: "required",
				Message: "an item is closed on evidence: " + evidenceAccepted, MessageZH: "销号须有佐证材料（" + evidenceAcceptedZH + "）"})
		}
	}
	return next, nil
}

// actionLabels names actions as the ledger of kind shows them, joined
// with 、 (无 for none).
func actionLabels(kind string, actions []string) string {
	if len(actions) == 0 {
		return "无"
	}
	labels := make([]string, len(actions))
	for i, a := range actions {
		labels[i] = ActionLabel(kind, a)
	}
	return strings.Join(labels, "、")
}

func joinOr(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}
