package sync_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	fvsync "github.com/fieldvisit/fieldvisit/sync"
	"github.com/fieldvisit/fieldvisit/wire"
)

// TestAFullPageEndingTheFeedSaysSo: has_more is true only while something
// is left. A page that ends exactly where the walk or the feed ends says
// has_more false, so the phone is not sent back for an empty page; a page
// one short of the end says has_more true, and the next page brings the
// rest, nothing doubled.
func TestAFullPageEndingTheFeedSaysSo(t *testing.T) {
	e := newGapEnv(t, 4, 0)
	ctx := context.Background()
	page := func(cursor string, limit int) (fvsync.PageEnd, []uuid.UUID) {
		t.Helper()
		var got []uuid.UUID
		end, err := e.svc.Pull(ctx, e.supervisor, cursor, limit, &lockedPage{emit: func(c wire.PulledChange) error {
			got = append(got, c.ID)
			return nil
		}})
		if err != nil {
			t.Fatal(err)
		}
		return end, got
	}

	// A fresh pull: the walk ends with the page, and the feed after it is
	// empty.
	end, got := page("", 4)
	if len(got) != 4 || end.HasMore || end.Lag == nil || *end.Lag != 0 {
		t.Fatalf("a fresh pull of 4 households, 4 a page: %d changes, has_more %v, lag %v; want 4, false, 0", len(got), end.HasMore, end.Lag)
	}
	caughtUp := end.Cursor

	// One short: the walk has one more household.
	end, got = page("", 3)
	if len(got) != 3 || !end.HasMore {
		t.Fatalf("a fresh pull 3 a page: %d changes, has_more %v; want 3 and more", len(got), end.HasMore)
	}
	end, rest := page(end.Cursor, 3)
	if len(rest) != 1 || end.HasMore || !distinct(append(got, rest...)) {
		t.Fatalf("the second page: %v after %v, has_more %v; want the fourth household and the end", rest, got, end.HasMore)
	}

	// The feed: two edits, a page of two ends it; a page of one does not.
	for i, h := range e.households[:2] {
		if err := bump(ctx, e.store, h, 1, "1380000000"+string(rune('1'+i))); err != nil {
			t.Fatal(err)
		}
	}
	end, got = page(caughtUp, 2)
	if len(got) != 2 || end.HasMore || *end.Lag != 0 {
		t.Fatalf("two edits, 2 a page: %d changes, has_more %v, lag %d; want 2, false, 0", len(got), end.HasMore, *end.Lag)
	}
	if end, got := page(end.Cursor, 2); len(got) != 0 || end.HasMore {
		t.Fatalf("after the page that ended the feed: %d changes, has_more %v; want none", len(got), end.HasMore)
	}
	end, got = page(caughtUp, 1)
	if len(got) != 1 || !end.HasMore || *end.Lag != 1 {
		t.Fatalf("two edits, 1 a page: %d changes, has_more %v, lag %d; want 1, true, 1", len(got), end.HasMore, *end.Lag)
	}
	end, rest = page(end.Cursor, 1)
	if len(rest) != 1 || end.HasMore || !distinct(append(got, rest...)) {
		t.Fatalf("the second edit: %v after %v, has_more %v; want it, and the end", rest, got, end.HasMore)
	}
}

// distinct reports whether no id appears twice.
func distinct(ids []uuid.UUID) bool {
	seen := map[uuid.UUID]bool{}
	for _, id := range ids {
		if seen[id] {
			return false
		}
		seen[id] = true
	}
	return true
}

