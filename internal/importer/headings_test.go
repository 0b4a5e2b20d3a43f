package importer_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

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

// twoRowHeadings is the sample's headings as the national system exports
// them: 家庭成员信息 over 与户主关系/姓名/性别/身份证号 and 帮扶责任人 over
// 姓名/联系电话/帮扶单位/职级, the other headings on the first row only.
func twoRowHeadings() (top, sub []string) {
	top, sub = slices.Clone(sampleHeader), make([]string, len(sampleHeader))
	for i, h := range []string{"与户主关系", "姓名", "性别", "身份证号"} {
		top[cRelation+i], sub[cRelation+i] = "", h
	}
	top[cRelation] = "家庭成员信息"
	for i, h := range []string{"姓名", "联系电话", "帮扶单位", "职级"} {
		top[cCadre+i], sub[cCadre+i] = "", h
	}
	top[cCadre] = "帮扶责任人"
	return top, sub
}

// writeTwoRowXLSX writes a title, the two heading rows with their cells
// merged as offices merge them (groups across, the rest down), and rows.
func writeTwoRowXLSX(t *testing.T, top, sub []string, rows [][]string) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sh := "Sheet1"
	name := func(c, r int) string { n, _ := excelize.CoordinatesToCellName(c+1, r); return n }
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.SetCellStr(sh, "A1", "示范县建档立卡贫困户信息台账"))
	must(f.MergeCell(sh, "A1", "H1"))
	for i := range top {
		if top[i] != "" {
			must(f.SetCellStr(sh, name(i, 2), top[i]))
		}
		if sub[i] != "" {
			must(f.SetCellStr(sh, name(i, 3), sub[i]))
		}
		switch {
		case top[i] != "" && sub[i] == "":
			must(f.MergeCell(sh, name(i, 2), name(i, 3)))
		case top[i] != "":
			end := i
			for end+1 < len(top) && top[end+1] == "" {
				end++
			}
			must(f.MergeCell(sh, name(i, 2), name(end, 2)))
		}
	}
	for r, row := range rows {
		for i, v := range row {
			if v != "" {
				must(f.SetCellStr(sh, name(i, r+4), v))
			}
		}
	}
	b, err := f.WriteToBuffer()
	must(err)
	return b.Bytes()
}

// theSampleImported: the two-row file imported as the one-row sample does.
func theSampleImported(t *testing.T, e *env, rep importer.Report) {
	t.Helper()
	wantFirstImport(t, rep)
	if len(rep.Warnings) != 0 {
		t.Errorf("warnings: %+v", rep.Warnings)
	}
	wf, _ := e.cadre(t, "13900000002")
	if wf.DisplayName != "王芳" || wf.Phone != "13900000002" || wf.UnitID == nil || wf.Rank == "" {
		t.Errorf("王芳 from the sub-headings: %+v", wf)
	}
	if ms := e.members(t, e.households(t)["王建国"]); len(ms) != 4 {
		t.Errorf("王建国's household has %d members, want 4", len(ms))
	}
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
		{
			name: "XLSX with merged two-row headings (家庭成员信息, 帮扶责任人 over their sub-headings) imports as the one-row sample",
			file: func(t *testing.T) []byte {
				top, sub := twoRowHeadings()
				return writeTwoRowXLSX(t, top, sub, sampleRows())
			},
			check: theSampleImported,
		},
		{
			name: "CSV with two heading rows: the same, and rows are numbered below both",
			file: func(t *testing.T) []byte {
				top, sub := twoRowHeadings()
				return writeCSV(t, top, append([][]string{sub}, sampleRows()...))
			},
			check: theSampleImported,
		},
		{
			name: "CSV with two heading rows and an error: its row is the spreadsheet's, its column the sub-heading's",
			file: func(t *testing.T) []byte {
				top, sub := twoRowHeadings()
				rows := sampleRows()
				rows[1][cID] = badCheck(rows[1][cID])
				rows[0][cCadrePhone] = "12ab"
				return writeCSV(t, top, append([][]string{sub}, rows...))
			},
			want:  []errKey{{4, "身份证号", "invalid_check_digit"}, {3, "帮扶责任人联系电话", "invalid_format"}},
			check: nothingWritten,
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
