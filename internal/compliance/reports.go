package compliance

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance/rules"
)

// States that need someone's attention, worst first.
var attention = []string{rules.StateMissed, rules.StateOverdue, rules.StateDueSoon, rules.StateOnTrack}

// WorkItem is one thing on a cadre's worklist.
type WorkItem struct {
	ReportItem
	ReasonZH string
	Risk     rules.Risk
}

// currentKeys are the periods containing today: the year, the quarter and
// the month.
func currentKeys(today domain.Date) []string {
	var keys []string
	for _, w := range []string{rules.WindowYear, rules.WindowQuarter, rules.WindowMonth} {
		p, _ := rules.PeriodOf(w, today)
		keys = append(keys, p.Key())
	}
	return keys
}

// Worklist is what the calling cadre still owes in the current year,
// quarter and month: the households (and duties) not yet met, worst and
// soonest first, each with why and by when.
func (s *Service) Worklist(ctx context.Context, p domain.Principal) ([]WorkItem, error) {
	if p.Role != domain.RoleCadre {
		return nil, domain.Forbidden()
	}
	today := s.today()
	id := p.UserID
	items, _, err := s.store.ReportItems(ctx, ReportFilter{RegionPath: "/", PeriodKeys: currentKeys(today), Today: today,
		CadreID: &id, States: attention})
	if err != nil {
		return nil, err
	}
	risks, err := s.risks(ctx, p.RegionPath, items, today)
	if err != nil {
		return nil, err
	}
	out := make([]WorkItem, len(items))
	for i, it := range items {
		out[i] = WorkItem{ReportItem: it, ReasonZH: reasonZH(it.Status, it.State), Risk: risks[i]}
	}
	return out, nil
}

// openStates are the states of statuses not yet met whose deadline has not
// passed: what the forecast looks at.
var openStates = []string{rules.StateOverdue, rules.StateDueSoon, rules.StateOnTrack}

