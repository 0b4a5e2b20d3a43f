package server

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance"
	"github.com/fieldvisit/fieldvisit/internal/compliance/rules"
	"github.com/fieldvisit/fieldvisit/wire"
)

func fromVisitJudgements(vs []rules.VisitJudgement) []wire.VisitJudgement {
	out := make([]wire.VisitJudgement, len(vs))
	for i, v := range vs {
		out[i] = wire.VisitJudgement{VisitID: v.VisitID, CadreID: v.CadreID, On: v.On, Kind: v.Kind, Counted: v.Counted, Reason: v.Reason, ReasonZH: v.ReasonZH}
	}
	return out
}

// fromStatus converts a judged status; state is the state on the day asked
// (a stored status is read on a later day than it was judged).
func fromStatus(st rules.Status, state string) wire.ComplianceStatus {
	label, _ := rules.States.Label(state)
	out := wire.ComplianceStatus{RuleCode: st.RuleCode, RuleNameZH: st.RuleNameZH, Subject: st.Subject, CadreID: st.CadreID,
		Period: st.Period.Key(), PeriodLabel: st.Period.LabelZH(), PeriodStart: st.Period.Start, PeriodEnd: st.Period.End,
		State: state, StateLabel: label, Required: st.Required, FullRequired: st.FullRequired, Counted: st.CountedN,
		ApplicableDays: st.ApplicableDays, Prorated: st.Prorated, DueOn: st.DueOn, ExplanationZH: st.ExplanationZH,
		Explanation: st.Explanation, CountedVisits: fromVisitJudgements(st.Counted), NotCounted: fromVisitJudgements(st.NotCounted)}
	if st.HouseholdID != uuid.Nil {
		h := st.HouseholdID
		out.HouseholdID = &h
	}
	return out
}

func fromRisk(r rules.Risk) *wire.Risk {
	return &wire.Risk{AtRisk: r.AtRisk, Needed: r.Needed, DaysLeft: r.DaysLeft, WorkingLeft: r.WorkingLeft, Pace: r.Pace,
		Capacity: r.Capacity, Owed: r.Owed, Score: r.Score, ReasonZH: r.ReasonZH}
}

func fromReportItem(it compliance.ReportItem) wire.ComplianceItem {
	st := fromStatus(it.Status, it.State)
	st.CountedVisits, st.NotCounted = []wire.VisitJudgement{}, []wire.VisitJudgement{}
	return wire.ComplianceItem{ComplianceStatus: st, HouseholdName: it.HouseholdName, HouseholdNumber: it.HouseholdNo,
		AnsweringCadre: it.CadreID, CadreName: it.CadreName, VillageID: it.VillageID, VillageName: it.VillageName}
}

func fromCounts(id, name string, c compliance.StateCounts) wire.StateCounts {
	out := wire.StateCounts{ID: id, Name: name, Total: c.Total, Met: c.Met, OnTrack: c.OnTrack, DueSoon: c.DueSoon, Overdue: c.Overdue,
		Missed: c.Missed, Required: c.Required, Counted: c.Counted}
	if c.Total > 0 {
		out.MetRate = float64(int64(float64(c.Met)/float64(c.Total)*10000+0.5)) / 10000
	}
	return out
}

func fromGroups(gs []compliance.GroupCounts) []wire.StateCounts {
	out := make([]wire.StateCounts, len(gs))
	for i, g := range gs {
		out[i] = fromCounts(g.ID, g.Name, g.StateCounts)
	}
	return out
}

func fromProfile(p compliance.Profile) wire.RuleProfile {
	return wire.RuleProfile{RuleProfileBody: fromRulesProfile(p.Profile), Builtin: p.Builtin, UpdatedAt: p.UpdatedAt}
}

func fromRulesProfile(p rules.Profile) wire.RuleProfileBody {
	return wire.RuleProfileBody{Code: p.Code, NameZH: p.NameZH, Version: p.Version, Rules: mapNil(p.Rules, fromRule),
		Coverage: wire.CoverageRules{TownHead: wire.VisitCoverage(p.Coverage.TownHead), CountyLeader: wire.VisitCoverage(p.Coverage.CountyLeader),
			PairingQuota: wire.PairingQuota(p.Coverage.PairingQuota), EveryPaired: wire.EveryPaired(p.Coverage.EveryPaired),
			ResidentTerm: wire.ResidentTerm(p.Coverage.ResidentTerm)}}
}

