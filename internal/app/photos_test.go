package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/photos/photoimage"
	"github.com/fieldvisit/fieldvisit/storage/blob"
	"github.com/fieldvisit/fieldvisit/wire"
)

// photoStores runs a test on SQLite with the local photo directory and on
// PostgreSQL with the real MinIO: the two deployments the service has.
func photoStores(t *testing.T, fn func(t *testing.T, e *testEnv)) {
	t.Helper()
	for _, d := range []string{"sqlite+local", "postgres+s3"} {
		t.Run(d, func(t *testing.T) { fn(t, newTestEnv(t, d)) })
	}
}

// rawRequest sends a non-JSON request through the router and validates the
// answer against openapi.yaml.
func (e *testEnv) rawRequest(t *testing.T, method, path, token string, header map[string]string, body []byte) response {
	t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	e.app.Handler.ServeHTTP(rec, req)
	res := response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	if res.Status >= 500 && res.Status != http.StatusServiceUnavailable {
		t.Errorf("%s %s answered %d: %s", method, path, res.Status, res.Body)
	}
	e.validator.CheckResponse(t, httptest.NewRequest(method, path, nil), res.Status, res.Header, res.Body)
	return res
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// testJPEG is a real JPEG with EXIF time and position, distinct per seed.
func testJPEG(t *testing.T, seed int64, at time.Time, where *domain.GeoPoint) []byte {
	t.Helper()
	b, err := photoimage.GenerateJPEG(photoimage.GenerateOptions{Width: 640, Height: 480, Seed: seed, TakenAt: &at, GPS: where, Label: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (e *testEnv) putPhoto(t *testing.T, tok string, id uuid.UUID, body []byte, sha, contentType, query string) response {
	t.Helper()
	return e.rawRequest(t, "PUT", "/api/v1/photos/"+id.String()+query, tok,
		map[string]string{"Content-Type": contentType, "X-Content-SHA256": sha}, body)
}

// TestPhotoUploadIsIdempotent: a photo goes in streamed, comes back byte
// for byte with its EXIF read, answers the same when sent again and
// refuses other bytes under the same id.
func TestPhotoUploadIsIdempotent(t *testing.T) {
	photoStores(t, func(t *testing.T, e *testEnv) {
		tok := e.login(t, "cadre-a")
		taken := time.Date(2026, 11, 20, 9, 40, 0, 0, domain.Shanghai)
		img := testJPEG(t, 1, taken, &domain.GeoPoint{Lat: 34.7001, Lon: 113.6002})
		id := uuid.New()

		first := e.putPhoto(t, tok, id, img, sha256Hex(img), "image/jpeg", "")
		if first.Status != http.StatusCreated {
			t.Fatalf("first upload: %d %s", first.Status, first.Body)
		}
		var ph wire.Photo
		first.json(t, &ph)
		if ph.SHA256 != sha256Hex(img) || ph.Size != int64(len(img)) || ph.MediaType != "image/jpeg" || ph.Width != 640 || ph.Height != 480 {
			t.Errorf("photo = %+v", ph)
		}
		if ph.TakenAt == nil || !ph.TakenAt.Equal(taken) {
			t.Errorf("EXIF time = %v, want %v", ph.TakenAt, taken)
		}
		if ph.ExifGPS == nil || abs(ph.ExifGPS.Lat-34.7001) > 1e-5 || abs(ph.ExifGPS.Lon-113.6002) > 1e-5 {
			t.Errorf("EXIF GPS = %+v", ph.ExifGPS)
		}

		again := e.putPhoto(t, tok, id, img, sha256Hex(img), "image/jpeg", "")
		if again.Status != http.StatusOK {
			t.Fatalf("same photo again: %d %s", again.Status, again.Body)
		}
		var ph2 wire.Photo
		again.json(t, &ph2)
		if ph2.ID != ph.ID || ph2.SHA256 != ph.SHA256 || !ph2.CreatedAt.Equal(ph.CreatedAt) {
			t.Errorf("replay answered %+v, first %+v", ph2, ph)
		}

		other := testJPEG(t, 2, taken, nil)
		if r := e.putPhoto(t, tok, id, other, sha256Hex(other), "image/jpeg", ""); r.Status != http.StatusConflict || !r.problem(t).hasField("X-Content-SHA256") {
			t.Errorf("same id, other bytes: %d %s", r.Status, r.Body)
		}

		content := e.rawRequest(t, "GET", "/api/v1/photos/"+id.String()+"/content", tok, nil, nil)
		if content.Status != http.StatusOK || !bytes.Equal(content.Body, img) || content.Header.Get("Content-Type") != "image/jpeg" {
			t.Errorf("content: %d, %d bytes, %s", content.Status, len(content.Body), content.Header.Get("Content-Type"))
		}
		thumb := e.rawRequest(t, "GET", "/api/v1/photos/"+id.String()+"/thumbnail", tok, nil, nil)
		if thumb.Status != http.StatusOK {
			t.Fatalf("thumbnail: %d %s", thumb.Status, thumb.Body)
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(thumb.Body))
		if err != nil || max(cfg.Width, cfg.Height) != 320 {
			t.Errorf("thumbnail is %dx%d (%v), want longer side 320", cfg.Width, cfg.Height, err)
		}
		if n := e.count(t, "photos"); n != 1 {
			t.Errorf("%d photo rows, want 1", n)
		}
	})
}

// TestPhotoWithMetadataBeforeTheFrame: a camera JPEG with hundreds of
// kilobytes of metadata before its frame (a portrait's depth map in XMP)
// is a photo like any other, sent whole or in chunks; the phone is told
// it is corrupt only when its header runs past 4 MB. A 172 KB portrait was
// refused as "corrupt: unexpected EOF" — final, so its evidence was lost.
func TestPhotoWithMetadataBeforeTheFrame(t *testing.T) {
	photoStores(t, func(t *testing.T, e *testEnv) {
		tok := e.login(t, "cadre-a")
		taken := time.Date(2026, 11, 20, 9, 40, 0, 0, domain.Shanghai)
		chunked := func(img []byte) response {
			r := e.do(t, "POST", "/api/v1/photo-uploads", tok, wire.StartUpload{PhotoID: uuid.New(), SHA256: sha256Hex(img), Size: int64(len(img)), ContentType: "image/jpeg", Method: "chunked"})
			if r.Status != http.StatusCreated {
				t.Fatalf("start: %d %s", r.Status, r.Body)
			}
			var up wire.Upload
			r.json(t, &up)
			for off := 0; off < len(img); off += 100_000 {
				r := e.rawRequest(t, "PATCH", "/api/v1/photo-uploads/"+up.ID.String(), tok,
					map[string]string{"Content-Type": "application/offset+octet-stream", "Upload-Offset": strconv.Itoa(off)}, img[off:min(len(img), off+100_000)])
				if r.Status != http.StatusOK {
					t.Fatalf("chunk at %d: %d %s", off, r.Status, r.Body)
				}
			}
			return e.rawRequest(t, "POST", "/api/v1/photo-uploads/"+up.ID.String()+"/complete", tok, nil, nil)
		}
		put := func(img []byte) response {
			return e.putPhoto(t, tok, uuid.New(), img, sha256Hex(img), "image/jpeg", "")
		}
		for i, tc := range []struct {
			name     string
			metadata int
			send     func([]byte) response
			want     int
		}{
			{"150 KB sent whole", 150_000, put, http.StatusCreated},
			{"150 KB in chunks", 150_000, chunked, http.StatusCreated},
			{"1 MB sent whole", 1_000_000, put, http.StatusCreated},
			{"1 MB in chunks", 1_000_000, chunked, http.StatusCreated},
			{"5 MB sent whole", 5_000_000, put, http.StatusUnprocessableEntity},
			{"5 MB in chunks", 5_000_000, chunked, http.StatusUnprocessableEntity},
		} {
			t.Run(tc.name, func(t *testing.T) {
				img := photoimage.WithMetadata(testJPEG(t, int64(100+i), taken, &domain.GeoPoint{Lat: 34.7001, Lon: 113.6002}), tc.metadata)
				r := tc.send(img)
				if r.Status != tc.want {
					t.Fatalf("%d bytes: %d %s, want %d", len(img), r.Status, r.Body, tc.want)
				}
				if tc.want != http.StatusCreated {
					if p := r.problem(t); !p.hasField("body") {
						t.Errorf("refusal names no body: %s", r.Body)
					}
					return
				}
				var ph wire.Photo
				r.json(t, &ph)
				if ph.Size != int64(len(img)) || ph.Width != 640 || ph.Height != 480 || ph.TakenAt == nil || !ph.TakenAt.Equal(taken) || ph.ExifGPS == nil {
					t.Errorf("photo = %+v", ph)
				}
				content := e.rawRequest(t, "GET", "/api/v1/photos/"+ph.ID.String()+"/content", tok, nil, nil)
				if content.Status != http.StatusOK || !bytes.Equal(content.Body, img) {
					t.Errorf("content: %d, %d bytes of %d", content.Status, len(content.Body), len(img))
				}
			})
		}
		if n := e.count(t, "photos"); n != 4 {
			t.Errorf("%d photo rows, want the 4 accepted", n)
		}
	})
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// bombPNG is a valid PNG header declaring w×h pixels, with no pixel data
// behind it: decoding it for real would need w×h×4 bytes.
func bombPNG(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(data)))
		b.Write(n[:])
		c := crc32.NewIEEE()
		c.Write([]byte(typ))
		c.Write(data)
		b.WriteString(typ)
		b.Write(data)
		binary.BigEndian.PutUint32(n[:], c.Sum32())
		b.Write(n[:])
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	chunk("IEND", nil)
	return b.Bytes()
}

func smallPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for i := range img.Pix {
		img.Pix[i] = byte(i)
	}
	img.Set(1, 1, color.RGBA{255, 0, 0, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestPhotoBadInput: every bad upload is a 4xx naming what is wrong, and
// nothing is kept — no photo row and no bytes in the store.
func TestPhotoBadInput(t *testing.T) {
	photoStores(t, func(t *testing.T, e *testEnv) {
		tok := e.login(t, "cadre-a")
		now := time.Now()
		good := testJPEG(t, 3, now, nil)
		truncated := good[:len(good)*2/3]
		pngBytes := smallPNG(t)
		text := []byte("这不是照片,只是一段文字。\n")
		bomb := bombPNG(50000, 50000)
		huge := bytes.Repeat([]byte{0xFF}, int(e.app.Photos.Config().MaxSize)+10)
		copy(huge, good[:4])
		for _, tc := range []struct {
			name        string
			id          string
			body        []byte
			sha         string
			contentType string
			status      int
			field       string
		}{
			{"hash mismatch", uuid.NewString(), good, sha256Hex(pngBytes), "image/jpeg", 422, "X-Content-SHA256"},
			{"no hash", uuid.NewString(), good, "", "image/jpeg", 422, "X-Content-SHA256"},
			{"uppercase hash", uuid.NewString(), good, strings.ToUpper(sha256Hex(good)), "image/jpeg", 422, "X-Content-SHA256"},
			{"truncated jpeg", uuid.NewString(), truncated, sha256Hex(truncated), "image/jpeg", 422, "body"},
			{"png declared as jpeg", uuid.NewString(), pngBytes, sha256Hex(pngBytes), "image/jpeg", 415, "Content-Type"},
			{"text named .jpg", uuid.NewString(), text, sha256Hex(text), "image/jpeg", 415, "body"},
			{"not an image type", uuid.NewString(), good, sha256Hex(good), "application/pdf", 415, "Content-Type"},
			{"image bomb", uuid.NewString(), bomb, sha256Hex(bomb), "image/png", 422, "body"},
			{"oversize body", uuid.NewString(), huge, sha256Hex(huge), "image/jpeg", 413, "body"},
			{"path traversal id", "..%2F..%2Fetc%2Fpasswd", good, sha256Hex(good), "image/jpeg", 404, ""},
			{"not a uuid", "photo-1.jpg", good, sha256Hex(good), "image/jpeg", 404, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.rawRequest(t, "PUT", "/api/v1/photos/"+tc.id, tok, map[string]string{"Content-Type": tc.contentType, "X-Content-SHA256": tc.sha}, tc.body)
				if r.Status != tc.status {
					t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
				}
				if p := r.problem(t); tc.field != "" && !p.hasField(tc.field) {
					t.Errorf("problem does not name %s: %s", tc.field, r.Body)
				}
			})
		}
		if n := e.count(t, "photos"); n != 0 {
			t.Errorf("%d photo rows after only bad uploads", n)
		}
		e.assertNoPhotoBytes(t)
	})
}

// assertNoPhotoBytes fails if the store holds any photo or upload bytes.
func (e *testEnv) assertNoPhotoBytes(t *testing.T) {
	t.Helper()
	for _, prefix := range []string{"photos/", "uploads/", "incoming/"} {
		n := 0
		if err := e.app.Blobs.List(context.Background(), prefix, func(blob.Info) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d blobs under %s after rejected uploads", n, prefix)
		}
	}
}

// TestPhotoAccess: a photo is seen by its uploader and by whoever may see a
// visit listing it; another village's users get 404 for the description,
// the bytes and the thumbnail, and cannot claim its id.
func TestPhotoAccess(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		tokA, tokB := e.login(t, "cadre-a"), e.login(t, "cadre-b")
		supA, supB := e.login(t, "supervisor-a"), e.login(t, "supervisor-b")
		img := testJPEG(t, 4, time.Now(), nil)
		id, visitID := uuid.New(), uuid.New()
		if r := e.putPhoto(t, tokA, id, img, sha256Hex(img), "image/jpeg", ""); r.Status != http.StatusCreated {
			t.Fatalf("upload: %d %s", r.Status, r.Body)
		}
		v := visitChange(visitID, e.householdA.Household.ID, "拍照走访", 34.7)
		v["data"].(map[string]any)["photos"] = []any{map[string]any{"photo_id": id, "sha256": sha256Hex(img)}}
		e.push(t, tokA, uuid.NewString(), batch("phone-a", time.Now(), v)).pushResult(t)

		// Colleagues in the same village, one of them paired with the same
		// household, may not read cadre A's visit, so not its photos either.
		colleague := e.addUser(t, "cadre-a-colleague", domain.RoleCadre, e.villageA, nil, domain.RankStaff)
		paired := e.addUser(t, "cadre-a-paired", domain.RoleCadre, e.villageA, nil, domain.RankStaff)
		e.pair(t, e.householdA.Household.ID, paired.ID)
		tokColleague, tokPaired := e.login(t, colleague.Username), e.login(t, paired.Username)
		for _, tok := range []string{tokColleague, tokPaired} {
			if r := e.do(t, "GET", "/api/v1/visits/"+visitID.String(), tok, nil); r.Status != http.StatusNotFound {
				t.Fatalf("a colleague reads cadre A's visit: %d", r.Status)
			}
		}
		for _, tc := range []struct {
			who    string
			token  string
			status int
		}{
			{"uploader", tokA, 200},
			{"supervisor of the household's village", supA, 200},
			{"cadre of another village", tokB, 404},
			{"supervisor of another village", supB, 404},
			{"colleague cadre of the same village", tokColleague, 404},
			{"another cadre paired with the same household", tokPaired, 404},
		} {
			for _, suffix := range []string{"", "/content", "/thumbnail"} {
				r := e.rawRequest(t, "GET", "/api/v1/photos/"+id.String()+suffix, tc.token, nil, nil)
				if r.Status != tc.status {
					t.Errorf("%s GET %s: %d, want %d", tc.who, suffix, r.Status, tc.status)
				}
			}
		}
		// Cadre B cannot take over the id A's visit lists, nor attach a
		// photo to A's visit.
		other := testJPEG(t, 5, time.Now(), nil)
		if r := e.putPhoto(t, tokB, id, other, sha256Hex(other), "image/jpeg", ""); r.Status != http.StatusNotFound {
			t.Errorf("B reusing A's photo id: %d %s", r.Status, r.Body)
		}
		if r := e.putPhoto(t, tokB, uuid.New(), other, sha256Hex(other), "image/jpeg", "?visit_id="+visitID.String()); r.Status != http.StatusNotFound {
			t.Errorf("B attaching to A's visit: %d %s", r.Status, r.Body)
		}
		// Nor read A's photo by listing its id in a visit of B's own, with
		// a made-up hash or with the right one: a visit's list shows only
		// photos its cadre took (or uploaded for that visit).
		for i, sha := range []string{strings.Repeat("0", 64), sha256Hex(img)} {
			own := visitChange(uuid.New(), e.householdB.Household.ID, "借用照片", 34.7)
			own["data"].(map[string]any)["photos"] = []any{map[string]any{"photo_id": id, "sha256": sha}}
			e.push(t, tokB, uuid.NewString(), batch("phone-b", time.Now(), own)).pushResult(t)
			for _, who := range []struct{ name, token string }{{"cadre B", tokB}, {"supervisor B", supB}} {
				for _, suffix := range []string{"", "/content", "/thumbnail"} {
					if r := e.rawRequest(t, "GET", "/api/v1/photos/"+id.String()+suffix, who.token, nil, nil); r.Status != http.StatusNotFound {
						t.Errorf("%s reads A's photo%s through B's visit listing it (hash %d): %d", who.name, suffix, i, r.Status)
					}
				}
			}
		}
	})
}

// TestPhotoAndVisitConvergeInEitherOrder: whether the photo or the visit
// arrives first, the visit ends up with its photo and no missing-photo flag.
func TestPhotoAndVisitConvergeInEitherOrder(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		tok := e.login(t, "cadre-a")
		for _, photoFirst := range []bool{true, false} {
			img := testJPEG(t, int64(map[bool]int{true: 6, false: 7}[photoFirst]), time.Now(), nil)
			pid, vid := uuid.New(), uuid.New()
			v := visitChange(vid, e.householdA.Household.ID, "照片与记录先后到达", 34.7)
			v["data"].(map[string]any)["photos"] = []any{map[string]any{"photo_id": pid, "sha256": sha256Hex(img)}}
			upload := func() {
				if r := e.putPhoto(t, tok, pid, img, sha256Hex(img), "image/jpeg", "?visit_id="+vid.String()); r.Status != http.StatusCreated {
					t.Fatalf("upload: %d %s", r.Status, r.Body)
				}
			}
			if photoFirst {
				upload()
			}
			e.push(t, tok, uuid.NewString(), batch("phone-a", time.Now(), v)).pushResult(t)
			e.assessEvidence(t)
			if !photoFirst {
				if !e.visitHasFlag(t, vid, "photo_missing") {
					t.Errorf("visit before photo: no photo_missing flag while the photo is on its way")
				}
				upload()
				e.assessEvidence(t)
			}
			if e.visitHasFlag(t, vid, "photo_missing") || e.visitHasFlag(t, vid, "no_photo") {
				t.Errorf("photo first=%v: visit still flagged as missing its photo", photoFirst)
			}
		}
	})
}

