package app

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/wire"
)

// drawnCampaign creates the town's campaign (campaignBody, changed by
// change when given) as the admin and draws it. Each village has exactly
// five poor households, so households A and B are always in the sample.
func (e *testEnv) drawnCampaign(t *testing.T, mode string, change func(body map[string]any)) wire.Inspection {
	t.Helper()
	admin := e.login(t, "admin")
	body := e.campaignBody(mode)
	if change != nil {
		change(body)
	}
	c := e.newCampaign(t, admin, body)
	if r := e.do(t, "POST", "/api/v1/inspections/"+c.ID.String()+"/sample", admin, map[string]any{"seed": "findings"}); r.Status != http.StatusCreated {
		t.Fatalf("draw: %d %s", r.Status, r.Body)
	}
	return c
}

// householdAnswers is a complete household form: every need met, the
// household satisfied and aware, three visits recalled; change edits it.
func householdAnswers(change func(a map[string]any)) map[string]any {
	a := map[string]any{
		"identification": map[string]any{"choice": "accurate"}, "exit": map[string]any{"choice": "not_exited"},
		"effect": map[string]any{"choice": "clear"}, "plan_seen": map[string]any{"yes": true},
		"satisfaction": map[string]any{"choice": "satisfied"}, "awareness": map[string]any{"choice": "aware"},
		"visits_recalled": map[string]any{"count": 3}, "cadre_recognised": map[string]any{"yes": true},
		"measures_received": map[string]any{"choices": []string{"policy_briefing"}},
	}
	for _, item := range domain.ChecklistItems {
		a[item.Code] = map[string]any{"choice": "met"}
	}
	if change != nil {
		change(a)
	}
	return a
}

func villageAnswers() map[string]any {
	a := map[string]any{"village_cadres": map[string]any{"text": "村两委班子熟悉贫困户情况"}}
	for _, item := range []string{"road", "water", "electricity", "broadband", "broadcast", "clinic", "activity_room", "collective_income", "school", "party_office"} {
		a[item] = map[string]any{"yes": true}
	}
	return a
}

func findingsPath(campaign uuid.UUID, kind string, subject uuid.UUID) string {
	return "/api/v1/inspections/" + campaign.String() + "/" + kind + "/" + subject.String() + "/findings"
}

func (e *testEnv) record(t *testing.T, tok string, campaign, household uuid.UUID, answers map[string]any, version *int64) response {
	t.Helper()
	body := map[string]any{"answers": answers}
	if version != nil {
		body["version"] = *version
	}
	return e.do(t, "PUT", findingsPath(campaign, "households", household), tok, body)
}

func ptr[T any](v T) *T { return &v }

// answerCase is a household form with one thing wrong, and the JSON
// pointer (under the findings object) that names it.
type answerCase struct {
	name    string
	answers map[string]any
	field   string
}

// badAnswers are the household forms every way in (the findings route, a
// phone's push) refuses alike.
func badAnswers() []answerCase {
	with := func(change func(a map[string]any)) map[string]any { return householdAnswers(change) }
	return []answerCase{
		{"a required answer left out", with(func(a map[string]any) { delete(a, "satisfaction") }), "/answers/satisfaction"},
		{"an item the form does not have", with(func(a map[string]any) { a["colour"] = map[string]any{"text": "红"} }), "/answers/colour"},
		{"a choice the item does not offer", with(func(a map[string]any) { a["satisfaction"] = map[string]any{"choice": "thrilled"} }), "/answers/satisfaction"},
		{"a count above the item's maximum", with(func(a map[string]any) { a["visits_recalled"] = map[string]any{"count": 100} }), "/answers/visits_recalled"},
		{"a negative count", with(func(a map[string]any) { a["visits_recalled"] = map[string]any{"count": -1} }), "/answers/visits_recalled"},
		{"a choice for a yes/no item", with(func(a map[string]any) { a["plan_seen"] = map[string]any{"choice": "yes"} }), "/answers/plan_seen"},
		{"an unknown measure", with(func(a map[string]any) { a["measures_received"] = map[string]any{"choices": []string{"gold"}} }), "/answers/measures_received/0"},
		{"a measure twice", with(func(a map[string]any) {
			a["measures_received"] = map[string]any{"choices": []string{"medical", "medical"}}
		}), "/answers/measures_received/1"},
		{"a note too long", with(func(a map[string]any) { a["note"] = map[string]any{"text": strings.Repeat("长", 2001)} }), "/answers/note"},
		{"the checklist's field names", with(func(a map[string]any) { a["food"] = map[string]any{"answer": "met"} }), "/answers/food/answer"},
		{"a choice with a yes beside it", with(func(a map[string]any) { a["food"] = map[string]any{"choice": "met", "yes": true} }), "/answers/food/yes"},
	}
}

