package ledger

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/fieldvisit/fieldvisit/domain"
)

// TestXLSXCellsAreTyped: an XLSX 台账 holds dates, times, numbers and
// percentages as numbers with their formats (so Excel sums, sorts and
// filters them), links as HYPERLINK formulas, a merged title over the
// columns, a filter on the heading row, the panes frozen below it, and an
// A4 landscape print set-up that repeats the heading rows on every page.
func TestXLSXCellsAreTyped(t *testing.T) {
	at := time.Date(2026, 11, 20, 9, 30, 0, 0, domain.Shanghai)
	f := writtenXLSX(t, []string{"序号", "走访日期", "开始时间", "时长(分钟)", "达标率", "上传时间", "照片", "民情日记"}, func(tb Table) {
		for i := range 3 {
			if err := tb.Row(i+1, Day{at}, Clock{at}, 35, Percent(0.875), at, Link{Text: "查看照片(2)", URL: `https://fv.example/ui/households/x#"v"`}, "=SUM(A1)"); err != nil {
				t.Fatal(err)
			}
		}
		if err := tb.Close(); err != nil {
			t.Fatal(err)
		}
	})
	const sheet = "台账"
	numFmt := func(cell string) string {
		id, err := f.GetCellStyle(sheet, cell)
		if err != nil {
			t.Fatal(err)
		}
		st, err := f.GetStyle(id)
		if err != nil {
			t.Fatal(err)
		}
		if st.CustomNumFmt != nil {
			return *st.CustomNumFmt
		}
		return ""
	}
	for _, tt := range []struct {
		cell, raw, format string
	}{
		{"A4", "1", ""},
		{"B4", "46346", "yyyy-mm-dd"},        // 2026-11-20
		{"C4", "0.395833333333333", "hh:mm"}, // 09:30
		{"D4", "35", ""},
		{"E4", "0.875", "0.0%"},
		{"F4", "46346.3958333333", "yyyy-mm-dd hh:mm"},
	} {
		raw, err := f.GetCellValue(sheet, tt.cell, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(raw, tt.raw[:min(len(tt.raw), 10)]) {
			t.Errorf("%s holds %q, want the number %s", tt.cell, raw, tt.raw)
		}
		if typ, _ := f.GetCellType(sheet, tt.cell); typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
			t.Errorf("%s is text, want a number", tt.cell)
		}
		if got := numFmt(tt.cell); got != tt.format {
			t.Errorf("%s is formatted %q, want %q", tt.cell, got, tt.format)
		}
	}
	if formula, _ := f.GetCellFormula(sheet, "G4"); formula != `HYPERLINK("https://fv.example/ui/households/x#""v""","查看照片(2)")` {
		t.Errorf("the link cell's formula is %q", formula)
	}
	if v, _ := f.GetCellValue(sheet, "H4"); v != "=SUM(A1)" {
		t.Errorf("a note that looks like a formula reads %q", v)
	}
	if formula, _ := f.GetCellFormula(sheet, "H4"); formula != "" {
		t.Errorf("a note became the formula %q", formula)
	}
	if merged, _ := f.GetMergeCells(sheet); len(merged) != 1 || merged[0].GetStartAxis() != "A1" || merged[0].GetEndAxis() != "H1" {
		t.Errorf("merged: %v", merged)
	}
	if panes, _ := f.GetPanes(sheet); !panes.Freeze || panes.YSplit != 3 {
		t.Errorf("panes: %+v", panes)
	}
	layout, err := f.GetPageLayout(sheet)
	if err != nil {
		t.Fatal(err)
	}
	if layout.Size == nil || *layout.Size != 9 || layout.Orientation == nil || *layout.Orientation != "landscape" {
		t.Errorf("page layout: %+v", layout)
	}
	var titles, filter bool
	for _, d := range f.GetDefinedName() {
		switch d.Name {
		case "_xlnm.Print_Titles":
			titles = d.RefersTo == "'台账'!$1:$3"
		case "_xlnm._FilterDatabase":
			filter = strings.Contains(d.RefersTo, "$A$3:$H$6")
		}
	}
	if !titles || !filter {
		t.Errorf("print titles %v, filter on A3:H6 %v: %+v", titles, filter, f.GetDefinedName())
	}
}

// TestCSVSpellsTypedValues: the same values in CSV read as a person writes
// them.
func TestCSVSpellsTypedValues(t *testing.T) {
	var buf bytes.Buffer
	tb, err := New(CSV, &buf, "台账", "标题", "副标题", Columns([]string{"a", "b", "c", "d", "e"}))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 20, 1, 30, 0, 0, time.UTC) // 09:30 in Beijing
	if err := tb.Row(Day{at}, Clock{at}, Percent(0.875), at, Link{Text: "照片", URL: "https://fv.example/p"}); err != nil {
		t.Fatal(err)
	}
	if err := tb.Close(); err != nil {
		t.Fatal(err)
	}
	if last := strings.Split(strings.TrimSpace(buf.String()), "\n")[3]; last != "2026-11-20,09:30,87.5%,2026-11-20 09:30,https://fv.example/p" {
		t.Errorf("the line reads %q", last)
	}
}

