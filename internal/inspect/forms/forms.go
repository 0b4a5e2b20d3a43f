// Package forms owns the inspection forms (督查表): what an inspector asks
// and answers at a household and in a village (DESIGN §7; seeds 001–003).
// Forms are data — versioned item lists with codes, like rule profiles — so
// a county can change a question without a release, and findings keep the
// version they were recorded with. The package checks answers against a
// form and reads out of household findings what the discrepancy score and
// the campaign report need.
package forms

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/fieldvisit/fieldvisit/domain"
)

// Item kinds.
const (
	KindChoice  = "choice"  // one of Choices
	KindChoices = "choices" // any of Choices
	KindCount   = "count"   // a whole number 0..Max
	KindYesNo   = "yes_no"
	KindText    = "text" // at most Max characters
)

// Choice is one possible answer.
type Choice struct {
	Code    string
	LabelZH string
	// Problem marks an answer that records a problem (错评, 不满意 …): a
	// finding with one may get a rectification item (整改).
	Problem bool
}

// Item is one question.
type Item struct {
	Code     string
	LabelZH  string
	Group    string // the section it is printed under
	Kind     string
	Choices  []Choice
	Max      int
	Required bool
	// ProblemIfNo marks a yes_no item whose "no" records a problem: a
	// village without a road, a plan not shown.
	ProblemIfNo bool
}

// Form is a versioned list of questions, for a household or a village.
type Form struct {
	Code    string // FormHousehold or FormVillage
	Version int
	TitleZH string
	Items   []Item
}

// Form codes.
const (
	FormHousehold = "household"
	FormVillage   = "village"
)

// Answer is the answer to one item; which field is set depends on the
// item's kind.
type Answer struct {
	Choice  string
	Choices []string
	Count   *int
	Yes     *bool
	Text    string
}

// SameAnswers reports whether two sets of answers (by item code) say the
// same: findings sent again are told from a correction by it.
func SameAnswers(a, b map[string]Answer) bool {
	if len(a) != len(b) {
		return false
	}
	for code, x := range a {
		y, ok := b[code]
		if !ok || x.Choice != y.Choice || !slices.Equal(x.Choices, y.Choices) || !samePtr(x.Count, y.Count) || !samePtr(x.Yes, y.Yes) ||
			x.Text != y.Text {
			return false
		}
	}
	return true
}

func samePtr[T comparable](a, b *T) bool { return a == b || (a != nil && b != nil && *a == *b) }

// Validate checks answers (by item code) against the form, naming each
// problem at prefix + "/" + item code.
func (f Form) Validate(answers map[string]Answer, fe *domain.FieldErrors, prefix string) {
	for code := range answers {
		if _, ok := f.item(code); !ok {
			fe.Add(prefix+"/"+code, "unknown_field", "not an item of form "+f.Code+" v"+strconv.Itoa(f.Version), "督查表中没有该项")
		}
	}
	for _, it := range f.Items {
		a, given := answers[it.Code]
		p := prefix + "/" + it.Code
		if !given || a.empty() {
			if it.Required {
				fe.Required(p, it.LabelZH)
			}
			continue
		}
		if m := a.stray(it.Kind); m != "" && a.holds(it.Kind) {
			// Stored as sent, a second member would be read back as part of
			// the answer ("met" and yes at once) by whoever reads it next.
			fe.Add(p+"/"+m, "unknown_field", "a "+it.Kind+" item is answered with "+kindMember[it.Kind]+" alone", it.LabelZH+"的答案只能填"+kindMember[it.Kind])
			continue
		}
		switch it.Kind {
		case KindChoice:
			if !it.has(a.Choice) {
				fe.Add(p, "invalid_enum", "not one of the item's choices", it.LabelZH+"的选项无效")
			}
		case KindChoices:
			for i, c := range a.Choices {
				if !it.has(c) {
					fe.Add(p+"/"+strconv.Itoa(i), "invalid_enum", "not one of the item's choices", it.LabelZH+"的选项无效")
				} else if slices.Index(a.Choices, c) != i {
					fe.Add(p+"/"+strconv.Itoa(i), "duplicate", "chosen twice", it.LabelZH+"的选项重复")
				}
			}
		case KindCount:
			if a.Count == nil || *a.Count < 0 || *a.Count > it.Max {
				fe.Add(p, "out_of_range", fmt.Sprintf("a whole number from 0 to %d", it.Max), fmt.Sprintf("%s应为0至%d的整数", it.LabelZH, it.Max))
			}
		case KindYesNo:
			if a.Yes == nil {
				fe.Add(p, "invalid_type", "yes or no", it.LabelZH+"应为是或否")
			}
		case KindText:
			if reason, msg, msgZH, ok := domain.TextProblem(a.Text, it.Max); !ok {
				fe.Add(p, reason, msg, it.LabelZH+msgZH)
			}
		}
	}
}

