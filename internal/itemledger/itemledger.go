// Package itemledger owns the rule of every ledger fieldvisit keeps of
// items to be closed one by one (销号): an inspection's rectifications
// (整改台账, DESIGN §7) and a cadre's ledgers of requests and problems heard
// on visits (四本台账, DESIGN §6b) are the same mechanism. An item has a
// problem, a responsible person or unit and a deadline; it moves open →
// in_progress → submitted → closed, a submission may be sent back, and
// closing needs evidence and a supervisor's approval. It is pure: storage
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
)

// Overdue is the state of an item not closed by its deadline.
const Overdue = "overdue"

// Statuses labels the stored statuses and the overdue state.
var Statuses = domain.Vocabulary{
	{Code: Open, Label: "待整改"}, {Code: InProgress, Label: "整改中"}, {Code: Submitted, Label: "待销号审核"}, {Code: Closed, Label: "已销号"}, {Code: Overdue, Label: "逾期未整改"},
}

// Actions that move an item.
const (
	Start   = "start"   // the responsible party begins work
	Submit  = "submit"  // done: evidence attached
	Reject  = "reject"  // a supervisor sends a submission back
	Approve = "approve" // a supervisor closes it (销号)
	Reopen  = "reopen"  // a supervisor reopens a closed item found not really fixed
)

// transitions lists, for each status, the actions allowed and where they lead.
var transitions = map[string]map[string]string{
	Open:       {Start: InProgress, Submit: Submitted},
	InProgress: {Submit: Submitted},
	Submitted:  {Reject: InProgress, Approve: Closed},
	Closed:     {Reopen: InProgress},
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

// State is the item's state on day: its status, or overdue when it is not
// closed and its deadline has passed.
func (it Item) State(day domain.Date) string {
	if it.Status != Closed && !it.Deadline.IsZero() && it.Deadline.Before(day) {
		return Overdue
	}
	return it.Status
}

// Allowed lists the actions possible from status, in a fixed order.
func Allowed(status string) []string {
	var out []string
	for _, a := range []string{Start, Submit, Reject, Approve, Reopen} {
		if _, ok := transitions[status][a]; ok {
			out = append(out, a)
		}
	}
	return out
}

// Move decides an action on it by a caller who is (or is not) a
// supervisor, with the evidence given. It returns the new status, or an
// error: 409 conflict naming the allowed actions when the action does not
// apply to the item's status, 403 when the role may not take it, 422 when
// a submission or approval lacks evidence.
func Move(kind string, it Item, action string, supervisor bool, ev Evidence) (string, error) {
	if !slices.Contains([]string{Start, Submit, Reject, Approve, Reopen}, action) {
		return "", domain.Invalid(domain.FieldError{Field: "/action", Reason: "invalid_enum",
			Message: "action must be start, submit, reject, approve or reopen", MessageZH: "操作无效"})
	}
	// Who may act comes before the item's state: a cadre is told they may
	// never approve, not that the item cannot be approved yet.
	if slices.Contains(supervisorOnly, action) && !supervisor {
		return "", domain.Forbidden()
	}
	next, ok := transitions[it.Status][action]
	if !ok {
		allowed := Allowed(it.Status)
		return "", &domain.Error{Code: domain.CodeConflict, Reason: "invalid_transition",
			Message:   "an item that is " + it.Status + " allows only: " + joinOr(allowed),
			MessageZH: "当前状态(" + StateLabel(kind, it.Status) + ")下不能执行该操作", Fields: []domain.FieldError{{Field: "/action", Reason: "invalid_transition",
				Message: "allowed: " + joinOr(allowed), MessageZH: "当前状态下允许的操作: " + actionLabels(kind, allowed)}}}
	}
	switch action {
	case Submit:
		if ev.Empty() {
			return "", domain.Invalid(domain.FieldError{Field: "/evidence", Reason: "required",
				Message: "a submission names its evidence: " + evidenceAccepted, MessageZH: "提交须附整改材料(" + evidenceAcceptedZH + ")"})
		}
	case Approve:
		// 销号 on evidence only: the submission's, or the approver's own.
		if it.Evidence.Empty() && ev.Empty() {
			return "", domain.Invalid(domain.FieldError{Field: "/evidence", Reason: "required",
				Message: "an item is closed on evidence: " + evidenceAccepted, MessageZH: "销号须有整改材料(" + evidenceAcceptedZH + ")"})
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

func joinOr(actions []string) string {
	if len(actions) == 0 {
		return "none"
	}
	out := actions[0]
	for _, a := range actions[1:] {
		out += ", " + a
	}
	return out
}
