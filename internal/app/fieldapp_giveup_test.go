package app

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/fieldvisit/fieldvisit/internal/testkit/browsertest"
)

// aCadreGivesUpRefusedChanges: 放弃 on a change the server refused gives
// it up for real, once the cadre has said yes to the question. A refused
// edit of the household's phone leaves the household showing the
// server's number again; a visit recorded on the phone that the server
// refused leaves the phone altogether. Before, 放弃 took only the notice
// away, and the phone went on showing what the server would never have.
func aCadreGivesUpRefusedChanges(t *testing.T, l *fieldLink) {
	b := l.signedInPhone("cadre11", t)
	household := firstHousehold(b)
	browsertest.Get(b, chromedp.Evaluate[string](`location.hash = "#/h/`+household+`"`))
	b.Do(step("household file", chromedp.WaitVisible(chromedp.CSS(`#hh-phone`))))
	serverPhone := browsertest.Get(b, chromedp.Evaluate[string](`document.querySelector("#hh-phone").textContent`))

	// A visit with no start time, as a broken build would record it, and
	// a phone number that is none: the server refuses both.
	visitID := browsertest.Get(b, chromedp.Evaluate[string](`(async () => {
		const [{ openDB }, { Store }] = await Promise.all([import("/app/js/db.js"), import("/app/js/store.js")]);
		const db = await openDB();
		const id = await new Store(db).createVisit("`+household+`", {notes: "没有开始时间的走访"}, []);
		db.close();
		return id;
	})()`, chromedp.EvalAwaitPromise))
	editPhone(b, household, "电话打不通")
	syncAgain(b)
	browsertest.Get(b, chromedp.Evaluate[string](`location.hash = "#/outbox"`))
	b.Do(step("both refusals in 待处理", until(`document.querySelectorAll(".attention-item.kind-rejected").length === 2`, 10*time.Second)))
	for range 2 {
		browsertest.Get(b, chromedp.Evaluate[bool](`[...document.querySelector(".attention-item.kind-rejected").querySelectorAll("button")].find((x) => x.textContent === "放弃").click(), true`))
		b.Do(step("放弃 takes one notice", until(`document.querySelectorAll(".attention-item.kind-rejected").length < 2`, 10*time.Second)))
	}
	b.Do(step("放弃 clears 待处理", until(`!document.querySelector(".attention-item.kind-rejected") && document.body.dataset.attention === "0"`, 10*time.Second)))
	if asked := b.Dialogs(); len(asked) != 2 || !slices.ContainsFunc(asked, func(q string) bool { return strings.Contains(q, "恢复为服务器上的内容") }) ||
		!slices.ContainsFunc(asked, func(q string) bool { return strings.Contains(q, "走访记录将从本机删除") }) {
		t.Errorf("放弃 asked %q; want one question for the edit (恢复为服务器上的内容) and one for the visit (走访记录将从本机删除)", asked)
	}

	browsertest.Get(b, chromedp.Evaluate[string](`location.hash = "#/h/`+household+`"`))
	b.Do(step("household file again", chromedp.WaitVisible(chromedp.CSS(`#hh-phone`))))
	shown := browsertest.Get(b, chromedp.Evaluate[map[string]any](`({
		phone: document.querySelector("#hh-phone").textContent,
		waiting: !!document.querySelector(".card.file .waiting"),
		visit: !!document.querySelector('.visits [data-id="`+visitID+`"]')})`))
	if shown["phone"] != serverPhone || shown["waiting"] != false || shown["visit"] != false {
		t.Errorf("after 放弃 the household shows %v; want the server's phone %q, no 修改待上传 and not the refused visit", shown, serverPhone)
	}
	held := browsertest.Get(b, chromedp.Evaluate[[]string](`(async () => {
		const [{ openDB, tx, req }] = await Promise.all([import("/app/js/db.js")]);
		const db = await openDB();
		const out = await tx(db, ["records", "attention"], "readonly", async (s) => [
			...(await req(s.records.getAll())).filter((r) => r.id === "`+visitID+`" || (r.id === "`+household+`" && r.local && Object.keys(r.local).length))
				.map((r) => "record " + r.key + " " + JSON.stringify(r.local)),
			...(await req(s.attention.getAll())).map((a) => "attention " + a.kind)]);
		db.close();
		return out;
	})()`, chromedp.EvalAwaitPromise))
	if len(held) != 0 {
		t.Errorf("after 放弃 the phone still holds %q", held)
	}
	noProblems(t, b)
}
