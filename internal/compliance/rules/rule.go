package rules

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/fieldvisit/fieldvisit/domain"
)

// Subjects say what a rule is judged for.
const (
	SubjectHousehold = "household"  // one status per household; any paired cadre's visit counts
	SubjectPairing   = "pairing"    // one status per cadre–household pair; only that cadre's visits count
	SubjectCadre     = "cadre"      // one status per cadre holding one of the rule's duties
	SubjectUnitGroup = "unit_group" // one status per assisting unit and the village group it is assigned to
)

// Subjects lists the subject codes with their zh-CN labels.
var Subjects = terms(
	SubjectHousehold, "农户", SubjectPairing, "结对关系", SubjectCadre, "帮扶干部", SubjectUnitGroup, "帮扶单位驻点小组",
)

// EvidenceFlags are the flag codes a rule may name as disqualifying: every
// flag a visit may carry.
var EvidenceFlags = domain.VisitFlags

// Minimum is one count a rule requires within each window of a kind.
type Minimum struct {
	Window string `json:"window"`
	Count  int    `json:"count"`
}

// Rule is one visit-frequency or duty requirement, stored as data so that a
// county can tune numbers without a release. Every rule carries the sentence
// of the seed document it encodes (Source) and, where the seed gives no
// number and we chose one, says so (DesignChoice), so a supervisor disputing
// a status can see whose rule it is.
type Rule struct {
	Code         string `json:"code"`
	NameZH       string `json:"name_zh"`
	Source       string `json:"source"`
	DesignChoice string `json:"design_choice,omitempty"`
	Subject      string `json:"subject"`

	// Household and pairing rules: which households, by their status on each day.
	Statuses        []string `json:"statuses,omitempty"`
	PovertyTypes    []string `json:"poverty_types,omitempty"`     // empty = any
	ExitedSinceYear int      `json:"exited_since_year,omitempty"` // 0 = any; exited households only

	// Cadre rules: which duties.
	Duties []string `json:"duties,omitempty"`

	Minimums           []Minimum `json:"minimums"`
	CountKinds         []string  `json:"count_kinds"`
	DisqualifyingFlags []string  `json:"disqualifying_flags,omitempty"`
	MinDurationMinutes int       `json:"min_duration_minutes,omitempty"`

	// DueSoonDays is how close to the end of a window a short status turns
	// due_soon; 0 means 7 days for a month and 14 for a quarter or year.
	DueSoonDays int `json:"due_soon_days,omitempty"`
	// GraceDays: a window the rule covers on fewer days than this requires
	// nothing (a household registered on Mar 28 owes no Q1 visit); 0 means 7.
	GraceDays int `json:"grace_days,omitempty"`
	// AnyCadre lets a household rule count visits by cadres not paired with
	// the household (a resident team member, the first secretary).
	AnyCadre bool `json:"any_cadre,omitempty"`
}

// VisitCoverage is a "visit them all" duty: town heads every registered
// household of the town, county leaders every poor village, within a year.
type VisitCoverage struct {
	Enabled            bool     `json:"enabled"`
	NameZH             string   `json:"name_zh"`
	Source             string   `json:"source"`
	DesignChoice       string   `json:"design_choice,omitempty"`
	Statuses           []string `json:"statuses,omitempty"` // households that must be visited (town head)
	CountKinds         []string `json:"count_kinds"`
	DisqualifyingFlags []string `json:"disqualifying_flags,omitempty"`
}

// PairingQuota is the "321" rule: active pairings a cadre of each rank holds.
type PairingQuota struct {
	Enabled bool           `json:"enabled"`
	NameZH  string         `json:"name_zh"`
	Source  string         `json:"source"`
	Quota   map[string]int `json:"quota"`
}

// EveryPaired is 不脱贫不脱钩: households of these statuses always have a cadre.
type EveryPaired struct {
	Enabled      bool     `json:"enabled"`
	NameZH       string   `json:"name_zh"`
	Source       string   `json:"source"`
	DesignChoice string   `json:"design_choice,omitempty"`
	Statuses     []string `json:"statuses"`
}

// ResidentTerm is the minimum stationing of resident team members.
type ResidentTerm struct {
	Enabled   bool   `json:"enabled"`
	NameZH    string `json:"name_zh"`
	Source    string `json:"source"`
	MinMonths int    `json:"min_months"`
}

// CoverageRules are the yearly and standing checks that are not counts per window.
type CoverageRules struct {
	TownHead     VisitCoverage `json:"town_head"`
	CountyLeader VisitCoverage `json:"county_leader"`
	PairingQuota PairingQuota  `json:"pairing_quota"`
	EveryPaired  EveryPaired   `json:"every_household_paired"`
	ResidentTerm ResidentTerm  `json:"resident_term"`
}

