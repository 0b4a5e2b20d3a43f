package app

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/casework"
)

var villageStepAction = regexp.MustCompile(`action="(/ui/village-exit/[^"]+/procedures/[^"/]+/steps)"`)

// consoleVillageExit: the supervisor's 贫困村出列 page lists the county's
// poor villages with each criterion's reason in Chinese; under criteria an
// admin relaxed, a village with its collective income recorded starts its
// exit from the page, a step out of order is refused in Chinese with
// nothing recorded, and the casework ledgers download from the links on
// the 脱贫候选 page. A cadre has no such page.
func consoleVillageExit(t *testing.T, e *consoleEnv) {
	ctx := context.Background()
	supervisor, admin := e.principal(t, "supervisor"), e.principal(t, "admin")
	today := domain.DateOf(e.app.Now())
	year := today.Year
	sup := e.client(t)
	csrf := sup.mustLogin("supervisor")
	pageURL := "/ui/village-exit?year=" + strconv.Itoa(year)
	before := sup.get(pageURL)
	text := pageText(t, before)
	if before.StatusCode != http.StatusOK || !strings.Contains(text, "贫困发生率") || !strings.Contains(text, "通硬化路") || !strings.Contains(text, "未登记村集体经济收入") {
		t.Fatalf("the village exit page (%d) does not judge the poor villages: %.400s", before.StatusCode, text)
	}

	// Criteria a village can meet: any incidence below 100%, no income
	// bar, no items; the village records its collective income.
	cands, _, err := e.app.Casework.VillageExitCandidates(ctx, supervisor, supervisor.RegionID, year)
	if err != nil || len(cands) == 0 {
		t.Fatalf("no poor village: %v", err)
	}
	if _, err := e.app.Casework.PutVillageExitStandard(ctx, admin, casework.VillageExitStandard{Year: year, IncidencePermille: 1000}); err != nil {
		t.Fatal(err)
	}
	var village domain.Region
	for _, c := range cands {
		if c.Population.Poor < c.Population.All && c.Exit == nil {
			village = c.Village
			break
		}
	}
	if village.ID == (domain.Region{}).ID {
		t.Fatal("no poor village with a household off the register")
	}
	// The supervisor records the collective's income on the page: an
	// amount that is no amount is refused on the form, nothing written.
	recordURL := "/ui/village-exit/" + village.ID.String() + "/record?year=" + strconv.Itoa(year)
	if !strings.Contains(sup.get(pageURL).body, `action="`+strings.ReplaceAll(recordURL, "&", "&amp;")+`"`) {
		t.Fatalf("the page offers no form to record the village's collective income")
	}
	if r := sup.do("POST", recordURL, url.Values{"csrf_token": {csrf}, "version": {"0"}, "collective_income": {"五万"}}, nil); r.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(pageText(t, r), "村集体经济收入应为金额") {
		t.Errorf("an income that is no amount: %d %.300s", r.StatusCode, pageText(t, r))
	}
	if r := sup.do("POST", recordURL, url.Values{"csrf_token": {csrf}, "version": {"0"}, "collective_income": {"50,000.5"}, "notes": {"村集体光伏收益"}}, nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("recording the village's income: %d %s", r.StatusCode, pageText(t, r))
	}
	if rec, err := e.app.Casework.VillageRecordOf(ctx, supervisor, village.ID, year); err != nil || rec.CollectiveIncomeFen == nil || *rec.CollectiveIncomeFen != 5_000_050 || rec.Notes != "村集体光伏收益" {
		t.Fatalf("the record after the form: %+v %v", rec, err)
	}
	// The page says how many of its villages qualify, as the 脱贫候选 page
	// says of its households: the village just recorded among them.
	if cands, _, err = e.app.Casework.VillageExitCandidates(ctx, supervisor, supervisor.RegionID, year); err != nil {
		t.Fatal(err)
	}
	counted := fmt.Sprintf(`所选地区贫困村 %d 个，其中符合出列条件 <strong class="tone-good" id="qualifying">%d</strong> 个`, len(cands), casework.QualifyingVillages(cands))
	if casework.QualifyingVillages(cands) == 0 || !strings.Contains(sup.get(pageURL).body, counted) {
		t.Errorf("the village exit page does not say %q", counted)
	}
	start := "/ui/village-exit/" + village.ID.String() + "/procedures"
	if r := sup.do("POST", start, url.Values{"csrf_token": {csrf}, "year": {strconv.Itoa(year)}}, nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("starting the village's exit: %d %s", r.StatusCode, pageText(t, r))
	}
	stepURL := match(t, villageStepAction, sup.get(pageURL+"&region="+village.ID.String()).body)
	prs, err := e.app.Casework.VillageProcedures(ctx, supervisor, village.ID)
	if err != nil || len(prs) != 1 {
		t.Fatalf("the village's procedures: %v %v", prs, err)
	}
	step := func(code string, docs string) page {
		return sup.do("POST", stepURL, url.Values{"csrf_token": {csrf}, "step": {code}, "done_on": {today.AddDays(-10).String()},
			"version": {strconv.FormatInt(prs[0].Version, 10)}, "document_ids": {docs}}, nil)
	}
	if r := step("announcement", "县公告-1"); r.StatusCode != http.StatusConflict || !strings.Contains(pageText(t, r), "请先完成村申请、乡镇审核提出") {
		t.Errorf("the announcement first: %d %.300s", r.StatusCode, pageText(t, r))
	}
	if r := step("town_proposal", "镇申请-1"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("the town's proposal: %d %s", r.StatusCode, pageText(t, r))
	}
	if prs, _ := e.app.Casework.VillageProcedures(ctx, supervisor, village.ID); len(prs) != 1 || len(prs[0].Steps) != 1 {
		t.Errorf("after one refused and one recorded step: %+v", prs)
	}

	candidates := sup.get("/ui/exit-candidates?year=" + strconv.Itoa(year))
	for _, l := range []struct{ label, title string }{{"收入台账（CSV）", "贫困户家庭收入台账"}, {"贫困村出列台账（CSV）", "贫困村出列台账"}} {
		link := match(t, regexp.MustCompile(`<a href="([^"]+)">`+regexp.QuoteMeta(l.label)+`</a>`), candidates.body)
		r := sup.get(strings.ReplaceAll(link, "&amp;", "&"))
		if r.StatusCode != http.StatusOK || !strings.Contains(pageText(t, r), l.title) {
			t.Errorf("%s: %d %.200s", l.label, r.StatusCode, pageText(t, r))
		}
	}
	cad := e.client(t)
	cad.mustLogin("cadre01")
	if r := cad.get(pageURL); r.StatusCode != http.StatusForbidden {
		t.Errorf("a cadre opens the village exit page: %d", r.StatusCode)
	}
}
