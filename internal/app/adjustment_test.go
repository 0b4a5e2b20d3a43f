package app

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	"github.com/fieldvisit/fieldvisit/internal/testkit/storetest"
	"github.com/fieldvisit/fieldvisit/wire"
)

// adjustmentTown is the test county's town seen by the adjustment round:
// a town supervisor, a second cadre in village A with no households yet,
// and a supervisor of another town.
type adjustmentTown struct {
	supervisor, otherTown, cadreA2 string
	cadreA2ID                      uuid.UUID
}

func (e *testEnv) adjustmentTown(t *testing.T) adjustmentTown {
	t.Helper()
	e.addUser(t, "supervisor-town", domain.RoleSupervisor, e.town, nil, "")
	other := e.addRegion(t, e.county, domain.LevelTown, "410122101000", "南关镇")
	e.addUser(t, "supervisor-other-town", domain.RoleSupervisor, other, nil, "")
	a2 := e.addUser(t, "cadre-a2", domain.RoleCadre, e.villageA, &e.unitA, domain.RankStaff)
	return adjustmentTown{supervisor: e.login(t, "supervisor-town"), otherTown: e.login(t, "supervisor-other-town"), cadreA2: e.login(t, "cadre-a2"),
		cadreA2ID: a2.ID}
}

// numberedHousehold registers a household with a 户编号 and a status, as the admin.
func (e *testEnv) numberedHousehold(t *testing.T, r domain.Region, head, id17, number, status, povertyType string) domain.Household {
	t.Helper()
	idn := id17 + string(domain.IDNumberCheckChar(id17))
	return storetest.Must(e.app.Registry.CreateHousehold(context.Background(), e.admin, registry.NewHousehold{RegionID: r.ID, Status: status,
		PovertyType: povertyType, EffectiveOn: domain.Date{Year: 2024, Month: time.March, Day: 1},
		Details: domain.HouseholdDetails{Number: number, HeadName: head, Causes: []string{"illness"}},
		Members: []domain.MemberDetails{{Name: head, Relation: "head", IDNumber: idn}}}))(t).Household
}

func adjustmentPath(batch uuid.UUID, rest ...string) string {
	return "/api/v1/adjustment-batches/" + strings.Join(append([]string{batch.String()}, rest...), "/")
}

// batchToRepair is the town's batch of the year, built when the town has
// one household without a cadre: its re-pairing item waits for review.
func (e *testEnv) batchToRepair(t *testing.T) (adjustmentTown, wire.AdjustmentBatch, wire.AdjustmentItem) {
	t.Helper()
	town := e.adjustmentTown(t)
	unpaired := e.addHousehold(t, e.villageA, "吴十", "41012219800101061").Household.ID
	var b wire.AdjustmentBatch
	e.do(t, "POST", "/api/v1/adjustment-batches", town.supervisor, map[string]any{"region_id": e.town.ID, "year": 2026}).json(t, &b)
	return town, b, itemOf(t, b, unpaired, "repairing")
}

func itemOf(t *testing.T, b wire.AdjustmentBatch, household uuid.UUID, kind string) wire.AdjustmentItem {
	t.Helper()
	for _, it := range b.Items {
		if it.HouseholdID == household && it.Kind == kind {
			return it
		}
	}
	t.Fatalf("no %s item for household %s in %+v", kind, household, b.Items)
	return wire.AdjustmentItem{}
}

