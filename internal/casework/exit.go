package casework

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/fieldvisit/fieldvisit/domain"
)

// How an exit indicator is judged.
const (
	CheckIncome    = "income"     // per-capita net income against the standard, over StableYears
	CheckChecklist = "checklist:" // + a 两不愁三保障 item: the latest visit answering it says met
	CheckConfirmed = "confirmed"  // not in the records: confirmed at the village review (村民主评议)
	// CheckNoOpenRisk: no risk trigger a visit recorded at the household is
	// still open (unresolved) — a household at risk of falling back
	// (返贫风险) does not exit until a supervisor resolves the risk.
	CheckNoOpenRisk = "no_open_risk"
)

// Indicator is one item of a year's exit indicator list (002 names nine).
type Indicator struct {
	Code   string
	NameZH string
	Check  string
}

// ExitStandard is a year's exit thresholds.
type ExitStandard struct {
	Year int
	// PerCapitaFen is the per-capita net income a household must reach
	// (002: 人均纯收入稳定超过3335元).
	PerCapitaFen int64
	// PovertyLineFen is the year's poverty line, for reference (002 names
	// 2800 yuan as one year's line).
	PovertyLineFen int64
	// StableYears is how many years up to Year must each reach their own
	// year's standard for the income to count as stable.
	StableYears int
	Indicators  []Indicator
	Version     int64 // 0: the built-in default, never stored
	UpdatedAt   time.Time
}

// DefaultExitStandard is the standard of a year nobody configured. The
// amounts are 002's; the indicators are a design choice (002 names
// "9个指标" without listing them): income, the six checklist items of
// 两不愁三保障 with safe water, and two confirmed at the village review —
// the nine — and a tenth, no open risk (the lead's decision: a household
// with an unresolved risk trigger does not exit; docs/rules.md).
func DefaultExitStandard(year int) ExitStandard {
	return ExitStandard{Year: year, PerCapitaFen: 333500, PovertyLineFen: 280000, StableYears: 1, Indicators: []Indicator{
		{"income", "人均纯收入稳定超过脱贫标准", CheckIncome},
		{"food", "不愁吃", CheckChecklist + "food"},
		{"clothing", "不愁穿", CheckChecklist + "clothing"},
		{"education", "义务教育有保障", CheckChecklist + "education"},
		{"medical", "基本医疗有保障", CheckChecklist + "medical"},
		{"housing", "住房安全有保障", CheckChecklist + "housing"},
		{"water", "饮水安全有保障", CheckChecklist + "water"},
		{"no_open_risk", "无未消除的返贫风险", CheckNoOpenRisk},
		{"livelihood", "有稳定增收产业或就业", CheckConfirmed},
		{"agreement", "贫困户认可脱贫结果", CheckConfirmed},
	}}
}

// Validate checks a standard a person wrote.
func (st ExitStandard) Validate(fe *domain.FieldErrors, today domain.Date) {
	checkYear(fe, "/year", st.Year, today)
	if st.PerCapitaFen < 1 || st.PerCapitaFen > 100_000_000 {
		fe.Add("/per_capita_fen", "out_of_range", "per_capita_fen must be between 1 and 100,000,000", "脱贫标准应在0.01元至100万元之间")
	}
	if st.PovertyLineFen < 0 || st.PovertyLineFen > 100_000_000 {
		fe.Add("/poverty_line_fen", "out_of_range", "poverty_line_fen must be between 0 and 100,000,000", "贫困线应在0至100万元之间")
	}
	if st.StableYears < 1 || st.StableYears > 5 {
		fe.Add("/stable_years", "out_of_range", "stable_years must be between 1 and 5", "稳定年数应在1至5年之间")
	}
	if len(st.Indicators) == 0 || len(st.Indicators) > 30 {
		fe.Add("/indicators", "out_of_range", "between 1 and 30 indicators", "指标应有1至30项")
	}
	seen := map[string]bool{}
	for i, in := range st.Indicators {
		p := "/indicators/" + strconv.Itoa(i)
		if in.Code == "" || len(in.Code) > 40 || strings.Trim(in.Code, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
			fe.Add(p+"/code", "invalid_format", "code must be 1–40 lower-case letters, digits or _", "指标代码应为1至40位小写字母、数字或下划线")
		} else if seen[in.Code] {
			fe.Add(p+"/code", "duplicate", "indicator code listed twice", "指标代码重复")
		}
		seen[in.Code] = true
		domain.CheckText(fe, p+"/name_zh", "指标名称", in.NameZH, 1, 100)
		item, isItem := strings.CutPrefix(in.Check, CheckChecklist)
		if !(in.Check == CheckIncome || in.Check == CheckConfirmed || in.Check == CheckNoOpenRisk || isItem && domain.ChecklistItems.Has(item)) {
			fe.Add(p+"/check", "invalid_enum", "check must be income, confirmed, no_open_risk or checklist:<item> of the visit checklist", "判定方式无效")
		}
	}
}

