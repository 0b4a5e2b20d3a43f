package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"
	"github.com/klauspost/compress/gzhttp"
	"github.com/klauspost/compress/gzip"

	"github.com/fieldvisit/fieldvisit/domain"
)

// Compression of the big answers a phone or a county office downloads
// (pull pages, snapshots, reports, CSV 台账) and of request bodies: a
// 2,000-household snapshot is 5.2 MB of JSON, over ten minutes at
// 64 kbit/s, and 0.4 MB gzipped. Only gzip is spoken. The phones' own
// HTTP stacks (OkHttp, URLSession) ask for it and decode it by
// themselves; zstd, measured on this box, would save another tenth of the
// bytes for a third to a half more compression CPU, no phone stack asks
// for it, and its request bodies would be a second decoder to bound
// against bombs (docs/benchmarks.md, "Field link").

// gzipLevel is the answers' gzip level. Level 1 of klauspost's deflate
// makes the snapshot 4 % larger than level 6 does, for less than half the
// CPU (docs/benchmarks.md), and the server's CPU is what a fresh phone's
// pull is measured against.
const gzipLevel = 1

// minCompressedAnswer: below about a packet, compressing saves no round
// trip and costs a gzip header and the CPU.
const minCompressedAnswer = 1024

// compressibleTypes are the answers worth compressing. XLSX is a zip
// already, photos are JPEG: neither is listed, so neither is touched.
var compressibleTypes = []string{"application/json", "application/problem+json", "text/csv"}

var answerEncoder = sync.OnceValue(func() func(http.Handler) http.HandlerFunc {
	wrap, err := gzhttp.NewWrapper(
		gzhttp.EnableZstd(false),
		gzhttp.CompressionLevel(gzipLevel),
		gzhttp.MinSize(minCompressedAnswer),
		gzhttp.ContentTypes(compressibleTypes),
	)
	if err != nil {
		panic(err) // constant options: a bad one is a bug found by any test
	}
	return wrap
})

// compressed answers the route gzipped when the caller's Accept-Encoding
// allows it (q-values honoured; identity otherwise), with
// Vary: Accept-Encoding on every answer. gzhttp decides once the first
// minCompressedAnswer bytes, the Content-Length or a flush are known, so
// small answers and problems go as they are, and a streamed answer still
// streams: Flush pushes out what the compressor holds.
func compressed(c *gin.Context) {
	plain := c.Writer
	req := c.Request
	if ae := req.Header.Get("Accept-Encoding"); ae != "" {
		if q, ok := wildcardOnly(ae); ok {
			// gzhttp reads only a named gzip; "*" allows it too (RFC 9110
			// §12.5.3), at the wildcard's weight.
			req = req.Clone(req.Context())
			req.Header.Set("Accept-Encoding", ae+", gzip;q="+q)
		}
	}
	answerEncoder()(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Restored before gzhttp finishes the stream, also on a panic, so
		// that recoverProblem writes its 500 to the connection itself.
		defer func() { c.Writer = plain }()
		c.Writer = &encodedWriter{ResponseWriter: plain, enc: w}
		c.Next()
	})).ServeHTTP(plain, req)
}

// wildcardOnly reports the weight an Accept-Encoding gives "*" when it
// names no gzip of its own (ok false when it names gzip, or no "*").
func wildcardOnly(accept string) (q string, ok bool) {
	for _, part := range strings.Split(accept, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		switch strings.ToLower(strings.TrimSpace(coding)) {
		case "gzip", "x-gzip":
			return "", false
		case "*":
			q, ok = "1", true
			if v, found := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q="); found {
				q = v
			}
		}
	}
	return q, ok
}

// encodedWriter is gin's writer for a compressed route: the body and the
// status go through gzhttp's writer, which picks the encoding and writes
// to the connection; what gin asks about the answer (status, bytes sent)
// it learns from the connection's writer, so the request log counts the
// bytes on the wire.
type encodedWriter struct {
	gin.ResponseWriter                     // the connection's
	enc                http.ResponseWriter // gzhttp's, over the connection's
}

func (w *encodedWriter) WriteHeader(code int) {
	w.ResponseWriter.WriteHeader(code) // gin's Status() reports it from now on
	w.enc.WriteHeader(code)
}

func (w *encodedWriter) Write(b []byte) (int, error) { return w.enc.Write(b) }

func (w *encodedWriter) WriteString(s string) (int, error) { return io.WriteString(w.enc, s) }

func (w *encodedWriter) Flush() { w.enc.(http.Flusher).Flush() }

// WriteHeaderNow waits: the headers may go out only once gzhttp has chosen
// the encoding (first bytes, a flush, or the end of the handler, where gin
// sends a bodiless answer's headers itself).
func (w *encodedWriter) WriteHeaderNow() {}

