package demo

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance"
	"github.com/fieldvisit/fieldvisit/internal/compliance/rules"
)

// BacktestRow is how the at-risk forecast did on one closed quarter of the
// demo's visit history, made LeadDays before the quarter's end with only
// the visits made by then.
type BacktestRow struct {
	Quarter  string `json:"quarter"`   // 2026-Q2
	LeadDays int    `json:"lead_days"` // 14 or 28
	Judged   int    `json:"judged"`    // households with a quarterly status in the quarter
	Missed   int    `json:"missed"`    // of them, those that ended the quarter missed
	Flagged  int    `json:"flagged"`   // households the forecast put at risk
	Hits     int    `json:"hits"`      // flagged and then missed
}

// Recall is the share of the quarter's missed households the forecast
// flagged in time.
func (r BacktestRow) Recall() float64 { return ratio(r.Hits, r.Missed) }

// Precision is the share of flagged households that did miss.
func (r BacktestRow) Precision() float64 { return ratio(r.Hits, r.Flagged) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// BacktestLeads are the days before a quarter's end the back-test
// forecasts on: two and four weeks.
var BacktestLeads = []int{14, 28}

// BacktestForecast draws the demo county of opt in memory (nothing is
// stored) and replays the at-risk forecast on its year of visit history:
// for each quarter that lies wholly in the history and has ended, and each
// lead in BacktestLeads, it judges every household as of that day from the
// visits made before it, forecasts as GET /compliance/forecast does
// (compliance.ForecastStatuses over every current period, each cadre's pace
// from their visits of the weeks before), and compares the households put
// at risk on a quarterly status with those whose quarterly status ended
// missed once the whole history is in.
func BacktestForecast(opt Options) ([]BacktestRow, error) {
	opt.HashPassword = func(context.Context) (string, error) { return "", nil } // nothing is stored
	if err := opt.defaults(); err != nil {
		return nil, err
	}
	p, err := build(opt)
	if err != nil {
		return nil, err
	}
	prof := rules.DefaultProfile()
	facts := make([]rules.HouseholdFacts, len(p.households))
	pairings := make([][]domain.Pairing, len(p.households))
	index := map[uuid.UUID]int{}
	for i, hh := range p.households {
		hist := compliance.HouseholdHistory{Household: hh.h, RegionPath: hh.path, Pairings: hh.pairings}
		for _, s := range hh.steps {
			hist.StatusChanges = append(hist.StatusChanges, s.sc)
			if s.pc != nil {
				hist.PovertyChanges = append(hist.PovertyChanges, *s.pc)
			}
		}
		facts[i] = compliance.HouseholdFacts(hist)
		pairings[i] = hh.pairings
		index[hh.h.ID] = i
	}
	visits := make([][]rules.VisitFact, len(p.households))
	var all []rules.VisitFact
	for _, pv := range p.visitPlan.visits {
		v := rules.VisitFactOf(pv.v, pv.hh.h.VillageID, pv.hh.h.RegionID)
		i := index[v.HouseholdID]
		visits[i] = append(visits[i], v)
		all = append(all, v)
	}
	historyFrom := p.today.AddDays(-historyDays)
	var out []BacktestRow
	for y := historyFrom.Year; y <= p.today.Year; y++ {
		quarters, _ := rules.PeriodsOfYear(rules.WindowQuarter, y)
		for _, q := range quarters {
			if q.Start.Before(historyFrom) || p.today.Before(q.End) {
				continue
			}
			// The outcome: quarterly statuses judged with every visit.
			missed := map[uuid.UUID]bool{}
			judged := map[uuid.UUID]bool{}
			for i, f := range facts {
				for _, st := range rules.EvaluateHousehold(prof, f, visits[i], q, p.today) {
					judged[f.ID] = true
					if st.State == rules.StateMissed {
						missed[f.ID] = true
					}
				}
			}
			for _, lead := range BacktestLeads {
				day := q.End.AddDays(-lead)
				var owed []compliance.JudgedStatus
				for i, f := range facts {
					known := before(visits[i], day)
					for _, w := range []string{rules.WindowYear, rules.WindowQuarter, rules.WindowMonth} {
						per, _ := rules.PeriodOf(w, day)
						for _, st := range rules.EvaluateHousehold(prof, f, known, per, day) {
							js := compliance.JudgedStatus{Status: st, CadreID: st.CadreID}
							if js.CadreID == nil {
								js.CadreID = compliance.Answering(pairings[i], st, day)
							}
							owed = append(owed, js)
						}
					}
				}
				risks := compliance.ForecastStatuses(owed, before(all, day), prof.CountsForPace, day)
				flagged := map[uuid.UUID]bool{}
				for i, js := range owed {
					if risks[i].AtRisk && js.Status.Period == q {
						flagged[js.Status.HouseholdID] = true
					}
				}
				row := BacktestRow{Quarter: q.Key(), LeadDays: lead, Judged: len(judged), Missed: len(missed), Flagged: len(flagged)}
				for id := range flagged {
					if missed[id] {
						row.Hits++
					}
				}
				out = append(out, row)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("demo: no closed quarter lies wholly in the history before %s", p.today)
	}
	return out, nil
}

// before keeps the visits started before day.
func before(vs []rules.VisitFact, day domain.Date) []rules.VisitFact {
	var out []rules.VisitFact
	for _, v := range vs {
		if v.On().Before(day) {
			out = append(out, v)
		}
	}
	return out
}

// BacktestTotals sums rows by lead, in BacktestLeads order; Quarter says
// "all".
func BacktestTotals(rows []BacktestRow) []BacktestRow {
	var out []BacktestRow
	for _, lead := range BacktestLeads {
		t := BacktestRow{Quarter: "all", LeadDays: lead}
		for _, r := range rows {
			if r.LeadDays == lead {
				t.Judged += r.Judged
				t.Missed += r.Missed
				t.Flagged += r.Flagged
				t.Hits += r.Hits
			}
		}
		out = append(out, t)
	}
	return out
}