// TestAFreshWalkHandsOutWholeHouseholds: a fresh pull pages its scope in
// whole households — each page brings households with their members, a
// member never before its household and never on a later page — each page
// near its limit, and everything once. A cursor given out before whole
// households (no wh) goes on with the members phase, so the members of
// the households it already had still arrive.
func TestAFreshWalkHandsOutWholeHouseholds(t *testing.T) {
	e := newGapEnv(t, 10, 2)
	ctx := context.Background()
	home := map[uuid.UUID]uuid.UUID{} // member → household
	page := func(cursor string, limit int) (fvsync.PageEnd, []wire.PulledChange) {
		t.Helper()
		var p orderedPage
		end, err := e.svc.Pull(ctx, e.supervisor, cursor, limit, &p)
		if err != nil {
			t.Fatal(err)
		}
		return end, p.changes()
	}

	const limit = 6 // two households of three records
	seen := map[uuid.UUID]bool{}
	cursor, pages := "", 0
	for more := true; more; pages++ {
		end, got := page(cursor, limit)
		if len(got) > limit+3 {
			t.Fatalf("page %d holds %d records; want about %d", pages, len(got), limit)
		}
		here := map[uuid.UUID]bool{}
		for _, c := range got {
			switch c.Entity {
			case wire.EntityHousehold:
				here[c.ID] = true
			case wire.EntityMember:
				if !here[*c.HouseholdID] {
					t.Fatalf("page %d: member %s before (or without) its household", pages, c.ID)
				}
				home[c.ID] = *c.HouseholdID
			}
			if seen[c.ID] {
				t.Fatalf("%s %s twice", c.Entity, c.ID)
			}
			seen[c.ID] = true
		}
		cursor, more = end.Cursor, end.HasMore
	}
	if len(seen) != 30 || len(home) != 20 || pages > 6 {
		t.Fatalf("the walk: %d records (%d members) in %d pages; want 30 (20) in at most 6", len(seen), len(home), pages)
	}

	// A cursor from before: the households phase after the third
	// household, without wh.
	w, err := e.store.SequenceChanges(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(e.households))
	for i, h := range e.households {
		ids[i] = h.ID.String()
	}
	slices.Sort(ids)
	old := base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, `{"v":1,"p":0,"a":%q,"w":%d}`, ids[2], w))
	members := 0
	for cursor, more := old, true; more; {
		end, got := page(cursor, limit)
		for _, c := range got {
			if c.Entity == wire.EntityMember {
				members++
			}
		}
		cursor, more = end.Cursor, end.HasMore
	}
	if members != 20 {
		t.Fatalf("an old cursor's walk brought %d members; want all 20 (the members phase follows)", members)
	}

	// A cursor made up by the caller, whose households end past every
	// household, may not read more of them at once than a snapshot may,
	// or than twice the page. (A window of the read-ahead walks its
	// range itself, so there the end in a cursor bounds nothing.)
	small := fvsync.NewService(e.store.Sync(), fvsync.Config{SnapshotHouseholds: 4, ReadAheadRecords: -1}, time.Now, nil)
	madeUp := base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, `{"v":1,"p":0,"w":%d,"wh":30,"wu":"ffffffff-ffff-ffff-ffff-ffffffffffff"}`, w))
	var p orderedPage
	if _, err := small.Pull(ctx, e.supervisor, madeUp, 2, &p); !isFieldError(err, "cursor") {
		t.Fatalf("a made-up end reading 10 households, pages of 2, a snapshot limit of 4: %v; want the cursor refused", err)
	}
	// A snapshot limit below a page's households still pages a scope.
	for cursor, more := "", true; more; {
		var p orderedPage
		end, err := small.Pull(ctx, e.supervisor, cursor, 30, &p)
		if err != nil {
			t.Fatalf("paging with a snapshot limit below a page: %v", err)
		}
		cursor, more = end.Cursor, end.HasMore
	}
}

