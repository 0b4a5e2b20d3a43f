package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance/rules"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	"github.com/fieldvisit/fieldvisit/wire"
)

// judgeCompliance runs the compliance worker until nothing is left.
func (e *testEnv) judgeCompliance(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	e.assessEvidence(t)
	for range 1000 {
		q, err := e.app.Compliance.QueueUnjudged(ctx, 1000)
		if err != nil {
			t.Fatal(err)
		}
		n, err := e.app.Compliance.JudgeQueued(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 && q == 0 {
			return
		}
	}
	t.Fatal("the compliance queue never drained")
}

// visitAt is a visit change starting at start, lasting 40 minutes at the
// household's home.
func visitAt(id, household uuid.UUID, start time.Time, kind string) map[string]any {
	v := visitChange(id, household, "按时走访", 34.7)
	d := v["data"].(map[string]any)
	d["kind"] = kind
	d["started_at"] = start.Format(time.RFC3339)
	d["ended_at"] = start.Add(40 * time.Minute).Format(time.RFC3339)
	d["gps"] = []map[string]any{{"lat": 34.7, "lon": 113.6, "accuracy": 12, "provider": "gps", "mock": false, "device_time": start.Format(time.RFC3339)}}
	return v
}

// pairSinceLastYear re-pairs cadre A with household A from January 1 of
// last year, so visits of any recent date fall within the pairing.
func (e *testEnv) pairSinceLastYear(t *testing.T) {
	t.Helper()
	now := e.app.Now()
	today := domain.DateOf(now)
	old := e.pairingA
	old.EndOn, old.EndReason = &today, "test: re-paired from last year"
	p := domain.Pairing{ID: uuid.New(), CountyID: old.CountyID, HouseholdID: old.HouseholdID, CadreID: old.CadreID,
		StartOn: domain.Date{Year: today.Year - 1, Month: time.January, Day: 1}, CreatedBy: e.admin.UserID, CreatedAt: now.UTC()}
	if err := e.app.Store.Pair(context.Background(), &p, []domain.Pairing{old}, domain.AuditEntry{Action: "test", ObjectType: "pairing"}); err != nil {
		t.Fatal(err)
	}
	e.pairingA = p
}

func findStatus(sts []wire.ComplianceStatus, rule, period string) *wire.ComplianceStatus {
	for i := range sts {
		if sts[i].RuleCode == rule && sts[i].Period == period {
			return &sts[i]
		}
	}
	return nil
}

func (e *testEnv) timeline(t *testing.T, tok string, household uuid.UUID, year int) wire.Timeline {
	t.Helper()
	r := e.do(t, "GET", fmt.Sprintf("/api/v1/households/%s/compliance?year=%d", household, year), tok, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("timeline: %d %s", r.Status, r.Body)
	}
	var tl wire.Timeline
	r.json(t, &tl)
	return tl
}

// TestComplianceFollowsVisits: statuses exist before any visit (a household
// nobody visited still owes its visits), a counted visit moves them, a
// condolence visit does not and says why, the worklist and the report read
// them, and a town's own profile changes the rule that judges its households.
func TestComplianceFollowsVisits(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		now := e.app.Now()
		today := domain.DateOf(now)
		quarter, _ := rules.PeriodOf(rules.WindowQuarter, today)
		year := today.Year
		cadre, admin := e.login(t, "cadre-a"), e.login(t, "admin")
		hA := e.householdA.Household.ID
		e.pairSinceLastYear(t)
		e.judgeCompliance(t)

		before := e.timeline(t, cadre, hA, year)
		q := findStatus(before.Statuses, rules.CodeYearly6, quarter.Key())
		if before.ProfileCode != "default" || q == nil || q.Required != 1 || q.Counted != 0 || q.State == rules.StateMet {
			t.Fatalf("before any visit: profile %s, quarter status %+v", before.ProfileCode, q)
		}
		var wl wire.Worklist
		r := e.do(t, "GET", "/api/v1/worklist", cadre, nil)
		r.json(t, &wl)
		if r.Status != http.StatusOK || !slices.ContainsFunc(wl.Items, func(it wire.ComplianceItem) bool {
			return it.HouseholdID != nil && *it.HouseholdID == hA && it.Period == quarter.Key() && it.ReasonZH != ""
		}) {
			t.Fatalf("worklist lacks household A's quarter: %d %s", r.Status, r.Body)
		}

		// The phone's pull carries the worklist on its last page.
		var pulled wire.PullResponse
		for cursor := ""; ; {
			r := e.do(t, "GET", "/api/v1/sync/pull?limit=2000&cursor="+cursor, cadre, nil)
			pulled = wire.PullResponse{}
			r.json(t, &pulled)
			if !pulled.HasMore {
				break
			}
			cursor = pulled.Cursor
		}
		if !slices.ContainsFunc(pulled.Due, func(d wire.DueItem) bool {
			return d.HouseholdID != nil && *d.HouseholdID == hA && d.Period == quarter.Key()
		}) {
			t.Errorf("the pull's last page lacks household A's due visit: %+v", pulled.Due)
		}
		// So does a fresh phone's snapshot, when nothing more is waiting.
		var snap wire.PullResponse
		e.do(t, "GET", "/api/v1/sync/snapshot", cadre, nil).json(t, &snap)
		if snap.HasMore || !slices.ContainsFunc(snap.Due, func(d wire.DueItem) bool {
			return d.HouseholdID != nil && *d.HouseholdID == hA && d.Period == quarter.Key()
		}) {
			t.Errorf("the snapshot (has_more %v) lacks household A's due visit: %+v", snap.HasMore, snap.Due)
		}

		// A condolence visit does not count; an assistance visit does.
		condolence, assist := uuid.New(), uuid.New()
		e.push(t, cadre, uuid.NewString(), batch("test-phone", now, visitAt(condolence, hA, now.Add(-26*time.Hour), domain.KindCondolence))).pushResult(t)
		e.push(t, cadre, uuid.NewString(), batch("test-phone", now, visitAt(assist, hA, now.Add(-2*time.Hour), domain.KindAssist))).pushResult(t)
		e.judgeCompliance(t)
		after := e.timeline(t, cadre, hA, year)
		q = findStatus(after.Statuses, rules.CodeYearly6, quarter.Key())
		if q == nil || q.Counted != 1 || q.State != rules.StateMet {
			t.Fatalf("after a visit: quarter status %+v", q)
		}
		condolenceQuarter, _ := rules.PeriodOf(rules.WindowQuarter, domain.DateOf(now.Add(-26*time.Hour)))
		cq := findStatus(e.timeline(t, cadre, hA, condolenceQuarter.Start.Year).Statuses, rules.CodeYearly6, condolenceQuarter.Key())
		if cq == nil || !slices.ContainsFunc(cq.NotCounted, func(j wire.VisitJudgement) bool { return j.VisitID == condolence && j.Reason == rules.ReasonKind }) {
			t.Errorf("the condolence visit is not explained: %+v", cq)
		}
		e.assertStoredMatchesFresh(t, year)

		// The report counts it; a cadre may not read reports.
		var rep wire.ComplianceReport
		r = e.do(t, "GET", "/api/v1/compliance/missed?region_id="+e.county.ID.String()+"&period="+quarter.Key()+"&state=met,missed,overdue,due_soon,on_track", admin, nil)
		r.json(t, &rep)
		if r.Status != http.StatusOK || rep.Total.Total < 2 || rep.Total.Met < 1 || len(rep.Regions) != 1 || rep.Regions[0].Name != "城关镇" {
			t.Fatalf("report: %d %s", r.Status, r.Body)
		}
		if r := e.do(t, "GET", "/api/v1/compliance/missed?region_id="+e.county.ID.String(), cadre, nil); r.Status != http.StatusForbidden {
			t.Errorf("cadre reading the report: %d", r.Status)
		}
		if r := e.do(t, "GET", "/api/v1/compliance/missed?region_id="+e.villageA.ID.String(), e.login(t, "supervisor-b"), nil); r.Status != http.StatusNotFound {
			t.Errorf("supervisor of village B reading village A: %d", r.Status)
		}

		// The town takes the monthly profile: household A is judged monthly.
		r = e.do(t, "PUT", "/api/v1/regions/"+e.town.ID.String()+"/rule-profile", admin, map[string]any{"profile_code": "monthly"})
		if r.Status != http.StatusOK {
			t.Fatalf("assign profile: %d %s", r.Status, r.Body)
		}
		e.judgeCompliance(t)
		monthly := e.timeline(t, cadre, hA, year)
		month, _ := rules.PeriodOf(rules.WindowMonth, today)
		if monthly.ProfileCode != "monthly" || findStatus(monthly.Statuses, rules.CodeMonthly, month.Key()) == nil {
			t.Fatalf("after the town took the monthly profile: %s %+v", monthly.ProfileCode, monthly.Statuses)
		}
		var inherited wire.RegionRuleProfile
		r = e.do(t, "GET", "/api/v1/regions/"+e.villageA.ID.String()+"/rule-profile", admin, nil)
		r.json(t, &inherited)
		if inherited.ProfileCode != "monthly" || inherited.Own || inherited.InheritedFromID == nil || *inherited.InheritedFromID != e.town.ID {
			t.Errorf("village A's profile: %s", r.Body)
		}
		e.assertStoredMatchesFresh(t, year)
	})
}

