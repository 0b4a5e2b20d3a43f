package importer

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance/ledger"
)

// Formats and encodings a Report names.
const (
	FormatCSV  = "csv"
	FormatXLSX = "xlsx"

	EncodingUTF8    = "utf-8"
	EncodingUTF16   = "utf-16"
	EncodingGB18030 = "gb18030"
)

// Default limits.
const (
	DefaultMaxRows  = 200_000
	DefaultMaxBytes = 100 << 20
	// headerSearchRows is how many rows may stand above the heading row
	// (titles such as "XX县建档立卡贫困户台账").
	headerSearchRows = 10
)

// rawRow is one non-blank row as read, numbered as in the spreadsheet.
type rawRow struct {
	num   int
	cells []string
}

// table is the file as rows of text cells.
type table struct {
	format, encoding, sheet string
	rows                    []rawRow
	// replaced is set when a legacy-encoded file had bytes that decode to
	// nothing: cells with U+FFFD then carry an encoding error.
	replaced bool
	// malformed are the rows of a CSV that could not be split into cells
	// (quotes that do not pair up), in file order. Any of them makes the
	// file unreadable as a whole: the rows are not in rows, and an unclosed
	// quote swallows the rest of the file.
	malformed []malformedRow
}

// malformedRow is a CSV row the csv reader refused: its spreadsheet row
// number, the index of the cell at fault, and what is wrong with it.
type malformedRow struct {
	num, field int
	reason     string // unclosed_quote, stray_quote or bare_quote
	rest       bool   // the rows after it could not be read either
}

// rowError describes m in both languages; heading is the column's heading
// as written in the file, or "" when the row is above the headings or past
// their end (the column is then named by its number).
func (m malformedRow) rowError(heading string) RowError {
	where, whereZH := fmt.Sprintf("column %d", m.field+1), fmt.Sprintf("第%d列", m.field+1)
	if heading != "" {
		where, whereZH = fmt.Sprintf("column %q", heading), "「"+heading+"」列"
	}
	e := RowError{Row: m.num, Column: heading, Reason: m.reason}
	switch m.reason {
	case "unclosed_quote":
		e.Message = fmt.Sprintf("the cell in %s opens a double quote that is never closed", where)
		e.MessageZH = fmt.Sprintf("%s的单元格以双引号开始，但没有结束的双引号", whereZH)
	case "stray_quote":
		e.Message = fmt.Sprintf("the quoted cell in %s has a double quote followed by more text; a quote inside a cell is written twice (\"\")", where)
		e.MessageZH = fmt.Sprintf("%s的单元格中双引号不配对：单元格内的双引号须写成两个（\"\"）", whereZH)
	default:
		e.Message = fmt.Sprintf("the cell in %s has a double quote but is not enclosed in quotes; quote the cell and write the quote twice (\"\")", where)
		e.MessageZH = fmt.Sprintf("%s的单元格含有双引号，但单元格未用双引号括起；请将单元格用双引号括起，并把其中的双引号写成两个（\"\"）", whereZH)
	}
	if m.rest {
		e.Message += "; this row and the rest of the file could not be read"
		e.MessageZH += "，本行及其后的内容均无法读取"
	} else {
		e.Message += "; the row could not be read"
		e.MessageZH += "，本行无法读取"
	}
	e.Message += ", and nothing was imported"
	e.MessageZH += "，整个文件未导入"
	return e
}

func fileError(reason, msg, msgZH string) error {
	return domain.Invalid(domain.FieldError{Field: "file", Reason: reason, Message: msg, MessageZH: msgZH})
}

var (
	zipMagic = []byte("PK\x03\x04")
	oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
)

// readTable reads r (at most maxBytes) and returns its rows, detecting the
// format from the content. Rows past maxRows data rows are an error.
// tmpDir is where a workbook's large parts unpack (Options.TmpDir).
func readTable(r io.Reader, maxBytes int64, maxRows int, tmpDir string) (*table, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read import file: %w", err)
	}
	if int64(len(b)) > maxBytes {
		return nil, fileError("too_large", "the file is larger than "+sizeText(maxBytes),
			"文件超过"+sizeText(maxBytes)+"，请拆分后分批导入")
	}
	if len(bytes.TrimSpace(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")))) == 0 {
		return nil, fileError("empty", "the file is empty", "文件为空")
	}
	switch {
	case bytes.HasPrefix(b, zipMagic):
		return readXLSX(b, maxRows, tmpDir)
	case bytes.HasPrefix(b, oleMagic):
		return nil, fileError("unsupported_format", "this is an old Excel .xls (or encrypted) workbook; save it as .xlsx or CSV",
			"这是旧版Excel（.xls）或加密的工作簿，请另存为.xlsx或CSV格式后导入")
	case looksBinary(b):
		return nil, fileError("unsupported_format", "the file is neither CSV nor XLSX", "文件不是CSV或XLSX格式")
	}
	return readCSV(b, maxRows)
}

