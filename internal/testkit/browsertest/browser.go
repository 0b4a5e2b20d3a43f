// Package browsertest drives a real Chromium for the web console's tests:
// Debian's chromium (/usr/bin/chromium, or FIELDVISIT_TEST_CHROMIUM) run
// headless with no sandbox and no GPU, through chromedp. It gives a tab at
// office-PC size (1366×768) or phone width (390 px), collects what the page
// logs (so a test can say no Content-Security-Policy violation and no
// script error happened), and saves screenshots as test artefacts.
//
// internal/testenv installs chromium with apt-get when it is missing. A
// test that finds no browser is skipped, except under CI=true, where it
// fails: CI must not go green by skipping the browser tests.
//
// It is a package of its own, apart from internal/testkit, so that only
// the tests that drive a browser compile chromedp.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// Environment variables read by this package.
const (
	// EnvChromium names the browser binary (internal/testenv sets it).
	EnvChromium = "FIELDVISIT_TEST_CHROMIUM"
	// EnvArtefacts names the directory screenshots go to; by default
	// artefacts/ at the module's root, which git ignores.
	EnvArtefacts = "FIELDVISIT_ARTEFACTS"
)

// DefaultChromium is where Debian's chromium package puts the browser.
const DefaultChromium = "/usr/bin/chromium"

// Size is a window size in CSS pixels.
type Size struct {
	Width, Height int
	Mobile        bool // emulate a phone: touch, mobile viewport
}

// The window sizes the console must read well at.
var (
	Desktop = Size{Width: 1366, Height: 768}
	Phone   = Size{Width: 390, Height: 844, Mobile: true}
	// SmallPhone is the narrowest phone the field app is held to, one
	// handed (360×740).
	SmallPhone = Size{Width: 360, Height: 740, Mobile: true}
)

// Browser is one Chromium with one tab.
type Browser struct {
	t       testing.TB
	ctx     context.Context
	size    Size
	mu      sync.Mutex
	console []chromedp.ConsoleMessage
	dialogs []string // the questions confirm() and alert() asked, each answered OK
}

// chromium returns the browser's path, skipping (or under CI=true
// failing) the test when there is none.
func chromium(t testing.TB) string {
	t.Helper()
	path := os.Getenv(EnvChromium)
	if path == "" {
		path = DefaultChromium
	}
	if _, err := os.Stat(path); err != nil {
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatalf("no browser at %s under CI=true: %v (internal/testenv installs chromium with apt-get)", path, err)
		}
		t.Skipf("no browser at %s (%v): run `make test`, whose set-up installs chromium, or apt-get install -y chromium", path, err)
	}
	return path
}

// Start opens a tab of size in a browser context of its own — a fresh
// profile: no cookies, storage, caches or service workers of any other
// test — that ends with the test.
//
// Starting Chromium costs seconds of CPU (its browser, zygote, GPU and
// network processes), more than most browser tests take themselves. So in
// a package whose TestMain runs its tests through Main, the tabs of a
// window size share one Chromium process, started once; the browser
// context keeps each test apart as a browser of its own would. Elsewhere
// each Start launches a Chromium of its own, ended with the test.
func Start(t testing.TB, size Size) *Browser {
	t.Helper()
	var ctx context.Context
	var cancel context.CancelFunc
	if shared.enabled.Load() {
		ctx, cancel = chromedp.NewContext(shared.browser(t, size), chromedp.WithNewBrowserContext())
	} else {
		ctx, cancel = chromedp.NewContext(context.Background(), chromedp.WithAllocatorOptions(allocatorOptions(t, size)...))
	}
	t.Cleanup(cancel)
	b := &Browser{t: t, ctx: ctx, size: size}
	b.openTab(ctx)
	return b
}

// allocatorOptions is how Chromium is launched for a window of size.
func allocatorOptions(t testing.TB, size Size) []chromedp.ExecAllocatorOption {
	t.Helper()
	return append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.WindowSize(size.Width, size.Height),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.Flag("disable-dev-shm-usage", true),
	)
}

// shared holds the Chromium processes of a package run through Main, one
// per window size.
var shared = sharedBrowsers{running: map[Size]sharedBrowser{}}

type sharedBrowsers struct {
	enabled atomic.Bool
	mu      sync.Mutex
	running map[Size]sharedBrowser
}

type sharedBrowser struct {
	ctx    context.Context // the browser's first tab, never used for a test
	cancel context.CancelFunc
}

