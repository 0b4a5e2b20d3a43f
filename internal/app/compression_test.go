package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/klauspost/compress/gzip"

	"github.com/fieldvisit/fieldvisit/client"
	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/wire"
)

// Compression on the field link (issue 17): the big answers go gzipped as
// the caller's Accept-Encoding allows, and JSON bodies — a push above all —
// may come gzipped, bounded as decoded, with the Idempotency-Key bound to
// the decoded bytes.

// wireAnswer is an answer as it crossed the wire (Wire) and as a client
// reads it (Body, decoded from its Content-Encoding; what openapi.yaml
// describes and what is validated).
type wireAnswer struct {
	response
	Wire []byte
}

// exchange sends a request with its own headers through the real router.
func (e *testEnv) exchange(t *testing.T, method, path, token string, header http.Header, body io.Reader) wireAnswer {
	t.Helper()
	req := newRequest(method, path, token, header, body)
	rec := httptest.NewRecorder()
	e.app.Handler.ServeHTTP(rec, req)
	return e.readAnswer(t, req, rec)
}

func newRequest(method, path, token string, header http.Header, body io.Reader) *http.Request {
	req := httptest.NewRequest(method, path, body)
	if body != nil && req.ContentLength == 0 {
		req.ContentLength = -1 // streamed, as a phone sends what it compresses on the fly
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

// readAnswer decodes a recorded answer and validates it against
// openapi.yaml.
func (e *testEnv) readAnswer(t *testing.T, req *http.Request, rec *httptest.ResponseRecorder) wireAnswer {
	t.Helper()
	a := wireAnswer{response: response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}, Wire: rec.Body.Bytes()}
	if a.Status >= 500 {
		t.Errorf("%s %s answered %d: %s", req.Method, req.URL, a.Status, a.Body)
	}
	switch ce := a.Header.Get("Content-Encoding"); ce {
	case "":
	case "gzip":
		a.Body = gunzip(t, a.Wire)
	default:
		t.Fatalf("%s %s answered in %q, which no test asked for", req.Method, req.URL, ce)
	}
	e.validator.CheckResponse(t, httptest.NewRequest(req.Method, req.URL.String(), nil), a.Status, a.Header, a.Body)
	return a
}

func mustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gzipped(t testing.TB, b []byte, level int) []byte {
	t.Helper()
	var out bytes.Buffer
	zw, err := gzip.NewWriterLevel(&out, level)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func gunzip(t testing.TB, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("gzip answer: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gzip answer: %v", err)
	}
	return out
}

func headers(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

// pushHeaders are a push's headers, with the body's Content-Encoding.
func pushHeaders(key, coding string) http.Header {
	h := headers("Content-Type", "application/json", "Idempotency-Key", key)
	if coding != "" {
		h.Set("Content-Encoding", coding)
	}
	return h
}

// widenScope pairs n more households with cadre A, so that the cadre's
// snapshot is well above the size worth compressing.
func (e *testEnv) widenScope(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		h := e.addHousehold(t, e.villageA, fmt.Sprintf("压缩户%d", i), fmt.Sprintf("41012219700101%03d", 500+i))
		e.pair(t, h.Household.ID, e.cadreA.ID)
	}
}

// visitBatchBody is a push batch of n new visits to household h, as the
// phone serialises it once.
func visitBatchBody(t *testing.T, h uuid.UUID, n int, notes string) []byte {
	t.Helper()
	changes := make([]map[string]any, n)
	for i := range changes {
		changes[i] = visitChange(uuid.New(), h, fmt.Sprintf("%s（第%d次）：了解家庭收入、医疗报销和住房安全情况", notes, i+1), 34.7)
	}
	return mustMarshal(t, batch("phone-gz", time.Now(), changes...))
}

// TestAnswersGoCompressedAsTheCallerAccepts: the snapshot, a pull page,
// reports and CSV 台账 go gzipped exactly when Accept-Encoding allows
// gzip (q-values honoured; identity otherwise), say Vary: Accept-Encoding,
// and decode to what an uncompressed caller gets; tiny answers, XLSX
// (a zip already) and photos (JPEG) go as they are.
func TestAnswersGoCompressedAsTheCallerAccepts(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		e.widenScope(t, 8)
		tok := e.login(t, "cadre-a")
		e.push(t, tok, "visits-for-the-ledger", visitBatchBody(t, e.householdA.Household.ID, 12, "入户走访")).pushResult(t)
		snapshot := "/api/v1/sync/snapshot?limit=500"
		plain := e.exchange(t, "GET", snapshot, tok, nil, nil)
		if plain.Status != http.StatusOK || plain.Header.Get("Content-Encoding") != "" || len(plain.Body) < 4<<10 {
			t.Fatalf("snapshot without Accept-Encoding: %d %q, %d bytes", plain.Status, plain.Header.Get("Content-Encoding"), len(plain.Body))
		}
		var want wire.PullResponse
		plain.json(t, &want)

		for _, tc := range []struct{ accept, coding string }{
			{"", ""},
			{"gzip", "gzip"},
			{"GZIP", "gzip"},
			{"identity", ""},
			{"*;q=0", ""},
			{"*", "gzip"},
			{"br, *;q=0.1", "gzip"},
			{"gzip;q=0, *", ""},
			{"gzip;q=0", ""},
			{"gzip;q=0, identity", ""},
			{"br;q=1.0, gzip;q=0.5", "gzip"},
			{"gzip;q=0.001", "gzip"},
			{"deflate, br, zstd", ""},
			{"x-unknown", ""},
		} {
			t.Run("Accept-Encoding "+tc.accept, func(t *testing.T) {
				a := e.exchange(t, "GET", snapshot, tok, headers("Accept-Encoding", tc.accept), nil)
				if a.Status != http.StatusOK || a.Header.Get("Content-Encoding") != tc.coding {
					t.Fatalf("want %d in %q, got %d in %q", http.StatusOK, tc.coding, a.Status, a.Header.Get("Content-Encoding"))
				}
				if !strings.Contains(strings.Join(a.Header.Values("Vary"), ","), "Accept-Encoding") {
					t.Errorf("no Vary: Accept-Encoding: %v", a.Header)
				}
				if tc.coding == "gzip" && (len(a.Wire)*5 > len(a.Body) || a.Header.Get("Content-Length") == strconv.Itoa(len(a.Body))) {
					t.Errorf("gzip answer of %d bytes for %d: not compressed, or the plain length kept", len(a.Wire), len(a.Body))
				}
				var got wire.PullResponse
				a.json(t, &got)
				if !maps.Equal(latest(got.Changes), latest(want.Changes)) {
					t.Errorf("decoded snapshot differs from the plain one")
				}
			})
		}

		e.judgeCompliance(t)
		_, synced := e.pullAll(t, tok, "", 500)
		admin := e.login(t, "admin")
		county := "region_id=" + e.county.ID.String()
		for _, tc := range []struct {
			name, path, token, coding string
			starts                    string // what the decoded body begins with
		}{
			{"a pull page", "/api/v1/sync/pull?limit=500", tok, "gzip", `{"changes":`},
			{"the visit 台账 as CSV", "/api/v1/exports/visits?" + county + "&period=2026-11&format=csv", admin, "gzip", "\uFEFF"},
			{"the visit 台账 as XLSX: a zip already", "/api/v1/exports/visits?" + county + "&period=2026-11", admin, "", "PK"},
			{"the missed-visit report", "/api/v1/compliance/missed?" + county + "&period=2026&state=met,on_track,due_soon,overdue,missed", admin, "gzip", `{"region":`},
			{"a problem: tiny", "/api/v1/sync/snapshot?limit=0", tok, "", `{"type":`},
			{"the last page, with the worklist", "/api/v1/sync/pull?cursor=" + url.QueryEscape(synced), tok, "gzip", `{"changes":[],`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				a := e.exchange(t, "GET", tc.path, tc.token, headers("Accept-Encoding", "gzip"), nil)
				if a.Header.Get("Content-Encoding") != tc.coding || !bytes.HasPrefix(a.Body, []byte(tc.starts)) {
					t.Fatalf("want %q beginning %q, got %d in %q, %d bytes: %.80q", tc.coding, tc.starts, a.Status, a.Header.Get("Content-Encoding"), len(a.Body), a.Body)
				}
			})
		}

		t.Run("a photo: JPEG", func(t *testing.T) {
			jpeg := testJPEG(t, 17, time.Now(), &domain.GeoPoint{Lat: 34.7, Lon: 113.6})
			id := uuid.New()
			if r := e.putPhoto(t, tok, id, jpeg, sha256Hex(jpeg), "image/jpeg", ""); r.Status != http.StatusCreated {
				t.Fatalf("photo upload: %d %s", r.Status, r.Body)
			}
			a := e.exchange(t, "GET", "/api/v1/photos/"+id.String()+"/content", tok, headers("Accept-Encoding", "gzip"), nil)
			if a.Status != http.StatusOK || a.Header.Get("Content-Encoding") != "" || !bytes.Equal(a.Wire, jpeg) {
				t.Fatalf("photo content: %d in %q, %d bytes for %d", a.Status, a.Header.Get("Content-Encoding"), len(a.Wire), len(jpeg))
			}
		})
	})
}

