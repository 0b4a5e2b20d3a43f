package app

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/wire"
)

// reportNow is the clock of the report tests: Friday 20 November 2026, so
// the fourth quarter holds visits of October and of both halves of
// November.
var reportNow = time.Date(2026, 11, 20, 10, 0, 0, 0, domain.Shanghai)

// visitOn records, through the phone's sync, a visit by the token's cadre
// to the household at 10:00 on day (YYYY-MM-DD).
func (e *testEnv) visitOn(t *testing.T, tok string, household uuid.UUID, day string) uuid.UUID {
	t.Helper()
	d, err := domain.ParseDate(day)
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.New()
	e.push(t, tok, uuid.NewString(), batch("test-phone", e.app.Now(), visitAt(id, household, d.Start().Add(10*time.Hour), domain.KindAssist))).pushResult(t)
	return id
}

// ledgerRows reads a 台账 download in either format as rows of cells: the
// title, the subtitle, the headings, then the lines.
func ledgerRows(t *testing.T, format string, r response) [][]string {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("ledger: %d %s", r.Status, r.Body)
	}
	if format != "csv" {
		return xlsxRows(t, r.Body)
	}
	cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.Body, []byte("\uFEFF"))))
	cr.FieldsPerRecord = -1
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("not a CSV file: %v: %.200q", err, r.Body)
	}
	return rows
}

// column returns the cells of the line whose first cell is first, keyed
// by the headings.
func column(t *testing.T, rows [][]string, first string) map[string]string {
	t.Helper()
	for _, row := range rows[3:] {
		if row[0] == first {
			out := map[string]string{}
			for i, h := range rows[2] {
				if i < len(row) {
					out[h] = row[i]
				}
			}
			return out
		}
	}
	t.Fatalf("no line %q in %q", first, rows)
	return nil
}

// assertRefused checks that a GET answers 422 naming field.
func (e *testEnv) assertRefused(t *testing.T, tok, path, field string) {
	t.Helper()
	r := e.do(t, "GET", path, tok, nil)
	if r.Status != http.StatusUnprocessableEntity {
		t.Errorf("%s: %d, want 422 naming %s", path, r.Status, field)
		return
	}
	if !r.problem(t).hasField(field) {
		t.Errorf("%s: %s does not name %s", path, r.Body, field)
	}
}

// TestProgressExportWindow: the progress report (走访进度表, run on any
// days it is the 半月报) counts, besides the states as of today, the visits
// of the asked days: from and to choose them within the period (default:
// the period so far), and a bad window is refused naming the field.
func TestProgressExportWindow(t *testing.T) {
	dialectsAt(t, reportNow, func(t *testing.T, e *testEnv) {
		cadre, admin := e.login(t, "cadre-a"), e.login(t, "admin")
		e.pairSinceLastYear(t)
		for _, day := range []string{"2026-10-10", "2026-11-05", "2026-11-18"} {
			e.visitOn(t, cadre, e.householdA.Household.ID, day)
		}
		e.judgeCompliance(t)
		progress := "/api/v1/exports/progress?region_id=" + e.county.ID.String()
		for _, tc := range []struct {
			name, query, window            string
			met, reached, visits, metByEnd string
		}{
			{"the quarter so far", "&period=2026-Q4", "2026-10-01至2026-11-20", "1", "1", "3", "1"},
			{"the first half of November", "&period=2026-Q4&from=2026-11-01&to=2026-11-15", "2026-11-01至2026-11-15", "1", "1", "1", "1"},
			{"October's first days, before any visit", "&period=2026-Q4&from=2026-10-01&to=2026-10-09", "2026-10-01至2026-10-09", "1", "0", "0", "0"},
			{"from alone runs to today", "&period=2026-Q4&from=2026-11-16", "2026-11-16至2026-11-20", "1", "1", "1", "1"},
			{"without a period, the quarter holding the days", "&from=2026-10-01&to=2026-11-30", "2026-10-01至2026-11-30", "1", "1", "3", "1"},
		} {
			for _, format := range []string{"xlsx", "csv"} {
				r := e.do(t, "GET", progress+tc.query+"&format="+format, admin, nil)
				rows := ledgerRows(t, format, r)
				total := column(t, rows, "合计")
				if !strings.Contains(rows[1][0], tc.window) {
					t.Errorf("%s (%s): subtitle %q does not name the days %s", tc.name, format, rows[1][0], tc.window)
				}
				got := []string{total["已达标"], total["时段内有走访"], total["时段内计入次数"], total["时段末已达标"]}
				if want := []string{tc.met, tc.reached, tc.visits, tc.metByEnd}; !slices.Equal(got, want) {
					t.Errorf("%s (%s): met, reached, visits, met by the end = %q, want %q", tc.name, format, got, want)
				}
			}
		}

		before := e.counts(t)
		for _, tc := range []struct{ query, field string }{
			{"&period=2026-Q4&from=2026-11-15&to=2026-11-01", "to"},
			{"&period=2026-Q4&from=2026-11-31", "from"},
			{"&period=2026-Q4&to=20261115", "to"},
			{"&period=2026-11&from=2026-10-25", "from"},
			{"&period=2026-11&to=2026-12-01", "to"},
			{"&from=2025-01-01&to=2026-06-30", "to"},
			{"&from=2025-12-01&to=2026-01-31", "to"},
		} {
			e.assertRefused(t, admin, progress+tc.query, tc.field)
		}
		sameCounts(t, before, e.counts(t))
	})
}

