package sync

import (
	"context"
	"slices"
	"strconv"
	"strings"
	gosync "sync"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/wire"
)

// A paged walk of whole households reads several pages' households at
// once — the window — and keeps the pages after the one it sends for the
// requests that come for them. Read a page at a time, each page paid its
// statements' planning and its members fetched by one index probe a
// household (EXPLAIN ANALYZE: 500 probes, 2.5 ms, and 1.5 ms planning for a
// page of 2,000 records, where one read of the whole scope hash-joins its
// members at a third of that a record); read a window at a time, a paged
// pull costs about what a snapshot does (B4 paged, docs/benchmarks.md).
//
// What is kept is only a read made earlier: a page served from it is what
// the same read would have sent at that moment, which the walk allows
// (its reads are as of the cursor's watermark or later, and the feed after
// the watermark repeats whatever changed since). It is kept per caller,
// scope, watermark, page size and range, taken once (a retried page is
// read again), for a short time, and within a bound on what all callers'
// windows hold; past the bound a page is read on its own as before. Each
// process keeps its own: a page asked of another replica is read there.

// windowPages is how many pages a window holds beyond the one it is read
// for.
const windowPages = 4

// readAheadTTL is how long a page read ahead waits for its request. A
// phone asks for the next page as soon as one arrives; on a 2G link a
// compressed page of 2,000 records takes some 20 s.
const readAheadTTL = 2 * time.Minute

// aheadKey is what a page read ahead is kept under: whom it was read for
// and in what scope, the walk's watermark, the page size, and its
// households' range (after, upto] — the cursor of the page before names it.
type aheadKey struct {
	user        uuid.UUID
	scope       string
	w           int64
	limit       int
	after, upto uuid.UUID
}

// aheadPage is one page of whole households read ahead, its records
// encoded as they were scanned, in three lists: households, members,
// pairings.
type aheadPage struct {
	households, members, pairings []wire.PulledChange
	last                          uuid.UUID // the page's last household
	more                          bool      // the scope holds households after this page
	next                          uuid.UUID // where the page after ends, when it is kept too
	density                       int       // records a household brought in the window, in tenths
	expires                       time.Time
}

func (p *aheadPage) records() int { return len(p.households) + len(p.members) + len(p.pairings) }

// readAhead holds the pages read ahead, within max records in all.
type readAhead struct {
	mu    gosync.Mutex
	pages map[aheadKey]*aheadPage
	held  int // records held or reserved
	max   int
	now   func() time.Time
}

func newReadAhead(max int, now func() time.Time) *readAhead {
	return &readAhead{pages: map[aheadKey]*aheadPage{}, max: max, now: now}
}

// reserve sets aside room for n records, or reports that there is none.
func (r *readAhead) reserve(n int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expire()
	if r.max <= 0 || r.held+n > r.max {
		return false
	}
	r.held += n
	return true
}

// keep stores pages under their keys in place of the room reserved
// before (a window's records may exceed what was reserved for them by
// what its households brought beyond the density supposed).
func (r *readAhead) keep(reserved int, keys []aheadKey, pages []*aheadPage) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.held -= reserved
	expires := r.now().Add(readAheadTTL)
	for i, p := range pages {
		p.expires = expires
		if old := r.pages[keys[i]]; old != nil {
			r.held -= old.records()
		}
		r.pages[keys[i]] = p
		r.held += p.records()
	}
}

// take removes and returns the page kept under k; nil when there is none,
// or it expired.
func (r *readAhead) take(k aheadKey) *aheadPage {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.pages[k]
	if p == nil {
		return nil
	}
	delete(r.pages, k)
	r.held -= p.records()
	if !r.now().Before(p.expires) {
		return nil
	}
	return p
}

// expire drops the pages nobody came for in time; r.mu is held.
func (r *readAhead) expire() {
	now := r.now()
	for k, p := range r.pages {
		if !now.Before(p.expires) {
			delete(r.pages, k)
			r.held -= p.records()
		}
	}
}

