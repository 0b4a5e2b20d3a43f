package app

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/demo"
	"github.com/fieldvisit/fieldvisit/internal/inspect"
	"github.com/fieldvisit/fieldvisit/internal/itemledger"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	"github.com/fieldvisit/fieldvisit/internal/testkit/browsertest"
)

// consoleInspections: the inspections and rectification pages in the
// browser over the demo county — a supervisor creates a campaign with
// the form, draws its sample and verifies it; the campaign page shows the
// sample the service stored; a refused form shows the service's field
// error next to its field and writes nothing; a supervisor closes a
// submitted rectification (销号) after a rejection without a reason was
// refused; a cadre gets no campaign.
func consoleInspections(t *testing.T, e *consoleEnv) {
	ctx := context.Background()
	supervisor := e.principal(t, "supervisor")

	t.Run("a supervisor creates a campaign, draws and verifies its sample", func(t *testing.T) {
		b := browsertest.Start(t, browsertest.Desktop)
		e.signIn(b, "supervisor", demo.Password)
		b.Do(chromedp.WaitVisible(chromedp.CSS(`.who-name`)), chromedp.Navigate(e.url+"/ui/inspections"), chromedp.WaitVisible(chromedp.CSS(`#new-campaign form`)))
		listed := browsertest.Get(b, chromedp.Evaluate[int](`document.querySelectorAll("table.data tbody a").length`))
		if _, total, err := e.app.Inspect.Campaigns(ctx, supervisor, inspect.CampaignQuery{Limit: 1}); err != nil || listed != min(total, 30) {
			t.Errorf("the list shows %d campaigns, the service %d (%v)", listed, total, err)
		}
		b.Screenshot("inspections")
		town := browsertest.Get(b, chromedp.Evaluate[string](`document.querySelector("select[name=region_id] optgroup[data-level=town] option").value`))
		b.Do(chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "浏览器测试督查"),
			chromedp.SetValue(chromedp.CSS(`select[name=region_id]`), town),
			chromedp.SetValue(chromedp.CSS(`input[name=period_to]`), "2000-01-01"), // before the start: the service refuses it
			chromedp.Click(chromedp.CSS(`input[name=inspector_ids]`)),
			chromedp.Click(chromedp.CSS(`#new-campaign button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`#new-campaign .field-error`)))
		if msg := browsertest.Get(b, chromedp.Text(chromedp.CSS(`#new-campaign .field-error`))); msg != "结束日期早于开始日期" {
			t.Errorf("the period's error reads %q", msg)
		}
		if v := browsertest.Get(b, chromedp.Value(chromedp.CSS(`input[name=name]`))); v != "浏览器测试督查" {
			t.Errorf("the refused form forgot the name: %q", v)
		}
		if n := e.campaignsNamed(t, supervisor, "浏览器测试督查"); n != 0 {
			t.Errorf("a refused form created %d campaigns", n)
		}
		b.Screenshot("inspections-refused")
		b.Do(chromedp.SetValue(chromedp.CSS(`input[name=period_to]`), domain.DateOf(e.app.Now()).AddDays(20).String()),
			chromedp.Click(chromedp.CSS(`#new-campaign button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`#draw-form`)))
		at, _, _ := strings.Cut(browsertest.Get(b, chromedp.Location()), "#") // a redirect keeps the form's #new-campaign
		id, err := uuid.Parse(strings.TrimPrefix(at, e.url+"/ui/inspections/"))
		if err != nil {
			t.Fatalf("after creating, the browser is at %s", browsertest.Get(b, chromedp.Location()))
		}
		b.Do(chromedp.SendKeys(chromedp.CSS(`#draw-form input[name=seed]`), "browser-seed"),
			chromedp.Click(chromedp.CSS(`#draw-form button`)),
			chromedp.WaitVisible(chromedp.CSS(`#sample-seed`)))
		d, err := e.app.Inspect.Sample(ctx, supervisor, id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Campaign.Seed != "browser-seed" || browsertest.Get(b, chromedp.Text(chromedp.CSS(`#population-hash`))) != d.Campaign.PopulationHash {
			t.Errorf("the page shows another draw than the stored one (seed %q)", d.Campaign.Seed)
		}
		rows := browsertest.Get(b, chromedp.Evaluate[int](`document.querySelectorAll("#sample-households tbody tr:not(:has(.empty))").length`))
		if want := min(len(d.Sample.Households), 30); rows != want || want == 0 {
			t.Errorf("the sample lists %d households on its first page; the service drew %d", rows, len(d.Sample.Households))
		}
		// Nothing is checked yet, so there is no score to rank: the heading
		// read 差异分值（最高的0户）, "the highest 0 households".
		if h := browsertest.Get(b, chromedp.Evaluate[string](`[...document.querySelectorAll("h2")].find((h) => h.textContent.startsWith("差异分值")).textContent`)); h != "差异分值" {
			t.Errorf("with no household checked the scores' heading reads %q, want 差异分值", h)
		}
		b.Screenshot("inspection-drawn")
		b.Do(chromedp.Click(chromedp.CSS(`form[action$="/verify"] button`)), chromedp.WaitVisible(chromedp.CSS(`#verification`)))
		if v := browsertest.Get(b, chromedp.Text(chromedp.CSS(`#verification`))); !strings.HasPrefix(v, "核验通过") {
			t.Errorf("the verification reads %q", v)
		}
		noProblems(t, b, "/ui/inspections#new-campaign") // the refused form answered 422
	})

	t.Run("the report downloads as XLSX through the console", func(t *testing.T) {
		c := e.client(t)
		c.mustLogin("supervisor")
		camps, _, err := e.app.Inspect.Campaigns(ctx, supervisor, inspect.CampaignQuery{Status: inspect.StatusEnded, Limit: 1})
		if err != nil || len(camps) == 0 {
			t.Fatalf("the demo has no ended campaign: %v", err)
		}
		r := c.get("/ui/inspections/" + camps[0].ID.String() + "/report.xlsx")
		if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.body, "PK") || !strings.Contains(r.Header.Get("Content-Disposition"), "attachment") {
			t.Errorf("report download: %d %s %.20q", r.StatusCode, r.Header.Get("Content-Type"), r.body)
		}
		page := c.get("/ui/inspections/" + camps[0].ID.String())
		if page.StatusCode != http.StatusOK || !strings.Contains(pageText(t, page), `id="likely-paper"`) {
			t.Errorf("the campaign page: %d", page.StatusCode)
		}
	})

	t.Run("an unannounced campaign stays hidden from the inspected town", func(t *testing.T) {
		camps, _, err := e.app.Inspect.Campaigns(ctx, supervisor, inspect.CampaignQuery{Status: inspect.StatusDrawn, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(camps, func(c inspect.Campaign) bool { return c.Mode == inspect.ModeUnannounced })
		if i < 0 {
			t.Fatal("the demo has no running unannounced campaign")
		}
		running := camps[i]
		town := e.townOffice(t, running.RegionID)
		c := e.client(t)
		c.mustLogin(town)
		list := c.get("/ui/inspections")
		if list.StatusCode != http.StatusOK || strings.Contains(pageText(t, list), running.ID.String()) {
			t.Errorf("the town office's list (%d) names the unannounced campaign", list.StatusCode)
		}
		for _, path := range []string{"/ui/inspections/" + running.ID.String(), "/ui/inspections/" + running.ID.String() + "/report.xlsx"} {
			if r := c.get(path); r.StatusCode != http.StatusNotFound {
				t.Errorf("the town office GET %s: %d, want the 404 page", path, r.StatusCode)
			}
		}
		if r := c.get("/ui/inspections/" + running.ID.String()); !strings.Contains(pageText(t, r), "不在您的查看范围内") {
			t.Error("the town office is not shown the Chinese 404 page")
		}
	})

	t.Run("a cadre sees no campaign", func(t *testing.T) {
		c := e.client(t)
		c.mustLogin("cadre01")
		camps, _, err := e.app.Inspect.Campaigns(ctx, supervisor, inspect.CampaignQuery{Limit: 1})
		if err != nil || len(camps) == 0 {
			t.Fatalf("no campaign: %v", err)
		}
		for path, want := range map[string]int{"/ui/inspections": http.StatusForbidden, "/ui/inspections/" + camps[0].ID.String(): http.StatusForbidden,
			"/ui/inspections/" + camps[0].ID.String() + "/report.xlsx": http.StatusNotFound} {
			if r := c.get(path); r.StatusCode != want {
				t.Errorf("cadre01 GET %s: %d, want %d", path, r.StatusCode, want)
			}
		}
	})

	t.Run("a supervisor moves a rectification", func(t *testing.T) {
		items, _, err := e.app.ItemLedger.Items(ctx, supervisor, itemledger.Query{Kind: itemledger.KindRectification, State: itemledger.Submitted, Limit: 1})
		if err != nil || len(items) == 0 {
			t.Fatalf("the demo has no submitted rectification: %v", err)
		}
		item := items[0]
		b := browsertest.Start(t, browsertest.Desktop)
		e.signIn(b, "supervisor", demo.Password)
		b.Do(chromedp.WaitVisible(chromedp.CSS(`.who-name`)), chromedp.Navigate(e.url+"/ui/rectifications?"+url.Values{"status": {itemledger.Submitted}}.Encode()),
			chromedp.Click(chromedp.CSS(`a[href="/ui/rectifications/`+item.ID.String()+`"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#item-actions`)))
		// Sending it back needs a reason: the browser asks for it before
		// the question 确定退回？ (the service's own refusal, for a form
		// posted without it, is TestWithdrawInTheConsole's and
		// consoleLedgers' to check).
		b.Do(chromedp.Click(chromedp.CSS(`form[data-action=reject] button`)))
		if asked, missing := b.Dialogs(), browsertest.Get(b, chromedp.Evaluate[bool](`document.querySelector("form[data-action=reject] textarea[name=note]").validity.valueMissing`)); len(asked) != 0 || !missing {
			t.Errorf("a rejection without a reason asked %q (want nothing yet); the reason is missing: %v (want true)", asked, missing)
		}
		// The evidence is picked from the household's visits, not typed as ids.
		picked := browsertest.Get(b, chromedp.Evaluate[string](`(() => { const c = document.querySelector("form[data-action=approve] .evidence-picker input[name=visit_ids]"); if (!c) return ""; c.click(); return c.value; })()`))
		if picked == "" {
			t.Fatalf("the approval form offers no visit of the household to pick as evidence")
		}
		b.Do(chromedp.SendKeys(chromedp.CSS(`form[data-action=approve] textarea[name=note]`), "材料齐全，同意销号"),
			chromedp.Click(chromedp.CSS(`form[data-action=approve] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`#item-state.tone-good`)))
		after, err := e.app.ItemLedger.Item(ctx, supervisor, itemledger.KindRectification, item.ID)
		if err != nil || after.Status != itemledger.Closed || after.History[len(after.History)-1].Action != itemledger.Approve {
			t.Errorf("after approval the item is %s (%v)", after.Status, err)
		} else if ev := after.History[len(after.History)-1].Evidence; len(ev.VisitIDs) != 1 || ev.VisitIDs[0] != picked {
			t.Errorf("the approval rests on %v, want the picked visit %s", ev.VisitIDs, picked)
		}
		if got := browsertest.Get(b, chromedp.Text(chromedp.CSS(`#item-state`))); got != "已销号" {
			t.Errorf("the page says %q", got)
		}
		b.Screenshot("rectification-closed")
		b.Do(chromedp.Navigate(e.url + "/ui/rectifications"))
		b.Screenshot("rectifications")
		noProblems(t, b, "/act")
	})
}

// campaignsNamed counts the campaigns p sees with a name.
func (e *consoleEnv) campaignsNamed(t *testing.T, p domain.Principal, name string) int {
	t.Helper()
	camps, _, err := e.app.Inspect.Campaigns(context.Background(), p, inspect.CampaignQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range camps {
		if c.Name == name {
			n++
		}
	}
	return n
}

// townOffice creates a supervisor of the town (a 乡镇扶贫办 account) and
// returns their username.
func (e *consoleEnv) townOffice(t *testing.T, town uuid.UUID) string {
	t.Helper()
	name := "town." + town.String()[:8]
	_, err := e.app.Registry.CreateUser(context.Background(), e.principal(t, "admin"), registry.NewUser{
		User: domain.User{Username: name, DisplayName: "乡镇扶贫办", Role: domain.RoleSupervisor, RegionID: town}, Password: demo.Password})
	if err != nil {
		t.Fatal(err)
	}
	return name
}