// TestPhotoReuseIsFlagged: the same bytes under two photo ids on two
// visits flag both visits, with the count of other visits behind the flag;
// deleting one visit clears the flag on the other.
func TestPhotoReuseIsFlagged(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		tok := e.login(t, "cadre-a")
		img := testJPEG(t, 21, time.Now(), nil)
		sha := sha256Hex(img)
		ids := []uuid.UUID{uuid.New(), uuid.New()}
		visits := []uuid.UUID{uuid.New(), uuid.New()}
		var changes []map[string]any
		for i := range ids {
			if r := e.putPhoto(t, tok, ids[i], img, sha, "image/jpeg", ""); r.Status != http.StatusCreated {
				t.Fatalf("upload %d: %d %s", i, r.Status, r.Body)
			}
			v := visitChange(visits[i], e.householdA.Household.ID, "同一张照片", 34.7)
			v["data"].(map[string]any)["photos"] = []any{map[string]any{"photo_id": ids[i], "sha256": sha}}
			changes = append(changes, v)
		}
		// The second visit arrives after the first was judged: the first
		// must learn of it.
		for _, c := range changes {
			e.push(t, tok, uuid.NewString(), batch("phone-a", time.Now(), c)).pushResult(t)
			e.assessEvidence(t)
		}
		for _, vid := range visits {
			if !e.visitHasFlag(t, vid, "photo_reuse") {
				t.Errorf("visit %s: no photo_reuse flag", vid)
			}
		}
		del := map[string]any{"entity": "visit", "op": "delete", "id": visits[1], "base_version": 1}
		e.push(t, tok, uuid.NewString(), batch("phone-a", time.Now(), del)).pushResult(t)
		e.assessEvidence(t)
		if e.visitHasFlag(t, visits[0], "photo_reuse") {
			t.Error("photo_reuse stayed after the other visit was deleted")
		}

		// Another cadre's visit naming cadre-a's photo (its id and hash)
		// neither flags cadre-a's visit as a reuse nor gets the photo:
		// on their visit it is a photo that never came.
		lister := uuid.New()
		v := visitChange(lister, e.householdB.Household.ID, "别人的照片", 34.7)
		v["data"].(map[string]any)["photos"] = []any{map[string]any{"photo_id": ids[0], "sha256": sha}}
		e.push(t, e.login(t, "cadre-b"), uuid.NewString(), batch("phone-b", time.Now(), v)).pushResult(t)
		e.assessEvidence(t)
		if e.visitHasFlag(t, visits[0], "photo_reuse") {
			t.Error("a visit naming someone else's photo flagged the owner's visit as a reuse")
		}
		if !e.visitHasFlag(t, lister, "photo_missing") || e.visitHasFlag(t, lister, "exif_time_mismatch") || e.visitHasFlag(t, lister, "photo_reuse") {
			t.Errorf("the lister's visit is judged on someone else's photo: %+v", e.visitFlags(t, lister))
		}
	})
}

