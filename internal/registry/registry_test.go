package registry_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/registry"
)

// county is the register the tests work on: a county with a village and a
// registered household of three members (two with an ID number), paired
// with one cadre; a second, unpaired household whose members have no ID
// numbers; and a neighbouring county with its own supervisor.
type county struct {
	store *fakeStore
	svc   *registry.Service

	county, village, otherCounty domain.Region

	household, unpaired domain.Household
	head                domain.Member
	pairing             domain.Pairing

	admin, supervisor, cadre, otherCadre, inspector, neighbour domain.Principal
}

func newCounty(tb testing.TB) *county {
	tb.Helper()
	st := newFakeStore()
	c := &county{store: st, svc: registry.NewService(st, plainHasher{}, clock)}

	c.county = region(st, nil, domain.LevelCounty, "410122000000")
	c.village = region(st, &c.county, domain.LevelVillage, "410122101001")
	c.otherCounty = region(st, nil, domain.LevelCounty, "410123000000")

	c.admin = user(st, c.county, domain.RoleAdmin, "admin")
	c.supervisor = user(st, c.county, domain.RoleSupervisor, "supervisor")
	c.cadre = user(st, c.village, domain.RoleCadre, "cadre")
	c.otherCadre = user(st, c.village, domain.RoleCadre, "othercadre")
	c.inspector = user(st, c.county, domain.RoleInspector, "inspector")
	c.neighbour = user(st, c.otherCounty, domain.RoleSupervisor, "neighbour")

	c.household = household(st, c.village, domain.StatusRegistered)
	c.head = member(st, c.household, "head", "张三", "410122198001011235")
	member(st, c.household, "spouse", "李四", "410122198202022344")
	member(st, c.household, "child", "张小明", "")
	c.pairing = domain.Pairing{ID: uuid.New(), CountyID: c.county.ID, HouseholdID: c.household.ID, CadreID: c.cadre.UserID,
		StartOn: domain.Date{Year: 2024, Month: 1, Day: 1}}
	st.pairings[c.pairing.ID] = c.pairing

	c.unpaired = household(st, c.village, domain.StatusEdge)
	member(st, c.unpaired, "head", "王五", "")
	return c
}

func region(st *fakeStore, parent *domain.Region, level, code string) domain.Region {
	r := domain.Region{ID: uuid.New(), Level: level, Code: code, Name: code}
	r.Path, r.CountyID = "/"+r.ID.String()+"/", &r.ID
	if parent != nil {
		r.ParentID, r.Path, r.CountyID = &parent.ID, parent.Path+r.ID.String()+"/", parent.CountyID
	}
	st.regions[r.ID] = r
	return r
}

func user(st *fakeStore, in domain.Region, role, username string) domain.Principal {
	u := domain.User{ID: uuid.New(), Username: username, DisplayName: username, Role: role, RegionID: in.ID, RegionPath: in.Path,
		Active: true, Duties: []domain.Duty{}}
	st.users[u.ID] = u
	return domain.Principal{UserID: u.ID, Username: username, Role: role, RegionID: in.ID, RegionPath: in.Path,
		RequestID: "req-" + username, Route: "GET /api/v1/households/:id"}
}

func household(st *fakeStore, village domain.Region, status string) domain.Household {
	h := domain.Household{ID: uuid.New(), CountyID: *village.CountyID, RegionID: village.ID, VillageID: village.ID, Status: status,
		PovertyType: domain.PovertyOrdinary, Version: 1, HouseholdDetails: domain.HouseholdDetails{HeadName: "户主", Causes: []string{}}}
	st.households[h.ID] = h
	return h
}

func member(st *fakeStore, h domain.Household, relation, name, idNumber string) domain.Member {
	m := domain.Member{ID: uuid.New(), HouseholdID: h.ID, CountyID: h.CountyID, Version: 1,
		MemberDetails: domain.MemberDetails{Name: name, Relation: relation, IDNumber: idNumber}}
	st.members[h.ID] = append(st.members[h.ID], m)
	return m
}

var ctx = context.Background()

