package app

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance"
	"github.com/fieldvisit/fieldvisit/internal/compliance/rules"
	"github.com/fieldvisit/fieldvisit/internal/demo"
	"github.com/fieldvisit/fieldvisit/internal/testkit/browsertest"
)

// lastQuarter is the quarter before the app's today: closed, and with
// statuses missed in the demo county.
func (e *consoleEnv) lastQuarter() string {
	q, _ := rules.PeriodOf(rules.WindowQuarter, domain.DateOf(e.app.Now()))
	q, _ = rules.PeriodOf(rules.WindowQuarter, q.Start.AddDays(-1))
	return q.Key()
}

// busyPeriod is the latest ended quarter — else the current year — whose
// missed-visit list as p reads it runs past one page (50 rows), so that
// paging is tested; the demo's misses vary by quarter.
func (e *consoleEnv) busyPeriod(t *testing.T, p domain.Principal) string {
	t.Helper()
	q, _ := rules.PeriodOf(rules.WindowQuarter, domain.DateOf(e.app.Now()))
	var tried []string
	for range 4 {
		q, _ = rules.PeriodOf(rules.WindowQuarter, q.Start.AddDays(-1))
		if n := len(e.missedItems(t, p, compliance.ReportQuery{Period: q.Key()})); n > 50 {
			return q.Key()
		} else {
			tried = append(tried, fmt.Sprintf("%s: %d", q.Key(), n))
		}
	}
	y, _ := rules.PeriodOf(rules.WindowYear, domain.DateOf(e.app.Now()))
	if n := len(e.missedItems(t, p, compliance.ReportQuery{Period: y.Key()})); n > 50 {
		return y.Key()
	}
	t.Fatalf("no period of the demo county has more than a page of misses (%s)", strings.Join(tried, ", "))
	return ""
}

// missedItems is every status of a missed-visit query as the report
// service lists it for p, in its order.
func (e *consoleEnv) missedItems(t *testing.T, p domain.Principal, q compliance.ReportQuery) []compliance.ReportItem {
	t.Helper()
	if q.RegionID == uuid.Nil {
		q.RegionID = p.RegionID
	}
	q.Limit = 10_000
	rep, err := e.app.Compliance.Missed(context.Background(), p, q)
	if err != nil {
		t.Fatal(err)
	}
	return rep.Items
}

// ledgerLine is how a status reads in the list and in the 台账: household
// number, rule and state.
func ledgerLine(it compliance.ReportItem) string {
	state, _ := rules.States.Label(it.State)
	return it.HouseholdNo + "|" + it.Status.RuleNameZH + "|" + state
}

var (
	itemsSection = regexp.MustCompile(`(?s)<section class="panel" id="missed-items"[^>]*>.*?</section>`)
	tableRow     = regexp.MustCompile(`<tr><td class="[^"]*">`)
	householdRef = regexp.MustCompile(`href="/ui/households/([0-9a-f-]{36})"`)
)

// listedHouseholds are the household links of the missed list on a page,
// in order, and how many rows it has.
func listedHouseholds(t *testing.T, body string) (ids []string, rows int) {
	t.Helper()
	sec := itemsSection.FindString(body)
	if sec == "" {
		t.Fatalf("no missed list on the page: %.400s", body)
	}
	for _, m := range householdRef.FindAllStringSubmatch(sec, -1) {
		ids = append(ids, m[1])
	}
	return ids, len(tableRow.FindAllString(sec, -1))
}