// ExitStandardOf is the standard of a year: the configured one, else the default.
func (s *Service) ExitStandardOf(ctx context.Context, p domain.Principal, year int) (ExitStandard, error) {
	if !p.Manages() {
		return ExitStandard{}, domain.Forbidden()
	}
	var fe domain.FieldErrors
	checkYear(&fe, "year", year, s.today())
	if err := fe.Err(); err != nil {
		return ExitStandard{}, err
	}
	return s.standard(ctx, s.store, year)
}

func (s *Service) standard(ctx context.Context, tx TxStore, year int) (ExitStandard, error) {
	st, err := tx.ExitStandard(ctx, year)
	if domain.IsCode(err, domain.CodeNotFound) {
		return DefaultExitStandard(year), nil
	}
	return st, err
}

// PutExitStandard configures a year's standard (admins). version is the
// one read: 0 replaces the built-in default.
func (s *Service) PutExitStandard(ctx context.Context, p domain.Principal, st ExitStandard) (ExitStandard, error) {
	if p.Role != domain.RoleAdmin {
		return ExitStandard{}, domain.Forbidden()
	}
	var fe domain.FieldErrors
	st.Validate(&fe, s.today())
	if err := fe.Err(); err != nil {
		return ExitStandard{}, err
	}
	expected := st.Version
	st.Version, st.UpdatedAt = expected+1, s.now().UTC()
	actor := p.UserID
	audit := domain.AuditEntry{ActorID: &actor, ActorName: p.Username, Action: "update", ObjectType: "exit_standard", ObjectID: strconv.Itoa(st.Year),
		RegionPath: p.RegionPath, RequestID: p.RequestID, Detail: map[string]any{"per_capita_fen": st.PerCapitaFen, "version": st.Version}}
	return st, s.store.SaveExitStandard(ctx, st, expected, audit)
}

// ChecklistAnswer is a visit's answer to one checklist item.
type ChecklistAnswer struct {
	Answer  string
	VisitID uuid.UUID
	On      domain.Date
}

// Reason says whether one indicator is met for a household, and why.
type Reason struct {
	Code     string
	NameZH   string
	Check    string
	Met      bool
	Pending  bool // confirmed at the village review, not judged here
	ReasonZH string
}

// Candidate is a registered household judged against a year's standard.
type Candidate struct {
	Household    domain.Household
	Qualifies    bool
	PerCapitaFen *int64 // the year's per-capita net income; nil without an account
	Reasons      []Reason
}

// CandidateQuery selects the households judged.
type CandidateQuery struct {
	RegionID      uuid.UUID
	Year          int
	Limit, Offset int
}

// ExitCandidates judges the registered households of a region the caller
// supervises against the year's exit standard, each with its reasons.
func (s *Service) ExitCandidates(ctx context.Context, p domain.Principal, q CandidateQuery) ([]Candidate, int64, ExitStandard, error) {
	f, st, err := s.candidates(ctx, p, q)
	if err != nil {
		return nil, 0, st, err
	}
	f.Limit, f.Offset = q.Limit, q.Offset
	hs, total, err := s.store.Households(ctx, f)
	if err != nil {
		return nil, 0, st, err
	}
	out, err := s.judge(ctx, s.store, st, hs)
	return out, total, st, err
}

