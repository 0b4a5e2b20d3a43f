package importer

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fieldvisit/fieldvisit/domain"
)

// row is one data row: its cells by column and what they parse to.
type row struct {
	num   int
	cells []string
	val   [numCols]string // trimmed cell text; "" when absent or unreadable
	bad   bool            // an error was reported on this row

	// member fields, as domain codes
	relation, idNumber, health, disability, education, work, phone string
	householdPhone                                                 string // 家庭联系电话
	// household fields, as domain codes
	size                int
	povertyType, status string
	relapseCause        string // 返贫原因, a domain.RelapseCauses code
	exitYear            *int
	registeredYear      *int
	causes              []string
	cadrePhone, rank    string
	pairStart           *domain.Date
	poorVillage         *bool // 是否贫困村, of the row's village
	village, group      *domain.Region
	hh                  *household
	member              *domain.Member // the stored member this row matches
	keyEmpty            bool
	// memberless: the row gives a household and no member (every member
	// cell empty), as the export writes a household without members.
	memberless bool
}

// memberCols are the cells that describe a member rather than the
// household. 联系电话 is not one of them: on a row without a member it is the
// household's phone, as on the head's row.
var memberCols = []col{colRelation, colName, colIDNumber, colHealth, colDisability, colEducation, colWork}

// householdKeyCols are the cells that say which household a row is in. A row
// with all of them empty continues the household of the row above.
var householdKeyCols = []col{colCounty, colTown, colVillage, colGroup, colNumber, colHeadName}

// parseRow checks every cell of rw and parses it.
func (r *run) parseRow(rw *row, i int) {
	r.readCells(rw)
	r.parseHouseholdRow(rw, i)
}

// readCells checks the text of every cell the import reads and keeps it
// trimmed in rw.val; a cell with a problem is reported and left empty.
func (r *run) readCells(rw *row) {
	for c := col(0); c < numCols; c++ {
		idx := r.colIdx[c]
		if idx < 0 || idx >= len(rw.cells) {
			continue
		}
		v := rw.cells[idx]
		if reason, msg, msgZH, ok := domain.TextProblem(v, columns[c].max); !ok {
			r.fail(rw, c, reason, columns[c].en+": "+msg, r.head(c)+msgZH)
			continue
		}
		if r.t.replaced && strings.ContainsRune(v, utf8.RuneError) {
			r.fail(rw, c, "invalid_encoding", columns[c].en+": the text has bytes that are neither UTF-8 nor GB18030",
				r.head(c)+"含有无法识别的字符（文件编码有误）")
			continue
		}
		rw.val[c] = strings.TrimSpace(v)
	}
}

