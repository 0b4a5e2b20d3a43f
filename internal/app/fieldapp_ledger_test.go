package app

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/testkit/browsertest"
	"github.com/fieldvisit/fieldvisit/wire"
)

// aCadreRecordsALedgerItemOffline: with no signal, a cadre records a
// household's request (民生诉求) from its screen. A deadline already past
// is refused on the phone, in the server's words, and nothing is saved;
// the request with a deadline ahead is shown 待上传 at once, is still there
// when the app is opened again offline, and once the signal is back the
// ledger holds it exactly once — its text, deadline and household, with
// the cadre answering for it — and the phone no longer holds it. One the
// server refuses comes back to 待处理 as 诉求台账, not as 农户信息, and its
// 修改 opens it as entered with the server's reason; corrected, it reaches
// the ledger once, under the id the phone gave it. One given up (放弃)
// leaves the phone altogether, also once the app is opened again.
func aCadreRecordsALedgerItemOffline(t *testing.T, l *fieldLink) {
	b := l.signedInPhone("cadre08", t)
	household := firstHousehold(b)
	today := time.Now().In(domain.Shanghai)
	yesterday, due := today.AddDate(0, 0, -1).Format(time.DateOnly), today.AddDate(0, 0, 30).Format(time.DateOnly)
	problem := fmt.Sprintf("村道破损，雨天出行困难（%d）", time.Now().UnixNano())

	b.Offline(true)
	openHousehold := func() {
		browsertest.Get(b, chromedp.Evaluate[string](`location.hash = "#/h/`+household+`"`))
		b.Do(step("household file", chromedp.WaitVisible(chromedp.CSS(`#new-ledger-item`))))
	}
	openHousehold()
	fill := func(deadline string) {
		browsertest.Get(b, chromedp.Evaluate[bool](`document.querySelector("#ledger-form select[name=kind]").value = "livelihood_request",
			document.querySelector("#ledger-form input[name=deadline]").value = "`+deadline+`", true`))
		b.Do(tap(`#save-ledger-item`))
	}
	b.Do(tap(`#new-ledger-item`), step("ledger form", chromedp.WaitVisible(chromedp.CSS(`#ledger-form`))),
		chromedp.SendKeys(chromedp.CSS(`#ledger-form textarea[name=problem]`), problem))
	fits(t, b, "ledger-form")
	fill(yesterday)
	b.Do(step("refusal shown", chromedp.WaitVisible(chromedp.CSS(`#ledger-form .error`))))
	if msg := browsertest.Get(b, chromedp.Evaluate[string](`document.querySelector("#ledger-form .error").textContent`)); msg != "办理时限不能早于今天" {
		t.Errorf("a deadline of yesterday is refused with %q, want the server's 办理时限不能早于今天", msg)
	}
	if n := browsertest.Get(b, chromedp.Evaluate[string](`document.body.dataset.records`)); n != "0" {
		t.Errorf("a request due yesterday went to the outbox: %s records waiting", n)
	}
	fill(due)
	waiting := `[...document.querySelectorAll(".ledger-item")].some((li) => li.textContent.includes(` + jsString(problem) + `) && li.textContent.includes("待上传") && li.textContent.includes("` + due + `"))`
	b.Do(step("request saved", chromedp.WaitVisible(chromedp.CSS(`#new-ledger-item`))),
		step("shown 待上传", until(waiting+` && document.body.dataset.records === "1"`, 10*time.Second)))
	fits(t, b, "household-ledger")

	// The app opens again with no network at all, the request still there.
	l.openApp(b)
	b.Do(step("offline worklist", chromedp.WaitVisible(chromedp.CSS(`.worklist`))))
	openHousehold()
	b.Do(step("still 待上传", until(waiting, 10*time.Second)))

	backOnline(b)
	b.Do(synced(b))
	var cadre wire.User
	l.api(t, l.apiLogin(t, "cadre08"), "GET", "/api/v1/me", "", &cadre)
	var list struct {
		Items []wire.Rectification `json:"items"`
	}
	if code := l.api(t, l.apiLogin(t, "supervisor"), "GET", "/api/v1/ledgers/livelihood_request/items?limit=200&responsible_id="+cadre.ID.String(), "", &list); code != 200 {
		t.Fatalf("the supervisor's 民生诉求台账: %d", code)
	}
	var arrived []wire.Rectification
	for _, it := range list.Items {
		if it.Problem == problem {
			arrived = append(arrived, it)
		}
	}
	if len(arrived) != 1 {
		t.Fatalf("the ledger holds %d items recorded on the phone, want exactly 1", len(arrived))
	}
	it := arrived[0]
	if it.Deadline == nil || it.Deadline.String() != due || it.HouseholdID == nil || it.HouseholdID.String() != household ||
		it.ResponsibleUserID == nil || *it.ResponsibleUserID != cadre.ID || it.Kind != "livelihood_request" || it.Status != "open" {
		t.Errorf("the request reached the ledger as %+v; want open, due %s, at %s, answered for by cadre08 (%s)", it, due, household, cadre.ID)
	}
	// Uploaded, it is the ledger's: the phone no longer lists it (the
	// household's screen drawn anew: the same hash would not redraw it).
	browsertest.Get(b, chromedp.Evaluate[string](`location.hash = "#/households"`))
	b.Do(chromedp.WaitVisible(chromedp.CSS(`.households li a`)))
	openHousehold()
	b.Do(step("gone from the phone", until(`![...document.querySelectorAll(".ledger-item")].some((li) => li.textContent.includes(`+jsString(problem)+`))`, 10*time.Second)))

	// A request the server refuses — due yesterday, as a phone whose form
	// did not check it (an older build) would send it — comes back to 待处理
	// named as a request, with the server's reason.
	refused, refusedID := "独居老人冬季缺煤（"+problem+"）", uuid.NewString()
	browsertest.Get(b, chromedp.Evaluate[bool](`(async () => {
		const [{ openDB }, { Store }] = await Promise.all([import("/app/js/db.js"), import("/app/js/store.js")]);
		const db = await openDB();
		await new Store(db).createRecord("ledger_item", "`+refusedID+`", "`+household+`", {kind: "hardship", problem: `+jsString(refused)+`, deadline: "`+yesterday+`"});
		db.close();
		return true;
	})()`, chromedp.EvalAwaitPromise))
	syncAgain(b)
	browsertest.Get(b, chromedp.Evaluate[string](`location.hash = "#/outbox"`))
	b.Do(step("refusal in 待处理", chromedp.WaitVisible(chromedp.CSS(`.attention-item.kind-rejected`))))
	if text := browsertest.Get(b, chromedp.Evaluate[string](`document.querySelector(".attention-item.kind-rejected").innerText`)); !strings.Contains(text, "未能上传：诉求台账") ||
		!strings.Contains(text, "解决时限不能早于今天") || strings.Contains(text, "农户信息") {
		t.Errorf("待处理 shows the refused request as %q; want it named 诉求台账 with the server's 解决时限不能早于今天", text)
	}
	// 待处理 is drawn again as syncs end: its 修改 is clicked in one step.
	// It opens the request's own form with what the cadre entered and the
	// server's reason under the field it names.
	browsertest.Get(b, chromedp.Evaluate[bool](`document.querySelector(".attention-item.kind-rejected a.button").click(), true`))
	b.Do(step("修改 opens the request's form", until(`location.hash === "#/h/`+household+`/ledger/`+refusedID+`" && !!document.querySelector("#ledger-refusal")`, 10*time.Second)))
	form := browsertest.Get(b, chromedp.Evaluate[map[string]string](`({
		kind: document.querySelector("#ledger-form select[name=kind]").value,
		problem: document.querySelector("#ledger-form textarea[name=problem]").value,
		deadline: document.querySelector("#ledger-form input[name=deadline]").value,
		reason: document.querySelector("#ledger-refusal").innerText})`))
	if form["kind"] != "hardship" || form["problem"] != refused || form["deadline"] != yesterday || !strings.Contains(form["reason"], "解决时限不能早于今天") {
		t.Errorf("the refused request opens as %q; want its 困难群众 kind, text, deadline %s and the server's 解决时限不能早于今天", form, yesterday)
	}
	fits(t, b, "ledger-form-refused")
	// Corrected, it is sent again under its id: the ledger holds it once,
	// and 待处理 has nothing left.
	browsertest.Get(b, chromedp.Evaluate[bool](`document.querySelector("#ledger-form input[name=deadline]").value = "`+due+`", true`))
	b.Do(tap(`#save-ledger-item`), step("corrected request saved", until(`location.hash === "#/h/`+household+`"`, 10*time.Second)))
	syncAgain(b)
	b.Do(step("nothing left to do", until(`document.body.dataset.attention === "0" && document.body.dataset.records === "0"`, 30*time.Second)))
	var hardships struct {
		Items []wire.Rectification `json:"items"`
	}
	if code := l.api(t, l.apiLogin(t, "supervisor"), "GET", "/api/v1/ledgers/hardship/items?limit=200&responsible_id="+cadre.ID.String(), "", &hardships); code != 200 {
		t.Fatalf("the supervisor's 困难群众台账: %d", code)
	}
	var resent []wire.Rectification
	for _, it := range hardships.Items {
		if it.Problem == refused {
			resent = append(resent, it)
		}
	}
	if len(resent) != 1 || resent[0].ID.String() != refusedID || resent[0].Deadline == nil || resent[0].Deadline.String() != due {
		t.Fatalf("the corrected request reached the ledger as %+v; want it once, under the phone's id %s, due %s", resent, refusedID, due)
	}

	// A refused request the cadre gives up (放弃 in 待处理) leaves the
	// phone: the server never had it, so nothing of it is kept — not in
	// 待处理, not on the household's screen, not in the phone's database —
	// and the app opened again does not bring it back.
	dropped, droppedID := "危房改造申请（"+problem+"）", uuid.NewString()
	browsertest.Get(b, chromedp.Evaluate[bool](`(async () => {
		const [{ openDB }, { Store }] = await Promise.all([import("/app/js/db.js"), import("/app/js/store.js")]);
		const db = await openDB();
		await new Store(db).createRecord("ledger_item", "`+droppedID+`", "`+household+`", {kind: "livelihood_request", problem: `+jsString(dropped)+`, deadline: "`+yesterday+`"});
		db.close();
		return true;
	})()`, chromedp.EvalAwaitPromise))
	syncAgain(b)
	browsertest.Get(b, chromedp.Evaluate[string](`location.hash = "#/outbox"`))
	b.Do(step("the second refusal in 待处理", until(`[...document.querySelectorAll(".attention-item.kind-rejected")].some((li) => li.innerText.includes("办理时限不能早于今天"))`, 10*time.Second)))
	browsertest.Get(b, chromedp.Evaluate[bool](`[...document.querySelector(".attention-item.kind-rejected").querySelectorAll("button")].find((x) => x.textContent === "放弃").click(), true`))
	b.Do(step("放弃 clears 待处理", until(`!document.querySelector(".attention-item.kind-rejected") && document.body.dataset.attention === "0"`, 10*time.Second)))
	held := `(async () => {
		const [{ openDB, tx, req }] = await Promise.all([import("/app/js/db.js")]);
		const db = await openDB();
		const out = await tx(db, ["records", "attention", "outbox"], "readonly", async (s) => [
			...(await req(s.records.getAll())).filter((r) => r.id === "` + droppedID + `").map((r) => "record " + r.key),
			...(await req(s.attention.getAll())).filter((a) => a.entry && a.entry.id === "` + droppedID + `").map((a) => "attention " + a.kind),
			...(await req(s.outbox.getAll())).filter((e) => e.id === "` + droppedID + `").map((e) => "outbox " + e.op)]);
		db.close();
		return out;
	})()`
	gone := func(when string) {
		t.Helper()
		if left := browsertest.Get(b, chromedp.Evaluate[[]string](held, chromedp.EvalAwaitPromise)); len(left) != 0 {
			t.Errorf("%s the phone still holds the request given up: %q", when, left)
		}
		browsertest.Get(b, chromedp.Evaluate[string](`location.hash = "#/households"`))
		b.Do(chromedp.WaitVisible(chromedp.CSS(`.households li a`)))
		openHousehold()
		if text := browsertest.Get(b, chromedp.Evaluate[string](`document.querySelector(".card.ledger").innerText`)); strings.Contains(text, dropped) {
			t.Errorf("%s the household's 民生诉求 / 困难群众 still lists the request given up: %q", when, text)
		}
		browsertest.Get(b, chromedp.Evaluate[string](`location.hash = "#/outbox"`))
		b.Do(step("待处理 "+when, chromedp.WaitVisible(chromedp.CSS(`#sync-now`))))
		if text := browsertest.Get(b, chromedp.Evaluate[string](`document.querySelector(".attention").innerText`)); strings.Contains(text, "诉求台账") {
			t.Errorf("%s 待处理 still lists the request given up: %q", when, text)
		}
	}
	gone("after 放弃")
	l.openApp(b)
	b.Do(step("the app opened again", chromedp.WaitVisible(chromedp.CSS(`.worklist`))))
	gone("opened again,")
	noProblems(t, b)
}
