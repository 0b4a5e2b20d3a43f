package web

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance/rules"
)

// TestConflictValue: a stored JSON value reads as people write it — text
// as it is, codes by their Chinese labels, lists joined, an income
// account's amounts in yuan with two decimals, a plan item's state and
// route by their labels and its responsible cadre by name, nothing as （空）.
func TestConflictValue(t *testing.T) {
	cadre := uuid.New()
	who := func(id uuid.UUID) string {
		if id == cadre {
			return "李干部"
		}
		return "其他干部"
	}
	for _, tt := range []struct {
		entity, field, raw, want string
	}{
		{"household", "phone", `"13900001111"`, "13900001111"},
		{"household", "phone", `""`, "（空）"},
		{"household", "phone", `null`, "（空）"},
		{"household", "phone", ``, "（空）"},
		{"household", "address", `"东风村一组8号 <b>"`, "东风村一组8号 <b>"},
		{"household", "housing_structure", `"brick_concrete"`, "砖混"},
		{"household", "causes", `["illness","disability"]`, "因病、因残"},
		{"household", "causes", `[]`, "（空）"},
		{"household", "annual_income", `9030.5`, "9030.5"},
		{"visit", "household_confirmed", `true`, "是"},
		{"household", "home", `{"lat":32.1,"lon":114.2}`, `{"lat":32.1,"lon":114.2}`},
		{"income_account", "wages_fen", `800050`, "8000.50元"},
		{"income_account", "costs_fen", `950000`, "9500.00元"},
		{"income_account", "transfers_fen", `5`, "0.05元"},
		{"income_account", "members_counted", `3`, "3人"},
		{"income_account", "notes", `"光伏分红"`, "光伏分红"},
		{"plan_item", "state", `"planned"`, "未开始"},
		{"plan_item", "state", `"in_progress"`, "推进中"},
		{"plan_item", "state", `"dropped"`, "已取消"},
		{"plan_item", "route", `"industry"`, "产业扶贫"},
		{"plan_item", "responsible_cadre_id", `"` + cadre.String() + `"`, "李干部"},
		{"plan_item", "measure", `"发展养殖"`, "发展养殖"},
		{"plan_item", "deleted", `true`, "是"},
	} {
		if got := conflictValue(tt.entity, tt.field, json.RawMessage(tt.raw), who); got != tt.want {
			t.Errorf("%s %s %s: %q, want %q", tt.entity, tt.field, tt.raw, got, tt.want)
		}
	}
}

// TestConflictFieldLabel: every field a phone edits has its Chinese name,
// an income account's amounts those of the 收入测算 form, the household's
// annual income the register's as the household page names it (家庭年收入
// beside an income account's conflicts read as one more 收入测算 figure).
func TestConflictFieldLabel(t *testing.T) {
	for _, tt := range []struct{ entity, field, want string }{
		{"household", "phone", "联系电话"},
		{"household", "annual_income", "家庭年纯收入（档案登记）"},
		{"visit", "notes", "民情日记"},
		{"plan_item", "notes", "备注"},
		{"plan_item", "state", "措施状态"},
		{"plan_item", "target_on", "计划完成时间"},
		{"income_account", "wages_fen", "工资性收入"},
		{"income_account", "business_fen", "生产经营性收入"},
		{"income_account", "transfers_fen", "转移性收入"},
		{"income_account", "pensions_fen", "养老金和补贴"},
		{"income_account", "property_fen", "财产性收入"},
		{"income_account", "costs_fen", "生产经营费用"},
		{"income_account", "members_counted", "计算人数"},
		{"income_account", "notes", "备注"},
	} {
		if got := conflictFieldLabel(tt.entity, tt.field); got != tt.want {
			t.Errorf("%s %s: %q, want %q", tt.entity, tt.field, got, tt.want)
		}
	}
}