// CandidatesPage is a page of the exit candidates with what the whole
// list holds: how many households, and how many of them qualify (nil while
// the whole list is still being judged).
type CandidatesPage struct {
	Candidates []Candidate
	Total      int64
	Qualifying *int64
	Standard   ExitStandard
}

// countWait is how long a page waits for its list's qualifying count when
// the whole list must be judged (the list's first request in a process, or
// after a standard, a campaign or a new day): a short list is judged in
// that time and its first page has the count; a county's 10,000 households
// take seconds, which the page does not wait — it answers with the count
// still to come, and a later request finds it kept.
const countWait = 300 * time.Millisecond

// ExitCandidatesPage is the page ExitCandidates reads, with the list's
// qualifying count beside it as CountQualifying keeps it. A count that
// needs the whole list judged is judged in the background, and the page
// waits for it at most countWait: a supervisor opening 脱贫候选 sees the
// page's own households judged at once, and the count on the next request.
func (s *Service) ExitCandidatesPage(ctx context.Context, p domain.Principal, q CandidateQuery) (CandidatesPage, error) {
	var out CandidatesPage
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		out.Candidates, out.Total, out.Standard, err = s.ExitCandidates(gctx, p, q)
		return err
	})
	g.Go(func() error {
		n, ok, err := s.countQualifying(gctx, p, q, countWait)
		if ok {
			out.Qualifying = &n
		}
		return err
	})
	return out, g.Wait()
}

// qualifyingBatch is how many households CountQualifying judges at once.
const qualifyingBatch = 500

// VerdictVersion names the state of what a region's exit verdicts are
// judged from (Store.VerdictVersion): equal versions, equal verdicts.
type VerdictVersion struct{ Feed, Standards, Campaigns int64 }

// qualifyingCounts keeps each list's qualifying households with the
// VerdictVersion they were judged at, so that paging through a list judges
// it once, not once a page. An entry is used only while the version read for the request is
// the one it was judged at: there is no time after which it is trusted, and
// a write that changes a verdict — the caller's own included — is seen by
// the next request.
type qualifyingCounts struct {
	mu   sync.Mutex
	m    map[qualifyingList]qualifyingCount
	held int // households kept, all lists together
	// judging is the whole-list judgements under way, by list: a request
	// finding its list being judged at its version, or at an earlier feed,
	// waits for that one rather than judging the list again beside it.
	judging map[qualifyingList]*wholeJudgement
}

// wholeJudgement is one whole list being judged at version; done closes
// when n or err is set.
type wholeJudgement struct {
	version VerdictVersion
	done    chan struct{}
	n       int64
	err     error
}

// wholeJudgementTimeout bounds a whole-list judgement no request waits for
// any more: the answer it left has gone, and what it judges is kept only
// for the next request.
const wholeJudgementTimeout = 5 * time.Minute

// qualifyingList is one candidates list as its caller sees it: managers
// see the households under their region path (domain.HouseholdScope).
type qualifyingList struct {
	scopePath, regionPath string
	year                  int
	today                 domain.Date
}

// qualifyingCount is a list's qualifying households as judged at version.
// It is never changed once kept (a newer one replaces it), so readers
// share it without the lock.
type qualifyingCount struct {
	version    VerdictVersion
	qualifying map[uuid.UUID]struct{}
}

// maxQualifyingLists and maxQualifyingHeld bound what is kept (a
// province's list may hold a few hundred thousand households, ~40 bytes
// each); past either, every list is dropped and judged whole again on its
// next request.
const (
	maxQualifyingLists = 64
	maxQualifyingHeld  = 1_000_000
)

