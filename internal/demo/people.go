package demo

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/fieldvisit/fieldvisit/domain"
)

// person is a household member while the family is being drawn.
type person struct {
	relation   string
	age        int
	male       bool
	surname    string
	name       string
	birth      domain.Date
	idNumber   string
	health     string
	disability string
	education  string
	work       string
	phone      string
	disease    string // for the household notes
}

// draw is the deterministic random source of one demo county.
type draw struct {
	r     *rand.Rand
	today domain.Date
}

func (d *draw) intn(n int) int { return d.r.IntN(n) }

// between returns an int in [lo, hi].
func (d *draw) between(lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + d.r.IntN(hi-lo+1)
}

func (d *draw) chance(p float64) bool { return d.r.Float64() < p }

func (d *draw) uniform(lo, hi float64) float64 { return lo + d.r.Float64()*(hi-lo) }

func pick[T any](d *draw, xs []T) T { return xs[d.r.IntN(len(xs))] }

// weighted returns the index chosen in proportion to ws.
func (d *draw) weighted(ws ...float64) int {
	sum := 0.0
	for _, w := range ws {
		sum += w
	}
	x := d.r.Float64() * sum
	for i, w := range ws {
		if x < w {
			return i
		}
		x -= w
	}
	return len(ws) - 1
}

// date returns a day in [from, to].
func (d *draw) date(from, to domain.Date) domain.Date {
	days := int(to.Start().Sub(from.Start()).Hours()/24 + 0.5)
	if days <= 0 {
		return from
	}
	return from.AddDays(d.r.IntN(days + 1))
}

func (d *draw) surname() string {
	ws := make([]float64, len(surnameWeights))
	for i, s := range surnameWeights {
		ws[i] = s.w
	}
	return surnameWeights[d.weighted(ws...)].name
}

// otherSurname draws a surname different from s (wives keep their own).
func (d *draw) otherSurname(s string) string {
	for {
		if o := d.surname(); o != s {
			return o
		}
	}
}

func (d *draw) givenName(birthYear int, male bool) string {
	sex := 1
	if male {
		sex = 0
	}
	return pick(d, givenNames[generation(birthYear)][sex])
}

func (d *draw) phone() string {
	return fmt.Sprintf("%s%08d", pick(d, phonePrefixes), d.r.IntN(100000000))
}

// idNumbers hands out unique, valid 18-character resident ID numbers.
type idNumbers struct {
	prefix string // the county's 6-digit area code
	used   map[string]bool
}

func (ids *idNumbers) next(d *draw, birth domain.Date, male bool) string {
	for {
		seq := d.r.IntN(500)*2 + 1 // odd for men
		if !male {
			seq--
		}
		if seq == 0 {
			continue
		}
		first17 := fmt.Sprintf("%s%04d%02d%02d%03d", ids.prefix, birth.Year, birth.Month, birth.Day, seq)
		if ids.used[first17] {
			continue
		}
		ids.used[first17] = true
		return first17 + string(domain.IDNumberCheckChar(first17))
	}
}

// birthDate draws a birthday for someone age years old today.
func (d *draw) birthDate(age int) domain.Date {
	// Birthdays between age and age+1 years ago, never today or later.
	latest := domain.Date{Year: d.today.Year - age, Month: d.today.Month, Day: d.today.Day}.AddDays(-1)
	return d.date(latest.AddDays(-364), latest)
}