// scopeFingerprint tells scopes apart for the read-ahead: a page read for
// one scope is never served in another (a duty that ended between two
// pages must not bring its region's households back).
func scopeFingerprint(s domain.HouseholdScope, today domain.Date) string {
	var b strings.Builder
	b.WriteString(s.RegionPath)
	for _, id := range []*uuid.UUID{s.CadreID, s.InspectorID} {
		b.WriteByte('|')
		if id != nil {
			b.WriteString(id.String())
		}
	}
	b.WriteString("|" + strconv.FormatBool(s.Nothing) + "|" + today.String())
	for _, d := range s.DutyRegions(today) {
		b.WriteString("|" + d.String())
	}
	return b.String()
}

// cutPages cuts a window's households, in id order with the records each
// brings, into pages of whole households, the first of about first
// records and the others of about limit: a page takes households until it
// holds at least its size. It returns the index after each page's last
// household.
func cutPages(records []int, first, limit int) []int {
	var ends []int
	size, n := first, 0
	for i, r := range records {
		n += r
		if n >= size || i == len(records)-1 {
			ends = append(ends, i+1)
			n, size = 0, limit
		}
	}
	return ends
}

// windowHouseholds is how many households a window read for a page of
// left records, pages of limit, reads at density.
func windowHouseholds(left, limit, density int) int {
	return householdsFor(left+windowPages*limit, density)
}

// window reads the households after after — keys, when not nil, are
// their ids as walked already, up to a window and one more — sends the
// first page of about left records and keeps the pages after it, of about
// limit. It reports false, having sent nothing, when the read-ahead has no
// room; otherwise what wholeHouseholds does.
func (pl puller) window(ctx context.Context, w int64, after uuid.UUID, keys []uuid.UUID, left, limit, density int) (ok bool, n int, last uuid.UUID, more bool, seen int, next uuid.UUID, err error) {
	ra, st := pl.svc.ahead, pl.svc.store
	want := windowHouseholds(left, limit, density)
	reserved := want * density / 10
	if !ra.reserve(reserved) {
		return false, 0, uuid.Nil, false, 0, uuid.Nil, nil
	}
	kept := false
	defer func() {
		if !kept {
			ra.keep(reserved, nil, nil)
		}
	}()
	if keys == nil {
		if keys, err = st.ScopeKeysAfter(ctx, pl.scope, pl.today, after, want+1); err != nil {
			return true, 0, uuid.Nil, false, density, uuid.Nil, err
		}
	}
	if len(keys) == 0 {
		return true, 0, after, false, density, uuid.Nil, nil
	}
	more = len(keys) > want
	keys = keys[:min(len(keys), want)]

	// Each record is encoded as it is scanned, by its sink's goroutine,
	// as a snapshot's are: the page then only copies bytes.
	var hs, ms, ps encodedList
	hp, mp, pp := pl, pl, pl
	hp.emit, mp.emit, pp.emit = hs.add, ms.add, ps.add
	sinks := ScopeSinks{
		Household: func(h domain.Household) error {
			if len(hs.changes) >= 2*want {
				return badCursor() // cannot be: the range was walked just now
			}
			return hp.household(h)
		},
		Member:  mp.member,
		Pairing: pp.pairing,
	}
	if after == uuid.Nil && !more {
		// The whole scope: read as a snapshot is, with nothing to narrow.
		err = st.WholeScope(ctx, pl.scope, pl.today, sinks)
	} else {
		err = st.ScopeRange(ctx, pl.scope, pl.today, after, keys[len(keys)-1], sinks)
	}
	if err != nil {
		return true, 0, uuid.Nil, false, density, uuid.Nil, err
	}
	if len(hs.changes) == 0 {
		// The window's households all left the scope since their ids
		// were walked: the page walks on without the read-ahead.
		return false, 0, uuid.Nil, false, 0, uuid.Nil, nil
	}
	households := hs.changes
	slices.SortFunc(households, func(a, b wire.PulledChange) int { return domain.CompareIDs(a.ID, b.ID) })
	// A member or pairing is counted with its household, and one whose
	// household is not in the read (it joined the range between the
	// reads) is left for the household's own page: sent without it, it
	// would break the walk's order.
	householdOf := func(children []wire.PulledChange) []int {
		at := make([]int, len(children))
		for i, ch := range children {
			h, found := slices.BinarySearchFunc(households, *ch.HouseholdID, func(h wire.PulledChange, id uuid.UUID) int { return domain.CompareIDs(h.ID, id) })
			if at[i] = -1; found {
				at[i] = h
			}
		}
		return at
	}
	memberAt, pairingAt := householdOf(ms.changes), householdOf(ps.changes)
	records := make([]int, len(households))
	total := len(households)
	for i := range records {
		records[i] = 1
	}
	for _, at := range [][]int{memberAt, pairingAt} {
		for _, h := range at {
			if h >= 0 {
				records[h]++
				total++
			}
		}
	}
	seen = max(10, total*10/len(households))

	ends := cutPages(records, left, limit)
	pages := make([]*aheadPage, len(ends))
	pageOf := make([]int, len(households)) // household → page
	for i, start := range append([]int{0}, ends[:len(ends)-1]...) {
		pages[i] = &aheadPage{households: households[start:ends[i]], last: households[ends[i]-1].ID, more: more || i < len(ends)-1, density: seen}
		for j := start; j < ends[i]; j++ {
			pageOf[j] = i
		}
		if i > 0 {
			pages[i-1].next = pages[i].last
		}
	}
	place := func(children []wire.PulledChange, at []int, list func(*aheadPage) *[]wire.PulledChange) {
		for i, ch := range children {
			if at[i] >= 0 {
				l := list(pages[pageOf[at[i]]])
				*l = append(*l, ch)
			}
		}
	}
	place(ms.changes, memberAt, func(p *aheadPage) *[]wire.PulledChange { return &p.members })
	place(ps.changes, pairingAt, func(p *aheadPage) *[]wire.PulledChange { return &p.pairings })
	kept = true
	keysOut := make([]aheadKey, 0, len(pages)-1)
	for i := 1; i < len(pages); i++ {
		keysOut = append(keysOut, pl.aheadKey(w, limit, pages[i-1].last, pages[i].last))
	}
	ra.keep(reserved, keysOut, pages[1:])
	first := pages[0]
	return true, first.records(), first.last, first.more, seen, first.next, pl.sendEncoded(first)
}

