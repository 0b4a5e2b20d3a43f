package server

import (
	"github.com/gin-gonic/gin"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance"
	"github.com/fieldvisit/fieldvisit/wire"
)

func (h *handlers) cadreSummary(c *gin.Context) {
	respondOne(c, "cadre", h.Compliance.CadreSummary, fromCadreSummary)
}

func fromCadreSummary(s compliance.CadreSummary) wire.CadreSummary {
	out := wire.CadreSummary{Cadre: wire.FromUser(s.Cadre), Today: s.Today, Duties: wire.Map(s.Duties, fromReportItem),
		Households: make([]wire.CadreHousehold, len(s.Households)), Months: make([]wire.MonthlyVisits, len(s.Months)),
		Flags: make([]wire.FlagCount, len(s.Flags))}
	for _, per := range s.Periods {
		out.Periods = append(out.Periods, per.Key())
	}
	for i, ch := range s.Households {
		hh := ch.Household
		pl, _ := domain.PovertyTypes.Label(hh.PovertyType)
		sl, _ := domain.Statuses.Label(hh.Status)
		w := wire.CadreHousehold{HouseholdID: hh.ID, Number: hh.Number, HeadName: hh.HeadName, VillageID: hh.VillageID, VillageName: ch.VillageName,
			PovertyType: hh.PovertyType, PovertyTypeLabel: pl, Status: hh.Status, StatusLabel: sl, PairedSince: ch.PairedSince,
			Statuses: wire.Map(ch.Statuses, fromReportItem)}
		if ch.WorstState != "" {
			state := ch.WorstState
			w.WorstState = &state
		}
		out.Households[i] = w
	}
	for i, m := range s.Months {
		out.Months[i] = wire.MonthlyVisits{Month: m.Month.Key(), LabelZH: m.Month.LabelZH(), Visits: m.Visits, Flagged: m.Flagged}
	}
	for i, f := range s.Flags {
		out.Flags[i] = wire.FlagCount(f)
	}
	return out
}
