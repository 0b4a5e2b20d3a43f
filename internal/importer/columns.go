package importer

import (
	"strings"

	"github.com/fieldvisit/fieldvisit/domain"
)

// col identifies a column of the 台账 layout.
type col int

const (
	colCounty col = iota
	colTown
	colVillage
	colGroup
	colNumber
	colHeadName
	colRelation
	colName
	colIDNumber
	colSize
	colPovertyType
	colStatus
	colExitYear
	colCauses
	colCausesOther
	colPhone
	colAddress
	colHealth
	colDisability
	colEducation
	colWork
	colCadre
	colCadrePhone
	colUnit
	colRank
	colPairStart
	// The region tree: a region sheet has these (and 县/区, 乡镇, 所属村 as
	// names); a household sheet may carry the codes of its villages, which
	// --create-regions needs to create them.
	colCity
	colCityCode
	colCountyCode
	colTownCode
	colVillageCode
	colPoorVillage
	colLon
	colLat
	// A household sheet's village group by its 15-digit code, which
	// create_regions needs to create the group (an export writes it).
	colGroupCode
	// The 帮扶责任人's account (username), which finds the cadre exactly
	// where a display name may be shared or look like another's username;
	// the export writes it beside the name.
	colCadreAccount
	// The household's own phone, which the export writes apart from the
	// members' 联系电话: without the column, the household's phone is read
	// from the head's row (or the first row with a phone).
	colHouseholdPhone
	// The year the household was registered as poor (registered_year),
	// which the export writes and a new household takes.
	colRegisteredYear
	// Why a relapsed household relapsed and a removed one was removed,
	// which those statuses need (domain.CheckStatusWhy) and the export
	// writes.
	colRelapseCause
	colRemovalReason
	numCols
)

// column describes one heading: the canonical Chinese heading, its English
// name for messages, the variants seen in county spreadsheets, whether the
// file must have it, whether it describes the household (the same on every
// row of a household) rather than the member, and the longest text accepted.
type column struct {
	zh, en    string
	variants  []string
	required  bool
	household bool
	max       int
}

