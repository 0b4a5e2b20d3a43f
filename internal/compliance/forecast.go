package compliance

import (
	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance/rules"
)

// ForecastStatuses is the at-risk forecast of statuses as of today (see
// rules.Forecast): each cadre's pace is measured from visits (the cadres'
// visits of the weeks before today, rules.PaceWeeks; counts says which
// show their pace), and statuses should be every not-yet-met status of
// the current periods of the cadres concerned, so that what a cadre owes
// is summed over all their households. The back-test of the demo
// (demo.BacktestForecast) calls it as the forecast route does.
func ForecastStatuses(statuses []JudgedStatus, visits []rules.VisitFact, counts func(rules.VisitFact) bool, today domain.Date) []rules.Risk {
	owed := make([]rules.Owed, len(statuses))
	for i, js := range statuses {
		owed[i] = rules.Owed{Status: js.Status, Cadre: js.CadreID}
	}
	return rules.Forecast(owed, rules.Paces(visits, counts, today), today)
}
