package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/fieldvisit/fieldvisit/internal/demo"
	"github.com/fieldvisit/fieldvisit/internal/fieldapp"
	"github.com/fieldvisit/fieldvisit/internal/testkit/browsertest"
)

// fieldLink is the demo server as the field app reaches it: the app's own
// handler behind a link the test can watch and break — count the API
// requests that arrive, or let one request reach the server and then hold
// its answer until the tab is gone (a push the server committed whose
// answer the phone never read).
type fieldLink struct {
	e       *consoleEnv
	url     string
	handler atomic.Pointer[http.Handler]
	app     atomic.Pointer[http.Handler] // when set, answers /app/ in place of the server's own build
	apiDown atomic.Bool                  // API requests get no answer: the connection is dropped
	apiHits atomic.Int64

	mu    sync.Mutex
	stall map[string]chan struct{} // "POST /api/v1/sync/push" → closed when the held request reached the server
	keys  map[string][]string      // Idempotency-Key → each body sent with it
	held  []string                 // the Idempotency-Keys of pushes whose answer was held
}

func newFieldLink(t *testing.T, e *consoleEnv) *fieldLink {
	l := &fieldLink{e: e, stall: map[string]chan struct{}{}, keys: map[string][]string{}}
	h := http.Handler(e.app.Handler)
	l.handler.Store(&h)
	srv := httptest.NewServer(http.HandlerFunc(l.serve))
	t.Cleanup(srv.Close)
	l.url = srv.URL
	return l
}

func (l *fieldLink) serve(w http.ResponseWriter, r *http.Request) {
	h := *l.handler.Load()
	if !strings.HasPrefix(r.URL.Path, "/api/") {
		if app := l.app.Load(); app != nil && strings.HasPrefix(r.URL.Path, "/app/") {
			h = *app
		}
		h.ServeHTTP(w, r)
		return
	}
	l.apiHits.Add(1)
	if l.apiDown.Load() {
		panic(http.ErrAbortHandler) // the request is lost on the way: no answer at all
	}
	if k := r.Header.Get("Idempotency-Key"); k != "" {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		l.mu.Lock()
		l.keys[k] = append(l.keys[k], fmt.Sprintf("%x|%s", body, r.Header.Get("Content-Encoding")))
		l.mu.Unlock()
	}
	l.mu.Lock()
	held, ok := l.stall[r.Method+" "+r.URL.Path]
	if ok {
		delete(l.stall, r.Method+" "+r.URL.Path)
	}
	if !ok && r.Method == http.MethodPatch && strings.HasPrefix(r.URL.Path, "/api/v1/photo-uploads/") {
		held, ok = l.stall["PATCH chunk"]
		delete(l.stall, "PATCH chunk")
	}
	l.mu.Unlock()
	if !ok {
		h.ServeHTTP(w, r)
		return
	}
	// The server does the work; the phone never hears of it.
	if k := r.Header.Get("Idempotency-Key"); k != "" {
		l.mu.Lock()
		l.held = append(l.held, k)
		l.mu.Unlock()
	}
	h.ServeHTTP(httptest.NewRecorder(), r)
	close(held)
	select {
	case <-r.Context().Done():
	case <-time.After(20 * time.Second):
	}
}

// holdNext arms the link: the next request of that pattern is done by the
// server and its answer held back; the channel closes once it was done.
func (l *fieldLink) holdNext(pattern string) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := make(chan struct{})
	l.stall[pattern] = c
	return c
}

// newBuild makes /app/ answer another build of the app, as a deploy of a
// new version would.
func (l *fieldLink) newBuild(t *testing.T, version string) *fieldapp.App {
	t.Helper()
	a, err := fieldapp.New(fieldapp.Options{Version: version})
	if err != nil {
		t.Fatal(err)
	}
	h := http.Handler(a)
	l.app.Store(&h)
	return a
}

// apiLogin signs a demo user in over the API, as a second phone would.
func (l *fieldLink) apiLogin(t *testing.T, username string) string {
	t.Helper()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	l.api(t, "", "POST", "/api/v1/auth/login", fmt.Sprintf(`{"username":%q,"password":%q,"device_id":"test-%s"}`, username, demo.Password, username), &out)
	return out.AccessToken
}

func (l *fieldLink) api(t *testing.T, token, method, path, body string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, l.e.url+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return res.StatusCode
}

