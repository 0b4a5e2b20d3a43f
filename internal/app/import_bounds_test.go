package app

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestAHostileRegisterIsRefusedBeforeItIsUnpacked: an upload of a few
// kilobytes that unpacks or splits into far more than any register — an
// XLSX part of tens of megabytes read whole, a shared-string table of
// millions of empty strings, a text run of megabytes, rows reaching column
// XFD, a CSV line of tens of thousands of cells — is refused with 422 at
// file naming why, and writes nothing. Each of these took the server to
// gigabytes of memory (a 1 MB workbook to over 5 GB) before it answered.
func TestAHostileRegisterIsRefusedBeforeItIsUnpacked(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	admin := e.login(t, "admin")
	cases := []struct {
		name   string
		file   []byte
		reason string
	}{
		{"a styles part of 40 MB, read whole", hostileWorkbook(t, sheetWithRows(""),
			workbookPart{name: "xl/styles.xml", body: repeated(" ", 40<<20)}), "too_large"},
		{"an unrelated part of 40 MB, read whole", hostileWorkbook(t, sheetWithRows(""),
			workbookPart{name: "xl/media/image1.bin", body: repeated("\x00", 40<<20)}), "too_large"},
		{"a shared-string table of two million empty strings", hostileWorkbook(t, sheetWithRows(`<row r="2"><c r="A2" t="s"><v>0</v></c></row>`),
			workbookPart{name: "xl/sharedStrings.xml", body: io.MultiReader(strings.NewReader(`<sst xmlns="`+spreadsheetML+`">`),
				repeated("<x:si/>", 2_000_100), strings.NewReader(`</sst>`))}), "too_large"},
		{"a text run of 2 MB in the sheet", hostileWorkbook(t, sheetWithRows(`<row r="2"><c r="A2" t="inlineStr"><is><t>`+strings.Repeat("村", 700_000)+`</t></is></c></row>`)), "too_large"},
		{"parts declaring 600 MB unpacked", hostileWorkbook(t, sheetWithRows(""),
			workbookPart{name: "xl/worksheets/sheet2.xml", declared: 600 << 20}), "too_large"},
		{"a row reaching column XFD", hostileWorkbook(t, sheetWithRows(`<row r="2"><c r="A2" t="inlineStr"><is><t>x</t></is></c><c r="XFD2" t="inlineStr"><is><t>y</t></is></c></row>`)), "too_many_columns"},
		{"a CSV row of 300 filled cells", []byte("乡镇,所属村,户主姓名\n" + strings.Repeat("x,", 299) + "x\n"), "too_many_columns"},
		{"a CSV line of 2 MB", []byte("乡镇,所属村,户主姓名\n新华乡,新华村," + strings.Repeat("长", 700_000) + "\n"), "too_large"},
		{"a CSV line of 20,000 empty cells", []byte("乡镇,所属村,户主姓名\n新华乡" + strings.Repeat(",", 20_000) + "\n"), "too_many_columns"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := e.counts(t)
			r := e.rawRequest(t, "POST", "/api/v1/imports?create_regions=true", admin, map[string]string{"Content-Type": "application/octet-stream"}, tc.file)
			p := r.problem(t)
			if r.Status != http.StatusUnprocessableEntity || len(p.Errors) != 1 || p.Errors[0].Field != "file" || p.Errors[0].Reason != tc.reason {
				t.Fatalf("%d bytes: want 422 at file, reason %s; got %d %.600s", len(tc.file), tc.reason, r.Status, r.Body)
			}
			if p.Errors[0].MessageZH == "" {
				t.Errorf("no Chinese message: %s", r.Body)
			}
			sameCounts(t, before, e.counts(t))
		})
	}
	// The bounds leave a register as offices write it alone.
	if r := e.rawRequest(t, "POST", "/api/v1/imports?create_regions=true&dry_run=true", admin, map[string]string{"Content-Type": "text/csv"}, []byte(registerSheet())); r.Status != http.StatusOK {
		t.Fatalf("a plain register: %d %s", r.Status, r.Body)
	}
}

const spreadsheetML = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"

// workbookPart is a part added to a hostile workbook: its body, or only
// a declared unpacked size (the part's data is then a few bytes).
type workbookPart struct {
	name     string
	body     io.Reader
	declared uint64
}

// sheetWithRows is a one-sheet workbook's sheet: a register's heading row,
// then rows (SpreadsheetML).
func sheetWithRows(rows string) io.Reader {
	head := `<row r="1">`
	for i, h := range []string{"乡镇", "所属村", "户主姓名", "与户主关系", "姓名", "身份证号"} {
		head += fmt.Sprintf(`<c r="%c1" t="inlineStr"><is><t>%s</t></is></c>`, 'A'+i, h)
	}
	return strings.NewReader(`<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="` + spreadsheetML + `"><sheetData>` + head + `</row>` + rows + `</sheetData></worksheet>`)
}

// hostileWorkbook zips a minimal XLSX around sheet, with the extra parts.
func hostileWorkbook(t *testing.T, sheet io.Reader, extra ...workbookPart) []byte {
	t.Helper()
	rels := `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`
	parts := []workbookPart{
		{name: "[Content_Types].xml", body: strings.NewReader(`<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`)},
		{name: "_rels/.rels", body: strings.NewReader(rels + `<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`)},
		{name: "xl/workbook.xml", body: strings.NewReader(`<workbook xmlns="` + spreadsheetML + `" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="户信息" sheetId="1" r:id="rId1"/></sheets></workbook>`)},
		{name: "xl/_rels/workbook.xml.rels", body: strings.NewReader(rels + `<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`)},
		{name: "xl/worksheets/sheet1.xml", body: sheet},
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range append(parts, extra...) {
		if p.declared > 0 {
			w, err := zw.CreateRaw(&zip.FileHeader{Name: p.name, Method: zip.Store, CompressedSize64: 4, UncompressedSize64: p.declared})
			if err == nil {
				_, err = w.Write([]byte("<a/>"))
			}
			if err != nil {
				t.Fatal(err)
			}
			continue
		}
		w, err := zw.Create(p.name)
		if err == nil {
			_, err = io.Copy(w, p.body)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// repeated reads s n times over without holding them.
func repeated(s string, n int) io.Reader {
	return io.LimitReader(&cycle{s: s}, int64(len(s)*n))
}

type cycle struct {
	s string
	i int
}

func (c *cycle) Read(p []byte) (int, error) {
	for k := range p {
		p[k] = c.s[c.i]
		c.i = (c.i + 1) % len(c.s)
	}
	return len(p), nil
}
