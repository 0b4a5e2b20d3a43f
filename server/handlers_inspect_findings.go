package server

import (
	"math"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/internal/inspect"
	"github.com/fieldvisit/fieldvisit/internal/inspect/discrepancy"
	"github.com/fieldvisit/fieldvisit/internal/inspect/forms"
	"github.com/fieldvisit/fieldvisit/wire"
)

func fromForm(f forms.Form) wire.InspectionForm {
	out := wire.InspectionForm{Code: f.Code, Version: f.Version, TitleZH: f.TitleZH, Items: make([]wire.FormItem, len(f.Items))}
	for i, it := range f.Items {
		item := wire.FormItem{Code: it.Code, LabelZH: it.LabelZH, Group: it.Group, Kind: it.Kind, Choices: make([]wire.FormChoice, len(it.Choices)),
			Required: it.Required}
		for j, c := range it.Choices {
			item.Choices[j] = wire.FormChoice{Code: c.Code, LabelZH: c.LabelZH}
		}
		if it.Kind == forms.KindCount || it.Kind == forms.KindText {
			m := it.Max
			item.Max = &m
		}
		out.Items[i] = item
	}
	return out
}

func toAnswers(in map[string]wire.FindingAnswer) map[string]forms.Answer {
	if in == nil {
		return nil
	}
	out := make(map[string]forms.Answer, len(in))
	for k, a := range in {
		out[k] = forms.Answer{Choice: a.Choice, Choices: a.Choices, Count: a.Count, Yes: a.Yes, Text: a.Text}
	}
	return out
}

func fromFinding(f inspect.Finding) wire.InspectionFinding {
	answers := make(map[string]wire.FindingAnswer, len(f.Answers))
	for k, a := range f.Answers {
		answers[k] = wire.FindingAnswer{Choice: a.Choice, Choices: a.Choices, Count: a.Count, Yes: a.Yes, Text: a.Text}
	}
	return wire.InspectionFinding{ID: f.ID, InspectionID: f.CampaignID, HouseholdID: f.HouseholdID, VillageID: f.VillageID, FormCode: f.FormCode,
		FormVersion: f.FormVersion, Answers: answers, InspectorID: f.InspectorID, VisitID: f.VisitID, RecordedAt: f.RecordedAt, UpdatedAt: f.UpdatedAt,
		Version: f.Version}
}

func (h *handlers) inspectionForms(c *gin.Context) {
	fs := h.Inspect.Forms()
	out := wire.InspectionForms{Forms: make([]wire.InspectionForm, len(fs))}
	for i, f := range fs {
		out.Forms[i] = fromForm(f)
	}
	c.JSON(http.StatusOK, out)
}

// putFindings records or corrects the findings of the sampled household or
// village named by the path parameter param: 201 the first time, 200 for
// a correction.
func (h *handlers) putFindings(param, what string) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, err := pathID(c, "id", "inspection")
		if err != nil {
			writeError(c, err)
			return
		}
		subject, err := pathID(c, param, what)
		if err != nil {
			writeError(c, err)
			return
		}
		var body wire.FindingsInput
		if err := bindJSON(c, &body); err != nil {
			writeError(c, err)
			return
		}
		in := inspect.FindingInput{CampaignID: id, Answers: toAnswers(body.Answers), VisitID: body.VisitID, Version: body.Version}
		if param == "household_id" {
			in.HouseholdID = &subject
		} else {
			in.VillageID = &subject
		}
		f, created, err := h.Inspect.RecordFindings(c.Request.Context(), principal(c), in)
		if err != nil {
			writeError(c, err)
			return
		}
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		c.JSON(status, fromFinding(f))
	}
}

func fromFindings(cf inspect.CampaignFindings) wire.InspectionFindings {
	return wire.InspectionFindings{InspectionID: cf.Campaign.ID, Items: wire.Map(cf.Findings, fromFinding)}
}

func (h *handlers) listFindings(c *gin.Context) {
	respondOne(c, "inspection", h.Inspect.Findings, fromFindings)
}

