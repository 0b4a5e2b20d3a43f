package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/internal/testkit"
	"github.com/fieldvisit/fieldvisit/storage/blob"
	"github.com/fieldvisit/fieldvisit/wire"
)

// tcpProxy forwards connections to a backend and can cut them: each new
// connection takes the next budget from cuts (bytes it may carry from the
// client before both ends are closed; none left means no limit), and Stop
// closes everything, as a dead network would.
type tcpProxy struct {
	ln      net.Listener
	backend string
	mu      sync.Mutex
	cuts    []int64
	conns   map[net.Conn]bool
	cutDone int
}

func newTCPProxy(t *testing.T, addr, backend string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, backend: backend, conns: map[net.Conn]bool{}}
	go p.serve()
	t.Cleanup(p.Stop)
	return p
}

func (p *tcpProxy) Addr() string { return p.ln.Addr().String() }

// CutNext makes the next connections close after carrying these many bytes
// from the client.
func (p *tcpProxy) CutNext(budgets ...int64) {
	p.mu.Lock()
	p.cuts = append(p.cuts, budgets...)
	p.mu.Unlock()
}

// Cuts reports how many connections were cut.
func (p *tcpProxy) Cuts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cutDone
}

func (p *tcpProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.handle(c)
	}
}

func (p *tcpProxy) handle(client net.Conn) {
	server, err := net.Dial("tcp", p.backend)
	if err != nil {
		client.Close()
		return
	}
	p.mu.Lock()
	budget := int64(-1)
	if len(p.cuts) > 0 {
		budget, p.cuts = p.cuts[0], p.cuts[1:]
	}
	p.conns[client], p.conns[server] = true, true
	p.mu.Unlock()
	closeBoth := func() {
		client.Close()
		server.Close()
	}
	go func() {
		io.Copy(client, server)
		closeBoth()
	}()
	if budget < 0 {
		io.Copy(server, client)
	} else {
		io.CopyN(server, client, budget)
		p.mu.Lock()
		p.cutDone++
		p.mu.Unlock()
	}
	closeBoth()
}

// Stop closes the listener and every connection.
func (p *tcpProxy) Stop() {
	p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
}

// phoneClient talks to a real listening server, as a phone does.
type phoneClient struct {
	t    *testing.T
	base string
	tok  string
	http *http.Client
}

func (c *phoneClient) do(method, path string, header map[string]string, body []byte) (*http.Response, []byte, error) {
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.tok)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res, b, err
}

