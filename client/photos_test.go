package client_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/client"
	"github.com/fieldvisit/fieldvisit/client/clienttest"
	"github.com/fieldvisit/fieldvisit/internal/demo"
	"github.com/fieldvisit/fieldvisit/internal/photos/photoimage"
	"github.com/fieldvisit/fieldvisit/storage/blob"
	"github.com/fieldvisit/fieldvisit/wire"
)

// The photo outbox against the real server, with photos in its data
// directory (SQLite) and in MinIO (PostgreSQL). What the phone sends is
// counted by a proxy in front of the server (photoWire); faults of the link
// are made on the phone's side (photoLink); what the server stores is read
// from its photo store.

// photoMaxBytes is the test server's largest photo, so that a "too large"
// photo stays cheap to make.
const photoMaxBytes = 1_000_000

func TestPhotoOutbox(t *testing.T) {
	if spec := os.Getenv(killedPhoneEnv); spec != "" {
		runKilledPhone(t, spec) // a phone process of testSurvivesKill
		return
	}
	if testing.Short() {
		t.Skip("starts the real server")
	}
	for _, d := range []string{"sqlite", "postgres+s3"} {
		t.Run(d, func(t *testing.T) {
			srv := clienttest.Start(t, d, "--photo-max-bytes", strconv.Itoa(photoMaxBytes))
			t.Run("RecordsFirstThenPhotos", func(t *testing.T) { testRecordsFirstThenPhotos(t, srv, "cadre07") })
			t.Run("Refused", func(t *testing.T) { testRefusedPhotos(t, srv, "cadre08") })
			t.Run("AlreadyStored", func(t *testing.T) { testAlreadyStored(t, srv, "cadre09") })
			t.Run("RetriedNotRefused", func(t *testing.T) { testRetriedNotRefused(t, srv, "cadre11") })
			t.Run("SurvivesKill", func(t *testing.T) { testSurvivesKill(t, srv) })
		})
	}
}

func testRecordsFirstThenPhotos(t *testing.T, srv *clienttest.Server, user string) {
	pw := newPhotoWire(t, srv)
	c, dir := phone(t, pw.server(srv), user, "photo-phone", nil)
	h := c.Households()[0]
	small, large, medium := photoJPEG(t, 1, 320, 240), photoJPEG(t, 2, 1280, 1024), photoJPEG(t, 3, 800, 600)
	camera := filepath.Join(t.TempDir(), "IMG_0001.jpg")
	must(t, os.WriteFile(camera, small, 0o600))

	v := newVisit(c, h, "入户走访，拍摄住房照片。")
	v.PhotoFiles = []client.PhotoFile{{Path: camera}, {Content: bytes.NewReader(large)}}
	id, err := c.RecordVisit(v)
	must(t, err)
	must(t, os.Remove(camera)) // the phone keeps its own copy
	if b := c.Backlog(); b != (client.Backlog{Records: 1, Photos: 2, PhotoBytes: int64(len(small) + len(large))}) {
		t.Fatalf("backlog after recording: %+v", b)
	}
	shown, _ := c.Visit(id)
	if len(shown.Photos) != 2 || shown.Photos[0].SHA256 != sha(small) || shown.Photos[1].SHA256 != sha(large) {
		t.Fatalf("the visit's photos %+v", shown.Photos)
	}

	// A visit recorded while the first chunk of a photo is on its way goes
	// up before the next photo.
	var recordedMeanwhile sync.Once
	second := make(chan uuid.UUID, 1)
	pw.onRequest(func(kind string) {
		if kind == "patch" {
			recordedMeanwhile.Do(func() {
				w := newVisit(c, h, "补拍厨房照片。")
				w.PhotoFiles = []client.PhotoFile{{Content: bytes.NewReader(medium)}}
				id, err := c.RecordVisit(w)
				if err != nil {
					t.Error(err)
				}
				second <- id
			})
		}
	})
	rep := mustSync(t, c)
	if p := rep.Photos; p.Uploaded != 3 || p.AlreadyStored != 0 || p.Waiting != 0 || p.BytesWaiting != 0 || len(p.Refused) != 0 ||
		p.BytesSent != int64(len(small)+len(large)+len(medium)) {
		t.Fatalf("photo report %+v", p)
	}
	// Records, then the small photo whole, the large one in chunks, the
	// visit recorded meanwhile, its photo (whole, unless the link seemed
	// slow enough for chunks).
	got := strings.Join(collapseRuns(pw.kinds()), " ")
	if want := "push put start patch complete push "; !strings.HasPrefix(got, want) ||
		got[len(want):] != "put" && got[len(want):] != "start patch complete" {
		t.Fatalf("requests %q (runs collapsed), want %q and the last photo", got, want)
	}
	if n := strings.Count(strings.Join(pw.kinds(), " "), "patch"); n < 2 {
		t.Fatalf("the large photo went in %d chunks", n)
	}

	reader := c2ForRead(t, srv, user)
	meanwhile, _ := c.Visit(<-second)
	checkStored(t, srv, reader, pw, photoOf(shown, 0, small), photoOf(shown, 1, large), photoOf(meanwhile, 0, medium))
	var onServer wire.Visit
	must(t, reader.GetJSON(clienttest.Context(t), "/api/v1/visits/"+id.String(), &onServer))
	if mustJSON(onServer.Photos) != mustJSON(shown.Photos) {
		t.Fatalf("server visit photos %s, phone %s", mustJSON(onServer.Photos), mustJSON(shown.Photos))
	}
	checkPhotoOutboxEmpty(t, c, dir)
}

