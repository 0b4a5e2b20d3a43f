package app

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/demo"
	"github.com/fieldvisit/fieldvisit/internal/inspect"
	"github.com/fieldvisit/fieldvisit/internal/itemledger"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	"github.com/fieldvisit/fieldvisit/internal/testkit/browsertest"
)

// consoleAdmin: the admin forms in the browser — a user form with a bad
// field shows the service's error next to the field and writes nothing;
// a good one creates the user, whose page resets the password (a short
// one refused) and deactivates the account; a cadre gets the 403 page on
// every admin page.
func consoleAdmin(t *testing.T, e *consoleEnv) {
	ctx := context.Background()
	admin := e.principal(t, "admin")

	t.Run("a supervisor is offered only the roles they may give", func(t *testing.T) {
		sup := e.client(t)
		sup.mustLogin("supervisor")
		body := sup.get("/ui/admin/users").body
		if !strings.Contains(body, `<option value="cadre"`) || strings.Contains(body, `<option value="admin"`) || strings.Contains(body, `<option value="supervisor"`) {
			t.Errorf("the supervisor's new-user form offers roles beyond cadre and inspector")
		}
	})

	t.Run("an admin adds a town and a village on the regions page", func(t *testing.T) {
		c := e.client(t)
		csrf := c.mustLogin("admin")
		county := match(t, regexp.MustCompile(`<optgroup label="县/区" data-level="county"><option value="([0-9a-f-]+)"`), c.get("/ui/admin/regions").body)
		post := func(v url.Values) page {
			v.Set("csrf_token", csrf)
			return c.do("POST", "/ui/admin/regions", v, nil)
		}
		if r := post(url.Values{"parent_id": {county}, "level": {"town"}, "code": {"4101x"}, "name": {"青石镇"}}); r.StatusCode != http.StatusUnprocessableEntity ||
			!strings.Contains(pageText(t, r), "青石镇") {
			t.Errorf("a malformed code: %d, and the form must keep what was typed: %.300s", r.StatusCode, pageText(t, r))
		}
		if r := post(url.Values{"parent_id": {county}, "level": {"town"}, "code": {"411599109000"}, "name": {"青石镇"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("adding a town: %d %.300s", r.StatusCode, pageText(t, r))
		}
		towns, _, err := e.app.Registry.Regions(ctx, admin, registry.RegionQuery{Query: "青石镇"}, registry.Page{Limit: 5})
		if err != nil || len(towns) != 1 || towns[0].Level != domain.LevelTown {
			t.Fatalf("the new town: %+v %v", towns, err)
		}
		if r := post(url.Values{"parent_id": {towns[0].ID.String()}, "level": {"village"}, "code": {"411599109201"}, "name": {"石桥村"}, "is_poor_village": {"true"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("adding a village: %d %.300s", r.StatusCode, pageText(t, r))
		}
		if body := pageText(t, c.get("/ui/admin/regions?q=石桥村")); !strings.Contains(body, "石桥村") || !strings.Contains(body, "青石镇") {
			t.Errorf("the regions page after adding the village: %.400s", body)
		}
		sup := e.client(t)
		sup.mustLogin("supervisor")
		if r := sup.get("/ui/admin/regions"); r.StatusCode != http.StatusOK || strings.Contains(r.body, `id="new-region"`) {
			t.Errorf("a supervisor's regions page: %d, offers the admin's form: %v", r.StatusCode, strings.Contains(r.body, `id="new-region"`))
		}
	})

	t.Run("a lost phone is revoked from its user's page, and the page says so", func(t *testing.T) {
		cadre := e.principal(t, "cadre03") // logs in on test-phone
		c := e.client(t)
		csrf := c.mustLogin("admin")
		userPage := "/ui/admin/users/" + cadre.UserID.String()
		action := match(t, regexp.MustCompile(`action="(`+regexp.QuoteMeta(userPage)+`/devices/[0-9a-f-]+/revoke)"`), c.get(userPage).body)
		r := c.do("POST", action, url.Values{"csrf_token": {csrf}}, nil)
		if r.StatusCode != http.StatusSeeOther {
			t.Fatalf("revoking the phone: %d %.300s", r.StatusCode, pageText(t, r))
		}
		after := pageText(t, c.get(r.Header.Get("Location")))
		if !strings.Contains(after, "设备已注销") || !strings.Contains(after, "已注销（") {
			t.Errorf("after the revoke the page reads: %.600s", after)
		}
		if _, err := e.app.Auth.Login(ctx, "cadre03", demo.Password, "test-phone", "127.0.0.1", ""); err == nil {
			t.Errorf("the revoked phone logs in again")
		}
	})

	t.Run("a user form with a bad field, then a good one", func(t *testing.T) {
		b := browsertest.Start(t, browsertest.Desktop)
		e.signIn(b, "admin", demo.Password)
		b.Do(chromedp.WaitVisible(chromedp.CSS(`.who-name`)), chromedp.Navigate(e.url+"/ui/admin/users"), chromedp.WaitVisible(chromedp.CSS(`#new-user form`)))
		village := browsertest.Get(b, chromedp.Evaluate[string](`document.querySelector("select[name=region_id] optgroup[data-level=village] option").value`))
		b.Do(chromedp.SendKeys(chromedp.CSS(`#new-user input[name=username]`), "Bad Name!"),
			chromedp.SendKeys(chromedp.CSS(`#new-user input[name=display_name]`), "王测试"),
			chromedp.SetValue(chromedp.CSS(`#new-user select[name=region_id]`), village),
			chromedp.SendKeys(chromedp.CSS(`#new-user input[name=password]`), "a-long-enough-password"),
			chromedp.Click(chromedp.CSS(`#new-user button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`#new-user .field-error`)))
		errs := browsertest.Get(b, chromedp.Evaluate[map[string]string](`Object.fromEntries([...document.querySelectorAll("#new-user .field-error")].map(e => [e.parentElement.querySelector("input,select").name, e.textContent]))`))
		if len(errs) != 1 || errs["username"] != "用户名应为3至40位小写字母、数字或._-" {
			t.Errorf("the form's errors: %v", errs)
		}
		if v := browsertest.Get(b, chromedp.Value(chromedp.CSS(`#new-user input[name=display_name]`))); v != "王测试" {
			t.Errorf("the refused form forgot the name: %q", v)
		}
		if v := browsertest.Get(b, chromedp.Value(chromedp.CSS(`#new-user input[name=password]`))); v != "" {
			t.Error("the refused form sent the password back")
		}
		if users, _, err := e.app.Registry.Users(ctx, admin, registry.UserQuery{Query: "王测试"}, registry.Page{Limit: 10}); err != nil || len(users) != 0 {
			t.Errorf("a refused form wrote %d users (%v)", len(users), err)
		}
		b.Screenshot("user-refused")
		b.Do(chromedp.SetValue(chromedp.CSS(`#new-user input[name=username]`), "wang.test"),
			chromedp.SendKeys(chromedp.CSS(`#new-user input[name=password]`), "a-long-enough-password"),
			chromedp.Click(chromedp.CSS(`#new-user button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`#password`)))
		users, _, err := e.app.Registry.Users(ctx, admin, registry.UserQuery{Query: "wang.test"}, registry.Page{Limit: 10})
		if err != nil || len(users) != 1 || users[0].DisplayName != "王测试" || users[0].Role != domain.RoleCadre {
			t.Fatalf("after the good form: %+v (%v)", users, err)
		}
		b.Do(chromedp.SendKeys(chromedp.CSS(`#password input[name=password]`), "short"),
			chromedp.Click(chromedp.CSS(`#password button`)),
			chromedp.WaitVisible(chromedp.CSS(`#password .field-error`)))
		if msg := browsertest.Get(b, chromedp.Text(chromedp.CSS(`#password .field-error`))); msg != "密码长度应为10至128个字符" {
			t.Errorf("a short password reads %q", msg)
		}
		b.Do(chromedp.Click(chromedp.CSS(`#active-form button`)), chromedp.WaitVisible(chromedp.CSS(`#active-form[data-active=false]`)))
		if u, err := e.app.Registry.User(ctx, admin, users[0].ID); err != nil || u.Active {
			t.Errorf("after deactivation the user is active=%v (%v)", u.Active, err)
		}
		b.Screenshot("user")
		noProblems(t, b, "/ui/admin/users#new-user", "/password")
	})

	t.Run("an import with a bad row shows the Chinese report and writes nothing", func(t *testing.T) {
		_, before, err := e.app.Registry.Households(ctx, admin, registry.HouseholdQuery{}, registry.Page{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		file := e.registerWithBadRow(t, admin)
		b := browsertest.Start(t, browsertest.Desktop)
		e.signIn(b, "admin", demo.Password)
		b.Do(chromedp.WaitVisible(chromedp.CSS(`.who-name`)), chromedp.Navigate(e.url+"/ui/admin/imports"),
			chromedp.SetUploadFiles(chromedp.CSS(`#import-form input[type=file]`), []string{file}),
			chromedp.Click(chromedp.CSS(`#import-form button[value=dry_run]`)),
			chromedp.WaitVisible(chromedp.CSS(`#import-verdict`)))
		errs := browsertest.Get(b, chromedp.Evaluate[[][]string](`[...document.querySelectorAll("#import-report tbody tr")].slice(0, 1).map(r => [...r.cells].map(c => c.textContent))`))
		if len(errs) != 1 || errs[0][0] != "第3行" || errs[0][1] != "身份证号" || errs[0][2] == "" {
			t.Errorf("the dry run's first error: %q", errs)
		}
		// The import itself refuses the file the same way, writing nothing;
		// the file stays selected after htmx swapped the report in.
		b.Do(chromedp.Click(chromedp.CSS(`#import-form button[value=import]`)),
			chromedp.WaitVisible(chromedp.CSS(`#import-report h2`)))
		browsertest.Get(b, chromedp.Poll[bool](`document.querySelector("#import-report h2").textContent.startsWith("导入结果")`))
		if v := browsertest.Get(b, chromedp.Text(chromedp.CSS(`#import-verdict`))); !strings.Contains(v, "未写入任何数据") {
			t.Errorf("the import's verdict reads %q", v)
		}
		if _, after, err := e.app.Registry.Households(ctx, admin, registry.HouseholdQuery{}, registry.Page{Limit: 1}); err != nil || after != before {
			t.Errorf("households before %d, after the refused import %d (%v)", before, after, err)
		}
		b.Screenshot("import-refused")
		noProblems(t, b)
	})

	t.Run("re-pairing ends one pairing and starts the next", func(t *testing.T) {
		households, _, err := e.app.Registry.Households(ctx, admin, registry.HouseholdQuery{Status: domain.StatusRegistered}, registry.Page{Limit: 1})
		if err != nil || len(households) == 0 {
			t.Fatalf("no registered household: %v", err)
		}
		h := households[0]
		today := domain.DateOf(e.app.Now())
		open, _, err := e.app.Registry.Pairings(ctx, admin, registry.PairingQuery{HouseholdID: &h.ID, ActiveOn: &today}, registry.Page{Limit: 5})
		if err != nil || len(open) == 0 {
			t.Fatalf("household %s has no open pairing: %v", h.Number, err)
		}
		next := e.principal(t, "cadre02")
		b := browsertest.Start(t, browsertest.Desktop)
		e.signIn(b, "admin", demo.Password)
		b.Do(chromedp.WaitVisible(chromedp.CSS(`.who-name`)), chromedp.Navigate(e.url+"/ui/admin/pairings?q="+h.Number),
			chromedp.Click(chromedp.CSS(`a[href="/ui/admin/pairings/`+h.ID.String()+`"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#new-pairing`)))
		// Ending the last pairing of a registered household with nobody
		// next is refused (不脱贫不脱钩), in Chinese, on that pairing's form.
		form := `.pairing[data-pairing="` + open[0].ID.String() + `"] form`
		if len(open) == 1 {
			b.Do(chromedp.Click(chromedp.CSS(form+` button`)), chromedp.WaitVisible(chromedp.CSS(`.pairing[data-pairing="`+open[0].ID.String()+`"] .form-error, .pairing[data-pairing="`+open[0].ID.String()+`"] .field-error`)))
			b.Screenshot("pairing-refused")
		}
		b.Do(chromedp.SetValue(chromedp.CSS(form+` select[name=new_cadre_id]`), next.UserID.String()),
			chromedp.SendKeys(chromedp.CSS(form+` input[name=reason]`), "工作调动"),
			chromedp.Click(chromedp.CSS(form+` button`)),
			chromedp.WaitNotPresent(chromedp.CSS(form)))
		if asked := b.Dialogs(); len(asked) == 0 || !strings.Contains(asked[len(asked)-1], "确定结束这项结对") {
			t.Errorf("ending a pairing asked %q, want a confirmation first", asked)
		}
		after, _, err := e.app.Registry.Pairings(ctx, admin, registry.PairingQuery{HouseholdID: &h.ID, ActiveOn: &today}, registry.Page{Limit: 5})
		if err != nil || !slices.ContainsFunc(after, func(p domain.Pairing) bool { return p.CadreID == next.UserID }) {
			t.Errorf("after re-pairing the open pairings are %+v (%v)", after, err)
		}
		b.Screenshot("pairings")
		noProblems(t, b, "/end")
	})

	t.Run("every admin page answers an admin", func(t *testing.T) {
		c := e.client(t)
		token := c.mustLogin("admin")
		units, _, err := e.app.Registry.Units(ctx, admin, "", registry.Page{Limit: 1})
		if err != nil || len(units) == 0 {
			t.Fatalf("no unit: %v", err)
		}
		for _, path := range []string{"/ui/admin/users", "/ui/admin/units", "/ui/admin/units/" + units[0].ID.String(), "/ui/admin/pairings",
			"/ui/admin/rules", "/ui/admin/imports"} {
			if r := c.get(path); r.StatusCode != http.StatusOK {
				t.Errorf("admin GET %s: %d", path, r.StatusCode)
			}
		}
		// The imports page's register download re-imports as it is.
		if r := c.get("/ui/admin/imports/export?format=csv"); r.StatusCode != http.StatusOK || !strings.Contains(r.body, "与户主关系,姓名,身份证号") {
			t.Errorf("admin's register download: %d %.300s", r.StatusCode, r.body)
		}
		// A town gets its own profile through the form.
		towns, _, err := e.app.Registry.Regions(ctx, admin, registry.RegionQuery{Level: domain.LevelTown}, registry.Page{Limit: 1})
		if err != nil || len(towns) == 0 {
			t.Fatal(err)
		}
		profiles, err := e.app.Compliance.Profiles(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			name, code string
			status     int
		}{{"an unknown profile is refused", "no-such-profile", http.StatusUnprocessableEntity}, {"a profile is set", profiles[len(profiles)-1].Code, http.StatusSeeOther}} {
			r := c.do("POST", "/ui/admin/rules", url.Values{"csrf_token": {token}, "region_id": {towns[0].ID.String()}, "profile_code": {tt.code}}, nil)
			if r.StatusCode != tt.status {
				t.Errorf("%s: %d, want %d", tt.name, r.StatusCode, tt.status)
			}
			if tt.status == http.StatusUnprocessableEntity && !strings.Contains(pageText(t, r), "规则方案不存在") {
				t.Errorf("%s: the page does not say why", tt.name)
			}
		}
		if a, err := e.app.Compliance.RegionProfile(ctx, admin, towns[0].ID); err != nil || !a.Own || a.Profile.Code != profiles[len(profiles)-1].Code {
			t.Errorf("the town's profile: %+v (%v)", a, err)
		}
	})

	t.Run("the pages at phone width, within the page-weight budget", func(t *testing.T) {
		supervisor := e.principal(t, "supervisor")
		camps, _, err := e.app.Inspect.Campaigns(ctx, supervisor, inspect.CampaignQuery{Status: inspect.StatusEnded, Limit: 1})
		if err != nil || len(camps) == 0 {
			t.Fatalf("no ended campaign: %v", err)
		}
		items, _, err := e.app.ItemLedger.Items(ctx, supervisor, itemledger.Query{Kind: itemledger.KindRectification, Limit: 1})
		if err != nil || len(items) == 0 {
			t.Fatalf("no rectification: %v", err)
		}
		hardships, _, err := e.app.ItemLedger.Items(ctx, supervisor, itemledger.Query{Kind: itemledger.KindHardship, Limit: 1})
		if err != nil || len(hardships) == 0 {
			t.Fatalf("no item of the 困难群众 ledger: %v", err)
		}
		pages := map[string]string{"inspections": "/ui/inspections", "inspection": "/ui/inspections/" + camps[0].ID.String(),
			"rectifications": "/ui/rectifications", "rectification": "/ui/rectifications/" + items[0].ID.String(),
			"livelihood-requests": "/ui/ledgers/livelihood_request", "hardship": "/ui/ledgers/hardship/" + hardships[0].ID.String(),
			"users": "/ui/admin/users", "pairings": "/ui/admin/pairings", "rules": "/ui/admin/rules", "imports": "/ui/admin/imports",
			"audit": "/ui/admin/audit"}
		// A later page's own bytes (the shared assets are cached by then; these pages add none).
		c := e.client(t)
		c.mustLogin("admin")
		for name, path := range pages {
			if n := len(c.do("GET", path, nil, map[string]string{"Accept-Encoding": "gzip"}).body); n > 60_000 {
				t.Errorf("%s is %d bytes compressed, budget 60 KB", name, n)
			}
		}
		b := browsertest.Start(t, browsertest.Phone)
		e.signIn(b, "admin", demo.Password)
		b.Do(chromedp.WaitVisible(chromedp.CSS(`.who-name`)))
		for name, path := range pages {
			b.Do(chromedp.Navigate(e.url+path), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
			if w := browsertest.Get(b, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > browsertest.Phone.Width+1 {
				t.Errorf("%s is %d px wide at %d px: it scrolls sideways", name, w, browsertest.Phone.Width)
			}
			b.Screenshot(name)
		}
		noProblems(t, b)
	})

	t.Run("a cadre gets the 403 page on admin pages", func(t *testing.T) {
		c := e.client(t)
		c.mustLogin("cadre01")
		cadre := e.principal(t, "cadre01")
		for _, path := range []string{"/ui/admin/users", "/ui/admin/users/" + cadre.UserID.String(), "/ui/admin/imports", "/ui/admin/units",
			"/ui/admin/pairings", "/ui/admin/rules", "/ui/admin/imports/export?format=csv"} {
			r := c.get(path)
			if r.StatusCode != http.StatusForbidden || !strings.Contains(pageText(t, r), "无权访问") {
				t.Errorf("cadre01 GET %s: %d", path, r.StatusCode)
			}
		}
	})
}

// registerWithBadRow writes an XLSX register of two new households in a
// demo village, the second with an ID number that fails its checksum (row
// 3), and returns its path.
func (e *consoleEnv) registerWithBadRow(t *testing.T, admin domain.Principal) string {
	t.Helper()
	ctx := context.Background()
	village, town := e.demoVillage(t, admin)
	county, err := e.app.Registry.Region(ctx, admin, *town.ParentID)
	if err != nil {
		t.Fatal(err)
	}
	f := excelize.NewFile()
	defer f.Close()
	rows := [][]string{
		{"序号", "县/区", "乡镇", "所属村", "户编号", "户主姓名", "与户主关系", "姓名", "性别", "身份证号", "家庭人口", "贫困户属性", "户类型"},
		{"1", county.Name, town.Name, village.Name, "T-IMPORT-1", "测试甲", "户主", "测试甲", "男", "410122196503120117", "1", "一般贫困户", "在册未脱贫"},
		{"2", county.Name, town.Name, village.Name, "T-IMPORT-2", "测试乙", "户主", "测试乙", "女", "410122196503120118", "1", "一般贫困户", "在册未脱贫"},
	}
	for i, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "台账.xlsx")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// demoVillage is the first village of the demo county admin sees, and its
// town.
func (e *consoleEnv) demoVillage(t *testing.T, admin domain.Principal) (village, town domain.Region) {
	t.Helper()
	ctx := context.Background()
	villages, _, err := e.app.Registry.Regions(ctx, admin, registry.RegionQuery{Level: domain.LevelVillage}, registry.Page{Limit: 1})
	if err != nil || len(villages) == 0 {
		t.Fatalf("no village: %v", err)
	}
	town, err = e.app.Registry.Region(ctx, admin, *villages[0].ParentID)
	if err != nil {
		t.Fatal(err)
	}
	return villages[0], town
}