// TestPushBodiesMayComeGzipped: a push (or any JSON body) gzipped is
// taken as if sent plain; an encoding the server does not speak is 415
// naming Content-Encoding, a broken gzip stream 400 naming the body, and
// neither stores anything. Every answer to a body says which encodings a
// body may come in (RFC 7694).
func TestPushBodiesMayComeGzipped(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		tok := e.login(t, "cadre-a")
		hA := e.householdA.Household.ID
		body := visitBatchBody(t, hA, 3, "压缩上传")
		gz := gzipped(t, body, gzip.BestCompression)

		a := e.exchange(t, "POST", "/api/v1/sync/push", tok, pushHeaders("gz-1", "gzip"), bytes.NewReader(gz))
		if res := a.pushResult(t); res.Applied != 3 || e.visitCount(t) != 3 {
			t.Fatalf("gzipped push: %s, %d visits", a.Body, e.visitCount(t))
		}
		if a.Header.Get("Accept-Encoding") != "gzip" {
			t.Errorf("the push answer does not say bodies may come gzipped: %v", a.Header)
		}
		sup := e.login(t, "supervisor-a")
		edit := gzipped(t, mustMarshal(t, map[string]any{"version": 1, "address": "压缩后提交的地址"}), gzip.DefaultCompression)
		if a := e.exchange(t, "PATCH", "/api/v1/households/"+hA.String(), sup, headers("Content-Type", "application/json", "Content-Encoding", "x-gzip"),
			bytes.NewReader(edit)); a.Status != http.StatusOK || !bytes.Contains(a.Body, []byte("压缩后提交的地址")) {
			t.Fatalf("a gzipped JSON body elsewhere: %d %s", a.Status, a.Body)
		}

		truncated := gzipped(t, visitBatchBody(t, hA, 3, "截断"), gzip.DefaultCompression)
		badSum := bytes.Clone(gzipped(t, visitBatchBody(t, hA, 3, "校验和"), gzip.DefaultCompression))
		badSum[len(badSum)-6] ^= 0xff // the CRC-32 in the trailer
		before := e.visitCount(t)
		for _, tc := range []struct {
			name, coding string
			body         []byte
			status       int
			field        string
		}{
			{"brotli", "br", gz, http.StatusUnsupportedMediaType, "Content-Encoding"},
			{"deflate", "deflate", gz, http.StatusUnsupportedMediaType, "Content-Encoding"},
			{"zstd", "zstd", gz, http.StatusUnsupportedMediaType, "Content-Encoding"},
			{"junk", "gzip2000", gz, http.StatusUnsupportedMediaType, "Content-Encoding"},
			{"gzip twice", "gzip, gzip", gz, http.StatusUnsupportedMediaType, "Content-Encoding"},
			{"plain bytes said to be gzip", "gzip", body, http.StatusBadRequest, "body"},
			{"a truncated stream", "gzip", truncated[:len(truncated)/2], http.StatusBadRequest, "body"},
			{"a wrong checksum", "gzip", badSum, http.StatusBadRequest, "body"},
			{"an empty body said to be gzip", "gzip", []byte{}, http.StatusBadRequest, "body"},
			{"gzip with trailing junk", "gzip", append(bytes.Clone(gz), "trailing"...), http.StatusBadRequest, "body"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				a := e.exchange(t, "POST", "/api/v1/sync/push", tok, pushHeaders("refused-"+strings.ReplaceAll(tc.name, " ", "-"), tc.coding), bytes.NewReader(tc.body))
				if p := a.problem(t); a.Status != tc.status || !p.hasField(tc.field) {
					t.Fatalf("want %d naming %s, got %d %s", tc.status, tc.field, a.Status, a.Body)
				}
				if tc.status == http.StatusUnsupportedMediaType && a.Header.Get("Accept-Encoding") != "gzip" {
					t.Errorf("a 415 must say what the server takes (RFC 7694): %v", a.Header)
				}
				if n := e.visitCount(t); n != before {
					t.Fatalf("a refused body stored %d visits", n-before)
				}
			})
		}
		// A refused key is not spent: the batch goes through under it.
		if res := e.exchange(t, "POST", "/api/v1/sync/push", tok, pushHeaders("refused-brotli", "identity"), bytes.NewReader(body)); res.Status != http.StatusOK {
			t.Fatalf("the key of a refused body: %d %s", res.Status, res.Body)
		}
	})
}

