package importer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/importer"
	"github.com/fieldvisit/fieldvisit/internal/testkit/storetest"
)

// TestADryRunIsNoOracleForIDNumbersRegisteredElsewhere: a town supervisor's
// dry run with an ID number (or household number) registered in another town
// is blocked with a generic problem that names nothing of the other town,
// and each such hit is in the audit log, masked, where the county sees it;
// a number registered in the supervisor's own town keeps the specific
// message; past the limit the file is refused naming no row.
func TestADryRunIsNoOracleForIDNumbersRegisteredElsewhere(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) { foreignHits(t, newEnv(t, dialect)) })
	}
}

func foreignHits(t *testing.T, e *env) {
	ctx := context.Background()
	county, town := e.regions["410122000000"], e.regions["410122100000"]
	elsewhereID, ownID := idNum("19500101", "611"), idNum("19550505", "621")
	// Registered by the county: 李四海 in 李庄乡, 王在内 in the supervisor's 城关镇.
	other := oneHousehold("L001", "李四海", elsewhereID)
	other[cTown] = "李庄乡"
	noErrors(t, e.run(t, writeCSV(t, sampleHeader, [][]string{other, oneHousehold("C001", "王在内", ownID)})))
	otherHH := e.households(t)["李四海"]

	u := e.seedUser(t, "townsup", "镇督导", domain.RoleSupervisor, town)
	sup := domain.Principal{UserID: u.ID, Username: u.Username, Role: domain.RoleSupervisor, RegionID: town.ID, RegionPath: town.Path}

	// Row 2: the other town's head as a new head; rows 3-4: a new household
	// with 王在内 as a member; row 5: the other town's household number.
	probe := oneHousehold("P001", "甲", elsewhereID)
	head2 := oneHousehold("P002", "乙", idNum("19800101", "631"))
	member := oneHousehold("P002", "乙", ownID)
	member[cRelation], member[cName] = "之子", "王在内"
	number := oneHousehold("L001", "丁", idNum("19800101", "641"))
	file := writeCSV(t, sampleHeader, [][]string{probe, head2, member, number})

	audited := func() []domain.AuditRecord {
		t.Helper()
		recs, _, err := e.store.AuditLog(ctx, domain.AuditFilter{Action: "import_registered_elsewhere", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return recs
	}
	before := e.rowCounts(t)
	rep := e.run(t, file, func(o *importer.Options) { o.Actor, o.DryRun = sup, true })

	want := []errKey{{2, "身份证号", "registered_elsewhere_region"}, {4, "身份证号", "registered_elsewhere"}, {5, "户编号", "registered_elsewhere_region"}}
	if got := errKeys(rep.Errors); fmt.Sprint(got) != fmt.Sprint(errKeys(toErrs(want))) {
		t.Fatalf("errors:\n got  %v\n want %v\nfull: %+v", got, want, rep.Errors)
	}
	for _, er := range rep.Errors {
		switch {
		case er.Row == 2 && er.MessageZH != "该身份证号已在其他地区登记，请与县级管理员核实":
			t.Errorf("row 2: %q, want the generic message", er.MessageZH)
		case er.Row == 5 && er.MessageZH != "该户编号已在其他地区登记，请与县级管理员核实":
			t.Errorf("row 5: %q, want the generic message", er.MessageZH)
		case er.Row == 4 && (!strings.Contains(er.MessageZH, "王在内") || !strings.Contains(er.MessageZH, "C001")):
			t.Errorf("row 4: %q, want the specific message naming the household", er.MessageZH)
		}
	}
	body, _ := json.Marshal(rep)
	for _, secret := range []string{"李四海", "李庄乡", otherHH.ID.String(), otherHH.RegionID.String(), e.regions["410122200000"].ID.String(),
		"410122200", elsewhereID, domain.MaskIDNumber(elsewhereID)} {
		if strings.Contains(string(body), secret) {
			t.Errorf("the report gives away %q: %s", secret, body)
		}
	}

	recs := audited()
	if len(recs) != 2 {
		t.Fatalf("%d audit entries, want 2 (rows 2 and 5): %+v", len(recs), recs)
	}
	byRow := map[float64]domain.AuditRecord{}
	for _, rec := range recs {
		row, _ := rec.Detail["row"].(float64)
		byRow[row] = rec
		if rec.ActorID == nil || *rec.ActorID != u.ID || rec.ActorName != "townsup" || rec.ObjectID != rep.ImportID.String() ||
			rec.HouseholdID == nil || *rec.HouseholdID != otherHH.ID || rec.RegionPath != county.Path || rec.Detail["dry_run"] != true {
			t.Errorf("audit entry: %+v", rec)
		}
		if d := fmt.Sprint(rec.Detail); strings.Contains(d, elsewhereID) {
			t.Errorf("the audit entry holds the clear ID number: %s", d)
		}
	}
	if d := byRow[2].Detail; d["id_number"] != domain.MaskIDNumber(elsewhereID) || d["column"] != "身份证号" {
		t.Errorf("row 2's entry: %+v", d)
	}
	if d := byRow[5].Detail; d["household_number"] != "L001" || d["column"] != "户编号" {
		t.Errorf("row 5's entry: %+v", d)
	}
	after := e.rowCounts(t)
	after["audit_log"] -= 2
	if fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("the dry run wrote: %v → %v", before, after)
	}

	t.Run("the county, whose subtree holds both towns, gets the specific answer and no entry", func(t *testing.T) {
		rep := e.run(t, file, func(o *importer.Options) { o.DryRun = true })
		for _, er := range rep.Errors {
			if er.Reason == "registered_elsewhere_region" {
				t.Errorf("generic problem for the county: %+v", er)
			}
		}
		if n := len(audited()); n != 2 {
			t.Errorf("%d audit entries, want still 2", n)
		}
	})

	t.Run("past the limit the whole file is refused naming no row, and the hits are still audited", func(t *testing.T) {
		rep := e.run(t, file, func(o *importer.Options) { o.Actor, o.DryRun, o.MaxForeignHits = sup, true, 1 })
		var refused bool
		for _, er := range rep.Errors {
			if er.Reason == "registered_elsewhere_region" {
				t.Errorf("a row's answer past the limit: %+v", er)
			}
			if er.Reason == "too_many_registered_elsewhere" {
				refused = er.Row == 0 && strings.Contains(er.MessageZH, "县级管理员")
			}
		}
		if !refused || rep.Applied {
			t.Errorf("not refused: %+v", rep.Errors)
		}
		if n := len(audited()); n != 4 {
			t.Errorf("%d audit entries, want 4", n)
		}
	})
}
