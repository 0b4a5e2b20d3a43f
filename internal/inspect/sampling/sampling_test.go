package sampling

import (
	"encoding/json"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
	"pgregory.net/rapid"

	"github.com/fieldvisit/fieldvisit/domain"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/golden_sample.json")

// county builds a population deterministically from rng: towns, villages
// (some poor) and households of every status.
func county(rng *rand.Rand, towns, villagesPerTown, householdsPerVillage int) Population {
	var pop Population
	id := func() uuid.UUID {
		var u uuid.UUID
		for i := range u {
			u[i] = byte(rng.IntN(256))
		}
		return u
	}
	statuses := []string{domain.StatusRegistered, domain.StatusExited, domain.StatusRelapsed, domain.StatusEdge, domain.StatusGeneral, domain.StatusRemoved}
	for range towns {
		town := id()
		for range villagesPerTown {
			v := Village{ID: id(), TownID: town, Poor: rng.IntN(3) == 0}
			pop.Villages = append(pop.Villages, v)
			for range householdsPerVillage {
				pop.Households = append(pop.Households, Household{ID: id(), VillageID: v.ID, Status: statuses[rng.IntN(len(statuses))]})
			}
		}
	}
	return pop
}

func shuffled(pop Population, rng *rand.Rand) Population {
	out := Population{Villages: append([]Village(nil), pop.Villages...), Households: append([]Household(nil), pop.Households...)}
	rng.Shuffle(len(out.Villages), func(i, j int) { out.Villages[i], out.Villages[j] = out.Villages[j], out.Villages[i] })
	rng.Shuffle(len(out.Households), func(i, j int) { out.Households[i], out.Households[j] = out.Households[j], out.Households[i] })
	return out
}

// TestTheOrderOfRowsNeverMatters: the same seed and population give the
// same sample and population hash whatever order the database returns
// the rows in; another seed gives another sample.
func TestTheOrderOfRowsNeverMatters(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rng := rand.New(rand.NewPCG(rapid.Uint64().Draw(t, "population"), 1))
		pop := county(rng, rapid.IntRange(1, 4).Draw(t, "towns"), rapid.IntRange(1, 8).Draw(t, "villages"), rapid.IntRange(0, 30).Draw(t, "households"))
		seed := rapid.StringMatching(`[0-9a-f]{8}`).Draw(t, "seed")
		a := Draw(pop, DefaultPlan(), seed, nil)
		b := Draw(shuffled(pop, rng), DefaultPlan(), seed, nil)
		if !a.SameDraw(b) || a.PopulationHash != b.PopulationHash {
			t.Fatalf("the order of rows changed the sample")
		}
	})
}

// TestStrataAndShortfalls is the plan as a table: key villages always,
// sampled villages per town, households per stratum, and every stratum
// that runs short reported with what was wanted and found.
func TestStrataAndShortfalls(t *testing.T) {
	town := uuid.MustParse("00000000-0000-4000-8000-000000000001")
	v := func(n byte, poor bool) Village {
		return Village{ID: uuid.UUID{0x10, n}, TownID: town, Poor: poor}
	}
	households := func(village Village, status string, n int) []Household {
		out := make([]Household, n)
		for i := range out {
			out[i] = Household{ID: uuid.UUID{0x20, village.ID[1], byte(len(status)), byte(i)}, VillageID: village.ID, Status: status}
		}
		return out
	}
	poor, rich1, rich2 := v(1, true), v(2, false), v(3, false)
	cases := []struct {
		name      string
		pop       Population
		plan      Plan
		villages  map[string]int // drawn villages by stratum
		drawn     map[string]int // drawn households by stratum
		shortfall []Shortfall
	}{
		{
			name: "a poor village is always drawn, and others up to the plan",
			pop: Population{Villages: []Village{poor, rich1, rich2}, Households: concat(
				households(poor, domain.StatusRegistered, 8), households(poor, domain.StatusGeneral, 7),
				households(rich1, domain.StatusExited, 5), households(rich1, domain.StatusEdge, 5),
				households(rich2, domain.StatusRelapsed, 6), households(rich2, domain.StatusRemoved, 9))},
			plan:      Plan{KeyPoorVillages: true, VillagesPerTown: 2, Strata: DefaultPlan().Strata},
			villages:  map[string]int{StratumKeyVillage: 1, StratumSampledVillage: 2},
			drawn:     map[string]int{StratumPoor: 15, StratumOther: 15},
			shortfall: []Shortfall{},
		},
		{
			name: "a village with only 3 poor households is reported, not filled",
			pop: Population{Villages: []Village{poor}, Households: concat(
				households(poor, domain.StatusRegistered, 3), households(poor, domain.StatusGeneral, 9))},
			plan:      Plan{KeyPoorVillages: true, VillagesPerTown: 0, Strata: DefaultPlan().Strata},
			villages:  map[string]int{StratumKeyVillage: 1},
			drawn:     map[string]int{StratumPoor: 3, StratumOther: 5},
			shortfall: []Shortfall{{TownID: town, VillageID: &poor.ID, Stratum: StratumPoor, Wanted: 5, Found: 3}},
		},
		{
			name:      "a town with fewer villages than the plan asks for",
			pop:       Population{Villages: []Village{rich1}, Households: households(rich1, domain.StatusEdge, 5)},
			plan:      Plan{VillagesPerTown: 4, Strata: DefaultPlan().Strata},
			villages:  map[string]int{StratumSampledVillage: 1},
			drawn:     map[string]int{StratumOther: 5},
			shortfall: []Shortfall{{TownID: town, Stratum: StratumSampledVillage, Wanted: 4, Found: 1}, {TownID: town, VillageID: &rich1.ID, Stratum: StratumPoor, Wanted: 5, Found: 0}},
		},
		{
			name:      "without key villages a poor village is drawn like any other",
			pop:       Population{Villages: []Village{poor, rich1}, Households: households(poor, domain.StatusRegistered, 2)},
			plan:      Plan{KeyPoorVillages: false, VillagesPerTown: 2, Strata: []Stratum{{Code: StratumPoor, Statuses: []string{domain.StatusRegistered}, Size: 2}}},
			villages:  map[string]int{StratumSampledVillage: 2},
			drawn:     map[string]int{StratumPoor: 2},
			shortfall: []Shortfall{{TownID: town, VillageID: &rich1.ID, Stratum: StratumPoor, Wanted: 2, Found: 0}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := Draw(tc.pop, tc.plan, "seed", nil)
			villages, drawn := map[string]int{}, map[string]int{}
			for _, v := range s.Villages {
				villages[v.Stratum]++
			}
			for _, h := range s.Households {
				drawn[h.Stratum]++
			}
			if !sameCounts(villages, tc.villages) || !sameCounts(drawn, tc.drawn) {
				t.Fatalf("villages %v households %v, want %v %v", villages, drawn, tc.villages, tc.drawn)
			}
			if got, want := jsonOf(t, s.Shortfalls), jsonOf(t, tc.shortfall); got != want {
				t.Fatalf("shortfalls %s, want %s", got, want)
			}
		})
	}
}

