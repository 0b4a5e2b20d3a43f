package compliance_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance"
	"github.com/fieldvisit/fieldvisit/internal/compliance/rules"
)

// TestMissedReport: the missed-visit report of a county splits its counts
// by town, of a town or village by village; it reads a closed period's
// frozen statuses unless asked for the live ones; and it names each group:
// a region or cadre by its name, a rule by its name in the profiles (or its
// code once no profile has it), statuses nobody answers for as 未落实.
func TestMissedReport(t *testing.T) {
	today := domain.Date{Year: 2026, Month: time.May, Day: 15}
	closedAt := at(domain.Date{Year: 2026, Month: time.April, Day: 3}, 9).UTC()
	yearly := rules.DefaultProfile().Rules[0]
	for _, tc := range []struct {
		name       string
		region     func(p place) domain.Region
		closed     bool
		live       bool
		wantByKids compliance.Grouping
		wantFrozen bool
	}{
		{"a county's report counts by town", func(p place) domain.Region { return p.county }, false, false, compliance.ByTown, false},
		{"a town's report counts by village", func(p place) domain.Region { return p.town }, false, false, compliance.ByVillage, false},
		{"a village's report counts by village", func(p place) domain.Region { return p.village }, false, false, compliance.ByVillage, false},
		{"a closed period is read as frozen", func(p place) domain.Region { return p.county }, true, false, compliance.ByTown, true},
		{"a closed period asked live is read live", func(p place) domain.Region { return p.county }, true, true, compliance.ByTown, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeStore()
			f.profiles = map[string]rules.Profile{compliance.DefaultProfileCode: rules.DefaultProfile()}
			p := newPlace(f)
			region := tc.region(p)
			if tc.closed {
				f.closes[closeKey(p.county.ID, "2026-03")] = closedAt
			}
			cadre := uuid.New()
			f.names[cadre] = "王干部"
			f.counts[compliance.ByCadre] = []compliance.StateCounts{{Group: "", Total: 2, Missed: 2}, {Group: cadre.String(), Total: 3, Met: 3}}
			f.counts[compliance.ByRule] = []compliance.StateCounts{{Group: yearly.Code, Total: 4}, {Group: "retired-rule", Total: 1}}
			admin := domain.Principal{UserID: uuid.New(), Role: domain.RoleAdmin, RegionPath: p.county.Path}

			rep, err := service(t, f, at(today, 10)).Missed(context.Background(), admin, compliance.ReportQuery{RegionID: region.ID, Period: "2026-03", Live: tc.live})
			if err != nil {
				t.Fatal(err)
			}
			if want := []compliance.Grouping{compliance.Overall, tc.wantByKids, compliance.ByCadre, compliance.ByRule}; !slices.Equal(f.grouped, want) {
				t.Errorf("counted by %v, want %v", f.grouped, want)
			}
			for _, asked := range f.asked {
				if asked.Frozen != tc.wantFrozen || asked.RegionPath != region.Path || !slices.Equal(asked.PeriodKeys, []string{"2026-03"}) || asked.Today != today {
					t.Errorf("asked the store for %+v, want frozen %v in %s for 2026-03 on %s", asked, tc.wantFrozen, region.Path, today)
				}
			}
			if (rep.ClosedAt != nil) != tc.wantFrozen || rep.ClosedAt != nil && !rep.ClosedAt.Equal(closedAt) {
				t.Errorf("closed at %v, want frozen %v (closed at %s)", rep.ClosedAt, tc.wantFrozen, closedAt)
			}
			if got, want := names(rep.Cadres), []string{"未落实", "王干部"}; !slices.Equal(got, want) {
				t.Errorf("cadres named %q, want %q", got, want)
			}
			if got, want := names(rep.Rules), []string{yearly.NameZH, "retired-rule"}; !slices.Equal(got, want) {
				t.Errorf("rules named %q, want %q", got, want)
			}
			if items := f.asked[len(f.asked)-1]; !slices.Equal(items.States, []string{rules.StateMissed, rules.StateOverdue}) {
				t.Errorf("items asked in states %v, want missed and overdue by default", items.States)
			}
		})
	}
}

func names(gs []compliance.GroupCounts) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = g.Name
	}
	return out
}

