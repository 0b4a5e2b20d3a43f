package app

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/casework"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	"github.com/fieldvisit/fieldvisit/internal/testkit/storetest"
	"github.com/fieldvisit/fieldvisit/wire"
)

// checkedVisit is a visit two hours ago whose checklist answers every
// 两不愁三保障 item as met.
func checkedVisit(household uuid.UUID, now time.Time) map[string]any {
	v := visitAt(uuid.New(), household, now.Add(-2*time.Hour), domain.KindAssist)
	checklist := map[string]any{}
	for _, it := range domain.ChecklistItems {
		checklist[it.Code] = map[string]any{"answer": "met"}
	}
	v["data"].(map[string]any)["checklist"] = checklist
	return v
}

func candidateOf(t *testing.T, cs wire.ExitCandidates, household uuid.UUID) wire.ExitCandidate {
	t.Helper()
	for _, c := range cs.Items {
		if c.HouseholdID == household {
			return c
		}
	}
	t.Fatalf("household %s is not on the candidates list", household)
	return wire.ExitCandidate{}
}

func reasonOf(reasons []wire.ExitReason, code string) wire.ExitReason {
	for _, r := range reasons {
		if r.Code == code {
			return r
		}
	}
	return wire.ExitReason{}
}

// TestExitCandidatesAtTheThreshold: a household whose per-capita net
// income is exactly the year's standard qualifies, one a fen below does
// not, one never visited fails the checklist; each says why, and every
// page says how many of the whole list qualify. An admin's lower standard
// moves the one below; the list and the standard are the supervisors' and
// admins', scoped to their region.
func TestExitCandidatesAtTheThreshold(t *testing.T) {
	dialectsAt(t, caseworkClock, func(t *testing.T, e *testEnv) {
		admin, supervisor, cadre := e.login(t, "admin"), e.login(t, "supervisor-a"), e.login(t, "cadre-a")
		now := e.app.Now()
		at := e.householdA.Household.ID
		below := e.addHousehold(t, e.villageA, "王五", "41012219700101013").Household.ID
		unvisited := e.addHousehold(t, e.villageA, "赵六", "41012219700101021").Household.ID
		e.pair(t, below, e.cadreA.ID)
		e.push(t, cadre, uuid.NewString(), batch("phone-a", now, checkedVisit(at, now), checkedVisit(below, now))).pushResult(t)
		for h, perCapita := range map[uuid.UUID]int{at: 333_500, below: 333_499, unvisited: 500_000} {
			if r := e.do(t, "PUT", incomeAccountPath(h, 2026), supervisor, map[string]any{"version": 0, "wages_fen": perCapita}); r.Status != http.StatusOK {
				t.Fatalf("account: %d %s", r.Status, r.Body)
			}
		}
		list := func(token string) wire.ExitCandidates {
			t.Helper()
			var cs wire.ExitCandidates
			r := e.do(t, "GET", "/api/v1/exit-candidates?year=2026&region_id="+e.villageA.ID.String(), token, nil)
			if r.Status != http.StatusOK {
				t.Fatalf("candidates: %d %s", r.Status, r.Body)
			}
			r.json(t, &cs)
			return cs
		}
		// A client paging the list reads on every page how many of the
		// whole list qualify, without fetching the others.
		qualifyingOnEveryPage := func(want int) {
			t.Helper()
			const limit = 2
			qualifying, said := e.candidatePages(t, supervisor, e.villageA.ID, limit)
			if len(said) < 2 || qualifying != int64(want) {
				t.Fatalf("%d pages of %d with %d qualifying, want several pages and %d", len(said), limit, qualifying, want)
			}
			for i, n := range said {
				if n != qualifying {
					t.Errorf("page %d says %d qualify, the pages hold %d", i+1, n, qualifying)
				}
			}
		}
		cs := list(supervisor)
		if cs.Standard.PerCapitaFen != 333_500 || !cs.Standard.Builtin || len(cs.Standard.Indicators) != 10 {
			t.Errorf("the default standard: %+v", cs.Standard)
		}
		qualifyingOnEveryPage(1)
		for _, tc := range []struct {
			name      string
			household uuid.UUID
			qualifies bool
			failing   string
		}{
			{"exactly at 3335.00 yuan", at, true, ""},
			{"one fen below", below, false, "income"},
			{"never visited", unvisited, false, "food"},
		} {
			c := candidateOf(t, cs, tc.household)
			if c.Qualifies != tc.qualifies || (tc.failing != "" && reasonOf(c.Reasons, tc.failing).Met) {
				t.Errorf("%s: qualifies %v, reasons %+v", tc.name, c.Qualifies, c.Reasons)
			}
			if r := reasonOf(c.Reasons, "livelihood"); !r.Pending || r.ReasonZH == "" {
				t.Errorf("%s: the indicator confirmed at the village review: %+v", tc.name, r)
			}
		}

		lower := cs.Standard
		lower.PerCapitaFen = 333_499
		for _, tc := range []struct {
			name, token string
			edit        func(*wire.ExitStandard)
			status      int
			field       string
		}{
			{"a supervisor", supervisor, func(*wire.ExitStandard) {}, http.StatusForbidden, ""},
			{"an unknown check", admin, func(s *wire.ExitStandard) {
				s.Indicators = []wire.ExitIndicator{{Code: "x", NameZH: "某项", Check: "guess"}}
			},
				http.StatusUnprocessableEntity, "/indicators/0/check"},
			{"no amount", admin, func(s *wire.ExitStandard) { s.PerCapitaFen = 0 }, http.StatusUnprocessableEntity, "/per_capita_fen"},
			{"a stale version", admin, func(s *wire.ExitStandard) { s.Version = 4 }, http.StatusConflict, ""},
			{"lowered", admin, func(*wire.ExitStandard) {}, http.StatusOK, ""},
			{"lowered again from the default", admin, func(*wire.ExitStandard) {}, http.StatusConflict, ""},
		} {
			body := lower
			body.Indicators = append([]wire.ExitIndicator(nil), lower.Indicators...)
			tc.edit(&body)
			r := e.do(t, "PUT", "/api/v1/exit-standards/2026", tc.token, body)
			if r.Status != tc.status {
				t.Errorf("%s: %d %s, want %d", tc.name, r.Status, r.Body, tc.status)
			} else if tc.field != "" && !r.problem(t).hasField(tc.field) {
				t.Errorf("%s: %s does not name %s", tc.name, r.Body, tc.field)
			}
		}
		if c := candidateOf(t, list(supervisor), below); !c.Qualifies {
			t.Errorf("one fen below the old standard, at the new one: %+v", c.Reasons)
		}
		qualifyingOnEveryPage(2)

		for _, tc := range []struct {
			name, token, query string
			status             int
		}{
			{"a cadre", cadre, "region_id=" + e.villageA.ID.String(), http.StatusForbidden},
			{"an inspector", e.login(t, "inspector"), "region_id=" + e.villageA.ID.String(), http.StatusForbidden},
			{"another village's supervisor", e.login(t, "supervisor-b"), "region_id=" + e.villageA.ID.String(), http.StatusNotFound},
			{"no region", supervisor, "year=2026", http.StatusUnprocessableEntity},
			{"a year before the register", supervisor, "year=2010&region_id=" + e.villageA.ID.String(), http.StatusUnprocessableEntity},
		} {
			if r := e.do(t, "GET", "/api/v1/exit-candidates?"+tc.query, tc.token, nil); r.Status != tc.status {
				t.Errorf("%s: %d %s, want %d", tc.name, r.Status, r.Body, tc.status)
			}
		}
	})
}