// TestStoredBodiesRefuseEncodings: the routes that store a body byte for
// byte — a photo, a chunk of one, an imported file — take it only as it
// is: with a Content-Encoding it is 415 naming the header, and nothing is
// stored as gzip.
func TestStoredBodiesRefuseEncodings(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	tok, admin := e.login(t, "cadre-a"), e.login(t, "admin")
	jpeg := testJPEG(t, 18, time.Now(), &domain.GeoPoint{Lat: 34.7, Lon: 113.6})
	gz := gzipped(t, jpeg, gzip.DefaultCompression)
	for _, tc := range []struct {
		name, method, path, token string
		header                    http.Header
	}{
		{"a photo", "PUT", "/api/v1/photos/" + uuid.NewString(), tok,
			headers("Content-Type", "image/jpeg", "X-Content-SHA256", sha256Hex(jpeg), "Content-Encoding", "gzip")},
		{"a chunk", "PATCH", "/api/v1/photo-uploads/" + uuid.NewString(), tok,
			headers("Content-Type", "application/offset+octet-stream", "Upload-Offset", "0", "Content-Encoding", "gzip")},
		{"an imported file", "POST", "/api/v1/imports", admin, headers("Content-Type", "text/csv", "Content-Encoding", "br")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.counts(t)
			a := e.exchange(t, tc.method, tc.path, tc.token, tc.header, bytes.NewReader(gz))
			if p := a.problem(t); a.Status != http.StatusUnsupportedMediaType || !p.hasField("Content-Encoding") {
				t.Fatalf("want 415 naming Content-Encoding, got %d %s", a.Status, a.Body)
			}
			sameCounts(t, before, e.counts(t))
			e.assertNoPhotoBytes(t)
		})
	}
}

