package demo

import (
	"fmt"
	"sort"
	"strings"

	"github.com/fieldvisit/fieldvisit/domain"
)

// staffing is how many cadres of each kind a demo of a given size has.
type staffing struct {
	leaders, units, residents, staff int
}

// minCadres is the smallest demo that still has every kind of cadre and at
// least one town staff member per town.
const minCadres = 20

func staffFor(cadres, poorVillages int) (staffing, error) {
	s := staffing{leaders: 1, units: clamp((cadres*16+75)/150, 2, len(countyUnits)), residents: clamp((cadres*18+75)/150, 1, 2*poorVillages)}
	if cadres >= 60 {
		s.leaders = 2
	}
	// Each county unit has a head, a leadership member and an ordinary member.
	s.staff = cadres - s.leaders - s.units*3 - s.residents - len(townSpecs)
	if s.staff < len(townSpecs) {
		return s, fmt.Errorf("demo: %d cadres are too few for %d towns; use at least %d", cadres, len(townSpecs), minCadres)
	}
	return s, nil
}

func unitName(base string) string {
	switch base {
	case "县供电公司":
		return "国网" + countyName + "供电公司"
	case "县农村商业银行":
		return countyName + "农村商业银行"
	}
	return countyName + strings.TrimPrefix(base, "县")
}

// buildUnits creates the county's assisting units, each assigned to a poor
// village and one group of it (the unit-group duty of 002), plus the county
// government (where county leaders sit) and each town's government (where
// town cadres sit).
func (p *plan) buildUnits(s staffing) {
	start := ymd(p.today.Year-2, 3, 1) // the current three-year assistance term
	for i := 0; i < s.units; i++ {
		v := p.poorVillages[i%len(p.poorVillages)]
		g := v.groups[(i/len(p.poorVillages))%len(v.groups)]
		u := &unit{unit: domain.Unit{ID: p.newID(), Name: unitName(countyUnits[i]), RegionID: p.county.ID, CreatedAt: p.now}, village: v, group: g}
		p.units = append(p.units, u)
		v.units = append(v.units, u)
		gid := g.region.ID
		p.assignments = append(p.assignments, domain.UnitAssignment{ID: p.newID(), UnitID: u.unit.ID, VillageID: v.region.ID,
			GroupID: &gid, CountyID: p.county.ID, StartOn: start})
	}
	p.countyGov = &unit{unit: domain.Unit{ID: p.newID(), Name: countyName + "人民政府", RegionID: p.county.ID, CreatedAt: p.now}}
	p.units = append(p.units, p.countyGov)
	for _, t := range p.towns {
		t.gov = &unit{unit: domain.Unit{ID: p.newID(), Name: t.region.Name + "人民政府", RegionID: t.region.ID, CreatedAt: p.now}}
		p.units = append(p.units, t.gov)
	}
}

// newCadre makes a cadre user (without a username yet) at region r.
func (p *plan) newCadre(kind string, u *unit, r domain.Region, rank string, duties ...domain.Duty) *cadre {
	d := p.d
	age := d.between(26, 58)
	if rank == domain.RankCountyLevel {
		age = d.between(45, 57)
	} else if rank == domain.RankSectionLevel {
		age = d.between(35, 56)
	}
	male := d.chance(0.72)
	by := p.today.Year - age
	uid := u.unit.ID
	if duties == nil {
		duties = []domain.Duty{}
	}
	c := &cadre{kind: kind, unit: u, user: domain.User{
		ID: p.newID(), DisplayName: d.surname() + d.givenName(by, male), Role: domain.RoleCadre,
		RegionID: r.ID, RegionPath: r.Path, Phone: d.phone(), UnitID: &uid, Rank: rank, Duties: duties,
		Active: true, CreatedAt: p.now, UpdatedAt: p.now,
	}}
	return c
}

func duty(kind string, r domain.Region, start domain.Date) domain.Duty {
	id := r.ID
	return domain.Duty{Kind: kind, RegionID: &id, StartOn: start}
}