// TestResumableUploadSurvivesCutConnections: a link that drops in the
// middle of chunks keeps the bytes that arrived; the phone asks where the
// upload stands, goes on from there, and the completed photo is exactly
// the original.
func TestResumableUploadSurvivesCutConnections(t *testing.T) {
	photoStores(t, func(t *testing.T, e *testEnv) {
		srv := httptest.NewServer(e.app.Handler)
		defer srv.Close()
		proxy := newTCPProxy(t, "127.0.0.1:0", srv.Listener.Addr().String())
		phone := &phoneClient{t: t, base: "http://" + proxy.Addr(), tok: e.login(t, "cadre-a"),
			http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}}
		img := testJPEG(t, 11, time.Now(), nil)
		id := uuid.New()

		start, _ := json.Marshal(wire.StartUpload{PhotoID: id, SHA256: sha256Hex(img), Size: int64(len(img)), ContentType: "image/jpeg", Method: "chunked"})
		res, body, err := phone.do("POST", "/api/v1/photo-uploads", map[string]string{"Content-Type": "application/json"}, start)
		if err != nil || res.StatusCode != http.StatusCreated {
			t.Fatalf("start: %v %v %s", err, res, body)
		}
		var up wire.Upload
		if err := json.Unmarshal(body, &up); err != nil {
			t.Fatal(err)
		}
		// The first two chunk requests are cut after 9 KB and 15 KB.
		proxy.CutNext(9000, 15000)
		var offsets []int64
		offset := int64(0)
		for attempt := 0; offset < int64(len(img)); attempt++ {
			if attempt > 20 {
				t.Fatalf("upload did not finish; offsets %v", offsets)
			}
			res, _, err := phone.do("PATCH", "/api/v1/photo-uploads/"+up.ID.String(),
				map[string]string{"Content-Type": "application/offset+octet-stream", "Upload-Offset": strconv.FormatInt(offset, 10)}, img[offset:])
			if err == nil && res.StatusCode == http.StatusOK {
				offset, _ = strconv.ParseInt(res.Header.Get("Upload-Offset"), 10, 64)
				offsets = append(offsets, offset)
				continue
			}
			if err == nil && res.StatusCode == http.StatusConflict {
				offset, _ = strconv.ParseInt(res.Header.Get("Upload-Offset"), 10, 64)
				continue
			}
			// The link dropped: ask where the upload stands (the server may
			// still be storing what arrived, so ask until it settles).
			before := offset
			for wait := 0; wait < 30 && offset == before; wait++ {
				time.Sleep(100 * time.Millisecond)
				res, _, err = phone.do("HEAD", "/api/v1/photo-uploads/"+up.ID.String(), nil, nil)
				if err != nil || res.StatusCode != http.StatusOK {
					t.Fatalf("HEAD after a cut: %v %v", err, res)
				}
				offset, _ = strconv.ParseInt(res.Header.Get("Upload-Offset"), 10, 64)
			}
			offsets = append(offsets, offset)
		}
		if proxy.Cuts() < 2 {
			t.Fatalf("only %d connections were cut", proxy.Cuts())
		}
		if len(offsets) < 2 || offsets[0] <= 0 || offsets[0] >= int64(len(img)) {
			t.Errorf("offsets %v: the bytes before the first cut were not kept", offsets)
		}
		res, body, err = phone.do("POST", "/api/v1/photo-uploads/"+up.ID.String()+"/complete", nil, nil)
		if err != nil || res.StatusCode != http.StatusCreated {
			t.Fatalf("complete: %v %v %s", err, res, body)
		}
		got := e.rawRequest(t, "GET", "/api/v1/photos/"+id.String()+"/content", phone.tok, nil, nil)
		if !bytes.Equal(got.Body, img) {
			t.Fatalf("stored photo differs from the original (%d vs %d bytes)", len(got.Body), len(img))
		}
		// Completing again is the same answer; the chunks are gone.
		again := e.rawRequest(t, "POST", "/api/v1/photo-uploads/"+up.ID.String()+"/complete", phone.tok, nil, nil)
		if again.Status != http.StatusOK {
			t.Errorf("complete again: %d %s", again.Status, again.Body)
		}
		e.assertNoBlobsUnder(t, "uploads/")
	})
}

