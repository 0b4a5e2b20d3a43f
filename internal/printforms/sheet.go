package printforms

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"

	"codeberg.org/go-pdf/fpdf"

	"github.com/fieldvisit/fieldvisit/domain"
)

// A4 portrait in millimetres, with the margins of a form that is punched
// and filed (wider at the bottom for the footer).
const (
	pageWidth    = 210.0
	pageHeight   = 297.0
	marginSide   = 15.0
	marginTop    = 14.0
	marginBottom = 18.0
	textWidth    = pageWidth - 2*marginSide

	bodySize = 9.5 // points
	lineH    = 4.8 // mm per wrapped line at bodySize
	cellPad  = 1.2 // mm inside a table cell
)

// sheet draws one PDF: forms are stacks of titles, labelled facts and
// tables whose rows wrap and break across pages with their heads repeated.
// Errors stay inside fpdf until output, which reports the first.
type sheet struct {
	pdf     *fpdf.Fpdf
	printed domain.Date
	// footer names the form and household of the pages being drawn;
	// firstPage is where that form began, so a village's bulk PDF numbers
	// each household's pages from 1.
	footer    string
	firstPage int
}

// newSheet starts an empty A4 document with the CJK font.
func newSheet(title string, now time.Time) (*sheet, error) {
	font, err := cjkFont()
	if err != nil {
		return nil, fmt.Errorf("printforms: font: %w", err)
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetMargins(marginSide, marginTop, marginSide)
	// Page breaks are the sheet's own (ensure), so that a table's head is
	// drawn again and a long row continues on the next page.
	pdf.SetAutoPageBreak(false, marginBottom)
	pdf.AddUTF8FontFromBytes(fontFamily, "", font)
	pdf.SetFont(fontFamily, "", bodySize)
	pdf.SetTitle(printable(title), true)
	pdf.SetCreator("fieldvisit", true)
	pdf.SetCreationDate(now)
	pdf.SetModificationDate(now)
	pdf.SetDrawColor(60, 60, 60)
	pdf.SetLineWidth(0.2)
	s := &sheet{pdf: pdf, printed: domain.DateOf(now)}
	pdf.SetFooterFunc(s.drawFooter)
	return s, nil
}

// startForm begins a form on a new page; footer names it on every page.
// The new page comes first: starting it closes the last form's page, with
// that form's footer (a village's cards put each household's name on the
// last page of the household before it).
func (s *sheet) startForm(footer string) {
	s.pdf.AddPage()
	s.footer = footer
	s.firstPage = s.pdf.PageNo()
}

// printable is text as the PDF can draw it: the font library indexes its
// glyph widths by rune up to U+FFFF and panicked on anything beyond
// (an emoji a cadre typed on the phone failed every form of the village),
// so those characters, and control characters but line breaks and tabs,
// print as □.
func printable(text string) string {
	bad := func(r rune) bool { return r > 0xFFFF || (unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t') }
	if !strings.ContainsFunc(text, bad) {
		return text
	}
	return strings.Map(func(r rune) rune {
		if bad(r) {
			return '□'
		}
		return r
	}, text)
}

func (s *sheet) drawFooter() {
	p := s.pdf
	p.SetFont(fontFamily, "", 8)
	p.SetTextColor(90, 90, 90)
	p.SetXY(marginSide, pageHeight-marginBottom+6)
	p.CellFormat(textWidth/2, 4, printable(s.footer), "", 0, "L", false, 0, "")
	p.CellFormat(textWidth/2, 4, fmt.Sprintf("第 %d 页 · 打印日期 %s", p.PageNo()-s.firstPage+1, dateZH(s.printed)), "", 0, "R", false, 0, "")
	p.SetTextColor(0, 0, 0)
	p.SetFont(fontFamily, "", bodySize)
}

// write sends the finished document to w.
func (s *sheet) write(w io.Writer) error {
	return s.pdf.Output(w)
}

// ensure starts a new page unless h millimetres still fit on this one.
func (s *sheet) ensure(h float64) bool {
	if s.pdf.GetY()+h <= pageHeight-marginBottom {
		return false
	}
	s.pdf.AddPage()
	return true
}

// title draws the form's name, centred, and a line under it (户编号,
// village, month …).
func (s *sheet) title(name, under string) {
	p := s.pdf
	p.SetFont(fontFamily, "", 18)
	p.SetX(marginSide)
	p.CellFormat(textWidth, 10, printable(name), "", 1, "C", false, 0, "")
	p.SetFont(fontFamily, "", bodySize)
	if under != "" {
		p.CellFormat(textWidth, 6, printable(under), "", 1, "C", false, 0, "")
	}
	p.Ln(2)
}

// section draws a numbered heading with a shaded band; it keeps at least
// a few lines of what follows on the same page.
func (s *sheet) section(heading string) {
	p := s.pdf
	s.ensure(8 + 3*lineH)
	p.Ln(2)
	p.SetFont(fontFamily, "", 11.5)
	p.SetFillColor(222, 226, 232)
	p.SetX(marginSide)
	p.CellFormat(textWidth, 7, " "+printable(heading), "1", 1, "L", true, 0, "")
	p.SetFont(fontFamily, "", bodySize)
}

// note draws a paragraph across the page (an empty section's 暂无记录, a
// summary line).
func (s *sheet) note(text string) {
	s.pdf.Ln(1)
	lines := s.wrap(text, textWidth-2*cellPad)
	for _, l := range lines {
		s.ensure(lineH)
		s.pdf.SetX(marginSide + cellPad)
		s.pdf.CellFormat(textWidth-2*cellPad, lineH, l, "", 1, "L", false, 0, "")
	}
	s.pdf.Ln(1)
}

// factLabelWidth is the width (mm) of a fact's label cell: seven
// characters of the body font to a line.
const factLabelWidth = 26.0

// fact is one labelled value of a form's head; Wide ones take the row.
type fact struct {
	Label, Value string
	Wide         bool
}

// facts draws labelled values two to a row, as the paper forms lay out
// 户主姓名 | … | 户编号 | … ; a wide one takes a whole row.
func (s *sheet) facts(fs []fact) {
	const labelW = factLabelWidth
	half := textWidth / 2
	var row []fact
	flush := func() {
		if len(row) == 0 {
			return
		}
		var cells []tableCell
		if len(row) == 1 && row[0].Wide {
			cells = []tableCell{{row[0].Label, labelW, "L", true}, {row[0].Value, textWidth - labelW, "L", false}}
		} else {
			for _, f := range row {
				cells = append(cells, tableCell{f.Label, labelW, "L", true}, tableCell{f.Value, half - labelW, "L", false})
			}
			if len(row) == 1 {
				cells = append(cells, tableCell{"", labelW, "L", true}, tableCell{"", half - labelW, "L", false})
			}
		}
		s.row(cells, nil)
		row = row[:0]
	}
	for _, f := range fs {
		if f.Value == "" {
			f.Value = "—"
		}
		if f.Wide || len([]rune(f.Value)) > 18 {
			flush()
			row = append(row, fact{f.Label, f.Value, true})
			flush()
			continue
		}
		row = append(row, f)
		if len(row) == 2 {
			flush()
		}
	}
	flush()
}

// column is one column of a table: its head, width (mm) and alignment.
type column struct {
	Head  string
	Width float64
	Align string // "L", "C" or "R"
}

// table draws a table whose rows wrap; empty says so when there are none.
// Widths are scaled to the text width.
func (s *sheet) table(cols []column, rows [][]string, empty string) {
	total := 0.0
	for _, c := range cols {
		total += c.Width
	}
	head := make([]tableCell, len(cols))
	for i, c := range cols {
		cols[i].Width = c.Width * textWidth / total
		head[i] = tableCell{c.Head, cols[i].Width, "C", true}
	}
	s.ensure(2*lineH + 4*cellPad)
	s.row(head, nil)
	if len(rows) == 0 {
		s.row([]tableCell{{empty, textWidth, "C", false}}, nil)
		return
	}
	for _, r := range rows {
		cells := make([]tableCell, len(cols))
		for i, c := range cols {
			text := ""
			if i < len(r) {
				text = r[i]
			}
			cells[i] = tableCell{text, c.Width, c.Align, false}
		}
		s.row(cells, head)
	}
}

type tableCell struct {
	Text   string
	Width  float64
	Align  string
	Shaded bool
}

// row draws one table row. A row too tall for the rest of the page goes
// on in pieces, each page starting with head again (nil: no head).
func (s *sheet) row(cells []tableCell, head []tableCell) {
	p := s.pdf
	lines := make([][]string, len(cells))
	most := 1
	for i, c := range cells {
		lines[i] = s.wrap(c.Text, c.Width-2*cellPad)
		most = max(most, len(lines[i]))
	}
	for done := 0; done < most; {
		room := int((pageHeight - marginBottom - p.GetY() - 2*cellPad) / lineH)
		if room < 1 || room < most-done && room < 3 && done == 0 {
			p.AddPage()
			if head != nil {
				s.row(head, nil)
			}
			continue
		}
		n := min(room, most-done)
		h := float64(n)*lineH + 2*cellPad
		x, y := marginSide, p.GetY()
		for i, c := range cells {
			style := "D"
			if c.Shaded {
				p.SetFillColor(240, 242, 245)
				style = "FD"
			}
			p.Rect(x, y, c.Width, h, style)
			for j := done; j < done+n && j < len(lines[i]); j++ {
				p.SetXY(x+cellPad, y+cellPad+float64(j-done)*lineH)
				p.CellFormat(c.Width-2*cellPad, lineH, lines[i][j], "", 0, c.Align, false, 0, "")
			}
			x += c.Width
		}
		p.SetXY(marginSide, y+h)
		done += n
	}
}

// wrap breaks text into lines that fit width mm in the body font: at any
// character for Chinese, at a space for a Latin word when it can, and at
// every newline. fpdf's SplitText drops the character it breaks at.
func (s *sheet) wrap(text string, width float64) []string {
	var out []string
	for _, para := range strings.Split(strings.ReplaceAll(printable(text), "\r\n", "\n"), "\n") {
		var line []rune
		w := 0.0
		for _, r := range para {
			if r == '\t' {
				r = ' '
			}
			cw := s.pdf.GetStringWidth(string(r))
			if w+cw > width && len(line) > 0 {
				cut := len(line)
				if isWordRune(r) {
					// Keep a Latin word or a number whole, when the line has a
					// space to break at.
					for k := len(line) - 1; k > 0; k-- {
						if line[k] == ' ' {
							cut = k + 1
							break
						}
						if !isWordRune(line[k]) {
							break
						}
					}
				}
				out = append(out, strings.TrimRight(string(line[:cut]), " "))
				line = append([]rune(nil), line[cut:]...)
				w = s.pdf.GetStringWidth(string(line))
			}
			line = append(line, r)
			w += cw
		}
		out = append(out, string(line))
	}
	return out
}

// isWordRune is a character of a Latin word, a number (8,600.50) or a
// code, which a line should not be broken inside.
func isWordRune(r rune) bool {
	return r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune(".,:-*_/@", r))
}

// signatures draws the lines a printed form is signed on.
func (s *sheet) signatures(who ...string) {
	p := s.pdf
	s.ensure(18)
	p.Ln(6)
	w := textWidth / float64(len(who))
	p.SetX(marginSide)
	for _, label := range who {
		p.CellFormat(w, 8, printable(label)+"：______________", "", 0, "L", false, 0, "")
	}
	p.Ln(10)
}

// dateZH writes a day as 2026年3月5日.
func dateZH(d domain.Date) string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%d年%d月%d日", d.Year, d.Month, d.Day)
}
