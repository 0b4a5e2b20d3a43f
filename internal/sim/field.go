package sim

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/client"
	"github.com/fieldvisit/fieldvisit/domain"
)

// recordVisit records a visit on the phone, with the photos its camera
// takes when the run carries real photos: they go into the SDK's photo
// outbox with the visit (NewVisit.PhotoFiles) and up with a later Sync.
func (r *run) recordVisit(d *device, nv client.NewVisit) (uuid.UUID, error) {
	if r.camera == nil {
		return d.c.RecordVisit(nv)
	}
	nv.Photos = nil // the visit refers to the photos the camera takes
	var where *domain.GeoPoint
	if len(nv.GPS) > 0 {
		where = &domain.GeoPoint{Lat: nv.GPS[0].Lat, Lon: nv.GPS[0].Lon}
	}
	taken := map[uuid.UUID]string{} // photo id → SHA-256, to look for on the server
	for i := range r.o.PhotosPerVisit {
		b, err := r.camera.take(d.rnd.Int64(), nv.StartedAt.Add(time.Duration(5+10*i)*time.Minute), where)
		if err != nil {
			return uuid.Nil, fmt.Errorf("taking a photo: %w", err)
		}
		id, sum := uuid.New(), sha256.Sum256(b)
		taken[id] = hex.EncodeToString(sum[:])
		nv.PhotoFiles = append(nv.PhotoFiles, client.PhotoFile{ID: id, Content: bytes.NewReader(b)})
	}
	id, err := d.c.RecordVisit(nv)
	if err != nil {
		return uuid.Nil, err
	}
	r.mu.Lock()
	if !r.untracked {
		for photo, sum := range taken {
			r.photos[photo] = photoIntent{device: d.name, sha256: sum, visit: id}
		}
	}
	r.mu.Unlock()
	r.count("photos", len(taken))
	return id, nil
}

// notePhotos keeps what a Sync's photo upload did; a refused photo is a
// problem (the sim's photos are all valid).
func (r *run) notePhotos(d *device, rep client.PhotoReport) {
	r.count("photo-uploads", rep.Uploaded)
	r.count("photos-found-stored", rep.AlreadyStored)
	for _, p := range rep.Refused {
		r.problem("%s: photo %s of visit %s refused: %d %s %s", d.name, p.PhotoID, p.VisitID, p.Status, p.Reason, p.Message)
	}
}

// drained says whether the phone has nothing left to send.
func drained(d *device) bool {
	b := d.c.Backlog()
	return b.Records == 0 && b.Photos == 0
}

// fieldSync brings every phone back from the trip at once, each over its
// own link: records first (they make the visits count), photos after,
// until nothing waits. Each phone's time is measured against its link
// floor, the bytes its proxy carried over the link's bandwidth.
func (r *run) fieldSync(res *Result) error {
	r.printf("sim: trips over; every phone syncs over its own %s link\n", r.o.Link.Name)
	var devices []*device
	for _, c := range r.cadres {
		devices = append(devices, c.devices...)
	}
	uses := make([]LinkUse, len(devices))
	var wg sync.WaitGroup
	for i, d := range devices {
		wg.Add(1)
		go func() {
			defer wg.Done()
			uses[i] = r.fieldSync1(d)
		}()
	}
	wg.Wait()
	res.Links = uses
	res.Slowest, _ = slowest(uses)
	r.printf("sim: each phone's sync over its link, slowest relative to its floor first:\n%s", linkTable(uses))
	return r.ctx.Err()
}

func (r *run) fieldSync1(d *device) LinkUse {
	u := LinkUse{Device: d.name}
	if err := d.proxy.goField(); err != nil {
		r.problem("%v", err)
		return u
	}
	defer d.proxy.goHome()
	// However weak, a link that works gets a phone's backlog up within a
	// few times its floor; past that something is stuck.
	limit := 10 * time.Minute
	if r.o.Link.BytesPerSecond > 0 {
		limit += 4 * time.Duration(float64(d.c.Backlog().PhotoBytes)/float64(r.o.Link.BytesPerSecond)*float64(time.Second))
	}
	start := time.Now()
	d.lastAck.Store(0)
	deadline := start.Add(limit)
	for {
		rep, err := r.sync(d, time.Until(deadline))
		u.Photos += rep.Photos.Uploaded
		u.PhotoBytesSent += rep.Photos.BytesSent
		if err == nil && drained(d) {
			break
		}
		if time.Now().After(deadline) || r.ctx.Err() != nil {
			b := d.c.Backlog()
			r.problem("%s: outbox not drained over the %s link in %s: %d changes and %d photos pending, %v", d.name, r.o.Link.Name, limit, b.Records, b.Photos, err)
			break
		}
	}
	u.Took = time.Since(start)
	if at := d.lastAck.Load(); at > 0 {
		u.RecordsStored = time.Unix(0, at).Sub(start)
	}
	u.Up, u.Down = d.proxy.Moved()
	u.Floor = r.o.Link.Floor(u.Up, u.Down)
	return u
}
