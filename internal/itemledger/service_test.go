package itemledger

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// fakeStore is the ledger's port over maps: enough of a county for the
// rules of who sees and who moves an item.
type fakeStore struct {
	lines      map[uuid.UUID]Line
	campaigns  map[uuid.UUID]Campaign
	visits     map[uuid.UUID]domain.Visit
	households map[uuid.UUID]string // id → region path
	users      map[uuid.UUID]domain.User
	photos     map[uuid.UUID]domain.Photo
	findings   map[uuid.UUID]Finding
	problems   map[uuid.UUID][]string // what a finding records as a problem
	moved      []Event
}

func (f *fakeStore) Tx(ctx context.Context, fn func(TxStore) error) error { return fn(f) }

// Region is a household's region: the fake keeps one region a household,
// under the household's id.
func (f *fakeStore) Region(_ context.Context, id uuid.UUID) (domain.Region, error) {
	path, ok := f.households[id]
	if !ok {
		return domain.Region{}, domain.NotFound("region")
	}
	return domain.Region{ID: id, Path: path}, nil
}

func (f *fakeStore) RegionWithin(context.Context, string, uuid.UUID) (domain.Region, error) {
	return domain.Region{}, domain.NotFound("region")
}

func (f *fakeStore) User(_ context.Context, id uuid.UUID) (domain.User, error) {
	u, ok := f.users[id]
	if !ok {
		return domain.User{}, domain.NotFound("user")
	}
	return u, nil
}

func (f *fakeStore) Household(_ context.Context, scope domain.HouseholdScope, _ domain.Date, id uuid.UUID) (domain.Household, error) {
	path, ok := f.households[id]
	if !ok || !strings.HasPrefix(path, scope.RegionPath) {
		return domain.Household{}, domain.NotFound("household")
	}
	return domain.Household{ID: id, RegionID: id}, nil
}

func (f *fakeStore) Visit(_ context.Context, id uuid.UUID) (domain.Visit, error) {
	v, ok := f.visits[id]
	if !ok {
		return domain.Visit{}, domain.NotFound("visit")
	}
	return v, nil
}

func (f *fakeStore) Photo(_ context.Context, id uuid.UUID) (domain.Photo, error) {
	ph, ok := f.photos[id]
	if !ok {
		return domain.Photo{}, domain.NotFound("photo")
	}
	return ph, nil
}

func (f *fakeStore) PhotoVisible(context.Context, domain.Photo, domain.VisitReader, domain.HouseholdScope, domain.Date) (bool, error) {
	return true, nil // the fake keeps only photos their callers see
}

func (f *fakeStore) LedgerUnit(context.Context, uuid.UUID) (Unit, error) {
	return Unit{}, domain.NotFound("unit")
}

func (f *fakeStore) LedgerCampaign(_ context.Context, id uuid.UUID) (Campaign, error) {
	c, ok := f.campaigns[id]
	if !ok {
		return Campaign{}, domain.NotFound("inspection")
	}
	return c, nil
}

func (f *fakeStore) LedgerFinding(_ context.Context, id uuid.UUID) (Finding, error) {
	fd, ok := f.findings[id]
	if !ok {
		return Finding{}, domain.NotFound("finding")
	}
	return fd, nil
}

func (f *fakeStore) LedgerFindingProblems(_ context.Context, id uuid.UUID) ([]string, error) {
	return f.problems[id], nil
}

func (f *fakeStore) OpenLedgerItemOfFinding(_ context.Context, findingID uuid.UUID) (uuid.UUID, error) {
	for id, l := range f.lines {
		if l.FindingID != nil && *l.FindingID == findingID && !l.Ended() {
			return id, nil
		}
	}
	return uuid.Nil, domain.NotFound("item")
}

func (f *fakeStore) CreateLedgerItem(_ context.Context, r Record, _ Event, _ domain.AuditEntry) error {
	f.lines[r.ID] = Line{Record: r}
	return nil
}

func (f *fakeStore) LedgerItem(_ context.Context, id uuid.UUID) (Line, error) {
	l, ok := f.lines[id]
	if !ok {
		return Line{}, domain.NotFound("item")
	}
	return l, nil
}

