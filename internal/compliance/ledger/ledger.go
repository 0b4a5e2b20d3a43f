// Package ledger owns the spreadsheet forms county offices file (台账): a
// titled table written row by row as streaming XLSX (excelize's
// StreamWriter, so a county's year of visits never sits in memory as cells)
// or as CSV with a byte-order mark, which Excel needs to read Chinese. It
// knows nothing of where the rows come from.
package ledger

import (
	"archive/zip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/fieldvisit/fieldvisit/domain"
)

// Formats a table can be written in.
const (
	XLSX = "xlsx"
	CSV  = "csv"
)

// ContentType is the media type of a format.
func ContentType(format string) string {
	if format == CSV {
		return "text/csv; charset=utf-8"
	}
	return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
}

// Column is one column: its Chinese heading and width in characters.
type Column struct {
	Heading string
	Width   float64
}

// Columns pairs headings with widths (a missing width is automatic).
func Columns(headings []string, widths ...float64) []Column {
	out := make([]Column, len(headings))
	for i, h := range headings {
		out[i].Heading = h
		if i < len(widths) {
			out[i].Width = widths[i]
		}
	}
	return out
}

// Table receives a form's rows; Close finishes the file. Abort releases
// what a table holds without finishing it: an XLSX table's rows past 16 MB
// wait in a temporary file, which only Close or Abort removes, so a caller
// defers Abort right after New, and an export that fails midway (the
// client gone, its context cancelled) leaves no file behind. After Close,
// Abort does nothing.
type Table interface {
	Row(values ...any) error
	Close() error
	Abort()
}

// The typed values a row may hold besides text and numbers (int, int64,
// float64): an XLSX file writes each as a number with its format, so a
// county office can sum, sort and filter them; CSV spells them as text.
type (
	// Day is a calendar day (its date as it reads in Asia/Shanghai).
	Day struct{ time.Time }
	// Clock is a time of day (hh:mm).
	Clock struct{ time.Time }
	// Percent is a share, 0 to 1, written as a percentage.
	Percent float64
	// Link is text that opens URL (an absolute address).
	Link struct{ Text, URL string }
	// Fen is an amount of money in fen, written in yuan with two
	// decimals: exact as CSV text, a number formatted 0.00 in XLSX.
	Fen int64
)

// wall is t's wall clock in Asia/Shanghai as a UTC instant: a spreadsheet
// cell holds no zone, and a county office reads Beijing time.
func wall(t time.Time) time.Time {
	l := t.In(domain.Shanghai)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), 0, time.UTC)
}

// Option sets how a table is written.
type Option func(*options)

type options struct {
	spillDir  string
	pipelined bool
}

// SpillTo names the directory where an XLSX table's rows wait once past
// 16 MB in memory (excelize's stream writer spills them to a temporary
// file there until Close); "" is the system's temporary directory. A
// server gives one it owns and empties at start, so that a server killed
// mid-export leaves no such file behind for long.
func SpillTo(dir string) Option { return func(o *options) { o.spillDir = dir } }

// InPipeline has Stream write the table's rows on a goroutine of their own
// (Pipelined), for a table of a million rows.
func InPipeline() Option { return func(o *options) { o.pipelined = true } }

// Stream is a download's table: it checks now that a table in format can
// be written (Ready: refused now it is a 503, once the download began only
// a cut) and returns the download's writer, which starts the table on the
// response (New), has fill write its rows and closes it; on any other path
// the table's temporary files go with it (Abort).
func Stream(format, sheet, title, subtitle string, cols []Column, fill func(Table) error, opts ...Option) (func(io.Writer) error, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if err := Ready(format, o.spillDir); err != nil {
		return nil, err
	}
	return func(w io.Writer) error {
		t, err := New(format, w, sheet, title, subtitle, cols, opts...)
		if err != nil {
			return err
		}
		defer t.Abort() // after Close, nothing
		if o.pipelined {
			var stop func()
			t, stop = Pipelined(t)
			defer stop()
		}
		if err := fill(t); err != nil {
			return err
		}
		return t.Close()
	}, nil
}

