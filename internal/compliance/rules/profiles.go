package rules

import (
	"slices"

	"github.com/fieldvisit/fieldvisit/domain"
)

// Rule codes of the ready profiles.
const (
	CodeYearly6             = "yearly-6"
	CodeMonthly             = "monthly"
	CodeMonthlyPaired       = "monthly-paired"
	CodeExitedFollowup      = "exited-followup"
	CodeEdge                = "edge"
	CodeUnitGroup           = "unit-group"
	CodeUnitHeadQuarterly   = "unit-head-quarterly"
	CodeUnitMembersMonthly4 = "unit-members-monthly-4"
	CodeResidentTerm        = "resident-term"
	CodeTownHeadCoverage    = "town-head-coverage"
	CodeCountyLeaderCover   = "county-leader-coverage"
	CodePairingQuota321     = "pairing-quota-321"
	CodeEveryHouseholdPair  = "every-household-paired"
)

// Seed citations, quoted so a status can show the sentence it enforces.
const (
	source002Yearly    = "002：帮扶干部每年不少于6次、每季不少于1次进村入户帮扶"
	source002Monthly   = "002：对2016年以来脱贫户和其他在册未脱贫户每月走访至少1次，每年不少于12次"
	source003Monthly   = "003：确保每月一次到帮扶贫困户家中"
	source003Exited    = "003：对退出贫困户的回访工作…政策不变、包保不撤"
	source002Edge      = "002：定期对边缘户人口走访"
	source002UnitGroup = "002：对贫困村小组的帮扶工作每月不少于1次"
	source002UnitHead  = "002：党委“一把手”每季度至少到帮扶村开展工作1次以上"
	source002Members   = "002：班子成员分管领导和普通党员干部每月不少于4次"
	source002Resident  = "002：驻村人员派驻时间不少于2年"
	source002TownHead  = "002：镇街主要领导遍访贫困户“全覆盖”"
	source002County    = "002：县级主要领导遍访贫困村"
	source002Quota     = "002：县处级领导干部结对帮扶3户，科级干部结对帮扶2户，一般干部（职工）结对帮扶1户"
	source002NoUnhook  = "002：不脱贫不脱钩"
	source002NewPoor   = "002：对在扶贫对象户建档立卡之后因灾、因病等原因新出现的贫困户…落实帮扶干部给予积极帮扶"
	source002EdgePoint = "002：对出现大病、残疾、灾祸的非建档立卡人口（边缘户）…开展“点对点”精准帮扶"
	source002Festival  = "002：除春节、端午、中秋等节日可进行走访慰问外…"
)

// Condolence visits are left out of the counted kinds because 002 allows
// them only on festivals, beside the assistance work; counting them would
// let a year of 慰问 pass as a year of 帮扶. Inspection visits are made by
// inspectors, not by the household's cadre, so they never count either.
var defaultCountKinds = []string{domain.KindAssist, domain.KindFollowup}

// These flags mean the visit probably did not happen where or when it says
// (position far from the home or faked, travel impossible, a photo reused
// from another visit, a visit outside the cadre's pairing, a time in the
// future). Weaker evidence problems (poor accuracy, no photo, clock offset)
// are shown to supervisors but do not by themselves cancel a visit, because
// they are common on cheap phones in mountain villages.
var defaultDisqualifyingFlags = []string{"far_from_home", "mock_location", "impossible_travel", "photo_reuse", "outside_pairing", "future_time"}

// Relapsed households (返贫) are back in need, so the rules for registered
// households cover them too.
var registeredStatuses = []string{domain.StatusRegistered, domain.StatusRelapsed}

const condolenceChoice = "慰问走访不计入帮扶走访次数（可配置）"

func householdRule(code, nameZH, source, choice string, statuses []string, mins ...Minimum) Rule {
	return Rule{
		Code: code, NameZH: nameZH, Source: source + "；" + source002Festival, DesignChoice: choice,
		Subject: SubjectHousehold, Statuses: slices.Clone(statuses), Minimums: mins,
		CountKinds: slices.Clone(defaultCountKinds), DisqualifyingFlags: slices.Clone(defaultDisqualifyingFlags),
	}
}

func exitedFollowupRule() Rule {
	return householdRule(CodeExitedFollowup, "脱贫户每季度回访", source003Exited,
		"种子文件只要求回访未给次数，按每季度至少1次设定；"+condolenceChoice,
		[]string{domain.StatusExited}, Minimum{WindowQuarter, 1})
}

func edgeRule() Rule {
	return householdRule(CodeEdge, "边缘户每季度走访", source002Edge,
		"种子文件只说“定期”，按每季度至少1次设定；"+condolenceChoice,
		[]string{domain.StatusEdge}, Minimum{WindowQuarter, 1})
}