// countItems counts the items of a list the API answers that keep holds
// for.
func countItems[T any](t *testing.T, l *fieldLink, token, path string, keep func(T) bool) int {
	t.Helper()
	var list struct {
		Items []T `json:"items"`
	}
	if code := l.api(t, token, "GET", path, "", &list); code != http.StatusOK {
		t.Fatalf("GET %s: %d", path, code)
	}
	n := 0
	for _, it := range list.Items {
		if keep(it) {
			n++
		}
	}
	return n
}

// replicaKey is a record as both sides name it: entity, id and version.
type replicaKey struct {
	Entity  string `json:"entity"`
	ID      string `json:"id"`
	Version int64  `json:"version"`
}

// freshSnapshot is what a phone signing in now would hold.
func (l *fieldLink) freshSnapshot(t *testing.T, token string) []replicaKey {
	t.Helper()
	var page struct {
		Changes []struct {
			replicaKey
			Op string `json:"op"`
		} `json:"changes"`
		Cursor  string `json:"cursor"`
		HasMore bool   `json:"has_more"`
	}
	l.api(t, token, "GET", "/api/v1/sync/snapshot?limit=2000", "", &page)
	held := map[string]replicaKey{}
	for {
		for _, c := range page.Changes {
			k := c.Entity + ":" + c.ID
			if c.Op == "delete" {
				delete(held, k)
			} else if c.Version >= held[k].Version {
				held[k] = c.replicaKey
			}
		}
		if !page.HasMore {
			break
		}
		l.api(t, token, "GET", "/api/v1/sync/pull?limit=2000&cursor="+page.Cursor, "", &page)
	}
	return sortedKeys(held)
}

func sortedKeys(m map[string]replicaKey) []replicaKey {
	out := make([]replicaKey, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b replicaKey) int { return strings.Compare(a.Entity+a.ID, b.Entity+b.ID) })
	return out
}

// phoneReplica reads the records the app holds in IndexedDB.
func phoneReplica(t *testing.T, b *browsertest.Browser) []replicaKey {
	t.Helper()
	var recs []replicaKey
	raw := browsertest.Get(b, chromedp.Evaluate[string](`(async () => {
		const db = await new Promise((ok, no) => { const r = indexedDB.open("fieldvisit-app"); r.onsuccess = () => ok(r.result); r.onerror = () => no(r.error); });
		const all = await new Promise((ok) => { const r = db.transaction("records").objectStore("records").getAll(); r.onsuccess = () => ok(r.result); });
		db.close();
		return JSON.stringify(all.map((r) => ({ entity: r.entity, id: r.id, version: r.version })));
	})()`, chromedp.EvalAwaitPromise))
	if err := json.Unmarshal([]byte(raw), &recs); err != nil {
		t.Fatal(err)
	}
	m := map[string]replicaKey{}
	for _, r := range recs {
		m[r.Entity+":"+r.ID] = r
	}
	return sortedKeys(m)
}

// cameraPhotos writes JPEGs as a phone camera would make them (larger
// than the app sends: it scales them to 1600 px).
func cameraPhotos(t *testing.T, n int) []string {
	t.Helper()
	dir := t.TempDir()
	var out []string
	rnd := rand.New(rand.NewPCG(uint64(n), 7))
	for i := range n {
		img := image.NewRGBA(image.Rect(0, 0, 2000, 1500))
		for y := 0; y < 1500; y += 4 {
			for x := 0; x < 2000; x += 4 {
				c := color.RGBA{uint8(x/8 + rnd.IntN(60)), uint8(y/6 + rnd.IntN(60)), uint8(i*70 + rnd.IntN(60)), 255}
				for dy := range 4 {
					for dx := range 4 {
						img.SetRGBA(x+dx, y+dy, c)
					}
				}
			}
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 92}); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, fmt.Sprintf("IMG_%04d.jpg", i))
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// openApp opens the app and waits until its service worker controls the
// page (installed: from now on it opens with no network).
func (l *fieldLink) openApp(b *browsertest.Browser) {
	b.Do(chromedp.Navigate(l.url+"/app/"),
		until(`navigator.serviceWorker.controller !== null`, 30*time.Second))
}

// signedInPhone is a 360×740 phone with the app installed, username
// signed in and the first sync done.
func (l *fieldLink) signedInPhone(username string, t *testing.T) *browsertest.Browser {
	t.Helper()
	b := browsertest.Start(t, browsertest.SmallPhone)
	b.Geolocation(l.url, 32.444987, 115.005121, 12)
	l.openApp(b)
	appSignIn(b, username)
	b.Do(synced(b))
	return b
}