// looksBinary reports whether b is not text: a known binary signature, or
// NUL bytes in more than 1% of the first 8 KiB (a stray NUL in a cell is a
// cell error, reported as such, not a reason to refuse the file). UTF-16
// files, which are full of NULs, carry a BOM and are checked before this.
func looksBinary(b []byte) bool {
	if bytes.HasPrefix(b, []byte{0xFF, 0xFE}) || bytes.HasPrefix(b, []byte{0xFE, 0xFF}) {
		return false
	}
	for _, sig := range [][]byte{[]byte("%PDF"), {0x1F, 0x8B}, []byte("\x89PNG"), {0xFF, 0xD8, 0xFF}, []byte("Rar!"), []byte("7z\xbc\xaf")} {
		if bytes.HasPrefix(b, sig) {
			return true
		}
	}
	head := b[:min(len(b), 8192)]
	return bytes.Count(head, []byte{0})*100 > len(head)
}

// decodeText turns the bytes of a text file into UTF-8. UTF-8 (with or
// without BOM) and UTF-16 with BOM are taken as they say. Bytes that are not
// UTF-8 are what Excel on Chinese Windows writes: GB18030 (a superset of GBK
// and GB2312). A file that is mostly UTF-8 with a few bad bytes stays UTF-8,
// so that those cells are reported rather than the whole file read as
// mojibake; in a GB18030 file, bytes that decode to nothing mark their cells.
func decodeText(b []byte) (text, encoding string, replaced bool) {
	switch {
	case bytes.HasPrefix(b, []byte("\xef\xbb\xbf")):
		return string(b[3:]), EncodingUTF8, false
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}), bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		out, err := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder().Bytes(b)
		if err == nil {
			return string(out), EncodingUTF16, bytes.ContainsRune(out, utf8.RuneError)
		}
	}
	multi, bad := utf8Stats(b)
	if bad == 0 || multi > 4*bad {
		return string(b), EncodingUTF8, false
	}
	gb, err := simplifiedchinese.GB18030.NewDecoder().Bytes(b)
	if err != nil {
		return string(b), EncodingUTF8, false
	}
	return string(gb), EncodingGB18030, bytes.ContainsRune(gb, utf8.RuneError)
}

// utf8Stats counts the valid multi-byte characters and the invalid
// sequences of b read as UTF-8. GBK text is mostly invalid as UTF-8; UTF-8
// text with a damaged cell is mostly valid.
func utf8Stats(b []byte) (multi, bad int) {
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && size == 1:
			bad++
		case size > 1:
			multi++
		}
		b = b[size:]
	}
	return multi, bad
}

// sniffDelimiter picks the field separator of the first lines: comma, tab
// (Excel's "Unicode text") or semicolon.
func sniffDelimiter(text string) rune {
	lines := strings.SplitN(text, "\n", headerSearchRows+1)
	if len(lines) > headerSearchRows {
		lines = lines[:headerSearchRows]
	}
	best, bestN := ',', 0
	for _, d := range []rune{',', '\t', ';'} {
		n := 0
		for _, l := range lines {
			n += strings.Count(l, string(d))
		}
		if n > bestN {
			best, bestN = d, n
		}
	}
	return best
}