// TestFindingsAreValidated: every answer is checked against the form and
// named by its JSON pointer; a refused form writes nothing and leaves the
// household not done.
func TestFindingsAreValidated(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	e.inspectable(t)
	c := e.drawnCampaign(t, "announced", nil)
	tok := e.login(t, "inspector")
	hA := e.householdA.Household.ID
	refused := func(t *testing.T, body map[string]any, field string) {
		r := e.do(t, "PUT", findingsPath(c.ID, "households", hA), tok, body)
		if p := r.problem(t); r.Status != http.StatusUnprocessableEntity || !p.hasField(field) {
			t.Fatalf("want 422 naming %s, got %d %s", field, r.Status, r.Body)
		}
	}
	for _, tc := range badAnswers() {
		t.Run(tc.name, func(t *testing.T) { refused(t, map[string]any{"answers": tc.answers}, tc.field) })
	}
	t.Run("a visit that is not the inspector's", func(t *testing.T) {
		refused(t, map[string]any{"answers": householdAnswers(nil), "visit_id": uuid.New()}, "/visit_id")
	})
	if r := e.do(t, "PUT", findingsPath(c.ID, "villages", e.villageA.ID), tok, map[string]any{"answers": map[string]any{}}); r.Status != http.StatusUnprocessableEntity ||
		!r.problem(t).hasField("/answers/road") {
		t.Fatalf("an empty village form: %d %s, want 422 naming /answers/road", r.Status, r.Body)
	}
	if n := e.count(t, "inspection_findings"); n != 0 {
		t.Fatalf("refused findings were stored: %d", n)
	}
	var s wire.InspectionSample
	e.do(t, "GET", "/api/v1/inspections/"+c.ID.String()+"/sample", tok, nil).json(t, &s)
	for _, h := range s.Households {
		if h.Done {
			t.Fatalf("household %s is done after refused findings", h.HouseholdID)
		}
	}
}

// TestOnlyTheCampaignsInspectorRecordsFindings: the campaign's inspector
// records a sampled household's and village's findings once (201, the
// household done), corrects them with the version read (200), and a stale
// version is refused; nobody else records, nothing outside the sample is
// recorded, and nothing before the draw or after the end.
func TestOnlyTheCampaignsInspectorRecordsFindings(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		e.inspectable(t)
		admin := e.login(t, "admin")
		planned := e.newCampaign(t, admin, e.campaignBody("announced"))
		c := e.drawnCampaign(t, "announced", nil)
		e.addUser(t, "inspector-2", domain.RoleInspector, e.town, nil, "")
		hA := e.householdA.Household.ID
		answers := householdAnswers(func(a map[string]any) { a["visits_recalled"] = map[string]any{"count": 0} })
		for _, tc := range []struct {
			who  string
			want int
		}{
			{"admin", http.StatusForbidden},        // created it, does not inspect it
			{"supervisor-a", http.StatusForbidden}, // the village's office sees it
			{"inspector-2", http.StatusNotFound},   // an inspector of other campaigns
			{"cadre-a", http.StatusForbidden},      // a role that never records findings (TestRolesAreRefusedBeforeTheBody)
		} {
			if r := e.record(t, e.login(t, tc.who), c.ID, hA, answers, nil); r.Status != tc.want {
				t.Errorf("%s records findings: %d, want %d: %s", tc.who, r.Status, tc.want, r.Body)
			}
		}
		tok := e.login(t, "inspector")
		late := e.addHousehold(t, e.villageA, "后来户", "41012219800303005")
		for _, tc := range []struct {
			name       string
			campaign   uuid.UUID
			household  uuid.UUID
			want       int
			wantReason string
		}{
			{"a household drawn after the sample", c.ID, late.Household.ID, http.StatusNotFound, ""},
			{"no such household", c.ID, uuid.New(), http.StatusNotFound, ""},
			{"no such campaign", uuid.New(), hA, http.StatusNotFound, ""},
			{"a campaign not drawn yet", planned.ID, hA, http.StatusConflict, "not_drawn"},
		} {
			if r := e.record(t, tok, tc.campaign, tc.household, answers, nil); r.Status != tc.want {
				t.Errorf("%s: %d, want %d: %s", tc.name, r.Status, tc.want, r.Body)
			}
		}
		if n := e.count(t, "inspection_findings"); n != 0 {
			t.Fatalf("refused findings were stored: %d", n)
		}

		r := e.record(t, tok, c.ID, hA, answers, nil)
		var f wire.InspectionFinding
		if r.Status != http.StatusCreated {
			t.Fatalf("first record: %d %s", r.Status, r.Body)
		}
		r.json(t, &f)
		if f.Version != 1 || f.FormCode != "household" || f.FormVersion != 1 || f.Answers["visits_recalled"].Count == nil ||
			*f.Answers["visits_recalled"].Count != 0 || f.InspectorID != e.inspector.ID {
			t.Fatalf("recorded: %+v", f)
		}
		var s wire.InspectionSample
		e.do(t, "GET", "/api/v1/inspections/"+c.ID.String()+"/sample", admin, nil).json(t, &s)
		for _, h := range s.Households {
			if h.Done != (h.HouseholdID == hA) {
				t.Errorf("household %s done: %v", h.HouseholdID, h.Done)
			}
		}
		if r := e.record(t, tok, c.ID, hA, answers, nil); r.Status != http.StatusConflict {
			t.Fatalf("recorded again without a version: %d, want 409", r.Status)
		}
		corrected := householdAnswers(func(a map[string]any) { a["satisfaction"] = map[string]any{"choice": "fairly"} })
		if r := e.record(t, tok, c.ID, hA, corrected, ptr(int64(1))); r.Status != http.StatusOK {
			t.Fatalf("correction: %d %s", r.Status, r.Body)
		}
		if r := e.record(t, tok, c.ID, hA, answers, ptr(int64(1))); r.Status != http.StatusConflict {
			t.Fatalf("a correction of version 1 after version 2: %d, want 409", r.Status)
		}
		if r := e.record(t, tok, c.ID, e.householdB.Household.ID, answers, ptr(int64(1))); r.Status != http.StatusConflict {
			t.Fatalf("a correction of findings never recorded: %d, want 409", r.Status)
		}

		vPath := findingsPath(c.ID, "villages", e.villageA.ID)
		// A phone may say "never recorded" with version 0.
		if r := e.do(t, "PUT", vPath, tok, map[string]any{"answers": villageAnswers(), "version": 0}); r.Status != http.StatusCreated {
			t.Fatalf("village form: %d %s", r.Status, r.Body)
		}
		if r := e.do(t, "PUT", findingsPath(c.ID, "villages", e.town.ID), tok, map[string]any{"answers": villageAnswers()}); r.Status != http.StatusNotFound {
			t.Fatalf("a region that is not a sampled village: %d, want 404", r.Status)
		}

		var list wire.InspectionFindings
		e.do(t, "GET", "/api/v1/inspections/"+c.ID.String()+"/findings", e.login(t, "supervisor-a"), nil).json(t, &list)
		if len(list.Items) != 2 || list.Items[0].HouseholdID == nil || *list.Items[0].HouseholdID != hA || list.Items[0].Version != 2 ||
			list.Items[0].Answers["satisfaction"].Choice != "fairly" || list.Items[1].HouseholdID != nil || list.Items[1].VillageID != e.villageA.ID {
			t.Fatalf("findings: %+v", list.Items)
		}

		if r := e.do(t, "POST", "/api/v1/inspections/"+c.ID.String()+"/end", admin, nil); r.Status != http.StatusOK {
			t.Fatalf("end: %d", r.Status)
		}
		if r := e.record(t, tok, c.ID, hA, corrected, ptr(int64(2))); r.Status != http.StatusConflict || !strings.Contains(string(r.Body), "已结束") {
			t.Fatalf("a correction after the end: %d %s, want 409", r.Status, r.Body)
		}
	})
}

