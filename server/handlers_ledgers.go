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

// The cadres' ledgers (四本台账) are kinds of the one item ledger, read and
// moved like the rectification ledger, under /ledgers/{kind}/items.

// ledgerKind is the ledger the path names, or a 404 written.
func ledgerKind(c *gin.Context) (string, bool) {
	kind := c.Param("kind")
	if err := itemledger.CheckCadreLedger(kind); err != nil {
		writeError(c, err)
		return "", false
	}
	return kind, true
}

func (h *handlers) createLedgerItem(c *gin.Context) {
	kind, ok := ledgerKind(c)
	if !ok {
		return
	}
	var in wire.NewLedgerItem
	if err := bindJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	v, err := h.ItemLedger.Create(c.Request.Context(), principal(c), itemledger.NewItem{Kind: kind, Problem: in.Problem, HouseholdID: in.HouseholdID,
		VillageID: in.VillageID, ResponsibleUserID: in.ResponsibleUserID, ResponsibleUnitID: in.ResponsibleUnitID, Deadline: in.Deadline})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, fromRectificationDetail(v))
}

func (h *handlers) listLedgerItems(c *gin.Context) {
	kind, ok := ledgerKind(c)
	if !ok {
		return
	}
	iq, err := itemQuery(c, kind)
	if err != nil {
		writeError(c, err)
		return
	}
	items, total, err := h.ItemLedger.Items(c.Request.Context(), principal(c), iq)
	respondPage(c, items, total, registry.Page{Limit: iq.Limit, Offset: iq.Offset}, fromRectification, err)
}

func (h *handlers) getLedgerItem(c *gin.Context) {
	kind, ok := ledgerKind(c)
	if !ok {
		return
	}
	respondOne(c, "ledger item", func(ctx context.Context, p domain.Principal, id uuid.UUID) (itemledger.View, error) {
		return h.ItemLedger.Item(ctx, p, kind, id)
	}, fromRectificationDetail)
}

func (h *handlers) actOnLedgerItem(c *gin.Context) {
	kind, ok := ledgerKind(c)
	if !ok {
		return
	}
	id, err := pathID(c, "id", "ledger item")
	if err != nil {
		writeError(c, err)
		return
	}
	var in wire.ItemAction
	if err := bindJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	v, err := h.ItemLedger.Act(c.Request.Context(), principal(c), kind, id, itemledger.Step{Action: in.Action, Version: in.Version,
		Evidence: toItemEvidence(in.Evidence), Note: in.Note})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, fromRectificationDetail(v))
}
