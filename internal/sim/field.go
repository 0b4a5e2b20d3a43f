package sim

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/client"
	"github.com/fieldvisit/fieldvisit/domain"
)

// recordVisit records a visit on the phone, with the photos its camera
// takes when the run carries real photos.
func (r *run) recordVisit(d *device, nv client.NewVisit) (uuid.UUID, error) {
	if d.photos == nil {
		return d.c.RecordVisit(nv)
	}
	nv.Photos = nil // the visit refers to the photos the camera takes
	var where *domain.GeoPoint
	if len(nv.GPS) > 0 {
		where = &domain.GeoPoint{Lat: nv.GPS[0].Lat, Lon: nv.GPS[0].Lon}
	}
	var files []string
	for i := range r.o.PhotosPerVisit {
		f, err := r.camera.take(filepath.Join(r.base, d.name+"-camera"), d.rnd.Int64(), nv.StartedAt.Add(time.Duration(5+10*i)*time.Minute), where)
		if err != nil {
			return uuid.Nil, fmt.Errorf("taking a photo: %w", err)
		}
		files = append(files, f)
	}
	id, refs, err := d.photos.RecordVisit(nv, files)
	if err != nil {
		return uuid.Nil, err
	}
	r.mu.Lock()
	for _, ref := range refs {
		if !r.untracked {
			r.photos[ref.PhotoID] = photoIntent{device: d.name, sha256: ref.SHA256, visit: id}
		}
	}
	r.mu.Unlock()
	r.count("photos", len(refs))
	return id, nil
}

// uploadPhotos sends the phone's waiting photos and keeps what the server
// answered for the checks.
func (r *run) uploadPhotos(ctx context.Context, d *device) {
	rep, err := d.photos.UploadPhotos(ctx)
	r.mu.Lock()
	for id, n := range rep.Created {
		if !r.untracked {
			r.photoCreated[id] += n
		}
	}
	r.mu.Unlock()
	r.count("photo-uploads", rep.Uploaded)
	for _, why := range rep.Refused {
		r.problem("%s: refused %s", d.name, why)
	}
	if err != nil {
		r.logf("%s: photos: %v", d.name, err)
	}
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
	if d.photos != nil {
		if _, b := d.photos.PhotoBacklog(); r.o.Link.BytesPerSecond > 0 {
			limit += 4 * time.Duration(float64(b)/float64(r.o.Link.BytesPerSecond)*float64(time.Second))
		}
	}
	start := time.Now()
	deadline := start.Add(limit)
	for {
		_, err := r.sync(d, time.Until(deadline))
		if err == nil && d.c.Pending() == 0 {
			break
		}
		if time.Now().After(deadline) || r.ctx.Err() != nil {
			r.problem("%s: outbox not drained over the %s link in %s: %d pending, %v", d.name, r.o.Link.Name, limit, d.c.Pending(), err)
			break
		}
	}
	u.RecordsStored = time.Since(start)
	if d.photos != nil {
		before, _ := d.photos.PhotoBacklog()
		ctx, cancel := context.WithDeadline(d.ctx, deadline)
		r.uploadPhotos(ctx, d)
		cancel()
		after, _ := d.photos.PhotoBacklog()
		u.Photos = before - after
	}
	u.Took = time.Since(start)
	u.Up, u.Down = d.proxy.Moved()
	u.Floor = r.o.Link.Floor(u.Up, u.Down)
	return u
}
