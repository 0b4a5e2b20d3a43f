package app

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/adjustment"
	"github.com/fieldvisit/fieldvisit/internal/registry"
)

var (
	adjustmentBatchURL = regexp.MustCompile(`^/ui/adjustments/[0-9a-f-]{36}$`)
	itemApproveAction  = regexp.MustCompile(`action="(/ui/adjustments/[^"]+/items/[^"/]+/approve)"`)
	itemRejectAction   = regexp.MustCompile(`action="(/ui/adjustments/[^"]+/items/[^"/]+/reject)"`)
	// itemKind and itemApproveForm are an item's kind and its approval
	// form's opening tag, on a batch page cut into items.
	itemKind        = regexp.MustCompile(`<b>([^<]+)</b>`)
	itemApproveForm = regexp.MustCompile(`<form method="post" action="/ui/adjustments/[^"]+/items/[^"/]+/approve"[^>]*>`)
)

// consoleAdjustment: the demo's county round waits for approval; the supervisor builds a town's 动态调整 batch on the
// console, reads its items with their reasons and evidence, approves one,
// rejects one with a reason, approves the rest at once and closes the
// batch; a second batch of the same town and year is refused in Chinese.
// A cadre has no such page.
func consoleAdjustment(t *testing.T, e *consoleEnv) {
	ctx := context.Background()
	supervisor := e.principal(t, "supervisor")
	towns, _, err := e.app.Registry.Regions(ctx, supervisor, registry.RegionQuery{Level: domain.LevelTown}, registry.Page{Limit: 10})
	if err != nil || len(towns) == 0 {
		t.Fatalf("the demo's towns: %v", err)
	}
	// The demo leaves the county's round of the year waiting for approval.
	waiting, _, err := e.app.Adjustment.Batches(ctx, supervisor, &supervisor.RegionID, 10, 0)
	if err != nil || len(waiting) != 1 || waiting[0].Counts[adjustment.StatePending] == 0 {
		t.Errorf("the demo's county batch waiting for approval: %+v (%v)", waiting, err)
	}
	year := itoa(domain.DateOf(e.app.Now()).Year)
	sup := e.client(t)
	csrf := sup.mustLogin("supervisor")
	if r := sup.get("/ui/adjustments"); r.StatusCode != http.StatusOK || !strings.Contains(pageText(t, r), "生成调整批次") {
		t.Fatalf("the 动态调整 page: %d", r.StatusCode)
	}
	build := url.Values{"csrf_token": {csrf}, "region_id": {towns[0].ID.String()}, "year": {year}}
	r := sup.do("POST", "/ui/adjustments", build, nil)
	if r.StatusCode != http.StatusSeeOther || !adjustmentBatchURL.MatchString(r.Header.Get("Location")) {
		t.Fatalf("building the batch: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	batchURL := r.Header.Get("Location")
	if again := sup.do("POST", "/ui/adjustments", build, nil); again.StatusCode != http.StatusConflict || !strings.Contains(pageText(t, again), "已有未关闭的调整批次") {
		t.Errorf("a second batch of the town and year: %d", again.StatusCode)
	}
	id := strings.TrimPrefix(batchURL, "/ui/adjustments/")
	batchID, err := uuid.Parse(id)
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.app.Adjustment.Batch(ctx, supervisor, batchID)
	if err != nil || len(b.Items) < 3 {
		t.Fatalf("the demo town's batch has %d items (%v); the test needs 3", len(b.Items), err)
	}
	// A type change, proposed by a sheet, for a household the batch proposes
	// to exit.
	h, err := e.app.Registry.Household(ctx, supervisor, b.Items[0].HouseholdID)
	if err != nil {
		t.Fatal(err)
	}
	newType := map[bool]string{true: "低保贫困户", false: "一般贫困户"}[h.PovertyType != domain.PovertyDibao]
	sheet := "户编号,调整类型,贫困户属性,调整原因\n" + h.Number + ",贫困户属性变更," + newType + ",家庭主要劳动力患重病，经民主评议调整属性\n"
	if _, err := e.app.Adjustment.Import(ctx, supervisor, batchID, strings.NewReader(sheet)); err != nil {
		t.Fatalf("importing a type change: %v", err)
	}
	page := sup.get(batchURL)
	text := pageText(t, page)
	for _, want := range []string{b.Items[0].Reason, b.Items[0].HeadName, "待审批", "全部通过"} {
		if !strings.Contains(text, want) {
			t.Errorf("the batch page does not say %q", want)
		}
	}
	// An approval that takes effect at once (结对调整, 属性变更) asks first;
	// one that starts a procedure does not (its steps ask).
	asks := map[bool]int{}
	for _, item := range strings.Split(text, `<li class="candidate adjustment-item"`)[1:] {
		form := itemApproveForm.FindString(item)
		if form == "" { // not pending
			continue
		}
		kind := match(t, itemKind, item)
		direct := kind == "结对调整" || kind == "贫困户属性变更"
		if asked := strings.Contains(form, `data-confirm="通过后立即`); asked != direct {
			t.Errorf("approving a %s item asks first: %v", kind, asked)
		}
		asks[direct]++
	}
	if asks[true] != 1 || asks[false] == 0 {
		t.Errorf("the batch page has %d pending items that take effect at once and %d that start a procedure; want 1 and some", asks[true], asks[false])
	}
	approve := match(t, itemApproveAction, text)
	if r := sup.do("POST", approve, url.Values{"csrf_token": {csrf}}, nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("approving an item: %d %s", r.StatusCode, pageText(t, r))
	}
	reject := match(t, itemRejectAction, pageText(t, sup.get(batchURL)))
	if r := sup.do("POST", reject, url.Values{"csrf_token": {csrf}, "reason": {"待入户核实后再议"}}, nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("rejecting an item: %d %s", r.StatusCode, pageText(t, r))
	}
	for _, action := range []string{"/approve", "/close"} {
		if r := sup.do("POST", batchURL+action, url.Values{"csrf_token": {csrf}}, nil); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: %d %s", action, r.StatusCode, pageText(t, r))
		}
	}
	b, _ = e.app.Adjustment.Batch(ctx, supervisor, b.ID)
	if b.Status != adjustment.BatchClosed || b.Counts[adjustment.StatePending] != 0 || b.Counts[adjustment.StateRejected] < 1 ||
		b.Counts[adjustment.StateApplied]+b.Counts[adjustment.StateStale] != len(b.Items)-b.Counts[adjustment.StateRejected] {
		t.Errorf("after the review: %s, %v", b.Status, b.Counts)
	}
	if text := pageText(t, sup.get(batchURL)); !strings.Contains(text, "已执行") || !strings.Contains(text, "待入户核实后再议") || !strings.Contains(text, "本批次已关闭") {
		t.Errorf("the closed batch's page does not show the review")
	}
	cadre := e.client(t)
	cadre.mustLogin("cadre01")
	if r := cadre.get("/ui/adjustments"); r.StatusCode == http.StatusOK {
		t.Errorf("a cadre opens the 动态调整 page")
	}
	if r := cadre.get(batchURL); r.StatusCode == http.StatusOK {
		t.Errorf("a cadre opens a batch")
	}
}
