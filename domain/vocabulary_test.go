package domain

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

var updateDocs = flag.Bool("update", false, "rewrite the generated part of docs/vocabularies.md")

// labelled is a vocabulary that registers write by label, with its aliases.
type labelled struct {
	name, heading string
	v             Vocabulary
	aliases       map[string]string
}

// registerVocabularies are the vocabularies a 台账 import reads by label;
// the others (visit kinds, measures, roles, duties …) travel as codes.
var registerVocabularies = []labelled{
	{"poverty_types", "贫困户属性", PovertyTypes, PovertyTypeAliases},
	{"statuses", "户类型 / 脱贫状态", Statuses, StatusAliases},
	{"causes", "致贫原因", Causes, CauseAliases},
	{"relations", "与户主关系", Relations, RelationAliases},
	{"health_states", "健康状况", HealthStates, HealthAliases},
	{"disabilities", "残疾等级", Disabilities, DisabilityAliases},
	{"education_levels", "文化程度", EducationLevels, EducationAliases},
	{"work_states", "务工状况", WorkStates, WorkAliases},
	{"ranks", "职级", Ranks, RankAliases},
}

// codeVocabularies are listed in the docs with their labels only.
var codeVocabularies = []labelled{
	{"region_levels", "行政级别", RegionLevels, nil},
	{"housing_structures", "住房结构", HousingStructures, nil},
	{"housing_safety_grades", "住房安全等级", HousingSafetyGrades, nil},
	{"roles", "角色", Roles, nil},
	{"duties", "职责", Duties, nil},
	{"visit_kinds", "走访类型", VisitKinds, nil},
	{"measures", "帮扶措施", Measures, nil},
	{"checklist_items", "两不愁三保障", ChecklistItems, nil},
	{"plan_routes", "脱贫路径 (一户一案, version 1)", PlanRoutes, nil},
	{"plan_item_states", "帮扶措施状态", PlanItemStates, nil},
	{"risk_triggers", "风险情形 (监测预警, version 1)", RiskTriggers, nil},
	{"relapse_causes", "返贫原因", RelapseCauses, nil},
	{"income_sources", "增收减支项目", IncomeSources, nil},
}

// TestOfficialLabelsAreAccepted lists the labels of the seeds (000–004) and
// of the national register's 贫困户信息采集表 as county offices export it,
// with the code each must read as.
func TestOfficialLabelsAreAccepted(t *testing.T) {
	tests := []struct {
		v       labelled
		label   string
		code    string
		comment string
	}{
		{registerVocabularies[0], "一般贫困户", PovertyOrdinary, "003"},
		{registerVocabularies[0], "低保贫困户", PovertyDibao, "003"},
		{registerVocabularies[0], "五保贫困户", PovertyWubao, "003"},
		{registerVocabularies[0], "特困供养贫困户", PovertyWubao, "national register since 2016 (issue 19)"},
		{registerVocabularies[0], "特困供养户", PovertyWubao, ""},
		{registerVocabularies[0], "特困", PovertyWubao, ""},
		{registerVocabularies[0], "扶贫低保户", PovertyDibao, "002: 扶贫开发户、扶贫低保户"},
		{registerVocabularies[0], "扶贫开发户", PovertyOrdinary, "002"},
		{registerVocabularies[0], "低保户", PovertyDibao, "002, 003"},
		{registerVocabularies[0], "五保户", PovertyWubao, "002, 003"},
		{registerVocabularies[0], "低保建档立卡贫困户", PovertyDibao, "002"},
		{registerVocabularies[0], "低 保 户", PovertyDibao, "spaces typed into a cell"},
		{registerVocabularies[1], "已脱贫户", StatusExited, "issue 19"},
		{registerVocabularies[1], "脱贫户", StatusExited, "002, 003"},
		{registerVocabularies[1], "已脱贫", StatusExited, ""},
		{registerVocabularies[1], "脱贫不稳定户", StatusExited, "monitoring category of an exited household"},
		{registerVocabularies[1], "在册未脱贫户", StatusRegistered, "002"},
		{registerVocabularies[1], "在册贫困户", StatusRegistered, "003"},
		{registerVocabularies[1], "未脱贫", StatusRegistered, "national register"},
		{registerVocabularies[1], "边缘户", StatusEdge, "002"},
		{registerVocabularies[1], "边缘易致贫户", StatusEdge, "issue 19"},
		{registerVocabularies[1], "边缘户（边缘易致贫户）", StatusEdge, "full-width brackets"},
		{registerVocabularies[1], "突发严重困难户", StatusEdge, "never registered, at risk"},
		{registerVocabularies[1], "返贫户", StatusRelapsed, "002"},
		{registerVocabularies[1], "非贫困户", StatusGeneral, "001"},
		{registerVocabularies[1], "一般农户", StatusGeneral, ""},
		{registerVocabularies[2], "因病致贫", "illness", "000"},
		{registerVocabularies[2], "因残", "disability", "002"},
		{registerVocabularies[2], "缺技术", "lack_skills", "000"},
		{registerVocabularies[2], "缺少劳力", "lack_labor", "000: 缺少劳力缺技术致贫"},
		{registerVocabularies[2], "缺少发展资金", "lack_funds", "002"},
		{registerVocabularies[2], "缺资金致贫", "lack_funds", ""},
		{registerVocabularies[2], "自身发展动力不足", "low_motivation", "national register"},
		{registerVocabularies[2], "交通条件落后", "poor_transport", "national register"},
		{registerVocabularies[3], "之儿媳", "child_in_law", "national register"},
		{registerVocabularies[3], "之外孙女", "grandchild", "national register"},
		{registerVocabularies[3], "之岳母", "parent", "national register"},
		{registerVocabularies[3], "之兄弟姐妹", "sibling", "national register"},
		{registerVocabularies[4], "长期慢性病", "chronic", "national register; 002"},
		{registerVocabularies[4], "患有大病", "serious_illness", "national register"},
		{registerVocabularies[5], "一级残疾", "grade1", ""},
		{registerVocabularies[6], "学龄前儿童", "preschool", "national register"},
		{registerVocabularies[6], "文盲或半文盲", "illiterate", "national register"},
		{registerVocabularies[7], "乡（镇）内务工", "local_job", "national register"},
		{registerVocabularies[7], "乡（镇）外县内务工", "local_job", "national register"},
		{registerVocabularies[7], "县外省内务工", "migrant", "national register"},
		{registerVocabularies[7], "省外务工", "migrant", "national register"},
		{registerVocabularies[8], "县处级领导干部", RankCountyLevel, "002: 321"},
		{registerVocabularies[8], "科级干部", RankSectionLevel, "002: 321"},
		{registerVocabularies[8], "一般干部（职工）", RankStaff, "002: 321"},
	}
	for _, tt := range tests {
		t.Run(tt.v.name+"/"+tt.label, func(t *testing.T) {
			got, ok := tt.v.v.Parse(tt.label, tt.v.aliases)
			if !ok || got != tt.code {
				t.Errorf("%s %q = %q, %v; want %q (%s)", tt.v.name, tt.label, got, ok, tt.code, tt.comment)
			}
		})
	}
}