// maxRejudged is how many changed households are judged again on their
// own before the whole list is judged instead.
const maxRejudged = 2000

func (c *qualifyingCounts) get(l qualifyingList) (qualifyingCount, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[l]
	return e, ok
}

func (c *qualifyingCounts) put(l qualifyingList, e qualifyingCount) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old, ok := c.m[l]
	if ok && old.version.Feed > e.version.Feed {
		return // a slower request judged an older state: keep the newer
	}
	if ok {
		c.held -= len(old.qualifying)
	}
	if c.m == nil || !ok && len(c.m) >= maxQualifyingLists || c.held+len(e.qualifying) > maxQualifyingHeld {
		c.m, c.held = map[qualifyingList]qualifyingCount{}, 0
	}
	c.m[l], c.held = e, c.held+len(e.qualifying)
}

// CountQualifying counts the households of the whole candidates list (q's
// region and year; its page is ignored) that qualify. Whether one
// qualifies is judged from its accounts, visits and risks as Judge weighs
// them, which no single query can say, so it walks the list a batch at a
// time: the count is of every page while at most a batch is held.
//
// The walk is made once per list, not once per page: the list's qualifying
// households are kept with the VerdictVersion they were judged at. The
// version is read before anything the count is judged from (the standards
// included), so what is kept under it is of data at least that new, and
// any later write moves the version on. While only the feed moved, the
// households the feed names since then are judged again on their own (in
// or out of the list, qualifying or not), as a write changes the verdict
// of its household alone; a standard or a campaign changed, or too many
// households, and the whole list is judged again.
func (s *Service) CountQualifying(ctx context.Context, p domain.Principal, q CandidateQuery) (int64, error) {
	n, _, err := s.countQualifying(ctx, p, q, -1)
	return n, err
}

// countQualifying is CountQualifying waiting at most wait (negative: as
// long as it takes) for a whole-list judgement; ok is false when the count
// is not there yet, and the judgement goes on to keep it for later.
func (s *Service) countQualifying(ctx context.Context, p domain.Principal, q CandidateQuery, wait time.Duration) (n int64, ok bool, err error) {
	r, err := s.candidatesRegion(ctx, p, q)
	if err != nil {
		return 0, false, err
	}
	v, err := s.store.VerdictVersion(ctx, r.Path)
	if err != nil {
		return 0, false, err
	}
	list := qualifyingList{scopePath: p.HouseholdScope().RegionPath, regionPath: r.Path, year: q.Year, today: s.today()}
	kept, found := s.counts.get(list)
	if found && kept.version == v {
		return int64(len(kept.qualifying)), true, nil
	}
	f, st, err := s.candidatesOf(ctx, p, r, q)
	if err != nil {
		return 0, false, err
	}
	if found && kept.version.Standards == v.Standards && kept.version.Campaigns == v.Campaigns && kept.version.Feed < v.Feed {
		// At most maxRejudged households: judged within the request.
		next, err := s.rejudgeChanged(ctx, f, st, r.Path, kept, v)
		if err != nil {
			return 0, false, err
		}
		if next != nil {
			s.counts.put(list, qualifyingCount{version: v, qualifying: next})
			return int64(len(next)), true, nil
		}
	}
	started := time.Now()
	j := s.judgeWhole(ctx, list, v, f, st)
	var timeout <-chan time.Time
	if wait >= 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-j.done:
		if j.err == nil && j.version != v {
			// An earlier version's judgement, joined: its count is kept
			// now, and the households changed since are judged on it.
			if wait >= 0 {
				wait = max(wait-time.Since(started), 0)
			}
			return s.countQualifying(ctx, p, q, wait)
		}
		return j.n, j.err == nil, j.err
	case <-timeout:
		return 0, false, nil
	case <-ctx.Done():
		return 0, false, ctx.Err()
	}
}

