package app

import (
	"fmt"
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
	browsertest.Get(b, chromedp.Evaluate[string](`location.hash = "#/households"`))
	b.Do(chromedp.WaitVisible(chromedp.CSS(`.households li a`)))
	household := strings.TrimPrefix(browsertest.Get(b, chromedp.Evaluate[string](`document.querySelector(".households li a").getAttribute("href")`)), "#/h/")
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
