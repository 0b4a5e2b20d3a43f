package app

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/fieldvisit/fieldvisit/internal/testkit/browsertest"
	"github.com/fieldvisit/fieldvisit/wire"
)

// aCadreKeepsThePlanAndIncomeOffline: with no signal, a cadre adds a
// measure to a household's plan (一户一案) and moves it on, and fills in
// this year's income account (收入测算) in yuan; back online, the server
// holds exactly that — the measure in progress, the amounts in fen — and
// a later edit of the account goes up as an update of the same year.
func aCadreKeepsThePlanAndIncomeOffline(t *testing.T, l *fieldLink) {
	b := l.signedInPhone("cadre06", t)
	household := firstHousehold(b)
	year := time.Now().Year()

	b.Offline(true)
	browsertest.Get(b, chromedp.Evaluate[string](`location.hash = "#/h/`+household+`"`))
	b.Do(tap(`#open-plan`), step("plan form", chromedp.WaitVisible(chromedp.CSS(`#plan-form`))))
	browsertest.Get(b, chromedp.Evaluate[bool](`document.querySelector("#plan-form select[name=route]").value = "employment",
		document.querySelector("#plan-form input[name=target_on]").value = "`+fmt.Sprint(year+1)+`-06-30", true`))
	b.Do(chromedp.SendKeys(chromedp.CSS(`#plan-form input[name=measure]`), "介绍到县城工业园务工"),
		tap(`#save-plan-item`),
		step("measure saved", until(`[...document.querySelectorAll(".plan-item[data-state=planned]")].some((li) => li.textContent.includes("工业园务工"))`, 10*time.Second)))
	browsertest.Get(b, chromedp.Evaluate[bool](`[...document.querySelectorAll(".plan-item")].find((li) => li.textContent.includes("工业园务工")).querySelector("button[data-to=in_progress]").click(), true`))
	b.Do(step("in progress", until(`[...document.querySelectorAll(".plan-item[data-state=in_progress]")].some((li) => li.textContent.includes("工业园务工") && li.textContent.includes("待上传"))`, 10*time.Second)))
	b.Screenshot("plan-offline")

	fill := func(amounts map[string]string) {
		browsertest.Get(b, chromedp.Evaluate[string](`location.hash = "#/h/`+household+`/income"`))
		b.Do(step("income form", chromedp.WaitVisible(chromedp.CSS(`#income-form`))))
		for field, v := range amounts {
			browsertest.Get(b, chromedp.Evaluate[bool](`document.querySelector("#income-form input[name=`+field+`]").value = "", true`))
			b.Do(chromedp.SendKeys(chromedp.CSS(`#income-form input[name=`+field+`]`), v))
		}
		b.Do(tap(`#save-income`), step("income saved", until(`document.querySelector("#per-capita") && document.querySelector("#per-capita").textContent.includes("待上传")`, 10*time.Second)))
	}
	// A negative amount and a count of people out of range are refused on
	// the phone, each by its own rule: the count was named under the
	// amounts' rule (金额应为不超过1亿元的数字…：计算人数), and that rule
	// did not say an amount cannot be negative.
	browsertest.Get(b, chromedp.Evaluate[string](`location.hash = "#/h/`+household+`/income"`))
	b.Do(step("income form", chromedp.WaitVisible(chromedp.CSS(`#income-form`))))
	browsertest.Get(b, chromedp.Evaluate[bool](`document.querySelector("#income-form input[name=wages_fen]").value = "-500",
		document.querySelector("#income-form input[name=members_counted]").value = "31", true`))
	b.Do(tap(`#save-income`), step("income refused", until(`!document.querySelector("#income-form .error").hidden`, 5*time.Second)))
	if msg, want := browsertest.Get(b, chromedp.Evaluate[string](`document.querySelector("#income-form .error").textContent`)),
		"金额应为0至1亿元的数字，不能为负，最多两位小数：工资性收入；计算人数应为0至30的整数（填0按家庭成员计）"; msg != want {
		t.Errorf("a negative wage and 31 people are refused with %q, want %q", msg, want)
	}
	browsertest.Get(b, chromedp.Evaluate[bool](`document.querySelector("#income-form input[name=members_counted]").value = "", true`))
	fill(map[string]string{"wages_fen": "24000", "business_fen": "8600.5", "costs_fen": "1,200"})
	b.Screenshot("income-offline")

	backOnline(b)
	b.Do(synced(b))
	token := l.apiLogin(t, "cadre06")
	var plan wire.HouseholdPlan
	l.api(t, token, "GET", "/api/v1/households/"+household+"/plan", "", &plan)
	found := false
	for _, it := range plan.Items {
		if it.Measure == "介绍到县城工业园务工" {
			found = true
			if it.State != "in_progress" || it.Route != "employment" || it.TargetOn.String() != fmt.Sprint(year+1)+"-06-30" {
				t.Errorf("the measure reached the server as %+v; want employment, in_progress, due %d-06-30", it.PlanItemData, year+1)
			}
		}
	}
	if !found {
		t.Errorf("the plan on the server holds %d items, none the measure made offline", len(plan.Items))
	}
	account := func() wire.IncomeAccount {
		var acc wire.IncomeAccount
		if code := l.api(t, token, "GET", fmt.Sprintf("/api/v1/households/%s/income-accounts/%d", household, year), "", &acc); code != 200 {
			t.Fatalf("the income account of %d: %d", year, code)
		}
		return acc
	}
	if acc := account(); acc.WagesFen != 2400000 || acc.BusinessFen != 860050 || acc.CostsFen != 120000 || acc.Version != 1 {
		t.Errorf("the account reached the server as wages %d, business %d, costs %d (version %d); want 2400000, 860050, 120000 (version 1)",
			acc.WagesFen, acc.BusinessFen, acc.CostsFen, acc.Version)
	}

	// A visit notes progress on the measure (plan_progress).
	browsertest.Get(b, chromedp.Evaluate[string](`location.hash = "#/v/new/`+household+`"`))
	b.Do(step("visit form", chromedp.WaitVisible(chromedp.CSS(`#visit-form .plan-progress textarea`))),
		chromedp.SendKeys(chromedp.CSS(`#visit-form .plan-progress textarea`), "已联系工业园，下月上岗"),
		tap(`#save-visit`), step("visit saved", chromedp.WaitVisible(chromedp.CSS(`#new-visit`))))
	b.Do(synced(b))
	var visits struct {
		Items []struct {
			PlanProgress []struct {
				PlanItemID string `json:"plan_item_id"`
				Note       string `json:"note"`
			} `json:"plan_progress"`
		} `json:"items"`
	}
	progressed := false
	for deadline := time.Now().Add(30 * time.Second); !progressed && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		l.api(t, token, "GET", "/api/v1/visits?household_id="+household, "", &visits)
		for _, v := range visits.Items {
			for _, p := range v.PlanProgress {
				progressed = progressed || p.Note == "已联系工业园，下月上岗"
			}
		}
	}
	if !progressed {
		t.Errorf("no visit of the household on the server notes the progress made on the phone")
	}

	// Online, a save goes up at once (the app syncs a moment after it).
	fill(map[string]string{"wages_fen": "25000"})
	acc := account()
	for deadline := time.Now().Add(30 * time.Second); acc.Version < 2 && time.Now().Before(deadline); acc = account() {
		time.Sleep(200 * time.Millisecond)
	}
	if acc.WagesFen != 2500000 || acc.BusinessFen != 860050 || acc.Version != 2 {
		t.Errorf("after an edit of the wages the account is wages %d, business %d (version %d); want 2500000, 860050 (version 2)", acc.WagesFen, acc.BusinessFen, acc.Version)
	}
}