func procedureStep(version int64, code, on string, docs ...string) map[string]any {
	return map[string]any{"version": version, "step": code, "done_on": on, "document_ids": docs}
}

// TestExitProcedure walks a household through 两公示一公告: every step
// allowed and refused, and only the last one makes it exited with its
// year, through the register (status history, version).
func TestExitProcedure(t *testing.T) {
	dialectsAt(t, caseworkClock, func(t *testing.T, e *testEnv) {
		supervisor := e.login(t, "supervisor-a")
		hA := e.householdA.Household.ID
		qualify(t, e, hA)
		start := "/api/v1/households/" + hA.String() + "/procedures"
		for _, tc := range []struct {
			name, token string
			body        map[string]any
			status      int
		}{
			{"a cadre", e.login(t, "cadre-a"), map[string]any{"kind": "exit", "year": 2026}, http.StatusForbidden},
			{"another village's supervisor", e.login(t, "supervisor-b"), map[string]any{"kind": "exit", "year": 2026}, http.StatusNotFound},
			{"an unknown kind", supervisor, map[string]any{"kind": "graduation", "year": 2026}, http.StatusUnprocessableEntity},
			{"an exit next year", supervisor, map[string]any{"kind": "exit", "year": 2027}, http.StatusUnprocessableEntity},
			{"identifying a registered household", supervisor, map[string]any{"kind": "identification", "year": 2026, "poverty_type": "ordinary"},
				http.StatusUnprocessableEntity},
			{"a removal without reason", supervisor, map[string]any{"kind": "removal", "year": 2026}, http.StatusUnprocessableEntity},
		} {
			if r := e.do(t, "POST", start, tc.token, tc.body); r.Status != tc.status {
				t.Errorf("%s: %d %s, want %d", tc.name, r.Status, r.Body, tc.status)
			}
		}
		var pr wire.Procedure
		r := e.do(t, "POST", start, supervisor, map[string]any{"kind": "exit", "year": 2026})
		r.json(t, &pr)
		if r.Status != http.StatusCreated || pr.NextStep == nil || *pr.NextStep != "village_review" {
			t.Fatalf("start: %d %s", r.Status, r.Body)
		}
		if r := e.do(t, "POST", start, supervisor, map[string]any{"kind": "removal", "year": 2026, "reason": "x"}); r.Status != http.StatusConflict {
			t.Errorf("a second open procedure: %d", r.Status)
		}
		steps := "/api/v1/procedures/" + pr.ID.String() + "/steps"
		review := procedureStep(1, "village_review", "2026-07-01")
		review["confirmed"] = []string{"livelihood", "agreement"}
		unconfirmed := procedureStep(1, "village_review", "2026-07-01")
		unconfirmed["confirmed"] = []string{"livelihood"}
		before2013 := procedureStep(1, "village_review", "2012-12-31")
		before2013["confirmed"] = []string{"livelihood", "agreement"}
		photo := procedureStep(3, "second_notice", "2026-07-09")
		photo["photo_ids"] = []uuid.UUID{uuid.New()}
		for _, tc := range []struct {
			name   string
			body   map[string]any
			status int
			field  string
		}{
			{"the first notice before the review", procedureStep(1, "first_notice", "2026-07-01", "村公示-1"), http.StatusConflict, ""},
			{"a step of another kind", procedureStep(1, "household_check", "2026-07-01"), http.StatusUnprocessableEntity, "/step"},
			{"a review not confirming every indicator", unconfirmed, http.StatusUnprocessableEntity, "/confirmed"},
			{"a review in the future", procedureStep(1, "village_review", "2026-08-16"), http.StatusUnprocessableEntity, "/done_on"},
			{"a review before targeted poverty alleviation began", before2013, http.StatusUnprocessableEntity, "/done_on"},
			{"the review", review, http.StatusOK, ""},
			{"the review again", review, http.StatusConflict, ""},
			{"a notice with nothing posted", procedureStep(2, "first_notice", "2026-07-02"), http.StatusUnprocessableEntity, "/document_ids"},
			{"a notice before the review", procedureStep(2, "first_notice", "2026-06-30", "村公示-1"), http.StatusUnprocessableEntity, "/done_on"},
			{"the first notice", procedureStep(2, "first_notice", "2026-07-02", "村公示-1"), http.StatusOK, ""},
			{"the second notice six days on", procedureStep(3, "second_notice", "2026-07-08", "镇公示-1"), http.StatusUnprocessableEntity, "/done_on"},
			{"a stale version", procedureStep(2, "second_notice", "2026-07-09", "镇公示-1"), http.StatusConflict, ""},
			{"the announcement before the second notice", procedureStep(3, "announcement", "2026-07-20", "县公告-1"), http.StatusConflict, ""},
			{"the second notice seven days on, a photo of it", photo, http.StatusOK, ""},
		} {
			r := e.do(t, "POST", steps, supervisor, tc.body)
			if r.Status != tc.status {
				t.Errorf("%s: %d %s, want %d", tc.name, r.Status, r.Body, tc.status)
			} else if tc.field != "" && !r.problem(t).hasField(tc.field) {
				t.Errorf("%s: %s does not name %s", tc.name, r.Body, tc.field)
			}
		}
		var file wire.HouseholdFile
		e.do(t, "GET", "/api/v1/households/"+hA.String(), supervisor, nil).json(t, &file)
		if file.Status != domain.StatusRegistered {
			t.Fatalf("exited before the announcement: %s", file.Status)
		}

		r = e.do(t, "POST", steps, supervisor, procedureStep(4, "announcement", "2026-07-16", "县公告-1"))
		r.json(t, &pr)
		if r.Status != http.StatusOK || pr.Status != casework.ProcedureCompleted || pr.NextStep != nil || len(pr.Steps) != 4 {
			t.Fatalf("announcement: %d %s", r.Status, r.Body)
		}
		e.do(t, "GET", "/api/v1/households/"+hA.String(), supervisor, nil).json(t, &file)
		last := file.StatusHistory[len(file.StatusHistory)-1]
		if file.Status != domain.StatusExited || file.ExitYear == nil || *file.ExitYear != 2026 || last.To != domain.StatusExited ||
			last.EffectiveOn != (domain.Date{Year: 2026, Month: time.July, Day: 16}) || file.Version != e.householdA.Household.Version+1 {
			t.Errorf("after the announcement: status %s exit %v, history %+v, version %d", file.Status, file.ExitYear, file.StatusHistory, file.Version)
		}
		if r := e.do(t, "POST", steps, supervisor, procedureStep(5, "announcement", "2026-07-20", "县公告-2")); r.Status != http.StatusConflict {
			t.Errorf("a step after completion: %d", r.Status)
		}
		if r := e.do(t, "GET", "/api/v1/procedures/"+pr.ID.String(), e.login(t, "supervisor-b"), nil); r.Status != http.StatusNotFound {
			t.Errorf("another village's supervisor reads the procedure: %d", r.Status)
		}
		// The household's procedures as the console lists them: the
		// completed one with its four steps, for its supervisor only.
		ctx := context.Background()
		listed, err := e.app.Casework.HouseholdProcedures(ctx, e.principalOf(t, "supervisor-a"), hA)
		if err != nil || len(listed) != 1 || listed[0].ID != pr.ID || len(listed[0].Steps) != 4 || listed[0].Steps[3].Code != "announcement" {
			t.Errorf("the household's procedures: %+v %v", listed, err)
		}
		for who, code := range map[string]domain.Code{"supervisor-b": domain.CodeNotFound, "cadre-a": domain.CodeForbidden} {
			if _, err := e.app.Casework.HouseholdProcedures(ctx, e.principalOf(t, who), hA); !domain.IsCode(err, code) {
				t.Errorf("%s lists the household's procedures: %v, want %s", who, err, code)
			}
		}
	})
}