// ledgerLines reads a missed-visit 台账 (XLSX or CSV) back as ledgerLine
// values: the title, the subtitle and the heading come first.
func ledgerLines(t *testing.T, format string, b []byte) []string {
	t.Helper()
	var rows [][]string
	switch format {
	case "xlsx":
		f, err := excelize.OpenReader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("the XLSX does not open: %v", err)
		}
		if rows, err = f.GetRows(f.GetSheetName(0)); err != nil {
			t.Fatal(err)
		}
	case "csv":
		r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))))
		r.FieldsPerRecord = -1
		var err error
		if rows, err = r.ReadAll(); err != nil {
			t.Fatal(err)
		}
	}
	if len(rows) < 3 || rows[2][2] != "户编号" {
		t.Fatalf("the 台账 has no heading row: %q", rows)
	}
	var out []string
	for _, r := range rows[3:] {
		out = append(out, r[2]+"|"+r[5]+"|"+r[11])
	}
	return out
}

// consoleReports: the missed-visit page, its 台账 download and the
// worklist over plain HTTP — the page lists what the report service
// lists for the caller, a filter narrows it, the download holds exactly
// the filtered rows, bad filters are a Chinese 422 page and a cadre is
// refused the region's report.
func consoleReports(t *testing.T, e *consoleEnv) {
	ctx := context.Background()
	supervisor := e.principal(t, "supervisor")
	period := e.busyPeriod(t, supervisor)
	all := e.missedItems(t, supervisor, compliance.ReportQuery{Period: period})
	if len(all) <= 50 {
		t.Fatalf("the demo county missed %d statuses in %s; the test wants more than a page", len(all), period)
	}
	village := *all[0].VillageID
	c := e.client(t)
	csrf := c.mustLogin("supervisor")

	t.Run("a status of a village counts under the village's town", func(t *testing.T) {
		// A unit's monthly work in a village group and a cadre's own duties
		// are judged by the unit or person, not queued by a county: their
		// town was left empty, and the month's table by town showed all of
		// them as duties of no village while the village table named them.
		rates, err := e.app.Compliance.Rates(ctx, supervisor, supervisor.RegionID, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, pc := range rates {
			noTown, noVillage := int64(0), int64(0)
			for _, g := range pc.Towns {
				if g.ID == "" {
					noTown = g.Total
				}
			}
			for _, g := range pc.Villages {
				if g.ID == "" {
					noVillage = g.Total
				}
			}
			if noTown > noVillage || pc.Total.Total == 0 {
				t.Errorf("%s: %d of %d statuses counted under no town, but only %d lie in no village", pc.Period.Key(), noTown, pc.Total.Total, noVillage)
			}
		}
	})

	t.Run("an ended month is frozen from its page", func(t *testing.T) {
		month, _ := rules.PeriodOf(rules.WindowMonth, domain.DateOf(e.app.Now()).AddDays(-330))
		pageURL := "/ui/missed?period=" + month.Key()
		before := c.get(pageURL)
		if !strings.Contains(before.body, `id="close-period"`) {
			t.Fatalf("the page of %s, ended and not frozen, offers no 封账", month.Key())
		}
		region := match(t, regexp.MustCompile(`name="region" value="([0-9a-f-]+)"`), before.body)
		r := c.do("POST", "/ui/missed/close", url.Values{"csrf_token": {csrf}, "period": {month.Key()}, "region": {region}}, nil)
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("封账: %d %.300s", r.StatusCode, pageText(t, r))
		}
		after := c.get(r.Header.Get("Location"))
		if !strings.Contains(pageText(t, after), "已封账") || strings.Contains(after.body, `id="close-period"`) {
			t.Errorf("after 封账 the page reads: %.300s", pageText(t, after))
		}
		cur, _ := rules.PeriodOf(rules.WindowMonth, domain.DateOf(e.app.Now()))
		if strings.Contains(c.get("/ui/missed?period="+cur.Key()).body, `id="close-period"`) {
			t.Errorf("the current month, not ended, offers 封账")
		}
	})

	t.Run("the list is the report's, a page at a time", func(t *testing.T) {
		r := c.get("/ui/missed?period=" + period)
		ids, rows := listedHouseholds(t, r.body)
		if rows != 50 || !strings.Contains(r.body, "共 "+itoa(len(all))+" 条") {
			t.Errorf("the first page has %d rows, want 50 of %d", rows, len(all))
		}
		for i, id := range ids {
			if all[i].Status.HouseholdID.String() != id {
				t.Fatalf("row %d is household %s, the report's row %d is %s", i, id, i, all[i].Status.HouseholdID)
			}
		}
		r = c.get("/ui/missed?period=" + period + "&page=2")
		if _, rows := listedHouseholds(t, r.body); rows != len(all)-50 && rows != 50 {
			t.Errorf("the second page has %d rows of %d", rows, len(all))
		}
	})

	t.Run("a village narrows the list and the download holds exactly its rows", func(t *testing.T) {
		want := e.missedItems(t, supervisor, compliance.ReportQuery{RegionID: village, Period: period})
		if len(want) == 0 || len(want) >= len(all) {
			t.Fatalf("village %s missed %d of %d statuses", village, len(want), len(all))
		}
		query := "period=" + period + "&region=" + village.String()
		ids, rows := listedHouseholds(t, c.get("/ui/missed?"+query).body)
		if rows != len(want) || len(ids) != len(want) {
			t.Errorf("the village's list has %d rows, the report %d", rows, len(want))
		}
		var lines []string
		for _, it := range want {
			lines = append(lines, ledgerLine(it))
		}
		for _, format := range []string{"xlsx", "csv"} {
			r := c.get("/ui/missed/export?" + query + "&format=" + format)
			if r.StatusCode != http.StatusOK || !strings.Contains(r.Header.Get("Content-Disposition"), "attachment") {
				t.Fatalf("%s: %d %s", format, r.StatusCode, r.Header.Get("Content-Disposition"))
			}
			if got := ledgerLines(t, format, []byte(r.body)); strings.Join(got, "\n") != strings.Join(lines, "\n") {
				t.Errorf("the %s holds\n%s\nthe list\n%s", format, strings.Join(got, "\n"), strings.Join(lines, "\n"))
			}
		}
	})

	t.Run("every filter narrows the list and its download alike", func(t *testing.T) {
		var cadre uuid.UUID
		for _, it := range all {
			if it.CadreID != nil {
				cadre = *it.CadreID
				break
			}
		}
		for _, tt := range []struct {
			name  string
			query string
			q     compliance.ReportQuery
		}{
			{"a cadre", "cadre=" + cadre.String(), compliance.ReportQuery{CadreID: &cadre}},
			{"a poverty type", "poverty_type=" + domain.PovertyDibao, compliance.ReportQuery{PovertyType: domain.PovertyDibao}},
			{"a household status", "household_status=" + domain.StatusExited, compliance.ReportQuery{HouseholdStatus: domain.StatusExited}},
			{"a rule in every state", "rule=edge&state=all", compliance.ReportQuery{RuleCode: "edge", States: rules.States.Codes()}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				tt.q.Period = period
				want := e.missedItems(t, supervisor, tt.q)
				if len(want) == 0 || len(want) == len(all) && tt.q.States == nil {
					t.Fatalf("%s keeps %d of %d statuses: no test of narrowing", tt.query, len(want), len(all))
				}
				query := "period=" + period + "&" + tt.query
				r := c.get("/ui/missed?" + query)
				if _, rows := listedHouseholds(t, r.body); rows != min(len(want), 50) || !strings.Contains(r.body, "共 "+itoa(len(want))+" 条") {
					t.Errorf("the list shows %d rows, the report has %d", rows, len(want))
				}
				var lines []string
				for _, it := range want {
					lines = append(lines, ledgerLine(it))
				}
				if got := ledgerLines(t, "csv", []byte(c.get("/ui/missed/export?"+query+"&format=csv").body)); strings.Join(got, "\n") != strings.Join(lines, "\n") {
					t.Errorf("the CSV holds %d lines, the list %d", len(got), len(lines))
				}
			})
		}
	})

	t.Run("bad filters are answered in Chinese and never 500", func(t *testing.T) {
		for _, tt := range []struct {
			query   string
			status  int
			message string
		}{
			{"region=not-a-uuid", http.StatusUnprocessableEntity, "行政区划编号格式不正确"},
			{"cadre=42", http.StatusUnprocessableEntity, "帮扶干部编号格式不正确"},
			{"period=2026-13", http.StatusUnprocessableEntity, "期间格式"},
			{"state=lost", http.StatusUnprocessableEntity, "状态无效"},
			{"page=0", http.StatusUnprocessableEntity, "页码"},
			{"view=map", http.StatusUnprocessableEntity, "分组方式"},
			{"poverty_type=rich", http.StatusUnprocessableEntity, "贫困户属性无效"},
			{"household_status=gone", http.StatusUnprocessableEntity, "农户状态无效"},
			{"region=" + uuid.NewString(), http.StatusNotFound, "不在您的查看范围内"},
		} {
			for _, path := range []string{"/ui/missed?", "/ui/missed/export?format=xlsx&"} {
				if r := c.get(path + tt.query); r.StatusCode != tt.status || !strings.Contains(r.body, tt.message) {
					t.Errorf("%s%s: %d, want %d with %q: %.300s", path, tt.query, r.StatusCode, tt.status, tt.message, r.body)
				}
			}
		}
		if r := c.get("/ui/missed/export?format=pdf"); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, "导出格式") {
			t.Errorf("format=pdf: %d %.300s", r.StatusCode, r.body)
		}
	})

	t.Run("a cadre is refused the region's report and has their worklist", func(t *testing.T) {
		cadre := e.client(t)
		cadre.mustLogin("cadre02")
		for _, path := range []string{"/ui/missed", "/ui/missed/export?format=csv"} {
			if r := cadre.get(path); r.StatusCode != http.StatusForbidden || !strings.Contains(r.body, "无权") {
				t.Errorf("cadre02 %s: %d, want the 403 page", path, r.StatusCode)
			}
		}
		r := cadre.get("/ui/worklist")
		items, err := e.app.Compliance.Worklist(ctx, e.principal(t, "cadre02"))
		if err != nil {
			t.Fatal(err)
		}
		if r.StatusCode != http.StatusOK || !strings.Contains(r.body, "共 "+itoa(len(items))+" 条") {
			t.Errorf("cadre02's worklist: %d, want their %d items: %.600s", r.StatusCode, len(items), r.body)
		}
	})

	t.Run("an inspector reads the report with no links to cadre pages they may not open", func(t *testing.T) {
		inspector := e.client(t)
		inspector.mustLogin("inspector")
		for _, path := range []string{"/ui/missed?view=cadre&period=" + period, "/ui/missed?period=" + period, "/ui/progress"} {
			if r := inspector.get(path); r.StatusCode != http.StatusOK || strings.Contains(r.body, `href="/ui/cadres/`) {
				t.Errorf("the inspector's %s: %d, with cadre links: %v", path, r.StatusCode, strings.Contains(r.body, `href="/ui/cadres/`))
			}
		}
		if r := inspector.get("/ui/cadres/" + e.principal(t, "cadre01").UserID.String()); r.StatusCode != http.StatusForbidden {
			t.Errorf("the inspector on a cadre page: %d, want the 403 page", r.StatusCode)
		}
	})

	t.Run("the supervisor's worklist is the report's due and at-risk statuses", func(t *testing.T) {
		due := e.missedItems(t, supervisor, compliance.ReportQuery{Period: period, States: []string{rules.StateOverdue, rules.StateDueSoon}})
		risks, _, err := e.app.Compliance.Forecast(ctx, supervisor, compliance.ReportQuery{RegionID: supervisor.RegionID, Period: period})
		if err != nil {
			t.Fatal(err)
		}
		r := c.get("/ui/worklist?period=" + period)
		for _, want := range []string{`id="worklist-due"`, "共 " + itoa(len(due)) + " 条", `id="worklist-risks"`, "共 " + itoa(len(risks)) + " 条"} {
			if !strings.Contains(r.body, want) {
				t.Errorf("the worklist of %s lacks %q", period, want)
			}
		}
	})
}

