package itemledger

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// Store is what the ledger service needs from persistence.
type Store interface {
	Tx(ctx context.Context, fn func(TxStore) error) error
	TxStore
}

// TxStore is Store bound to one transaction.
type TxStore interface {
	Region(ctx context.Context, id uuid.UUID) (domain.Region, error)
	RegionWithin(ctx context.Context, path string, id uuid.UUID) (domain.Region, error)
	User(ctx context.Context, id uuid.UUID) (domain.User, error)
	Household(ctx context.Context, scope domain.HouseholdScope, today domain.Date, id uuid.UUID) (domain.Household, error)
	Visit(ctx context.Context, id uuid.UUID) (domain.Visit, error)
	Photo(ctx context.Context, id uuid.UUID) (domain.Photo, error)
	PhotoVisible(ctx context.Context, p domain.Photo, reader domain.VisitReader, scope domain.HouseholdScope, today domain.Date) (bool, error)

	LedgerUnit(ctx context.Context, id uuid.UUID) (Unit, error)
	LedgerCampaign(ctx context.Context, id uuid.UUID) (Campaign, error)
	LedgerFinding(ctx context.Context, id uuid.UUID) (Finding, error)
	// LedgerFindingProblems lists what the finding records as a problem
	// (its problem answers, its discrepancies with the cadre's records —
	// inspect.FindingProblems); empty when it records none. In a
	// transaction it holds the finding to its end, so two registrations
	// for one finding are judged one after the other.
	LedgerFindingProblems(ctx context.Context, id uuid.UUID) ([]string, error)
	// OpenLedgerItemOfFinding is the id of the finding's item neither
	// closed nor withdrawn; not found when it has none.
	OpenLedgerItemOfFinding(ctx context.Context, findingID uuid.UUID) (uuid.UUID, error)

	CreateLedgerItem(ctx context.Context, r Record, ev Event, audit domain.AuditEntry) error
	LedgerItem(ctx context.Context, id uuid.UUID) (Line, error)
	LedgerHistory(ctx context.Context, id uuid.UUID) ([]Event, error)
	LedgerItems(ctx context.Context, f Filter) ([]Line, int64, error)
	// MoveLedgerItem stores r, whose Version is one past the stored one
	// (else a stale-version conflict), with the event that moved it.
	MoveLedgerItem(ctx context.Context, r Record, ev Event, audit domain.AuditEntry) error
}

// Service keeps the ledgers of items closed one by one.
type Service struct {
	port  Store
	store TxStore
	now   func() time.Time
	// spillDir is where the XLSX exports' rows wait past 16 MB (SpillTo).
	spillDir string
}

// NewService builds the service; now is the clock.
func NewService(store Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{port: store, store: store, now: now}
}

// SpillTo names the directory where excelize's temporary files go (""
// is the system's): the server gives its own, which serve empties at
// start and checks is writable.
func (s *Service) SpillTo(dir string) { s.spillDir = dir }

func (s *Service) inTx(ctx context.Context, fn func(in *Service) error) error {
	return s.port.Tx(ctx, func(tx TxStore) error {
		in := *s
		in.store = tx
		return fn(&in)
	})
}

func (s *Service) today() domain.Date { return domain.DateOf(s.now()) }

// notFound answers an item that is absent or out of the caller's sight.
func notFound(kind string) *domain.Error {
	return &domain.Error{Code: domain.CodeNotFound, Message: kind + " not found", MessageZH: "未找到该" + specs[kind].noun}
}

func audit(p domain.Principal, action string, r Record, detail map[string]any) domain.AuditEntry {
	actor := p.UserID
	return domain.AuditEntry{ActorID: &actor, ActorName: p.Username, Action: action, ObjectType: r.Kind, ObjectID: r.ID.String(),
		HouseholdID: r.HouseholdID, RegionPath: r.RegionPath, Detail: detail, RequestID: p.RequestID}
}

// Limits of an item.
const (
	maxProblem  = 2000
	maxNote     = 2000
	maxEvidence = 30 // ids of each kind in one action
)

// NewItem is what a supervisor, an inspector or (on their own ledgers) a
// cadre registers.
type NewItem struct {
	// ID is the item's id when the caller made it (a phone, offline);
	// zero: a new one.
	ID                uuid.UUID
	Kind              string
	Problem           string
	HouseholdID       *uuid.UUID
	VillageID         *uuid.UUID
	CampaignID        *uuid.UUID
	FindingID         *uuid.UUID
	ResponsibleUserID *uuid.UUID
	ResponsibleUnitID *uuid.UUID
	Deadline          domain.Date
	// RecordedOn is the day a phone recorded the item offline (zero:
	// today); the deadline may not be before it.
	RecordedOn domain.Date
}

// place is where a new item lies.
type place struct {
	householdID *uuid.UUID
	villageID   uuid.UUID
	countyID    uuid.UUID
	path        string
}

