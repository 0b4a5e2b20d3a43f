package importer

import (
	"archive/zip"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// A register's file is read whole, so what it may make the server hold
// is bounded before it is read: an XLSX is a zip of XML whose parts
// unpack to a thousand times their size, and a small upload (a megabyte)
// could otherwise take gigabytes — a 900 MB styles part read whole, a
// shared-string table of millions of empty strings, rows that reach
// column XFD and are kept 16,384 cells wide. Each bound is far above what
// an office's register needs.
const (
	// maxUnzipped bounds the parts of a workbook unpacked, together
	// (worksheets past wholePartLimit unpack to a temporary file).
	maxUnzipped = 512 << 20
	// wholePartLimit is the largest worksheet or shared-string table
	// read into memory; a larger one is streamed from a temporary file.
	wholePartLimit = 1 << 20
	// maxWholeParts bounds the parts read into memory whole, together:
	// every part but the worksheets and shared strings streamed.
	maxWholeParts = 32 << 20
	// maxTextRun bounds the text between two tags of a streamed part (the
	// XML decoder holds a run whole); a cell holds at most 32,767
	// characters.
	maxTextRun = 1 << 20
	// sharedStringsPerRow bounds the shared-string table by the rows the
	// file may have: more distinct texts than that per row is no register.
	sharedStringsPerRow = 10
	// maxColumns bounds a row's cells up to its last non-blank one (the
	// old .xls format's own limit); a register has some 45 columns.
	maxColumns = 256
	// cellsPerRow bounds the cells of the whole file, by its rows.
	cellsPerRow = 64
	// maxLineFields bounds the cells a CSV line is split into before its
	// blank ones are dropped: the most a spreadsheet has (column XFD).
	maxLineFields = 16384
	// maxLineBytes bounds a CSV line, and a row over several lines (a
	// cell in quotes spanning them): a register's is some hundreds of
	// bytes, and the CSV reader holds a row and its cells again beside the
	// file (a 60 MB line took 415 MB).
	maxLineBytes = 1 << 20
)

func tooLarge(msg, msgZH string) error {
	return fileError("too_large", msg, msgZH)
}

func tooManyColumns(row int) error {
	return fileError("too_many_columns",
		fmt.Sprintf("row %d has more than %d columns up to its last filled cell; a register has far fewer", row, maxColumns),
		fmt.Sprintf("第%d行的列数超过%d列，请删除多余的列后再导入", row, maxColumns))
}

func tooManyCells(maxCells int) error {
	return fileError("too_large", fmt.Sprintf("the file has more than %d cells; split it", maxCells),
		fmt.Sprintf("文件的单元格超过%d个，请拆分后分批导入", maxCells))
}

// checkWorkbook refuses a workbook whose parts would unpack to more than
// the bounds above, before the workbook library unpacks any of them. The
// sizes checked are those the zip declares; the zip reader refuses a part
// that unpacks to more than it declares.
func checkWorkbook(b []byte, maxRows int) error {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil // not a readable zip: the workbook library says so
	}
	var unzipped, whole uint64
	for _, f := range zr.File {
		size := f.UncompressedSize64
		unzipped += size
		if unzipped > maxUnzipped {
			return tooLarge(fmt.Sprintf("the workbook unpacks to more than %s", sizeText(maxUnzipped)),
				fmt.Sprintf("工作簿解压后超过%s，请拆分后分批导入", sizeText(maxUnzipped)))
		}
		streamed := streamedPart(f.Name)
		if !streamed || size <= wholePartLimit {
			if whole += size; whole > maxWholeParts {
				return tooLarge(fmt.Sprintf("the workbook's parts read whole (all but its large worksheets and shared strings) unpack to more than %s", sizeText(maxWholeParts)),
					fmt.Sprintf("工作簿中除大工作表以外的内容解压后超过%s（可能含有大量图片、工作表过多或已损坏）", sizeText(maxWholeParts)))
			}
		}
		if !streamed {
			continue
		}
		maxStrings := -1
		if isSharedStrings(f.Name) {
			maxStrings = maxRows * sharedStringsPerRow
		}
		if err := scanPart(f, maxStrings); err != nil {
			return err
		}
	}
	return nil
}