// risks forecasts items as of today: what each cadre owes is summed over
// all their open statuses of the current periods in the county (or
// wider region) around within, not only over items, and their pace is
// measured from their recent visits.
func (s *Service) risks(ctx context.Context, within string, items []ReportItem, today domain.Date) ([]rules.Risk, error) {
	statuses := make([]JudgedStatus, len(items))
	cadres := map[uuid.UUID]bool{}
	keys := currentKeys(today)
	for i, it := range items {
		statuses[i] = it.JudgedStatus
		if it.CadreID != nil {
			cadres[*it.CadreID] = true
		}
		if k := it.Status.Period.Key(); !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	if len(cadres) > 0 {
		wide, err := s.countyPath(ctx, within)
		if err != nil {
			return nil, err
		}
		// Statuses listed twice change nothing: a household owes the most
		// any one of its statuses lacks, not their sum.
		all, _, err := s.store.ReportItems(ctx, ReportFilter{RegionPath: wide, PeriodKeys: keys, Today: today, States: openStates})
		if err != nil {
			return nil, err
		}
		for _, it := range all {
			if it.CadreID != nil && cadres[*it.CadreID] {
				statuses = append(statuses, it.JudgedStatus)
			}
		}
	}
	var visits []rules.VisitFact
	if len(cadres) > 0 {
		ids := slices.Collect(maps.Keys(cadres))
		from := today.AddDays(-7 * rules.PaceWeeks)
		var err error
		if visits, err = s.store.CadreVisitFacts(ctx, ids, from.Start(), today.Start()); err != nil {
			return nil, err
		}
	}
	prof, err := s.loadProfile(ctx, within)
	if err != nil {
		return nil, err
	}
	return ForecastStatuses(statuses, visits, prof.CountsForPace, today)[:len(items)], nil
}

// countyPath is the path of the county that path lies in, or path itself
// above the county level (a city, a province, "/"): a cadre's households
// all lie in one county.
func (s *Service) countyPath(ctx context.Context, path string) (string, error) {
	ids := pathIDs(path)
	if len(ids) == 0 {
		return path, nil
	}
	r, err := s.store.Region(ctx, ids[len(ids)-1])
	if err != nil || r.CountyID == nil || *r.CountyID == r.ID {
		return path, err
	}
	county, err := s.store.Region(ctx, *r.CountyID)
	return county.Path, err
}

// reasonZH is the one line a cadre reads on the worklist.
func reasonZH(st rules.Status, state string) string {
	label, _ := rules.States.Label(state)
	return fmt.Sprintf("%s%s：应走访%d次，已计入%d次，还差%d次，截止%s（%s）", st.Period.LabelZH(), st.RuleNameZH,
		st.Required, st.CountedN, st.Short(), st.DueOn, label)
}

// Timeline judges a household's statuses for a year afresh from its visits,
// with full explanations: what a supervisor shows a cadre who disputes a
// 通报. It is the same judgement the worker stores.
func (s *Service) Timeline(ctx context.Context, p domain.Principal, householdID uuid.UUID, year int) ([]rules.Status, Profile, error) {
	if year < 2014 || year > s.today().Year+1 {
		return nil, Profile{}, domain.Invalid(domain.FieldError{Field: "year", Reason: "out_of_range", Message: "year must be between 2014 and next year", MessageZH: "年份超出范围"})
	}
	if _, err := s.store.Household(ctx, p.HouseholdScope(), s.today(), householdID); err != nil {
		return nil, Profile{}, err
	}
	ctx = s.store.ReadsCurrent(ctx)
	c, err := s.store.ComplianceHouseholdFacts(ctx, householdID)
	if err != nil {
		return nil, Profile{}, err
	}
	prof, err := s.loadProfile(ctx, c.RegionPath)
	if err != nil {
		return nil, Profile{}, err
	}
	from, to := yearBounds(year)
	visits, err := s.store.HouseholdVisitFacts(ctx, p.VisitReader(), c.Household.CountyID, householdID, from, to)
	if err != nil {
		return nil, Profile{}, err
	}
	return rules.EvaluateHouseholdYear(prof.Profile, HouseholdFacts(c), visits, year, s.today()), prof, nil
}

// ReportQuery asks for a compliance report of a region and period. The
// filters narrow the counts and the items alike; a cadre or rule with no
// statuses in the region (unknown, or outside the caller's scope) gives an
// empty report, the same answer for both, so a filter tells nothing about
// other regions.
type ReportQuery struct {
	RegionID uuid.UUID
	Period   string // 2026, 2026-Q4, 2026-11; empty: the current month
	RuleCode string
	CadreID  *uuid.UUID // only what this cadre answers for (their households and duties)
	// PovertyType and HouseholdStatus keep the statuses of households of
	// that poverty type or (current) status; duties of cadres and units,
	// which belong to no household, drop out.
	PovertyType     string
	HouseholdStatus string
	States          []string // items in these states; default missed and overdue
	Live            bool     // a closed period: read the live statuses, not the frozen close
	Limit           int
	Offset          int
}

// checkHousehold checks the household filters, which the visit 台账
// applies too.
func (q ReportQuery) checkHousehold(fe *domain.FieldErrors) {
	if q.PovertyType != "" && !domain.PovertyTypes.Has(q.PovertyType) {
		fe.Add("poverty_type", "invalid_enum", "poverty_type must be ordinary, dibao or wubao", "贫困户属性无效")
	}
	if q.HouseholdStatus != "" && !domain.Statuses.Has(q.HouseholdStatus) {
		fe.Add("household_status", "invalid_enum", "unknown household status", "农户状态无效")
	}
}

// filter is the report filter of the query over region r and period per
// as p may read it, before states and paging.
func (q ReportQuery) filter(p domain.Principal, r domain.Region, per rules.Period, today domain.Date) ReportFilter {
	return ReportFilter{RegionPath: r.Path, PeriodKeys: []string{per.Key()}, Today: today, RuleCode: q.RuleCode, CadreID: q.CadreID,
		PovertyType: q.PovertyType, HouseholdStatus: q.HouseholdStatus, Households: tasksOnly(p)}
}

// tasksOnly is the household scope every report keeps to for p: an
// inspector reads the households of their active tasks and nothing else of
// the region (not its other households, names or notes, nor the cadres'
// duties); nil for those who manage the region, whose region is their
// scope.
func tasksOnly(p domain.Principal) *domain.HouseholdScope {
	if p.Role != domain.RoleInspector {
		return nil
	}
	scope := p.HouseholdScope()
	return &scope
}

// Report is the missed-visit report (未走访/走访不达标情况) of a region.
type Report struct {
	Region   domain.Region
	Period   rules.Period
	Today    domain.Date
	ClosedAt *time.Time // the frozen close read, when the period is closed
	Total    StateCounts
	Regions  []GroupCounts // the region's towns or villages
	Cadres   []GroupCounts
	Rules    []GroupCounts
	Items    []ReportItem
	Count    int64
}

// GroupCounts are a group's counts with its name.
type GroupCounts struct {
	ID   string
	Name string
	StateCounts
}

// period reads a year, quarter or month key; none means the current month.
func (s *Service) period(fe *domain.FieldErrors, key string) rules.Period {
	if key == "" {
		per, _ := rules.PeriodOf(rules.WindowMonth, s.today())
		return per
	}
	per, err := rules.ParsePeriod(key)
	if err != nil {
		fe.Add("period", "invalid_format", "period must be a year (2026), quarter (2026-Q4) or month (2026-11)", "期间格式应为年（2026）、季度（2026-Q4）或月（2026-11）")
	}
	return per
}

func (s *Service) reportScope(ctx context.Context, p domain.Principal, q ReportQuery) (domain.Region, rules.Period, error) {
	if !p.Manages() && p.Role != domain.RoleInspector {
		return domain.Region{}, rules.Period{}, domain.Forbidden()
	}
	var fe domain.FieldErrors
	per := s.period(&fe, q.Period)
	for _, st := range q.States {
		if !rules.States.Has(st) {
			fe.Add("state", "invalid_enum", "state must be met, on_track, due_soon, overdue or missed", "状态无效")
		}
	}
	q.checkHousehold(&fe)
	if err := fe.Err(); err != nil {
		return domain.Region{}, rules.Period{}, err
	}
	r, err := s.visibleRegion(ctx, p, q.RegionID)
	return r, per, err
}

// Missed builds the report: counts for the region, its child regions, its
// cadres and rules, and the statuses in the asked states, worst first.
// Reads stored statuses (or a period's frozen close), never visits.
func (s *Service) Missed(ctx context.Context, p domain.Principal, q ReportQuery) (Report, error) {
	r, per, err := s.reportScope(ctx, p, q)
	if err != nil {
		return Report{}, err
	}
	today := s.today()
	rep := Report{Region: r, Period: per, Today: today}
	f := q.filter(p, r, per, today)
	if r.CountyID != nil && !q.Live {
		if rep.ClosedAt, err = s.store.PeriodClose(ctx, *r.CountyID, per.Key()); err != nil {
			return Report{}, err
		}
		f.Frozen = rep.ClosedAt != nil
	}
	ctx = s.reportReads(ctx, r, per, f)
	total, err := s.store.ReportCounts(ctx, f, Overall)
	if err != nil {
		return Report{}, err
	}
	if len(total) == 1 {
		rep.Total = total[0]
	}
	for _, g := range []struct {
		by  Grouping
		out *[]GroupCounts
	}{{childGrouping(r), &rep.Regions}, {ByCadre, &rep.Cadres}, {ByRule, &rep.Rules}} {
		counts, err := s.store.ReportCounts(ctx, f, g.by)
		if err != nil {
			return Report{}, err
		}
		if *g.out, err = s.named(ctx, g.by, counts); err != nil {
			return Report{}, err
		}
	}
	f.States = q.States
	if len(f.States) == 0 {
		f.States = []string{rules.StateMissed, rules.StateOverdue}
	}
	f.Limit, f.Offset = q.Limit, q.Offset
	rep.Items, rep.Count, err = s.store.ReportItems(ctx, f)
	return rep, err
}

// reportReads returns ctx for the reads of a report of region r and
// period per: a frozen close is read from any copy of the store that
// holds it (it never changes), live statuses from one that has caught up
// with the primary as it is now — never an older report than the primary
// would give.
func (s *Service) reportReads(ctx context.Context, r domain.Region, per rules.Period, f ReportFilter) context.Context {
	if f.Frozen && r.CountyID != nil {
		return s.store.ReadsOfClose(ctx, *r.CountyID, per.Key())
	}
	return s.store.ReadsCurrent(ctx)
}

// named attaches names to grouped counts.
func (s *Service) named(ctx context.Context, by Grouping, counts []StateCounts) ([]GroupCounts, error) {
	ruleNames := map[string]string{}
	if by == ByRule {
		profs, err := s.Profiles(ctx)
		if err != nil {
			return nil, err
		}
		for _, p := range profs {
			for _, r := range p.Rules {
				ruleNames[r.Code] = r.NameZH
			}
		}
	}
	var ids []uuid.UUID
	for _, c := range counts {
		if id, err := uuid.Parse(c.Group); err == nil {
			ids = append(ids, id)
		}
	}
	names, err := s.store.Names(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]GroupCounts, len(counts))
	for i, c := range counts {
		out[i] = GroupCounts{ID: c.Group, StateCounts: c}
		id, err := uuid.Parse(c.Group)
		switch {
		case by == ByRule:
			out[i].Name = ruleNames[c.Group]
			if out[i].Name == "" {
				out[i].Name = c.Group
			}
		case err != nil && (by == ByTown || by == ByVillage):
			// Statuses of no village are a cadre's own duties (a town
			// head's coverage, a unit member's monthly visits).
			out[i].Name = "干部职责（不属于具体村）"
		case err != nil:
			out[i].Name = "未落实"
		default:
			out[i].Name = names[id]
		}
	}
	return out, nil
}

