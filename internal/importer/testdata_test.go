package importer_test

// The sample files in ../../testdata are generated from the tables below:
//
//	go test ./importer/ -run TestTestdataUpToDate -update
//
// TestTestdataUpToDate fails when the committed files and the tables differ.

import (
	"bytes"
	"encoding/csv"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/fieldvisit/fieldvisit/domain"
)

var update = flag.Bool("update", false, "rewrite the sample files in ../../testdata")

const testdataDir = "../../testdata"

// idNum makes a valid 身份证号 for someone born on birth (YYYYMMDD) in 示范县;
// seq's last digit is odd for men and even for women.
func idNum(birth, seq string) string {
	first := "410122" + birth + seq
	return first + string(domain.IDNumberCheckChar(first))
}

// badCheck returns id with a wrong check character.
func badCheck(id string) string {
	c := byte('0')
	if id[17] == '0' {
		c = '1'
	}
	return id[:17] + string(c)
}

var sampleHeader = []string{"序号", "县/区", "乡镇", "所属村", "村民小组", "户编号", "户主姓名", "与户主关系", "姓名", "性别", "身份证号",
	"家庭人口", "贫困户属性", "户类型", "脱贫年度", "致贫原因", "联系电话", "住址", "健康状况", "残疾等级", "文化程度", "务工状况",
	"帮扶责任人", "帮扶责任人电话", "帮扶单位", "职级", "结对开始日期"}

// Column positions in sampleHeader, for tests that edit rows.
const (
	cNo, cCounty, cTown, cVillage, cGroup, cNumber, cHead, cRelation, cName, cGender, cID = 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
	cSize, cType, cStatus, cExit, cCauses, cPhone, cAddress, cHealth, cDisab, cEdu, cWork = 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21
	cCadre, cCadrePhone, cUnit, cRank, cStart                                             = 22, 23, 24, 25, 26
)