// TestCrossInspectorsRecordOnlyAway: in a cross-inspection an inspector
// of the campaign may not record findings in the town they work in.
func TestCrossInspectorsRecordOnlyAway(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	e.inspectable(t)
	other := e.addRegion(t, e.county, domain.LevelTown, "410122200000", "李庄乡")
	away := e.addUser(t, "inspector-away", domain.RoleInspector, other, nil, "")
	c := e.drawnCampaign(t, "cross", func(b map[string]any) {
		b["region_id"] = e.county.ID
		b["inspector_ids"] = []uuid.UUID{e.inspector.ID, away.ID}
	})
	hA := e.householdA.Household.ID
	if r := e.record(t, e.login(t, "inspector"), c.ID, hA, householdAnswers(nil), nil); r.Status != http.StatusForbidden {
		t.Fatalf("the town's own inspector: %d %s, want 403", r.Status, r.Body)
	}
	if r := e.record(t, e.login(t, away.Username), c.ID, hA, householdAnswers(nil), nil); r.Status != http.StatusCreated {
		t.Fatalf("the visiting inspector: %d %s", r.Status, r.Body)
	}
}

// TestInspectionFormsAreServed: the forms phones render, with their items'
// kinds, choices and bounds.
func TestInspectionFormsAreServed(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	var out wire.InspectionForms
	r := e.do(t, "GET", "/api/v1/inspection-forms", e.login(t, "inspector"), nil)
	r.json(t, &out)
	if r.Status != http.StatusOK || len(out.Forms) != 2 || out.Forms[0].Code != "household" || out.Forms[1].Code != "village" {
		t.Fatalf("forms: %d %s", r.Status, r.Body)
	}
	for _, it := range out.Forms[0].Items {
		if it.Code == "visits_recalled" && (it.Kind != "count" || it.Max == nil || *it.Max != 99 || !it.Required) {
			t.Errorf("visits_recalled: %+v", it)
		}
		if it.Code == "satisfaction" && len(it.Choices) != 3 {
			t.Errorf("satisfaction choices: %+v", it.Choices)
		}
	}
}

