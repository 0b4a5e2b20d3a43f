package app

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/internal/demo"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	"github.com/fieldvisit/fieldvisit/internal/testkit/browsertest"
)

// signIn fills the login form as a person would.
func (e *consoleEnv) signIn(b *browsertest.Browser, username, password string) {
	b.Do(chromedp.Navigate(e.url+"/ui/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=username]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), username),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), password),
		chromedp.Click(chromedp.CSS(`.login-form button`)))
}

// noProblems fails the test on any CSP violation, script error or
// uncaught exception the page logged; expected names the URLs whose error
// status the test itself asked for (the browser logs a page answered 401
// as a failed load).
func noProblems(t *testing.T, b *browsertest.Browser, expected ...string) {
	t.Helper()
	b.Do(chromedp.Sleep(300 * time.Millisecond)) // the browser reports violations asynchronously
	for _, m := range b.Problems() {
		if m.Source == "network" && slices.ContainsFunc(expected, func(u string) bool { return strings.HasSuffix(m.URL, u) }) {
			continue
		}
		t.Errorf("the page logged: %s (%s)", m.String(), m.URL)
	}
}

// villagesOnMap waits for the map to draw and counts its village markers.
func villagesOnMap(b *browsertest.Browser) int {
	b.Do(chromedp.WaitVisible(chromedp.CSS(`#village-map[data-ready]`)))
	return browsertest.Get(b, chromedp.Evaluate[int](`document.querySelectorAll("path.village-mark").length`))
}

// consoleInBrowser: the console in Chromium at office-PC and phone size —
// the supervisor's overview shows the services' numbers and switches
// period with htmx, the map draws a marker per village in sight and a
// click lists the village's households, a cadre sees only theirs, a
// wrong password is answered in Chinese, and no page logs a CSP
// violation or a script error. Screenshots go to artefacts/.
func consoleInBrowser(t *testing.T, e *consoleEnv) {
	ctx := context.Background()
	supervisor := e.principal(t, "supervisor")

	t.Run("supervisor at 1366x768", func(t *testing.T) {
		b := browsertest.Start(t, browsertest.Desktop)
		e.signIn(b, "supervisor", demo.Password)
		b.Do(chromedp.WaitVisible(chromedp.CSS(`#open-rectifications`)), chromedp.WaitVisible(chromedp.CSS(`#trend canvas`)))
		if got, want := browsertest.Get(b, chromedp.Text(chromedp.CSS(`#open-rectifications .stat-value`))), e.openRectifications(t, supervisor); got != strconv.FormatInt(want, 10) {
			t.Errorf("open rectifications on the overview: %s, the ledger counts %d", got, want)
		}
		if want := e.openRectifications(t, supervisor); want == 0 {
			t.Error("the demo county should have open rectifications")
		}
		b.Screenshot("overview")
		// The quarter tab swaps the rates section in place (htmx), with the
		// page's CSRF header configured by console.js.
		b.Do(chromedp.Click(chromedp.CSS(`#rates .tabs a:nth-child(2)`)),
			chromedp.WaitVisible(chromedp.CSS(`#rates .tabs a:nth-child(2)[aria-current="true"]`)))
		if h := browsertest.Get(b, chromedp.Text(chromedp.CSS(`#rates h2`))); !strings.Contains(h, "季度") {
			t.Errorf("after the quarter tab the rates read %q", h)
		}
		noProblems(t, b)

		m, err := e.app.Compliance.VillageMap(ctx, supervisor)
		if err != nil {
			t.Fatal(err)
		}
		located := 0
		for _, v := range m.Villages {
			if v.Centroid != nil {
				located++
			}
		}
		inScope := e.householdsOf(t, supervisor)
		b.Do(chromedp.Navigate(e.url + "/ui/map"))
		if got := villagesOnMap(b); got != located || got != len(inScope) {
			t.Errorf("%d village markers; %d villages have located households, %d villages have households in scope", got, located, len(inScope))
		}
		worst := m.Villages[0]
		b.Do(chromedp.Click(chromedp.CSS(`path.v-`+worst.ID.String())),
			chromedp.WaitVisible(chromedp.CSS(`.village-households tbody tr`)))
		rows := browsertest.Get(b, chromedp.Evaluate[int](`document.querySelectorAll(".village-households tbody tr").length`))
		points := browsertest.Get(b, chromedp.Evaluate[int](`document.querySelectorAll("path.household-mark").length`))
		if rows != len(inScope[worst.ID]) || points == 0 {
			t.Errorf("clicking %s listed %d households and drew %d points; it has %d", worst.Name, rows, points, len(inScope[worst.ID]))
		}
		if first := browsertest.Get(b, chromedp.Evaluate[string](`document.querySelector(".village-households tbody a").getAttribute("href")`)); !strings.HasPrefix(first, "/ui/households/") {
			t.Errorf("a household links to %q, want its file page", first)
		}
		b.Screenshot("map")
		noProblems(t, b)
	})

	t.Run("supervisor at phone width", func(t *testing.T) {
		b := browsertest.Start(t, browsertest.Phone)
		e.signIn(b, "supervisor", demo.Password)
		b.Do(chromedp.WaitVisible(chromedp.CSS(`#trend canvas`)))
		if w := browsertest.Get(b, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > browsertest.Phone.Width+1 {
			t.Errorf("the overview is %d px wide at %d px: it scrolls sideways", w, browsertest.Phone.Width)
		}
		b.Screenshot("overview")
		b.Do(chromedp.Navigate(e.url + "/ui/map"))
		villagesOnMap(b)
		if w := browsertest.Get(b, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > browsertest.Phone.Width+1 {
			t.Errorf("the map page is %d px wide at %d px", w, browsertest.Phone.Width)
		}
		b.Screenshot("map")
		noProblems(t, b)
	})

	t.Run("cadre01 sees only their households", func(t *testing.T) {
		b := browsertest.Start(t, browsertest.Desktop)
		e.signIn(b, "cadre01", demo.Password)
		b.Do(chromedp.WaitVisible(chromedp.CSS(`.who-name`)))
		mine := e.householdsOf(t, e.principal(t, "cadre01"))
		// A village named with markup by whoever may edit its region is
		// shown as text in its label, never as elements of the page.
		var named uuid.UUID
		for village := range mine {
			named = village
			break
		}
		admin := e.principal(t, "admin")
		was, err := e.app.Registry.Region(ctx, admin, named)
		if err != nil {
			t.Fatal(err)
		}
		markup := was.Name + `<a id="planted" href="//evil.example">重新登录</a>`
		if _, err := e.app.Registry.UpdateRegion(ctx, admin, named, registry.RegionChanges{Name: &markup}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _, _ = e.app.Registry.UpdateRegion(ctx, admin, named, registry.RegionChanges{Name: &was.Name}) })
		b.Do(chromedp.Navigate(e.url + "/ui/map"))
		if got := villagesOnMap(b); got != len(mine) {
			t.Errorf("cadre01's map has %d villages; their households lie in %d", got, len(mine))
		}
		if planted := browsertest.Get(b, chromedp.Evaluate[bool](`document.querySelector("#planted") !== null || !Array.from(document.querySelectorAll(".village-label")).some(l => l.textContent.includes("<a id="))`)); planted {
			t.Errorf("a village's name went into the map as markup (or its label lost it): %q", markup)
		}
		listed := browsertest.Get(b, chromedp.Evaluate[int](`document.querySelectorAll(".village-list a.village").length`))
		if listed != len(mine) {
			t.Errorf("cadre01's village list has %d villages, want %d", listed, len(mine))
		}
		for village, households := range mine {
			b.Do(chromedp.Click(chromedp.CSS(`a.village[data-village="`+village.String()+`"]`)),
				chromedp.WaitVisible(chromedp.CSS(`.village-households`)))
			hrefs := browsertest.Get(b, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(".village-households tbody a")).map(a => a.getAttribute("href"))`))
			if len(hrefs) != len(households) {
				t.Errorf("village %s lists %d households, cadre01 has %d there", village, len(hrefs), len(households))
			}
			for _, h := range hrefs {
				id := strings.TrimPrefix(h, "/ui/households/")
				found := false
				for hh := range households {
					found = found || hh.String() == id
				}
				if !found {
					t.Errorf("cadre01's map lists %s, not theirs", h)
				}
			}
		}
		b.Screenshot("map")
		noProblems(t, b)
	})

	t.Run("a wrong password is answered in Chinese", func(t *testing.T) {
		b := browsertest.Start(t, browsertest.Desktop)
		e.signIn(b, "supervisor", "not-the-password")
		b.Do(chromedp.WaitVisible(chromedp.CSS(`.form-error`)))
		if msg := browsertest.Get(b, chromedp.Text(chromedp.CSS(`.form-error`))); msg != "用户名或密码错误" {
			t.Errorf("the login form says %q", msg)
		}
		if v := browsertest.Get(b, chromedp.Value(chromedp.CSS(`input[name=username]`))); v != "supervisor" {
			t.Errorf("the form forgot the username: %q", v)
		}
		b.Screenshot("login-error")
		noProblems(t, b, "/ui/login") // answered 401, as the API answers a wrong password
	})
}
