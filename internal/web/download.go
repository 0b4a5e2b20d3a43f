package web

import (
	"io"
	"net/http"
	"net/url"
)

// download streams a file a service wrote (a 台账 export), named for the
// browser's save dialog; the service checked and authorised the request
// before this is called, so an error here is a broken stream, logged.
func (c *Console) download(w http.ResponseWriter, s *session, contentType, filename string, write func(io.Writer) error) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(filename))
	w.WriteHeader(http.StatusOK)
	if err := write(w); err != nil {
		c.deps.Log.Error("console download failed mid-stream", "error", err.Error(), "file", filename, "request_id", s.principal.RequestID)
	}
}