// TestReplayBindsTheDecodedBody: the Idempotency-Key binds the bytes the
// phone serialised, not how they travelled: a batch pushed gzipped and
// retried plain (or the other way, or gzipped at another level) gets the
// stored answer byte for byte and stores nothing twice; another body
// under the key is refused as ever.
func TestReplayBindsTheDecodedBody(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		tok := e.login(t, "cadre-a")
		hA := e.householdA.Household.ID
		push := func(key, coding string, body []byte) wireAnswer {
			return e.exchange(t, "POST", "/api/v1/sync/push", tok, pushHeaders(key, coding), bytes.NewReader(body))
		}
		for _, tc := range []struct {
			name           string
			first, retried func(b []byte) ([]byte, string)
		}{
			{"gzip, then plain", gzipAt(t, gzip.DefaultCompression), sentPlain},
			{"plain, then gzip", sentPlain, gzipAt(t, gzip.DefaultCompression)},
			{"gzip, then gzip at another level", gzipAt(t, gzip.BestSpeed), gzipAt(t, gzip.BestCompression)},
		} {
			t.Run(tc.name, func(t *testing.T) {
				key := "replay-" + uuid.NewString()
				body := visitBatchBody(t, hA, 4, tc.name)
				before := e.visitCount(t)
				b1, c1 := tc.first(body)
				first := push(key, c1, b1)
				if first.pushResult(t).Applied != 4 {
					t.Fatalf("first push: %s", first.Body)
				}
				b2, c2 := tc.retried(body)
				again := push(key, c2, b2)
				if again.Status != http.StatusOK || !bytes.Equal(again.Body, first.Body) {
					t.Fatalf("the retry must get the stored answer byte for byte:\n%s\n%s", first.Body, again.Body)
				}
				if n := e.visitCount(t) - before; n != 4 {
					t.Fatalf("the batch stored %d visits, want 4", n)
				}
				other, coding := tc.retried(visitBatchBody(t, hA, 4, "另一批"))
				if r := push(key, coding, other); r.Status != http.StatusUnprocessableEntity || !bytes.Contains(r.Body, []byte("key_reused")) {
					t.Fatalf("another body under the key: %d %s", r.Status, r.Body)
				}
			})
		}
	})
}

