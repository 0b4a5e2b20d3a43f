package forms

import (
	"strings"
	"testing"

	"github.com/fieldvisit/fieldvisit/domain"
)

func count(n int) *int { return &n }
func yes(b bool) *bool { return &b }
func complete() map[string]Answer {
	a := map[string]Answer{
		ItemIdentification: {Choice: "accurate"}, ItemExit: {Choice: "not_exited"}, ItemEffect: {Choice: "some"},
		ItemPlanSeen: {Yes: yes(true)}, ItemSatisfaction: {Choice: "fairly"}, ItemAwareness: {Choice: "partly"},
		ItemVisitsRecalled: {Count: count(2)}, ItemCadreRecognised: {Yes: yes(true)}, ItemMeasures: {Choices: []string{"industry"}},
	}
	for _, t := range domain.ChecklistItems {
		a[t.Code] = Answer{Choice: "met"}
	}
	a["housing"] = Answer{Choice: "problem"}
	return a
}

// TestHouseholdAnswers: a complete household form passes; every kind of
// wrong answer is named at its item.
func TestHouseholdAnswers(t *testing.T) {
	f := DefaultHousehold()
	cases := []struct {
		name   string
		change func(a map[string]Answer)
		field  string
		reason string
	}{
		{"complete", func(map[string]Answer) {}, "", ""},
		{"a required item left out", func(a map[string]Answer) { delete(a, ItemSatisfaction) }, "/findings/satisfaction", "required"},
		{"a choice not offered", func(a map[string]Answer) { a["food"] = Answer{Choice: "plenty"} }, "/findings/food", "invalid_enum"},
		{"a measure not in the vocabulary", func(a map[string]Answer) { a[ItemMeasures] = Answer{Choices: []string{"industry", "lottery"}} }, "/findings/measures_received/1", "invalid_enum"},
		{"a measure twice", func(a map[string]Answer) { a[ItemMeasures] = Answer{Choices: []string{"industry", "industry"}} }, "/findings/measures_received/1", "duplicate"},
		{"a negative count", func(a map[string]Answer) { a[ItemVisitsRecalled] = Answer{Count: count(-1)} }, "/findings/visits_recalled", "out_of_range"},
		{"yes or no as text", func(a map[string]Answer) { a[ItemPlanSeen] = Answer{Text: "yes"} }, "/findings/plan_seen", "invalid_type"},
		{"a note too long", func(a map[string]Answer) { a[ItemNote] = Answer{Text: strings.Repeat("记", 2001)} }, "/findings/note", "too_long"},
		{"an item of no form", func(a map[string]Answer) { a["weather"] = Answer{Text: "晴"} }, "/findings/weather", "unknown_field"},
		{"a choice with a yes beside it", func(a map[string]Answer) { a["food"] = Answer{Choice: "met", Yes: yes(true)} }, "/findings/food/yes", "unknown_field"},
		{"a count with a note beside it", func(a map[string]Answer) { a[ItemVisitsRecalled] = Answer{Count: count(2), Text: "两次"} }, "/findings/visits_recalled/text", "unknown_field"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := complete()
			tc.change(a)
			var fe domain.FieldErrors
			f.Validate(a, &fe, "/findings")
			if tc.field == "" {
				if len(fe) != 0 {
					t.Fatalf("a complete form: %+v", fe)
				}
				return
			}
			if len(fe) != 1 || fe[0].Field != tc.field || fe[0].Reason != tc.reason || fe[0].MessageZH == "" {
				t.Fatalf("got %+v, want %s %s", fe, tc.field, tc.reason)
			}
		})
	}
}

// TestAccountReadsTheHouseholdsWords: what the household said is read out
// for the discrepancy score and the rates.
func TestAccountReadsTheHouseholdsWords(t *testing.T) {
	acc := Account(complete())
	if acc.RecalledVisits != 2 || !acc.CadreRecognised || len(acc.MeasuresReceived) != 1 || len(acc.ProblemsFound) != 1 ||
		acc.ProblemsFound[0] != "housing" || acc.Satisfied == nil || !*acc.Satisfied || acc.Aware == nil || *acc.Aware != 0.5 {
		t.Fatalf("account %+v", acc)
	}
	if acc := Account(map[string]Answer{}); acc.Satisfied != nil || acc.Aware != nil {
		t.Fatalf("nothing asked, nothing counted: %+v", acc)
	}
}

