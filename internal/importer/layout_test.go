package importer_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/importer"
)

// perHouseholdHeader is the register many offices keep: one row per
// household, the head's name and ID number, 家庭人口 as a number.
var perHouseholdHeader = []string{"序号", "乡镇", "所在村", "户编号", "户主姓名", "身份证号", "家庭人口", "贫困户属性", "脱贫状态", "脱贫年度",
	"帮扶责任人", "联系电话"}

func perHouseholdRows() [][]string {
	return [][]string{
		{"1", "城关镇", "东风村", "H001", "石磊", idNum("19620303", "611"), "4", "一般贫困户", "已脱贫户", "2019", "李明", "13800000101"},
		{"2", "城关镇", "东风村", "H002", "田丰", idNum("19550505", "621"), "1", "特困供养贫困户", "在册未脱贫户", "", "liming", ""},
		{"3", "城关镇", "红旗村", "H003", "江河", idNum("19800808", "631"), "3", "", "边缘易致贫户", "", "", "13800000103"},
	}
}

// TestHouseholdRowSheets: a one-row-per-household register imports beside
// the one-row-per-member layout (issue 19, item 3).
func TestHouseholdRowSheets(t *testing.T) {
	runCases(t, []importCase{
		{"each row is a household whose head is its first member; 家庭人口 is recorded and the report names the layout", func(t *testing.T, e *env) {
			rep := e.run(t, writeCSV(t, perHouseholdHeader, perHouseholdRows()))
			noErrors(t, rep)
			if rep.Kind != importer.KindHouseholds || rep.Layout != importer.LayoutHouseholdRows {
				t.Errorf("kind %q layout %q, want households/household_rows", rep.Kind, rep.Layout)
			}
			wantCounts(t, "households", rep.Households, importer.Counts{Created: 3})
			wantCounts(t, "members", rep.Members, importer.Counts{Created: 3})
			wantCounts(t, "pairings", rep.Pairings, importer.Counts{Created: 2})
			hs := e.households(t)
			shi := hs["石磊"]
			if shi.DeclaredSize == nil || *shi.DeclaredSize != 4 || shi.Status != domain.StatusExited || shi.PovertyType != domain.PovertyOrdinary ||
				shi.Number != "H001" || shi.Phone != "13800000101" {
				t.Errorf("石磊's household: %+v", shi)
			}
			if h := hs["田丰"]; h.PovertyType != domain.PovertyWubao || h.Status != domain.StatusRegistered {
				t.Errorf("田丰 (特困供养贫困户, 在册未脱贫户): %+v", h)
			}
			if h := hs["江河"]; h.Status != domain.StatusEdge || h.VillageID != e.regions["410122100202"].ID {
				t.Errorf("江河 (边缘易致贫户 in 红旗村): %+v", h)
			}
			ms := e.members(t, shi)
			if len(ms) != 1 || ms[0].Name != "石磊" || ms[0].Relation != "head" || ms[0].IDNumber != idNum("19620303", "611") ||
				ms[0].Phone != "13800000101" {
				t.Errorf("石磊's members: %+v", ms)
			}
			again := e.run(t, writeCSV(t, perHouseholdHeader, perHouseholdRows()))
			noErrors(t, again)
			wantCounts(t, "households again", again.Households, importer.Counts{Unchanged: 3})
			wantCounts(t, "members again", again.Members, importer.Counts{Unchanged: 3})
			if len(again.Warnings) != 0 {
				t.Errorf("a re-import warns: %+v", again.Warnings)
			}
		}},

		{"a member sheet says so, and its 家庭人口 is checked against the member rows, not recorded", func(t *testing.T, e *env) {
			rep := e.run(t, sampleCSV(t))
			wantFirstImport(t, rep)
			if rep.Layout != importer.LayoutMemberRows {
				t.Errorf("layout %q, want member_rows", rep.Layout)
			}
			if h := e.households(t)["王建国"]; h.DeclaredSize != nil {
				t.Errorf("a member sheet recorded 家庭人口 %d", *h.DeclaredSize)
			}
		}},

		{"a changed 家庭人口 updates the household; one that disagrees with the registered members is a warning", func(t *testing.T, e *env) {
			noErrors(t, e.run(t, sampleCSV(t))) // 王建国: four members
			rows := [][]string{{"1", "城关镇", "东风村", "4101221002010001", "王建国", idNum("19650312", "011"), "5", "一般贫困户", "已脱贫", "2019", "", ""}}
			rep := e.run(t, writeCSV(t, perHouseholdHeader, rows))
			noErrors(t, rep)
			wantCounts(t, "households", rep.Households, importer.Counts{Updated: 1})
			wantCounts(t, "members", rep.Members, importer.Counts{Unchanged: 1})
			if got := errKeys(rep.Warnings); len(got) != 1 || got[0] != (errKey{2, "家庭人口", "size_differs"}) {
				t.Errorf("warnings %+v, want size_differs on row 2", got)
			}
			if h := e.households(t)["王建国"]; h.DeclaredSize == nil || *h.DeclaredSize != 5 {
				t.Errorf("王建国's declared size: %+v", h.DeclaredSize)
			}
		}},

		{"a 户编号 on two rows and an unknown label are errors, and nothing is written; a head without ID number is none", func(t *testing.T, e *env) {
			rows := perHouseholdRows()
			rows[1][3] = "H001"
			rows[2][5] = "" // as the register API takes it: the number is being collected
			rows[0][7] = "特别贫困户"
			before := e.rowCounts(t)
			rep := e.run(t, writeCSV(t, perHouseholdHeader, rows))
			want := []errKey{{2, "贫困户属性", "invalid_enum"}, {3, "户编号", "duplicate"}}
			if got := errKeys(rep.Errors); !slices.Equal(got, want) {
				t.Errorf("errors %+v, want %+v", got, want)
			}
			if rep.Applied {
				t.Error("a file with errors was applied")
			}
			if after := e.rowCounts(t); !maps.Equal(before, after) {
				t.Errorf("rows changed: %v → %v", before, after)
			}
		}},
	})
}