// qualify makes a household meet 2026's default exit standard: every
// 两不愁三保障 item met at a visit, 3335.00 yuan per head.
func qualify(t *testing.T, e *testEnv, household uuid.UUID) {
	t.Helper()
	now := e.app.Now()
	e.push(t, e.login(t, "cadre-a"), uuid.NewString(), batch("phone-a", now, checkedVisit(household, now))).pushResult(t)
	if r := e.do(t, "PUT", incomeAccountPath(household, 2026), e.login(t, "supervisor-a"), map[string]any{"version": 0, "wages_fen": 333_500}); r.Status != http.StatusOK {
		t.Fatalf("account: %d %s", r.Status, r.Body)
	}
}

// unmet are the Chinese messages of a refusal's errors on field.
func unmet(t *testing.T, r response, field string) string {
	t.Helper()
	var msgs []string
	for _, fe := range r.problem(t).Errors {
		if fe.Field != field || fe.Reason != "not_qualified" {
			t.Errorf("a refused exit names %s (%s), want %s not_qualified", fe.Field, fe.Reason, field)
		}
		msgs = append(msgs, fe.MessageZH)
	}
	return strings.Join(msgs, "；")
}

// TestAnExitNeedsAHouseholdThatQualifies: the exit procedure judges the
// household as the candidates list does. One below the income standard
// with a housing problem and a serious illness seen today, not resolved,
// cannot start an exit — 422 on /year naming each unmet indicator; one
// that qualifies starts, but if a visit finds its housing unsafe and a job
// lost while the notices stand, the announcement is refused on /step and
// it stays registered until the problem is fixed and the risk resolved.
func TestAnExitNeedsAHouseholdThatQualifies(t *testing.T) {
	dialectsAt(t, caseworkClock, func(t *testing.T, e *testEnv) {
		supervisor, cadre := e.login(t, "supervisor-a"), e.login(t, "cadre-a")
		now := e.app.Now()
		hA := e.householdA.Household.ID
		start := "/api/v1/households/" + hA.String() + "/procedures"
		// housing is a visit minutesAgo whose checklist answers the housing
		// item, every other item met.
		housing := func(minutesAgo int, answer string, triggers ...string) map[string]any {
			v := visitAt(uuid.New(), hA, now.Add(-time.Duration(minutesAgo)*time.Minute), domain.KindAssist)
			data := v["data"].(map[string]any)
			checklist := map[string]any{}
			for _, it := range domain.ChecklistItems {
				checklist[it.Code] = map[string]any{"answer": "met"}
			}
			checklist["housing"] = map[string]any{"answer": answer, "note": "墙体裂缝"}
			data["checklist"] = checklist
			ts := []any{}
			for _, code := range triggers {
				ts = append(ts, map[string]any{"code": code, "note": "户主确诊大病"})
			}
			data["risk_triggers"] = ts
			return v
		}
		e.push(t, cadre, uuid.NewString(), batch("phone-a", now, housing(300, "problem", "serious_illness"))).pushResult(t)
		if r := e.do(t, "PUT", incomeAccountPath(hA, 2026), supervisor, map[string]any{"version": 0, "wages_fen": 258_001}); r.Status != http.StatusOK {
			t.Fatalf("account: %d %s", r.Status, r.Body)
		}
		r := e.do(t, "POST", start, supervisor, map[string]any{"kind": "exit", "year": 2026})
		if r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("an exit for a household below the standard: %d %s", r.Status, r.Body)
		}
		msg := unmet(t, r, "/year")
		for _, want := range []string{"人均纯收入稳定超过脱贫标准", "2580.01元", "3335.00元", "住房安全有保障",
			"未达标：无未消除的返贫风险（存在未消除的返贫风险：大病（2026-08-15 登记））"} {
			if !strings.Contains(msg, want) {
				t.Errorf("the refusal %q does not say %q", msg, want)
			}
		}
		if strings.Contains(msg, "不愁吃") {
			t.Errorf("the refusal names a met indicator: %q", msg)
		}
		if prs, err := e.app.Casework.HouseholdProcedures(context.Background(), e.principalOf(t, "supervisor-a"), hA); err != nil || len(prs) != 0 {
			t.Errorf("a refused exit wrote a procedure: %+v %v", prs, err)
		}

		// clearRisks resolves the household's open risks, as its supervisor
		// does once the risk is gone.
		clearRisks := func() {
			t.Helper()
			for _, w := range e.warningsOf(t, "supervisor-a", "?state=open&household_id="+hA.String()) {
				body := map[string]any{"version": w.Version, "resolution": "cleared", "note": "风险已消除"}
				if r := e.do(t, "POST", "/api/v1/risk-warnings/"+w.ID.String()+"/resolve", supervisor, body); r.Status != http.StatusOK {
					t.Fatalf("resolve %s: %d %s", w.Trigger, r.Status, r.Body)
				}
			}
		}
		// It qualifies: income at the standard, the housing fixed, the
		// illness cured.
		var acc wire.IncomeAccount
		e.do(t, "GET", incomeAccountPath(hA, 2026), supervisor, nil).json(t, &acc)
		if r := e.do(t, "PUT", incomeAccountPath(hA, 2026), supervisor, map[string]any{"version": acc.Version, "wages_fen": 333_500}); r.Status != http.StatusOK {
			t.Fatalf("account: %d %s", r.Status, r.Body)
		}
		e.push(t, cadre, uuid.NewString(), batch("phone-a", now, housing(220, "met"))).pushResult(t)
		if r := e.do(t, "POST", start, supervisor, map[string]any{"kind": "exit", "year": 2026}); r.Status != http.StatusUnprocessableEntity ||
			unmet(t, r, "/year") != "未达标：无未消除的返贫风险（存在未消除的返贫风险：大病（2026-08-15 登记））" {
			t.Fatalf("an exit with the illness open: %d %s", r.Status, r.Body)
		}
		clearRisks()
		var pr wire.Procedure
		r = e.do(t, "POST", start, supervisor, map[string]any{"kind": "exit", "year": 2026})
		if r.Status != http.StatusCreated {
			t.Fatalf("an exit for a household that qualifies: %d %s", r.Status, r.Body)
		}
		r.json(t, &pr)
		steps := "/api/v1/procedures/" + pr.ID.String() + "/steps"
		review := procedureStep(1, "village_review", "2026-07-01")
		review["confirmed"] = []string{"livelihood", "agreement"}
		for _, body := range []map[string]any{review, procedureStep(2, "first_notice", "2026-07-02", "村公示-1"),
			procedureStep(3, "second_notice", "2026-07-09", "镇公示-1")} {
			if r := e.do(t, "POST", steps, supervisor, body); r.Status != http.StatusOK {
				t.Fatalf("%v: %d %s", body["step"], r.Status, r.Body)
			}
		}
		// While the notices stood, a visit found the housing unsafe again
		// and the son's job lost.
		e.push(t, cadre, uuid.NewString(), batch("phone-a", now, housing(140, "problem", "job_loss"))).pushResult(t)
		r = e.do(t, "POST", steps, supervisor, procedureStep(4, "announcement", "2026-07-16", "县公告-1"))
		if r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("the announcement for a household that no longer qualifies: %d %s", r.Status, r.Body)
		}
		if msg := unmet(t, r, "/step"); !strings.Contains(msg, "住房安全有保障") || !strings.Contains(msg, "失业/务工中断（2026-08-15 登记）") ||
			strings.Contains(msg, "人均纯收入") {
			t.Errorf("the announcement's refusal: %q", msg)
		}
		var file wire.HouseholdFile
		e.do(t, "GET", "/api/v1/households/"+hA.String(), supervisor, nil).json(t, &file)
		if file.Status != domain.StatusRegistered {
			t.Errorf("a refused announcement moved the household to %s", file.Status)
		}
		var read wire.Procedure
		e.do(t, "GET", "/api/v1/procedures/"+pr.ID.String(), supervisor, nil).json(t, &read)
		if len(read.Steps) != 3 || read.Status != casework.ProcedureOpen {
			t.Errorf("a refused announcement wrote the procedure: %d steps, %s", len(read.Steps), read.Status)
		}

		e.push(t, cadre, uuid.NewString(), batch("phone-a", now, housing(60, "met"))).pushResult(t)
		if r := e.do(t, "POST", steps, supervisor, procedureStep(4, "announcement", "2026-07-16", "县公告-1")); r.Status != http.StatusUnprocessableEntity ||
			!strings.Contains(unmet(t, r, "/step"), "失业/务工中断") {
			t.Fatalf("the announcement with the job loss open: %d %s", r.Status, r.Body)
		}
		clearRisks()
		if r := e.do(t, "POST", steps, supervisor, procedureStep(4, "announcement", "2026-07-16", "县公告-1")); r.Status != http.StatusOK {
			t.Errorf("the announcement once it qualifies again: %d %s", r.Status, r.Body)
		}
		e.do(t, "GET", "/api/v1/households/"+hA.String(), supervisor, nil).json(t, &file)
		if file.Status != domain.StatusExited {
			t.Errorf("after the announcement: %s", file.Status)
		}
	})
}

