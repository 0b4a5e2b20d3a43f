package adjustment

import (
	"context"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/importer"
)

// MaxImportRows bounds a proposals spreadsheet: a county's round, not a register.
const MaxImportRows = 5000

// Import columns: the headings a proposals sheet has (and their variants).
type column struct {
	zh       string
	variants []string
	required bool
}

var (
	colNumber   = column{"户编号", []string{"农户编号", "户号"}, true}
	colKind     = column{"调整类型", []string{"调整事项", "类型"}, true}
	colType     = column{"贫困户属性", []string{"贫困属性", "户属性"}, false}
	colCadre    = column{"帮扶责任人", []string{"帮扶干部", "结对干部"}, false}
	colReason   = column{"调整原因", []string{"原因", "理由"}, true}
	colEvidence = column{"依据", []string{"佐证", "证明材料"}, false}
	columns     = []column{colNumber, colKind, colType, colCadre, colReason, colEvidence}
)

// KindAliases are the labels a sheet may use for the kinds.
var KindAliases = map[string]string{
	"退出": KindExit, "脱贫": KindExit, "脱贫退出": KindExit, "标注脱贫": KindExit,
	"识别": KindIdentification, "新识别": KindIdentification, "纳入": KindIdentification, "新增": KindIdentification, "识别纳入": KindIdentification,
	"清退": KindRemoval, "剔除": KindRemoval,
	"结对": KindRepairing, "调整帮扶": KindRepairing, "结对调整": KindRepairing, "调整结对": KindRepairing,
	"属性变更": KindPovertyType, "类型变更": KindPovertyType, "贫困户属性变更": KindPovertyType,
}

// kindFrom are the statuses a household may be in for each kind: those
// the service applying it accepts.
var kindFrom = map[string][]string{
	KindExit:           {domain.StatusRegistered},
	KindIdentification: {domain.StatusGeneral, domain.StatusEdge, domain.StatusRelapsed},
	KindRemoval:        {domain.StatusRegistered},
	KindRepairing:      {domain.StatusRegistered, domain.StatusRelapsed, domain.StatusExited, domain.StatusEdge},
	KindPovertyType:    {domain.StatusRegistered, domain.StatusExited, domain.StatusRelapsed},
}

// Import adds the rows of a supervisor's spreadsheet of proposed changes
// to an open batch: 户编号 (a household of the batch's region), 调整类型,
// 贫困户属性 (a type change's new type, an identification's type),
// 帮扶责任人 (a re-pairing's cadre: username or name), 调整原因 and 依据.
// Every row is checked; one bad row and nothing is added, and the answer
// (422) names every bad row and column.
func (s *Service) Import(ctx context.Context, p domain.Principal, batchID uuid.UUID, r io.Reader) (Batch, error) {
	if !p.Manages() {
		return Batch{}, domain.Forbidden()
	}
	b, err := s.store.Batch(ctx, p.RegionPath, batchID)
	if err != nil {
		return Batch{}, err
	}
	if b.Status != BatchOpen {
		return Batch{}, batchClosed()
	}
	rows, err := importer.ReadSheet(r, MaxImportRows, s.spillDir)
	if err != nil {
		return Batch{}, err
	}
	at, heads, err := findHeadings(rows)
	if err != nil {
		return Batch{}, err
	}
	var numbers []string
	for _, rw := range rows[at+1:] {
		numbers = append(numbers, strings.TrimSpace(cell(rw, heads, colNumber)))
	}
	households, err := s.store.HouseholdsByNumber(ctx, b.RegionPath, numbers)
	if err != nil {
		return Batch{}, err
	}
	have := map[uuid.UUID]map[string]bool{}
	for _, it := range b.Items {
		if have[it.HouseholdID] == nil {
			have[it.HouseholdID] = map[string]bool{}
		}
		have[it.HouseholdID][it.Kind] = true
	}
	var fe domain.FieldErrors
	var items []Item
	now := s.now().UTC()
	for _, rw := range rows[at+1:] {
		it, ok, err := s.importRow(ctx, &fe, rw, heads, households, have)
		if err != nil {
			return Batch{}, err
		}
		if !ok {
			continue
		}
		it.ID, it.BatchID, it.Seq, it.Source, it.State, it.CreatedAt = uuid.New(), b.ID, len(b.Items)+len(items)+1, SourceImport, StatePending, now
		items = append(items, it)
	}
	if len(rows) == at+1 {
		fe.Add("file", "empty", "the sheet has no rows under its headings", "表格中没有数据行")
	}
	if err := fe.Err(); err != nil {
		return Batch{}, &domain.Error{Code: domain.CodeInvalid, Message: "the file has errors; nothing was added", MessageZH: "文件中有错误，未添加任何调整项", Fields: fe}
	}
	if err := s.store.AddItems(ctx, b, items, batchAudit(p, b, "import", map[string]any{"items": len(items)})); err != nil {
		if domain.Reason(err) == "duplicate" {
			return Batch{}, domain.Conflict("the batch changed while importing; import again", "导入时批次已变更，请重新导入")
		}
		return Batch{}, err
	}
	return s.Batch(ctx, p, b.ID)
}