func (e *testEnv) visitFlags(t *testing.T, id uuid.UUID) []domain.Flag {
	t.Helper()
	v, err := e.app.Store.Visit(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return v.Flags
}

func (e *testEnv) assessEvidence(t *testing.T) {
	t.Helper()
	for {
		n, err := e.app.Photos.AssessQueued(context.Background(), 100)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

func (e *testEnv) visitHasFlag(t *testing.T, id uuid.UUID, code string) bool {
	t.Helper()
	v, err := e.app.Store.Visit(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range v.Flags {
		if f.Code == code {
			return true
		}
	}
	return false
}

// TestPhotoReconcile: the reconciliation finds bytes no photo points at and
// photos whose bytes are gone; with fix it deletes only the former.
func TestPhotoReconcile(t *testing.T) {
	photoStores(t, func(t *testing.T, e *testEnv) {
		ctx := context.Background()
		tok := e.login(t, "cadre-a")
		kept, lost := testJPEG(t, 8, time.Now(), nil), testJPEG(t, 9, time.Now(), nil)
		keptID, lostID := uuid.New(), uuid.New()
		for id, b := range map[uuid.UUID][]byte{keptID: kept, lostID: lost} {
			if r := e.putPhoto(t, tok, id, b, sha256Hex(b), "image/jpeg", ""); r.Status != http.StatusCreated {
				t.Fatalf("upload: %d %s", r.Status, r.Body)
			}
		}
		orphan := []byte("bytes of an upload whose record never came")
		orphanKey := "photos/" + sha256Hex(orphan)[:2] + "/" + sha256Hex(orphan)
		if _, err := e.app.Blobs.Put(ctx, orphanKey, bytes.NewReader(orphan), int64(len(orphan)), ""); err != nil {
			t.Fatal(err)
		}
		lostKey := "photos/" + sha256Hex(lost)[:2] + "/" + sha256Hex(lost)
		if err := e.app.Blobs.Delete(ctx, lostKey); err != nil {
			t.Fatal(err)
		}
		rep, err := e.app.Photos.Reconcile(ctx, true, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.BlobsWithoutPhoto) != 1 || rep.BlobsWithoutPhoto[0] != orphanKey {
			t.Errorf("orphans = %v, want [%s]", rep.BlobsWithoutPhoto, orphanKey)
		}
		if len(rep.PhotosWithoutBlob) != 1 || rep.PhotosWithoutBlob[0] != lostID {
			t.Errorf("photos without bytes = %v, want [%s]", rep.PhotosWithoutBlob, lostID)
		}
		if _, err := e.app.Blobs.Stat(ctx, orphanKey); err == nil {
			t.Error("orphan blob survived fix")
		}
		if r := e.rawRequest(t, "GET", "/api/v1/photos/"+keptID.String()+"/content", tok, nil, nil); r.Status != 200 || !bytes.Equal(r.Body, kept) {
			t.Errorf("kept photo: %d", r.Status)
		}
		if r := e.rawRequest(t, "GET", "/api/v1/photos/"+lostID.String()+"/content", tok, nil, nil); r.Status != 404 {
			t.Errorf("photo without bytes: %d, want 404", r.Status)
		}
	})
}

// TestPhotoSpoolDirIsPrivate: chunks spool under the data dir, which the
// service creates.
func TestPhotoSpoolDirIsPrivate(t *testing.T) {
	e := newTestEnv(t, "sqlite+local")
	fi, err := os.Stat(filepath.Join(e.app.Config.DataDir, "spool"))
	if err != nil || !fi.IsDir() || fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("spool dir: %v %v", fi, err)
	}
}

// TestPhotosReconcileCommand: the operator's command reports an orphan blob
// and, only with --fix, removes it.
func TestPhotosReconcileCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	app, err := NewApp(ctx, Config{DataDir: dir, HashConcurrency: 1, ShutdownTimeout: time.Second}, NewLogger(io.Discard, "error"))
	if err != nil {
		t.Fatal(err)
	}
	orphan := []byte("bytes whose photo record never came")
	key := "photos/" + sha256Hex(orphan)[:2] + "/" + sha256Hex(orphan)
	if _, err := app.Blobs.Put(ctx, key, bytes.NewReader(orphan), int64(len(orphan)), ""); err != nil {
		t.Fatal(err)
	}
	app.Close()
	for _, tc := range []struct {
		args       []string
		want       []string
		blobRemain bool
	}{
		{[]string{"--grace", "0s", "reconcile"}, []string{"blobs without a photo record: 1", key, "run again with --fix"}, true},
		{[]string{"--grace", "24h", "reconcile"}, []string{"blobs without a photo record: 0"}, true},
		{[]string{"--grace", "0s", "--fix", "reconcile"}, []string{"blobs without a photo record: 1", "blobs removed: 1"}, false},
		{[]string{"--grace", "0s", "reconcile"}, []string{"blobs without a photo record: 0"}, false},
	} {
		var out, errs bytes.Buffer
		if err := run(ctx, append([]string{"photos", "--data-dir", dir}, tc.args...), &out, &errs); err != nil {
			t.Fatalf("photos %v: %v\n%s", tc.args, err, errs.String())
		}
		for _, w := range tc.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("photos %v: output lacks %q:\n%s", tc.args, w, out.String())
			}
		}
	}
	if err := run(ctx, []string{"photos", "--data-dir", dir, "tidy"}, io.Discard, io.Discard); err == nil {
		t.Error("an unknown photos subcommand must fail")
	}
}

