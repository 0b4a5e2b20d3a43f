package importer_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/importer"
	"github.com/fieldvisit/fieldvisit/internal/testkit/storetest"
)

// threeHouseholds is a valid CSV of three one-person households (rows 2 to
// 4) whose 住址 cells read ADDR1, ADDR2 and ADDR3, for a test to break.
func threeHouseholds(t *testing.T) []byte {
	t.Helper()
	var rows [][]string
	for i, head := range []string{"甲", "乙", "丙"} {
		r := oneHousehold(fmt.Sprintf("Q00%d", i+1), head, idNum("19800101", fmt.Sprintf("%d1%d", i+1, 1)))
		r[cAddress] = fmt.Sprintf("ADDR%d", i+1)
		rows = append(rows, r)
	}
	return writeCSV(t, sampleHeader, rows)
}

// TestAMalformedCSVRowIsReportedAndNothingIsImported: a row whose quotes do
// not pair up is a problem on that row and cell, in Chinese, and the import
// writes nothing, with or without AllowPartial (the file was not read
// whole); an unclosed quote on the last row used to drop that household
// and import the others as a success.
func TestAMalformedCSVRowIsReportedAndNothingIsImported(t *testing.T) {
	cases := []malformedCase{
		{name: "an unclosed quote on the last row", replace: map[string]string{"ADDR3": `"东风村12号`},
			want: []errKey{{4, "住址", "unclosed_quote"}}},
		{name: "an unclosed quote on the last row, no final line break", replace: map[string]string{"ADDR3": `"东风村12号`},
			want: []errKey{{4, "住址", "unclosed_quote"}}, noEOL: true},
		{name: "an unclosed quote in the middle swallows the rows below", replace: map[string]string{"ADDR2": `"东风村12号`},
			want: []errKey{{3, "住址", "unclosed_quote"}}, rest: true},
		{name: "a bare quote in an unquoted cell", replace: map[string]string{"ADDR2": `东风村"12号`},
			want: []errKey{{3, "住址", "bare_quote"}}},
		{name: "a quoted cell with a stray quote", replace: map[string]string{"ADDR1": `"东风村"12号"`},
			want: []errKey{{2, "住址", "stray_quote"}}},
		{name: "every malformed row is reported", replace: map[string]string{"ADDR1": `东风村"12号`, "ADDR3": `"东风村12号`},
			want: []errKey{{2, "住址", "bare_quote"}, {4, "住址", "unclosed_quote"}}},
	}
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) { malformedCases(t, newEnv(t, dialect), cases) })
	}
	t.Run("ReadSheet refuses a malformed CSV naming the row", func(t *testing.T) {
		_, err := importer.ReadSheet(strings.NewReader("a,b,c\r\n1,2,3\r\n4,\"5,6\r\n"), 100, "")
		var de *domain.Error
		if !errors.As(err, &de) || len(de.Fields) != 1 || de.Fields[0].Field != "row 3" || de.Fields[0].Reason != "unclosed_quote" {
			t.Fatalf("err = %v", err)
		}
	})
}

type malformedCase struct {
	name    string
	replace map[string]string // in the valid file
	want    []errKey
	rest    bool // the problem says the rows after it were lost
	noEOL   bool // the file does not end with a line break
}

func malformedCases(t *testing.T, e *env, cases []malformedCase) {
	for _, c := range cases {
		for _, partial := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/partial=%v", c.name, partial), func(t *testing.T) {
				b := threeHouseholds(t)
				for from, to := range c.replace {
					if !bytes.Contains(b, []byte(from)) {
						t.Fatalf("%q not in the file", from)
					}
					b = bytes.Replace(b, []byte(from), []byte(to), 1)
				}
				if c.noEOL {
					b = bytes.TrimSuffix(b, []byte("\r\n"))
				}
				before := e.rowCounts(t)
				rep := e.run(t, b, func(o *importer.Options) { o.AllowPartial = partial })
				if got := errKeys(rep.Errors); fmt.Sprint(got) != fmt.Sprint(errKeys(toErrs(c.want))) {
					t.Fatalf("errors:\n got  %v\n want %v\nfull: %+v", got, c.want, rep.Errors)
				}
				for _, er := range rep.Errors {
					if !hasHan(er.MessageZH) || !strings.Contains(er.MessageZH, "「住址」列") || !strings.Contains(er.MessageZH, "未导入") {
						t.Errorf("the message does not name the column and say nothing was imported: %q", er.MessageZH)
					}
				}
				if got := strings.Contains(rep.Errors[len(rep.Errors)-1].MessageZH, "其后的内容"); got != c.rest {
					t.Errorf("the message says the rows after were lost: %v, want %v (%q)", got, c.rest, rep.Errors[len(rep.Errors)-1].MessageZH)
				}
				if rep.Applied || rep.OK() {
					t.Errorf("applied=%v ok=%v, want neither", rep.Applied, rep.OK())
				}
				if after := e.rowCounts(t); fmt.Sprint(after) != fmt.Sprint(before) {
					t.Errorf("rows were written: %v → %v", before, after)
				}
			})
		}
	}
	t.Run("the same file well quoted imports all three households", func(t *testing.T) {
		rep := e.run(t, bytes.Replace(threeHouseholds(t), []byte("ADDR3"), []byte(`"东风村""12号"""`), 1))
		noErrors(t, rep)
		if rep.Households.Created != 3 {
			t.Fatalf("households %+v, want 3 created", rep.Households)
		}
		if got := e.households(t)["丙"].Address; got != `东风村"12号"` {
			t.Errorf("丙's address %q", got)
		}
	})
	t.Run("a malformed row in a region sheet is reported too", func(t *testing.T) {
		b := writeCSV(t, regionHeader, [][]string{{"城关镇", "410122100000", "新华村", "410122100203", "否", "", ""},
			{"城关镇", "410122100000", "NAME", "410122100204", "否", "", ""}})
		before := e.rowCounts(t)
		rep := e.run(t, bytes.Replace(b, []byte("NAME"), []byte(`"新二村`), 1))
		if got := errKeys(rep.Errors); fmt.Sprint(got) != fmt.Sprint([]errKey{{3, "村", "unclosed_quote"}}) {
			t.Fatalf("errors: %+v", rep.Errors)
		}
		if rep.Kind != importer.KindRegions || rep.Applied {
			t.Errorf("kind %s applied %v", rep.Kind, rep.Applied)
		}
		if after := e.rowCounts(t); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("rows were written: %v → %v", before, after)
		}
	})
	t.Run("XLSX cells hold quotes as text", func(t *testing.T) {
		r1 := oneHousehold("X001", "丁", idNum("19800101", "411"))
		r1[cAddress] = `"东风村12号`
		r2 := oneHousehold("X002", "戊", idNum("19800101", "421"))
		r2[cAddress] = `东风村"12号`
		rep := e.run(t, writeXLSX(t, sampleHeader, [][]string{r1, r2}))
		noErrors(t, rep)
		hs := e.households(t)
		if hs["丁"].Address != `"东风村12号` || hs["戊"].Address != `东风村"12号` {
			t.Errorf("addresses %q, %q", hs["丁"].Address, hs["戊"].Address)
		}
	})
}