var columns = [numCols]column{
	colCounty:      {zh: "县/区", en: "county", variants: []string{"县区", "县", "区", "县(市、区)", "县(市,区)", "县(区)", "县市区", "所属县", "所属县区", "县(市)"}, household: true, max: 100},
	colTown:        {zh: "乡镇", en: "town", variants: []string{"乡(镇)", "乡镇(街道)", "乡镇/街道", "乡/镇", "镇", "乡", "所属乡镇", "乡镇名称", "乡镇街道", "街道"}, required: true, household: true, max: 100},
	colVillage:     {zh: "所属村", en: "village", variants: []string{"村", "行政村", "村名", "村名称", "所属行政村", "村(社区)", "村/社区", "村委会", "所在村"}, required: true, household: true, max: 100},
	colGroup:       {zh: "村民小组", en: "village group", variants: []string{"组", "小组", "村组", "所属组", "村民组"}, household: true, max: 100},
	colNumber:      {zh: "户编号", en: "household number", variants: []string{"户号", "户码", "家庭编号", "农户编号", "户编码"}, household: true, max: 40},
	colHeadName:    {zh: "户主姓名", en: "head of household", variants: []string{"户主", "户主名称"}, required: true, household: true, max: 50},
	colRelation:    {zh: "与户主关系", en: "relation to head", variants: []string{"与户主的关系", "关系", "家庭关系"}, required: true, max: 20},
	colName:        {zh: "姓名", en: "name", variants: []string{"成员姓名", "家庭成员姓名", "人员姓名", "家庭成员"}, required: true, max: 50},
	colIDNumber:    {zh: "身份证号", en: "ID number", variants: []string{"身份证号码", "证件号码", "公民身份号码", "身份证", "公民身份证号码", "身份证件号码"}, required: true, max: 40},
	colSize:        {zh: "家庭人口", en: "household size", variants: []string{"家庭人口数", "人口数", "户人口数", "家庭人数", "家庭成员数", "人口"}, household: true, max: 10},
	colPovertyType: {zh: "贫困户属性", en: "poverty type", variants: []string{"贫困属性", "户属性", "贫困户类别"}, household: true, max: 20},
	colStatus:      {zh: "户类型", en: "household status", variants: []string{"贫困户状态", "户状态", "脱贫状态", "贫困状态", "户类别"}, household: true, max: 20},
	colExitYear:    {zh: "脱贫年度", en: "exit year", variants: []string{"脱贫年份", "脱贫时间", "脱贫年"}, household: true, max: 20},
	colCauses:      {zh: "致贫原因", en: "causes of poverty", variants: []string{"主要致贫原因"}, household: true, max: 100},
	colCausesOther: {zh: "其他致贫原因", en: "other causes of poverty", variants: []string{"次要致贫原因"}, household: true, max: 100},
	colPhone:       {zh: "联系电话", en: "phone", variants: []string{"电话", "手机号", "手机号码", "联系方式", "电话号码"}, max: 30},
	colAddress:     {zh: "住址", en: "address", variants: []string{"家庭住址", "详细地址", "地址", "住所"}, household: true, max: 200},
	colHealth:      {zh: "健康状况", en: "health", variants: []string{"健康状态"}, max: 20},
	colDisability:  {zh: "残疾等级", en: "disability grade", variants: []string{"残疾级别", "残疾情况"}, max: 20},
	colEducation:   {zh: "文化程度", en: "education", variants: []string{"学历"}, max: 20},
	colWork:        {zh: "务工状况", en: "work", variants: []string{"务工情况", "就业状况", "就业情况"}, max: 20},
	colCadre:       {zh: "帮扶责任人", en: "responsible cadre", variants: []string{"帮扶人", "帮扶干部", "帮扶责任人姓名", "结对帮扶人", "帮扶责任人(用户名)"}, household: true, max: 50},
	colCadrePhone:  {zh: "帮扶责任人电话", en: "cadre's phone", variants: []string{"帮扶责任人联系电话", "帮扶人电话", "帮扶人联系电话", "帮扶干部电话"}, household: true, max: 30},
	colUnit:        {zh: "帮扶单位", en: "assisting unit", variants: []string{"帮扶责任人单位", "帮扶人单位", "帮扶干部单位", "单位"}, household: true, max: 100},
	colRank:        {zh: "职级", en: "cadre's rank", variants: []string{"帮扶责任人职级", "帮扶人职级", "职务级别"}, household: true, max: 20},
	colPairStart:   {zh: "结对开始日期", en: "pairing start date", variants: []string{"结对时间", "结对日期", "帮扶开始日期", "结对开始时间"}, household: true, max: 30},

	colCity:        {zh: "市", en: "city", variants: []string{"市州", "市(州)", "地市", "所属市", "地级市", "市名称"}, household: true, max: 100},
	colCityCode:    {zh: "市代码", en: "city code", variants: []string{"市级代码", "市区划代码", "市编码", "地市代码", "市(州)代码"}, household: true, max: 20},
	colCountyCode:  {zh: "县代码", en: "county code", variants: []string{"县级代码", "县区代码", "县(区)代码", "县(市、区)代码", "县区划代码", "县编码"}, household: true, max: 20},
	colTownCode:    {zh: "乡镇代码", en: "town code", variants: []string{"乡级代码", "乡镇区划代码", "乡镇编码", "乡(镇)代码", "乡镇(街道)代码"}, household: true, max: 20},
	colVillageCode: {zh: "村代码", en: "village code", variants: []string{"村级代码", "行政村代码", "村区划代码", "村编码", "村级区划代码", "行政村区划代码", "村(社区)代码"}, household: true, max: 20},
	colPoorVillage: {zh: "是否贫困村", en: "poor village", variants: []string{"贫困村", "贫困村标识", "是否为贫困村", "贫困村(是/否)"}, household: true, max: 10},
	colLon:         {zh: "经度", en: "longitude", variants: []string{"中心经度", "中心点经度", "村经度"}, household: true, max: 30},
	colLat:         {zh: "纬度", en: "latitude", variants: []string{"中心纬度", "中心点纬度", "村纬度"}, household: true, max: 30},
	colGroupCode:   {zh: "村民小组代码", en: "village group code", variants: []string{"组代码", "小组代码", "村组代码", "村民小组编码", "村民组代码"}, household: true, max: 20},

	colCadreAccount:   {zh: "帮扶责任人账号", en: "cadre's account", variants: []string{"帮扶责任人用户名", "帮扶人账号", "帮扶干部账号", "帮扶干部用户名"}, household: true, max: 40},
	colRegisteredYear: {zh: "建档年份", en: "year registered", variants: []string{"建档年度", "建档立卡年度", "建档立卡年份", "识别年度", "识别年份", "纳入年度"}, household: true, max: 20},
	colRelapseCause:   {zh: "返贫原因", en: "relapse cause", variants: []string{"返贫原因类型", "返贫致贫原因"}, household: true, max: 40},
	colRemovalReason:  {zh: "清退原因", en: "removal reason", variants: []string{"清退理由", "清退说明"}, household: true, max: 500},
	colHouseholdPhone: {zh: "家庭联系电话", en: "household's phone", variants: []string{"户联系电话", "家庭电话", "户电话", "家庭联系方式"}, household: true, max: 30},
}