// judgeWhole judges list whole at v in the background, or joins the
// judgement of it at v already under way, and keeps what it finds. It runs
// apart from the request that started it (which may stop waiting), on the
// request's values but not its cancellation.
func (s *Service) judgeWhole(ctx context.Context, list qualifyingList, v VerdictVersion, f domain.HouseholdFilter, st ExitStandard) *wholeJudgement {
	c := &s.counts
	c.mu.Lock()
	defer c.mu.Unlock()
	// A judgement under way at an earlier feed (the same standards and
	// campaigns) is joined rather than run again beside it: in a county
	// whose phones sync all day the feed moves on every few seconds, and a
	// whole judgement a version would pile up while the first is running.
	if j := c.judging[list]; j != nil && (j.version == v || j.version.Standards == v.Standards && j.version.Campaigns == v.Campaigns && j.version.Feed < v.Feed) {
		return j
	}
	j := &wholeJudgement{version: v, done: make(chan struct{})}
	if c.judging == nil {
		c.judging = map[qualifyingList]*wholeJudgement{}
	}
	c.judging[list] = j
	go func() {
		bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), wholeJudgementTimeout)
		defer cancel()
		next, err := s.qualifyingOf(bg, f, st)
		if err == nil {
			s.counts.put(list, qualifyingCount{version: v, qualifying: next})
		}
		c.mu.Lock()
		if c.judging[list] == j {
			delete(c.judging, list)
		}
		c.mu.Unlock()
		j.n, j.err = int64(len(next)), err
		close(j.done)
	}()
	return j
}

// qualifyingOf judges every household f selects against st: those that
// qualify.
func (s *Service) qualifyingOf(ctx context.Context, f domain.HouseholdFilter, st ExitStandard) (map[uuid.UUID]struct{}, error) {
	out := map[uuid.UUID]struct{}{}
	f.Limit = qualifyingBatch
	for f.Offset = 0; ; f.Offset += qualifyingBatch {
		n, total, err := s.judgeInto(ctx, f, st, out)
		if err != nil {
			return nil, err
		}
		if n < qualifyingBatch || int64(f.Offset+n) >= total {
			return out, nil
		}
	}
}

// judgeInto judges the households f selects (a batch) against st and adds
// those that qualify to out: how many it judged, and the total f's list
// holds.
func (s *Service) judgeInto(ctx context.Context, f domain.HouseholdFilter, st ExitStandard, out map[uuid.UUID]struct{}) (int, int64, error) {
	hs, total, err := s.store.Households(ctx, f)
	if err != nil {
		return 0, 0, err
	}
	cs, err := s.judge(ctx, s.store, st, hs)
	if err != nil {
		return 0, 0, err
	}
	for _, c := range cs {
		if c.Qualifies {
			out[c.Household.ID] = struct{}{}
		}
	}
	return len(hs), total, nil
}

