package web

import (
	"errors"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/importer"
)

// The import form (导入台账): a CSV or XLSX register uploaded, checked
// first (a dry run writes nothing) with every error by row and column in
// Chinese, then imported — by the same importer, with the same options,
// as POST /api/v1/imports. A file with any error writes nothing. The page
// keeps no upload between requests (replicas share nothing): the check
// and the import each send the file, which the form keeps selected when
// htmx swaps in the report.

type importsPage struct {
	CSRF   string
	Report *importReport
}

// importReport is what the report section shows of importer.Report.
type importReport struct {
	File    string
	DryRun  bool
	Partial bool // allow_partial: the rows without errors are imported
	Applied bool
	Message string // a refusal of the file as a whole (not a spreadsheet, too big)
	// Sheet says which kind of sheet (and layout) the importer saw.
	Sheet      string
	Rows       int
	Counts     Table
	NewRegions Table
	Errors     Table
	Omitted    int
	Warnings   Table
}

// sheetKinds names the kinds of sheet and layouts the importer tells apart.
var sheetKinds = map[string]string{
	importer.KindRegions:         "行政区划表（市、县/区、乡镇、村及其代码）",
	importer.LayoutMemberRows:    "户信息台账，每行一名家庭成员",
	importer.LayoutHouseholdRows: "户信息台账，每行一户（户主即第一名成员）",
}

func (c *Console) imports(r *http.Request, s *session) (any, error) {
	return importsPage{CSRF: s.csrf}, nil
}

// importFile checks or imports the uploaded file (the "check" button
// sends mode=dry_run), and answers the report: the section alone to htmx,
// else the whole page.
func (c *Console) importFile(w http.ResponseWriter, r *http.Request, s *session) {
	p := s.principal
	if err := importer.Authorize(p); err != nil {
		c.fail(w, r, s, err)
		return
	}
	rep := &importReport{DryRun: r.PostFormValue("mode") == "dry_run", Partial: r.PostFormValue("allow_partial") == "true"}
	status := http.StatusOK
	file, hdr, err := r.FormFile("file")
	switch {
	case errors.Is(err, http.ErrMissingFile):
		status, rep.Message = http.StatusUnprocessableEntity, "请选择要导入的CSV或XLSX文件"
	case err != nil:
		status, rep.Message = http.StatusUnprocessableEntity, uploadMessage(err)
	default:
		defer file.Close()
		rep.File = hdr.Filename
		status = c.runImport(r, p, file, hdr, rep)
		if status == 0 {
			return
		}
	}
	if status == http.StatusInternalServerError {
		c.fail(w, r, s, errors.New("web: import failed"))
		return
	}
	if r.Header.Get("HX-Request") == "true" {
		// htmx swaps only 2xx answers; the section says itself whether
		// the file was refused.
		c.draw(w, r, s, http.StatusOK, "admin_imports.html", "import-report", rep)
		return
	}
	c.show(w, r, s, pageNamed("admin_imports.html"), status, importsPage{CSRF: s.csrf, Report: rep})
}

// runImport runs the importer on the upload and fills rep; it answers the
// status the page takes.
func (c *Console) runImport(r *http.Request, p domain.Principal, file multipart.File, hdr *multipart.FileHeader, rep *importReport) int {
	res, err := c.deps.Import(r.Context(), file, importer.Options{DryRun: rep.DryRun, AllowPartial: rep.Partial,
		CreateRegions: r.PostFormValue("create_regions") == "true", Actor: p, Source: hdr.Filename, Today: domain.DateOf(c.deps.Now())})
	var de *domain.Error
	if errors.As(err, &de) {
		rep.Message = de.MessageZH
		for _, f := range de.Fields {
			rep.Message += "：" + f.MessageZH
		}
		return http.StatusUnprocessableEntity
	}
	if err != nil {
		c.deps.Log.Error("console import failed", "error", err.Error(), "request_id", p.RequestID)
		return http.StatusInternalServerError
	}
	rep.Rows, rep.Applied, rep.Omitted = res.Rows, res.Applied, res.ErrorsOmitted
	rep.Sheet = sheetKinds[res.Kind]
	if res.Kind == importer.KindHouseholds {
		rep.Sheet = sheetKinds[res.Layout]
	}
	rep.Counts = Table{Head: []string{"", "新增", "更新", "未变", "跳过"}}
	kinds := []struct {
		what string
		n    importer.Counts
	}{{"户", res.Households}, {"家庭成员", res.Members}, {"帮扶干部", res.Cadres}, {"帮扶单位", res.Units}, {"结对", res.Pairings}, {"行政区划", res.Regions}}
	switch {
	case res.Kind == importer.KindRegions:
		kinds = kinds[len(kinds)-1:] // a region sheet writes regions only
	case res.Regions == importer.Counts{}:
		kinds = kinds[:len(kinds)-1]
	}
	for _, k := range kinds {
		rep.Counts.Rows = append(rep.Counts.Rows, []Cell{textCell(k.what), numCell(int64(k.n.Created)), numCell(int64(k.n.Updated)),
			numCell(int64(k.n.Unchanged)), numCell(int64(k.n.Skipped))})
	}
	rep.NewRegions = Table{Head: []string{"行", "级别", "名称", "代码", "上级"}}
	for _, n := range res.NewRegions {
		rep.NewRegions.Rows = append(rep.NewRegions.Rows, []Cell{textCell("第" + strconv.Itoa(n.Row) + "行"), textCell(label("region_level", n.Level)),
			textCell(n.Name), textCell(n.Code), textCell(n.Parent)})
	}
	rep.Errors = rowErrors(res.Errors, "文件中没有错误。")
	rep.Warnings = rowErrors(res.Warnings, "")
	if !res.OK() {
		return http.StatusUnprocessableEntity
	}
	return http.StatusOK
}

// rowErrors lays out the importer's problems by row (the file as a whole
// first), in the order the importer gives within a row: by column.
func rowErrors(errs []importer.RowError, empty string) Table {
	t := Table{Head: []string{"行", "列", "问题"}, Empty: empty}
	errs = slices.Clone(errs)
	slices.SortStableFunc(errs, func(a, b importer.RowError) int { return a.Row - b.Row })
	for _, e := range errs {
		row := "整个文件"
		if e.Row > 0 {
			row = "第" + strconv.Itoa(e.Row) + "行"
		}
		t.Rows = append(t.Rows, []Cell{textCell(row), textCell(e.Column), {Text: e.MessageZH, Tone: "bad"}})
	}
	return t
}

func uploadMessage(err error) string {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return "文件过大（不能超过64MB）"
	}
	return "上传的文件无法读取，请检查后重试"
}

// registerExport answers the household register of the user's region as
// the 台账 the import page reads back (importer.Export authorises).
func (c *Console) registerExport(w http.ResponseWriter, r *http.Request, s *session) {
	d, err := c.deps.ExportRegister(r.Context(), importer.ExportQuery{Actor: s.principal, Format: r.URL.Query().Get("format"), Today: domain.DateOf(c.deps.Now())})
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.download(w, s, d.ContentType, d.Filename, d.Write)
}