// firstHousehold opens the phone's household list and returns the id of
// the household it lists first.
func firstHousehold(b *browsertest.Browser) string {
	browsertest.Get(b, chromedp.Evaluate[string](`location.hash = "#/households"`))
	b.Do(chromedp.WaitVisible(chromedp.CSS(`.households li a`)))
	return strings.TrimPrefix(browsertest.Get(b, chromedp.Evaluate[string](`document.querySelector(".households li a").getAttribute("href")`)), "#/h/")
}

func appSignIn(b *browsertest.Browser, username string) {
	b.Do(chromedp.WaitVisible(chromedp.CSS(`#login input[name=username]`)),
		chromedp.SendKeys(chromedp.CSS(`#login input[name=username]`), username),
		chromedp.SendKeys(chromedp.CSS(`#login input[name=password]`), demo.Password),
		chromedp.Click(chromedp.CSS(`#login button`)),
		chromedp.WaitVisible(chromedp.CSS(`#tabs a[data-tab=home][aria-current=page]`)),
		chromedp.WaitVisible(chromedp.CSS(`.worklist, .tasks`))) // a cadre's worklist, an inspector's tasks
}

// synced waits until the app has nothing left to send.
func synced(b *browsertest.Browser) chromedp.Action[chromedp.Void] {
	return until(`document.body.dataset.sync === "idle" && document.body.dataset.records === "0" && document.body.dataset.photos === "0"`,
		50*time.Second)
}

// anEmptyVisitIsNotSaved taps 保存 on a visit form left as it opened: a
// visit with nothing found or done would count as the household's visit.
func anEmptyVisitIsNotSaved(t *testing.T, b *browsertest.Browser) {
	browsertest.Get(b, chromedp.Evaluate[string](`location.hash = "#/households"`))
	b.Do(step("household list", chromedp.WaitVisible(chromedp.CSS(`.households li a`))),
		tap(`.households li:nth-child(1) a`),
		step("household file", chromedp.WaitVisible(chromedp.CSS(`#new-visit`))),
		tap(`#new-visit`),
		step("visit form", chromedp.WaitVisible(chromedp.CSS(`#visit-form`))),
		tap(`#save-visit`),
		step("refusal shown", chromedp.WaitVisible(chromedp.CSS(`#visit-form .error`))))
	if msg := browsertest.Get(b, chromedp.Evaluate[string](`document.querySelector("#visit-form .error").textContent`)); !strings.Contains(msg, "至少填写") {
		t.Errorf("an empty visit's refusal says %q", msg)
	}
	if n := browsertest.Get(b, chromedp.Evaluate[string](`document.body.dataset.records`)); n != "0" {
		t.Errorf("an empty visit went to the outbox: %s records waiting", n)
	}
}

// recordVisit records a visit at the n-th household of the list, with
// the notes and photos given, ended with 现在结束 (within the minute the
// form opened: the end keeps its seconds, or it would fall before the
// start), and waits for 已保存.
func recordVisit(b *browsertest.Browser, household int, notes string, photos []string) {
	browsertest.Get(b, chromedp.Evaluate[string](`location.hash = "#/households"`))
	b.Do(step("household list", chromedp.WaitVisible(chromedp.CSS(`.households li a`))),
		tap(fmt.Sprintf(`.households li:nth-child(%d) a`, household)),
		step("household file", chromedp.WaitVisible(chromedp.CSS(`#new-visit`))),
		tap(`#new-visit`),
		step("visit form", chromedp.WaitVisible(chromedp.CSS(`#visit-form`))),
		step("GPS fix", until(`document.querySelector("#gps-status").classList.contains("ok") || document.querySelector("#gps-status").classList.contains("warn")`, 10*time.Second)),
		tap(`input[name=cl-food][value=met] + span`),
		tap(`input[name=cl-water][value=problem] + span`),
		step("water note", chromedp.SendKeys(chromedp.CSS(`input[name=cl-note-water]`), "冬季偶有停水")),
		tap(`input[name=measures][value=policy_briefing] + span`),
		tap(`#confirmed`),
		step("notes", chromedp.SendKeys(chromedp.CSS(`textarea[name=notes]`), notes)))
	if len(photos) > 0 {
		b.ChooseFiles(`#photo-input`, photos)
		b.Do(step("photos scaled", until(fmt.Sprintf(`document.querySelectorAll("#thumbs .thumb[data-ready]").length === %d`, len(photos)), 30*time.Second)))
	}
	b.Do(step("form filled", until(`document.querySelector("input[name=cl-food][value=met]").checked && document.querySelector("#confirmed").checked`, time.Second)),
		tap(`#end-now`),
		tap(`#save-visit`),
		step("saved", chromedp.WaitVisible(chromedp.CSS(`#new-visit`))))
}