func (e *testEnv) assertNoBlobsUnder(t *testing.T, prefix string) {
	t.Helper()
	var keys []string
	if err := e.app.Blobs.List(t.Context(), prefix, func(i blob.Info) error { keys = append(keys, i.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(keys) > 0 {
		t.Errorf("left behind under %s: %v", prefix, keys)
	}
}

// TestResumableUploadRules: chunks must start where the upload stands,
// belong to their owner, and the assembled bytes must match the hash.
func TestResumableUploadRules(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		tok, other := e.login(t, "cadre-a"), e.login(t, "cadre-b")
		img := testJPEG(t, 12, time.Now(), nil)
		start := func(sha string) wire.Upload {
			r := e.do(t, "POST", "/api/v1/photo-uploads", tok, wire.StartUpload{PhotoID: uuid.New(), SHA256: sha, Size: int64(len(img)), ContentType: "image/jpeg", Method: "chunked"})
			if r.Status != http.StatusCreated {
				t.Fatalf("start: %d %s", r.Status, r.Body)
			}
			var up wire.Upload
			r.json(t, &up)
			return up
		}
		patch := func(tok string, up wire.Upload, off int, b []byte) response {
			return e.rawRequest(t, "PATCH", "/api/v1/photo-uploads/"+up.ID.String(), tok,
				map[string]string{"Content-Type": "application/offset+octet-stream", "Upload-Offset": strconv.Itoa(off)}, b)
		}
		up := start(sha256Hex(img))
		if r := patch(tok, up, 100, img[100:]); r.Status != http.StatusConflict || r.Header.Get("Upload-Offset") != "0" || !r.problem(t).hasField("Upload-Offset") {
			t.Errorf("chunk at the wrong offset: %d offset=%q %s", r.Status, r.Header.Get("Upload-Offset"), r.Body)
		}
		if r := patch(other, up, 0, img); r.Status != http.StatusNotFound {
			t.Errorf("someone else's upload: %d", r.Status)
		}
		if r := e.rawRequest(t, "POST", "/api/v1/photo-uploads/"+up.ID.String()+"/complete", tok, nil, nil); r.Status != 422 {
			t.Errorf("complete before all bytes: %d %s", r.Status, r.Body)
		}
		for _, tc := range []struct {
			name  string
			body  wire.StartUpload
			field string
		}{
			{"no size", wire.StartUpload{PhotoID: uuid.New(), SHA256: sha256Hex(img), ContentType: "image/jpeg", Method: "chunked"}, "/size"},
			{"bad method", wire.StartUpload{PhotoID: uuid.New(), SHA256: sha256Hex(img), Size: 10, ContentType: "image/jpeg", Method: "ftp"}, "/method"},
			{"bad hash", wire.StartUpload{PhotoID: uuid.New(), SHA256: "abc", Size: 10, ContentType: "image/jpeg", Method: "chunked"}, "/sha256"},
			{"presigned on the local store", wire.StartUpload{PhotoID: uuid.New(), SHA256: sha256Hex(img), Size: 10, ContentType: "image/jpeg", Method: "presigned_post"}, "/method"},
		} {
			r := e.do(t, "POST", "/api/v1/photo-uploads", tok, tc.body)
			if r.Status != 422 || !r.problem(t).hasField(tc.field) {
				t.Errorf("%s: %d %s", tc.name, r.Status, r.Body)
			}
		}
		// All bytes, wrong hash: completing refuses and forgets the upload.
		bad := start(sha256Hex(append([]byte{1}, img...)))
		if r := patch(tok, bad, 0, img); r.Status != http.StatusOK {
			t.Fatalf("chunk: %d %s", r.Status, r.Body)
		}
		if r := e.rawRequest(t, "POST", "/api/v1/photo-uploads/"+bad.ID.String()+"/complete", tok, nil, nil); r.Status != 422 || !r.problem(t).hasField("/sha256") {
			t.Errorf("complete with wrong hash: %d %s", r.Status, r.Body)
		}
		if n := e.count(t, "photos"); n != 0 {
			t.Errorf("%d photos after only failed uploads", n)
		}
		e.assertNoBlobsUnder(t, "photos/")
	})
}

// TestPresignedPost: the phone posts straight to MinIO with the signed
// form; only the declared size is accepted, and completing checks size and
// hash in the store before the photo counts.
func TestPresignedPost(t *testing.T) {
	e := newTestEnv(t, "postgres+s3")
	tok := e.login(t, "cadre-a")
	img := testJPEG(t, 13, time.Now(), nil)
	start := func(body []byte) wire.Upload {
		r := e.do(t, "POST", "/api/v1/photo-uploads", tok, wire.StartUpload{PhotoID: uuid.New(), SHA256: sha256Hex(body), Size: int64(len(body)),
			ContentType: "image/jpeg", Method: "presigned_post"})
		if r.Status != http.StatusCreated {
			t.Fatalf("start: %d %s", r.Status, r.Body)
		}
		var up wire.Upload
		r.json(t, &up)
		if up.Post == nil || up.Post.ExpiresAt.After(time.Now().Add(15*time.Minute+time.Second)) {
			t.Fatalf("presigned form missing or valid too long: %+v", up.Post)
		}
		return up
	}
	post := func(form *wire.PostForm, body []byte) int {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		for k, v := range form.Fields {
			w.WriteField(k, v)
		}
		fw, _ := w.CreateFormFile("file", "photo.jpg")
		fw.Write(body)
		w.Close()
		res, err := http.Post(form.URL, w.FormDataContentType(), &b)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	complete := func(up wire.Upload) response {
		return e.rawRequest(t, "POST", "/api/v1/photo-uploads/"+up.ID.String()+"/complete", tok, nil, nil)
	}

	up := start(img)
	if r := complete(up); r.Status != 422 {
		t.Errorf("complete before posting: %d %s", r.Status, r.Body)
	}
	if st := post(up.Post, append(img, 0)); st < 400 {
		t.Errorf("posting one byte more than the policy allows: %d", st)
	}
	if st := post(up.Post, img); st >= 300 {
		t.Fatalf("posting the photo: %d", st)
	}
	if r := complete(up); r.Status != http.StatusCreated {
		t.Fatalf("complete: %d %s", r.Status, r.Body)
	}
	if r := complete(up); r.Status != http.StatusOK {
		t.Errorf("complete again: %d", r.Status)
	}

	// Same size, other bytes: the store holds them, but the hash refuses.
	forged := start(img)
	swapped := append([]byte{}, img...)
	swapped[len(swapped)/2] ^= 0xFF
	if st := post(forged.Post, swapped); st >= 300 {
		t.Fatalf("posting: %d", st)
	}
	if r := complete(forged); r.Status != 422 || !r.problem(t).hasField("/sha256") {
		t.Errorf("complete with other bytes: %d %s", r.Status, r.Body)
	}
	e.assertNoBlobsUnder(t, "incoming/")
	if n := e.count(t, "photos"); n != 1 {
		t.Errorf("%d photos, want 1", n)
	}
}

// TestPhotoStoreDown: with S3 unreachable, uploads get 503 and Retry-After
// and keep nothing, while visits still sync; when S3 is back the same
// upload succeeds.
func TestPhotoStoreDown(t *testing.T) {
	s3 := testkit.S3(t)
	port := testkit.FreePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	proxy := newTCPProxy(t, addr, s3.Endpoint)
	cfg := Config{DataDir: t.TempDir(), HashConcurrency: 4, ShutdownTimeout: time.Second, DatabaseURL: testkit.NewPostgresDatabase(t),
		S3Endpoint: addr, S3AccessKey: s3.AccessKey, S3SecretKey: s3.SecretKey, S3Bucket: testkit.NewBucketName(t)}
	e := newTestEnvConfig(t, cfg, io.Discard)
	tok := e.login(t, "cadre-a")
	img := testJPEG(t, 14, time.Now(), nil)
	id := uuid.New()

	proxy.Stop()
	r := e.putPhoto(t, tok, id, img, sha256Hex(img), "image/jpeg", "")
	if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
		t.Fatalf("upload with S3 down: %d Retry-After=%q %s", r.Status, r.Header.Get("Retry-After"), r.Body)
	}
	v := visitChange(uuid.New(), e.householdA.Household.ID, "存储故障期间的走访", 34.7)
	v["data"].(map[string]any)["photos"] = []any{map[string]any{"photo_id": id, "sha256": sha256Hex(img)}}
	if res := e.push(t, tok, uuid.NewString(), batch("phone-a", time.Now(), v)).pushResult(t); res.Applied != 1 {
		t.Fatalf("visit sync with S3 down: %+v", res)
	}
	if n := e.count(t, "photos"); n != 0 {
		t.Errorf("%d photo rows after a failed upload", n)
	}

	newTCPProxy(t, addr, s3.Endpoint)
	if r := e.putPhoto(t, tok, id, img, sha256Hex(img), "image/jpeg", ""); r.Status != http.StatusCreated {
		t.Fatalf("upload after S3 is back: %d %s", r.Status, r.Body)
	}
	e.assessEvidence(t)
	for _, code := range []string{"photo_missing", "no_photo"} {
		if e.visitHasFlag(t, v["id"].(uuid.UUID), code) {
			t.Errorf("visit still flagged %s after its photo arrived", code)
		}
	}
}