// family draws the members of a household: relations, ages and sexes that fit
// together (one head, at most one spouse, children younger than their
// parents, grandchildren only with a married child).
func (d *draw) family(size int, wubao bool, dominant []string) []*person {
	sur := d.surname()
	if len(dominant) > 0 && d.chance(0.55) {
		sur = pick(d, dominant)
	}
	if wubao {
		head := &person{relation: "head", age: d.between(62, 90), male: d.chance(0.7), surname: sur}
		out := []*person{head}
		if size >= 2 {
			if d.chance(0.6) {
				out = append(out, &person{relation: "spouse", age: clamp(head.age+d.between(-4, 4), 60, 95), male: !head.male, surname: d.otherSurname(sur)})
			} else {
				out = append(out, &person{relation: "sibling", age: clamp(head.age+d.between(-8, 8), 55, 95), male: d.chance(0.6), surname: sur})
			}
		}
		return out
	}

	var headAge int
	switch {
	case size == 1:
		headAge = d.between(45, 88)
		if d.chance(0.7) {
			headAge = d.between(62, 88)
		}
	case size == 2:
		headAge = d.between(35, 85)
	default:
		headAge = d.between(30, 72)
	}
	head := &person{relation: "head", age: headAge, male: d.chance(0.85), surname: sur}
	out := []*person{head}
	left := size - 1
	if left == 0 {
		return out
	}

	hasSpouse := d.chance(0.85)
	if size == 2 && headAge < 50 {
		hasSpouse = d.chance(0.5) // a widowed parent with a child, or a young couple
	}
	childSurname := sur
	if hasSpouse {
		s := &person{relation: "spouse", age: clamp(headAge+d.between(-4, 3), 20, 95), male: !head.male, surname: d.otherSurname(sur)}
		out = append(out, s)
		left--
	} else if !head.male {
		childSurname = d.otherSurname(sur) // a widow's children carry their father's name
	}

	// Parents of the head live with younger families.
	if left > 0 && headAge <= 55 && (size == 2 && !hasSpouse && d.chance(0.4) || size >= 4 && d.chance(0.45)) {
		n := 1
		if left >= 3 && d.chance(0.4) {
			n = 2
		}
		fatherAge := clamp(headAge+d.between(24, 32), 50, 94)
		for i := 0; i < n && left > 0; i++ {
			male := i == 0 && (n == 2 || d.chance(0.35))
			p := &person{relation: "parent", male: male, surname: sur}
			if male {
				p.age = fatherAge
			} else {
				p.age = clamp(fatherAge+d.between(-5, 1), 48, 95)
				p.surname = d.otherSurname(sur)
			}
			out = append(out, p)
			left--
		}
	}
	if left == 0 {
		return out
	}

	// Children, eldest first, born to a mother of 21 to 30 and at least two
	// years apart.
	youngest := headAge
	for _, m := range out {
		if m.relation == "spouse" {
			youngest = min(youngest, m.age)
		}
	}
	age := youngest - d.between(21, 30)
	var children []*person
	maxChildren := left
	if headAge >= 50 && left >= 3 {
		maxChildren = max(1, left-2) // leave room for a daughter-in-law and grandchildren
	}
	for i := 0; i < maxChildren && age >= 0; i++ {
		children = append(children, &person{relation: "child", age: age, male: d.chance(0.52), surname: childSurname})
		age -= d.between(2, 5)
		left--
	}
	out = append(out, children...)
	if left > 0 && len(children) > 0 && children[0].age >= 21 {
		e := children[0]
		inLaw := &person{relation: "child_in_law", age: clamp(e.age+d.between(-3, 3), 19, 80), male: !e.male, surname: d.otherSurname(childSurname)}
		out = append(out, inLaw)
		left--
		g := min(e.age, inLaw.age) - d.between(21, 28)
		for left > 0 && g >= 0 {
			out = append(out, &person{relation: "grandchild", age: g, male: d.chance(0.52), surname: childSurname})
			g -= d.between(2, 4)
			left--
		}
	}
	for left > 0 { // no room for more children: a sibling of the head lives with them
		out = append(out, &person{relation: "sibling", age: clamp(headAge+d.between(-9, 9), 16, 90), male: d.chance(0.6), surname: sur})
		left--
	}
	return out
}

func clamp(v, lo, hi int) int { return max(lo, min(hi, v)) }