// TestReadsOfClearIDNumbersAreAudited: every read that shows a role the
// clear 身份证号 of members writes one audit entry naming who read, which
// household, through which route and how many numbers; roles shown the
// masked form leave no entry.
func TestReadsOfClearIDNumbersAreAudited(t *testing.T) {
	reads := []struct {
		name      string
		read      func(c *county, p domain.Principal) error
		idNumbers int // clear numbers the read shows
	}{
		{"the household file", func(c *county, p domain.Principal) error {
			_, err := c.svc.HouseholdFile(ctx, p, c.household.ID)
			return err
		}, 2},
		{"the member list", func(c *county, p domain.Principal) error {
			_, err := c.svc.Members(ctx, p, c.household.ID)
			return err
		}, 2},
		{"one member", func(c *county, p domain.Principal) error {
			_, err := c.svc.Member(ctx, p, c.household.ID, c.head.ID)
			return err
		}, 1},
	}
	readers := []struct {
		name    string
		who     func(c *county) domain.Principal
		audited bool
	}{
		{"an admin", func(c *county) domain.Principal { return c.admin }, true},
		{"a supervisor", func(c *county) domain.Principal { return c.supervisor }, true},
		{"the paired cadre", func(c *county) domain.Principal { return c.cadre }, false},
	}
	for _, r := range reads {
		for _, who := range readers {
			t.Run(who.name+" reading "+r.name, func(t *testing.T) {
				c := newCounty(t)
				p := who.who(c)
				if err := r.read(c, p); err != nil {
					t.Fatal(err)
				}
				if !who.audited {
					if len(c.store.audits) != 0 {
						t.Fatalf("a role shown masked numbers left audit entries: %+v", c.store.audits)
					}
					return
				}
				if len(c.store.audits) != 1 {
					t.Fatalf("want one audit entry, got %d: %+v", len(c.store.audits), c.store.audits)
				}
				e := c.store.audits[0]
				if e.Action != "read_id_numbers" || e.ObjectType != "household" || e.ObjectID != c.household.ID.String() ||
					e.HouseholdID == nil || *e.HouseholdID != c.household.ID {
					t.Errorf("the entry does not name the read of the household's numbers: %+v", e)
				}
				if e.ActorID == nil || *e.ActorID != p.UserID || e.ActorName != p.Username || e.RequestID != p.RequestID {
					t.Errorf("the entry does not name who read: %+v", e)
				}
				if e.Detail["route"] != p.Route || e.Detail["id_numbers"] != r.idNumbers {
					t.Errorf("detail = %v, want route %q and %d numbers", e.Detail, p.Route, r.idNumbers)
				}
			})
		}
	}
}

func TestReadsWithoutClearIDNumbersLeaveNoEntry(t *testing.T) {
	c := newCounty(t)
	if _, err := c.svc.Members(ctx, c.supervisor, c.unpaired.ID); err != nil {
		t.Fatal(err)
	}
	if len(c.store.audits) != 0 {
		t.Fatalf("members without ID numbers show none, yet audit entries were written: %+v", c.store.audits)
	}
}

func TestAReadWhoseAuditEntryCannotBeWrittenFails(t *testing.T) {
	c := newCounty(t)
	c.store.auditErr = domain.Unavailable("database", 0, errors.New("connection lost"))
	_, err := c.svc.Members(ctx, c.supervisor, c.household.ID)
	if !errors.Is(err, c.store.auditErr) {
		t.Fatalf("want the audit failure, got %v", err)
	}
}