func (f *fakeStore) LedgerHistory(context.Context, uuid.UUID) ([]Event, error) { return nil, nil }

func (f *fakeStore) LedgerItems(context.Context, Filter) ([]Line, int64, error) { return nil, 0, nil }

func (f *fakeStore) MoveLedgerItem(_ context.Context, r Record, ev Event, _ domain.AuditEntry) error {
	if f.lines[r.ID].Version != r.Version-1 {
		return domain.Stale(r.Kind, "事项")
	}
	f.lines[r.ID] = Line{Record: r}
	f.moved = append(f.moved, ev)
	return nil
}

// county is a town with villages A and B, their people, and an item of
// household A answered for by cadre A — with or without a campaign.
type county struct {
	store                                           *fakeStore
	town, villageA, villageB                        string
	admin, supervisorA, supervisorB, cadreA, cadre2 domain.Principal
	inspector, otherInspector, creator              domain.Principal
	householdA                                      uuid.UUID
	visitA, visit2                                  uuid.UUID
}

func newCounty(t testing.TB) county {
	t.Helper()
	province := "/p/"
	town := province + "c/t/"
	c := county{town: town, villageA: town + "a/", villageB: town + "b/", householdA: uuid.New(), visitA: uuid.New(), visit2: uuid.New()}
	who := func(role, path string) domain.Principal {
		return domain.Principal{UserID: uuid.New(), Role: role, RegionPath: path}
	}
	c.admin, c.creator = who(domain.RoleAdmin, province), who(domain.RoleSupervisor, province+"c/")
	c.supervisorA, c.supervisorB = who(domain.RoleSupervisor, c.villageA), who(domain.RoleSupervisor, c.villageB)
	c.cadreA, c.cadre2 = who(domain.RoleCadre, c.villageA), who(domain.RoleCadre, c.villageA)
	c.inspector, c.otherInspector = who(domain.RoleInspector, town), who(domain.RoleInspector, town)
	c.store = &fakeStore{lines: map[uuid.UUID]Line{}, campaigns: map[uuid.UUID]Campaign{},
		households: map[uuid.UUID]string{c.householdA: c.villageA + "g1/"},
		visits: map[uuid.UUID]domain.Visit{
			c.visitA: {ID: c.visitA, HouseholdID: c.householdA, CadreID: c.cadreA.UserID},
			c.visit2: {ID: c.visit2, HouseholdID: c.householdA, CadreID: c.cadre2.UserID},
		}}
	return c
}

// item stores an item of household A in status, of a campaign when held
// is not nil (held or not).
func (c county) item(status string, held *bool) uuid.UUID {
	id, h, responsible := uuid.New(), c.householdA, c.cadreA.UserID
	r := Record{ID: id, Kind: KindRectification, HouseholdID: &h, RegionPath: c.villageA + "g1/", ResponsibleUserID: &responsible,
		Item: Item{Status: status, Evidence: Evidence{VisitIDs: []string{c.visitA.String()}}}, Version: 3}
	if held != nil {
		camp := Campaign{ID: uuid.New(), RegionPath: c.town, CreatedBy: c.creator.UserID, Inspectors: []uuid.UUID{c.inspector.UserID}, Held: *held}
		c.store.campaigns[camp.ID] = camp
		r.CampaignID = &camp.ID
	}
	c.store.lines[id] = Line{Record: r}
	return id
}