// TestPhotoUploadRefusesDeactivatedAccount: the upload reads the caller's
// account with its first query instead of before it (PutAs), and a login
// that was signed out or a deactivated account is still refused at once,
// whatever else is wrong with the request, and nothing is stored.
func TestPhotoUploadRefusesDeactivatedAccount(t *testing.T) {
	photoStores(t, func(t *testing.T, e *testEnv) {
		ended := e.loginTokens(t, "cadre-a", "phone-2")
		if r := e.do(t, "POST", "/api/v1/auth/logout", "", map[string]string{"refresh_token": ended.RefreshToken}); r.Status != http.StatusNoContent {
			t.Fatalf("logout: %d %s", r.Status, r.Body)
		}
		early := testJPEG(t, 6, time.Date(2026, 11, 20, 9, 40, 0, 0, domain.Shanghai), nil)
		if r := e.putPhoto(t, ended.AccessToken, uuid.New(), early, sha256Hex(early), "image/jpeg", ""); r.Status != http.StatusUnauthorized {
			t.Errorf("upload under a login that was signed out: %d %s, want 401", r.Status, r.Body)
		}
		tok := e.login(t, "cadre-a")
		var me wire.User
		e.do(t, "GET", "/api/v1/me", tok, nil).json(t, &me)
		img := testJPEG(t, 7, time.Date(2026, 11, 20, 9, 40, 0, 0, domain.Shanghai), nil)
		if r := e.putPhoto(t, tok, uuid.New(), img, sha256Hex(img), "image/jpeg", ""); r.Status != http.StatusCreated {
			t.Fatalf("upload while active: %d %s", r.Status, r.Body)
		}
		admin := e.login(t, "admin")
		if r := e.do(t, "PATCH", "/api/v1/users/"+me.ID.String(), admin, map[string]any{"active": false}); r.Status != http.StatusOK {
			t.Fatalf("deactivating: %d %s", r.Status, r.Body)
		}
		other := testJPEG(t, 8, time.Date(2026, 11, 20, 9, 40, 0, 0, domain.Shanghai), nil)
		for name, r := range map[string]response{
			"good upload":   e.putPhoto(t, tok, uuid.New(), other, sha256Hex(other), "image/jpeg", ""),
			"bad hash":      e.putPhoto(t, tok, uuid.New(), other, "not-a-hash", "image/jpeg", ""),
			"bad visit id":  e.putPhoto(t, tok, uuid.New(), other, sha256Hex(other), "image/jpeg", "?visit_id=nope"),
			"bad photo id":  e.rawRequest(t, "PUT", "/api/v1/photos/nope", tok, map[string]string{"Content-Type": "image/jpeg", "X-Content-SHA256": sha256Hex(other)}, other),
			"no token":      e.putPhoto(t, "", uuid.New(), other, sha256Hex(other), "image/jpeg", ""),
			"garbled token": e.putPhoto(t, tok+"x", uuid.New(), other, sha256Hex(other), "image/jpeg", ""),
		} {
			if r.Status != http.StatusUnauthorized {
				t.Errorf("%s by a deactivated account: %d %s, want 401", name, r.Status, r.Body)
			}
		}
		if n := e.count(t, "photos"); n != 1 {
			t.Errorf("%d photo rows, want the 1 uploaded while active", n)
		}
	})
}