// New starts a table in format on w: a title line, a line saying what it
// covers (region, period, when it was made), then the headings.
func New(format string, w io.Writer, sheet, title, subtitle string, cols []Column, opts ...Option) (Table, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	switch format {
	case CSV:
		return newCSV(w, title, subtitle, cols)
	case XLSX, "":
		// Refused rather than written all in memory (CheckSpillDir).
		if err := CheckSpillDir(o.spillDir); err != nil {
			return nil, err
		}
		return newXLSX(w, sheet, title, subtitle, cols, o.spillDir)
	}
	return nil, fmt.Errorf("ledger: unknown format %q", format)
}

type csvTable struct {
	w   *csv.Writer
	rec []string // a row's cells, reused: the csv writer keeps none
}

func newCSV(w io.Writer, title, subtitle string, cols []Column) (*csvTable, error) {
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return nil, err
	}
	t := &csvTable{w: csv.NewWriter(w)}
	headings := make([]string, len(cols))
	for i, c := range cols {
		headings[i] = c.Heading
	}
	for _, rec := range [][]string{{title}, {subtitle}, headings} {
		if err := t.w.Write(rec); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (t *csvTable) Row(values ...any) error {
	rec := t.rec[:0]
	for _, v := range values {
		if s, text := v.(string); text {
			rec = append(rec, defuse(s))
		} else {
			rec = append(rec, cellText(v))
		}
	}
	t.rec = rec
	return t.w.Write(rec)
}

// Abort: a CSV table holds nothing but its writer's buffer.
func (t *csvTable) Abort() {}

func (t *csvTable) Close() error {
	t.w.Flush()
	return t.w.Error()
}

// defuse keeps a cadre's text from being read as a formula when the CSV is
// opened in a spreadsheet (CSV injection): text starting with = + - @ or a
// control character gets a leading apostrophe, which spreadsheets hide.
// XLSX cells are written as strings and need nothing.
func defuse(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// cellText spells a value as a person reads it in a cell.
func cellText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case time.Time:
		return x.In(domain.Shanghai).Format("2006-01-02 15:04")
	case Day:
		return x.In(domain.Shanghai).Format(time.DateOnly)
	case Clock:
		return x.In(domain.Shanghai).Format("15:04")
	case Percent:
		return strconv.FormatFloat(float64(x)*100, 'f', 1, 64) + "%"
	case Link:
		return x.URL
	case Fen:
		sign, fen := "", int64(x)
		if fen < 0 {
			sign, fen = "-", -fen
		}
		return fmt.Sprintf("%s%d.%02d", sign, fen/100, fen%100)
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v)
}

type xlsxTable struct {
	out             io.Writer
	f               *excelize.File
	sw              *excelize.StreamWriter
	base, sheet     string // the first sheet's name, the sheet being written
	sheets          int
	title, subtitle string
	columns         []Column
	next            int
	bold, head      int
	// Styles of the typed cells.
	day, clock, stamp, percent, link, money int
}

// headingRows are the rows above the data: title, subtitle, headings.
const headingRows = 3

// sheetRows is how many rows a sheet holds (Excel's limit): a 台账 longer
// than that goes on in a sheet after it, "走访台账 (2)" and so on, under the
// same headings, its numbers running on. A variable for the tests.
var sheetRows = excelize.TotalRows