// assertStoredMatchesFresh: every stored (incrementally maintained) status
// equals what judging the household afresh gives.
func (e *testEnv) assertStoredMatchesFresh(t *testing.T, year int) {
	t.Helper()
	ctx := context.Background()
	for _, h := range []uuid.UUID{e.householdA.Household.ID, e.householdB.Household.ID} {
		stored, err := e.app.Store.StoredStatuses(ctx, h, year)
		if err != nil {
			t.Fatal(err)
		}
		fresh, _, err := e.app.Compliance.Timeline(ctx, e.admin, h, year)
		if err != nil {
			t.Fatal(err)
		}
		key := func(st rules.Status) string {
			var counted []string
			for _, v := range st.Counted {
				counted = append(counted, v.VisitID.String())
			}
			return fmt.Sprintf("%s %s %s req=%d got=%d due=%s %s", st.RuleCode, st.Period.Key(), st.Subject, st.Required, st.CountedN, st.DueOn, strings.Join(counted, ","))
		}
		var a, b []string
		for _, s := range stored {
			a = append(a, key(s.Status))
		}
		for _, s := range fresh {
			b = append(b, key(s))
		}
		slices.Sort(a)
		slices.Sort(b)
		if !slices.Equal(a, b) {
			t.Fatalf("household %s: stored statuses differ from a fresh judgement\nstored: %v\nfresh:  %v", h, a, b)
		}
	}
}

