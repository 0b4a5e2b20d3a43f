package storage_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"pgregory.net/rapid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance"
	"github.com/fieldvisit/fieldvisit/internal/compliance/rules"
	"github.com/fieldvisit/fieldvisit/internal/testkit/storetest"
	"github.com/fieldvisit/fieldvisit/storage"
)

// allStates asks a report for every status, whatever its state.
var allStates = []string{rules.StateMet, rules.StateOnTrack, rules.StateDueSoon, rules.StateOverdue, rules.StateMissed}

// drawStatus draws a status whose days lie close together around base, so
// that the day a report is read on often falls on one of them: the
// comparisons' edges are where SQL and Go could disagree. The days need not
// be consistent with each other (overdue after the deadline, say): the SQL
// must agree with StateOn on any stored status.
func drawStatus(t *rapid.T, per rules.Period, base domain.Date, householdID uuid.UUID, n int) rules.Status {
	day := func(label string) domain.Date { return base.AddDays(rapid.IntRange(-3, 12).Draw(t, label)) }
	st := rules.Status{RuleCode: fmt.Sprintf("rule-%d", n), RuleNameZH: "规则", Subject: rules.SubjectHousehold, HouseholdID: householdID,
		Period: per, Required: rapid.IntRange(0, 3).Draw(t, "required"), CountedN: rapid.IntRange(0, 4).Draw(t, "counted"),
		DueOn: day("due_on"), DueSoonFrom: day("due_soon_from")}
	st.FullRequired = st.Required
	if rapid.Bool().Draw(t, "overdue") {
		d := day("overdue_from")
		st.OverdueFrom = &d
	}
	return st
}

// TestReportStateIsStateOn: the state a report computes in SQL from a stored
// status (stateSQL), on either dialect, is rules.Status.StateOn for the same
// status and day, and so is the state a close freezes. The SQL spells the
// Go rule a second time; this ties the two together.
func TestReportStateIsStateOn(t *testing.T) {
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, db *storage.DB) {
		s := storage.NewStore(db, nil)
		rapid.Check(t, func(t *rapid.T) {
			// Around New Year too: the days compare as text.
			base := domain.Date{Year: 2025, Month: time.December, Day: 20}.AddDays(rapid.IntRange(0, 60).Draw(t, "base"))
			per, _ := rules.PeriodOf(rules.WindowMonth, base)
			county, household := uuid.New(), uuid.New()
			path := "/" + county.String() + "/"
			j := compliance.Judgement{Subject: compliance.QueuedSubject{Kind: compliance.SubjectHousehold, ID: household, Year: base.Year, CountyID: county},
				ProfileCode: compliance.DefaultProfileCode, ProfileVersion: 1, At: time.Now()}
			for n := range rapid.IntRange(1, 6).Draw(t, "statuses") {
				j.Statuses = append(j.Statuses, compliance.JudgedStatus{Status: drawStatus(t, per, base, household, n), CountyID: county, RegionPath: path})
			}
			if err := s.SaveJudgement(ctx, j); err != nil {
				t.Fatal(err)
			}
			live := compliance.ReportFilter{RegionPath: path, PeriodKeys: []string{per.Key()}, States: allStates}
			for range 3 {
				live.Today = base.AddDays(rapid.IntRange(-5, 15).Draw(t, "today"))
				checkStates(t, s, live, live.Today, len(j.Statuses))
			}
			closedOn := base.AddDays(rapid.IntRange(-5, 15).Draw(t, "closed_on"))
			if err := s.ClosePeriod(ctx, county, per.Key(), closedOn, time.Now(), domain.AuditEntry{}); err != nil {
				t.Fatal(err)
			}
			frozen := live
			frozen.Frozen, frozen.Today = true, closedOn.AddDays(rapid.IntRange(0, 30).Draw(t, "read_on"))
			checkStates(t, s, frozen, closedOn, len(j.Statuses))
		})
	})
}

// checkStates reads a report's items and counts and checks each state is
// the status's StateOn(on).
func checkStates(t *rapid.T, s *storage.Store, f compliance.ReportFilter, on domain.Date, want int) {
	t.Helper()
	ctx := context.Background()
	items, total, err := s.ReportItems(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	if total != int64(want) || len(items) != want {
		t.Fatalf("the report on %s lists %d statuses (total %d), want %d", f.Today, len(items), total, want)
	}
	tally := map[string]int64{}
	for _, it := range items {
		if got, want := it.State, it.Status.StateOn(on); got != want {
			t.Fatalf("%s on %s (frozen %v): the report says %q, StateOn %q; status %+v", it.Status.RuleCode, on, f.Frozen, got, want, it.Status)
		}
		tally[it.State]++
	}
	counts, err := s.ReportCounts(ctx, f, compliance.Overall)
	if err != nil || len(counts) != 1 {
		t.Fatalf("counts: %+v, %v", counts, err)
	}
	c := counts[0]
	got := map[string]int64{rules.StateMet: c.Met, rules.StateOnTrack: c.OnTrack, rules.StateDueSoon: c.DueSoon, rules.StateOverdue: c.Overdue, rules.StateMissed: c.Missed}
	for _, st := range allStates {
		if got[st] != tally[st] {
			t.Fatalf("on %s (frozen %v) the counts say %d %s, the items %d", on, f.Frozen, got[st], st, tally[st])
		}
	}
}