// Profile is a named, versioned set of rules a county runs under. The seed
// documents disagree (002 asks for 6 a year, its alternative and 003 for one a
// month), so a county picks a profile rather than the code picking for it.
type Profile struct {
	Code     string        `json:"code"`
	NameZH   string        `json:"name_zh"`
	Version  int           `json:"version"`
	Rules    []Rule        `json:"rules"`
	Coverage CoverageRules `json:"coverage"`
}

// Rule returns the rule with code.
func (p Profile) Rule(code string) (Rule, bool) {
	for _, r := range p.Rules {
		if r.Code == code {
			return r, true
		}
	}
	return Rule{}, false
}

var codePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)

// Validate checks a profile an admin submits. An empty rule list is allowed:
// a county may track only coverage and pairing while it settles its
// frequency rules. Errors carry JSON pointers into the profile document.
func (p Profile) Validate() error {
	var fe domain.FieldErrors
	if !codePattern.MatchString(p.Code) {
		fe.Add("/code", "invalid_format", "code must be 1–40 lowercase letters, digits, '-' or '_'", "方案编码应为1至40位小写字母、数字、-或_")
	}
	if p.NameZH == "" {
		fe.Required("/name_zh", "方案名称")
	}
	if p.Version < 0 {
		fe.Add("/version", "out_of_range", "version must not be negative", "版本号不能为负数")
	}
	seen := map[string]int{}
	for i, r := range p.Rules {
		prefix := "/rules/" + strconv.Itoa(i)
		r.validate(&fe, prefix)
		if j, dup := seen[r.Code]; dup && r.Code != "" {
			fe.Add(prefix+"/code", "duplicate", fmt.Sprintf("rule code %q is already used by rule %d", r.Code, j), "规则编码与第"+strconv.Itoa(j+1)+"条规则重复")
		} else {
			seen[r.Code] = i
		}
	}
	p.Coverage.validate(&fe, "/coverage")
	return fe.Err()
}

func (r Rule) validate(fe *domain.FieldErrors, prefix string) {
	if !codePattern.MatchString(r.Code) {
		fe.Add(prefix+"/code", "invalid_format", "code must be 1–40 lowercase letters, digits, '-' or '_'", "规则编码应为1至40位小写字母、数字、-或_")
	}
	if r.NameZH == "" {
		fe.Required(prefix+"/name_zh", "规则名称")
	}
	// A rule without its source cannot be defended to a cadre who disputes it.
	if r.Source == "" {
		fe.Required(prefix+"/source", "规则依据")
	}
	if !Subjects.Has(r.Subject) {
		fe.Add(prefix+"/subject", "invalid_enum", "subject must be household, pairing, cadre or unit_group", "规则对象无效")
	}
	householdish := r.Subject == SubjectHousehold || r.Subject == SubjectPairing
	switch {
	case householdish && len(r.Statuses) == 0:
		fe.Required(prefix+"/statuses", "适用农户状态")
	case !householdish && (len(r.Statuses) > 0 || len(r.PovertyTypes) > 0 || r.ExitedSinceYear != 0):
		fe.Add(prefix+"/statuses", "not_applicable", "statuses, poverty types and exit years apply only to household and pairing rules", "农户状态条件只适用于农户和结对规则")
	}
	checkCodes(fe, prefix+"/statuses", r.Statuses, domain.Statuses, "unknown household status", "农户状态无效")
	checkCodes(fe, prefix+"/poverty_types", r.PovertyTypes, domain.PovertyTypes, "unknown poverty type", "贫困户属性无效")
	if r.ExitedSinceYear != 0 && (r.ExitedSinceYear < domain.FirstYear || r.ExitedSinceYear > domain.LastYear) {
		fe.Add(prefix+"/exited_since_year", "out_of_range",
			fmt.Sprintf("exited_since_year must be 0 or between %d and %d", domain.FirstYear, domain.LastYear),
			fmt.Sprintf("脱贫年份应为0或%d至%d之间", domain.FirstYear, domain.LastYear))
	}
	switch {
	case r.Subject == SubjectCadre && len(r.Duties) == 0:
		fe.Required(prefix+"/duties", "适用职责")
	case r.Subject != SubjectCadre && len(r.Duties) > 0:
		fe.Add(prefix+"/duties", "not_applicable", "duties apply only to cadre rules", "职责条件只适用于干部规则")
	}
	checkCodes(fe, prefix+"/duties", r.Duties, domain.Duties, "unknown duty", "职责无效")
	if len(r.Minimums) == 0 {
		fe.Required(prefix+"/minimums", "走访次数要求")
	}
	windows := map[string]bool{}
	for j, m := range r.Minimums {
		mp := prefix + "/minimums/" + strconv.Itoa(j)
		if !Windows.Has(m.Window) {
			fe.Add(mp+"/window", "invalid_enum", "window must be year, quarter or month", "统计周期应为年度、季度或月度")
			continue
		}
		if windows[m.Window] {
			fe.Add(mp+"/window", "duplicate", "the rule already has a minimum for this window", "同一规则的同一统计周期只能设置一个次数")
		}
		windows[m.Window] = true
		if limit := maxPerWindow[m.Window]; m.Count < 1 || m.Count > limit {
			fe.Add(mp+"/count", "out_of_range", fmt.Sprintf("count must be between 1 and %d for a %s", limit, m.Window), fmt.Sprintf("次数应在1至%d之间", limit))
		}
	}
	if len(r.CountKinds) == 0 {
		fe.Required(prefix+"/count_kinds", "计入的走访类型")
	}
	checkCodes(fe, prefix+"/count_kinds", r.CountKinds, domain.VisitKinds, "unknown visit kind", "走访类型无效")
	checkCodes(fe, prefix+"/disqualifying_flags", r.DisqualifyingFlags, EvidenceFlags, "unknown evidence flag", "核验标记无效")
	if r.MinDurationMinutes < 0 || r.MinDurationMinutes > 24*60 {
		fe.Add(prefix+"/min_duration_minutes", "out_of_range", "min_duration_minutes must be between 0 and 1440", "最短走访时长应在0至1440分钟之间")
	}
	if r.DueSoonDays < 0 || r.DueSoonDays > 366 {
		fe.Add(prefix+"/due_soon_days", "out_of_range", "due_soon_days must be between 0 and 366", "临期提醒天数应在0至366之间")
	}
	if r.GraceDays < 0 || r.GraceDays > 92 {
		fe.Add(prefix+"/grace_days", "out_of_range", "grace_days must be between 0 and 92", "免考核天数应在0至92之间")
	}
	if r.AnyCadre && r.Subject != SubjectHousehold {
		fe.Add(prefix+"/any_cadre", "not_applicable", "any_cadre applies only to household rules", "“任何干部走访均计入”只适用于农户规则")
	}
}

