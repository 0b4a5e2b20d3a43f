package sync

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/wire"
)

// cursor is where a phone is in its feed. A fresh phone first walks a
// snapshot of its scope (Phase 0–3: households by id, members and pairings
// by household and id, its own visits by id) taken after numbering the feed
// up to W, then reads the feed after W. Changes during the snapshot
// reappear in the feed; the phone keeps the higher version, so nothing is
// missed and repeats are harmless — which is also why a cursor from before
// members and pairings were walked by household (no H) simply restarts its
// phase.
//
// An inspector's walk has two more phases after their own visits: their
// active tasks (by household, then campaign, kept in H and After), and
// the visits others recorded at those households in the last 12 months
// (by id). They were added after cursors were given out, so they are
// numbered after the feed and nextPhase puts them in their place: a
// cursor from before them keeps its meaning.
//
// D is the set of duty regions (DESIGN §6: a town head's town) the phone's
// data covers. When the caller's duties in force differ from D — a duty
// began or ended, by an edit or by the calendar — the regions that changed
// (R) are walked first (RA: the last household done): each of their
// households arrives whole if it is in scope now, or as tombstones if not.
type cursor struct {
	V     int         `json:"v"`
	Phase int         `json:"p"`
	H     uuid.UUID   `json:"h,omitzero"` // household of After, in the members, pairings and tasks phases
	After uuid.UUID   `json:"a,omitzero"`
	W     int64       `json:"w"`
	D     []uuid.UUID `json:"d,omitempty"`
	R     []uuid.UUID `json:"r,omitempty"`
	RA    uuid.UUID   `json:"ra,omitzero"`
	// WH, set on every fresh walk, says the households phase hands out
	// whole households (each with its members and open pairings, the
	// phases after it skipped) and is the records a household brought on
	// the last page, in tenths, to size the next. A cursor without it is
	// from before whole households and walks members and pairings after.
	WH int `json:"wh,omitempty"`
	// WU is where the next page's households end, found while this page
	// was read (nil: walk to find it).
	WU uuid.UUID `json:"wu,omitzero"`
}

const (
	phaseHouseholds = iota
	phaseMembers
	phasePairings
	phaseVisits
	phaseFeed
	phaseTasks
	phaseScopeVisits
	phasePlanItems
	phaseIncomeAccounts
)

// nextPhase is the phase the walk goes on with after p.
func nextPhase(p int) int {
	switch p {
	case phaseVisits:
		return phaseTasks
	case phaseTasks:
		return phaseScopeVisits
	case phaseScopeVisits:
		return phasePlanItems
	case phasePlanItems:
		return phaseIncomeAccounts
	case phaseIncomeAccounts:
		return phaseFeed
	}
	return p + 1
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// badCursor refuses a cursor that does not decode or names no position
// this server gives out. Cursors are not signed (a signature would send
// every phone back to a full snapshot when the key turned): a made-up one
// that decodes is read, within the caller's scope like any page.
func badCursor() error {
	return domain.Invalid(domain.FieldError{Field: "cursor", Reason: "invalid", Message: "cursor does not decode or names no position this server gives out; start again with an empty cursor",
		MessageZH: "同步游标无效，请清空后重新同步"})
}

func decodeCursor(s string) (cursor, error) {
	bad := badCursor()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, bad
	}
	var c cursor
	if json.Unmarshal(b, &c) != nil || c.V != 1 || c.Phase < phaseHouseholds || c.Phase > phaseIncomeAccounts || c.W < 0 || c.WH < 0 {
		return cursor{}, bad
	}
	return c, nil
}

// PageEnd closes a page of the feed.
type PageEnd struct {
	Cursor  string // where the next page starts; opaque to the phone
	HasMore bool   // pull again at once
	// Due is a cadre's due list, on the last page only: the phone shows
	// who is due, when and why while offline.
	Due []wire.DueItem
	// Lag is how many feed positions Cursor lies behind the head of the
	// feed as this page numbered it: 0 when the caller is caught up, nil
	// when the page ended inside a snapshot walk or a rescope, where what
	// is left is not counted. Positions count every change committed on
	// the server, in the caller's scope or not, so a lag is an upper bound
	// on what the phone still lacks; it costs no query to know.
	Lag *int64
}

// Pull pages through the caller's feed from cursor, handing each change to
// a part of page as it is read. It returns the next cursor and whether
// more is waiting.
func (s *Service) Pull(ctx context.Context, p domain.Principal, cur string, limit int, page Page) (PageEnd, error) {
	pl := s.puller(p, page)
	var c cursor
	if cur == "" {
		// The walk's reads must see everything numbered up to its
		// watermark, so they wait for the numbering; where the first
		// page's households end need not (it only bounds the reads), and
		// is walked alongside.
		var w int64
		var firstKeys []uuid.UUID
		g, gctx := errgroup.WithContext(ctx)
		g.Go(func() (err error) { w, err = s.store.SequenceChanges(gctx); return err })
		first := householdsFor(limit, firstPageDensity)
		walk := first
		if s.ahead.max > 0 {
			// The first page's window, walked here rather than after.
			walk = windowHouseholds(limit, limit, firstPageDensity) + 1
		}
		g.Go(func() (err error) {
			firstKeys, err = s.store.ScopeKeysAfter(gctx, pl.scope, pl.today, uuid.Nil, walk)
			return err
		})
		if err := g.Wait(); err != nil {
			return PageEnd{}, err
		}
		c = cursor{V: 1, Phase: phaseHouseholds, W: w, D: pl.scope.DutyRegions(pl.today), WH: firstPageDensity}
		if len(firstKeys) > 0 {
			c.WU = firstKeys[min(len(firstKeys), first)-1]
		}
		if walk != first {
			pl.walked = firstKeys
		}
	} else {
		var err error
		if c, err = decodeCursor(cur); err != nil {
			return PageEnd{}, err
		}
	}
	// A page from the feed (a phone that has synced before) is nearly
	// always the last, and so is the page on which a fresh walk's
	// households end (what follows is the caller's own visits and the feed
	// since the walk began): the due list is read alongside the rest of
	// such a page rather than after it, as a snapshot's is.
	var due chan []wire.DueItem
	pl.lastPageLikely = func() {
		if due == nil {
			due = make(chan []wire.DueItem, 1)
			go func() { due <- s.dueList(ctx, p) }()
		}
	}
	if c.Phase == phaseFeed && len(c.R) == 0 {
		pl.lastPageLikely()
	}
	end, err := pl.pull(ctx, c, limit)
	if due != nil {
		end.Due = <-due
	}
	if err != nil {
		return PageEnd{}, err
	}
	switch {
	case end.HasMore:
		end.Due = nil
	case due == nil:
		end.Due = s.dueList(ctx, p)
	}
	return end, nil
}

