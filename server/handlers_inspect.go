package server

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/internal/inspect"
	"github.com/fieldvisit/fieldvisit/internal/inspect/sampling"
	"github.com/fieldvisit/fieldvisit/wire"
)

func fromInspection(c inspect.Campaign) wire.Inspection {
	ml, _ := inspect.Modes.Label(c.Mode)
	sl, _ := inspect.CampaignStatuses.Label(c.Status)
	ins := c.Inspectors
	if ins == nil {
		ins = []uuid.UUID{}
	}
	return wire.Inspection{ID: c.ID, RegionID: c.RegionID, Name: c.Name, PeriodFrom: c.PeriodFrom, PeriodTo: c.PeriodTo, Mode: c.Mode,
		ModeLabel: ml, Plan: fromInspectionPlan(c.Plan), InspectorIDs: ins, Status: c.Status, StatusLabel: sl, CreatedBy: c.CreatedBy,
		CreatedAt: c.CreatedAt, DrawnAt: c.DrawnAt, EndedAt: c.EndedAt, PopulationHash: c.PopulationHash, Version: c.Version}
}

func fromInspectionPlan(p inspect.Plan) wire.InspectionPlan {
	aw, sat := p.Targets.Awareness, p.Targets.Satisfaction
	out := wire.InspectionPlan{KeyPoorVillages: p.KeyPoorVillages, VillagesPerTown: p.VillagesPerTown, ExcludeLastCampaigns: p.ExcludeLastCampaigns,
		Strata: make([]wire.InspectionStratum, len(p.Strata)), Targets: &wire.InspectionTargets{Awareness: &aw, Satisfaction: &sat}}
	for i, s := range p.Strata {
		out.Strata[i] = wire.InspectionStratum{Code: s.Code, Statuses: s.Statuses, Size: s.Size}
	}
	return out
}

func toInspectionPlan(p *wire.InspectionPlan) *inspect.Plan {
	if p == nil {
		return nil
	}
	out := inspect.Plan{Plan: sampling.Plan{KeyPoorVillages: p.KeyPoorVillages, VillagesPerTown: p.VillagesPerTown,
		Strata: make([]sampling.Stratum, len(p.Strata))}, ExcludeLastCampaigns: p.ExcludeLastCampaigns, Targets: inspect.DefaultTargets()}
	for i, s := range p.Strata {
		out.Strata[i] = sampling.Stratum{Code: s.Code, Statuses: s.Statuses, Size: s.Size}
	}
	if t := p.Targets; t != nil && t.Awareness != nil {
		out.Targets.Awareness = *t.Awareness
	}
	if t := p.Targets; t != nil && t.Satisfaction != nil {
		out.Targets.Satisfaction = *t.Satisfaction
	}
	return &out
}

func fromSample(d inspect.Drawn) wire.InspectionSample {
	c := d.Campaign
	out := wire.InspectionSample{InspectionID: c.ID, Seed: c.Seed, Algorithm: c.Algorithm, PopulationHash: c.PopulationHash,
		Villages: make([]wire.SampledVillage, len(d.Sample.Villages)), Households: make([]wire.SampledHousehold, len(d.Sample.Households)),
		Shortfalls: make([]wire.SampleShortfall, len(c.Shortfalls))}
	if c.DrawnAt != nil {
		out.DrawnAt = *c.DrawnAt
	}
	for i, v := range d.Sample.Villages {
		out.Villages[i] = wire.SampledVillage{VillageID: v.ID, VillageName: d.Names[v.ID], TownID: v.TownID, TownName: d.Names[v.TownID], Stratum: v.Stratum}
	}
	for i, h := range d.Sample.Households {
		hh := d.Households[h.HouseholdID]
		out.Households[i] = wire.SampledHousehold{HouseholdID: h.HouseholdID, Number: hh.Number, HeadName: hh.HeadName, VillageID: h.VillageID,
			VillageName: d.Names[h.VillageID], TownID: h.TownID, Stratum: h.Stratum, Done: h.DoneAt != nil}
	}
	for i, f := range c.Shortfalls {
		sf := wire.SampleShortfall{TownID: f.TownID, TownName: d.Names[f.TownID], VillageID: f.VillageID, Stratum: f.Stratum, Wanted: f.Wanted, Found: f.Found}
		if f.VillageID != nil {
			sf.VillageName = d.Names[*f.VillageID]
		}
		out.Shortfalls[i] = sf
	}
	return out
}

func (h *handlers) createInspection(c *gin.Context) {
	var in wire.NewInspection
	if err := bindJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	camp, err := h.Inspect.CreateCampaign(c.Request.Context(), principal(c), inspect.NewCampaign{RegionID: in.RegionID, Name: in.Name,
		PeriodFrom: in.PeriodFrom, PeriodTo: in.PeriodTo, Mode: in.Mode, Plan: toInspectionPlan(in.Plan), Inspectors: in.InspectorIDs})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, fromInspection(camp))
}

func (h *handlers) listInspections(c *gin.Context) {
	q := queryParams{c: c}
	cq := inspect.CampaignQuery{RegionID: q.uuid("region_id"), Status: q.text("status", 20)}
	pg := q.page()
	if err := q.err(); err != nil {
		writeError(c, err)
		return
	}
	cq.Limit, cq.Offset = pg.Limit, pg.Offset
	items, total, err := h.Inspect.Campaigns(c.Request.Context(), principal(c), cq)
	respondPage(c, items, int64(total), pg, fromInspection, err)
}

func (h *handlers) getInspection(c *gin.Context) {
	respondOne(c, "inspection", h.Inspect.Campaign, fromInspection)
}

func (h *handlers) drawSample(c *gin.Context) {
	id, err := pathID(c, "id", "inspection")
	if err != nil {
		writeError(c, err)
		return
	}
	var in wire.DrawRequest
	if c.Request.ContentLength != 0 {
		if err := bindJSON(c, &in); err != nil {
			writeError(c, err)
			return
		}
	}
	d, err := h.Inspect.Draw(c.Request.Context(), principal(c), id, in.Seed)
	if err != nil {
		writeError(c, err)
		return
	}
	status := http.StatusCreated
	if d.Again {
		status = http.StatusOK
	}
	c.JSON(status, fromSample(d))
}

func (h *handlers) getSample(c *gin.Context) {
	respondOne(c, "inspection", h.Inspect.Sample, fromSample)
}

func (h *handlers) verifySample(c *gin.Context) {
	id, err := pathID(c, "id", "inspection")
	if err != nil {
		writeError(c, err)
		return
	}
	v, err := h.Inspect.Verify(c.Request.Context(), principal(c), id)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, wire.SampleVerification{Reproduced: v.Reproduced, PopulationChanged: v.PopulationChanged,
		PopulationHash: v.PopulationHash, DrawnPopulationHash: v.DrawnPopulationHash})
}

func (h *handlers) endInspection(c *gin.Context) {
	id, err := pathID(c, "id", "inspection")
	if err != nil {
		writeError(c, err)
		return
	}
	camp, err := h.Inspect.End(c.Request.Context(), principal(c), id)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, fromInspection(camp))
}