// Create registers an item. Supervisors and admins register items of
// their subtree; an inspector registers one for a finding of a campaign
// they inspect, while it runs (once it ended, 409); a cadre registers items of the cadres' ledgers at the
// households and villages they help, answered for by themselves unless
// they name another cadre. Every field is checked and named before
// anything is written.
func (s *Service) Create(ctx context.Context, p domain.Principal, in NewItem) (View, error) {
	var v View
	err := s.inTx(ctx, func(tx *Service) error {
		var err error
		v, _, err = tx.create(ctx, p, in)
		return err
	})
	if domain.Reason(err) == "duplicate" && in.FindingID != nil {
		// Two registrations for one finding at once: the store's index
		// refused the second. Name the item the first one made.
		if id, rerr := s.store.OpenLedgerItemOfFinding(ctx, *in.FindingID); rerr == nil {
			return View{}, findingHasItem(id)
		}
	}
	return v, err
}

// CreateIn is Create inside the caller's transaction tx (a phone's push):
// an item created offline with the phone's id. The same item sent again
// (same id, creator, kind, place, problem, deadline) is not created
// twice: created is then false.
func (s *Service) CreateIn(ctx context.Context, tx TxStore, p domain.Principal, in NewItem) (v View, created bool, err error) {
	bound := *s
	bound.store = tx
	return bound.create(ctx, p, in)
}

func (s *Service) create(ctx context.Context, p domain.Principal, in NewItem) (View, bool, error) {
	sp, ok := specs[in.Kind]
	if !ok {
		return View{}, false, domain.Invalid(domain.FieldError{Field: "/kind", Reason: "invalid_enum", Message: "unknown kind of item", MessageZH: "事项类别无效"})
	}
	if !registers(p, sp) {
		return View{}, false, domain.Forbidden()
	}
	if p.Role == domain.RoleCadre && in.ResponsibleUserID == nil && in.ResponsibleUnitID == nil {
		self := p.UserID
		in.ResponsibleUserID = &self
	}
	if in.ID != uuid.Nil {
		if v, err := s.resent(ctx, p, in); err == nil || !domain.IsCode(err, domain.CodeNotFound) {
			return v, false, err
		}
	}
	var fe domain.FieldErrors
	domain.CheckText(&fe, "/problem", "问题描述", in.Problem, 1, maxProblem)
	today := s.today()
	// An item recorded offline days ago is judged on that day: its
	// deadline may have passed since (it is overdue then, not refused).
	recorded := today
	if !in.RecordedOn.IsZero() && in.RecordedOn.Before(today) {
		recorded = in.RecordedOn
	}
	switch {
	case in.Deadline.IsZero() && sp.needsDeadline:
		fe.Required("/deadline", sp.deadlineLabel)
	case !in.Deadline.IsZero() && in.Deadline.Before(recorded):
		fe.Add("/deadline", "out_of_range", "the deadline is in the past", sp.deadlineLabel+"不能早于今天")
	case in.Deadline.Year > domain.LastYear:
		// 9999-12-31 is a slip of the keyboard, or a way never to be
		// overdue; the ledgers' other dates end with domain.LastYear too.
		fe.Add("/deadline", "out_of_range", fmt.Sprintf("the deadline must lie in %d or before", domain.LastYear),
			fmt.Sprintf("%s不能晚于%d年", sp.deadlineLabel, domain.LastYear))
	}
	pl, camp, err := s.placeOf(ctx, p, in, today, &fe)
	if err != nil {
		return View{}, false, err
	}
	if err := s.checkResponsible(ctx, in, pl, &fe); err != nil {
		return View{}, false, err
	}
	if err := fe.Err(); err != nil {
		return View{}, false, err
	}
	if in.FindingID != nil {
		if err := s.checkNoOpenItem(ctx, *in.FindingID, uuid.Nil); err != nil {
			return View{}, false, err
		}
	}
	now := s.now().UTC()
	id := in.ID
	if id == uuid.Nil {
		id = uuid.New()
	}
	r := Record{ID: id, CountyID: pl.countyID, Kind: in.Kind, Problem: in.Problem, HouseholdID: pl.householdID, VillageID: pl.villageID,
		RegionPath: pl.path, CampaignID: in.CampaignID, FindingID: in.FindingID, ResponsibleUserID: in.ResponsibleUserID,
		ResponsibleUnitID: in.ResponsibleUnitID, Item: Item{Status: Open, Deadline: in.Deadline}, CreatedBy: p.UserID, CreatedAt: now,
		UpdatedAt: now, Version: 1}
	ev := Event{ID: eventID(), ItemID: r.ID, Action: Create, To: Open, By: p.UserID, At: now}
	detail := map[string]any{"deadline": in.Deadline.String()}
	if camp != nil {
		detail["campaign_id"] = camp.ID.String()
	}
	if err := s.store.CreateLedgerItem(ctx, r, ev, audit(p, "create", r, detail)); err != nil {
		return View{}, false, err
	}
	v, err := s.view(ctx, p, r.ID, nil)
	return v, err == nil, err
}

