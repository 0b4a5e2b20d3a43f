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

// TestFieldAppKeepsEveryOfflineVisitOnceThroughAKilledTab is the cadre's
// trip on a 360-px phone: install the app and sign in, lose the signal,
// record three visits with GPS and photos, reopen the app with no network
// at all, then come back online and have the tab killed twice — once after
// the server committed the push but before the phone read the answer, once
// in the middle of a photo's chunks. Every visit and photo ends on the
// server exactly once, the retried push went with its first key and bytes,
// and the phone's replica is what a fresh snapshot gives. Logout leaves
// nothing in IndexedDB. Screenshots go to artefacts/.
func TestFieldAppKeepsEveryOfflineVisitOnceThroughAKilledTab(t *testing.T) {
	e := newConsoleEnv(t)
	l := newFieldLink(t, e)
	b := browsertest.Start(t, browsertest.SmallPhone)
	b.Geolocation(l.url, 32.444987, 115.005121, 12)
	l.openApp(b)
	b.Screenshot("login")
	appSignIn(b, "cadre01")
	b.Do(synced(b))
	b.Screenshot("home")
	token := l.apiLogin(t, "cadre01")
	var worklist struct {
		Items []struct {
			State string `json:"state"`
		} `json:"items"`
	}
	l.api(t, token, "GET", "/api/v1/worklist", "", &worklist)
	due := 0
	for _, it := range worklist.Items {
		if it.State != "met" {
			due++
		}
	}
	if shown := browsertest.Get(b, chromedp.Evaluate[int](`document.querySelectorAll(".worklist li").length`)); shown != min(due, 100) {
		t.Errorf("the home screen lists %d due visits, the worklist has %d", shown, due)
	}
	if w := browsertest.Get(b, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > browsertest.SmallPhone.Width {
		t.Errorf("the home screen is %d px wide at %d px: it scrolls sideways", w, browsertest.SmallPhone.Width)
	}

	b.Offline(true)
	before := l.apiHits.Load()
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
	b.Offline(false)
	browsertest.Get(b, chromedp.Evaluate[bool](`dispatchEvent(new Event("online"))`))
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
			ID     string `json:"id"`
			Notes  string `json:"notes"`
			GPS    []any  `json:"gps"`
			Photos []struct {
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
