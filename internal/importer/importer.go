package importer

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"

	"github.com/fieldvisit/fieldvisit/domain"
)

// Options steer one import.
type Options struct {
	// AllowPartial imports the households whose rows are all valid and
	// reports the others; by default one error anywhere writes nothing.
	AllowPartial bool
	// DryRun validates and reports what would be written, writing nothing.
	DryRun bool
	// CreateRegions lets a household sheet create the villages it names
	// that do not exist yet, from their codes (村代码), with the towns,
	// counties and cities above them (named by 乡镇, 县/区 and 市), and the
	// village groups, from theirs (村民小组代码); the report lists them in
	// NewRegions.
	CreateRegions bool
	// Actor is who imports: an admin or supervisor. Villages must lie in
	// their region subtree, and cadres are looked up there.
	Actor domain.Principal
	// Today is the import date: the effective date of new households' first
	// status record and the default start of new pairings. Zero means today
	// in Asia/Shanghai.
	Today domain.Date
	// Source names the file (for the audit log and messages); optional.
	Source string
	// Progress, when set, is called as rows are validated and written.
	// Each data row counts twice in total: once validated, once written.
	Progress func(done, total int)
	// MaxRows, MaxBytes and MaxErrors override DefaultMaxRows,
	// DefaultMaxBytes and DefaultMaxErrors when positive.
	MaxRows   int
	MaxBytes  int64
	MaxErrors int
	// MaxForeignHits overrides DefaultMaxForeignHits when positive.
	MaxForeignHits int
	// TmpDir is where an XLSX workbook's parts past 1 MB unpack while it
	// is read (excelize's temporary files); "" is the system's temporary
	// directory. A server gives one it owns and empties at start, so that
	// one killed mid-import leaves nothing there for long.
	TmpDir string
}

// DefaultMaxErrors caps the errors a report lists; past it they are counted
// in Report.ErrorsOmitted (every row is still validated).
const DefaultMaxErrors = 10_000

// Kinds of sheet and layouts of a household sheet, as a Report names them.
const (
	KindHouseholds = "households"
	KindRegions    = "regions"

	// LayoutMemberRows is one row per household member (与户主关系, 姓名).
	LayoutMemberRows = "member_rows"
	// LayoutHouseholdRows is one row per household: the head's 姓名 is
	// 户主姓名, 身份证号 is the head's, and 家庭人口 is recorded as declared.
	LayoutHouseholdRows = "household_rows"
)

// Counts says what happened to one kind of record. Skipped records were not
// written because their household had errors (or, without AllowPartial,
// because the file had any).
type Counts struct {
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	Skipped   int `json:"skipped"`
}

// RowError is one problem in the file. Row is the spreadsheet row (1-based;
// the heading row is row 1 when it is the first), or 0 for the file as a
// whole (a missing column). Column is the heading as written in the file,
// or the standard heading when the file lacks the column.
type RowError struct {
	Row       int    `json:"row"`
	Column    string `json:"column,omitempty"`
	Reason    string `json:"reason"`
	Message   string `json:"message"`
	MessageZH string `json:"message_zh"`
}

// Report is the outcome of an import. Problems in the file are Errors (and
// Warnings, which do not stop an import), never a Go error.
type Report struct {
	ImportID   uuid.UUID `json:"import_id"`
	Format     string    `json:"format"`
	Encoding   string    `json:"encoding"`
	Sheet      string    `json:"sheet,omitempty"`
	Kind       string    `json:"kind"`             // KindHouseholds or KindRegions, as the headings say
	Layout     string    `json:"layout,omitempty"` // of a household sheet: LayoutMemberRows or LayoutHouseholdRows
	Rows       int       `json:"rows"`             // data rows (blank rows aside)
	Households Counts    `json:"households"`
	Members    Counts    `json:"members"`
	Cadres     Counts    `json:"cadres"`
	Units      Counts    `json:"units"`
	Pairings   Counts    `json:"pairings"`
	Regions    Counts    `json:"regions"`
	// NewRegions are the regions the import creates (or, in a dry run,
	// would create), parents before children; when errors stop the
	// import, those the file would create, whatever the errors.
	NewRegions    []NewRegionNote `json:"new_regions"`
	Errors        []RowError      `json:"errors"`
	ErrorsOmitted int             `json:"errors_omitted,omitempty"`
	Warnings      []RowError      `json:"warnings"`
	// Applied says the import was written (possibly changing nothing, on a
	// re-import). False for a dry run and when errors stopped it.
	Applied bool `json:"applied"`
	DryRun  bool `json:"dry_run,omitempty"`
}

