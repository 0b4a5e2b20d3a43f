package server

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	"github.com/fieldvisit/fieldvisit/wire"
)

// ---- regions

func (h *handlers) listRegions(c *gin.Context) {
	q := queryParams{c: c}
	rq := registry.RegionQuery{ParentID: q.uuid("parent_id"), Level: q.text("level", 20), Query: q.text("q", 100)}
	pg := q.page()
	if err := q.err(); err != nil {
		writeError(c, err)
		return
	}
	items, total, err := h.Registry.Regions(c.Request.Context(), principal(c), rq, pg)
	respondPage(c, items, total, pg, wire.FromRegion, err)
}

func (h *handlers) getRegion(c *gin.Context) {
	respondOne(c, "region", h.Registry.Region, wire.FromRegion)
}

func (h *handlers) createRegion(c *gin.Context) {
	var in wire.NewRegion
	if err := bindJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	r, err := h.Registry.CreateRegion(c.Request.Context(), principal(c), registry.NewRegion(in))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, wire.FromRegion(r))
}

func (h *handlers) updateRegion(c *gin.Context) {
	id, err := pathID(c, "id", "region")
	if err != nil {
		writeError(c, err)
		return
	}
	var in wire.RegionPatch
	if err := bindJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	r, err := h.Registry.UpdateRegion(c.Request.Context(), principal(c), id, registry.RegionChanges(in))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, wire.FromRegion(r))
}

// ---- households

func (h *handlers) listHouseholds(c *gin.Context) {
	q := queryParams{c: c}
	hq := registry.HouseholdQuery{RegionID: q.uuid("region_id"), Status: q.text("status", 20), PovertyType: q.text("poverty_type", 20),
		CadreID: q.uuid("cadre_id"), Unpaired: q.boolean("unpaired"), Query: q.text("q", 100)}
	pg := q.page()
	if err := q.err(); err != nil {
		writeError(c, err)
		return
	}
	items, total, err := h.Registry.Households(c.Request.Context(), principal(c), hq, pg)
	respondPage(c, items, total, pg, wire.FromHousehold, err)
}

func (h *handlers) getHousehold(c *gin.Context) {
	id, err := pathID(c, "id", "household")
	if err == nil {
		var f registry.HouseholdFile
		if f, err = h.Registry.HouseholdFile(c.Request.Context(), principal(c), id); err == nil {
			c.JSON(http.StatusOK, wire.FromHouseholdFile(f, principal(c)))
			return
		}
	}
	writeError(c, err)
}

func (h *handlers) createHousehold(c *gin.Context) {
	var in wire.NewHousehold
	if err := bindJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	var fe domain.FieldErrors
	nh := registry.NewHousehold{RegionID: in.RegionID, Details: in.Details(&fe), Status: in.Status, PovertyType: in.PovertyType, ExitYear: in.ExitYear}
	if err := fe.Err(); err != nil {
		writeError(c, err)
		return
	}
	if in.EffectiveOn != nil {
		nh.EffectiveOn = *in.EffectiveOn
	}
	for _, m := range in.Members {
		nh.Members = append(nh.Members, m.ToDomain())
	}
	f, err := h.Registry.CreateHousehold(c.Request.Context(), principal(c), nh)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, wire.FromHouseholdFile(f, principal(c)))
}

func requireVersion(v int64) error {
	if v < 1 {
		return domain.Invalid(domain.FieldError{Field: "/version", Reason: "required", Message: "version (the one you read) is required", MessageZH: "必须提供读取时的版本号version"})
	}
	return nil
}

// versionedEdit reads an edit of the object a route's {id} names (what it
// is, for a 404): the id, then the JSON body into in, whose version — the
// one the caller read — is required. On a fault it writes the problem and
// reports false.
func versionedEdit[T any](c *gin.Context, what string, in *T, version func(*T) int64) (uuid.UUID, bool) {
	id, err := pathID(c, "id", what)
	if err == nil {
		err = bindJSON(c, in)
	}
	if err == nil {
		err = requireVersion(version(in))
	}
	if err != nil {
		writeError(c, err)
		return uuid.Nil, false
	}
	return id, true
}