// ForecastItem is one not-yet-met status of the current period with its risk.
type ForecastItem struct {
	ReportItem
	Risk rules.Risk
}

// Forecast says who will miss the asked period — or, when none is asked,
// any of the current year, quarter and month — at their cadre's own pace:
// the statuses not yet met that rules.Forecast puts at risk, worst first.
// The period returned is zero when none was asked.
func (s *Service) Forecast(ctx context.Context, p domain.Principal, q ReportQuery) ([]ForecastItem, rules.Period, error) {
	r, per, err := s.reportScope(ctx, p, q)
	if err != nil {
		return nil, per, err
	}
	today := s.today()
	f := q.filter(p, r, per, today)
	if q.Period == "" {
		per, f.PeriodKeys = rules.Period{}, currentKeys(today)
	}
	f.States = openStates
	items, _, err := s.store.ReportItems(ctx, f)
	if err != nil || len(items) == 0 {
		return nil, per, err
	}
	risks, err := s.risks(ctx, r.Path, items, today)
	if err != nil {
		return nil, per, err
	}
	owed := make([]rules.Owed, len(items))
	for i, it := range items {
		owed[i] = rules.Owed{Status: it.Status, Cadre: it.CadreID}
	}
	var out []ForecastItem
	for _, i := range rules.RankRisks(risks, owed) {
		if risks[i].AtRisk {
			out = append(out, ForecastItem{ReportItem: items[i], Risk: risks[i]})
		}
	}
	return out, per, nil
}