// TestWorklist: only cadres have a worklist. It is what the calling cadre
// answers for in the current year, quarter and month and still needs
// attention, each with the line a cadre reads: how many visits are owed,
// counted and missing, and by when.
func TestWorklist(t *testing.T) {
	today := domain.Date{Year: 2026, Month: time.May, Day: 15}
	month, _ := rules.PeriodOf(rules.WindowMonth, today)
	for _, tc := range []struct {
		role          string
		wantForbidden bool
	}{
		{domain.RoleCadre, false},
		{domain.RoleSupervisor, true},
		{domain.RoleAdmin, true},
		{domain.RoleInspector, true},
	} {
		t.Run(tc.role, func(t *testing.T) {
			f := newFakeStore()
			st := rules.Status{RuleCode: "monthly", RuleNameZH: "每月走访", Period: month, Required: 3, CountedN: 1,
				DueOn: domain.Date{Year: 2026, Month: time.May, Day: 31}}
			f.items = []compliance.ReportItem{{JudgedStatus: compliance.JudgedStatus{Status: st}, State: rules.StateOverdue}}
			caller := domain.Principal{UserID: uuid.New(), Role: tc.role, RegionPath: "/"}

			items, err := service(t, f, at(today, 10)).Worklist(context.Background(), caller)
			if tc.wantForbidden {
				if !domain.IsCode(err, domain.CodeForbidden) {
					t.Fatalf("a %s's worklist: %v, want forbidden", tc.role, err)
				}
				return
			}
			if err != nil || len(items) != 1 {
				t.Fatalf("worklist: %d items, %v", len(items), err)
			}
			asked := f.asked[0]
			if deref(asked.CadreID) != caller.UserID || !slices.Equal(asked.PeriodKeys, []string{"2026", "2026-Q2", "2026-05"}) ||
				!slices.Equal(asked.States, []string{rules.StateMissed, rules.StateOverdue, rules.StateDueSoon, rules.StateOnTrack}) {
				t.Errorf("asked the store for %+v", asked)
			}
			for _, part := range []string{"2026年5月每月走访", "应走访3次", "已计入1次", "还差2次", "截止2026-05-31", "进度落后"} {
				if !strings.Contains(items[0].ReasonZH, part) {
					t.Errorf("the reason %q does not say %q", items[0].ReasonZH, part)
				}
			}
		})
	}
}

// TestAutoClose: every county's months, quarters and years close on their
// own once they ended at least the grace days ago, each once; a running
// period, one still in its grace, and one ended over 400 days ago stay
// open; a period closed by hand meanwhile is no failure.
func TestAutoClose(t *testing.T) {
	for _, tc := range []struct {
		name       string
		today      domain.Date
		grace      int
		closed     []string // closed before
		closeFails error
		wantClosed []string // among others
		wantOpen   []string
		wantErr    bool
	}{
		{name: "a month closes once its grace has passed", today: domain.Date{Year: 2026, Month: time.May, Day: 6}, grace: 5,
			wantClosed: []string{"2026-04", "2026-Q1", "2025"}, wantOpen: []string{"2026-05", "2026-Q2", "2026"}},
		{name: "not within its grace", today: domain.Date{Year: 2026, Month: time.May, Day: 5}, grace: 5,
			wantClosed: []string{"2026-03"}, wantOpen: []string{"2026-04"}},
		{name: "a period closed before is not closed again", today: domain.Date{Year: 2026, Month: time.May, Day: 6}, grace: 5,
			closed: []string{"2026-04"}, wantClosed: []string{"2026-03"}, wantOpen: []string{"2026-04"}},
		{name: "a month over 400 days ago is left alone", today: domain.Date{Year: 2026, Month: time.May, Day: 15}, grace: 0,
			wantClosed: []string{"2025-04"}, wantOpen: []string{"2025-03", "2025-Q1"}},
		{name: "closed by hand meanwhile", today: domain.Date{Year: 2026, Month: time.May, Day: 6}, grace: 5,
			closeFails: domain.Conflict("the period is already closed", "该期间已结账")},
		{name: "another failure stops the pass", today: domain.Date{Year: 2026, Month: time.May, Day: 6}, grace: 5,
			closeFails: domain.Unavailable("database", time.Second, nil), wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeStore()
			counties := []uuid.UUID{newPlace(f).county.ID, newPlace(f).county.ID}
			for _, county := range counties {
				for _, period := range tc.closed {
					f.closes[closeKey(county, period)] = at(tc.today, 0)
				}
			}
			f.closeFails = tc.closeFails

			_, err := service(t, f, at(tc.today, 10)).AutoClose(context.Background(), tc.grace)
			if (err != nil) != tc.wantErr {
				t.Fatalf("auto close: %v, want an error %v", err, tc.wantErr)
			}
			for _, county := range counties {
				for _, period := range tc.wantClosed {
					if !slices.Contains(f.closed, closeKey(county, period)) {
						t.Errorf("%s was not closed", period)
					}
				}
				for _, period := range tc.wantOpen {
					if slices.Contains(f.closed, closeKey(county, period)) {
						t.Errorf("%s was closed", period)
					}
				}
			}
		})
	}
}
