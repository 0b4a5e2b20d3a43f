package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/casework"
	"github.com/fieldvisit/fieldvisit/internal/testkit/storetest"
	"github.com/fieldvisit/fieldvisit/storage"
)

// TestLatestChecklistKeepsEachItemsLatestAnswer: per household and item,
// the answer of the latest live visit that answered it — an item a later
// visit left out keeps the earlier answer, a deleted visit counts for
// nothing, and two households never mix.
func TestLatestChecklistKeepsEachItemsLatestAnswer(t *testing.T) {
	storetest.EachCounty(t, func(t *testing.T, db *storage.DB, st *storage.Store, c storetest.County) {
		ctx := context.Background()
		county, cadre := c.County.ID, c.CadreA.ID
		a, b := c.HouseholdA.Household.ID, c.HouseholdB.Household.ID
		day := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		visit := func(household uuid.UUID, daysIn int, deleted bool, answers map[string]string) uuid.UUID {
			t.Helper()
			started := day.AddDate(0, 0, daysIn)
			cl := map[string]domain.ChecklistEntry{}
			for item, ans := range answers {
				cl[item] = domain.ChecklistEntry{Answer: ans}
			}
			v := domain.Visit{ID: uuid.New(), CountyID: county, HouseholdID: household, CadreID: cadre, DeviceID: "phone",
				VisitDetails: domain.VisitDetails{Kind: "assist", StartedAt: started, Checklist: cl}, StartedAtText: started.Format(time.RFC3339),
				ReceivedAt: started, Version: 1, Deleted: deleted, CreatedAt: started, UpdatedAt: started}
			if err := st.InsertVisit(ctx, v); err != nil {
				t.Fatal(err)
			}
			return v.ID
		}
		first := visit(a, 0, false, map[string]string{"food": "yes", "housing": "no"})
		second := visit(a, 10, false, map[string]string{"housing": "yes"})
		visit(a, 20, true, map[string]string{"food": "no", "housing": "no"}) // deleted: counts for nothing
		other := visit(b, 30, false, map[string]string{"food": "no"})

		got, err := st.LatestChecklist(ctx, domain.VisitReader{}, []uuid.UUID{a, b})
		if err != nil {
			t.Fatal(err)
		}
		want := map[uuid.UUID]map[string]casework.ChecklistAnswer{
			a: {"food": {Answer: "yes", VisitID: first, On: domain.DateOf(day)}, "housing": {Answer: "yes", VisitID: second, On: domain.DateOf(day.AddDate(0, 0, 10))}},
			b: {"food": {Answer: "no", VisitID: other, On: domain.DateOf(day.AddDate(0, 0, 30))}},
		}
		for h, items := range want {
			for item, w := range items {
				if g := got[h][item]; g != w {
					t.Errorf("household %s, %s: %+v; want %+v", h, item, g, w)
				}
			}
			if len(got[h]) != len(items) {
				t.Errorf("household %s: %d items answered; want %d: %+v", h, len(got[h]), len(items), got[h])
			}
		}
	})
}
