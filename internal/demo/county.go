package demo

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// The demo county's place in the national code tree. 信阳市 is real; 示范县
// and its code 411530 are not (信阳's counties end at 411528).
const (
	provinceCode = "410000000000"
	provinceName = "河南省"
	cityCode     = "411500000000"
	cityName     = "信阳市"
	countyPrefix = "411530"
	countyName   = "示范县"
)

var countyCentre = domain.GeoPoint{Lat: 32.28, Lon: 115.18}

// plan is the whole demo county drawn in memory before anything is written,
// so that the data depend only on the seed and the options.
type plan struct {
	d     *draw
	ids   *idNumbers
	uuids io.Reader
	now   time.Time
	today domain.Date

	province, city, county domain.Region
	towns                  []*town
	villages               []*village
	poorVillages           []*village
	groups                 int

	units       []*unit // county units first, then the county government, then town governments
	countyGov   *unit
	assignments []domain.UnitAssignment

	admin, supervisor, inspector domain.User
	cadres                       []*cadre

	households []*household
	members    int
	pairings   int
	accounts   []Account

	visitPlan *visitPlan    // the year of visit history (visits.go)
	casework  *caseworkPlan // plans, income accounts, exits and ledgers (casework.go)
}

type town struct {
	region   domain.Region
	centre   domain.GeoPoint
	villages []*village
	gov      *unit
	head     *cadre
	staff    []*cadre
}

type village struct {
	region   domain.Region
	town     *town
	centre   domain.GeoPoint
	groups   []*group
	dominant []string
	pool     []*household // registered and exited households not yet given to a cadre
	edge     []*household // edge households, which the town's staff take on (包干托底)
	units    []*unit
	nextNo   int
}

type group struct {
	region domain.Region
	centre domain.GeoPoint
	nextNo int
}

type unit struct {
	unit    domain.Unit
	village *village // where a county unit is assigned
	group   *group
}

type cadre struct {
	user       domain.User
	kind       string // cadre kinds below
	unit       *unit
	town       *town
	households []*household
}

const (
	kindCountyLeader = "county_leader"
	kindUnitHead     = "unit_head"
	kindLeadership   = "leadership_member"
	kindOrdinary     = "ordinary_member"
	kindResident     = "resident"
	kindFirstSec     = "first_secretary"
	kindTownHead     = "town_head"
	kindTownStaff    = "town_staff"
)

type household struct {
	h        domain.Household
	path     string
	village  *village
	group    *group
	members  []domain.Member
	steps    []step
	pairings []domain.Pairing // an ended one first when the household was re-paired
}

// step is one dated status change, with a poverty-type change made with it.
type step struct {
	sc domain.StatusChange
	pc *domain.PovertyTypeChange
}

func (p *plan) newID() uuid.UUID {
	id, err := uuid.NewRandomFromReader(p.uuids)
	if err != nil {
		panic(err) // ChaCha8 never fails to read
	}
	return id
}

func newPlan(opt Options) *plan {
	var seed [32]byte
	for i := 0; i < 8; i++ {
		seed[i] = byte(uint64(opt.Seed) >> (8 * i))
	}
	copy(seed[8:], "fieldvisit demo county uuids")
	p := &plan{
		d:     &draw{r: rand.New(rand.NewPCG(uint64(opt.Seed), 0x5eed_f1e1d_0c0de)), today: opt.Today},
		ids:   &idNumbers{prefix: countyPrefix, used: map[string]bool{}},
		uuids: rand.NewChaCha8(seed),
		now:   time.Now().UTC(),
		today: opt.Today,
	}
	return p
}

func round6(x float64) float64  { return math.Round(x*1e6) / 1e6 }
func round10(x float64) float64 { return math.Round(x/10) * 10 }

func (p *plan) region(parent *domain.Region, level, code, name string) domain.Region {
	r := domain.Region{ID: p.newID(), Level: level, Code: code, Name: name}
	r.Path = "/" + r.ID.String() + "/"
	if parent != nil {
		id := parent.ID
		r.ParentID = &id
		r.Path = parent.Path + r.ID.String() + "/"
		r.CountyID = parent.CountyID
	}
	if level == domain.LevelCounty {
		id := r.ID
		r.CountyID = &id
	}
	return r
}