// TestJudgementsOf: a visit's verdicts come from the timeline of its
// year, one line per rule it counted for (its periods listed) and one per
// rule and reason it did not; a visit no rule looked at is not judged.
func TestJudgementsOf(t *testing.T) {
	visit := domain.Visit{ID: uuid.New()}
	visit.StartedAt = time.Date(2026, 5, 12, 9, 0, 0, 0, domain.Shanghai)
	other := uuid.New()
	month, _ := rules.PeriodOf(rules.WindowMonth, domain.DateOf(visit.StartedAt))
	quarter, _ := rules.PeriodOf(rules.WindowQuarter, domain.DateOf(visit.StartedAt))
	year, _ := rules.PeriodOf(rules.WindowYear, domain.DateOf(visit.StartedAt))
	counted := rules.VisitJudgement{VisitID: visit.ID, Counted: true}
	flagged := rules.VisitJudgement{VisitID: visit.ID, Reason: "flag:far_from_home", ReasonZH: "核验标记\"距离住户过远\",不计入"}
	statuses := []rules.Status{
		{RuleNameZH: "每年6次", Period: year, Counted: []rules.VisitJudgement{counted, {VisitID: other, Counted: true}}},
		{RuleNameZH: "每年6次", Period: quarter, Counted: []rules.VisitJudgement{counted}},
		{RuleNameZH: "每月1次", Period: month, NotCounted: []rules.VisitJudgement{flagged}},
	}
	asked := []int{}
	tl := &timelines{get: func(y int) ([]rules.Status, string, error) {
		asked = append(asked, y)
		if y == 2026 {
			return statuses, "", nil
		}
		return nil, "", nil
	}}
	lines, isCounted, judged, err := judgementsOf(visit, tl)
	if err != nil {
		t.Fatal(err)
	}
	want := []reasonLine{
		{Counted: true, Text: "计入「每年6次」：" + year.LabelZH() + "、" + quarter.LabelZH()},
		{Text: "不计入「每月1次」（" + month.LabelZH() + "）：" + flagged.ReasonZH},
	}
	if !isCounted || !judged || len(lines) != len(want) || lines[0] != want[0] || lines[1] != want[1] || len(asked) != 1 || asked[0] != 2026 {
		t.Errorf("judgements: %+v counted %v judged %v (years asked %v), want %+v", lines, isCounted, judged, asked, want)
	}

	alone := domain.Visit{ID: uuid.New()}
	alone.StartedAt = visit.StartedAt
	if lines, isCounted, judged, err := judgementsOf(alone, tl); err != nil || len(lines) != 0 || isCounted || judged {
		t.Errorf("a visit no rule looked at: %+v counted %v judged %v %v", lines, isCounted, judged, err)
	}
}

// TestRegisteredIncomeAndIncomeAccountSayWhichIsWhich: the household's
// basics name the register's annual income as the register's, for the
// whole household, and the income table's per-capita figure as the
// 收入测算's, its caption saying the two differ — a supervisor read 3918
// beside 2054 with no word on which was which.
func TestRegisteredIncomeAndIncomeAccountSayWhichIsWhich(t *testing.T) {
	registered := 3918.0
	facts := householdFacts(domain.Household{HouseholdDetails: domain.HouseholdDetails{AnnualIncome: &registered}}, "")
	var got string
	for _, f := range facts {
		if f.Value != "" && f.Label == "家庭年纯收入（档案登记）" {
			got = f.Value
		}
	}
	if got != "3918 元（全户合计，建档或导入时登记，不是收入测算）" {
		t.Errorf("the register's income reads %q in the basics %+v", got, facts)
	}
	incomes := incomeTable(nil)
	if last := incomes.Head[len(incomes.Head)-1]; last != "人均纯收入（测算）" {
		t.Errorf("the income table's per-capita column is %q", last)
	}
	for _, want := range []string{"金额单位：元", "家庭年纯收入（档案登记）", "不是测算结果"} {
		if !strings.Contains(incomes.Caption, want) {
			t.Errorf("the income table's caption %q does not say %q", incomes.Caption, want)
		}
	}
}