// streamedPart reports whether the workbook library streams part name
// (a worksheet or the shared strings) rather than reading it whole.
func streamedPart(name string) bool {
	name = strings.ToLower(strings.ReplaceAll(name, `\`, "/"))
	return strings.HasPrefix(name, "xl/worksheets/sheet") || isSharedStrings(name)
}

func isSharedStrings(name string) bool {
	return strings.EqualFold(strings.ReplaceAll(name, `\`, "/"), "xl/sharedStrings.xml")
}

var errPartUnreadable = errors.New("importer: workbook part unreadable")

// scanPart reads a streamed part once, refusing a text run (or a tag)
// longer than maxTextRun and, when maxStrings is not negative, more than
// maxStrings shared strings (<si> elements, under any namespace prefix).
func scanPart(f *zip.File, maxStrings int) error {
	rc, err := f.Open()
	if err != nil {
		return nil // the workbook library reports the damage
	}
	defer rc.Close()
	r := bufio.NewReaderSize(rc, 64<<10)
	run, count := 0, 0
	var name []byte
	inName := false
	for {
		c, err := r.ReadByte()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return nil // damaged: the workbook library reports it
		}
		if c == '<' || c == '>' {
			run = 0
		} else if run++; run > maxTextRun {
			return tooLarge(fmt.Sprintf("the workbook's %s holds a text or tag longer than %s", f.Name, sizeText(maxTextRun)),
				"工作簿中有超长的内容（可能已损坏），无法导入")
		}
		switch {
		case c == '<':
			inName, name = true, name[:0]
		case !inName:
		case c == '>' || c == '/' || c == ' ' || c == '\t' || c == '\r' || c == '\n':
			inName = false
			if local := name[bytes.LastIndexByte(name, ':')+1:]; maxStrings >= 0 && string(local) == "si" {
				if count++; count > maxStrings {
					return tooLarge(fmt.Sprintf("the workbook's shared-string table holds more than %d texts", maxStrings),
						fmt.Sprintf("工作簿的共享字符串超过%d个（可能已损坏），无法导入", maxStrings))
				}
			}
		case len(name) < 64:
			name = append(name, c)
		}
	}
}

// cellBudget keeps the rows read within maxColumns each and the file
// within cellsPerRow cells a row allowed (max in all).
type cellBudget struct{ left, max int }

func newCellBudget(maxRows int) *cellBudget {
	max := (maxRows + headerSearchRows) * cellsPerRow
	return &cellBudget{left: max, max: max}
}

// take returns the cells of row num up to its last non-blank one, in a
// slice of their own (a row read up to column XFD holds 16,384), or an
// error when the row or the file is too wide.
func (b *cellBudget) take(num int, cells []string) ([]string, error) {
	n := len(cells)
	for n > 0 && strings.TrimSpace(cells[n-1]) == "" {
		n--
	}
	if n > maxColumns {
		return nil, tooManyColumns(num)
	}
	if b.left -= n; b.left < 0 {
		return nil, tooManyCells(b.max)
	}
	if cap(cells) > 2*n+8 {
		cells = append([]string(nil), cells[:n]...)
	}
	return cells[:n], nil
}

// checkLineFields refuses a CSV whose physical line is longer than
// maxLineBytes or splits into more than maxLineFields cells, before the
// CSV reader holds one such line's cells (a 64 MB line of commas is 64
// million of them); and one whose row is longer than maxLineBytes over
// several lines — a cell in quotes running on over many short lines (or a
// quote never closed), which the CSV reader holds as one record, several
// times over while its buffer grows (8 MB of such a cell took 9× the file).
func checkLineFields(text string, comma rune) error {
	sep := string(comma)
	quoted := false // the line before ended inside a quoted cell
	rowLine, rowBytes := 0, 0
	for line, rest := 1, text; rest != ""; line++ {
		end := strings.IndexByte(rest, '\n')
		l := rest
		if end >= 0 {
			l, rest = rest[:end], rest[end+1:]
		} else {
			rest = ""
		}
		if len(l) > maxLineBytes {
			return tooLarge(fmt.Sprintf("line %d is longer than %s", line, sizeText(maxLineBytes)),
				fmt.Sprintf("第%d行超过%s，请检查文件内容后再导入", line, sizeText(maxLineBytes)))
		}
		if strings.Count(l, sep) >= maxLineFields {
			return fileError("too_many_columns",
				fmt.Sprintf("line %d has more than %d cells", line, maxLineFields),
				fmt.Sprintf("第%d行的单元格超过%d个，请删除多余的列后再导入", line, maxLineFields))
		}
		if !quoted {
			rowLine, rowBytes = line, 0
		}
		rowBytes += len(l) + 1
		if rowBytes > maxLineBytes {
			return tooLarge(fmt.Sprintf("the row starting on line %d runs on over its lines past %s (a cell in quotes spanning them, or a quote not closed)", rowLine, sizeText(maxLineBytes)),
				fmt.Sprintf("第%d行起的一行超过%s（引号内的单元格跨越了多行，或引号未闭合），请检查文件内容后再导入", rowLine, sizeText(maxLineBytes)))
		}
		quoted = endsQuoted(l, byte(comma), quoted)
	}
	return nil
}

// endsQuoted reports whether line ends inside a quoted cell, as the CSV
// reader reads quotes (RFC 4180): a quote opens a cell only as its first
// character, "" inside one is a quote, and a quote elsewhere is the CSV
// reader's error, which ends the row at the line's end. quoted says
// whether the line starts inside one.
func endsQuoted(line string, comma byte, quoted bool) bool {
	cellStart := !quoted
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quoted && c == '"' && i+1 < len(line) && line[i+1] == '"':
			i++
		case quoted && c == '"':
			quoted, cellStart = false, false
		case quoted:
		case c == '"' && cellStart:
			quoted = true
		default:
			cellStart = c == comma
		}
	}
	return quoted
}