// buildRegions draws the tree: province → city → county → towns → villages
// (about one in four a poor village) → village groups.
func (p *plan) buildRegions(households int) {
	d := p.d
	p.province = p.region(nil, domain.LevelProvince, provinceCode, provinceName)
	p.city = p.region(&p.province, domain.LevelCity, cityCode, cityName)
	p.county = p.region(&p.city, domain.LevelCounty, countyPrefix+"000000", countyName)

	names := append([]string(nil), villageNames...)
	d.r.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	scale := min(1, float64(households)/3000)
	for _, ts := range townSpecs {
		t := &town{
			region: p.region(&p.county, domain.LevelTown, countyPrefix+ts.code+"000", ts.name),
			centre: domain.GeoPoint{Lat: countyCentre.Lat + ts.dlat, Lon: countyCentre.Lon + ts.dlon},
		}
		p.towns = append(p.towns, t)
		n := max(2, int(math.Round(float64(ts.villages)*scale)))
		poor := map[int]bool{}
		for _, i := range d.r.Perm(n)[:max(1, (n+2)/4)] {
			poor[i] = true
		}
		for j := 0; j < n; j++ {
			name := names[0]
			names = names[1:]
			v := &village{
				region: p.region(&t.region, domain.LevelVillage, countyPrefix+ts.code+fmt.Sprintf("%03d", 201+j), name+"村"),
				town:   t,
				centre: domain.GeoPoint{Lat: t.centre.Lat + d.uniform(-0.06, 0.06), Lon: t.centre.Lon + d.uniform(-0.06, 0.06)},
			}
			v.region.IsPoorVillage = poor[j]
			first := string([]rune(name)[0])
			for _, s := range surnameWeights {
				if s.name == first {
					v.dominant = append(v.dominant, first)
				}
			}
			v.dominant = append(v.dominant, d.surname())
			for k, ng := 0, d.between(3, 6); k < ng; k++ {
				g := &group{
					region: p.region(&v.region, domain.LevelGroup, v.region.Code+fmt.Sprintf("%03d", k+1), groupNames[k]),
					centre: domain.GeoPoint{Lat: v.centre.Lat + d.uniform(-0.006, 0.006), Lon: v.centre.Lon + d.uniform(-0.006, 0.006)},
				}
				v.groups = append(v.groups, g)
				p.groups++
			}
			t.villages = append(t.villages, v)
			p.villages = append(p.villages, v)
			if v.region.IsPoorVillage {
				p.poorVillages = append(p.poorVillages, v)
			}
		}
	}
}

// Household categories before they become statuses: relreg is a household
// that exited, relapsed and was registered again.
const (
	catRegistered = "registered"
	catRelapsed   = "relapsed"
	catRelReg     = "relreg"
	catExited     = "exited"
	catRemoved    = "removed"
	catEdge       = "edge"
	catGeneral    = "general"
)

var categoryShares = []struct {
	cat      string
	share    float64
	poorBias float64 // weight of a poor village's household relative to others
}{
	{catRelapsed, 0.012, 1.6},
	{catRelReg, 0.025, 1.6},
	{catRegistered, 0.14, 2.0},
	{catRemoved, 0.02, 1.0},
	{catEdge, 0.09, 0.9},
	{catExited, 0.48, 1.2},
	// the rest are general households, fewer in poor villages
}

// apportion splits total into parts proportional to ws (largest remainder).
func apportion(total int, ws []float64) []int {
	sum := 0.0
	for _, w := range ws {
		sum += w
	}
	out := make([]int, len(ws))
	type rem struct {
		i int
		f float64
	}
	var rems []rem
	given := 0
	for i, w := range ws {
		x := float64(total) * w / sum
		out[i] = int(x)
		given += out[i]
		rems = append(rems, rem{i, x - float64(out[i])})
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].f > rems[b].f })
	for k := 0; given < total; k++ {
		out[rems[k%len(rems)].i]++
		given++
	}
	return out
}