// pushVisits records visits of cadre A to household A, one at each of
// the given days before now.
func (e *testEnv) pushVisits(t *testing.T, daysAgo ...int) {
	t.Helper()
	now := time.Now()
	var changes []map[string]any
	for _, d := range daysAgo {
		changes = append(changes, visitAt(uuid.New(), e.householdA.Household.ID, now.AddDate(0, 0, -d), domain.KindAssist))
	}
	res := e.push(t, e.login(t, "cadre-a"), uuid.NewString(), batch("phone-a", now, changes...)).pushResult(t)
	if res.Applied != len(daysAgo) {
		t.Fatalf("pushed %d visits, %d applied", len(daysAgo), res.Applied)
	}
}

// TestReportFindsPaperVisits: a cadre who recorded six visits in three
// months to a household that recalls one is scored for it and listed as
// likely paper visits (纸上帮扶); the report covers the sample, ranks the
// villages against the targets, and downloads as a 台账 — for whoever may
// see the campaign.
func TestReportFindsPaperVisits(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		e.inspectable(t)
		c := e.drawnCampaign(t, "announced", nil)
		e.pushVisits(t, 5, 15, 30, 45, 60, 75, 120) // the last is older than three months
		tok := e.login(t, "inspector")
		hA, hB := e.householdA.Household.ID, e.householdB.Household.ID
		r := e.record(t, tok, c.ID, hA, householdAnswers(func(a map[string]any) {
			a["visits_recalled"] = map[string]any{"count": 1}
			a["awareness"] = map[string]any{"choice": "partly"}
			a["satisfaction"] = map[string]any{"choice": "fairly"}
			a["identification"] = map[string]any{"choice": "wrongly_registered"}
			a["exit"] = map[string]any{"choice": "criteria_not_met"}
			a["effect"] = map[string]any{"choice": "none"}
		}), nil)
		if r.Status != http.StatusCreated {
			t.Fatalf("record A: %d %s", r.Status, r.Body)
		}
		r = e.record(t, tok, c.ID, hB, householdAnswers(func(a map[string]any) {
			a["visits_recalled"] = map[string]any{"count": 0}
			a["satisfaction"] = map[string]any{"choice": "unsatisfied"}
		}), nil)
		if r.Status != http.StatusCreated {
			t.Fatalf("record B: %d %s", r.Status, r.Body)
		}

		path := "/api/v1/inspections/" + c.ID.String() + "/report"
		var rep wire.InspectionReport
		r = e.do(t, "GET", path, e.login(t, "supervisor-a"), nil)
		if r.Status != http.StatusOK {
			t.Fatalf("report: %d %s", r.Status, r.Body)
		}
		r.json(t, &rep)
		if rep.Coverage.Households != 18 || rep.Coverage.Done != 2 || len(rep.Coverage.ByVillage) != 2 || rep.Coverage.ByVillage[0].Done != 1 {
			t.Fatalf("coverage: %+v", rep.Coverage)
		}
		if len(rep.Households) != 2 || len(rep.LikelyPaper) != 1 {
			t.Fatalf("scores: %+v", rep.Households)
		}
		a := rep.LikelyPaper[0]
		if a.HouseholdID != hA || a.HeadName != "张三" || a.CadreID == nil || *a.CadreID != e.cadreA.ID || a.CadreName != "cadre-a" ||
			a.RecordedVisits != 6 || a.RecalledVisits != 1 || a.Points != 40 || len(a.Reasons) != 1 || a.Reasons[0].Code != "visits_not_recalled" ||
			!strings.Contains(a.Reasons[0].MessageZH, "记录入户6次") {
			t.Fatalf("household A: %+v", a)
		}
		if b := rep.Households[1]; b.HouseholdID != hB || b.Points != 0 || b.LikelyPaper || b.CadreName != "cadre-b" {
			t.Fatalf("household B: %+v", b)
		}
		if len(rep.ByCadre) != 2 || rep.ByCadre[0].ID != e.cadreA.ID || rep.ByCadre[0].LikelyPaper != 1 || rep.ByCadre[0].MeanPoints != 40 {
			t.Fatalf("by cadre: %+v", rep.ByCadre)
		}
		if len(rep.ByTown) != 1 || rep.ByTown[0].Name != "城关镇" || rep.ByTown[0].MeanPoints != 20 {
			t.Fatalf("by town: %+v", rep.ByTown)
		}
		// Village B is unsatisfied (0 against 0.95) and aware; village A
		// satisfied and partly aware (0.5 against 1): B is further below.
		ov := rep.Opinion.Overall
		if *ov.SatisfactionRate != 0.5 || *ov.AwarenessRate != 0.75 || ov.MeetsSatisfaction || ov.MeetsAwareness {
			t.Fatalf("overall opinion: %+v", ov)
		}
		vs := rep.Opinion.ByVillage
		if len(vs) != 2 || vs[0].ID != e.villageB.ID || vs[0].Rank != 1 || vs[0].Shortfall != 0.95 || !vs[0].MeetsAwareness || vs[0].MeetsSatisfaction ||
			vs[1].ID != e.villageA.ID || vs[1].Rank != 2 || vs[1].Shortfall != 0.5 || !vs[1].MeetsSatisfaction || vs[1].MeetsAwareness {
			t.Fatalf("villages ranked: %+v", vs)
		}
		if rep.Targets.Awareness != 1 || rep.Targets.Satisfaction != 0.95 {
			t.Fatalf("targets: %+v", rep.Targets)
		}
		if rep.Rectifications != (wire.RectificationCounts{}) {
			t.Fatalf("rectifications before any: %+v", rep.Rectifications)
		}
		// 精准识别 (错评, 漏评), 精准退出 (错退) and 帮扶成效 are counted.
		pr := rep.Precision
		if pr.Identification.Answers != 2 || pr.Identification.Accurate != 1 || pr.Identification.WronglyRegistered != 1 || pr.Identification.ShouldRegister != 0 ||
			pr.Exit.Answers != 2 || pr.Exit.CriteriaNotMet != 1 || pr.Exit.NotExited != 1 || pr.Effect.Answers != 2 || pr.Effect.None != 1 || pr.Effect.Clear != 1 {
			t.Fatalf("precision: %+v", pr)
		}

		// Each household's answers, in the words of the form, under
		// Chinese headings.
		ledgerRows := func(rows [][]string) map[string]map[string]string {
			t.Helper()
			out := map[string]map[string]string{}
			for _, row := range rows[3:] {
				byHeading := map[string]string{}
				for i, h := range rows[2] {
					if i < len(row) {
						byHeading[h] = row[i]
					}
				}
				out[byHeading["户主姓名"]] = byHeading
			}
			return out
		}
		want := map[string]map[string]string{
			"张三": {"精准识别": "不符合条件被纳入（错评）", "精准退出": "未达标准即退出（错退）", "帮扶成效": "成效不明显", "群众满意度": "基本满意", "政策知晓": "部分知晓", "疑似纸上帮扶": "是"},
			"李四": {"精准识别": "识别精准", "精准退出": "尚未退出", "帮扶成效": "成效明显", "群众满意度": "不满意", "政策知晓": "知晓", "疑似纸上帮扶": "否"},
		}
		check := func(format string, got map[string]map[string]string) {
			t.Helper()
			for head, cols := range want {
				for h, v := range cols {
					if got[head][h] != v {
						t.Errorf("%s, %s's %s: %q, want %q", format, head, h, got[head][h], v)
					}
				}
			}
		}
		r = e.do(t, "GET", path+"?format=xlsx", e.login(t, "admin"), nil)
		rows := xlsxRows(t, r.Body)
		if r.Status != http.StatusOK || len(rows) != 3+18 || rows[2][0] != "序号" {
			t.Fatalf("report ledger: %d %q", r.Status, rows)
		}
		check("xlsx", ledgerRows(rows))
		var paper []string
		for head, row := range ledgerRows(rows) {
			if row["疑似纸上帮扶"] == "是" {
				paper = append(paper, head)
			}
		}
		if fmt.Sprint(paper) != "[张三]" {
			t.Fatalf("paper visits in the ledger: %v", paper)
		}
		r = e.do(t, "GET", path+"?format=csv", e.login(t, "admin"), nil)
		if r.Status != http.StatusOK || !strings.HasPrefix(string(r.Body), "\uFEFF督查核查台账") {
			t.Fatalf("csv: %d %.100s", r.Status, r.Body)
		}
		cr := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(r.Body), "\uFEFF")))
		cr.FieldsPerRecord = -1 // a title line, and short lines of households not inspected
		records, err := cr.ReadAll()
		if err != nil || len(records) != 3+18 {
			t.Fatalf("csv: %v, %d rows", err, len(records))
		}
		check("csv", ledgerRows(records))
		if r := e.do(t, "GET", path+"?format=pdf", e.login(t, "admin"), nil); r.Status != http.StatusUnprocessableEntity || !r.problem(t).hasField("format") {
			t.Fatalf("format=pdf: %d %s", r.Status, r.Body)
		}

		elsewhere := e.addRegion(t, e.county, domain.LevelTown, "410122300000", "王店镇")
		e.addUser(t, "supervisor-w", domain.RoleSupervisor, elsewhere, nil, "")
		for _, who := range []string{"supervisor-w", "cadre-a"} {
			for _, p := range []string{path, path + "?format=xlsx", "/api/v1/inspections/" + c.ID.String() + "/findings"} {
				if r := e.do(t, "GET", p, e.login(t, who), nil); r.Status != http.StatusNotFound {
					t.Errorf("%s GET %s: %d, want 404", who, p, r.Status)
				}
			}
		}
	})
}