// TestIncrementalEqualsFullRecomputation: over random histories of visit
// creates, edits (moving dates across periods), deletions and flags, the
// statuses the worker keeps equal judging everything again.
func TestIncrementalEqualsFullRecomputation(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		now := e.app.Now()
		cadre := e.login(t, "cadre-a")
		hA := e.householdA.Household.ID
		e.pairSinceLastYear(t)
		rng := rand.New(rand.NewPCG(7, uint64(now.UnixNano()%1000)))
		type live struct {
			id      uuid.UUID
			version int
		}
		var visits []live
		e.judgeCompliance(t)
		for step := range 40 {
			switch op := rng.IntN(10); {
			case op < 6 || len(visits) == 0:
				id := uuid.New()
				start := now.Add(-time.Duration(rng.IntN(90*24)) * time.Hour)
				kind := []string{domain.KindAssist, domain.KindAssist, domain.KindFollowup, domain.KindCondolence}[rng.IntN(4)]
				e.push(t, cadre, uuid.NewString(), batch("test-phone", now, visitAt(id, hA, start, kind))).pushResult(t)
				visits = append(visits, live{id, 1})
			case op < 8:
				i := rng.IntN(len(visits))
				start := now.Add(-time.Duration(rng.IntN(120*24)) * time.Hour)
				ch := visitAt(visits[i].id, hA, start, domain.KindAssist)
				ch["op"], ch["base_version"] = "update", visits[i].version
				res := e.push(t, cadre, uuid.NewString(), batch("test-phone", now, ch)).pushResult(t)
				if res.Results[0].Version > 0 {
					visits[i].version = int(res.Results[0].Version)
				}
			default:
				i := rng.IntN(len(visits))
				e.push(t, cadre, uuid.NewString(), batch("test-phone", now, map[string]any{"entity": "visit", "op": "delete", "id": visits[i].id, "base_version": visits[i].version})).pushResult(t)
				visits = slices.Delete(visits, i, i+1)
			}
			if step%8 == 7 {
				e.judgeCompliance(t)
				for _, y := range []int{now.Year() - 1, now.Year()} {
					e.assertStoredMatchesFresh(t, y)
				}
			}
		}
	})
}

