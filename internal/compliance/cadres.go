package compliance

import (
	"context"
	"slices"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance/rules"
)

// RhythmMonths is how many months, the current one last, a cadre summary
// counts visits over.
const RhythmMonths = 12

// CadreSummary is what a cadre's page shows: the households paired with
// them today, each with the statuses they answer for in the current year,
// quarter and month; the statuses of their own duties; their visits per
// month; and the evidence flags on those visits.
type CadreSummary struct {
	Cadre      domain.User
	Today      domain.Date
	Periods    []rules.Period // the current year, quarter and month
	Households []CadreHousehold
	Duties     []ReportItem    // current statuses of the cadre's duties (no household)
	Months     []MonthlyVisits // the last RhythmMonths months, oldest first
	Flags      []FlagCount     // how many of those months' visits carry each flag, most frequent first
}

// CadreHousehold is a household on a cadre's page.
type CadreHousehold struct {
	PairedHousehold
	// WorstState is the worst state (missed, overdue, due_soon, on_track,
	// met) among Statuses; "" when no rule judges the household for the
	// cadre in the current periods.
	WorstState string
	Statuses   []ReportItem
}

// MonthlyVisits counts a cadre's visits (deleted ones left out) started in
// one month.
type MonthlyVisits struct {
	Month   rules.Period
	Visits  int
	Flagged int // visits with at least one evidence flag
}

// stateRank orders states worst first.
var stateRank = map[string]int{rules.StateMissed: 0, rules.StateOverdue: 1, rules.StateDueSoon: 2, rules.StateOnTrack: 3, rules.StateMet: 4}

// CadreSummary builds one cadre's page. A cadre reads only their own; a
// supervisor or admin reads the cadres of their region subtree (and only
// what lies in it); anything else — another cadre, an inspector, an
// account that is no cadre — is not found, the same answer as an unknown
// id.
func (s *Service) CadreSummary(ctx context.Context, p domain.Principal, cadreID uuid.UUID) (CadreSummary, error) {
	// A cadre reads all of their own page; a manager what lies in their
	// subtree, of a cadre placed in it.
	var within string
	switch {
	case p.Role == domain.RoleCadre && p.UserID == cadreID:
		within = "/"
	case p.Manages():
		within = p.RegionPath
	default:
		return CadreSummary{}, domain.NotFound("cadre")
	}
	cadre, err := s.store.User(ctx, cadreID)
	if domain.IsCode(err, domain.CodeNotFound) || err == nil && (cadre.Role != domain.RoleCadre || !p.InSubtree(cadre.RegionPath)) {
		return CadreSummary{}, domain.NotFound("cadre")
	}
	if err != nil {
		return CadreSummary{}, err
	}
	today := s.today()
	out := CadreSummary{Cadre: cadre, Today: today}
	for _, w := range []string{rules.WindowYear, rules.WindowQuarter, rules.WindowMonth} {
		per, _ := rules.PeriodOf(w, today)
		out.Periods = append(out.Periods, per)
	}
	if err := s.cadreHouseholds(ctx, &out, within); err != nil {
		return CadreSummary{}, err
	}
	return out, s.cadreRhythm(ctx, &out, within)
}

// cadreHouseholds fills the households and duties with the current
// statuses the cadre answers for.
func (s *Service) cadreHouseholds(ctx context.Context, out *CadreSummary, within string) error {
	paired, err := s.store.PairedHouseholds(ctx, within, out.Cadre.ID, out.Today)
	if err != nil {
		return err
	}
	id := out.Cadre.ID
	keys := make([]string, len(out.Periods))
	for i, per := range out.Periods {
		keys[i] = per.Key()
	}
	items, _, err := s.store.ReportItems(ctx, ReportFilter{RegionPath: within, PeriodKeys: keys, Today: out.Today, CadreID: &id})
	if err != nil {
		return err
	}
	byHousehold := map[uuid.UUID][]ReportItem{}
	out.Duties = []ReportItem{}
	for _, it := range items {
		if it.Status.HouseholdID == uuid.Nil {
			out.Duties = append(out.Duties, it)
			continue
		}
		byHousehold[it.Status.HouseholdID] = append(byHousehold[it.Status.HouseholdID], it)
	}
	out.Households = make([]CadreHousehold, len(paired))
	for i, ph := range paired {
		h := CadreHousehold{PairedHousehold: ph, Statuses: byHousehold[ph.Household.ID]}
		if h.Statuses == nil {
			h.Statuses = []ReportItem{}
		}
		for _, it := range h.Statuses {
			if h.WorstState == "" || stateRank[it.State] < stateRank[h.WorstState] {
				h.WorstState = it.State
			}
		}
		out.Households[i] = h
	}
	return nil
}

// cadreRhythm fills the visits per month and the evidence flags on them.
func (s *Service) cadreRhythm(ctx context.Context, out *CadreSummary, within string) error {
	month, _ := rules.PeriodOf(rules.WindowMonth, out.Today)
	for range RhythmMonths {
		out.Months = append(out.Months, MonthlyVisits{Month: month})
		month, _ = rules.PeriodOf(rules.WindowMonth, month.Start.AddDays(-1))
	}
	slices.Reverse(out.Months)
	from, to := out.Months[0].Month.Start.Start(), out.Months[len(out.Months)-1].Month.End.Start()
	visits, err := s.store.CadreVisitFactsWithin(ctx, within, out.Cadre.ID, from, to)
	if err != nil {
		return err
	}
	for _, v := range visits {
		i := slices.IndexFunc(out.Months, func(m MonthlyVisits) bool { return m.Month.Contains(v.On()) })
		if v.Deleted || i < 0 {
			continue
		}
		out.Months[i].Visits++
		if len(v.Flags) > 0 {
			out.Months[i].Flagged++
		}
	}
	id := out.Cadre.ID
	flags, err := s.store.VisitFlagCounts(ctx, VisitLedgerFilter{RegionPath: within, CadreID: &id, From: from, To: to})
	out.Flags = namedFlagCounts(flags)
	return err
}
