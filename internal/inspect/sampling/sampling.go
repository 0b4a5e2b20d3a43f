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
	"bufio"
	"bytes"
	"cmp"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

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
	out := Sample{Algorithm: Algorithm, Seed: seed, Villages: []DrawnVillage{}, Households: []DrawnHousehold{}, Shortfalls: []Shortfall{}}
	// The hash reads every household once more; it runs beside the draw.
	hashed := make(chan string, 1)
	go func() { hashed <- PopulationHash(pop, exclude) }()

	towns := map[uuid.UUID][]Village{}
	for _, v := range pop.Villages {
		towns[v.TownID] = append(towns[v.TownID], v)
	}
	// First the villages, town by town; a town's shortfall of villages is
	// reported before its villages' shortfalls of households.
	type step struct {
		village   *Village
		shortfall *Shortfall
	}
	var steps []step
	villageKey := newKeyer(seed, "village")
	for _, town := range sortedIDs(towns) {
		var key, others []Village
		for _, v := range towns[town] {
			if plan.KeyPoorVillages && v.Poor {
				key = append(key, v)
			} else {
				others = append(others, v)
			}
		}
		slices.SortFunc(key, func(a, b Village) int { return domain.CompareIDs(a.ID, b.ID) })
		drawn := smallest(others, plan.VillagesPerTown, func(v Village) [32]byte { return villageKey.of(v.ID) })
		if len(drawn) < plan.VillagesPerTown {
			steps = append(steps, step{shortfall: &Shortfall{TownID: town, Stratum: StratumSampledVillage, Wanted: plan.VillagesPerTown, Found: len(drawn)}})
		}
		for _, group := range []struct {
			stratum  string
			villages []Village
		}{{StratumKeyVillage, key}, {StratumSampledVillage, drawn}} {
			for i := range group.villages {
				v := &group.villages[i]
				out.Villages = append(out.Villages, DrawnVillage{ID: v.ID, TownID: town, Stratum: group.stratum})
				steps = append(steps, step{village: v})
			}
		}
	}
	// Then the households of each drawn village, villages shared among
	// the cores, each result kept in its village's place.
	inVillage := groupByVillage(pop.Households, exclude)
	results := make([]villageDraw, len(steps))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(1, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := newKeyer(seed, "household")
			for i := int(next.Add(1) - 1); i < len(steps); i = int(next.Add(1) - 1) {
				if v := steps[i].village; v != nil {
					results[i] = drawHouseholds(plan, key, *v, inVillage[v.ID])
				}
			}
		}()
	}
	wg.Wait()
	for i, st := range steps {
		if st.shortfall != nil {
			out.Shortfalls = append(out.Shortfalls, *st.shortfall)
			continue
		}
		out.Households = append(out.Households, results[i].households...)
		out.Shortfalls = append(out.Shortfalls, results[i].shortfalls...)
	}
	out.PopulationHash = <-hashed
	return out
}

// groupByVillage returns the candidate households of each village, in
// one backing array rather than a slice grown per village: a province has
// a million of them.
func groupByVillage(households []Household, exclude map[uuid.UUID]bool) map[uuid.UUID][]Household {
	count := map[uuid.UUID]int{}
	for _, h := range households {
		if len(exclude) == 0 || !exclude[h.ID] {
			count[h.VillageID]++
		}
	}
	backing := make([]Household, 0, len(households))
	out := make(map[uuid.UUID][]Household, len(count))
	for id, n := range count {
		out[id] = backing[len(backing) : len(backing) : len(backing)+n]
		backing = backing[:len(backing)+n]
	}
	for _, h := range households {
		if len(exclude) == 0 || !exclude[h.ID] {
			out[h.VillageID] = append(out[h.VillageID], h)
		}
	}
	return out
}

// villageDraw is what a village's household draw gives.
type villageDraw struct {
	households []DrawnHousehold
	shortfalls []Shortfall
}

// drawHouseholds draws each stratum of the plan in village v.
func drawHouseholds(plan Plan, key *keyer, v Village, households []Household) villageDraw {
	var out villageDraw
	for _, st := range plan.Strata {
		var candidates []Household
		for _, h := range households {
			if slices.Contains(st.Statuses, h.Status) {
				candidates = append(candidates, h)
			}
		}
		drawn := smallest(candidates, st.Size, func(h Household) [32]byte { return key.of(h.ID) })
		for _, h := range drawn {
			out.households = append(out.households, DrawnHousehold{ID: h.ID, VillageID: v.ID, TownID: v.TownID, Stratum: st.Code})
		}
		if len(drawn) < st.Size {
			id := v.ID
			out.shortfalls = append(out.shortfalls, Shortfall{TownID: v.TownID, VillageID: &id, Stratum: st.Code, Wanted: st.Size, Found: len(drawn)})
		}
	}
	return out
}