func sentPlain(b []byte) ([]byte, string) { return b, "" }

func gzipAt(t *testing.T, level int) func([]byte) ([]byte, string) {
	return func(b []byte) ([]byte, string) { return gzipped(t, b, level), "gzip" }
}

// bomb is a gzip stream that decodes to size zero bytes: one gzip member
// of 1 MiB of zeros (about 1 KB), made before the test measures anything,
// sent again and again (gzip members may follow one another, RFC 1952
// §2.2). It counts what the server took of it.
type bomb struct {
	member []byte
	left   int64 // members still to send
	at     int   // into the member being sent
	mu     sync.Mutex
	taken  int64
}

func newBomb(t *testing.T, size int64) *bomb {
	t.Helper()
	const zeros = 1 << 20
	return &bomb{member: gzipped(t, make([]byte, zeros), gzip.BestCompression), left: size / zeros}
}

func (b *bomb) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.left == 0 {
		return 0, io.EOF
	}
	n := copy(p, b.member[b.at:])
	if b.at += n; b.at == len(b.member) {
		b.at, b.left = 0, b.left-1
	}
	b.taken += int64(n)
	return n, nil
}

func (b *bomb) sent() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.taken
}

// heapAllocated is the bytes this process has allocated on the heap so
// far (runtime/metrics, no stop-the-world).
func heapAllocated() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestGzipBombIsRefusedWithFlatMemory: a gzip stream that would expand to
// 4 GiB is refused 413 naming the body once the route's limit has come
// out of it (8 MiB for a push, 1 MiB for other JSON): the server takes a
// few KB of it, and allocates no more than about the limit while doing
// so — measured, not timed.
func TestGzipBombIsRefusedWithFlatMemory(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	tok := e.login(t, "cadre-a")
	sup := e.login(t, "supervisor-a")
	for _, tc := range []struct {
		name, method, path, token string
		header                    http.Header
		limit                     int64
	}{
		{"push", "POST", "/api/v1/sync/push", tok, pushHeaders("bomb", "gzip"), 8 << 20},
		{"a household edit", "PATCH", "/api/v1/households/" + e.householdA.Household.ID.String(), sup,
			headers("Content-Type", "application/json", "Content-Encoding", "gzip"), 1 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const expands = 4 << 30
			b := newBomb(t, expands)
			before := e.counts(t)
			req, rec := newRequest(tc.method, tc.path, tc.token, tc.header, b), httptest.NewRecorder()
			allocated := heapAllocated()
			e.app.Handler.ServeHTTP(rec, req)
			allocated = heapAllocated() - allocated
			a := e.readAnswer(t, req, rec)
			if p := a.problem(t); a.Status != http.StatusRequestEntityTooLarge || !p.hasField("body") {
				t.Fatalf("want 413 naming the body, got %d %s", a.Status, a.Body)
			}
			// Zeros deflate about 1,000 to 1; the decoder reads ahead a
			// little. Anything near the 4 GiB would be megabytes here.
			if taken := b.sent(); taken > tc.limit/100 {
				t.Errorf("the server took %d compressed bytes (%d decoded at least) before refusing; the limit is %d decoded",
					taken, taken*1000, tc.limit)
			}
			if slack := int64(1 << 20); int64(allocated) > tc.limit+slack {
				t.Errorf("refusing the bomb allocated %d bytes; want at most the limit %d + %d", allocated, tc.limit, slack)
			}
			t.Logf("%s: took %d compressed bytes, allocated %d bytes (limit %d)", tc.name, b.sent(), allocated, tc.limit)
			sameCounts(t, before, e.counts(t))
			if n := e.visitCount(t); n != 0 {
				t.Fatalf("the bomb stored %d visits", n)
			}
		})
	}
}