// importRow checks one row, adding its problems to fe.
func (s *Service) importRow(ctx context.Context, fe *domain.FieldErrors, rw importer.SheetRow, heads map[string]int,
	households map[string]domain.Household, have map[uuid.UUID]map[string]bool) (Item, bool, error) {
	bad := len(*fe)
	field := func(c column) string { return "row " + strconv.Itoa(rw.Num) + ", " + c.zh }
	fail := func(c column, reason, msg, msgZH string) {
		fe.Add(field(c), reason, msg, "第"+strconv.Itoa(rw.Num)+"行「"+c.zh+"」："+msgZH)
	}
	for _, c := range columns {
		if v := cell(rw, heads, c); v != "" {
			if reason, msg, msgZH, ok := domain.TextProblem(v, 500); !ok {
				fail(c, reason, msg, msgZH)
			}
		}
	}
	if len(*fe) > bad {
		return Item{}, false, nil
	}
	number := strings.TrimSpace(cell(rw, heads, colNumber))
	h, found := households[number]
	switch {
	case number == "":
		fail(colNumber, "required", "required", "不能为空")
	case !found:
		fail(colNumber, "unknown", "no household with this number in the batch's region", "本批次区域内没有此户编号")
	}
	kindText := strings.TrimSpace(cell(rw, heads, colKind))
	kind, kindOK := KindLabels.Parse(kindText, KindAliases)
	switch {
	case kindText == "":
		fail(colKind, "required", "required", "不能为空")
	case !kindOK:
		fail(colKind, "invalid_enum", "kind must be one of "+strings.Join(KindLabels.Codes(), ", "), "应为脱贫退出、识别纳入、清退、结对调整或贫困户属性变更")
	case found && !slices.Contains(kindFrom[kind], h.Status):
		status, _ := domain.Statuses.Label(h.Status)
		label, _ := KindLabels.Label(kind)
		fail(colKind, "invalid_transition", "a "+h.Status+" household cannot have a "+kind+" change", status+"不能"+label)
	case found && have[h.ID][kind]:
		fail(colKind, "duplicate", "the batch already has this change for the household", "批次中已有该户的此项调整")
	}
	reason := strings.TrimSpace(cell(rw, heads, colReason))
	if reason == "" {
		fail(colReason, "required", "required", "不能为空")
	}
	it := Item{Kind: kind, Reason: reason}
	if found {
		it.HouseholdID, it.CountyID, it.HouseholdNumber, it.HeadName, it.HouseholdVersion = h.ID, h.CountyID, h.Number, h.HeadName, h.Version
	}
	if ev := strings.TrimSpace(cell(rw, heads, colEvidence)); ev != "" {
		it.Evidence = []string{ev}
	}
	typeText := strings.TrimSpace(cell(rw, heads, colType))
	if typeText != "" {
		t, ok := domain.PovertyTypes.Parse(typeText, domain.PovertyTypeAliases)
		if !ok {
			fail(colType, "invalid_enum", "unknown poverty type", "贫困户属性无效（一般贫困户、低保贫困户、五保贫困户）")
		}
		it.PovertyType = t
	}
	switch {
	case kind == KindPovertyType && typeText == "":
		fail(colType, "required", "a poverty-type change names the new type", "属性变更须填写新的贫困户属性")
	case kind == KindPovertyType && found && it.PovertyType == h.PovertyType:
		fail(colType, "unchanged", "the household already has this poverty type", "该户已是此贫困户属性")
	case kind == KindIdentification && it.PovertyType == "":
		it.PovertyType = DefaultIdentificationType
	case kind != KindPovertyType && kind != KindIdentification && typeText != "":
		fail(colType, "not_allowed", "a poverty type goes with a type change or an identification", "只有属性变更和识别纳入填写贫困户属性")
	}
	cadreText := strings.TrimSpace(cell(rw, heads, colCadre))
	switch {
	case kind == KindRepairing && cadreText == "":
		fail(colCadre, "required", "a re-pairing names the cadre", "结对调整须填写帮扶责任人")
	case kind != KindRepairing && cadreText != "":
		fail(colCadre, "not_allowed", "a cadre goes with a re-pairing", "只有结对调整填写帮扶责任人")
	case kind == KindRepairing && found:
		if err := s.importCadre(ctx, fail, &it, h, cadreText); err != nil {
			return Item{}, false, err
		}
	}
	if found && kindOK {
		if have[h.ID] == nil {
			have[h.ID] = map[string]bool{}
		}
		have[h.ID][kind] = true
	}
	return it, len(*fe) == bad, nil
}

