package printforms

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// HouseholdForm prepares one household's form (FormRecordCard,
// FormClearCard or FormFile) as a PDF. The household must be one the
// caller may read (a supervisor's subtree, a paired cadre's, an
// inspector's task); anything else is not found.
func (s *Service) HouseholdForm(ctx context.Context, p domain.Principal, id uuid.UUID, form string) (Download, error) {
	form, err := formOf(form)
	if err != nil {
		return Download{}, err
	}
	r, err := s.readHousehold(ctx, p, id, form, newNames())
	if err != nil {
		return Download{}, err
	}
	h := r.file.Household
	return Download{
		Filename:    fileName(formTitles[form] + "-" + h.HeadName + "-" + cmp.Or(h.Number, h.ID.String()[:8]) + ".pdf"),
		ContentType: contentTypePDF,
		Write: func(w io.Writer) error {
			sh, err := newSheet(formTitles[form]+" "+h.HeadName, s.now())
			if err != nil {
				return err
			}
			drawHousehold(sh, form, r)
			return sh.write(w)
		},
	}, nil
}

// drawHousehold draws one household's form from its first page on.
func drawHousehold(sh *sheet, form string, r householdRecord) {
	h := r.file.Household
	sh.startForm(formTitles[form] + " · 户主 " + h.HeadName + " · " + cmp.Or(h.Number, "无户编号"))
	switch form {
	case FormRecordCard:
		drawRecordCard(sh, r)
	case FormClearCard:
		drawClearCard(sh, r)
	case FormFile:
		drawFile(sh, r)
	}
}

// drawRecordCard is the 帮扶记录卡: who the household is and every visit
// made to it, oldest first.
func drawRecordCard(sh *sheet, r householdRecord) {
	sh.title("帮扶记录卡", titleLine(r))
	sh.facts(householdFacts(r, false))
	sh.section("帮扶走访记录")
	drawVisits(sh, r)
	sh.note(visitSummary(r))
	sh.signatures("帮扶责任人签字", "户主签字", "日期")
}

// drawClearCard is the 明白卡 a household keeps (004: 明白袋): its
// members, whom to call, what it has received, its plan and income.
func drawClearCard(sh *sheet, r householdRecord) {
	sh.title("精准扶贫明白卡", titleLine(r))
	drawParts(sh, r, []part{
		{"家庭基本情况", func(sh *sheet, r householdRecord) { sh.facts(householdFacts(r, false)) }},
		{"家庭成员", drawMembers},
		{"帮扶责任人及联系方式", func(sh *sheet, r householdRecord) { drawPairings(sh, r, true) }},
		{"户类型与状态变化", drawStatusHistory},
		{"享受政策与帮扶措施（据走访记录）", drawPolicies},
		{"帮扶计划（一户一案）", drawPlan},
		{"收入测算", func(sh *sheet, r householdRecord) { drawIncomes(sh, r, true) }},
	})
	sh.signatures("帮扶责任人签字", "户主签字", "日期")
}

// drawFile is the whole 一户一档: the household file, members, cadres
// over time, plan, income, every visit and the list of photos.
func drawFile(sh *sheet, r householdRecord) {
	sh.title("一户一档", titleLine(r))
	drawParts(sh, r, []part{
		{"基本情况", func(sh *sheet, r householdRecord) { sh.facts(householdFacts(r, true)) }},
		{"家庭成员", drawMembers},
		{"户类型与状态变化", drawStatusHistory},
		{"结对帮扶（历任帮扶责任人）", func(sh *sheet, r householdRecord) { drawPairings(sh, r, false) }},
		{"帮扶计划（一户一案）", drawPlan},
		{"收入测算（历年）", func(sh *sheet, r householdRecord) { drawIncomes(sh, r, false) }},
		{"享受政策与帮扶措施（据走访记录）", drawPolicies},
		{"帮扶走访记录", func(sh *sheet, r householdRecord) { drawVisits(sh, r); sh.note(visitSummary(r)) }},
		{"上户照片清单", drawPhotos},
	})
}