// registers says whether p's role registers items of the kind of sp:
// managers every kind (in their subtree), inspectors rectifications (for
// findings of the campaigns they inspect), cadres items of their own
// ledgers. Create and Withdraw (mayWithdraw) judge by it.
func registers(p domain.Principal, sp spec) bool {
	switch {
	case p.Manages():
		return true
	case p.Role == domain.RoleInspector:
		return !sp.cadreLedger
	case p.Role == domain.RoleCadre:
		return sp.cadreLedger
	}
	return false
}

// mayWithdraw says whether p, who sees the item l (of campaign camp, if
// any), may take it back (撤销): whoever may register such an item there —
// a manager of its subtree; an inspector an item of a finding of a
// campaign they inspect, while it runs (as Create lets them register it);
// a cadre an item of their own ledgers they answer for (a cadre's item lies
// where the cadre helps: checkResponsible).
func mayWithdraw(p domain.Principal, l Line, camp *Campaign) bool {
	if !registers(p, specs[l.Kind]) {
		return false
	}
	switch p.Role {
	case domain.RoleInspector:
		return l.FindingID != nil && camp != nil && slices.Contains(camp.Inspectors, p.UserID) && !camp.Ended
	case domain.RoleCadre:
		return l.ResponsibleUserID != nil && *l.ResponsibleUserID == p.UserID
	}
	return p.InSubtree(l.RegionPath)
}

// resent answers an item sent again under its id: the same item by the
// same caller is the stored one; anything else under that id is refused.
// An id nobody used is not found.
func (s *Service) resent(ctx context.Context, p domain.Principal, in NewItem) (View, error) {
	l, err := s.store.LedgerItem(ctx, in.ID)
	if err != nil {
		return View{}, err
	}
	same := l.CreatedBy == p.UserID && l.Kind == in.Kind && l.Problem == in.Problem && l.Deadline == in.Deadline &&
		sameID(l.HouseholdID, in.HouseholdID) && (in.VillageID == nil || *in.VillageID == l.VillageID)
	if !same {
		return View{}, domain.Invalid(domain.FieldError{Field: "/id", Reason: "id_taken", Message: "this id belongs to another record", MessageZH: "该编号已被其他记录使用"})
	}
	return s.view(ctx, p, l.ID, nil)
}

