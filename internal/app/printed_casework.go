package app

import (
	"context"
	"fmt"
	"strings"

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
		state, ok := domain.PlanItemStates.Label(it.State)
		if !ok {
			state = it.State
		}
		m := printforms.PlanMeasure{Route: route, Measure: it.Measure, Cadre: it.ResponsibleName, State: state}
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

// VillageExit reads a village's exit record for the printed 贫困村出列档案:
// the year's criteria as judged and its procedures, through the casework
// service with the caller's scope (a village outside it is not found).
func (c printedCasework) VillageExit(ctx context.Context, p domain.Principal, villageID uuid.UUID, year int) (printforms.VillageExitRecord, error) {
	cands, _, err := c.casework.VillageExitCandidates(ctx, p, villageID, year)
	if err != nil {
		return printforms.VillageExitRecord{}, err
	}
	if len(cands) != 1 {
		return printforms.VillageExitRecord{}, domain.NotFound("poor village")
	}
	cd := cands[0]
	out := printforms.VillageExitRecord{Village: cd.Village.Name, Year: year}
	if e := cd.Exit; e != nil {
		out.Exited = fmt.Sprintf("%d年度出列（%s公告）", e.Year, e.ExitedOn)
	}
	for _, r := range cd.Reasons {
		if r.Code == "not_exited" {
			continue // the heading says it exited, and when
		}
		verdict := "未达到"
		if r.Met {
			verdict = "达到"
		}
		out.Criteria = append(out.Criteria, printforms.Criterion{Name: r.NameZH, Verdict: verdict, Reason: r.ReasonZH})
	}
	prs, err := c.casework.VillageProcedures(ctx, p, villageID)
	if err != nil {
		return printforms.VillageExitRecord{}, err
	}
	for _, pr := range prs {
		names := map[string]string{}
		for _, d := range casework.Kinds[pr.Kind] {
			names[d.Code] = d.NameZH
		}
		rec := printforms.ProcedureRecord{Title: fmt.Sprintf("%d年度贫困村出列程序", pr.Year), Status: "已完成"}
		if pr.Status == casework.ProcedureOpen {
			rec.Status = "进行中"
		}
		for _, st := range pr.Steps {
			rec.Steps = append(rec.Steps, printforms.StepRecord{Name: names[st.Code], DoneOn: st.DoneOn, Documents: strings.Join(st.DocumentIDs, "、"),
				Note: st.Note})
		}
		out.Procedures = append(out.Procedures, rec)
	}
	return out, nil
}