// TestLedgers: the 台账 downloads open in a spreadsheet with Chinese
// headings and lines that match the visits and statuses.
func TestLedgers(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		now := e.app.Now()
		month, _ := rules.PeriodOf(rules.WindowMonth, domain.DateOf(now))
		cadre, admin := e.login(t, "cadre-a"), e.login(t, "admin")
		e.pairSinceLastYear(t)
		visit := visitAt(uuid.New(), e.householdA.Household.ID, now.Add(-time.Hour), domain.KindAssist)
		visit["data"].(map[string]any)["notes"] = "=cmd|' /C calc'!A0 了解到家中老人住院,已协调医疗救助"
		// A line shows how many photos a visit has and links the first.
		first, second := uuid.New(), uuid.New()
		visit["data"].(map[string]any)["photos"] = []any{map[string]any{"photo_id": first, "sha256": strings.Repeat("a", 64)},
			map[string]any{"photo_id": second, "sha256": strings.Repeat("b", 64)}}
		e.push(t, cadre, uuid.NewString(), batch("test-phone", now, visit)).pushResult(t)
		e.judgeCompliance(t)
		quarter, _ := rules.PeriodOf(rules.WindowQuarter, domain.DateOf(now))
		county := "region_id=" + e.county.ID.String() + "&period=" + quarter.Key()

		r := e.do(t, "GET", "/api/v1/exports/visits?"+county, admin, nil)
		if r.Status != http.StatusOK || !strings.Contains(r.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("visit ledger: %d %v", r.Status, r.Header)
		}
		rows := xlsxRows(t, r.Body)
		if len(rows) != 4 || rows[2][0] != "序号" || rows[2][4] != "户主姓名" || rows[3][4] != "张三" || !strings.Contains(rows[3][20], "医疗救助") ||
			rows[2][17] != "照片数" || rows[3][17] != "2" || rows[3][18] != "查看照片（2张）" {
			t.Fatalf("visit ledger rows: %q", rows)
		}
		r = e.do(t, "GET", "/api/v1/exports/visits?region_id="+e.villageA.ID.String()+"&period="+quarter.Key()+"&format=csv", cadre, nil)
		if r.Status != http.StatusOK || !strings.HasPrefix(string(r.Body), "\uFEFF") || !strings.Contains(string(r.Body), "张三") ||
			!strings.Contains(string(r.Body), "'=cmd") || !strings.Contains(string(r.Body), ",2,http://example.com/ui/photos/"+first.String()+",") {
			t.Fatalf("cadre's csv ledger: %d %s", r.Status, r.Body)
		}
		if r := e.do(t, "GET", "/api/v1/exports/visits?region_id="+e.villageA.ID.String()+"&format=csv", e.login(t, "cadre-b"), nil); r.Status != http.StatusNotFound {
			t.Errorf("cadre B exporting village A: %d %s", r.Status, r.Body)
		}

		r = e.do(t, "GET", "/api/v1/exports/progress?"+county, admin, nil)
		rows = xlsxRows(t, r.Body)
		if r.Status != http.StatusOK || rows[2][0] != "单位" || rows[len(rows)-1][0] != "合计" || rows[3][1] != "城关镇" {
			t.Fatalf("progress: %d %q", r.Status, rows)
		}
		r = e.do(t, "GET", "/api/v1/exports/missed?"+county+"&state=met,on_track,due_soon,overdue,missed&format=csv", admin, nil)
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "李四") {
			t.Fatalf("missed list: %d %s", r.Status, r.Body)
		}

		for _, tc := range []struct{ query, field string }{
			{county + "&format=pdf", "format"},
			{county + "&from=2026-05-01&to=2026-04-01", "to"},
			{"region_id=" + e.county.ID.String() + "&period=2026-13", "period"},
			{"period=" + month.Key(), "region_id"},
		} {
			r := e.do(t, "GET", "/api/v1/exports/visits?"+tc.query, admin, nil)
			if p := r.problem(t); r.Status != http.StatusUnprocessableEntity || !p.hasField(tc.field) {
				t.Errorf("%s: %d %s, want 422 naming %s", tc.query, r.Status, r.Body, tc.field)
			}
		}
	})
}