// OK reports whether the file had no errors.
func (r Report) OK() bool { return len(r.Errors) == 0 && r.ErrorsOmitted == 0 }

// FieldErrors returns the errors as domain field errors named "row 5, 身份证号"
// (or "file, 身份证号" for a missing column), for transports that answer
// with problem+json.
func (r Report) FieldErrors() domain.FieldErrors {
	out := make(domain.FieldErrors, 0, len(r.Errors))
	for _, e := range r.Errors {
		field := "file"
		if e.Row > 0 {
			field = "row " + strconv.Itoa(e.Row)
		}
		if e.Column != "" {
			field += ", " + e.Column
		}
		out = append(out, domain.FieldError{Field: field, Reason: e.Reason, Message: e.Message, MessageZH: e.MessageZH})
	}
	return out
}

// Authorize says whether p may import: admins and supervisors keep the
// register. A transport asks before it reads an upload, so that a refused
// caller's file is never parsed.
func Authorize(p domain.Principal) error {
	if !p.Manages() {
		return domain.Forbidden()
	}
	return nil
}

// Import reads a 台账 file from r and imports it for opt.Actor.
//
// Errors in the file are listed in the Report. A Go error means the import
// could not run and nothing was written: the caller may not import
// (domain.Forbidden), the file is unreadable, empty, not CSV/XLSX or too big
// (domain.Invalid naming the field "file"), or storage failed.
func Import(ctx context.Context, store Store, r io.Reader, opt Options) (Report, error) {
	if err := Authorize(opt.Actor); err != nil {
		return Report{}, err
	}
	if opt.Today.IsZero() {
		opt.Today = domain.DateOf(time.Now())
	}
	if opt.MaxRows <= 0 {
		opt.MaxRows = DefaultMaxRows
	}
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = DefaultMaxBytes
	}
	if opt.MaxErrors <= 0 {
		opt.MaxErrors = DefaultMaxErrors
	}
	if opt.MaxForeignHits <= 0 {
		opt.MaxForeignHits = DefaultMaxForeignHits
	}
	t, err := readTable(r, opt.MaxBytes, opt.MaxRows, opt.TmpDir)
	if err != nil {
		return Report{}, err
	}
	run := &run{ctx: ctx, store: store, opt: opt, t: t, now: time.Now().UTC(), seen: map[cellKey]bool{}}
	run.rep = Report{ImportID: uuid.New(), Format: t.format, Encoding: t.encoding, Sheet: t.sheet, DryRun: opt.DryRun, Kind: KindHouseholds,
		Errors: []RowError{}, Warnings: []RowError{}, NewRegions: []NewRegionNote{}}
	if err := run.do(); err != nil {
		return run.rep, err
	}
	run.sortProblems()
	return run.rep, nil
}

// run is the state of one import.
type run struct {
	ctx   context.Context
	store Store
	opt   Options
	t     *table
	now   time.Time
	rep   Report

	colIdx  [numCols]int    // index of each column in a row, -1 when absent
	heading [numCols]string // heading as written in the file
	rows    []*row
	hhs     []*household
	ex      *existing
	fatal   bool // a file-level error: nothing can be imported
	seen    map[cellKey]bool
	total   int
	layout  string // LayoutMemberRows or LayoutHouseholdRows
	// headerAt is the spreadsheet row of the headings (0 before mapHeader
	// has found them).
	headerAt int
	tree     *tree // the regions a household sheet creates (CreateRegions)
}

// sortProblems orders the errors and warnings as the file reads: by row
// (the file as a whole first), then by the column's place in the file
// (later checks — households, cadres, regions — report after the cells).
func (r *run) sortProblems() {
	pos := func(e RowError) int {
		for c := col(0); c < numCols; c++ {
			if r.colIdx[c] >= 0 && r.head(c) == e.Column {
				return r.colIdx[c]
			}
		}
		return 1 << 20
	}
	by := func(a, b RowError) int {
		if a.Row != b.Row {
			return a.Row - b.Row
		}
		return pos(a) - pos(b)
	}
	slices.SortStableFunc(r.rep.Errors, by)
	slices.SortStableFunc(r.rep.Warnings, by)
}