func fromRule(r rules.Rule) wire.Rule {
	return wire.Rule{Code: r.Code, NameZH: r.NameZH, Source: r.Source, DesignChoice: r.DesignChoice, Subject: r.Subject,
		Statuses: r.Statuses, PovertyTypes: r.PovertyTypes, ExitedSinceYear: r.ExitedSinceYear, Duties: r.Duties,
		Minimums: mapNil(r.Minimums, func(m rules.Minimum) wire.Minimum { return wire.Minimum(m) }), CountKinds: r.CountKinds,
		DisqualifyingFlags: r.DisqualifyingFlags, MinDurationMinutes: r.MinDurationMinutes, DueSoonDays: r.DueSoonDays, GraceDays: r.GraceDays,
		AnyCadre: r.AnyCadre}
}

func toRulesProfile(p wire.RuleProfileBody) rules.Profile {
	return rules.Profile{Code: p.Code, NameZH: p.NameZH, Version: p.Version, Rules: mapNil(p.Rules, toRule),
		Coverage: rules.CoverageRules{TownHead: rules.VisitCoverage(p.Coverage.TownHead), CountyLeader: rules.VisitCoverage(p.Coverage.CountyLeader),
			PairingQuota: rules.PairingQuota(p.Coverage.PairingQuota), EveryPaired: rules.EveryPaired(p.Coverage.EveryPaired),
			ResidentTerm: rules.ResidentTerm(p.Coverage.ResidentTerm)}}
}

func toRule(r wire.Rule) rules.Rule {
	return rules.Rule{Code: r.Code, NameZH: r.NameZH, Source: r.Source, DesignChoice: r.DesignChoice, Subject: r.Subject,
		Statuses: r.Statuses, PovertyTypes: r.PovertyTypes, ExitedSinceYear: r.ExitedSinceYear, Duties: r.Duties,
		Minimums: mapNil(r.Minimums, func(m wire.Minimum) rules.Minimum { return rules.Minimum(m) }), CountKinds: r.CountKinds,
		DisqualifyingFlags: r.DisqualifyingFlags, MinDurationMinutes: r.MinDurationMinutes, DueSoonDays: r.DueSoonDays, GraceDays: r.GraceDays,
		AnyCadre: r.AnyCadre}
}

// mapNil converts a list keeping nil apart from empty, which JSON tells
// apart (null and []).
func mapNil[T, U any](in []T, f func(T) U) []U {
	if in == nil {
		return nil
	}
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

func fromAssignment(a compliance.Assignment) wire.RegionRuleProfile {
	out := wire.RegionRuleProfile{RegionID: a.Region.ID, ProfileCode: a.Profile.Code, ProfileNameZH: a.Profile.NameZH,
		ProfileVersion: a.Profile.Version, Own: a.Own}
	if a.InheritedBy != nil {
		id := a.InheritedBy.ID
		out.InheritedFromID = &id
	}
	return out
}

func (h *handlers) listRuleProfiles(c *gin.Context) {
	ps, err := h.Compliance.Profiles(c.Request.Context())
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": wire.Map(ps, fromProfile)})
}

func (h *handlers) getRuleProfile(c *gin.Context) {
	p, err := h.Compliance.GetProfile(c.Request.Context(), c.Param("code"))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, fromProfile(p))
}

// putRuleProfile creates or replaces a profile. The body is the profile;
// its version is the one being replaced (0 for a new profile), so two
// admins editing at once cannot overwrite each other.
func (h *handlers) putRuleProfile(c *gin.Context) {
	var body wire.RuleProfileBody
	if err := bindJSON(c, &body); err != nil {
		writeError(c, err)
		return
	}
	p, err := h.Compliance.SaveProfile(c.Request.Context(), principal(c), c.Param("code"), toRulesProfile(body), body.Version)
	if err != nil {
		writeError(c, err)
		return
	}
	status := http.StatusOK
	if p.Version == 1 {
		status = http.StatusCreated
	}
	c.JSON(status, fromProfile(p))
}

func (h *handlers) getRegionRuleProfile(c *gin.Context) {
	respondOne(c, "region", h.Compliance.RegionProfile, fromAssignment)
}

