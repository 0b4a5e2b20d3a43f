package app

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/casework"
	"github.com/fieldvisit/fieldvisit/internal/demo"
	"github.com/fieldvisit/fieldvisit/internal/testkit/browsertest"
	"github.com/fieldvisit/fieldvisit/wire"
)

var stepFormAction = regexp.MustCompile(`action="(/ui/households/[^"]+/procedures/[^"/]+/steps)#casework"`)

// consoleCasework: a supervisor walks one of cadre01's households through
// 两公示一公告 on the console — the 脱贫候选 page lists it with each
// indicator's reason, the household page shows its plan, income accounts
// and procedure, an out-of-order step and a notice without its document
// are refused in Chinese with nothing recorded, and after the 公告 the
// household is 已脱贫 and no longer a candidate. Screenshots of both pages
// at office-PC and phone width go to artefacts/. A cadre sees the plan and
// income but no procedure and no candidates; an inspector neither.
func consoleCasework(t *testing.T, e *consoleEnv) {
	ctx := context.Background()
	supervisor, cadre := e.principal(t, "supervisor"), e.principal(t, "cadre01")
	today := domain.DateOf(e.app.Now())
	year := today.Year
	h := e.caseworkHousehold(t, supervisor, cadre, year)
	village := h.VillageID.String()
	householdURL := "/ui/households/" + h.ID.String()
	candidatesURL := "/ui/exit-candidates?" + url.Values{"region": {village}, "year": {itoa(year)}}.Encode()

	// The household's casework as a cadre records it: a measure synced
	// from the phone, and the year's income account.
	e.pushChange(t, "cadre01", planItemCreate(uuid.New(), h.ID, cadre.UserID, "种植油茶3亩"))
	// The demo may have an account for the year already: this one replaces it.
	var version int64
	if acc, err := e.app.Casework.IncomeAccount(ctx, supervisor, h.ID, year); err == nil {
		version = acc.Version
	}
	if _, err := e.app.Casework.PutIncomeAccount(ctx, supervisor, h.ID, year, casework.IncomeFields{WagesFen: 1_200_000, BusinessFen: 650_050,
		TransfersFen: 120_000, CostsFen: 150_000, MembersCounted: 3}, version); err != nil {
		t.Fatal(err)
	}

	sup := e.client(t)
	csrf := sup.mustLogin("supervisor")
	before := sup.get(candidatesURL)
	if before.StatusCode != http.StatusOK || !strings.Contains(before.body, `href="`+householdURL+`"`) {
		t.Fatalf("the candidates page (%d) does not list %s before its exit", before.StatusCode, h.HeadName)
	}
	for _, want := range []string{"人均纯收入 6066.83 元", "人均纯收入稳定超过脱贫标准", "达到标准3335.00元", "待村民主评议时确认"} {
		if !strings.Contains(pageText(t, before), want) {
			t.Errorf("the candidates page does not say %q", want)
		}
	}
	file := sup.get(householdURL)
	for _, want := range []string{"种植油茶3亩", "产业扶贫", "6066.83", "18200.50", "尚未启动识别、退出或清退程序"} {
		if !strings.Contains(pageText(t, file), want) {
			t.Errorf("the household page does not show %q", want)
		}
	}

	if r := sup.do("POST", householdURL+"/procedures", url.Values{"csrf_token": {csrf}, "year": {itoa(year)}, "reason": {"达到脱贫标准"}}, nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("starting the exit procedure: %d %s", r.StatusCode, pageText(t, r))
	}
	started := sup.get(householdURL).body
	stepURL := match(t, stepFormAction, started)
	if strings.Contains(started, `class="form-grid step-form" data-confirm`) {
		t.Error("the village review's step form asks a question: only the last step, which marks the household, does")
	}
	step := func(code string, on domain.Date, extra url.Values) page {
		t.Helper()
		pr := e.openProcedure(t, supervisor, h.ID)
		form := url.Values{"csrf_token": {csrf}, "step": {code}, "done_on": {on.String()}, "version": {strconv.FormatInt(pr.Version, 10)}, "note": {"按程序办理，材料已归档"}}
		for k, v := range extra {
			form[k] = v
		}
		return sup.do("POST", stepURL, form, nil)
	}
	// selects says whether a refused page's step form has code selected
	// and keeps what was typed (the date and the note step posts).
	selects := func(r page, code string, on domain.Date) bool {
		return strings.Contains(r.body, `<option value="`+code+`" selected>`) && strings.Contains(r.body, `name="done_on" max="`+today.String()+`" value="`+on.String()+`"`) &&
			strings.Contains(r.body, ">按程序办理，材料已归档</textarea>")
	}
	refusals := []struct {
		name, step string
		extra      url.Values
		status     int
		message    string
		selected   string // the step the form shows again: the next one, which stays as chosen when it was the one refused
	}{
		{"a notice before the village review", "second_notice", url.Values{"document_ids": {"县扶办〔2026〕1号"}}, http.StatusConflict, "请先完成村民主评议", "village_review"},
		{"the review without its confirmed indicators", "village_review", nil, http.StatusUnprocessableEntity, "村民主评议须确认指标：有稳定增收产业或就业", "village_review"},
	}
	for _, tc := range refusals {
		r := step(tc.step, today.AddDays(-20), tc.extra)
		if r.StatusCode != tc.status || !strings.Contains(pageText(t, r), tc.message) {
			t.Errorf("%s: %d, want %d saying %q", tc.name, r.StatusCode, tc.status, tc.message)
		}
		if !selects(r, tc.selected, today.AddDays(-20)) {
			t.Errorf("%s: the form shown again does not keep %s selected with the date and note typed", tc.name, tc.selected)
		}
		if n := len(e.openProcedure(t, supervisor, h.ID).Steps); n != 0 {
			t.Errorf("%s recorded a step", tc.name)
		}
	}
	confirmed := url.Values{"confirmed": {"livelihood", "agreement"}}
	walk := []struct {
		step  string
		on    domain.Date
		extra url.Values
	}{
		{"village_review", today.AddDays(-20), confirmed},
		{"first_notice", today.AddDays(-19), url.Values{"document_ids": {"村公示〔2026〕3号"}}},
		{"second_notice", today.AddDays(-12), url.Values{"document_ids": {"镇公示〔2026〕5号"}}},
	}
	for _, w := range walk {
		if r := step(w.step, w.on, w.extra); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: %d %s", w.step, r.StatusCode, pageText(t, r))
		}
	}
	// A notice with no document nor photo is refused on its field.
	if r := step("announcement", today.AddDays(-5), nil); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(pageText(t, r), "公示公告须附文件或照片") {
		t.Errorf("the announcement without its document: %d", r.StatusCode)
	}
	// A step already recorded is refused, and the form shown again offers
	// the step that is next, not the refused one a second click would repeat.
	if r := step("first_notice", today.AddDays(-5), url.Values{"document_ids": {"村公示-重复"}}); r.StatusCode != http.StatusConflict ||
		!strings.Contains(pageText(t, r), "村第一次公示已记录，不能重复") {
		t.Errorf("repeating the first notice: %d %s", r.StatusCode, pageText(t, r))
	} else if !selects(r, "announcement", today.AddDays(-5)) || strings.Contains(r.body, `<option value="first_notice" selected>`) {
		t.Error("after the repeated first notice is refused, the form does not offer the announcement with the date and note typed")
	}

	// The last step marks the household 已脱贫: its form asks first.
	if body := sup.get(householdURL).body; !strings.Contains(body, `data-confirm="记录“县级审定公告”后，`+itoa(year)+`年脱贫退出程序即完成，该户即标记为已脱贫。确定记录？"`) {
		t.Error("the announcement's step form asks no question before it marks the household 已脱贫")
	}

	// The pages before the last step, as a person sees them.
	shots := func(name string) {
		for _, size := range []browsertest.Size{browsertest.Desktop, browsertest.Phone} {
			b := browsertest.Start(t, size)
			e.signIn(b, "supervisor", demo.Password)
			b.Do(chromedp.WaitVisible(chromedp.CSS(`nav`)))
			for _, pg := range []struct{ file, url, ready string }{{"candidates", candidatesURL, `#exit-candidates`}, {"household", householdURL, `#casework`}} {
				b.Do(chromedp.Navigate(e.url+pg.url), chromedp.WaitVisible(chromedp.CSS(pg.ready)))
				if w := browsertest.Get(b, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > size.Width+1 {
					t.Errorf("%s is %d px wide at %d px", pg.url, w, size.Width)
				}
				b.Screenshot(pg.file + "-" + name)
			}
			if name == "in-progress" && size == browsertest.Desktop {
				// A person picking a step already recorded is told so, in
				// the form, with nothing recorded.
				b.Do(chromedp.SetValue(chromedp.CSS(`.step-form select[name=step]`), "first_notice"),
					chromedp.SetValue(chromedp.CSS(`.step-form input[name=done_on]`), today.String()),
					chromedp.SetValue(chromedp.CSS(`.step-form input[name=document_ids]`), "村公示-重复"),
					chromedp.Click(chromedp.CSS(`.step-form button[type=submit]`)),
					chromedp.WaitVisible(chromedp.CSS(`.step-form .form-error`)))
				if msg := browsertest.Get(b, chromedp.Text(chromedp.CSS(`.step-form .form-error`))); msg != "村第一次公示已记录，不能重复" {
					t.Errorf("repeating the first notice in the browser says %q", msg)
				}
				b.Screenshot("household-refused")
			}
			noProblems(t, b, stepURL+"#casework")
		}
	}
	shots("in-progress")

	if r := step("announcement", today.AddDays(-5), url.Values{"document_ids": {"县政府公告〔2026〕8号"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("announcement: %d %s", r.StatusCode, pageText(t, r))
	}
	after := sup.get(householdURL)
	if text := pageText(t, after); !strings.Contains(text, "已脱贫") || !strings.Contains(text, "已完成") || strings.Contains(after.body, "step-form") {
		t.Error("after the announcement the household page does not show it exited with the procedure completed")
	}
	if r := sup.get(candidatesURL); strings.Contains(r.body, `href="`+householdURL+`"`) {
		t.Error("the exited household is still an exit candidate")
	}
	shots("exited")

	// Scope: a cadre sees their household's plan and income, not its
	// procedure, and has no candidates page; an inspector has neither.
	cad := e.client(t)
	cadCSRF := cad.mustLogin("cadre01")
	own := cad.get(householdURL)
	if text := pageText(t, own); !strings.Contains(text, "种植油茶3亩") || !strings.Contains(text, "6066.83") || strings.Contains(own.body, `id="casework-procedures"`) {
		t.Error("cadre01's household page: want the plan and income, no procedure")
	}
	for _, tc := range []struct {
		who, method, path string
		want              int
	}{
		{"cadre01", "GET", candidatesURL, http.StatusForbidden},
		{"cadre01", "POST", householdURL + "/procedures", http.StatusForbidden},
		{"inspector", "GET", candidatesURL, http.StatusForbidden},
	} {
		c, token := cad, cadCSRF
		if tc.who != "cadre01" {
			c = e.client(t)
			token = c.mustLogin(tc.who)
		}
		var form url.Values
		if tc.method == "POST" {
			form = url.Values{"csrf_token": {token}, "year": {itoa(year)}}
		}
		if r := c.do(tc.method, tc.path, form, nil); r.StatusCode != tc.want {
			t.Errorf("%s %s %s: %d, want %d", tc.who, tc.method, tc.path, r.StatusCode, tc.want)
		}
	}
}

// caseworkHousehold is a registered household of cadre's with no
// procedure and no open risk (an earlier subtest records one at a
// household of cadre's, and it holds the exit), on the first page of its
// village's exit candidates.
func (e *consoleEnv) caseworkHousehold(t *testing.T, supervisor, cadre domain.Principal, year int) domain.Household {
	t.Helper()
	ctx := context.Background()
	for village, hs := range e.householdsOf(t, cadre) {
		cands, _, _, err := e.app.Casework.ExitCandidates(ctx, supervisor, casework.CandidateQuery{RegionID: village, Year: year, Limit: 30})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cands {
			if !hs[c.Household.ID] {
				continue
			}
			if prs, err := e.app.Casework.HouseholdProcedures(ctx, supervisor, c.Household.ID); err != nil || len(prs) > 0 {
				continue
			}
			if reasonOpen(c.Reasons, casework.CheckNoOpenRisk) {
				continue
			}
			return c.Household
		}
	}
	t.Fatal("cadre01 has no registered household to walk to exit")
	return domain.Household{}
}

// openProcedure is the household's open procedure.
func (e *consoleEnv) openProcedure(t *testing.T, p domain.Principal, household uuid.UUID) casework.Procedure {
	t.Helper()
	prs, err := e.app.Casework.HouseholdProcedures(context.Background(), p, household)
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range prs {
		if pr.Status == casework.ProcedureOpen {
			return pr
		}
	}
	t.Fatal("the household has no open procedure")
	return casework.Procedure{}
}

// pushChange syncs one change (a plan item, a visit …) from username's phone, over HTTP, and requires it applied.
func (e *consoleEnv) pushChange(t *testing.T, username string, change map[string]any) {
	t.Helper()
	tok, err := e.app.Auth.Login(context.Background(), username, demo.Password, "phone-"+username, "127.0.0.1", "")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(batch("phone-"+username, time.Now(), change))
	req, _ := http.NewRequest("POST", e.url+"/api/v1/sync/push", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Idempotency-Key", uuid.NewString())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Results []struct {
			Status string `json:"status"`
		} `json:"results"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != http.StatusOK || len(out.Results) != 1 || out.Results[0].Status != wire.StatusApplied {
		t.Fatalf("pushing %v: %d %+v %v", change["entity"], res.StatusCode, out, err)
	}
}

// reasonOpen says whether the indicator judged by check is unmet.
func reasonOpen(reasons []casework.Reason, check string) bool {
	for _, r := range reasons {
		if r.Check == check && !r.Met {
			return true
		}
	}
	return false
}
