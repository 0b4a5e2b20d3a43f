package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/casework"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	"github.com/fieldvisit/fieldvisit/wire"
)

func fromWarning(w casework.Warning) wire.RiskWarning {
	label, _ := domain.RiskTriggers.Label(w.Trigger)
	return wire.RiskWarning{ID: w.ID, HouseholdID: w.HouseholdID, HeadName: w.HeadName, List: w.List, Trigger: w.Trigger, TriggerLabel: label,
		Note: w.Note, VisitID: w.VisitID, SeenOn: w.SeenOn, CadreID: w.CadreID, State: w.State, Resolution: w.Resolution,
		ResolutionNote: w.ResolutionNote, Cause: w.Cause, ResolvedBy: w.ResolvedBy, ResolvedAt: w.ResolvedAt, CreatedAt: w.CreatedAt, Version: w.Version}
}

func (h *handlers) listRiskWarnings(c *gin.Context) {
	q := queryParams{c: c}
	wq := casework.WarningQuery{RegionID: q.uuid("region_id"), HouseholdID: q.uuid("household_id"), List: q.text("list", 20), State: q.text("state", 20)}
	pg := q.page()
	wq.Limit, wq.Offset = pg.Limit, pg.Offset
	if err := q.err(); err != nil {
		writeError(c, err)
		return
	}
	ws, total, err := h.Casework.Warnings(c.Request.Context(), principal(c), wq)
	respondPage(c, ws, total, registry.Page{Limit: wq.Limit, Offset: wq.Offset}, fromWarning, err)
}

func (h *handlers) resolveRiskWarning(c *gin.Context) {
	var in wire.WarningResolution
	id, ok := versionedEdit(c, "warning", &in, func(in *wire.WarningResolution) int64 { return in.Version })
	if !ok {
		return
	}
	r := casework.Resolution{Resolution: in.Resolution, Note: in.Note, Cause: in.Cause, Version: in.Version}
	if in.EffectiveOn != nil {
		r.EffectiveOn = *in.EffectiveOn
	}
	w, err := h.Casework.ResolveWarning(c.Request.Context(), principal(c), id, r)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, fromWarning(w))
}