// browser returns the context of the running Chromium of size, launching
// it (again, should it have died) when there is none.
func (s *sharedBrowsers) browser(t testing.TB, size Size) context.Context {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.running[size]; ok && b.ctx.Err() == nil {
		return b.ctx
	}
	// Not the test's context: the browser outlives the test.
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), allocatorOptions(t, size)...)
	ctx, cancelTab := chromedp.NewContext(alloc)
	if err := chromedp.Do(ctx); err != nil { // launches the browser
		cancelTab()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	s.running[size] = sharedBrowser{ctx: ctx, cancel: func() { cancelTab(); cancelAlloc() }}
	return ctx
}

// closeAll ends every shared Chromium and removes its profile directory.
func (s *sharedBrowsers) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for size, b := range s.running {
		b.cancel()
		delete(s.running, size)
	}
}

// Main runs a package's tests with one Chromium per window size shared by
// its tests (see Start) and ends those browsers afterwards; a package's
// TestMain calls it as os.Exit(browsertest.Main(m)).
func Main(m *testing.M) int {
	shared.enabled.Store(true)
	defer shared.closeAll()
	return m.Run()
}

// openTab makes ctx the browser's tab: what it logs is collected, and its
// viewport is the browser's size.
func (b *Browser) openTab(ctx context.Context) {
	b.t.Helper()
	messages := chromedp.Console(ctx) // subscribes now: nothing the first page logs is lost
	// A confirm() waits for a person; the test's person says OK and
	// remembers what was asked.
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.dialogs = append(b.dialogs, ev.Message)
			b.mu.Unlock()
			if _, err := chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true}); err != nil {
				return
			}
		}
	}()
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m)
			b.mu.Unlock()
		}
	}()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(b.size.Width), int64(b.size.Height), viewportOptions(b.size)...)); err != nil {
		b.t.Fatalf("start chromium: %v", err)
	}
	b.ctx = ctx
}

// Restart closes the tab and opens a new, blank one in the same browser
// profile — an app swiped away and started again: its storage, service
// workers and caches stay, its page and the tab's emulations
// (Offline, Geolocation) are gone.
func (b *Browser) Restart() {
	b.t.Helper()
	old := chromedp.FromContext(b.ctx).Target.TargetID
	ctx, cancel := chromedp.NewContext(b.ctx)
	b.t.Cleanup(cancel)
	b.openTab(ctx)
	if _, err := chromedp.CallBrowser(ctx, target.CloseTarget, target.CloseTargetParams{TargetID: old}); err != nil {
		b.t.Fatalf("close the tab: %v", err)
	}
	// The old page is gone only once its target is: until then it still
	// holds its service worker.
	for deadline := time.Now().Add(10 * time.Second); ; {
		targets, err := chromedp.Targets(ctx)
		if err != nil {
			b.t.Fatalf("targets: %v", err)
		}
		if !slices.ContainsFunc(targets, func(i *target.Info) bool { return i.TargetID == old }) {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("the closed tab %s is still there", old)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func viewportOptions(s Size) []chromedp.EmulateViewportOption {
	if s.Mobile {
		return []chromedp.EmulateViewportOption{chromedp.EmulateMobile, chromedp.EmulateTouch}
	}
	return nil
}

// Context is the tab's context, for chromedp.Run with actions that return
// a value.
func (b *Browser) Context() context.Context { return b.ctx }

// Do runs actions in the tab, failing the test on the first error or after
// a minute.
func (b *Browser) Do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v\nconsole:\n%s", err, b.consoleText())
	}
}

// Get runs one action that returns a value.
func Get[T any](b *Browser, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("browser: %v\nconsole:\n%s", err, b.consoleText())
	}
	return v
}

// Dialogs returns the questions the pages asked so far (confirm, alert),
// each answered OK.
func (b *Browser) Dialogs() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.dialogs...)
}

// Console returns what the page logged so far: console calls, uncaught
// exceptions and the browser's own log (where CSP violations appear).
func (b *Browser) Console() []chromedp.ConsoleMessage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]chromedp.ConsoleMessage(nil), b.console...)
}

func (b *Browser) consoleText() string {
	var sb strings.Builder
	for _, m := range b.Console() {
		sb.WriteString("  " + m.String() + " (" + m.URL + ")\n")
	}
	return sb.String()
}