// smallest returns the n items with the smallest keys, in key order.
func smallest[T any](items []T, n int, key func(T) [32]byte) []T {
	type keyed struct {
		k [32]byte
		v T
	}
	ks := make([]keyed, len(items))
	for i, it := range items {
		ks[i] = keyed{key(it), it}
	}
	slices.SortFunc(ks, func(a, b keyed) int { return bytes.Compare(a.k[:], b.k[:]) })
	out := make([]T, 0, min(n, len(ks)))
	for i := 0; i < n && i < len(ks); i++ {
		out = append(out, ks[i].v)
	}
	return out
}

// keyer gives ids their random position in a draw: SHA-256 over the
// length-prefixed parts algorithm, seed, kind and id. The first three are
// the same for every id of a kind, so they are encoded once.
type keyer struct {
	buf    []byte
	prefix int
}

func newKeyer(seed, kind string) *keyer {
	b := appendPart(nil, []byte(Algorithm))
	b = appendPart(b, []byte(seed))
	b = appendPart(b, []byte(kind))
	return &keyer{buf: b, prefix: len(b)}
}

func (k *keyer) of(id uuid.UUID) [32]byte {
	k.buf = appendPart(k.buf[:k.prefix], id[:])
	return sha256.Sum256(k.buf)
}

func appendPart(b, part []byte) []byte {
	b = strconv.AppendInt(b, int64(len(part)), 10)
	b = append(b, ':')
	return append(b, part...)
}

// PopulationHash is a digest of what a draw sees: every village with its
// town and poverty flag, and every candidate household (exclusions left
// out) with its village and status, in id order. Two populations with the
// same hash give the same sample for the same seed and plan.
func PopulationHash(pop Population, exclude map[uuid.UUID]bool) string {
	villages := slices.Clone(pop.Villages)
	slices.SortFunc(villages, func(a, b Village) int { return domain.CompareIDs(a.ID, b.ID) })
	order := householdsByID(pop.Households, exclude)
	d := sha256.New()
	// Written through a buffer: a million small writes to the digest cost
	// more than the hashing.
	w := bufio.NewWriterSize(d, 64<<10)
	w.WriteString(Algorithm + "\n")
	for i := range villages {
		v := &villages[i]
		poor := byte('0')
		if v.Poor {
			poor = '1'
		}
		w.Write(v.ID[:])
		w.Write(v.TownID[:])
		w.WriteByte(poor)
		w.WriteByte('\n')
	}
	for _, at := range order {
		h := &pop.Households[at]
		w.Write(h.ID[:])
		w.Write(h.VillageID[:])
		w.WriteString(h.Status)
		w.WriteByte('\n')
	}
	w.Flush()
	return hex.EncodeToString(d.Sum(nil))
}

// householdsByID returns where each candidate household is in hs, in id
// order. Ids are spread by their first two bytes into buckets, each sorted
// on its own: ids are random, so a province's million households make
// buckets of about fifteen, and sorting pointer-free keys spares the write
// barriers that moving households (and their status strings) would cost.
func householdsByID(hs []Household, exclude map[uuid.UUID]bool) []int {
	type idKey struct {
		hi, lo uint64
		at     int
	}
	bucket := func(k idKey) int { return int(k.hi >> 48) }
	keys := make([]idKey, 0, len(hs))
	var starts [1<<16 + 1]int
	for i := range hs {
		if id := hs[i].ID; len(exclude) == 0 || !exclude[id] {
			k := idKey{binary.BigEndian.Uint64(id[:8]), binary.BigEndian.Uint64(id[8:]), i}
			keys = append(keys, k)
			starts[bucket(k)+1]++
		}
	}
	for b := 1; b < len(starts); b++ {
		starts[b] += starts[b-1]
	}
	sorted := make([]idKey, len(keys))
	next := starts
	for _, k := range keys {
		sorted[next[bucket(k)]] = k
		next[bucket(k)]++
	}
	out := make([]int, len(sorted))
	for b := 0; b < 1<<16; b++ {
		part := sorted[starts[b]:starts[b+1]]
		slices.SortFunc(part, func(x, y idKey) int {
			if c := cmp.Compare(x.hi, y.hi); c != 0 {
				return c
			}
			return cmp.Compare(x.lo, y.lo)
		})
		for i, k := range part {
			out[starts[b]+i] = k.at
		}
	}
	return out
}

func sortedIDs[V any](m map[uuid.UUID]V) []uuid.UUID {
	ids := make([]uuid.UUID, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, domain.CompareIDs)
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