// Column describes one heading of the 台账 layout, for help texts, upload
// pages and templates.
type Column struct {
	Heading      string   `json:"heading"`  // the standard Chinese heading
	English      string   `json:"english"`  // what it means
	Variants     []string `json:"variants"` // other headings accepted for it
	Required     bool     `json:"required"` // the file must have the column
	PerHousehold bool     `json:"per_household"`
}

// Columns lists the headings Import reads, in the usual 台账 order.
func Columns() []Column {
	out := make([]Column, numCols)
	for c := col(0); c < numCols; c++ {
		d := columns[c]
		out[c] = Column{Heading: d.zh, English: d.en, Variants: append([]string(nil), d.variants...), Required: d.required, PerHousehold: d.household}
	}
	return out
}

// headingIndex maps a normalized heading to its column.
var headingIndex = func() map[string]col {
	m := map[string]col{}
	for c := col(0); c < numCols; c++ {
		m[normalizeHeading(columns[c].zh)] = c
		for _, v := range columns[c].variants {
			m[normalizeHeading(v)] = c
		}
	}
	return m
}()

// ignoredHeadings are columns 台账 files usually have that the import does
// not need (gender, birth date and age follow from the ID number), dropped
// without a warning.
var ignoredHeadings = map[string]bool{"序号": true, "编号": true, "备注": true, "性别": true, "出生日期": true, "出生年月": true, "年龄": true, "民族": true}

// normalizeHeading folds the differences between how offices write one
// heading: whitespace anywhere (including full-width spaces and line breaks
// inside a cell), full-width brackets, a BOM, required-field stars and notes
// like "(必填)".
func normalizeHeading(s string) string {
	s = domain.FoldLabel(strings.Map(func(r rune) rune {
		if r == '\ufeff' || r == '*' || r == '＊' {
			return -1
		}
		return r
	}, s))
	for _, note := range []string{"(必填)", "(选填)", "(可选)", "(必须)"} {
		s = strings.ReplaceAll(s, note, "")
	}
	return s
}

// labels lists a vocabulary's zh labels for messages ("户主、配偶、…").
func labels(v domain.Vocabulary) string {
	out := make([]string, len(v))
	for i, t := range v {
		out[i] = t.Label
	}
	return strings.Join(out, "、")
}