// sampleRows is ten households, thirty members, in the shapes offices use:
// household cells repeated on every row (王建国), only on the head's row
// (张桂英), rows continuing the household above with empty household cells
// (杨秀英, as merged cells export), the head's row not first (罗军),
// households with and without 户编号, and a village given by its code (黄大山).
func sampleRows() [][]string {
	rows := [][]string{
		// 1: cells repeated on every row
		{"", "示范县", "城关镇", "东风村", "第一组", "4101221002010001", "王建国", "户主", "王建国", "男", idNum("19650312", "011"), "4", "一般贫困户", "已脱贫", "2019", "因病、缺技术", "13800000001", "东风村一组12号", "健康", "无", "小学", "务农", "李明", "", "", "", "2016-03-01"},
		{"", "示范县", "城关镇", "东风村", "第一组", "4101221002010001", "王建国", "配偶", "李秀兰", "女", idNum("19670820", "022"), "4", "一般贫困户", "已脱贫", "2019", "因病、缺技术", "", "东风村一组12号", "长期慢性病", "无", "小学", "务农", "李明", "", "", "", "2016-03-01"},
		{"", "示范县", "城关镇", "东风村", "第一组", "4101221002010001", "王建国", "之子", "王小明", "男", idNum("19920501", "031"), "4", "一般贫困户", "已脱贫", "2019", "因病、缺技术", "", "东风村一组12号", "健康", "无", "高中", "外出务工", "李明", "", "", "", "2016-03-01"},
		{"", "示范县", "城关镇", "东风村", "第一组", "4101221002010001", "王建国", "之女", "王小红", "女", idNum("19951111", "042"), "4", "一般贫困户", "已脱贫", "2019", "因病、缺技术", "", "东风村一组12号", "健康", "无", "大专", "本地务工", "李明", "", "", "", "2016-03-01"},
		// 2: household cells only on the head's row; a new cadre with a new unit
		{"", "示范县", "城关镇", "东风村", "", "4101221002010002", "张桂英", "户主", "张桂英", "女", idNum("19500105", "052"), "3", "低保贫困户", "在册未脱贫", "", "因残", "13800000002", "东风村18号", "残疾", "二级", "文盲或半文盲", "无劳动力", "王芳", "13900000002", "县农业农村局", "科级", "2020-01-15"},
		{"", "示范县", "城关镇", "东风村", "", "4101221002010002", "张桂英", "之子", "张强", "男", idNum("19780630", "061"), "", "", "", "", "", "", "", "健康", "无", "初中", "务农", "", "", "", "", ""},
		{"", "示范县", "城关镇", "东风村", "", "4101221002010002", "张桂英", "孙子女", "张小宝", "男", idNum("20100202", "071"), "", "", "", "", "", "", "", "健康", "无", "小学", "在校生", "", "", "", "", ""},
		// 3: a wubao household of one
		{"", "示范县", "城关镇", "东风村", "", "4101221002010003", "刘德华", "户主", "刘德华", "男", idNum("19400202", "081"), "1", "五保", "已脱贫", "2020", "缺劳力", "0371-5550003", "东风村3号", "长期慢性病", "无", "文盲或半文盲", "无劳动力", "王芳", "13900000002", "县农业农村局", "科级", "2020-01-15"},
		// 4: another new cadre, no start date (the import date)
		{"", "示范县", "城关镇", "红旗村", "", "4101221002020001", "陈志强", "户主", "陈志强", "男", idNum("19700707", "091"), "4", "一般贫困户", "在册未脱贫", "", "因学,缺资金", "13800000004", "红旗村5号", "健康", "无", "初中", "外出务工", "赵强", "13700000003", "县教育局", "一般干部", ""},
		{"", "示范县", "城关镇", "红旗村", "", "4101221002020001", "陈志强", "配偶", "周丽", "女", idNum("19720909", "102"), "", "", "", "", "", "", "", "健康", "无", "初中", "务农", "", "", "", "", ""},
		{"", "示范县", "城关镇", "红旗村", "", "4101221002020001", "陈志强", "之女", "陈晨", "女", idNum("20050404", "112"), "", "", "", "", "", "", "", "健康", "无", "初中", "在校生", "", "", "", "", ""},
		{"", "示范县", "城关镇", "红旗村", "", "4101221002020001", "陈志强", "父亲", "陈老汉", "男", idNum("19451212", "121"), "", "", "", "", "", "", "", "患有大病", "无", "小学", "无劳动力", "", "", "", "", ""},
		// 5: member rows continue the household above (merged cells)
		{"", "示范县", "城关镇", "红旗村", "", "4101221002020002", "杨秀英", "户主", "杨秀英", "女", idNum("19601010", "132"), "4", "低保", "脱贫户", "2018", "因病", "13800000005", "红旗村9号", "长期慢性病", "无", "小学", "务农", "李明", "", "", "", "2017-05-20"},
		{"", "", "", "", "", "", "", "之子", "杨光", "男", idNum("19850101", "141"), "", "", "", "", "", "", "", "健康", "无", "高中", "外出务工", "", "", "", "", ""},
		{"", "", "", "", "", "", "", "儿媳", "孙梅", "女", idNum("19870202", "152"), "", "", "", "", "", "", "", "健康", "无", "初中", "外出务工", "", "", "", "", ""},
		{"", "", "", "", "", "", "", "之孙子", "杨乐乐", "男", idNum("20120303", "161"), "", "", "", "", "", "", "", "健康", "无", "小学", "在校生", "", "", "", "", ""},
		// 6: an edge household, village by its code
		{"", "示范县", "城关镇", "410122100202", "", "4101221002020003", "黄大山", "户主", "黄大山", "男", idNum("19750505", "171"), "2", "", "边缘户", "", "因灾", "13800000006", "红旗村21号", "健康", "无", "初中", "务农", "赵强", "13700000003", "县教育局", "一般干部", "2021-06-01"},
		{"", "示范县", "城关镇", "410122100202", "", "4101221002020003", "黄大山", "配偶", "吴芳", "女", idNum("19760606", "182"), "", "", "边缘户", "", "", "", "", "健康", "无", "初中", "务农", "", "", "", "", ""},
		// 7: a general household, no cadre
		{"", "示范县", "城关镇", "东风村", "", "4101221002010004", "郑和平", "户主", "郑和平", "男", idNum("19800808", "191"), "4", "", "一般农户", "", "", "13800000007", "东风村30号", "健康", "无", "高中", "本地务工", "", "", "", "", ""},
		{"", "示范县", "城关镇", "东风村", "", "4101221002010004", "郑和平", "配偶", "马兰", "女", idNum("19820212", "202"), "", "", "", "", "", "", "", "健康", "无", "初中", "务农", "", "", "", "", ""},
		{"", "示范县", "城关镇", "东风村", "", "4101221002010004", "郑和平", "之子", "郑一", "男", idNum("20101001", "211"), "", "", "", "", "", "", "", "健康", "无", "小学", "在校生", "", "", "", "", ""},
		{"", "示范县", "城关镇", "东风村", "", "4101221002010004", "郑和平", "之女", "郑二", "女", idNum("20130101", "222"), "", "", "", "", "", "", "", "健康", "无", "学龄前", "在校生", "", "", "", "", ""},
		// 8: no 户编号: grouped by village, head name and the head's ID number
		{"", "示范县", "城关镇", "东风村", "", "", "何永福", "户主", "何永福", "男", idNum("19580303", "231"), "2", "一般贫困户", "已脱贫", "2019", "缺技术", "13800000008", "东风村41号", "健康", "无", "小学", "务农", "李明", "", "", "", "2016-03-01"},
		{"", "示范县", "城关镇", "东风村", "", "", "何永福", "妻", "林月", "女", idNum("19600404", "242"), "", "", "", "", "", "", "", "健康", "无", "小学", "务农", "", "", "", "", ""},
		// 9: no 户编号, the head's row not first; a member with their own phone
		{"", "示范县", "城关镇", "红旗村", "", "", "罗军", "母亲", "罗奶奶", "女", idNum("19381201", "252"), "", "", "", "", "", "", "", "患有大病", "无", "文盲或半文盲", "无劳动力", "", "", "", "", ""},
		{"", "示范县", "城关镇", "红旗村", "", "", "罗军", "户主", "罗军", "男", idNum("19680120", "261"), "3", "低保贫困户", "在册未脱贫", "", "因病；缺劳力", "13800000009", "红旗村33号", "健康", "无", "初中", "务农", "王芳", "13900000002", "县农业农村局", "科级", "2020-01-15"},
		{"", "示范县", "城关镇", "红旗村", "", "", "罗军", "之子", "罗小军", "男", idNum("19950707", "271"), "", "", "", "", "", "13600000010", "", "健康", "无", "中专/职高", "外出务工", "", "", "", "", ""},
		// 10: no 户编号
		{"", "示范县", "城关镇", "红旗村", "", "", "郭靖", "户主", "郭靖", "男", idNum("19830909", "281"), "3", "一般贫困户", "在册未脱贫", "", "缺资金 缺技术", "13800000011", "红旗村40号", "健康", "一级", "初中", "务农", "李明", "", "", "", "2018-09-01"},
		{"", "示范县", "城关镇", "红旗村", "", "", "郭靖", "配偶", "黄蓉", "女", idNum("19850505", "292"), "", "", "", "", "", "", "", "健康", "无", "高中", "本地务工", "", "", "", "", ""},
		{"", "示范县", "城关镇", "红旗村", "", "", "郭靖", "之女", "郭芙", "女", idNum("20080808", "302"), "", "", "", "", "", "", "", "健康", "无", "初中", "在校生", "", "", "", "", ""},
	}
	n := 0
	for _, r := range rows {
		if r[cRelation] == "户主" {
			n++
			r[cNo] = strconv.Itoa(n)
		}
	}
	return rows
}