// TestReportCountsTheCampaignsRectifications: the report counts the
// campaign's items of the rectification ledger by status — the one an
// inspector registered for a finding among them — and, as days pass, those
// overdue; items of no campaign are not its.
func TestReportCountsTheCampaignsRectifications(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		e.inspectable(t)
		c := e.drawnCampaign(t, "announced", nil)
		insp, sup, cadre := e.login(t, "inspector"), e.login(t, "supervisor-a"), e.login(t, "cadre-a")
		hA := e.householdA.Household.ID
		var f wire.InspectionFinding
		e.record(t, insp, c.ID, hA, householdAnswers(func(a map[string]any) { a["housing"] = map[string]any{"choice": "problem"} }), nil).json(t, &f)
		e.rectify(t, insp, map[string]any{"problem": "住房安全未保障：屋顶漏雨", "campaign_id": c.ID, "finding_id": f.ID,
			"responsible_user_id": e.cadreA.ID, "deadline": e.daysFromToday(10)})
		ofCampaign := func(deadline int) wire.RectificationDetail {
			b := e.rectificationBody()
			b["campaign_id"], b["deadline"] = c.ID, e.daysFromToday(deadline)
			return e.rectify(t, sup, b)
		}
		started, closed := ofCampaign(30), ofCampaign(5)
		e.rectify(t, sup, e.rectificationBody())
		move := func(tok string, it *wire.RectificationDetail, body map[string]any) {
			t.Helper()
			body["version"] = it.Version
			r := e.act(t, tok, it.ID, body)
			if r.Status != http.StatusOK {
				t.Fatalf("%s: %d %s", body["action"], r.Status, r.Body)
			}
			r.json(t, it)
		}
		move(cadre, &started, map[string]any{"action": "start"})
		move(cadre, &closed, map[string]any{"action": "start"})
		visit := e.visitBy(t, cadre, hA, "rectified")
		move(cadre, &closed, map[string]any{"action": "submit", "note": "屋顶已修缮", "evidence": map[string]any{"visit_ids": []uuid.UUID{visit}}})
		move(sup, &closed, map[string]any{"action": "approve"})
		counts := func() wire.RectificationCounts {
			t.Helper()
			var rep wire.InspectionReport
			r := e.do(t, "GET", "/api/v1/inspections/"+c.ID.String()+"/report", e.login(t, "admin"), nil)
			if r.Status != http.StatusOK {
				t.Fatalf("report: %d %s", r.Status, r.Body)
			}
			r.json(t, &rep)
			return rep.Rectifications
		}
		if got, want := counts(), (wire.RectificationCounts{Total: 3, Open: 1, InProgress: 1, Closed: 1}); got != want {
			t.Fatalf("rectifications: %+v, want %+v", got, want)
		}
		// Twenty days on the finding's item is past its deadline; the one in
		// progress is not yet, and a closed one never is.
		later := time.Now().AddDate(0, 0, 20)
		e.app.Now = func() time.Time { return later }
		e.rebuildAuth(t)
		if got, want := counts(), (wire.RectificationCounts{Total: 3, Open: 1, InProgress: 1, Closed: 1, Overdue: 1}); got != want {
			t.Fatalf("rectifications twenty days on: %+v, want %+v", got, want)
		}
	})
}

