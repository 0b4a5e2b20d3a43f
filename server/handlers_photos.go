package server

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/photos"
	"github.com/fieldvisit/fieldvisit/wire"
)

// putPhoto takes a whole photo as the raw body. The body is streamed to
// the store; nothing here holds it. It runs behind authenticateToken: the
// service reads the caller's account with the photo's state (uploadLogin);
// a request refused before that reloads it alone (accountCheck).
func (h *handlers) putPhoto(c *gin.Context) {
	who := h.accountCheck(c)
	// A refused account answers 401 before anything else, as behind
	// authenticate.
	refuse := func(err error) {
		if _, aerr := who(); aerr != nil {
			err = aerr
		}
		writeError(c, err)
	}
	id, err := pathID(c, "id", "photo")
	if err != nil {
		refuse(err)
		return
	}
	q := queryParams{c: c}
	visitID := q.uuid("visit_id")
	if err := q.fe.Err(); err != nil {
		refuse(err)
		return
	}
	max := h.Photos.Config().MaxSize
	if c.Request.ContentLength > max {
		refuse(tooLargeBody(max))
		return
	}
	d := photos.Declared{PhotoID: id, SHA256: c.GetHeader("X-Content-SHA256"), ContentType: c.GetHeader("Content-Type"),
		Size: c.Request.ContentLength, VisitID: visitID}
	body := http.MaxBytesReader(c.Writer, c.Request.Body, max)
	ph, created, err := h.Photos.PutAs(c.Request.Context(), uploadLogin(c), d, body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			err = tooLargeBody(max)
		}
		writeError(c, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	c.JSON(status, wire.FromPhoto(ph))
}

func tooLargeBody(max int64) error {
	return &domain.Error{Code: domain.CodeTooLarge, Message: "a photo may have at most " + strconv.FormatInt(max, 10) + " bytes",
		MessageZH: "照片超过大小限制", Fields: []domain.FieldError{{Field: "body", Reason: "too_large", Message: "body too large", MessageZH: "请求内容过大"}}}
}

func (h *handlers) getPhoto(c *gin.Context) {
	respondOne(c, "photo", h.Photos.Photo, wire.FromPhoto)
}

// photoContent streams a photo's bytes from the store to a caller allowed
// to see it (a proxied read: the bucket stays private).
func (h *handlers) photoContent(c *gin.Context) {
	id, err := pathID(c, "id", "photo")
	if err != nil {
		writeError(c, err)
		return
	}
	ph, rc, err := h.Photos.Content(c.Request.Context(), principal(c), id)
	if err != nil {
		writeError(c, err)
		return
	}
	defer rc.Close()
	streamImage(c, rc, ph.Size, ph.MediaType, ph.SHA256)
}

func (h *handlers) photoThumbnail(c *gin.Context) {
	id, err := pathID(c, "id", "photo")
	if err != nil {
		writeError(c, err)
		return
	}
	ph, rc, size, err := h.Photos.Thumbnail(c.Request.Context(), principal(c), id)
	if err != nil {
		writeError(c, err)
		return
	}
	defer rc.Close()
	streamImage(c, rc, size, "image/jpeg", ph.SHA256+"-thumb")
}

// streamImage sends stored bytes; content-addressed bytes never change, so
// the hash is a strong ETag.
func streamImage(c *gin.Context, rc io.Reader, size int64, mediaType, etag string) {
	tag := `"` + etag + `"`
	c.Header("ETag", tag)
	c.Header("Cache-Control", "private, max-age=86400, immutable")
	c.Header("X-Content-Type-Options", "nosniff")
	if match := c.GetHeader("If-None-Match"); match != "" && strings.Contains(match, tag) {
		c.Status(http.StatusNotModified)
		return
	}
	c.DataFromReader(http.StatusOK, size, mediaType, rc, nil)
}

func (h *handlers) startUpload(c *gin.Context) {
	var in wire.StartUpload
	if err := bindJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	if in.PhotoID == uuid.Nil {
		writeError(c, domain.Invalid(domain.FieldError{Field: "/photo_id", Reason: "required", Message: "/photo_id is required", MessageZH: "照片编号不能为空"}))
		return
	}
	d := photos.Declared{PhotoID: in.PhotoID, SHA256: in.SHA256, ContentType: in.ContentType, Size: in.Size, VisitID: in.VisitID}
	up, created, err := h.Photos.StartUpload(c.Request.Context(), principal(c), in.Method, d)
	if err != nil {
		writeError(c, renamedFields(err, startFields))
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	h.respondUpload(c, status, up)
}

// startFields are the JSON fields a resumable upload's start call sends
// what a PUT sends in headers in; its errors are named by them.
var startFields = map[string]string{"X-Content-SHA256": "/sha256", "Content-Type": "/content_type", "body": "/size"}

// completeFields name a completion's errors: the hash was declared in the
// start call's body (the image's own faults stay at "body").
var completeFields = map[string]string{"X-Content-SHA256": "/sha256"}

// renamedFields is err with its field errors renamed by names.
func renamedFields(err error, names map[string]string) error {
	var de *domain.Error
	if !errors.As(err, &de) || len(de.Fields) == 0 {
		return err
	}
	out := *de
	out.Fields = make([]domain.FieldError, len(de.Fields))
	for i, f := range de.Fields {
		if to, ok := names[f.Field]; ok {
			f.Field = to
		}
		out.Fields[i] = f
	}
	return &out
}

func (h *handlers) uploadStatus(c *gin.Context) {
	id, err := pathID(c, "id", "upload")
	if err != nil {
		writeError(c, err)
		return
	}
	up, err := h.Photos.UploadStatus(c.Request.Context(), principal(c), id)
	if err != nil {
		writeError(c, err)
		return
	}
	h.respondUpload(c, http.StatusOK, up)
}

// appendChunk stores one chunk at the offset the Upload-Offset header
// names (tus-like). A wrong offset is a 409 that carries the right one.
func (h *handlers) appendChunk(c *gin.Context) {
	id, err := pathID(c, "id", "upload")
	if err != nil {
		writeError(c, err)
		return
	}
	if ct := c.ContentType(); ct != "application/offset+octet-stream" && ct != "application/octet-stream" {
		writeError(c, &domain.Error{Code: domain.CodeUnsupported, Message: "a chunk is sent as application/offset+octet-stream", MessageZH: "分段内容类型应为application/offset+octet-stream",
			Fields: []domain.FieldError{{Field: "Content-Type", Reason: "unsupported_media_type", Message: "use application/offset+octet-stream", MessageZH: "内容类型不正确"}}})
		return
	}
	off, err := strconv.ParseInt(c.GetHeader("Upload-Offset"), 10, 64)
	if err != nil || off < 0 {
		writeError(c, domain.Invalid(domain.FieldError{Field: "Upload-Offset", Reason: "invalid_format",
			Message: "Upload-Offset must be the byte offset the chunk starts at", MessageZH: "Upload-Offset应为本段的起始字节位置"}))
		return
	}
	up, err := h.Photos.AppendChunk(c.Request.Context(), principal(c), id, off, c.Request.Body)
	if err != nil {
		var om *photos.OffsetMismatch
		if errors.As(err, &om) {
			c.Header("Upload-Offset", strconv.FormatInt(om.Offset, 10))
		}
		writeError(c, err)
		return
	}
	h.respondUpload(c, http.StatusOK, up)
}

func (h *handlers) completeUpload(c *gin.Context) {
	id, err := pathID(c, "id", "upload")
	if err != nil {
		writeError(c, err)
		return
	}
	ph, created, err := h.Photos.CompleteUpload(c.Request.Context(), principal(c), id)
	if err != nil {
		writeError(c, renamedFields(err, completeFields))
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	c.JSON(status, wire.FromPhoto(ph))
}

func (h *handlers) respondUpload(c *gin.Context, status int, up photos.Upload) {
	out := wire.Upload{ID: up.ID, PhotoID: up.PhotoID, Method: up.Method, SHA256: up.SHA256, Size: up.Size, MediaType: up.MediaType,
		Offset: up.Offset, ChunkMax: h.Photos.Config().MaxChunk, Complete: up.Complete}
	if !up.ExpiresAt.IsZero() {
		t := up.ExpiresAt
		out.ExpiresAt = &t
	}
	if up.Photo != nil {
		p := wire.FromPhoto(*up.Photo)
		out.Photo = &p
	}
	if up.Post != nil {
		out.Post = &wire.PostForm{URL: up.Post.URL, Fields: up.Post.Fields, ExpiresAt: up.Post.ExpiresAt}
	}
	c.Header("Upload-Offset", strconv.FormatInt(up.Offset, 10))
	c.Header("Upload-Length", strconv.FormatInt(up.Size, 10))
	c.Header("Cache-Control", "no-store")
	c.JSON(status, out)
}
