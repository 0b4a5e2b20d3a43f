package domain

import (
	"strings"
	"testing"

	"github.com/google/uuid"
)

// TestPlanItemRules: each field of a measure is checked and named.
func TestPlanItemRules(t *testing.T) {
	good := PlanItemDetails{Route: "industry", Measure: "种植油茶3亩", ResponsibleCadreID: uuid.New(), TargetOn: Date{Year: 2027, Month: 6, Day: 30},
		State: PlanPlanned}
	tests := []struct {
		name   string
		edit   func(*PlanItemDetails)
		field  string
		reason string
	}{
		{"a good measure", func(*PlanItemDetails) {}, "", ""},
		{"an unknown route", func(d *PlanItemDetails) { d.Route = "lottery" }, "/data/route", "invalid_enum"},
		{"no measure", func(d *PlanItemDetails) { d.Measure = "  " }, "/data/measure", "required"},
		{"a measure too long", func(d *PlanItemDetails) { d.Measure = strings.Repeat("油", MaxPlanMeasure+1) }, "/data/measure", "too_long"},
		{"nobody responsible", func(d *PlanItemDetails) { d.ResponsibleCadreID = uuid.Nil }, "/data/responsible_cadre_id", "required"},
		{"no target date", func(d *PlanItemDetails) { d.TargetOn = Date{} }, "/data/target_on", "required"},
		{"a target date before 2013", func(d *PlanItemDetails) { d.TargetOn = Date{Year: 2012, Month: 1, Day: 1} }, "/data/target_on", "out_of_range"},
		{"an unknown state", func(d *PlanItemDetails) { d.State = "finished" }, "/data/state", "invalid_enum"},
		{"notes with a NUL", func(d *PlanItemDetails) { d.Notes = "a\x00b" }, "/data/notes", "control_character"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := good
			tc.edit(&d)
			var fe FieldErrors
			d.Validate(&fe, "/data")
			if tc.field == "" {
				if len(fe) > 0 {
					t.Fatalf("refused: %+v", fe)
				}
				return
			}
			if len(fe) != 1 || fe[0].Field != tc.field || fe[0].Reason != tc.reason {
				t.Fatalf("want %s %s, got %+v", tc.field, tc.reason, fe)
			}
		})
	}
}

// TestPlanProgressRules: a visit's progress names each measure once, with a note.
func TestPlanProgressRules(t *testing.T) {
	a := uuid.New()
	tests := []struct {
		name   string
		ps     []PlanProgress
		field  string
		reason string
	}{
		{"one entry", []PlanProgress{{PlanItemID: a, Note: "苗木已到位"}}, "", ""},
		{"no measure named", []PlanProgress{{Note: "x"}}, "/plan_progress/0/plan_item_id", "required"},
		{"a measure twice", []PlanProgress{{PlanItemID: a, Note: "x"}, {PlanItemID: a, Note: "y"}}, "/plan_progress/1/plan_item_id", "duplicate"},
		{"no note", []PlanProgress{{PlanItemID: a}}, "/plan_progress/0/note", "required"},
		{"too many", make31(), "/plan_progress", "too_many"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var fe FieldErrors
			ValidatePlanProgress(&fe, "/plan_progress", tc.ps)
			if tc.field == "" {
				if len(fe) > 0 {
					t.Fatalf("refused: %+v", fe)
				}
				return
			}
			if len(fe) != 1 || fe[0].Field != tc.field || fe[0].Reason != tc.reason {
				t.Fatalf("want %s %s, got %+v", tc.field, tc.reason, fe)
			}
		})
	}
}

func make31() []PlanProgress {
	out := make([]PlanProgress, MaxPlanProgress+1)
	for i := range out {
		out[i] = PlanProgress{PlanItemID: uuid.New(), Note: "进展"}
	}
	return out
}