// encodedList collects a sink's changes with their records encoded, into
// blocks of its own.
type encodedList struct {
	changes []wire.PulledChange
	block   []byte
}

func (l *encodedList) add(ch wire.PulledChange) error {
	if ch.Record != nil {
		if cap(l.block)-len(l.block) < 4<<10 {
			l.block = make([]byte, 0, 256<<10)
		}
		start := len(l.block)
		l.block = ch.Record.AppendJSON(l.block)
		ch.Record = wire.EncodedRecord(l.block[start:len(l.block):len(l.block)])
	}
	l.changes = append(l.changes, ch)
	return nil
}

// aheadKey is the key the caller's page of households (after, upto] of a
// walk from watermark w, in pages of limit, is kept under; the cursor of
// the page before names it (After, WU).
func (pl puller) aheadKey(w int64, limit int, after, upto uuid.UUID) aheadKey {
	return aheadKey{user: pl.p.UserID, scope: scopeFingerprint(pl.scope, pl.today), w: w, limit: limit, after: after, upto: upto}
}

// sendEncoded hands out a page read ahead: its households, members and
// pairings, each list into a part of its own, households first.
func (pl puller) sendEncoded(p *aheadPage) error {
	for _, list := range [][]wire.PulledChange{p.households, p.members, p.pairings} {
		emit := pl.page.Part()
		for _, ch := range list {
			if err := emit(ch); err != nil {
				return err
			}
		}
	}
	return nil
}
