package domain

import (
	"strings"
	"unicode"
)

// Term is one entry of a closed vocabulary: the English code used in the API
// and the zh-CN label shown to people and used in county 台账 spreadsheets.
type Term struct {
	Code  string `json:"code"`
	Label string `json:"label"`
}

// Vocabulary is a closed list of terms, kept in order for display.
type Vocabulary []Term

// Has reports whether code is a term of v.
func (v Vocabulary) Has(code string) bool {
	_, ok := v.Label(code)
	return ok
}

// Label returns the zh-CN label of code.
func (v Vocabulary) Label(code string) (string, bool) {
	for _, t := range v {
		if t.Code == code {
			return t.Label, true
		}
	}
	return "", false
}

// Parse accepts either the code or the zh-CN label (or one of its aliases)
// and returns the code. Spreadsheets from county offices use labels, typed
// with full-width or half-width brackets and stray spaces alike, so both
// sides are compared in FoldLabel's form.
func (v Vocabulary) Parse(s string, aliases map[string]string) (string, bool) {
	s = FoldLabel(s)
	for _, t := range v {
		if s == t.Code || s == FoldLabel(t.Label) {
			return t.Code, true
		}
	}
	if code, ok := aliases[s]; ok {
		return code, true
	}
	return "", false
}

// FoldLabel is the form labels are compared in: no whitespace (full-width
// included) and half-width brackets, commas and slashes. Alias keys are
// written in this form.
func FoldLabel(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return -1
		case r == '（':
			return '('
		case r == '）':
			return ')'
		case r == '，':
			return ','
		case r == '／':
			return '/'
		}
		return r
	}, s)
}

// Codes lists the codes, for error messages and the OpenAPI enums.
func (v Vocabulary) Codes() []string {
	out := make([]string, len(v))
	for i, t := range v {
		out[i] = t.Code
	}
	return out
}

// Region levels, top to bottom.
const (
	LevelProvince = "province"
	LevelCity     = "city"
	LevelCounty   = "county"
	LevelTown     = "town"
	LevelVillage  = "village"
	LevelGroup    = "group"
)

var RegionLevels = Vocabulary{
	{LevelProvince, "省"}, {LevelCity, "市"}, {LevelCounty, "县/区"},
	{LevelTown, "乡/镇/办事处"}, {LevelVillage, "行政村"}, {LevelGroup, "村民小组"},
}

// Poverty types (贫困户属性), kept after exit.
const (
	PovertyOrdinary = "ordinary"
	PovertyDibao    = "dibao"
	PovertyWubao    = "wubao"
)

var PovertyTypes = Vocabulary{
	{PovertyOrdinary, "一般贫困户"}, {PovertyDibao, "低保贫困户"}, {PovertyWubao, "五保贫困户"},
}

// PovertyTypeAliases are the other labels county registers and the seeds
// use. Since 2016 the national register calls 五保贫困户 特困供养贫困户
// (五保 供养 became 特困人员供养); both name the same households.
var PovertyTypeAliases = map[string]string{
	"一般户": PovertyOrdinary, "一般": PovertyOrdinary, "一般贫困": PovertyOrdinary,
	"扶贫户": PovertyOrdinary, "扶贫开发户": PovertyOrdinary,
	"低保户": PovertyDibao, "低保": PovertyDibao, "低保贫困": PovertyDibao, "扶贫低保户": PovertyDibao,
	"低保建档立卡贫困户": PovertyDibao,
	"五保户":       PovertyWubao, "五保": PovertyWubao, "五保贫困": PovertyWubao,
	"特困供养贫困户": PovertyWubao, "特困供养户": PovertyWubao, "特困供养": PovertyWubao,
	"特困户": PovertyWubao, "特困": PovertyWubao, "特困人员供养户": PovertyWubao,
}

// Household statuses.
const (
	StatusRegistered = "registered"
	StatusExited     = "exited"
	StatusEdge       = "edge"
	StatusRelapsed   = "relapsed"
	StatusRemoved    = "removed"
	StatusGeneral    = "general"
)

var Statuses = Vocabulary{
	{StatusRegistered, "在册未脱贫"}, {StatusExited, "已脱贫"}, {StatusEdge, "边缘户"},
	{StatusRelapsed, "返贫"}, {StatusRemoved, "清退"}, {StatusGeneral, "一般农户"},
}

// StatusAliases are the other labels county registers and the seeds use.
// 脱贫不稳定户 (a monitored household of the anti-relapse system) has exited
// the register and keeps its exit year, so it is exited, not edge: edge
// households (边缘易致贫户, 突发严重困难户) were never registered.
var StatusAliases = map[string]string{
	"未脱贫": StatusRegistered, "未脱贫户": StatusRegistered, "贫困户": StatusRegistered, "在册": StatusRegistered,
	"在册未脱贫户": StatusRegistered, "在册贫困户": StatusRegistered, "建档立卡贫困户": StatusRegistered,
	"新识别贫困户": StatusRegistered, "新识别户": StatusRegistered,
	"已脱贫户": StatusExited, "脱贫户": StatusExited, "脱贫": StatusExited, "脱贫不稳定户": StatusExited,
	"脱贫享受政策": StatusExited, "脱贫不享受政策": StatusExited,
	"边缘易致贫户": StatusEdge, "边缘户(边缘易致贫户)": StatusEdge, "边缘易致贫": StatusEdge, "突发严重困难户": StatusEdge,
	"返贫户": StatusRelapsed, "清退户": StatusRemoved, "已清退": StatusRemoved,
	"非贫困户": StatusGeneral, "一般户": StatusGeneral, "非建档立卡户": StatusGeneral,
}