func xlsxRows(t *testing.T, b []byte) [][]string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not an XLSX file: %v: %.200q", err, b)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestClosedPeriodStaysPublished: a closed month answers its frozen
// figures even after a late visit changes the live ones; a period is
// closed once, only after it ended, by a supervisor or admin.
func TestClosedPeriodStaysPublished(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		now := e.app.Now()
		today := domain.DateOf(now)
		thisQuarter, _ := rules.PeriodOf(rules.WindowQuarter, today)
		last, _ := rules.PeriodOf(rules.WindowQuarter, thisQuarter.Start.AddDays(-1))
		cadre, admin := e.login(t, "cadre-a"), e.login(t, "admin")
		e.pairSinceLastYear(t)
		e.judgeCompliance(t)
		closeBody := func(p string) map[string]any { return map[string]any{"region_id": e.county.ID, "period": p} }
		if r := e.do(t, "POST", "/api/v1/compliance/closes", admin, closeBody(thisQuarter.Key())); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("closing the running quarter: %d %s", r.Status, r.Body)
		}
		if r := e.do(t, "POST", "/api/v1/compliance/closes", cadre, closeBody(last.Key())); r.Status != http.StatusForbidden {
			t.Errorf("a cadre closing: %d", r.Status)
		}
		if r := e.do(t, "POST", "/api/v1/compliance/closes", admin, closeBody(last.Key())); r.Status != http.StatusCreated {
			t.Fatalf("closing last quarter: %d %s", r.Status, r.Body)
		}
		if r := e.do(t, "POST", "/api/v1/compliance/closes", admin, closeBody(last.Key())); r.Status != http.StatusConflict {
			t.Errorf("closing twice: %d %s", r.Status, r.Body)
		}
		report := func(live bool) wire.ComplianceReport {
			var rep wire.ComplianceReport
			r := e.do(t, "GET", fmt.Sprintf("/api/v1/compliance/missed?region_id=%s&period=%s&live=%v", e.county.ID, last.Key(), live), admin, nil)
			r.json(t, &rep)
			if r.Status != http.StatusOK {
				t.Fatalf("report: %d %s", r.Status, r.Body)
			}
			return rep
		}
		frozen := report(false)
		if !frozen.Frozen || frozen.Total.Missed < 2 || frozen.Total.Met != 0 {
			t.Fatalf("frozen report: %+v", frozen.Total)
		}
		// A visit of last quarter synced late counts in the live statuses
		// only.
		late := last.End.AddDays(-3).Start().Add(10 * time.Hour)
		e.push(t, cadre, uuid.NewString(), batch("test-phone", now, visitAt(uuid.New(), e.householdA.Household.ID, late, domain.KindAssist))).pushResult(t)
		e.judgeCompliance(t)
		if again := report(false); again.Total != frozen.Total || !again.Frozen {
			t.Errorf("the published report changed: %+v → %+v", frozen.Total, again.Total)
		}
		if live := report(true); live.Frozen || live.Total.Met != 1 {
			t.Errorf("live report after the late visit: %+v", live.Total)
		}

		var fc wire.Forecast
		r := e.do(t, "GET", "/api/v1/compliance/forecast?region_id="+e.county.ID.String()+"&period="+thisQuarter.Key(), admin, nil)
		r.json(t, &fc)
		if r.Status != http.StatusOK || fc.Period == nil || *fc.Period != thisQuarter.Key() {
			t.Errorf("forecast: %d %s", r.Status, r.Body)
		}
		for _, it := range fc.Items {
			if it.Risk == nil || !it.Risk.AtRisk || it.ReasonZH == "" {
				t.Errorf("forecast item without its risk: %+v", it)
			}
		}
	})
}