// buildHouseholds spreads n households over the villages (poor villages are
// larger), gives each a category, and draws its file.
func (p *plan) buildHouseholds(n int) {
	d := p.d
	ws := make([]float64, len(p.villages))
	for i, v := range p.villages {
		ws[i] = d.uniform(0.7, 1.3)
		if v.region.IsPoorVillage {
			ws[i] *= 1.5
		}
	}
	perVillage := apportion(n, ws)
	type slot struct {
		v   *village
		cat string
	}
	slots := make([]*slot, 0, n)
	for i, v := range p.villages {
		for k := 0; k < perVillage[i]; k++ {
			slots = append(slots, &slot{v: v})
		}
	}
	// Category counts are fixed first so that every category is present even
	// in a small demo; poor villages then draw the registered ones more often
	// (weighted sampling without replacement, Efraimidis–Spirakis).
	for _, cs := range categoryShares {
		want := max(1, int(math.Round(float64(n)*cs.share)))
		type keyed struct {
			s *slot
			k float64
		}
		var free []keyed
		for _, s := range slots {
			if s.cat != "" {
				continue
			}
			w := 1.0
			if s.v.region.IsPoorVillage {
				w = cs.poorBias
			}
			free = append(free, keyed{s, math.Pow(d.r.Float64(), 1/w)})
		}
		sort.SliceStable(free, func(a, b int) bool { return free[a].k > free[b].k })
		for i := 0; i < want && i < len(free); i++ {
			free[i].s.cat = cs.cat
		}
	}
	for _, s := range slots {
		if s.cat == "" {
			s.cat = catGeneral
		}
		p.households = append(p.households, p.household(s.v, s.cat))
	}
}

func registeredEver(cat string) bool {
	return cat != catEdge && cat != catGeneral
}

// household draws one household file of category cat in village v.
func (p *plan) household(v *village, cat string) *household {
	d := p.d
	gi := d.intn(len(v.groups))
	g := v.groups[gi]

	ptype := ""
	switch {
	case cat == catRemoved:
		ptype = []string{domain.PovertyOrdinary, domain.PovertyDibao}[d.weighted(90, 10)]
	case registeredEver(cat):
		ptype = []string{domain.PovertyOrdinary, domain.PovertyDibao, domain.PovertyWubao}[d.weighted(72, 20, 8)]
	}
	wubao := ptype == domain.PovertyWubao
	size := 1 + d.weighted(9, 20, 23, 22, 14, 8, 4)
	if wubao {
		size = 1 + d.weighted(70, 30)
	}
	ps := d.family(size, wubao, v.dominant)
	for _, m := range ps {
		d.describe(m, p.ids)
	}
	var causes []string
	switch {
	case registeredEver(cat):
		causes = d.causes(ps, ptype)
	case cat == catEdge:
		c := []string{"illness", "disability", "disaster", "lack_funds"}[d.weighted(55, 15, 15, 15)]
		d.applyCause(ps, c)
		causes = []string{c}
	}
	var relapse relapseWhy
	if cat == catRelapsed || cat == catRelReg {
		relapse = d.relapse(ps, &causes)
	}
	head := ps[0]
	if head.phone == "" && head.age < 75 && d.chance(0.6) {
		head.phone = d.phone()
	}
	phone := head.phone
	for _, m := range ps {
		if phone == "" {
			phone = m.phone
		}
	}

	hh := &household{village: v, group: g, path: g.region.Path}
	g.nextNo++
	h := domain.Household{
		ID: p.newID(), CountyID: p.county.ID, RegionID: g.region.ID, VillageID: v.region.ID,
		HouseholdDetails: domain.HouseholdDetails{
			HeadName: head.name, Phone: phone, Causes: causes,
			Address: fmt.Sprintf("%s%s%s%d号", v.town.region.Name, v.region.Name, g.region.Name, g.nextNo),
			Home: &domain.GeoPoint{
				Lat: round6(g.centre.Lat + d.uniform(-0.0015, 0.0015)),
				Lon: round6(g.centre.Lon + d.uniform(-0.0015, 0.0015)),
			},
		},
		Version: 1, CreatedAt: p.now, UpdatedAt: p.now,
	}
	if h.Causes == nil {
		h.Causes = []string{}
	}
	if cat != catGeneral {
		v.nextNo++
		h.Number = fmt.Sprintf("%s%04d", v.region.Code, v.nextNo)
	}
	p.housing(&h, cat, size, wubao)
	land := d.uniform(0.8, 1.6)
	for _, c := range causes {
		if c == "lack_land" {
			land = d.uniform(0.2, 0.5)
		}
	}
	arable := math.Round(land*float64(size)*10) / 10
	h.ArableLand = &arable
	total, notes := p.income(ps, cat, ptype, v.region.IsPoorVillage)
	h.AnnualIncome = &total
	h.IncomeNotes = situation(ps, causes, d.between(2016, p.today.Year-1)) + notes

	for _, m := range ps {
		mem := domain.Member{ID: p.newID(), HouseholdID: h.ID, CountyID: h.CountyID, Version: 1, CreatedAt: p.now, UpdatedAt: p.now}
		mem.Apply(domain.MemberDetails{Name: m.name, Relation: m.relation, IDNumber: m.idNumber, Health: m.health,
			Disability: m.disability, Education: m.education, Work: m.work, Phone: m.phone})
		hh.members = append(hh.members, mem)
	}
	p.members += len(ps)
	hh.h = h
	p.history(hh, cat, ptype, causes, relapse)
	switch cat {
	case catRegistered, catRelapsed, catRelReg, catExited:
		v.pool = append(v.pool, hh)
	case catEdge:
		v.edge = append(v.edge, hh)
	}
	return hh
}

