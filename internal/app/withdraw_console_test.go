package app

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestWithdrawInTheConsole: an open item's page offers its manager a 撤销
// form asking for the reason; posted without one it is refused naming the
// reason and writes nothing; with one the item is 已撤销 on its page, in
// the list's 已撤销 tab and in the exported ledger, and offers no move.
// The cadre who answers for a rectification is offered no 撤销.
func TestWithdrawInTheConsole(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	item := e.rectify(t, e.login(t, "supervisor-a"), e.rectificationBody())
	path := "/ui/rectifications/" + item.ID.String()
	if body := pageText(t, e.consoleOf(t, "cadre-a").get(path)); !strings.Contains(body, `data-action="start"`) || strings.Contains(body, `data-action="withdraw"`) {
		t.Fatalf("the cadre's page of a rectification offers the wrong moves")
	}
	c := e.consoleOf(t, "supervisor-a")
	page := pageText(t, c.get(path))
	if !strings.Contains(page, `data-action="withdraw"`) || !strings.Contains(page, "撤销原因（必填）") {
		t.Fatalf("the supervisor's page offers no 撤销 with its reason")
	}
	csrf := match(t, metaToken, pageText(t, c.get("/ui/")))
	const reason = "农户选错，应为同村另一户"
	audits := e.count(t, "audit_log")
	r := c.do("POST", path+"/act", url.Values{"csrf_token": {csrf}, "action": {"withdraw"}, "version": {"1"}}, nil)
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(pageText(t, r), "请填写撤销原因") || e.count(t, "audit_log") != audits {
		t.Fatalf("a withdrawal without a reason: %d", r.StatusCode)
	}
	r = c.do("POST", path+"/act", url.Values{"csrf_token": {csrf}, "action": {"withdraw"}, "version": {"1"}, "note": {reason}}, nil)
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("withdraw: %d %.300s", r.StatusCode, pageText(t, r))
	}
	page = pageText(t, c.get(r.Header.Get("Location")))
	if !strings.Contains(page, `id="item-state">已撤销<`) || !strings.Contains(page, "已撤销。") || !strings.Contains(page, reason) ||
		strings.Contains(page, `id="item-actions"`) {
		t.Fatalf("the item's page after the withdrawal: %.2000s", page)
	}
	list := pageText(t, c.get("/ui/rectifications?status=withdrawn"))
	if !strings.Contains(list, path) || !strings.Contains(list, "已撤销") {
		t.Fatalf("the 已撤销 tab does not list the item")
	}
	if strings.Contains(pageText(t, c.get("/ui/rectifications?status=open")), path) {
		t.Fatalf("the withdrawn item is listed as open")
	}
	rows := xlsxRows(t, []byte(pageText(t, c.get("/ui/rectifications/export"))))
	if len(rows) != 4 || rows[3][9] != "已撤销" || rows[3][10] != "已撤销："+reason {
		t.Fatalf("the console's export: %q", rows)
	}
}
