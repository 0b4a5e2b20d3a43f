// Package sampling draws the households an inspection team re-checks
// (DESIGN §7; seed 001: 每镇抽查4个村，每村抽查10户，贫困户和非贫困户各5户,
// every poor village a key village). It is pure: the caller hands it the
// population and the plan, and gets a sample anyone can draw again.
//
// A draw is reproducible from three things stored with it: the seed, the
// algorithm version and the population. Randomness comes from hashing, not
// from a generator walked in row order: every village and household gets
// the key SHA-256(algorithm, seed, kind, id), and a stratum takes the
// candidates with the smallest keys. So the order rows arrive in never
// matters, and adding or removing one household changes a sample only
// where that household would itself have been drawn.
package sampling

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// Algorithm names this package's way of drawing; it is stored with every
// sample, and a change to how keys or strata work gets a new name.
const Algorithm = "fieldvisit-sample-v1"

// Village is a village of the population, in its town.
type Village struct {
	ID, TownID uuid.UUID
	Poor       bool // 贫困村: a key village (重点督查) when the plan says so
}

// Household is a household of the population, with the status that puts
// it in a stratum.
type Household struct {
	ID, VillageID uuid.UUID
	Status        string
}

// Population is what a sample is drawn from: the villages of the campaign's
// region and their households, in any order.
type Population struct {
	Villages   []Village
	Households []Household
}

// Stratum is a group of households drawn apart, by status, with how many
// to draw from each village.
type Stratum struct {
	Code     string
	Statuses []string
	Size     int
}

// Plan says what to draw.
type Plan struct {
	KeyPoorVillages bool // every poor village is drawn, beside the sampled ones
	VillagesPerTown int  // other villages drawn in each town
	Strata          []Stratum
}

// Stratum codes of the village draw and of the default household strata.
const (
	StratumKeyVillage     = "key_village"     // a poor village, always drawn
	StratumSampledVillage = "sampled_village" // drawn among the town's other villages
)

// DrawnVillage is a village of the sample.
type DrawnVillage struct {
	ID, TownID uuid.UUID
	Stratum    string // StratumKeyVillage or StratumSampledVillage
}

// DrawnHousehold is a household of the sample.
type DrawnHousehold struct {
	ID, VillageID, TownID uuid.UUID
	Stratum               string // the plan's stratum code
}

// Shortfall is a stratum that had fewer candidates than the plan asks for:
// reported, never filled from elsewhere. VillageID is nil for a town's
// village draw.
type Shortfall struct {
	TownID    uuid.UUID
	VillageID *uuid.UUID
	Stratum   string
	Wanted    int
	Found     int
}

// Sample is a draw and what it was drawn from.
type Sample struct {
	Algorithm      string
	Seed           string
	PopulationHash string
	Villages       []DrawnVillage
	Households     []DrawnHousehold
	Shortfalls     []Shortfall
}