// TestCoverage: a town head who has not been to every registered household
// is named with the households still to visit; once the head visits them
// the finding goes; a household whose pairing ended without a successor is
// named too.
func TestCoverage(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		ctx := context.Background()
		now := e.app.Now()
		today := domain.DateOf(now)
		town := e.town.ID
		head, err := e.app.Registry.CreateUser(ctx, e.admin, registry.NewUser{Password: testPassword, User: domain.User{
			Username: "town-head", DisplayName: "王镇长", Role: domain.RoleCadre, RegionID: e.town.ID, Rank: domain.RankSectionLevel,
			Duties: []domain.Duty{{Kind: domain.DutyTownHead, RegionID: &town, StartOn: domain.Date{Year: today.Year, Month: time.January, Day: 1}}}}})
		if err != nil {
			t.Fatal(err)
		}
		admin := e.login(t, "admin")
		coverage := func() wire.Coverage { return e.coverage(t, admin) }
		f := finding(coverage(), rules.CodeTownHeadCoverage, head.ID)
		if f == nil || f.SubjectName != "王镇长" || len(f.Items) != 2 || f.ExplanationZH == "" {
			t.Fatalf("town head finding: %+v", f)
		}
		if !slices.ContainsFunc(f.Items, func(it wire.NamedItem) bool { return it.Name == "张三" }) {
			t.Errorf("the finding does not name 张三: %+v", f.Items)
		}

		// The head visits both households. (Recorded below the API: a
		// cadre's sync scope is their pairings, and leaders' own scope is
		// not part of it yet.)
		for _, h := range []registry.HouseholdFile{e.householdA, e.householdB} {
			start := now.Add(-time.Hour).UTC()
			v := domain.Visit{ID: uuid.New(), CountyID: h.Household.CountyID, HouseholdID: h.Household.ID, CadreID: head.ID, DeviceID: "head-phone",
				VisitDetails: domain.VisitDetails{Kind: domain.KindInspection, StartedAt: start}, StartedAtText: start.Format(time.RFC3339),
				ReceivedAt: now.UTC(), Version: 1, CreatedAt: now.UTC(), UpdatedAt: now.UTC()}
			if err := e.app.Store.InsertVisit(ctx, v); err != nil {
				t.Fatal(err)
			}
		}
		if f := finding(coverage(), rules.CodeTownHeadCoverage, head.ID); f != nil {
			t.Errorf("after visiting every household the town head is still flagged: %+v", f)
		}
	})
}

// TestUnitGroupDuty: a unit assigned to a village group owes a working
// visit there each month; any of its cadres' visits to a household of the
// group counts.
func TestUnitGroupDuty(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		ctx := context.Background()
		now := e.app.Now()
		today := domain.DateOf(now)
		month, _ := rules.PeriodOf(rules.WindowMonth, today)
		group := e.groupA.ID
		if _, err := e.app.Registry.AssignUnit(ctx, e.admin, e.unitA, e.villageA.ID, &group, domain.Date{Year: today.Year, Month: time.January, Day: 1}, nil); err != nil {
			t.Fatal(err)
		}
		e.pairSinceLastYear(t)
		e.judgeCompliance(t)
		unitStatus := func() *rules.Status {
			sts, err := e.app.Store.StoredStatuses(ctx, e.unitA, today.Year)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range sts {
				if s.Status.RuleCode == rules.CodeUnitGroup && s.Status.Period.Key() == month.Key() {
					return &s.Status
				}
			}
			return nil
		}
		if st := unitStatus(); st == nil || st.CountedN != 0 || st.Required != 1 {
			t.Fatalf("unit status before a visit: %+v", st)
		}
		cadre := e.login(t, "cadre-a")
		e.push(t, cadre, uuid.NewString(), batch("test-phone", now, visitAt(uuid.New(), e.householdA.Household.ID, now.Add(-time.Hour), domain.KindAssist))).pushResult(t)
		e.judgeCompliance(t)
		if st := unitStatus(); st == nil || st.CountedN != 1 || st.StateOn(today) != rules.StateMet {
			t.Fatalf("unit status after its cadre's visit: %+v", st)
		}
	})
}

