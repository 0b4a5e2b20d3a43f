package web

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance"
	"github.com/fieldvisit/fieldvisit/internal/compliance/rules"
	"github.com/fieldvisit/fieldvisit/internal/itemledger"
	fvsync "github.com/fieldvisit/fieldvisit/sync"
)

// overviewPage is what templates/overview.html shows. A section whose
// service refuses the caller's role is left out (nil), never faked.
type overviewPage struct {
	Headline       []stat // the met rates of the current month, quarter and year
	Rates          *ratesSection
	Trend          string // JSON for assets/overview.js: {"labels":[…],"rates":[…]}
	Attention      *attentionSection
	Flags          *Table
	FlagsPeriod    string
	Conflicts      *int64
	Rectifications *rectificationSection
	Work           *Table // a cadre's own worklist
	// StaleDevices is the phones silent for a week (nil: the caller
	// keeps no devices page).
	StaleDevices *staleSection
}

// ratesSection is the compliance rates of one period, by town and
// village, with tabs for the current month, quarter and year (htmx
// swaps the section from /ui/overview/rates?period=).
type ratesSection struct {
	Tabs     []periodTab
	Period   string
	Closed   bool
	Total    compliance.StateCounts
	Towns    *Table
	Villages Table
}

type periodTab struct {
	Key, Label string
	Current    bool
}

type attentionSection struct {
	Overdue, AtRisk int // households
}

type rectificationSection struct {
	Open, InProgress, Submitted, Overdue int64
}

// Total is every rectification not yet closed (销号).
func (r rectificationSection) Total() int64 { return r.Open + r.InProgress + r.Submitted + r.Overdue }

// forbidden reports a service's refusal of the caller's role, which
// leaves a section out.
func forbidden(err error) bool { return domain.IsCode(err, domain.CodeForbidden) }

// overview gathers the first page from the services: for supervisors,
// admins and inspectors their region's picture; for a cadre their own
// worklist.
func (c *Console) overview(r *http.Request, s *session) (any, error) {
	ctx, p := r.Context(), s.principal
	out := overviewPage{}
	if p.Role == domain.RoleCadre {
		items, err := c.deps.Compliance.Worklist(ctx, p)
		if err != nil {
			return nil, err
		}
		t := Table{Caption: "我的走访任务（本年、本季、本月未达标）", Head: []string{"户主", "户编号", "村", "规则", "期间", "状态", "截止日期"},
			Empty: "目前没有待走访的任务。"}
		for _, it := range items {
			t.Rows = append(t.Rows, []Cell{householdCell(it.Status.HouseholdID, it.HouseholdName), textCell(it.HouseholdNo), textCell(it.VillageName),
				textCell(it.Status.RuleNameZH), textCell(it.Status.Period.LabelZH()), stateCell(it.State), textCell(formatDate(it.Status.DueOn))})
		}
		out.Work = &t
	}
	rates, err := c.rates(r, p, r.URL.Query().Get("period"))
	switch {
	case forbidden(err):
	case err != nil:
		return nil, err
	default:
		out.Rates = rates
		current, err := c.deps.Compliance.Rates(ctx, p, p.RegionID, nil)
		if err != nil {
			return nil, err
		}
		for _, pc := range current {
			out.Headline = append(out.Headline, statOf(pc.Total, pc.Period.LabelZH()+"达标率"))
		}
		trend, err := c.deps.Compliance.Trend(ctx, p, p.RegionID, 12)
		if err != nil {
			return nil, err
		}
		out.Trend = trendJSON(trend)
		if out.Attention, err = c.attention(r, p); err != nil {
			return nil, err
		}
		flags, per, err := c.deps.Compliance.FlagCounts(ctx, p, p.RegionID, "")
		if err != nil {
			return nil, err
		}
		t := Table{Head: []string{"疑点", "走访次数"}, Empty: "本期没有带疑点的走访。"}
		for _, f := range flags {
			t.Rows = append(t.Rows, []Cell{textCell(f.LabelZH), numCell(f.Visits)})
		}
		out.Flags, out.FlagsPeriod = &t, per.LabelZH()
	}
	open := true
	if _, n, err := c.deps.Sync.Conflicts(ctx, p, fvsync.ConflictQuery{Open: &open, Limit: 1}); err == nil {
		out.Conflicts = &n
	} else if !forbidden(err) {
		return nil, err
	}
	if out.Rectifications, err = c.rectifications(r, p); err != nil {
		return nil, err
	}
	if out.StaleDevices, err = c.staleDevices(r, s); err != nil {
		return nil, err
	}
	return out, nil
}

// rates is the rates section for a period key ("" the current month).
func (c *Console) rates(r *http.Request, p domain.Principal, period string) (*ratesSection, error) {
	today := domain.DateOf(c.deps.Now())
	var tabs []periodTab
	for _, w := range []string{rules.WindowMonth, rules.WindowQuarter, rules.WindowYear} {
		per, _ := rules.PeriodOf(w, today)
		tabs = append(tabs, periodTab{Key: per.Key(), Label: per.LabelZH()})
	}
	if period == "" {
		period = tabs[0].Key
	}
	counts, err := c.deps.Compliance.Rates(r.Context(), p, p.RegionID, []string{period})
	if err != nil {
		return nil, err
	}
	pc := counts[0]
	for i := range tabs {
		tabs[i].Current = tabs[i].Key == pc.Period.Key()
	}
	sec := &ratesSection{Tabs: tabs, Period: pc.Period.LabelZH(), Closed: pc.ClosedAt != nil, Total: pc.Total}
	if len(pc.Towns) > 0 {
		t := countsTable("乡镇", pc.Towns, "")
		sec.Towns = &t
	}
	sec.Villages = countsTable("行政村", worstFirst(pc.Villages), "/ui/map?village=")
	return sec, nil
}

