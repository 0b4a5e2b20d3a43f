package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/internal/photos/photoimage"
	"github.com/fieldvisit/fieldvisit/wire"
)

// These tests talk to a real listener byte by byte, as a phone on a weak
// link does. The body rules are shortened so that they run in seconds; the
// client's own patience is far longer than any of them, so a server that
// never cuts a body fails the test rather than passing it late.

// clientPatience is how long a test's client waits for the server; an
// answer within it is judged on what it says, never on how fast it came.
const clientPatience = 30 * time.Second

// testBodyLimits are the body rules in these tests: a JSON body within a
// second, an upload at least 1 KiB every 2 s.
func testBodyLimits(c *Config) {
	c.BodyTimeout = time.Second
	c.UploadMinBytes = 1024
	c.UploadWindow = 2 * time.Second
}

// newServingEnv is the small county on SQLite, with cfg adjusted by tune,
// served on a real loopback listener until the test ends. It returns the
// listener's address.
func newServingEnv(t *testing.T, logs io.Writer, tune func(*Config)) (*testEnv, string) {
	t.Helper()
	if logs == nil {
		logs = io.Discard
		if os.Getenv("FIELDVISIT_TEST_LOG") != "" {
			logs = os.Stderr
		}
	}
	// Periods are closed only by hand, so that the background close (and
	// its audit entries) does not blur the tests' counts of rows written.
	cfg := Config{DataDir: t.TempDir(), HashConcurrency: 4, ShutdownTimeout: time.Second, CloseAfterDays: -1}
	tune(&cfg)
	e := newTestEnvConfig(t, cfg, logs)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- e.app.Serve(ctx, ln) }()
	t.Cleanup(func() {
		stop()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return e, ln.Addr().String()
}

// rawPhone is one connection whose every byte the test writes itself.
type rawPhone struct {
	t    testing.TB
	conn net.Conn
	in   *bufio.Reader
}

func dialPhone(t testing.TB, addr string) *rawPhone {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, clientPatience)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawPhone{t: t, conn: c, in: bufio.NewReader(c)}
}