// TestRuleProfileAdmin: admins create and replace profiles with version
// checks; bad rules are refused naming the field; others may only read.
func TestRuleProfileAdmin(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		admin, supervisor := e.login(t, "admin"), e.login(t, "supervisor-a")
		var list struct {
			Items []wire.RuleProfile `json:"items"`
		}
		r := e.do(t, "GET", "/api/v1/rule-profiles", supervisor, nil)
		r.json(t, &list)
		if r.Status != http.StatusOK || len(list.Items) != 3 || !list.Items[0].Builtin {
			t.Fatalf("profiles: %d %s", r.Status, r.Body)
		}
		strict := rules.DefaultProfile()
		strict.NameZH, strict.Version = "从严方案", 0
		strict.Rules[0].Minimums[0].Count = 8
		for _, tc := range []struct {
			name, token, code string
			edit              func(p *rules.Profile)
			status            int
			field             string
		}{
			{"a supervisor may not change rules", supervisor, "strict", func(*rules.Profile) {}, http.StatusForbidden, ""},
			{"unknown window", admin, "strict", func(p *rules.Profile) { p.Rules[0].Minimums[0].Window = "week" }, http.StatusUnprocessableEntity, "/rules/0/minimums/0/window"},
			{"negative count", admin, "strict", func(p *rules.Profile) { p.Rules[1].Minimums[0].Count = -1 }, http.StatusUnprocessableEntity, "/rules/1/minimums/0/count"},
			{"bad code", admin, "Strict Rules", func(*rules.Profile) {}, http.StatusUnprocessableEntity, "/code"},
			{"created", admin, "strict", func(*rules.Profile) {}, http.StatusCreated, ""},
			{"created twice", admin, "strict", func(*rules.Profile) {}, http.StatusConflict, ""},
			{"replaced at version 1", admin, "strict", func(p *rules.Profile) { p.Version = 1 }, http.StatusOK, ""},
			{"stale version", admin, "strict", func(p *rules.Profile) { p.Version = 1 }, http.StatusConflict, ""},
		} {
			p := strict
			p.Rules = slices.Clone(strict.Rules)
			for i := range p.Rules {
				p.Rules[i].Minimums = slices.Clone(p.Rules[i].Minimums)
			}
			tc.edit(&p)
			r := e.do(t, "PUT", "/api/v1/rule-profiles/"+strings.ReplaceAll(tc.code, " ", "%20"), tc.token, p)
			if r.Status != tc.status {
				t.Errorf("%s: %d %s, want %d", tc.name, r.Status, r.Body, tc.status)
				continue
			}
			if tc.field != "" && !r.problem(t).hasField(tc.field) {
				t.Errorf("%s: %s does not name %s", tc.name, r.Body, tc.field)
			}
		}
		var got wire.RuleProfile
		r = e.do(t, "GET", "/api/v1/rule-profiles/strict", supervisor, nil)
		r.json(t, &got)
		if got.Version != 2 || got.Rules[0].Minimums[0].Count != 8 || got.Builtin {
			t.Errorf("stored profile: %s", r.Body)
		}
		if r := e.do(t, "PUT", "/api/v1/regions/"+e.villageA.ID.String()+"/rule-profile", admin, map[string]any{"profile_code": "strict"}); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("attaching a profile to a village: %d %s", r.Status, r.Body)
		}
		if r := e.do(t, "PUT", "/api/v1/regions/"+e.town.ID.String()+"/rule-profile", admin, map[string]any{"profile_code": "nope"}); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("attaching an unknown profile: %d %s", r.Status, r.Body)
		}
	})
}