// isFieldError reports whether err is a validation error naming field.
func isFieldError(err error, field string) bool {
	var v *domain.Error
	if !errors.As(err, &v) || v.Code != domain.CodeInvalid {
		return false
	}
	for _, f := range v.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

// orderedPage keeps a page's parts and reads them back in page order, as
// the page writer sends them.
type orderedPage struct {
	parts []*[]wire.PulledChange
}

func (p *orderedPage) Part() func(wire.PulledChange) error {
	part := &[]wire.PulledChange{}
	p.parts = append(p.parts, part)
	return func(c wire.PulledChange) error { *part = append(*part, c); return nil }
}

func (p *orderedPage) changes() []wire.PulledChange {
	var out []wire.PulledChange
	for _, part := range p.parts {
		out = append(out, *part...)
	}
	return out
}

// TestTheWalksTailPagesExactly: after its households a fresh walk hands
// out the caller's own visits, then the plan items of their households,
// then the feed since the walk began (a household changed after the
// first page comes again, after all of them). Whatever the page size,
// each page stays within it once the households are out, every record
// comes once, in phase order, and the last page says so.
func TestTheWalksTailPagesExactly(t *testing.T) {
	e := newGapEnv(t, 2, 1)
	ctx := context.Background()
	now := time.Now().UTC()
	visits, items := e.walkersOwn(t, 5, 3)
	const walk = 4 // two households of one member
	for limit := 1; limit <= walk+len(visits)+len(items)+1; limit++ {
		t.Run(fmt.Sprintf("limit %d", limit), func(t *testing.T) {
			var got []wire.PulledChange
			cursor, pages := "", 0
			for {
				var parts orderedPage // the page in its parts' order, as it goes out
				end, err := e.svc.Pull(ctx, e.supervisor, cursor, limit, &parts)
				if err != nil {
					t.Fatal(err)
				}
				page := parts.changes()
				tail := slices.IndexFunc(page, func(c wire.PulledChange) bool {
					return c.Entity != wire.EntityHousehold && c.Entity != wire.EntityMember
				})
				if tail >= 0 && len(page) > max(limit, tail) {
					t.Fatalf("page %d holds %d records, %d of them after the households; want at most %d", pages, len(page), len(page)-tail, limit)
				}
				got, cursor, pages = append(got, page...), end.Cursor, pages+1
				if !end.HasMore {
					break
				}
				if pages == 1 {
					changed := e.households[0]
					cur, _, err := e.store.HouseholdForUpdate(ctx, domain.HouseholdScope{RegionPath: e.supervisor.RegionPath}, domain.DateOf(now), changed.ID)
					if err != nil {
						t.Fatal(err)
					}
					if err := bump(ctx, e.store, cur, cur.Version, fmt.Sprintf("1380000%04d", limit)); err != nil {
						t.Fatal(err)
					}
				}
				if pages > 20 {
					t.Fatal("the walk does not end")
				}
			}
			var gotVisits, gotItems []uuid.UUID
			changedAgain := false // the changed household, from the feed
			for _, c := range got {
				switch c.Entity {
				case wire.EntityVisit:
					gotVisits = append(gotVisits, c.ID)
				case wire.EntityPlanItem:
					if len(gotVisits) < len(visits) {
						t.Fatalf("a plan item before the last visit: %v", c.ID)
					}
					gotItems = append(gotItems, c.ID)
				case wire.EntityHousehold:
					if c.ID == e.households[0].ID && len(gotVisits) > 0 {
						if len(gotItems) < len(items) {
							t.Fatalf("the feed's household came before the walk's last plan item (%d of %d out)", len(gotItems), len(items))
						}
						changedAgain = true
					}
				}
			}
			if !changedAgain && pages > 1 {
				t.Fatal("the household changed after the first page did not come again from the feed")
			}
			if !distinct(gotVisits) || !distinct(gotItems) || !sameSet(gotVisits, visits) || !sameSet(gotItems, items) {
				t.Fatalf("visits %v and plan items %v; want each of %v and %v once", gotVisits, gotItems, visits, items)
			}
		})
	}
}

// walkersOwn gives the supervisor who walks an account, visits of their
// own and plan items at the env's households, spread over them in turn,
// and returns their ids.
func (e *gapEnv) walkersOwn(t *testing.T, nVisits, nItems int) (visits, items []uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	county := e.households[0].CountyID
	if err := e.store.CreateUser(ctx, domain.User{ID: e.supervisor.UserID, Username: "tail-walker", DisplayName: "督导", Role: domain.RoleSupervisor,
		RegionID: county, RegionPath: e.supervisor.RegionPath, Active: true, CreatedAt: now, UpdatedAt: now}, "x", domain.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	at := func(i int) uuid.UUID { return e.households[i%len(e.households)].ID }
	for i := range nVisits {
		started := now.Add(-time.Duration(i+1) * time.Hour)
		v := domain.Visit{ID: uuid.New(), CountyID: county, HouseholdID: at(i), CadreID: e.supervisor.UserID, DeviceID: "phone",
			VisitDetails: domain.VisitDetails{Kind: "assist", StartedAt: started}, StartedAtText: started.Format(time.RFC3339),
			ReceivedAt: started, Version: 1, CreatedAt: started, UpdatedAt: started}
		if err := e.store.InsertVisit(ctx, v); err != nil {
			t.Fatal(err)
		}
		visits = append(visits, v.ID)
	}
	for i := range nItems {
		it := domain.PlanItem{ID: uuid.New(), CountyID: county, HouseholdID: at(i), Version: 1, CreatedBy: e.supervisor.UserID,
			UpdatedBy: e.supervisor.UserID, DeviceID: "phone", CreatedAt: now, UpdatedAt: now, PlanItemDetails: domain.PlanItemDetails{
				Route: "industry", Measure: fmt.Sprintf("措施%d", i), ResponsibleCadreID: e.supervisor.UserID, TargetOn: domain.DateOf(now.AddDate(0, 6, 0)), State: "planned"}}
		if err := e.store.InsertPlanItem(ctx, it); err != nil {
			t.Fatal(err)
		}
		items = append(items, it.ID)
	}
	return visits, items
}

// TestTheFeedComesAfterTheWalksTail: the feed since a walk began goes out
// after the caller's own visits and plan items on the page where they
// are read at once, so a change that reached the feed after the walk read
// a record never comes before that record.
func TestTheFeedComesAfterTheWalksTail(t *testing.T) {
	const members = 9 // the household and its members fill the first page
	e := newGapEnv(t, 1, members)
	ctx := context.Background()
	visits, items := e.walkersOwn(t, 2, 1)
	var first orderedPage
	end, err := e.svc.Pull(ctx, e.supervisor, "", members+1, &first)
	if err != nil || !end.HasMore {
		t.Fatalf("the first page: %+v, %v", end, err)
	}
	h := e.households[0]
	cur, _, err := e.store.HouseholdForUpdate(ctx, domain.HouseholdScope{RegionPath: e.supervisor.RegionPath}, domain.DateOf(time.Now()), h.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := bump(ctx, e.store, cur, cur.Version, "13800000000"); err != nil {
		t.Fatal(err)
	}
	var last orderedPage
	if end, err = e.svc.Pull(ctx, e.supervisor, end.Cursor, members+1, &last); err != nil || end.HasMore {
		t.Fatalf("the last page: %+v, %v", end, err)
	}
	var order []string
	for _, c := range last.changes() {
		order = append(order, c.Entity)
	}
	want := slices.Repeat([]string{wire.EntityVisit}, len(visits))
	want = append(append(want, slices.Repeat([]string{wire.EntityPlanItem}, len(items))...), wire.EntityHousehold)
	if !slices.Equal(order, want) {
		t.Fatalf("the last page holds %v; want %v", order, want)
	}
}

// sameSet reports whether a and b hold the same ids.
func sameSet(a, b []uuid.UUID) bool {
	return len(a) == len(b) && !slices.ContainsFunc(a, func(id uuid.UUID) bool { return !slices.Contains(b, id) })
}

// TestAPagedWalkReadsAhead: a paged walk reads several pages' households
// at once and serves the pages after the first from that read, which the
// walk allows — its reads are as of its watermark or later, and the feed
// after the watermark repeats whatever changed — so a household changed
// after the read arrives as it was, then as it is, and the phone ends
// with every record's last version either way. A page kept for one scope
// is never served in another: a duty that ends between two pages does
// not bring its region's households back.
func TestAPagedWalkReadsAhead(t *testing.T) {
	e := newGapEnv(t, 12, 2)
	ctx := context.Background()
	const limit = 6 // two households of three records

	// walk pages the supervisor's scope, renaming every household after
	// the first page, and returns the versions of households the walk's
	// pages brought and the last version the pull brought of each.
	walk := func(t *testing.T, svc *fvsync.Service) (walked, last map[uuid.UUID]int64) {
		t.Helper()
		walked, last = map[uuid.UUID]int64{}, map[uuid.UUID]int64{}
		for cursor, more, pages := "", true, 0; more; pages++ {
			var p orderedPage
			end, err := svc.Pull(ctx, e.supervisor, cursor, limit, &p)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range p.changes() {
				if c.Entity == wire.EntityHousehold && c.Op == wire.OpUpsert {
					if _, ok := walked[c.ID]; !ok && pages < len(e.households)*3/limit {
						walked[c.ID] = c.Version
					}
					last[c.ID] = max(last[c.ID], c.Version)
				}
			}
			if pages == 0 {
				for _, h := range e.households {
					cur, _, err := e.store.HouseholdForUpdate(ctx, domain.HouseholdScope{RegionPath: e.supervisor.RegionPath}, domain.DateOf(time.Now()), h.ID)
					if err != nil {
						t.Fatal(err)
					}
					if err := bump(ctx, e.store, cur, cur.Version, "13800000000"); err != nil {
						t.Fatal(err)
					}
				}
			}
			cursor, more = end.Cursor, end.HasMore
		}
		return walked, last
	}
	for _, tc := range []struct {
		name      string
		readAhead int
		fromRead  bool // the pages after the first bring the versions read with it
	}{
		{"read ahead", 0, true},
		{"no room to keep a window", 1, false},
		{"read ahead off", -1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := map[uuid.UUID]int64{}
			for _, h := range e.households {
				cur, _, err := e.store.HouseholdForUpdate(ctx, domain.HouseholdScope{RegionPath: e.supervisor.RegionPath}, domain.DateOf(time.Now()), h.ID)
				if err != nil {
					t.Fatal(err)
				}
				before[h.ID] = cur.Version
			}
			walked, last := walk(t, fvsync.NewService(e.store.Sync(), fvsync.Config{ReadAheadRecords: tc.readAhead}, time.Now, nil))
			stale := 0
			for id, v := range walked {
				if v == before[id] {
					stale++
				}
				if last[id] != before[id]+1 {
					t.Errorf("household %s: the pull ended at version %d; want %d", id, last[id], before[id]+1)
				}
			}
			if len(walked) != len(e.households) {
				t.Fatalf("the walk brought %d households; want %d", len(walked), len(e.households))
			}
			// The first page is read before the renames either way; with
			// the read-ahead, the pages its window kept come as they
			// were read too.
			if first := limit / 3; tc.fromRead && stale <= first || !tc.fromRead && stale != first {
				t.Fatalf("%d households came as they were before the renames (the first page holds %d)", stale, first)
			}
		})
	}

	t.Run("a duty that ends between pages", func(t *testing.T) {
		county := e.households[0].CountyID
		svc := fvsync.NewService(e.store.Sync(), fvsync.Config{}, time.Now, nil)
		head := domain.Principal{UserID: uuid.New(), Role: domain.RoleCadre, RegionPath: e.supervisor.RegionPath,
			Duties: []domain.Duty{{Kind: domain.DutyTownHead, RegionID: &county, StartOn: domain.DateOf(time.Now()).AddDays(-1)}}}
		var p orderedPage
		end, err := svc.Pull(ctx, head, "", limit, &p)
		if err != nil || !end.HasMore {
			t.Fatalf("the town head's first page: %+v, %v", end, err)
		}
		yesterday := domain.DateOf(time.Now()).AddDays(-1)
		head.Duties[0].EndOn = &yesterday
		for cursor, more := end.Cursor, true; more; {
			var p orderedPage
			end, err := svc.Pull(ctx, head, cursor, limit, &p)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range p.changes() {
				if c.Op == wire.OpUpsert && (c.Entity == wire.EntityHousehold || c.Entity == wire.EntityMember) {
					t.Fatalf("after the duty ended, a page brought %s %s", c.Entity, c.ID)
				}
			}
			cursor, more = end.Cursor, end.HasMore
		}
	})
}