func itoa(n int) string { return strconv.Itoa(n) }

// jsString quotes s for a script.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// reportsInBrowser: the missed list in Chromium — drill from the county
// to a town and a village and see the rows narrow, then download the
// village's XLSX from the page's own link with the session's cookie and
// find the rows shown; at phone width it does not scroll sideways.
func reportsInBrowser(t *testing.T, e *consoleEnv) {
	supervisor := e.principal(t, "supervisor")
	period := e.busyPeriod(t, supervisor)
	all := e.missedItems(t, supervisor, compliance.ReportQuery{Period: period})
	rowsShown := func(b *browsertest.Browser) int {
		return browsertest.Get(b, chromedp.Evaluate[int](`document.querySelectorAll("#missed-items tbody tr:not(:has(td.empty))").length`))
	}

	t.Run("supervisor drills down and downloads at 1366x768", func(t *testing.T) {
		b := browsertest.Start(t, browsertest.Desktop)
		e.signIn(b, "supervisor", demo.Password)
		b.Do(chromedp.WaitVisible(chromedp.CSS(`.who-name`)),
			chromedp.Navigate(e.url+"/ui/missed"),
			chromedp.WaitVisible(chromedp.CSS(`form.filters`)),
			chromedp.SetValue(chromedp.CSS(`select[name=period]`), period),
			chromedp.Click(chromedp.CSS(`form.filters button`)),
			chromedp.WaitVisible(chromedp.CSS(`#missed-items[data-period="`+period+`"] tbody tr`)))
		if got := rowsShown(b); got != min(len(all), 50) {
			t.Errorf("the county's list shows %d rows, want %d", got, min(len(all), 50))
		}
		b.Screenshot("missed-county")
		// Drill: the first town, then its first village.
		for _, level := range []string{"town", "village"} {
			before := browsertest.Get(b, chromedp.Evaluate[int](`document.querySelectorAll(".crumbs a").length`))
			b.Do(chromedp.Click(chromedp.CSS(`#missed-groups tbody tr:first-child a`)),
				chromedp.WaitVisible(chromedp.CSS(`.crumbs a:nth-of-type(`+itoa(before+1)+`)`)))
			region := browsertest.Get(b, chromedp.Evaluate[string](`new URL(location.href).searchParams.get("region")`))
			id, err := uuid.Parse(region)
			if err != nil {
				t.Fatalf("after the %s click the URL has region %q", level, region)
			}
			want := e.missedItems(t, supervisor, compliance.ReportQuery{RegionID: id, Period: period})
			if got := rowsShown(b); got != min(len(want), 50) {
				t.Errorf("the %s's list shows %d rows, the report %d", level, got, len(want))
			}
		}
		b.Screenshot("missed-village")
		// The page's own XLSX link, fetched by the page with its cookies.
		href := browsertest.Get(b, chromedp.Evaluate[string](`document.querySelector("#missed-items a.button[href*='format=xlsx']").getAttribute("href")`))
		encoded := browsertest.Get(b, chromedp.Evaluate[string](`fetch(`+jsString(href)+`).then(r => r.arrayBuffer()).then(b => {
			let s = ""; new Uint8Array(b).forEach(c => s += String.fromCharCode(c)); return btoa(s); })`,
			chromedp.EvalAwaitPromise))
		xlsx, err := base64.StdEncoding.DecodeString(encoded)
		if err != nil {
			t.Fatal(err)
		}
		shown := browsertest.Get(b, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#missed-items tbody tr")).map(tr => {
			const td = tr.querySelectorAll("td"); return td[2].textContent + "|" + td[4].textContent + "|" + td[10].textContent; })`))
		if got := ledgerLines(t, "xlsx", xlsx); strings.Join(got, "\n") != strings.Join(shown, "\n") {
			t.Errorf("the downloaded XLSX holds\n%s\nthe page shows\n%s", strings.Join(got, "\n"), strings.Join(shown, "\n"))
		}
		noProblems(t, b)
	})

	// The period tabs carry the county's counts: a county of 35,000
	// households has five-digit ones where the test county has three, and
	// at 360 px the demo county's quarter tab already ran 10 px off the
	// screen. So a tab is given a big county's numbers here, and must wrap
	// within the screen rather than make the page scroll sideways.
	t.Run("the missed list at phone width", func(t *testing.T) {
		for _, size := range []browsertest.Size{browsertest.Phone, browsertest.SmallPhone} {
			b := browsertest.Start(t, size)
			e.signIn(b, "supervisor", demo.Password)
			b.Do(chromedp.WaitVisible(chromedp.CSS(`.who-name`)),
				chromedp.Navigate(e.url+"/ui/missed?period="+period),
				chromedp.WaitVisible(chromedp.CSS(`#missed-items`)))
			if w := browsertest.Get(b, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > size.Width+1 {
				t.Errorf("the missed list is %d px wide at %d px: it scrolls sideways", w, size.Width)
			}
			bigCounty := browsertest.Get(b, chromedp.Evaluate[int](`(() => {
				document.querySelector(".period-tabs a:last-child").textContent = "2026年第4季度：应达标26836项，落后1250项，未完成312项";
				return document.documentElement.scrollWidth; })()`))
			if bigCounty > size.Width+1 {
				t.Errorf("with a big county's counts in a period tab the missed list is %d px wide at %d px: it scrolls sideways", bigCounty, size.Width)
			}
			b.Screenshot("missed")
			noProblems(t, b)
		}
	})
	t.Run("the progress report over from and to, a cadre's page with its chart", func(t *testing.T) {
		from, to := e.quarterSoFar()
		b := browsertest.Start(t, browsertest.Desktop)
		e.signIn(b, "supervisor", demo.Password)
		b.Do(chromedp.WaitVisible(chromedp.CSS(`.who-name`)),
			chromedp.Click(chromedp.CSS(`.nav a[href="/ui/progress"]`)),
			chromedp.WaitVisible(chromedp.CSS(`input[name=from]`)),
			chromedp.SetValue(chromedp.CSS(`input[name=from]`), from),
			chromedp.SetValue(chromedp.CSS(`input[name=to]`), to),
			chromedp.Click(chromedp.CSS(`form.filters button`)),
			chromedp.WaitVisible(chromedp.CSS(`p.summary[data-from="`+from+`"][data-to="`+to+`"]`)))
		if got := browsertest.Get(b, chromedp.Text(chromedp.CSS(`p.summary`))); !strings.Contains(got, from+" 至 "+to) {
			t.Errorf("after asking %s to %s the report reads %q", from, to, got)
		}
		b.Screenshot("progress")
		cadre01 := e.principal(t, "cadre01")
		sum, err := e.app.Compliance.CadreSummary(context.Background(), supervisor, cadre01.UserID)
		if err != nil {
			t.Fatal(err)
		}
		b.Do(chromedp.Navigate(e.url+"/ui/cadres/"+cadre01.UserID.String()),
			chromedp.WaitVisible(chromedp.CSS(`#rhythm[data-ready] canvas`)))
		if got := browsertest.Get(b, chromedp.Evaluate[int](`document.querySelectorAll("#cadre-households tbody tr:not(:has(td.empty))").length`)); got != len(sum.Households) {
			t.Errorf("cadre01's page lists %d households, the summary %d", got, len(sum.Households))
		}
		b.Screenshot("cadre")
		noProblems(t, b)
	})

	t.Run("cadre01's own page at phone width, another cadre's the 404 page", func(t *testing.T) {
		b := browsertest.Start(t, browsertest.Phone)
		e.signIn(b, "cadre01", demo.Password)
		b.Do(chromedp.WaitVisible(chromedp.CSS(`.who-name`)),
			chromedp.Navigate(e.url+"/ui/worklist"),
			chromedp.Click(chromedp.CSS(`#own-cadre-page`)),
			chromedp.WaitVisible(chromedp.CSS(`#rhythm[data-ready] canvas`)))
		if w := browsertest.Get(b, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > browsertest.Phone.Width+1 {
			t.Errorf("the cadre page is %d px wide at %d px", w, browsertest.Phone.Width)
		}
		b.Screenshot("cadre")
		other := "/ui/cadres/" + e.principal(t, "cadre02").UserID.String()
		b.Do(chromedp.Navigate(e.url+other), chromedp.WaitVisible(chromedp.CSS(`.error-page`)))
		if got := browsertest.Get(b, chromedp.Text(chromedp.CSS(`.error-page`))); !strings.Contains(got, "未找到") {
			t.Errorf("cadre01 on cadre02's page sees %q, want the 404 page", got)
		}
		b.Screenshot("other-cadre")
		noProblems(t, b, other)
	})

	t.Run("a cadre's worklist at phone width", func(t *testing.T) {
		b := browsertest.Start(t, browsertest.Phone)
		e.signIn(b, "cadre02", demo.Password)
		b.Do(chromedp.WaitVisible(chromedp.CSS(`.who-name`)),
			chromedp.Click(chromedp.CSS(`.nav a[href="/ui/worklist"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#worklist-risks`)))
		if n := browsertest.Get(b, chromedp.Evaluate[int](`document.querySelectorAll('.nav a[href="/ui/missed"]').length`)); n != 0 {
			t.Error("a cadre's nav offers the region's missed list")
		}
		if w := browsertest.Get(b, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > browsertest.Phone.Width+1 {
			t.Errorf("the worklist is %d px wide at %d px", w, browsertest.Phone.Width)
		}
		b.Screenshot("worklist")
		noProblems(t, b)
	})
}

// quarterSoFar is a progress window: the first day of the app's quarter
// to its today (the demo's rules count by quarter).
func (e *consoleEnv) quarterSoFar() (from, to string) {
	today := domain.DateOf(e.app.Now())
	q, _ := rules.PeriodOf(rules.WindowQuarter, today)
	return q.Start.String(), today.String()
}

// consoleProgressAndCadres: the progress report (半月报) over from/to and
// its download, and the cadre page's scope, over plain HTTP.
func consoleProgressAndCadres(t *testing.T, e *consoleEnv) {
	ctx := context.Background()
	supervisor := e.principal(t, "supervisor")
	c := e.client(t)
	c.mustLogin("supervisor")

	t.Run("the progress report counts within from and to, on the page and in its download", func(t *testing.T) {
		from, to := e.quarterSoFar()
		fromDay, _ := domain.ParseDate(from)
		toDay, _ := domain.ParseDate(to)
		prog, err := e.app.Compliance.Progress(ctx, supervisor, compliance.ExportQuery{ReportQuery: compliance.ReportQuery{RegionID: supervisor.RegionID},
			From: &fromDay, To: &toDay})
		if err != nil {
			t.Fatal(err)
		}
		o := prog.Overall
		r := c.get("/ui/progress?from=" + from + "&to=" + to)
		row := regexp.MustCompile(`<tr><td class="">合计</td>(.*?)</tr>`).FindStringSubmatch(r.body)
		if r.StatusCode != http.StatusOK || row == nil {
			t.Fatalf("the progress page: %d, no 合计 row: %.500s", r.StatusCode, r.body)
		}
		nums := regexp.MustCompile(`<td class="num[^"]*">([^<]*)</td>`).FindAllStringSubmatch(row[1], -1)
		window := []string{nums[len(nums)-3][1], nums[len(nums)-2][1], nums[len(nums)-1][1]}
		if want := []string{itoa(int(o.Reached)), itoa(int(o.Visits)), itoa(int(o.MetAtLast))}; strings.Join(window, ",") != strings.Join(want, ",") {
			t.Errorf("the page's window figures %v, the service's %v", window, want)
		}
		// Its download links keep the window (and no empty region).
		if want := `href="/ui/progress/export?format=xlsx&amp;from=` + from + `&amp;to=` + to + `"`; !strings.Contains(r.body, want) {
			t.Errorf("the progress page does not link its XLSX as %s", want)
		}
		x := c.get("/ui/progress/export?from=" + from + "&to=" + to + "&format=xlsx")
		f, err := excelize.OpenReader(strings.NewReader(x.body))
		if err != nil {
			t.Fatalf("the progress XLSX: %d, %v", x.StatusCode, err)
		}
		rows, _ := f.GetRows(f.GetSheetName(0))
		if !strings.Contains(rows[1][0], "时段："+from+"至"+to) {
			t.Errorf("the 台账's subtitle %q does not name the window", rows[1][0])
		}
		last := rows[len(rows)-1]
		if last[0] != "合计" || strings.Join(last[len(last)-3:], ",") != strings.Join(window, ",") {
			t.Errorf("the 台账's total %q, the page's window figures %v", last, window)
		}
		for _, tt := range []struct {
			query   string
			message string
		}{
			{"from=yesterday", "开始日期应为YYYY-MM-DD"},
			{"from=" + to + "&to=" + fromDay.AddDays(-1).String(), "日期"},
			{"region=nowhere", "行政区划编号格式不正确"},
		} {
			for _, path := range []string{"/ui/progress?", "/ui/progress/export?"} {
				if r := c.get(path + tt.query); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, tt.message) {
					t.Errorf("%s%s: %d, want 422 with %q: %.300s", path, tt.query, r.StatusCode, tt.message, r.body)
				}
			}
		}
	})

	t.Run("a cadre's page: themself and their supervisor, nobody else", func(t *testing.T) {
		cadre01, cadre02 := e.principal(t, "cadre01"), e.principal(t, "cadre02")
		sum, err := e.app.Compliance.CadreSummary(ctx, supervisor, cadre01.UserID)
		if err != nil {
			t.Fatal(err)
		}
		own := e.client(t)
		own.mustLogin("cadre01")
		for _, tt := range []struct {
			who    *consoleClient
			name   string
			id     uuid.UUID
			status int
		}{
			{c, "the supervisor, cadre01", cadre01.UserID, http.StatusOK},
			{own, "cadre01, themself", cadre01.UserID, http.StatusOK},
			{own, "cadre01, cadre02", cadre02.UserID, http.StatusNotFound},
			{own, "cadre01, the supervisor's account", supervisor.UserID, http.StatusNotFound},
			{c, "the supervisor, nobody", uuid.New(), http.StatusNotFound},
		} {
			r := tt.who.get("/ui/cadres/" + tt.id.String())
			if r.StatusCode != tt.status {
				t.Errorf("%s: %d, want %d", tt.name, r.StatusCode, tt.status)
			}
			if tt.status == http.StatusNotFound && !strings.Contains(r.body, "不在您的查看范围内") {
				t.Errorf("%s: not the Chinese 404 page: %.300s", tt.name, r.body)
			}
			if tt.status == http.StatusOK && strings.Count(r.body, `href="/ui/households/`) < len(sum.Households) {
				t.Errorf("%s: the page links fewer households than cadre01's %d", tt.name, len(sum.Households))
			}
		}
		if r := c.get("/ui/cadres/not-a-uuid"); r.StatusCode != http.StatusNotFound {
			t.Errorf("a malformed cadre id: %d, want the 404 page", r.StatusCode)
		}
	})
}