// TestIdentificationAndRemoval: the same mechanism registers a general
// household with its poverty type and removes a registered one with its
// reason, each only at its announcement.
func TestIdentificationAndRemoval(t *testing.T) {
	dialectsAt(t, caseworkClock, func(t *testing.T, e *testEnv) {
		supervisor := e.login(t, "supervisor-a")
		// entered as general before the identification's steps (from June):
		// the announcement's status move may not be dated before it
		general := storetest.Must(e.app.Registry.CreateHousehold(context.Background(), e.admin, registry.NewHousehold{RegionID: e.villageA.ID,
			Status: domain.StatusGeneral, EffectiveOn: domain.Date{Year: 2026, Month: time.May, Day: 1},
			Details: domain.HouseholdDetails{HeadName: "钱七"}}))(t).Household.ID
		for _, tc := range []struct {
			household uuid.UUID
			start     map[string]any
			steps     []string
			status    string
		}{
			{general, map[string]any{"kind": "identification", "year": 2026, "poverty_type": "wubao"},
				[]string{"household_check", "democratic_review", "first_notice", "second_notice", "announcement"}, domain.StatusRegistered},
			{e.householdA.Household.ID, map[string]any{"kind": "removal", "year": 2026, "reason": "家有营运车辆，不符合识别标准"},
				[]string{"review", "democratic_review", "notice", "announcement"}, domain.StatusRemoved},
		} {
			var pr wire.Procedure
			r := e.do(t, "POST", "/api/v1/households/"+tc.household.String()+"/procedures", supervisor, tc.start)
			r.json(t, &pr)
			if r.Status != http.StatusCreated {
				t.Fatalf("%s: start %d %s", tc.start["kind"], r.Status, r.Body)
			}
			day := domain.Date{Year: 2026, Month: time.June, Day: 1}
			for i, code := range tc.steps {
				r := e.do(t, "POST", "/api/v1/procedures/"+pr.ID.String()+"/steps", supervisor, procedureStep(int64(i+1), code, day.String(), fmt.Sprintf("文件-%d", i)))
				if r.Status != http.StatusOK {
					t.Fatalf("%s %s: %d %s", tc.start["kind"], code, r.Status, r.Body)
				}
				day = day.AddDays(casework.NoticeDays)
			}
			var file wire.HouseholdFile
			e.do(t, "GET", "/api/v1/households/"+tc.household.String(), supervisor, nil).json(t, &file)
			if file.Status != tc.status {
				t.Errorf("%s: status %s, want %s", tc.start["kind"], file.Status, tc.status)
			}
			if tc.start["kind"] == "identification" && file.PovertyType != "wubao" {
				t.Errorf("identified with poverty type %q", file.PovertyType)
			}
		}
	})
}