func sameID(a, b *uuid.UUID) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// placeOf checks where a new item lies — its campaign and finding, its
// household or village — and returns it with the campaign named.
func (s *Service) placeOf(ctx context.Context, p domain.Principal, in NewItem, today domain.Date, fe *domain.FieldErrors) (place, *Campaign, error) {
	var pl place
	var camp *Campaign
	inspector := p.Role == domain.RoleInspector
	if in.CampaignID != nil {
		c, err := s.store.LedgerCampaign(ctx, *in.CampaignID)
		switch {
		case err != nil && !domain.IsCode(err, domain.CodeNotFound):
			return pl, nil, err
		case err != nil || !c.knownTo(p):
			fe.Add("/campaign_id", "unknown", "inspection not found", "督查不存在")
		case inspector && !slices.Contains(c.Inspectors, p.UserID):
			fe.Add("/campaign_id", "not_inspector", "you do not inspect this campaign", "您不是该督查的督查人员")
		case inspector && c.Ended:
			return pl, nil, &domain.Error{Code: domain.CodeConflict, Reason: "ended", Message: "the campaign has ended; its inspectors register no more items",
				MessageZH: "该督查已结束，督查人员不能再登记整改事项", Fields: []domain.FieldError{{Field: "/campaign_id", Reason: "ended",
					Message: "the campaign has ended", MessageZH: "该督查已结束"}}}
		default:
			camp = &c
		}
	} else if inspector || in.FindingID != nil {
		fe.Add("/campaign_id", "required", "an inspector's item, or one of a finding, names its campaign", "请注明所属督查")
	}
	var finding *Finding
	if in.FindingID != nil {
		f, err := s.store.LedgerFinding(ctx, *in.FindingID)
		switch {
		case err != nil && !domain.IsCode(err, domain.CodeNotFound):
			return pl, nil, err
		case err != nil:
			fe.Add("/finding_id", "unknown", "finding not found", "督查发现不存在")
		case in.CampaignID != nil && f.CampaignID != *in.CampaignID:
			fe.Add("/finding_id", "other_campaign", "the finding is of another campaign", "该督查发现不属于所选督查")
		default:
			finding = &f
			if err := s.checkRecordsProblem(ctx, f, fe); err != nil {
				return pl, nil, err
			}
		}
	} else if inspector {
		fe.Add("/finding_id", "required", "an inspector registers an item for a finding", "督查人员登记整改事项须对应督查发现")
	}
	if inspector && camp == nil {
		// Nothing to judge the place against; the campaign's error says why.
		return pl, nil, nil
	}
	householdID, villageID := in.HouseholdID, in.VillageID
	if householdID == nil && villageID == nil && finding != nil {
		householdID, villageID = finding.HouseholdID, &finding.VillageID
	}
	// An inspector reaches the campaign's region; a manager their subtree.
	scope, within := p.HouseholdScope(), p.RegionPath
	if inspector {
		scope, within = domain.HouseholdScope{RegionPath: camp.RegionPath}, camp.RegionPath
	}
	switch {
	case householdID != nil:
		h, err := s.store.Household(ctx, scope, today, *householdID)
		if domain.IsCode(err, domain.CodeNotFound) {
			fe.Add("/household_id", "unknown", "household not found", "农户不存在")
			return pl, camp, nil
		}
		if err != nil {
			return pl, nil, err
		}
		r, err := s.store.Region(ctx, h.RegionID)
		if err != nil {
			return pl, nil, err
		}
		id := h.ID
		pl = place{householdID: &id, villageID: h.VillageID, countyID: h.CountyID, path: r.Path}
		if villageID != nil && *villageID != h.VillageID {
			fe.Add("/village_id", "mismatch", "the household is not in this village", "该农户不在所选行政村")
		}
		if finding != nil && finding.HouseholdID != nil && *finding.HouseholdID != h.ID {
			fe.Add("/household_id", "mismatch", "the finding is about another household", "该督查发现涉及的不是此农户")
		}
	case villageID != nil:
		v, err := s.store.RegionWithin(ctx, within, *villageID)
		if domain.IsCode(err, domain.CodeNotFound) {
			fe.Add("/village_id", "unknown", "village not found", "行政村不存在")
			return pl, camp, nil
		}
		if err != nil {
			return pl, nil, err
		}
		if v.Level != domain.LevelVillage || v.CountyID == nil {
			fe.Add("/village_id", "invalid_level", "an item's region is a village", "应选择行政村")
			return pl, camp, nil
		}
		pl = place{villageID: v.ID, countyID: *v.CountyID, path: v.Path}
		if finding != nil && finding.VillageID != v.ID {
			fe.Add("/village_id", "mismatch", "the finding is about another village", "该督查发现涉及的不是此行政村")
		}
	default:
		fe.Add("/household_id", "required", "an item concerns a household or a village", "请选择涉及的农户或行政村")
		return pl, camp, nil
	}
	if camp != nil && !strings.HasPrefix(pl.path, camp.RegionPath) {
		field := "/village_id"
		if pl.householdID != nil {
			field = "/household_id"
		}
		fe.Add(field, "outside_campaign", "outside the campaign's region", "不在该督查的范围内")
	}
	return pl, camp, nil
}

// checkRecordsProblem lets an item be registered for a finding only when
// the finding records a problem: a problem answer, or a discrepancy with
// the cadre's records (visits the household denies …). A finding with
// everything in order has nothing to rectify.
func (s *Service) checkRecordsProblem(ctx context.Context, f Finding, fe *domain.FieldErrors) error {
	problems, err := s.store.LedgerFindingProblems(ctx, f.ID)
	if err != nil {
		return err
	}
	if len(problems) == 0 {
		fe.Add("/finding_id", "no_problem", "the finding records no problem: no answer says one, and it found no discrepancy with the cadre's records",
			"该督查发现未记录问题（核查结果均正常，与帮扶干部的记录也无出入），不能登记整改事项")
	}
	return nil
}

// ReasonFindingHasItem refuses a second item for a finding whose item is
// neither closed nor withdrawn.
const ReasonFindingHasItem = "finding_has_item"

func findingHasItem(existing uuid.UUID) error {
	id := existing.String()
	return &domain.Error{Code: domain.CodeConflict, Reason: ReasonFindingHasItem,
		Message:   "the finding already has an item not closed (" + id + "); work on that one, or withdraw it if it was registered in error",
		MessageZH: "该督查发现已登记整改事项（编号" + id + "），销号或撤销前不能重复登记", Err: &domain.ExistingRecord{ID: existing},
		Fields: []domain.FieldError{{Field: "/finding_id", Reason: ReasonFindingHasItem, Message: "the finding has item " + id,
			MessageZH: "该督查发现已有未销号的整改事项（编号" + id + "）"}}}
}

// checkNoOpenItem refuses a finding a second item not closed: one
// problem, one item to work on and close (整改一项、销号一项). A withdrawn
// item (撤销) does not count: it was registered in error. except is an
// item that does not count (the one being reopened).
func (s *Service) checkNoOpenItem(ctx context.Context, findingID, except uuid.UUID) error {
	id, err := s.store.OpenLedgerItemOfFinding(ctx, findingID)
	switch {
	case domain.IsCode(err, domain.CodeNotFound):
		return nil
	case err != nil:
		return err
	case id != except:
		return findingHasItem(id)
	}
	return nil
}