// TestWhoMayAct is the rule of who moves an item, as a table: the cadre
// who answers for it and the managers of its subtree start and submit;
// only managers reject, approve and reopen; an inspector reads the items
// of their campaign but moves none; anyone else does not see the item.
func TestWhoMayAct(t *testing.T) {
	c := newCounty(t)
	notHeld := false
	evidence := Evidence{VisitIDs: []string{c.visitA.String()}}
	cases := []struct {
		who    string
		p      domain.Principal
		status string
		action string
		code   domain.Code
	}{
		{"the responsible cadre", c.cadreA, Open, Start, ""},
		{"the responsible cadre", c.cadreA, InProgress, Submit, ""},
		{"the responsible cadre", c.cadreA, Submitted, Approve, domain.CodeForbidden},
		{"the responsible cadre", c.cadreA, Submitted, Reject, domain.CodeForbidden},
		{"the responsible cadre", c.cadreA, Closed, Reopen, domain.CodeForbidden},
		{"another cadre of the village", c.cadre2, Open, Start, domain.CodeNotFound},
		{"the village's supervisor", c.supervisorA, Open, Start, ""},
		{"the village's supervisor", c.supervisorA, Submitted, Approve, ""},
		{"the village's supervisor", c.supervisorA, Submitted, Reject, ""},
		{"the village's supervisor", c.supervisorA, Closed, Reopen, ""},
		{"another village's supervisor", c.supervisorB, Submitted, Approve, domain.CodeNotFound},
		{"the admin above", c.admin, Submitted, Approve, ""},
		{"the campaign's inspector", c.inspector, Open, Start, domain.CodeForbidden},
		{"the campaign's inspector", c.inspector, Submitted, Approve, domain.CodeForbidden},
		{"another campaign's inspector", c.otherInspector, Open, Start, domain.CodeNotFound},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s %s %s", tc.who, tc.action, tc.status), func(t *testing.T) {
			id := c.item(tc.status, &notHeld)
			s := NewService(c.store, func() time.Time { return time.Date(2026, 12, 1, 9, 0, 0, 0, domain.Shanghai) })
			ev := Evidence{}
			if tc.action == Submit {
				ev = evidence
			}
			note := ""
			if tc.action == Reject || tc.action == Reopen {
				note = "原因"
			}
			v, err := s.Act(context.Background(), tc.p, KindRectification, id, Step{Action: tc.action, Version: 3, Evidence: ev, Note: note})
			if domain.ErrorCode(err) != tc.code {
				t.Fatalf("got %v, want %q", err, tc.code)
			}
			if err == nil && v.Version != 4 {
				t.Fatalf("moved to version %d", v.Version)
			}
		})
	}
}

// TestAllowedActionsAreTheCallers: an item lists only the actions its
// reader may take now.
func TestAllowedActionsAreTheCallers(t *testing.T) {
	c := newCounty(t)
	finding := uuid.New()
	running := &Campaign{ID: uuid.New(), RegionPath: c.town, Inspectors: []uuid.UUID{c.inspector.UserID}}
	ended := &Campaign{ID: running.ID, RegionPath: c.town, Inspectors: running.Inspectors, Ended: true}
	for _, tc := range []struct {
		p      domain.Principal
		kind   string
		status string
		camp   *Campaign
		want   string
	}{
		{c.cadreA, KindRectification, Submitted, nil, ""},
		{c.supervisorA, KindRectification, Submitted, nil, "reject,approve,withdraw"},
		{c.cadreA, KindRectification, Open, nil, "start,submit"},
		{c.cadreA, KindLivelihoodRequest, Open, nil, "start,submit,withdraw"},
		{c.inspector, KindRectification, Open, running, "withdraw"},
		{c.inspector, KindRectification, Open, ended, ""},
		{c.cadreA, KindRectification, Closed, nil, ""},
		{c.admin, KindRectification, Closed, nil, "reopen"},
		{c.admin, KindRectification, Withdrawn, nil, ""},
	} {
		h, responsible := c.householdA, c.cadreA.UserID
		l := Line{Record: Record{Kind: tc.kind, HouseholdID: &h, RegionPath: c.villageA + "g1/", ResponsibleUserID: &responsible,
			FindingID: &finding, Item: Item{Status: tc.status}}}
		if got := strings.Join(mayTake(tc.p, l, tc.camp), ","); got != tc.want {
			t.Errorf("%s on %s %s: %q, want %q", tc.p.Role, tc.kind, tc.status, got, tc.want)
		}
	}
}