// addMeasure adds a measure to a household's plan from its plan screen.
func addMeasure(b *browsertest.Browser, household, measure string, due int) {
	browsertest.Get(b, chromedp.Evaluate[string](`location.hash = "#/h/`+household+`/plan"`))
	b.Do(step("plan form", chromedp.WaitVisible(chromedp.CSS(`#plan-form`))))
	browsertest.Get(b, chromedp.Evaluate[bool](`document.querySelector("#plan-form input[name=target_on]").value = "`+fmt.Sprint(due)+`-06-30", true`))
	b.Do(chromedp.SendKeys(chromedp.CSS(`#plan-form input[name=measure]`), measure), tap(`#save-plan-item`),
		step("measure saved", until(`[...document.querySelectorAll(".plan-item")].some((li) => li.textContent.includes(`+fmt.Sprintf("%q", measure)+`))`, 10*time.Second)))
}

// moveMeasure moves a measure on the plan screen to state.
func moveMeasure(b *browsertest.Browser, household, measure, state string) {
	browsertest.Get(b, chromedp.Evaluate[string](`location.hash = "#/h/`+household+`/plan"`))
	m := fmt.Sprintf("%q", measure)
	b.Do(step("plan", until(`[...document.querySelectorAll(".plan-item")].some((li) => li.textContent.includes(`+m+`))`, 10*time.Second)))
	browsertest.Get(b, chromedp.Evaluate[bool](`[...document.querySelectorAll(".plan-item")].find((li) => li.textContent.includes(`+m+`)).querySelector("button[data-to=`+state+`]").click(), true`))
	b.Do(step("moved to "+state, until(`[...document.querySelectorAll(".plan-item[data-state=`+state+`]")].some((li) => li.textContent.includes(`+m+`))`, 10*time.Second)))
}

