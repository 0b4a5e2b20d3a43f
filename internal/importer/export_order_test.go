package importer_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance/ledger"
	"github.com/fieldvisit/fieldvisit/internal/importer"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	"github.com/fieldvisit/fieldvisit/internal/testkit/storetest"
)

// TestTheRegisterExportIsOrderedByContent: two databases holding the same
// register export the same file, whatever order their households were
// registered in and whatever row ids they got. Households without 户编号
// whose heads share a name in one village (two 王明 of a village) tie on
// every key a county office sorts by; their order is then the head's
// 身份证号, then the members, not the row ids, which here run one way in
// the first database and the other way in the second.
func TestTheRegisterExportIsOrderedByContent(t *testing.T) {
	type member struct{ relation, name, id string }
	register := [][]member{
		{{domain.RelationHead, "王明", idNum("19700101", "111")}},
		{{domain.RelationHead, "王明", idNum("19650505", "131")}, {"spouse", "李芳", ""}},
		{{domain.RelationHead, "王明", ""}, {"child", "王小明", ""}},
		{{domain.RelationHead, "王明", ""}, {"child", "王小红", ""}, {"spouse", "张兰", ""}},
		{{"spouse", "赵霞", ""}}, // a household whose head was removed, still filed under 王明
	}
	export := func(t *testing.T, dialect string, reversed bool) []byte {
		t.Helper()
		ctx := context.Background()
		e := newEnv(t, dialect)
		village, county := e.regions["410122100201"], e.regions["410122000000"]
		order := make([]int, len(register))
		for i := range order {
			order[i] = i
		}
		if reversed {
			slices.Reverse(order)
		}
		for n, i := range order {
			// the n-th registered gets the n-th smallest row id
			h := domain.Household{ID: uuid.MustParse(fmt.Sprintf("00000000-0000-4000-8000-%012d", n+1)), CountyID: county.ID, RegionID: village.ID,
				VillageID: village.ID, Status: domain.StatusGeneral, Version: 1, HouseholdDetails: domain.HouseholdDetails{HeadName: "王明", Address: "东风村"}}
			reg := registry.HouseholdRegistration{Household: h, RegionPath: village.Path,
				Status: domain.StatusChange{ID: uuid.New(), HouseholdID: h.ID, CountyID: county.ID, To: h.Status, EffectiveOn: today,
					ChangedBy: e.admin.UserID, RecordedAt: time.Now().UTC()}}
			for _, m := range register[i] {
				reg.Members = append(reg.Members, domain.Member{ID: uuid.New(), HouseholdID: h.ID, CountyID: county.ID, Version: 1,
					MemberDetails: domain.MemberDetails{Relation: m.relation, Name: m.name, IDNumber: m.id}})
			}
			if err := e.store.CreateHousehold(ctx, reg); err != nil {
				t.Fatal(err)
			}
		}
		d, err := importer.Export(ctx, e.store, importer.ExportQuery{Actor: e.admin, Format: ledger.CSV, Today: today})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := d.Write(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			first, second := export(t, dialect, false), export(t, dialect, true)
			if !bytes.Equal(first, second) {
				t.Errorf("the same register exports differently from two databases:\n%s\n---\n%s", first, second)
			}
		})
	}
}