// startRequest sends the request line and headers, declaring a body of
// contentLength bytes (none when negative), and no body byte yet.
func (p *rawPhone) startRequest(method, path, token string, header map[string]string, contentLength int) {
	p.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: fieldvisit.test\r\n", method, path)
	if token != "" {
		fmt.Fprintf(&b, "Authorization: Bearer %s\r\n", token)
	}
	for k, v := range header {
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	if contentLength >= 0 {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", contentLength)
	}
	b.WriteString("\r\n")
	p.send([]byte(b.String()))
}

func (p *rawPhone) send(b []byte) {
	p.t.Helper()
	if _, err := p.conn.Write(b); err != nil {
		p.t.Fatalf("send: %v", err)
	}
}

// trickle sends body in pieces of size bytes, one every interval, and
// reports the first write error (the server closed the connection) or nil.
func (p *rawPhone) trickle(body []byte, size int, interval time.Duration) <-chan error {
	done := make(chan error, 1)
	go func() {
		for len(body) > 0 {
			n := min(size, len(body))
			if _, err := p.conn.Write(body[:n]); err != nil {
				done <- err
				return
			}
			body = body[n:]
			if len(body) > 0 {
				time.Sleep(interval)
			}
		}
		done <- nil
	}()
	return done
}

// rawAnswer is an answer as the phone read it off the wire.
type rawAnswer struct {
	response
	closing bool // the server said it closes the connection after this answer
}

// answer reads one answer, waiting at most clientPatience. A client
// timeout fails the test: the server held the connection open.
func (p *rawPhone) answer(method string) (rawAnswer, error) {
	p.t.Helper()
	_ = p.conn.SetReadDeadline(time.Now().Add(clientPatience))
	res, err := http.ReadResponse(p.in, &http.Request{Method: method})
	if isTimeout(err) {
		p.t.Fatalf("no answer within %s: the server held the connection open", clientPatience)
	}
	if err != nil {
		return rawAnswer{}, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return rawAnswer{}, err
	}
	return rawAnswer{response: response{Status: res.StatusCode, Header: res.Header, Body: body}, closing: res.Close}, nil
}

// assertClosedByServer fails unless the server closed the connection.
func (p *rawPhone) assertClosedByServer() {
	p.t.Helper()
	_ = p.conn.SetReadDeadline(time.Now().Add(clientPatience))
	n, err := p.in.Read(make([]byte, 1))
	switch {
	case isTimeout(err):
		p.t.Fatalf("the connection is still open after %s", clientPatience)
	case err == nil:
		p.t.Fatalf("the server sent %d more bytes instead of closing", n)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// assertBodyTimeout checks a 408 answer against openapi.yaml.
func (e *testEnv) assertBodyTimeout(t *testing.T, method, path string, r rawAnswer) {
	t.Helper()
	if r.Status != http.StatusRequestTimeout {
		t.Fatalf("want 408, got %d: %s", r.Status, r.Body)
	}
	if p := r.problem(t); p.Type != "urn:fieldvisit:problem:request_timeout" || p.TitleZH == "" {
		t.Errorf("problem: %+v", p)
	}
	if !r.closing {
		t.Errorf("a cut body's answer must say that the connection closes (Connection: close)")
	}
	e.validator.CheckResponse(t, httptest.NewRequest(method, path, nil), r.Status, r.Header, r.Body)
}

// assertCut reads the answer to a request whose body stalled: a 408 that
// closes the connection.
func (e *testEnv) assertCut(t *testing.T, phone *rawPhone, method, path string) {
	t.Helper()
	r, err := phone.answer(method)
	if err != nil {
		t.Fatalf("read the answer: %v", err)
	}
	e.assertBodyTimeout(t, method, path, r)
	phone.assertClosedByServer()
}

// writeCounts are the rows a login, push or upload would add.
func (e *testEnv) writeCounts(t *testing.T) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, tb := range []string{"refresh_tokens", "devices", "audit_log", "login_failures", "idempotency_keys", "visits", "changes", "photos", "photo_uploads"} {
		out[tb] = e.count(t, tb)
	}
	return out
}

// TestStalledLoginIsCut: a login whose body stops short is cut within the
// JSON deadline, not after the server's ten-minute timeouts, and writes
// nothing — even when every credential arrived, and in the issue's own
// case of Content-Length 300, ten bytes, then silence.
func TestStalledLoginIsCut(t *testing.T) {
	creds := []byte(`{"username":"cadre-a","password":"` + testPassword + `","device_id":"slow-phone"}`)
	for _, tc := range []struct {
		name     string
		sent     []byte
		declared int
	}{
		{"every credential sent, 200 bytes missing", creds, len(creds) + 200},
		{"ten bytes of 300", []byte(`{"usernam`), 300},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, addr := newServingEnv(t, nil, testBodyLimits)
			before := e.writeCounts(t)
			phone := dialPhone(t, addr)
			phone.startRequest("POST", "/api/v1/auth/login", "", map[string]string{"Content-Type": "application/json"}, tc.declared)
			phone.send(tc.sent)
			e.assertCut(t, phone, "POST", "/api/v1/auth/login")
			sameCounts(t, before, e.writeCounts(t))
		})
	}
}

// TestStalledPushStoresNothing: a push batch that stops short is cut by
// the upload rule with nothing stored under its key, and the phone's
// retry with the same key and bytes is applied as new.
func TestStalledPushStoresNothing(t *testing.T) {
	e, addr := newServingEnv(t, nil, testBodyLimits)
	tok := e.login(t, "cadre-a")
	before := e.writeCounts(t)
	body, err := json.Marshal(batch("slow-phone", time.Now(), visitChange(uuid.New(), e.householdA.Household.ID, "信号很差", 34.7)))
	if err != nil {
		t.Fatal(err)
	}
	// The whole batch arrives; the spaces that would end it never do.
	full := append(append([]byte(nil), body...), bytes.Repeat([]byte(" "), 200)...)
	phone := dialPhone(t, addr)
	phone.startRequest("POST", "/api/v1/sync/push", tok, map[string]string{"Content-Type": "application/json", "Idempotency-Key": "slow-batch-1"}, len(full))
	phone.send(body)

	e.assertCut(t, phone, "POST", "/api/v1/sync/push")
	sameCounts(t, before, e.writeCounts(t))

	retry := e.push(t, tok, "slow-batch-1", full).pushResult(t)
	if retry.Applied != 1 || retry.Results[0].Status != wire.StatusApplied {
		t.Fatalf("the retry after a cut must be applied as new: %+v", retry)
	}
}