// housing draws structure, safety grade (危房等级) and floor area. Exited
// households live in safe houses (that is an exit condition); C and D grades
// are among the registered, edge and a few general households.
func (p *plan) housing(h *domain.Household, cat string, size int, wubao bool) {
	d := p.d
	structures := []string{"brick_concrete", "brick_wood", "reinforced_concrete", "earth_wood", "stone_wood", "other"}
	sw := []float64{48, 22, 12, 12, 3, 3}
	if cat == catGeneral || cat == catRemoved {
		sw = []float64{50, 12, 32, 3, 1, 2}
	}
	st := structures[d.weighted(sw...)]
	var grade string
	grades := []string{"A", "B", "C", "D"}
	switch cat {
	case catExited, catRemoved:
		if st == "earth_wood" || st == "stone_wood" {
			st = "brick_concrete" // rebuilt under 危房改造 before exit
		}
		grade = grades[d.weighted(60, 40, 0, 0)]
	case catRegistered, catRelapsed, catRelReg:
		if st == "earth_wood" {
			grade = grades[d.weighted(0, 0, 60, 40)]
		} else {
			grade = grades[d.weighted(38, 42, 16, 4)]
		}
	case catEdge:
		if st == "earth_wood" {
			grade = grades[d.weighted(0, 30, 60, 10)]
		} else {
			grade = grades[d.weighted(45, 42, 11, 2)]
		}
	default:
		if st == "earth_wood" {
			grade = grades[d.weighted(0, 60, 40, 0)]
		} else {
			grade = grades[d.weighted(72, 26, 2, 0)]
		}
	}
	area := float64(45 + 22*size + d.between(-25, 25))
	if wubao {
		area = float64(d.between(30, 60))
	}
	area = math.Min(area, 260)
	h.HousingStructure, h.HousingSafetyGrade, h.HousingArea = st, grade, &area
}

// perCapitaIncome is the range of per-capita net income by category; the
// registered stay under or near the exit line (3335 yuan in 002's year).
var perCapitaIncome = map[string][2]float64{
	catRegistered: {2800, 5200}, catRelReg: {3000, 5500}, catRelapsed: {2500, 4500}, catExited: {7500, 16000},
	catEdge: {5000, 9000}, catGeneral: {11000, 26000}, catRemoved: {14000, 32000},
}

