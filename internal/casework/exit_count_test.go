package casework

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// registerStore is a region's registered households as the candidates
// list reads them, a page at a time; every household has answered the
// checklist and has no open risk, and those of qualifies have an income at
// the standard (the others one fen below). Its pages counts the pages read.
type registerStore struct {
	Store      // the rest is not read
	households []domain.Household
	qualifies  map[uuid.UUID]bool
	pages      int
	version    VerdictVersion
	changed    []uuid.UUID // what HouseholdsChangedSince answers
}

// halfQualifying is a register one household longer than a judging batch,
// every other household qualifying, at version.
func halfQualifying(version VerdictVersion) *registerStore {
	st := &registerStore{qualifies: map[uuid.UUID]bool{}, version: version}
	for i := range qualifyingBatch + 1 {
		h := domain.Household{ID: uuid.New()}
		st.households = append(st.households, h)
		st.qualifies[h.ID] = i%2 == 0
	}
	return st
}

func (s *registerStore) VerdictVersion(context.Context, string) (VerdictVersion, error) {
	return s.version, nil
}

func (s *registerStore) HouseholdsChangedSince(context.Context, string, int64, int64, int) ([]uuid.UUID, error) {
	return s.changed, nil
}

func (s *registerStore) RegionWithin(context.Context, string, uuid.UUID) (domain.Region, error) {
	return domain.Region{Path: "410122"}, nil
}

func (s *registerStore) ExitStandard(context.Context, int) (ExitStandard, error) {
	return ExitStandard{}, domain.NotFound("exit standard")
}

func (s *registerStore) Households(_ context.Context, f domain.HouseholdFilter) ([]domain.Household, int64, error) {
	s.pages++
	if f.Among != nil {
		var out []domain.Household
		for _, h := range s.households {
			if slices.Contains(f.Among, h.ID) {
				out = append(out, h)
			}
		}
		return out, int64(len(out)), nil
	}
	from, to := min(f.Offset, len(s.households)), min(f.Offset+f.Limit, len(s.households))
	return s.households[from:to], int64(len(s.households)), nil
}

func (s *registerStore) IncomeAccountsOf(_ context.Context, ids []uuid.UUID, _, to int) (map[uuid.UUID]map[int]IncomeAccount, error) {
	out := map[uuid.UUID]map[int]IncomeAccount{}
	for _, id := range ids {
		perCapita := int64(333_499)
		if s.qualifies[id] {
			perCapita = 333_500
		}
		out[id] = map[int]IncomeAccount{to: {Year: to, IncomeFields: IncomeFields{WagesFen: perCapita, MembersCounted: 1}}}
	}
	return out, nil
}

func (s *registerStore) LatestChecklist(_ context.Context, _ domain.VisitReader, ids []uuid.UUID) (map[uuid.UUID]map[string]ChecklistAnswer, error) {
	out := map[uuid.UUID]map[string]ChecklistAnswer{}
	for _, id := range ids {
		out[id] = map[string]ChecklistAnswer{}
		for _, it := range domain.ChecklistItems {
			out[id][it.Code] = ChecklistAnswer{Answer: "met", On: domain.Date{Year: 2026, Month: 6, Day: 1}}
		}
	}
	return out, nil
}

func (s *registerStore) OpenWarningsOf(context.Context, []uuid.UUID) (map[uuid.UUID][]Warning, error) {
	return map[uuid.UUID][]Warning{}, nil
}

// TestCountQualifyingCountsTheWholeList: the count of qualifying
// households is of every page of the list, however many batches it takes
// to judge them — here three, the last one short, and no batch read past
// the end.
func TestCountQualifyingCountsTheWholeList(t *testing.T) {
	for _, tc := range []struct {
		name       string
		households int
		pages      int
	}{
		{"none", 0, 1},
		{"less than a batch", 31, 1},
		{"exactly a batch", qualifyingBatch, 1},
		{"three batches, the last one short", 2*qualifyingBatch + 7, 3},
	} {
		st := &registerStore{qualifies: map[uuid.UUID]bool{}}
		want := int64(0)
		for i := range tc.households {
			h := domain.Household{ID: uuid.New()}
			st.households = append(st.households, h)
			if i%3 == 0 {
				st.qualifies[h.ID] = true
				want++
			}
		}
		s := NewService(st, nil, func() time.Time { return time.Date(2026, time.August, 15, 10, 0, 0, 0, domain.Shanghai) })
		got, err := s.CountQualifying(context.Background(), domain.Principal{Role: domain.RoleSupervisor, RegionPath: "410122"},
			CandidateQuery{Year: 2026, Limit: 30, Offset: 30})
		if err != nil || got != want || st.pages != tc.pages {
			t.Errorf("%s: %d qualify (%v) in %d batches, want %d in %d", tc.name, got, err, st.pages, want, tc.pages)
		}
	}
}

