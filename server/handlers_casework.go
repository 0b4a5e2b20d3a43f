package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/fieldvisit/fieldvisit/internal/registry"
	"github.com/fieldvisit/fieldvisit/wire"
)

func (h *handlers) changePovertyType(c *gin.Context) {
	id, err := pathID(c, "id", "household")
	if err != nil {
		writeError(c, err)
		return
	}
	var in wire.PovertyTypeChangeIn
	if err := bindJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	if err := requireVersion(in.Version); err != nil {
		writeError(c, err)
		return
	}
	f, err := h.Registry.ChangePovertyType(c.Request.Context(), principal(c), id, registry.PovertyTypeInput{PovertyType: in.PovertyType,
		EffectiveOn: in.EffectiveOn, Reason: in.Reason, Version: in.Version})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, wire.FromHouseholdFile(f, principal(c)))
}