// TestAdjustmentRound builds a town's batch from its candidate lists (a
// qualifying exit candidate, an edge household, an unpaired household),
// adds a type change from a spreadsheet (a sheet with one bad row adds
// nothing), approves part of it and then the rest: each applied change is
// in the household's history and in the phones' change feed as if done by
// hand, approving twice changes nothing, an item whose household changed
// since is stale, and another town's supervisor finds nothing.
func TestAdjustmentRound(t *testing.T) {
	dialectsAt(t, caseworkClock, func(t *testing.T, e *testEnv) {
		ctx := context.Background()
		town := e.adjustmentTown(t)
		now := e.app.Now()
		exiting := e.householdA.Household.ID
		e.push(t, e.login(t, "cadre-a"), uuid.NewString(), batch("phone-a", now, checkedVisit(exiting, now))).pushResult(t)
		if r := e.do(t, "PUT", incomeAccountPath(exiting, 2026), town.supervisor, map[string]any{"version": 0, "wages_fen": 400_000}); r.Status != http.StatusOK {
			t.Fatalf("account: %d %s", r.Status, r.Body)
		}
		edge := e.numberedHousehold(t, e.villageA, "钱七", "41012219800101031", "A-EDGE-1", domain.StatusEdge, "")
		unpaired := e.numberedHousehold(t, e.villageA, "孙八", "41012219800101041", "A-REG-2", domain.StatusRegistered, domain.PovertyOrdinary)
		typed := e.householdB.Household
		typed = storetest.Must(e.app.Registry.UpdateHousehold(ctx, e.admin, typed.ID, typed.Version, func(d domain.HouseholdDetails, _ *domain.FieldErrors) domain.HouseholdDetails {
			d.Number = "B-001"
			return d
		}))(t)

		r := e.do(t, "POST", "/api/v1/adjustment-batches", town.supervisor, map[string]any{"region_id": e.town.ID, "year": 2026})
		if r.Status != http.StatusCreated {
			t.Fatalf("build: %d %s", r.Status, r.Body)
		}
		var b wire.AdjustmentBatch
		r.json(t, &b)
		exit, ident, repair := itemOf(t, b, exiting, "exit"), itemOf(t, b, edge.ID, "identification"), itemOf(t, b, unpaired.ID, "repairing")
		if len(b.Items) != 3 || b.Counts["pending"] != 3 || b.Status != "open" {
			t.Errorf("the batch: %d items, counts %v, %s", len(b.Items), b.Counts, b.Status)
		}
		// The exit's evidence: one line for each of the default standard's ten indicators.
		if len(exit.Evidence) != 10 || ident.PovertyType != domain.PovertyOrdinary || repair.CadreID == nil || *repair.CadreID != town.cadreA2ID {
			t.Errorf("proposals: exit evidence %v, identification type %q, re-pairing with %v (want the cadre with the fewest households, %s)",
				exit.Evidence, ident.PovertyType, repair.CadreID, town.cadreA2ID)
		}
		if r := e.do(t, "POST", "/api/v1/adjustment-batches", town.supervisor, map[string]any{"region_id": e.town.ID, "year": 2026}); r.Status != http.StatusConflict {
			t.Errorf("a second open batch of the town and year: %d %s", r.Status, r.Body)
		}

		for _, tc := range []struct {
			name, method, path, token string
			status                    int
		}{
			{"another town's supervisor reads", "GET", adjustmentPath(b.ID), town.otherTown, http.StatusNotFound},
			{"another town's supervisor approves", "POST", adjustmentPath(b.ID, "items", repair.ID.String(), "approve"), town.otherTown, http.StatusNotFound},
			{"another town's supervisor approves all", "POST", adjustmentPath(b.ID, "approve"), town.otherTown, http.StatusNotFound},
			{"a village's supervisor reads the town's", "GET", adjustmentPath(b.ID), e.login(t, "supervisor-a"), http.StatusNotFound},
			{"a cadre", "GET", adjustmentPath(b.ID), town.cadreA2, http.StatusForbidden},
			{"an unknown item", "POST", adjustmentPath(b.ID, "items", uuid.NewString(), "approve"), town.supervisor, http.StatusNotFound},
		} {
			if r := e.do(t, tc.method, tc.path, tc.token, nil); r.Status != tc.status {
				t.Errorf("%s: %d %s, want %d", tc.name, r.Status, r.Body, tc.status)
			}
		}
		if got := listing[wire.AdjustmentBatch](t, e, town.otherTown, "/api/v1/adjustment-batches"); len(got) != 0 {
			t.Errorf("another town's supervisor lists %d batches", len(got))
		}

		// Part of the batch: the re-pairing, twice. The cadre's phone has
		// pulled everything before.
		_, cursorA2 := e.pullAll(t, town.cadreA2, "", 500)
		_, cursorB := e.pullAll(t, e.login(t, "cadre-b"), "", 500)
		pairings := e.count(t, "pairings")
		var applied wire.AdjustmentItem
		for range 2 {
			r := e.do(t, "POST", adjustmentPath(b.ID, "items", repair.ID.String(), "approve"), town.supervisor, nil)
			if r.Status != http.StatusOK {
				t.Fatalf("approve: %d %s", r.Status, r.Body)
			}
			r.json(t, &applied)
		}
		if applied.State != "applied" || applied.ResultID == nil || e.count(t, "pairings") != pairings+1 {
			t.Errorf("approved twice: %+v, %d pairings more", applied, e.count(t, "pairings")-pairings)
		}
		changes, _ := e.pullAll(t, town.cadreA2, cursorA2, 500)
		if !has(changes, "pairing", wire.OpUpsert, *applied.ResultID) || !has(changes, "household", wire.OpUpsert, unpaired.ID) {
			t.Errorf("cadre-a2's pull misses the new pairing or its household")
		}

		// The edge household moved on since the proposal: its item is stale.
		if r := e.do(t, "PATCH", "/api/v1/households/"+edge.ID.String(), town.supervisor, map[string]any{"version": edge.Version, "income_notes": "务工收入"}); r.Status != http.StatusOK {
			t.Fatalf("edit: %d %s", r.Status, r.Body)
		}
		procedures := e.count(t, "casework_procedures")
		r = e.do(t, "POST", adjustmentPath(b.ID, "items", ident.ID.String(), "approve"), town.supervisor, nil)
		var stale wire.AdjustmentItem
		r.json(t, &stale)
		if r.Status != http.StatusOK || stale.State != "stale" || !strings.Contains(stale.StateReason, "版本") || e.count(t, "casework_procedures") != procedures {
			t.Errorf("a stale item: %d %+v, %d procedures more", r.Status, stale, e.count(t, "casework_procedures")-procedures)
		}

		// A sheet with a bad row adds nothing; the good sheet adds its row.
		items := e.count(t, "adjustment_items")
		sheet := "户编号,调整类型,贫困户属性,帮扶责任人,调整原因,依据\n" +
			"B-001,属性变更,五保贫困户,,经民政核定转为特困供养,县民政局2026年第12号文\n"
		for _, tc := range []struct {
			name, rows string
			field      string
		}{
			{"an unknown household", "NOPE-9,退出,,,收入达标,\n", "row 3, 户编号"},
			{"an unknown kind", "A-REG-2,升级,,,说不清,\n", "row 3, 调整类型"},
			{"a re-pairing without its cadre", "A-REG-2,结对调整,,,干部调整,\n", "row 3, 帮扶责任人"},
			{"no reason", "A-REG-2,清退,,,,\n", "row 3, 调整原因"},
		} {
			r := e.do(t, "POST", adjustmentPath(b.ID, "imports"), town.supervisor, sheet+tc.rows)
			if r.Status != http.StatusUnprocessableEntity || !r.problem(t).hasField(tc.field) || e.count(t, "adjustment_items") != items {
				t.Errorf("%s: %d %s, want 422 naming %q and nothing added", tc.name, r.Status, r.Body, tc.field)
			}
		}
		// The same bad row in a workbook is named the same way.
		book := excelize.NewFile()
		for i, row := range [][]any{{"户编号", "调整类型", "贫困户属性", "帮扶责任人", "调整原因"}, {"B-001", "属性变更", "五保贫困户", "", "转为特困供养"},
			{"NOPE-9", "脱贫退出", "", "", "收入达标"}} {
			if err := book.SetSheetRow("Sheet1", "A"+strconv.Itoa(i+1), &row); err != nil {
				t.Fatal(err)
			}
		}
		xlsx, err := book.WriteToBuffer()
		if err != nil {
			t.Fatal(err)
		}
		if r := e.do(t, "POST", adjustmentPath(b.ID, "imports"), town.supervisor, xlsx.Bytes()); r.Status != http.StatusUnprocessableEntity ||
			!r.problem(t).hasField("row 3, 户编号") || e.count(t, "adjustment_items") != items {
			t.Errorf("a workbook with a bad row: %d %s", r.Status, r.Body)
		}
		r = e.do(t, "POST", adjustmentPath(b.ID, "imports"), town.supervisor, sheet)
		if r.Status != http.StatusOK {
			t.Fatalf("import: %d %s", r.Status, r.Body)
		}
		r.json(t, &b)
		if it := itemOf(t, b, typed.ID, "poverty_type"); it.Source != "import" || it.PovertyType != domain.PovertyWubao || it.Evidence[0] != "县民政局2026年第12号文" {
			t.Errorf("the imported item: %+v", it)
		}

		// The rest, as a whole.
		r = e.do(t, "POST", adjustmentPath(b.ID, "approve"), town.supervisor, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("approve all: %d %s", r.Status, r.Body)
		}
		r.json(t, &b)
		if b.Counts["applied"] != 3 || b.Counts["stale"] != 1 || b.Counts["pending"] != 0 {
			t.Errorf("after approving all: %v", b.Counts)
		}
		exit = itemOf(t, b, exiting, "exit")
		var pr wire.Procedure
		if r := e.do(t, "GET", "/api/v1/procedures/"+exit.ResultID.String(), town.supervisor, nil); r.Status != http.StatusOK {
			t.Errorf("the exit procedure the batch started: %d %s", r.Status, r.Body)
		} else if r.json(t, &pr); pr.Kind != "exit" || pr.Year != 2026 || pr.Status != "open" || !strings.Contains(pr.Reason, "动态调整") {
			t.Errorf("the exit procedure: %+v", pr)
		}
		var file wire.HouseholdFile
		e.do(t, "GET", "/api/v1/households/"+typed.ID.String(), town.supervisor, nil).json(t, &file)
		last := file.PovertyTypeHistory[len(file.PovertyTypeHistory)-1]
		if file.PovertyType != domain.PovertyWubao || last.To != domain.PovertyWubao || !strings.Contains(last.Reason, "动态调整") {
			t.Errorf("the type change in the household's history: %s, %+v", file.PovertyType, last)
		}
		changes, _ = e.pullAll(t, e.login(t, "cadre-b"), cursorB, 500)
		if !has(changes, "household", wire.OpUpsert, typed.ID) {
			t.Errorf("cadre-b's pull misses the household's new type")
		}

		// Closing: twice is once; a closed batch takes no more reviews.
		for range 2 {
			if r := e.do(t, "POST", adjustmentPath(b.ID, "close"), town.supervisor, nil); r.Status != http.StatusOK {
				t.Fatalf("close: %d %s", r.Status, r.Body)
			} else if r.json(t, &b); b.Status != "closed" || b.ClosedAt == nil {
				t.Errorf("closed: %s", b.Status)
			}
		}
		if r := e.do(t, "POST", adjustmentPath(b.ID, "imports"), town.supervisor, sheet); r.Status != http.StatusConflict {
			t.Errorf("importing into a closed batch: %d %s", r.Status, r.Body)
		}
	})
}

