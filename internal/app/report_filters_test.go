package app

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
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
