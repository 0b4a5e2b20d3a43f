package app

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/fieldvisit/fieldvisit/internal/testkit/browsertest"
	"github.com/fieldvisit/fieldvisit/wire"
)

// aCadreSeesWhoIsPairedWithTheHousehold: the household's screen names its
// responsible cadres (帮扶责任人) as its 明白卡 does — the cadre as 本人, a
// colleague paired with the same household by name with the phone to
// call, never as 其他干部 — a phone holding pairings pulled before they
// carried names gets them with its next sync, and so does a colleague's
// new name and phone.
func aCadreSeesWhoIsPairedWithTheHousehold(t *testing.T, l *fieldLink) {
	cadreTok, colleagueTok, sup := l.apiLogin(t, "cadre09"), l.apiLogin(t, "cadre10"), l.apiLogin(t, "supervisor")
	var own struct {
		Items []wire.Pairing `json:"items"`
	}
	if code := l.api(t, cadreTok, "GET", "/api/v1/pairings?limit=1", "", &own); code != http.StatusOK || len(own.Items) == 0 {
		t.Fatalf("cadre09's pairings: %d %+v", code, own)
	}
	household := own.Items[0].HouseholdID.String()
	var colleague wire.User
	l.api(t, colleagueTok, "GET", "/api/v1/me", "", &colleague)
	if code := l.api(t, sup, "POST", "/api/v1/pairings", fmt.Sprintf(`{"household_id":%q,"cadre_id":%q}`, household, colleague.ID), nil); code != http.StatusCreated {
		t.Fatalf("pair cadre10 with cadre09's household: %d", code)
	}

	b := l.signedInPhone("cadre09", t)
	cadres := func(name string) string {
		browsertest.Get(b, chromedp.Evaluate[string](`location.hash = "#/households"`))
		b.Do(chromedp.WaitVisible(chromedp.CSS(`.households li a`)))
		browsertest.Get(b, chromedp.Evaluate[string](`location.hash = "#/h/`+household+`"`))
		b.Do(step(name, chromedp.WaitVisible(chromedp.CSS(`#hh-cadres`))))
		return browsertest.Get(b, chromedp.Evaluate[string](`document.querySelector("#hh-cadres").textContent`))
	}
	if text := cadres("household's cadres"); !strings.Contains(text, "本人") || !strings.Contains(text, colleague.DisplayName) || strings.Contains(text, "其他干部") {
		t.Errorf("帮扶责任人 reads %q; want 本人 and the colleague %s by name", text, colleague.DisplayName)
	}

	// A phone that pulled its pairings before they carried names (an older
	// build) walks its scope afresh once, and has them named.
	unnamed := `(async () => {
		const [{ openDB, tx, req }] = await Promise.all([import("/app/js/db.js")]);
		const db = await openDB();
		const n = await tx(db, "records", "readwrite", async (s) => {
			let n = 0;
			for (const r of await req(s.records.getAll())) {
				if (r.entity !== "pairing") continue;
				if (STRIP) { delete r.data.cadre_name; delete r.data.cadre_phone; s.records.put(r); }
				if (!("cadre_name" in r.data)) n++;
			}
			return n;
		});
		db.close();
		return n;
	})()`
	if n := browsertest.Get(b, chromedp.Evaluate[int](strings.Replace(unnamed, "STRIP", "true", 1), chromedp.EvalAwaitPromise)); n == 0 {
		t.Fatal("the phone holds no pairing to strip of its name")
	}
	syncAgain(b)
	if n := browsertest.Get(b, chromedp.Evaluate[int](strings.Replace(unnamed, "STRIP", "false", 1), chromedp.EvalAwaitPromise)); n != 0 {
		t.Errorf("after a sync the phone still holds %d pairings pulled without their cadre's name", n)
	}

	if code := l.api(t, sup, "PATCH", "/api/v1/users/"+colleague.ID.String(), `{"display_name":"王秀兰","phone":"13700137000"}`, nil); code != http.StatusOK {
		t.Fatalf("rename cadre10: %d", code)
	}
	syncAgain(b)
	if text := cadres("the colleague renamed"); !strings.Contains(text, "本人") || !strings.Contains(text, "王秀兰 13700137000") || strings.Contains(text, colleague.DisplayName) {
		t.Errorf("after the rename 帮扶责任人 reads %q; want 本人 and 王秀兰 13700137000", text)
	}
	if href := browsertest.Get(b, chromedp.Evaluate[string](`(document.querySelector("#hh-cadres a[href^='tel:']") || {}).href || ""`)); href != "tel:13700137000" {
		t.Errorf("the colleague's phone links to %q, want tel:13700137000", href)
	}
	fits(t, b, "household-cadres")
	noProblems(t, b)
}