// Deliberate errors, one kind per household, and two valid households (赵六, 钱七).
var errorsID = struct{ dup string }{dup: idNum("19700101", "551")}

func errorRows() [][]string {
	blank := func() []string { return make([]string, len(sampleHeader)) }
	row := func(set map[int]string) []string {
		r := blank()
		for k, v := range set {
			r[k] = v
		}
		return r
	}
	base := func(village, number, head, rel, name, id, size string) []string {
		return row(map[int]string{cCounty: "示范县", cTown: "城关镇", cVillage: village, cNumber: number, cHead: head, cRelation: rel,
			cName: name, cID: id, cSize: size, cType: "一般贫困户", cStatus: "在册未脱贫", cCauses: "因病", cCadre: "李明"})
	}
	rows := [][]string{
		// row 2-3: valid household
		base("东风村", "E001", "赵六", "户主", "赵六", idNum("19660101", "501"), "2"),
		base("东风村", "E001", "赵六", "配偶", "孙七", idNum("19680202", "512"), "2"),
		// row 4: bad check digit
		base("东风村", "E002", "周八", "户主", "周八", badCheck(idNum("19690303", "521")), "1"),
		// row 5: unknown village
		base("不存在村", "E003", "吴九", "户主", "吴九", idNum("19700404", "531"), "1"),
		// row 6: missing 户主姓名
		base("红旗村", "E004", "", "户主", "郑十", idNum("19710505", "541"), "1"),
		// row 7: unknown 贫困户属性
		base("红旗村", "E005", "冯一", "户主", "冯一", errorsID.dup, "1"),
		// row 8-9: 家庭人口 says 3, two rows
		base("红旗村", "E006", "陈二", "户主", "陈二", idNum("19720606", "561"), "3"),
		base("红旗村", "E006", "陈二", "之子", "陈三", idNum("19950707", "571"), "3"),
		// row 10: a NUL byte in the name
		base("东风村", "E007", "褚四", "户主", "褚\x00四", idNum("19730707", "581"), "1"),
		// row 11: the ID number of row 7 again
		base("东风村", "E008", "卫五", "户主", "卫五", errorsID.dup, "1"),
		// row 12: valid household
		base("红旗村", "E009", "钱七", "户主", "钱七", idNum("19740808", "591"), "1"),
	}
	rows[5][cType] = "特别贫困户"
	return rows
}

