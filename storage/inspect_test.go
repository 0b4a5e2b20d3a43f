package storage_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/inspect/sampling"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	"github.com/fieldvisit/fieldvisit/internal/testkit/storetest"
	"github.com/fieldvisit/fieldvisit/storage"
)

// TestTheGoldenDrawSurvivesEitherDatabase stores the sampling package's
// golden population in each database and draws from what the store reads
// back: the sample must be testdata/golden_sample.json exactly, whatever
// order the database hands the rows over in.
func TestTheGoldenDrawSurvivesEitherDatabase(t *testing.T) {
	want, err := os.ReadFile("../internal/inspect/sampling/testdata/golden_sample.json")
	if err != nil {
		t.Fatal(err)
	}
	storetest.Each(t, func(t *testing.T, db *storage.DB) {
		s := storage.NewStore(db, nil)
		county := storeGoldenPopulation(t, s, sampling.GoldenPopulation())
		pop, err := s.Population(context.Background(), county.Path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := json.Marshal(sampling.Draw(pop, sampling.DefaultPlan(), sampling.GoldenSeed, nil))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("the draw from the stored population differs from the golden sample:\n got %s\nwant %s", got, want)
		}
	})
}

// storeGoldenPopulation writes pop under a new county: its towns and
// villages with their ids, and one household per population household.
func storeGoldenPopulation(t *testing.T, s *storage.Store, pop sampling.Population) domain.Region {
	t.Helper()
	ctx := context.Background()
	id := uuid.New()
	county := domain.Region{ID: id, Level: domain.LevelCounty, Code: "410122000000", Name: "县", Path: "/" + id.String() + "/", CountyID: &id}
	create := func(r domain.Region) {
		t.Helper()
		if err := s.CreateRegion(ctx, r, domain.AuditEntry{}); err != nil {
			t.Fatal(err)
		}
	}
	create(county)
	towns := map[uuid.UUID]domain.Region{}
	villages := map[uuid.UUID]domain.Region{}
	for i, v := range pop.Villages {
		town, ok := towns[v.TownID]
		if !ok {
			town = domain.Region{ID: v.TownID, ParentID: &county.ID, Level: domain.LevelTown, Code: fmt.Sprintf("410122%03d000", len(towns)+1),
				Name: fmt.Sprintf("镇%d", len(towns)+1), Path: county.Path + v.TownID.String() + "/", CountyID: &id}
			create(town)
			towns[v.TownID] = town
		}
		village := domain.Region{ID: v.ID, ParentID: &town.ID, Level: domain.LevelVillage, Code: fmt.Sprintf("%s%03d", town.Code[:9], i+1),
			Name: fmt.Sprintf("村%d", i+1), Path: town.Path + v.ID.String() + "/", CountyID: &id, IsPoorVillage: v.Poor}
		create(village)
		villages[v.ID] = village
	}
	now := time.Now().UTC()
	for _, h := range pop.Households {
		v := villages[h.VillageID]
		hh := domain.Household{ID: h.ID, CountyID: id, RegionID: v.ID, VillageID: v.ID, HouseholdDetails: domain.HouseholdDetails{HeadName: "户主", Causes: []string{}},
			Status: h.Status, Version: 1, CreatedAt: now, UpdatedAt: now}
		err := s.CreateHousehold(ctx, registry.HouseholdRegistration{Household: hh, RegionPath: v.Path,
			Status: domain.StatusChange{ID: uuid.New(), HouseholdID: h.ID, CountyID: id, To: h.Status, EffectiveOn: domain.DateOf(now), RecordedAt: now}})
		if err != nil {
			t.Fatal(err)
		}
	}
	return county
}