func newXLSX(w io.Writer, sheet, title, subtitle string, cols []Column, spillDir string) (*xlsxTable, error) {
	// Options replace excelize's defaults whole: its limits are given back.
	f := excelize.NewFile(excelize.Options{TmpDir: spillDir, UnzipSizeLimit: excelize.UnzipSizeLimit, UnzipXMLSizeLimit: excelize.StreamChunkSize})
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return nil, err
	}
	t := &xlsxTable{out: w, f: f, base: sheet, title: title, subtitle: subtitle, columns: cols}
	var err error
	if t.bold, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}}); err != nil {
		return nil, err
	}
	t.head, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}},
		Border: []excelize.Border{{Type: "bottom", Color: "000000", Style: 1}}})
	if err != nil {
		return nil, err
	}
	for _, st := range []struct {
		id    *int
		style excelize.Style
	}{
		{&t.day, excelize.Style{CustomNumFmt: ptr("yyyy-mm-dd")}},
		{&t.clock, excelize.Style{CustomNumFmt: ptr("hh:mm")}},
		{&t.stamp, excelize.Style{CustomNumFmt: ptr("yyyy-mm-dd hh:mm")}},
		{&t.percent, excelize.Style{CustomNumFmt: ptr("0.0%")}},
		{&t.link, excelize.Style{Font: &excelize.Font{Color: "0563C1", Underline: "single"}}},
		{&t.money, excelize.Style{CustomNumFmt: ptr("0.00")}},
	} {
		if *st.id, err = f.NewStyle(&st.style); err != nil {
			return nil, err
		}
	}
	if err := t.startSheet(); err != nil {
		return nil, err
	}
	return t, nil
}

// startSheet opens the next sheet and writes its heading rows.
func (t *xlsxTable) startSheet() error {
	t.sheets++
	t.sheet = t.base
	if t.sheets > 1 {
		t.sheet = fmt.Sprintf("%s (%d)", t.base, t.sheets)
		if _, err := t.f.NewSheet(t.sheet); err != nil {
			return err
		}
	}
	sw, err := t.f.NewStreamWriter(t.sheet)
	if err != nil {
		return err
	}
	t.sw = sw
	for i, c := range t.columns {
		if c.Width > 0 {
			if err := sw.SetColWidth(i+1, i+1, c.Width); err != nil {
				return err
			}
		}
	}
	// Panes and widths must precede the first row.
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 3, TopLeftCell: "A4", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	last, err := excelize.CoordinatesToCellName(max(len(t.columns), 1), 1)
	if err != nil {
		return err
	}
	if err := sw.MergeCell("A1", last); err != nil {
		return err
	}
	if err := sw.SetRow("A1", []any{excelize.Cell{StyleID: t.bold, Value: t.title}}); err != nil {
		return err
	}
	if err := sw.SetRow("A2", []any{t.subtitle}); err != nil {
		return err
	}
	cells := make([]any, len(t.columns))
	for i, c := range t.columns {
		cells[i] = excelize.Cell{StyleID: t.head, Value: c.Heading}
	}
	if err := sw.SetRow("A3", cells); err != nil {
		return err
	}
	t.next = headingRows + 1
	return nil
}

func (t *xlsxTable) Row(values ...any) error { return t.writeCells(t.cells(values)) }

// cells are excelize's cells of a row's values: typed, with their styles.
func (t *xlsxTable) cells(values []any) []any {
	cells := make([]any, len(values))
	for i, v := range values {
		switch x := v.(type) {
		case time.Time:
			cells[i] = excelize.Cell{StyleID: t.stamp, Value: wall(x)}
		case Day:
			cells[i] = excelize.Cell{StyleID: t.day, Value: wall(x.Time)}
		case Clock:
			// A time of day is the fraction of its day.
			w := wall(x.Time)
			cells[i] = excelize.Cell{StyleID: t.clock, Value: float64(w.Hour()*3600+w.Minute()*60+w.Second()) / 86400}
		case Percent:
			cells[i] = excelize.Cell{StyleID: t.percent, Value: float64(x)}
		case Fen:
			// The spreadsheet's own number is a double, as every amount
			// typed into Excel is; the fen stay exact in the CSV.
			cells[i] = excelize.Cell{StyleID: t.money, Value: float64(x) / 100}
		case Link:
			cells[i] = excelize.Cell{StyleID: t.link, Value: x.Text,
				Formula: `HYPERLINK("` + strings.ReplaceAll(x.URL, `"`, `""`) + `","` + strings.ReplaceAll(x.Text, `"`, `""`) + `")`}
		case fmt.Stringer:
			cells[i] = x.String()
		case string:
			// An empty text is no cell at all (excelize skips nil):
			// fewer cells to write in a 台账 with many blank columns,
			// and the sheet reads the same.
			if x != "" {
				cells[i] = x
			}
		default:
			cells[i] = v
		}
	}
	return cells
}