// TestAdjustmentProposesRemovalFromFindings: a household an inspection
// found wrongly registered (错评) is proposed for removal once the
// campaign has ended — not while it runs, when its sample may still be
// secret — with the campaign as evidence; approved, it starts the
// removal procedure (回头看) through casework.
func TestAdjustmentProposesRemovalFromFindings(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		e.inspectable(t)
		admin := e.login(t, "admin")
		c := e.drawnCampaign(t, "announced", nil)
		wrongly := householdAnswers(func(a map[string]any) { a["identification"] = map[string]any{"choice": "wrongly_registered"} })
		if r := e.record(t, e.login(t, "inspector"), c.ID, e.householdA.Household.ID, wrongly, nil); r.Status != http.StatusOK && r.Status != http.StatusCreated {
			t.Fatalf("finding: %d %s", r.Status, r.Body)
		}
		build := func() wire.AdjustmentBatch {
			t.Helper()
			var b wire.AdjustmentBatch
			r := e.do(t, "POST", "/api/v1/adjustment-batches", admin, map[string]any{"region_id": e.town.ID, "year": 2026})
			if r.Status != http.StatusCreated {
				t.Fatalf("build: %d %s", r.Status, r.Body)
			}
			r.json(t, &b)
			return b
		}
		removals := func(b wire.AdjustmentBatch) []wire.AdjustmentItem {
			var out []wire.AdjustmentItem
			for _, it := range b.Items {
				if it.Kind == "removal" {
					out = append(out, it)
				}
			}
			return out
		}
		during := build()
		if got := removals(during); len(got) != 0 {
			t.Errorf("removals proposed while the campaign runs: %+v", got)
		}
		if r := e.do(t, "POST", adjustmentPath(during.ID, "close"), admin, nil); r.Status != http.StatusOK {
			t.Fatalf("close: %d %s", r.Status, r.Body)
		}
		if r := e.do(t, "POST", "/api/v1/inspections/"+c.ID.String()+"/end", admin, nil); r.Status != http.StatusOK {
			t.Fatalf("end: %d %s", r.Status, r.Body)
		}
		after := build()
		got := removals(after)
		if len(got) != 1 || got[0].HouseholdID != e.householdA.Household.ID || !strings.Contains(strings.Join(got[0].Evidence, " "), c.Name) {
			t.Fatalf("removals after the campaign: %+v", got)
		}
		var it wire.AdjustmentItem
		e.do(t, "POST", adjustmentPath(after.ID, "items", got[0].ID.String(), "approve"), admin, nil).json(t, &it)
		var pr wire.Procedure
		if r := e.do(t, "GET", "/api/v1/procedures/"+it.ResultID.String(), admin, nil); r.Status != http.StatusOK {
			t.Fatalf("the removal procedure: %d %s", r.Status, r.Body)
		} else if r.json(t, &pr); pr.Kind != "removal" || pr.Status != "open" || pr.HouseholdID == nil || *pr.HouseholdID != e.householdA.Household.ID {
			t.Errorf("the removal procedure: %+v", pr)
		}
	})
}

