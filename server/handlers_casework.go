package server

import (
	"context"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/casework"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	"github.com/fieldvisit/fieldvisit/wire"
)

func (h *handlers) changePovertyType(c *gin.Context) {
	var in wire.PovertyTypeChangeIn
	id, ok := versionedEdit(c, "household", &in, func(in *wire.PovertyTypeChangeIn) int64 { return in.Version })
	if !ok {
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

// pathYear reads a year path parameter; anything but a number is no such
// record (404), and the service judges the range.
func pathYear(c *gin.Context, what string) (int, error) {
	y, err := strconv.Atoi(c.Param("year"))
	if err != nil || len(c.Param("year")) > 4 {
		return 0, domain.NotFound(what)
	}
	return y, nil
}

var fromIncomeAccount = wire.FromIncomeAccount

// pathIDAndYear reads the {id} and {year} of a yearly record's route
// (an income account, a village's record): either malformed is no such
// record (404).
func pathIDAndYear(c *gin.Context, idWhat, yearWhat string) (uuid.UUID, int, error) {
	id, err := pathID(c, "id", idWhat)
	if err != nil {
		return uuid.Nil, 0, err
	}
	year, err := pathYear(c, yearWhat)
	return id, year, err
}

func (h *handlers) listIncomeAccounts(c *gin.Context) {
	id, err := pathID(c, "id", "household")
	if err != nil {
		writeError(c, err)
		return
	}
	as, err := h.Casework.IncomeAccounts(c.Request.Context(), principal(c), id)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": wire.Map(as, fromIncomeAccount)})
}

func (h *handlers) getIncomeAccount(c *gin.Context) {
	id, year, err := pathIDAndYear(c, "household", "income account")
	if err != nil {
		writeError(c, err)
		return
	}
	a, err := h.Casework.IncomeAccount(c.Request.Context(), principal(c), id, year)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, fromIncomeAccount(a))
}

func (h *handlers) putIncomeAccount(c *gin.Context) {
	id, year, err := pathIDAndYear(c, "household", "income account")
	if err != nil {
		writeError(c, err)
		return
	}
	var in wire.IncomeAccountIn
	if err := bindJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	if in.Version == nil {
		var fe domain.FieldErrors
		fe.Required("/version", "版本号")
		writeError(c, fe.Err())
		return
	}
	m := in.IncomeAmounts
	a, err := h.Casework.PutIncomeAccount(c.Request.Context(), principal(c), id, year, casework.IncomeFields{WagesFen: m.WagesFen,
		BusinessFen: m.BusinessFen, TransfersFen: m.TransfersFen, PensionsFen: m.PensionsFen, PropertyFen: m.PropertyFen, CostsFen: m.CostsFen,
		MembersCounted: m.MembersCounted, Notes: m.Notes}, *in.Version)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, fromIncomeAccount(a))
}

func fromExitStandard(st casework.ExitStandard) wire.ExitStandard {
	out := wire.ExitStandard{Year: st.Year, PerCapitaFen: st.PerCapitaFen, PovertyLineFen: st.PovertyLineFen, StableYears: st.StableYears,
		Indicators: make([]wire.ExitIndicator, len(st.Indicators)), Version: st.Version, Builtin: st.Version == 0}
	for i, in := range st.Indicators {
		out.Indicators[i] = wire.ExitIndicator{Code: in.Code, NameZH: in.NameZH, Check: in.Check}
	}
	return out
}

func (h *handlers) getExitStandard(c *gin.Context) {
	year, err := pathYear(c, "exit standard")
	if err != nil {
		writeError(c, err)
		return
	}
	st, err := h.Casework.ExitStandardOf(c.Request.Context(), principal(c), year)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, fromExitStandard(st))
}

func (h *handlers) putExitStandard(c *gin.Context) {
	year, err := pathYear(c, "exit standard")
	if err != nil {
		writeError(c, err)
		return
	}
	var in wire.ExitStandard
	if err := bindJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	st := casework.ExitStandard{Year: year, PerCapitaFen: in.PerCapitaFen, PovertyLineFen: in.PovertyLineFen, StableYears: in.StableYears,
		Version: in.Version}
	for _, ind := range in.Indicators {
		st.Indicators = append(st.Indicators, casework.Indicator{Code: ind.Code, NameZH: ind.NameZH, Check: ind.Check})
	}
	saved, err := h.Casework.PutExitStandard(c.Request.Context(), principal(c), st)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, fromExitStandard(saved))
}