// checkResponsible checks who answers for a new item: an active cadre
// whose region holds the item's place, a unit of a region holding it, or
// both (the cadre then of that unit).
func (s *Service) checkResponsible(ctx context.Context, in NewItem, pl place, fe *domain.FieldErrors) error {
	if in.ResponsibleUserID == nil && in.ResponsibleUnitID == nil {
		fe.Add("/responsible_user_id", "required", "an item has a responsible cadre or unit", "请指定责任人或责任单位")
		return nil
	}
	holds := func(path string) bool { return pl.path == "" || strings.HasPrefix(pl.path, path) }
	if id := in.ResponsibleUserID; id != nil {
		u, err := s.store.User(ctx, *id)
		if err != nil && !domain.IsCode(err, domain.CodeNotFound) {
			return err
		}
		switch {
		case err != nil || !u.Active || u.Role != domain.RoleCadre || !holds(u.RegionPath):
			fe.Add("/responsible_user_id", "invalid", "not an active cadre of the item's region", "不是该地在岗的帮扶干部")
		case in.ResponsibleUnitID != nil && (u.UnitID == nil || *u.UnitID != *in.ResponsibleUnitID):
			fe.Add("/responsible_user_id", "other_unit", "the cadre is not of the responsible unit", "责任人不属于所选责任单位")
		}
	}
	if id := in.ResponsibleUnitID; id != nil {
		u, err := s.store.LedgerUnit(ctx, *id)
		if err != nil && !domain.IsCode(err, domain.CodeNotFound) {
			return err
		}
		if err != nil || !holds(u.RegionPath) {
			fe.Add("/responsible_unit_id", "invalid", "not a unit of the item's region", "不是该地的帮扶单位")
		}
	}
	return nil
}

// eventID orders the events of one instant (a stopped clock, two quick
// taps) as they were made: UUIDv7 ids grow within the process.
func eventID() uuid.UUID {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.New()
	}
	return id
}