// TestRolesAndRegionSubtrees: who may do what, and where. Refusals are
// forbidden for an operation the role may not do at all, and not found for
// an object outside what the caller sees (so ids reveal nothing); a refused
// request writes nothing.
func TestRolesAndRegionSubtrees(t *testing.T) {
	newHousehold := func(c *county) registry.NewHousehold {
		return registry.NewHousehold{RegionID: c.village.ID, Details: domain.HouseholdDetails{HeadName: "赵六"}, Status: domain.StatusEdge}
	}
	cases := []struct {
		name string
		do   func(c *county) error
		want domain.Code // "" when allowed
	}{
		{"an inspector may not register a household", func(c *county) error {
			_, err := c.svc.CreateHousehold(ctx, c.inspector, newHousehold(c))
			return err
		}, domain.CodeForbidden},
		{"a cadre may not register a household", func(c *county) error {
			_, err := c.svc.CreateHousehold(ctx, c.cadre, newHousehold(c))
			return err
		}, domain.CodeForbidden},
		{"a supervisor registers a household in their county", func(c *county) error {
			_, err := c.svc.CreateHousehold(ctx, c.supervisor, newHousehold(c))
			return err
		}, ""},
		{"a cadre may not add a member even to their paired household", func(c *county) error {
			_, err := c.svc.CreateMember(ctx, c.cadre, c.household.ID, domain.MemberDetails{Name: "张小红", Relation: "child"})
			return err
		}, domain.CodeForbidden},
		{"a cadre does not see a household they are not paired with", func(c *county) error {
			_, err := c.svc.Household(ctx, c.cadre, c.unpaired.ID)
			return err
		}, domain.CodeNotFound},
		{"a supervisor of another county does not see the household", func(c *county) error {
			_, err := c.svc.Household(ctx, c.neighbour, c.household.ID)
			return err
		}, domain.CodeNotFound},
		{"a cadre may not create an assisting unit", func(c *county) error {
			_, err := c.svc.CreateUnit(ctx, c.cadre, "县农业局", c.county.ID)
			return err
		}, domain.CodeForbidden},
		{"only an admin creates regions, not a supervisor", func(c *county) error {
			_, err := c.svc.CreateRegion(ctx, c.supervisor, registry.NewRegion{ParentID: &c.village.ID, Level: domain.LevelGroup, Code: "410122101001001", Name: "一组"})
			return err
		}, domain.CodeForbidden},
		{"a region outside the caller's subtree is not found", func(c *county) error {
			_, err := c.svc.Region(ctx, c.supervisor, c.otherCounty.ID)
			return err
		}, domain.CodeNotFound},
		{"a cadre looking up another user finds no one", func(c *county) error {
			_, err := c.svc.User(ctx, c.cadre, c.otherCadre.UserID)
			return err
		}, domain.CodeNotFound},
		{"a cadre reads their own account", func(c *county) error {
			_, err := c.svc.User(ctx, c.cadre, c.cadre.UserID)
			return err
		}, ""},
		{"a supervisor reads a cadre of their county", func(c *county) error {
			_, err := c.svc.User(ctx, c.supervisor, c.cadre.UserID)
			return err
		}, ""},
		{"a supervisor of another county finds no one", func(c *county) error {
			_, err := c.svc.User(ctx, c.neighbour, c.cadre.UserID)
			return err
		}, domain.CodeNotFound},
		{"a supervisor may not change an admin's account", func(c *county) error {
			name := "新名字"
			_, err := c.svc.UpdateUser(ctx, c.supervisor, c.admin.UserID, registry.UserChanges{DisplayName: &name})
			return err
		}, domain.CodeForbidden},
		{"a supervisor may not read the audit log", func(c *county) error {
			_, _, err := c.svc.AuditLog(ctx, c.supervisor, registry.AuditQuery{}, registry.Page{Limit: 10})
			return err
		}, domain.CodeForbidden},
		{"a cadre does not see another cadre's pairing", func(c *county) error {
			_, err := c.svc.Pairing(ctx, c.otherCadre, c.pairing.ID)
			return err
		}, domain.CodeNotFound},
		{"an inspector sees no pairing", func(c *county) error {
			_, err := c.svc.Pairing(ctx, c.inspector, c.pairing.ID)
			return err
		}, domain.CodeNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCounty(t)
			err := tc.do(c)
			if got := domain.ErrorCode(err); got != tc.want {
				t.Fatalf("got %q (%v), want %q", got, err, tc.want)
			}
			if tc.want != "" && len(c.store.writes) > 0 {
				t.Errorf("a refused request wrote %v", c.store.writes)
			}
		})
	}
}