// TestWhoMayWithdraw is the rule of 撤销 as a table: an item not ended is
// taken back, with its reason, by whoever may register such an item there
// — a manager of its subtree, the inspector of its finding's campaign
// while it runs, the cadre who answers for an item of their own ledger;
// anyone else is refused (403, or 404 when they do not see it). A closed
// or withdrawn item is 409 naming its state; a missing reason is 422 at
// /note; evidence is refused (422 at /evidence). Nothing refused is
// written; a withdrawal is kept in the history with who, when and why.
func TestWhoMayWithdraw(t *testing.T) {
	c := newCounty(t)
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, domain.Shanghai)
	s := NewService(c.store, func() time.Time { return at })
	const reason = "登记错了农户"
	cases := []struct {
		who     string
		p       domain.Principal
		kind    string
		status  string
		ended   bool // the campaign has ended
		note    string
		proof   bool // evidence sent along
		code    domain.Code
		field   string // the field a 422 names
		stateZH string // the state a 409 names
	}{
		{"the village's supervisor", c.supervisorA, KindRectification, Open, false, reason, false, "", "", ""},
		{"the village's supervisor", c.supervisorA, KindRectification, Submitted, false, reason, false, "", "", ""},
		{"the admin above", c.admin, KindRectification, InProgress, true, reason, false, "", "", ""},
		{"the campaign's inspector", c.inspector, KindRectification, Open, false, reason, false, "", "", ""},
		{"the campaign's inspector, once it ended", c.inspector, KindRectification, Open, true, reason, false, domain.CodeForbidden, "", ""},
		{"another campaign's inspector", c.otherInspector, KindRectification, Open, false, reason, false, domain.CodeNotFound, "", ""},
		{"the responsible cadre, of a rectification", c.cadreA, KindRectification, Open, false, reason, false, domain.CodeForbidden, "", ""},
		{"the responsible cadre, of their own ledger", c.cadreA, KindLivelihoodRequest, InProgress, false, reason, false, "", "", ""},
		{"another cadre of the village", c.cadre2, KindLivelihoodRequest, Open, false, reason, false, domain.CodeNotFound, "", ""},
		{"another village's supervisor", c.supervisorB, KindRectification, Open, false, reason, false, domain.CodeNotFound, "", ""},
		{"without a reason", c.supervisorA, KindRectification, Open, false, "  ", false, domain.CodeInvalid, "/note", ""},
		{"with evidence", c.supervisorA, KindRectification, Open, false, reason, true, domain.CodeInvalid, "/evidence", ""},
		{"a closed item", c.supervisorA, KindRectification, Closed, false, reason, false, domain.CodeConflict, "", "已销号"},
		{"a withdrawn item", c.supervisorA, KindRectification, Withdrawn, false, reason, false, domain.CodeConflict, "", "已撤销"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s, %s %s", tc.who, tc.kind, tc.status), func(t *testing.T) {
			notHeld := false
			id := c.item(tc.status, &notHeld)
			l := c.store.lines[id]
			finding := uuid.New()
			l.Kind, l.FindingID = tc.kind, &finding
			c.store.lines[id] = l
			camp := c.store.campaigns[*l.CampaignID]
			camp.Ended = tc.ended
			c.store.campaigns[camp.ID] = camp
			ev := Evidence{}
			if tc.proof {
				ev = Evidence{VisitIDs: []string{c.visitA.String()}}
			}
			moved := len(c.store.moved)
			v, err := s.Act(context.Background(), tc.p, tc.kind, id, Step{Action: Withdraw, Version: 3, Note: tc.note, Evidence: ev})
			if domain.ErrorCode(err) != tc.code {
				t.Fatalf("got %v, want %q", err, tc.code)
			}
			if err != nil {
				var de *domain.Error
				errors.As(err, &de)
				if tc.field != "" && (len(de.Fields) != 1 || de.Fields[0].Field != tc.field || de.Fields[0].MessageZH == "") {
					t.Fatalf("want a refusal naming %s: %+v", tc.field, de)
				}
				if tc.stateZH != "" && !strings.Contains(de.MessageZH, tc.stateZH) {
					t.Fatalf("want a refusal naming the state %s: %q", tc.stateZH, de.MessageZH)
				}
				if len(c.store.moved) != moved || c.store.lines[id].Status != tc.status {
					t.Fatal("a refused withdrawal was written")
				}
				return
			}
			r := c.store.lines[id].Record
			last := c.store.moved[len(c.store.moved)-1]
			if v.Status != Withdrawn || v.State != Withdrawn || v.Version != 4 || len(v.Allowed) != 0 {
				t.Fatalf("withdrawn: %+v", v)
			}
			if r.WithdrawReason != reason || r.WithdrawnBy == nil || *r.WithdrawnBy != tc.p.UserID || r.WithdrawnAt == nil || !r.WithdrawnAt.Equal(at) ||
				r.ClosedAt != nil {
				t.Fatalf("stored: %+v", r)
			}
			if last.Action != Withdraw || last.From != tc.status || last.To != Withdrawn || last.By != tc.p.UserID || last.Note != reason {
				t.Fatalf("the history's step: %+v", last)
			}
		})
	}
}