// part is one numbered section of a form.
type part struct {
	heading string
	draw    func(*sheet, householdRecord)
}

// drawParts draws the sections, numbered 一、二、… as paper forms are.
func drawParts(sh *sheet, r householdRecord, parts []part) {
	numerals := []rune("一二三四五六七八九十")
	for i, p := range parts {
		sh.section(string(numerals[i]) + "、" + p.heading)
		p.draw(sh, r)
	}
}

func titleLine(r householdRecord) string {
	h := r.file.Household
	parts := []string{}
	if r.place != "" {
		parts = append(parts, r.place)
	}
	parts = append(parts, "户主 "+h.HeadName)
	if h.Number != "" {
		parts = append(parts, "户编号 "+h.Number)
	}
	return strings.Join(parts, "　")
}

// householdFacts is the head of a form; full adds what only the file
// prints (housing, land, the economic notes, the home point).
func householdFacts(r householdRecord, full bool) []fact {
	h := r.file.Household
	status := lbl(domain.Statuses, h.Status)
	if h.ExitYear != nil {
		status += fmt.Sprintf("（%d年脱贫）", *h.ExitYear)
	}
	size := len(r.file.Members)
	if size == 0 && h.DeclaredSize != nil {
		size = *h.DeclaredSize
	}
	causes := make([]string, len(h.Causes))
	for i, c := range h.Causes {
		causes[i] = lbl(domain.Causes, c)
	}
	var cadres []string
	for _, pr := range r.file.PairingHistory {
		if pr.EndOn == nil {
			cadres = append(cadres, strings.TrimSpace(cmp.Or(pr.CadreName, "—")+" "+pr.CadrePhone))
		}
	}
	fs := []fact{
		{Label: "户主姓名", Value: h.HeadName},
		{Label: "户编号", Value: h.Number},
		{Label: "所在村", Value: r.place},
		{Label: "联系电话", Value: h.Phone},
		{Label: "贫困户属性", Value: lbl(domain.PovertyTypes, h.PovertyType)},
		{Label: "农户状态", Value: status},
		{Label: "家庭人口", Value: strconv.Itoa(size) + " 人"},
		{Label: "建档年份", Value: yearText(h.RegisteredYear)},
		{Label: "致贫原因", Value: strings.Join(causes, "、"), Wide: true},
		{Label: "帮扶责任人", Value: strings.Join(cadres, "；"), Wide: true},
	}
	if full {
		housing := lbl(domain.HousingStructures, h.HousingStructure)
		if h.HousingSafetyGrade != "" {
			housing = strings.Trim(housing+"，"+lbl(domain.HousingSafetyGrades, h.HousingSafetyGrade), "，")
		}
		home := ""
		if h.Home != nil {
			home = fmt.Sprintf("北纬 %.5f°，东经 %.5f°", h.Home.Lat, h.Home.Lon)
		}
		fs = append(fs,
			fact{Label: "住址", Value: h.Address, Wide: true},
			fact{Label: "住房结构", Value: housing},
			fact{Label: "住房面积", Value: quantity(h.HousingArea, "平方米")},
			fact{Label: "耕地面积", Value: quantity(h.ArableLand, "亩")},
			fact{Label: registeredIncomeLabel, Value: registeredIncome(h.AnnualIncome)},
			fact{Label: "经济状况", Value: h.IncomeNotes, Wide: true},
			fact{Label: "住户位置", Value: home, Wide: true},
		)
	}
	return fs
}

// registeredIncomeLabel names the register's annual income as the
// console does: the file printed "家庭年收入" above a table of 人均纯收入,
// two numbers with no word on which was which. The break keeps the
// label's two parts whole in its narrow cell.
const registeredIncomeLabel = "家庭年纯收入\n（档案登记）"

