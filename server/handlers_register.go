package server

import (
	"fieldvisit/wire"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"fieldvisit/domain"
	"fieldvisit/registry"
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

type regionIn struct {
	ParentID      *uuid.UUID `json:"parent_id"`
	Level         string     `json:"level"`
	Code          string     `json:"code"`
	Name          string     `json:"name"`
	IsPoorVillage bool       `json:"is_poor_village"`
}

func (h *handlers) createRegion(c *gin.Context) {
	var in regionIn
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

type regionPatch struct {
	Name          *string `json:"name"`
	IsPoorVillage *bool   `json:"is_poor_village"`
}

func (h *handlers) updateRegion(c *gin.Context) {
	id, err := pathID(c, "id", "region")
	if err != nil {
		writeError(c, err)
		return
	}
	var in regionPatch
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

type memberIn struct {
	Name       string `json:"name"`
	Relation   string `json:"relation"`
	IDNumber   string `json:"id_number"`
	Health     string `json:"health"`
	Disability string `json:"disability"`
	Education  string `json:"education"`
	Work       string `json:"work"`
	Phone      string `json:"phone"`
}

// householdIn repeats the detail fields rather than embedding
// householdDetailsIn, so decode errors name "/annual_income", not the
// embedded struct.
type householdIn struct {
	Number             string           `json:"number"`
	HeadName           string           `json:"head_name"`
	Address            string           `json:"address"`
	Phone              string           `json:"phone"`
	Home               *domain.GeoPoint `json:"home"`
	HousingStructure   string           `json:"housing_structure"`
	HousingSafetyGrade string           `json:"housing_safety_grade"`
	HousingArea        *float64         `json:"housing_area"`
	ArableLand         *float64         `json:"arable_land"`
	AnnualIncome       *float64         `json:"annual_income"`
	IncomeNotes        string           `json:"income_notes"`
	Causes             []string         `json:"causes"`
	RegionID           uuid.UUID        `json:"region_id"`
	Status             string           `json:"status"`
	PovertyType        string           `json:"poverty_type"`
	ExitYear           *int             `json:"exit_year"`
	EffectiveOn        *domain.Date     `json:"effective_on"`
	Members            []memberIn       `json:"members"`
}

func (h *handlers) createHousehold(c *gin.Context) {
	var in householdIn
	if err := bindJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	nh := registry.NewHousehold{RegionID: in.RegionID, Details: domain.HouseholdDetails{Number: in.Number, HeadName: in.HeadName,
		Address: in.Address, Phone: in.Phone, Home: in.Home, HousingStructure: in.HousingStructure, HousingSafetyGrade: in.HousingSafetyGrade,
		HousingArea: in.HousingArea, ArableLand: in.ArableLand, AnnualIncome: in.AnnualIncome, IncomeNotes: in.IncomeNotes, Causes: in.Causes}, Status: in.Status,
		PovertyType: in.PovertyType, ExitYear: in.ExitYear}
	if in.EffectiveOn != nil {
		nh.EffectiveOn = *in.EffectiveOn
	}
	for _, m := range in.Members {
		nh.Members = append(nh.Members, domain.MemberDetails(m))
	}
	f, err := h.Registry.CreateHousehold(c.Request.Context(), principal(c), nh)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, wire.FromHouseholdFile(f, principal(c)))
}

type householdPatch struct {
	Version            int64            `json:"version"`
	Number             *string          `json:"number"`
	HeadName           *string          `json:"head_name"`
	Address            *string          `json:"address"`
	Phone              *string          `json:"phone"`
	Home               *domain.GeoPoint `json:"home"`
	HousingStructure   *string          `json:"housing_structure"`
	HousingSafetyGrade *string          `json:"housing_safety_grade"`
	HousingArea        *float64         `json:"housing_area"`
	ArableLand         *float64         `json:"arable_land"`
	AnnualIncome       *float64         `json:"annual_income"`
	IncomeNotes        *string          `json:"income_notes"`
	Causes             *[]string        `json:"causes"`
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func requireVersion(v int64) error {
	if v < 1 {
		return domain.Invalid(domain.FieldError{Field: "/version", Reason: "required", Message: "version (the one you read) is required", MessageZH: "必须提供读取时的版本号version"})
	}
	return nil
}

func (h *handlers) updateHousehold(c *gin.Context) {
	id, err := pathID(c, "id", "household")
	if err != nil {
		writeError(c, err)
		return
	}
	var in householdPatch
	if err := bindJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	if err := requireVersion(in.Version); err != nil {
		writeError(c, err)
		return
	}
	hh, err := h.Registry.UpdateHousehold(c.Request.Context(), principal(c), id, in.Version, func(d *domain.HouseholdDetails) {
		setIf(&d.Number, in.Number)
		setIf(&d.HeadName, in.HeadName)
		setIf(&d.Address, in.Address)
		setIf(&d.Phone, in.Phone)
		if in.Home != nil {
			d.Home = in.Home
		}
		setIf(&d.HousingStructure, in.HousingStructure)
		setIf(&d.HousingSafetyGrade, in.HousingSafetyGrade)
		if in.HousingArea != nil {
			d.HousingArea = in.HousingArea
		}
		if in.ArableLand != nil {
			d.ArableLand = in.ArableLand
		}
		if in.AnnualIncome != nil {
			d.AnnualIncome = in.AnnualIncome
		}
		setIf(&d.IncomeNotes, in.IncomeNotes)
		setIf(&d.Causes, in.Causes)
	})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, wire.FromHousehold(hh))
}

type statusIn struct {
	Version     int64       `json:"version"`
	Status      string      `json:"status"`
	PovertyType string      `json:"poverty_type"`
	ExitYear    *int        `json:"exit_year"`
	EffectiveOn domain.Date `json:"effective_on"`
	Reason      string      `json:"reason"`
}

func (h *handlers) changeStatus(c *gin.Context) {
	id, err := pathID(c, "id", "household")
	if err != nil {
		writeError(c, err)
		return
	}
	var in statusIn
	if err := bindJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	if err := requireVersion(in.Version); err != nil {
		writeError(c, err)
		return
	}
	f, err := h.Registry.ChangeStatus(c.Request.Context(), principal(c), id, registry.StatusInput{Status: in.Status, PovertyType: in.PovertyType,
		ExitYear: in.ExitYear, EffectiveOn: in.EffectiveOn, Reason: in.Reason, Version: in.Version})
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
	c.JSON(http.StatusOK, gin.H{"items": wire.Map(ms, func(m domain.Member) wire.Member { return wire.FromMember(m, p) })})
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
			c.JSON(http.StatusOK, wire.FromMember(m, principal(c)))
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
	var in memberIn
	if err := bindJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	m, err := h.Registry.CreateMember(c.Request.Context(), principal(c), hid, domain.MemberDetails(in))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, wire.FromMember(m, principal(c)))
}

type memberPatch struct {
	Version    int64   `json:"version"`
	Name       *string `json:"name"`
	Relation   *string `json:"relation"`
	IDNumber   *string `json:"id_number"`
	Health     *string `json:"health"`
	Disability *string `json:"disability"`
	Education  *string `json:"education"`
	Work       *string `json:"work"`
	Phone      *string `json:"phone"`
}

func (h *handlers) updateMember(c *gin.Context) {
	hid, mid, err := memberIDs(c)
	if err != nil {
		writeError(c, err)
		return
	}
	var in memberPatch
	if err := bindJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	if err := requireVersion(in.Version); err != nil {
		writeError(c, err)
		return
	}
	m, err := h.Registry.UpdateMember(c.Request.Context(), principal(c), hid, mid, in.Version, func(d *domain.MemberDetails) {
		setIf(&d.Name, in.Name)
		setIf(&d.Relation, in.Relation)
		setIf(&d.IDNumber, in.IDNumber)
		setIf(&d.Health, in.Health)
		setIf(&d.Disability, in.Disability)
		setIf(&d.Education, in.Education)
		setIf(&d.Work, in.Work)
		setIf(&d.Phone, in.Phone)
	})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, wire.FromMember(m, principal(c)))
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