// TestHeldCampaignsHideTheirItems: while an unannounced campaign runs, its
// items are seen only by its creator, its inspectors and the admins above
// it — not by the inspected village's supervisor or the cadre who will
// answer for them.
func TestHeldCampaignsHideTheirItems(t *testing.T) {
	c := newCounty(t)
	s := NewService(c.store, nil)
	held, ended := true, false
	for _, tc := range []struct {
		who  string
		p    domain.Principal
		held bool
		sees bool
	}{
		{"creator", c.creator, true, true},
		{"inspector", c.inspector, true, true},
		{"admin above", c.admin, true, true},
		{"village supervisor", c.supervisorA, true, false},
		{"responsible cadre", c.cadreA, true, false},
		{"village supervisor, campaign ended", c.supervisorA, false, true},
		{"responsible cadre, campaign ended", c.cadreA, false, true},
	} {
		flag := &ended
		if tc.held {
			flag = &held
		}
		id := c.item(Open, flag)
		_, err := s.Item(context.Background(), tc.p, KindRectification, id)
		if (err == nil) != tc.sees {
			t.Errorf("%s reads the item: %v, want seen=%v", tc.who, err, tc.sees)
		}
	}
}

// TestEvidenceIsTheCallers: a cadre shows only their own visits; a
// manager any visit of their subtree about the item.
func TestEvidenceIsTheCallers(t *testing.T) {
	c := newCounty(t)
	s := NewService(c.store, nil)
	for _, tc := range []struct {
		p     domain.Principal
		visit uuid.UUID
		field string
	}{
		{c.cadreA, c.visitA, ""},
		{c.cadreA, c.visit2, "/evidence/visit_ids/0"},
		{c.supervisorA, c.visit2, ""},
		{c.cadreA, uuid.New(), "/evidence/visit_ids/0"},
	} {
		id := c.item(InProgress, nil)
		_, err := s.Act(context.Background(), tc.p, KindRectification, id, Step{Action: Submit, Version: 3,
			Evidence: Evidence{VisitIDs: []string{tc.visit.String()}}})
		if tc.field == "" {
			if err != nil {
				t.Errorf("%s submits visit %s: %v", tc.p.Role, tc.visit, err)
			}
			continue
		}
		de, ok := err.(*domain.Error)
		if !ok || de.Code != domain.CodeInvalid || len(de.Fields) != 1 || de.Fields[0].Field != tc.field {
			t.Errorf("%s submits visit %s: %v, want 422 naming %s", tc.p.Role, tc.visit, err, tc.field)
		}
	}
}

// TestStateQueriesAgreeWithState: the condition a listing runs in the
// database for each state takes exactly the items Item.State puts in it.
func TestStateQueriesAgreeWithState(t *testing.T) {
	today := domain.Date{Year: 2026, Month: 12, Day: 6}
	deadlines := []domain.Date{{}, today.AddDays(-1), today, today.AddDays(1)}
	for _, state := range append(Statuses.Codes(), "") {
		q, ok := QueryState(state, today)
		if !ok {
			t.Fatalf("%q has no query", state)
		}
		for _, status := range []string{Open, InProgress, Submitted, Closed} {
			for _, d := range deadlines {
				it := Item{Status: status, Deadline: d}
				want := state == "" || it.State(today) == state
				if q.Matches(it) != want {
					t.Errorf("state %q, item %s due %s: matches %v, want %v", state, status, d, !want, want)
				}
			}
		}
	}
	if _, ok := QueryState("late", today); ok {
		t.Error("an unknown state has a query")
	}
}