// householdRows reports whether each row of the file is a whole household.
func (r *run) householdRows() bool { return r.layout == LayoutHouseholdRows }

type cellKey struct {
	row int
	c   col
}

// head returns the heading of c as the file writes it.
func (r *run) head(c col) string {
	if r.heading[c] != "" {
		return r.heading[c]
	}
	return columns[c].zh
}

// fail records an error on a cell of rw (nil for the whole file); the first
// error of a cell wins, so one bad value is reported once.
func (r *run) fail(rw *row, c col, reason, msg, msgZH string) {
	num := 0
	if rw != nil {
		num = rw.num
		rw.bad = true
		if r.seen[cellKey{num, c}] {
			return
		}
		r.seen[cellKey{num, c}] = true
	} else {
		r.fatal = true
	}
	r.addError(RowError{Row: num, Column: r.head(c), Reason: reason, Message: msg, MessageZH: msgZH})
}

func (r *run) addError(e RowError) {
	if len(r.rep.Errors) >= r.opt.MaxErrors {
		r.rep.ErrorsOmitted++
		return
	}
	r.rep.Errors = append(r.rep.Errors, e)
}

func (r *run) warn(num int, c col, reason, msg, msgZH string) {
	if len(r.rep.Warnings) >= r.opt.MaxErrors {
		return
	}
	e := RowError{Row: num, Reason: reason, Message: msg, MessageZH: msgZH}
	if c >= 0 {
		e.Column = r.head(c)
	}
	r.rep.Warnings = append(r.rep.Warnings, e)
}

func (r *run) progress(done int) {
	if r.opt.Progress != nil {
		r.opt.Progress(min(done, r.total), r.total)
	}
}

// do runs the phases: headings, rows, regions, households, cadres, matching,
// and the write.
func (r *run) do() error {
	ok := r.mapHeader()
	r.reportMalformed()
	if !ok {
		return nil
	}
	r.rep.Rows = len(r.rows)
	if r.rep.Rows > r.opt.MaxRows {
		return tooManyRows(r.opt.MaxRows)
	}
	if len(r.rows) == 0 && len(r.t.malformed) == 0 {
		return fileError("empty", "the file has no data rows", "文件中没有数据行")
	}
	r.total = 2 * len(r.rows)
	if r.rep.Kind == KindRegions {
		return r.importRegionSheet()
	}
	for i, rw := range r.rows {
		r.parseRow(rw, i)
		if i%500 == 499 {
			if err := r.ctx.Err(); err != nil {
				return domain.Unavailable("import", time.Second, err)
			}
			r.progress(i + 1)
		}
	}
	r.progress(len(r.rows))
	if err := r.resolveRegions(); err != nil {
		return err
	}
	r.groupHouseholds()
	r.checkDuplicateIDs()
	if err := r.resolveCadres(); err != nil {
		return err
	}
	if err := r.matchExisting(); err != nil {
		return err
	}
	r.checkPairedOnly()
	return r.apply()
}