// Causes of poverty (致贫原因).
var Causes = Vocabulary{
	{"illness", "因病"}, {"disability", "因残"}, {"education", "因学"}, {"disaster", "因灾"},
	{"lack_labor", "缺劳力"}, {"lack_skills", "缺技术"}, {"lack_funds", "缺资金"}, {"lack_land", "缺土地"},
	{"lack_water", "缺水"}, {"poor_transport", "交通条件落后"}, {"low_motivation", "自身发展动力不足"},
	{"other", "其他"},
}

// CauseAliases are the other labels registers and the seeds use; every
// label also passes with 致贫 after it (因病致贫, 缺技术致贫).
var CauseAliases = func() map[string]string {
	m := map[string]string{
		"缺劳动力": "lack_labor", "缺少劳力": "lack_labor", "缺少劳动力": "lack_labor",
		"缺少技术": "lack_skills", "缺乏技术": "lack_skills",
		"缺少资金": "lack_funds", "缺发展资金": "lack_funds", "缺少发展资金": "lack_funds",
		"交通落后": "poor_transport", "动力不足": "low_motivation", "自身发展力不足": "low_motivation",
		"发展动力不足": "low_motivation",
	}
	for _, t := range Causes {
		if t.Code != "other" {
			m[t.Label+"致贫"] = t.Code
		}
	}
	return m
}()

// Housing structure (住房结构) and safety grade (危房等级 A–D).
var HousingStructures = Vocabulary{
	{"reinforced_concrete", "钢混"}, {"brick_concrete", "砖混"}, {"brick_wood", "砖木"},
	{"earth_wood", "土木"}, {"stone_wood", "石木"}, {"other", "其他"},
}

var HousingSafetyGrades = Vocabulary{
	{"A", "A级（安全）"}, {"B", "B级（基本安全）"}, {"C", "C级（局部危险）"}, {"D", "D级（整体危险）"},
}

// RelationHead is the head of household's relation: the member whose name
// is the household's 户主姓名.
const RelationHead = "head"

// Member attributes.
var Relations = Vocabulary{
	{RelationHead, "户主"}, {"spouse", "配偶"}, {"child", "子女"}, {"child_in_law", "儿媳/女婿"},
	{"grandchild", "孙子女"}, {"parent", "父母"}, {"grandparent", "祖父母"}, {"sibling", "兄弟姐妹"}, {"other", "其他"},
}

// RelationAliases are the other labels registers use; the national
// register writes relations as 之子, 之儿媳, 之孙女…. Parents-in-law living
// in the household count as 父母: the vocabulary has no separate term.
var RelationAliases = map[string]string{
	"本人": "head", "户主本人": "head",
	"妻": "spouse", "夫": "spouse", "之妻": "spouse", "之夫": "spouse", "妻子": "spouse", "丈夫": "spouse",
	"之子": "child", "之女": "child", "子": "child", "女": "child", "儿子": "child", "女儿": "child",
	"长子": "child", "次子": "child", "长女": "child", "次女": "child",
	"儿媳": "child_in_law", "女婿": "child_in_law", "之儿媳": "child_in_law", "之女婿": "child_in_law",
	"之孙子": "grandchild", "之孙女": "grandchild", "孙子": "grandchild", "孙女": "grandchild",
	"之外孙子": "grandchild", "之外孙女": "grandchild", "外孙": "grandchild", "外孙女": "grandchild", "外孙子": "grandchild",
	"父亲": "parent", "母亲": "parent", "之父": "parent", "之母": "parent",
	"之岳父": "parent", "之岳母": "parent", "之公公": "parent", "之婆婆": "parent",
	"之祖父": "grandparent", "之祖母": "grandparent", "祖父": "grandparent", "祖母": "grandparent",
	"之外祖父": "grandparent", "之外祖母": "grandparent",
	"之兄弟姐妹": "sibling", "兄弟": "sibling", "姐妹": "sibling", "兄": "sibling", "弟": "sibling", "姐": "sibling", "妹": "sibling",
}

var HealthStates = Vocabulary{
	{"healthy", "健康"}, {"chronic", "长期慢性病"}, {"serious_illness", "患有大病"}, {"disabled", "残疾"},
}

var HealthAliases = map[string]string{
	"良好": "healthy", "健康良好": "healthy", "慢性病": "chronic", "患有长期慢性病": "chronic", "患慢性病": "chronic",
	"大病": "serious_illness", "患大病": "serious_illness", "重病": "serious_illness", "重大疾病": "serious_illness",
	"残疾人": "disabled",
}