// inspectionReport answers the campaign's report as JSON, or with
// format=xlsx|csv as a 台账 download, checked and authorised before the
// first byte is streamed.
func (h *handlers) inspectionReport(c *gin.Context) {
	id, err := pathID(c, "id", "inspection")
	if err != nil {
		writeError(c, err)
		return
	}
	q := queryParams{c: c}
	format := q.text("format", 10)
	if err := q.err(); err != nil {
		writeError(c, err)
		return
	}
	if format == "" || format == "json" {
		r, err := h.Inspect.Report(c.Request.Context(), principal(c), id)
		if err != nil {
			writeError(c, err)
			return
		}
		c.JSON(http.StatusOK, fromReport(r))
		return
	}
	ex, err := h.Inspect.ReportExport(c.Request.Context(), principal(c), id, format)
	if err != nil {
		writeError(c, err)
		return
	}
	h.download(c, ex.ContentType, ex.Filename, ex.Write)
}

func rate(r *float64) *float64 {
	if r == nil {
		return nil
	}
	v := math.Round(*r*10000) / 10000
	return &v
}

func fromOpinion(g inspect.OpinionGroup) wire.OpinionRates {
	return wire.OpinionRates{Households: g.Households, SatisfactionAnswers: g.SatisfactionAnswers, Satisfied: g.Satisfied,
		SatisfactionRate: rate(g.SatisfactionRate), AwarenessAnswers: g.AwarenessAnswers, AwarenessRate: rate(g.AwarenessRate),
		MeetsSatisfaction: g.MeetsSatisfaction, MeetsAwareness: g.MeetsAwareness, Shortfall: g.Shortfall}
}

func fromReport(r inspect.Report) wire.InspectionReport {
	c := r.Campaign
	name := func(id uuid.UUID) string { return r.Names[id] }
	out := wire.InspectionReport{InspectionID: c.ID, Name: c.Name, Status: c.Status, GeneratedOn: r.Today,
		Targets:    wire.ReportTargets{Awareness: r.Targets.Awareness, Satisfaction: r.Targets.Satisfaction},
		Shortfalls: fromSample(r.Drawn).Shortfalls, Households: []wire.HouseholdDiscrepancy{}, LikelyPaper: []wire.HouseholdDiscrepancy{}}
	out.Coverage = wire.ReportCoverage{Households: r.Coverage.Households, Done: r.Coverage.Done, Villages: len(r.Coverage.Villages),
		VillagesDone: r.Coverage.VillagesDone, ByVillage: make([]wire.VillageCoverage, len(r.Coverage.Villages))}
	for i, v := range r.Coverage.Villages {
		out.Coverage.ByVillage[i] = wire.VillageCoverage{VillageID: v.VillageID, VillageName: name(v.VillageID), TownID: v.TownID, TownName: name(v.TownID),
			Stratum: v.Stratum, Households: v.Households, Done: v.Done, VillageFormDone: v.VillageFormDone}
	}
	household := func(s inspect.HouseholdScore) wire.HouseholdDiscrepancy {
		hh := r.Households[s.HouseholdID]
		d := wire.HouseholdDiscrepancy{HouseholdID: s.HouseholdID, Number: hh.Number, HeadName: hh.HeadName, VillageID: s.VillageID,
			VillageName: name(s.VillageID), TownID: s.TownID, TownName: name(s.TownID), Stratum: s.Stratum, CadreID: s.CadreID,
			RecordedVisits: s.Facts.RecordedVisits, FlaggedVisits: s.Facts.FlaggedVisits, PhotoReuse: s.Facts.PhotoReuse,
			RecalledVisits: s.Facts.RecalledVisits, CadreRecognised: s.Facts.CadreRecognised, Points: s.Points, LikelyPaper: s.LikelyPaper,
			Reasons: make([]wire.DiscrepancyReason, len(s.Reasons))}
		if s.CadreID != nil {
			d.CadreName = name(*s.CadreID)
		}
		for i, rs := range s.Reasons {
			d.Reasons[i] = wire.DiscrepancyReason{Code: rs.Code, Points: rs.Points, Message: rs.Message, MessageZH: rs.MessageZH, Value: rs.Value}
		}
		return d
	}
	for _, s := range r.Scores {
		out.Households = append(out.Households, household(s))
	}
	for _, s := range r.LikelyPaper() {
		out.LikelyPaper = append(out.LikelyPaper, household(s))
	}
	group := func(g discrepancy.Group) wire.DiscrepancyGroup {
		return wire.DiscrepancyGroup{ID: g.ID, Name: name(g.ID), Households: g.Households, MeanPoints: math.Round(g.MeanPoints*10) / 10,
			LikelyPaper: g.LikelyPaper}
	}
	out.ByCadre, out.ByVillage, out.ByTown = wire.Map(r.ByCadre, group), wire.Map(r.ByVillage, group), wire.Map(r.ByTown, group)
	ranked := func(g inspect.OpinionGroup) wire.RankedOpinion {
		return wire.RankedOpinion{ID: g.ID, Name: name(g.ID), Rank: g.Rank, OpinionRates: fromOpinion(g)}
	}
	out.Opinion = wire.ReportOpinion{Overall: fromOpinion(r.Opinion.Overall), ByTown: wire.Map(r.Opinion.ByTown, ranked),
		ByVillage: wire.Map(r.Opinion.ByVillage, ranked), ByCadre: wire.Map(r.Opinion.ByCadre, ranked)}
	pr := r.Precision
	out.Precision.Identification.Answers, out.Precision.Identification.Accurate = pr.IdentificationAnswers, pr.Identification["accurate"]
	out.Precision.Identification.ShouldRegister, out.Precision.Identification.WronglyRegistered = pr.Identification["should_register"],
		pr.Identification["wrongly_registered"]
	out.Precision.Exit.Answers, out.Precision.Exit.CriteriaMet = pr.ExitAnswers, pr.Exit["criteria_met"]
	out.Precision.Exit.CriteriaNotMet, out.Precision.Exit.NotExited = pr.Exit["criteria_not_met"], pr.Exit["not_exited"]
	out.Precision.Effect.Answers, out.Precision.Effect.Clear, out.Precision.Effect.Some, out.Precision.Effect.None = pr.EffectAnswers,
		pr.Effect["clear"], pr.Effect["some"], pr.Effect["none"]
	rc := r.Rectifications
	out.Rectifications = wire.RectificationCounts{Total: rc.Total(), Open: rc.ByStatus["open"], InProgress: rc.ByStatus["in_progress"],
		Submitted: rc.ByStatus["submitted"], Closed: rc.ByStatus["closed"], Withdrawn: rc.ByStatus[inspect.RectificationWithdrawn], Overdue: rc.Overdue}
	return out
}