// TestExcludedHouseholdsAreNeverDrawn: households sampled by the last
// campaigns are not candidates, and the population hash says so.
func TestExcludedHouseholdsAreNeverDrawn(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	pop := county(rng, 2, 5, 20)
	first := Draw(pop, DefaultPlan(), "a", nil)
	exclude := map[uuid.UUID]bool{}
	for _, h := range first.Households {
		exclude[h.ID] = true
	}
	second := Draw(pop, DefaultPlan(), "a", exclude)
	for _, h := range second.Households {
		if exclude[h.ID] {
			t.Fatalf("household %s was drawn again", h.ID)
		}
	}
	if first.PopulationHash == second.PopulationHash {
		t.Fatal("the exclusions are part of what the draw saw")
	}
}

// TestAChangedPopulationIsNoticed: the population hash moves when a
// household is added, changes status or village, or a village changes
// town or poverty flag; the sample itself moves only if the change
// touches it.
func TestAChangedPopulationIsNoticed(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	pop := county(rng, 3, 6, 25)
	base := Draw(pop, DefaultPlan(), "s", nil)
	changes := map[string]func(p *Population){
		"a household added": func(p *Population) {
			p.Households = append(p.Households, Household{ID: uuid.New(), VillageID: p.Villages[0].ID, Status: domain.StatusGeneral})
		},
		"a status changed":          func(p *Population) { p.Households[4].Status = flip(p.Households[4].Status) },
		"a household moved village": func(p *Population) { p.Households[5].VillageID = p.Villages[len(p.Villages)-1].ID },
		"a village became poor":     func(p *Population) { p.Villages[2].Poor = !p.Villages[2].Poor },
	}
	for name, change := range changes {
		t.Run(name, func(t *testing.T) {
			p := Population{Villages: append([]Village(nil), pop.Villages...), Households: append([]Household(nil), pop.Households...)}
			change(&p)
			if PopulationHash(p, nil) == base.PopulationHash {
				t.Fatal("the population hash did not change")
			}
		})
	}
}

func flip(status string) string {
	if status == domain.StatusGeneral {
		return domain.StatusRegistered
	}
	return domain.StatusGeneral
}

// TestGoldenSample pins the algorithm: a fixed population and seed give
// exactly the sample in testdata/golden_sample.json. The store tests draw
// the same population from PostgreSQL and SQLite against the same file.
func TestGoldenSample(t *testing.T) {
	s := Draw(GoldenPopulation(), DefaultPlan(), GoldenSeed, nil)
	got := jsonOf(t, s)
	path := filepath.Join("testdata", "golden_sample.json")
	if *updateGolden {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update-golden)", err)
	}
	if got != string(want) {
		t.Fatalf("the sample changed; a new way of drawing needs a new Algorithm name:\n got %s\nwant %s", got, want)
	}
}

func concat[T any](parts ...[]T) []T {
	var out []T
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func sameCounts(a, b map[string]int) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// BenchmarkDrawProvince draws from a province of 1,000,000 households (50
// towns × 20 villages × 1,000 households); the population hash, which
// reads every household, is measured on its own beside it.
func BenchmarkDrawProvince(b *testing.B) {
	pop := county(rand.New(rand.NewPCG(1, 2)), 50, 20, 1000)
	b.Run("draw", func(b *testing.B) {
		for b.Loop() {
			Draw(pop, DefaultPlan(), "bench", nil)
		}
	})
	b.Run("population-hash", func(b *testing.B) {
		for b.Loop() {
			PopulationHash(pop, nil)
		}
	})
}