// TestReportRanksAgainstThePlansTargets: a campaign's targets are part of
// its plan and rank its report; out-of-range targets are refused.
func TestReportRanksAgainstThePlansTargets(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	e.inspectable(t)
	bad := e.campaignBody("announced")
	bad["plan"].(map[string]any)["targets"] = map[string]any{"awareness": 1.5}
	if r := e.do(t, "POST", "/api/v1/inspections", e.login(t, "admin"), bad); r.Status != http.StatusUnprocessableEntity ||
		!r.problem(t).hasField("/plan/targets/awareness") {
		t.Fatalf("a target of 150%%: %d %s", r.Status, r.Body)
	}
	c := e.drawnCampaign(t, "announced", func(b map[string]any) {
		b["plan"].(map[string]any)["targets"] = map[string]any{"awareness": 0.5}
	})
	if c.Plan.Targets == nil || *c.Plan.Targets.Awareness != 0.5 || *c.Plan.Targets.Satisfaction != 0.95 {
		t.Fatalf("plan targets: %+v", c.Plan.Targets)
	}
	tok := e.login(t, "inspector")
	for _, h := range []uuid.UUID{e.householdA.Household.ID, e.householdB.Household.ID} {
		if r := e.record(t, tok, c.ID, h, householdAnswers(func(a map[string]any) { a["awareness"] = map[string]any{"choice": "partly"} }), nil); r.Status != http.StatusCreated {
			t.Fatalf("record: %d %s", r.Status, r.Body)
		}
	}
	var rep wire.InspectionReport
	e.do(t, "GET", "/api/v1/inspections/"+c.ID.String()+"/report", e.login(t, "admin"), nil).json(t, &rep)
	for _, v := range rep.Opinion.ByVillage {
		if !v.MeetsAwareness || !v.MeetsSatisfaction || v.Shortfall != 0 {
			t.Errorf("village %s against awareness 0.5: %+v", v.Name, v)
		}
	}
}