func testRefusedPhotos(t *testing.T, srv *clienttest.Server, user string) {
	pw := newPhotoWire(t, srv)
	c, dir := phone(t, pw.server(srv), user, "refused-phone", nil)
	h := c.Households()[0]
	text := []byte("这不是照片 — not a photo")

	// The phone refuses what it can judge itself, before anything is queued.
	v := newVisit(c, h, "照片格式错误。")
	v.PhotoFiles = []client.PhotoFile{{Content: bytes.NewReader(photoJPEG(t, 4, 320, 240))}, {Content: bytes.NewReader(text)}}
	var ve *client.ValidationError
	if _, err := c.RecordVisit(v); !errors.As(err, &ve) || ve.Fields[0].Field != "/photos/1" || ve.Fields[0].Reason != "unsupported_media_type" {
		t.Fatalf("a text file as a photo: %v", err)
	}
	if c.Pending() != 0 || len(photoFiles(t, dir)) != 0 {
		t.Fatalf("a refused recording left %d changes and files %v", c.Pending(), photoFiles(t, dir))
	}
	c.Close()

	// What only the server can judge is refused there, reported, kept
	// aside and never sent again.
	cfg := phoneConfig(t, pw.URL, dir, "refused-phone")
	cfg.NoLocalChecks = true
	c = openConfig(t, cfg)
	good, truncatedJPEG := photoJPEG(t, 5, 320, 240), photoJPEG(t, 6, 1024, 768)
	tooLarge := append(photoJPEG(t, 7, 320, 240), make([]byte, photoMaxBytes)...)
	v.PhotoFiles = []client.PhotoFile{{Content: bytes.NewReader(good)}, {Content: bytes.NewReader(truncatedJPEG[:len(truncatedJPEG)*6/10])},
		{Content: bytes.NewReader(text)}, {Content: bytes.NewReader(tooLarge)}}
	id, err := c.RecordVisit(v)
	must(t, err)
	rep, err := c.Sync(clienttest.Context(t))
	must(t, err)
	want := map[string]int{"truncated": 422, "unsupported_media_type": 415, "too_large": 413}
	if rep.Photos.Uploaded != 1 || rep.Photos.Waiting != 0 || len(rep.Photos.Refused) != 3 {
		t.Fatalf("photo report %+v", rep.Photos)
	}
	for _, r := range rep.Photos.Refused {
		if want[r.Reason] != r.Status || r.MessageZH == "" || r.VisitID != id {
			t.Fatalf("refused %+v, want one of %v with a Chinese message", r, want)
		}
		if _, err := os.Stat(r.Path); err != nil {
			t.Fatalf("the refused photo's copy is gone: %v", err)
		}
		delete(want, r.Reason)
	}
	sent := pw.mark()
	again := mustSync(t, c)
	if again.Photos.BytesSent != 0 || again.Photos.Uploaded != 0 || len(again.Photos.Refused) != 0 || pw.photoRequestsSince(sent) != 0 {
		t.Fatalf("refused photos were sent again: %+v", again.Photos)
	}
	refused := c.RefusedPhotos()
	if len(refused) != 3 {
		t.Fatalf("refused list %+v", refused)
	}
	must(t, c.ForgetRefusedPhoto(refused[0].PhotoID))
	if _, err := os.Stat(refused[0].Path); !os.IsNotExist(err) || len(c.RefusedPhotos()) != 2 {
		t.Fatalf("a forgotten photo's copy stays (%v) or it is still listed", err)
	}
	if b := c.Backlog(); b != (client.Backlog{}) {
		t.Fatalf("backlog %+v", b)
	}
	shown, _ := c.Visit(id)
	checkStored(t, srv, c2ForRead(t, srv, user), pw, photoOf(shown, 0, good))
}