// dueList is the cadre's due list for the last page of a pull. A failure
// only leaves the list out (the next pull brings it); it never breaks the
// pull.
func (s *Service) dueList(ctx context.Context, p domain.Principal) []wire.DueItem {
	if s.cfg.Due == nil || p.Role != domain.RoleCadre {
		return nil
	}
	due, err := s.cfg.Due(ctx, p)
	if err != nil {
		s.log.Warn("worklist for pull failed", "error", err.Error(), "request_id", p.RequestID)
		return nil
	}
	return due
}

// pull reads one page of up to limit changes from cursor c, into parts of
// the page after those already handed out.
func (pl puller) pull(ctx context.Context, c cursor, limit int) (PageEnd, error) {
	s := pl.svc
	left := limit
	pl.emit = pl.page.Part()
	if duties := pl.scope.DutyRegions(pl.today); !slices.Equal(c.D, duties) {
		c.R, c.RA, c.D = pl.changedRegions(c.D, duties, c.R), uuid.Nil, duties
	}
	// The rescope and the walk read the store as of the cursor's
	// watermark or later (the feed after it repeats what changed since);
	// the feed, numbered anew below, as of its new watermark.
	walk := ctx
	if len(c.R) > 0 || c.Phase != phaseFeed {
		walk = s.store.ReadsAsOf(ctx, c.W)
	}
	if len(c.R) > 0 {
		n, last, done, err := pl.rescope(walk, c.R, c.RA, left)
		if err != nil {
			return PageEnd{}, err
		}
		left -= n
		if !done {
			c.RA = last
			return PageEnd{Cursor: c.encode(), HasMore: true}, nil
		}
		c.R, c.RA = nil, uuid.Nil
		if left <= 0 {
			return PageEnd{Cursor: c.encode(), HasMore: true}, nil
		}
	}
	// Each phase is read one record past what the page holds: a phase
	// that ends exactly where the page does is passed, and the phases
	// after it (the feed last) are looked into with nothing left to send,
	// so a page that ends with everything says so and the phone is not
	// sent back for an empty page (a round trip on a 2G link).
	var w int64       // the feed's numbering,
	var numbered bool // when the tail took it already
	for c.Phase != phaseFeed {
		if c.Phase == phaseHouseholds && c.WH > 0 {
			n, last, more, density, next, err := pl.households(walk, c, left, limit)
			if err != nil {
				return PageEnd{}, err
			}
			// Whole households may take the page past its limit: what
			// follows only looks whether more is left.
			left = max(0, left-n)
			pl.emit = pl.page.Part() // what follows comes after the households' parts
			if more {
				if n > 0 {
					c.After, c.WH, c.WU = last, density, next
				}
				return PageEnd{Cursor: c.encode(), HasMore: true}, nil
			}
			c.Phase, c.After, c.WH, c.WU = phaseVisits, uuid.Nil, 0, uuid.Nil
			if pl.lastPageLikely != nil {
				pl.lastPageLikely()
			}
			continue
		}
		if c.Phase == phaseVisits && c.After == uuid.Nil && !pl.inspector() {
			n, more, at, err := pl.tail(walk, &c, left)
			if err != nil {
				return PageEnd{}, err
			}
			if left -= n; more {
				return PageEnd{Cursor: c.encode(), HasMore: true}, nil
			}
			w, numbered = at, true
			pl.emit = pl.page.Part() // the feed comes after the tail's parts
			continue
		}
		n, last, more, err := pl.snapshot(walk, c.Phase, ChildKey{HouseholdID: c.H, ID: c.After}, left)
		if err != nil {
			return PageEnd{}, err
		}
		left -= n
		if more {
			if n > 0 {
				c.H, c.After = last.HouseholdID, last.ID
			}
			return PageEnd{Cursor: c.encode(), HasMore: true}, nil
		}
		c.Phase, c.H, c.After = nextPhase(c.Phase), uuid.Nil, uuid.Nil
	}
	if !numbered {
		var err error
		if w, err = s.store.SequenceChanges(ctx); err != nil {
			return PageEnd{}, err
		}
	}
	feed := s.store.ReadsAsOf(ctx, w)
	// One row more than the page holds tells whether more is waiting: a
	// page that ends exactly with the feed says so, and the phone is not
	// sent back for an empty page (a round trip on a 2G link).
	f := ChangeFilter{After: c.W, UpTo: w, Limit: left + 1,
		Scope: pl.scope, Today: pl.today, HouseholdVisits: pl.inspector()}
	id := pl.p.UserID
	f.CadreID = &id
	changes, err := s.store.Changes(feed, f)
	if err != nil {
		return PageEnd{}, err
	}
	more := len(changes) > left
	if more {
		changes = changes[:left]
	}
	now, err := pl.current(feed, changes)
	if err != nil {
		return PageEnd{}, err
	}
	for _, ch := range changes {
		if err := pl.feed(ch, now); err != nil {
			return PageEnd{}, err
		}
	}
	switch {
	case !more:
		c.W = w
	case left > 0:
		c.W = changes[left-1].Seq
	}
	lag := w - c.W
	return PageEnd{Cursor: c.encode(), HasMore: more, Lag: &lag}, nil
}

