package sim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/client"
	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/photos/photoimage"
	"github.com/fieldvisit/fieldvisit/wire"
)

// photoOutbox is what the simulation needs of a phone's photos: the seam
// where the SDK's photo outbox (issue 17, client/) plugs in. Until it
// lands, standInPhotos does the job over the photo PUT route.
type photoOutbox interface {
	// RecordVisit records a visit together with the files its camera
	// took; the outbox owns the files from then on. It answers the visit's
	// id and the references the visit carries.
	RecordVisit(nv client.NewVisit, files []string) (uuid.UUID, []wire.PhotoRef, error)
	// UploadPhotos sends the waiting photos, oldest first, until none wait
	// or ctx ends; refused photos are reported and dropped, never retried.
	UploadPhotos(ctx context.Context) (PhotoReport, error)
	// PhotoBacklog is what still waits: photos and bytes.
	PhotoBacklog() (photos int, bytes int64)
}

// PhotoReport is what one UploadPhotos did.
type PhotoReport struct {
	Uploaded int            // stored by this call (201) or found stored already (200)
	Created  map[string]int // photo id → 201 answers (more than one is a duplicate)
	Refused  []string       // photos the server refused as invalid, with why
}

// camera makes the phones' photos: real JPEGs with the EXIF a phone camera
// writes (time and position), distinct per photo, of about the asked size.
type camera struct {
	width, height int
}

// newCamera calibrates the picture size once so that a photo weighs about
// kb kilobytes (the generator's scenes compress alike whatever the seed).
func newCamera(kb int) (*camera, error) {
	const w0, h0 = 800, 600
	b, err := photoimage.GenerateJPEG(photoimage.GenerateOptions{Width: w0, Height: h0, Seed: 1})
	if err != nil {
		return nil, err
	}
	scale := math.Sqrt(float64(kb*1000) / float64(len(b)))
	w := max(64, int(math.Round(w0*scale/16))*16)
	return &camera{width: w, height: w * 3 / 4}, nil
}

// take writes a photo of the visit to dir and answers its path.
func (c *camera) take(dir string, seed int64, at time.Time, where *domain.GeoPoint) (string, error) {
	b, err := photoimage.GenerateJPEG(photoimage.GenerateOptions{Width: c.width, Height: c.height, Seed: seed, TakenAt: &at, GPS: where})
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, fmt.Sprintf("IMG_%d.jpg", seed))
	return path, os.WriteFile(path, b, 0o644)
}

// standInPhotos keeps a phone's photos until they are stored, and uploads
// them whole with PUT /api/v1/photos/{id} under a session of its own. It
// stands in for the SDK's photo outbox, which is being built beside this
// (it lives in memory: a phone restarted by the simulation keeps it).
type standInPhotos struct {
	d       *device
	hc      *http.Client
	base    string
	user    string
	pass    string
	backoff func(n int) time.Duration

	mu      sync.Mutex
	token   string
	waiting []waitingPhoto
}

type waitingPhoto struct {
	ref   wire.PhotoRef
	visit uuid.UUID
	path  string
	size  int64
}

func (p *standInPhotos) RecordVisit(nv client.NewVisit, files []string) (uuid.UUID, []wire.PhotoRef, error) {
	var ws []waitingPhoto
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return uuid.Nil, nil, err
		}
		sum := sha256.Sum256(b)
		ws = append(ws, waitingPhoto{ref: wire.PhotoRef{PhotoID: uuid.New(), SHA256: hex.EncodeToString(sum[:])}, path: f, size: int64(len(b))})
	}
	for _, w := range ws {
		nv.Photos = append(nv.Photos, domain.PhotoRef{PhotoID: w.ref.PhotoID, SHA256: w.ref.SHA256})
	}
	id, err := p.d.c.RecordVisit(nv)
	if err != nil {
		return uuid.Nil, nil, err
	}
	refs := make([]wire.PhotoRef, len(ws))
	p.mu.Lock()
	for i := range ws {
		ws[i].visit = id
		refs[i] = ws[i].ref
		p.waiting = append(p.waiting, ws[i])
	}
	p.mu.Unlock()
	return id, refs, nil
}

func (p *standInPhotos) PhotoBacklog() (int, int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var n int64
	for _, w := range p.waiting {
		n += w.size
	}
	return len(p.waiting), n
}