// take hands up to n households of the village's pool to c.
func (c *cadre) take(v *village, n int) int {
	k := min(n, len(v.pool))
	c.households = append(c.households, v.pool[:k]...)
	v.pool = v.pool[k:]
	return k
}

// takeTown hands up to n households of the town to c, from village v first.
func (c *cadre) takeTown(t *town, v *village, n int) {
	if v != nil {
		n -= c.take(v, n)
	}
	for _, o := range t.villages {
		if n == 0 {
			return
		}
		n -= c.take(o, n)
	}
}

// buildCadres creates the cadres and pairs every registered, relapsed,
// exited and edge household with one. The order of pairing is the order of
// priority: cadre01, the resident work teams, county leaders (3 each, the
// "321" quota), county-unit cadres (section level 2, staff 1, in their
// unit's village first), town heads, and then the town staff, who carry
// the rest (002: 其余贫困户由所在乡镇(场)干部(职工)包干托底) and the edge
// households, each with a cadre of their own (002: 新出现的贫困户…落实帮扶干部;
// 对出现大病、残疾、灾祸的非建档立卡人口(边缘户)…开展"点对点"精准帮扶).
func (p *plan) buildCadres(s staffing) {
	d := p.d
	rankQuota := domain.RankPairingQuota
	// Pool order: by group, so that a cadre's households are neighbours.
	for _, v := range p.villages {
		idx := map[*group]int{}
		for i, g := range v.groups {
			idx[g] = i
		}
		sort.SliceStable(v.pool, func(a, b int) bool { return idx[v.pool[a].group] < idx[v.pool[b].group] })
	}
	unitIn := func(v *village, i int) *unit {
		if len(v.units) > 0 {
			return v.units[i%len(v.units)]
		}
		return p.units[i%s.units]
	}

	// Resident work teams (驻村工作队); cadre01 is the first, in the first poor village.
	var residents []*cadre
	for i := 0; i < s.residents; i++ {
		v := p.poorVillages[i%len(p.poorVillages)]
		start := p.today.AddDays(-d.between(120, 1000))
		rank := domain.RankStaff
		duties := []domain.Duty{duty(domain.DutyResident, v.region, start)}
		kind := kindResident
		if i == 0 {
			start = p.today.AddDays(-400)
			duties[0].StartOn = start
		}
		if i == 1 || (i == 2 && len(p.poorVillages) > 2) { // one or two first secretaries (第一书记)
			rank, kind = domain.RankSectionLevel, kindFirstSec
			duties = append([]domain.Duty{duty(domain.DutyFirstSecretary, v.region, start)}, duties...)
		}
		c := p.newCadre(kind, unitIn(v, i/len(p.poorVillages)), v.region, rank, duties...)
		c.town = v.town
		n := d.between(6, 12)
		if i == 0 {
			n = 8
		}
		c.take(v, n)
		residents = append(residents, c)
	}

	var leaders []*cadre
	for i := 0; i < s.leaders; i++ {
		c := p.newCadre(kindCountyLeader, p.countyGov, p.county, domain.RankCountyLevel,
			duty(domain.DutyCountyLeader, p.county, p.today.AddDays(-d.between(300, 1200))))
		v := p.poorVillages[(i+1)%len(p.poorVillages)]
		c.takeTown(v.town, v, rankQuota[domain.RankCountyLevel])
		leaders = append(leaders, c)
	}

	var unitCadres []*cadre
	for _, u := range p.units[:s.units] {
		v, t := u.village, u.village.town
		start := p.assignments[0].StartOn
		add := func(kind, dutyKind, rank string) {
			c := p.newCadre(kind, u, t.region, rank, duty(dutyKind, v.region, start))
			c.town = t
			c.takeTown(t, v, rankQuota[rank])
			unitCadres = append(unitCadres, c)
		}
		add(kindUnitHead, domain.DutyUnitHead, domain.RankSectionLevel)
		add(kindLeadership, domain.DutyLeadershipMember, domain.RankSectionLevel)
		add(kindOrdinary, domain.DutyOrdinaryMember, domain.RankStaff)
	}

	var heads []*cadre
	for _, t := range p.towns {
		c := p.newCadre(kindTownHead, t.gov, t.region, domain.RankSectionLevel,
			duty(domain.DutyTownHead, t.region, p.today.AddDays(-d.between(200, 1500))))
		c.town = t
		t.head = c
		c.takeTown(t, nil, rankQuota[domain.RankSectionLevel])
		heads = append(heads, c)
	}

	// Town staff: as many per town as its remaining households call for.
	left := make([]float64, len(p.towns))
	for i, t := range p.towns {
		for _, v := range t.villages {
			left[i] += float64(len(v.pool) + len(v.edge))
		}
		left[i] += 0.5 // every town has at least some claim
	}
	perTown := apportion(s.staff-len(p.towns), left)
	var staff []*cadre
	for i, t := range p.towns {
		n := perTown[i] + 1
		var rest []*household
		for _, v := range t.villages {
			rest = append(rest, v.pool...)
			rest = append(rest, v.edge...)
			v.pool, v.edge = nil, nil
		}
		// Loads differ: some cover one small village, some two large ones.
		shares := make([]float64, n)
		for k := range shares {
			shares[k] = d.uniform(0.6, 1.4)
		}
		loads := apportion(len(rest), shares)
		for k := 0; k < n; k++ {
			c := p.newCadre(kindTownStaff, t.gov, t.region, domain.RankStaff)
			c.town = t
			c.households = append(c.households, rest[:loads[k]]...)
			rest = rest[loads[k]:]
			t.staff = append(t.staff, c)
			staff = append(staff, c)
		}
	}

	// Usernames: cadre01 first, then by kind.
	all := []*cadre{residents[0]}
	all = append(all, leaders...)
	all = append(all, unitCadres...)
	all = append(all, residents[1:]...)
	all = append(all, heads...)
	all = append(all, staff...)
	for i, c := range all {
		c.user.Username = fmt.Sprintf("cadre%02d", i+1)
	}
	p.cadres = all
}