// Page is where a pull's or a snapshot's changes go: each Part is a stream of its
// own, written by at most one goroutine, and the page holds the parts in
// the order they were handed out.
type Page interface {
	Part() func(wire.PulledChange) error
}

// Snapshot hands a fresh phone its whole scope in one piece — households,
// members, open pairings and the caller's own visits (an inspector's tasks
// and the visits of the last 12 months at their households too), each
// read whole and in no particular order — followed by up to limit changes
// of the feed after the watermark taken before the reads. It returns the cursor after
// them and whether more of the feed is waiting. The snapshot and the feed
// are read at once (the feed repeats whatever changed meanwhile, and the
// phone keeps the higher version). A snapshot cut short is simply asked
// for again: every record in it is an upsert the phone applies
// idempotently. A scope of more than Config.SnapshotHouseholds households
// is refused (field scope, reason too_large: the phone pages it with Pull
// instead), which with Config.Snapshots bounds the memory snapshots take.
//
// A snapshot is nearly always the last page, so the cadre's due list is
// read alongside it rather than after.
func (s *Service) Snapshot(ctx context.Context, p domain.Principal, limit int, page Page) (PageEnd, error) {
	due := make(chan []wire.DueItem, 1)
	go func() { due <- s.dueList(ctx, p) }()
	end, err := s.snapshot(ctx, p, limit, page)
	end.Due = <-due
	if err != nil {
		return PageEnd{}, err
	}
	if end.HasMore {
		end.Due = nil
	}
	return end, nil
}

func (s *Service) snapshot(ctx context.Context, p domain.Principal, limit int, page Page) (PageEnd, error) {
	select {
	case s.snapshots <- struct{}{}:
		defer func() { <-s.snapshots }()
	case <-ctx.Done():
		// Gone, or gave up waiting for the snapshots ahead of it.
		return PageEnd{}, domain.Unavailable("snapshot", time.Second, ctx.Err())
	}
	w, err := s.store.SequenceChanges(ctx)
	if err != nil {
		return PageEnd{}, err
	}
	// Parts in page order: the snapshot's records, then visits and the
	// feed, whose tombstones must come after what they remove.
	pl := s.puller(p, page)
	hs, ms, ps := pl, pl, pl
	hs.emit, ms.emit, ps.emit, pl.emit = page.Part(), page.Part(), page.Part(), page.Part()
	households := 0
	household := func(h domain.Household) error {
		if households++; households > s.cfg.SnapshotHouseholds {
			return snapshotTooLarge(s.cfg.SnapshotHouseholds)
		}
		return hs.household(h)
	}
	var end PageEnd
	g, gctx := errgroup.WithContext(s.store.ReadsAsOf(ctx, w))
	g.Go(func() error {
		return s.store.WholeScope(gctx, pl.scope, pl.today, ScopeSinks{Household: household, Member: ms.member, Pairing: ps.pairing})
	})
	g.Go(func() error {
		for _, phase := range []int{phaseVisits, phaseTasks, phaseScopeVisits, phasePlanItems, phaseIncomeAccounts} {
			for after := (ChildKey{}); ; {
				_, last, more, err := pl.snapshot(gctx, phase, after, snapshotVisitPage)
				if err != nil {
					return err
				}
				if !more {
					break
				}
				after = last
			}
		}
		var err error
		end, err = pl.pull(gctx, cursor{V: 1, Phase: phaseFeed, W: w, D: pl.scope.DutyRegions(pl.today)}, limit)
		return err
	})
	if err := g.Wait(); err != nil {
		return PageEnd{}, err
	}
	return end, nil
}

// snapshotTooLarge refuses a snapshot of a scope larger than max
// households; the phone pages it with Pull instead.
func snapshotTooLarge(max int) error {
	return domain.Invalid(domain.FieldError{Field: "scope", Reason: "too_large",
		Message:   fmt.Sprintf("the scope has more than %d households; page it with /api/v1/sync/pull", max),
		MessageZH: fmt.Sprintf("同步范围超过%d户，请改用分页同步", max)})
}

// snapshotVisitPage is how many of the caller's own visits (or tasks, or
// visits of an inspector's households) a snapshot reads a query.
const snapshotVisitPage = 500

// puller reads the caller's records for a pull or a snapshot into parts
// of page.
func (s *Service) puller(p domain.Principal, page Page) puller {
	return puller{svc: s, p: p, scope: p.HouseholdScope(), today: domain.DateOf(s.now()), page: page}
}

type puller struct {
	svc   *Service
	p     domain.Principal
	scope domain.HouseholdScope
	today domain.Date
	page  Page
	emit  func(wire.PulledChange) error // the part being written
	// lastPageLikely, when set, starts reading the due list early: the
	// page being read is probably the pull's last.
	lastPageLikely func()
	// walked is, on a fresh walk's first page, the ids of its window's
	// households and one more, walked beside the numbering.
	walked []uuid.UUID
}