func (h *handlers) putRegionRuleProfile(c *gin.Context) {
	id, err := pathID(c, "id", "region")
	if err != nil {
		writeError(c, err)
		return
	}
	var body struct {
		ProfileCode *string `json:"profile_code"`
	}
	if err := bindJSON(c, &body); err != nil {
		writeError(c, err)
		return
	}
	if body.ProfileCode == nil {
		writeError(c, domain.Invalid(domain.FieldError{Field: "/profile_code", Reason: "required", Message: "profile_code is required (empty to inherit)", MessageZH: "请填写规则方案代码（留空表示继承上级）"}))
		return
	}
	a, err := h.Compliance.AssignProfile(c.Request.Context(), principal(c), id, *body.ProfileCode)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, fromAssignment(a))
}

func (h *handlers) worklist(c *gin.Context) {
	items, err := h.Compliance.Worklist(c.Request.Context(), principal(c))
	if err != nil {
		writeError(c, err)
		return
	}
	out := wire.Worklist{Today: domain.DateOf(h.Now()), Items: make([]wire.ComplianceItem, len(items))}
	for i, it := range items {
		out.Items[i] = fromReportItem(it.ReportItem)
		out.Items[i].ReasonZH = it.ReasonZH
		out.Items[i].Risk = fromRisk(it.Risk)
	}
	c.JSON(http.StatusOK, out)
}

func (h *handlers) householdCompliance(c *gin.Context) {
	id, err := pathID(c, "id", "household")
	if err != nil {
		writeError(c, err)
		return
	}
	q := queryParams{c: c}
	year := q.year("year", domain.DateOf(h.Now()).Year)
	if err := q.err(); err != nil {
		writeError(c, err)
		return
	}
	sts, prof, err := h.Compliance.Timeline(c.Request.Context(), principal(c), id, year)
	if err != nil {
		writeError(c, err)
		return
	}
	out := wire.Timeline{HouseholdID: id, Year: year, ProfileCode: prof.Code, ProfileVersion: prof.Version, Statuses: make([]wire.ComplianceStatus, len(sts))}
	for i, st := range sts {
		out.Statuses[i] = fromStatus(st, st.State)
	}
	c.JSON(http.StatusOK, out)
}

// reportQuery reads region_id, period, rule, cadre_id, poverty_type,
// household_status, state (comma-separated), live and the page.
func reportQuery(c *gin.Context) (compliance.ReportQuery, error) {
	q := queryParams{c: c}
	rq := compliance.ReportQuery{RegionID: q.requiredUUID("region_id", "行政区划")}
	rq.Period = q.text("period", 10)
	rq.RuleCode = q.text("rule", 40)
	rq.CadreID = q.uuid("cadre_id")
	rq.PovertyType = q.text("poverty_type", 20)
	rq.HouseholdStatus = q.text("household_status", 20)
	if v := c.Query("state"); v != "" {
		rq.States = strings.Split(v, ",")
	}
	rq.Live = q.boolean("live")
	pg := q.page()
	rq.Limit, rq.Offset = pg.Limit, pg.Offset
	return rq, q.err()
}

func (h *handlers) missedReport(c *gin.Context) {
	rq, err := reportQuery(c)
	if err != nil {
		writeError(c, err)
		return
	}
	rep, err := h.Compliance.Missed(c.Request.Context(), principal(c), rq)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, wire.ComplianceReport{Region: wire.FromRegion(rep.Region), Period: rep.Period.Key(), PeriodLabel: rep.Period.LabelZH(),
		Today: rep.Today, Frozen: rep.ClosedAt != nil, ClosedAt: rep.ClosedAt, Total: fromCounts("", rep.Region.Name, rep.Total),
		Regions: fromGroups(rep.Regions), Cadres: fromGroups(rep.Cadres), Rules: fromGroups(rep.Rules),
		Items: wire.Page[wire.ComplianceItem]{Items: wire.Map(rep.Items, fromReportItem), Total: rep.Count, Limit: rq.Limit, Offset: rq.Offset}})
}

func (h *handlers) forecast(c *gin.Context) {
	rq, err := reportQuery(c)
	if err != nil {
		writeError(c, err)
		return
	}
	items, per, err := h.Compliance.Forecast(c.Request.Context(), principal(c), rq)
	if err != nil {
		writeError(c, err)
		return
	}
	out := wire.Forecast{Today: domain.DateOf(h.Now()), Items: make([]wire.ComplianceItem, len(items))}
	if !per.IsZero() {
		key := per.Key()
		out.Period = &key
	}
	for i, it := range items {
		out.Items[i] = fromReportItem(it.ReportItem)
		out.Items[i].Risk = fromRisk(it.Risk)
		out.Items[i].ReasonZH = it.Risk.ReasonZH
	}
	c.JSON(http.StatusOK, out)
}