func (r *run) parseHouseholdRow(rw *row, i int) {
	rw.keyEmpty = true
	for _, c := range householdKeyCols {
		if rw.val[c] != "" {
			rw.keyEmpty = false
		}
	}
	if rw.keyEmpty && i > 0 && !r.householdRows() {
		prev := r.rows[i-1]
		for _, c := range householdKeyCols {
			rw.val[c] = prev.val[c]
		}
	}

	r.required(rw, colVillage)
	r.required(rw, colHeadName)
	rw.memberless = !rw.keyEmpty && !r.householdRows() && r.noMemberCells(rw)
	switch {
	case r.householdRows():
		// The row is the household, and the person it names is its head.
		rw.val[colName], rw.relation = rw.val[colHeadName], "head"
	case rw.memberless:
		// A household on its own row: whether it may be (no other row of
		// its household lists members) is checkHousehold's to say.
	default:
		r.required(rw, colName)
		if r.required(rw, colRelation) {
			rw.relation = r.enum(rw, colRelation, domain.Relations, domain.RelationAliases)
		}
	}
	// A head's 身份证号 may be empty, as any member's: the register API
	// takes a household whose head's number is still being collected, so
	// its export must import back.
	r.parseIDNumber(rw)
	rw.health = r.enum(rw, colHealth, domain.HealthStates, domain.HealthAliases)
	rw.disability = r.enum(rw, colDisability, domain.Disabilities, domain.DisabilityAliases)
	rw.education = r.enum(rw, colEducation, domain.EducationLevels, domain.EducationAliases)
	rw.work = r.enum(rw, colWork, domain.WorkStates, domain.WorkAliases)
	rw.phone = r.parsePhone(rw, colPhone)
	rw.householdPhone = r.parsePhone(rw, colHouseholdPhone)

	rw.povertyType = r.enum(rw, colPovertyType, domain.PovertyTypes, domain.PovertyTypeAliases)
	rw.status = r.enum(rw, colStatus, domain.Statuses, domain.StatusAliases)
	rw.relapseCause = r.enum(rw, colRelapseCause, domain.RelapseCauses, domain.RelapseCauseAliases)
	rw.rank = r.enum(rw, colRank, domain.Ranks, domain.RankAliases)
	rw.cadrePhone = r.parsePhone(rw, colCadrePhone)
	if v := rw.val[colSize]; v != "" {
		n, ok := parseInt(strings.TrimSuffix(v, "人"))
		if !ok || n < 1 || n > 99 {
			r.fail(rw, colSize, "invalid_format", fmt.Sprintf("household size %q must be a whole number from 1 to 99", v),
				fmt.Sprintf("%s「%s」应为1至99的整数", r.head(colSize), v))
		} else {
			rw.size = n
		}
	}
	if v := rw.val[colExitYear]; v != "" {
		y, ok := parseInt(strings.TrimSuffix(v, "年"))
		if !ok || y < 1000 || y > 9999 {
			r.fail(rw, colExitYear, "invalid_format", fmt.Sprintf("exit year %q must be a year such as 2019", v),
				fmt.Sprintf("%s「%s」应为年份，如2019", r.head(colExitYear), v))
		} else {
			rw.exitYear = &y
		}
	}
	if v := rw.val[colRegisteredYear]; v != "" {
		y, ok := parseInt(strings.TrimSuffix(v, "年"))
		switch {
		case !ok || y < 1000 || y > 9999:
			r.fail(rw, colRegisteredYear, "invalid_format", fmt.Sprintf("year registered %q must be a year such as 2014", v),
				fmt.Sprintf("%s「%s」应为年份，如2014", r.head(colRegisteredYear), v))
		case y > r.opt.Today.Year:
			r.fail(rw, colRegisteredYear, "out_of_range", "the year registered is after the import date",
				r.head(colRegisteredYear)+"不能晚于导入年份")
		default:
			rw.registeredYear = &y
		}
	}
	rw.poorVillage, _ = r.poorMark(rw)
	rw.causes = r.parseCauses(rw, colCauses, nil)
	rw.causes = r.parseCauses(rw, colCausesOther, rw.causes)
	if v := rw.val[colPairStart]; v != "" {
		d, ok := parseDate(v)
		switch {
		case !ok:
			r.fail(rw, colPairStart, "invalid_format", fmt.Sprintf("pairing start date %q is not a date such as 2020-03-01", v),
				fmt.Sprintf("%s「%s」不是有效日期，应如2020-03-01", r.head(colPairStart), v))
		case d.After(r.opt.Today):
			r.fail(rw, colPairStart, "out_of_range", "the pairing start date is after the import date",
				r.head(colPairStart)+"不能晚于导入日期")
		default:
			rw.pairStart = &d
		}
	}
}

// noMemberCells reports whether every member cell of rw is empty (and
// none was left empty because its text was refused).
func (r *run) noMemberCells(rw *row) bool {
	for _, c := range memberCols {
		if rw.val[c] != "" || r.seen[cellKey{rw.num, c}] {
			return false
		}
	}
	return true
}

// required reports whether the cell has a value, recording an error if not.
func (r *run) required(rw *row, c col) bool {
	if rw.val[c] != "" {
		return true
	}
	if r.colIdx[c] >= 0 && !r.seen[cellKey{rw.num, c}] {
		r.fail(rw, c, "required", columns[c].en+" is required", r.head(c)+"不能为空")
	}
	return false
}

// enum parses a label (or code, or alias) of v.
func (r *run) enum(rw *row, c col, v domain.Vocabulary, aliases map[string]string) string {
	s := rw.val[c]
	if s == "" {
		return ""
	}
	code, ok := v.Parse(s, aliases)
	if !ok {
		r.fail(rw, c, "invalid_enum", fmt.Sprintf("%s %q is not one of: %s", columns[c].en, s, labels(v)),
			fmt.Sprintf("%s「%s」无法识别，应为：%s", r.head(c), s, labels(v)))
	}
	return code
}

var scientific = regexp.MustCompile(`^[0-9.]+[Ee][+]?[0-9]+$`)

