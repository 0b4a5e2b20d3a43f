package server

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

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

type unitIn struct {
	Name     string    `json:"name"`
	RegionID uuid.UUID `json:"region_id"`
}

func (h *handlers) createUnit(c *gin.Context) {
	var in unitIn
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

type assignmentIn struct {
	VillageID uuid.UUID    `json:"village_id"`
	GroupID   *uuid.UUID   `json:"group_id"`
	StartOn   domain.Date  `json:"start_on"`
	EndOn     *domain.Date `json:"end_on"`
}

func (h *handlers) assignUnit(c *gin.Context) {
	id, err := pathID(c, "id", "unit")
	if err != nil {
		writeError(c, err)
		return
	}
	var in assignmentIn
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

type userIn struct {
	Username    string        `json:"username"`
	DisplayName string        `json:"display_name"`
	Role        string        `json:"role"`
	RegionID    uuid.UUID     `json:"region_id"`
	Phone       string        `json:"phone"`
	UnitID      *uuid.UUID    `json:"unit_id"`
	Rank        string        `json:"rank"`
	Duties      []domain.Duty `json:"duties"`
	Password    string        `json:"password"`
}

func (h *handlers) createUser(c *gin.Context) {
	var in userIn
	if err := bindJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	u, err := h.Registry.CreateUser(c.Request.Context(), principal(c), registry.NewUser{Password: in.Password, User: domain.User{
		Username: in.Username, DisplayName: in.DisplayName, Role: in.Role, RegionID: in.RegionID, Phone: in.Phone,
		UnitID: in.UnitID, Rank: in.Rank, Duties: in.Duties}})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, wire.FromUser(u))
}

type userPatch struct {
	DisplayName *string        `json:"display_name"`
	Phone       *string        `json:"phone"`
	RegionID    *uuid.UUID     `json:"region_id"`
	UnitID      *uuid.UUID     `json:"unit_id"`
	ClearUnit   bool           `json:"clear_unit"`
	Rank        *string        `json:"rank"`
	Duties      *[]domain.Duty `json:"duties"`
	Active      *bool          `json:"active"`
}

func (h *handlers) updateUser(c *gin.Context) {
	id, err := pathID(c, "id", "user")
	if err != nil {
		writeError(c, err)
		return
	}
	var in userPatch
	if err := bindJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	u, err := h.Registry.UpdateUser(c.Request.Context(), principal(c), id, registry.UserChanges(in))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, wire.FromUser(u))
}

type passwordIn struct {
	Password string `json:"password"`
}

func (h *handlers) setPassword(c *gin.Context) {
	id, err := pathID(c, "id", "user")
	if err != nil {
		writeError(c, err)
		return
	}
	var in passwordIn
	if err := bindJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	if err := h.Registry.SetPassword(c.Request.Context(), principal(c), id, in.Password); err != nil {
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

type pairingIn struct {
	HouseholdID uuid.UUID    `json:"household_id"`
	CadreID     uuid.UUID    `json:"cadre_id"`
	StartOn     *domain.Date `json:"start_on"`
}

func (h *handlers) createPairing(c *gin.Context) {
	var in pairingIn
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

type endPairingIn struct {
	On         *domain.Date `json:"on"`
	Reason     string       `json:"reason"`
	NewCadreID *uuid.UUID   `json:"new_cadre_id"`
}

type endPairingOut struct {
	Ended wire.Pairing  `json:"ended"`
	Next  *wire.Pairing `json:"next"`
}

func (h *handlers) endPairing(c *gin.Context) {
	id, err := pathID(c, "id", "pairing")
	if err != nil {
		writeError(c, err)
		return
	}
	var in endPairingIn
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
	out := endPairingOut{Ended: wire.FromPairing(old)}
	if next != nil {
		n := wire.FromPairing(*next)
		out.Next = &n
	}
	c.JSON(http.StatusOK, out)
}
