package app

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/fieldvisit/fieldvisit/internal/testkit/browsertest"
)

// TestFieldApp runs the cadres' app (/app/) in Chromium at 360×740 on one
// demo county, each scenario as its own cadre: the offline trip through a
// killed tab, two phones of one cadre editing one household, an update of
// the app arriving while the outbox is full, the pull that follows a push,
// the demo's inspector recording a task's findings offline, a cadre keeping
// a household's plan and income account offline, a cadre recording a
// household's request (民生诉求) offline and correcting one the server
// refused, a cadre giving up changes the server refused (放弃), a cadre
// seeing who is paired with a household, every screen held to the
// phone's width, 待处理 following the sync it was open through, and a batch
// too large for a proxy going up change by change.
func TestFieldApp(t *testing.T) {
	e := newConsoleEnv(t)
	l := newFieldLink(t, e)
	for _, tc := range []struct {
		name string
		run  func(*testing.T, *fieldLink)
	}{
		{"KeepsEveryOfflineVisitOnceThroughAKilledTab", keepsEveryOfflineVisitOnceThroughAKilledTab},
		{"TwoPhonesOfOneCadreConvergeAndShowTheConflict", twoPhonesOfOneCadreConvergeAndShowTheConflict},
		{"AnUpdateOfTheAppKeepsTheOutbox", anUpdateOfTheAppKeepsTheOutbox},
		{"APushIsFollowedByAPullThatBringsTheOtherPhonesEdit", aPushIsFollowedByAPullThatBringsTheOtherPhonesEdit},
		{"AnInspectorRecordsFindingsOfflineOnce", anInspectorRecordsFindingsOfflineOnce},
		{"ACadreKeepsThePlanAndIncomeOffline", aCadreKeepsThePlanAndIncomeOffline},
		{"TwoPhonesConflictOnThePlanAndTheIncome", twoPhonesConflictOnThePlanAndTheIncome},
		{"ACadreRecordsALedgerItemOffline", aCadreRecordsALedgerItemOffline},
		{"ACadreGivesUpRefusedChanges", aCadreGivesUpRefusedChanges},
		{"ACadreSeesWhoIsPairedWithTheHousehold", aCadreSeesWhoIsPairedWithTheHousehold},
		{"EveryScreenFitsASmallPhone", everyScreenFitsASmallPhone},
		{"TheOutboxScreenFollowsTheSync", theOutboxScreenFollowsTheSync},
		{"ABatchTooLargeGoesUpChangeByChange", aBatchTooLargeGoesUpChangeByChange},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, l) })
	}
}