// TestWhoMayRecordInALedger: cadres record items of their own ledgers
// (四本台账) at the households they help, answering for them unless they
// name another cadre, but no rectifications; inspectors record
// rectifications only; an item sent again under its id is the same
// item, and another under that id is refused.
func TestWhoMayRecordInALedger(t *testing.T) {
	c := newCounty(t)
	c.store.users = map[uuid.UUID]domain.User{
		c.cadreA.UserID: {ID: c.cadreA.UserID, Role: domain.RoleCadre, Active: true, RegionPath: c.villageA},
	}
	deadline := domain.Date{Year: 2026, Month: 12, Day: 31}
	cases := []struct {
		who  string
		p    domain.Principal
		kind string
		code domain.Code
	}{
		{"a cadre of the household", c.cadreA, KindLivelihoodRequest, ""},
		{"a cadre of the household", c.cadreA, KindHardship, ""},
		{"a cadre of the household", c.cadreA, KindRectification, domain.CodeForbidden},
		{"a cadre who is no active cadre of the register", c.cadre2, KindHardship, domain.CodeInvalid},
		{"the village's supervisor", c.supervisorA, KindHardship, domain.CodeInvalid}, // names nobody responsible
		{"an inspector", c.inspector, KindHardship, domain.CodeForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.who+" "+tc.kind, func(t *testing.T) {
			s := NewService(c.store, func() time.Time { return time.Date(2026, 12, 1, 9, 0, 0, 0, domain.Shanghai) })
			h := c.householdA
			v, err := s.Create(context.Background(), tc.p, NewItem{Kind: tc.kind, Problem: "饮水困难", HouseholdID: &h, Deadline: deadline})
			if domain.ErrorCode(err) != tc.code {
				t.Fatalf("got %v, want %q", err, tc.code)
			}
			if err == nil && (v.ResponsibleUserID == nil || *v.ResponsibleUserID != tc.p.UserID || v.Status != Open) {
				t.Fatalf("recorded %+v", v.Record)
			}
		})
	}
	// Recorded offline on 18 November with a deadline of the 20th, synced
	// on 1 December: stored, and overdue.
	s := NewService(c.store, func() time.Time { return time.Date(2026, 12, 1, 9, 0, 0, 0, domain.Shanghai) })
	h, id := c.householdA, uuid.New()
	in := NewItem{ID: id, Kind: KindHardship, Problem: "因病缺劳力", HouseholdID: &h, Deadline: domain.Date{Year: 2026, Month: 11, Day: 20},
		RecordedOn: domain.Date{Year: 2026, Month: 11, Day: 18}}
	_, created, err := s.CreateIn(context.Background(), c.store, c.cadreA, in)
	if err != nil || !created {
		t.Fatalf("recorded offline before its deadline: created %v, %v", created, err)
	}
	if v, created, err := s.CreateIn(context.Background(), c.store, c.cadreA, in); err != nil || created || v.ID != id || v.State != Overdue {
		t.Fatalf("sent again: created %v, %v, %+v", created, err, v.Record)
	}
	in.Problem = "另一件事"
	if _, _, err := s.CreateIn(context.Background(), c.store, c.cadreA, in); domain.ErrorCode(err) != domain.CodeInvalid {
		t.Fatalf("another item under the id: %v", err)
	}
}