// registeredIncome is the register's figure with what it is: the whole
// household's, registered at enrolment or import, not the 收入测算.
func registeredIncome(v *float64) string {
	if v == nil {
		return ""
	}
	return quantity(v, "元") + "（全户合计，建档或导入时登记，不是收入测算）"
}

func drawMembers(sh *sheet, r householdRecord) {
	cols := []column{{"姓名", 16, "L"}, {"与户主关系", 14, "C"}, {"身份证号", 30, "C"}, {"性别", 7, "C"}, {"出生年份", 11, "C"},
		{"健康状况", 14, "C"}, {"残疾", 12, "C"}, {"文化程度", 14, "C"}, {"务工状况", 14, "C"}}
	var rows [][]string
	for _, m := range r.file.Members {
		birth := ""
		if m.BirthDate != nil {
			birth = strconv.Itoa(m.BirthDate.Year)
		}
		// A printed card leaves the house: the ID number is masked for
		// every role, as the API masks it for cadres.
		id := ""
		if m.IDNumber != "" {
			id = domain.MaskIDNumber(m.IDNumber)
		}
		rows = append(rows, []string{m.Name, lbl(domain.Relations, m.Relation), id, map[string]string{"male": "男", "female": "女"}[m.Gender], birth,
			lbl(domain.HealthStates, m.Health), lbl(domain.Disabilities, m.Disability), lbl(domain.EducationLevels, m.Education), lbl(domain.WorkStates, m.Work)})
	}
	sh.table(cols, rows, "暂无家庭成员记录")
}

// drawPairings lists the responsible cadres with their phones: those in
// charge now (current) or every one the household has had.
func drawPairings(sh *sheet, r householdRecord, current bool) {
	cols := []column{{"帮扶责任人", 22, "L"}, {"联系电话", 26, "C"}, {"开始日期", 22, "C"}, {"结束日期", 22, "C"}, {"结束原因", 40, "L"}}
	var rows [][]string
	for _, pr := range r.file.PairingHistory {
		if current && pr.EndOn != nil {
			continue
		}
		end := "至今"
		if pr.EndOn != nil {
			end = dateZH(*pr.EndOn)
		}
		rows = append(rows, []string{cmp.Or(pr.CadreName, "—"), pr.CadrePhone, dateZH(pr.StartOn), end, pr.EndReason})
	}
	sh.table(cols, rows, "暂无结对帮扶记录")
}

// drawStatusHistory merges the dated status and poverty-type changes.
func drawStatusHistory(sh *sheet, r householdRecord) {
	type change struct {
		on                domain.Date
		what, move, cause string
	}
	var cs []change
	for _, c := range r.file.StatusHistory {
		to := lbl(domain.Statuses, c.To)
		if c.ExitYear != nil {
			to += fmt.Sprintf("（%d年）", *c.ExitYear)
		}
		cs = append(cs, change{c.EffectiveOn, "农户状态", arrow(lbl(domain.Statuses, c.From), to), c.Reason})
	}
	for _, c := range r.file.PovertyHistory {
		cs = append(cs, change{c.EffectiveOn, "贫困户属性", arrow(lbl(domain.PovertyTypes, c.From), lbl(domain.PovertyTypes, c.To)), c.Reason})
	}
	slices.SortStableFunc(cs, func(a, b change) int { return a.on.Start().Compare(b.on.Start()) })
	rows := make([][]string, len(cs))
	for i, c := range cs {
		rows[i] = []string{dateZH(c.on), c.what, c.move, c.cause}
	}
	sh.table([]column{{"生效日期", 24, "C"}, {"事项", 20, "C"}, {"变化", 50, "L"}, {"原因", 60, "L"}}, rows, "暂无变化记录")
}

func arrow(from, to string) string {
	if from == "" {
		return to
	}
	return from + " → " + to
}