// candidatePages pages through region's exit candidates limit at a time as
// tok: how many of the pages' households qualify, and the qualifying
// count each page says (of the whole list). A page answered while the
// whole list is still being judged (null) is asked again, as the contract
// tells a client to.
func (e *testEnv) candidatePages(t *testing.T, tok string, region uuid.UUID, limit int) (qualifying int64, said []int64) {
	t.Helper()
	for offset := 0; ; offset += limit {
		var cs wire.ExitCandidates
		for try := 0; try == 0 || cs.Qualifying == nil; try++ {
			if try > 0 {
				if try == 200 {
					t.Fatalf("candidates from %d: no qualifying count after %d requests", offset, try)
				}
				time.Sleep(50 * time.Millisecond)
			}
			cs = wire.ExitCandidates{}
			r := e.do(t, "GET", fmt.Sprintf("/api/v1/exit-candidates?year=2026&region_id=%s&limit=%d&offset=%d", region, limit, offset), tok, nil)
			if r.Status != http.StatusOK {
				t.Fatalf("candidates from %d: %d %s", offset, r.Status, r.Body)
			}
			r.json(t, &cs)
		}
		for _, c := range cs.Items {
			if c.Qualifies {
				qualifying++
			}
		}
		said = append(said, *cs.Qualifying)
		if offset+limit >= int(cs.Total) {
			return qualifying, said
		}
	}
}