func maxDate(a, b domain.Date) domain.Date {
	if a.After(b) {
		return a
	}
	return b
}

// liveDays is how long before Today the county went live on fieldvisit and
// its pairings began: a year and a month, so that the year of visit history
// (visits.go) lies within the pairings.
const liveDays = 400

// since is the day a cadre took up their first duty (zero without duties):
// a cadre is paired with households from then on, not before.
func (c *cadre) since() domain.Date {
	var first domain.Date
	for _, d := range c.user.Duties {
		if first.IsZero() || d.StartOn.Before(first) {
			first = d.StartOn
		}
	}
	return first
}

// pairingStart is when c's pairings begin: the county's go-live day, or the
// day the cadre arrived if later (a work team that came five months ago).
func (c *cadre) pairingStart(live domain.Date) domain.Date {
	if s := c.since(); s.After(live) {
		return s
	}
	return live
}

// buildPairings turns the cadres' households into pairings. Most start on
// the day the county went live on fieldvisit (liveDays before Today), later
// for cadres who arrived since; about one in a hundred of the town staff's
// households was re-paired a month ago, so that pairing history exists (the
// old pairing ended with a reason).
func (p *plan) buildPairings() {
	d := p.d
	live := p.today.AddDays(-liveDays)
	repairOn := p.today.AddDays(-30)
	var candidates []*household
	for _, c := range p.cadres {
		for _, hh := range c.households {
			start := c.pairingStart(live)
			if hh.h.Status == domain.StatusEdge {
				// An edge household gets its cadre the day it is put on
				// the edge list, or at go-live if it was on it before.
				start = maxDate(start, hh.steps[0].sc.EffectiveOn)
			}
			pr := domain.Pairing{ID: p.newID(), CountyID: p.county.ID, HouseholdID: hh.h.ID, CadreID: c.user.ID,
				StartOn: start, CreatedBy: p.admin.ID, CreatedAt: p.now}
			hh.pairings = append(hh.pairings, pr)
			p.pairings++
			if c.kind == kindTownStaff && hh.h.Status != domain.StatusEdge {
				candidates = append(candidates, hh)
			}
		}
	}
	n := max(2, len(candidates)/100)
	for _, i := range d.r.Perm(len(candidates))[:min(n, len(candidates))] {
		hh := candidates[i]
		now := hh.pairings[0]
		t := hh.village.town
		// The previous cadre: another staff member of the town, or its head.
		prev := t.head
		for _, o := range t.staff {
			if o.user.ID != now.CadreID && d.chance(0.5) {
				prev = o
				break
			}
		}
		old := domain.Pairing{ID: p.newID(), CountyID: p.county.ID, HouseholdID: hh.h.ID, CadreID: prev.user.ID,
			StartOn: prev.pairingStart(live), EndOn: &repairOn, EndReason: pick(d, repairReasons), CreatedBy: p.admin.ID, CreatedAt: p.now}
		now.StartOn = repairOn
		hh.pairings = []domain.Pairing{old, now}
		p.pairings++
	}
}

