package server

import (
	"io"
	"mime"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/adjustment"
	"github.com/fieldvisit/fieldvisit/wire"
)

func fromAdjustmentBatch(b adjustment.Batch) wire.AdjustmentBatch {
	out := wire.AdjustmentBatch{ID: b.ID, RegionID: b.RegionID, RegionName: b.RegionName, Year: b.Year, Status: b.Status, Counts: map[string]int{},
		CreatedBy: b.CreatedBy, CreatedAt: b.CreatedAt, UpdatedAt: b.UpdatedAt, ClosedAt: b.ClosedAt}
	for _, st := range adjustment.StateLabels {
		out.Counts[st.Code] = b.Counts[st.Code]
	}
	if b.Items != nil {
		out.Items = wire.Map(b.Items, fromAdjustmentItem)
	}
	return out
}

func fromAdjustmentItem(it adjustment.Item) wire.AdjustmentItem {
	kl, _ := adjustment.KindLabels.Label(it.Kind)
	sl, _ := adjustment.StateLabels.Label(it.State)
	ev := it.Evidence
	if ev == nil {
		ev = []string{}
	}
	return wire.AdjustmentItem{ID: it.ID, HouseholdID: it.HouseholdID, HouseholdNumber: it.HouseholdNumber, HeadName: it.HeadName, Kind: it.Kind,
		KindLabel: kl, Source: it.Source, Reason: it.Reason, Evidence: ev, HouseholdVersion: it.HouseholdVersion, PovertyType: it.PovertyType,
		CadreID: it.CadreID, CadreName: it.CadreName, FromCadreID: it.FromCadreID, State: it.State, StateLabel: sl, StateReason: it.StateReason,
		ResultID: it.ResultID, ReviewedBy: it.ReviewedBy, ReviewedAt: it.ReviewedAt}
}

func (h *handlers) createAdjustmentBatch(c *gin.Context) {
	var in wire.NewAdjustmentBatch
	if err := bindJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	b, err := h.Adjustment.Build(c.Request.Context(), principal(c), adjustment.NewBatch{RegionID: in.RegionID, Year: in.Year})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, fromAdjustmentBatch(b))
}

func (h *handlers) listAdjustmentBatches(c *gin.Context) {
	q := queryParams{c: c}
	region := q.uuid("region_id")
	pg := q.page()
	if err := q.err(); err != nil {
		writeError(c, err)
		return
	}
	bs, total, err := h.Adjustment.Batches(c.Request.Context(), principal(c), region, pg.Limit, pg.Offset)
	respondPage(c, bs, total, pg, fromAdjustmentBatch, err)
}

func (h *handlers) getAdjustmentBatch(c *gin.Context) {
	respondOne(c, "adjustment batch", h.Adjustment.Batch, fromAdjustmentBatch)
}

// adjustmentItemIDs reads the batch and item ids of an item route.
func adjustmentItemIDs(c *gin.Context) (batch, item uuid.UUID, err error) {
	b, err := pathID(c, "id", "adjustment batch")
	if err != nil {
		return b, item, err
	}
	i, err := pathID(c, "item_id", "adjustment item")
	return b, i, err
}

func (h *handlers) approveAdjustmentItem(c *gin.Context) {
	b, i, err := adjustmentItemIDs(c)
	if err != nil {
		writeError(c, err)
		return
	}
	it, err := h.Adjustment.Approve(c.Request.Context(), principal(c), b, i)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, fromAdjustmentItem(it))
}

func (h *handlers) rejectAdjustmentItem(c *gin.Context) {
	b, i, err := adjustmentItemIDs(c)
	if err != nil {
		writeError(c, err)
		return
	}
	var in wire.AdjustmentReject
	if c.Request.ContentLength != 0 {
		if err := bindJSON(c, &in); err != nil {
			writeError(c, err)
			return
		}
	}
	it, err := h.Adjustment.Reject(c.Request.Context(), principal(c), b, i, in.Reason)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, fromAdjustmentItem(it))
}

func (h *handlers) approveAdjustmentBatch(c *gin.Context) {
	respondOne(c, "adjustment batch", h.Adjustment.ApproveAll, fromAdjustmentBatch)
}

func (h *handlers) closeAdjustmentBatch(c *gin.Context) {
	respondOne(c, "adjustment batch", h.Adjustment.Close, fromAdjustmentBatch)
}

// importAdjustmentItems takes a CSV or XLSX of proposed changes as the raw
// body or as the "file" part of a multipart form; a file with any bad row
// adds nothing (422 naming every row and column).
func (h *handlers) importAdjustmentItems(c *gin.Context) {
	id, err := pathID(c, "id", "adjustment batch")
	if err != nil {
		writeError(c, err)
		return
	}
	if p := principal(c); !p.Manages() {
		writeError(c, domain.Forbidden())
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxImportBody)
	var body io.Reader = c.Request.Body
	if mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type")); mt == "multipart/form-data" {
		f, _, err := formFile(c)
		if err != nil {
			writeError(c, uploadError(err))
			return
		}
		defer f.Close()
		body = f
	}
	b, err := h.Adjustment.Import(c.Request.Context(), principal(c), id, body)
	if err != nil {
		writeError(c, uploadError(err))
		return
	}
	c.JSON(http.StatusOK, fromAdjustmentBatch(b))
}