// TestAutoClose: ended periods freeze on their own once their grace has
// passed, each once; the running ones do not.
func TestAutoClose(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		ctx := context.Background()
		today := domain.DateOf(e.app.Now())
		this, _ := rules.PeriodOf(rules.WindowQuarter, today)
		last, _ := rules.PeriodOf(rules.WindowQuarter, this.Start.AddDays(-1))
		e.pairSinceLastYear(t)
		e.judgeCompliance(t)
		n, err := e.app.Compliance.AutoClose(ctx, 0)
		if err != nil || n == 0 {
			t.Fatalf("auto close: %d, %v", n, err)
		}
		if again, err := e.app.Compliance.AutoClose(ctx, 0); err != nil || again != 0 {
			t.Errorf("a second pass closed %d (%v), want 0", again, err)
		}
		admin := e.login(t, "admin")
		frozen := func(p rules.Period) bool {
			var rep wire.ComplianceReport
			r := e.do(t, "GET", "/api/v1/compliance/missed?region_id="+e.county.ID.String()+"&period="+p.Key(), admin, nil)
			r.json(t, &rep)
			return rep.Frozen
		}
		if !frozen(last) || frozen(this) {
			t.Errorf("last quarter frozen %v, this quarter frozen %v", frozen(last), frozen(this))
		}
		if r := e.do(t, "POST", "/api/v1/compliance/closes", admin, map[string]any{"region_id": e.county.ID, "period": last.Key()}); r.Status != http.StatusConflict {
			t.Errorf("closing an auto-closed period by hand: %d", r.Status)
		}
	})
}

// TestDutyGivenLaterIsJudged: a cadre given a duty with a rule of its own
// (unit members go to the village 4 days a month) is judged for it without
// waiting for a visit.
func TestDutyGivenLaterIsJudged(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		ctx := context.Background()
		today := domain.DateOf(e.app.Now())
		month, _ := rules.PeriodOf(rules.WindowMonth, today)
		e.judgeCompliance(t)
		duty := func() *rules.Status {
			sts, err := e.app.Store.StoredStatuses(ctx, e.cadreA.ID, today.Year)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range sts {
				if s.Status.RuleCode == rules.CodeUnitMembersMonthly4 && s.Status.Period.Key() == month.Key() {
					return &s.Status
				}
			}
			return nil
		}
		if st := duty(); st != nil {
			t.Fatalf("a cadre without the duty has its status: %+v", st)
		}
		r := e.do(t, "PATCH", "/api/v1/users/"+e.cadreA.ID.String(), e.login(t, "admin"), map[string]any{
			"duties": []map[string]any{{"kind": domain.DutyOrdinaryMember, "start_on": fmt.Sprintf("%d-01-01", today.Year)}}})
		if r.Status != http.StatusOK {
			t.Fatalf("give the duty: %d %s", r.Status, r.Body)
		}
		e.judgeCompliance(t)
		if st := duty(); st == nil || st.Required != 4 {
			t.Fatalf("after the duty was given: %+v", st)
		}
	})
}

// TestExportLinksPointAtThePublicAddress: a download's photo links point at
// --public-url when it is set, whatever Host the request named (a forged
// Host would otherwise write its own address into the file), and at the
// request's host when it is not.
func TestExportLinksPointAtThePublicAddress(t *testing.T) {
	for _, tc := range []struct{ public, want string }{
		{"https://fieldvisit.example.gov.cn", "https://fieldvisit.example.gov.cn/ui/photos/"},
		{"", "http://evil.example/ui/photos/"},
	} {
		cfg := testConfig(t, "sqlite")
		cfg.PublicURL = tc.public
		e := newTestEnvConfig(t, cfg, io.Discard)
		cadre := e.login(t, "cadre-a")
		v := visitChange(uuid.New(), e.householdA.Household.ID, "拍照", 34.7)
		v["data"].(map[string]any)["photos"] = []any{map[string]any{"photo_id": uuid.New(), "sha256": strings.Repeat("a", 64)}}
		e.push(t, cadre, uuid.NewString(), batch("phone-a", time.Now(), v)).pushResult(t)
		req := httptest.NewRequest("GET", "/api/v1/exports/visits?region_id="+e.villageA.ID.String()+"&from=2026-11-01&to=2026-11-30&format=csv", nil)
		req.Host = "evil.example"
		req.Header.Set("Authorization", "Bearer "+e.login(t, "supervisor-a"))
		rec := httptest.NewRecorder()
		e.app.Handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), tc.want) {
			t.Errorf("public URL %q: %d, links want %q in:\n%s", tc.public, rec.Code, tc.want, rec.Body.String())
		}
	}
}