// dutyRules are the unit and cadre duties every ready profile carries.
func dutyRules() []Rule {
	return []Rule{
		{
			Code: CodeUnitGroup, NameZH: "帮扶单位每月到驻点小组开展工作", Source: source002UnitGroup,
			DesignChoice: "单位任一在编帮扶干部到该小组农户家走访即计为单位开展工作；同一天多人走访只计1次",
			Subject:      SubjectUnitGroup, Minimums: []Minimum{{WindowMonth, 1}},
			CountKinds: slices.Clone(defaultCountKinds), DisqualifyingFlags: slices.Clone(defaultDisqualifyingFlags),
		},
		{
			Code: CodeUnitHeadQuarterly, NameZH: "单位一把手每季度到帮扶村开展工作", Source: source002UnitHead,
			DesignChoice: "同一天多次走访只计1次（一次进村）",
			Subject:      SubjectCadre, Duties: []string{domain.DutyUnitHead}, Minimums: []Minimum{{WindowQuarter, 1}},
			CountKinds: slices.Clone(defaultCountKinds), DisqualifyingFlags: slices.Clone(defaultDisqualifyingFlags),
		},
		{
			Code: CodeUnitMembersMonthly4, NameZH: "班子成员和普通党员干部每月进村4次", Source: source002Members,
			DesignChoice: "按进村天数计：同一天走访多户只计1次",
			Subject:      SubjectCadre, Duties: []string{domain.DutyLeadershipMember, domain.DutyOrdinaryMember},
			Minimums:   []Minimum{{WindowMonth, 4}},
			CountKinds: slices.Clone(defaultCountKinds), DisqualifyingFlags: slices.Clone(defaultDisqualifyingFlags),
		},
	}
}

func defaultCoverage() CoverageRules {
	leaderKinds := []string{domain.KindAssist, domain.KindFollowup, domain.KindInspection}
	return CoverageRules{
		TownHead: VisitCoverage{
			Enabled: true, NameZH: "镇街主要领导遍访贫困户", Source: source002TownHead,
			DesignChoice: "按自然年判断；领导本人的督查核查走访也算遍访；慰问不算",
			Statuses:     slices.Clone(registeredStatuses), CountKinds: leaderKinds, DisqualifyingFlags: slices.Clone(defaultDisqualifyingFlags),
		},
		CountyLeader: VisitCoverage{
			Enabled: true, NameZH: "县级主要领导遍访贫困村", Source: source002County,
			DesignChoice: "按自然年判断；到该村任一农户家的走访即算到过该村",
			CountKinds:   slices.Clone(leaderKinds), DisqualifyingFlags: slices.Clone(defaultDisqualifyingFlags),
		},
		PairingQuota: PairingQuota{
			Enabled: true, NameZH: "“321”结对帮扶", Source: source002Quota,
			Quota: map[string]int{
				domain.RankCountyLevel:  domain.RankPairingQuota[domain.RankCountyLevel],
				domain.RankSectionLevel: domain.RankPairingQuota[domain.RankSectionLevel],
				domain.RankStaff:        domain.RankPairingQuota[domain.RankStaff],
			},
		},
		EveryPaired: EveryPaired{
			Enabled: true, NameZH: "不脱贫不脱钩", Source: source002NoUnhook + "；" + source003Exited + "；" + source002NewPoor + "；" + source002EdgePoint,
			DesignChoice: "脱贫户同样要求有帮扶责任人（包保不撤）；边缘户按“点对点”帮扶同样要求有帮扶责任人",
			Statuses:     []string{domain.StatusRegistered, domain.StatusRelapsed, domain.StatusExited, domain.StatusEdge},
		},
		ResidentTerm: ResidentTerm{Enabled: true, NameZH: "驻村人员派驻不少于2年", Source: source002Resident, MinMonths: 24},
	}
}

// DefaultProfile is 002's main reading: six visits a year and one a quarter.
func DefaultProfile() Profile {
	rules := []Rule{
		householdRule(CodeYearly6, "在册贫困户每年不少于6次、每季不少于1次", source002Yearly,
			"返贫户按在册户对待；"+condolenceChoice,
			registeredStatuses, Minimum{WindowYear, 6}, Minimum{WindowQuarter, 1}),
		exitedFollowupRule(),
		edgeRule(),
	}
	return Profile{Code: "default", NameZH: "默认方案（每年6次、每季1次）", Version: 1, Rules: append(rules, dutyRules()...), Coverage: defaultCoverage()}
}

// MonthlyProfile is 002's alternative: every month for registered households
// and those exited since 2016.
func MonthlyProfile() Profile {
	monthly := householdRule(CodeMonthly, "在册户和2016年以来脱贫户每月走访", source002Monthly,
		"脱贫年份不详的脱贫户也按本规则管理，以免漏管；"+condolenceChoice,
		append(append([]string{}, registeredStatuses...), domain.StatusExited), Minimum{WindowMonth, 1}, Minimum{WindowYear, 12})
	monthly.ExitedSinceYear = 2016
	rules := []Rule{monthly, edgeRule()}
	return Profile{Code: "monthly", NameZH: "每月走访方案", Version: 1, Rules: append(rules, dutyRules()...), Coverage: defaultCoverage()}
}

// MonthlyPairedProfile is 003: each cadre visits each paired household monthly.
func MonthlyPairedProfile() Profile {
	paired := householdRule(CodeMonthlyPaired, "帮扶干部每月到结对户家中", source003Monthly,
		"只计该干部本人在结对期内的走访；"+condolenceChoice,
		registeredStatuses, Minimum{WindowMonth, 1})
	paired.Subject = SubjectPairing
	rules := []Rule{paired, exitedFollowupRule(), edgeRule()}
	return Profile{Code: "monthly-paired", NameZH: "结对干部每月到户方案", Version: 1, Rules: append(rules, dutyRules()...), Coverage: defaultCoverage()}
}

// Profiles lists the ready profiles.
func Profiles() []Profile {
	return []Profile{DefaultProfile(), MonthlyProfile(), MonthlyPairedProfile()}
}