// TestAnAnnouncementBeforeTheLastStatusChangeIsRefused: the announcement
// moves the status on its own date, and the register refuses a move dated
// before the household's last one (householdA was registered 2024-03-01),
// which would sort behind it in the history the rules read. The refusal
// names /done_on, the field the supervisor typed, and nothing moves.
func TestAnAnnouncementBeforeTheLastStatusChangeIsRefused(t *testing.T) {
	dialectsAt(t, caseworkClock, func(t *testing.T, e *testEnv) {
		supervisor := e.login(t, "supervisor-a")
		hA := e.householdA.Household.ID
		qualify(t, e, hA)
		var pr wire.Procedure
		e.do(t, "POST", "/api/v1/households/"+hA.String()+"/procedures", supervisor, map[string]any{"kind": "exit", "year": 2026}).json(t, &pr)
		steps := "/api/v1/procedures/" + pr.ID.String() + "/steps"
		review := procedureStep(1, "village_review", "2023-12-01")
		review["confirmed"] = []string{"livelihood", "agreement"}
		for _, body := range []map[string]any{review, procedureStep(2, "first_notice", "2023-12-02", "村公示-1"),
			procedureStep(3, "second_notice", "2023-12-09", "镇公示-1")} {
			if r := e.do(t, "POST", steps, supervisor, body); r.Status != http.StatusOK {
				t.Fatalf("%s: %d %s", body["step"], r.Status, r.Body)
			}
		}
		r := e.do(t, "POST", steps, supervisor, procedureStep(4, "announcement", "2023-12-16", "县公告-1"))
		if r.Status != http.StatusUnprocessableEntity || !r.problem(t).hasField("/done_on") {
			t.Fatalf("an announcement before the registration: %d %s, want 422 naming /done_on", r.Status, r.Body)
		}
		var file wire.HouseholdFile
		e.do(t, "GET", "/api/v1/households/"+hA.String(), supervisor, nil).json(t, &file)
		if file.Status != domain.StatusRegistered || len(file.StatusHistory) != 1 {
			t.Errorf("after the refused announcement: status %s, history %+v", file.Status, file.StatusHistory)
		}
	})
}