// TestSDKSyncsCompressed: the Go client against the real server asks for
// gzip and gets its snapshot and pages gzipped, gzips its push (never a
// photo's bytes) once the server said it may, and — behind a proxy that refuses gzipped bodies
// (415) or mangles them (400 corrupt_encoding) — sends the batch again
// plain at once and keeps to plain bodies; a server that never offers gets
// plain bodies from the start.
func TestSDKSyncsCompressed(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		e.widenScope(t, 8)
		for _, tc := range []struct {
			name string
			// front stands before the real server, as a proxy would.
			front       func(http.Handler) http.Handler
			wantCodings []string // Content-Encoding of each push, in order
		}{
			{"compression on", func(h http.Handler) http.Handler { return h }, []string{"gzip", "gzip"}},
			{"gzip refused by a proxy", refuseGzippedBodies, []string{"gzip", "", ""}},
			{"gzip decoded by a proxy that keeps the header", decodeBodiesKeepHeader, []string{"gzip", "", ""}},
			{"a server that never offers", hideAcceptEncoding, []string{"", ""}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				srv := httptest.NewServer(tc.front(e.app.Handler))
				defer srv.Close()
				rec := &wireRecorder{base: http.DefaultTransport}
				c, err := client.New(client.Config{BaseURL: srv.URL, DeviceID: "gz-" + uuid.NewString()[:8], Dir: t.TempDir(), NoFsync: true,
					HTTPClient: &http.Client{Transport: rec}, Backoff: client.Backoff{Min: time.Millisecond, Max: 10 * time.Millisecond}})
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				ctx := context.Background()
				if _, err := c.Login(ctx, "cadre-a", testPassword); err != nil {
					t.Fatal(err)
				}
				if _, err := c.Pull(ctx); err != nil {
					t.Fatal(err)
				}
				if len(c.Households()) < 9 {
					t.Fatalf("the phone holds %d households after its first pull", len(c.Households()))
				}
				if got := rec.answerCoding("/api/v1/sync/snapshot"); got != "gzip" {
					t.Errorf("the snapshot came in %q", got)
				}
				before := e.visitCount(t)
				for round := range 2 {
					for i := range 3 {
						v := sdkVisit(e.householdA.Household, fmt.Sprintf("第%d轮第%d次：压缩同步", round, i))
						if round == 0 && i == 0 {
							v.PhotoFiles = []client.PhotoFile{{Content: bytes.NewReader(testJPEG(t, 19, time.Now(), &domain.GeoPoint{Lat: 34.7, Lon: 113.6}))}}
						}
						if _, err := c.RecordVisit(v); err != nil {
							t.Fatal(err)
						}
					}
					rep, err := c.Push(ctx)
					if err != nil || rep.Count(wire.StatusApplied) != 3 {
						t.Fatalf("push: %v %+v", err, rep)
					}
				}
				if got := rec.pushCodings(); !slices.Equal(got, tc.wantCodings) {
					t.Errorf("pushes went as %q, want %q", got, tc.wantCodings)
				}
				if n := e.visitCount(t) - before; n != 6 {
					t.Fatalf("the server holds %d new visits, want 6", n)
				}
				// A photo's bytes go as they are, whatever the JSON bodies do.
				if rep, err := c.UploadPhotos(ctx); err != nil || rep.Uploaded != 1 || len(rep.Refused) != 0 {
					t.Fatalf("photo upload: %v %+v", err, rep)
				}
				if got := rec.photoCodings(); len(got) == 0 || slices.ContainsFunc(got, func(c string) bool { return c != "" }) {
					t.Errorf("photo bytes went as %q", got)
				}
				if _, err := c.Pull(ctx); err != nil {
					t.Fatal(err)
				}
				if len(c.Visits()) < 6 {
					t.Fatalf("the phone holds %d visits after pulling its own back", len(c.Visits()))
				}
			})
		}
	})
}