// TestPairingListingsFollowTheRole: a cadre lists only their own pairings
// whatever they ask for, an inspector none (without asking the store), a
// manager those of their subtree for the cadre asked.
func TestPairingListingsFollowTheRole(t *testing.T) {
	cases := []struct {
		name      string
		who       func(c *county) domain.Principal
		wantAsked bool
		wantCadre func(c *county) uuid.UUID
	}{
		{"a cadre asking for a colleague's pairings gets their own", func(c *county) domain.Principal { return c.cadre }, true,
			func(c *county) uuid.UUID { return c.cadre.UserID }},
		{"a supervisor gets the pairings of the cadre asked for", func(c *county) domain.Principal { return c.supervisor }, true,
			func(c *county) uuid.UUID { return c.otherCadre.UserID }},
		{"an inspector gets none", func(c *county) domain.Principal { return c.inspector }, false, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCounty(t)
			p := tc.who(c)
			asked := c.otherCadre.UserID
			items, total, err := c.svc.Pairings(ctx, p, registry.PairingQuery{CadreID: &asked}, registry.Page{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			f := c.store.pairingFilter
			if !tc.wantAsked {
				if f != nil || items == nil || len(items) != 0 || total != 0 {
					t.Fatalf("want an empty list without a store read, got %v (%d), filter %+v", items, total, f)
				}
				return
			}
			if f == nil {
				t.Fatal("the store was not asked")
			}
			if f.CadreID == nil || *f.CadreID != tc.wantCadre(c) {
				t.Errorf("listed the pairings of cadre %v, want %v", f.CadreID, tc.wantCadre(c))
			}
			if f.WithinPath != p.RegionPath {
				t.Errorf("listed within %q, want the caller's subtree %q", f.WithinPath, p.RegionPath)
			}
		})
	}
}

// TestAuditLogReach: the admin at the top of the tree reads every entry
// (sign-ins are placed in no region); an admin lower down reads the entries
// placed in their subtree. Dates are whole days in China.
func TestAuditLogReach(t *testing.T) {
	c := newCounty(t)
	town := region(c.store, &c.county, domain.LevelTown, "410122101000")
	townAdmin := user(c.store, town, domain.RoleAdmin, "townadmin")
	from, to := domain.Date{Year: 2024, Month: 6, Day: 1}, domain.Date{Year: 2024, Month: 6, Day: 14}
	cases := []struct {
		name       string
		who        domain.Principal
		wantWithin string
	}{
		{"the county admin at the top of the tree", c.admin, ""},
		{"a town's admin", townAdmin, town.Path},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := c.svc.AuditLog(ctx, tc.who, registry.AuditQuery{From: &from, To: &to}, registry.Page{Limit: 10}); err != nil {
				t.Fatal(err)
			}
			f := c.store.auditFilter
			if f.WithinPath != tc.wantWithin {
				t.Errorf("within %q, want %q", f.WithinPath, tc.wantWithin)
			}
			if f.From == nil || !f.From.Equal(from.Start()) || f.To == nil || !f.To.Equal(to.AddDays(1).Start()) {
				t.Errorf("from %v to %v, want from the start of %v to the end of %v", f.From, f.To, from, to)
			}
		})
	}
}

// TestAHouseholdListingForARegionOutOfSightIsNotFound: a region_id the
// caller does not see is not found, as one that does not exist — the
// answer of every listing taking region_id.
func TestAHouseholdListingForARegionOutOfSightIsNotFound(t *testing.T) {
	c := newCounty(t)
	for _, id := range []uuid.UUID{c.otherCounty.ID, uuid.New()} {
		_, _, err := c.svc.Households(context.Background(), c.supervisor, registry.HouseholdQuery{RegionID: &id}, registry.Page{Limit: 10})
		if !domain.IsCode(err, domain.CodeNotFound) {
			t.Errorf("region %s: want not found, got %v", id, err)
		}
	}
}