func testAlreadyStored(t *testing.T, srv *clienttest.Server, user string) {
	pw := newPhotoWire(t, srv)
	c, dir := phone(t, pw.server(srv), user, "dedup-phone", nil)
	photo := photoJPEG(t, 8, 1024, 768) // several chunks: asked for with the upload's start
	photoID := uuid.New()
	putDirect(t, srv, user, photoID, photo)

	v := newVisit(c, c.Households()[0], "照片已由其他方式上传。")
	v.PhotoFiles = []client.PhotoFile{{ID: photoID, Content: bytes.NewReader(photo)}}
	_, err := c.RecordVisit(v)
	must(t, err)
	rep := mustSync(t, c)
	if p := rep.Photos; p.Uploaded != 1 || p.AlreadyStored != 1 || p.BytesSent != 0 {
		t.Fatalf("photo report %+v, requests %v", p, pw.kinds())
	}
	if kinds := strings.Join(pw.kinds(), " "); strings.Contains(kinds, "patch") || strings.Contains(kinds, "put") {
		t.Fatalf("the stored photo was sent again: %s", kinds)
	}
	checkPhotoOutboxEmpty(t, c, dir)
}

func testRetriedNotRefused(t *testing.T, srv *clienttest.Server, user string) {
	pw := newPhotoWire(t, srv)
	dir := t.TempDir()
	link := &photoLink{base: http.DefaultTransport}
	var sleeps []time.Duration
	cfg := phoneConfig(t, pw.URL, dir, "flaky-phone")
	cfg.HTTPClient = &http.Client{Transport: link}
	cfg.Sleep = func(ctx context.Context, d time.Duration) error { sleeps = append(sleeps, d); return ctx.Err() }
	c := openConfig(t, cfg)
	ctx := clienttest.Context(t)
	_, err := c.Login(ctx, user, demo.Password)
	must(t, err)
	_, err = c.Pull(ctx)
	must(t, err)
	photo := photoJPEG(t, 9, 1280, 1024)
	v := newVisit(c, c.Households()[0], "信号很差。")
	v.PhotoFiles = []client.PhotoFile{{Content: bytes.NewReader(photo)}}
	id, err := c.RecordVisit(v)
	must(t, err)

	// The first chunk meets a server that is down for maintenance, the
	// second a link that drops half-way.
	link.before = func(kind string, nth int) (*http.Response, error) {
		if kind == "patch" && nth == 1 {
			return &http.Response{StatusCode: http.StatusServiceUnavailable, Header: http.Header{"Retry-After": {"7"}},
				Body: io.NopCloser(strings.NewReader("")), ContentLength: 0}, nil
		}
		return nil, nil
	}
	link.midBody = func(kind string, nth int) error {
		if kind == "patch" && nth == 2 {
			return errors.New("photoLink: the link dropped")
		}
		return nil
	}
	rep := mustSync(t, c)
	if rep.Photos.Uploaded != 1 || len(rep.Photos.Refused) != 0 || len(c.RefusedPhotos()) != 0 {
		t.Fatalf("photo report %+v", rep.Photos)
	}
	if !waitedAtLeast(sleeps, 7*time.Second) {
		t.Fatalf("Retry-After: 7 was not waited out: %v", sleeps)
	}
	chunks := link.bodies("patch")
	if len(chunks) < 4 || chunks[1] > chunks[0]/2 || chunks[2] > chunks[1]/2 {
		t.Fatalf("chunk sizes %v: a failed chunk should halve the next", chunks)
	}
	shown, _ := c.Visit(id)
	checkStored(t, srv, c2ForRead(t, srv, user), pw, photoOf(shown, 0, photo))
	checkPhotoOutboxEmpty(t, c, dir)
}