func sdkVisit(h domain.Household, notes string) client.NewVisit {
	start := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
	end := start.Add(40 * time.Minute)
	yes := true
	return client.NewVisit{HouseholdID: h.ID, Kind: domain.KindAssist, StartedAt: start, EndedAt: &end, Notes: notes + "。了解家庭收入、医疗报销和住房安全情况，讲解产业扶持政策。",
		Checklist: map[string]domain.ChecklistEntry{"food": {Answer: "met"}, "clothing": {Answer: "met"}, "housing": {Answer: "problem", Note: "东侧墙体有裂缝"}},
		Measures:  []string{"policy_briefing"}, MetWith: []string{h.HeadName}, HouseholdConfirmed: &yes,
		GPS: []domain.GPSStamp{{Lat: 34.7, Lon: 113.6, Accuracy: 8, Provider: "gps", DeviceTime: start.Add(5 * time.Minute)}}}
}

// refuseGzippedBodies answers 415 to any request whose body is encoded,
// as a proxy that does not pass encoded bodies on might.
func refuseGzippedBodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Encoding") != "" {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusUnsupportedMediaType)
			_, _ = io.WriteString(w, `{"type":"about:blank","title":"Unsupported Media Type","status":415}`)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// decodeBodiesKeepHeader decodes gzipped bodies on the way and passes
// them on still labelled gzip, as a misbehaving proxy might: the server
// finds no gzip stream (400 corrupt_encoding).
func decodeBodiesKeepHeader(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			r.Body, r.ContentLength = io.NopCloser(zr), -1
		}
		next.ServeHTTP(w, r)
	})
}

// hideAcceptEncoding drops the server's offer of gzipped bodies from every
// answer, as a server from before compression would not make it.
func hideAcceptEncoding(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(headerFilter{w}, r)
	})
}

type headerFilter struct{ http.ResponseWriter }

func (h headerFilter) WriteHeader(code int) {
	h.Header().Del("Accept-Encoding")
	h.ResponseWriter.WriteHeader(code)
}

func (h headerFilter) Write(b []byte) (int, error) {
	h.Header().Del("Accept-Encoding")
	return h.ResponseWriter.Write(b)
}

// wireRecorder notes each exchange's encodings as they crossed the wire.
type wireRecorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	seen []wireExchange
}

type wireExchange struct {
	method, path, requestCoding, answerCoding string
	status                                    int
}

func (w *wireRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := w.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	w.seen = append(w.seen, wireExchange{method: r.Method, path: r.URL.Path, requestCoding: r.Header.Get("Content-Encoding"),
		answerCoding: res.Header.Get("Content-Encoding"), status: res.StatusCode})
	w.mu.Unlock()
	return res, nil
}

func (w *wireRecorder) answerCoding(path string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, x := range w.seen {
		if x.path == path {
			return x.answerCoding
		}
	}
	return "(not asked)"
}

// photoCodings are the Content-Encodings of the requests that carried
// photo bytes (a whole photo, or a chunk).
func (w *wireRecorder) photoCodings() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, x := range w.seen {
		if x.method == http.MethodPut && strings.HasPrefix(x.path, "/api/v1/photos/") || x.method == http.MethodPatch && strings.HasPrefix(x.path, "/api/v1/photo-uploads/") {
			out = append(out, x.requestCoding)
		}
	}
	return out
}

func (w *wireRecorder) pushCodings() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, x := range w.seen {
		if x.path == "/api/v1/sync/push" {
			out = append(out, x.requestCoding)
		}
	}
	return out
}
