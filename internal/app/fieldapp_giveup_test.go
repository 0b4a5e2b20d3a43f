package app

import (
	"fmt"
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
// refused leaves the phone altogether; a refused edit of a visit the
// server has leaves the photo it added (refused too) with it. Before, 放弃
// took only the notice away, and the phone went on showing what the
// server would never have. A photo the server refused, of a visit it
// took, is taken off 待处理 by 删除照片, which deletes the phone's only
// copy and so asks first (it was a 知道了 that deleted it unasked).
// 重新提交 of a refused change asks too, saying what goes up again as it
// stands.
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
	// A visit the server takes; then an edit of it ended before it began,
	// with a photo that is no JPEG: the server refuses the edit and the photo.
	goodVisit := browsertest.Get(b, chromedp.Evaluate[string](`(async () => {
		const [{ openDB }, { Store }] = await Promise.all([import("/app/js/db.js"), import("/app/js/store.js")]);
		const db = await openDB();
		const id = await new Store(db).createVisit("`+household+`", {kind: "assist", started_at: new Date(Date.now() - 3600e3).toISOString(),
			ended_at: new Date(Date.now() - 600e3).toISOString(), notes: "了解家庭收入情况", checklist: {}, measures: [], met_with: [], gps: [], photos: []}, []);
		db.close();
		return id;
	})()`, chromedp.EvalAwaitPromise))
	// A visit the server takes with a photo that is no JPEG: the photo is
	// refused for good, and the phone's copy is the only one. Removing
	// it from 待处理 deletes it, so it is asked first.
	photoVisit := browsertest.Get(b, chromedp.Evaluate[string](`(async () => {
		const [{ openDB }, { Store }] = await Promise.all([import("/app/js/db.js"), import("/app/js/store.js")]);
		const db = await openDB();
		const bytes = new TextEncoder().encode("也不是照片");
		const sha256 = [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))].map((x) => x.toString(16).padStart(2, "0")).join("");
		const photo = { photo_id: crypto.randomUUID(), blob: new Blob([bytes], { type: "image/jpeg" }), sha256, size: bytes.length, type: "image/jpeg" };
		const id = await new Store(db).createVisit("`+household+`", {kind: "assist", started_at: new Date(Date.now() - 7200e3).toISOString(),
			ended_at: new Date(Date.now() - 5400e3).toISOString(), notes: "查看危房改造进度", checklist: {}, measures: [], met_with: [], gps: [],
			photos: [{ photo_id: photo.photo_id, sha256 }]}, [photo]);
		db.close();
		return id;
	})()`, chromedp.EvalAwaitPromise))
	syncAgain(b)
	editedVisit := browsertest.Get(b, chromedp.Evaluate[string](`(async () => {
		const [{ openDB, getAll }, { Store }, { visible }] = await Promise.all([import("/app/js/db.js"), import("/app/js/store.js"), import("/app/js/outbox.js")]);
		const db = await openDB();
		const rec = (await getAll(db, "records")).find((r) => r.entity === "visit" && r.version > 0 && r.id === "`+goodVisit+`");
		if (!rec) { db.close(); return ""; }
		const bytes = new TextEncoder().encode("不是照片");
		const sha256 = [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))].map((x) => x.toString(16).padStart(2, "0")).join("");
		const photo = { photo_id: crypto.randomUUID(), blob: new Blob([bytes], { type: "image/jpeg" }), sha256, size: bytes.length, type: "image/jpeg" };
		const v = visible(rec);
		await new Store(db).edit("visit", rec.id, "`+household+`", { ...v, ended_at: "2001-01-01T00:00:00Z",
			photos: [...(v.photos || []), { photo_id: photo.photo_id, sha256 }] }, [photo]);
		db.close();
		return rec.id;
	})()`, chromedp.EvalAwaitPromise))
	if editedVisit == "" {
		t.Fatal("the server did not take the visit to edit")
	}
	editPhone(b, household, "电话打不通")
	syncAgain(b)
	browsertest.Get(b, chromedp.Evaluate[string](`location.hash = "#/outbox"`))
	threeRefusals := until(`document.querySelectorAll(".attention-item.kind-rejected").length === 3 && document.querySelectorAll(".attention-item.kind-photo").length === 2`, 20*time.Second)
	b.Do(step("three refusals and the two photos' in 待处理", threeRefusals))

	// 重新提交 sends the refused phone number again as it stands; it asks
	// first, naming whose record and which field go up unchanged (it sent
	// them unasked). The server refuses it again.
	browsertest.Get(b, chromedp.Evaluate[bool](`[...[...document.querySelectorAll(".attention-item.kind-rejected")].find((li) => li.innerText.includes("联系电话"))
		.querySelectorAll("button")].find((x) => x.textContent === "重新提交").click(), true`))
	syncAgain(b)
	browsertest.Get(b, chromedp.Evaluate[string](`location.hash = "#/outbox"`))
	b.Do(step("the phone number refused again", threeRefusals))
	resendAsked := b.Dialogs()
	if asked := resendAsked; len(asked) != 1 || !strings.Contains(asked[0], "重新提交后") || !strings.Contains(asked[0], "按原样再次上传") ||
		!strings.Contains(asked[0], "农户信息修改（联系电话）") {
		t.Errorf("重新提交 asked %q; want one question saying the 农户信息修改（联系电话） goes up again as it stands (按原样再次上传)", asked)
	}

	for n := 3; n > 0; n-- {
		browsertest.Get(b, chromedp.Evaluate[bool](`[...document.querySelector(".attention-item.kind-rejected").querySelectorAll("button")].find((x) => x.textContent === "放弃").click(), true`))
		b.Do(step("放弃 takes one notice", until(fmt.Sprintf(`document.querySelectorAll(".attention-item.kind-rejected").length < %d`, n), 10*time.Second)))
	}
	b.Do(step("放弃 leaves the photo of the visit the server took", until(`!document.querySelector(".attention-item.kind-rejected") && document.body.dataset.attention === "1"`, 10*time.Second)))
	browsertest.Get(b, chromedp.Evaluate[bool](`[...document.querySelector(".attention-item.kind-photo").querySelectorAll("button")].find((x) => x.textContent === "删除照片").click(), true`))
	b.Do(step("删除照片 clears 待处理", until(`!document.querySelector(".attention-item.kind-photo") && document.body.dataset.attention === "0"`, 10*time.Second)))
	if asked := b.Dialogs()[len(resendAsked):]; len(asked) != 4 || !slices.ContainsFunc(asked, func(q string) bool { return strings.Contains(q, "恢复为服务器上的内容") }) ||
		!slices.ContainsFunc(asked, func(q string) bool { return strings.Contains(q, "走访记录将从本机删除") }) || !strings.Contains(asked[3], "照片将从本机删除") {
		t.Errorf("放弃 and 删除照片 asked %q; want a question for each edit (恢复为服务器上的内容), one for the visit (走访记录将从本机删除) and one for the photo (照片将从本机删除)", asked)
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
		const out = await tx(db, ["records", "attention", "photos"], "readonly", async (s) => [
			...(await req(s.records.getAll())).filter((r) => r.id === "`+visitID+`" || ((r.id === "`+household+`" || r.id === "`+editedVisit+`") && r.local && Object.keys(r.local).length))
				.map((r) => "record " + r.key + " " + JSON.stringify(r.local)),
			...(await req(s.attention.getAll())).map((a) => "attention " + a.kind),
			...(await req(s.photos.getAll())).map((p) => "photo of " + p.visit_id)]);
		db.close();
		return out;
	})()`, chromedp.EvalAwaitPromise))
	if len(held) != 0 {
		t.Errorf("after 放弃 the phone still holds %q", held)
	}
	noProblems(t, b, "?visit_id="+editedVisit, "?visit_id="+photoVisit) // the photos that are no JPEG: 415, as meant
}