func (r *run) parseIDNumber(rw *row) {
	v := rw.val[colIDNumber]
	if v == "" {
		return
	}
	id := domain.NormalizeIDNumber(strings.TrimPrefix(strings.ReplaceAll(v, " ", ""), "'"))
	reason, msg, msgZH, ok := domain.ValidateIDNumber(id, r.opt.Today)
	// A number cell keeps about 15 digits: Excel shows 4.10122E+17, and the
	// last digits come back as zeros. Written out in full (4.10122196503121011E+17,
	// as some exporters write a number), nothing is lost, but a number is
	// still not an ID number: say so without claiming a loss.
	if !ok && scientific.MatchString(id) && allDigitsKept(id) {
		r.fail(rw, colIDNumber, "stored_as_number", "the ID number was stored as a number (no digit is lost, but an ID number is text); format the column as text and type it again",
			r.head(colIDNumber)+"被存成了数字（科学计数法），身份证号应为文本；请把该列设为文本格式后重新录入")
		return
	}
	if !ok && (scientific.MatchString(id) || r.t.format == FormatXLSX && len(id) == 18 && strings.HasSuffix(id, "000")) {
		r.fail(rw, colIDNumber, "stored_as_number", "the ID number was stored as a number and lost its last digits; format the column as text and type it again",
			r.head(colIDNumber)+"被Excel存成了数字（科学计数法），后几位已丢失；请把该列设为文本格式后重新录入")
		return
	}
	if !ok {
		r.fail(rw, colIDNumber, reason, msg, msgZH)
		return
	}
	rw.idNumber = id
}

// allDigitsKept reports whether a number in scientific notation carries
// all 18 digits of an ID number: its mantissa has 18 digits and it is an
// 18-digit whole number.
func allDigitsKept(s string) bool {
	mant, exp, _ := strings.Cut(strings.ToUpper(s), "E")
	e, err := strconv.Atoi(strings.TrimPrefix(exp, "+"))
	if err != nil {
		return false
	}
	point := strings.IndexByte(mant, '.')
	if point < 0 {
		point = len(mant)
	}
	digits := strings.Replace(mant, ".", "", 1)
	return point+e == 18 && len(digits) == 18
}

func (r *run) parsePhone(rw *row, c col) string {
	v := rw.val[c]
	if v == "" {
		return ""
	}
	if !domain.ValidPhone(v) {
		r.fail(rw, c, "invalid_format", fmt.Sprintf("%s %q must be 7 to 20 digits, optionally with +, - or spaces", columns[c].en, v),
			fmt.Sprintf("%s「%s」格式不正确，应为7至20位数字", r.head(c), v))
		return ""
	}
	return v
}

// causeSeparators split a cell listing several causes of poverty.
func isCauseSeparator(r rune) bool {
	return strings.ContainsRune("、,，;；/／|｜ \u3000\t\n", r)
}

func (r *run) parseCauses(rw *row, c col, acc []string) []string {
	v := rw.val[c]
	if v == "" {
		return acc
	}
	var unknown []string
	for _, part := range strings.FieldsFunc(v, isCauseSeparator) {
		code, ok := domain.Causes.Parse(part, domain.CauseAliases)
		if !ok {
			unknown = append(unknown, part)
			continue
		}
		dup := false
		for _, x := range acc {
			dup = dup || x == code
		}
		if !dup {
			acc = append(acc, code)
		}
	}
	if len(unknown) > 0 {
		u := strings.Join(unknown, "、")
		r.fail(rw, c, "invalid_enum", fmt.Sprintf("unknown cause of poverty %q; use: %s", u, labels(domain.Causes)),
			fmt.Sprintf("%s「%s」无法识别，应为：%s", r.head(c), u, labels(domain.Causes)))
	}
	return acc
}

// parseInt reads a whole number, also as a spreadsheet writes it ("3.0").
func parseInt(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != float64(int(f)) {
		return 0, false
	}
	return int(f), true
}

// parseDate reads the date forms seen in 台账 files, and Excel's day numbers.
func parseDate(s string) (domain.Date, bool) {
	s = strings.TrimSpace(s)
	if d, ok := parseExcelSerial(s); ok && !strings.ContainsAny(s, "-/.年") && len(s) < 8 {
		return d, true
	}
	norm := strings.NewReplacer("年", "-", "月", "-", "日", "", "/", "-", ".", "-").Replace(s)
	if i := strings.IndexAny(norm, " T"); i > 0 {
		norm = norm[:i] // a time of day after the date
	}
	for _, layout := range []string{"2006-1-2", "20060102"} {
		if t, err := time.Parse(layout, norm); err == nil {
			return domain.Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}, true
		}
	}
	return domain.Date{}, false
}