func (h *handlers) exitCandidates(c *gin.Context) {
	q := queryParams{c: c}
	cq := casework.CandidateQuery{RegionID: q.requiredUUID("region_id", "区划"), Year: q.year("year", domain.DateOf(h.Now()).Year)}
	pg := q.page()
	if err := q.err(); err != nil {
		writeError(c, err)
		return
	}
	cq.Limit, cq.Offset = pg.Limit, pg.Offset
	page, err := h.Casework.ExitCandidatesPage(c.Request.Context(), principal(c), cq)
	if err != nil {
		writeError(c, err)
		return
	}
	out := wire.ExitCandidates{Year: cq.Year, Standard: fromExitStandard(page.Standard), Items: make([]wire.ExitCandidate, len(page.Candidates)),
		Total: page.Total, Qualifying: page.Qualifying}
	for i, cd := range page.Candidates {
		item := wire.ExitCandidate{HouseholdID: cd.Household.ID, HouseholdNumber: cd.Household.Number, HeadName: cd.Household.HeadName,
			PovertyType: cd.Household.PovertyType, Qualifies: cd.Qualifies, PerCapitaFen: cd.PerCapitaFen, Reasons: make([]wire.ExitReason, len(cd.Reasons))}
		for j, r := range cd.Reasons {
			item.Reasons[j] = wire.ExitReason{Code: r.Code, NameZH: r.NameZH, Met: r.Met, Pending: r.Pending, ReasonZH: r.ReasonZH}
		}
		out.Items[i] = item
	}
	c.JSON(http.StatusOK, out)
}

func fromProcedure(pr casework.Procedure) wire.Procedure {
	kl, _ := casework.KindLabels.Label(pr.Kind)
	out := wire.Procedure{ID: pr.ID, HouseholdID: optionalID(pr.HouseholdID), VillageID: optionalID(pr.VillageID), Kind: pr.Kind, KindLabel: kl, Year: pr.Year, PovertyType: pr.PovertyType,
		Reason: pr.Reason, Status: pr.Status, Steps: make([]wire.ProcedureStep, len(pr.Steps)), Version: pr.Version, CreatedAt: pr.CreatedAt,
		UpdatedAt: pr.UpdatedAt}
	labels := map[string]string{}
	for _, d := range casework.Kinds[pr.Kind] {
		labels[d.Code] = d.NameZH
	}
	for i, st := range pr.Steps {
		out.Steps[i] = wire.ProcedureStep{Step: st.Code, StepLabel: labels[st.Code], DoneOn: st.DoneOn, Note: st.Note, DocumentIDs: st.DocumentIDs,
			PhotoIDs: st.PhotoIDs, Confirmed: st.Confirmed, RecordedBy: st.RecordedBy, RecordedAt: st.RecordedAt}
	}
	if next := pr.Next(); next != "" && pr.Status == casework.ProcedureOpen {
		out.NextStep = &next
	}
	return out
}

func (h *handlers) startProcedure(c *gin.Context) {
	h.startProcedureOf(c, "household", h.Casework.StartProcedure)
}

// startProcedureOf starts a procedure of the route's subject (a
// household, or a village's exit) through start.
func (h *handlers) startProcedureOf(c *gin.Context, what string,
	start func(context.Context, domain.Principal, uuid.UUID, casework.NewProcedure) (casework.Procedure, error)) {
	id, err := pathID(c, "id", what)
	if err != nil {
		writeError(c, err)
		return
	}
	var in wire.NewProcedure
	if err := bindJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	pr, err := start(c.Request.Context(), principal(c), id, casework.NewProcedure{Kind: in.Kind, Year: in.Year, PovertyType: in.PovertyType,
		Reason: in.Reason})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, fromProcedure(pr))
}

func (h *handlers) getProcedure(c *gin.Context) {
	id, err := pathID(c, "id", "procedure")
	if err != nil {
		writeError(c, err)
		return
	}
	pr, err := h.Casework.Procedure(c.Request.Context(), principal(c), id)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, fromProcedure(pr))
}

func (h *handlers) recordStep(c *gin.Context) {
	var in wire.StepIn
	id, ok := versionedEdit(c, "procedure", &in, func(in *wire.StepIn) int64 { return in.Version })
	if !ok {
		return
	}
	pr, err := h.Casework.RecordStep(c.Request.Context(), principal(c), id, casework.StepInput{Step: in.Step, DoneOn: in.DoneOn, Note: in.Note,
		DocumentIDs: in.DocumentIDs, PhotoIDs: in.PhotoIDs, Confirmed: in.Confirmed, Version: in.Version})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, fromProcedure(pr))
}

// optionalID is nil for the zero id: a procedure names its household or
// its village, never both.
func optionalID(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}
