package casework

import (
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// TestPerCapita: net income is gross less costs and may be negative; the
// per-capita figure is rounded to the fen, half away from zero.
func TestPerCapita(t *testing.T) {
	for _, tc := range []struct {
		name           string
		f              IncomeFields
		net, perCapita int64
	}{
		{"every source, less costs", IncomeFields{WagesFen: 1_200_000, BusinessFen: 300_000, TransfersFen: 50_000, PensionsFen: 80_000,
			PropertyFen: 40_000, CostsFen: 120_000, MembersCounted: 4}, 1_550_000, 387_500},
		{"a third of a fen rounds down", IncomeFields{WagesFen: 100, MembersCounted: 3}, 100, 33},
		{"two thirds round up", IncomeFields{WagesFen: 200, MembersCounted: 3}, 200, 67},
		{"a half rounds away from zero", IncomeFields{WagesFen: 1, MembersCounted: 2}, 1, 1},
		{"a loss: costs above income", IncomeFields{BusinessFen: 100_000, CostsFen: 250_001, MembersCounted: 2}, -150_001, -75_001},
		{"nobody counted", IncomeFields{WagesFen: 100}, 100, 0},
	} {
		if got := tc.f.NetFen(); got != tc.net {
			t.Errorf("%s: net %d, want %d", tc.name, got, tc.net)
		}
		if got := tc.f.PerCapitaFen(); got != tc.perCapita {
			t.Errorf("%s: per capita %d, want %d", tc.name, got, tc.perCapita)
		}
	}
}

// TestIncomeAccountIDIsDerived: the same household and year give the same
// id on every phone; another year another id.
func TestIncomeAccountIDIsDerived(t *testing.T) {
	h := uuid.New()
	if IncomeAccountID(h, 2026) != IncomeAccountID(h, 2026) || IncomeAccountID(h, 2026) == IncomeAccountID(h, 2025) {
		t.Fatal("income account ids are not derived from household and year alone")
	}
}

// TestJudgeAtTheThreshold: reaching the standard exactly qualifies, one fen
// below does not; a checklist problem, a missing account or an open risk
// says why; confirmed indicators are pending, not failing.
func TestJudgeAtTheThreshold(t *testing.T) {
	st := DefaultExitStandard(2026)
	allMet := map[string]ChecklistAnswer{}
	for _, it := range domain.ChecklistItems {
		allMet[it.Code] = ChecklistAnswer{Answer: "met", On: domain.Date{Year: 2026, Month: 6, Day: 1}}
	}
	withProblem := map[string]ChecklistAnswer{}
	for k, v := range allMet {
		withProblem[k] = v
	}
	withProblem["housing"] = ChecklistAnswer{Answer: "problem", On: domain.Date{Year: 2026, Month: 6, Day: 1}}
	account := func(perCapita int64) map[int]IncomeAccount {
		return map[int]IncomeAccount{2026: {Year: 2026, IncomeFields: IncomeFields{WagesFen: perCapita * 3, MembersCounted: 3}}}
	}
	illness := []Warning{{Trigger: "serious_illness", SeenOn: domain.Date{Year: 2026, Month: 11, Day: 2}, State: WarningOpen}}
	for _, tc := range []struct {
		name      string
		accounts  map[int]IncomeAccount
		checklist map[string]ChecklistAnswer
		risks     []Warning
		qualifies bool
		failing   string
		says      string
	}{
		{"exactly at 3335.00 yuan", account(333_500), allMet, nil, true, "", ""},
		{"one fen below", account(333_499), allMet, nil, false, "income", ""},
		{"no account", nil, allMet, nil, false, "income", ""},
		{"housing unsafe at the last visit", account(400_000), withProblem, nil, false, "housing", ""},
		{"no visit answered the checklist", account(400_000), nil, nil, false, "food", ""},
		{"a serious illness not resolved", account(400_000), allMet, illness, false, "no_open_risk", "存在未消除的返贫风险：大病（2026-11-02 登记）"},
	} {
		c := Judge(domain.Household{}, st, map[int]ExitStandard{2026: st}, tc.accounts, tc.checklist, tc.risks)
		if c.Qualifies != tc.qualifies {
			t.Errorf("%s: qualifies %v, want %v (%+v)", tc.name, c.Qualifies, tc.qualifies, c.Reasons)
		}
		for _, r := range c.Reasons {
			if r.ReasonZH == "" {
				t.Errorf("%s: %s has no reason", tc.name, r.Code)
			}
			if r.Code == tc.failing && r.Met {
				t.Errorf("%s: %s is met: %s", tc.name, r.Code, r.ReasonZH)
			}
			if r.Code == tc.failing && tc.says != "" && r.ReasonZH != tc.says {
				t.Errorf("%s: %s says %q, want %q", tc.name, r.Code, r.ReasonZH, tc.says)
			}
			if r.Check == CheckConfirmed && !(r.Met && r.Pending) {
				t.Errorf("%s: confirmed indicator %s is not pending", tc.name, r.Code)
			}
		}
	}
	stable := st
	stable.StableYears = 2
	last := DefaultExitStandard(2025)
	last.PerCapitaFen = 300_000
	accounts := account(333_500)
	accounts[2025] = IncomeAccount{Year: 2025, IncomeFields: IncomeFields{WagesFen: 299_999, MembersCounted: 1}}
	if c := Judge(domain.Household{}, stable, map[int]ExitStandard{2026: stable, 2025: last}, accounts, allMet, nil); c.Qualifies {
		t.Errorf("two stable years with last year one fen below its standard qualifies: %+v", c.Reasons)
	}
}

// TestYuan writes fen as yuan.
func TestYuan(t *testing.T) {
	for fen, want := range map[int64]string{333500: "3335.00", 5: "0.05", -75001: "-750.01", 0: "0.00"} {
		if got := Yuan(fen); got != want {
			t.Errorf("Yuan(%d) = %s, want %s", fen, got, want)
		}
	}
}

// TestExitStandardValidation names each bad field.
func TestExitStandardValidation(t *testing.T) {
	today := domain.Date{Year: 2026, Month: 8, Day: 15}
	for _, tc := range []struct {
		name  string
		edit  func(*ExitStandard)
		field string
	}{
		{"zero amount", func(s *ExitStandard) { s.PerCapitaFen = 0 }, "/per_capita_fen"},
		{"no indicators", func(s *ExitStandard) { s.Indicators = nil }, "/indicators"},
		{"unknown check", func(s *ExitStandard) { s.Indicators[1].Check = "checklist:wifi" }, "/indicators/1/check"},
		{"duplicate code", func(s *ExitStandard) { s.Indicators[2].Code = "food" }, "/indicators/2/code"},
		{"stable for ten years", func(s *ExitStandard) { s.StableYears = 10 }, "/stable_years"},
	} {
		st := DefaultExitStandard(2026)
		tc.edit(&st)
		var fe domain.FieldErrors
		st.Validate(&fe, today)
		found := false
		for _, f := range fe {
			found = found || f.Field == tc.field
		}
		if !found {
			t.Errorf("%s: errors %+v do not name %s", tc.name, fe, tc.field)
		}
	}
	var fe domain.FieldErrors
	DefaultExitStandard(2026).Validate(&fe, today)
	if len(fe) != 0 {
		t.Errorf("the default standard is refused: %+v", fe)
	}
}

// TestParseYuanReadsWhatYuanWrites: amounts as people type them, and
// nothing else.
func TestParseYuanReadsWhatYuanWrites(t *testing.T) {
	for _, tc := range []struct {
		in  string
		fen int64
		ok  bool
	}{
		{"50000", 5_000_000, true}, {"50,000.5", 5_000_050, true}, {"3335.00", 333_500, true}, {" 0 ", 0, true}, {"12，345.67", 1_234_567, true},
		{"", 0, false}, {"五万", 0, false}, {"1.234", 0, false}, {"-5", 0, false}, {".5", 0, false}, {"1e5", 0, false}, {"1234567890123", 0, false},
	} {
		fen, ok := ParseYuan(tc.in)
		if ok != tc.ok || ok && fen != tc.fen {
			t.Errorf("ParseYuan(%q) = %d, %v; want %d, %v", tc.in, fen, ok, tc.fen, tc.ok)
		}
		if back, _ := ParseYuan(Yuan(fen)); ok && back != fen {
			t.Errorf("Yuan(%d) = %q reads back as %d", fen, Yuan(fen), back)
		}
	}
}

// TestResolutionsFollowTheRegister: a warning's list offers a resolution
// that moves the status (纳入边缘户, 认定返贫) when the register allows that
// move for a household of the list, and only then — a register warning
// only 风险已消除 (the register refused 纳入边缘户 there with 422); every
// list offers 风险已消除.
func TestResolutionsFollowTheRegister(t *testing.T) {
	moves := map[string]string{ResolveEdge: domain.StatusEdge, ResolveRelapsed: domain.StatusRelapsed}
	today := domain.Date{Year: 2026, Month: 12, Day: 7}
	allows := func(from, to string) bool {
		h := domain.Household{Status: from, PovertyType: "ordinary"}
		var de *domain.Error
		if err := domain.ValidateStatusChange(h, to, nil, "", today, today); errors.As(err, &de) {
			for _, f := range de.Fields {
				if f.Field == "/status" {
					return false
				}
			}
		}
		return true
	}
	for _, list := range WarningLists {
		offered := ResolutionsFor(list.Code)
		if !offered.Has(ResolveCleared) {
			t.Errorf("%s does not offer 风险已消除: %v", list.Label, offered)
		}
		for resolution, to := range moves {
			allowed := false
			for _, st := range domain.Statuses {
				if listFor(st.Code) == list.Code && allows(st.Code, to) {
					allowed = true
				}
			}
			if offered.Has(resolution) != allowed {
				t.Errorf("%s offers %s: %v, the register allows the move for one of its households: %v", list.Label, resolution, offered.Has(resolution), allowed)
			}
		}
	}
	if got := ResolutionsFor(ListRegister); len(got) != 1 || got[0] != (domain.Term{Code: ResolveCleared, Label: "风险已消除"}) {
		t.Errorf("a register warning offers %v, want 风险已消除 alone", got)
	}
	if got := ResolutionsFor(ListEdge); len(got) != 2 || got[1].Label != "纳入边缘户" {
		t.Errorf("an edge warning offers %v, want 风险已消除 and 纳入边缘户", got)
	}
}