// TestRefusedInputNamesTheFields: invalid input is answered with every
// problem at once, each naming its field (a JSON pointer into the body, or
// the query parameter) and a reason code.
func TestRefusedInputNamesTheFields(t *testing.T) {
	cases := []struct {
		name string
		do   func(c *county) error
		want []string // field reason
	}{
		{"a household listing with unknown status and poverty type", func(c *county) error {
			_, _, err := c.svc.Households(ctx, c.supervisor, registry.HouseholdQuery{Status: "rich", PovertyType: "none"}, registry.Page{Limit: 10})
			return err
		}, []string{"status invalid_enum", "poverty_type invalid_enum"}},
		{"a region listing with an unknown level", func(c *county) error {
			_, _, err := c.svc.Regions(ctx, c.supervisor, registry.RegionQuery{Level: "planet"}, registry.Page{Limit: 10})
			return err
		}, []string{"level invalid_enum"}},
		{"a user listing with an unknown role", func(c *county) error {
			_, _, err := c.svc.Users(ctx, c.supervisor, registry.UserQuery{Role: "mayor"}, registry.Page{Limit: 10})
			return err
		}, []string{"role invalid_enum"}},
		{"a household filed at county level with two heads", func(c *county) error {
			_, err := c.svc.CreateHousehold(ctx, c.supervisor, registry.NewHousehold{RegionID: c.county.ID,
				Details: domain.HouseholdDetails{HeadName: "赵六"}, Status: domain.StatusEdge,
				Members: []domain.MemberDetails{{Name: "赵六", Relation: "head"}, {Name: "钱七", Relation: "head"}}})
			return err
		}, []string{"/region_id invalid", "/members invalid"}},
		{"a household in an unknown region whose members share an ID number", func(c *county) error {
			_, err := c.svc.CreateHousehold(ctx, c.supervisor, registry.NewHousehold{RegionID: uuid.New(),
				Details: domain.HouseholdDetails{HeadName: "赵六"}, Status: domain.StatusEdge,
				Members: []domain.MemberDetails{{Name: "赵六", Relation: "head", IDNumber: "410122198001011235"},
					{Name: "钱七", Relation: "spouse", IDNumber: "410122198001011235"}}})
			return err
		}, []string{"/region_id unknown", "/members/1/id_number duplicate"}},
		{"a member made the head of a household that has one", func(c *county) error {
			spouse := c.store.members[c.household.ID][1]
			_, err := c.svc.UpdateMember(ctx, c.supervisor, c.household.ID, spouse.ID, spouse.Version, func(d domain.MemberDetails) domain.MemberDetails {
				d.Relation = domain.RelationHead
				return d
			})
			return err
		}, []string{"/relation duplicate"}},
		{"a unit without a name in an unknown region", func(c *county) error {
			_, err := c.svc.CreateUnit(ctx, c.supervisor, " ", uuid.New())
			return err
		}, []string{"/name required", "/region_id unknown"}},
		{"a pairing with an unknown household", func(c *county) error {
			_, err := c.svc.Pair(ctx, c.supervisor, registry.NewPairing{HouseholdID: uuid.New(), CadreID: c.cadre.UserID})
			return err
		}, []string{"/household_id unknown"}},
		{"a pairing of a household with someone who is no cadre", func(c *county) error {
			_, err := c.svc.Pair(ctx, c.supervisor, registry.NewPairing{HouseholdID: c.unpaired.ID, CadreID: c.inspector.UserID})
			return err
		}, []string{"/cadre_id unknown"}},
		{"ending a registered household's last pairing without naming the next cadre", func(c *county) error {
			_, _, err := c.svc.EndPairing(ctx, c.supervisor, c.pairing.ID, registry.EndInput{Reason: "调岗"})
			return err
		}, []string{"/new_cadre_id required"}},
		{"an audit log read whose end is before its start", func(c *county) error {
			from, to := domain.Date{Year: 2024, Month: 6, Day: 10}, domain.Date{Year: 2024, Month: 6, Day: 1}
			_, _, err := c.svc.AuditLog(ctx, c.admin, registry.AuditQuery{From: &from, To: &to}, registry.Page{Limit: 10})
			return err
		}, []string{"to out_of_range"}},
		{"an admin deactivating their own account", func(c *county) error {
			off := false
			_, err := c.svc.UpdateUser(ctx, c.admin, c.admin.UserID, registry.UserChanges{Active: &off})
			return err
		}, []string{"/active invalid"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCounty(t)
			err := tc.do(c)
			var de *domain.Error
			if !errors.As(err, &de) || de.Code != domain.CodeInvalid {
				t.Fatalf("want an invalid-input answer, got %v", err)
			}
			var got []string
			for _, f := range de.Fields {
				got = append(got, f.Field+" "+f.Reason)
				if f.Message == "" || f.MessageZH == "" {
					t.Errorf("%s: a message in English and Chinese is missing: %+v", f.Field, f)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("fields = %q, want %q", got, tc.want)
			}
			if len(c.store.writes) > 0 {
				t.Errorf("refused input was written: %v", c.store.writes)
			}
		})
	}
}