// tap is a cadre's thumb on the element: brought to the middle of the
// screen first, clear of the bars fixed at the top and bottom (a click on
// an element under a bar would land on the bar).
func tap(selector string) chromedp.Action[chromedp.Void] {
	once := chromedp.Steps(
		chromedp.WaitVisible(chromedp.CSS(selector)),
		func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			_, err := chromedp.Evaluate[bool](fmt.Sprintf(`document.querySelector(%q).scrollIntoView({block: "center"}), true`, selector))(ctx, tg)
			return chromedp.Void{}, err
		},
		chromedp.Click(chromedp.CSS(selector)))
	return step("tap "+selector, func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		// A screen drawn again between finding the element and clicking
		// it (a sync ending draws 待处理 again) takes the node away: the
		// click never landed, so it is made on the element drawn anew.
		for try := 1; ; try++ {
			v, err := once(ctx, tg)
			if err == nil || try == 3 || !strings.Contains(err.Error(), "Could not find node with given id") {
				return v, err
			}
		}
	})
}

// step names an action in the error it fails with.
func step[T any](name string, a chromedp.Action[T]) chromedp.Action[T] {
	return func(ctx context.Context, tg *chromedp.Target) (T, error) {
		v, err := a(ctx, tg)
		if err != nil {
			err = fmt.Errorf("%s: %w", name, err)
		}
		return v, err
	}
}

// editPhone changes a household's phone number on its 修改联系信息 page.
func editPhone(b *browsertest.Browser, household, phone string) {
	browsertest.Get(b, chromedp.Evaluate[string](`location.hash = "#/h/`+household+`/edit"`))
	b.Do(step("household form", chromedp.WaitVisible(chromedp.CSS(`#household-form input[name=phone]`))),
		step("clear phone", func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			_, err := chromedp.Evaluate[string](`document.querySelector("#household-form input[name=phone]").value = ""`)(ctx, tg)
			return chromedp.Void{}, err
		}),
		chromedp.SendKeys(chromedp.CSS(`#household-form input[name=phone]`), phone),
		tap(`#household-form button[type=submit]`),
		step("household saved", chromedp.WaitVisible(chromedp.CSS(`#hh-phone`))))
}

// backOnline gives the phone its signal back; the app syncs at once.
func backOnline(b *browsertest.Browser) {
	b.Offline(false)
	browsertest.Get(b, chromedp.Evaluate[bool](`dispatchEvent(new Event("online"))`))
}

// syncAgain taps 立即同步 on 我的 and waits for that sync to end. 待处理
// has a 立即同步 button of its own: the tap waits until 我的 has replaced
// the screen before it, or it could fall on that screen's button as it is
// taken away (and no sync would start).
func syncAgain(b *browsertest.Browser) {
	done := browsertest.Get(b, chromedp.Evaluate[string](`document.body.dataset.syncs || "0"`))
	browsertest.Get(b, chromedp.Evaluate[string](`location.hash = "#/me"`))
	b.Do(step("我的", chromedp.WaitVisible(chromedp.CSS(`#app-version`))), tap(`#sync-now`),
		step("sync done", until(`document.body.dataset.syncs !== "`+done+`" && document.body.dataset.sync === "idle"`, 30*time.Second)))
}

// until waits for a JavaScript condition to hold. The page may reload
// meanwhile (the app does when it starts a new build): an evaluation the
// navigation cut off is tried again.
func until(expr string, timeout time.Duration) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		var last error
		for {
			// An evaluation begun as the page unloads may never answer.
			attempt, stop := context.WithTimeout(ctx, 2*time.Second)
			ok, err := chromedp.Evaluate[bool](expr)(attempt, tg)
			stop()
			if err == nil && ok {
				return chromedp.Void{}, nil
			}
			if err != nil {
				last = err
			}
			select {
			case <-ctx.Done():
				look, stop := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
				where, _ := chromedp.Evaluate[string](`location.href + " showing " + JSON.stringify(document.body ? document.body.innerText.slice(0, 300) : null)`)(look, tg)
				stop()
				return chromedp.Void{}, fmt.Errorf("%s did not hold within %v (last error: %v) at %s", expr, timeout, last, where)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}