// TestCountQualifyingJudgesOncePerVersion: paging through a list judges it
// once while nothing it is judged from changes, and again as soon as the
// store's VerdictVersion moves, and the count follows the change: the
// households the feed names alone when only the feed moved (one batch),
// the whole list (two) when a standard or a campaign changed or the feed
// names too many.
func TestCountQualifyingJudgesOncePerVersion(t *testing.T) {
	st := halfQualifying(VerdictVersion{})
	s := NewService(st, nil, func() time.Time { return time.Date(2026, time.August, 15, 10, 0, 0, 0, domain.Shanghai) })
	supervisor := domain.Principal{Role: domain.RoleSupervisor, RegionPath: "410122"}
	count := func(offset int) int64 {
		t.Helper()
		n, err := s.CountQualifying(context.Background(), supervisor, CandidateQuery{Year: 2026, Limit: 30, Offset: offset})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(0); n != 251 || st.pages != 2 {
		t.Fatalf("first page: %d qualify in %d batches, want 251 in 2", n, st.pages)
	}
	if n := count(30); n != 251 || st.pages != 2 {
		t.Fatalf("a later page, nothing changed: %d qualify after %d batches, want 251 and no batch read again", n, st.pages)
	}
	tooMany := make([]uuid.UUID, maxRejudged+1)
	for i := range tooMany {
		tooMany[i] = uuid.New()
	}
	for _, tc := range []struct {
		name    string
		move    func(*VerdictVersion)
		changed []uuid.UUID
		batches int
	}{
		{"the feed (a visit, an account, a warning, a household)", func(v *VerdictVersion) { v.Feed++ }, []uuid.UUID{st.households[1].ID}, 1},
		{"the feed, naming too many households", func(v *VerdictVersion) { v.Feed++ }, append(tooMany, st.households[1].ID), 2},
		{"an exit standard", func(v *VerdictVersion) { v.Standards++ }, nil, 2},
		{"a campaign", func(v *VerdictVersion) { v.Campaigns++ }, nil, 2},
	} {
		st.qualifies[st.households[1].ID] = !st.qualifies[st.households[1].ID]
		want := int64(251)
		if st.qualifies[st.households[1].ID] {
			want = 252
		}
		tc.move(&st.version)
		st.changed = tc.changed
		before := st.pages
		if n := count(0); n != want || st.pages != before+tc.batches {
			t.Errorf("%s moved: %d qualify after %d more batches, want %d after %d", tc.name, n, st.pages-before, want, tc.batches)
		}
		if n := count(60); n != want || st.pages != before+tc.batches {
			t.Errorf("%s moved, a later page: %d qualify after %d more batches, want %d after %d", tc.name, n, st.pages-before, want, tc.batches)
		}
	}
}

// gatedStore is a registerStore whose whole-list batches wait for open to
// close, and which counts the households it judged (their income accounts
// read).
type gatedStore struct {
	*registerStore
	open   chan struct{}
	mu     sync.Mutex
	judged int
}

func (s *gatedStore) Households(ctx context.Context, f domain.HouseholdFilter) ([]domain.Household, int64, error) {
	if f.Limit == qualifyingBatch {
		<-s.open
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.registerStore.Households(ctx, f)
}

func (s *gatedStore) IncomeAccountsOf(ctx context.Context, ids []uuid.UUID, from, to int) (map[uuid.UUID]map[int]IncomeAccount, error) {
	s.mu.Lock()
	s.judged += len(ids)
	s.mu.Unlock()
	return s.registerStore.IncomeAccountsOf(ctx, ids, from, to)
}

func (s *gatedStore) judgedSoFar() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.judged
}

// TestFirstPageDoesNotJudgeTheWholeList: the list's first request answers
// its page with the page's households judged and the count still to come,
// rather than waiting for every household of the list to be judged (a
// county's 10,000 took seconds); the whole list is judged once, in the
// background, and the next page has the count. The store here holds the
// whole-list judging until the page has answered: a page that waited for
// it would not answer at all.
func TestFirstPageDoesNotJudgeTheWholeList(t *testing.T) {
	reg := halfQualifying(VerdictVersion{})
	st := &gatedStore{registerStore: reg, open: make(chan struct{})}
	defer func() {
		select {
		case <-st.open:
		default:
			close(st.open)
		}
	}()
	s := NewService(st, nil, func() time.Time { return time.Date(2026, time.August, 15, 10, 0, 0, 0, domain.Shanghai) })
	supervisor := domain.Principal{Role: domain.RoleSupervisor, RegionPath: "410122"}
	q := CandidateQuery{Year: 2026, Limit: 30}

	answered := make(chan CandidatesPage, 1)
	go func() {
		page, err := s.ExitCandidatesPage(context.Background(), supervisor, q)
		if err != nil {
			t.Error(err)
		}
		answered <- page
	}()
	var first CandidatesPage
	select {
	case first = <-answered:
	case <-time.After(30 * time.Second):
		t.Fatalf("the first page waited for the whole list (%d households judged so far)", st.judgedSoFar())
	}
	if len(first.Candidates) != 30 || first.Total != qualifyingBatch+1 || first.Qualifying != nil {
		t.Errorf("first page: %d candidates of %d, qualifying %v; want 30 of %d and the count to come", len(first.Candidates), first.Total, first.Qualifying, qualifyingBatch+1)
	}
	if n := st.judgedSoFar(); n != 30 {
		t.Errorf("the first page judged %d households, want its own 30", n)
	}

	close(st.open)
	if n, err := s.CountQualifying(context.Background(), supervisor, q); err != nil || n != 251 {
		t.Fatalf("the count judged in the background: %d (%v), want 251", n, err)
	}
	next, err := s.ExitCandidatesPage(context.Background(), supervisor, CandidateQuery{Year: 2026, Limit: 30, Offset: 30})
	if err != nil {
		t.Fatal(err)
	}
	if next.Qualifying == nil || *next.Qualifying != 251 {
		t.Errorf("the next page's count: %v, want 251", next.Qualifying)
	}
	if n := st.judgedSoFar(); n != 30+qualifyingBatch+1+30 {
		t.Errorf("%d households judged in all, want the two pages' 60 and the whole list once (%d)", n, qualifyingBatch+1)
	}
}

// TestAJudgementUnderWayIsJoinedAcrossTheFeed: while the whole list is
// being judged, the feed moves on (phones sync all day); a page at the
// newer version joins the judgement under way instead of judging the whole
// list again beside it, and the count it then answers is exact: the
// households changed since are judged on top of the kept count.
func TestAJudgementUnderWayIsJoinedAcrossTheFeed(t *testing.T) {
	reg := halfQualifying(VerdictVersion{Feed: 1})
	st := &gatedStore{registerStore: reg, open: make(chan struct{})}
	s := NewService(st, nil, func() time.Time { return time.Date(2026, time.August, 15, 10, 0, 0, 0, domain.Shanghai) })
	supervisor := domain.Principal{Role: domain.RoleSupervisor, RegionPath: "410122"}
	q := CandidateQuery{Year: 2026, Limit: 30}

	for feed := int64(1); feed <= 3; feed++ {
		reg.version.Feed = feed
		if feed > 1 {
			// one more household qualifies at each step of the feed
			changed := reg.households[2*feed-1].ID
			reg.qualifies[changed], reg.changed = true, append(reg.changed, changed)
		}
		page, err := s.ExitCandidatesPage(context.Background(), supervisor, q)
		if err != nil {
			t.Fatal(err)
		}
		if page.Qualifying != nil {
			t.Fatalf("feed %d: a count %d before the whole list was judged", feed, *page.Qualifying)
		}
	}
	close(st.open)
	n, err := s.CountQualifying(context.Background(), supervisor, q)
	if err != nil || n != 251+2 {
		t.Fatalf("the count at the newest feed: %d (%v), want %d", n, err, 251+2)
	}
	if judged := st.judgedSoFar(); judged != 3*30+qualifyingBatch+1+len(reg.changed) {
		t.Errorf("%d households judged in all, want the three pages' 90, the whole list once (%d) and the %d changed since",
			judged, qualifyingBatch+1, len(reg.changed))
	}
}
