package itemledger

import (
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// Kinds of item. Each kind is a ledger of its own, with its own form;
// the cadres' ledgers (四本台账: 民生诉求, 困难群众 …) are new terms here and
// a spec below, not a new mechanism.
const (
	KindRectification = "rectification" // 整改: a problem an inspection or a supervisor found
	// The cadres' ledgers (四本台账, 002) of what they hear on visits. The
	// seeds name 民生诉求台账 and 困难群众台账; the other two books are not
	// named there, so they are not invented here.
	KindLivelihoodRequest = "livelihood_request" // 民生诉求: a household's request (water, roads, a certificate …)
	KindHardship          = "hardship"           // 困难群众: a hardship to be relieved (illness, disaster, no income …)
)

// Kinds labels the kinds of item.
var Kinds = domain.Vocabulary{
	{Code: KindRectification, Label: "整改事项"},
	{Code: KindLivelihoodRequest, Label: "民生诉求"},
	{Code: KindHardship, Label: "困难群众"},
}

// spec is what differs between the ledgers of the kinds.
type spec struct {
	noun          string // the item, in messages: 整改事项
	ledger        string // the form's title: 整改台账
	deadlineLabel string // its deadline's heading: 整改时限
	needsDeadline bool
	// cadreLedger: a cadre's own ledger, recorded by cadres at the
	// households they help (offline, through sync, too).
	cadreLedger bool
	// states and actions relabel Statuses and Actions (which speak of
	// 整改) for a ledger whose items are handled (办理), not rectified; a
	// code not listed keeps the common label.
	states, actions map[string]string
}

// handledStates and handledActions are the words of a ledger of requests
// and hardships, which are handled (办理), not rectified (整改).
var (
	handledStates  = map[string]string{Open: "待办理", InProgress: "办理中", Overdue: "逾期未办结"}
	handledActions = map[string]string{Start: "开始办理", Reject: "退回重办", Reopen: "重新办理"}
)

var specs = map[string]spec{
	KindRectification: {noun: "整改事项", ledger: "整改台账", deadlineLabel: "整改时限", needsDeadline: true},
	KindLivelihoodRequest: {noun: "民生诉求", ledger: "民生诉求台账", deadlineLabel: "办理时限", needsDeadline: true, cadreLedger: true,
		states: handledStates, actions: handledActions},
	KindHardship: {noun: "困难群众事项", ledger: "困难群众台账", deadlineLabel: "解决时限", needsDeadline: true, cadreLedger: true,
		states: handledStates, actions: handledActions},
}

// StateLabel is state's label in the ledger of kind: the console's words
// and the API's refusals say the same.
func StateLabel(kind, state string) string {
	if l, ok := specs[kind].states[state]; ok {
		return l
	}
	l, _ := Statuses.Label(state)
	return l
}

// ActionLabel is action's label in the ledger of kind (StateLabel's
// counterpart).
func ActionLabel(kind, action string) string {
	if l, ok := specs[kind].actions[action]; ok {
		return l
	}
	l, _ := Actions.Label(action)
	return l
}

// CadreLedger reports whether kind is one of the cadres' ledgers (四本台账).
func CadreLedger(kind string) bool { return specs[kind].cadreLedger }

// CadreLedgers are the kinds of the cadres' ledgers, in display order.
var CadreLedgers = domain.Vocabulary{{Code: KindLivelihoodRequest, Label: "民生诉求台账"}, {Code: KindHardship, Label: "困难群众台账"}}

// Create is the action an item's history starts with.
const Create = "create"

// Actions labels the actions of an item's history.
var Actions = domain.Vocabulary{
	{Code: Create, Label: "登记"}, {Code: Start, Label: "开始整改"}, {Code: Submit, Label: "提交销号"},
	{Code: Reject, Label: "退回重改"}, {Code: Approve, Label: "审核销号"}, {Code: Reopen, Label: "重新整改"},
	{Code: Withdraw, Label: "撤销"},
}

// Record is an item as stored.
type Record struct {
	ID       uuid.UUID
	CountyID uuid.UUID
	Kind     string
	Problem  string
	// Where it lies: a household (and its village), or a village alone.
	HouseholdID *uuid.UUID
	VillageID   uuid.UUID
	RegionPath  string // the household's region or the village: what scope is judged on
	// Where it came from, when an inspection found it.
	CampaignID *uuid.UUID
	FindingID  *uuid.UUID
	// Who answers for it: a cadre, a unit, or a cadre of that unit.
	ResponsibleUserID *uuid.UUID
	ResponsibleUnitID *uuid.UUID
	Item              // status, deadline, the latest evidence
	CreatedBy         uuid.UUID
	CreatedAt         time.Time
	UpdatedAt         time.Time
	ClosedAt          *time.Time
	ClosedBy          *uuid.UUID
	// Withdrawn (撤销): when, by whom and why; the reason is also the
	// withdrawal's note in the history.
	WithdrawnAt    *time.Time
	WithdrawnBy    *uuid.UUID
	WithdrawReason string
	Version        int64
}

// Line is a record with the names a listing and the ledger show.
type Line struct {
	Record
	HouseholdNumber string
	HeadName        string
	VillageName     string
	TownID          *uuid.UUID
	TownName        string
	ResponsibleName string
	UnitName        string
	CampaignName    string
	ClosedByName    string
}

// Event is one step of an item's history.
type Event struct {
	ID       uuid.UUID
	ItemID   uuid.UUID
	Action   string
	From, To string // statuses; From is "" for Create
	By       uuid.UUID
	ByName   string
	At       time.Time
	Note     string
	Evidence Evidence
}

// View is an item as a caller sees it: its state today and the actions
// the caller may take now; History only on a single read.
type View struct {
	Line
	State   string
	Allowed []string
	History []Event
	// FoundOn is the day the problem was found (Service.foundOn): evidence
	// of its rectification is dated no earlier, so the console offers none
	// older.
	FoundOn domain.Date
}

// Campaign is what the ledger knows of an inspection campaign.
type Campaign struct {
	ID         uuid.UUID
	RegionPath string
	Name       string
	CreatedBy  uuid.UUID
	Inspectors []uuid.UUID
	// Held: an unannounced campaign (暗访) still running. The inspected
	// region must not learn of it from the system (inspect.Campaign's
	// VisibleTo), so neither its items.
	Held bool
	// Ended: the campaign is over (inspect.StatusEnded). Its inspectors
	// register no more items under it, as they record no more findings;
	// the supervisors who send out its rectification notices still do,
	// and its items are worked on and closed as any.
	Ended bool
}

// insider says whether p runs the campaign or is above it as an admin:
// those who know of it even while it is held.
func (c Campaign) insider(p domain.Principal) bool {
	return p.UserID == c.CreatedBy || slices.Contains(c.Inspectors, p.UserID) ||
		(p.Role == domain.RoleAdmin && p.InSubtree(c.RegionPath))
}

// knownTo says whether p may name the campaign: inspect.Campaign's
// VisibleTo, read off the same facts.
func (c Campaign) knownTo(p domain.Principal) bool {
	if c.insider(p) {
		return true
	}
	if c.Held || !p.Manages() {
		return false
	}
	return p.InSubtree(c.RegionPath) || (p.RegionPath != "" && strings.HasPrefix(p.RegionPath, c.RegionPath))
}

// Finding is what the ledger knows of an inspection's finding.
type Finding struct {
	ID          uuid.UUID
	CampaignID  uuid.UUID
	HouseholdID *uuid.UUID // nil for a village's form
	VillageID   uuid.UUID
	RecordedAt  time.Time // when the problem was found
}

// Unit is an assisting unit that may answer for an item.
type Unit struct {
	ID         uuid.UUID
	Name       string
	RegionPath string
}

// StateQuery is a state in stored terms: the statuses it takes, and
// whether the deadline has passed on Today (nil: either way).
type StateQuery struct {
	Statuses []string
	Overdue  *bool
	Today    domain.Date
}

// QueryState spells state (a stored status or Overdue) as a query, so a
// listing filtered in the database agrees with Item.State; false for a
// state that does not exist.
func QueryState(state string, today domain.Date) (StateQuery, bool) {
	yes, no := true, false
	switch state {
	case "":
		return StateQuery{Today: today}, true
	case Overdue:
		return StateQuery{Statuses: []string{Open, InProgress, Submitted}, Overdue: &yes, Today: today}, true
	case Closed, Withdrawn:
		return StateQuery{Statuses: []string{state}, Today: today}, true
	case Open, InProgress, Submitted:
		return StateQuery{Statuses: []string{state}, Overdue: &no, Today: today}, true
	}
	return StateQuery{}, false
}

// Matches says whether an item is in the query: the rule the database's
// condition spells (tests hold the two together).
func (q StateQuery) Matches(it Item) bool {
	if len(q.Statuses) > 0 && !slices.Contains(q.Statuses, it.Status) {
		return false
	}
	if q.Overdue != nil {
		late := !it.Deadline.IsZero() && it.Deadline.Before(q.Today)
		return late == *q.Overdue
	}
	return true
}

// Filter is a listing as the store runs it: the caller's scope and the
// filters asked for, all applied together.
type Filter struct {
	Kind string
	// Scope, by role: a manager's subtree; a cadre's own items; an
	// inspector's campaigns.
	ScopePath     string
	ResponsibleOf *uuid.UUID
	InspectorOf   *uuid.UUID
	// Held items stay hidden from Viewer unless they created the campaign,
	// inspect it, or are an admin whose subtree (AdminPath) holds it.
	Viewer    uuid.UUID
	AdminPath string
	// Asked for.
	RegionPath    string
	CampaignID    *uuid.UUID
	ResponsibleID *uuid.UUID
	State         StateQuery
	Limit, Offset int
}

// CheckCadreLedger answers a kind that is not one of the cadres' ledgers
// as not found: the ledger routes name their ledger in the path.
func CheckCadreLedger(kind string) error {
	if !CadreLedger(kind) {
		return &domain.Error{Code: domain.CodeNotFound, Message: "no such ledger", MessageZH: "台账不存在"}
	}
	return nil
}