func (c CoverageRules) validate(fe *domain.FieldErrors, prefix string) {
	c.TownHead.validate(fe, prefix+"/town_head", true)
	c.CountyLeader.validate(fe, prefix+"/county_leader", false)
	q := prefix + "/pairing_quota"
	if c.PairingQuota.Enabled && len(c.PairingQuota.Quota) == 0 {
		fe.Required(q+"/quota", "结对户数")
	}
	for rank, n := range c.PairingQuota.Quota {
		if !domain.Ranks.Has(rank) {
			fe.Add(q+"/quota/"+rank, "invalid_enum", "unknown rank", "职级无效")
		} else if n < 0 || n > 50 {
			fe.Add(q+"/quota/"+rank, "out_of_range", "quota must be between 0 and 50", "结对户数应在0至50之间")
		}
	}
	ep := prefix + "/every_household_paired"
	if c.EveryPaired.Enabled && len(c.EveryPaired.Statuses) == 0 {
		fe.Required(ep+"/statuses", "适用农户状态")
	}
	checkCodes(fe, ep+"/statuses", c.EveryPaired.Statuses, domain.Statuses, "unknown household status", "农户状态无效")
	rt := prefix + "/resident_term"
	if c.ResidentTerm.MinMonths < 0 || c.ResidentTerm.MinMonths > 120 || c.ResidentTerm.Enabled && c.ResidentTerm.MinMonths == 0 {
		fe.Add(rt+"/min_months", "out_of_range", "min_months must be between 1 and 120", "最短派驻月数应在1至120之间")
	}
}

func (v VisitCoverage) validate(fe *domain.FieldErrors, prefix string, needsStatuses bool) {
	if v.Enabled && needsStatuses && len(v.Statuses) == 0 {
		fe.Required(prefix+"/statuses", "适用农户状态")
	}
	if v.Enabled && len(v.CountKinds) == 0 {
		fe.Required(prefix+"/count_kinds", "计入的走访类型")
	}
	checkCodes(fe, prefix+"/statuses", v.Statuses, domain.Statuses, "unknown household status", "农户状态无效")
	checkCodes(fe, prefix+"/count_kinds", v.CountKinds, domain.VisitKinds, "unknown visit kind", "走访类型无效")
	checkCodes(fe, prefix+"/disqualifying_flags", v.DisqualifyingFlags, EvidenceFlags, "unknown evidence flag", "核验标记无效")
}

func checkCodes(fe *domain.FieldErrors, prefix string, codes []string, vocab domain.Vocabulary, msg, msgZH string) {
	seen := map[string]bool{}
	for i, c := range codes {
		p := prefix + "/" + strconv.Itoa(i)
		if !vocab.Has(c) {
			fe.Add(p, "invalid_enum", fmt.Sprintf("%s %q", msg, c), msgZH)
		} else if seen[c] {
			fe.Add(p, "duplicate", fmt.Sprintf("%q is listed twice", c), "重复")
		}
		seen[c] = true
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
