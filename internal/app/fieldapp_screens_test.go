package app

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/fieldvisit/fieldvisit/internal/testkit/browsertest"
)

// fits holds the screen shown to the phone's width — nothing on it may
// make the page scroll sideways — and saves its screenshot for a person
// to look at.
func fits(t *testing.T, b *browsertest.Browser, screen string) {
	t.Helper()
	b.Screenshot(screen)
	if w := browsertest.Get(b, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > browsertest.SmallPhone.Width {
		t.Errorf("the %s screen is %d px wide on a %d px phone: it scrolls sideways", screen, w, browsertest.SmallPhone.Width)
	}
}

// everyScreenFitsASmallPhone opens each of a cadre's screens at 360×740 —
// sign-in, the worklist, the household list and file, the visit form, the
// household's plan and income account, the form recording a request (登记诉求),
// a visit the phone does not hold (which leads back to the households),
// 待处理 holding a change the server refused (which leaves it once the
// cadre has put it right), and 我的 — and holds each to the phone's width. (The inspector's screens are held to it in
// anInspectorRecordsFindingsOfflineOnce.)
func everyScreenFitsASmallPhone(t *testing.T, l *fieldLink) {
	b := browsertest.Start(t, browsertest.SmallPhone)
	b.Geolocation(l.url, 32.444987, 115.005121, 12)
	l.openApp(b)
	b.Do(chromedp.WaitVisible(chromedp.CSS(`#login`)))
	fits(t, b, "sign-in")
	appSignIn(b, "cadre05")
	b.Do(synced(b))
	fits(t, b, "worklist")

	household := firstHousehold(b)
	fits(t, b, "households")
	b.Do(tap(`.households li:first-child a`), step("household file", chromedp.WaitVisible(chromedp.CSS(`#new-visit`))))
	fits(t, b, "household")
	b.Do(tap(`#new-visit`), step("visit form", chromedp.WaitVisible(chromedp.CSS(`#visit-form`))),
		step("GPS fix", until(`document.querySelector("#gps-status").classList.contains("ok")`, 10*time.Second)))
	fits(t, b, "visit-form")
	browsertest.Get(b, chromedp.Evaluate[string](`location.hash = "#/h/`+household+`/plan"`))
	b.Do(step("plan", chromedp.WaitVisible(chromedp.CSS(`#plan-form`))))
	fits(t, b, "plan")
	browsertest.Get(b, chromedp.Evaluate[string](`location.hash = "#/h/`+household+`/income"`))
	b.Do(step("income", chromedp.WaitVisible(chromedp.CSS(`#income-form`))))
	fits(t, b, "income")
	browsertest.Get(b, chromedp.Evaluate[string](`location.hash = "#/h/`+household+`/ledger"`))
	b.Do(step("ledger form", chromedp.WaitVisible(chromedp.CSS(`#ledger-form`))))
	fits(t, b, "ledger-form")
	// A visit this phone does not hold (a stale link) leads back to the
	// households: the screen said so and left the cadre there.
	browsertest.Get(b, chromedp.Evaluate[string](`location.hash = "#/v/00000000-0000-4000-8000-000000000000"`))
	b.Do(step("unknown visit", until(`document.body.textContent.includes("本机没有这条走访记录")`, 10*time.Second)),
		step("back from an unknown visit", until(`!!document.querySelector("#back-to-households")`, 5*time.Second)),
		tap(`#back-to-households`), step("households again", chromedp.WaitVisible(chromedp.CSS(`.households`))))

	// A phone number the server refuses (7 to 20 digits) comes back to 待处理.
	editPhone(b, household, "12")
	b.Do(step("refused", until(`document.body.dataset.attention === "1" && document.body.dataset.sync === "idle"`, 30*time.Second)),
		tap(`#tabs a[data-tab=outbox]`), chromedp.WaitVisible(chromedp.CSS(`.attention-item.kind-rejected`)))
	// Nothing waits to go up, but the refused edit is not on the server:
	// the line must not say all is uploaded without naming it.
	if line := browsertest.Get(b, chromedp.Evaluate[string](`document.querySelector("#backlog").textContent`)); !strings.Contains(line, "1条待处理") {
		t.Errorf("with a refused edit on the phone the outbox says %q", line)
	}
	fits(t, b, "outbox")
	// Put right and uploaded, the refusal leaves 待处理: it went on saying
	// 未能上传 after the corrected number had gone up.
	editPhone(b, household, "13900000012")
	b.Do(step("corrected", until(`document.body.dataset.attention === "0" && document.body.dataset.records === "0" && document.body.dataset.sync === "idle"`, 30*time.Second)))
	b.Do(tap(`#tabs a[data-tab=me]`), chromedp.WaitVisible(chromedp.CSS(`#logout`)))
	fits(t, b, "me")
	noProblems(t, b)
}