// TestApprovingAtOnceAppliesOnce: four approvals of one item sent at
// the same moment (two supervisors' double clicks) pair the household
// once, and every one is answered with the applied item.
func TestApprovingAtOnceAppliesOnce(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		town, b, item := e.batchToRepair(t)
		pairings := e.count(t, "pairings")
		results := make(chan wire.AdjustmentItem, 4)
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := e.do(t, "POST", adjustmentPath(b.ID, "items", item.ID.String(), "approve"), town.supervisor, nil)
				var it wire.AdjustmentItem
				if r.Status != http.StatusOK {
					t.Errorf("approve: %d %s", r.Status, r.Body)
					return
				}
				r.json(t, &it)
				results <- it
			}()
		}
		wg.Wait()
		close(results)
		for it := range results {
			if it.State != "applied" || it.ResultID == nil {
				t.Errorf("an approval answered %+v", it)
			}
		}
		if n := e.count(t, "pairings") - pairings; n != 1 {
			t.Errorf("%d pairings made, want 1", n)
		}
	})
}

// TestAReviewActionTakesNoFields: approving an item, approving the whole
// batch and closing it take no body. A field sent to them is refused (422
// naming it) and nothing is done: {"item_ids": [...]} sent to approve a
// chosen few approved every pending item, and a reason sent with an
// approval was dropped unsaid. No body, or {}, is an approval as before.
func TestAReviewActionTakesNoFields(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		town, b, item := e.batchToRepair(t)
		for _, tc := range []struct {
			name, path, body, field string
		}{
			{"approving the batch for chosen items", adjustmentPath(b.ID, "approve"), `{"item_ids":["` + item.ID.String() + `"]}`, "/item_ids"},
			{"closing the batch with a note", adjustmentPath(b.ID, "close"), `{"note":"年度调整结束"}`, "/note"},
			{"approving an item with a reason", adjustmentPath(b.ID, "items", item.ID.String(), "approve"), `{"reason":"同意"}`, "/reason"},
			{"approving an item with a list", adjustmentPath(b.ID, "items", item.ID.String(), "approve"), `[]`, "/"},
		} {
			r := e.do(t, "POST", tc.path, town.supervisor, tc.body)
			if r.Status != http.StatusUnprocessableEntity || !r.problem(t).hasField(tc.field) {
				t.Errorf("%s: %d %s, want 422 naming %s", tc.name, r.Status, r.Body, tc.field)
			}
		}
		var now wire.AdjustmentBatch
		e.do(t, "GET", adjustmentPath(b.ID), town.supervisor, nil).json(t, &now)
		if now.Status != "open" || now.Counts["pending"] != b.Counts["pending"] || itemOf(t, now, item.HouseholdID, "repairing").State != "pending" {
			t.Fatalf("after refused actions the batch is %s with %v, want open with %v", now.Status, now.Counts, b.Counts)
		}
		var it wire.AdjustmentItem
		r := e.do(t, "POST", adjustmentPath(b.ID, "items", item.ID.String(), "approve"), town.supervisor, `{}`)
		if r.json(t, &it); r.Status != http.StatusOK || it.State != "applied" {
			t.Errorf("approving with {}: %d %s", r.Status, r.Body)
		}
		if r := e.do(t, "POST", adjustmentPath(b.ID, "close"), town.supervisor, nil); r.Status != http.StatusOK {
			t.Errorf("closing with no body: %d %s", r.Status, r.Body)
		}
	})
}
