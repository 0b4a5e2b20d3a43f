package storage_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/importer"
	"github.com/fieldvisit/fieldvisit/internal/testkit/storetest"
	"github.com/fieldvisit/fieldvisit/storage"
	fvsync "github.com/fieldvisit/fieldvisit/sync"
)

// snapshotFixture is one county with two villages, two cadres and
// households whose pairings start, end and overlap around today.
type snapshotFixture struct {
	today                    domain.Date
	villagePath, countyPath  string
	otherVillage             uuid.UUID // the village cadre A holds no pairing in
	cadreA                   uuid.UUID
	inScope                  map[uuid.UUID]bool // households cadre A holds today
	members                  map[uuid.UUID]uuid.UUID
	pairings                 map[uuid.UUID]uuid.UUID // id → household, pairings open today
	cadres                   map[uuid.UUID]domain.User
	countyMembers, countyAll int
}

func newSnapshotFixture(t *testing.T, s *storage.Store) snapshotFixture {
	t.Helper()
	ctx := context.Background()
	fx := snapshotFixture{today: domain.DateOf(time.Now()), inScope: map[uuid.UUID]bool{}, members: map[uuid.UUID]uuid.UUID{}, pairings: map[uuid.UUID]uuid.UUID{}, cadres: map[uuid.UUID]domain.User{}}
	county := uuid.New()
	fx.countyPath = "/" + county.String() + "/"
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.CreateRegion(ctx, domain.Region{ID: county, Level: domain.LevelCounty, Code: "410122000000", Name: "县", Path: fx.countyPath, CountyID: &county}, domain.AuditEntry{}))
	villages := make([]domain.Region, 2)
	for i := range villages {
		id := uuid.New()
		villages[i] = domain.Region{ID: id, Level: domain.LevelVillage, Code: fmt.Sprintf("41012210020%d", i+1), Name: fmt.Sprintf("村%d", i+1),
			Path: fx.countyPath + id.String() + "/", CountyID: &county, ParentID: &county}
		must(s.CreateRegion(ctx, villages[i], domain.AuditEntry{}))
	}
	fx.villagePath, fx.otherVillage = villages[0].Path, villages[1].ID
	var cadres [2]uuid.UUID
	for i := range cadres {
		u := domain.User{ID: uuid.New(), Username: fmt.Sprintf("snap-cadre-%d", i), DisplayName: fmt.Sprintf("干部%d", i), Role: domain.RoleCadre, RegionID: villages[0].ID,
			RegionPath: villages[0].Path, Phone: fmt.Sprintf("1380013800%d", i), Active: true, Duties: []domain.Duty{}}
		must(s.CreateUser(ctx, u, "x", domain.AuditEntry{}))
		cadres[i] = u.ID
		fx.cadres[u.ID] = u
	}
	fx.cadreA = cadres[0]
	now := time.Now().UTC()
	yesterday, tomorrow := fx.today.AddDays(-1), fx.today.AddDays(1)
	var plan importer.Plan
	pair := func(h, cadre uuid.UUID, start domain.Date, end *domain.Date) {
		p := domain.Pairing{ID: uuid.New(), CountyID: county, HouseholdID: h, CadreID: cadre, StartOn: start, EndOn: end, CreatedAt: now}
		plan.Pairings = append(plan.Pairings, p)
		if !start.After(fx.today) && (end == nil || end.After(fx.today)) {
			fx.pairings[p.ID] = h
		}
	}
	// Household i of village v: i%5 members; pairings by case.
	for v, village := range villages {
		for i := 0; i < 12; i++ {
			h := domain.Household{ID: uuid.New(), CountyID: county, RegionID: village.ID, VillageID: village.ID, Status: domain.StatusRegistered,
				PovertyType: domain.PovertyOrdinary, Version: 1, CreatedAt: now, UpdatedAt: now, HouseholdDetails: domain.HouseholdDetails{HeadName: "户主"}}
			plan.Households = append(plan.Households, importer.NewHousehold{Household: h, RegionPath: village.Path})
			for m := 0; m < i%5; m++ {
				mem := domain.Member{ID: uuid.New(), CountyID: county, HouseholdID: h.ID, Version: 1, CreatedAt: now, UpdatedAt: now,
					MemberDetails: domain.MemberDetails{Name: fmt.Sprintf("成员%d", m), Relation: "child"}}
				plan.Members = append(plan.Members, mem)
				fx.countyMembers++
				if v == 0 {
					fx.members[mem.ID] = h.ID
				}
			}
			fx.countyAll++
			switch i % 6 {
			case 0, 1: // A's, open
				pair(h.ID, cadres[0], yesterday, nil)
			case 2: // A's, shared with B
				pair(h.ID, cadres[0], yesterday, nil)
				pair(h.ID, cadres[1], yesterday, nil)
			case 3: // A's ended yesterday, now B's
				end := yesterday
				pair(h.ID, cadres[0], yesterday.AddDays(-30), &end)
				pair(h.ID, cadres[1], yesterday, nil)
			case 4: // A's from tomorrow
				pair(h.ID, cadres[0], tomorrow, nil)
			case 5: // A's, ending on a later date
				end := tomorrow
				pair(h.ID, cadres[0], yesterday, &end)
			}
			if v == 0 && (i%6 <= 2 || i%6 == 5) {
				fx.inScope[h.ID] = true
			}
		}
	}
	must(s.ApplyImport(ctx, plan))
	return fx
}