// firstPageDensity is what a fresh walk supposes a household brings
// (household, members and open pairings, in tenths of a record) before it
// has read one: a registered household of three or four people and its
// pairing, so that one read fills a first page (a second read costs a
// page four more queries, measured); a first page of larger households
// goes past its limit by what they bring beyond that, at most twice it
// for households of ten.
const firstPageDensity = 50

// householdsFor is how many households bring about records records, at
// density (records a household, in tenths); at least one.
func householdsFor(records, density int) int { return max(1, records*10/density) }

// households hands out the next page of whole households after cursor c,
// of about left records in pages of limit: the page a window read before
// kept for it, or a window read now, or — with no room to keep a window —
// the page read on its own.
func (pl puller) households(ctx context.Context, c cursor, left, limit int) (n int, last uuid.UUID, more bool, seen int, next uuid.UUID, err error) {
	if left <= 0 {
		return pl.wholeHouseholds(ctx, c.After, c.WU, left, c.WH)
	}
	if c.WU != uuid.Nil {
		if p := pl.svc.ahead.take(pl.aheadKey(c.W, limit, c.After, c.WU)); p != nil {
			return p.records(), p.last, p.more, p.density, p.next, pl.sendEncoded(p)
		}
	}
	if ok, n, last, more, seen, next, err := pl.window(ctx, c.W, c.After, pl.walked, left, limit, c.WH); ok {
		return n, last, more, seen, next, err
	}
	return pl.wholeHouseholds(ctx, c.After, c.WU, left, c.WH)
}

// wholeHouseholds hands out whole households of the scope after after —
// each household, its members and its open pairings, read as the snapshot
// reads them (three reads at once, each into its own part of the page) —
// until about limit records are out. density is what a household brought
// before, in tenths, to size the reads; upto, when not nil, is where the
// page before found this one's households end. It returns how many
// records went out, the last household, whether the scope holds more, the
// density seen and where the next page's households end. A page may exceed
// limit by what the households it holds bring; limit 0 only looks whether
// more is left.
//
// Where a read's households end is found by walking their ids in order,
// and the reads wait for it; each read therefore walks, alongside itself,
// the ids of the households after it, so the next read — on this page or,
// through the cursor, the next — starts at once (one query and round trip
// less before each page's reads, measured as B4 paged). An end handed
// back in a cursor only bounds a range: households that entered it since
// are read with it, and those that left are not, as on any read.
func (pl puller) wholeHouseholds(ctx context.Context, after, upto uuid.UUID, limit, density int) (n int, last uuid.UUID, more bool, seen int, next uuid.UUID, err error) {
	st := pl.svc.store
	if limit <= 0 {
		keys, err := st.ScopeKeysAfter(ctx, pl.scope, pl.today, after, 1)
		return 0, after, len(keys) > 0, density, uuid.Nil, err
	}
	var ahead []uuid.UUID // the ids after upto, walked alongside the read up to it
	for n < limit {
		if upto == uuid.Nil {
			want := householdsFor(limit-n, density)
			keys, err := st.ScopeKeysAfter(ctx, pl.scope, pl.today, after, want)
			if err != nil || len(keys) == 0 {
				return n, last, false, density, uuid.Nil, err
			}
			upto = keys[len(keys)-1]
		}
		nh, got, err := pl.householdRange(ctx, after, upto, max(pl.svc.cfg.SnapshotHouseholds, 2*limit), func(gctx context.Context) (err error) {
			ahead, err = st.ScopeKeysAfter(gctx, pl.scope, pl.today, upto, householdsFor(limit, density))
			return err
		})
		if err != nil {
			return 0, uuid.Nil, false, 0, uuid.Nil, err
		}
		n, after, last = n+got, upto, upto
		if nh > 0 {
			density = max(10, got*10/nh)
		}
		if more = len(ahead) > 0; !more {
			return n, last, false, density, uuid.Nil, nil
		}
		upto = ahead[min(len(ahead), householdsFor(limit-n, density))-1]
	}
	return n, last, more, density, ahead[min(len(ahead), householdsFor(limit, density))-1], nil
}

// householdRange reads the scope's households with ids in (after, upto]
// whole into three new parts of the page, while alongside runs beside the
// reads. It returns how many households and how many records went out. A
// range holding more than maxHouseholds households is refused: the page
// before sized it to hold about a page, so a range that large can only
// come from a cursor made up by the caller, and would otherwise read a
// scope of any size in one request.
func (pl puller) householdRange(ctx context.Context, after, upto uuid.UUID, maxHouseholds int, alongside func(context.Context) error) (nh, n int, err error) {
	hs, ms, ps := pl, pl, pl
	hs.emit, ms.emit, ps.emit = pl.page.Part(), pl.page.Part(), pl.page.Part()
	var nm, np int // each counted by its own sink's goroutine
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return alongside(gctx) })
	g.Go(func() error {
		return pl.svc.store.ScopeRange(gctx, pl.scope, pl.today, after, upto, ScopeSinks{
			Household: func(h domain.Household) error {
				if nh++; nh > maxHouseholds {
					return badCursor()
				}
				return hs.household(h)
			},
			Member:  func(m domain.Member) error { nm++; return ms.member(m) },
			Pairing: func(p domain.PairingRecord) error { np++; return ps.pairing(p) },
		})
	})
	err = g.Wait()
	return nh, nh + nm + np, err
}

// inspector reports whether the caller's scope is their inspection tasks.
func (pl puller) inspector() bool { return pl.scope.InspectorID != nil }