// NewSeed returns a fresh random seed for a campaign that names none.
func NewSeed() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Draw draws a sample of pop by plan with seed. Households in exclude (for
// example those sampled in the last campaigns) are not candidates.
func Draw(pop Population, plan Plan, seed string, exclude map[uuid.UUID]bool) Sample {
	out := Sample{Algorithm: Algorithm, Seed: seed, PopulationHash: PopulationHash(pop, exclude),
		Villages: []DrawnVillage{}, Households: []DrawnHousehold{}, Shortfalls: []Shortfall{}}
	towns := map[uuid.UUID][]Village{}
	for _, v := range pop.Villages {
		towns[v.TownID] = append(towns[v.TownID], v)
	}
	inVillage := map[uuid.UUID][]Household{}
	for _, h := range pop.Households {
		if !exclude[h.ID] {
			inVillage[h.VillageID] = append(inVillage[h.VillageID], h)
		}
	}
	for _, town := range sortedIDs(towns) {
		var key, others []Village
		for _, v := range towns[town] {
			if plan.KeyPoorVillages && v.Poor {
				key = append(key, v)
			} else {
				others = append(others, v)
			}
		}
		slices.SortFunc(key, func(a, b Village) int { return bytes.Compare(a.ID[:], b.ID[:]) })
		drawn := smallest(others, plan.VillagesPerTown, func(v Village) []byte { return drawKey(seed, "village", v.ID) })
		if len(drawn) < plan.VillagesPerTown {
			out.Shortfalls = append(out.Shortfalls, Shortfall{TownID: town, Stratum: StratumSampledVillage, Wanted: plan.VillagesPerTown, Found: len(drawn)})
		}
		for _, group := range []struct {
			stratum  string
			villages []Village
		}{{StratumKeyVillage, key}, {StratumSampledVillage, drawn}} {
			for _, v := range group.villages {
				out.Villages = append(out.Villages, DrawnVillage{ID: v.ID, TownID: town, Stratum: group.stratum})
				out.drawHouseholds(plan, seed, v, inVillage[v.ID])
			}
		}
	}
	return out
}

// drawHouseholds draws each stratum of the plan in village v.
func (s *Sample) drawHouseholds(plan Plan, seed string, v Village, households []Household) {
	for _, st := range plan.Strata {
		var candidates []Household
		for _, h := range households {
			if slices.Contains(st.Statuses, h.Status) {
				candidates = append(candidates, h)
			}
		}
		drawn := smallest(candidates, st.Size, func(h Household) []byte { return drawKey(seed, "household", h.ID) })
		for _, h := range drawn {
			s.Households = append(s.Households, DrawnHousehold{ID: h.ID, VillageID: v.ID, TownID: v.TownID, Stratum: st.Code})
		}
		if len(drawn) < st.Size {
			id := v.ID
			s.Shortfalls = append(s.Shortfalls, Shortfall{TownID: v.TownID, VillageID: &id, Stratum: st.Code, Wanted: st.Size, Found: len(drawn)})
		}
	}
}

// smallest returns the n items with the smallest keys, in key order.
func smallest[T any](items []T, n int, key func(T) []byte) []T {
	type keyed struct {
		k []byte
		v T
	}
	ks := make([]keyed, len(items))
	for i, it := range items {
		ks[i] = keyed{key(it), it}
	}
	slices.SortFunc(ks, func(a, b keyed) int { return bytes.Compare(a.k, b.k) })
	out := make([]T, 0, min(n, len(ks)))
	for i := 0; i < n && i < len(ks); i++ {
		out = append(out, ks[i].v)
	}
	return out
}

// drawKey is the random position of an id in a draw with seed.
func drawKey(seed, kind string, id uuid.UUID) []byte {
	h := sha256.New()
	for _, part := range [][]byte{[]byte(Algorithm), []byte(seed), []byte(kind), id[:]} {
		h.Write([]byte(strconv.Itoa(len(part))))
		h.Write([]byte{':'})
		h.Write(part)
	}
	return h.Sum(nil)
}

// PopulationHash is a digest of what a draw sees: every village with its
// town and poverty flag, and every candidate household (exclusions left
// out) with its village and status, in id order. Two populations with the
// same hash give the same sample for the same seed and plan.
func PopulationHash(pop Population, exclude map[uuid.UUID]bool) string {
	villages := slices.Clone(pop.Villages)
	slices.SortFunc(villages, func(a, b Village) int { return bytes.Compare(a.ID[:], b.ID[:]) })
	households := make([]Household, 0, len(pop.Households))
	for _, h := range pop.Households {
		if !exclude[h.ID] {
			households = append(households, h)
		}
	}
	slices.SortFunc(households, func(a, b Household) int { return bytes.Compare(a.ID[:], b.ID[:]) })
	d := sha256.New()
	d.Write([]byte(Algorithm + "\n"))
	for _, v := range villages {
		poor := byte('0')
		if v.Poor {
			poor = '1'
		}
		d.Write(v.ID[:])
		d.Write(v.TownID[:])
		d.Write([]byte{poor, '\n'})
	}
	for _, h := range households {
		d.Write(h.ID[:])
		d.Write(h.VillageID[:])
		d.Write([]byte(h.Status + "\n"))
	}
	return hex.EncodeToString(d.Sum(nil))
}

func sortedIDs[V any](m map[uuid.UUID]V) []uuid.UUID {
	ids := make([]uuid.UUID, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	return ids
}

// DefaultPlan is seed 001's: every poor village, four other villages per
// town, and in each village five registered-or-exited households (贫困户,
// relapsed ones included) and five others (非贫困户: edge, general and
// removed households).
func DefaultPlan() Plan {
	return Plan{KeyPoorVillages: true, VillagesPerTown: 4, Strata: []Stratum{
		{Code: StratumPoor, Statuses: []string{domain.StatusRegistered, domain.StatusExited, domain.StatusRelapsed}, Size: 5},
		{Code: StratumOther, Statuses: []string{domain.StatusEdge, domain.StatusGeneral, domain.StatusRemoved}, Size: 5},
	}}
}

// The default household strata.
const (
	StratumPoor  = "poor"  // 贫困户
	StratumOther = "other" // 非贫困户
)

// SameDraw reports whether two samples drew the same villages and
// households in the same strata (seed and population aside).
func (s Sample) SameDraw(o Sample) bool {
	return slices.Equal(s.Villages, o.Villages) && slices.Equal(s.Households, o.Households)
}