// checkCadre holds a pulled pairing to its cadre's name and phone, joined
// in by the read itself.
func (fx snapshotFixture) checkCadre(t *testing.T, p domain.PairingRecord) {
	t.Helper()
	if u := fx.cadres[p.CadreID]; p.CadreName != u.DisplayName || p.CadrePhone != u.Phone {
		t.Errorf("pairing %s names its cadre %q %q, want %q %q", p.ID, p.CadreName, p.CadrePhone, u.DisplayName, u.Phone)
	}
}

// walk pages through one snapshot phase the way a pull does, limit at a
// time, and returns every key in the order handed out.
func walk(t *testing.T, limit int, page func(after fvsync.ChildKey, limit int, each func(fvsync.ChildKey)) error) []fvsync.ChildKey {
	t.Helper()
	var all []fvsync.ChildKey
	var after fvsync.ChildKey
	for i := 0; i < 1000; i++ {
		n := 0
		if err := page(after, limit, func(k fvsync.ChildKey) { all = append(all, k); after = k; n++ }); err != nil {
			t.Fatal(err)
		}
		if n < limit {
			return all
		}
	}
	t.Fatal("the walk never ended")
	return nil
}

func inOrder(keys []fvsync.ChildKey) bool {
	return sort.SliceIsSorted(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.HouseholdID != b.HouseholdID {
			return a.HouseholdID.String() < b.HouseholdID.String()
		}
		return a.ID.String() < b.ID.String()
	})
}

