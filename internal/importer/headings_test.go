package importer_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/fieldvisit/fieldvisit/internal/importer"
)

// headingCase is one file whose headings are not one plain row, and the
// errors (row, column, reason) its import must report; check, when set,
// looks at what else the report and the database say.
type headingCase struct {
	name  string
	file  func(t *testing.T) []byte
	want  []errKey
	check func(t *testing.T, e *env, rep importer.Report)
}

// withoutSubHeadings is the sample with 帮扶责任人 merged over its four
// columns and the sub-heading row deleted: 帮扶责任人电话, 帮扶单位 and 职级
// hold data under empty headings.
func withoutSubHeadings() ([]string, [][]string) {
	header := slices.Clone(sampleHeader)
	header[cCadrePhone], header[cUnit], header[cRank] = "", "", ""
	return header, sampleRows()
}

// TestHeadings: a column is never dropped without a word, and a group
// heading over sub-headings (两行表头) is read as the columns it names.
func TestHeadings(t *testing.T) {
	nothingWritten := func(t *testing.T, e *env, rep importer.Report) {
		t.Helper()
		if rep.Applied || e.rowCounts(t)["households"] != 0 || e.rowCounts(t)["users"] != 2 {
			t.Errorf("written: applied %v, rows %v", rep.Applied, e.rowCounts(t))
		}
		for _, er := range rep.Errors {
			if er.Reason == "unnamed_column" && !strings.Contains(er.MessageZH, er.Column+"有数据") {
				t.Errorf("message %q does not name %s", er.MessageZH, er.Column)
			}
		}
	}
	cases := []headingCase{
		{
			name:  "CSV: columns with data but an empty heading are errors naming their letters, and nothing is written",
			file:  func(t *testing.T) []byte { h, rows := withoutSubHeadings(); return writeCSV(t, h, rows) },
			want:  []errKey{{1, "第X列", "unnamed_column"}, {1, "第Y列", "unnamed_column"}, {1, "第Z列", "unnamed_column"}},
			check: nothingWritten,
		},
		{
			name:  "XLSX below a title: the same, on the heading row 2",
			file:  func(t *testing.T) []byte { h, rows := withoutSubHeadings(); return writeXLSX(t, h, rows) },
			want:  []errKey{{2, "第X列", "unnamed_column"}, {2, "第Y列", "unnamed_column"}, {2, "第Z列", "unnamed_column"}},
			check: nothingWritten,
		},
		{
			name: "an empty heading over an empty column is no problem",
			file: func(t *testing.T) []byte {
				header, rows := withoutSubHeadings()
				for _, r := range rows {
					r[cCadrePhone], r[cUnit], r[cRank] = "", "", ""
				}
				return writeCSV(t, header, rows)
			},
		},
	}
	var ic []importCase
	for _, c := range cases {
		ic = append(ic, importCase{c.name, func(t *testing.T, e *env) {
			rep := e.run(t, c.file(t))
			if got, want := errKeys(rep.Errors), errKeys(toErrs(c.want)); !slices.Equal(got, want) {
				t.Errorf("errors\n got %+v\nwant %+v\n(%+v)", got, want, rep.Errors)
			}
			if c.check != nil {
				c.check(t, e, rep)
			}
		}})
	}
	runCases(t, ic)
}