// drawPolicies lists the measures recorded on the household's visits
// (产业, 就业, 医疗 …): how often, first and last time. It is what the
// records show, not a policy register.
func drawPolicies(sh *sheet, r householdRecord) {
	type seen struct {
		n           int
		first, last domain.Date
	}
	by := map[string]*seen{}
	for _, v := range r.visits {
		d := domain.DateOf(v.StartedAt)
		for _, m := range v.Measures {
			if x, ok := by[m]; ok {
				x.n++
				x.last = d
			} else {
				by[m] = &seen{1, d, d}
			}
		}
	}
	var rows [][]string
	for _, m := range domain.Measures {
		if x, ok := by[m.Code]; ok {
			rows = append(rows, []string{m.Label, strconv.Itoa(x.n) + " 次", dateZH(x.first), dateZH(x.last)})
		}
	}
	sh.table([]column{{"帮扶措施", 40, "L"}, {"记录次数", 20, "C"}, {"首次记录", 30, "C"}, {"最近记录", 30, "C"}}, rows, "暂无记录")
}

func drawPlan(sh *sheet, r householdRecord) {
	if len(r.plan) == 0 {
		sh.note("暂无记录。")
		return
	}
	rows := make([][]string, len(r.plan))
	for i, m := range r.plan {
		target := ""
		if m.TargetOn != nil {
			target = dateZH(*m.TargetOn)
		}
		progress := m.State
		if m.Progress != "" {
			progress = strings.TrimPrefix(progress+"：", "：") + m.Progress
		}
		rows[i] = []string{m.Route, m.Measure, m.Cadre, target, progress}
	}
	sh.table([]column{{"脱贫门路", 18, "C"}, {"帮扶措施", 50, "L"}, {"责任人", 18, "C"}, {"完成时限", 24, "C"}, {"进展", 50, "L"}}, rows, "暂无记录")
}

// drawIncomes prints the latest income account (latest, the 明白卡) or
// every year's (the file), saying how the per-capita figure is reckoned
// and, in the file, that the basics' registered income is another thing.
func drawIncomes(sh *sheet, r householdRecord, latest bool) {
	accounts := r.incomes
	if latest && len(accounts) > 0 {
		accounts = accounts[len(accounts)-1:]
	}
	if len(accounts) == 0 {
		sh.note("暂无记录。")
		return
	}
	rows := make([][]string, len(accounts))
	for i, a := range accounts {
		var total int64
		var parts []string
		for _, src := range a.Sources {
			total += src.Fen
			parts = append(parts, src.Label+" "+yuan(src.Fen))
		}
		rows[i] = []string{strconv.Itoa(a.Year) + "年", strings.Join(parts, "；"), yuan(total), yuan(a.CostsFen), strconv.Itoa(a.Members) + " 人", yuan(a.NetPerCapitaFen)}
	}
	sh.table([]column{{"年度", 12, "C"}, {"收入构成", 60, "L"}, {"收入合计", 22, "R"}, {"生产经营支出", 22, "R"}, {"计算人口", 14, "C"},
		{"人均纯收入\n（测算）", 22, "R"}}, rows, "暂无记录")
	note := "收入测算按年度：人均纯收入＝（收入合计－生产经营支出）÷计算人口。"
	if !latest {
		note += "基本情况中的“家庭年纯收入（档案登记）”是建档或导入时登记的全户合计，不是测算结果。"
	}
	sh.note(note)
}

// drawVisits is the visit table of the record card and the file.
func drawVisits(sh *sheet, r householdRecord) {
	rows := make([][]string, len(r.visits))
	for i, v := range r.visits {
		rows[i] = []string{strconv.Itoa(i + 1), visitWhen(v), lbl(domain.VisitKinds, v.Kind), r.cadres[v.CadreID], checklistText(v),
			measuresText(v), v.Notes, verdictText(v, r.counted[v.ID])}
	}
	sh.table([]column{{"序号", 10, "C"}, {"走访时间", 22, "C"}, {"类型", 16, "C"}, {"责任人", 15, "C"}, {"两不愁三保障", 32, "L"},
		{"帮扶措施", 21, "L"}, {"民情日记", 44, "L"}, {"核验与计入", 20, "L"}}, rows, "暂无走访记录")
}