// income draws last year's net household income (家庭年纯收入) for the
// category and splits it into the sources the notes name.
func (p *plan) income(ps []*person, cat, ptype string, poorVillage bool) (float64, string) {
	d := p.d
	size := float64(len(ps))
	r := perCapitaIncome[cat]
	total := round10(d.uniform(r[0], r[1]) * size)

	var elderly, workers int
	for _, m := range ps {
		if m.age >= 60 {
			elderly++
		}
		if m.work == "migrant" || m.work == "local_job" {
			workers++
		}
	}
	type part struct {
		label  string
		amount float64
	}
	var transfers []part
	if elderly > 0 {
		transfers = append(transfers, part{"养老金", float64(1584 * elderly)})
	}
	supported := cat == catRegistered || cat == catRelReg || cat == catRelapsed || cat == catExited
	if supported && ptype == domain.PovertyDibao {
		transfers = append(transfers, part{"低保金", size * 12 * float64(d.between(28, 36)*10)})
	}
	if supported && ptype == domain.PovertyWubao {
		transfers = append(transfers, part{"特困供养金", size * float64(d.between(54, 66)*100)})
	}
	if supported && poorVillage && d.chance(0.5) {
		transfers = append(transfers, part{"光伏扶贫分红", float64(d.between(2, 4) * 500)})
	}
	t := 0.0
	for _, x := range transfers {
		t += x.amount
	}
	if t > total*0.9 {
		total = round10(t + float64(d.between(3, 12)*100))
	}
	rest := total - t
	var parts []part
	if workers > 0 {
		wage := round10(rest * d.uniform(0.65, 0.9))
		parts = append(parts, part{"务工收入", wage}, part{"种植养殖收入", rest - wage})
	} else {
		parts = append(parts, part{"种植养殖收入", rest})
	}
	parts = append(parts, transfers...)
	var words []string
	for _, x := range parts {
		if x.amount > 0 {
			words = append(words, fmt.Sprintf("%s%.0f元", x.label, x.amount))
		}
	}
	return total, fmt.Sprintf("%d年家庭年纯收入%.0f元，人均%.0f元。收入构成：%s。",
		p.today.Year-1, total, math.Round(total/size), strings.Join(words, "，"))
}

func ymd(y int, m time.Month, day int) domain.Date { return domain.Date{Year: y, Month: m, Day: day} }

// relapseWhy is why a household relapsed: the status move's reason, as a
// cadre writes it, and its cause (domain.RelapseCauses), which the status
// move into relapsed requires and the register export writes (返贫原因).
type relapseWhy struct{ reason, cause string }

// relapse draws why an exited household fell back into poverty (返贫) and
// makes the members and causes show it.
func (d *draw) relapse(ps []*person, causes *[]string) relapseWhy {
	kinds := []string{"illness", "disability", "disaster", "income"}
	w := []float64{50, 15, 15, 20}
	workers := 0
	for _, m := range ps {
		if m.work == "migrant" || m.work == "local_job" {
			workers++
		}
	}
	if workers == 0 {
		w[3] = 0
	}
	kind := kinds[d.weighted(w...)]
	has := func(c string) bool {
		for _, x := range *causes {
			if x == c {
				return true
			}
		}
		return false
	}
	switch kind {
	case "illness":
		var p *person
		for _, m := range adults(ps) {
			if m.health == "serious_illness" {
				p = m
			}
		}
		if p == nil {
			p = pick(d, adults(ps))
			d.makeIll(p, true)
		}
		if !has("illness") {
			*causes = append(*causes, "illness")
		}
		if p.health == "disabled" {
			return relapseWhy{p.name + "病情加重，医疗支出骤增，返贫", "serious_illness"}
		}
		return relapseWhy{p.name + "患" + p.disease + "，医疗支出骤增，返贫", "serious_illness"}
	case "disability":
		p := pick(d, adults(ps))
		d.disable(p)
		p.disease = pick(d, []string{"肢体", "视力", "听力"}) // what accidents cause
		if !has("disability") {
			*causes = append(*causes, "disability")
		}
		return relapseWhy{p.name + "因意外致" + p.disease + "残疾，返贫", "disability"}
	case "disaster":
		if !has("disaster") {
			*causes = append(*causes, "disaster")
		}
		return relapseWhy{"遭受洪涝灾害，房屋和庄稼受损，返贫", "disaster"}
	}
	return relapseWhy{"家庭主要劳动力失业，务工收入大幅下降，返贫", "job_loss"}
}