var Disabilities = Vocabulary{
	{"none", "无"}, {"grade1", "一级"}, {"grade2", "二级"}, {"grade3", "三级"}, {"grade4", "四级"},
}

// DisabilityAliases: 一级残疾, 残疾1级, 1级 … and the ways a sheet says none.
var DisabilityAliases = func() map[string]string {
	m := map[string]string{"无残疾": "none", "否": "none", "非残疾": "none", "/": "none"}
	for i, n := range []string{"一", "二", "三", "四"} {
		code := "grade" + string(rune('1'+i))
		d := string(rune('1' + i))
		m[d+"级"] = code
		for _, g := range []string{n, d} {
			m[g+"级残疾"] = code
			m["残疾"+g+"级"] = code
		}
	}
	return m
}()

var EducationLevels = Vocabulary{
	{"preschool", "学龄前"}, {"illiterate", "文盲或半文盲"}, {"primary", "小学"}, {"junior", "初中"},
	{"senior", "高中"}, {"vocational", "中专/职高"}, {"college", "大专及以上"},
}

var EducationAliases = map[string]string{
	"学龄前儿童": "preschool", "文盲": "illiterate", "半文盲": "illiterate", "小学文化": "primary", "初中文化": "junior",
	"高中文化": "senior", "中专": "vocational", "职高": "vocational", "中专或职高": "vocational", "技校": "vocational",
	"大专": "college", "本科": "college", "本科及以上": "college", "大学": "college", "研究生": "college",
}

var WorkStates = Vocabulary{
	{"farming", "务农"}, {"migrant", "外出务工"}, {"local_job", "本地务工"}, {"student", "在校生"},
	{"unable", "无劳动力"}, {"none", "无业"}, {"other", "其他"},
}

// WorkAliases include the national register's 务工状况 labels: work inside
// the county is local, outside it migrant.
var WorkAliases = map[string]string{
	"在家务农": "farming", "外出打工": "migrant", "省外务工": "migrant", "县外务工": "migrant", "省内县外务工": "migrant",
	"县外省内务工": "migrant", "县内务工": "local_job", "就近务工": "local_job", "本地就业": "local_job",
	"乡(镇)内务工": "local_job", "乡镇内务工": "local_job", "乡(镇)外县内务工": "local_job", "乡镇外县内务工": "local_job",
	"在校学生": "student", "学生": "student", "丧失劳动力": "unable", "无劳动能力": "unable", "无": "none",
}

// User roles.
const (
	RoleAdmin      = "admin"
	RoleSupervisor = "supervisor"
	RoleInspector  = "inspector"
	RoleCadre      = "cadre"
)

var Roles = Vocabulary{
	{RoleAdmin, "系统管理员"}, {RoleSupervisor, "扶贫办督导"}, {RoleInspector, "督查组"}, {RoleCadre, "帮扶干部"},
}

// Cadre ranks decide the "321" pairing quota.
const (
	RankCountyLevel  = "county_level"
	RankSectionLevel = "section_level"
	RankStaff        = "staff"
)

var Ranks = Vocabulary{{RankCountyLevel, "县处级"}, {RankSectionLevel, "科级"}, {RankStaff, "一般干部"}}

// RankAliases follow 002's "321" wording (县处级领导干部, 科级干部, 一般干部(职工)).
var RankAliases = map[string]string{
	"处级": RankCountyLevel, "县级": RankCountyLevel, "正处": RankCountyLevel, "副处": RankCountyLevel,
	"正处级": RankCountyLevel, "副处级": RankCountyLevel, "县处级干部": RankCountyLevel, "县处级领导干部": RankCountyLevel,
	"科级干部": RankSectionLevel, "正科": RankSectionLevel, "副科": RankSectionLevel, "正科级": RankSectionLevel,
	"副科级": RankSectionLevel, "科级领导干部": RankSectionLevel,
	"科员": RankStaff, "办事员": RankStaff, "一般": RankStaff, "普通干部": RankStaff, "一般干部(职工)": RankStaff,
	"职工": RankStaff, "一般职工": RankStaff,
}

// RankPairingQuota is the "321" quota: households a cadre of each rank pairs with (002).
var RankPairingQuota = map[string]int{RankCountyLevel: 3, RankSectionLevel: 2, RankStaff: 1}

// Cadre duties, which frequency and coverage rules read.
const (
	DutyUnitHead         = "unit_head"
	DutyLeadershipMember = "leadership_member"
	DutyOrdinaryMember   = "ordinary_member"
	DutyResident         = "resident"
	DutyFirstSecretary   = "first_secretary"
	DutyTownHead         = "town_head"
	DutyCountyLeader     = "county_leader"
)

var Duties = Vocabulary{
	{DutyUnitHead, "单位一把手"}, {DutyLeadershipMember, "班子成员"}, {DutyOrdinaryMember, "普通党员干部"},
	{DutyResident, "驻村工作队员"}, {DutyFirstSecretary, "第一书记"}, {DutyTownHead, "镇街主要领导"}, {DutyCountyLeader, "县级领导"},
}