// TestAliasesAreWellFormed: every alias is stored as FoldLabel writes it
// (or Parse could never find it), names a code of its vocabulary, and does
// not repeat a label.
func TestAliasesAreWellFormed(t *testing.T) {
	for _, lv := range registerVocabularies {
		for alias, code := range lv.aliases {
			if FoldLabel(alias) != alias {
				t.Errorf("%s: alias %q is not in folded form %q", lv.name, alias, FoldLabel(alias))
			}
			if !lv.v.Has(code) {
				t.Errorf("%s: alias %q names unknown code %q", lv.name, alias, code)
			}
			for _, term := range lv.v {
				if FoldLabel(term.Label) == alias {
					t.Errorf("%s: alias %q repeats the label of %s", lv.name, alias, term.Code)
				}
			}
		}
	}
}

const (
	docPath   = "../docs/vocabularies.md"
	beginMark = "<!-- BEGIN GENERATED: go test ./domain -run TestVocabularyDoc -update -->"
	endMark   = "<!-- END GENERATED -->"
)

// renderVocabularies is the generated part of docs/vocabularies.md.
func renderVocabularies() string {
	var b strings.Builder
	for _, lv := range registerVocabularies {
		fmt.Fprintf(&b, "\n### %s (`%s`)\n\n| code | label | also accepted |\n|---|---|---|\n", lv.heading, lv.name)
		for _, term := range lv.v {
			var as []string
			for alias, code := range lv.aliases {
				if code == term.Code {
					as = append(as, alias)
				}
			}
			slices.Sort(as)
			fmt.Fprintf(&b, "| `%s` | %s | %s |\n", term.Code, term.Label, strings.Join(as, "、"))
		}
	}
	b.WriteString("\n### Vocabularies sent as codes\n\n| vocabulary | code: label |\n|---|---|\n")
	for _, lv := range codeVocabularies {
		pairs := make([]string, len(lv.v))
		for i, term := range lv.v {
			pairs[i] = fmt.Sprintf("`%s`: %s", term.Code, term.Label)
		}
		fmt.Fprintf(&b, "| %s `%s` | %s |\n", lv.heading, lv.name, strings.Join(pairs, "; "))
	}
	return b.String()
}

// TestVocabularyDocListsEveryLabelAndAlias keeps docs/vocabularies.md in
// step with the code: the tables between its markers are generated.
func TestVocabularyDocListsEveryLabelAndAlias(t *testing.T) {
	b, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, beginMark), strings.Index(doc, endMark)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the markers %q … %q", docPath, beginMark, endMark)
	}
	want := doc[:i+len(beginMark)] + "\n" + renderVocabularies() + "\n" + doc[j:]
	if *updateDocs {
		if err := os.WriteFile(docPath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if doc != want {
		t.Errorf("%s is out of date; run go test ./domain -run TestVocabularyDoc -update", docPath)
	}
}
