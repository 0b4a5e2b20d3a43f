package sim

import (
	"context"
	"errors"
	"math"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/client"
	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/photos/photoimage"
	"github.com/fieldvisit/fieldvisit/wire"
)

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

// take is a photo of the visit, as the camera hands it to the app.
func (c *camera) take(seed int64, at time.Time, where *domain.GeoPoint) ([]byte, error) {
	return photoimage.GenerateJPEG(photoimage.GenerateOptions{Width: c.width, Height: c.height, Seed: seed, TakenAt: &at, GPS: where})
}

// photoIntent is a photo a phone took, to be found on the server.
type photoIntent struct {
	device string
	sha256 string
	visit  uuid.UUID
}

// verifyPhotos checks that the server holds every photo a phone took of a
// visit that still stands, with its bytes' hash and its visit. The server
// keys a photo by the id the phone gave it, so a photo sent twice is
// stored once (the second upload is answered "already stored"); what a
// resend costs the link shows in the phones' bytes. A deleted visit's
// photos go with it (the server shows them to no one), so they are not
// looked for.
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
}