// theOutboxScreenFollowsTheSync leaves 待处理 open while the link comes
// back and the sync uploads what waited on it: the screen went on saying
// "1张照片等待上传" after the photo had gone up, until the cadre left it.
// 立即同步 tapped while offline says why nothing goes up, and a visit
// saved online is not said to wait once it has gone up.
func theOutboxScreenFollowsTheSync(t *testing.T, l *fieldLink) {
	b := browsertest.Start(t, browsertest.SmallPhone)
	b.Geolocation(l.url, 32.444987, 115.005121, 12)
	l.openApp(b)
	appSignIn(b, "cadre07")
	b.Do(synced(b))
	b.Offline(true)
	recordVisit(b, 1, "离线记录，待处理页随同步更新。", cameraPhotos(t, 1))
	browsertest.Get(b, chromedp.Evaluate[string](`location.hash = "#/outbox"`))
	b.Do(step("待处理 offline", until(`(document.querySelector("#photos-waiting") || {}).textContent === "1张照片等待上传"`, 10*time.Second)))
	// Once drawn, 待处理 stays as it is until something changes: drawing
	// a screen refreshed the status line, which drew 待处理 again, without
	// end (some 150 drawings in two seconds: the phone busy for nothing,
	// and a tap landing between two drawings lost). The status refresh
	// the saved visit asked for may draw it once more.
	browsertest.Get(b, chromedp.Evaluate[bool](`window.drawings = 0, setInterval(() => {
		const e = document.querySelector("#sync-now");
		if (e && !e.dataset.counted) { e.dataset.counted = "1"; window.drawings++; }
	}, 5), true`))
	time.Sleep(2 * time.Second)
	if n := browsertest.Get(b, chromedp.Evaluate[int](`window.drawings`)); n > 2 {
		t.Errorf("待处理 was drawn %d times in two seconds with nothing changed; want it drawn once (twice at most)", n)
	}
	// 立即同步 with no signal answers the tap: it did nothing at all.
	b.Do(tap(`#sync-now`), step("立即同步 offline is answered", until(`!document.querySelector("#toast").hidden && document.querySelector("#toast").textContent.includes("没有网络")`, 5*time.Second)))
	if said := browsertest.Get(b, chromedp.Evaluate[string](`document.querySelector("#toast").textContent`)); !strings.Contains(said, "没有网络") || !strings.Contains(said, "联网后会自动上传") {
		t.Errorf("立即同步 offline says %q; want that there is no network and the records go up once there is (没有网络 … 联网后会自动上传)", said)
	}
	backOnline(b)
	b.Do(synced(b), step("待处理 after the sync", until(`!document.querySelector("#photos-waiting") && document.querySelector("#backlog").textContent.startsWith("全部已上传")`, 10*time.Second)))
	// A visit saved with the signal up goes at once: its 已保存（待上传）
	// must not stay on under 全部已上传 (the toast lasts 3.5 s).
	syncs := browsertest.Get(b, chromedp.Evaluate[string](`document.body.dataset.syncs`))
	recordVisit(b, 2, "在线记录，随即上传。", nil)
	b.Do(step("saved online, then synced", until(`document.body.dataset.sync === "idle" && document.body.dataset.records === "0" && Number(document.body.dataset.syncs) > `+syncs, 10*time.Second)))
	if said := browsertest.Get(b, chromedp.Evaluate[string](`document.querySelector("#toast").hidden ? "" : document.querySelector("#toast").textContent`)); strings.Contains(said, "待上传") {
		t.Errorf("after the visit saved online went up, the toast still says %q", said)
	}
}