// Close freezes a county's report for a period that has ended; supervisors
// and admins close, once.
func (s *Service) Close(ctx context.Context, p domain.Principal, regionID uuid.UUID, period string) (time.Time, error) {
	if !p.Manages() {
		return time.Time{}, domain.Forbidden()
	}
	per, err := rules.ParsePeriod(period)
	if err != nil {
		return time.Time{}, domain.Invalid(domain.FieldError{Field: "/period", Reason: "invalid_format", Message: "period must be a year, quarter or month", MessageZH: "期间格式无效"})
	}
	r, err := s.visibleRegion(ctx, p, regionID)
	if err != nil {
		return time.Time{}, err
	}
	if r.Level != domain.LevelCounty || r.CountyID == nil {
		return time.Time{}, domain.Invalid(domain.FieldError{Field: "/region_id", Reason: "invalid_level", Message: "periods are closed for a whole county", MessageZH: "只能按县结账"})
	}
	today := s.today()
	if today.Before(per.End) {
		return time.Time{}, domain.Invalid(domain.FieldError{Field: "/period", Reason: "not_ended", Message: "a period can be closed once it has ended", MessageZH: "期间尚未结束，不能结账"})
	}
	by := p.UserID
	now := s.now()
	err = s.store.ClosePeriod(ctx, *r.CountyID, per.Key(), today, now, domain.AuditEntry{ActorID: &by, ActorName: p.Username, Action: "close",
		ObjectType: "compliance_period", ObjectID: per.Key(), RegionPath: r.Path, RequestID: p.RequestID})
	return now, err
}

// CoverageReport is a county's (or town's) coverage and standing findings
// for a year: town heads and county leaders who have not yet been to every
// household or poor village, registered, exited and edge households
// without a responsible cadre (counted by status in Unpaired), pairing
// quotas and resident terms.
type CoverageReport struct {
	Region   domain.Region
	Year     int
	Profile  Profile
	Findings []rules.Finding
	Names    map[uuid.UUID]string // cadres, households and villages named in findings
	// Unpaired counts, by status, the households with nobody responsible
	// for them today (the findings marked Unpaired): no worklist has them.
	Unpaired map[string]int
}