// writeCells writes a row of cells below the last, on a new sheet when
// this one is full.
func (t *xlsxTable) writeCells(cells []any) error {
	if t.next > sheetRows {
		if err := t.finishSheet(); err != nil {
			return err
		}
		if err := t.startSheet(); err != nil {
			return err
		}
	}
	cell, err := excelize.CoordinatesToCellName(1, t.next)
	if err != nil {
		return err
	}
	t.next++
	return t.sw.SetRow(cell, cells)
}

// finishSheet sets what Excel keeps beside the sheet's cells — a filter
// on the headings, A4 landscape fitted to the page's width, the heading
// rows repeated on every printed page — and ends its rows.
func (t *xlsxTable) finishSheet() error {
	lastCol, err := excelize.ColumnNumberToName(max(len(t.columns), 1))
	if err != nil {
		return err
	}
	if err := t.f.AutoFilter(t.sheet, fmt.Sprintf("A%d:%s%d", headingRows, lastCol, max(t.next-1, headingRows)), nil); err != nil {
		return err
	}
	a4, landscape, wide, tall := 9, "landscape", 1, 0
	if err := t.f.SetPageLayout(t.sheet, &excelize.PageLayoutOptions{Size: &a4, Orientation: &landscape, FitToWidth: &wide, FitToHeight: &tall}); err != nil {
		return err
	}
	fit := true
	if err := t.f.SetSheetProps(t.sheet, &excelize.SheetPropsOptions{FitToPage: &fit}); err != nil {
		return err
	}
	err = t.f.SetDefinedName(&excelize.DefinedName{Name: "_xlnm.Print_Titles", Scope: t.sheet,
		RefersTo: fmt.Sprintf("'%s'!$1:$%d", t.sheet, headingRows)})
	if err != nil {
		return err
	}
	return t.sw.Flush()
}

// Abort removes excelize's temporary files (the rows spilled past 16 MB);
// the workbook is not written.
func (t *xlsxTable) Abort() {
	if t.f != nil {
		_ = t.f.Close() // a file not removed is emptied at the next start
		t.f = nil
	}
}

// Close finishes the last sheet, then writes the file; whatever happens,
// the temporary files are gone after it.
func (t *xlsxTable) Close() error {
	if t.f == nil {
		return errClosed
	}
	defer t.Abort()
	if err := t.finishSheet(); err != nil {
		return err
	}
	// excelize's Write zips the whole workbook into a buffer before
	// writing it out (a million-row 台账 is ~100 MB there); its zip writer
	// goes straight to the response instead. The sheet's rows wait in
	// excelize's stream file (16 MB in memory, then a temporary file), so
	// memory stays flat whatever the rows. Deflate at its fastest level:
	// the default level was a fifth of the export's CPU for a file ~10%
	// smaller; on every core, as the sheet is zipped only after its rows.
	t.f.SetZipWriter(func(io.Writer) excelize.ZipWriter {
		zw := zip.NewWriter(t.out)
		zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return newParallelDeflate(w), nil })
		return zw
	})
	return t.f.Write(io.Discard)
}

func ptr[T any](v T) *T { return &v }

// errClosed answers a Close after Close or Abort.
var errClosed = errors.New("ledger: table already closed")
