package domain

import "testing"

// TestRiskTriggersAndIncomeUpdatesAreJudged: each bad entry is named by
// its pointer and reason; good ones pass.
func TestRiskTriggersAndIncomeUpdatesAreJudged(t *testing.T) {
	for _, tc := range []struct {
		name     string
		triggers []RiskTrigger
		updates  []IncomeUpdate
		field    string
		reason   string
	}{
		{"every trigger of the vocabulary", allTriggers(), nil, "", ""},
		{"unknown trigger", []RiskTrigger{{Code: "bad_luck"}}, nil, "/v/risk_triggers/0/code", "invalid_enum"},
		{"a trigger twice", []RiskTrigger{{Code: "disaster"}, {Code: "disaster"}}, nil, "/v/risk_triggers/1/code", "duplicate"},
		{"a long note", []RiskTrigger{{Code: "disaster", Note: string(make([]rune, 501))}}, nil, "/v/risk_triggers/0/note", ""},
		{"an income and a cost", nil, []IncomeUpdate{{Source: "wages", AmountFen: 1}, {Source: "costs", AmountFen: MaxIncomeUpdateFen}}, "", ""},
		{"unknown source", nil, []IncomeUpdate{{Source: "lottery", AmountFen: 1}}, "/v/income_updates/0/source", "invalid_enum"},
		{"zero", nil, []IncomeUpdate{{Source: "wages"}}, "/v/income_updates/0/amount_fen", "out_of_range"},
		{"above the limit", nil, []IncomeUpdate{{Source: "wages", AmountFen: MaxIncomeUpdateFen + 1}}, "/v/income_updates/0/amount_fen", "out_of_range"},
	} {
		var fe FieldErrors
		ValidateRiskTriggers(&fe, "/v/risk_triggers", tc.triggers)
		ValidateIncomeUpdates(&fe, "/v/income_updates", tc.updates)
		if tc.field == "" {
			if len(fe) != 0 {
				t.Errorf("%s: refused %+v", tc.name, fe)
			}
			continue
		}
		found := false
		for _, f := range fe {
			found = found || f.Field == tc.field && (tc.reason == "" || f.Reason == tc.reason)
		}
		if !found {
			t.Errorf("%s: errors %+v do not name %s (%s)", tc.name, fe, tc.field, tc.reason)
		}
	}
}

func allTriggers() []RiskTrigger {
	var out []RiskTrigger
	for _, t := range RiskTriggers {
		out = append(out, RiskTrigger{Code: t.Code})
	}
	return out
}

// TestRelapseCausesNameEveryTrigger: a warning's trigger is always a cause
// a relapse may name.
func TestRelapseCausesNameEveryTrigger(t *testing.T) {
	for _, tr := range RiskTriggers {
		if !RelapseCauses.Has(tr.Code) {
			t.Errorf("relapse causes lack %s", tr.Code)
		}
	}
}
