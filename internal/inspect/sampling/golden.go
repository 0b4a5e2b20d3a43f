package sampling

import (
	"math/rand/v2"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// GoldenSeed and GoldenPopulation are a fixed draw that pins the
// algorithm: the package's tests draw it in memory, and the store's tests
// draw the same population after a round trip through PostgreSQL and
// SQLite; all must give testdata/golden_sample.json.
const GoldenSeed = "5eed-0f-the-golden-draw"

// GoldenPopulation is three towns of six villages (every third one poor)
// with 12 to 23 households of every status each; the ids come from a fixed
// generator.
func GoldenPopulation() Population {
	rng := rand.New(rand.NewPCG(2026, 12))
	id := func() uuid.UUID {
		var u uuid.UUID
		for i := range u {
			u[i] = byte(rng.IntN(256))
		}
		u[6] = u[6]&0x0f | 0x40 // a version-4 UUID, as the database stores
		u[8] = u[8]&0x3f | 0x80
		return u
	}
	statuses := []string{domain.StatusRegistered, domain.StatusExited, domain.StatusRelapsed, domain.StatusEdge, domain.StatusGeneral, domain.StatusRemoved}
	var pop Population
	for range 3 {
		town := id()
		for v := range 6 {
			village := Village{ID: id(), TownID: town, Poor: v%3 == 0}
			pop.Villages = append(pop.Villages, village)
			for range 12 + rng.IntN(12) {
				pop.Households = append(pop.Households, Household{ID: id(), VillageID: village.ID, Status: statuses[rng.IntN(len(statuses))]})
			}
		}
	}
	return pop
}