// smallJPEG is a real photo of about 11 KB: a few seconds at 2G pace.
func smallJPEG(t *testing.T, seed int64) []byte {
	t.Helper()
	at := time.Now()
	b, err := photoimage.GenerateJPEG(photoimage.GenerateOptions{Width: 240, Height: 180, Seed: seed, TakenAt: &at, Label: "2G"})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func photoHeaders(img []byte) map[string]string {
	return map[string]string{"Content-Type": "image/jpeg", "X-Content-SHA256": sha256Hex(img)}
}

// TestStalledPhotoUploadIsCut: a photo PUT that sends ten bytes and falls
// silent is cut once the progress window passes; nothing is stored.
func TestStalledPhotoUploadIsCut(t *testing.T) {
	e, addr := newServingEnv(t, nil, testBodyLimits)
	tok := e.login(t, "cadre-a")
	before := e.writeCounts(t)
	img := smallJPEG(t, 1)
	path := "/api/v1/photos/" + uuid.NewString()
	phone := dialPhone(t, addr)
	phone.startRequest("PUT", path, tok, photoHeaders(img), len(img))
	phone.send(img[:10])

	e.assertCut(t, phone, "PUT", path)
	sameCounts(t, before, e.writeCounts(t))
	e.assertNoPhotoBytes(t)
}

// TestPhotoUploadAtGPRSPaceIsStored: 4 KiB/s, a 2G phone's pace, is far
// above the minimum progress, so the photo goes in however long it takes.
func TestPhotoUploadAtGPRSPaceIsStored(t *testing.T) {
	e, addr := newServingEnv(t, nil, testBodyLimits)
	tok := e.login(t, "cadre-a")
	img := smallJPEG(t, 2)
	id := uuid.New()
	path := "/api/v1/photos/" + id.String()
	phone := dialPhone(t, addr)
	phone.startRequest("PUT", path, tok, photoHeaders(img), len(img))
	sent := phone.trickle(img, 512, 125*time.Millisecond)

	r, err := phone.answer("PUT")
	if err != nil {
		t.Fatalf("read the answer: %v", err)
	}
	if err := <-sent; err != nil {
		t.Fatalf("the server stopped reading a photo sent at 4 KiB/s: %v", err)
	}
	if r.Status != http.StatusCreated {
		t.Fatalf("want 201, got %d: %s", r.Status, r.Body)
	}
	e.validator.CheckResponse(t, httptest.NewRequest("PUT", path, nil), r.Status, r.Header, r.Body)
	got := e.rawRequest(t, "GET", path+"/content", tok, nil, nil)
	if !bytes.Equal(got.Body, img) {
		t.Fatalf("the stored photo differs from the one sent (%d vs %d bytes)", len(got.Body), len(img))
	}
}

// TestPhotoUploadBelowMinimumProgressIsCut: a body that keeps moving, but
// at 400 B/s, below the 1 KiB per 2 s minimum, is cut all the same and
// stores nothing. The server may close before its 408 reaches a client
// that is still sending, so either ends the exchange.
func TestPhotoUploadBelowMinimumProgressIsCut(t *testing.T) {
	e, addr := newServingEnv(t, nil, testBodyLimits)
	tok := e.login(t, "cadre-a")
	before := e.writeCounts(t)
	img := smallJPEG(t, 3)
	path := "/api/v1/photos/" + uuid.NewString()
	phone := dialPhone(t, addr)
	phone.startRequest("PUT", path, tok, photoHeaders(img), len(img))
	sent := phone.trickle(img, 100, 250*time.Millisecond) // 30 s for the whole photo

	r, err := phone.answer("PUT")
	switch {
	case err == nil:
		e.assertBodyTimeout(t, "PUT", path, r)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed), isReset(err):
	default:
		t.Fatalf("read the answer: %v", err)
	}
	if err := <-sent; err == nil {
		t.Fatalf("the whole photo went in at 400 B/s; the answer was %d", r.Status)
	}
	sameCounts(t, before, e.writeCounts(t))
	e.assertNoPhotoBytes(t)
}

func isReset(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && strings.Contains(oe.Err.Error(), "reset")
}