// overviewRates answers the rates section alone, for the period tabs.
func (c *Console) overviewRates(w http.ResponseWriter, r *http.Request, s *session) {
	sec, err := c.rates(r, s.principal, r.URL.Query().Get("period"))
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.draw(w, r, s, http.StatusOK, "overview.html", "rates", sec)
}

// statOf is a period's met rate as a headline number, coloured as metCell.
func statOf(sc compliance.StateCounts, label string) stat {
	c := metCell(sc)
	return stat{Value: c.Text, Label: label, Tone: c.Tone, Title: c.Title}
}

// worstFirst orders groups by rate, lowest first (a copy).
func worstFirst(gs []compliance.GroupCounts) []compliance.GroupCounts {
	out := slices.Clone(gs)
	slices.SortStableFunc(out, func(a, b compliance.GroupCounts) int {
		return cmp.Compare(a.StateCounts.MetRate(), b.StateCounts.MetRate())
	})
	return out
}

// countsTable is the shared shape of a rates table; link, when set, is
// prefixed to each group's id.
func countsTable(what string, gs []compliance.GroupCounts, link string) Table {
	var to func(compliance.GroupCounts) string
	if link != "" {
		to = func(g compliance.GroupCounts) string { return link + g.ID + "#village-detail" }
	}
	return groupsTable(what, gs, to)
}

// trendJSON is the monthly met rates for the chart, as a data- attribute:
// a rate is null for a month with nothing judged.
func trendJSON(months []compliance.PeriodCounts) string {
	out := struct {
		Labels []string   `json:"labels"`
		Rates  []*float64 `json:"rates"`
	}{Labels: []string{}, Rates: []*float64{}}
	for _, m := range months {
		out.Labels = append(out.Labels, m.Period.Key())
		if r := m.Total.MetRate(); r >= 0 {
			out.Rates = append(out.Rates, &r)
		} else {
			out.Rates = append(out.Rates, nil)
		}
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// attention counts the households behind in the periods in force (the
// month, the quarter and the year: most rules count by quarter or year):
// overdue (or already missed) ones from the missed-visit report, at-risk
// ones from the forecast, each household once however many rules and
// periods it is behind on.
func (c *Console) attention(r *http.Request, p domain.Principal) (*attentionSection, error) {
	today := domain.DateOf(c.deps.Now())
	overdue, atRisk := map[uuid.UUID]bool{}, map[uuid.UUID]bool{}
	for _, w := range []string{rules.WindowMonth, rules.WindowQuarter, rules.WindowYear} {
		per, _ := rules.PeriodOf(w, today)
		q := compliance.ReportQuery{RegionID: p.RegionID, Period: per.Key()}
		rep, err := c.deps.Compliance.Missed(r.Context(), p, compliance.ReportQuery{RegionID: p.RegionID, Period: per.Key(),
			States: []string{rules.StateOverdue, rules.StateMissed}})
		if err != nil {
			return nil, err
		}
		for _, it := range rep.Items {
			if it.Status.HouseholdID != uuid.Nil {
				overdue[it.Status.HouseholdID] = true
			}
		}
		risks, _, err := c.deps.Compliance.Forecast(r.Context(), p, q)
		if err != nil {
			return nil, err
		}
		for _, it := range risks {
			if it.Status.HouseholdID != uuid.Nil {
				atRisk[it.Status.HouseholdID] = true
			}
		}
	}
	return &attentionSection{Overdue: len(overdue), AtRisk: len(atRisk)}, nil
}

// rectifications counts the 整改台账 items not yet closed, by state.
func (c *Console) rectifications(r *http.Request, p domain.Principal) (*rectificationSection, error) {
	out := &rectificationSection{}
	for _, st := range []struct {
		state string
		n     *int64
	}{{itemledger.Open, &out.Open}, {itemledger.InProgress, &out.InProgress}, {itemledger.Submitted, &out.Submitted}, {itemledger.Overdue, &out.Overdue}} {
		_, n, err := c.deps.ItemLedger.Items(r.Context(), p, itemledger.Query{Kind: itemledger.KindRectification, State: st.state, Limit: 1})
		if forbidden(err) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		*st.n = n
	}
	return out, nil
}

// householdCell links a household to its file page.
func householdCell(id uuid.UUID, name string) Cell {
	if id == uuid.Nil {
		return textCell(name)
	}
	return Cell{Text: name, Link: householdURL(id)}
}

// householdURL is the household file page (一户一档).
func householdURL(id uuid.UUID) string { return "/ui/households/" + id.String() }

// stateCell shows a compliance state in Chinese, coloured.
func stateCell(state string) Cell {
	tone := map[string]string{rules.StateMet: "good", rules.StateOnTrack: "good", rules.StateDueSoon: "warn", rules.StateOverdue: "bad", rules.StateMissed: "bad"}[state]
	return Cell{Text: label("state", state), Tone: tone}
}