// kindMember is the member of an Answer (by its JSON name) each kind of
// item is answered with.
var kindMember = map[string]string{KindChoice: "choice", KindChoices: "choices", KindCount: "count", KindYesNo: "yes", KindText: "text"}

// members are the members a holds, by JSON name.
func (a Answer) members() map[string]bool {
	return map[string]bool{"choice": a.Choice != "", "choices": len(a.Choices) > 0, "count": a.Count != nil, "yes": a.Yes != nil, "text": a.Text != ""}
}

// holds reports whether a holds the member its kind is answered with.
func (a Answer) holds(kind string) bool { return a.members()[kindMember[kind]] }

// stray names, in a fixed order, a member a holds that kind does not take
// ("" when none).
func (a Answer) stray(kind string) string {
	set := a.members()
	for _, m := range []string{"choice", "choices", "count", "yes", "text"} {
		if set[m] && m != kindMember[kind] {
			return m
		}
	}
	return ""
}

func (a Answer) empty() bool {
	return a.Choice == "" && len(a.Choices) == 0 && a.Count == nil && a.Yes == nil && a.Text == ""
}

func (f Form) item(code string) (Item, bool) {
	for _, it := range f.Items {
		if it.Code == code {
			return it, true
		}
	}
	return Item{}, false
}

// Problems lists, in the form's order, the items whose answers record a
// problem: a choice marked Problem, or "no" to an item marked ProblemIfNo.
// What a finding records as wrong is read off the form, never off a list
// kept elsewhere, so a county's edited form says it with its questions.
func (f Form) Problems(answers map[string]Answer) []string {
	var out []string
	for _, it := range f.Items {
		a, ok := answers[it.Code]
		if !ok {
			continue
		}
		switch {
		case it.Kind == KindYesNo && it.ProblemIfNo && a.Yes != nil && !*a.Yes,
			it.Kind == KindChoice && slices.ContainsFunc(it.Choices, func(c Choice) bool { return c.Problem && c.Code == a.Choice }):
			out = append(out, it.Code)
		}
	}
	return out
}

func (it Item) has(code string) bool {
	return slices.ContainsFunc(it.Choices, func(c Choice) bool { return c.Code == code })
}

// Household item codes the service reads back.
const (
	ItemIdentification  = "identification"
	ItemExit            = "exit"
	ItemEffect          = "effect"
	ItemPlanSeen        = "plan_seen"
	ItemSatisfaction    = "satisfaction"
	ItemAwareness       = "awareness"
	ItemVisitsRecalled  = "visits_recalled"
	ItemCadreRecognised = "cadre_recognised"
	ItemMeasures        = "measures_received"
	ItemNote            = "note"
)