// Problems are the console entries a console page must never produce:
// Content-Security-Policy violations, uncaught exceptions and errors.
// Wait a moment after the last action before reading them: the browser
// reports asynchronously.
func (b *Browser) Problems() []chromedp.ConsoleMessage {
	var out []chromedp.ConsoleMessage
	for _, m := range b.Console() {
		if m.IsException() || m.Type == chromedp.ConsoleError || strings.Contains(m.Text, "Content Security Policy") {
			out = append(out, m)
		}
	}
	return out
}

// Screenshot saves the whole page as artefacts/<test>/<name>-<width>.png
// and returns the file's path.
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	png := Get(b, chromedp.FullScreenshot(100)) // 100: PNG; below it, JPEG
	dir := Artefacts(b.t)
	path := filepath.Join(dir, name+"-"+strconv.Itoa(b.size.Width)+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", path)
	return path
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// Artefacts is the directory of the test's artefacts: $FIELDVISIT_ARTEFACTS
// or artefacts/ at the module's root, then the test's name. Artefacts
// outlive the test, so a person can look at them.
func Artefacts(t testing.TB) string {
	t.Helper()
	root := os.Getenv(EnvArtefacts)
	if root == "" {
		root = filepath.Join(moduleRoot(t), "artefacts")
	}
	dir := filepath.Join(root, unsafeName.ReplaceAllString(t.Name(), "_"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// moduleRoot is the nearest directory above the test's own holding go.mod.
func moduleRoot(t testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

// Offline cuts the tab off the network, as a phone out of signal: every
// request of the page and of its service worker fails, and
// navigator.onLine is false; Offline(false) gives the link back.
func (b *Browser) Offline(off bool) {
	b.t.Helper()
	ctx := b.ctx
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		b.t.Fatalf("network: %v", err)
	}
	yes := true
	conds := []*network.Conditions{}
	if off {
		conds = append(conds, &network.Conditions{Offline: true, DownloadThroughput: -1, UploadThroughput: -1})
	}
	if _, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
		EmulateOfflineServiceWorker: &yes, MatchedNetworkConditions: conds}); err != nil {
		b.t.Fatalf("network conditions: %v", err)
	}
	if _, err := chromedp.Call(ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: off, DownloadThroughput: -1, UploadThroughput: -1}); err != nil {
		b.t.Fatalf("network state: %v", err)
	}
}

// Geolocation grants origin the location permission and makes the phone
// stand at lat, lon with the given accuracy in metres.
func (b *Browser) Geolocation(origin string, lat, lon, accuracy float64) {
	b.t.Helper()
	// The grant is the tab's browser context's (empty: the default one),
	// as a phone's is its own.
	if _, err := chromedp.CallBrowser(b.ctx, browser.SetPermission, browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "geolocation"}, Setting: browser.PermissionSettingGranted, Origin: origin,
		BrowserContextID: chromedp.FromContext(b.ctx).BrowserContextID}); err != nil {
		b.t.Fatalf("geolocation permission: %v", err)
	}
	if _, err := chromedp.Call(b.ctx, emulation.SetGeolocationOverride, emulation.SetGeolocationOverrideParams{Latitude: &lat, Longitude: &lon, Accuracy: &accuracy}); err != nil {
		b.t.Fatalf("geolocation: %v", err)
	}
}

// Timezone sets the zone the page's clock is read in (an IANA name), as
// a phone set to it; "" gives the machine's back.
func (b *Browser) Timezone(zone string) {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: zone}); err != nil {
		b.t.Fatalf("timezone %q: %v", zone, err)
	}
}

// ChooseFiles puts files into the file input the CSS selector names, as a
// person picking them in the camera or file chooser would, and the page
// gets its change event. The input is found from JavaScript rather than
// from the DOM tree chromedp mirrors, so an input hidden behind its label
// (the camera's 拍照 button) is reached as readily as a visible one.
func (b *Browser) ChooseFiles(selector string, files []string) {
	b.t.Helper()
	input := Get(b, chromedp.Evaluate[*runtime.RemoteObject](fmt.Sprintf(`document.querySelector(%q)`, selector)))
	if input == nil || input.ObjectID == "" {
		b.t.Fatalf("no file input %s on the page", selector)
	}
	if _, err := chromedp.Call(b.ctx, dom.SetFileInputFiles, dom.SetFileInputFilesParams{Files: files, ObjectID: input.ObjectID}); err != nil {
		b.t.Fatalf("choose files for %s: %v", selector, err)
	}
}
