package app

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/fieldvisit/fieldvisit/internal/testkit/pdftest"
)

var printLink = regexp.MustCompile(`<a class="button" href="(/ui/[^"]+\.(?:pdf|zip))">([^<]+)</a>`)

// printedTitles is the title each print link's PDF carries.
var printedTitles = map[string]string{"打印帮扶记录卡": "帮扶记录卡", "打印明白卡": "明白卡", "打印一户一档": "一户一档",
	"本村明白卡（PDF）": "明白卡", "打印本月帮扶手册": "帮扶手册"}

// consolePrintedForms: the household page links its 帮扶记录卡, 明白卡 and
// 一户一档 (and, for a supervisor, the village's 明白卡 as one PDF or a
// ZIP), the cadre page this month's 帮扶手册; each link answers the form
// under the session, and a household outside the cadre's pairings is the
// 404 page, not a PDF.
func consolePrintedForms(t *testing.T, e *consoleEnv) {
	supervisor, cadre := e.principal(t, "supervisor"), e.principal(t, "cadre01")
	var own, other string
	paired := map[string]bool{}
	for _, hs := range e.householdsOf(t, cadre) {
		for id := range hs {
			own, paired[id.String()] = id.String(), true
		}
	}
	for _, hs := range e.householdsOf(t, supervisor) {
		for id := range hs {
			if other == "" && !paired[id.String()] {
				other = id.String()
			}
		}
	}
	if own == "" || other == "" {
		t.Fatal("the demo has no household of cadre01's and another")
	}
	for _, tc := range []struct {
		who, page string
		links     []string
	}{
		{"supervisor", "/ui/households/" + own, []string{"打印帮扶记录卡", "打印明白卡", "打印一户一档", "本村明白卡（PDF）", "本村明白卡（每户一个PDF，ZIP）"}},
		{"cadre01", "/ui/households/" + own, []string{"打印帮扶记录卡", "打印明白卡", "打印一户一档"}},
		{"cadre01", "/ui/cadres/" + cadre.UserID.String(), []string{"打印本月帮扶手册"}},
	} {
		c := e.client(t)
		c.mustLogin(tc.who)
		p := c.get(tc.page)
		if p.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %d", tc.who, tc.page, p.StatusCode)
		}
		var labels []string
		for _, m := range printLink.FindAllStringSubmatch(p.body, -1) {
			labels = append(labels, m[2])
			form := c.get(strings.ReplaceAll(m[1], "&amp;", "&"))
			want := "application/pdf"
			if strings.HasSuffix(m[1], ".zip") {
				want = "application/zip"
			}
			if form.StatusCode != http.StatusOK || form.Header.Get("Content-Type") != want {
				t.Errorf("%s %s: %d %q", tc.who, m[1], form.StatusCode, form.Header.Get("Content-Type"))
				continue
			}
			if want == "application/pdf" && !strings.Contains(pdftest.Text(t, []byte(form.body)), printedTitles[m[2]]) {
				t.Errorf("%s %s: the PDF does not carry its form's name", tc.who, m[1])
			}
		}
		if strings.Join(labels, ",") != strings.Join(tc.links, ",") {
			t.Errorf("%s on %s: print links %v, want %v", tc.who, tc.page, labels, tc.links)
		}
	}
	c := e.client(t)
	c.mustLogin("cadre01")
	if p := c.get("/ui/households/" + other + "/forms/clear-card.pdf"); p.StatusCode != http.StatusNotFound || strings.Contains(p.Header.Get("Content-Type"), "pdf") {
		t.Errorf("cadre01 printing another household's card: %d %q", p.StatusCode, p.Header.Get("Content-Type"))
	}
}