func (h *handlers) closePeriod(c *gin.Context) {
	var body struct {
		RegionID uuid.UUID `json:"region_id"`
		Period   string    `json:"period"`
	}
	if err := bindJSON(c, &body); err != nil {
		writeError(c, err)
		return
	}
	at, err := h.Compliance.Close(c.Request.Context(), principal(c), body.RegionID, body.Period)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, wire.PeriodClose{RegionID: body.RegionID, Period: body.Period, ClosedAt: at.UTC()})
}

// exportQuery reads a report query plus from, to and format.
func (h *handlers) exportQuery(c *gin.Context) (compliance.ExportQuery, error) {
	rq, err := reportQuery(c)
	q := queryParams{c: c}
	eq := compliance.ExportQuery{ReportQuery: rq, From: q.date("from"), To: q.date("to"), Format: q.text("format", 10), BaseURL: h.baseURL(c)}
	if err != nil {
		return eq, err
	}
	return eq, q.err()
}

// baseURL is where links written into a download point: the configured
// public address, else the service's address as the caller reached it
// (the scheme from the connection, or from a trusted proxy's
// X-Forwarded-Proto; the host the client chose, so a forged Host puts its
// own address into the file's links).
func (h *handlers) baseURL(c *gin.Context) string {
	if h.PublicURL != "" {
		return h.PublicURL
	}
	scheme := "http"
	if c.Request.TLS != nil || c.RemoteIP() != c.ClientIP() && c.GetHeader("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + c.Request.Host
}

// export answers a 台账 download: checked and authorised first (an error is
// still a problem+json), then streamed.
func (h *handlers) export(build func(context.Context, domain.Principal, compliance.ExportQuery) (compliance.Export, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		q, err := h.exportQuery(c)
		if err != nil {
			writeError(c, err)
			return
		}
		ex, err := build(c.Request.Context(), principal(c), q)
		if err != nil {
			writeError(c, err)
			return
		}
		h.download(c, ex.ContentType, ex.Filename, ex.Write)
	}
}

// download streams a file the caller was checked and authorised for: the
// status goes first, so a failure halfway can only cut the download.
func (h *handlers) download(c *gin.Context, contentType, filename string, write func(io.Writer) error) {
	c.Header("Content-Type", contentType)
	c.Header("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(filename))
	c.Header("Cache-Control", "no-store")
	c.Status(http.StatusOK)
	if err := write(c.Writer); err != nil {
		h.Log.Error("download failed mid-stream", "error", err.Error(), "file", filename, "request_id", principal(c).RequestID)
	}
}

func (h *handlers) coverage(c *gin.Context) {
	q := queryParams{c: c}
	region := q.requiredUUID("region_id", "行政区划")
	year := q.year("year", domain.DateOf(h.Now()).Year)
	if err := q.err(); err != nil {
		writeError(c, err)
		return
	}
	rep, err := h.Compliance.Coverage(c.Request.Context(), principal(c), region, year)
	if err != nil {
		writeError(c, err)
		return
	}
	out := wire.Coverage{RegionID: rep.Region.ID, Year: rep.Year, ProfileCode: rep.Profile.Code, ProfileVersion: rep.Profile.Version,
		Unpaired: wire.UnpairedHouseholds{ByStatus: rep.Unpaired}, Findings: []wire.Finding{}}
	for _, n := range rep.Unpaired {
		out.Unpaired.Total += n
	}
	for _, f := range rep.Findings {
		label, _ := domain.Statuses.Label(f.HouseholdStatus)
		wf := wire.Finding{RuleCode: f.RuleCode, SubjectKind: f.SubjectKind, SubjectID: f.SubjectID, SubjectName: rep.Names[f.SubjectID],
			Severity: f.Severity, ExplanationZH: f.ExplanationZH, Explanation: f.Explanation, Items: []wire.NamedItem{},
			HouseholdStatus: f.HouseholdStatus, HouseholdStatusLabel: label, Unpaired: f.Unpaired}
		for _, id := range f.Items {
			wf.Items = append(wf.Items, wire.NamedItem{ID: id, Name: rep.Names[id]})
		}
		out.Findings = append(out.Findings, wf)
	}
	c.JSON(http.StatusOK, out)
}
