package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance"
	"github.com/fieldvisit/fieldvisit/internal/compliance/rules"
)

// The missed-visit page (未走访情况): the compliance report of a region
// and period by region (town → village → household), by cadre and by
// rule, with the report's filters, its statuses a page at a time, and
// the same list as a 台账 download. Every figure and row comes from
// compliance.Service.Missed and MissedLedger with the caller's
// Principal: the API's report and export, the same scope.

// itemsPerPage bounds a page's status rows (the page-weight budget).
const itemsPerPage = 50

// reportFilters are the report's filters as the page's form and links
// carry them in the query string.
type reportFilters struct {
	Region          *uuid.UUID // nil: the caller's own region
	Period          string     // a period key; "" the current month
	Rule            string
	Cadre           *uuid.UUID
	PovertyType     string
	HouseholdStatus string
	State           string // "" missed and overdue (the report's default), stateAll, or one state
	View            string // which grouping the page shows: viewRegion, viewCadre, viewRule
	Page            int    // 1-based
}

const (
	stateAll   = "all"
	viewRegion = "region"
	viewCadre  = "cadre"
	viewRule   = "rule"
)

// readReportFilters reads the filters; a malformed id or page is a field
// error naming the parameter, the rest the report checks itself.
func readReportFilters(q url.Values) (reportFilters, error) {
	var fe domain.FieldErrors
	f := reportFilters{Period: q.Get("period"), Rule: q.Get("rule"), PovertyType: q.Get("poverty_type"),
		HouseholdStatus: q.Get("household_status"), State: q.Get("state"), View: q.Get("view"), Page: 1}
	for _, id := range []struct {
		name, labelZH string
		into          **uuid.UUID
	}{{"region", "行政区划", &f.Region}, {"cadre", "帮扶干部", &f.Cadre}} {
		if v := q.Get(id.name); v != "" {
			u, err := uuid.Parse(v)
			if err != nil {
				fe.Add(id.name, "invalid_format", id.name+" must be a UUID", id.labelZH+"编号格式不正确")
				continue
			}
			*id.into = &u
		}
	}
	f.Page = readPage(q, "page", &fe)
	switch f.View {
	case "", viewRegion, viewCadre, viewRule:
	default:
		fe.Add("view", "invalid_enum", "view must be region, cadre or rule", "分组方式应为按地区、按干部或按规则")
	}
	if f.View == "" {
		f.View = viewRegion
	}
	return f, fe.Err()
}

// readPage reads a 1-based page number (none: the first page).
func readPage(q url.Values, name string, fe *domain.FieldErrors) int {
	v := q.Get(name)
	if v == "" {
		return 1
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 100_000 {
		fe.Add(name, "out_of_range", name+" must be a number from 1", "页码应为正整数")
		return 1
	}
	return n
}

// report is the compliance report query of the filters within the
// caller's region.
func (f reportFilters) report(p domain.Principal) compliance.ReportQuery {
	q := compliance.ReportQuery{RegionID: p.RegionID, Period: f.Period, RuleCode: f.Rule, CadreID: f.Cadre, PovertyType: f.PovertyType,
		HouseholdStatus: f.HouseholdStatus, Limit: itemsPerPage, Offset: (f.Page - 1) * itemsPerPage}
	if f.Region != nil {
		q.RegionID = *f.Region
	}
	switch f.State {
	case "":
	case stateAll:
		q.States = rules.States.Codes()
	default:
		q.States = []string{f.State}
	}
	return q
}

// values writes the filters back as a query string's values, without the
// page (a changed filter starts again at the first page).
func (f reportFilters) values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	if f.Region != nil {
		v.Set("region", f.Region.String())
	}
	if f.Cadre != nil {
		v.Set("cadre", f.Cadre.String())
	}
	set("period", f.Period)
	set("rule", f.Rule)
	set("poverty_type", f.PovertyType)
	set("household_status", f.HouseholdStatus)
	set("state", f.State)
	if f.View != viewRegion {
		v.Set("view", f.View)
	}
	return v
}