// Coverage checks the coverage rules of the region's profile over the
// region, as of today.
func (s *Service) Coverage(ctx context.Context, p domain.Principal, regionID uuid.UUID, year int) (CoverageReport, error) {
	// Coverage names the region's households and cadres: an inspector's
	// sight is their tasks' households, not the region (tasksOnly).
	if !p.Manages() {
		return CoverageReport{}, domain.Forbidden()
	}
	today := s.today()
	if year < 2014 || year > today.Year {
		return CoverageReport{}, domain.Invalid(domain.FieldError{Field: "year", Reason: "out_of_range", Message: "year must be between 2014 and this year", MessageZH: "年份超出范围"})
	}
	r, err := s.visibleRegion(ctx, p, regionID)
	if err != nil {
		return CoverageReport{}, err
	}
	if r.Level != domain.LevelCounty && r.Level != domain.LevelTown {
		return CoverageReport{}, domain.Invalid(domain.FieldError{Field: "region_id", Reason: "invalid_level", Message: "coverage is checked for a county or a town", MessageZH: "覆盖情况按县或乡镇检查"})
	}
	prof, err := s.loadProfile(ctx, r.Path)
	if err != nil {
		return CoverageReport{}, err
	}
	from, to := yearBounds(year)
	facts, err := s.store.CountyCoverageFacts(ctx, r.Path, from, to)
	if err != nil {
		return CoverageReport{}, err
	}
	rep := CoverageReport{Region: r, Year: year, Profile: prof, Names: map[uuid.UUID]string{}}
	in := rules.CoverageInput{}
	for _, h := range facts.Households {
		in.Households = append(in.Households, HouseholdFacts(h))
		rep.Names[h.Household.ID] = h.Household.HeadName
	}
	for _, v := range facts.Villages {
		village := rules.Village{ID: v.ID, Poor: v.IsPoorVillage}
		if v.ParentID != nil {
			village.TownID = *v.ParentID
		}
		if v.CountyID != nil {
			village.CountyID = *v.CountyID
		}
		in.Villages = append(in.Villages, village)
		rep.Names[v.ID] = v.Name
	}
	for _, u := range facts.Cadres {
		in.Cadres = append(in.Cadres, rules.CadreFacts{ID: u.ID, Rank: u.Rank, Duties: u.Duties})
		rep.Names[u.ID] = u.DisplayName
	}
	in.Visits = facts.Visits
	rep.Findings = rules.CheckCoverage(prof.Profile, in, year, today)
	rep.Unpaired = map[string]int{}
	for _, f := range rep.Findings {
		if f.Unpaired {
			rep.Unpaired[f.HouseholdStatus]++
		}
	}
	return rep, nil
}

// AutoClose closes, for every county, the months, quarters and years of the
// last thirteen months that ended at least grace days ago and nobody has
// closed yet, so a month's 通报 stops changing even when no supervisor closes
// it by hand (late syncs still count in the live statuses). It reports how
// many periods it closed.
func (s *Service) AutoClose(ctx context.Context, grace int) (int, error) {
	today := s.today()
	counties, err := s.store.CountyIDs(ctx)
	if err != nil {
		return 0, err
	}
	var due []rules.Period
	for _, w := range []string{rules.WindowMonth, rules.WindowQuarter, rules.WindowYear} {
		for _, y := range []int{today.Year - 1, today.Year} {
			periods, _ := rules.PeriodsOfYear(w, y)
			for _, p := range periods {
				if !today.Before(p.End.AddDays(grace)) && !p.End.Before(today.AddDays(-400)) {
					due = append(due, p)
				}
			}
		}
	}
	closed := 0
	for _, county := range counties {
		done, err := s.store.ClosedPeriods(ctx, county)
		if err != nil {
			return closed, err
		}
		for _, p := range due {
			if done[p.Key()] {
				continue
			}
			err := s.store.ClosePeriod(ctx, county, p.Key(), today, s.now(), domain.AuditEntry{Action: "close", ObjectType: "compliance_period",
				ObjectID: p.Key(), ActorName: "system", Detail: map[string]any{"automatic": true, "grace_days": grace}})
			if err != nil && !domain.IsCode(err, domain.CodeConflict) { // closed by hand meanwhile
				return closed, err
			}
			closed++
		}
	}
	return closed, nil
}