// fillIncome writes amounts (in yuan) into this year's income account.
func fillIncome(b *browsertest.Browser, household string, amounts map[string]string) {
	browsertest.Get(b, chromedp.Evaluate[string](`location.hash = "#/h/`+household+`/income"`))
	b.Do(step("income form", chromedp.WaitVisible(chromedp.CSS(`#income-form`))))
	for field, v := range amounts {
		browsertest.Get(b, chromedp.Evaluate[bool](`document.querySelector("#income-form input[name=`+field+`]").value = "", true`))
		b.Do(chromedp.SendKeys(chromedp.CSS(`#income-form input[name=`+field+`]`), v))
	}
	b.Do(tap(`#save-income`), step("income saved", until(`document.querySelector("#per-capita") && document.querySelector("#per-capita").textContent.includes("待上传")`, 10*time.Second)))
}

// twoPhonesConflictOnThePlanAndTheIncome: one cadre on two phones, both
// out of signal, moves the same measure and changes the same year's wages
// differently. The phone that syncs second had both changes accepted,
// each overwriting the other's: 待处理 names each record and field — 帮扶措施
// (措施状态), 收入测算 of the year (工资性收入), under the household — and the
// status line says they were accepted in conflict, not refused. Refused
// plan and income changes are told apart on the same line, and their 修改
// opens the plan and the income screen, not the contact edit.
func twoPhonesConflictOnThePlanAndTheIncome(t *testing.T, l *fieldLink) {
	first, second := l.signedInPhone("cadre08", t), l.signedInPhone("cadre08", t)
	household := firstHousehold(first)
	head := browsertest.Get(first, chromedp.Evaluate[string](`document.querySelector(".households li a strong").textContent`))
	year := time.Now().Year()

	addMeasure(first, household, "养殖肉牛5头", year+1)
	fillIncome(first, household, map[string]string{"wages_fen": "8000"})
	first.Do(synced(first))
	syncAgain(second)

	first.Offline(true)
	second.Offline(true)
	moveMeasure(first, household, "养殖肉牛5头", "in_progress")
	moveMeasure(second, household, "养殖肉牛5头", "dropped")
	fillIncome(first, household, map[string]string{"wages_fen": "8000.50"})
	fillIncome(second, household, map[string]string{"wages_fen": "9000"})
	backOnline(first)
	first.Do(until(`document.body.dataset.records === "0" && document.body.dataset.sync === "idle"`, 30*time.Second))
	backOnline(second)
	second.Do(until(`document.body.dataset.records === "0" && document.body.dataset.attention === "2"`, 30*time.Second),
		tap(`#tabs a[data-tab=outbox]`),
		until(`document.querySelectorAll(".attention-item.kind-conflict").length === 2`, 10*time.Second))
	second.Screenshot("casework-conflicts")
	texts := browsertest.Get(second, chromedp.Evaluate[[]string](`[...document.querySelectorAll(".attention-item.kind-conflict .subject")].map((e) => e.textContent)`))
	want := []string{head + "户 · 帮扶措施（措施状态）", fmt.Sprintf("%s户 · 收入测算（%d年度）（工资性收入）", head, year)}
	for _, w := range want {
		if !slices.Contains(texts, w) {
			t.Errorf("待处理 names the conflicts %q, want %q among them", texts, w)
		}
	}
	line := browsertest.Get(second, chromedp.Evaluate[string](`document.querySelector("#backlog").textContent`))
	if !strings.Contains(line, "2条待处理（2条已接受但与他人的修改冲突，待督导核查）") || strings.Contains(line, "未被接受") {
		t.Errorf("with two accepted changes in conflict the status line says %q", line)
	}

	// A plan change and an income change the server refused, as the sync
	// puts them on the list.
	refused := fmt.Sprintf(`(async () => {
		const db = await new Promise((ok) => { const r = indexedDB.open("fieldvisit-app"); r.onsuccess = () => ok(r.result); });
		const hh = %q, at = new Date().toISOString();
		const put = (entity, data) => new Promise((ok) => {
			const t = db.transaction("attention", "readwrite");
			t.objectStore("attention").put({ id: crypto.randomUUID(), at, key: entity + ":x", kind: "rejected", status: "rejected",
				entry: { entity, op: "update", id: crypto.randomUUID(), household_id: hh, data }, errors: [{ field: "/changes/0", message_zh: "不符合要求" }] });
			t.oncomplete = ok;
		});
		await put("plan_item", { target_on: "2012-01-01" });
		await put("income_account", { year: %d, members_counted: 31 });
		db.close();
		location.hash = "#/me";
		return true;
	})()`, household, year)
	browsertest.Get(second, chromedp.Evaluate[bool](refused, chromedp.EvalAwaitPromise))
	second.Do(chromedp.WaitVisible(chromedp.CSS(`#app-version`)), tap(`#tabs a[data-tab=outbox]`),
		until(`document.querySelectorAll(".attention-item.kind-rejected").length === 2`, 10*time.Second))
	line = browsertest.Get(second, chromedp.Evaluate[string](`document.querySelector("#backlog").textContent`))
	if !strings.Contains(line, "4条待处理（2条未被接受，请到“待处理”修改；2条已接受但与他人的修改冲突，待督导核查）") {
		t.Errorf("with two refused changes and two in conflict the status line says %q", line)
	}
	links := browsertest.Get(second, chromedp.Evaluate[map[string]string](`Object.fromEntries([...document.querySelectorAll(".attention-item.kind-rejected")].map((li) =>
		[li.querySelector("strong").textContent, li.querySelector("a.edit").getAttribute("href")]))`))
	for title, href := range map[string]string{"未能上传：帮扶措施": "#/h/" + household + "/plan", "未能上传：收入测算": fmt.Sprintf("#/h/%s/income?year=%d", household, year)} {
		if links[title] != href {
			t.Errorf("the refused change %q: 修改 opens %q, want %q (all: %v)", title, links[title], href, links)
		}
	}
	// 待处理 may be drawn again meanwhile (a sync it follows): the link is
	// taken as it stands.
	browsertest.Get(second, chromedp.Evaluate[bool](`document.querySelector(".attention-item.kind-rejected a.edit[href$='/plan']").click(), true`))
	second.Do(step("plan screen", chromedp.WaitVisible(chromedp.CSS(`#plan-form`))))
}