// visitWindow is how far back the visits of an inspector's households
// reach their phone: what the cadres recorded in the last 12 months is
// what an inspection checks, and it bounds the phone's share of a
// household's history.
func (pl puller) visitWindow() time.Time { return pl.today.Start().AddDate(-1, 0, 0) }

func (pl puller) upsert(entity string, id uuid.UUID, household *uuid.UUID, version int64, v any) error {
	if a, ok := v.(wire.JSONAppender); ok {
		return pl.emit(wire.PulledChange{Entity: entity, Op: wire.OpUpsert, ID: id, HouseholdID: household, Version: version, Record: a})
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return pl.emit(wire.PulledChange{Entity: entity, Op: wire.OpUpsert, ID: id, HouseholdID: household, Version: version, Data: b})
}

func (pl puller) tombstone(entity string, id uuid.UUID, household *uuid.UUID, version int64) error {
	return pl.emit(wire.PulledChange{Entity: entity, Op: wire.OpDelete, ID: id, HouseholdID: household, Version: version})
}

// snapshot emits up to limit records of one phase after the key after
// (households and visits by id alone) and returns how many it emitted,
// the key of the last, and whether the phase holds more: it reads one
// record past limit (0 looks into the phase without sending anything).
func (pl puller) snapshot(ctx context.Context, phase int, after ChildKey, limit int) (int, ChildKey, bool, error) {
	st := pl.svc.store
	var last ChildKey
	n, more := 0, false
	// take counts a record read and reports whether it is one to send.
	take := func() bool {
		if n == limit {
			more = true
			return false
		}
		n++
		return true
	}
	var err error
	switch phase {
	case phaseHouseholds:
		err = st.HouseholdsAfter(ctx, pl.scope, pl.today, after.ID, limit+1, func(h domain.Household) error {
			if !take() {
				return nil
			}
			last = ChildKey{ID: h.ID}
			return pl.household(h)
		})
	case phaseMembers:
		err = st.MembersAfter(ctx, pl.scope, pl.today, after, limit+1, func(m domain.Member) error {
			if !take() {
				return nil
			}
			last = ChildKey{HouseholdID: m.HouseholdID, ID: m.ID}
			return pl.member(m)
		})
	case phasePairings:
		err = st.PairingsAfter(ctx, pl.scope, pl.today, after, limit+1, func(pr domain.PairingRecord) error {
			if !take() {
				return nil
			}
			last = ChildKey{HouseholdID: pr.HouseholdID, ID: pr.ID}
			return pl.pairing(pr)
		})
	case phaseVisits, phaseScopeVisits:
		var vs []domain.Visit
		switch {
		case phase == phaseVisits:
			vs, err = st.VisitsAfter(ctx, pl.p.UserID, after.ID, limit+1)
		case pl.inspector():
			vs, err = st.ScopeVisitsAfter(ctx, pl.p.VisitReader(), *pl.scope.InspectorID, pl.visitWindow(), after.ID, limit+1)
		}
		if err != nil {
			break
		}
		for _, v := range vs {
			if !take() {
				break
			}
			if err = pl.visit(v); err != nil {
				break
			}
			last = ChildKey{ID: v.ID}
		}
	case phaseTasks:
		if !pl.inspector() {
			break
		}
		err = st.TasksAfter(ctx, *pl.scope.InspectorID, after, limit+1, func(t Task) error {
			if !take() {
				return nil
			}
			last = ChildKey{HouseholdID: t.HouseholdID, ID: t.CampaignID}
			return pl.task(t)
		})
	case phasePlanItems:
		err = st.PlanItemsAfter(ctx, pl.scope, pl.today, after, limit+1, func(it domain.PlanItem) error {
			if !take() {
				return nil
			}
			last = ChildKey{HouseholdID: it.HouseholdID, ID: it.ID}
			return pl.planItem(it)
		})
	case phaseIncomeAccounts:
		err = st.IncomeAccountsAfter(ctx, pl.scope, pl.today, after, limit+1, func(a domain.IncomeAccount) error {
			if !take() {
				return nil
			}
			last = ChildKey{HouseholdID: a.HouseholdID, ID: a.ID}
			return pl.incomeAccount(a)
		})
	}
	return n, last, more, err
}

func (pl puller) household(h domain.Household) error {
	hid := h.ID
	wh := wire.FromHousehold(h)
	return pl.upsert(wire.EntityHousehold, h.ID, &hid, h.Version, &wh)
}

// member sends a member with the 身份证号 masked, whoever pulls: phones
// are lost and stolen, a county's feed on a laptop is a county's numbers,
// and the register's routes give supervisors the clear number, audited.
func (pl puller) member(m domain.Member) error {
	hid := m.HouseholdID
	wm := wire.FromMember(m, false)
	return pl.upsert(wire.EntityMember, m.ID, &hid, m.Version, &wm)
}

// pairing sends a pairing with its cadre's name and phone: the phone shows
// who answers for the household (the 明白卡 prints both for the household).
func (pl puller) pairing(pr domain.PairingRecord) error {
	hid := pr.HouseholdID
	wp := wire.FromPairingRecord(pr)
	return pl.upsert(wire.EntityPairing, pr.ID, &hid, 1, &wp)
}

func (pl puller) visit(v domain.Visit) error {
	hid := v.HouseholdID
	if v.Deleted {
		return pl.tombstone(wire.EntityVisit, v.ID, &hid, v.Version)
	}
	return pl.upsert(wire.EntityVisit, v.ID, &hid, v.Version, wire.FromVisit(v))
}

// othersVisit sends a visit someone else recorded at a household an
// inspector inspects: as it is while it lies in the window, as a tombstone
// once it does not (it was moved back in time, and the phone keeps only
// the window).
func (pl puller) othersVisit(v domain.Visit) error {
	if v.StartedAt.Before(pl.visitWindow()) {
		hid := v.HouseholdID
		return pl.tombstone(wire.EntityVisit, v.ID, &hid, v.Version)
	}
	return pl.visit(v)
}

// task sends an inspector's task: as it is while active, as a tombstone
// (version 2) once its campaign ended.
func (pl puller) task(t Task) error {
	hid := t.HouseholdID
	if !t.Active {
		return pl.tombstone(wire.EntityTask, t.ID, &hid, 2)
	}
	wt := wire.Task{ID: t.ID, CampaignID: t.CampaignID, CampaignName: t.CampaignName, Mode: t.Mode, PeriodFrom: t.PeriodFrom, PeriodTo: t.PeriodTo,
		HouseholdID: t.HouseholdID, VillageID: t.VillageID, VillageName: t.VillageName, TownID: t.TownID, Stratum: t.Stratum, Done: t.Done}
	return pl.upsert(wire.EntityTask, t.ID, &hid, 1, wt)
}

// changedRegions is the regions whose households must be walked again:
// those in had or has but not both, with any walk still pending. Only
// regions of the caller's own duties (past or present) count, so a forged
// cursor cannot list another region's households.
func (pl puller) changedRegions(had, has, pending []uuid.UUID) []uuid.UUID {
	var out []uuid.UUID
	add := func(r uuid.UUID) {
		if slices.Contains(out, r) {
			return
		}
		for _, d := range pl.p.Duties {
			if d.RegionID != nil && *d.RegionID == r {
				out = append(out, r)
				return
			}
		}
	}
	for _, r := range had {
		if !slices.Contains(has, r) {
			add(r)
		}
	}
	for _, r := range has {
		if !slices.Contains(had, r) {
			add(r)
		}
	}
	for _, r := range pending {
		add(r)
	}
	return out
}

// rescope walks the households of regions after the household after: one
// in scope now arrives whole (household and members), one that is not as
// tombstones. A household's records stay on one page, so a page may pass
// limit by one household's members. done reports the walk finished.
func (pl puller) rescope(ctx context.Context, regions []uuid.UUID, after uuid.UUID, limit int) (n int, last uuid.UUID, done bool, err error) {
	st := pl.svc.store
	hs, err := st.HouseholdsInRegions(ctx, pl.p.RegionPath, regions, after, limit)
	if err != nil {
		return 0, after, false, err
	}
	ids := make([]uuid.UUID, len(hs))
	for i, h := range hs {
		ids[i] = h.ID
	}
	visible, err := st.HouseholdsInScope(ctx, pl.scope, pl.today, ids)
	if err != nil {
		return 0, after, false, err
	}
	members, err := st.MembersOf(ctx, hs)
	if err != nil {
		return 0, after, false, err
	}
	cw, err := pl.caseworkOf(ctx, hs)
	if err != nil {
		return 0, after, false, err
	}
	last = after
	for _, h := range hs {
		ms := members[h.ID]
		if _, ok := visible[h.ID]; ok {
			err = pl.whole(h, ms, cw.of(h.ID))
		} else {
			err = pl.drop(h, ms, cw.of(h.ID))
		}
		if err != nil {
			return 0, after, false, err
		}
		n, last = n+1+len(ms), h.ID
		if n >= limit {
			return n, last, false, nil
		}
	}
	return n, last, len(hs) < limit, nil
}

// householdCasework are the casework records that travel with a
// household: its plan and its income accounts.
type householdCasework struct {
	plans    []domain.PlanItem
	accounts []domain.IncomeAccount
}

// caseworkByHousehold are households' casework records, by household.
type caseworkByHousehold struct {
	plans    map[uuid.UUID][]domain.PlanItem
	accounts map[uuid.UUID][]domain.IncomeAccount
}

func (c caseworkByHousehold) of(h uuid.UUID) householdCasework {
	return householdCasework{plans: c.plans[h], accounts: c.accounts[h]}
}

// caseworkOf reads the plans and income accounts of households.
func (pl puller) caseworkOf(ctx context.Context, hs []domain.Household) (caseworkByHousehold, error) {
	var out caseworkByHousehold
	var err error
	if out.plans, err = pl.svc.store.PlanItemsOf(ctx, hs); err != nil {
		return out, err
	}
	out.accounts, err = pl.svc.store.IncomeAccountsOfHouseholds(ctx, hs)
	return out, err
}

// whole emits a household that came into scope with its members, its
// plan and its income accounts.
func (pl puller) whole(h domain.Household, ms []domain.Member, cw householdCasework) error {
	if err := pl.household(h); err != nil {
		return err
	}
	for _, m := range ms {
		if err := pl.member(m); err != nil {
			return err
		}
	}
	for _, it := range cw.plans {
		if err := pl.planItem(it); err != nil {
			return err
		}
	}
	for _, a := range cw.accounts {
		if err := pl.incomeAccount(a); err != nil {
			return err
		}
	}
	return nil
}

// drop emits the tombstones of a household that left the scope, of its
// members, its plan and its income accounts.
func (pl puller) drop(h domain.Household, ms []domain.Member, cw householdCasework) error {
	hid := h.ID
	for _, a := range cw.accounts {
		if err := pl.tombstone(wire.EntityIncomeAccount, a.ID, &hid, a.Version); err != nil {
			return err
		}
	}
	for _, it := range cw.plans {
		if err := pl.tombstone(wire.EntityPlanItem, it.ID, &hid, it.Version); err != nil {
			return err
		}
	}
	for _, m := range ms {
		if err := pl.tombstone(wire.EntityMember, m.ID, &hid, m.Version); err != nil {
			return err
		}
	}
	return pl.tombstone(wire.EntityHousehold, h.ID, &hid, h.Version)
}

// currentState is what the records behind a page of feed rows are now,
// read a few queries per page rather than one or two per row.
type currentState struct {
	visits     map[uuid.UUID]domain.Visit
	members    map[uuid.UUID]domain.Member
	households map[uuid.UUID]domain.Household // only those in the caller's scope
	pairings   map[uuid.UUID]domain.PairingRecord
	tasks      map[uuid.UUID]Task // the inspector's own tasks named by the page
	// For the caller's own pairings and tasks: the households that left
	// their scope, and the members of every such household (the household
	// arrives whole, or as tombstones).
	gone      map[uuid.UUID]domain.Household
	membersOf map[uuid.UUID][]domain.Member
	casework  caseworkByHousehold
	// The plan items the page names, as they are now (deleted included),
	// and its income accounts.
	planItems      map[uuid.UUID]domain.PlanItem
	incomeAccounts map[uuid.UUID]domain.IncomeAccount
	// For an inspector's tasks: what else a household brings to the phone
	// (its open pairings, the visits of the window) or takes away from it.
	pairingsOf map[uuid.UUID][]domain.PairingRecord
	visitsOf   map[uuid.UUID][]domain.Visit
}

func (pl puller) current(ctx context.Context, changes []Change) (currentState, error) {
	var now currentState
	var visits, members, households, pairings, tasked, planItems, accounts []uuid.UUID
	// The households of household rows came with the rows (in scope, or
	// nil): only those other rows lead to are read here.
	read := map[uuid.UUID]domain.Household{}
	for _, ch := range changes {
		switch {
		case ch.Entity == wire.EntityVisit:
			visits = append(visits, ch.EntityID)
		case ch.Entity == wire.EntityMember && ch.Op != wire.OpDelete:
			members = append(members, ch.EntityID)
		case ch.Entity == wire.EntityHousehold:
			if ch.Household != nil {
				read[ch.EntityID] = *ch.Household
			}
		case ch.Entity == wire.EntityPairing:
			pairings = append(pairings, ch.EntityID)
		case ch.Entity == wire.EntityTask && ch.HouseholdID != nil && pl.inspector():
			tasked = append(tasked, *ch.HouseholdID)
		case ch.Entity == wire.EntityPlanItem:
			planItems = append(planItems, ch.EntityID)
		case ch.Entity == wire.EntityIncomeAccount:
			accounts = append(accounts, ch.EntityID)
		}
	}
	st := pl.svc.store
	var err error
	if now.visits, err = st.CurrentVisits(ctx, pl.p.VisitReader(), visits); err != nil {
		return now, err
	}
	if now.members, err = st.MembersByID(ctx, members); err != nil {
		return now, err
	}
	if now.pairings, err = st.PairingsByID(ctx, pairings); err != nil {
		return now, err
	}
	now.tasks = map[uuid.UUID]Task{}
	if len(tasked) > 0 {
		if now.tasks, err = st.TasksOf(ctx, *pl.scope.InspectorID, tasked); err != nil {
			return now, err
		}
	}
	for _, m := range now.members {
		households = append(households, m.HouseholdID)
	}
	for _, p := range now.pairings {
		households = append(households, p.HouseholdID)
	}
	if now.planItems, err = st.PlanItemsByID(ctx, planItems); err != nil {
		return now, err
	}
	for _, it := range now.planItems {
		households = append(households, it.HouseholdID)
	}
	if now.incomeAccounts, err = st.IncomeAccountsByID(ctx, accounts); err != nil {
		return now, err
	}
	for _, a := range now.incomeAccounts {
		households = append(households, a.HouseholdID)
	}
	households = slices.DeleteFunc(append(households, tasked...), func(id uuid.UUID) bool { _, ok := read[id]; return ok })
	if now.households, err = st.HouseholdsInScope(ctx, pl.scope, pl.today, households); err != nil {
		return now, err
	}
	maps.Copy(now.households, read)
	var whole, inspected []domain.Household
	var gone []uuid.UUID
	rescoped := func(household uuid.UUID) {
		if h, ok := now.households[household]; ok {
			whole = append(whole, h)
		} else {
			gone = append(gone, household)
		}
	}
	for _, p := range now.pairings {
		if p.CadreID == pl.p.UserID {
			rescoped(p.HouseholdID)
		}
	}
	for _, t := range now.tasks {
		rescoped(t.HouseholdID)
	}
	if now.gone, err = st.HouseholdsByID(ctx, gone); err != nil {
		return now, err
	}
	for _, h := range now.gone {
		whole = append(whole, h)
	}
	if now.membersOf, err = st.MembersOf(ctx, whole); err != nil {
		return now, err
	}
	if now.casework, err = pl.caseworkOf(ctx, whole); err != nil {
		return now, err
	}
	if len(now.tasks) == 0 {
		return now, nil
	}
	for _, t := range now.tasks {
		if h, ok := now.households[t.HouseholdID]; ok {
			inspected = append(inspected, h)
		} else if h, ok := now.gone[t.HouseholdID]; ok {
			inspected = append(inspected, h)
		}
	}
	if now.pairingsOf, err = st.OpenPairingsOf(ctx, inspected, pl.today); err != nil {
		return now, err
	}
	now.visitsOf, err = st.VisitsSince(ctx, pl.p.VisitReader(), inspected, pl.visitWindow())
	return now, err
}

// feed emits the current state behind one feed row.
func (pl puller) feed(ch Change, now currentState) error {
	switch ch.Entity {
	case wire.EntityVisit:
		v, ok := now.visits[ch.EntityID]
		switch {
		case !ok:
			return nil
		case v.CadreID == pl.p.UserID:
			return pl.visit(v)
		case pl.inspector():
			// Another's visit at a household the inspector inspects (the
			// feed selected it by scope).
			return pl.othersVisit(v)
		}
		return nil
	case wire.EntityHousehold:
		if h, ok := now.households[ch.EntityID]; ok {
			return pl.household(h)
		}
		return nil
	case wire.EntityMember:
		m, ok := now.members[ch.EntityID]
		if ch.Op == wire.OpDelete || !ok {
			return pl.tombstone(wire.EntityMember, ch.EntityID, ch.HouseholdID, ch.Version)
		}
		if _, ok := now.households[m.HouseholdID]; ok {
			return pl.member(m)
		}
		return nil
	case wire.EntityPairing:
		return pl.pairingChange(ch, now)
	case wire.EntityTask:
		return pl.taskChange(ch, now)
	case wire.EntityPlanItem:
		return pl.planItemChange(ch, now)
	case wire.EntityIncomeAccount:
		return pl.incomeAccountChange(ch, now)
	}
	return nil
}

// pairingChange is where scope grows and shrinks: a household paired with
// the caller arrives whole (its file and members, whatever their age); one
// that left the caller's scope is dropped with tombstones.
func (pl puller) pairingChange(ch Change, now currentState) error {
	pr, ok := now.pairings[ch.EntityID]
	if !ok {
		return nil // deleted since; nothing to send
	}
	h, inScope := now.households[pr.HouseholdID]
	// A phone holds the pairings open today (that is what a fresh pull
	// lists), so an ended one arrives as a tombstone.
	var err error
	if pr.ActiveOn(pl.today) {
		err = pl.pairing(pr)
	} else {
		hid := pr.HouseholdID
		err = pl.tombstone(wire.EntityPairing, pr.ID, &hid, 2)
	}
	if err != nil || pr.CadreID != pl.p.UserID || ch.Op == ChangeCadreRenamed {
		// A renamed cadre's own households are on their phone already:
		// only what the pairing says of them changed.
		return err
	}
	if inScope {
		return pl.whole(h, now.membersOf[h.ID], now.casework.of(h.ID))
	}
	if full, ok := now.gone[pr.HouseholdID]; ok {
		return pl.drop(full, now.membersOf[full.ID], now.casework.of(full.ID))
	}
	return nil
}

// taskChange is where an inspector's scope grows and shrinks, as
// pairingChange is for a cadre: the task as it is now (a tombstone once
// its campaign ended), then its household whole if a task keeps it in
// scope, or as tombstones if none does. Judged on the state now, not on
// the row's op, so a draw and an end read on one page leave the phone
// as it should be.
func (pl puller) taskChange(ch Change, now currentState) error {
	t, ok := now.tasks[ch.EntityID]
	if !ok {
		return nil
	}
	if err := pl.task(t); err != nil {
		return err
	}
	if h, ok := now.households[t.HouseholdID]; ok {
		return pl.inspected(h, now)
	}
	if h, ok := now.gone[t.HouseholdID]; ok {
		return pl.uninspected(h, now)
	}
	return nil
}

// inspected emits a household on an inspector's tasks whole: its file,
// members and open pairings, and the visits others recorded there in the
// window (the inspector's own come through the feed anyway).
func (pl puller) inspected(h domain.Household, now currentState) error {
	if err := pl.whole(h, now.membersOf[h.ID], now.casework.of(h.ID)); err != nil {
		return err
	}
	for _, pr := range now.pairingsOf[h.ID] {
		if err := pl.pairing(pr); err != nil {
			return err
		}
	}
	for _, v := range now.visitsOf[h.ID] {
		if v.CadreID == pl.p.UserID {
			continue
		}
		if err := pl.othersVisit(v); err != nil {
			return err
		}
	}
	return nil
}

// uninspected emits the tombstones of a household no task keeps on an
// inspector's phone: the visits others recorded there in the window, its
// open pairings, its members and itself. The inspector's own visits stay:
// they are theirs, and stay in their feed.
func (pl puller) uninspected(h domain.Household, now currentState) error {
	hid := h.ID
	for _, v := range now.visitsOf[h.ID] {
		if v.CadreID == pl.p.UserID {
			continue
		}
		if err := pl.tombstone(wire.EntityVisit, v.ID, &hid, v.Version); err != nil {
			return err
		}
	}
	for _, pr := range now.pairingsOf[h.ID] {
		if err := pl.tombstone(wire.EntityPairing, pr.ID, &hid, 2); err != nil {
			return err
		}
	}
	return pl.drop(h, now.membersOf[h.ID], now.casework.of(h.ID))
}

// announceWindow is how many past days AnnounceScopeDates covers, so a
// server that was down over a date still announces it.
const announceWindow = 7

// AnnounceScopeDates puts into the feed the pairings that began or ended
// by their dates in the last days up to today: a pairing set to end (or
// begin) on a later date changes a phone's scope on that date without any
// write, and the pull learns of scope changes from the feed. A worker runs
// it every hour; running it again writes nothing new.
func (s *Service) AnnounceScopeDates(ctx context.Context) (int, error) {
	today := domain.DateOf(s.now())
	return s.store.AnnounceDatedPairings(ctx, today.AddDays(-announceWindow), today)
}