// filterLink is path with the query v, changed by set (name, value pairs;
// an empty value drops the name): a list page's links to itself with one
// filter changed.
func filterLink(path string, v url.Values, set ...string) string {
	for i := 0; i+1 < len(set); i += 2 {
		if set[i+1] == "" {
			v.Del(set[i])
		} else {
			v.Set(set[i], set[i+1])
		}
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// link is a URL of path with the filters, changed by set (key, value
// pairs; an empty value drops the key).
func (f reportFilters) link(path string, set ...string) string {
	return filterLink(path, f.values(), set...)
}

// missedPage is what templates/missed.html shows.
type missedPage struct {
	Form      filterForm
	Crumbs    []crumb
	PeriodKey string
	Period    string
	Closed    bool
	Total     compliance.StateCounts
	Views     []viewTab
	// Periods are the current month, quarter and year with what is
	// behind in each: most household rules count by quarter or year, so
	// early in a month its own report may hold duties only.
	Periods []viewTab
	Groups  Table
	Items   Table
	Pager   Pager
	Exports []exportLink
	// Close freezes the county's report of an ended period (封账), when
	// the caller may and it is not frozen yet; nil otherwise.
	Close *closeForm
}

type closeForm struct {
	Action, CSRF, Period, Region string
}

// filterForm is the filter form: its selects, and what the form keeps
// that it does not show (the region, the cadre, the view).
type filterForm struct {
	Action  string
	Hidden  []hiddenField
	Selects []selectField
	Cleared []clearLink // active filters set by links, each with the link that drops it
}

type hiddenField struct{ Name, Value string }

type selectField struct {
	Name, Label string
	Groups      []optionGroup
}

type clearLink struct{ Label, URL string }

// crumb is one region of the drill-down path.
type crumb struct{ Name, URL string }

type viewTab struct {
	Label, URL string
	Current    bool
}

type exportLink struct{ Label, URL string }

// missed builds the missed-visit page.
func (c *Console) missed(r *http.Request, s *session) (any, error) {
	f, err := readReportFilters(r.URL.Query())
	if err != nil {
		return nil, err
	}
	ctx, p := r.Context(), s.principal
	rep, err := c.deps.Compliance.Missed(ctx, p, f.report(p))
	if err != nil {
		return nil, err
	}
	out := missedPage{PeriodKey: rep.Period.Key(), Period: rep.Period.LabelZH(), Closed: rep.ClosedAt != nil, Total: rep.Total}
	if !out.Closed && p.Manages() && rep.Region.Level == domain.LevelCounty && !rep.Today.Before(rep.Period.End) {
		out.Close = &closeForm{Action: "/ui/missed/close", CSRF: s.csrf, Period: rep.Period.Key(), Region: rep.Region.ID.String()}
	}
	if out.Form, err = c.filterForm(r, p, f, "/ui/missed"); err != nil {
		return nil, err
	}
	if out.Crumbs, err = c.crumbs(r, p, rep.Region, f); err != nil {
		return nil, err
	}
	region := p.RegionID
	if f.Region != nil {
		region = *f.Region
	}
	current, err := c.deps.Compliance.Rates(ctx, p, region, nil)
	if err != nil {
		return nil, err
	}
	for _, pc := range current {
		out.Periods = append(out.Periods, viewTab{Label: fmt.Sprintf("%s：应达标%d项，落后%d项，未完成%d项", pc.Period.LabelZH(), pc.Total.Total,
			pc.Total.Overdue, pc.Total.Missed), URL: f.link("/ui/missed", "period", pc.Period.Key(), "page", ""), Current: pc.Period.Key() == rep.Period.Key()})
	}
	for _, v := range []struct{ key, label string }{{viewRegion, "按地区"}, {viewCadre, "按帮扶干部"}, {viewRule, "按规则"}} {
		out.Views = append(out.Views, viewTab{Label: v.label, URL: f.link("/ui/missed", "view", v.key), Current: f.View == v.key})
	}
	switch f.View {
	case viewCadre:
		out.Groups = cadreCountsTable(rep.Cadres, f)
	case viewRule:
		out.Groups = groupsTable("规则", rep.Rules, func(g compliance.GroupCounts) string { return f.link("/ui/missed", "rule", g.ID) })
	default:
		what := "行政村"
		if childGrouping(rep.Region) == compliance.ByTown {
			what = "乡镇"
		}
		out.Groups = groupsTable(what, worstFirst(rep.Regions), func(g compliance.GroupCounts) string {
			if g.ID == rep.Region.ID.String() {
				return "" // a village's report groups by itself
			}
			return f.link("/ui/missed", "region", g.ID)
		})
	}
	out.Items = itemsTable(rep.Items)
	unlinkCadres(p, &out.Groups, &out.Items)
	out.Pager = newPager(f.Page, rep.Count, itemsPerPage, func(n int) string { return f.link("/ui/missed", "page", strconv.Itoa(n)) })
	for _, fm := range []struct{ key, label string }{{"xlsx", "导出Excel"}, {"csv", "导出CSV"}} {
		out.Exports = append(out.Exports, exportLink{Label: fm.label, URL: f.link("/ui/missed/export", "format", fm.key)})
	}
	return out, nil
}

// childGrouping is how the report splits a region: a county or above by
// town, a town or village by village (compliance.Missed's rule).
func childGrouping(r domain.Region) compliance.Grouping {
	if r.Level == domain.LevelCounty || r.Level == domain.LevelCity || r.Level == domain.LevelProvince {
		return compliance.ByTown
	}
	return compliance.ByVillage
}

// filterForm builds the form's selects with the filters' values chosen.
func (c *Console) filterForm(r *http.Request, p domain.Principal, f reportFilters, action string) (filterForm, error) {
	form := filterForm{Action: action}
	if f.Region != nil {
		form.Hidden = append(form.Hidden, hiddenField{"region", f.Region.String()})
	}
	if f.Cadre != nil {
		form.Hidden = append(form.Hidden, hiddenField{"cadre", f.Cadre.String()})
		name := "（已筛选）"
		if u, err := c.deps.Registry.User(r.Context(), p, *f.Cadre); err == nil {
			name = u.DisplayName
		}
		form.Cleared = append(form.Cleared, clearLink{Label: "帮扶干部：" + name, URL: f.link(action, "cadre", "")})
	}
	if f.View != viewRegion {
		form.Hidden = append(form.Hidden, hiddenField{"view", f.View})
	}
	form.Selects = append(form.Selects, selectField{Name: "period", Label: "期间", Groups: c.periodOptions(f.Period)})
	ruleOpts, err := c.ruleOptions(r, f.Rule)
	if err != nil {
		return form, err
	}
	form.Selects = append(form.Selects,
		selectField{Name: "state", Label: "走访状态", Groups: []optionGroup{{Options: append([]option{
			{Value: "", Label: "未完成及进度落后", Selected: f.State == ""}, {Value: stateAll, Label: "全部状态", Selected: f.State == stateAll}},
			filterOptions(vocabularyOptions(rules.States), f.State, "")...)}}},
		selectField{Name: "poverty_type", Label: "贫困户属性", Groups: []optionGroup{{Options: filterOptions(vocabularyOptions(domain.PovertyTypes), f.PovertyType, "全部属性")}}},
		selectField{Name: "household_status", Label: "农户状态", Groups: []optionGroup{{Options: filterOptions(vocabularyOptions(domain.Statuses), f.HouseholdStatus, "全部状态")}}},
		selectField{Name: "rule", Label: "规则", Groups: []optionGroup{{Options: ruleOpts}}})
	return form, nil
}

// periodOptions are the months of the last year, the last four quarters
// and the last two years, newest first.
func (c *Console) periodOptions(selected string) []optionGroup {
	today := domain.DateOf(c.deps.Now())
	current, _ := rules.PeriodOf(rules.WindowMonth, today)
	if selected == "" {
		selected = current.Key()
	}
	var out []optionGroup
	for _, w := range []struct {
		window, label string
		n             int
	}{{rules.WindowMonth, "月度", 12}, {rules.WindowQuarter, "季度", 4}, {rules.WindowYear, "年度", 2}} {
		g := optionGroup{Label: w.label}
		per, _ := rules.PeriodOf(w.window, today)
		for range w.n {
			g.Options = append(g.Options, option{Value: per.Key(), Label: per.LabelZH(), Selected: per.Key() == selected})
			per, _ = rules.PeriodOf(w.window, per.Start.AddDays(-1))
		}
		out = append(out, g)
	}
	return out
}

// ruleOptions are the rules of every profile, each code once.
func (c *Console) ruleOptions(r *http.Request, selected string) ([]option, error) {
	profiles, err := c.deps.Compliance.Profiles(r.Context())
	if err != nil {
		return nil, err
	}
	out := []option{{Value: "", Label: "全部规则", Selected: selected == ""}}
	seen := map[string]bool{}
	for _, prof := range profiles {
		for _, rule := range prof.Rules {
			if !seen[rule.Code] {
				seen[rule.Code] = true
				out = append(out, option{Value: rule.Code, Label: rule.NameZH, Selected: rule.Code == selected})
			}
		}
	}
	return out, nil
}

// filterOptions are a filter's choices with the selected one marked,
// after an "any" option when anyLabel is set.
func filterOptions(opts []option, selected, anyLabel string) []option {
	var out []option
	if anyLabel != "" {
		out = append(out, option{Value: "", Label: anyLabel, Selected: selected == ""})
	}
	for _, o := range opts {
		o.Selected = o.Value == selected
		out = append(out, o)
	}
	return out
}

// crumbs is the drill-down path from the caller's region to the report's.
func (c *Console) crumbs(r *http.Request, p domain.Principal, at domain.Region, f reportFilters) ([]crumb, error) {
	var out []crumb
	ids := strings.Split(strings.Trim(at.Path, "/"), "/")
	from := false
	for _, s := range ids {
		id, err := uuid.Parse(s)
		if err != nil {
			continue
		}
		from = from || id == p.RegionID
		if !from {
			continue
		}
		reg := at
		if id != at.ID {
			if reg, err = c.deps.Registry.Region(r.Context(), p, id); err != nil {
				return nil, err
			}
		}
		region := id.String()
		if id == p.RegionID {
			region = ""
		}
		out = append(out, crumb{Name: reg.Name, URL: f.link("/ui/missed", "region", region)})
	}
	return out, nil
}

// groupsTable is the counts of a report's groups; link, when it gives a
// URL, links a group's name.
func groupsTable(what string, gs []compliance.GroupCounts, link func(compliance.GroupCounts) string) Table {
	t := Table{Head: []string{what, "应达标（项）", "已达标", "进度正常", "即将到期", "进度落后", "未完成", "达标率"}, Empty: "本期没有需要评判的走访任务。"}
	for _, g := range gs {
		name := textCell(g.Name)
		if g.ID != "" && link != nil { // statuses of no village are a cadre's own duties: no page of their own
			name.Link = link(g)
		}
		t.Rows = append(t.Rows, []Cell{name, numCell(g.Total), numCell(g.Met), numCell(g.OnTrack), numCell(g.DueSoon), numCell(g.Overdue),
			numCell(g.Missed), metCell(g.StateCounts)})
	}
	return t
}

// cadreCountsTable is the counts by cadre: the name opens the cadre's
// page, the last column narrows the list to them.
func cadreCountsTable(gs []compliance.GroupCounts, f reportFilters) Table {
	t := groupsTable("帮扶干部", worstFirst(gs), func(g compliance.GroupCounts) string {
		if _, err := uuid.Parse(g.ID); err != nil {
			return "" // statuses no cadre answers for (未落实)
		}
		return cadreURL(g.ID)
	})
	t.Head = append(t.Head, "")
	for i, g := range worstFirst(gs) {
		narrow := textCell("")
		if _, err := uuid.Parse(g.ID); err == nil {
			narrow = Cell{Text: "只看此人", Link: f.link("/ui/missed", "cadre", g.ID, "view", "")}
		}
		t.Rows[i] = append(t.Rows[i], narrow)
	}
	return t
}

// cadreURL is a cadre's page.
func cadreURL(id string) string { return "/ui/cadres/" + id }

// unlinkCadres drops the links to cadre pages from tables shown to a
// caller who may not open them (an inspector: the cadre summary is for
// the cadre and those who manage them).
func unlinkCadres(p domain.Principal, tables ...*Table) {
	if p.Manages() || p.Role == domain.RoleCadre {
		return
	}
	for _, t := range tables {
		for _, row := range t.Rows {
			for i := range row {
				if strings.HasPrefix(row[i].Link, cadreURL("")) {
					row[i].Link = ""
				}
			}
		}
	}
}

// itemsTable lists statuses as the missed list shows them: each
// household opens its file, each cadre their page.
func itemsTable(items []compliance.ReportItem) Table {
	t := Table{Head: []string{"行政村", "户主", "户编号", "帮扶干部", "规则", "期间", "应走访", "已计入", "还差", "截止日期", "状态"},
		Empty: "没有符合条件的走访任务。"}
	for _, it := range items {
		st := it.Status
		household := householdCell(st.HouseholdID, it.HouseholdName)
		if st.HouseholdID == uuid.Nil {
			household.Text = "（干部职责）"
		}
		cadre := textCell("未落实")
		if it.CadreID != nil {
			cadre = Cell{Text: it.CadreName, Link: cadreURL(it.CadreID.String())}
		}
		t.Rows = append(t.Rows, []Cell{textCell(it.VillageName), household, textCell(it.HouseholdNo), cadre, textCell(st.RuleNameZH),
			textCell(st.Period.LabelZH()), numCell(int64(st.Required)), numCell(int64(st.CountedN)), numCell(int64(st.Short())),
			textCell(formatDate(st.DueOn)), stateCell(it.State)})
	}
	return t
}

// missedExport answers the missed list as a 台账 file: the filters of the
// page, through the export the API serves (compliance.MissedLedger).
func (c *Console) missedExport(w http.ResponseWriter, r *http.Request, s *session) {
	f, err := readReportFilters(r.URL.Query())
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	q := compliance.ExportQuery{ReportQuery: f.report(s.principal), Format: r.URL.Query().Get("format")}
	q.Limit, q.Offset = 0, 0
	ex, err := c.deps.Compliance.MissedLedger(r.Context(), s.principal, q)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.download(w, s, ex.ContentType, ex.Filename, ex.Write)
}

// Pager is the page links under a paginated table.
type Pager struct {
	Page, Pages int
	Total       int64
	Prev, Next  string // "" on the first or last page
}

// newPager pages total rows by size; url links page n.
func newPager(page int, total int64, size int, url func(n int) string) Pager {
	pages := int((total + int64(size) - 1) / int64(size))
	p := Pager{Page: page, Pages: max(pages, 1), Total: total}
	if page > 1 {
		p.Prev = url(min(page-1, p.Pages))
	}
	if page < pages {
		p.Next = url(page + 1)
	}
	return p
}

// Of is the pager's "第 n / m 页" text.
func (p Pager) Of() string {
	return fmt.Sprintf("第 %d / %d 页，共 %d 条", p.Page, p.Pages, p.Total)
}

// reportReaders are the roles the compliance reports answer: managers of
// a region and inspectors (a cadre has their worklist instead).
var reportReaders = []string{domain.RoleAdmin, domain.RoleSupervisor, domain.RoleInspector}

// closePeriod freezes a county's report of an ended period
// (compliance.Service.Close): what it says then stays as it was.
func closePeriod(c *Console, w http.ResponseWriter, r *http.Request, s *session) {
	_ = r.ParseForm()
	region, err := uuid.Parse(r.PostForm.Get("region"))
	if err != nil {
		c.fail(w, r, s, domain.Invalid(domain.FieldError{Field: "region", Reason: "invalid", Message: "region must be a region id", MessageZH: "地区无效"}))
		return
	}
	period := r.PostForm.Get("period")
	if _, err := c.deps.Compliance.Close(r.Context(), s.principal, region, period); err != nil {
		c.fail(w, r, s, err)
		return
	}
	seeOther(w, r, "/ui/missed?"+url.Values{"period": {period}, "region": {region.String()}}.Encode())
}