// regionName is the full name of a region from the province down.
func (p *plan) regionName(path string) string {
	var parts []string
	all := []domain.Region{p.province, p.city, p.county}
	for _, t := range p.towns {
		all = append(all, t.region)
		for _, v := range t.villages {
			all = append(all, v.region)
		}
	}
	for _, r := range all {
		if strings.HasPrefix(path, r.Path) {
			parts = append(parts, r.Name)
		}
	}
	return strings.Join(parts, "")
}

// buildAccounts creates the admin, supervisor and inspector and lists the
// logins worth trying first.
func (p *plan) buildAccounts() []Account {
	mk := func(username, name, role string, r domain.Region) domain.User {
		return domain.User{ID: p.newID(), Username: username, DisplayName: name, Role: role, RegionID: r.ID, RegionPath: r.Path,
			Duties: []domain.Duty{}, Active: true, CreatedAt: p.now, UpdatedAt: p.now}
	}
	p.admin = mk("admin", "系统管理员", domain.RoleAdmin, p.province)
	p.supervisor = mk("supervisor", "周敏", domain.RoleSupervisor, p.county)
	p.inspector = mk("inspector", "孙立新", domain.RoleInspector, p.county)
	return []Account{
		{Username: "admin", Role: domain.RoleAdmin, Region: p.regionName(p.province.Path), Note: "系统管理员: manages regions, users, rules and imports for the whole province"},
		{Username: "supervisor", Role: domain.RoleSupervisor, Region: p.regionName(p.county.Path), Note: "县扶贫办督导 周敏: every village, household and cadre of " + countyName},
		{Username: "inspector", Role: domain.RoleInspector, Region: p.regionName(p.county.Path), Note: "督查组 孙立新: draws inspection samples in " + countyName},
	}
}

// cadreAccounts lists a few cadres worth logging in as, cadre01 first.
func (p *plan) cadreAccounts() []Account {
	var out []Account
	seen := map[string]bool{}
	add := func(c *cadre, what string) {
		if c == nil || seen[c.kind] {
			return
		}
		seen[c.kind] = true
		villages := map[string]bool{}
		var where []string
		for _, hh := range c.households {
			if name := hh.village.region.Name; !villages[name] {
				villages[name] = true
				where = append(where, name)
			}
		}
		note := fmt.Sprintf("%s %s (%s): %d paired households", what, c.user.DisplayName, c.unit.unit.Name, len(c.households))
		if len(where) > 0 {
			if len(where) > 3 {
				where = append(where[:3], "…")
			}
			note += " in " + strings.Join(where, "、")
		}
		out = append(out, Account{Username: c.user.Username, Role: domain.RoleCadre, Region: p.regionName(c.user.RegionPath), Note: note})
	}
	labels := map[string]string{
		kindResident: "驻村工作队员", kindCountyLeader: "县级领导", kindUnitHead: "单位一把手", kindFirstSec: "第一书记",
		kindTownHead: "镇街主要领导", kindTownStaff: "乡镇包村干部",
	}
	add(p.cadres[0], labels[kindResident])
	for _, k := range []string{kindCountyLeader, kindUnitHead, kindFirstSec, kindTownHead, kindTownStaff} {
		for _, c := range p.cadres {
			if c.kind == k {
				add(c, labels[k])
				break
			}
		}
	}
	return out
}