// TestVillageForm: the village form asks about infrastructure, all of it.
func TestVillageForm(t *testing.T) {
	f := DefaultVillage()
	var fe domain.FieldErrors
	f.Validate(map[string]Answer{"road": {Yes: yes(true)}}, &fe, "")
	if len(fe) != 9 {
		t.Fatalf("the other nine infrastructure items are required: %+v", fe)
	}
}

// TestProblemsAreReadOffTheForm: an answer records a problem when the
// form says so — a 两不愁三保障 item with a problem, 错评/漏评/错退, no
// effect, a plan not shown, a cadre not known, 不满意, 不知晓, a village
// without its road — and a finding of answers all in order records none.
func TestProblemsAreReadOffTheForm(t *testing.T) {
	fine := func() map[string]Answer {
		a := complete()
		a["housing"] = Answer{Choice: "met"}
		return a
	}
	cases := []struct {
		name   string
		change func(a map[string]Answer)
		want   string // the item named, "" for none
	}{
		{"every answer in order", func(map[string]Answer) {}, ""},
		{"an item not applicable", func(a map[string]Answer) { a["housing"] = Answer{Choice: "not_applicable"} }, ""},
		{"partly aware, fairly satisfied, some effect", func(a map[string]Answer) {
			a[ItemAwareness], a[ItemSatisfaction], a[ItemEffect] = Answer{Choice: "partly"}, Answer{Choice: "fairly"}, Answer{Choice: "some"}
		}, ""},
		{"fewer visits recalled (the records' side is the discrepancy's)", func(a map[string]Answer) { a[ItemVisitsRecalled] = Answer{Count: count(0)} }, ""},
		{"a 两不愁三保障 problem", func(a map[string]Answer) { a["housing"] = Answer{Choice: "problem"} }, "housing"},
		{"错评", func(a map[string]Answer) { a[ItemIdentification] = Answer{Choice: "wrongly_registered"} }, ItemIdentification},
		{"漏评", func(a map[string]Answer) { a[ItemIdentification] = Answer{Choice: "should_register"} }, ItemIdentification},
		{"错退", func(a map[string]Answer) { a[ItemExit] = Answer{Choice: "criteria_not_met"} }, ItemExit},
		{"no effect", func(a map[string]Answer) { a[ItemEffect] = Answer{Choice: "none"} }, ItemEffect},
		{"no plan shown", func(a map[string]Answer) { a[ItemPlanSeen] = Answer{Yes: yes(false)} }, ItemPlanSeen},
		{"the cadre not known", func(a map[string]Answer) { a[ItemCadreRecognised] = Answer{Yes: yes(false)} }, ItemCadreRecognised},
		{"不满意", func(a map[string]Answer) { a[ItemSatisfaction] = Answer{Choice: "unsatisfied"} }, ItemSatisfaction},
		{"不知晓", func(a map[string]Answer) { a[ItemAwareness] = Answer{Choice: "unaware"} }, ItemAwareness},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := fine()
			tc.change(a)
			got := DefaultHousehold().Problems(a)
			if want := []string{tc.want}; tc.want == "" && len(got) != 0 || tc.want != "" && strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("problems %v, want %q", got, tc.want)
			}
		})
	}
	village := map[string]Answer{}
	for _, it := range DefaultVillage().Items {
		if it.Kind == KindYesNo {
			village[it.Code] = Answer{Yes: yes(true)}
		}
	}
	village["town_cadres"] = Answer{Text: "台账齐全"}
	if got := DefaultVillage().Problems(village); len(got) != 0 {
		t.Fatalf("a village with everything: %v", got)
	}
	village["road"] = Answer{Yes: yes(false)}
	if got := DefaultVillage().Problems(village); strings.Join(got, ",") != "road" {
		t.Fatalf("a village without its road: %v", got)
	}
}