// rejudgeChanged is kept's qualifying households brought to v: those the
// feed names since kept.version judged again (nil: too many, judge the
// list whole).
func (s *Service) rejudgeChanged(ctx context.Context, f domain.HouseholdFilter, st ExitStandard, path string, kept qualifyingCount, v VerdictVersion) (map[uuid.UUID]struct{}, error) {
	changed, err := s.store.HouseholdsChangedSince(ctx, path, kept.version.Feed, v.Feed, maxRejudged)
	if err != nil || len(changed) > maxRejudged {
		return nil, err
	}
	out := make(map[uuid.UUID]struct{}, len(kept.qualifying))
	for id := range kept.qualifying {
		out[id] = struct{}{}
	}
	for _, id := range changed {
		delete(out, id) // out of the list now, or judged below
	}
	for from := 0; from < len(changed); from += qualifyingBatch {
		f.Among, f.Limit, f.Offset = changed[from:min(from+qualifyingBatch, len(changed))], qualifyingBatch, 0
		if _, _, err := s.judgeInto(ctx, f, st, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// candidates checks a candidates query: the households it selects (no
// page yet) and the year's standard.
func (s *Service) candidates(ctx context.Context, p domain.Principal, q CandidateQuery) (domain.HouseholdFilter, ExitStandard, error) {
	r, err := s.candidatesRegion(ctx, p, q)
	if err != nil {
		return domain.HouseholdFilter{}, ExitStandard{}, err
	}
	return s.candidatesOf(ctx, p, r, q)
}

// candidatesRegion checks a candidates query's caller and year, and reads
// its region within the caller's.
func (s *Service) candidatesRegion(ctx context.Context, p domain.Principal, q CandidateQuery) (domain.Region, error) {
	if !p.Manages() {
		return domain.Region{}, domain.Forbidden()
	}
	var fe domain.FieldErrors
	checkYear(&fe, "year", q.Year, s.today())
	if err := fe.Err(); err != nil {
		return domain.Region{}, err
	}
	return s.store.RegionWithin(ctx, p.RegionPath, q.RegionID)
}

// candidatesOf is candidates once its region r is read.
func (s *Service) candidatesOf(ctx context.Context, p domain.Principal, r domain.Region, q CandidateQuery) (domain.HouseholdFilter, ExitStandard, error) {
	st, err := s.standard(ctx, s.store, q.Year)
	if err != nil {
		return domain.HouseholdFilter{}, ExitStandard{}, err
	}
	return domain.HouseholdFilter{Scope: p.HouseholdScope(), Today: s.today(), WithinPath: r.Path, Status: domain.StatusRegistered}, st, nil
}

// judge weighs households against the year's standard st, as the
// candidates list and the exit procedure both do. It reads the visits as
// nobody does (the zero domain.VisitReader), as the stored compliance
// judgements are built: an inspection visit of a running unannounced
// campaign is hidden from some supervisors and not others, and an exit
// must have one answer whoever asks.
func (s *Service) judge(ctx context.Context, tx TxStore, st ExitStandard, hs []domain.Household) ([]Candidate, error) {
	ids := make([]uuid.UUID, len(hs))
	for i, h := range hs {
		ids[i] = h.ID
	}
	accounts, err := tx.IncomeAccountsOf(ctx, ids, st.Year-st.StableYears+1, st.Year)
	if err != nil {
		return nil, err
	}
	checklists, err := tx.LatestChecklist(ctx, domain.VisitReader{}, ids)
	if err != nil {
		return nil, err
	}
	risks, err := tx.OpenWarningsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	standards := map[int]ExitStandard{st.Year: st}
	for y := st.Year - st.StableYears + 1; y < st.Year; y++ {
		if standards[y], err = s.standard(ctx, tx, y); err != nil {
			return nil, err
		}
	}
	out := make([]Candidate, 0, len(hs))
	for _, h := range hs {
		out = append(out, Judge(h, st, standards, accounts[h.ID], checklists[h.ID], risks[h.ID]))
	}
	return out, nil
}

// checkQualifies refuses the exit of a household that does not meet the
// year's standard, as the candidates list judges it: 422 on field, one
// error for each unmet indicator, in Chinese.
func (s *Service) checkQualifies(ctx context.Context, tx TxStore, h domain.Household, year int, field string) error {
	st, err := s.standard(ctx, tx, year)
	if err != nil {
		return err
	}
	cs, err := s.judge(ctx, tx, st, []domain.Household{h})
	if err != nil {
		return err
	}
	if cs[0].Qualifies {
		return nil
	}
	y := strconv.Itoa(year)
	e := domain.Invalid()
	e.Message, e.MessageZH = "the household does not meet the "+y+" exit standard", "该户未达到"+y+"年度脱贫标准"
	for _, r := range cs[0].Reasons {
		if !r.Met {
			e.Fields = append(e.Fields, domain.FieldError{Field: field, Reason: "not_qualified", Message: "indicator " + r.Code + " is not met",
				MessageZH: "未达标：" + r.NameZH + "（" + r.ReasonZH + "）"})
		}
	}
	return e
}

// Judge weighs one household against the standard: standards holds the
// standard of each year the income must be stable over, accounts the
// household's accounts by year, checklist its latest answers by item,
// risks its open warnings. Reaching the amount exactly counts (a design
// choice: 002's 超过 is read as reaching the standard, to the fen).
func Judge(h domain.Household, st ExitStandard, standards map[int]ExitStandard, accounts map[int]IncomeAccount, checklist map[string]ChecklistAnswer,
	risks []Warning) Candidate {
	c := Candidate{Household: h, Qualifies: true}
	if a, ok := accounts[st.Year]; ok {
		pc := a.PerCapitaFen()
		c.PerCapitaFen = &pc
	}
	for _, in := range st.Indicators {
		r := Reason{Code: in.Code, NameZH: in.NameZH, Check: in.Check}
		switch item, isItem := strings.CutPrefix(in.Check, CheckChecklist); {
		case in.Check == CheckIncome:
			r.Met, r.ReasonZH = incomeReason(st, standards, accounts)
		case isItem:
			label, _ := domain.ChecklistItems.Label(item)
			a, ok := checklist[item]
			switch {
			case !ok:
				r.ReasonZH = "走访记录中没有" + label + "的核查结果"
			case a.Answer == "met" || a.Answer == "not_applicable":
				r.Met, r.ReasonZH = true, a.On.String()+"走访核查：已保障"
			default:
				r.ReasonZH = a.On.String() + "走访核查：" + label + "存在问题"
			}
		case in.Check == CheckNoOpenRisk:
			r.Met, r.ReasonZH = riskReason(risks)
		default:
			r.Met, r.Pending, r.ReasonZH = true, true, "待村民主评议时确认"
		}
		c.Qualifies = c.Qualifies && r.Met
		c.Reasons = append(c.Reasons, r)
	}
	return c
}

// riskReason names each open risk with the day a visit recorded it:
// "存在未消除的返贫风险：大病（2026-11-02 登记）".
func riskReason(risks []Warning) (bool, string) {
	if len(risks) == 0 {
		return true, "没有未消除的返贫风险"
	}
	named := make([]string, len(risks))
	for i, w := range risks {
		label, _ := domain.RiskTriggers.Label(w.Trigger)
		named[i] = label + "（" + w.SeenOn.String() + " 登记）"
	}
	return false, "存在未消除的返贫风险：" + strings.Join(named, "、")
}

func incomeReason(st ExitStandard, standards map[int]ExitStandard, accounts map[int]IncomeAccount) (bool, string) {
	for y := st.Year - st.StableYears + 1; y <= st.Year; y++ {
		a, ok := accounts[y]
		std := standards[y].PerCapitaFen
		if !ok {
			return false, strconv.Itoa(y) + "年度没有收入测算"
		}
		if pc := a.PerCapitaFen(); pc < std {
			return false, strconv.Itoa(y) + "年度人均纯收入" + Yuan(pc) + "元，低于标准" + Yuan(std) + "元"
		}
	}
	a := accounts[st.Year]
	return true, strconv.Itoa(st.Year) + "年度人均纯收入" + Yuan(a.PerCapitaFen()) + "元，达到标准" + Yuan(st.PerCapitaFen) + "元"
}

// ParseYuan reads an amount in yuan as people write it ("50000",
// "50,000.5", "3335.00") into fen; ok is false for anything else, a third
// decimal included.
func ParseYuan(s string) (fen int64, ok bool) {
	s = strings.ReplaceAll(strings.ReplaceAll(strings.TrimSpace(s), ",", ""), "，", "")
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(whole) > 12 || len(frac) > 2 || strings.Trim(whole+frac, "0123456789") != "" {
		return 0, false
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, false
	}
	f, _ := strconv.Atoi((frac + "00")[:2])
	return w*100 + int64(f), true
}

// Yuan writes fen as yuan with two decimals: 333500 is "3335.00".
func Yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	cents := fen % 100
	return sign + strconv.FormatInt(fen/100, 10) + "." + string(rune('0'+cents/10)) + string(rune('0'+cents%10))
}