// mapHeader finds the heading row and maps the columns; missing required
// columns are file-level errors. It reports whether rows can be read.
func (r *run) mapHeader() bool {
	for c := range r.colIdx {
		r.colIdx[c] = -1
	}
	if len(r.t.rows) == 0 {
		return len(r.t.malformed) == 0
	}
	hi := r.t.header()
	r.headerAt = r.t.rows[hi].num
	hdr := r.t.rows[hi]
	cells, from := r.t.headings(hi)
	hdr.cells = cells
	for i, cell := range hdr.cells {
		name := normalizeHeading(cell)
		if name == "" {
			continue
		}
		c, ok := headingIndex[name]
		if !ok && ignoredHeadings[name] {
			continue
		}
		if !ok {
			r.warn(hdr.num, -1, "unknown_column", fmt.Sprintf("column %q is not imported", cell), fmt.Sprintf("列「%s」不在导入范围内，已忽略", cell))
			continue
		}
		if r.colIdx[c] >= 0 {
			r.fatal = true
			r.addError(RowError{Row: hdr.num, Column: cell, Reason: "duplicate_column",
				Message:   fmt.Sprintf("two columns mean %s (%s); keep one", columns[c].en, columns[c].zh),
				MessageZH: fmt.Sprintf("有两列都表示「%s」，请只保留一列", columns[c].zh)})
			continue
		}
		r.colIdx[c] = i
		r.heading[c] = trimHeading(cell)
	}
	r.headinglessColumns(hdr, r.t.rows[from:])
	// A sheet of region codes without households is the region tree.
	if r.colIdx[colHeadName] < 0 && (r.colIdx[colCityCode] >= 0 || r.colIdx[colCountyCode] >= 0 || r.colIdx[colTownCode] >= 0 || r.colIdx[colVillageCode] >= 0) {
		r.rep.Kind = KindRegions
	}
	// A sheet with neither 与户主关系 nor 姓名 lists households, not members.
	r.layout = LayoutMemberRows
	if r.colIdx[colRelation] < 0 && r.colIdx[colName] < 0 {
		r.layout = LayoutHouseholdRows
	}
	if r.rep.Kind == KindHouseholds {
		r.rep.Layout = r.layout
	}
	for c := col(0); c < numCols; c++ {
		if r.rep.Kind == KindRegions {
			break // every column is optional; each row is checked
		}
		if r.householdRows() && (c == colRelation || c == colName) {
			continue
		}
		if columns[c].required && r.colIdx[c] < 0 {
			r.fail(nil, c, "missing_column", fmt.Sprintf("the file has no %s column (%s)", columns[c].en, columns[c].zh),
				fmt.Sprintf("文件缺少「%s」列", columns[c].zh))
		}
	}
	if r.fatal {
		r.rep.Rows = len(r.t.rows) - from
		return false
	}
	for _, raw := range r.t.rows[from:] {
		// Rows with text only in columns the import does not read (a
		// footer such as "填表人：… 审核人：…" under 序号) are not data.
		data := false
		for c := col(0); c < numCols; c++ {
			if i := r.colIdx[c]; i >= 0 && i < len(raw.cells) && strings.TrimSpace(raw.cells[i]) != "" {
				data = true
			}
		}
		if data {
			r.rows = append(r.rows, &row{num: raw.num, cells: raw.cells})
		}
	}
	return true
}

// headinglessColumns reports every column that holds data below the headings
// but has no heading of its own (a group heading merged over sub-headings
// whose row was deleted, say): its cells would otherwise be dropped without
// a word, and the file imported as if it were whole.
func (r *run) headinglessColumns(hdr rawRow, data []rawRow) {
	for i := 0; ; i++ {
		wide := false
		first := 0
		for _, raw := range data {
			if i < len(raw.cells) {
				wide = true
				if first == 0 && strings.TrimSpace(raw.cells[i]) != "" {
					first = raw.num
				}
			}
		}
		if !wide {
			return
		}
		if first == 0 || i < len(hdr.cells) && normalizeHeading(hdr.cells[i]) != "" {
			continue
		}
		letter, _ := excelize.ColumnNumberToName(i + 1)
		r.fatal = true
		r.addError(RowError{Row: hdr.num, Column: "第" + letter + "列", Reason: "unnamed_column",
			Message: fmt.Sprintf("column %s holds data (from row %d) but has no heading; give it its heading (帮扶责任人电话, 帮扶单位 …) or delete the column, and nothing was imported",
				letter, first),
			MessageZH: fmt.Sprintf("第%s列有数据（第%d行起）但没有列名；请补上列名（如帮扶责任人电话、帮扶单位）或删除该列，整个文件未导入", letter, first)})
	}
}

// reportMalformed reports the CSV rows that could not be split into cells,
// naming the column by its heading where the row is below the headings.
// They are file-level errors whatever AllowPartial says: the rows are not
// there to be checked, so the file was not read whole, and a household
// imported without them could be missing members.
func (r *run) reportMalformed() {
	if len(r.t.malformed) == 0 {
		return
	}
	r.fatal = true
	var hdr []string
	if len(r.t.rows) > 0 {
		hdr = r.t.rows[r.t.header()].cells
	}
	for _, m := range r.t.malformed {
		heading := ""
		if m.num > r.headerAt && r.headerAt > 0 && m.field < len(hdr) {
			heading = trimHeading(hdr[m.field])
		}
		r.addError(m.rowError(heading))
	}
}

func trimHeading(s string) string {
	return strings.TrimSpace(strings.NewReplacer("\n", "", "\r", "", "\ufeff", "").Replace(s))
}