// keepsEveryOfflineVisitOnceThroughAKilledTab is the cadre's trip on a
// 360-px phone: install the app and sign in, lose the signal,
// record three visits with GPS and photos, reopen the app with no network
// at all, then come back online and have the tab killed twice — once after
// the server committed the push but before the phone read the answer, once
// in the middle of a photo's chunks. Every visit and photo ends on the
// server exactly once, the retried push went with its first key and bytes,
// and the phone's replica is what a fresh snapshot gives. Logout leaves
// nothing in IndexedDB. Screenshots go to artefacts/.
func keepsEveryOfflineVisitOnceThroughAKilledTab(t *testing.T, l *fieldLink) {
	b := browsertest.Start(t, browsertest.SmallPhone)
	b.Geolocation(l.url, 32.444987, 115.005121, 12)
	l.openApp(b)
	b.Screenshot("login")
	appSignIn(b, "cadre01")
	b.Do(synced(b))
	b.Screenshot("home")
	token := l.apiLogin(t, "cadre01")
	due := countItems(t, l, token, "/api/v1/worklist", func(it struct {
		State string `json:"state"`
	}) bool {
		return it.State != "met"
	})
	if shown := browsertest.Get(b, chromedp.Evaluate[int](`document.querySelectorAll(".worklist li").length`)); shown != min(due, 100) {
		t.Errorf("the home screen lists %d due visits, the worklist has %d", shown, due)
	}
	if w := browsertest.Get(b, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > browsertest.SmallPhone.Width {
		t.Errorf("the home screen is %d px wide at %d px: it scrolls sideways", w, browsertest.SmallPhone.Width)
	}

	b.Offline(true)
	before := l.apiHits.Load()
	anEmptyVisitIsNotSaved(t, b)
	photos := cameraPhotos(t, 3)
	marker := fmt.Sprintf("离线走访%d", time.Now().UnixNano())
	for i := range 3 {
		recordVisit(b, i+1, fmt.Sprintf("%s 第%d户：家中老人身体尚好，讲解了医保报销政策。", marker, i+1), photos[i:i+1])
		if i == 0 {
			b.Screenshot("household-after-save")
		}
	}
	b.Do(until(`document.body.dataset.records === "3" && document.body.dataset.photos === "3"`, 10*time.Second))
	// The app opens again with no network at all, the visits still there.
	l.openApp(b)
	b.Do(step("offline worklist", chromedp.WaitVisible(chromedp.CSS(`.worklist`))),
		until(`document.body.dataset.records === "3"`, 10*time.Second))
	b.Screenshot("offline-home")
	if n := l.apiHits.Load() - before; n != 0 {
		t.Errorf("%d API requests reached the server while the phone was offline", n)
	}

	// Back online: the first push is committed by the server, and the
	// tab is killed before the answer is read.
	pushed := l.holdNext("POST /api/v1/sync/push")
	backOnline(b)
	select {
	case <-pushed:
	case <-time.After(30 * time.Second):
		t.Fatal("the app did not push after the link came back")
	}
	chunk := l.holdNext("PATCH chunk")
	b.Do(chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`.worklist`)))
	select {
	case <-chunk:
	case <-time.After(30 * time.Second):
		t.Fatal("the app did not upload a photo chunk after the reload")
	}
	b.Do(chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`.worklist`)), synced(b))
	b.Screenshot("synced")

	l.mu.Lock()
	for _, key := range l.held {
		if n := len(l.keys[key]); n < 2 {
			t.Errorf("the push whose answer was lost (key %s) went %d times, want it resent after the reload", key, n)
		}
	}
	for key, bodies := range l.keys {
		for _, body := range bodies[1:] {
			if body != bodies[0] {
				t.Errorf("key %s was sent with other bytes on a retry", key)
			}
		}
	}
	l.mu.Unlock()

	var visits struct {
		Items []struct {
			ID          string `json:"id"`
			HouseholdID string `json:"household_id"`
			Notes       string `json:"notes"`
			GPS         []any  `json:"gps"`
			Photos      []struct {
				PhotoID string `json:"photo_id"`
				SHA256  string `json:"sha256"`
			} `json:"photos"`
		} `json:"items"`
	}
	l.api(t, token, "GET", "/api/v1/visits?limit=200", "", &visits)
	mine := 0
	for _, v := range visits.Items {
		if !strings.Contains(v.Notes, marker) {
			continue
		}
		mine++
		if len(v.GPS) != 1 || len(v.Photos) != 1 {
			t.Errorf("visit %s has %d GPS stamps and %d photos, want 1 and 1", v.ID, len(v.GPS), len(v.Photos))
		}
		for _, p := range v.Photos {
			var stored struct {
				SHA256  string  `json:"sha256"`
				Width   int     `json:"width"`
				TakenAt *string `json:"taken_at"`
				ExifGPS any     `json:"exif_gps"`
			}
			if code := l.api(t, token, "GET", "/api/v1/photos/"+p.PhotoID, "", &stored); code != 200 || stored.SHA256 != p.SHA256 {
				t.Errorf("photo %s: %d, sha %s, want 200 and %s", p.PhotoID, code, stored.SHA256, p.SHA256)
			}
			if stored.Width != 1600 || stored.TakenAt == nil || stored.ExifGPS == nil {
				t.Errorf("photo %s: %d px wide, EXIF time %v, EXIF GPS %v; want 1600 px with both stamped", p.PhotoID, stored.Width, stored.TakenAt, stored.ExifGPS)
			}
		}
	}
	if mine != 3 {
		t.Errorf("the server holds %d of the offline visits, want exactly 3", mine)
	}
	// The supervisor's report judges them once the workers have run (done
	// here at once): each visit to a household a rule applies to is in its
	// timeline, counted or not with the reason (this test's phone stands
	// at one place for every household, so a visit far from a home says
	// so).
	l.e.app.drainPhotoWork(context.Background())
	l.e.app.drainCompliance(context.Background())
	supervisor := l.apiLogin(t, "supervisor")
	judged := 0
	for _, v := range visits.Items {
		if !strings.Contains(v.Notes, marker) {
			continue
		}
		var timeline struct {
			Statuses []struct {
				CountedVisits []judgedVisit `json:"counted_visits"`
				NotCounted    []judgedVisit `json:"not_counted"`
			} `json:"statuses"`
		}
		l.api(t, supervisor, "GET", "/api/v1/households/"+v.HouseholdID+"/compliance", "", &timeline)
		if len(timeline.Statuses) == 0 {
			continue // no rule applies to this household today
		}
		seen := false
		for _, st := range timeline.Statuses {
			for _, j := range append(st.CountedVisits, st.NotCounted...) {
				seen = seen || j.VisitID == v.ID
			}
		}
		if !seen {
			t.Errorf("visit %s is not in the supervisor's report of household %s: %+v", v.ID, v.HouseholdID, timeline)
		}
		judged++
	}
	if judged == 0 {
		t.Error("none of the offline visits was to a household a rule applies to: the report check proved nothing")
	}
	if got, want := phoneReplica(t, b), l.freshSnapshot(t, token); !slices.Equal(got, want) {
		t.Errorf("the phone's replica differs from a fresh snapshot:\n phone %d records\n fresh %d records", len(got), len(want))
	}
	noProblems(t, b, "/api/v1/sync/push")

	// Logout leaves nothing readable.
	b.Do(chromedp.Click(chromedp.CSS(`#tabs a[data-tab=me]`)), chromedp.WaitVisible(chromedp.CSS(`#logout`)))
	b.Screenshot("me")
	b.Do(chromedp.Click(chromedp.CSS(`#logout`)), chromedp.WaitVisible(chromedp.CSS(`#login`)))
	left := browsertest.Get(b, chromedp.Evaluate[int](`(async () => {
		const db = await new Promise((ok) => { const r = indexedDB.open("fieldvisit-app"); r.onsuccess = () => ok(r.result); });
		let n = 0;
		for (const s of db.objectStoreNames) n += await new Promise((ok) => { const r = db.transaction(s).objectStore(s).count(); r.onsuccess = () => ok(r.result); });
		db.close();
		return n;
	})()`, chromedp.EvalAwaitPromise))
	if left != 0 {
		t.Errorf("after logout IndexedDB still holds %d entries", left)
	}
}

