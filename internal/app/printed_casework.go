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
		out[len(accounts)-1-i] = printforms.IncomeAccount{Year: a.Year, CostsFen: a.CostsFen, Members: a.MembersCounted, NetPerCapitaFen: a.PerCapitaFen(),
			Sources: []printforms.IncomeSource{
				{Label: "工资性收入", Fen: a.WagesFen}, {Label: "生产经营性收入", Fen: a.BusinessFen}, {Label: "转移性收入", Fen: a.TransfersFen},
				{Label: "养老金和补贴", Fen: a.PensionsFen}, {Label: "财产性收入(分红等)", Fen: a.PropertyFen},
			}}
	}
	return out, nil
}