// describe fills names, ID numbers, schooling, work and health from age.
func (d *draw) describe(p *person, ids *idNumbers) {
	p.birth = d.birthDate(p.age)
	p.name = p.surname + d.givenName(p.birth.Year, p.male)
	p.idNumber = ids.next(d, p.birth, p.male)
	p.health, p.disability = "healthy", "none"
	switch {
	case p.age >= 60 && d.chance(0.3), p.age >= 40 && d.chance(0.08):
		p.health = "chronic"
		p.disease = pick(d, chronicDiseases)
	}
	if d.chance(0.015) {
		d.disable(p)
	}
	a, by := p.age, p.birth.Year
	switch {
	case a < 6:
		p.education, p.work = "preschool", "unable"
	case a < 12:
		p.education, p.work = "primary", "student"
	case a < 15:
		p.education, p.work = "junior", "student"
	case a < 18 && d.chance(0.85):
		p.education, p.work = pick(d, []string{"senior", "senior", "vocational"}), "student"
	case a >= 18 && a < 22 && d.chance(0.4):
		p.education, p.work = pick(d, []string{"college", "college", "vocational"}), "student"
	default:
		switch {
		case by < 1956:
			p.education = []string{"illiterate", "primary", "junior"}[d.weighted(35, 50, 15)]
		case by < 1976:
			p.education = []string{"illiterate", "primary", "junior", "senior"}[d.weighted(8, 35, 47, 10)]
		case by < 1991:
			p.education = []string{"primary", "junior", "senior", "vocational", "college"}[d.weighted(12, 60, 15, 10, 3)]
		default:
			p.education = []string{"junior", "senior", "vocational", "college"}[d.weighted(40, 25, 20, 15)]
		}
		switch {
		case a < 60:
			p.work = []string{"migrant", "local_job", "farming", "none", "other"}[d.weighted(42, 22, 30, 3, 3)]
		case a < 70:
			p.work = []string{"farming", "local_job", "unable"}[d.weighted(60, 10, 30)]
		default:
			p.work = []string{"farming", "unable"}[d.weighted(30, 70)]
		}
	}
	d.fitWork(p)
	if a >= 18 && a < 66 && d.chance(0.6) {
		p.phone = d.phone()
	}
}

// disable makes p a person with a disability certificate (残疾证).
func (d *draw) disable(p *person) {
	p.health = "disabled"
	p.disability = []string{"grade1", "grade2", "grade3", "grade4"}[d.weighted(15, 25, 30, 30)]
	p.disease = pick(d, disabilityKinds)
	d.fitWork(p)
}

// makeIll gives p a chronic or serious illness.
func (d *draw) makeIll(p *person, serious bool) {
	if p.health == "disabled" {
		return
	}
	if serious {
		p.health, p.disease = "serious_illness", pick(d, seriousDiseases)
	} else {
		p.health, p.disease = "chronic", pick(d, chronicDiseases)
	}
	d.fitWork(p)
}

// fitWork keeps work consistent with health: the seriously ill and the
// severely disabled cannot work; a student stays a student.
func (d *draw) fitWork(p *person) {
	if p.work == "student" || p.education == "preschool" {
		return
	}
	if p.health == "serious_illness" || p.disability == "grade1" || p.disability == "grade2" {
		p.work = "unable"
	}
}

// labour counts members of working age who can work.
func labour(ps []*person) int {
	n := 0
	for _, p := range ps {
		if p.age >= 18 && p.age < 60 && p.work != "unable" && p.work != "student" {
			n++
		}
	}
	return n
}

func adults(ps []*person) []*person {
	var out []*person
	for _, p := range ps {
		if p.age >= 18 {
			out = append(out, p)
		}
	}
	return out
}