func fromAction(a inspect.NamedAction) wire.AccountabilityAction {
	kl, _ := inspect.ActionKinds.Label(a.Kind)
	out := wire.AccountabilityAction{ID: a.ID, Kind: a.Kind, KindLabel: kl, CampaignID: a.CampaignID, TargetUnitID: a.TargetUnitID,
		TargetUserID: a.TargetUserID, Reason: a.Reason, IssuedBy: a.IssuedBy, IssuedByName: a.Names[a.IssuedBy], IssuedAt: a.IssuedAt,
		FollowUp: a.FollowUp, FollowedUpOn: a.FollowedUpOn, Version: a.Version}
	switch {
	case a.TargetUnitID != nil:
		out.TargetName = a.Names[*a.TargetUnitID]
	case a.TargetUserID != nil:
		out.TargetName = a.Names[*a.TargetUserID]
	}
	return out
}

func (h *handlers) createAccountability(c *gin.Context) {
	var in wire.NewAccountabilityAction
	if err := bindJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	a, err := h.Inspect.IssueAction(c.Request.Context(), principal(c), inspect.NewAction{Kind: in.Kind, CampaignID: in.CampaignID,
		TargetUnitID: in.TargetUnitID, TargetUserID: in.TargetUserID, Reason: in.Reason})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, fromAction(a))
}

func (h *handlers) listAccountability(c *gin.Context) {
	q := queryParams{c: c}
	aq := inspect.ActionQuery{RegionID: q.uuid("region_id"), CampaignID: q.uuid("campaign_id")}
	pg := q.page()
	if err := q.err(); err != nil {
		writeError(c, err)
		return
	}
	aq.Limit, aq.Offset = pg.Limit, pg.Offset
	items, total, err := h.Inspect.Actions(c.Request.Context(), principal(c), aq)
	respondPage(c, items, total, pg, fromAction, err)
}

func (h *handlers) followUpAccountability(c *gin.Context) {
	id, err := pathID(c, "id", "accountability action")
	if err != nil {
		writeError(c, err)
		return
	}
	var in wire.AccountabilityFollowUp
	if err := bindJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	a, err := h.Inspect.FollowUpAction(c.Request.Context(), principal(c), id, inspect.FollowUp{Text: in.FollowUp, On: in.FollowedUpOn, Version: in.Version})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, fromAction(a))
}
