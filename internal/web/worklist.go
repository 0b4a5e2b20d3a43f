package web

import (
	"net/http"
	"strconv"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance"
	"github.com/fieldvisit/fieldvisit/internal/compliance/rules"
)

// The worklist page (走访任务): who is due or overdue now, and who the
// forecast says will not make it at the current pace, with its reasons.
// A cadre reads their own worklist (compliance.Service.Worklist, the
// phone's GET /api/v1/worklist); a supervisor, admin or inspector the
// statuses of their region in a current period (Missed and Forecast).

// worklistPage is what templates/worklist.html shows.
type worklistPage struct {
	Own       bool   // a cadre's own worklist
	OwnPage   string // their cadre page
	Tabs      []viewTab
	Period    string
	Due       Table
	DuePager  Pager
	Risks     Table
	RiskPager Pager
}

// worklist builds the worklist page.
func (c *Console) worklist(r *http.Request, s *session) (any, error) {
	q := r.URL.Query()
	var fe domain.FieldErrors
	duePage, riskPage := readPage(q, "page", &fe), readPage(q, "risk_page", &fe)
	if err := fe.Err(); err != nil {
		return nil, err
	}
	if s.principal.Role == domain.RoleCadre {
		return c.ownWorklist(r, s.principal, duePage, riskPage)
	}
	today := domain.DateOf(c.deps.Now())
	var keys []string
	for _, w := range []string{rules.WindowMonth, rules.WindowQuarter, rules.WindowYear} {
		per, _ := rules.PeriodOf(w, today)
		keys = append(keys, per.Key())
	}
	period := q.Get("period")
	if period == "" {
		period = keys[0]
	}
	link := func(set ...string) string {
		f := reportFilters{Period: period, View: viewRegion}
		return f.link("/ui/worklist", set...)
	}
	rq := compliance.ReportQuery{RegionID: s.principal.RegionID, Period: period, States: []string{rules.StateOverdue, rules.StateDueSoon},
		Limit: itemsPerPage, Offset: (duePage - 1) * itemsPerPage}
	rep, err := c.deps.Compliance.Missed(r.Context(), s.principal, rq)
	if err != nil {
		return nil, err
	}
	out := worklistPage{Period: rep.Period.LabelZH(), Due: itemsTable(rep.Items)}
	out.Due.Empty = "本期没有进度落后或即将到期的走访任务。"
	for _, k := range keys {
		per, _ := rules.ParsePeriod(k)
		out.Tabs = append(out.Tabs, viewTab{Label: per.LabelZH(), URL: (&reportFilters{Period: k}).link("/ui/worklist"), Current: k == rep.Period.Key()})
	}
	out.DuePager = newPager(duePage, rep.Count, itemsPerPage, func(n int) string { return link("page", strconv.Itoa(n), "risk_page", q.Get("risk_page")) })
	risks, _, err := c.deps.Compliance.Forecast(r.Context(), s.principal, compliance.ReportQuery{RegionID: s.principal.RegionID, Period: period})
	if err != nil {
		return nil, err
	}
	page := pageSlice(risks, riskPage)
	out.Risks = riskTable(len(page), func(i int) (compliance.ReportItem, rules.Risk) { return page[i].ReportItem, page[i].Risk })
	out.RiskPager = newPager(riskPage, int64(len(risks)), itemsPerPage, func(n int) string { return link("risk_page", strconv.Itoa(n), "page", q.Get("page")) })
	unlinkCadres(s.principal, &out.Due, &out.Risks)
	return out, nil
}

// ownWorklist is a cadre's own worklist: what is not yet met in the
// current year, quarter and month, and which of it the forecast puts at
// risk.
func (c *Console) ownWorklist(r *http.Request, p domain.Principal, duePage, riskPage int) (any, error) {
	items, err := c.deps.Compliance.Worklist(r.Context(), p)
	if err != nil {
		return nil, err
	}
	var atRisk []compliance.WorkItem
	reports := make([]compliance.ReportItem, len(items))
	for i, it := range items {
		reports[i] = it.ReportItem
		if it.Risk.AtRisk {
			atRisk = append(atRisk, it)
		}
	}
	link := func(set ...string) string { return (&reportFilters{View: viewRegion}).link("/ui/worklist", set...) }
	out := worklistPage{Own: true, OwnPage: cadreURL(p.UserID.String()), Period: "本年、本季度、本月", Due: itemsTable(pageSlice(reports, duePage))}
	out.Due.Empty = "目前没有待走访的任务。"
	out.DuePager = newPager(duePage, int64(len(items)), itemsPerPage, func(n int) string { return link("page", strconv.Itoa(n)) })
	page := pageSlice(atRisk, riskPage)
	out.Risks = riskTable(len(page), func(i int) (compliance.ReportItem, rules.Risk) { return page[i].ReportItem, page[i].Risk })
	out.RiskPager = newPager(riskPage, int64(len(atRisk)), itemsPerPage, func(n int) string { return link("risk_page", strconv.Itoa(n)) })
	return out, nil
}

// pageSlice is page n (1-based) of a list already in memory.
func pageSlice[T any](all []T, n int) []T {
	from := min((n-1)*itemsPerPage, len(all))
	return all[from:min(from+itemsPerPage, len(all))]
}

// riskTable lists the statuses the forecast puts at risk with its reason.
func riskTable(n int, at func(i int) (compliance.ReportItem, rules.Risk)) Table {
	t := Table{Head: []string{"行政村", "户主", "户编号", "帮扶干部", "规则", "期间", "还差", "剩余天数", "原因"},
		Empty: "按当前进度，没有可能完不成的走访任务。"}
	for i := range n {
		it, risk := at(i)
		row := itemsTable([]compliance.ReportItem{it}).Rows[0]
		t.Rows = append(t.Rows, append(row[:6:6], numCell(int64(risk.Needed)), numCell(int64(risk.DaysLeft)), textCell(risk.ReasonZH)))
	}
	return t
}
