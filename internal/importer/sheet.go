package importer

import (
	"io"
	"strconv"

	"github.com/fieldvisit/fieldvisit/domain"
)

// SheetRow is one non-blank row of a spreadsheet, numbered as the office
// sees it, its cells as text.
type SheetRow struct {
	Num   int
	Cells []string
}

// ReadSheet reads a CSV (UTF-8, UTF-16 or GB18030) or XLSX file of at most
// maxRows rows the way the register import reads one, for the other
// spreadsheets supervisors upload (the adjustment round's proposals). A
// file that cannot be read, or a CSV broken part-way, is invalid (422).
func ReadSheet(r io.Reader, maxRows int) ([]SheetRow, error) {
	t, err := readTable(r, DefaultMaxBytes, maxRows)
	if err != nil {
		return nil, err
	}
	if t.broken != nil {
		return nil, domain.Invalid(domain.FieldError{Field: "row " + strconv.Itoa(t.broken.Row), Reason: t.broken.Reason,
			Message: t.broken.Message, MessageZH: t.broken.MessageZH})
	}
	out := make([]SheetRow, len(t.rows))
	for i, rw := range t.rows {
		out[i] = SheetRow{Num: rw.num, Cells: rw.cells}
	}
	return out, nil
}
