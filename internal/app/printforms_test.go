package app

import (
	"archive/zip"
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/internal/testkit/pdftest"
)

// pdfText reads a PDF answer back as text with its white space dropped
// (a table cell's wrapped lines come back apart).
func pdfText(t *testing.T, r response) string {
	t.Helper()
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("want a PDF, got %d %q: %.300s", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	return strings.Join(strings.Fields(pdftest.Text(t, r.Body)), "")
}

// zipEntries reads a ZIP answer: each entry's name and text.
func zipEntries(t *testing.T, r response) map[string]string {
	t.Helper()
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("want a ZIP, got %d %q: %.300s", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	zr, err := zip.NewReader(bytes.NewReader(r.Body), int64(len(r.Body)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = strings.Join(strings.Fields(pdftest.Text(t, b)), "")
	}
	return out
}

// TestPrintedForms: the household forms, the cadre's 帮扶手册 and a
// village's forms in bulk, as PDF with the Chinese text in it, scoped as
// the household file: another village's supervisor, another cadre and an
// inspector without the household in a task get 404, as for an unknown
// form or cadre; a bad month or a town for a village is a 422 naming the
// field.
func TestPrintedForms(t *testing.T) {
	dialectsAt(t, reportNow, func(t *testing.T, e *testEnv) {
		cadreA, supA := e.login(t, "cadre-a"), e.login(t, "supervisor-a")
		hA := e.householdA.Household
		e.visitOn(t, cadreA, hA.ID, "2026-11-12")
		// The 明白卡 prints whom to call: the cadre's phone, from the account.
		if r := e.do(t, "PATCH", "/api/v1/users/"+e.cadreA.ID.String(), e.login(t, "admin"), map[string]any{"phone": "13812345678"}); r.Status != http.StatusOK {
			t.Fatalf("set cadre A's phone: %d %s", r.Status, r.Body)
		}
		head := hA.HeadName
		household := "/api/v1/households/" + hA.ID.String() + "/forms/"

		t.Run("each household form prints the household", func(t *testing.T) {
			for form, want := range map[string][]string{
				"record-card.pdf": {"帮扶记录卡", head, "2026-11-12", "帮扶走访", "cadre-a"},
				"clear-card.pdf":  {"精准扶贫明白卡", head, "三、帮扶责任人及联系方式", "cadre-a", "13812345678", "帮扶计划（一户一案）暂无记录。"},
				"file.pdf":        {"一户一档", head, "四、结对帮扶（历任帮扶责任人）", "13812345678", "八、帮扶走访记录", "九、上户照片清单"},
			} {
				for _, who := range []string{supA, cadreA} {
					r := e.do(t, "GET", household+form, who, nil)
					text := pdfText(t, r)
					for _, w := range want {
						if !strings.Contains(text, w) {
							t.Errorf("%s: %q missing", form, w)
						}
					}
					if !strings.Contains(r.Header.Get("Content-Disposition"), ".pdf") {
						t.Errorf("%s: Content-Disposition %q", form, r.Header.Get("Content-Disposition"))
					}
				}
			}
		})

		t.Run("the cadre's handbook of a month", func(t *testing.T) {
			for _, who := range []string{cadreA, supA} {
				text := pdfText(t, e.do(t, "GET", "/api/v1/cadres/"+e.cadreA.ID.String()+"/handbook.pdf?month=2026-11", who, nil))
				for _, w := range []string{"帮扶手册", "2026年11月", "13812345678", head, "本月走访1次，涉及1户"} {
					if !strings.Contains(text, w) {
						t.Errorf("handbook: %q missing", w)
					}
				}
			}
			october := pdfText(t, e.do(t, "GET", "/api/v1/cadres/"+e.cadreA.ID.String()+"/handbook.pdf?month=2026-10", cadreA, nil))
			if !strings.Contains(october, "本月没有走访记录") || !strings.Contains(october, head) {
				t.Error("October's handbook should have no visit and list the household as not visited")
			}
		})

		t.Run("a village in bulk", func(t *testing.T) {
			village := "/api/v1/regions/" + e.villageA.ID.String() + "/forms/"
			if text := pdfText(t, e.do(t, "GET", village+"clear-card.pdf", supA, nil)); !strings.Contains(text, head) {
				t.Errorf("the village's cards miss %s", head)
			}
			entries := zipEntries(t, e.do(t, "GET", village+"record-card.zip", supA, nil))
			if len(entries) == 0 {
				t.Fatal("empty ZIP")
			}
			for name, text := range entries {
				if !strings.HasSuffix(name, ".pdf") || !strings.Contains(text, "帮扶记录卡") {
					t.Errorf("entry %s is no record card", name)
				}
			}
			// A cadre's bundle of the village holds their own households.
			for name := range zipEntries(t, e.do(t, "GET", village+"clear-card.zip", cadreA, nil)) {
				if !strings.Contains(name, head) {
					t.Errorf("cadre A's bundle holds %s, not paired with them", name)
				}
			}
		})

		t.Run("out of scope and bad input", func(t *testing.T) {
			supB, cadreB, insp := e.login(t, "supervisor-b"), e.login(t, "cadre-b"), e.login(t, "inspector")
			cadreHandbook := "/api/v1/cadres/" + e.cadreA.ID.String() + "/handbook.pdf"
			villageA := "/api/v1/regions/" + e.villageA.ID.String() + "/forms/"
			for _, tc := range []struct {
				name, tok, path string
				status          int
				field           string
			}{
				{"another village's supervisor", supB, household + "file.pdf", 404, ""},
				{"another cadre", cadreB, household + "clear-card.pdf", 404, ""},
				{"an inspector without the household in a task", insp, household + "record-card.pdf", 404, ""},
				{"an unknown form", supA, household + "card.pdf", 404, ""},
				{"a household form as ZIP", supA, household + "file.zip", 404, ""},
				{"an unknown household", supA, "/api/v1/households/" + uuid.NewString() + "/forms/file.pdf", 404, ""},
				{"another cadre's handbook", cadreB, cadreHandbook, 404, ""},
				{"another village's supervisor's handbook", supB, cadreHandbook, 404, ""},
				{"an inspector's handbook", insp, cadreHandbook, 404, ""},
				{"a supervisor is no cadre", supA, "/api/v1/cadres/" + e.supervisorA.ID.String() + "/handbook.pdf", 404, ""},
				{"a month that is none", supA, cadreHandbook + "?month=2026-13", 422, "month"},
				{"a month before 2013", supA, cadreHandbook + "?month=2012-12", 422, "month"},
				{"an unknown parameter", supA, cadreHandbook + "?year=2026", 422, "year"},
				{"another village in bulk", supB, villageA + "clear-card.pdf", 404, ""},
				{"a town in bulk", e.login(t, "admin"), "/api/v1/regions/" + e.town.ID.String() + "/forms/clear-card.zip", 422, "id"},
				{"an unknown bundle", supA, villageA + "clear-card.rar", 404, ""},
			} {
				r := e.do(t, "GET", tc.path, tc.tok, nil)
				if r.Status != tc.status {
					t.Errorf("%s: %d, want %d: %.200s", tc.name, r.Status, tc.status, r.Body)
					continue
				}
				if tc.field != "" && !r.problem(t).hasField(tc.field) {
					t.Errorf("%s: the problem does not name %s: %s", tc.name, tc.field, r.Body)
				}
			}
		})
	})
}