// TestEvidenceIsNoOlderThanTheProblem: a visit or photo from before the
// problem was found — the item registered, or its finding recorded —
// cannot show it put right: 422 naming the entry, in Chinese, for every
// kind of ledger; evidence of that day or later is taken.
func TestEvidenceIsNoOlderThanTheProblem(t *testing.T) {
	c := newCounty(t)
	s := NewService(c.store, nil)
	registered := time.Date(2026, 11, 2, 10, 0, 0, 0, domain.Shanghai)
	day := func(d int) time.Time { return registered.AddDate(0, 0, d) }
	visit := func(at time.Time) uuid.UUID {
		id := uuid.New()
		c.store.visits[id] = domain.Visit{ID: id, HouseholdID: c.householdA, CadreID: c.cadreA.UserID, VisitDetails: domain.VisitDetails{StartedAt: at.UTC()}}
		return id
	}
	c.store.photos = map[uuid.UUID]domain.Photo{}
	photo := func(taken *time.Time, visitID *uuid.UUID, uploaded time.Time) uuid.UUID {
		id := uuid.New()
		c.store.photos[id] = domain.Photo{ID: id, TakenAt: taken, VisitID: visitID, CreatedAt: uploaded.UTC()}
		return id
	}
	old, sameDay, later := visit(day(-90)), visit(registered.Add(-9*time.Hour)), visit(day(5))
	findingID := uuid.New()
	c.store.findings = map[uuid.UUID]Finding{findingID: {ID: findingID, RecordedAt: day(-10).UTC()}}
	for _, tc := range []struct {
		name    string
		kind    string
		finding *uuid.UUID
		ev      Evidence
		field   string
	}{
		{"a visit months before the item", KindRectification, nil, Evidence{VisitIDs: []string{later.String(), old.String()}}, "/evidence/visit_ids/1"},
		{"a visit the same day", KindRectification, nil, Evidence{VisitIDs: []string{sameDay.String()}}, ""},
		{"a visit after", KindRectification, nil, Evidence{VisitIDs: []string{later.String()}}, ""},
		{"a cadre ledger's item", KindLivelihoodRequest, nil, Evidence{VisitIDs: []string{old.String()}}, "/evidence/visit_ids/0"},
		{"a visit after the finding, before the item", KindRectification, &findingID, Evidence{VisitIDs: []string{visit(day(-3)).String()}}, ""},
		{"a visit before the finding", KindRectification, &findingID, Evidence{VisitIDs: []string{visit(day(-11)).String()}}, "/evidence/visit_ids/0"},
		{"a photo taken before, uploaded after", KindRectification, nil, Evidence{PhotoIDs: []string{photo(ptr(day(-30)), nil, day(1)).String()}}, "/evidence/photo_ids/0"},
		{"a photo without EXIF of an old visit", KindRectification, nil, Evidence{PhotoIDs: []string{photo(nil, &old, day(1)).String()}}, "/evidence/photo_ids/0"},
		{"a photo taken after", KindRectification, nil, Evidence{PhotoIDs: []string{photo(ptr(day(1)), &old, day(1)).String()}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := c.item(InProgress, nil)
			l := c.store.lines[id]
			l.Kind, l.CreatedAt, l.FindingID = tc.kind, registered.UTC(), tc.finding
			c.store.lines[id] = l
			_, err := s.Act(context.Background(), c.cadreA, tc.kind, id, Step{Action: Submit, Version: 3, Evidence: tc.ev})
			if tc.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			de, ok := err.(*domain.Error)
			if !ok || de.Code != domain.CodeInvalid || len(de.Fields) != 1 || de.Fields[0].Field != tc.field || de.Fields[0].Reason != "before_item" ||
				!strings.Contains(de.Fields[0].MessageZH, "早于问题发现日期") {
				t.Fatalf("%v, want 422 naming %s", err, tc.field)
			}
			if c.store.lines[id].Version != 3 {
				t.Error("a refused step moved the item")
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestEitherWayInAFindingGetsOneItemForAProblem: registering over the
// API (Create) and inside a phone's push (CreateIn) judge a finding's item
// alike: only a finding that records a problem takes one (422 at
// /finding_id otherwise), and only one not closed at a time (409 naming
// the item it has, errors.As-able as domain.ExistingRecord); once that item is
// withdrawn (撤销, registered in error) or closed, another may be registered.
func TestEitherWayInAFindingGetsOneItemForAProblem(t *testing.T) {
	ways := map[string]func(s *Service, store *fakeStore, p domain.Principal, in NewItem) (View, error){
		"the API": func(s *Service, _ *fakeStore, p domain.Principal, in NewItem) (View, error) {
			return s.Create(context.Background(), p, in)
		},
		"a push": func(s *Service, store *fakeStore, p domain.Principal, in NewItem) (View, error) {
			in.ID = uuid.New()
			v, _, err := s.CreateIn(context.Background(), store, p, in)
			return v, err
		},
	}
	for way, register := range ways {
		t.Run(way, func(t *testing.T) {
			c := newCounty(t)
			c.store.users = map[uuid.UUID]domain.User{
				c.cadreA.UserID: {ID: c.cadreA.UserID, Role: domain.RoleCadre, Active: true, RegionPath: c.villageA},
			}
			camp := Campaign{ID: uuid.New(), RegionPath: c.town, CreatedBy: c.creator.UserID, Inspectors: []uuid.UUID{c.inspector.UserID}}
			c.store.campaigns[camp.ID] = camp
			withProblem, inOrder := uuid.New(), uuid.New()
			c.store.findings = map[uuid.UUID]Finding{}
			for _, id := range []uuid.UUID{withProblem, inOrder} {
				h := c.householdA
				c.store.findings[id] = Finding{ID: id, CampaignID: camp.ID, HouseholdID: &h}
			}
			c.store.problems = map[uuid.UUID][]string{withProblem: {"visits_not_recalled"}}
			s := NewService(c.store, func() time.Time { return time.Date(2026, 12, 1, 9, 0, 0, 0, domain.Shanghai) })
			itemOf := func(finding uuid.UUID) NewItem {
				responsible := c.cadreA.UserID
				return NewItem{Kind: KindRectification, Problem: "走访记录不实", CampaignID: &camp.ID, FindingID: &finding,
					ResponsibleUserID: &responsible, Deadline: domain.Date{Year: 2026, Month: 12, Day: 31}}
			}
			first, err := register(s, c.store, c.inspector, itemOf(withProblem))
			if err != nil {
				t.Fatalf("a finding with a problem: %v", err)
			}
			cases := []struct {
				name    string
				p       domain.Principal
				finding uuid.UUID
				code    domain.Code
				reason  string
			}{
				{"a finding with everything in order", c.inspector, inOrder, domain.CodeInvalid, "no_problem"},
				{"by a supervisor too", c.admin, inOrder, domain.CodeInvalid, "no_problem"},
				{"the finding's second item", c.inspector, withProblem, domain.CodeConflict, ReasonFindingHasItem},
				{"by a supervisor too", c.admin, withProblem, domain.CodeConflict, ReasonFindingHasItem},
			}
			for _, tc := range cases {
				before := len(c.store.lines)
				_, err := register(s, c.store, tc.p, itemOf(tc.finding))
				var de *domain.Error
				if !errors.As(err, &de) || de.Code != tc.code || len(de.Fields) != 1 || de.Fields[0].Field != "/finding_id" ||
					de.Fields[0].Reason != tc.reason || de.Fields[0].MessageZH == "" {
					t.Fatalf("%s: %v, want %s at /finding_id (%s)", tc.name, err, tc.code, tc.reason)
				}
				var existing *domain.ExistingRecord
				if tc.code == domain.CodeConflict && (!errors.As(err, &existing) || existing.ID != first.ID) {
					t.Fatalf("%s: the refusal names %v, want %s", tc.name, existing, first.ID)
				}
				if len(c.store.lines) != before {
					t.Fatalf("%s: a refused item was stored", tc.name)
				}
			}
			// Registered in error, the item is withdrawn: the finding may
			// have another (and another once that one is closed).
			if _, err := s.Act(context.Background(), c.inspector, KindRectification, first.ID, Step{Action: Withdraw, Version: 1, Note: "重复登记"}); err != nil {
				t.Fatalf("withdraw the first: %v", err)
			}
			second, err := register(s, c.store, c.inspector, itemOf(withProblem))
			if err != nil {
				t.Fatalf("a new item once the finding's item is withdrawn: %v", err)
			}
			closed := c.store.lines[second.ID]
			closed.Status = Closed
			c.store.lines[second.ID] = closed
			if _, err := register(s, c.store, c.inspector, itemOf(withProblem)); err != nil {
				t.Fatalf("a new item once the finding's item is closed: %v", err)
			}
		})
	}
}