func writeCSV(t testing.TB, header []string, rows [][]string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.UseCRLF = true // as Excel writes it
	if err := w.Write(header); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// writeXLSX lays rows out on a sheet named 户信息 below a title row, as
// offices do, with numbers and dates stored as Excel numbers and dates.
func writeXLSX(t testing.TB, header []string, rows [][]string) []byte {
	t.Helper()
	return writeSheet(t, "户信息", "示范县建档立卡贫困户信息台账", header, rows)
}

// numberHeadings and dateHeadings are typed as Excel numbers and dates.
var (
	numberHeadings = map[string]bool{"序号": true, "家庭人口": true, "脱贫年度": true, "经度": true, "纬度": true}
	dateHeadings   = map[string]bool{"结对开始日期": true}
)

// writeSheet writes rows on sheet below a title row, after a notes sheet.
func writeSheet(t testing.TB, sheet, title string, header []string, rows [][]string) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	// A notes sheet first, the register second: the importer picks the
	// sheet by its name.
	if err := f.SetSheetName("Sheet1", "说明"); err != nil {
		t.Fatal(err)
	}
	if err := f.SetCellStr("说明", "A1", "本表由示范县扶贫办维护"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.NewSheet(sheet); err != nil {
		t.Fatal(err)
	}
	if err := f.SetCellStr(sheet, "A1", title); err != nil {
		t.Fatal(err)
	}
	if err := f.MergeCell(sheet, "A1", "H1"); err != nil {
		t.Fatal(err)
	}
	put := func(r int, cells []any) {
		cell, _ := excelize.CoordinatesToCellName(1, r)
		if err := f.SetSheetRow(sheet, cell, &cells); err != nil {
			t.Fatal(err)
		}
	}
	hdr := make([]any, len(header))
	for i, h := range header {
		hdr[i] = h
	}
	put(2, hdr)
	dateStyle, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		cells := make([]any, len(r))
		for j, v := range r {
			cells[j] = v
			switch {
			case v == "":
				cells[j] = nil
			case numberHeadings[header[j]]:
				n, err := strconv.ParseFloat(v, 64)
				if err != nil {
					t.Fatal(err)
				}
				cells[j] = n
			case dateHeadings[header[j]]:
				d, err := time.Parse("2006-01-02", v)
				if err != nil {
					t.Fatal(err)
				}
				cells[j] = d
				cell, _ := excelize.CoordinatesToCellName(j+1, i+3)
				if err := f.SetCellStyle(sheet, cell, cell, dateStyle); err != nil {
					t.Fatal(err)
				}
			}
		}
		put(i+3, cells)
	}
	b, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// demoHouseholdRows are two households for the demo county of serve --demo
// (its first town 龙潭镇 and that town's first two villages, the same at
// every --demo-households), paired with cadre01: the README's import
// example. Their ID numbers are from a neighbouring county (411528), so they
// never meet the demo's own.
func demoHouseholdRows() [][]string {
	id := func(birth, seq string) string {
		first := "411528" + birth + seq
		return first + string(domain.IDNumberCheckChar(first))
	}
	return [][]string{
		{"1", "示范县", "龙潭镇", "北岗村", "一组", "4115301012019001", "孙志刚", "户主", "孙志刚", "男", id("19680415", "013"), "3", "一般贫困户", "已脱贫户", "2019", "因病", "13800001001", "北岗村一组7号", "健康", "无", "初中", "务农", "cadre01", "", "", "", "2019-03-01"},
		{"", "示范县", "龙潭镇", "北岗村", "一组", "4115301012019001", "孙志刚", "配偶", "吴红梅", "女", id("19700921", "024"), "3", "一般贫困户", "已脱贫户", "2019", "因病", "", "北岗村一组7号", "长期慢性病", "无", "小学", "务农", "cadre01", "", "", "", "2019-03-01"},
		{"", "示范县", "龙潭镇", "北岗村", "一组", "4115301012019001", "孙志刚", "之子", "孙浩", "男", id("20050308", "035"), "3", "一般贫困户", "已脱贫户", "2019", "因病", "", "北岗村一组7号", "健康", "无", "高中", "在校生", "cadre01", "", "", "", "2019-03-01"},
		{"2", "示范县", "龙潭镇", "凤凰村", "", "4115301012029001", "刘桂兰", "户主", "刘桂兰", "女", id("19440612", "046"), "1", "特困供养贫困户", "在册未脱贫户", "", "缺劳力", "13800001002", "凤凰村2号", "患有大病", "二级", "文盲或半文盲", "无劳动力", "cadre01", "", "", "", "2020-01-10"},
	}
}

// countyRegionHeader and countyRegionRows are the region sheet of the
// README's new county: 示范县 (410122) of 郑州市 with three towns, the
// villages of households_sample (城关镇 东风村, 红旗村) among them.
var countyRegionHeader = []string{"市", "县/区", "乡镇", "乡镇代码", "村", "村代码", "是否贫困村", "经度", "纬度"}

func countyRegionRows() [][]string {
	return [][]string{
		{"郑州市", "示范县", "城关镇", "410122100000", "东风村", "410122100201", "是", "114.021", "34.718"},
		{"郑州市", "示范县", "城关镇", "410122100000", "红旗村", "410122100202", "否", "114.046", "34.702"},
		{"郑州市", "示范县", "李庄乡", "410122200000", "东风村", "410122200201", "否", "114.103", "34.655"},
		{"郑州市", "示范县", "李庄乡", "410122200000", "张湾村", "410122200202", "是", "114.121", "34.640"},
		{"郑州市", "示范县", "张集镇", "410122300000", "张集村", "410122300201", "是", "113.962", "34.610"},
		{"郑州市", "示范县", "张集镇", "410122300000", "王庄村", "410122300202", "否", "113.948", "34.597"},
	}
}

// countyHouseholdHeader and countyHouseholdRows are the README's new
// county's register kept one row per household.
var countyHouseholdHeader = []string{"序号", "乡镇", "所在村", "户编号", "户主姓名", "身份证号", "家庭人口", "贫困户属性", "脱贫状态", "脱贫年度",
	"致贫原因", "联系电话", "帮扶责任人", "帮扶责任人电话", "帮扶单位", "职级"}

func countyHouseholdRows() [][]string {
	return [][]string{
		{"1", "李庄乡", "东风村", "4101222002010001", "李大海", idNum("19610210", "311"), "4", "一般贫困户", "已脱贫户", "2018", "因病", "13800002001", "韩梅", "13900002001", "县农业农村局", "科级干部"},
		{"2", "李庄乡", "东风村", "4101222002010002", "王秀珍", idNum("19520717", "322"), "2", "低保贫困户", "在册未脱贫户", "", "因残、缺劳力", "13800002002", "韩梅", "13900002001", "县农业农村局", "科级干部"},
		{"3", "李庄乡", "张湾村", "4101222002020001", "张建军", idNum("19750330", "331"), "5", "一般贫困户", "已脱贫户", "2020", "因学", "13800002003", "周涛", "13900002002", "县教育局", "一般干部（职工）"},
		{"4", "李庄乡", "张湾村", "4101222002020002", "赵春花", idNum("19480105", "342"), "1", "特困供养贫困户", "在册未脱贫户", "", "缺劳力", "", "周涛", "13900002002", "县教育局", "一般干部（职工）"},
		{"5", "张集镇", "张集村", "4101223002010001", "马国强", idNum("19800914", "351"), "3", "", "边缘易致贫户", "", "因灾", "13800002005", "周涛", "13900002002", "县教育局", "一般干部（职工）"},
		{"6", "张集镇", "王庄村", "4101223002020001", "陈玉兰", idNum("19660522", "362"), "3", "低保贫困户", "脱贫户", "2019", "因病", "13800002006", "孙丽", "13900002003", "县卫生健康委", "县处级领导干部"},
	}
}

// xlsxSamples are the workbooks generated next to their CSV twins.
var xlsxSamples = []struct {
	name, sheet, title string
	header             []string
	rows               func() [][]string
}{
	{"households_sample.xlsx", "户信息", "示范县建档立卡贫困户信息台账", sampleHeader, sampleRows},
	{"demo_households.xlsx", "户信息", "示范县建档立卡贫困户信息台账（新增）", sampleHeader, demoHouseholdRows},
	{"county_regions.xlsx", "行政区划", "示范县行政区划（乡镇、行政村）", countyRegionHeader, countyRegionRows},
	{"county_households.xlsx", "户信息", "示范县建档立卡户台账（一户一行）", countyHouseholdHeader, countyHouseholdRows},
}

// TestTestdataUpToDate keeps ../../testdata in step with the tables above.
func TestTestdataUpToDate(t *testing.T) {
	want := map[string][]byte{
		"households_sample.csv": append([]byte("\ufeff"), writeCSV(t, sampleHeader, sampleRows())...),
		"households_errors.csv": writeCSV(t, sampleHeader, errorRows()),
		"demo_households.csv":   writeCSV(t, sampleHeader, demoHouseholdRows()),
		"county_regions.csv":    writeCSV(t, countyRegionHeader, countyRegionRows()),
		"county_households.csv": writeCSV(t, countyHouseholdHeader, countyHouseholdRows()),
	}
	if *update {
		for name, b := range want {
			if err := os.WriteFile(filepath.Join(testdataDir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for _, x := range xlsxSamples {
			b := writeSheet(t, x.sheet, x.title, x.header, x.rows())
			if err := os.WriteFile(filepath.Join(testdataDir, x.name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, b := range want {
		got, err := os.ReadFile(filepath.Join(testdataDir, name))
		if err != nil {
			t.Fatalf("%v (run with -update to generate)", err)
		}
		if !bytes.Equal(got, b) {
			t.Errorf("%s is out of date; run go test ./importer/ -run TestTestdataUpToDate -update", name)
		}
	}
	for _, x := range xlsxSamples {
		if _, err := os.Stat(filepath.Join(testdataDir, x.name)); err != nil {
			t.Errorf("%v (run with -update to generate)", err)
		}
	}
}
