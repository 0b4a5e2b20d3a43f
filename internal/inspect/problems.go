package inspect

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/inspect/discrepancy"
	"github.com/fieldvisit/fieldvisit/internal/inspect/forms"
)

// CadreRecords is what judging a household's finding reads of its cadre's
// records: the same reads the campaign's report weighs them with.
type CadreRecords interface {
	HouseholdPairings(ctx context.Context, countyID uuid.UUID, households []uuid.UUID) ([]domain.Pairing, error)
	HouseholdVisits(ctx context.Context, countyID uuid.UUID, households []uuid.UUID, from, to time.Time) ([]VisitFact, error)
}

// FindingProblems lists what a finding records as a problem — what a
// rectification item (整改) may be registered for: the answers its form
// marks as problems (forms.Form.Problems: 错评, a 两不愁三保障 item with a
// problem, a village without its road …) and, for a household, every
// discrepancy between its cadre's records and what the inspection found
// (discrepancy.Weigh's reasons, as the report scores them: visits the
// records claim and the household denies, a cadre it does not know …).
// Catching those is what an inspection is for, so they count though every
// answer is in order. Empty: the finding records nothing to rectify.
func FindingProblems(ctx context.Context, records CadreRecords, f Finding) ([]string, error) {
	out := findingForm(f.FormCode).Problems(f.Answers)
	if f.HouseholdID == nil {
		return out, nil
	}
	household := []uuid.UUID{*f.HouseholdID}
	pairings, err := records.HouseholdPairings(ctx, f.CountyID, household)
	if err != nil {
		return nil, err
	}
	from := f.RecordedAt.In(domain.Shanghai).AddDate(0, -FactsWindow, 0)
	visits, err := records.HouseholdVisits(ctx, f.CountyID, household, from, f.RecordedAt)
	if err != nil {
		return nil, err
	}
	cadre := ResponsibleCadre(pairings, *f.HouseholdID, domain.DateOf(f.RecordedAt))
	facts := HouseholdFacts(SampledHousehold{HouseholdID: *f.HouseholdID, CountyID: f.CountyID, VillageID: f.VillageID}, f, cadre, visits)
	for _, r := range discrepancy.Weigh(facts).Reasons {
		out = append(out, r.Code)
	}
	return out, nil
}

// findingForm is the form a finding was recorded on. Every finding so far
// is on version 1 of the default forms; a county's own forms, when they
// come, are looked up by code and version here.
func findingForm(code string) forms.Form {
	if code == forms.FormVillage {
		return forms.DefaultVillage()
	}
	return forms.DefaultHousehold()
}
