package printforms

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	"github.com/fieldvisit/fieldvisit/internal/testkit/pdftest"
)

// The forms are read back with poppler (pdftest): the Chinese must come
// out as text, not only look right. FIELDVISIT_FORMS_SHOTS=dir also
// draws each form's first pages as PNG there, to be looked at.

var printedAt = time.Date(2026, 12, 6, 10, 0, 0, 0, domain.Shanghai)

// village is a village of two households paired with one cadre: 李桂英's
// file has members, a cadre before the current one, status and type
// changes and visits over two years; 赵大山 was not visited.
type village struct {
	register           *fakeRegister
	visits             *fakeVisits
	town, village      domain.Region
	cadre, formerCadre domain.User
	li, zhao           uuid.UUID
	longNotesVisit     uuid.UUID
}

func newVillage() *village {
	v := &village{li: uuid.New(), zhao: uuid.New(), longNotesVisit: uuid.New()}
	countyID := uuid.New()
	v.town = domain.Region{ID: uuid.New(), Level: domain.LevelTown, Name: "石门镇", CountyID: &countyID}
	v.village = domain.Region{ID: uuid.New(), ParentID: &v.town.ID, Level: domain.LevelVillage, Name: "桃花村", CountyID: &countyID}
	v.cadre = domain.User{ID: uuid.New(), Username: "cadre01", DisplayName: "张卫东", Role: domain.RoleCadre, Phone: "13800001111", Rank: domain.RankStaff}
	v.formerCadre = domain.User{ID: uuid.New(), Username: "cadre02", DisplayName: "王建国", Role: domain.RoleCadre, Phone: "13900002222"}
	day := func(y int, m time.Month, d int) domain.Date { return domain.Date{Year: y, Month: m, Day: d} }
	ended := day(2023, 3, 1)
	exit, registered, area, income := 2020, 2016, 96.5, 15800.0
	li := registry.HouseholdFile{
		Household: domain.Household{ID: v.li, CountyID: countyID, RegionID: v.village.ID, VillageID: v.village.ID, Status: domain.StatusExited,
			PovertyType: "dibao", ExitYear: &exit, RegisteredYear: &registered,
			HouseholdDetails: domain.HouseholdDetails{Number: "5201230010010001", HeadName: "李桂英", Address: "桃花村二组17号", Phone: "0851-3322110",
				HousingStructure: "brick_concrete", HousingArea: &area, AnnualIncome: &income, IncomeNotes: "种植茶叶三亩，儿子在浙江务工。",
				Causes: []string{"illness", "lack_labor"}}},
		Members: []domain.Member{
			{MemberDetails: domain.MemberDetails{Name: "李桂英", Relation: "head", IDNumber: "52012319650312002X", Health: "chronic", Education: "primary", Work: "farming"},
				Gender: "female", BirthDate: &domain.Date{Year: 1965, Month: 3, Day: 12}},
			{MemberDetails: domain.MemberDetails{Name: "陈小龙", Relation: "child", IDNumber: "520123199001010019", Health: "healthy", Education: "junior", Work: "migrant"},
				Gender: "male", BirthDate: &domain.Date{Year: 1990, Month: 1, Day: 1}},
		},
		StatusHistory: []domain.StatusChange{
			{To: domain.StatusRegistered, EffectiveOn: day(2016, 4, 1), Reason: "建档"},
			{From: domain.StatusRegistered, To: domain.StatusExited, ExitYear: &exit, EffectiveOn: day(2020, 11, 20), Reason: "两公示一公告后退出"},
		},
		PovertyHistory: []domain.PovertyTypeChange{
			{To: "ordinary", EffectiveOn: day(2016, 4, 1), Reason: "建档"},
			{From: "ordinary", To: "dibao", EffectiveOn: day(2019, 7, 1), Reason: "纳入低保"},
		},
		PairingHistory: []domain.PairingRecord{
			{Pairing: domain.Pairing{CadreID: v.formerCadre.ID, StartOn: day(2016, 5, 1), EndOn: &ended, EndReason: "干部调岗"}, CadreName: "王建国", CadrePhone: "13900002222"},
			{Pairing: domain.Pairing{CadreID: v.cadre.ID, StartOn: ended}, CadreName: "张卫东", CadrePhone: "13800001111"},
		},
	}
	li.OpenPairings = []domain.PairingRecord{li.PairingHistory[1]}
	zhao := registry.HouseholdFile{
		Household: domain.Household{ID: v.zhao, CountyID: countyID, RegionID: v.village.ID, VillageID: v.village.ID, Status: domain.StatusRegistered,
			PovertyType: "ordinary", HouseholdDetails: domain.HouseholdDetails{Number: "5201230010010002", HeadName: "赵大山"}},
		PairingHistory: []domain.PairingRecord{{Pairing: domain.Pairing{CadreID: v.cadre.ID, StartOn: ended}, CadreName: "张卫东", CadrePhone: "13800001111"}},
	}
	zhao.OpenPairings = []domain.PairingRecord{zhao.PairingHistory[0]}
	v.register = &fakeRegister{
		files:   map[uuid.UUID]registry.HouseholdFile{v.li: li, v.zhao: zhao},
		regions: map[uuid.UUID]domain.Region{v.town.ID: v.town, v.village.ID: v.village},
		users:   map[uuid.UUID]domain.User{v.cadre.ID: v.cadre, v.formerCadre.ID: v.formerCadre},
	}
	at := func(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, domain.Shanghai) }
	end := at(2026, 11, 12, 11)
	met := domain.ChecklistEntry{Answer: "met"}
	v.visits = &fakeVisits{counted: map[uuid.UUID]bool{}}
	add := func(id uuid.UUID, cadre uuid.UUID, kind string, start time.Time, counted bool, d domain.VisitDetails, flags ...domain.Flag) {
		d.Kind, d.StartedAt = kind, start
		v.visits.visits = append(v.visits.visits, domain.Visit{ID: id, HouseholdID: v.li, CadreID: cadre, VisitDetails: d, Flags: flags})
		v.visits.counted[id] = counted
	}
	add(uuid.New(), v.formerCadre.ID, "assist", at(2022, 6, 3, 9), true, domain.VisitDetails{Notes: "了解茶园管护情况。", Measures: []string{"industry"}})
	add(uuid.New(), v.cadre.ID, "assist", at(2026, 10, 8, 15), true, domain.VisitDetails{Notes: "十月走访：商量茶叶销路。", Measures: []string{"industry", "policy_briefing"}})
	add(uuid.New(), v.cadre.ID, "assist", at(2026, 11, 12, 10), true, domain.VisitDetails{EndedAt: &end,
		Notes:    "老人高血压复查，已协调村医每月上门随访；儿子春节后仍去浙江务工。",
		Measures: []string{"medical", "employment"},
		Checklist: map[string]domain.ChecklistEntry{"food": met, "clothing": met, "education": {Answer: "not_applicable"},
			"medical": {Answer: "problem", Note: "慢病药费负担重"}, "housing": met, "water": met},
		Photos: []domain.PhotoRef{{PhotoID: uuid.MustParse("0b6f7c1e-2f4a-4d51-9d0e-7a4f1c2b3d4e")}}})
	add(uuid.New(), v.cadre.ID, "condolence", at(2026, 11, 28, 16), false, domain.VisitDetails{Notes: "送去米油。", Measures: []string{"condolence"}},
		domain.Flag{Code: "no_photo"})
	add(v.longNotesVisit, v.cadre.ID, "followup", at(2026, 12, 2, 9), true,
		domain.VisitDetails{Notes: strings.Repeat("民情日记很长的一段记录，", 260) + "【完】"})
	return v
}

