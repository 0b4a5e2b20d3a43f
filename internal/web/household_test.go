package web

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance/rules"
)

// TestConflictValue: a stored JSON value reads as people write it — text
// as it is, codes by their Chinese labels, lists joined, nothing as （空）.
func TestConflictValue(t *testing.T) {
	for _, tt := range []struct {
		field, raw, want string
	}{
		{"phone", `"13900001111"`, "13900001111"},
		{"phone", `""`, "（空）"},
		{"phone", `null`, "（空）"},
		{"phone", ``, "（空）"},
		{"address", `"东风村一组8号 <b>"`, "东风村一组8号 <b>"},
		{"housing_structure", `"brick_concrete"`, "砖混"},
		{"causes", `["illness","disability"]`, "因病、因残"},
		{"causes", `[]`, "（空）"},
		{"annual_income", `9030.5`, "9030.5"},
		{"household_confirmed", `true`, "是"},
		{"home", `{"lat":32.1,"lon":114.2}`, `{"lat":32.1,"lon":114.2}`},
	} {
		if got := conflictValue(tt.field, json.RawMessage(tt.raw)); got != tt.want {
			t.Errorf("%s %s: %q, want %q", tt.field, tt.raw, got, tt.want)
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
