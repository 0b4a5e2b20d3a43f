package client

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// Compression on the wire, both ways. Answers: the client asks for gzip
// itself (Accept-Encoding: gzip) and decodes it itself, whatever
// transport Config.HTTPClient has — Go's transport decodes only when it
// added the header, and not at all with DisableCompression. Bodies: a
// JSON body (a push above all; never a photo's bytes) of minGzipBody
// bytes or more goes gzipped once the server has said it takes gzipped
// bodies (Accept-Encoding: gzip on any answer to a request with a body,
// RFC 7694 §3; the first login or token refresh says it). A server that
// never says so (one older than compression, which would read the gzip as
// broken JSON and refuse the batch) gets plain bodies. A gzipped body
// refused as such — 415 (a proxy, a server rolled back) or 400
// corrupt_encoding (a proxy that decoded it on the way) — sends the same
// request again plain at once, and the client keeps to plain bodies from
// then on.
//
// The bytes a push's Idempotency-Key binds are the plain ones (the server
// hashes the body decoded), so a batch may go gzipped on one attempt and
// plain on the next and still be the same batch.

// minGzipBody: below about a packet gzip saves no round trip.
const minGzipBody = 1 << 10

// gzipBodyLevel: a phone's batch is compressed once and sent over a link
// far slower than the compressor, so bytes count more than CPU.
const gzipBodyLevel = gzip.DefaultCompression

// bodyCoding is what the client knows of the server's taste in bodies,
// and the last body it compressed (a push retried sends the same bytes
// again, and is compressed once).
type bodyCoding struct {
	mu      sync.Mutex
	offered bool // an answer said Accept-Encoding: gzip
	refused bool // a gzipped body was refused as such (refusedCoding)

	last     []byte // a copy of the plain body last compressed (a caller may reuse its buffer)…
	lastGzip []byte // …and its gzip
}

// encode returns what to send for body and its Content-Encoding ("" for
// plain). Only JSON goes gzipped (contentType "" is the client's JSON
// default): photo bytes are JPEG already, and their routes take them as
// they are, hashed as sent.
func (b *bodyCoding) encode(body []byte, contentType string) ([]byte, string, error) {
	if contentType != "" && contentType != "application/json" {
		return body, "", nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.offered || b.refused || len(body) < minGzipBody {
		return body, "", nil
	}
	if bytes.Equal(b.last, body) {
		return b.lastGzip, "gzip", nil
	}
	var out bytes.Buffer
	zw, err := gzip.NewWriterLevel(&out, gzipBodyLevel)
	if err != nil {
		return nil, "", err
	}
	if _, err := zw.Write(body); err != nil {
		return nil, "", err
	}
	if err := zw.Close(); err != nil {
		return nil, "", err
	}
	b.last, b.lastGzip = bytes.Clone(body), out.Bytes()
	return b.lastGzip, "gzip", nil
}

// learn reads an answer's Accept-Encoding: the codings the server takes
// in request bodies.
func (b *bodyCoding) learn(h http.Header) {
	for _, v := range h.Values("Accept-Encoding") {
		for _, c := range strings.Split(v, ",") {
			name, params, _ := strings.Cut(c, ";")
			if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
				continue
			}
			q := 1.0
			if k, val, ok := strings.Cut(params, "="); ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
					q = f
				}
			}
			if q > 0 {
				b.mu.Lock()
				b.offered = true
				b.mu.Unlock()
				return
			}
		}
	}
}

// refusedCoding tells an answer that refuses the body's encoding itself:
// 415, or 400 corrupt_encoding — the gzip did not arrive as sent (a proxy
// that decodes bodies but keeps the header).
func refusedCoding(method, path string, a answer) bool {
	return a.status == http.StatusUnsupportedMediaType ||
		a.status == http.StatusBadRequest && problemOf(method, path, a).Reason() == "corrupt_encoding"
}

// refuse keeps to plain bodies from now on.
func (b *bodyCoding) refuse() {
	b.mu.Lock()
	b.refused, b.last, b.lastGzip = true, nil, nil
	b.mu.Unlock()
}

// readAnswer reads an answer's body whole, decoded from its
// Content-Encoding.
func readAnswer(res *http.Response) ([]byte, error) {
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	switch coding := strings.ToLower(strings.TrimSpace(res.Header.Get("Content-Encoding"))); coding {
	case "", "identity":
		return b, nil
	case "gzip", "x-gzip":
		if len(b) == 0 {
			return b, nil
		}
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(zr)
	default:
		return nil, fmt.Errorf("answer in an encoding the client did not ask for: %q", coding)
	}
}