// causes draws 致贫原因 for a registered household and adjusts members so the
// file tells one story: 因病 means someone is ill, 因学 that someone studies.
func (d *draw) causes(ps []*person, ptype string) []string {
	type cw struct {
		code string
		w    float64
	}
	// 因病 first, then 缺技术, 缺资金, 因残, 因学 (where someone is of school
	// age), 缺劳力 (where there is at most one worker).
	table := []cw{{"illness", 38}, {"lack_skills", 18}, {"lack_funds", 15}, {"disability", 8},
		{"education", 20}, {"lack_labor", 12}, {"disaster", 2}, {"lack_land", 1.5}, {"low_motivation", 1}, {"poor_transport", 0.5}}
	eligible := func(code string) bool {
		switch code {
		case "education":
			for _, p := range ps {
				if p.age >= 15 && p.age <= 22 {
					return true
				}
			}
			return false
		case "lack_labor":
			return labour(ps) <= 1
		}
		return true
	}
	choose := func(exclude string) string {
		var codes []string
		var ws []float64
		for _, c := range table {
			if c.code == exclude || !eligible(c.code) {
				continue
			}
			w := c.w
			if ptype == domain.PovertyDibao && (c.code == "illness" || c.code == "disability") {
				w *= 1.5
			}
			codes = append(codes, c.code)
			ws = append(ws, w)
		}
		return codes[d.weighted(ws...)]
	}
	var out []string
	if ptype == domain.PovertyWubao {
		out = []string{"lack_labor"}
		if d.chance(0.6) {
			out = append(out, []string{"illness", "disability"}[d.weighted(70, 30)])
		}
	} else {
		out = []string{choose("")}
		if d.chance(0.35) {
			out = append(out, choose(out[0]))
		}
	}
	for _, c := range out {
		d.applyCause(ps, c)
	}
	return out
}

// applyCause makes the members fit cause c.
func (d *draw) applyCause(ps []*person, c string) {
	switch c {
	case "illness":
		if !anyHealth(ps, "chronic", "serious_illness") || d.chance(0.5) {
			d.makeIll(pick(d, adults(ps)), d.chance(0.45))
		}
	case "disability":
		if !anyHealth(ps, "disabled") {
			d.disable(pick(d, ps))
		}
	case "education":
		for _, p := range ps {
			if p.age >= 15 && p.age <= 22 && p.work != "student" {
				p.work = "student"
				if p.age < 18 {
					p.education = "senior"
				} else {
					p.education = pick(d, []string{"college", "vocational"})
				}
				break
			}
		}
	}
}

func anyHealth(ps []*person, states ...string) bool {
	for _, p := range ps {
		for _, s := range states {
			if p.health == s {
				return true
			}
		}
	}
	return false
}

// situation writes the cause part of the household's 经济状况 notes.
func situation(ps []*person, causes []string, disasterYear int) string {
	var parts []string
	for _, c := range causes {
		switch c {
		case "illness":
			for _, p := range ps {
				if p.health == "serious_illness" {
					parts = append(parts, p.name+"患"+p.disease+"，医疗支出较大")
					break
				}
				if p.health == "chronic" {
					parts = append(parts, p.name+"患"+p.disease+"，常年服药")
					break
				}
			}
		case "disability":
			for _, p := range ps {
				if p.health == "disabled" {
					l, _ := domain.Disabilities.Label(p.disability)
					parts = append(parts, p.name+p.disease+"残疾"+l)
					break
				}
			}
		case "education":
			for _, p := range ps {
				if p.work == "student" && (p.education == "senior" || p.education == "vocational" || p.education == "college") {
					l, _ := domain.EducationLevels.Label(p.education)
					parts = append(parts, p.name+"在读"+strings.Split(l, "/")[0]+"，教育支出较大")
					break
				}
			}
		case "lack_labor":
			parts = append(parts, "家中缺少劳动力")
		case "lack_skills":
			parts = append(parts, "劳动力缺乏专业技能，收入来源单一")
		case "lack_funds":
			parts = append(parts, "缺少发展生产资金")
		case "disaster":
			parts = append(parts, fmt.Sprintf("%d年遭受洪涝灾害，房屋和庄稼受损", disasterYear))
		case "lack_land":
			parts = append(parts, "人均耕地不足")
		case "low_motivation":
			parts = append(parts, "自身发展动力不足")
		case "poor_transport":
			parts = append(parts, "居住偏远，交通不便")
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, "；") + "。"
}