func (h *handlers) updateHousehold(c *gin.Context) {
	var in wire.HouseholdPatch
	id, ok := versionedEdit(c, "household", &in, func(in *wire.HouseholdPatch) int64 { return in.Version })
	if !ok {
		return
	}
	hh, err := h.Registry.UpdateHousehold(c.Request.Context(), principal(c), id, in.Version, in.Apply)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, wire.FromHousehold(hh))
}

func (h *handlers) changeStatus(c *gin.Context) {
	var in wire.StatusChangeIn
	id, ok := versionedEdit(c, "household", &in, func(in *wire.StatusChangeIn) int64 { return in.Version })
	if !ok {
		return
	}
	f, err := h.Registry.ChangeStatus(c.Request.Context(), principal(c), id, registry.StatusInput{Status: in.Status, PovertyType: in.PovertyType,
		ExitYear: in.ExitYear, EffectiveOn: in.EffectiveOn, Reason: in.Reason, Cause: in.Cause, Version: in.Version})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, wire.FromHouseholdFile(f, principal(c)))
}

// ---- members

func (h *handlers) listMembers(c *gin.Context) {
	id, err := pathID(c, "id", "household")
	if err != nil {
		writeError(c, err)
		return
	}
	ms, err := h.Registry.Members(c.Request.Context(), principal(c), id)
	if err != nil {
		writeError(c, err)
		return
	}
	p := principal(c)
	c.JSON(http.StatusOK, gin.H{"items": wire.Map(ms, func(m domain.Member) wire.Member { return wire.FromMember(m, p.SeesIDNumbers()) })})
}

func memberIDs(c *gin.Context) (uuid.UUID, uuid.UUID, error) {
	hid, err := pathID(c, "id", "household")
	if err != nil {
		return uuid.Nil, uuid.Nil, err
	}
	mid, err := pathID(c, "member_id", "member")
	return hid, mid, err
}

func (h *handlers) getMember(c *gin.Context) {
	hid, mid, err := memberIDs(c)
	if err == nil {
		var m domain.Member
		if m, err = h.Registry.Member(c.Request.Context(), principal(c), hid, mid); err == nil {
			c.JSON(http.StatusOK, wire.FromMember(m, principal(c).SeesIDNumbers()))
			return
		}
	}
	writeError(c, err)
}

func (h *handlers) createMember(c *gin.Context) {
	hid, err := pathID(c, "id", "household")
	if err != nil {
		writeError(c, err)
		return
	}
	var in wire.NewMember
	if err := bindJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	m, err := h.Registry.CreateMember(c.Request.Context(), principal(c), hid, in.ToDomain())
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, wire.FromMember(m, principal(c).SeesIDNumbers()))
}

func (h *handlers) updateMember(c *gin.Context) {
	hid, mid, err := memberIDs(c)
	if err != nil {
		writeError(c, err)
		return
	}
	var in wire.MemberPatch
	if err := bindJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	if err := requireVersion(in.Version); err != nil {
		writeError(c, err)
		return
	}
	m, err := h.Registry.UpdateMember(c.Request.Context(), principal(c), hid, mid, in.Version, in.Apply)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, wire.FromMember(m, principal(c).SeesIDNumbers()))
}

func (h *handlers) deleteMember(c *gin.Context) {
	hid, mid, err := memberIDs(c)
	if err == nil {
		if err = h.Registry.DeleteMember(c.Request.Context(), principal(c), hid, mid); err == nil {
			c.Status(http.StatusNoContent)
			return
		}
	}
	writeError(c, err)
}

// ---- audit log

func (h *handlers) listAudit(c *gin.Context) {
	q := queryParams{c: c}
	aq := registry.AuditQuery{UserID: q.uuid("user_id"), HouseholdID: q.uuid("household_id"), Action: q.text("action", 40),
		From: q.date("from"), To: q.date("to")}
	pg := q.page()
	if err := q.err(); err != nil {
		writeError(c, err)
		return
	}
	items, total, err := h.Registry.AuditLog(c.Request.Context(), principal(c), aq, pg)
	respondPage(c, items, total, pg, wire.FromAuditRecord, err)
}
