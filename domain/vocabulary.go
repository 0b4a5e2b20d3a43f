package domain

import "strings"

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
// and returns the code. Spreadsheets from county offices use labels.
func (v Vocabulary) Parse(s string, aliases map[string]string) (string, bool) {
	s = strings.TrimSpace(s)
	for _, t := range v {
		if s == t.Code || s == t.Label {
			return t.Code, true
		}
	}
	if code, ok := aliases[s]; ok {
		return code, true
	}
	return "", false
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

// PovertyTypeAliases are spellings seen in county spreadsheets.
var PovertyTypeAliases = map[string]string{
	"一般户": PovertyOrdinary, "一般": PovertyOrdinary, "低保户": PovertyDibao, "低保": PovertyDibao,
	"五保户": PovertyWubao, "五保": PovertyWubao, "特困供养": PovertyWubao,
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

var StatusAliases = map[string]string{
	"未脱贫": StatusRegistered, "贫困户": StatusRegistered, "在册": StatusRegistered,
	"脱贫户": StatusExited, "脱贫": StatusExited, "边缘易致贫户": StatusEdge, "返贫户": StatusRelapsed,
	"非贫困户": StatusGeneral, "一般户": StatusGeneral,
}

// Causes of poverty (致贫原因).
var Causes = Vocabulary{
	{"illness", "因病"}, {"disability", "因残"}, {"education", "因学"}, {"disaster", "因灾"},
	{"lack_labor", "缺劳力"}, {"lack_skills", "缺技术"}, {"lack_funds", "缺资金"}, {"lack_land", "缺土地"},
	{"lack_water", "缺水"}, {"poor_transport", "交通条件落后"}, {"low_motivation", "自身发展动力不足"},
	{"other", "其他"},
}

var CauseAliases = map[string]string{"缺劳动力": "lack_labor", "因病致贫": "illness", "因残致贫": "disability", "因学致贫": "education", "因灾致贫": "disaster", "交通落后": "poor_transport", "动力不足": "low_motivation"}

// Housing structure (住房结构) and safety grade (危房等级 A–D).
var HousingStructures = Vocabulary{
	{"reinforced_concrete", "钢混"}, {"brick_concrete", "砖混"}, {"brick_wood", "砖木"},
	{"earth_wood", "土木"}, {"stone_wood", "石木"}, {"other", "其他"},
}

var HousingSafetyGrades = Vocabulary{
	{"A", "A级(安全)"}, {"B", "B级(基本安全)"}, {"C", "C级(局部危险)"}, {"D", "D级(整体危险)"},
}

// Member attributes.
var Relations = Vocabulary{
	{"head", "户主"}, {"spouse", "配偶"}, {"child", "子女"}, {"child_in_law", "儿媳/女婿"},
	{"grandchild", "孙子女"}, {"parent", "父母"}, {"grandparent", "祖父母"}, {"sibling", "兄弟姐妹"}, {"other", "其他"},
}

var RelationAliases = map[string]string{"之子": "child", "之女": "child", "子": "child", "女": "child", "妻": "spouse", "夫": "spouse", "之妻": "spouse", "之夫": "spouse", "儿媳": "child_in_law", "女婿": "child_in_law", "之孙子": "grandchild", "之孙女": "grandchild", "父亲": "parent", "母亲": "parent", "之父": "parent", "之母": "parent"}

var HealthStates = Vocabulary{
	{"healthy", "健康"}, {"chronic", "长期慢性病"}, {"serious_illness", "患有大病"}, {"disabled", "残疾"},
}

var Disabilities = Vocabulary{
	{"none", "无"}, {"grade1", "一级"}, {"grade2", "二级"}, {"grade3", "三级"}, {"grade4", "四级"},
}

var EducationLevels = Vocabulary{
	{"preschool", "学龄前"}, {"illiterate", "文盲或半文盲"}, {"primary", "小学"}, {"junior", "初中"},
	{"senior", "高中"}, {"vocational", "中专/职高"}, {"college", "大专及以上"},
}

var WorkStates = Vocabulary{
	{"farming", "务农"}, {"migrant", "外出务工"}, {"local_job", "本地务工"}, {"student", "在校生"},
	{"unable", "无劳动力"}, {"none", "无业"}, {"other", "其他"},
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
