package app

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/client"
	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance/rules"
	"github.com/fieldvisit/fieldvisit/internal/demo"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	"github.com/fieldvisit/fieldvisit/internal/testkit/browsertest"
	fvsync "github.com/fieldvisit/fieldvisit/sync"
	"github.com/fieldvisit/fieldvisit/wire"
)

// evidenceVisit is a demo visit with photos that counted for no rule: the
// household file must show its photos and say why it did not count.
type evidenceVisit struct {
	household uuid.UUID
	visit     domain.Visit
	photo     domain.Photo
	reasons   []string // the timeline's reasons, zh-CN
}

// findEvidenceVisit picks, among the supervisor's newest visits, one with
// an uploaded photo that the compliance timeline counted nowhere, on the
// first page of its household's visits.
func (e *consoleEnv) findEvidenceVisit(t *testing.T, p domain.Principal) evidenceVisit {
	t.Helper()
	ctx := context.Background()
	visits, _, err := e.app.Sync.Visits(ctx, p, fvsync.VisitQuery{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range visits {
		if len(v.Photos) == 0 {
			continue
		}
		ph, err := e.app.Photos.Photo(ctx, p, v.Photos[0].PhotoID)
		if err != nil {
			continue
		}
		sts, _, err := e.app.Compliance.Timeline(ctx, p, v.HouseholdID, domain.DateOf(v.StartedAt).Year)
		if err != nil {
			t.Fatal(err)
		}
		var counted bool
		var reasons []string
		for _, st := range sts {
			for _, j := range st.Counted {
				counted = counted || j.VisitID == v.ID
			}
			for _, j := range st.NotCounted {
				if j.VisitID == v.ID && j.Reason != rules.ReasonOutsideWindow {
					reasons = append(reasons, j.ReasonZH)
				}
			}
		}
		if counted || len(reasons) == 0 {
			continue
		}
		id := v.HouseholdID
		first, _, err := e.app.Sync.Visits(ctx, p, fvsync.VisitQuery{HouseholdID: &id, IncludeDeleted: true, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range first {
			if f.ID == v.ID {
				return evidenceVisit{household: id, visit: v, photo: ph, reasons: reasons}
			}
		}
	}
	t.Fatal("the demo county has no recent visit with a photo that did not count")
	return evidenceVisit{}
}

// notesWord is a piece of one visit's notes (民情日记) that some, not all,
// of the household's visits contain, with how many do.
func (e *consoleEnv) notesWord(t *testing.T, p domain.Principal, household uuid.UUID) (string, int64) {
	t.Helper()
	ctx := context.Background()
	all, total, err := e.app.Sync.Visits(ctx, p, fvsync.VisitQuery{HouseholdID: &household, IncludeDeleted: true, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range all {
		notes := []rune(v.Notes)
		for start := 0; start+4 <= len(notes); start += 3 {
			word := string(notes[start : start+4])
			_, n, err := e.app.Sync.Visits(ctx, p, fvsync.VisitQuery{HouseholdID: &household, IncludeDeleted: true, Query: word, Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			if n > 0 && n < total && !strings.ContainsAny(word, "，。、；：") {
				return word, n
			}
		}
	}
	t.Fatalf("no word of household %s's notes narrows its %d visits", household, total)
	return "", 0
}

// otherVillage is a household the supervisor sees and the cadre does not.
func (e *consoleEnv) otherVillage(t *testing.T, cadre domain.Principal) uuid.UUID {
	t.Helper()
	mine := e.householdsOf(t, cadre)
	for v, hs := range e.householdsOf(t, e.principal(t, "supervisor")) {
		if mine[v] != nil {
			continue
		}
		for h := range hs {
			return h
		}
	}
	t.Fatal("every village is the cadre's")
	return uuid.Nil
}

// plantConflict has two phones of cadre01 change the same field of one of
// their households from the same version, through the Go SDK as phones
// do: the second write (won) stands, the first (lost) waits in the
// supervisors' inbox. It returns the household and the conflict.
func (e *consoleEnv) plantConflict(t *testing.T, lost, won string) (uuid.UUID, uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	phone := func(device string) *client.Client {
		c, err := client.New(client.Config{BaseURL: e.url, DeviceID: device, Dir: filepath.Join(t.TempDir(), device), NoFsync: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if _, err := c.Login(ctx, "cadre01", demo.Password); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Pull(ctx); err != nil {
			t.Fatal(err)
		}
		return c
	}
	a, b := phone("console-phone-a"), phone("console-phone-b")
	hs := a.Households()
	if len(hs) == 0 {
		t.Fatal("cadre01's phone holds no household")
	}
	household := hs[0].ID
	for _, w := range []struct {
		c     *client.Client
		phone string
	}{{a, lost}, {b, won}} {
		if err := w.c.EditHousehold(household, map[string]any{"phone": w.phone}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Push(ctx); err != nil {
		t.Fatal(err)
	}
	// b edited from the version a started from, so its value wins over a's
	// (last writer by server order) and a's is kept as a conflict.
	rep, err := b.Push(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Outcomes) != 1 || rep.Outcomes[0].Result.Status != wire.StatusConflict || len(rep.Outcomes[0].Result.ConflictIDs) != 1 {
		t.Fatalf("the second phone's edit: %+v, want one conflict", rep.Outcomes)
	}
	return household, rep.Outcomes[0].Result.ConflictIDs[0]
}

// openConflict reports whether the conflict is still in the supervisor's inbox.
func (e *consoleEnv) openConflict(t *testing.T, p domain.Principal, household, id uuid.UUID) bool {
	t.Helper()
	open := true
	items, _, err := e.app.Sync.Conflicts(context.Background(), p, fvsync.ConflictQuery{Open: &open, HouseholdID: &household, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range items {
		if c.ID == id {
			return true
		}
	}
	return false
}

func (e *consoleEnv) householdPhone(t *testing.T, p domain.Principal, id uuid.UUID) string {
	t.Helper()
	h, err := e.app.Registry.Household(context.Background(), p, id)
	if err != nil {
		t.Fatal(err)
	}
	return h.Phone
}

// fitsPhone fails the test when the page is wider than a phone's screen.
func fitsPhone(t *testing.T, b *browsertest.Browser, page string) {
	t.Helper()
	if w := browsertest.Get(b, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > browsertest.Phone.Width+1 {
		t.Errorf("%s is %d px wide at %d px: it scrolls sideways", page, w, browsertest.Phone.Width)
	}
}

// consoleHouseholdFile: the household file (一户一档) and the conflict
// inbox, over HTTP and in Chromium — ID numbers masked by role, every
// pairing the household has had, another
// village's household and photos answered with the 404 page, the page
// within the later-page budget; in the browser a thumbnail loads and opens
// the full photo, a visit that did not count says why, the notes search
// narrows the timeline, each located visit is drawn against the home
// point; a conflict resolved from the inbox leaves it and the household
// carries the value chosen, while a resolve without the CSRF token is
// refused and changes nothing.
func consoleHouseholdFile(t *testing.T, e *consoleEnv) {
	ctx := context.Background()
	supervisor, cadre := e.principal(t, "supervisor"), e.principal(t, "cadre01")
	ev := e.findEvidenceVisit(t, supervisor)
	fileURL := "/ui/households/" + ev.household.String()

	t.Run("ID numbers are masked by role", func(t *testing.T) {
		var own uuid.UUID
		for _, hs := range e.householdsOf(t, cadre) {
			for h := range hs {
				own = h
			}
		}
		members, err := e.app.Registry.Members(ctx, supervisor, own)
		if err != nil {
			t.Fatal(err)
		}
		var idNumber string
		for _, m := range members {
			if len(m.IDNumber) == 18 {
				idNumber = m.IDNumber
			}
		}
		if idNumber == "" {
			t.Fatalf("household %s has no member with an ID number", own)
		}
		for _, tt := range []struct {
			user      string
			shows     string
			neverShow string
		}{
			{"supervisor", idNumber, domain.MaskIDNumber(idNumber)},
			{"cadre01", domain.MaskIDNumber(idNumber), idNumber[:14]},
		} {
			c := e.client(t)
			c.mustLogin(tt.user)
			r := c.get("/ui/households/" + own.String())
			if r.StatusCode != http.StatusOK || !strings.Contains(r.body, tt.shows) || strings.Contains(r.body, tt.neverShow) {
				t.Errorf("%s's household file: %d, shows %q: %v, shows %q: %v", tt.user, r.StatusCode, tt.shows, strings.Contains(r.body, tt.shows),
					tt.neverShow, strings.Contains(r.body, tt.neverShow))
			}
		}
	})

	t.Run("a visit's risks are on its card", func(t *testing.T) {
		// The visit's card shows the risks it recorded (a registered
		// household's risk once opened no warning and showed nowhere).
		var own uuid.UUID
		for _, hs := range e.householdsOf(t, cadre) {
			for h := range hs {
				own = h
			}
		}
		v := visitChange(uuid.New(), own, "户主确诊肺癌，已联系医保报销。", 34.7)
		v["data"].(map[string]any)["started_at"] = time.Now().Add(-2 * time.Hour).Format(time.RFC3339)
		v["data"].(map[string]any)["ended_at"] = time.Now().Add(-time.Hour).Format(time.RFC3339)
		v["data"].(map[string]any)["risk_triggers"] = []any{map[string]any{"code": "serious_illness", "note": "户主确诊肺癌"}}
		e.pushChange(t, "cadre01", v)
		c := e.client(t)
		c.mustLogin("supervisor")
		r := c.get("/ui/households/" + own.String() + "/visits")
		if page := pageText(t, r); r.StatusCode != http.StatusOK || !strings.Contains(page, "风险情况") || !strings.Contains(page, "大病") || !strings.Contains(page, "户主确诊肺癌") {
			t.Errorf("the visit's card: %d, risks shown: %v", r.StatusCode, strings.Contains(page, "大病"))
		}
	})

	t.Run("every pairing, ended ones too", func(t *testing.T) {
		pairings, _, err := e.app.Registry.Pairings(ctx, supervisor, registry.PairingQuery{}, registry.Page{Limit: 2000})
		if err != nil {
			t.Fatal(err)
		}
		var ended domain.Pairing
		for _, pr := range pairings {
			if pr.EndOn != nil {
				ended = pr
			}
		}
		if ended.ID == uuid.Nil {
			t.Fatal("the demo county has no ended pairing (a re-pairing)")
		}
		f, err := e.app.Registry.HouseholdFile(ctx, supervisor, ended.HouseholdID)
		if err != nil {
			t.Fatal(err)
		}
		c := e.client(t)
		c.mustLogin("supervisor")
		r := c.get("/ui/households/" + ended.HouseholdID.String())
		section := r.body[strings.Index(r.body, `id="pairings"`):]
		section = section[:strings.Index(section, "</section>")]
		if rows := strings.Count(section, "<tr>") - 1; rows != len(f.PairingHistory) || len(f.PairingHistory) < 2 {
			t.Errorf("the file lists %d pairings, the register holds %d", rows, len(f.PairingHistory))
		}
		for _, pr := range f.PairingHistory {
			if !strings.Contains(section, pr.CadreName) || !strings.Contains(section, pr.StartOn.String()) {
				t.Errorf("the pairings lack %s from %s", pr.CadreName, pr.StartOn)
			}
		}
		if !strings.Contains(section, ended.EndOn.String()) || !strings.Contains(section, "至今") {
			t.Errorf("the pairings should show the ended one's end (%s) and the open one: %s", ended.EndOn, section)
		}
	})

	t.Run("another village's household and photos are not found", func(t *testing.T) {
		other := e.otherVillage(t, cadre)
		id := other
		visits, _, err := e.app.Sync.Visits(ctx, supervisor, fvsync.VisitQuery{HouseholdID: &id, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var photo uuid.UUID
		for _, v := range visits {
			for _, ph := range v.Photos {
				photo = ph.PhotoID
			}
		}
		paths := []string{"/ui/households/" + other.String(), "/ui/households/" + other.String() + "/visits?q=走访",
			"/ui/households/" + uuid.NewString(), "/ui/households/not-a-uuid", "/ui/photos/" + uuid.NewString() + "/thumbnail"}
		if photo != uuid.Nil {
			paths = append(paths, "/ui/photos/"+photo.String(), "/ui/photos/"+photo.String()+"/thumbnail")
		}
		c := e.client(t)
		c.mustLogin("cadre01")
		for _, path := range paths {
			if r := c.get(path); r.StatusCode != http.StatusNotFound || !strings.Contains(r.body, "未找到") || strings.Contains(r.body, "<img") {
				t.Errorf("cadre01 GET %s: %d, want the 404 page", path, r.StatusCode)
			}
		}
		sup := e.client(t)
		sup.mustLogin("supervisor")
		if photo != uuid.Nil {
			if r := sup.get("/ui/photos/" + photo.String() + "/thumbnail"); r.StatusCode != http.StatusOK || r.Header.Get("Content-Type") != "image/jpeg" {
				t.Errorf("the supervisor's thumbnail of the same photo: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
			}
		}
		if r := sup.get(fileURL + "/visits?q=" + url.QueryEscape(strings.Repeat("长", 101))); r.StatusCode != http.StatusUnprocessableEntity ||
			!strings.Contains(r.body, "不能超过100个字") {
			t.Errorf("a search of 101 characters: %d, want 422 in Chinese", r.StatusCode)
		}
		if r := sup.get(fileURL + "?year=twenty"); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.body, "年份") {
			t.Errorf("?year=twenty: %d, want 422 naming the year", r.StatusCode)
		}
	})

	t.Run("page weight", func(t *testing.T) {
		// A later page (README: ≤ 60 KB compressed): the file after the
		// overview, its assets not yet cached (Leaflet included).
		c := e.client(t)
		c.mustLogin("supervisor")
		gz := map[string]string{"Accept-Encoding": "gzip"}
		cached := map[string]bool{}
		for _, a := range assetURLs(pageText(t, c.do("GET", "/ui/", nil, gz))) {
			cached[a] = true
		}
		file := c.do("GET", fileURL, nil, gz)
		weight := len(file.body)
		for _, a := range assetURLs(pageText(t, file)) {
			if !cached[a] {
				weight += len(c.do("GET", a, nil, gz).body)
			}
		}
		t.Logf("the household file after the overview: %.1f KB compressed, assets included", float64(weight)/1000)
		if weight > 60_000 {
			t.Errorf("the household file weighs %d bytes after the overview, budget 60 KB", weight)
		}
	})

	const lost, won = "13900001111", "13700002222"
	conflictHousehold, conflict := e.plantConflict(t, lost, won)
	// A second one, which another supervisor will have settled by the time
	// this one clicks.
	_, settled := e.plantConflict(t, "13900003333", "13700004444")

	t.Run("resolving without the CSRF token is refused", func(t *testing.T) {
		c := e.client(t)
		token := c.mustLogin("supervisor")
		path := "/ui/conflicts/" + conflict.String() + "/resolve"
		for _, tt := range []struct {
			name   string
			form   url.Values
			header map[string]string
		}{
			{"no token", url.Values{"resolution": {"restore_lost"}}, map[string]string{"HX-Request": "true"}},
			{"a wrong token", url.Values{"resolution": {"restore_lost"}, "csrf_token": {strings.Repeat("0", 64)}}, nil},
			{"another origin", url.Values{"resolution": {"restore_lost"}, "csrf_token": {token}}, map[string]string{"Origin": "http://evil.example"}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				if r := c.do("POST", path, tt.form, tt.header); r.StatusCode != http.StatusForbidden || !strings.Contains(r.body, "请求被拒绝") {
					t.Errorf("%d, want 403 with the Chinese page", r.StatusCode)
				}
			})
		}
		if !e.openConflict(t, supervisor, conflictHousehold, conflict) || e.householdPhone(t, supervisor, conflictHousehold) != "13700004444" {
			t.Error("a refused resolve changed the conflict or the household")
		}
		// A cadre has no inbox: the page and the resolve are refused.
		cc := e.client(t)
		ct := cc.mustLogin("cadre01")
		if r := cc.get("/ui/conflicts"); r.StatusCode != http.StatusForbidden || !strings.Contains(r.body, "无权访问") {
			t.Errorf("cadre01's conflict inbox: %d, want 403 in Chinese", r.StatusCode)
		}
		if r := cc.do("POST", path, url.Values{"resolution": {"keep_won"}}, map[string]string{"X-CSRF-Token": ct, "HX-Request": "true"}); r.StatusCode != http.StatusForbidden ||
			!e.openConflict(t, supervisor, conflictHousehold, conflict) {
			t.Errorf("cadre01 resolving: %d, want 403 and the conflict still open", r.StatusCode)
		}
		if r := c.do("POST", path, url.Values{"resolution": {"overwrite"}}, map[string]string{"X-CSRF-Token": token, "HX-Request": "true"}); r.StatusCode != http.StatusUnprocessableEntity ||
			!strings.Contains(r.body, "处理方式") || !e.openConflict(t, supervisor, conflictHousehold, conflict) {
			t.Errorf("an unknown resolution: %d %s, want 422 in Chinese and the conflict still open", r.StatusCode, r.body)
		}
	})

	t.Run("browser", func(t *testing.T) {
		t.Run("supervisor at 1366x768", func(t *testing.T) {
			b := browsertest.Start(t, browsertest.Desktop)
			e.signIn(b, "supervisor", demo.Password)
			b.Do(chromedp.WaitVisible(chromedp.CSS(`.who-name`)), chromedp.Navigate(e.url+fileURL), chromedp.WaitVisible(chromedp.CSS(`#visits`)))
			card := `#visit-` + ev.visit.ID.String()
			// The thumbnail loads; a click shows the photo at full size.
			thumb := card + ` a.photo img`
			b.Do(chromedp.ScrollIntoView(chromedp.CSS(thumb)))
			if w := browsertest.Get(b, chromedp.Poll[int](`(function(){var i=document.querySelector("`+thumb+`");return i.complete&&i.naturalWidth})()`,
				chromedp.WithPollingTimeout(20*time.Second))); w <= 0 {
				t.Errorf("the thumbnail's natural width is %d", w)
			}
			b.Do(chromedp.Click(chromedp.CSS(card+` a.photo`)), chromedp.WaitVisible(chromedp.CSS(`#photo-view[open] img`)))
			full := browsertest.Get(b, chromedp.Poll[int](`(function(){var i=document.querySelector("#photo-view img");return i.complete&&i.naturalWidth})()`,
				chromedp.WithPollingTimeout(20*time.Second)))
			if full != ev.photo.Width {
				t.Errorf("the full photo is %d px wide, the stored photo %d", full, ev.photo.Width)
			}
			b.Screenshot("household-photo")
			b.Do(chromedp.Click(chromedp.CSS(`#photo-view .close`)), chromedp.WaitNotVisible(chromedp.CSS(`#photo-view img`)))
			// The visit that did not count says so, and why.
			if badge := browsertest.Get(b, chromedp.Text(chromedp.CSS(card+` .badge:last-of-type`))); badge != "未计入考核" {
				t.Errorf("the visit's badge reads %q, want 未计入考核", badge)
			}
			why := browsertest.Get(b, chromedp.Text(chromedp.CSS(card+` .reasons`)))
			for _, reason := range ev.reasons {
				if !strings.Contains(why, reason) {
					t.Errorf("the visit's reasons %q lack the timeline's %q", why, reason)
				}
			}
			// Located visits are drawn against the home point.
			if n := browsertest.Get(b, chromedp.Evaluate[int](`document.querySelectorAll(".visit-map[data-ready] path.fix-line").length`)); n == 0 {
				t.Error("no visit's GPS fix is drawn against the home point")
			}
			b.Screenshot("household")
			// The notes search narrows the timeline in place.
			word, n := e.notesWord(t, supervisor, ev.household)
			b.Do(chromedp.ScrollIntoView(chromedp.CSS(`input[name=q]`)), chromedp.SendKeys(chromedp.CSS(`input[name=q]`), word))
			want := "民情日记含“" + word + "”的走访共 " + strconv.FormatInt(n, 10) + " 次"
			browsertest.Get(b, chromedp.Poll[bool](`document.querySelector("#visits .summary").textContent.indexOf(`+strconv.Quote(want)+`) >= 0`,
				chromedp.WithPollingTimeout(20*time.Second)))
			if got := browsertest.Get(b, chromedp.Evaluate[int](`document.querySelectorAll("#visits article.visit").length`)); int64(got) != min(n, 10) {
				t.Errorf("searching %q shows %d visits, %d match", word, got, n)
			}
			b.Screenshot("household-search")
			noProblems(t, b)
		})

		t.Run("supervisor at phone width", func(t *testing.T) {
			b := browsertest.Start(t, browsertest.Phone)
			e.signIn(b, "supervisor", demo.Password)
			b.Do(chromedp.WaitVisible(chromedp.CSS(`.who-name`)), chromedp.Navigate(e.url+fileURL), chromedp.WaitVisible(chromedp.CSS(`#visits`)))
			fitsPhone(t, b, "the household file")
			b.Screenshot("household")
			b.Do(chromedp.Navigate(e.url+"/ui/conflicts"), chromedp.WaitVisible(chromedp.CSS(`#conflicts`)))
			fitsPhone(t, b, "the conflict inbox")
			b.Screenshot("conflicts")
			noProblems(t, b)
		})

		t.Run("cadre01 opens another village's household", func(t *testing.T) {
			b := browsertest.Start(t, browsertest.Desktop)
			e.signIn(b, "cadre01", demo.Password)
			other := e.otherVillage(t, cadre)
			b.Do(chromedp.WaitVisible(chromedp.CSS(`.who-name`)), chromedp.Navigate(e.url+"/ui/households/"+other.String()),
				chromedp.WaitVisible(chromedp.CSS(`.error-page`)))
			if status, heading := browsertest.Get(b, chromedp.Text(chromedp.CSS(`.error-status`))), browsertest.Get(b, chromedp.Text(chromedp.CSS(`.error-page h1`))); status != "404" || heading != "未找到" {
				t.Errorf("cadre01 at another village's household: %s %s, want the 404 page", status, heading)
			}
			b.Screenshot("household-404")
			noProblems(t, b, "/ui/households/"+other.String())
		})

		t.Run("a conflict resolved from the inbox", func(t *testing.T) {
			b := browsertest.Start(t, browsertest.Desktop)
			e.signIn(b, "supervisor", demo.Password)
			row := `#conflict-` + conflict.String()
			b.Do(chromedp.WaitVisible(chromedp.CSS(`.who-name`)), chromedp.Navigate(e.url+"/ui/conflicts"), chromedp.WaitVisible(chromedp.CSS(row)))
			before := browsertest.Get(b, chromedp.Text(chromedp.CSS(`#conflict-count`)))
			if text := browsertest.Get(b, chromedp.Text(chromedp.CSS(row))); !strings.Contains(text, "联系电话") || !strings.Contains(text, lost) || !strings.Contains(text, won) {
				t.Errorf("the conflict's row reads %q: want the field, both values", text)
			}
			b.Screenshot("conflicts")
			b.Do(chromedp.Click(chromedp.CSS(row+` button.restore`)), chromedp.WaitNotPresent(chromedp.CSS(row)))
			after := browsertest.Get(b, chromedp.Text(chromedp.CSS(`#conflict-count`)))
			if nb, _ := strconv.Atoi(before); after != strconv.Itoa(nb-1) {
				t.Errorf("the count went from %s to %s", before, after)
			}
			if e.openConflict(t, supervisor, conflictHousehold, conflict) {
				t.Error("the conflict is still open after restoring")
			}
			if got := e.householdPhone(t, supervisor, conflictHousehold); got != lost {
				t.Errorf("the household's phone is %q after restoring, want the lost %q", got, lost)
			}
			// Settled meanwhile by someone else: the row says so in Chinese.
			if _, err := e.app.Sync.ResolveConflict(ctx, supervisor, settled, fvsync.KeepWon); err != nil {
				t.Fatal(err)
			}
			other := `#conflict-` + settled.String()
			b.Do(chromedp.Click(chromedp.CSS(other+` button.keep`)), chromedp.WaitVisible(chromedp.CSS(other+`.refused .form-error`)))
			if msg := browsertest.Get(b, chromedp.Text(chromedp.CSS(other))); !strings.Contains(msg, "该冲突已由他人处理") {
				t.Errorf("resolving a settled conflict reads %q", msg)
			}
			if got := e.householdPhone(t, supervisor, conflictHousehold); got != lost {
				t.Errorf("the household's phone is %q after a refused resolve, want %q still", got, lost)
			}
			b.Screenshot("conflicts-resolved")
			noProblems(t, b, "/ui/conflicts/"+settled.String()+"/resolve") // answered 409, which the browser logs
		})
	})

	t.Run("a resolved conflict cannot be resolved again", func(t *testing.T) {
		c := e.client(t)
		token := c.mustLogin("supervisor")
		r := c.do("POST", "/ui/conflicts/"+conflict.String()+"/resolve", url.Values{"resolution": {"keep_won"}},
			map[string]string{"X-CSRF-Token": token, "HX-Request": "true"})
		if r.StatusCode != http.StatusConflict || !strings.Contains(r.body, "已由他人处理") || !strings.Contains(r.body, `<strong id="conflict-count" hx-swap-oob="true">0</strong>`) {
			t.Errorf("resolving twice: %d %s, want 409 in Chinese with the inbox's count, now none", r.StatusCode, r.body)
		}
		if got := e.householdPhone(t, supervisor, conflictHousehold); got != lost {
			t.Errorf("the household's phone is %q, want %q still", got, lost)
		}
	})
}