// TestStalledChunkKeepsWhatArrived: a resumable chunk that stalls halfway
// is cut with 408, the bytes that arrived are kept, and the phone resumes
// from the offset the server reports.
func TestStalledChunkKeepsWhatArrived(t *testing.T) {
	e, addr := newServingEnv(t, nil, testBodyLimits)
	tok := e.login(t, "cadre-a")
	img := smallJPEG(t, 4)
	id := uuid.New()
	started := e.do(t, "POST", "/api/v1/photo-uploads", tok, wire.StartUpload{PhotoID: id, SHA256: sha256Hex(img), Size: int64(len(img)), ContentType: "image/jpeg", Method: "chunked"})
	if started.Status != http.StatusCreated {
		t.Fatalf("start: %d %s", started.Status, started.Body)
	}
	var up wire.Upload
	started.json(t, &up)
	path := "/api/v1/photo-uploads/" + up.ID.String()
	const arrived = 3000
	phone := dialPhone(t, addr)
	phone.startRequest("PATCH", path, tok, map[string]string{"Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}, len(img))
	phone.send(img[:arrived])

	e.assertCut(t, phone, "PATCH", path)

	status := e.rawRequest(t, "GET", path, tok, nil, nil)
	if got := status.Header.Get("Upload-Offset"); got != strconv.Itoa(arrived) {
		t.Fatalf("after the cut the upload stands at %q, want the %d bytes that arrived", got, arrived)
	}
	rest := e.rawRequest(t, "PATCH", path, tok, map[string]string{"Content-Type": "application/offset+octet-stream", "Upload-Offset": strconv.Itoa(arrived)}, img[arrived:])
	if rest.Status != http.StatusOK {
		t.Fatalf("resume: %d %s", rest.Status, rest.Body)
	}
	if done := e.rawRequest(t, "POST", path+"/complete", tok, nil, nil); done.Status != http.StatusCreated {
		t.Fatalf("complete: %d %s", done.Status, done.Body)
	}
	got := e.rawRequest(t, "GET", "/api/v1/photos/"+id.String()+"/content", tok, nil, nil)
	if !bytes.Equal(got.Body, img) {
		t.Fatalf("the resumed photo differs from the original (%d vs %d bytes)", len(got.Body), len(img))
	}
}

// TestConnectionCapHoldsBackTheNextConnection: with every slot taken, a
// new connection is not served until one closes; the metrics count it and
// the log says so.
func TestConnectionCapHoldsBackTheNextConnection(t *testing.T) {
	var logs lockedBuffer
	e, addr := newServingEnv(t, &logs, func(c *Config) { c.MaxConnections = 2 })
	healthz := func(p *rawPhone) {
		t.Helper()
		p.startRequest("GET", "/healthz", "", nil, -1)
		if r, err := p.answer("GET"); err != nil || r.Status != http.StatusOK {
			t.Fatalf("healthz: %v %d", err, r.Status)
		}
	}
	// Two phones, each answered and holding its kept-alive connection.
	first, second := dialPhone(t, addr), dialPhone(t, addr)
	healthz(first)
	healthz(second)

	third := dialPhone(t, addr)
	third.startRequest("GET", "/healthz", "", nil, -1)
	_ = third.conn.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := third.in.Peek(1); !isTimeout(err) {
		t.Fatalf("a third connection was served past a cap of two (%v)", err)
	}
	first.conn.Close()
	if r, err := third.answer("GET"); err != nil || r.Status != http.StatusOK {
		t.Fatalf("once a slot is free the waiting connection must be served: %v %d", err, r.Status)
	}

	metrics := string(e.do(t, "GET", "/metrics", "", nil).Body)
	for _, want := range []string{"fieldvisit_http_connections_max 2", "fieldvisit_http_connections_open 2"} {
		if !strings.Contains(metrics, want+"\n") {
			t.Errorf("metrics lack %q", want)
		}
	}
	if atCap := metricValue(t, metrics, "fieldvisit_http_connections_at_cap_total"); atCap < 1 {
		t.Errorf("fieldvisit_http_connections_at_cap_total = %v, want ≥ 1", atCap)
	}
	if out := logs.String(); strings.Count(out, "connection cap reached") != 1 {
		t.Errorf("want one warning that the cap was reached (they are spaced a minute apart), got:\n%s", out)
	}
}

// metricValue is the value of an unlabelled series in Prometheus text.
func metricValue(t *testing.T, text, name string) float64 {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("no series %s", name)
	return 0
}