// Unwrap lets http.ResponseController reach the connection (deadlines).
func (w *encodedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// readBody reads a request body whole, decoded from its Content-Encoding
// (none, identity, or gzip), and bounded by limit both as sent and as
// decoded: a few KB of gzip that expand to gigabytes are refused with 413
// once limit bytes have come out, holding no more than that in memory. An
// encoding the server does not speak is 415 naming the header; a gzip
// stream that is not one is 400 naming the body. The bytes returned are
// what the client compressed, so whatever binds to the body (a push's
// Idempotency-Key) binds to the same bytes however they travelled.
func readBody(c *gin.Context, limit int64) ([]byte, error) {
	// Says, on whatever the answer is, which codings a body may come in
	// (RFC 7694 §3): a client gzips its bodies only to a server that says so.
	c.Header("Accept-Encoding", "gzip")
	coding, err := contentCoding(c.Request.Header)
	if err != nil {
		return nil, err
	}
	if coding == "" {
		b, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
		if err != nil {
			return nil, bodyReadError(err, limit)
		}
		return b, nil
	}
	sent := &sentBody{r: http.MaxBytesReader(c.Writer, c.Request.Body, limit)}
	zr := gzipReaders.Get().(*gzip.Reader)
	defer func() {
		_ = zr.Reset(eofReader{}) // drop the request body before pooling
		gzipReaders.Put(zr)
	}()
	b, err := readGzip(zr, sent, limit)
	switch {
	case err == nil:
		return b, nil
	case sent.err != nil:
		// The connection failed, was too slow (the answer is then 408), or
		// sent more than limit compressed bytes: not the stream's fault.
		return nil, bodyReadError(sent.err, limit)
	case errors.Is(err, errDecodedTooLarge):
		return nil, &domain.Error{Code: domain.CodeTooLarge, Message: fmt.Sprintf("body is larger than %d bytes once decoded", limit), MessageZH: "请求内容解压后超过大小限制",
			Fields: []domain.FieldError{{Field: "body", Reason: "too_large", Message: "decoded body too large", MessageZH: "请求内容解压后过大"}}}
	default:
		why := err.Error()
		if errors.Is(err, io.ErrUnexpectedEOF) {
			// Also what stray bytes after the stream's end read as (the
			// start of a second member that never comes).
			why = "it ends in the middle of a member (cut short, or stray bytes after its end)"
		}
		return nil, malformed("body", "corrupt_encoding", "the body is not a valid "+coding+" stream: "+why, "请求内容的"+coding+"压缩数据已损坏，请重新发送")
	}
}

var gzipReaders = sync.Pool{New: func() any { return new(gzip.Reader) }}

func readGzip(zr *gzip.Reader, sent io.Reader, limit int64) ([]byte, error) {
	if err := zr.Reset(sent); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF // an empty body is no gzip stream either
		}
		return nil, err
	}
	return readAtMost(zr, limit)
}

// eofReader is an empty body, what a pooled gzip reader is reset onto (a
// byte reader, so the reset allocates no buffer around it).
type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }
func (eofReader) ReadByte() (byte, error)  { return 0, io.EOF }

// sentBody is the body as it arrives on the connection; it remembers a
// failure to read it, to tell a broken link from a broken stream.
type sentBody struct {
	r   io.Reader
	err error
}

func (s *sentBody) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}

var errDecodedTooLarge = errors.New("decoded body too large")

// readAtMost reads r to its end, or fails with errDecodedTooLarge past
// limit bytes. The body is gathered in pieces (4 KiB, doubling up to
// 256 KiB) and joined once it is known to fit, so a body that turns out
// too large has cost limit+1 bytes, and one that fits twice its size,
// never the repeated regrowth of one buffer.
func readAtMost(r io.Reader, limit int64) ([]byte, error) {
	var pieces [][]byte
	var total int64
	for size := 4 << 10; ; size = min(2*size, 256<<10) {
		p := make([]byte, min(int64(size), limit+1-total)) // one byte past limit tells too large
		n := 0
		var err error
		for n < len(p) && err == nil {
			var m int
			m, err = r.Read(p[n:])
			n += m
		}
		total += int64(n)
		if total > limit {
			return nil, errDecodedTooLarge
		}
		pieces = append(pieces, p[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err // io.ErrUnexpectedEOF here is a truncated stream
		}
	}
	if len(pieces) == 1 {
		return pieces[0], nil
	}
	out := make([]byte, 0, total)
	for _, p := range pieces {
		out = append(out, p...)
	}
	return out, nil
}

// bodyAsSent guards the routes that store a body byte for byte, hashed as
// it arrives (photos, their chunks, imported files): a body in any
// Content-Encoding is refused with 415 naming the header rather than
// stored as its encoding. Their bodies are JPEG, PNG, WebP or XLSX,
// compressed already.
func bodyAsSent(c *gin.Context) {
	if coding, err := contentCoding(c.Request.Header); err != nil || coding != "" {
		c.Header("Accept-Encoding", "identity") // RFC 7694 §3: no coding here
		const msg = "this route takes its body as it is: send it without Content-Encoding"
		writeError(c, &domain.Error{Code: domain.CodeUnsupported, Message: msg, MessageZH: "该接口不接受压缩的请求内容，请直接发送原文件",
			Fields: []domain.FieldError{{Field: "Content-Encoding", Reason: "unsupported_encoding", Message: msg, MessageZH: "请去掉Content-Encoding"}}})
		return
	}
	c.Next()
}

// contentCoding is the one coding a request body is sent in: "" for none
// (or identity), "gzip" (x-gzip is its old name, RFC 9110 §8.4.1.3).
// Anything else, or codings stacked, is 415 naming the header.
func contentCoding(h http.Header) (string, error) {
	var codings []string
	for _, v := range h.Values("Content-Encoding") {
		for _, c := range strings.Split(v, ",") {
			c = strings.ToLower(strings.TrimSpace(c))
			if c != "" && c != "identity" {
				codings = append(codings, c)
			}
		}
	}
	switch {
	case len(codings) == 0:
		return "", nil
	case len(codings) == 1 && (codings[0] == "gzip" || codings[0] == "x-gzip"):
		return "gzip", nil
	}
	const msg = "Content-Encoding must be gzip or absent"
	return "", &domain.Error{Code: domain.CodeUnsupported, Message: msg, MessageZH: "请求内容的压缩格式不受支持，请使用gzip或不压缩",
		Fields: []domain.FieldError{{Field: "Content-Encoding", Reason: "unsupported_encoding", Message: msg + ", not " + strings.Join(codings, ", "),
			MessageZH: "仅支持gzip压缩"}}}
}