// compact drops the white space pdftotext puts where a cell's text wraps.
func compact(text string) string { return strings.Join(strings.Fields(text), "") }

func (v *village) service(cw Casework) *Service {
	return New(v.register, v.visits, cw, func() time.Time { return printedAt })
}

var anyone = domain.Principal{UserID: uuid.New(), Role: domain.RoleSupervisor}

// render writes a download into memory: render(t)(s.HouseholdForm(…)).
func render(t *testing.T) func(Download, error) []byte {
	return func(d Download, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := d.Write(&buf); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
}

// shoot draws pages of a form as PNG where FIELDVISIT_FORMS_SHOTS says.
func shoot(t *testing.T, pdf []byte, name string, pages ...int) {
	dir := os.Getenv("FIELDVISIT_FORMS_SHOTS")
	if dir == "" {
		return
	}
	for _, pg := range pages {
		pdftest.PNG(t, pdf, pg, 110, filepath.Join(dir, name+"-p"+string(rune('0'+pg))+".png"))
	}
}

func TestHouseholdFormsPrintTheRecordInChinese(t *testing.T) {
	v := newVillage()
	plan := []PlanMeasure{{Route: "产业", Measure: "扩种茶叶两亩，合作社保底收购", Cadre: "张卫东", TargetOn: &domain.Date{Year: 2027, Month: 3, Day: 31}, State: "推进中", Progress: "已育苗"},
		{Route: "教育", Measure: "申请生源地助学贷款", Cadre: "张卫东", State: "已完成"}}
	incomes := []IncomeAccount{{Year: 2025, Sources: []IncomeSource{{"工资性收入", 2400000}, {"生产经营性收入", 860050}, {"转移性收入", 123456}},
		CostsFen: 310000, Members: 2, NetPerCapitaFen: 1536753}}
	s := v.service(fakeCasework{plan: plan, incomes: incomes})
	for _, tc := range []struct {
		form string
		want []string
	}{
		{FormRecordCard, []string{"帮扶记录卡", "李桂英", "石门镇桃花村", "张卫东13800001111", "基本医疗有保障：存", "慢病药费负",
			"老人高血压复查", "医疗救助、", "就业扶贫", "2026-11-12", "10:00–11:00", "疑点：无走", "未计入", "帮扶责任人签字", "【完】"}},
		{FormClearCard, []string{"精准扶贫明白卡", "一、家庭基本情况", "**************002X", "陈小龙", "13800001111", "低保贫困户", "已脱贫（2020年）",
			"一般贫困户→低保贫困户", "纳入低保", "产业扶贫", "扩种茶叶两亩", "2027年3月31日", "推进中：已育苗", "申请生源地助学贷款", "已完成", "2025年", "8,600.50元", "15,367.53元"}},
		{FormFile, []string{"一户一档", "桃花村二组17号", "96.5平方米", "种植茶叶三亩", "王建国", "13900002222", "干部调岗", "至今",
			"八、帮扶走访记录", "了解茶园管护情况", "九、上户照片清单", "0b6f7c1e-2f4a-4d51-9d0e-7a4f1c2b3d4e"}},
	} {
		t.Run(tc.form, func(t *testing.T) {
			pdf := render(t)(s.HouseholdForm(context.Background(), anyone, v.li, tc.form))
			text := pdftest.Text(t, pdf)
			for _, w := range tc.want {
				if !strings.Contains(compact(text), w) {
					t.Errorf("%s: %q missing from the text", tc.form, w)
				}
			}
			if strings.Contains(text, "52012319650312002X") {
				t.Errorf("%s prints a full ID number", tc.form)
			}
			fonts := pdftest.Fonts(t, pdf)
			if !strings.Contains(fonts, "CID TrueType") || !strings.Contains(fonts, "Identity-H       yes") {
				t.Errorf("%s: want the embedded CID TrueType font:\n%s", tc.form, fonts)
			}
			// The whole font is 4 MB: only the glyphs used are embedded.
			if len(pdf) > 400<<10 {
				t.Errorf("%s is %d kB: the font is not subset", tc.form, len(pdf)>>10)
			}
			shoot(t, pdf, tc.form, 1, pdftest.Pages(t, pdf))
		})
	}
}

// Without casework records (NoCasework, as wired today) the plan and
// income sections are there and say so.
func TestCaseworkSectionsSayNoRecordWithoutIt(t *testing.T) {
	v := newVillage()
	for _, form := range []string{FormClearCard, FormFile} {
		text := compact(pdftest.Text(t, render(t)(v.service(nil).HouseholdForm(context.Background(), anyone, v.li, form))))
		for _, w := range []string{"帮扶计划（一户一案）暂无记录。", "收入测算"} {
			if !strings.Contains(text, w) {
				t.Errorf("%s: %q missing", form, w)
			}
		}
		if strings.Count(text, "暂无记录。") < 2 {
			t.Errorf("%s: want plan and income to say 暂无记录", form)
		}
	}
}

func TestUnknownFormIsNotFound(t *testing.T) {
	v := newVillage()
	for _, form := range []string{"", "card", "file.pdf", "RECORD-CARD"} {
		if _, err := v.service(nil).HouseholdForm(context.Background(), anyone, v.li, form); !domain.IsCode(err, domain.CodeNotFound) {
			t.Errorf("form %q: err = %v, want not found", form, err)
		}
	}
	if _, err := v.service(nil).HouseholdForm(context.Background(), anyone, uuid.New(), FormFile); !domain.IsCode(err, domain.CodeNotFound) {
		t.Errorf("unknown household: err = %v, want not found", err)
	}
}

// A visit whose notes fill more than a page goes on over the next page,
// with the table's head again, and loses nothing.
func TestLongRowsContinueOnTheNextPage(t *testing.T) {
	v := newVillage()
	pdf := render(t)(v.service(nil).HouseholdForm(context.Background(), anyone, v.li, FormRecordCard))
	if n := pdftest.Pages(t, pdf); n < 3 {
		t.Errorf("record card has %d pages, want the long notes to run over at least 3", n)
	}
	text := compact(pdftest.Text(t, pdf))
	// A cell's lines may come back split by a neighbouring cell's.
	if got := strings.Count(text, "民情日记很长的一段记录"); got < 255 || !strings.Contains(text, "【完】") {
		t.Errorf("the long notes print %d of their 260 sentences", got)
	}
	if strings.Count(text, "两不愁三保障") < 3 {
		t.Error("the table's head is not repeated on the following pages")
	}
}

// wrap keeps every character: fpdf's own SplitText drops the one it
// breaks a Chinese line at.
func TestWrapKeepsEveryCharacter(t *testing.T) {
	sh, err := newSheet("test", printedAt)
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{
		strings.Repeat("两不愁三保障", 30),
		"户编号5201230010010001的户主李桂英，电话13800001111，住址桃花村二组17号。",
		"第一行\n第二行\n\n第四行",
	} {
		for _, width := range []float64{12, 30, 75} {
			lines := sh.wrap(text, width)
			if got := strings.Join(lines, ""); got != strings.ReplaceAll(text, "\n", "") {
				t.Errorf("wrap(%q, %v) lost text: %q", text, width, lines)
			}
			for _, l := range lines {
				if w := sh.pdf.GetStringWidth(l); w > width {
					t.Errorf("line %q is %.1f mm, wider than %v", l, w, width)
				}
			}
		}
	}
}

// A name people typed makes no path in a ZIP or a download's name.
func TestFileNamesMakeNoPath(t *testing.T) {
	for in, want := range map[string]string{"001-李桂英-52.pdf": "001-李桂英-52.pdf", "001-../../etc/passwd.pdf": "001-.._.._etc_passwd.pdf",
		`明白卡-a\b:c*?"<>|.pdf`: "明白卡-a_b_c______.pdf", "x\ny.pdf": "x_y.pdf"} {
		if got := fileName(in); got != want {
			t.Errorf("fileName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHandbookIsTheCadresMonth(t *testing.T) {
	v := newVillage()
	s := v.service(nil)
	pdf := render(t)(s.Handbook(context.Background(), anyone, v.cadre.ID, "2026-11"))
	text := compact(pdftest.Text(t, pdf))
	for _, w := range []string{"帮扶手册", "2026年11月", "张卫东", "13800001111", "李桂英", "老人高血压复查", "送去米油", "走访慰问",
		"本月走访2次，涉及1户，其中1次计入走访要求。", "二、本月未走访的结对户", "赵大山", "帮扶干部签字"} {
		if !strings.Contains(text, w) {
			t.Errorf("%q missing from the handbook", w)
		}
	}
	for _, other := range []string{"十月走访", "了解茶园管护情况", "【完】"} {
		if strings.Contains(text, other) {
			t.Errorf("a visit of another month is printed: %q", other)
		}
	}
	shoot(t, pdf, "handbook", 1)

	for _, month := range []string{"2026-13", "26-11", "2026/11", "2012-12", "2028-01"} {
		_, err := s.Handbook(context.Background(), anyone, v.cadre.ID, month)
		var de *domain.Error
		if !errors.As(err, &de) || len(de.Fields) != 1 || de.Fields[0].Field != "month" {
			t.Errorf("month %q: err = %v, want an error naming month", month, err)
		}
	}
	if _, err := s.Handbook(context.Background(), anyone, uuid.New(), "2026-11"); !domain.IsCode(err, domain.CodeNotFound) {
		t.Errorf("unknown cadre: err = %v, want not found", err)
	}
}

func TestVillageFormsInBulk(t *testing.T) {
	v := newVillage()
	s := v.service(nil)
	ctx := context.Background()

	pdf := render(t)(s.VillageForms(ctx, anyone, v.village.ID, FormClearCard, FormatPDF))
	text := pdftest.Text(t, pdf)
	for _, w := range []string{"李桂英", "赵大山"} {
		if !strings.Contains(text, w) {
			t.Errorf("the village PDF misses %s", w)
		}
	}
	// Each household's card numbers its own pages from 1.
	if n := strings.Count(compact(text), "第1页"); n != 2 {
		t.Errorf("%d first pages, want one per household", n)
	}
	// Every page's footer names the household whose card it is: the last
	// page of 李桂英's card said 赵大山. A card runs from the page its
	// title is on to the next card's.
	card := ""
	for i, pg := range pdftest.PageTexts(t, pdf) {
		pg = compact(pg)
		for _, head := range []string{"李桂英", "赵大山"} {
			if strings.HasPrefix(pg, "精准扶贫明白卡石门镇桃花村户主"+head) {
				card = head
			}
		}
		if !strings.Contains(pg, "·户主"+card+"·") {
			t.Errorf("page %d of %s's card is not footed with the name: %.300s", i+1, card, pg)
		}
	}

	raw := render(t)(s.VillageForms(ctx, anyone, v.village.ID, FormRecordCard, FormatZIP))
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		one, _ := io.ReadAll(rc)
		rc.Close()
		head := strings.Split(f.Name, "-")[1]
		if !strings.Contains(pdftest.Text(t, one), "户主 "+head) {
			t.Errorf("%s is not %s's card", f.Name, head)
		}
	}
	if strings.Join(names, ",") != "001-李桂英-5201230010010001.pdf,002-赵大山-5201230010010002.pdf" {
		t.Errorf("ZIP entries %v", names)
	}

	for _, tc := range []struct {
		region       uuid.UUID
		form, format string
		code         domain.Code
	}{
		{v.town.ID, FormClearCard, FormatPDF, domain.CodeInvalid},
		{uuid.New(), FormClearCard, FormatPDF, domain.CodeNotFound},
		{v.village.ID, "card", FormatPDF, domain.CodeNotFound},
		{v.village.ID, FormClearCard, "rar", domain.CodeNotFound},
	} {
		if _, err := s.VillageForms(ctx, anyone, tc.region, tc.form, tc.format); !domain.IsCode(err, tc.code) {
			t.Errorf("%v %s.%s: err = %v, want %s", tc.region, tc.form, tc.format, err, tc.code)
		}
	}
}

// TestFormsPrintWhatTheFontCannot: a character beyond the font library's
// reach (an emoji a cadre typed on the phone) prints as □, and the form
// prints; it failed every form of the village with a 500.
func TestFormsPrintWhatTheFontCannot(t *testing.T) {
	v := newVillage()
	li := v.register.files[v.li]
	li.Household.IncomeNotes = "养殖土鸡200只🐔，长势好"
	li.Household.HeadName = "李桂英😀"
	v.register.files[v.li] = li
	v.visits.visits[1].Notes = "十月走访：商量茶叶销路👍。\x07"
	s := v.service(nil)
	ctx := context.Background()
	for _, form := range []string{FormRecordCard, FormClearCard, FormFile} {
		text := pdftest.Text(t, render(t)(s.HouseholdForm(ctx, anyone, v.li, form)))
		if !strings.Contains(compact(text), "李桂英□") {
			t.Errorf("%s lacks the head's name with its emoji as □", form)
		}
		if form == FormFile && !strings.Contains(compact(text), "养殖土鸡200只□，长势好") {
			t.Errorf("%s lacks the income notes with their emoji as □", form)
		}
		if form != FormClearCard && !strings.Contains(compact(text), "商量茶叶销路□。") {
			t.Errorf("%s lacks the visit's notes with its emoji as □", form)
		}
	}
	render(t)(s.VillageForms(ctx, anyone, v.village.ID, FormClearCard, FormatPDF))
	render(t)(s.Handbook(ctx, anyone, v.cadre.ID, "2026-10"))
}

// TestTheFileSaysWhichIncomeIsWhich: the file names the register's annual
// income as the console does — the register's, for the whole household,
// not the 收入测算 — and the income table's per-capita column as the
// 收入测算's, with how it is reckoned under it; the 明白卡, which prints
// only the income account, says how it is reckoned. The file printed
// 家庭年收入 15800 above a 人均纯收入 of 10,450.00 with no word on which
// was which. The label breaks between its two parts in its narrow cell.
func TestTheFileSaysWhichIncomeIsWhich(t *testing.T) {
	v := newVillage()
	incomes := []IncomeAccount{{Year: 2025, Sources: []IncomeSource{{"工资性收入", 2400000}}, CostsFen: 310000, Members: 2, NetPerCapitaFen: 1045000}}
	s := v.service(fakeCasework{incomes: incomes})
	reckoned := "收入测算按年度：人均纯收入＝（收入合计－生产经营支出）÷计算人口。"
	for _, tc := range []struct {
		form      string
		want, not []string
	}{
		{FormFile, []string{"家庭年纯收入（档案登记）15800元（全户合计，建档或导入时登记，不是收入测算）", "人均纯收入（测算）",
			reckoned + "基本情况中的“家庭年纯收入（档案登记）”是建档或导入时登记的全户合计，不是测算结果。"}, []string{"家庭年收入"}},
		{FormClearCard, []string{"人均纯收入（测算）", reckoned}, []string{"家庭年收入", "档案登记", "15800"}},
	} {
		pdf := render(t)(s.HouseholdForm(context.Background(), anyone, v.li, tc.form))
		text := compact(pdftest.Text(t, pdf))
		for _, w := range tc.want {
			if !strings.Contains(text, w) {
				t.Errorf("%s: %q missing from the text", tc.form, w)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(text, w) {
				t.Errorf("%s prints %q", tc.form, w)
			}
		}
		shoot(t, pdf, tc.form+"-income", 1, 2)
	}
	sh, err := newSheet("test", printedAt)
	if err != nil {
		t.Fatal(err)
	}
	if lines := sh.wrap(registeredIncomeLabel, factLabelWidth-2*cellPad); !slices.Equal(lines, []string{"家庭年纯收入", "（档案登记）"}) {
		t.Errorf("the label prints as %q", lines)
	}
}

// TestVillagesArePrintedInTurn: while every bulk slot is taken, a village's
// forms wait (PDF and ZIP alike), a client that gives up meanwhile gets its
// context's error and nothing, and the forms are laid out once a slot is
// free. Eight villages printed at once took 40 s each and 435 MB.
func TestVillagesArePrintedInTurn(t *testing.T) {
	v := newVillage()
	for _, format := range []string{FormatPDF, FormatZIP} {
		t.Run(format, func(t *testing.T) {
			s := v.service(nil)
			if err := s.bulk.Acquire(context.Background(), bulkAtOnce); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			d, err := s.VillageForms(ctx, anyone, v.village.ID, FormClearCard, format)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			done := make(chan error, 1)
			go func() { done <- d.Write(&out) }()
			select {
			case err := <-done:
				t.Fatalf("laid out with every slot taken: %v, %d bytes", err, out.Len())
			case <-time.After(100 * time.Millisecond):
			}
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) || out.Len() != 0 {
				t.Fatalf("given up while waiting: %v, %d bytes", err, out.Len())
			}
			s.bulk.Release(bulkAtOnce)
			if raw := render(t)(s.VillageForms(context.Background(), anyone, v.village.ID, FormClearCard, format)); len(raw) == 0 {
				t.Fatal("nothing laid out once a slot was free")
			}
		})
	}
}
