package server

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	"github.com/fieldvisit/fieldvisit/wire"
)

// ---- units

func (h *handlers) listUnits(c *gin.Context) {
	q := queryParams{c: c}
	query := q.text("q", 100)
	pg := q.page()
	if err := q.err(); err != nil {
		writeError(c, err)
		return
	}
	items, total, err := h.Registry.Units(c.Request.Context(), principal(c), query, pg)
	respondPage(c, items, total, pg, func(u registry.UnitWithPath) wire.Unit { return wire.FromUnit(u.Unit) }, err)
}

func (h *handlers) getUnit(c *gin.Context) {
	id, err := pathID(c, "id", "unit")
	if err != nil {
		writeError(c, err)
		return
	}
	u, as, err := h.Registry.Unit(c.Request.Context(), principal(c), id)
	if err != nil {
		writeError(c, err)
		return
	}
	out := wire.FromUnit(u.Unit)
	out.Assignments = wire.Map(as, wire.FromAssignment)
	c.JSON(http.StatusOK, out)
}

func (h *handlers) createUnit(c *gin.Context) {
	var in wire.NewUnit
	if err := bindJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	u, err := h.Registry.CreateUnit(c.Request.Context(), principal(c), in.Name, in.RegionID)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, wire.FromUnit(u.Unit))
}

func (h *handlers) assignUnit(c *gin.Context) {
	id, err := pathID(c, "id", "unit")
	if err != nil {
		writeError(c, err)
		return
	}
	var in wire.NewAssignment
	if err := bindJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	a, err := h.Registry.AssignUnit(c.Request.Context(), principal(c), id, in.VillageID, in.GroupID, in.StartOn, in.EndOn)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, wire.FromAssignment(a))
}

// ---- users

func (h *handlers) listUsers(c *gin.Context) {
	q := queryParams{c: c}
	uq := registry.UserQuery{Role: q.text("role", 20), UnitID: q.uuid("unit_id"), Query: q.text("q", 100)}
	pg := q.page()
	if err := q.err(); err != nil {
		writeError(c, err)
		return
	}
	items, total, err := h.Registry.Users(c.Request.Context(), principal(c), uq, pg)
	respondPage(c, items, total, pg, wire.FromUser, err)
}

func (h *handlers) getUser(c *gin.Context) {
	respondOne(c, "user", h.Registry.User, wire.FromUser)
}

func (h *handlers) createUser(c *gin.Context) {
	var in wire.NewUser
	if err := bindJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	u, err := h.Registry.CreateUser(c.Request.Context(), principal(c), registry.NewUser{Password: in.Password, User: domain.User{
		Username: in.Username, DisplayName: in.DisplayName, Role: in.Role, RegionID: in.RegionID, Phone: in.Phone,
		UnitID: in.UnitID, Rank: in.Rank, Duties: wire.DutiesToDomain(in.Duties)}})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, wire.FromUser(u))
}

func (h *handlers) updateUser(c *gin.Context) {
	id, err := pathID(c, "id", "user")
	if err != nil {
		writeError(c, err)
		return
	}
	var in wire.UserPatch
	if err := bindJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	u, err := h.Registry.UpdateUser(c.Request.Context(), principal(c), id, userChanges(in))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, wire.FromUser(u))
}

func (h *handlers) setPassword(c *gin.Context) {
	id, err := pathID(c, "id", "user")
	if err != nil {
		writeError(c, err)
		return
	}
	var in wire.PasswordChange
	if err := bindJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	if err := h.Registry.SetPassword(c.Request.Context(), principal(c), id, in.Password, in.CurrentPassword); err != nil {
		writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (h *handlers) listDevices(c *gin.Context) {
	id, err := pathID(c, "id", "user")
	if err != nil {
		writeError(c, err)
		return
	}
	ds, err := h.Registry.Devices(c.Request.Context(), principal(c), id)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": wire.Map(ds, wire.FromDevice)})
}

func (h *handlers) revokeDevice(c *gin.Context) {
	uid, err := pathID(c, "id", "user")
	if err != nil {
		writeError(c, err)
		return
	}
	did, err := pathID(c, "device_id", "device")
	if err != nil {
		writeError(c, err)
		return
	}
	d, err := h.Registry.RevokeDevice(c.Request.Context(), principal(c), uid, did)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, wire.FromDevice(d))
}

// ---- pairings

func (h *handlers) listPairings(c *gin.Context) {
	q := queryParams{c: c}
	pq := registry.PairingQuery{HouseholdID: q.uuid("household_id"), CadreID: q.uuid("cadre_id"), ActiveOn: q.date("active_on")}
	pg := q.page()
	if err := q.err(); err != nil {
		writeError(c, err)
		return
	}
	items, total, err := h.Registry.Pairings(c.Request.Context(), principal(c), pq, pg)
	respondPage(c, items, total, pg, wire.FromPairing, err)
}

func (h *handlers) getPairing(c *gin.Context) {
	respondOne(c, "pairing", h.Registry.Pairing, wire.FromPairing)
}

func (h *handlers) createPairing(c *gin.Context) {
	var in wire.NewPairing
	if err := bindJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	np := registry.NewPairing{HouseholdID: in.HouseholdID, CadreID: in.CadreID}
	if in.StartOn != nil {
		np.StartOn = *in.StartOn
	}
	p, err := h.Registry.Pair(c.Request.Context(), principal(c), np)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, wire.FromPairing(p))
}

func (h *handlers) endPairing(c *gin.Context) {
	id, err := pathID(c, "id", "pairing")
	if err != nil {
		writeError(c, err)
		return
	}
	var in wire.EndPairing
	if err := bindJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	ei := registry.EndInput{Reason: in.Reason, NewCadreID: in.NewCadreID}
	if in.On != nil {
		ei.On = *in.On
	}
	old, next, err := h.Registry.EndPairing(c.Request.Context(), principal(c), id, ei)
	if err != nil {
		writeError(c, err)
		return
	}
	out := wire.EndedPairing{Ended: wire.FromPairing(old)}
	if next != nil {
		n := wire.FromPairing(*next)
		out.Next = &n
	}
	c.JSON(http.StatusOK, out)
}

// userChanges converts a user patch for the register.
func userChanges(in wire.UserPatch) registry.UserChanges {
	ch := registry.UserChanges{DisplayName: in.DisplayName, Phone: in.Phone, RegionID: in.RegionID, UnitID: in.UnitID, ClearUnit: in.ClearUnit,
		Rank: in.Rank, Active: in.Active}
	if in.Duties != nil {
		d := wire.DutiesToDomain(*in.Duties)
		if d == nil {
			d = []domain.Duty{}
		}
		ch.Duties = &d
	}
	return ch
}
