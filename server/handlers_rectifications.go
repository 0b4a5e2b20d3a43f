package server

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/itemledger"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	"github.com/fieldvisit/fieldvisit/wire"
)

func fromItemEvidence(e itemledger.Evidence) wire.ItemEvidence {
	orEmpty := func(ids []string) []string {
		if ids == nil {
			return []string{}
		}
		return ids
	}
	return wire.ItemEvidence{VisitIDs: orEmpty(e.VisitIDs), PhotoIDs: orEmpty(e.PhotoIDs), DocumentIDs: orEmpty(e.DocumentIDs), Note: e.Note}
}

func toItemEvidence(e wire.ItemEvidence) itemledger.Evidence {
	return itemledger.Evidence{VisitIDs: e.VisitIDs, PhotoIDs: e.PhotoIDs, DocumentIDs: e.DocumentIDs, Note: e.Note}
}

func fromRectification(v itemledger.View) wire.Rectification {
	label, _ := itemledger.Statuses.Label(v.State)
	out := wire.Rectification{ID: v.ID, Kind: v.Kind, Problem: v.Problem, HouseholdID: v.HouseholdID, HouseholdNumber: v.HouseholdNumber,
		HeadName: v.HeadName, VillageID: v.VillageID, VillageName: v.VillageName, TownID: v.TownID, TownName: v.TownName,
		CampaignID: v.CampaignID, CampaignName: v.CampaignName, FindingID: v.FindingID, ResponsibleUserID: v.ResponsibleUserID,
		ResponsibleName: v.ResponsibleName, ResponsibleUnitID: v.ResponsibleUnitID, ResponsibleUnitName: v.UnitName, Status: v.Status,
		State: v.State, StateLabel: label, Evidence: fromItemEvidence(v.Evidence), AllowedActions: v.Allowed, CreatedBy: v.CreatedBy,
		CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt, ClosedAt: v.ClosedAt, ClosedBy: v.ClosedBy, ClosedByName: v.ClosedByName,
		WithdrawnAt: v.WithdrawnAt, WithdrawnBy: v.WithdrawnBy, WithdrawReason: v.WithdrawReason, Version: v.Version}
	if !v.Deadline.IsZero() {
		d := v.Deadline
		out.Deadline = &d
	}
	if out.AllowedActions == nil {
		out.AllowedActions = []string{}
	}
	return out
}

func fromRectificationDetail(v itemledger.View) wire.RectificationDetail {
	out := wire.RectificationDetail{Rectification: fromRectification(v), History: make([]wire.ItemEvent, len(v.History))}
	for i, e := range v.History {
		label, _ := itemledger.Actions.Label(e.Action)
		out.History[i] = wire.ItemEvent{Action: e.Action, ActionLabel: label, From: e.From, To: e.To, By: e.By, ByName: e.ByName, At: e.At,
			Note: e.Note, Evidence: fromItemEvidence(e.Evidence)}
	}
	return out
}

func (h *handlers) createRectification(c *gin.Context) {
	var in wire.NewRectification
	if err := bindJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	v, err := h.ItemLedger.Create(c.Request.Context(), principal(c), itemledger.NewItem{Kind: itemledger.KindRectification, Problem: in.Problem,
		HouseholdID: in.HouseholdID, VillageID: in.VillageID, CampaignID: in.CampaignID, FindingID: in.FindingID,
		ResponsibleUserID: in.ResponsibleUserID, ResponsibleUnitID: in.ResponsibleUnitID, Deadline: in.Deadline})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, fromRectificationDetail(v))
}

// itemQuery reads a ledger listing's filters and page.
func itemQuery(c *gin.Context, kind string) (itemledger.Query, error) {
	q := queryParams{c: c}
	iq := itemledger.Query{Kind: kind, RegionID: q.uuid("region_id"), CampaignID: q.uuid("campaign_id"), ResponsibleID: q.uuid("responsible_id"),
		State: q.text("status", 20)}
	pg := q.page()
	iq.Limit, iq.Offset = pg.Limit, pg.Offset
	return iq, q.err()
}

func (h *handlers) listRectifications(c *gin.Context) {
	iq, err := itemQuery(c, itemledger.KindRectification)
	if err != nil {
		writeError(c, err)
		return
	}
	items, total, err := h.ItemLedger.Items(c.Request.Context(), principal(c), iq)
	respondPage(c, items, total, registry.Page{Limit: iq.Limit, Offset: iq.Offset}, fromRectification, err)
}

func (h *handlers) getRectification(c *gin.Context) {
	respondOne(c, "rectification", func(ctx context.Context, p domain.Principal, id uuid.UUID) (itemledger.View, error) {
		return h.ItemLedger.Item(ctx, p, itemledger.KindRectification, id)
	}, fromRectificationDetail)
}

func (h *handlers) actOnRectification(c *gin.Context) {
	id, err := pathID(c, "id", "rectification")
	if err != nil {
		writeError(c, err)
		return
	}
	var in wire.ItemAction
	if err := bindJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	v, err := h.ItemLedger.Act(c.Request.Context(), principal(c), itemledger.KindRectification, id, itemledger.Step{Action: in.Action,
		Version: in.Version, Evidence: toItemEvidence(in.Evidence), Note: in.Note})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, fromRectificationDetail(v))
}

// exportRectifications streams the 整改台账: checked and authorised first
// (an error is still a problem+json), then written.
func (h *handlers) exportRectifications(c *gin.Context) {
	iq, err := itemQuery(c, itemledger.KindRectification)
	q := queryParams{c: c}
	format := q.text("format", 10)
	if err == nil {
		err = q.err()
	}
	if err != nil {
		writeError(c, err)
		return
	}
	ex, err := h.ItemLedger.Ledger(c.Request.Context(), principal(c), iq, format)
	if err != nil {
		writeError(c, err)
		return
	}
	h.download(c, ex.ContentType, ex.Filename, ex.Write)
}