// history writes the household's dated status (and poverty-type) history
// for its category and sets the current status from it.
func (p *plan) history(hh *household, cat, ptype string, causes []string, relapse relapseWhy) {
	d := p.d
	h := &hh.h
	add := func(from, to string, on domain.Date, reason string, exitYear *int) *step {
		hh.steps = append(hh.steps, step{sc: domain.StatusChange{ID: p.newID(), HouseholdID: h.ID, CountyID: h.CountyID,
			From: from, To: to, ExitYear: exitYear, EffectiveOn: on, Reason: reason, RecordedAt: p.now}})
		return &hh.steps[len(hh.steps)-1]
	}
	typeChange := func(from, to string, on domain.Date, reason string) *domain.PovertyTypeChange {
		return &domain.PovertyTypeChange{ID: p.newID(), HouseholdID: h.ID, CountyID: h.CountyID, From: from, To: to,
			EffectiveOn: on, Reason: reason, RecordedAt: p.now}
	}
	register := func(on domain.Date) {
		reason := "建档立卡：经入户查、民主评、两公示、一公告识别为贫困户"
		if on.Year > 2014 {
			reason = "动态调整：新识别纳入建档立卡"
		}
		label, _ := domain.PovertyTypes.Label(ptype)
		s := add("", domain.StatusRegistered, on, reason, nil)
		s.pc = typeChange("", ptype, on, "建档立卡识别为"+label)
		y := on.Year
		h.RegisteredYear = &y
	}
	reg2014 := func() domain.Date { return d.date(ymd(2014, 6, 1), ymd(2014, 10, 31)) }
	exit := func() {
		y := []int{2016, 2017, 2018, 2019, 2020}[d.weighted(10, 20, 30, 25, 15)]
		if d.chance(0.8) {
			register(reg2014())
		} else {
			ry := d.between(2015, y-1)
			register(d.date(ymd(ry, 3, 1), ymd(ry, 11, 30)))
		}
		add(domain.StatusRegistered, domain.StatusExited, d.date(ymd(y, 12, 1), ymd(y, 12, 25)),
			"人均纯收入稳定超过扶贫标准，两不愁三保障达标，经两公示一公告退出", &y)
	}
	switch cat {
	case catRegistered:
		switch d.weighted(65, 30, 5) {
		case 0:
			register(reg2014())
		case 1:
			y := d.between(2015, 2019)
			register(d.date(ymd(y, 3, 1), ymd(y, 11, 30)))
		default:
			y := p.today.Year - 1
			register(d.date(ymd(y, 3, 1), ymd(y, 11, 30)))
		}
	case catExited:
		exit()
	case catRelapsed:
		exit()
		add(domain.StatusExited, domain.StatusRelapsed, d.date(p.today.AddDays(-150), p.today.AddDays(-10)), relapse.reason, nil).sc.Cause = relapse.cause
	case catRelReg:
		exit()
		on := d.date(ymd(2021, 3, 1), p.today.AddDays(-200))
		add(domain.StatusExited, domain.StatusRelapsed, on, relapse.reason, nil).sc.Cause = relapse.cause
		again := on.AddDays(d.between(20, 60))
		s := add(domain.StatusRelapsed, domain.StatusRegistered, again, "返贫户重新纳入建档立卡，落实帮扶措施", nil)
		if ptype == domain.PovertyOrdinary && d.chance(0.4) {
			s.pc = typeChange(ptype, domain.PovertyDibao, again, "返贫后纳入农村低保")
		}
	case catRemoved:
		register(reg2014())
		add(domain.StatusRegistered, domain.StatusRemoved, d.date(ymd(2015, 3, 1), ymd(2017, 12, 20)), pick(d, removalReasons), nil)
	case catEdge:
		label := "收入骤减"
		if len(causes) > 0 {
			label, _ = domain.Causes.Label(causes[0])
		}
		add("", domain.StatusEdge, d.date(ymd(2020, 6, 1), p.today.AddDays(-20)), "纳入防止返贫监测（边缘户）：风险类型"+label, nil)
	default:
		add("", domain.StatusGeneral, d.date(ymd(2019, 3, 1), ymd(2020, 12, 31)), "一般农户信息采集", nil)
	}
	last := hh.steps[len(hh.steps)-1].sc
	h.Status, h.ExitYear = last.To, last.ExitYear
	h.PovertyType = ""
	for _, s := range hh.steps {
		if s.pc != nil {
			h.PovertyType = s.pc.To
		}
	}
}
