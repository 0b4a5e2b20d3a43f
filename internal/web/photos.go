package web

import (
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// Visit photos reach the browser through the console, never from the
// bucket: each request asks the photos service with the session's
// Principal, so a photo of a household out of the caller's sight is the
// same Chinese 404 page as no photo at all.

// photoURL is a photo's full-size route; its thumbnail is photoURL + "/thumbnail".
func photoURL(id uuid.UUID) string { return "/ui/photos/" + id.String() }

// photoContent streams a photo's bytes.
func (c *Console) photoContent(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := photoID(r)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	ph, rc, err := c.deps.Photos.Content(r.Context(), s.principal, id)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	defer rc.Close()
	sendImage(w, r, rc, ph.Size, ph.MediaType, ph.SHA256)
}

// photoThumbnail streams a photo's thumbnail (made now if the worker has
// not made it yet).
func (c *Console) photoThumbnail(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := photoID(r)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	ph, rc, size, err := c.deps.Photos.Thumbnail(r.Context(), s.principal, id)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	defer rc.Close()
	sendImage(w, r, rc, size, "image/jpeg", ph.SHA256+"-thumb")
}

func photoID(r *http.Request) (uuid.UUID, error) {
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		return uuid.Nil, domain.NotFound("photo")
	}
	return id, nil
}

// sendImage sends stored bytes. They are content-addressed and never
// change, so the hash is a strong ETag and the browser may keep them —
// privately: they are someone's home.
func sendImage(w http.ResponseWriter, r *http.Request, body io.Reader, size int64, mediaType, etag string) {
	tag := `"` + etag + `"`
	h := w.Header()
	h.Set("ETag", tag)
	h.Set("Cache-Control", "private, max-age=86400, immutable")
	if strings.Contains(r.Header.Get("If-None-Match"), tag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", mediaType)
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = io.Copy(w, body)
	}
}