// TestFenIsExactInCSV: money in fen reads as yuan with two decimals, to
// the fen, negative amounts included.
func TestFenIsExactInCSV(t *testing.T) {
	for _, tc := range []struct {
		fen  Fen
		want string
	}{{333500, "3335.00"}, {5, "0.05"}, {-150001, "-1500.01"}, {0, "0.00"}, {9_007_199_254_740_993, "90071992547409.93"}} {
		if got := cellText(tc.fen); got != tc.want {
			t.Errorf("%d fen: %q, want %q", tc.fen, got, tc.want)
		}
	}
}

// TestAFullSheetGoesOnInTheNext: a 台账 longer than a sheet holds (Excel's
// 1,048,576 rows; five data rows here) goes on in "台账 (2)", "台账 (3)"…
// under the same title, subtitle and headings, its numbers running on,
// each sheet with its own filter, frozen panes and print titles, through
// the pipelined writer as the visit 台账 uses it.
func TestAFullSheetGoesOnInTheNext(t *testing.T) {
	defer func(n int) { sheetRows = n }(sheetRows)
	sheetRows = headingRows + 5
	f := writtenXLSX(t, []string{"序号", "户主姓名"}, func(plain Table) {
		tb, stop := Pipelined(plain)
		defer stop()
		for i := range 12 {
			if err := tb.Row(i+1, "户主"+strconv.Itoa(i+1)); err != nil {
				t.Fatal(err)
			}
		}
		if err := tb.Close(); err != nil {
			t.Fatal(err)
		}
	})
	if got := f.GetSheetList(); !slices.Equal(got, []string{"台账", "台账 (2)", "台账 (3)"}) {
		t.Fatalf("sheets %q", got)
	}
	titles := map[string]string{}
	for _, d := range f.GetDefinedName() {
		if d.Name == "_xlnm.Print_Titles" {
			titles[d.Scope] = d.RefersTo
		}
	}
	next := 1
	for _, sheet := range f.GetSheetList() {
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) < headingRows+1 || len(rows) > sheetRows || rows[0][0] != "帮扶干部走访台账" || rows[1][0] != "示范县 2026年" ||
			!slices.Equal(rows[2], []string{"序号", "户主姓名"}) {
			t.Fatalf("%s: %d rows, headed %q", sheet, len(rows), rows[:min(len(rows), 3)])
		}
		for _, r := range rows[headingRows:] {
			if want := []string{strconv.Itoa(next), "户主" + strconv.Itoa(next)}; !slices.Equal(r, want) {
				t.Fatalf("%s: row %q, want %q", sheet, r, want)
			}
			next++
		}
		if panes, _ := f.GetPanes(sheet); !panes.Freeze || panes.YSplit != 3 {
			t.Errorf("%s: panes %+v", sheet, panes)
		}
		if titles[sheet] != "'"+sheet+"'!$1:$3" {
			t.Errorf("%s: print titles %q", sheet, titles[sheet])
		}
	}
	if next != 13 {
		t.Fatalf("read back %d rows, wrote 12", next-1)
	}
}

// writtenXLSX reads back the workbook of a 台账 "台账" titled 帮扶干部走访台账
// with headings, which write fills and closes.
func writtenXLSX(t *testing.T, headings []string, write func(Table)) *excelize.File {
	t.Helper()
	var buf bytes.Buffer
	tb, err := New(XLSX, &buf, "台账", "帮扶干部走访台账", "示范县 2026年", Columns(headings))
	if err != nil {
		t.Fatal(err)
	}
	write(tb)
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// spillWatch is a download that, when the zipped workbook first reaches
// it, lists what is in the spill directory.
type spillWatch struct {
	dir     string
	written int
	seen    []string
	t       *testing.T
}

func (w *spillWatch) Write(p []byte) (int, error) {
	if w.written == 0 {
		entries, err := os.ReadDir(w.dir)
		if err != nil {
			w.t.Fatal(err)
		}
		for _, e := range entries {
			w.seen = append(w.seen, e.Name())
		}
	}
	w.written += len(p)
	return len(p), nil
}

// TestRowsSpillWhereTheyAreTold: past excelize's 16 MB in memory, an XLSX
// table's rows wait in a temporary file in the directory SpillTo names
// (the server's own, which it empties at start), not in the system's,
// where a server killed mid-export left them; the file is gone once the
// table is closed.
func TestRowsSpillWhereTheyAreTold(t *testing.T) {
	dir := t.TempDir()
	w := &spillWatch{dir: dir, t: t}
	tb, err := New(XLSX, w, "台账", "帮扶干部走访台账", "示范县", Columns([]string{"序号", "民情日记"}), SpillTo(dir))
	if err != nil {
		t.Fatal(err)
	}
	note := strings.Repeat("入户走访，了解家庭收入和两不愁三保障情况。", 40) // about 2.4 KB of XML a row
	for i := range 8000 {                               // about 19 MB: past the 16 MB kept in memory
		if err := tb.Row(i+1, note); err != nil {
			t.Fatal(err)
		}
	}
	if err := tb.Close(); err != nil {
		t.Fatal(err)
	}
	if len(w.seen) != 1 || !strings.HasPrefix(w.seen[0], "excelize-") {
		t.Errorf("while the workbook was written, the spill directory held %q; want the rows' one temporary file", w.seen)
	}
	if left, err := os.ReadDir(dir); err != nil || len(left) != 0 {
		t.Errorf("after Close the spill directory holds %v (%v)", left, err)
	}
}

// failAfter is a download whose client goes away after n bytes.
type failAfter struct{ n int }

func (w *failAfter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errors.New("write: broken pipe")
	}
	w.n -= len(p)
	return len(p), nil
}

