// Package ledger owns the spreadsheet forms county offices file (台账): a
// titled table written row by row as streaming XLSX (excelize's
// StreamWriter, so a county's year of visits never sits in memory as cells)
// or as CSV with a byte-order mark, which Excel needs to read Chinese. It
// knows nothing of where the rows come from.
package ledger

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
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

// Table receives a form's rows; Close finishes the file.
type Table interface {
	Row(values ...any) error
	Close() error
}

// New starts a table in format on w: a title line, a line saying what it
// covers (region, period, when it was made), then the headings.
func New(format string, w io.Writer, sheet, title, subtitle string, cols []Column) (Table, error) {
	switch format {
	case CSV:
		return newCSV(w, title, subtitle, cols)
	case XLSX, "":
		return newXLSX(w, sheet, title, subtitle, cols)
	}
	return nil, fmt.Errorf("ledger: unknown format %q", format)
}

type csvTable struct {
	w *csv.Writer
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
	rec := make([]string, len(values))
	for i, v := range values {
		rec[i] = cellText(v)
		if _, text := v.(string); text {
			rec[i] = defuse(rec[i])
		}
	}
	return t.w.Write(rec)
}

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
		return x.Format("2006-01-02 15:04")
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v)
}

type xlsxTable struct {
	out  io.Writer
	f    *excelize.File
	sw   *excelize.StreamWriter
	next int
}

func newXLSX(w io.Writer, sheet, title, subtitle string, cols []Column) (*xlsxTable, error) {
	f := excelize.NewFile()
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return nil, err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return nil, err
	}
	for i, c := range cols {
		if c.Width > 0 {
			if err := sw.SetColWidth(i+1, i+1, c.Width); err != nil {
				return nil, err
			}
		}
	}
	// Panes and widths must precede the first row.
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 3, TopLeftCell: "A4", ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}})
	if err != nil {
		return nil, err
	}
	head, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDEBF7"}},
		Border: []excelize.Border{{Type: "bottom", Color: "000000", Style: 1}}})
	if err != nil {
		return nil, err
	}
	t := &xlsxTable{out: w, f: f, sw: sw, next: 1}
	if err := sw.SetRow("A1", []any{excelize.Cell{StyleID: bold, Value: title}}); err != nil {
		return nil, err
	}
	if err := sw.SetRow("A2", []any{subtitle}); err != nil {
		return nil, err
	}
	cells := make([]any, len(cols))
	for i, c := range cols {
		cells[i] = excelize.Cell{StyleID: head, Value: c.Heading}
	}
	if err := sw.SetRow("A3", cells); err != nil {
		return nil, err
	}
	t.next = 4
	return t, nil
}

func (t *xlsxTable) Row(values ...any) error {
	cells := make([]any, len(values))
	for i, v := range values {
		switch x := v.(type) {
		case time.Time:
			cells[i] = x.Format("2006-01-02 15:04")
		case fmt.Stringer:
			cells[i] = x.String()
		default:
			cells[i] = v
		}
	}
	cell, err := excelize.CoordinatesToCellName(1, t.next)
	if err != nil {
		return err
	}
	t.next++
	return t.sw.SetRow(cell, cells)
}

func (t *xlsxTable) Close() error {
	if err := t.sw.Flush(); err != nil {
		return err
	}
	defer t.f.Close()
	return t.f.Write(t.out)
}