// storedPhoto is a photo the test expects on the server.
type storedPhoto struct {
	id    uuid.UUID
	bytes []byte
}

func photoOf(v wire.Visit, i int, b []byte) storedPhoto {
	if i >= len(v.Photos) {
		return storedPhoto{bytes: b}
	}
	return storedPhoto{id: v.Photos[i].PhotoID, bytes: b}
}

// checkStored checks that the server holds each photo once: it answers the
// photo with its hash and size, its store holds the bytes under their hash,
// and no part of its resumable uploads is left over.
func checkStored(t *testing.T, srv *clienttest.Server, reader *client.Client, pw *photoWire, photos ...storedPhoto) {
	t.Helper()
	ctx := clienttest.Context(t)
	blobs := srv.Blobs(t)
	for _, p := range photos {
		var ph wire.Photo
		if err := reader.GetJSON(ctx, "/api/v1/photos/"+p.id.String(), &ph); err != nil {
			t.Fatalf("photo %s: %v", p.id, err)
		}
		if ph.SHA256 != sha(p.bytes) || ph.Size != int64(len(p.bytes)) {
			t.Fatalf("photo %s stored as %s (%d bytes), sent %s (%d bytes)", p.id, ph.SHA256, ph.Size, sha(p.bytes), len(p.bytes))
		}
		info, err := blobs.Stat(ctx, "photos/"+ph.SHA256[:2]+"/"+ph.SHA256)
		if err != nil || info.Size != ph.Size {
			t.Fatalf("photo %s in the store: %+v %v", p.id, info, err)
		}
		for _, up := range pw.uploadsOf(p.id) {
			var parts []string
			must(t, blobs.List(ctx, "uploads/"+up.String()+"/", func(i blob.Info) error { parts = append(parts, i.Key); return nil }))
			if len(parts) > 0 {
				t.Fatalf("photo %s: parts of upload %s left in the store: %v", p.id, up, parts)
			}
		}
	}
}

// checkPhotoOutboxEmpty checks that nothing is waiting and no copy is left.
func checkPhotoOutboxEmpty(t *testing.T, c *client.Client, dir string) {
	t.Helper()
	if b := c.Backlog(); b != (client.Backlog{}) || len(c.RefusedPhotos()) != 0 {
		t.Fatalf("backlog %+v, refused %+v", b, c.RefusedPhotos())
	}
	if files := photoFiles(t, dir); len(files) != 0 {
		t.Fatalf("photo copies left on the phone: %v", files)
	}
}

func photoFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, "photos"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// photoJPEG is a real JPEG with EXIF, distinct per seed.
func photoJPEG(t *testing.T, seed int64, w, h int) []byte {
	t.Helper()
	b, err := photoimage.GenerateJPEG(photoimage.GenerateOptions{Width: w, Height: h, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// putDirect stores a photo with a PUT of its own, as another device of
// the user would.
func putDirect(t *testing.T, srv *clienttest.Server, user string, id uuid.UUID, photo []byte) {
	t.Helper()
	lb, _ := json.Marshal(map[string]string{"username": user, "password": demo.Password, "device_id": "camera-" + id.String()[:8]})
	res, err := http.Post(srv.URL+"/api/v1/auth/login", "application/json", bytes.NewReader(lb))
	must(t, err)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/api/v1/photos/"+id.String(), bytes.NewReader(photo))
	req.Header.Set("Content-Type", "image/jpeg")
	req.Header.Set("X-Content-SHA256", sha(photo))
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	res, err = http.DefaultClient.Do(req)
	must(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("direct PUT: %d %s", res.StatusCode, body)
	}
}

func waitedAtLeast(sleeps []time.Duration, d time.Duration) bool {
	for _, s := range sleeps {
		if s >= d {
			return true
		}
	}
	return false
}

// collapseRuns replaces each run of equal strings by one.
func collapseRuns(xs []string) []string {
	var out []string
	for _, x := range xs {
		if len(out) == 0 || out[len(out)-1] != x {
			out = append(out, x)
		}
	}
	return out
}

// requestKind names a request of the sync and photo protocol.
func requestKind(method, path string) string {
	switch {
	case method == http.MethodPost && path == "/api/v1/sync/push":
		return "push"
	case method == http.MethodPut && strings.HasPrefix(path, "/api/v1/photos/"):
		return "put"
	case method == http.MethodGet && strings.HasPrefix(path, "/api/v1/photos/"):
		return "get-photo"
	case method == http.MethodPost && path == "/api/v1/photo-uploads":
		return "start"
	case method == http.MethodPatch:
		return "patch"
	case method == http.MethodHead:
		return "head"
	case method == http.MethodPost && strings.HasSuffix(path, "/complete"):
		return "complete"
	case strings.HasPrefix(path, "/api/v1/sync/"):
		return "pull"
	}
	return "other"
}

// photoWire is a reverse proxy in front of the server that records what
// phones send through it, in order: each request's kind, path and body
// bytes (those the phone got out before it died, for a killed one), and
// which photo each resumable upload is for.
type photoWire struct {
	URL string

	mu      sync.Mutex
	reqs    []wireReq
	active  int
	uploads map[uuid.UUID]uuid.UUID // upload id → photo id
	hook    func(kind string)
}

type wireReq struct {
	kind, path string
	bytes      int64
}

func newPhotoWire(t *testing.T, srv *clienttest.Server) *photoWire {
	target, err := url.Parse(srv.URL)
	must(t, err)
	w := &photoWire{uploads: map[uuid.UUID]uuid.UUID{}}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ErrorLog = log.New(io.Discard, "", 0) // a killed phone's cut request is expected
	rp.ModifyResponse = func(res *http.Response) error {
		if requestKind(res.Request.Method, res.Request.URL.Path) != "start" || res.StatusCode >= 300 {
			return nil
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		res.Body = io.NopCloser(bytes.NewReader(b))
		var up wire.Upload
		if err == nil && json.Unmarshal(b, &up) == nil && up.ID != uuid.Nil {
			w.mu.Lock()
			w.uploads[up.ID] = up.PhotoID
			w.mu.Unlock()
		}
		return err
	}
	s := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		kind := requestKind(r.Method, r.URL.Path)
		w.mu.Lock()
		w.active++
		hook := w.hook
		w.mu.Unlock()
		if hook != nil {
			hook(kind)
		}
		body := &countingReader{r: r.Body}
		r.Body = body
		rp.ServeHTTP(rw, r)
		w.mu.Lock()
		w.active--
		w.reqs = append(w.reqs, wireReq{kind: kind, path: r.URL.Path, bytes: body.n})
		w.mu.Unlock()
	}))
	t.Cleanup(s.Close)
	w.URL = s.URL
	return w
}

// server is srv as reached through the proxy.
func (w *photoWire) server(srv *clienttest.Server) *clienttest.Server {
	via := *srv
	via.URL = w.URL
	return &via
}

func (w *photoWire) onRequest(fn func(kind string)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.hook = fn
}

func (w *photoWire) kinds() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, r := range w.reqs {
		if r.kind != "other" && r.kind != "pull" {
			out = append(out, r.kind)
		}
	}
	return out
}