// readCSV splits b into rows. The quoting is read strictly (RFC 4180, as
// Excel writes it): a row whose quotes do not pair up is not guessed at but
// kept in t.malformed, naming its row and cell, and reading goes on with the
// next line, so that one pass reports every such row. (Lenient reading took
// an unclosed quote as running to the end of the file, so the row it opened
// and every row after it were lost without a word.) An unclosed quote
// consumes the rest of the file and ends the reading.
func readCSV(b []byte, maxRows int) (*table, error) {
	text, enc, replaced := decodeText(b)
	t := &table{format: FormatCSV, encoding: enc, replaced: replaced}
	comma := sniffDelimiter(text)
	if err := checkLineFields(text, comma); err != nil {
		return nil, err
	}
	budget := newCellBudget(maxRows)
	cr := csv.NewReader(strings.NewReader(text))
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	// row is the spreadsheet row of the last record read, prevEnd the line
	// it ended on.
	row, prevEnd := 0, 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return nil, fmt.Errorf("read import file: %w", err)
			}
			// The csv package skips empty lines; a spreadsheet shows them as
			// rows, so count them to keep row numbers as the office sees them.
			if gap := pe.StartLine - prevEnd - 1; gap > 0 {
				row += gap
			}
			row++
			prevEnd = pe.Line
			m := malformedRow{num: row, field: len(rec), reason: "bare_quote"}
			if errors.Is(err, csv.ErrQuote) {
				m.reason = "unclosed_quote"
				if quoteAt(text, pe.Line, pe.Column) {
					m.reason = "stray_quote"
				}
			}
			if m.reason == "unclosed_quote" {
				// The quote ran to the end of the file, taking the rows
				// below with it.
				m.rest = strings.TrimSpace(linesAfter(text, pe.StartLine)) != ""
				t.malformed = append(t.malformed, m)
				break
			}
			t.malformed = append(t.malformed, m)
			continue
		}
		start, _ := cr.FieldPos(0)
		end, _ := cr.FieldPos(len(rec) - 1)
		end += strings.Count(rec[len(rec)-1], "\n")
		if gap := start - prevEnd - 1; gap > 0 {
			row += gap
		}
		prevEnd = end
		row++
		if blank(rec) {
			continue
		}
		if len(t.rows) > maxRows+headerSearchRows {
			return nil, tooManyRows(maxRows)
		}
		if rec, err = budget.take(row, rec); err != nil {
			return nil, err
		}
		for i, c := range rec {
			rec[i] = undefuse(c)
		}
		t.rows = append(t.rows, rawRow{num: row, cells: rec})
	}
	return t, nil
}

// quoteAt reports whether the byte at line and column (1-based, as a
// csv.ParseError counts them) of text is a double quote: the csv reader
// points an unclosed quote past the end of its line, a stray one at itself.
func quoteAt(text string, line, column int) bool {
	text = linesAfter(text, line-1)
	if nl := strings.IndexByte(text, '\n'); nl >= 0 {
		text = text[:nl]
	}
	return column >= 1 && column <= len(text) && text[column-1] == '"'
}

// linesAfter returns text without its first n lines.
func linesAfter(text string, n int) string {
	for ; n > 0; n-- {
		nl := strings.IndexByte(text, '\n')
		if nl < 0 {
			return ""
		}
		text = text[nl+1:]
	}
	return text
}

// undefuse reads back a cell that a CSV export protected from being run
// as a formula ("'+86 138…", "'-"): the apostrophe spreadsheets hide is not
// part of the value.
func undefuse(s string) string {
	if len(s) > 1 && s[0] == '\'' && strings.ContainsRune("=+-@\t\r", rune(s[1])) {
		return s[1:]
	}
	return s
}

func tooManyRows(maxRows int) error {
	return fileError("too_many_rows", fmt.Sprintf("the file has more than %d rows; split it", maxRows),
		fmt.Sprintf("文件超过%d行，请拆分后分批导入", maxRows))
}

func blank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// sheetHints are words in the name of the sheet that holds the register, when
// a workbook has several (a cover sheet, notes, a pivot).
var sheetHints = []string{"户信息", "成员", "结对", "台账", "花名册", "人口", "行政区划", "区划"}

func readXLSX(b []byte, maxRows int, tmpDir string) (*table, error) {
	if err := checkWorkbook(b, maxRows); err != nil {
		return nil, err
	}
	// excelize reads a part whole when it cannot unpack it to a temporary
	// file, past the bound the streaming below relies on: refused instead.
	if err := ledger.CheckSpillDir(tmpDir); err != nil {
		return nil, err
	}
	f, err := excelize.OpenReader(bytes.NewReader(b), excelize.Options{UnzipSizeLimit: maxUnzipped, UnzipXMLSizeLimit: wholePartLimit, TmpDir: tmpDir})
	if err != nil {
		return nil, fileError("unsupported_format", "the file looks like a zip archive but is not a readable XLSX workbook",
			"文件不是可读取的XLSX工作簿（可能已损坏）")
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, fileError("empty", "the workbook has no sheet", "工作簿中没有工作表")
	}
	sheet := sheets[0]
pick:
	for _, s := range sheets {
		for _, h := range sheetHints {
			if strings.Contains(s, h) {
				sheet = s
				break pick
			}
		}
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		return nil, fileError("unsupported_format", "the workbook's sheet cannot be read", "无法读取工作表")
	}
	defer rows.Close()
	t := &table{format: FormatXLSX, encoding: EncodingUTF8, sheet: sheet}
	budget := newCellBudget(maxRows)
	num := 0
	for rows.Next() {
		num++
		// Raw values: dates as serial numbers and numbers as typed, rather
		// than formatted for display ("01-02-06").
		cells, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return nil, fileError("unsupported_format", "the workbook's sheet is damaged", "工作表内容已损坏，无法读取")
		}
		if blank(cells) {
			continue
		}
		if len(t.rows) > maxRows+headerSearchRows {
			return nil, tooManyRows(maxRows)
		}
		if cells, err = budget.take(num, cells); err != nil {
			return nil, err
		}
		t.rows = append(t.rows, rawRow{num: num, cells: cells})
	}
	if err := rows.Error(); err != nil {
		return nil, fileError("unsupported_format", "the workbook's sheet is damaged", "工作表内容已损坏，无法读取")
	}
	return t, nil
}