// importCadre resolves a re-pairing's cadre among those who may be paired
// with the household, and the cadre handing over.
func (s *Service) importCadre(ctx context.Context, fail func(column, string, string, string), it *Item, h domain.Household, name string) error {
	cs, err := s.store.PairableCadres(ctx, h.CountyID, h.ID)
	if err != nil {
		return err
	}
	var match []Cadre
	for _, c := range cs {
		if c.Username == name || c.DisplayName == name {
			match = append(match, c)
		}
	}
	switch len(match) {
	case 0:
		fail(colCadre, "unknown", "no active cadre of this name may be paired with the household", "没有可与该户结对的此名干部")
		return nil
	case 1:
	default:
		fail(colCadre, "ambiguous", "several cadres have this name; use the username", "有多名同名干部，请填写用户名")
		return nil
	}
	open, err := s.store.OpenPairings(ctx, h.CountyID, h.ID)
	if err != nil {
		return err
	}
	switch {
	case len(open) > 1:
		fail(colCadre, "several_pairings", "the household has several cadres; re-pair it on the pairings page", "该户有多名帮扶责任人，请在结对管理中调整")
	case len(open) == 1 && open[0].CadreID == match[0].ID:
		fail(colCadre, "unchanged", "this cadre is already paired with the household", "该干部已与该户结对")
	case len(open) == 1:
		from := open[0].CadreID
		it.FromCadreID = &from
	}
	id := match[0].ID
	it.CadreID, it.CadreName = &id, match[0].DisplayName
	return nil
}

// findHeadings finds the heading row (among the first ten) that has every
// required column, and where each column is.
func findHeadings(rows []importer.SheetRow) (int, map[string]int, error) {
	var first map[string]int
	for i := 0; i < len(rows) && i < 10; i++ {
		heads := map[string]int{}
		for j, v := range rows[i].Cells {
			v = strings.Join(strings.Fields(v), "")
			for _, c := range columns {
				if _, dup := heads[c.zh]; !dup && (v == c.zh || slices.Contains(c.variants, v)) {
					heads[c.zh] = j
				}
			}
		}
		if i == 0 {
			first = heads
		}
		complete := true
		for _, c := range columns {
			if _, ok := heads[c.zh]; c.required && !ok {
				complete = false
			}
		}
		if complete {
			return i, heads, nil
		}
	}
	// No row has them all: name those the first row lacks.
	var fe domain.FieldErrors
	for _, c := range columns {
		if _, ok := first[c.zh]; c.required && !ok {
			fe.Add("file, "+c.zh, "missing_column", "the sheet needs the columns 户编号, 调整类型 and 调整原因", "表格缺少列「"+c.zh+"」（须有户编号、调整类型、调整原因）")
		}
	}
	if len(fe) == 0 {
		fe.Add("file", "empty", "the sheet has no heading row", "表格中没有标题行")
	}
	return 0, nil, fe.Err()
}

func cell(rw importer.SheetRow, heads map[string]int, c column) string {
	j, ok := heads[c.zh]
	if !ok || j >= len(rw.Cells) {
		return ""
	}
	return rw.Cells[j]
}