// reportCounty adds to the small county what the report filters tell
// apart: in village A, 王五 (an ordinary-poverty household paired with a
// new cadre C) and 赵六 (an exited dibao household paired with cadre A);
// cadre A visited 张三 on 5 November. Cadre B and 李四 are in village B.
type reportCounty struct {
	cadreC           domain.User
	wangWu, zhaoLiu  uuid.UUID
	visitOfHousehold uuid.UUID
}

func (e *testEnv) reportCounty(t *testing.T) reportCounty {
	t.Helper()
	e.pairSinceLastYear(t)
	c := reportCounty{cadreC: e.addUser(t, "cadre-c", domain.RoleCadre, e.villageA, nil, domain.RankStaff)}
	c.wangWu = e.fixture.AddHouseholdOfType(t, e.app.Registry, e.villageA, "王五", "41012219800101003", domain.PovertyOrdinary).Household.ID
	c.zhaoLiu = e.addHousehold(t, e.villageA, "赵六", "41012219600101004").Household.ID
	e.pair(t, c.wangWu, c.cadreC.ID)
	e.pair(t, c.zhaoLiu, e.cadreA.ID)
	e.setStatus(t, c.zhaoLiu, domain.StatusExited)
	c.visitOfHousehold = e.visitOn(t, e.login(t, "cadre-a"), e.householdA.Household.ID, "2026-11-05")
	e.judgeCompliance(t)
	return c
}

