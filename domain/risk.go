package domain

import (
	"strconv"
)

// RiskTriggersVersion is the version of RiskTriggers. As with the plan
// routes, a version only ever adds codes: a code once given out keeps its
// meaning, so warnings recorded under an older list read the same.
const RiskTriggersVersion = 1

// RiskTriggers are what a cadre may see at a visit that puts a household at
// risk of falling into (or back into) poverty (DESIGN §6b; 002 §19:
// 建立实时监测预警机制 … 收入监测不间断; 002 §20: 对出现大病、残疾、灾祸的非建档立卡
// 人口(边缘户)争取政策; 002: 因病、因学、因灾、因残等返贫). Version 1.
var RiskTriggers = Vocabulary{
	{"serious_illness", "大病"}, {"disability", "残疾"}, {"disaster", "灾祸"},
	{"income_drop", "收入骤减"}, {"job_loss", "失业/务工中断"},
	{"education_costs", "子女就学支出骤增"}, {"housing_unsafe", "住房出现安全隐患"},
}

// RelapseCauses are why an exited household fell back (返贫原因): every
// risk trigger, and the causes a trigger does not name (002: 因病、因学、
// 因灾、因残等返贫). A status move to relapsed names one.
var RelapseCauses = append(append(Vocabulary{}, RiskTriggers...),
	Term{"policy_ended", "帮扶政策到期收入下降"}, Term{"lack_labor", "缺劳力"}, Term{"other", "其他"})

// RelapseCauseAliases are the other ways county registers write a
// relapse's cause (002: 因病、因学、因灾、因残等返贫), in FoldLabel's form.
var RelapseCauseAliases = map[string]string{
	"因病": "serious_illness", "因病返贫": "serious_illness",
	"因残": "disability", "因残返贫": "disability",
	"因灾": "disaster", "因灾返贫": "disaster",
	"因学": "education_costs", "因学返贫": "education_costs",
	"失业": "job_loss", "务工中断": "job_loss", "缺劳动力": "lack_labor",
}

// Limits of the risk triggers a visit records.
const (
	MaxRiskTriggers    = 10
	MaxRiskTriggerNote = 500
)

// RiskTrigger is one risk a cadre recorded at a visit, with what they saw.
type RiskTrigger struct {
	Code string `json:"code"`
	Note string `json:"note"`
}

// ValidateRiskTriggers checks a visit's risk triggers; prefix is the JSON
// pointer of the list. A code is listed at most once a visit.
func ValidateRiskTriggers(fe *FieldErrors, prefix string, ts []RiskTrigger) {
	if len(ts) > MaxRiskTriggers {
		fe.Add(prefix, "too_many", "at most 10 risk triggers", "风险情形不能超过10项")
	}
	seen := map[string]bool{}
	for i, t := range ts {
		ptr := prefix + "/" + strconv.Itoa(i)
		switch {
		case !RiskTriggers.Has(t.Code):
			fe.Add(ptr+"/code", "invalid_enum", "code must be a risk trigger (GET /api/v1/vocabularies: risk_triggers)", "风险情形无效")
		case seen[t.Code]:
			fe.Add(ptr+"/code", "duplicate", "risk trigger listed twice", "同一风险情形重复记录")
		}
		seen[t.Code] = true
		checkText(fe, ptr+"/note", "情况说明", t.Note, 0, MaxRiskTriggerNote)
	}
}

// IncomeSources are the lines of an income account a visit may add to (增收
// 减支): the five sources of income and the production costs. The codes
// are the account's fields less their _fen.
var IncomeSources = Vocabulary{
	{"wages", "工资性收入"}, {"business", "生产经营性收入"}, {"transfers", "转移性收入"},
	{"pensions", "养老金和补贴"}, {"property", "财产性收入"}, {"costs", "生产经营费用"},
}

// Limits of the income updates a visit records.
const (
	MaxIncomeUpdates    = 12
	MaxIncomeUpdateFen  = MaxAmountFen
	MaxIncomeUpdateNote = 500
)

// IncomeUpdate is an amount a visit adds to one line of the household's
// income account of the visit's year: new income from a source, or a
// production cost (增收减支). It is an increment, applied once, when the
// server takes the visit (docs/rules.md, "Income updates from visits").
type IncomeUpdate struct {
	Source    string `json:"source"`
	AmountFen int64  `json:"amount_fen"`
	Note      string `json:"note"`
}

// ValidateIncomeUpdates checks a visit's income updates; prefix is the
// JSON pointer of the list.
func ValidateIncomeUpdates(fe *FieldErrors, prefix string, us []IncomeUpdate) {
	if len(us) > MaxIncomeUpdates {
		fe.Add(prefix, "too_many", "at most 12 income updates", "收支记录不能超过12条")
	}
	for i, u := range us {
		ptr := prefix + "/" + strconv.Itoa(i)
		if !IncomeSources.Has(u.Source) {
			fe.Add(ptr+"/source", "invalid_enum", "source must be wages, business, transfers, pensions, property or costs", "收支项目无效")
		}
		if u.AmountFen < 1 || u.AmountFen > MaxIncomeUpdateFen {
			fe.Add(ptr+"/amount_fen", "out_of_range", "amount_fen must be between 1 and 10,000,000,000 fen", "金额应在0.01元至1亿元之间（以分计）")
		}
		checkText(fe, ptr+"/note", "说明", u.Note, 0, MaxIncomeUpdateNote)
	}
}