// mark is where the record stands now, to count what is sent after it.
func (w *photoWire) mark() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.reqs)
}

func (w *photoWire) photoRequestsSince(mark int) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, r := range w.reqs[mark:] {
		if r.kind == "put" || r.kind == "patch" || r.kind == "start" {
			n++
		}
	}
	return n
}

// sent is the photo's bytes the phone sent after mark (whole PUTs and
// chunks), and the largest of those requests.
func (w *photoWire) sent(photo uuid.UUID, mark int) (total, largest int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, r := range w.reqs[mark:] {
		var mine bool
		switch r.kind {
		case "put":
			mine = r.path == "/api/v1/photos/"+photo.String()
		case "patch":
			up, _ := uuid.Parse(strings.TrimPrefix(r.path, "/api/v1/photo-uploads/"))
			mine = w.uploads[up] == photo
		}
		if mine {
			total += r.bytes
			largest = max(largest, r.bytes)
		}
	}
	return total, largest
}

func (w *photoWire) uploadsOf(photo uuid.UUID) []uuid.UUID {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []uuid.UUID
	for up, p := range w.uploads {
		if p == photo {
			out = append(out, up)
		}
	}
	return out
}

// idle waits until no request is in the proxy (the cut request of a killed
// phone has been seen to its end).
func (w *photoWire) idle(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		w.mu.Lock()
		n := w.active
		w.mu.Unlock()
		if n == 0 {
			return
		}
	}
	t.Fatal("a request is still in the proxy after 30 s")
}

type countingReader struct {
	r io.ReadCloser
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingReader) Close() error { return c.r.Close() }

// photoLink is the phone's side of the link, where a test makes faults by
// the kind of request and its number (1-based, per kind): before may
// answer instead of the server or fail the request, midBody is called once
// half of a request's body is out (an error cuts it there), after sees the
// answer.
type photoLink struct {
	base    http.RoundTripper
	before  func(kind string, nth int) (*http.Response, error)
	midBody func(kind string, nth int) error
	after   func(kind string, nth int, res *http.Response)

	mu           sync.Mutex
	seen         map[string]int
	bodiesByKind map[string][]int64
}

func (l *photoLink) RoundTrip(r *http.Request) (*http.Response, error) {
	kind := requestKind(r.Method, r.URL.Path)
	l.mu.Lock()
	if l.seen == nil {
		l.seen, l.bodiesByKind = map[string]int{}, map[string][]int64{}
	}
	l.seen[kind]++
	nth := l.seen[kind]
	l.bodiesByKind[kind] = append(l.bodiesByKind[kind], r.ContentLength)
	l.mu.Unlock()
	if l.before != nil {
		if res, err := l.before(kind, nth); res != nil || err != nil {
			if res != nil {
				res.Request = r
			}
			return res, err
		}
	}
	if l.midBody != nil && r.Body != nil && r.ContentLength > 1 {
		r.Body = &halfway{r: r.Body, at: r.ContentLength / 2, fn: func() error { return l.midBody(kind, nth) }}
	}
	res, err := l.base.RoundTrip(r)
	if err == nil && l.after != nil {
		l.after(kind, nth, res)
	}
	return res, err
}

// bodies lists the body sizes of the requests of a kind, in order.
func (l *photoLink) bodies(kind string) []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]int64(nil), l.bodiesByKind[kind]...)
}

// halfway calls fn once at bytes have been read; fn's error cuts the body.
type halfway struct {
	r    io.ReadCloser
	at   int64
	n    int64
	fn   func() error
	done bool
}

func (h *halfway) Read(p []byte) (int, error) {
	if !h.done && h.n >= h.at {
		h.done = true
		if err := h.fn(); err != nil {
			return 0, err
		}
	}
	if !h.done && h.n+int64(len(p)) > h.at {
		p = p[:h.at-h.n]
	}
	n, err := h.r.Read(p)
	h.n += int64(n)
	return n, err
}

func (h *halfway) Close() error { return h.r.Close() }