// TestAccountability: supervisors and admins issue supervision orders,
// circulars and warnings against a unit or a cadre of their subtree, list
// those in their region, and record the follow-up; every input is checked,
// another region's managers see none of it, and each step is audited.
func TestAccountability(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		e.inspectable(t)
		admin, supA := e.login(t, "admin"), e.login(t, "supervisor-a")
		c := e.drawnCampaign(t, "announced", nil)
		hidden := e.drawnCampaign(t, "unannounced", nil)
		issue := func(tok string, body map[string]any) response {
			t.Helper()
			return e.do(t, "POST", "/api/v1/accountability", tok, body)
		}
		with := func(change func(b map[string]any)) map[string]any {
			b := map[string]any{"kind": "warning", "target_user_id": e.cadreA.ID, "campaign_id": c.ID, "reason": "走访记录与农户所述严重不符"}
			change(b)
			return b
		}
		for _, tc := range []struct {
			name  string
			token string
			body  map[string]any
			field string
		}{
			{"an unknown kind", admin, with(func(b map[string]any) { b["kind"] = "fine" }), "/kind"},
			{"no reason", admin, with(func(b map[string]any) { b["reason"] = " " }), "/reason"},
			{"a reason too long", admin, with(func(b map[string]any) { b["reason"] = strings.Repeat("长", 2001) }), "/reason"},
			{"no target", admin, with(func(b map[string]any) { delete(b, "target_user_id") }), "/target_unit_id"},
			{"two targets", admin, with(func(b map[string]any) { b["target_unit_id"] = e.unitA }), "/target_user_id"},
			{"an unknown user", admin, with(func(b map[string]any) { b["target_user_id"] = uuid.New() }), "/target_user_id"},
			{"another village's cadre", supA, with(func(b map[string]any) { b["target_user_id"] = e.cadreB.ID; delete(b, "campaign_id") }), "/target_user_id"},
			{"a unit above the caller", supA, with(func(b map[string]any) {
				delete(b, "target_user_id")
				b["target_unit_id"] = e.unitA
				delete(b, "campaign_id")
			}), "/target_unit_id"},
			{"an unknown campaign", admin, with(func(b map[string]any) { b["campaign_id"] = uuid.New() }), "/campaign_id"},
			{"a running unannounced campaign", admin, with(func(b map[string]any) { b["campaign_id"] = hidden.ID }), "/campaign_id"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if r := issue(tc.token, tc.body); r.Status != http.StatusUnprocessableEntity || !r.problem(t).hasField(tc.field) {
					t.Fatalf("want 422 naming %s, got %d %s", tc.field, r.Status, r.Body)
				}
			})
		}
		for _, who := range []string{"cadre-a", "inspector"} {
			tok := e.login(t, who)
			if r := issue(tok, with(func(map[string]any) {})); r.Status != http.StatusForbidden {
				t.Errorf("%s issues an action: %d, want 403", who, r.Status)
			}
			if r := e.do(t, "GET", "/api/v1/accountability", tok, nil); r.Status != http.StatusForbidden {
				t.Errorf("%s lists actions: %d, want 403", who, r.Status)
			}
		}
		if n := e.count(t, "accountability_actions"); n != 0 {
			t.Fatalf("refused actions were stored: %d", n)
		}

		var warning, order wire.AccountabilityAction
		r := issue(admin, with(func(map[string]any) {}))
		if r.Status != http.StatusCreated {
			t.Fatalf("warning: %d %s", r.Status, r.Body)
		}
		r.json(t, &warning)
		if warning.KindLabel != "黄牌警告" || warning.TargetName != "cadre-a" || warning.FollowedUpOn != nil || warning.Version != 1 {
			t.Fatalf("warning: %+v", warning)
		}
		r = issue(admin, map[string]any{"kind": "supervision_order", "target_unit_id": e.unitA, "reason": "帮扶措施未落实"})
		if r.Status != http.StatusCreated {
			t.Fatalf("order: %d %s", r.Status, r.Body)
		}
		r.json(t, &order)
		if order.TargetName != "县农业农村局" || order.CampaignID != nil {
			t.Fatalf("order: %+v", order)
		}

		list := func(tok, query string) []uuid.UUID {
			t.Helper()
			var page wire.Page[wire.AccountabilityAction]
			r := e.do(t, "GET", "/api/v1/accountability"+query, tok, nil)
			if r.Status != http.StatusOK {
				t.Fatalf("list %s: %d %s", query, r.Status, r.Body)
			}
			r.json(t, &page)
			ids := make([]uuid.UUID, len(page.Items))
			for i, a := range page.Items {
				ids[i] = a.ID
			}
			return ids
		}
		for _, tc := range []struct {
			token, query string
			want         []uuid.UUID
		}{
			{admin, "", []uuid.UUID{order.ID, warning.ID}},
			{admin, "?campaign_id=" + c.ID.String(), []uuid.UUID{warning.ID}},
			{admin, "?region_id=" + e.villageB.ID.String(), []uuid.UUID{}},
			{supA, "", []uuid.UUID{warning.ID}}, // the unit sits in the county, above village A
			{e.login(t, "supervisor-b"), "", []uuid.UUID{}},
		} {
			if got := list(tc.token, tc.query); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("list %s: %v, want %v", tc.query, got, tc.want)
			}
		}
		if r := e.do(t, "GET", "/api/v1/accountability?region_id="+uuid.NewString(), supA, nil); r.Status != http.StatusNotFound {
			t.Errorf("list by an unknown region: %d, want 404", r.Status)
		}

		fPath := "/api/v1/accountability/" + warning.ID.String() + "/follow-up"
		today := domain.DateOf(time.Now())
		elsewhere := e.addRegion(t, e.county, domain.LevelTown, "410122300000", "王店镇")
		e.addUser(t, "supervisor-w", domain.RoleSupervisor, elsewhere, nil, "")
		followUp := map[string]any{"follow_up": "已约谈，补录走访并整改", "followed_up_on": today.String(), "version": 1}
		for _, who := range []string{"supervisor-b", "supervisor-w"} {
			if r := e.do(t, "POST", fPath, e.login(t, who), followUp); r.Status != http.StatusNotFound {
				t.Errorf("%s follows up village A's warning: %d, want 404", who, r.Status)
			}
		}
		if r := e.do(t, "POST", fPath, e.login(t, "cadre-a"), followUp); r.Status != http.StatusForbidden {
			t.Errorf("the cadre follows up: %d, want 403", r.Status)
		}
		for _, tc := range []struct {
			name, field string
			change      func(b map[string]any)
		}{
			{"no text", "/follow_up", func(b map[string]any) { b["follow_up"] = "" }},
			{"a day in the future", "/followed_up_on", func(b map[string]any) { b["followed_up_on"] = today.AddDays(1).String() }},
			{"a day before the action", "/followed_up_on", func(b map[string]any) { b["followed_up_on"] = today.AddDays(-2).String() }},
			{"not a day", "/followed_up_on", func(b map[string]any) { b["followed_up_on"] = "昨天" }},
		} {
			b := map[string]any{"follow_up": "已整改", "followed_up_on": today.String(), "version": 1}
			tc.change(b)
			if r := e.do(t, "POST", fPath, supA, b); r.Status != http.StatusUnprocessableEntity || !r.problem(t).hasField(tc.field) {
				t.Errorf("%s: %d %s, want 422 naming %s", tc.name, r.Status, r.Body, tc.field)
			}
		}
		var done wire.AccountabilityAction
		r = e.do(t, "POST", fPath, supA, followUp)
		if r.Status != http.StatusOK {
			t.Fatalf("follow-up: %d %s", r.Status, r.Body)
		}
		r.json(t, &done)
		if done.FollowUp != "已约谈，补录走访并整改" || done.FollowedUpOn == nil || *done.FollowedUpOn != today || done.Version != 2 {
			t.Fatalf("followed up: %+v", done)
		}
		if r := e.do(t, "POST", fPath, supA, followUp); r.Status != http.StatusConflict {
			t.Fatalf("a follow-up over version 1 after version 2: %d, want 409", r.Status)
		}

		for _, action := range []string{"create", "follow_up"} {
			var page struct {
				Items []struct {
					ObjectType string `json:"object_type"`
					ObjectID   string `json:"object_id"`
				} `json:"items"`
			}
			e.do(t, "GET", "/api/v1/audit-log?action="+action, admin, nil).json(t, &page)
			n := 0
			for _, it := range page.Items {
				if it.ObjectType == "accountability" && it.ObjectID == warning.ID.String() {
					n++
				}
			}
			if n != 1 {
				t.Errorf("audit entries %q of the warning: %d, want 1", action, n)
			}
		}
	})
}

// TestFindingsAreAudited: recording and correcting findings each leave an
// audit entry naming the household.
func TestFindingsAreAudited(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	e.inspectable(t)
	c := e.drawnCampaign(t, "announced", nil)
	tok := e.login(t, "inspector")
	hA := e.householdA.Household.ID
	e.record(t, tok, c.ID, hA, householdAnswers(nil), nil)
	e.record(t, tok, c.ID, hA, householdAnswers(nil), ptr(int64(1)))
	recs, _, err := e.app.Store.AuditLog(context.Background(), domain.AuditFilter{HouseholdID: &hA, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, r := range recs {
		if r.ObjectType == "inspection_finding" {
			actions = append(actions, r.Action)
		}
	}
	if len(actions) != 2 {
		t.Fatalf("finding audit entries: %v", actions)
	}
}