// twoPhonesOfOneCadreConvergeAndShowTheConflict: one cadre signed in on two
// phones (two browser profiles, two device ids) changes the same
// household's phone number on each while out of signal. The phone that
// syncs second overwrote the first one's value: it is told so in 待处理,
// the supervisor finds the lost value in the conflict inbox, and after a
// sync both phones show what the server holds and hold a fresh snapshot.
func twoPhonesOfOneCadreConvergeAndShowTheConflict(t *testing.T, l *fieldLink) {
	first, second := l.signedInPhone("cadre02", t), l.signedInPhone("cadre02", t)
	household := firstHousehold(first)

	first.Offline(true)
	second.Offline(true)
	editPhone(first, household, "13900000001")
	editPhone(second, household, "13900000002")
	backOnline(first)
	first.Do(until(`document.body.dataset.records === "0"`, 30*time.Second))
	backOnline(second)
	second.Do(until(`document.body.dataset.records === "0" && document.body.dataset.attention === "1"`, 30*time.Second),
		tap(`#tabs a[data-tab=outbox]`),
		chromedp.WaitVisible(chromedp.CSS(`.attention-item.kind-conflict`)))
	second.Screenshot("conflict-shown")
	if text := browsertest.Get(second, chromedp.Evaluate[string](`document.querySelector(".attention-item.kind-conflict").textContent`)); !strings.Contains(text, "覆盖了他人的修改") || !strings.Contains(text, "联系电话") {
		t.Errorf("the conflict reads %q, want it to say the phone overwrote another's 联系电话", text)
	}

	supervisor := l.apiLogin(t, "supervisor")
	var conflicts struct {
		Items []struct {
			Field     string `json:"field"`
			LostValue any    `json:"lost_value"`
			WonValue  any    `json:"won_value"`
		} `json:"items"`
	}
	l.api(t, supervisor, "GET", "/api/v1/conflicts?open=true&household_id="+household, "", &conflicts)
	if len(conflicts.Items) != 1 || conflicts.Items[0].Field != "phone" || conflicts.Items[0].LostValue != "13900000001" || conflicts.Items[0].WonValue != "13900000002" {
		t.Errorf("the conflict inbox holds %+v, want the phone field, 13900000001 lost to 13900000002", conflicts.Items)
	}

	token := l.apiLogin(t, "cadre02")
	fresh := l.freshSnapshot(t, token)
	for i, b := range []*browsertest.Browser{first, second} {
		syncAgain(b)
		browsertest.Get(b, chromedp.Evaluate[string](`location.hash = "#/h/`+household+`"`))
		b.Do(chromedp.WaitVisible(chromedp.CSS(`#hh-phone`)))
		if phone := browsertest.Get(b, chromedp.Evaluate[string](`document.querySelector("#hh-phone").textContent`)); phone != "13900000002" {
			t.Errorf("phone %d shows %s after syncing, the server holds 13900000002", i+1, phone)
		}
		if got := phoneReplica(t, b); !slices.Equal(got, fresh) {
			t.Errorf("phone %d's replica (%d records) differs from a fresh snapshot (%d records)", i+1, len(got), len(fresh))
		}
	}
	first.Screenshot("converged")
}

