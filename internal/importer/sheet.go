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
// tmpDir is where a workbook's large parts unpack (Options.TmpDir).
func ReadSheet(r io.Reader, maxRows int, tmpDir string) ([]SheetRow, error) {
	t, err := readTable(r, DefaultMaxBytes, maxRows, tmpDir)
	if err != nil {
		return nil, err
	}
	if len(t.malformed) > 0 {
		fes := make(domain.FieldErrors, len(t.malformed))
		for i, m := range t.malformed {
			e := m.rowError("")
			fes[i] = domain.FieldError{Field: "row " + strconv.Itoa(e.Row), Reason: e.Reason, Message: e.Message, MessageZH: e.MessageZH}
		}
		return nil, domain.Invalid(fes...)
	}
	out := make([]SheetRow, len(t.rows))
	for i, rw := range t.rows {
		out[i] = SheetRow{Num: rw.num, Cells: rw.cells}
	}
	return out, nil
}