// Groups of the household form.
const (
	GroupTwoNoWorries = "two_no_worries" // 两不愁三保障 and safe water
	GroupPrecision    = "precision"      // 精准识别, 精准退出
	GroupEffect       = "effect"         // 帮扶成效
	GroupOpinion      = "opinion"        // 群众满意度, 政策知晓率
	GroupCadreVisits  = "cadre_visits"   // the household's own account of its cadre
	GroupInfra        = "infrastructure" // a village's 三通三有 / 五通七有
	GroupInterviews   = "interviews"
)

func checklistChoices() []Choice {
	out := make([]Choice, len(domain.ChecklistAnswers))
	for i, t := range domain.ChecklistAnswers {
		out[i] = Choice{Code: t.Code, LabelZH: t.Label, Problem: t.Code == "problem"}
	}
	return out
}

func vocabularyChoices(v domain.Vocabulary) []Choice {
	out := make([]Choice, len(v))
	for i, t := range v {
		out[i] = Choice{Code: t.Code, LabelZH: t.Label}
	}
	return out
}

// DefaultHousehold is the household form, version 1: 两不愁三保障 with safe
// water (001), 精准识别 and 精准退出, 帮扶成效, the household's plan seen
// (查看户帮扶计划 — 001), 群众满意度 and 政策知晓率 (002, 003), and the
// household's own account of its cadre's visits.
func DefaultHousehold() Form {
	items := []Item{}
	for _, t := range domain.ChecklistItems {
		items = append(items, Item{Code: t.Code, LabelZH: t.Label, Group: GroupTwoNoWorries, Kind: KindChoice, Choices: checklistChoices(), Required: true})
	}
	items = append(items,
		Item{Code: ItemIdentification, LabelZH: "精准识别", Group: GroupPrecision, Kind: KindChoice, Required: true, Choices: []Choice{
			{"accurate", "识别精准", false}, {"should_register", "符合条件未纳入（漏评）", true}, {"wrongly_registered", "不符合条件被纳入（错评）", true}}},
		Item{Code: ItemExit, LabelZH: "精准退出", Group: GroupPrecision, Kind: KindChoice, Required: true, Choices: []Choice{
			{"criteria_met", "达到退出标准", false}, {"criteria_not_met", "未达标准即退出（错退）", true}, {"not_exited", "尚未退出", false}}},
		Item{Code: ItemEffect, LabelZH: "帮扶成效", Group: GroupEffect, Kind: KindChoice, Required: true, Choices: []Choice{
			{"clear", "成效明显", false}, {"some", "有一定成效", false}, {"none", "成效不明显", true}}},
		Item{Code: ItemPlanSeen, LabelZH: "查看户帮扶计划", Group: GroupEffect, Kind: KindYesNo, Required: true, ProblemIfNo: true},
		Item{Code: ItemSatisfaction, LabelZH: "群众满意度", Group: GroupOpinion, Kind: KindChoice, Required: true, Choices: []Choice{
			{"satisfied", "满意", false}, {"fairly", "基本满意", false}, {"unsatisfied", "不满意", true}}},
		Item{Code: ItemAwareness, LabelZH: "政策知晓", Group: GroupOpinion, Kind: KindChoice, Required: true, Choices: []Choice{
			{"aware", "知晓", false}, {"partly", "部分知晓", false}, {"unaware", "不知晓", true}}},
		Item{Code: ItemVisitsRecalled, LabelZH: "近三个月帮扶干部入户次数（农户所述）", Group: GroupCadreVisits, Kind: KindCount, Max: 99, Required: true},
		Item{Code: ItemCadreRecognised, LabelZH: "认识帮扶干部", Group: GroupCadreVisits, Kind: KindYesNo, Required: true, ProblemIfNo: true},
		Item{Code: ItemMeasures, LabelZH: "享受到的帮扶措施", Group: GroupCadreVisits, Kind: KindChoices, Choices: vocabularyChoices(domain.Measures)},
		Item{Code: ItemNote, LabelZH: "备注", Group: GroupCadreVisits, Kind: KindText, Max: 2000},
	)
	return Form{Code: FormHousehold, Version: 1, TitleZH: "入户核查表", Items: items}
}

