package server

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/importer"
)

// maxImportBody bounds an uploaded spreadsheet.
const maxImportBody = 64 << 20

// importFile takes a CSV or XLSX 台账 as the raw body or as the "file" part
// of a multipart form. A file with errors writes nothing (unless
// allow_partial=true) and answers 422 with every error by row and column.
func (h *handlers) importFile(c *gin.Context) {
	p := principal(c)
	if err := importer.Authorize(p); err != nil {
		writeError(c, err)
		return
	}
	q := queryParams{c: c}
	opt := importer.Options{AllowPartial: q.boolean("allow_partial"), DryRun: q.boolean("dry_run"), CreateRegions: q.boolean("create_regions"), Actor: p, Source: q.text("filename", 200), Today: domain.DateOf(h.Now())}
	if err := q.err(); err != nil {
		writeError(c, err)
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxImportBody)
	var body io.Reader = c.Request.Body
	if mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type")); mt == "multipart/form-data" {
		f, hdr, err := formFile(c)
		if err != nil {
			writeError(c, uploadError(err))
			return
		}
		defer f.Close()
		body = f
		if opt.Source == "" {
			opt.Source = hdr.Filename
		}
	}
	rep, err := h.Import(c.Request.Context(), body, opt)
	if err != nil {
		writeError(c, uploadError(err))
		return
	}
	if !rep.Applied && !rep.DryRun {
		rejected := &domain.Error{Code: domain.CodeInvalid, Message: "the file has errors; nothing was imported", MessageZH: "文件中有错误，未导入任何数据",
			Fields: rep.FieldErrors()}
		writeErrorWith(c, rejected, "report", rep)
		return
	}
	c.JSON(http.StatusOK, rep)
}

// exportRegister answers the household register and pairings of a region
// as the county 台账 the import reads back (importer.Export authorises).
func (h *handlers) exportRegister(c *gin.Context) {
	q := queryParams{c: c}
	eq := importer.ExportQuery{Actor: principal(c), RegionID: q.uuid("region_id"), Format: q.text("format", 10), Today: domain.DateOf(h.Now())}
	if err := q.err(); err != nil {
		writeError(c, err)
		return
	}
	d, err := h.ExportRegister(c.Request.Context(), eq)
	if err != nil {
		writeError(c, err)
		return
	}
	h.download(c, d.ContentType, d.Filename, d.Write)
}

// formFile is the one file of a multipart upload, its part named "file".
// A form carrying more than one file part — two under "file", or another
// beside it — is refused (422 at file) before any is read: which of them
// was meant is not the server's guess, and nothing is imported.
func formFile(c *gin.Context) (multipart.File, *multipart.FileHeader, error) {
	f, hdr, err := c.Request.FormFile("file")
	if err != nil {
		return nil, nil, err
	}
	files := 0
	for _, hs := range c.Request.MultipartForm.File {
		files += len(hs)
	}
	if files > 1 {
		f.Close()
		return nil, nil, domain.Invalid(domain.FieldError{Field: "file", Reason: "too_many_files",
			Message: "the form carries " + strconv.Itoa(files) + " files; send one, as the part named \"file\"", MessageZH: "一次只能上传一个文件（表单中名为file的部分）"})
	}
	return f, hdr, nil
}

func uploadError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &domain.Error{Code: domain.CodeTooLarge, Message: "the file is larger than 64 MiB", MessageZH: "文件超过64MB",
			Fields: []domain.FieldError{{Field: "file", Reason: "too_large", Message: "file too large", MessageZH: "文件过大"}}}
	}
	var de *domain.Error
	if errors.As(err, &de) {
		return err
	}
	if errors.Is(err, http.ErrMissingFile) {
		return malformed("file", "required", "the form has no part named \"file\"", "表单中没有名为file的文件")
	}
	// Anything else from reading the upload is a broken multipart body or
	// a dropped connection: the client's to fix or retry, never a 500.
	return &domain.Error{Code: codeMalformed, Message: "the upload could not be read", MessageZH: "上传的文件无法读取，请检查后重试", Err: err,
		Fields: []domain.FieldError{{Field: "file", Reason: "unreadable", Message: "the upload could not be read", MessageZH: "上传的文件无法读取，请检查后重试"}}}
}
