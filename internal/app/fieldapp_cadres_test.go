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
// new name and phone. Only such a phone's sync looks through the pairings
// for names missing: once named, the replica is marked and not looked at.
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

	// Whether a replica holds unnamed pairings is a read of every pairing
	// of the scope, so a sync looks only at a replica not marked as named:
	// pairingScans counts the looks (reads of the records by the pairing
	// key range) from here on, named whether the replica is marked.
	const countScans = `(() => {
		window.pairingScans = 0;
		for (const m of ["getAll", "getAllKeys", "openCursor", "openKeyCursor", "count"]) {
			const read = IDBObjectStore.prototype[m];
			IDBObjectStore.prototype[m] = function (q, ...rest) {
				if (this.name === "records" && q instanceof IDBKeyRange && String(q.lower).startsWith("pairing:")) window.pairingScans++;
				return read.call(this, q, ...rest);
			};
		}
		return 0;
	})()`
	pairingScans := func() int { return browsertest.Get(b, chromedp.Evaluate[int](`window.pairingScans ?? -1`)) }
	named := func() bool {
		return browsertest.Get(b, chromedp.Evaluate[bool](`(async () => {
			const { openDB, kvGet } = await import("/app/js/db.js");
			const { PAIRINGS_NAMED } = await import("/app/js/sync.js");
			const db = await openDB();
			const marked = await kvGet(db, PAIRINGS_NAMED);
			db.close();
			return marked === true;
		})()`, chromedp.EvalAwaitPromise))
	}
	browsertest.Get(b, chromedp.Evaluate[int](countScans))
	syncAgain(b)
	if n := pairingScans(); n != 0 || !named() {
		t.Errorf("a sync of a replica this build pulled looked through its pairings %d times (marked named: %v); want none, marked", n, named())
	}

	// A phone that pulled its pairings before they carried names (an older
	// build, which left no marker) looks once, walks its scope afresh
	// once, and has them named — and marked, so later syncs do not look.
	unnamed := `(async () => {
		const [{ openDB, tx, req }, { PAIRINGS_NAMED }] = await Promise.all([import("/app/js/db.js"), import("/app/js/sync.js")]);
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
		if (STRIP) await tx(db, "kv", "readwrite", (s) => req(s.kv.delete(PAIRINGS_NAMED)));
		db.close();
		return n;
	})()`
	if n := browsertest.Get(b, chromedp.Evaluate[int](strings.ReplaceAll(unnamed, "STRIP", "true"), chromedp.EvalAwaitPromise)); n == 0 {
		t.Fatal("the phone holds no pairing to strip of its name")
	}
	syncAgain(b)
	if n := browsertest.Get(b, chromedp.Evaluate[int](strings.ReplaceAll(unnamed, "STRIP", "false"), chromedp.EvalAwaitPromise)); n != 0 {
		t.Errorf("after a sync the phone still holds %d pairings pulled without their cadre's name", n)
	}
	looks := pairingScans()
	if looks < 1 || !named() {
		t.Errorf("the older build's replica was looked through %d times and marked named: %v; want looked at, marked", looks, named())
	}

	if code := l.api(t, sup, "PATCH", "/api/v1/users/"+colleague.ID.String(), `{"display_name":"王秀兰","phone":"13700137000"}`, nil); code != http.StatusOK {
		t.Fatalf("rename cadre10: %d", code)
	}
	syncAgain(b)
	if n := pairingScans(); n != looks {
		t.Errorf("a sync after the names came looked through the pairings again (%d looks, %d before)", n, looks)
	}
	if text := cadres("the colleague renamed"); !strings.Contains(text, "本人") || !strings.Contains(text, "王秀兰 13700137000") || strings.Contains(text, colleague.DisplayName) {
		t.Errorf("after the rename 帮扶责任人 reads %q; want 本人 and 王秀兰 13700137000", text)
	}
	if href := browsertest.Get(b, chromedp.Evaluate[string](`(document.querySelector("#hh-cadres a[href^='tel:']") || {}).href || ""`)); href != "tel:13700137000" {
		t.Errorf("the colleague's phone links to %q, want tel:13700137000", href)
	}
	fits(t, b, "household-cadres")
	noProblems(t, b)
}