// TestAnAbortedExportLeavesNoSpillFile: an XLSX table whose rows spilled
// to a temporary file removes it on every way a download (Stream) ends —
// the rows given up midway (a cancelled context, a failed read: the table
// is never closed), pipelined or not, and the download cut while the
// workbook is written — not at the next start.
func TestAnAbortedExportLeavesNoSpillFile(t *testing.T) {
	note := strings.Repeat("入户走访，了解家庭收入和两不愁三保障情况。", 40) // about 2.4 KB of XML a row
	cases := []struct {
		name     string
		w        io.Writer
		pipeline bool
		giveUp   error // what the rows end with; nil: all written, then the download is cut
	}{
		{name: "rows given up", w: io.Discard, giveUp: errors.New("context canceled")},
		{name: "pipelined rows given up", w: io.Discard, pipeline: true, giveUp: errors.New("context canceled")},
		{name: "download cut after 64 KB", w: &failAfter{n: 64 << 10}},
		{name: "pipelined download cut after 64 KB", w: &failAfter{n: 64 << 10}, pipeline: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			opts := []Option{SpillTo(dir)}
			if c.pipeline {
				opts = append(opts, InPipeline())
			}
			write, err := Stream(XLSX, "台账", "帮扶干部走访台账", "示范县", Columns([]string{"序号", "民情日记"}), func(tb Table) error {
				for i := range 8000 { // about 19 MB: past the 16 MB kept in memory
					if err := tb.Row(i+1, note); err != nil {
						return err
					}
				}
				if entries, _ := os.ReadDir(dir); len(entries) == 0 && !c.pipeline {
					t.Fatal("the rows did not spill: the test shows nothing")
				}
				return c.giveUp
			}, opts...)
			if err != nil {
				t.Fatal(err)
			}
			if err := write(c.w); err == nil {
				t.Fatal("the export succeeded; want it to fail")
			}
			if left, err := os.ReadDir(dir); err != nil || len(left) != 0 {
				t.Errorf("after the failed export the spill directory holds %v (%v); want it empty", left, err)
			}
		})
	}
}

// TestAnUnusableSpillDirectoryIsRefused: excelize keeps the rows in
// memory, unbounded, when it cannot make its temporary file; a table is
// refused instead (unavailable, the directory named in the log alone) — here a path whose
// parent is a file, which even root cannot make a file under.
func TestAnUnusableSpillDirectoryIsRefused(t *testing.T) {
	file := filepath.Join(t.TempDir(), "tmp")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{file, filepath.Join(file, "sub"), filepath.Join(t.TempDir(), "missing", "tmp")} {
		_, err := New(XLSX, io.Discard, "台账", "帮扶干部走访台账", "示范县", Columns([]string{"序号"}), SpillTo(dir))
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != domain.CodeUnavailable || !strings.Contains(de.Error(), dir) ||
			strings.Contains(de.Message, dir) || strings.Contains(de.MessageZH, dir) {
			t.Errorf("a table spilling to %s: %v; want unavailable, the directory named in the log and not in the answer", dir, err)
		}
		if err := Ready(XLSX, dir); !domain.IsCode(err, domain.CodeUnavailable) {
			t.Errorf("Ready(xlsx, %s) = %v; want unavailable", dir, err)
		}
		if err := Ready(CSV, dir); err != nil {
			t.Errorf("Ready(csv, %s) = %v; a CSV table spills nothing", dir, err)
		}
	}
	if err := Ready(XLSX, t.TempDir()); err != nil {
		t.Errorf("Ready(xlsx, a writable directory) = %v", err)
	}
}
