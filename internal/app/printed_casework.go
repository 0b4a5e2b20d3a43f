package app

import (
	"context"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/casework"
	"github.com/fieldvisit/fieldvisit/internal/plans"
	"github.com/fieldvisit/fieldvisit/internal/printforms"
)

// printedCasework gives the printed forms (明白卡, 一户一档) the household's
// plan and income accounts, read through their own services with the
// caller's scope.
type printedCasework struct {
	plans    *plans.Service
	casework *casework.Service
}

func (c printedCasework) Plan(ctx context.Context, p domain.Principal, householdID uuid.UUID) ([]printforms.PlanMeasure, error) {
	plan, err := c.plans.HouseholdPlan(ctx, p, householdID)
	if err != nil {
		return nil, err
	}
	out := make([]printforms.PlanMeasure, 0, len(plan.Items))
	for _, it := range plan.Items {
		if it.Deleted {
			continue
		}
		route, ok := domain.PlanRoutes.Label(it.Route)
		if !ok {
			route = it.Route
		}
		m := printforms.PlanMeasure{Route: route, Measure: it.Measure, Cadre: it.ResponsibleName}
		if !it.TargetOn.IsZero() {
			target := it.TargetOn
			m.TargetOn = &target
		}
		if len(it.Progress) > 0 { // the latest first
			m.Progress = it.Progress[0].Note
		}
		out = append(out, m)
	}
	return out, nil
}

func (c printedCasework) Incomes(ctx context.Context, p domain.Principal, householdID uuid.UUID) ([]printforms.IncomeAccount, error) {
	accounts, err := c.casework.IncomeAccounts(ctx, p, householdID)
	if err != nil {
		return nil, err
	}
	out := make([]printforms.IncomeAccount, len(accounts))
	for i, a := range accounts { // newest first; the forms print the oldest first
		acc := printforms.IncomeAccount{Year: a.Year, CostsFen: a.CostsFen, Members: a.MembersCounted, NetPerCapitaFen: a.PerCapitaFen()}
		for _, amount := range a.Amounts() {
			if !amount.Cost {
				acc.Sources = append(acc.Sources, printforms.IncomeSource{Label: amount.LabelZH, Fen: amount.Fen})
			}
		}
		out[len(accounts)-1-i] = acc
	}
	return out, nil
}
