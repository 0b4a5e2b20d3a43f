package server

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/casework"
	"github.com/fieldvisit/fieldvisit/wire"
)

// Poor-village exit (贫困村出列): the year's criteria, what is recorded of
// each village, the candidates, and a village's procedure (its steps go
// through the procedures' own routes).

func fromVillageExitStandard(st casework.VillageExitStandard) wire.VillageExitStandard {
	out := wire.VillageExitStandard{Year: st.Year, IncidencePermille: st.IncidencePermille, CollectiveIncomeFen: st.CollectiveIncomeFen,
		Indicators: make([]wire.VillageIndicator, len(st.Indicators)), Version: st.Version, Builtin: st.Version == 0}
	for i, in := range st.Indicators {
		out.Indicators[i] = wire.VillageIndicator{Code: in.Code, NameZH: in.NameZH}
	}
	return out
}

func fromVillageRecord(r casework.VillageRecord) wire.VillageRecord {
	return wire.VillageRecord{VillageID: r.VillageID, Year: r.Year, CollectiveIncomeFen: r.CollectiveIncomeFen, Indicators: r.Indicators,
		Notes: r.Notes, Version: r.Version}
}

func (h *handlers) getVillageExitStandard(c *gin.Context) {
	year, err := pathYear(c, "village exit standard")
	if err != nil {
		writeError(c, err)
		return
	}
	st, err := h.Casework.VillageExitStandardOf(c.Request.Context(), principal(c), year)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, fromVillageExitStandard(st))
}

func (h *handlers) putVillageExitStandard(c *gin.Context) {
	year, err := pathYear(c, "village exit standard")
	if err != nil {
		writeError(c, err)
		return
	}
	var in wire.VillageExitStandard
	if err := bindJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	st := casework.VillageExitStandard{Year: year, IncidencePermille: in.IncidencePermille, CollectiveIncomeFen: in.CollectiveIncomeFen,
		Version: in.Version}
	for _, ind := range in.Indicators {
		st.Indicators = append(st.Indicators, casework.VillageIndicator{Code: ind.Code, NameZH: ind.NameZH})
	}
	saved, err := h.Casework.PutVillageExitStandard(c.Request.Context(), principal(c), st)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, fromVillageExitStandard(saved))
}

func (h *handlers) getVillageRecord(c *gin.Context) {
	id, year, err := pathIDAndYear(c, "village", "village record")
	if err != nil {
		writeError(c, err)
		return
	}
	r, err := h.Casework.VillageRecordOf(c.Request.Context(), principal(c), id, year)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, fromVillageRecord(r))
}

func (h *handlers) putVillageRecord(c *gin.Context) {
	id, year, err := pathIDAndYear(c, "village", "village record")
	if err != nil {
		writeError(c, err)
		return
	}
	var in wire.VillageRecordIn
	if err := bindJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	r, err := h.Casework.PutVillageRecord(c.Request.Context(), principal(c), id, year, casework.VillageRecordInput{
		CollectiveIncomeFen: in.CollectiveIncomeFen, Indicators: in.Indicators, Notes: in.Notes, Version: in.Version})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, fromVillageRecord(r))
}

func (h *handlers) villageExitCandidates(c *gin.Context) {
	q := queryParams{c: c}
	region, year := q.requiredUUID("region_id", "区划"), q.year("year", domain.DateOf(h.Now()).Year)
	if err := q.err(); err != nil {
		writeError(c, err)
		return
	}
	cs, st, err := h.Casework.VillageExitCandidates(c.Request.Context(), principal(c), region, year)
	if err != nil {
		writeError(c, err)
		return
	}
	out := wire.VillageExitCandidates{Year: year, Standard: fromVillageExitStandard(st), Total: len(cs), Qualifying: casework.QualifyingVillages(cs),
		Items: make([]wire.VillageCandidate, len(cs))}
	for i, cd := range cs {
		item := wire.VillageCandidate{VillageID: cd.Village.ID, VillageName: cd.Village.Name, VillageCode: cd.Village.Code,
			PoorMembers: cd.Population.Poor, AllMembers: cd.Population.All, IncidenceText: casework.Permille(cd.Population.Poor, cd.Population.All),
			Record: fromVillageRecord(cd.Record), Qualifies: cd.Qualifies, Reasons: make([]wire.ExitReason, len(cd.Reasons))}
		if e := cd.Exit; e != nil {
			item.Exit = &wire.VillageExit{Year: e.Year, ExitedOn: e.ExitedOn, ProcedureID: e.ProcedureID}
		}
		for j, r := range cd.Reasons {
			item.Reasons[j] = wire.ExitReason{Code: r.Code, NameZH: r.NameZH, Met: r.Met, Pending: r.Pending, ReasonZH: r.ReasonZH}
		}
		out.Items[i] = item
	}
	c.JSON(http.StatusOK, out)
}

func (h *handlers) startVillageProcedure(c *gin.Context) {
	h.startProcedureOf(c, "village", h.Casework.StartVillageProcedure)
}

func (h *handlers) listVillageProcedures(c *gin.Context) {
	id, err := pathID(c, "id", "village")
	if err != nil {
		writeError(c, err)
		return
	}
	prs, err := h.Casework.VillageProcedures(c.Request.Context(), principal(c), id)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": wire.Map(prs, fromProcedure)})
}

// caseworkLedger answers a casework ledger download (收入台账, 脱贫退出台账):
// checked and authorised first (an error is still a problem+json), then
// streamed.
func (h *handlers) caseworkLedger(build func(context.Context, domain.Principal, casework.LedgerQuery) (casework.Download, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		q := queryParams{c: c}
		lq := casework.LedgerQuery{RegionID: q.uuid("region_id"), Year: q.year("year", domain.DateOf(h.Now()).Year), Kind: q.text("kind", 40),
			Format: q.text("format", 10)}
		if err := q.err(); err != nil {
			writeError(c, err)
			return
		}
		d, err := build(c.Request.Context(), principal(c), lq)
		if err != nil {
			writeError(c, err)
			return
		}
		h.download(c, d.ContentType, d.Filename, d.Write)
	}
}
