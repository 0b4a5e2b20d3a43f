package server

import (
	"context"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/plans"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	"github.com/fieldvisit/fieldvisit/wire"
)

func fromPlanView(v plans.View) wire.PlanItemView {
	out := wire.PlanItemView{PlanItem: wire.FromPlanItem(v.PlanItem), ResponsibleName: v.ResponsibleName, Overdue: v.Overdue,
		Progress: make([]wire.PlanItemProgress, len(v.Progress))}
	for i, p := range v.Progress {
		out.Progress[i] = wire.PlanItemProgress{VisitID: p.VisitID, CadreID: p.CadreID, StartedAt: p.StartedAt, Note: p.Note}
	}
	return out
}

func fromPlan(p plans.Plan) wire.HouseholdPlan {
	return wire.HouseholdPlan{HouseholdID: p.HouseholdID, Routes: p.Routes, Items: wire.Map(p.Items, fromPlanView)}
}

func (h *handlers) getHouseholdPlan(c *gin.Context) {
	respondOne(c, "household", func(ctx context.Context, p domain.Principal, id uuid.UUID) (plans.Plan, error) {
		return h.Plans.HouseholdPlan(ctx, p, id)
	}, fromPlan)
}

func (h *handlers) listPlanItems(c *gin.Context) {
	q := queryParams{c: c}
	pq := plans.Query{RegionID: q.uuid("region_id"), HouseholdID: q.uuid("household_id"), ResponsibleID: q.uuid("responsible_id"),
		Route: q.text("route", 40), State: q.text("state", 20)}
	if c.Query("overdue") != "" {
		late := q.boolean("overdue")
		pq.Overdue = &late
	}
	pg := q.page()
	pq.Limit, pq.Offset = pg.Limit, pg.Offset
	if err := q.err(); err != nil {
		writeError(c, err)
		return
	}
	items, total, err := h.Plans.Items(c.Request.Context(), principal(c), pq)
	respondPage(c, items, total, registry.Page{Limit: pq.Limit, Offset: pq.Offset}, fromPlanView, err)
}
