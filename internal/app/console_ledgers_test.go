package app

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/demo"
	"github.com/fieldvisit/fieldvisit/internal/itemledger"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	"github.com/fieldvisit/fieldvisit/internal/testkit/browsertest"
	fvsync "github.com/fieldvisit/fieldvisit/sync"
)

// ledgerItemLink matches a link to an item of a cadre ledger.
// evidenceVisitDay matches a visit offered as evidence, with its day.
var evidenceVisitDay = regexp.MustCompile(`name="visit_ids" value="[0-9a-f-]{36}"(?: checked)?> (\d{4}-\d\d-\d\d) `)

var ledgerItemLink = regexp.MustCompile(`href="/ui/ledgers/(?:livelihood_request|hardship)/([0-9a-f-]{36})"`)

// cadreLedgerItems are every item of the cadres' ledgers p sees, by town.
func (e *consoleEnv) cadreLedgerItems(t *testing.T, p domain.Principal) map[uuid.UUID][]itemledger.View {
	t.Helper()
	out := map[uuid.UUID][]itemledger.View{}
	for _, kind := range []string{itemledger.KindLivelihoodRequest, itemledger.KindHardship} {
		items, _, err := e.app.ItemLedger.Items(context.Background(), p, itemledger.Query{Kind: kind, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range items {
			out[*v.TownID] = append(out[*v.TownID], v)
		}
	}
	return out
}

// visitSince is evidence for the item: a visit its responsible cadre
// made to its household since it was registered (an older visit cannot
// show it dealt with), synced from their phone.
func (e *consoleEnv) visitSince(t *testing.T, item itemledger.View) uuid.UUID {
	t.Helper()
	if item.ResponsibleUserID == nil || item.HouseholdID == nil {
		t.Fatalf("the item has no responsible cadre or household: %+v", item.Record)
	}
	cadre, err := e.app.Store.User(context.Background(), *item.ResponsibleUserID)
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.New()
	e.pushChange(t, cadre.Username, visitOn(id, *item.HouseholdID, domain.KindAssist, time.Now().Add(-time.Minute)))
	return id
}

// townAccount creates a user of role in the town and returns their name.
func (e *consoleEnv) townAccount(t *testing.T, prefix, role string, town uuid.UUID) string {
	t.Helper()
	name := prefix + "." + town.String()[:8]
	_, err := e.app.Registry.CreateUser(context.Background(), e.principal(t, "admin"), registry.NewUser{
		User: domain.User{Username: name, DisplayName: "乡镇账号", Role: role, RegionID: town}, Password: demo.Password})
	if err != nil {
		t.Fatal(err)
	}
	return name
}

// consoleLedgers: the cadres' ledgers (民生诉求台账, 困难群众台账) in the
// console — the pages for the roles that have them and 403 for the rest,
// a town office's list and item pages hold only its town, the filters
// refuse what is malformed naming it, every move the service allows is a
// form that changes the item (read back through the service), a refused
// form writes nothing, and a supervisor closes an item (销号) in the
// browser after confirming.
func consoleLedgers(t *testing.T, e *consoleEnv) {
	ctx := context.Background()
	supervisor := e.principal(t, "supervisor")
	byTown := e.cadreLedgerItems(t, supervisor)
	var towns []uuid.UUID
	for town := range byTown {
		towns = append(towns, town)
	}
	if len(towns) < 2 {
		t.Fatalf("the demo's cadre ledgers lie in %d towns; the scope test needs two", len(towns))
	}
	slices.SortFunc(towns, func(a, b uuid.UUID) int { return len(byTown[b]) - len(byTown[a]) })
	home, away := towns[0], towns[1]
	if len(byTown[home]) < 3 {
		t.Fatalf("the demo's busiest town has %d items of the cadre ledgers; the tests need three", len(byTown[home]))
	}

	t.Run("the pages by role", func(t *testing.T) {
		cadreItem := byTown[home][0]
		cadre, err := e.app.Registry.User(ctx, supervisor, *cadreItem.ResponsibleUserID)
		if err != nil {
			t.Fatal(err)
		}
		item := "/ui/ledgers/" + cadreItem.Kind + "/" + cadreItem.ID.String()
		tests := []struct {
			user   string
			path   string
			status int
			says   string
		}{
			{"supervisor", "/ui/ledgers/livelihood_request", http.StatusOK, "民生诉求台账"},
			{"supervisor", "/ui/ledgers/hardship", http.StatusOK, "困难群众台账"},
			{"supervisor", item, http.StatusOK, cadreItem.Problem},
			{"admin", "/ui/ledgers/hardship?status=overdue", http.StatusOK, "逾期未办结"},
			{cadre.Username, "/ui/ledgers/" + cadreItem.Kind, http.StatusOK, `href="` + item + `"`},
			{cadre.Username, item, http.StatusOK, cadreItem.Problem},
			{"inspector", "/ui/ledgers/livelihood_request", http.StatusForbidden, "无权访问"},
			{"inspector", item, http.StatusForbidden, "无权访问"},
			{"inspector", "/ui/ledgers/hardship/export", http.StatusForbidden, "无权访问"},
			{"supervisor", "/ui/ledgers/gossip", http.StatusNotFound, "未找到"},
			{"supervisor", "/ui/ledgers/hardship/" + uuid.NewString(), http.StatusNotFound, "未找到"},
			// The rectification ledger is the same pages under its old paths.
			{"inspector", "/ui/rectifications", http.StatusOK, "整改台账"},
		}
		clients := map[string]*consoleClient{}
		for _, tt := range tests {
			c := clients[tt.user]
			if c == nil {
				c = e.client(t)
				c.mustLogin(tt.user)
				clients[tt.user] = c
			}
			r := c.get(tt.path)
			if r.StatusCode != tt.status || !strings.Contains(pageText(t, r), tt.says) {
				t.Errorf("%s GET %s: %d, want %d saying %q", tt.user, tt.path, r.StatusCode, tt.status, tt.says)
			}
		}
		for user, want := range map[string]bool{"supervisor": true, cadre.Username: true, "inspector": false} {
			nav := pageText(t, clients[user].get("/ui/"))
			if got := strings.Contains(nav, `href="/ui/ledgers/livelihood_request"`) && strings.Contains(nav, `href="/ui/ledgers/hardship"`); got != want {
				t.Errorf("%s's nav has the cadre ledgers: %v, want %v", user, got, want)
			}
		}
		for _, tc := range []struct{ query, status, contentType string }{
			{"", "200", "spreadsheetml"},
			{"?format=xlsx", "200", "spreadsheetml"},
			{"?format=csv", "200", "text/csv"},
			{"?format=pdf", "422", "text/html"},
		} {
			r := clients["supervisor"].get("/ui/ledgers/hardship/export" + tc.query)
			if strconv.Itoa(r.StatusCode) != tc.status || !strings.Contains(r.Header.Get("Content-Type"), tc.contentType) {
				t.Errorf("the supervisor's export%s: %d %s, want %s %s", tc.query, r.StatusCode, r.Header.Get("Content-Type"), tc.status, tc.contentType)
			}
		}
	})

	t.Run("a town office sees its town only", func(t *testing.T) {
		c := e.client(t)
		c.mustLogin(e.townAccount(t, "ledgers", domain.RoleSupervisor, home))
		listed := map[string]bool{}
		for _, path := range []string{"/ui/ledgers/livelihood_request", "/ui/ledgers/hardship"} {
			r := c.get(path)
			if r.StatusCode != http.StatusOK {
				t.Fatalf("the town office's %s: %d", path, r.StatusCode)
			}
			for _, m := range ledgerItemLink.FindAllStringSubmatch(pageText(t, r), -1) {
				listed[m[1]] = true
			}
		}
		for _, v := range byTown[home] {
			if !listed[v.ID.String()] {
				t.Errorf("the town office's list lacks %s of its own town", v.ID)
			}
		}
		for _, v := range byTown[away] {
			if listed[v.ID.String()] {
				t.Errorf("the town office's list shows %s of another town", v.ID)
			}
			if r := c.get("/ui/ledgers/" + v.Kind + "/" + v.ID.String()); r.StatusCode != http.StatusNotFound {
				t.Errorf("the town office opens another town's item: %d", r.StatusCode)
			}
		}
		// Asking for the other town by the filter is refused, not widened.
		if r := c.get("/ui/ledgers/hardship?region=" + away.String()); r.StatusCode == http.StatusOK && ledgerItemLink.MatchString(pageText(t, r)) {
			t.Errorf("the region filter showed the town office another town's items")
		}
	})

	t.Run("the filters", func(t *testing.T) {
		c := e.client(t)
		c.mustLogin("supervisor")
		r := c.get("/ui/ledgers/livelihood_request?region=" + home.String())
		for _, m := range ledgerItemLink.FindAllStringSubmatch(pageText(t, r), -1) {
			if !slices.ContainsFunc(byTown[home], func(v itemledger.View) bool { return v.ID.String() == m[1] }) {
				t.Errorf("the list filtered by town shows %s of another town", m[1])
			}
		}
		who := *byTown[home][0].ResponsibleUserID
		r = c.get("/ui/ledgers/" + byTown[home][0].Kind + "?responsible=" + who.String())
		for _, m := range ledgerItemLink.FindAllStringSubmatch(pageText(t, r), -1) {
			v, err := e.app.ItemLedger.Item(ctx, supervisor, byTown[home][0].Kind, uuid.MustParse(m[1]))
			if err != nil || *v.ResponsibleUserID != who {
				t.Errorf("the list filtered by cadre shows %s of another (%v)", m[1], err)
			}
		}
		if !strings.Contains(pageText(t, r), "责任人：") {
			t.Errorf("the cadre filter shows no chip to drop it")
		}
		for _, tt := range []struct{ query, says string }{
			{"region=nowhere", "地区无效"}, {"responsible=nobody", "责任人无效"}, {"status=lost", "状态无效"},
		} {
			r := c.get("/ui/ledgers/hardship?" + tt.query)
			if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(pageText(t, r), tt.says) {
				t.Errorf("?%s: %d, want 422 saying %q", tt.query, r.StatusCode, tt.says)
			}
		}
	})

	t.Run("moves from the console change the item; refused ones write nothing", func(t *testing.T) {
		item := byTown[home][len(byTown[home])-1]
		path := "/ui/ledgers/" + item.Kind + "/" + item.ID.String()
		evidence := e.visitSince(t, item)
		c := e.client(t)
		csrf := c.mustLogin("supervisor")
		read := func() itemledger.View {
			t.Helper()
			v, err := e.app.ItemLedger.Item(ctx, supervisor, item.Kind, item.ID)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		steps := []struct {
			name   string
			form   url.Values
			status int
			says   string // on the answer (after the redirect, for a move that went through)
			state  string // the item's status after
		}{
			{"no CSRF token", url.Values{"action": {"start"}, "version": {"1"}}, http.StatusForbidden, "安全校验", itemledger.Open},
			{"a version that is no number", url.Values{"action": {"start"}, "version": {"一"}}, http.StatusUnprocessableEntity, "版本号应为整数", itemledger.Open},
			{"a move that does not exist", url.Values{"action": {"vanish"}, "version": {"1"}}, http.StatusUnprocessableEntity, "操作无效", itemledger.Open},
			{"a stale version", url.Values{"action": {"start"}, "version": {"7"}}, http.StatusConflict, "", itemledger.Open},
			{"start", url.Values{"action": {"start"}, "version": {"1"}}, http.StatusSeeOther, "已开始办理", itemledger.InProgress},
			{"a submission without evidence", url.Values{"action": {"submit"}, "version": {"2"}}, http.StatusUnprocessableEntity, "材料", itemledger.InProgress},
			{"a submission on another's visit id", url.Values{"action": {"submit"}, "version": {"2"}, "visit_ids": {uuid.NewString()}}, http.StatusUnprocessableEntity, "走访记录不存在", itemledger.InProgress},
			{"submit", url.Values{"action": {"submit"}, "version": {"2"}, "visit_ids": {evidence.String()}, "note": {"已协调解决"}}, http.StatusSeeOther, "已提交销号", itemledger.Submitted},
			{"a rejection without a reason", url.Values{"action": {"reject"}, "version": {"3"}}, http.StatusUnprocessableEntity, "请说明退回", itemledger.Submitted},
			{"approve (销号)", url.Values{"action": {"approve"}, "version": {"3"}, "note": {"材料齐全"}}, http.StatusSeeOther, "已销号", itemledger.Closed},
		}
		for _, st := range steps {
			before := read()
			if st.name != "no CSRF token" {
				st.form.Set("csrf_token", csrf)
			}
			r := c.do("POST", path+"/act", st.form, nil)
			if r.StatusCode != st.status {
				t.Errorf("%s: %d, want %d: %.300s", st.name, r.StatusCode, st.status, pageText(t, r))
			}
			body := pageText(t, r)
			if r.StatusCode == http.StatusSeeOther {
				body = pageText(t, c.get(r.Header.Get("Location")))
			}
			if !strings.Contains(body, st.says) {
				t.Errorf("%s: the page does not say %q", st.name, st.says)
			}
			after := read()
			if after.Status != st.state {
				t.Errorf("%s: the item is %s, want %s", st.name, after.Status, st.state)
			}
			if st.status != http.StatusSeeOther && (after.Version != before.Version || len(after.History) != len(before.History)) {
				t.Errorf("%s was refused but wrote: version %d → %d", st.name, before.Version, after.Version)
			}
		}
		if h := read().History; h[len(h)-1].By != supervisor.UserID || h[len(h)-1].Note != "材料齐全" {
			t.Errorf("the closing is recorded as %+v", h[len(h)-1])
		}
	})

	t.Run("a cadre works their own item but may not close it", func(t *testing.T) {
		item := byTown[home][0]
		cadre, err := e.app.Registry.User(ctx, supervisor, *item.ResponsibleUserID)
		if err != nil {
			t.Fatal(err)
		}
		c := e.client(t)
		csrf := c.mustLogin(cadre.Username)
		path := "/ui/ledgers/" + item.Kind + "/" + item.ID.String()
		body := pageText(t, c.get(path))
		if !strings.Contains(body, `data-action="start"`) || strings.Contains(body, `data-action="approve"`) {
			t.Errorf("the cadre's item page offers the wrong moves")
		}
		// The visits offered as evidence begin on or after the day the
		// problem was found: the ledger refuses older ones (早于问题发现日期),
		// and the household has a year of them.
		found := domain.DateOf(item.CreatedAt).String()
		older, _, err := e.app.Sync.Visits(ctx, supervisor, fvsync.VisitQuery{HouseholdID: item.HouseholdID, To: ptr(domain.DateOf(item.CreatedAt).AddDays(-1)), Limit: 1})
		if err != nil || len(older) == 0 {
			t.Fatalf("the household has no visit before its item was registered on %s (%v): nothing to leave out", found, err)
		}
		for _, m := range evidenceVisitDay.FindAllStringSubmatch(body, -1) {
			if m[1] < found {
				t.Errorf("the evidence offered holds a visit of %s, before the problem was found on %s", m[1], found)
			}
		}
		before, _ := e.app.ItemLedger.Item(ctx, supervisor, item.Kind, item.ID)
		if r := c.do("POST", path+"/act", url.Values{"csrf_token": {csrf}, "action": {"approve"}, "version": {"1"}}, nil); r.StatusCode != http.StatusForbidden {
			t.Errorf("a cadre's approval: %d, want 403", r.StatusCode)
		}
		if after, _ := e.app.ItemLedger.Item(ctx, supervisor, item.Kind, item.ID); after.Version != before.Version {
			t.Errorf("a refused approval wrote")
		}
	})

	t.Run("a supervisor closes an item in the browser", func(t *testing.T) {
		item := byTown[home][1]
		v, err := e.app.ItemLedger.Act(ctx, supervisor, item.Kind, item.ID, itemledger.Step{Action: itemledger.Submit, Version: item.Version,
			Evidence: itemledger.Evidence{VisitIDs: []string{e.visitSince(t, item).String()}}})
		if err != nil {
			t.Fatal(err)
		}
		b := browsertest.Start(t, browsertest.Desktop)
		e.signIn(b, "supervisor", demo.Password)
		b.Do(chromedp.WaitVisible(chromedp.CSS(`.who-name`)), chromedp.Navigate(e.url+"/ui/ledgers/"+item.Kind+"?status=submitted"),
			chromedp.Click(chromedp.CSS(`a[href="/ui/ledgers/`+item.Kind+`/`+item.ID.String()+`"]`)),
			chromedp.WaitVisible(chromedp.CSS(`form[data-action=approve]`)),
			chromedp.Click(chromedp.CSS(`form[data-action=approve] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`#done`)))
		if asked := b.Dialogs(); len(asked) == 0 || !strings.Contains(asked[len(asked)-1], "确定销号") {
			t.Errorf("销号 asked no confirmation: %v", asked)
		}
		if got := browsertest.Get(b, chromedp.Text(chromedp.CSS(`#item-state`))); got != "已销号" {
			t.Errorf("the page says %q", got)
		}
		if after, err := e.app.ItemLedger.Item(ctx, supervisor, item.Kind, item.ID); err != nil || after.Status != itemledger.Closed || after.Version != v.Version+1 {
			t.Errorf("after the browser's 销号 the item is %s v%d (%v)", after.Status, after.Version, err)
		}
		b.Screenshot("ledger-closed")

		// 撤销 in the same browser: without its reason the browser asks for
		// the reason and not yet the question (which said 不能恢复 only to
		// be refused for the missing reason); with it, the question said
		// yes to, and the page shows the item 已撤销 with its reason and no
		// move left. The item is one still unended, not the audit's last
		// open one.
		var wrong itemledger.View
		for _, v := range byTown[home][2:] {
			if now, err := e.app.ItemLedger.Item(ctx, supervisor, v.Kind, v.ID); err == nil && !now.Ended() && wrong.ID == uuid.Nil {
				wrong = now
			}
		}
		if wrong.ID == uuid.Nil {
			t.Fatal("no unended item of the town's ledgers left to withdraw")
		}
		const reason = "重复登记，同一诉求已有记录"
		asked := len(b.Dialogs())
		b.Do(chromedp.Navigate(e.url+"/ui/ledgers/"+wrong.Kind+"/"+wrong.ID.String()),
			chromedp.WaitVisible(chromedp.CSS(`form[data-action=withdraw]`)),
			chromedp.Click(chromedp.CSS(`form[data-action=withdraw] button[type=submit]`)))
		if q, missing := b.Dialogs()[asked:], browsertest.Get(b, chromedp.Evaluate[bool](`document.querySelector("form[data-action=withdraw] textarea[name=note]").validity.valueMissing`)); len(q) != 0 || !missing {
			t.Errorf("撤销 without a reason asked %q (want nothing yet) and the reason is missing: %v (want true)", q, missing)
		}
		b.Do(chromedp.SendKeys(chromedp.CSS(`form[data-action=withdraw] textarea[name=note]`), reason),
			chromedp.Click(chromedp.CSS(`form[data-action=withdraw] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`#done`)))
		if q := b.Dialogs()[asked:]; len(q) != 1 || !strings.Contains(q[0], "确定撤销") {
			t.Errorf("撤销 asked %q, want its one confirmation", q)
		}
		shown := browsertest.Get(b, chromedp.Evaluate[map[string]any](`({state: document.querySelector("#item-state").textContent,
			done: document.querySelector("#done").textContent, withdrawn: document.querySelector("#withdrawn")?.textContent || "",
			moves: !!document.querySelector("#item-actions")})`))
		if shown["state"] != "已撤销" || shown["done"] != "已撤销。" || !strings.Contains(shown["withdrawn"].(string), reason) || shown["moves"] != false {
			t.Errorf("after the browser's 撤销 the page shows %v", shown)
		}
		if after, err := e.app.ItemLedger.Item(ctx, supervisor, wrong.Kind, wrong.ID); err != nil || after.Status != itemledger.Withdrawn || after.WithdrawReason != reason {
			t.Errorf("after the browser's 撤销 the item is %s %q (%v)", after.Status, after.WithdrawReason, err)
		}
		noProblems(t, b)
	})
}

// auditActor matches an audit entry's actor cell, a link filtering by them.
var auditActor = regexp.MustCompile(`<td class=""><a href="/ui/admin/audit\?user_id=([0-9a-f-]{36})">`)

// auditTime matches an audit entry's time cell.
var auditTime = regexp.MustCompile(`<td class="">(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)</td>`)

// consoleAudit: the audit log page — admins only (the tab too), newest
// first, filtered by actor and action, each entry linked to its object's
// page, a town admin's log holds only their town, and malformed filters
// are refused naming the field.
func consoleAudit(t *testing.T, e *consoleEnv) {
	ctx := context.Background()
	admin, supervisor := e.principal(t, "admin"), e.principal(t, "supervisor")

	t.Run("who may open it", func(t *testing.T) {
		for user, want := range map[string]int{"admin": http.StatusOK, "supervisor": http.StatusForbidden, "cadre01": http.StatusForbidden, "inspector": http.StatusForbidden} {
			c := e.client(t)
			c.mustLogin(user)
			if r := c.get("/ui/admin/audit"); r.StatusCode != want {
				t.Errorf("%s GET /ui/admin/audit: %d, want %d", user, r.StatusCode, want)
			}
			if user == "cadre01" || user == "inspector" {
				continue
			}
			if got := strings.Contains(pageText(t, c.get("/ui/admin/users")), `href="/ui/admin/audit"`); got != (want == http.StatusOK) {
				t.Errorf("%s's admin tabs link the audit log: %v", user, got)
			}
		}
	})

	// An entry to find: a supervisor starts an item of a cadre ledger.
	byTown := e.cadreLedgerItems(t, supervisor)
	var item itemledger.View
	var town uuid.UUID
	for tw, items := range byTown {
		for _, v := range items {
			if v.Status == itemledger.Open {
				item, town = v, tw
			}
		}
	}
	if item.ID == uuid.Nil {
		t.Fatal("no open item of a cadre ledger left")
	}
	if _, err := e.app.ItemLedger.Act(ctx, supervisor, item.Kind, item.ID, itemledger.Step{Action: itemledger.Start, Version: item.Version}); err != nil {
		t.Fatal(err)
	}
	itemPage := `href="/ui/ledgers/` + item.Kind + `/` + item.ID.String() + `"`

	t.Run("newest first, filtered, linked", func(t *testing.T) {
		c := e.client(t)
		c.mustLogin("admin")
		body := pageText(t, c.get("/ui/admin/audit"))
		for _, h := range []string{"时间", "操作人", "操作", "对象", "涉及农户", "详情"} {
			if !strings.Contains(body, "<th scope=\"col\">"+h+"</th>") {
				t.Errorf("no column %s", h)
			}
		}
		times := auditTime.FindAllStringSubmatch(body, -1)
		if len(times) < 2 {
			t.Fatalf("the log shows %d entries", len(times))
		}
		for i := 1; i < len(times); i++ {
			if times[i][1] > times[i-1][1] {
				t.Errorf("entry %d (%s) is newer than the one above it (%s)", i, times[i][1], times[i-1][1])
			}
		}
		body = pageText(t, c.get("/ui/admin/audit?"+url.Values{"user_id": {supervisor.UserID.String()}, "action": {"start"}}.Encode()))
		if !strings.Contains(body, itemPage) || !strings.Contains(body, "开始办理") || !strings.Contains(body, "操作人：") {
			t.Errorf("the supervisor's 开始办理 is not in the filtered log, linked to the item: %.600s", body)
		}
		body = pageText(t, c.get("/ui/admin/audit?user_id="+supervisor.UserID.String()))
		actors := auditActor.FindAllStringSubmatch(body, -1)
		if len(actors) == 0 {
			t.Errorf("the log filtered by the supervisor is empty")
		}
		for _, m := range actors {
			if m[1] != supervisor.UserID.String() {
				t.Errorf("the log filtered by the supervisor shows an entry by %s", m[1])
			}
		}
		// A new user's entry links to the user's page.
		name := e.townAccount(t, "audited", domain.RoleCadre, town)
		users, _, err := e.app.Registry.Users(ctx, admin, registry.UserQuery{Query: name}, registry.Page{Limit: 1})
		if err != nil || len(users) != 1 {
			t.Fatalf("the new user: %v", err)
		}
		body = pageText(t, c.get("/ui/admin/audit?"+url.Values{"action": {"create"}, "from": {domain.DateOf(e.app.Now()).String()}}.Encode()))
		if !strings.Contains(body, `href="/ui/admin/users/`+users[0].ID.String()+`"`) {
			t.Errorf("the new user's entry does not link to their page")
		}
	})

	t.Run("a town admin's log holds only their town", func(t *testing.T) {
		var other uuid.UUID
		for tw := range byTown {
			if tw != town {
				other = tw
			}
		}
		if other == uuid.Nil {
			t.Skip("the demo's ledgers lie in one town")
		}
		c := e.client(t)
		c.mustLogin(e.townAccount(t, "auditor", domain.RoleAdmin, other))
		r := c.get("/ui/admin/audit?action=start")
		if r.StatusCode != http.StatusOK || strings.Contains(pageText(t, r), itemPage) {
			t.Errorf("another town's admin sees the entry: %d", r.StatusCode)
		}
	})

	t.Run("malformed filters are refused naming the field", func(t *testing.T) {
		c := e.client(t)
		c.mustLogin("admin")
		for _, tt := range []struct{ query, says string }{
			{"from=yesterday", "开始日期应为日期"}, {"to=2026-13-40", "结束日期应为日期"}, {"from=2026-03-01&to=2026-02-01", "结束日期早于开始日期"},
			{"user_id=me", "操作人无效"}, {"household_id=42", "农户无效"},
		} {
			r := c.get("/ui/admin/audit?" + tt.query)
			if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(pageText(t, r), tt.says) {
				t.Errorf("?%s: %d, want 422 saying %q", tt.query, r.StatusCode, tt.says)
			}
		}
	})
}