func (p *standInPhotos) UploadPhotos(ctx context.Context) (PhotoReport, error) {
	rep := PhotoReport{Created: map[string]int{}}
	for attempt := 0; ; {
		p.mu.Lock()
		if len(p.waiting) == 0 {
			p.mu.Unlock()
			return rep, nil
		}
		w := p.waiting[0]
		p.mu.Unlock()
		status, body, err := p.put(ctx, w)
		switch {
		case err == nil && (status == http.StatusOK || status == http.StatusCreated):
			rep.Uploaded++
			if status == http.StatusCreated {
				rep.Created[w.ref.PhotoID.String()]++
			}
			p.done(w)
			attempt = 0
			continue
		case err == nil && status == http.StatusUnauthorized:
			p.mu.Lock()
			p.token = ""
			p.mu.Unlock()
		case err == nil && status >= 400 && status < 500 && status != http.StatusRequestTimeout && status != http.StatusTooManyRequests &&
			status != http.StatusConflict:
			rep.Refused = append(rep.Refused, fmt.Sprintf("photo %s of visit %s: %d %s", w.ref.PhotoID, w.visit, status, clip(body)))
			p.done(w)
			continue
		}
		if ctx.Err() != nil {
			return rep, ctx.Err()
		}
		attempt++
		select {
		case <-ctx.Done():
			return rep, ctx.Err()
		case <-time.After(p.backoff(attempt)):
		}
	}
}

func (p *standInPhotos) done(w waitingPhoto) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, x := range p.waiting {
		if x.ref.PhotoID == w.ref.PhotoID {
			p.waiting = append(p.waiting[:i], p.waiting[i+1:]...)
			break
		}
	}
	_ = os.Remove(w.path)
}

// put sends one photo whole; a transport failure is an error, any answer
// a status.
func (p *standInPhotos) put(ctx context.Context, w waitingPhoto) (int, []byte, error) {
	token, err := p.session(ctx)
	if err != nil {
		return 0, nil, err
	}
	f, err := os.Open(w.path)
	if err != nil {
		return 0, nil, err
	}
	defer f.Close()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, p.base+"/api/v1/photos/"+w.ref.PhotoID.String()+"?visit_id="+w.visit.String(), f)
	if err != nil {
		return 0, nil, err
	}
	req.ContentLength = w.size
	req.Header.Set("Content-Type", "image/jpeg")
	req.Header.Set("X-Content-SHA256", w.ref.SHA256)
	req.Header.Set("Authorization", "Bearer "+token)
	return p.do(req)
}

// session logs the photo outbox in once (as its own device, so the
// phone's sync session is left alone) and keeps the access token.
func (p *standInPhotos) session(ctx context.Context) (string, error) {
	p.mu.Lock()
	token := p.token
	p.mu.Unlock()
	if token != "" {
		return token, nil
	}
	b, _ := json.Marshal(map[string]string{"username": p.user, "password": p.pass, "device_id": p.d.id + "-photos"})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base+"/api/v1/auth/login", bytes.NewReader(b))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	status, body, err := p.do(req)
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		return "", fmt.Errorf("photo session: login answered %d %s", status, clip(body))
	}
	var t struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &t); err != nil || t.AccessToken == "" {
		return "", errors.New("photo session: login answered no access token")
	}
	p.mu.Lock()
	p.token = t.AccessToken
	p.mu.Unlock()
	return t.AccessToken, nil
}

func (p *standInPhotos) do(req *http.Request) (int, []byte, error) {
	res, err := p.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return 0, nil, fmt.Errorf("reading the answer: %w", err)
	}
	return res.StatusCode, body, nil
}

// photoIntent is a photo a phone took, to be found on the server.
type photoIntent struct {
	device string
	sha256 string
	visit  uuid.UUID
}

// verifyPhotos checks that the server holds every photo a phone took of a
// visit that still stands, with its bytes' hash and its visit, and that
// none was stored twice. A deleted visit's photos go with it (the server
// shows them to no one), so they are not looked for.
func (r *run) verifyPhotos(ctx context.Context, res *Result) {
	for id, want := range r.photos {
		if in := r.intended[want.visit]; in != nil && in.deleted {
			continue
		}
		res.Photos++
		var got wire.Photo
		err := r.sup.GetJSON(ctx, "/api/v1/photos/"+id.String(), &got)
		var pe *client.ProblemError
		switch {
		case errors.As(err, &pe) && pe.Status == http.StatusNotFound:
			res.PhotosLost++
			r.problem("photo lost: %s's photo %s of visit %s is not on the server", want.device, id, want.visit)
		case err != nil:
			res.PhotosLost++
			r.problem("photo %s: %v", id, err)
		case got.SHA256 != want.sha256:
			res.PhotosLost++
			r.problem("photo lost: %s's photo %s is stored with hash %s, taken with %s", want.device, id, got.SHA256, want.sha256)
		case got.VisitID == nil || *got.VisitID != want.visit:
			res.PhotosLost++
			r.problem("photo %s is stored without its visit %s", id, want.visit)
		}
	}
	for id, n := range r.photoCreated {
		if n > 1 {
			res.PhotoDuplicates++
			r.problem("photo %s was stored %d times (201 each)", id, n)
		}
	}
}