// TestSnapshotWalksEachRecordOnce: at every page size, a fresh phone's
// snapshot hands out each household, member and open pairing of its scope
// exactly once, in (household, id) order, and nothing outside it.
func TestSnapshotWalksEachRecordOnce(t *testing.T) {
	onBothWithSnapshotFixture(t, func(t *testing.T, s *storage.Store, fx snapshotFixture) {
		ctx := context.Background()
		cadre := fx.cadreA
		scopes := map[string]domain.HouseholdScope{
			"cadre":  {RegionPath: fx.villagePath, CadreID: &cadre},
			"region": {RegionPath: fx.countyPath},
		}
		for scopeName, scope := range scopes {
			wantHouseholds, wantMembers, wantPairings := fx.countyAll, fx.countyMembers, len(fx.pairings)
			if scope.CadreID != nil {
				wantHouseholds, wantMembers, wantPairings = len(fx.inScope), 0, 0
				for _, h := range fx.members {
					if fx.inScope[h] {
						wantMembers++
					}
				}
				for _, h := range fx.pairings {
					if fx.inScope[h] {
						wantPairings++
					}
				}
			}
			for _, limit := range []int{1, 2, 3, 7, 500} {
				t.Run(fmt.Sprintf("%s/limit=%d", scopeName, limit), func(t *testing.T) {
					hs := walk(t, limit, func(after fvsync.ChildKey, limit int, each func(fvsync.ChildKey)) error {
						return s.HouseholdsAfter(ctx, scope, fx.today, after.ID, limit, func(h domain.Household) error {
							each(fvsync.ChildKey{ID: h.ID})
							if scope.CadreID != nil && !fx.inScope[h.ID] {
								t.Errorf("household %s is outside the cadre's scope", h.ID)
							}
							return nil
						})
					})
					ms := walk(t, limit, func(after fvsync.ChildKey, limit int, each func(fvsync.ChildKey)) error {
						return s.MembersAfter(ctx, scope, fx.today, after, limit, func(m domain.Member) error {
							each(fvsync.ChildKey{HouseholdID: m.HouseholdID, ID: m.ID})
							if scope.CadreID != nil && !fx.inScope[m.HouseholdID] {
								t.Errorf("member %s is outside the cadre's scope", m.ID)
							}
							return nil
						})
					})
					ps := walk(t, limit, func(after fvsync.ChildKey, limit int, each func(fvsync.ChildKey)) error {
						return s.PairingsAfter(ctx, scope, fx.today, after, limit, func(p domain.PairingRecord) error {
							each(fvsync.ChildKey{HouseholdID: p.HouseholdID, ID: p.ID})
							if _, open := fx.pairings[p.ID]; !open {
								t.Errorf("pairing %s is not open today", p.ID)
							}
							fx.checkCadre(t, p)
							return nil
						})
					})
					for what, got := range map[string][]fvsync.ChildKey{"households": hs, "members": ms, "pairings": ps} {
						seen := map[uuid.UUID]bool{}
						for _, k := range got {
							if seen[k.ID] {
								t.Errorf("%s: %s handed out twice", what, k.ID)
							}
							seen[k.ID] = true
						}
						if !inOrder(got) {
							t.Errorf("%s not in (household, id) order", what)
						}
					}
					if len(hs) != wantHouseholds || len(ms) != wantMembers || len(ps) != wantPairings {
						t.Fatalf("walked %d households, %d members and %d pairings, want %d, %d and %d",
							len(hs), len(ms), len(ps), wantHouseholds, wantMembers, wantPairings)
					}
				})
			}
		}
		// A cursor from before the walk went by household (no household
		// in the key) starts its phase again rather than skip anything.
		var first, all []uuid.UUID
		scope := scopes["cadre"]
		if err := s.MembersAfter(ctx, scope, fx.today, fvsync.ChildKey{}, 1000, func(m domain.Member) error { all = append(all, m.ID); return nil }); err != nil {
			t.Fatal(err)
		}
		if err := s.MembersAfter(ctx, scope, fx.today, fvsync.ChildKey{ID: all[len(all)-1]}, 1000, func(m domain.Member) error { first = append(first, m.ID); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(first) != len(all) {
			t.Fatalf("an old-style members cursor gave %d of %d members", len(first), len(all))
		}
	})
}

// WholeScope is the paged walk in one piece: the same households,
// members and open pairings, each exactly once.
func TestWholeScopeHandsOutWhatTheWalkDoes(t *testing.T) {
	onBothWithSnapshotFixture(t, func(t *testing.T, s *storage.Store, fx snapshotFixture) {
		ctx := context.Background()
		cadre := fx.cadreA
		for scopeName, scope := range map[string]domain.HouseholdScope{
			"cadre":  {RegionPath: fx.villagePath, CadreID: &cadre},
			"region": {RegionPath: fx.countyPath},
			"none":   {Nothing: true},
			// A resident's duty in the other village adds all of it.
			"cadre with a duty": {RegionPath: fx.countyPath, CadreID: &cadre,
				Duties: []domain.Duty{{Kind: "resident", RegionID: &fx.otherVillage, StartOn: fx.today.AddDays(-1)}}},
		} {
			t.Run(scopeName, func(t *testing.T) {
				want := map[string][]uuid.UUID{}
				if err := s.HouseholdsAfter(ctx, scope, fx.today, uuid.Nil, 500, func(h domain.Household) error {
					want["households"] = append(want["households"], h.ID)
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				if err := s.MembersAfter(ctx, scope, fx.today, fvsync.ChildKey{}, 500, func(m domain.Member) error {
					want["members"] = append(want["members"], m.ID)
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				if err := s.PairingsAfter(ctx, scope, fx.today, fvsync.ChildKey{}, 500, func(p domain.PairingRecord) error {
					want["pairings"] = append(want["pairings"], p.ID)
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				// Each sink runs on its own goroutine, one call at a time.
				var hs, ms, ps []uuid.UUID
				err := s.WholeScope(ctx, scope, fx.today, fvsync.ScopeSinks{
					Household: func(h domain.Household) error { hs = append(hs, h.ID); return nil },
					Member:    func(m domain.Member) error { ms = append(ms, m.ID); return nil },
					Pairing:   func(p domain.PairingRecord) error { ps = append(ps, p.ID); fx.checkCadre(t, p); return nil },
				})
				if err != nil {
					t.Fatal(err)
				}
				for what, got := range map[string][]uuid.UUID{"households": hs, "members": ms, "pairings": ps} {
					w := slices.Clone(want[what])
					slices.SortFunc(got, uuidOrder)
					slices.SortFunc(w, uuidOrder)
					if !slices.Equal(got, w) {
						t.Errorf("%s: whole scope gave %d, the walk %d (or other ids)", what, len(got), len(w))
					}
				}
				if scope.Nothing && len(hs)+len(ms)+len(ps) > 0 {
					t.Errorf("an empty scope gave records")
				}
				if len(scope.Duties) > 0 && len(hs) < len(fx.inScope)+12 {
					t.Errorf("a duty in the other village gave %d households, want the cadre's %d and that village's 12", len(hs), len(fx.inScope))
				}
			})
		}
	})
}

// A sink's error stops the whole read and comes back as it was.
func TestWholeScopeStopsAtASinkError(t *testing.T) {
	onBothWithSnapshotFixture(t, func(t *testing.T, s *storage.Store, fx snapshotFixture) {
		stop := errors.New("enough")
		n := 0
		err := s.WholeScope(context.Background(), domain.HouseholdScope{RegionPath: fx.countyPath}, fx.today, fvsync.ScopeSinks{
			Household: func(domain.Household) error {
				if n++; n == 2 {
					return stop
				}
				return nil
			},
			Member:  func(domain.Member) error { return nil },
			Pairing: func(domain.PairingRecord) error { return nil },
		})
		if !errors.Is(err, stop) {
			t.Fatalf("got %v, want the sink's error", err)
		}
	})
}

func uuidOrder(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) }

// onBothWithSnapshotFixture runs fn on SQLite and on PostgreSQL, each with
// a fresh snapshot fixture.
func onBothWithSnapshotFixture(t *testing.T, fn func(t *testing.T, s *storage.Store, fx snapshotFixture)) {
	storetest.Each(t, func(t *testing.T, db *storage.DB) {
		s := storage.NewStore(db, nil)
		fn(t, s, newSnapshotFixture(t, s))
	})
}
