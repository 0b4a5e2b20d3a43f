package compliance

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance/rules"
)

// What a supervisor's overview (the console's first page) reads: the same
// stored statuses as the missed-visit report, counted by town and village
// for several periods at once, the monthly trend, and the visits' evidence
// flags.

// PeriodCounts are a region's counts for one period: the total, by town and
// by village. Towns is empty for a region below county level (a town's
// supervisor sees its villages).
type PeriodCounts struct {
	Period   rules.Period
	ClosedAt *time.Time // the period's frozen close, when it was read
	Total    StateCounts
	Towns    []GroupCounts
	Villages []GroupCounts
}

// Rates counts a region's statuses for each period key (empty: the current
// month, quarter and year), by town and by village, as the missed-visit
// report counts them (a closed period reads its frozen close). The same
// callers as Missed: supervisors, admins and inspectors.
func (s *Service) Rates(ctx context.Context, p domain.Principal, regionID uuid.UUID, periods []string) ([]PeriodCounts, error) {
	if len(periods) == 0 {
		keys := currentKeys(s.today())
		periods = []string{keys[2], keys[1], keys[0]} // month, quarter, year
	}
	out := make([]PeriodCounts, 0, len(periods))
	for _, key := range periods {
		r, per, err := s.reportScope(ctx, p, ReportQuery{RegionID: regionID, Period: key})
		if err != nil {
			return nil, err
		}
		pc, err := s.periodCounts(ctx, p, r, per, true)
		if err != nil {
			return nil, err
		}
		out = append(out, pc)
	}
	return out, nil
}

// Trend is a region's overall counts for each of the last months months,
// oldest first, ending with the current one.
func (s *Service) Trend(ctx context.Context, p domain.Principal, regionID uuid.UUID, months int) ([]PeriodCounts, error) {
	if months < 1 || months > 36 {
		return nil, domain.Invalid(domain.FieldError{Field: "months", Reason: "out_of_range", Message: "months must be between 1 and 36", MessageZH: "月数应在1到36之间"})
	}
	r, _, err := s.reportScope(ctx, p, ReportQuery{RegionID: regionID})
	if err != nil {
		return nil, err
	}
	today := s.today()
	first := domain.Date{Year: today.Year, Month: today.Month, Day: 1}
	out := make([]PeriodCounts, 0, months)
	for i := months - 1; i >= 0; i-- {
		m := domain.DateOf(first.Start().AddDate(0, -i, 0))
		per, _ := rules.PeriodOf(rules.WindowMonth, m)
		pc, err := s.periodCounts(ctx, p, r, per, false)
		if err != nil {
			return nil, err
		}
		out = append(out, pc)
	}
	return out, nil
}

// periodCounts counts r's statuses for per as p may read them, reading
// the period's frozen close when the county closed it, as Missed does;
// groups adds the towns and villages.
func (s *Service) periodCounts(ctx context.Context, p domain.Principal, r domain.Region, per rules.Period, groups bool) (PeriodCounts, error) {
	pc := PeriodCounts{Period: per}
	f := ReportFilter{RegionPath: r.Path, PeriodKeys: []string{per.Key()}, Today: s.today(), Households: tasksOnly(p)}
	if r.CountyID != nil {
		closed, err := s.store.PeriodClose(ctx, *r.CountyID, per.Key())
		if err != nil {
			return pc, err
		}
		pc.ClosedAt, f.Frozen = closed, closed != nil
	}
	total, err := s.store.ReportCounts(ctx, f, Overall)
	if err != nil {
		return pc, err
	}
	if len(total) == 1 {
		pc.Total = total[0]
	}
	if !groups {
		return pc, nil
	}
	var bys []Grouping
	var outs []*[]GroupCounts
	switch r.Level {
	case domain.LevelProvince, domain.LevelCity, domain.LevelCounty:
		bys, outs = []Grouping{ByTown, ByVillage}, []*[]GroupCounts{&pc.Towns, &pc.Villages}
	default:
		bys, outs = []Grouping{ByVillage}, []*[]GroupCounts{&pc.Villages}
	}
	for i, by := range bys {
		counts, err := s.store.ReportCounts(ctx, f, by)
		if err != nil {
			return pc, err
		}
		if *outs[i], err = s.named(ctx, by, counts); err != nil {
			return pc, err
		}
	}
	return pc, nil
}

// FlagCount is how many visits of a period carry one flag.
type FlagCount struct {
	Code    string
	LabelZH string
	Visits  int64
}

// FlagCounts counts the visits started in a period (a year, quarter or
// month key; empty: the current month) to households of a region that
// carry each flag, most frequent first: the suspicious visits a supervisor
// looks into. Deleted visits are not counted.
func (s *Service) FlagCounts(ctx context.Context, p domain.Principal, regionID uuid.UUID, period string) ([]FlagCount, rules.Period, error) {
	r, per, err := s.reportScope(ctx, p, ReportQuery{RegionID: regionID, Period: period})
	if err != nil {
		return nil, per, err
	}
	counts, err := s.store.VisitFlagCounts(ctx, VisitLedgerFilter{RegionPath: r.Path, From: per.Start.Start(), To: per.End.Start(),
		Households: tasksOnly(p), Today: s.today(), Reader: p.VisitReader()})
	if err != nil {
		return nil, per, err
	}
	return namedFlagCounts(counts), per, nil
}

// namedFlagCounts labels visits counted by flag code, most frequent first.
func namedFlagCounts(counts map[string]int64) []FlagCount {
	out := make([]FlagCount, 0, len(counts))
	for code, n := range counts {
		label, ok := domain.VisitFlags.Label(code)
		if !ok {
			label = code
		}
		out = append(out, FlagCount{Code: code, LabelZH: label, Visits: n})
	}
	slices.SortFunc(out, func(a, b FlagCount) int {
		if a.Visits != b.Visits {
			return int(b.Visits - a.Visits)
		}
		return strings.Compare(a.Code, b.Code)
	})
	return out
}
