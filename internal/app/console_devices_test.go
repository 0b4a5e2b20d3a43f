package app

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/fieldvisit/fieldvisit/internal/demo"
	"github.com/fieldvisit/fieldvisit/internal/devicehealth"
	"github.com/fieldvisit/fieldvisit/internal/testkit/browsertest"
	"github.com/fieldvisit/fieldvisit/wire"
)

// deviceCount reads the devices page's count.
var deviceCount = regexp.MustCompile(`<strong id="device-count">(\d+)</strong>`)

// consoleDevices: the devices page (设备同步) shows what the phones
// reported — a pull's backlog and app version headers reach the page —
// with the device-health service's counts, the "not synced for N days"
// filter and the overview's tile agreeing with the service; a bad filter
// is a 422 page naming it; a cadre sees only their own phones and an
// inspector none.
func consoleDevices(t *testing.T, e *consoleEnv) {
	ctx := context.Background()
	supervisor := e.principal(t, "supervisor")
	// stale counts the supervisor's devices silent for days (0: all).
	stale := func(days int) int64 {
		t.Helper()
		q := devicehealth.Query{Limit: 1}
		if days > 0 {
			q.StaleDays = &days
		}
		_, n, err := e.app.DeviceHealth.Devices(ctx, supervisor, q)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if week, all := stale(7), stale(0); week == 0 || week == all {
		t.Fatalf("the demo county should hold phones both silent and not for a week: %d of %d", week, all)
	}

	t.Run("what a phone reports reaches the page", func(t *testing.T) {
		tok, err := e.app.Auth.Login(ctx, "cadre01", demo.Password, "console-phone-1", "127.0.0.1", "")
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("GET", e.url+"/api/v1/sync/pull?limit=50", nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		wire.NewDeviceReport(2, 1, 307200, "9.9.9-console").SetHeaders(req.Header)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("pull: %d", res.StatusCode)
		}
		c := e.client(t)
		c.mustLogin("supervisor")
		text := pageText(t, c.get("/ui/devices"))
		for _, want := range []string{"console-phone-1", "9.9.9-console", "2条记录 1张照片 300 KB", "0（最新）"} {
			if !strings.Contains(text, want) {
				t.Errorf("the devices page lacks %q", want)
			}
		}
		cadre := e.principal(t, "cadre01") // logs in a phone of its own, listed too
		own := e.client(t)
		own.mustLogin("cadre01")
		r := own.get("/ui/devices")
		if r.StatusCode != http.StatusOK || !strings.Contains(r.body, "console-phone-1") || !strings.Contains(r.body, "我的设备") {
			t.Fatalf("a cadre's own devices page: %d", r.StatusCode)
		}
		mine, n, err := e.app.DeviceHealth.Devices(ctx, cadre, devicehealth.Query{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if got := match(t, deviceCount, r.body); got != strconv.FormatInt(n, 10) {
			t.Errorf("cadre01's page counts %s devices, the service %d", got, n)
		}
		for _, d := range mine {
			if d.UserID != cadre.UserID {
				t.Errorf("cadre01 is shown %s's device %s", d.Username, d.DeviceID)
			}
		}
		if rows := strings.Count(r.body, `<tr>`) - 1; int64(rows) != n {
			t.Errorf("cadre01's page has %d rows, want %d", rows, n)
		}
		if strings.Contains(pageText(t, r), "地区") && strings.Contains(r.body, `name="region"`) {
			t.Error("a cadre is offered a region filter")
		}
	})

	t.Run("counts and filters agree with the service", func(t *testing.T) {
		c := e.client(t)
		c.mustLogin("supervisor")
		for _, tt := range []struct {
			query string
			want  int64
		}{
			{"", stale(0)},
			{"?stale_days=7", stale(7)},
			{"?stale_days=30", stale(30)},
			{"?stale_days=3650", stale(3650)},
		} {
			r := c.get("/ui/devices" + tt.query)
			if r.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d", tt.query, r.StatusCode)
			}
			if n := match(t, deviceCount, r.body); n != strconv.FormatInt(tt.want, 10) {
				t.Errorf("/ui/devices%s counts %s devices, the service %d", tt.query, n, tt.want)
			}
		}
		overview := c.get("/ui/")
		if n := match(t, regexp.MustCompile(`id="stale-device-count">(\d+)<`), overview.body); n != strconv.FormatInt(stale(7), 10) {
			t.Errorf("the overview's tile counts %s, the service %d", n, stale(7))
		}
	})

	t.Run("a bad filter is named, a stranger refused", func(t *testing.T) {
		c := e.client(t)
		c.mustLogin("supervisor")
		for _, q := range []string{"stale_days=0", "stale_days=abc", "stale_days=3651", "region=nope"} {
			r := c.get("/ui/devices?" + q)
			if r.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("%s: %d, want 422", q, r.StatusCode)
				continue
			}
			if name := map[bool]string{true: "行政区划", false: "未同步天数"}[strings.HasPrefix(q, "region")]; !strings.Contains(pageText(t, r), name) {
				t.Errorf("%s: the page does not name %s", q, name)
			}
		}
		insp := e.client(t)
		insp.mustLogin("inspector")
		if r := insp.get("/ui/devices"); r.StatusCode != http.StatusForbidden {
			t.Errorf("an inspector's devices page: %d, want 403", r.StatusCode)
		}
		if strings.Contains(insp.get("/ui/").body, `href="/ui/devices"`) {
			t.Error("an inspector's nav links the devices page")
		}
	})

	t.Run("in the browser", func(t *testing.T) {
		for _, size := range []struct {
			name string
			browsertest.Size
		}{{"desktop", browsertest.Desktop}, {"phone", browsertest.Phone}} {
			b := browsertest.Start(t, size.Size)
			e.signIn(b, "supervisor", demo.Password)
			b.Do(chromedp.WaitVisible(chromedp.CSS(`#stale-devices`)))
			b.Screenshot("overview-stale-devices-" + size.name)
			b.Do(chromedp.Click(chromedp.CSS(`#stale-devices a[href^="/ui/devices"]`)), chromedp.WaitVisible(chromedp.CSS(`#devices`)))
			if v := browsertest.Get(b, chromedp.Value(chromedp.CSS(`select[name=stale_days]`))); v != "7" {
				t.Errorf("the tile's link opens the list filtered by %q days, want 7", v)
			}
			rows := browsertest.Get(b, chromedp.Evaluate[int](`document.querySelectorAll("#devices tbody tr").length`))
			if want := min(stale(7), devicesPageSize); int64(rows) != want {
				t.Errorf("%d rows, want %d", rows, want)
			}
			b.Screenshot("devices-" + size.name)
			noProblems(t, b)
		}
	})
}

// devicesPageSize is internal/web's devicesPerPage: the rows of one page.
const devicesPageSize = 50