// DefaultVillage is the village form, version 1: the village's
// infrastructure (三通三有 — 001; 五通七有 — 003) and the interviews with
// town and village cadres.
func DefaultVillage() Form {
	infra := []struct{ Code, LabelZH string }{{"road", "通硬化路"}, {"water", "通安全饮水"}, {"electricity", "通动力电"}, {"broadband", "通宽带网络"},
		{"broadcast", "通广播电视"}, {"clinic", "有标准化卫生室"}, {"activity_room", "有综合文化活动室"},
		{"collective_income", "有村集体经济收入"}, {"school", "有义务教育学校或教学点"}, {"party_office", "有村级组织活动场所"}}
	items := make([]Item, 0, len(infra)+3)
	for _, c := range infra {
		items = append(items, Item{Code: c.Code, LabelZH: c.LabelZH, Group: GroupInfra, Kind: KindYesNo, Required: true, ProblemIfNo: true})
	}
	items = append(items,
		Item{Code: "town_cadres", LabelZH: "乡镇干部访谈", Group: GroupInterviews, Kind: KindText, Max: 2000},
		Item{Code: "village_cadres", LabelZH: "村干部访谈", Group: GroupInterviews, Kind: KindText, Max: 2000},
		Item{Code: ItemNote, LabelZH: "备注", Group: GroupInterviews, Kind: KindText, Max: 2000},
	)
	return Form{Code: FormVillage, Version: 1, TitleZH: "村级核查表", Items: items}
}

// HouseholdAccount is what household findings say for the discrepancy
// score and the report.
type HouseholdAccount struct {
	RecalledVisits   int
	CadreRecognised  bool
	MeasuresReceived []string
	ProblemsFound    []string // 两不愁三保障 items answered "problem"
	Satisfied        *bool    // satisfied or fairly satisfied; nil when not asked
	Aware            *float64 // 1 aware, 0.5 partly, 0 unaware; nil when not asked
	// The choices as answered ("" when not asked): 群众满意度, 精准识别
	// (错评 wrongly_registered, 漏评 should_register), 精准退出 (错退
	// criteria_not_met) and 帮扶成效.
	Satisfaction, Identification, Exit, Effect string
}

// ChoiceLabel is the label of an item's choice on the form ("" when the
// form has no such item or choice).
func (f Form) ChoiceLabel(item, code string) string {
	for _, it := range f.Items {
		if it.Code != item {
			continue
		}
		for _, c := range it.Choices {
			if c.Code == code {
				return c.LabelZH
			}
		}
	}
	return ""
}

// Account reads a household's answers.
func Account(answers map[string]Answer) HouseholdAccount {
	var out HouseholdAccount
	if a := answers[ItemVisitsRecalled]; a.Count != nil {
		out.RecalledVisits = *a.Count
	}
	if a := answers[ItemCadreRecognised]; a.Yes != nil {
		out.CadreRecognised = *a.Yes
	}
	out.MeasuresReceived = answers[ItemMeasures].Choices
	for _, t := range domain.ChecklistItems {
		if answers[t.Code].Choice == "problem" {
			out.ProblemsFound = append(out.ProblemsFound, t.Code)
		}
	}
	out.Satisfaction, out.Identification = answers[ItemSatisfaction].Choice, answers[ItemIdentification].Choice
	out.Exit, out.Effect = answers[ItemExit].Choice, answers[ItemEffect].Choice
	switch answers[ItemSatisfaction].Choice {
	case "satisfied", "fairly":
		yes := true
		out.Satisfied = &yes
	case "unsatisfied":
		no := false
		out.Satisfied = &no
	}
	for code, v := range map[string]float64{"aware": 1, "partly": 0.5, "unaware": 0} {
		if answers[ItemAwareness].Choice == code {
			v := v
			out.Aware = &v
		}
	}
	return out
}