// header finds the heading row among the first rows: the first with at least
// three known headings (or the first row when none has).
func (t *table) header() int {
	for i := 0; i < len(t.rows) && i < headerSearchRows; i++ {
		known := 0
		for _, c := range t.rows[i].cells {
			if _, ok := headingIndex[normalizeHeading(c)]; ok {
				known++
			}
		}
		if known >= 3 {
			return i
		}
	}
	return 0
}

// headings returns the headings of the heading row hi and the index of the
// first data row. Offices and the national system write some headings on
// two rows: a group heading merged over sub-headings (帮扶责任人 over
// 姓名/联系电话/帮扶单位/职级, 家庭成员信息 over 与户主关系/姓名/身份证号),
// the other headings merged down over both rows. When the row below the
// heading row is such a sub-heading row, each sub-heading under a merged
// (or empty) cell is read within its group — 姓名 under 帮扶责任人 is
// 帮扶责任人姓名, 联系电话 under it 帮扶责任人联系电话, as the heading
// variants allow, else the sub-heading itself — and the data start below
// both. A single heading row is returned as it is.
func (t *table) headings(hi int) ([]string, int) {
	top := t.rows[hi].cells
	if hi+1 >= len(t.rows) || t.rows[hi+1].num != t.rows[hi].num+1 {
		return top, hi + 1
	}
	sub := t.rows[hi+1].cells
	at := func(cells []string, i int) string {
		if i < len(cells) {
			return strings.TrimSpace(cells[i])
		}
		return ""
	}
	n := max(len(top), len(sub))
	out := make([]string, n)
	copy(out, top)
	group := ""
	known, unknown := 0, 0
	for i := 0; i < n; i++ {
		tc, sc := at(top, i), at(sub, i)
		// A cell of the heading row spans sub-headings when it is empty
		// (the rest of a merge, or nothing) or when the cells right of it
		// are empty over sub-headings (the start of a merge).
		spans := tc == "" || at(top, i+1) == "" && at(sub, i+1) != ""
		if tc != "" {
			group = tc
		}
		if sc == "" {
			continue
		}
		if !spans {
			// Below a heading merged down over both rows the cell is empty,
			// or repeats a heading; anything else is data.
			if normalizeHeading(sc) != normalizeHeading(tc) && !knownHeading(sc) {
				return top, hi + 1
			}
			continue
		}
		h, ok := subHeading(group, sc)
		if !ok {
			unknown++
			out[i] = sc
			continue
		}
		known++
		out[i] = h
	}
	if known == 0 || unknown > 0 && known < 2 {
		return top, hi + 1
	}
	return out, hi + 2
}

// subHeading reads the sub-heading sub under the group heading group: the
// two together when they make a known heading (帮扶责任人 + 联系电话), else
// with the group's 信息 dropped (家庭成员信息 + 姓名 is 家庭成员姓名), else
// the sub-heading alone.
func subHeading(group, sub string) (string, bool) {
	sub = trimHeading(sub)
	if g := trimHeading(group); g != "" {
		for _, h := range []string{g + sub, strings.TrimSuffix(g, "信息") + sub} {
			if _, ok := headingIndex[normalizeHeading(h)]; ok {
				return h, true
			}
		}
	}
	return sub, knownHeading(sub)
}

// knownHeading reports whether s is a heading the import reads or ignores.
func knownHeading(s string) bool {
	name := normalizeHeading(s)
	_, ok := headingIndex[name]
	return ok || ignoredHeadings[name]
}

// parseExcelSerial reads an Excel day number (as XLSX stores dates).
func parseExcelSerial(s string) (domain.Date, bool) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 1 || v > 2958465 {
		return domain.Date{}, false
	}
	tm, err := excelize.ExcelDateToTime(v, false)
	if err != nil {
		return domain.Date{}, false
	}
	return domain.Date{Year: tm.Year(), Month: tm.Month(), Day: tm.Day()}, true
}

func sizeText(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%d MB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