func visitSummary(r householdRecord) string {
	n := 0
	for _, v := range r.visits {
		if r.counted[v.ID] {
			n++
		}
	}
	return fmt.Sprintf("共 %d 次走访，其中 %d 次计入走访要求。「计入」指按走访规则计入至少一项达标要求；未计入的原因见系统中的走访说明。", len(r.visits), n)
}

func drawPhotos(sh *sheet, r householdRecord) {
	var rows [][]string
	for _, v := range r.visits {
		for _, ph := range v.Photos {
			rows = append(rows, []string{strconv.Itoa(len(rows) + 1), dateZH(domain.DateOf(v.StartedAt)), lbl(domain.VisitKinds, v.Kind),
				r.cadres[v.CadreID], ph.PhotoID.String()})
		}
	}
	sh.table([]column{{"序号", 10, "C"}, {"走访日期", 26, "C"}, {"走访类型", 18, "C"}, {"拍摄人", 20, "C"}, {"照片编号", 70, "L"}}, rows, "暂无照片")
}

// visitWhen is the visit's day and its start (and end) time in Beijing.
func visitWhen(v domain.Visit) string {
	start := v.StartedAt.In(domain.Shanghai)
	out := start.Format("2006-01-02") + "\n" + start.Format("15:04")
	if v.EndedAt != nil {
		out += "–" + v.EndedAt.In(domain.Shanghai).Format("15:04")
	}
	return out
}

// checklistText sums up the 两不愁三保障 answers: the problems with their
// notes, and the rest as met.
func checklistText(v domain.Visit) string {
	if len(v.Checklist) == 0 {
		return "未填写"
	}
	var problems, met, other []string
	for _, item := range domain.ChecklistItems {
		e, ok := v.Checklist[item.Code]
		if !ok {
			continue
		}
		switch e.Answer {
		case "met":
			met = append(met, item.Label)
		case "problem":
			p := item.Label + "：存在问题"
			if e.Note != "" {
				p += "（" + e.Note + "）"
			}
			problems = append(problems, p)
		default:
			other = append(other, item.Label+"："+lbl(domain.ChecklistAnswers, e.Answer))
		}
	}
	var out []string
	out = append(out, problems...)
	if len(met) > 0 {
		if len(problems) == 0 && len(other) == 0 && len(met) == len(domain.ChecklistItems) {
			out = append(out, "各项均已保障")
		} else {
			out = append(out, strings.Join(met, "、")+"：已保障")
		}
	}
	return strings.Join(append(out, other...), "\n")
}

func measuresText(v domain.Visit) string {
	ms := make([]string, len(v.Measures))
	for i, m := range v.Measures {
		ms[i] = lbl(domain.Measures, m)
	}
	return strings.Join(ms, "、")
}

// verdictText is a visit's evidence flags and whether it counted.
func verdictText(v domain.Visit, counted bool) string {
	var out []string
	for _, f := range v.Flags {
		out = append(out, "疑点："+lbl(domain.VisitFlags, f.Code))
	}
	if counted {
		out = append(out, "计入")
	} else {
		out = append(out, "未计入")
	}
	return strings.Join(out, "\n")
}

// lbl is a code's zh-CN label; "" stays "".
func lbl(v domain.Vocabulary, code string) string {
	if code == "" {
		return ""
	}
	if l, ok := v.Label(code); ok {
		return l
	}
	return code
}

func yearText(y *int) string {
	if y == nil {
		return ""
	}
	return strconv.Itoa(*y) + "年"
}

func quantity(v *float64, unit string) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64) + " " + unit
}

// yuan writes fen as yuan with thousands separators: 12,345.67 元.
func yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	whole := strconv.FormatInt(fen/100, 10)
	for i := len(whole) - 3; i > 0; i -= 3 {
		whole = whole[:i] + "," + whole[i:]
	}
	return fmt.Sprintf("%s%s.%02d 元", sign, whole, fen%100)
}