// anUpdateOfTheAppKeepsTheOutbox: a new build is deployed while a visit
// waits in the outbox. The phone fetches it in the background and keeps
// running the old one (a banner says the new one comes on the next
// start); closed and started again, it runs the new build with the visit
// still waiting,
// and the visit goes up once, sent by the new version.
func anUpdateOfTheAppKeepsTheOutbox(t *testing.T, l *fieldLink) {
	b := l.signedInPhone("cadre03", t)
	build := func() string {
		return browsertest.Get(b, chromedp.Evaluate[string](`document.querySelector("meta[name=app-build]").content`))
	}
	old := build()
	b.Offline(true)
	marker := fmt.Sprintf("更新前的走访%d", time.Now().UnixNano())
	recordVisit(b, 1, marker, nil)
	b.Do(until(`document.body.dataset.records === "1"`, 10*time.Second))

	// The signal comes back weak: the app's files load, the API answers nothing.
	next := l.newBuild(t, "1.0.1")
	t.Cleanup(func() { l.app.Store(nil) })
	l.apiDown.Store(true)
	t.Cleanup(func() { l.apiDown.Store(false) })
	b.Offline(false)
	l.openApp(b)
	b.Do(step("update waiting", until(`document.body.dataset.update === "waiting"`, 30*time.Second)))
	b.Screenshot("update-waiting")
	if got := build(); got != old || next.Build() == old {
		t.Fatalf("the running build is %s while the update waits, want the old %s (new %s)", got, old, next.Build())
	}

	// The cadre closes the app and starts it again.
	b.Restart()
	// With no page of the app open, the browser switches to the waiting
	// build; a page of the origin outside the app's scope can watch it.
	b.Do(chromedp.Navigate(l.url + "/healthz"))
	if !browsertest.Get(b, chromedp.Evaluate[bool](`(async () => {
		for (let i = 0; i < 300; i++) {
			const r = await navigator.serviceWorker.getRegistration("/app/");
			if (r && r.active && r.active.state === "activated" && !r.waiting && !r.installing) return true;
			await new Promise((ok) => setTimeout(ok, 100));
		}
		return false;
	})()`, chromedp.EvalAwaitPromise)) {
		t.Fatal("the waiting build was not activated once the app was closed")
	}
	l.openApp(b)
	b.Do(step("new build started", until(`document.querySelector("meta[name=app-build]").content === "`+next.Build()+`" && document.body.dataset.records === "1"`, 30*time.Second)))
	l.apiDown.Store(false)
	backOnline(b)
	b.Do(until(`document.body.dataset.records === "0" && document.body.dataset.sync === "idle"`, 30*time.Second))

	token := l.apiLogin(t, "cadre03")
	sent := countItems(t, l, token, "/api/v1/visits?limit=200", func(v struct {
		Notes string `json:"notes"`
	}) bool {
		return strings.Contains(v.Notes, marker)
	})
	if sent != 1 {
		t.Errorf("the server holds the visit made before the update %d times, want once", sent)
	}
	var devices struct {
		Items []struct {
			AppVersion *string `json:"app_version"`
		} `json:"items"`
	}
	l.api(t, token, "GET", "/api/v1/devices", "", &devices)
	reported := false
	for _, d := range devices.Items {
		reported = reported || d.AppVersion != nil && *d.AppVersion == next.Version()
	}
	if !reported {
		t.Errorf("no device of cadre03 reports the new version %q: %+v", next.Version(), devices.Items)
	}
}

// judgedVisit is a visit as a household's timeline judges it.
type judgedVisit struct {
	VisitID string `json:"visit_id"`
	Reason  string `json:"reason"`
}