// campaignOf reads the item's campaign; nil for an item of none.
func (s *Service) campaignOf(ctx context.Context, l Line) (*Campaign, error) {
	if l.CampaignID == nil {
		return nil, nil
	}
	c, err := s.store.LedgerCampaign(ctx, *l.CampaignID)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// sees says whether p may see the item: a manager of its subtree, the
// cadre who answers for it, an inspector of its campaign — and, while its
// campaign is held (暗访), only those who know of the campaign. It
// returns the item's campaign, which also says what p may do.
func (s *Service) sees(ctx context.Context, p domain.Principal, l Line) (bool, *Campaign, error) {
	camp, err := s.campaignOf(ctx, l)
	if err != nil {
		return false, nil, err
	}
	if camp != nil && camp.Held && !camp.insider(p) {
		return false, camp, nil
	}
	switch p.Role {
	case domain.RoleAdmin, domain.RoleSupervisor:
		return p.InSubtree(l.RegionPath), camp, nil
	case domain.RoleCadre:
		return l.ResponsibleUserID != nil && *l.ResponsibleUserID == p.UserID, camp, nil
	case domain.RoleInspector:
		return camp != nil && slices.Contains(camp.Inspectors, p.UserID), camp, nil
	}
	return false, camp, nil
}

// mayTake lists the actions p may take on an item p sees: the status's
// actions, a supervisor's only for managers, withdraw for those who may
// (mayWithdraw), and nothing else for an inspector (who reads the ledger
// of their campaigns).
func mayTake(p domain.Principal, l Line, camp *Campaign) []string {
	out := []string{}
	for _, a := range Allowed(l.Status) {
		switch {
		case a == Withdraw:
			if mayWithdraw(p, l, camp) {
				out = append(out, a)
			}
		case p.Role == domain.RoleInspector:
		case p.Manages() || !slices.Contains(supervisorOnly, a):
			out = append(out, a)
		}
	}
	return out
}

func (s *Service) viewOf(p domain.Principal, l Line, camp *Campaign, today domain.Date) View {
	return View{Line: l, State: l.State(today), Allowed: mayTake(p, l, camp)}
}

// view reads an item with its history; seen is nil to skip the sight
// check (the caller just wrote it), else it says whether p sees the item
// and returns its campaign (read once for both).
func (s *Service) view(ctx context.Context, p domain.Principal, id uuid.UUID, seen func(Line) (bool, *Campaign, error)) (View, error) {
	l, err := s.store.LedgerItem(ctx, id)
	if err != nil {
		return View{}, err
	}
	var camp *Campaign
	if seen != nil {
		var ok bool
		if ok, camp, err = seen(l); err != nil {
			return View{}, err
		}
		if !ok {
			return View{}, notFound(l.Kind)
		}
	} else if camp, err = s.campaignOf(ctx, l); err != nil {
		return View{}, err
	}
	v := s.viewOf(p, l, camp, s.today())
	if v.History, err = s.store.LedgerHistory(ctx, id); err != nil {
		return View{}, err
	}
	if v.FoundOn, err = s.foundOn(ctx, l); err != nil {
		return View{}, err
	}
	return v, nil
}

// Item reads an item of kind that p may see, with its history.
func (s *Service) Item(ctx context.Context, p domain.Principal, kind string, id uuid.UUID) (View, error) {
	v, err := s.view(ctx, p, id, func(l Line) (bool, *Campaign, error) {
		if l.Kind != kind {
			return false, nil, nil
		}
		return s.sees(ctx, p, l)
	})
	if domain.IsCode(err, domain.CodeNotFound) {
		return View{}, notFound(kind)
	}
	return v, err
}

// Query filters a listing.
type Query struct {
	Kind          string
	RegionID      *uuid.UUID // items lying in this region (of the caller's subtree)
	CampaignID    *uuid.UUID
	ResponsibleID *uuid.UUID
	State         string // a stored status or overdue
	Limit, Offset int
}

// filter turns a query into the store's filter under p's scope; what is
// wrong with the query goes in fe, and is returned before region_id is
// looked up (a region not in p's subtree is not found).
func (s *Service) filter(ctx context.Context, p domain.Principal, q Query, fe *domain.FieldErrors) (Filter, error) {
	f := Filter{Kind: q.Kind, Viewer: p.UserID, CampaignID: q.CampaignID, ResponsibleID: q.ResponsibleID, Limit: q.Limit, Offset: q.Offset}
	switch p.Role {
	case domain.RoleAdmin:
		f.ScopePath, f.AdminPath = p.RegionPath, p.RegionPath
	case domain.RoleSupervisor:
		f.ScopePath = p.RegionPath
	case domain.RoleCadre:
		id := p.UserID
		f.ResponsibleOf = &id
	case domain.RoleInspector:
		id := p.UserID
		f.InspectorOf = &id
	default:
		return f, domain.Forbidden()
	}
	sq, ok := QueryState(q.State, s.today())
	if !ok {
		fe.Add("status", "invalid_enum", "status must be open, in_progress, submitted, closed, withdrawn or overdue", "状态无效")
	}
	f.State = sq
	if err := fe.Err(); err != nil {
		return f, err
	}
	var err error
	f.RegionPath, err = domain.RegionParam(ctx, p, q.RegionID, s.store.RegionWithin)
	return f, err
}

// Items lists the items of a kind that p may see, oldest first.
func (s *Service) Items(ctx context.Context, p domain.Principal, q Query) ([]View, int64, error) {
	var fe domain.FieldErrors
	f, err := s.filter(ctx, p, q, &fe)
	if err == nil {
		err = fe.Err()
	}
	if err != nil {
		return nil, 0, err
	}
	lines, total, err := s.store.LedgerItems(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	today := s.today()
	out := make([]View, len(lines))
	// Only an inspector's actions depend on the campaign (mayWithdraw):
	// read each of theirs once.
	camps := map[uuid.UUID]*Campaign{}
	for i, l := range lines {
		var camp *Campaign
		if p.Role == domain.RoleInspector && l.CampaignID != nil {
			var ok bool
			if camp, ok = camps[*l.CampaignID]; !ok {
				if camp, err = s.campaignOf(ctx, l); err != nil {
					return nil, 0, err
				}
				camps[*l.CampaignID] = camp
			}
		}
		out[i] = s.viewOf(p, l, camp, today)
	}
	return out, total, nil
}

// Step is an action asked on an item.
type Step struct {
	Action   string
	Version  int64 // the version the caller saw
	Evidence Evidence
	Note     string
}

// Act takes an action on an item of kind: start and submit by the cadre
// who answers for it or a manager; reject, approve (销号) and reopen by a
// manager; withdraw (撤销) of an item not closed, with its reason in the
// note, by whoever may register such an item there (mayWithdraw). The
// evidence named must exist and be the caller's to see.
func (s *Service) Act(ctx context.Context, p domain.Principal, kind string, id uuid.UUID, a Step) (View, error) {
	err := s.inTx(ctx, func(in *Service) error {
		l, err := in.store.LedgerItem(ctx, id)
		if domain.IsCode(err, domain.CodeNotFound) {
			return notFound(kind)
		}
		if err != nil {
			return err
		}
		if l.Kind != kind {
			return notFound(kind)
		}
		ok, camp, err := in.sees(ctx, p, l)
		if err != nil || !ok {
			return firstErr(err, notFound(kind))
		}
		if p.Role == domain.RoleInspector && a.Action != Withdraw {
			return domain.Forbidden()
		}
		var fe domain.FieldErrors
		if a.Version < 1 {
			fe.Required("/version", "版本号")
		}
		domain.CheckText(&fe, "/note", "说明", a.Note, 0, maxNote)
		domain.CheckText(&fe, "/evidence/note", "材料说明", a.Evidence.Note, 0, maxNote)
		if err := fe.Err(); err != nil {
			return err
		}
		if a.Version != l.Version {
			return domain.Stale(kind, specs[kind].noun)
		}
		next, err := Move(l.Kind, l.Item, a.Action, p.Manages(), mayWithdraw(p, l, camp), a.Evidence)
		if err != nil {
			return err
		}
		if a.Action == Reopen && l.FindingID != nil {
			// A closed item reopened beside a newer one for its finding
			// would make two to work on.
			if err := in.checkNoOpenItem(ctx, *l.FindingID, l.ID); err != nil {
				return err
			}
		}
		switch {
		case (a.Action == Reject || a.Action == Reopen) && strings.TrimSpace(a.Note) == "":
			fe.Add("/note", "required", "say why it goes back", "请说明退回或重新整改的原因")
		case a.Action == Withdraw && strings.TrimSpace(a.Note) == "":
			fe.Add("/note", "required", "a withdrawal says why the item was registered in error", "请填写撤销原因")
		case a.Action == Withdraw && !a.Evidence.Empty():
			// A withdrawal claims nothing was done: evidence would read
			// as if it had been.
			fe.Add("/evidence", "not_allowed", "a withdrawal rests on its reason, not on evidence", "撤销无需附办理材料")
		}
		evidence, err := in.checkEvidence(ctx, p, l, a.Evidence, &fe)
		if err != nil {
			return err
		}
		if err := fe.Err(); err != nil {
			return err
		}
		now := in.now().UTC()
		r := l.Record
		r.Status, r.UpdatedAt, r.Version = next, now, l.Version+1
		if !evidence.Empty() && (a.Action == Submit || a.Action == Approve) {
			r.Evidence = evidence
		}
		switch a.Action {
		case Approve:
			by := p.UserID
			r.ClosedAt, r.ClosedBy = &now, &by
		case Reopen:
			r.ClosedAt, r.ClosedBy = nil, nil
		case Withdraw:
			by := p.UserID
			r.WithdrawnAt, r.WithdrawnBy, r.WithdrawReason = &now, &by, strings.TrimSpace(a.Note)
		}
		ev := Event{ID: eventID(), ItemID: r.ID, Action: a.Action, From: l.Status, To: next, By: p.UserID, At: now, Note: a.Note, Evidence: evidence}
		detail := map[string]any{"from": l.Status, "to": next, "visits": len(evidence.VisitIDs), "photos": len(evidence.PhotoIDs)}
		if a.Action == Withdraw {
			detail["reason"] = r.WithdrawReason
		}
		return in.store.MoveLedgerItem(ctx, r, ev, audit(p, a.Action, r, detail))
	})
	if err != nil {
		return View{}, err
	}
	return s.view(ctx, p, id, nil)
}

func firstErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// foundOn is the day the item's problem was found (China time): the day
// its finding was recorded, for an item of a finding, else the day the
// item was registered. Evidence of its rectification is dated no earlier.
func (s *Service) foundOn(ctx context.Context, l Line) (domain.Date, error) {
	at := l.CreatedAt
	if l.FindingID != nil {
		f, err := s.store.LedgerFinding(ctx, *l.FindingID)
		switch {
		case err == nil && !f.RecordedAt.IsZero() && f.RecordedAt.Before(at):
			at = f.RecordedAt
		case err != nil && !domain.IsCode(err, domain.CodeNotFound):
			return domain.Date{}, err
		}
	}
	return domain.DateOf(at), nil
}

// predates refuses evidence dated before the problem was found: it
// cannot show the problem put right.
func predates(fe *domain.FieldErrors, field, what string, dated, found domain.Date) {
	fe.Add(field, "before_item", "the "+what+" is dated "+dated.String()+", before the problem was found on "+found.String(),
		map[string]string{"visit": "该走访记录", "photo": "该照片"}[what]+"日期为"+dated.String()+"，早于问题发现日期"+found.String()+"，不能作为佐证材料")
}

// checkEvidence checks that the evidence named exists, is p's to see, is
// about the item and is dated on or after the day its problem was found
// (foundOn) — one rule for every kind of ledger: a visit p may read (a
// cadre's own) to its household or in its village, begun that day or
// later; a stored photo p may see, taken (its EXIF time, else its visit's
// start, else its upload) that day or later. There is no document store
// yet, so documents are refused: a photo of the paper stands in. It
// returns the evidence with its ids in canonical form.
func (s *Service) checkEvidence(ctx context.Context, p domain.Principal, l Line, ev Evidence, fe *domain.FieldErrors) (Evidence, error) {
	today := s.today()
	out := Evidence{Note: ev.Note}
	var found domain.Date
	if len(ev.VisitIDs) > 0 || len(ev.PhotoIDs) > 0 {
		var err error
		if found, err = s.foundOn(ctx, l); err != nil {
			return out, err
		}
	}
	if len(ev.DocumentIDs) > 0 {
		fe.Add("/evidence/document_ids", "unsupported", "documents cannot be attached yet; evidence is "+evidenceAccepted+" (attach a photo of the document)",
			"暂不支持文件材料，佐证材料须为"+evidenceAcceptedZH+"（可将文件拍照后作为照片提交）")
	}
	if len(ev.VisitIDs) > maxEvidence {
		fe.Add("/evidence/visit_ids", "too_many", "at most 30 visits", "走访记录不能超过30条")
	}
	if len(ev.PhotoIDs) > maxEvidence {
		fe.Add("/evidence/photo_ids", "too_many", "at most 30 photos", "照片不能超过30张")
	}
	for i := range ev.VisitIDs {
		field := "/evidence/visit_ids/" + strconv.Itoa(i)
		id, ok := evidenceID(ev.VisitIDs, i)
		if !ok {
			fe.Add(field, "invalid", "not a visit id, or named twice", "走访记录编号无效或重复")
			continue
		}
		v, readable, about, err := s.visitEvidence(ctx, p, l, id, today)
		if err != nil {
			return out, err
		}
		switch {
		case !readable:
			fe.Add(field, "unknown", "visit not found", "走访记录不存在")
		case !about:
			fe.Add(field, "unrelated", "the visit is not to this item's household or village", "该走访记录与本事项涉及的农户无关")
		case domain.DateOf(v.StartedAt).Before(found):
			predates(fe, field, "visit", domain.DateOf(v.StartedAt), found)
		default:
			out.VisitIDs = append(out.VisitIDs, id.String())
		}
	}
	for i := range ev.PhotoIDs {
		field := "/evidence/photo_ids/" + strconv.Itoa(i)
		id, ok := evidenceID(ev.PhotoIDs, i)
		if !ok {
			fe.Add(field, "invalid", "not a photo id, or named twice", "照片编号无效或重复")
			continue
		}
		ph, err := s.store.Photo(ctx, id)
		if err != nil && !domain.IsCode(err, domain.CodeNotFound) {
			return out, err
		}
		visible := false
		if err == nil {
			if visible, err = s.store.PhotoVisible(ctx, ph, p.VisitReader(), p.HouseholdScope(), today); err != nil {
				return out, err
			}
		}
		if !visible {
			fe.Add(field, "unknown", "photo not found (upload it first)", "照片不存在，请先上传照片")
			continue
		}
		taken, err := s.photoTaken(ctx, ph)
		if err != nil {
			return out, err
		}
		if taken.Before(found) {
			predates(fe, field, "photo", taken, found)
			continue
		}
		out.PhotoIDs = append(out.PhotoIDs, id.String())
	}
	return out, nil
}

// evidenceID parses ids[i], a UUID in its usual 36-character spelling
// not named earlier in the list.
func evidenceID(ids []string, i int) (uuid.UUID, bool) {
	id, err := uuid.Parse(ids[i])
	if err != nil || len(ids[i]) != 36 {
		return uuid.Nil, false
	}
	for _, earlier := range ids[:i] {
		if e, err := uuid.Parse(earlier); err == nil && e == id {
			return uuid.Nil, false
		}
	}
	return id, true
}

// photoTaken is the day a photo shows (China time): its EXIF time, else
// the start of the visit it was uploaded for, else its upload.
func (s *Service) photoTaken(ctx context.Context, ph domain.Photo) (domain.Date, error) {
	if ph.TakenAt != nil {
		return domain.DateOf(*ph.TakenAt), nil
	}
	if ph.VisitID != nil {
		v, err := s.store.Visit(ctx, *ph.VisitID)
		switch {
		case err == nil:
			return domain.DateOf(v.StartedAt), nil
		case !domain.IsCode(err, domain.CodeNotFound):
			return domain.Date{}, err
		}
	}
	return domain.DateOf(ph.CreatedAt), nil
}

// visitEvidence reads the visit, and says whether p may read it (a cadre
// their own, a manager one in their subtree) and whether it is about the
// item.
func (s *Service) visitEvidence(ctx context.Context, p domain.Principal, l Line, id uuid.UUID, today domain.Date) (v domain.Visit, readable, about bool, err error) {
	v, err = s.store.Visit(ctx, id)
	if domain.IsCode(err, domain.CodeNotFound) {
		return v, false, false, nil
	}
	if err != nil || v.Deleted {
		return v, false, false, err
	}
	if p.Role == domain.RoleCadre {
		readable = v.CadreID == p.UserID
	} else {
		_, err := s.store.Household(ctx, p.HouseholdScope(), today, v.HouseholdID)
		if err != nil && !domain.IsCode(err, domain.CodeNotFound) {
			return v, false, false, err
		}
		readable = err == nil
	}
	if !readable {
		return v, false, false, nil
	}
	if l.HouseholdID != nil {
		return v, true, v.HouseholdID == *l.HouseholdID, nil
	}
	// A village's item: a visit to any household of the village.
	_, err = s.store.Household(ctx, domain.HouseholdScope{RegionPath: l.RegionPath}, today, v.HouseholdID)
	if domain.IsCode(err, domain.CodeNotFound) {
		return v, true, false, nil
	}
	return v, true, err == nil, err
}
