package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/inspect"
	"github.com/fieldvisit/fieldvisit/internal/inspect/forms"
	"github.com/fieldvisit/fieldvisit/internal/inspect/sampling"
	"github.com/fieldvisit/fieldvisit/internal/testkit/storetest"
	"github.com/fieldvisit/fieldvisit/storage"
)

// TestACorrectionHoldsItsFindingAgainstARegistration: a correction asks
// for the finding's open item (OpenItemOfFinding) before it judges the
// corrected answers, and that holds the finding to the end of its
// transaction: a rectification item's registration for the finding
// (LedgerFindingProblems) waits for it, then judges the finding as
// corrected. Neither judges the finding without the other, so an item is
// never left open for a problem a correction took away meanwhile.
func TestACorrectionHoldsItsFindingAgainstARegistration(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		st := storage.NewStore(db, nil)
		now := time.Now().UTC().Truncate(time.Second)
		county, village, inspector := uuid.New(), uuid.New(), uuid.New()
		region := domain.Region{ID: county, Level: domain.LevelCounty, Code: "410122000000", Name: "县", Path: "/" + county.String() + "/", CountyID: &county}
		if err := st.CreateRegion(ctx, region, domain.AuditEntry{}); err != nil {
			t.Fatal(err)
		}
		c := inspect.Campaign{ID: uuid.New(), CountyID: &county, RegionID: county, RegionPath: "/" + county.String() + "/", Name: "督查",
			PeriodFrom: domain.DateOf(now), PeriodTo: domain.DateOf(now), Mode: inspect.ModeAnnounced, Plan: inspect.DefaultPlan(),
			Inspectors: []uuid.UUID{}, Status: inspect.StatusPlanned, CreatedBy: inspector, CreatedAt: now,
			Shortfalls: []sampling.Shortfall{}, Version: 1}
		if err := st.CreateCampaign(ctx, c, domain.AuditEntry{Action: "create", ObjectType: "inspection", ObjectID: c.ID.String()}); err != nil {
			t.Fatal(err)
		}
		no, yes := false, true
		answers := func(road *bool) map[string]forms.Answer {
			return map[string]forms.Answer{"road": {Yes: road}, "water": {Yes: &yes}}
		}
		f := inspect.Finding{ID: uuid.New(), CampaignID: c.ID, CountyID: county, VillageID: village, FormCode: forms.FormVillage, FormVersion: 1,
			Answers: answers(&no), InspectorID: inspector, RecordedAt: now, UpdatedAt: now, Version: 1}
		audit := domain.AuditEntry{Action: "record_findings", ObjectType: "inspection_finding", ObjectID: f.ID.String()}
		if err := st.SaveFinding(ctx, f, 0, audit); err != nil {
			t.Fatal(err)
		}

		held, release, corrected := make(chan struct{}), make(chan struct{}), make(chan error, 1)
		go func() {
			corrected <- st.Tx(ctx, func(tx *storage.Store) error {
				if _, err := tx.OpenItemOfFinding(ctx, f.ID); !domain.IsCode(err, domain.CodeNotFound) {
					close(held)
					return err
				}
				close(held)
				<-release
				fixed := f
				fixed.Answers, fixed.Version = answers(&yes), 2
				return tx.SaveFinding(ctx, fixed, 1, audit)
			})
		}()
		<-held
		type judgement struct {
			problems []string
			err      error
		}
		judged := make(chan judgement, 1)
		go func() {
			var j judgement
			j.err = st.Tx(ctx, func(tx *storage.Store) error {
				j.problems, j.err = tx.LedgerFindingProblems(ctx, f.ID)
				return j.err
			})
			judged <- j
		}()
		select {
		case j := <-judged:
			close(release)
			<-corrected
			t.Fatalf("the registration judged the finding while a correction held it: %v (%v)", j.problems, j.err)
		case <-time.After(300 * time.Millisecond):
		}
		close(release)
		if err := <-corrected; err != nil {
			t.Fatal(err)
		}
		if j := <-judged; j.err != nil || len(j.problems) != 0 {
			t.Fatalf("the registration judged %v (%v), want the corrected finding: no problem", j.problems, j.err)
		}
	})
}