// householdNames are the household names of a report's items.
func householdNames(rep wire.ComplianceReport) []string {
	var out []string
	for _, it := range rep.Items.Items {
		out = append(out, it.HouseholdName)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// ledgerColumn is one column of a 台账's lines, by its heading, sorted
// and without repeats.
func ledgerColumn(rows [][]string, heading string) []string {
	i := slices.Index(rows[2], heading)
	var out []string
	for _, row := range rows[3:] {
		if i >= 0 && i < len(row) {
			out = append(out, row[i])
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestReportFilters: the missed-visit report narrows by cadre, poverty
// type, household status and state, its counts and items alike, and its
// exports (missed list, progress, visit 台账; XLSX and CSV) by the same
// filters. A cadre outside the caller's region answers exactly what an
// unknown id does: an empty report.
func TestReportFilters(t *testing.T) {
	dialectsAt(t, reportNow, func(t *testing.T, e *testEnv) {
		c := e.reportCounty(t)
		admin := e.login(t, "admin")
		all := "&state=met,on_track,due_soon,overdue,missed"
		report := func(tok, region, query string) (wire.ComplianceReport, response) {
			t.Helper()
			var rep wire.ComplianceReport
			if !strings.Contains(query, "period=") {
				query += "&period=2026-Q4"
			}
			r := e.do(t, "GET", "/api/v1/compliance/missed?limit=200&region_id="+region+query, tok, nil)
			if r.Status != http.StatusOK {
				t.Fatalf("report %s: %d %s", query, r.Status, r.Body)
			}
			r.json(t, &rep)
			return rep, r
		}
		county := e.county.ID.String()
		for _, tc := range []struct {
			name, query string
			households  []string
			visited     []string // households in the visit 台账
		}{
			{"no filter", all, []string{"张三", "李四", "王五", "赵六"}, []string{"张三"}},
			{"cadre A", all + "&cadre_id=" + e.cadreA.ID.String(), []string{"张三", "赵六"}, []string{"张三"}},
			{"cadre C", all + "&cadre_id=" + c.cadreC.ID.String(), []string{"王五"}, nil},
			{"ordinary poverty", all + "&poverty_type=ordinary", []string{"王五"}, nil},
			{"dibao and still registered", all + "&poverty_type=dibao&household_status=registered", []string{"张三", "李四"}, []string{"张三"}},
			{"exited", all + "&household_status=exited", []string{"赵六"}, nil},
			{"met", "&state=met", []string{"张三"}, []string{"张三"}},
			{"cadre A, not yet met", "&state=on_track,due_soon,overdue,missed&cadre_id=" + e.cadreA.ID.String(), []string{"赵六"}, []string{"张三"}},
			{"an unknown cadre", all + "&cadre_id=" + uuid.NewString(), nil, nil},
		} {
			rep, _ := report(admin, county, tc.query)
			if got := householdNames(rep); !slices.Equal(got, tc.households) {
				t.Errorf("%s: households %q, want %q", tc.name, got, tc.households)
			}
			if rep.Items.Total != int64(len(rep.Items.Items)) || (strings.HasPrefix(tc.query, all) && rep.Total.Total != rep.Items.Total) {
				t.Errorf("%s: counts %+v do not match the %d items", tc.name, rep.Total, rep.Items.Total)
			}
			for _, format := range []string{"xlsx", "csv"} {
				exports := "?period=2026-Q4&format=" + format + "&region_id=" + county + tc.query
				missed := ledgerRows(t, format, e.do(t, "GET", "/api/v1/exports/missed"+exports, admin, nil))
				if got := ledgerColumn(missed, "户主姓名"); !slices.Equal(got, tc.households) {
					t.Errorf("%s: the missed list (%s) lists %q, want %q", tc.name, format, got, tc.households)
				}
				// Each export takes the report's filters it applies and no
				// other (an unknown parameter is a 422): the progress report
				// counts every state, the visit 台账 lists visits, not rules.
				progress := ledgerRows(t, format, e.do(t, "GET", "/api/v1/exports/progress"+without(exports, "state"), admin, nil))
				if got, want := column(t, progress, "合计")["应走访户次"], strconv.FormatInt(rep.Total.Total, 10); got != want {
					t.Errorf("%s: the progress report (%s) counts %s statuses, the report %s", tc.name, format, got, want)
				}
				visits := ledgerRows(t, format, e.do(t, "GET", "/api/v1/exports/visits"+without(exports, "state", "rule", "live"), admin, nil))
				if got := ledgerColumn(visits, "户主姓名"); !slices.Equal(got, tc.visited) {
					t.Errorf("%s: the visit ledger (%s) lists %q, want %q", tc.name, format, got, tc.visited)
				}
			}
		}

		// A closed period's frozen figures narrow as its live ones do.
		if r := e.do(t, "POST", "/api/v1/compliance/closes", admin, map[string]any{"region_id": e.county.ID, "period": "2026-Q3"}); r.Status != http.StatusCreated {
			t.Fatalf("close the third quarter: %d %s", r.Status, r.Body)
		}
		for _, query := range []string{all, all + "&cadre_id=" + e.cadreA.ID.String(), all + "&household_status=exited", all + "&poverty_type=ordinary"} {
			frozen, _ := report(admin, county, query+"&period=2026-Q3")
			live, _ := report(admin, county, query+"&period=2026-Q3&live=true")
			if !frozen.Frozen || live.Frozen || !slices.Equal(householdNames(frozen), householdNames(live)) || frozen.Total != live.Total {
				t.Errorf("%s in the closed quarter: frozen %q %+v, live %q %+v", query, householdNames(frozen), frozen.Total, householdNames(live), live.Total)
			}
			if query == all && len(frozen.Items.Items) == 0 {
				t.Error("the closed quarter froze no status: the comparison above says nothing")
			}
		}

		// Another region's cadre is an unknown cadre: the same answer, byte
		// for byte, wherever the supervisor looks.
		supervisorB, villageB := e.login(t, "supervisor-b"), e.villageB.ID.String()
		foreign, foreignAnswer := report(supervisorB, villageB, all+"&cadre_id="+e.cadreA.ID.String())
		_, unknownAnswer := report(supervisorB, villageB, all+"&cadre_id=00000000-0000-4000-8000-000000000000")
		if !bytes.Equal(foreignAnswer.Body, unknownAnswer.Body) {
			t.Errorf("a foreign cadre answers\n%s\nan unknown one\n%s", foreignAnswer.Body, unknownAnswer.Body)
		}
		if foreign.Total.Total != 0 || len(foreign.Items.Items) != 0 || len(foreign.Cadres) != 0 {
			t.Errorf("a foreign cadre's report is not empty: %s", foreignAnswer.Body)
		}
		// A cadre's own visit 台账 naming another cadre is empty.
		cadreA := e.login(t, "cadre-a")
		rows := ledgerRows(t, "csv", e.do(t, "GET", "/api/v1/exports/visits?format=csv&period=2026-Q4&region_id="+e.villageA.ID.String()+"&cadre_id="+c.cadreC.ID.String(), cadreA, nil))
		if len(rows) != 3 {
			t.Errorf("cadre A's ledger naming cadre C: %q", rows)
		}

		before := e.counts(t)
		for _, route := range []string{"/api/v1/compliance/missed", "/api/v1/compliance/forecast", "/api/v1/exports/missed", "/api/v1/exports/progress", "/api/v1/exports/visits"} {
			for _, tc := range []struct{ query, field string }{
				{"&cadre_id=cadre-a", "cadre_id"},
				{"&cadre_id=" + strings.ToUpper(e.cadreA.ID.String()[:35]), "cadre_id"},
				{"&poverty_type=rich", "poverty_type"},
				{"&household_status=gone", "household_status"},
			} {
				e.assertRefused(t, admin, route+"?period=2026-Q4&region_id="+county+tc.query, tc.field)
			}
		}
		sameCounts(t, before, e.counts(t))
	})
}

// without is query ("?a=1&b=2") less the named parameters.
func without(query string, names ...string) string {
	v, err := url.ParseQuery(strings.TrimPrefix(query, "?"))
	if err != nil {
		panic(err)
	}
	for _, n := range names {
		v.Del(n)
	}
	return "?" + v.Encode()
}
