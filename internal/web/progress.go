package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance"
)

// The progress report page (走访进度, the 半月报): the report's counts by
// town or village and by cadre as of today, with what happened within
// the days from and to — statuses that got a counted visit, the counted
// visits, statuses met by the last day — and the same report as a 台账
// download. compliance.Service.Progress and ProgressLedger, as the API's
// progress export.

// progressPage is what templates/progress.html shows.
type progressPage struct {
	From, To string // the window, as the date inputs show it
	Region   string
	Period   string
	Closed   bool
	Children Table
	Cadres   Table
	Pager    Pager
	Exports  []exportLink
}

// progressQuery reads from, to, region and the format of the progress
// report; a malformed date or id is a field error naming it.
func progressQuery(p domain.Principal, q url.Values) (compliance.ExportQuery, error) {
	var fe domain.FieldErrors
	eq := compliance.ExportQuery{ReportQuery: compliance.ReportQuery{RegionID: p.RegionID}, Format: q.Get("format")}
	for _, d := range []struct {
		name, labelZH string
		into          **domain.Date
	}{{"from", "开始日期", &eq.From}, {"to", "结束日期", &eq.To}} {
		if v := q.Get(d.name); v != "" {
			day, err := domain.ParseDate(v)
			if err != nil {
				fe.Add(d.name, "invalid_format", d.name+" must be a date YYYY-MM-DD", d.labelZH+"应为YYYY-MM-DD格式的日期")
				continue
			}
			*d.into = &day
		}
	}
	if v := q.Get("region"); v != "" {
		id, err := uuid.Parse(v)
		if err != nil {
			fe.Add("region", "invalid_format", "region must be a UUID", "行政区划编号格式不正确")
		}
		eq.RegionID = id
	}
	return eq, fe.Err()
}

// progress builds the progress report page.
func (c *Console) progress(r *http.Request, s *session) (any, error) {
	q := r.URL.Query()
	eq, err := progressQuery(s.principal, q)
	if err != nil {
		return nil, err
	}
	var fe domain.FieldErrors
	page := readPage(q, "page", &fe)
	if err := fe.Err(); err != nil {
		return nil, err
	}
	prog, err := c.deps.Compliance.Progress(r.Context(), s.principal, eq)
	if err != nil {
		return nil, err
	}
	rep, w := prog.Report, prog.Window
	out := progressPage{From: w.From.String(), To: w.To.String(), Region: rep.Region.Name, Period: rep.Period.LabelZH(), Closed: rep.ClosedAt != nil}
	kind := "行政村"
	if childGrouping(rep.Region) == compliance.ByTown {
		kind = "乡镇"
	}
	children := slices.Clone(rep.Regions)
	slices.SortFunc(children, func(a, b compliance.GroupCounts) int { return strings.Compare(a.Name, b.Name) })
	out.Children = progressTable(kind, children, prog.ByChild)
	out.Children.Rows = append(out.Children.Rows, progressRow(textCell("合计"), rep.Total, prog.Overall))
	cadres := pageSlice(rep.Cadres, page)
	out.Cadres = progressTable("帮扶干部", cadres, prog.ByCadre)
	for i, g := range cadres {
		if _, err := uuid.Parse(g.ID); err == nil {
			out.Cadres.Rows[i][0].Link = cadreURL(g.ID)
		}
	}
	unlinkCadres(s.principal, &out.Cadres)
	// The page's links keep its window and region (filterLink drops an
	// empty region, as the other list pages' links do).
	link := func(path string, set ...string) string {
		return filterLink(path, url.Values{"from": {out.From}, "to": {out.To}}, append([]string{"region", q.Get("region")}, set...)...)
	}
	out.Pager = newPager(page, int64(len(rep.Cadres)), itemsPerPage, func(n int) string { return link("/ui/progress", "page", strconv.Itoa(n)) })
	for _, fm := range []struct{ key, label string }{{"xlsx", "导出Excel"}, {"csv", "导出CSV"}} {
		out.Exports = append(out.Exports, exportLink{Label: fm.label, URL: link("/ui/progress/export", "format", fm.key)})
	}
	return out, nil
}

// progressTable is groups' counts with their window's figures.
func progressTable(what string, gs []compliance.GroupCounts, window map[uuid.UUID]compliance.WindowCounts) Table {
	t := Table{Head: []string{what, "应达标（项）", "已达标", "进度正常", "即将到期", "进度落后", "未完成", "达标率", "时段内有走访", "时段内计入次数", "时段末已达标"},
		Empty: "本期没有需要评判的走访任务。"}
	for _, g := range gs {
		id, _ := uuid.Parse(g.ID) // "" (none) reads as uuid.Nil, as the report keys it
		name := textCell(g.Name)
		if g.ID == "" {
			name.Text = "（未落实）"
		}
		t.Rows = append(t.Rows, progressRow(name, g.StateCounts, window[id]))
	}
	return t
}

func progressRow(name Cell, c compliance.StateCounts, w compliance.WindowCounts) []Cell {
	return []Cell{name, numCell(c.Total), numCell(c.Met), numCell(c.OnTrack), numCell(c.DueSoon), numCell(c.Overdue), numCell(c.Missed),
		metCell(c), numCell(w.Reached), numCell(w.Visits), numCell(w.MetAtLast)}
}

// progressExport answers the progress report as a 台账 file, through
// the export the API serves (compliance.ProgressLedger).
func (c *Console) progressExport(w http.ResponseWriter, r *http.Request, s *session) {
	eq, err := progressQuery(s.principal, r.URL.Query())
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	ex, err := c.deps.Compliance.ProgressLedger(r.Context(), s.principal, eq)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.download(w, s, ex.ContentType, ex.Filename, ex.Write)
}
