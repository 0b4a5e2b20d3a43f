package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/wire"
)

// Uploading the photo outbox.
//
// Order: records first. UploadPhotos pushes the record outbox before the
// first photo and again before each photo whenever something was recorded
// meanwhile, so a visit (small, and what makes it count) never waits
// behind photos (most of the bytes).
//
// Each photo goes up one of two ways:
//
//   - a photo no larger than the current chunk size in one
//     PUT /api/v1/photos/{id} (X-Content-SHA256): it would be one chunk
//     anyway, and the PUT saves the two extra round trips of a resumable
//     upload;
//   - a larger one resumably: POST /api/v1/photo-uploads (the answer says
//     whether the server already holds the photo: then nothing is sent),
//     PATCH chunks at the offset the server stands at, POST …/complete.
//
// Chunk size follows the link (chunkSizer): it starts at Config.PhotoChunk
// and aims at chunks of about photoChunkTarget each.
//
// Every request of an upload is tried once; after a failure (no answer,
// 5xx, 408, 429) the photo is taken up again after a backoff from what the
// server holds: HEAD on the upload for its offset, or GET on the photo
// after a PUT whose answer was lost. So a byte the server holds is not
// sent again, whether the failure was a dropped connection or a killed
// process: the upload id and offset are saved as they change, and a PUT is
// marked sent before it goes.
//
// A photo the server refuses as invalid (4xx: corrupt, truncated, type,
// size, another photo's id, not the cadre's) moves to RefusedPhotos and is
// never sent again. A photo whose uploads keep failing stays queued; after
// Backoff.Attempts failures in a row the call returns, and the photo is
// tried after the others next time.

const (
	photoChunkMin    = 16 << 10
	photoChunkStart  = 64 << 10
	photoChunkMax    = 4 << 20 // the server's default chunk_max, until it says its own
	photoChunkTarget = 10 * time.Second
)

// chunkSizer sizes the chunks of photo uploads to the link. Each chunk
// should take about photoChunkTarget: long enough that a request's round
// trip is a small part of it, short enough that a dropped connection costs
// little and that a slow link still moves a chunk within the upload pace
// the server asks for. After each full-sized chunk the size is set to what
// the measured pace moves in photoChunkTarget, changing at most twofold per
// chunk; a failed chunk halves it. Between photoChunkMin and the server's
// chunk_max.
type chunkSizer struct {
	size, max int64
}

func newChunkSizer(start int64) chunkSizer {
	return chunkSizer{size: min(max(start, photoChunkMin), photoChunkMax), max: photoChunkMax}
}

// sent takes note of n bytes delivered in took.
func (s *chunkSizer) sent(n int64, took time.Duration) {
	if n < s.size/2 {
		return // a photo's tail or a small photo measures the round trip, not the link
	}
	want := 2 * s.size
	if took > 0 {
		want = int64(float64(n) * float64(photoChunkTarget) / float64(took))
	}
	s.size = min(max(want, s.size/2), 2*s.size)
	s.clamp()
}

func (s *chunkSizer) failed() {
	s.size /= 2
	s.clamp()
}

// limit applies the server's chunk_max.
func (s *chunkSizer) limit(chunkMax int64) {
	if chunkMax > 0 {
		s.max = max(chunkMax, 1)
		s.clamp()
	}
}

func (s *chunkSizer) clamp() {
	s.size = min(max(s.size, photoChunkMin), s.max)
}

// PhotoReport is what one UploadPhotos did, and what is left.
type PhotoReport struct {
	Uploaded      int   // photos the server now holds, sent by this call or found there
	AlreadyStored int   // of those, found on the server without sending their bytes again
	BytesSent     int64 // photo bytes sent (whole photos and chunks, retries included)
	Waiting       int   // photos still queued when the call returned
	BytesWaiting  int64 // their bytes the server does not hold yet
	// Refused are the photos the server refused during this call (all of
	// them, with older ones, are in RefusedPhotos).
	Refused []RefusedPhoto
}

// UploadPhotos sends the photo outbox, after the records (see above). It
// returns when the outbox is empty, or with the error that stopped it; the
// photos not yet stored stay queued, and what the server holds of them is
// not sent again.
func (c *Client) UploadPhotos(ctx context.Context) (PhotoReport, error) {
	return c.uploadPhotos(ctx, -1)
}

// uploadPhotos is UploadPhotos for a caller that has just pushed the
// record outbox as far as its sequence number pushedAt.
func (c *Client) uploadPhotos(ctx context.Context, pushedAt int64) (rep PhotoReport, err error) {
	c.photoMu.Lock()
	defer c.photoMu.Unlock()
	defer func() {
		c.mu.Lock()
		rep.Waiting, rep.BytesWaiting = c.st.photoBacklog()
		c.mu.Unlock()
	}()
	for {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		p, err := c.nextPhoto()
		if p == nil || err != nil {
			return rep, err
		}
		if seq, pending := c.recordsRecorded(); seq != pushedAt && pending {
			_, err := c.Push(ctx)
			var refused *BatchRefusedError
			if err != nil && !errors.As(err, &refused) {
				return rep, err
			}
			pushedAt, _ = c.recordsRecorded()
		}
		if err := c.uploadPhoto(ctx, p, &rep); err != nil {
			if errors.Is(err, errPhotoGone) {
				continue
			}
			if ctx.Err() == nil { // a call cut short by its caller is not the photo's failure
				_ = c.updatePhoto(p.ID, func(q *queuedPhoto) { q.Failures++ })
			}
			return rep, err
		}
	}
}

// recordsRecorded says how far the record outbox has got (its newest
// sequence number) and whether anything in it is unacknowledged.
func (c *Client) recordsRecorded() (seq int64, pending bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.NextSeq, len(c.st.Outbox) > 0 || c.st.Inflight != nil
}

// nextPhoto is a copy of the queued photo to send next: the oldest of
// those that failed least.
func (c *Client) nextPhoto() (*queuedPhoto, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.usableLocked(); err != nil {
		return nil, err
	}
	var best *queuedPhoto
	for _, p := range c.st.Photos {
		if best == nil || p.Failures < best.Failures {
			best = p
		}
	}
	if best == nil {
		return nil, nil
	}
	cp := *best
	return &cp, nil
}

// errPhotoGone: the photo left the outbox while it was being sent (its
// visit was deleted before being sent).
var errPhotoGone = errors.New("client: the photo left the outbox")

// updatePhoto changes a queued photo and saves the state.
func (c *Client) updatePhoto(id uuid.UUID, fn func(*queuedPhoto)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.usableLocked(); err != nil {
		return err
	}
	for _, q := range c.st.Photos {
		if q.ID == id {
			fn(q)
			return c.saveLocked()
		}
	}
	return errPhotoGone
}

// uploadPhoto sends one photo until the server holds it or refuses it,
// taking it up again after each failure from what the server holds.
func (c *Client) uploadPhoto(ctx context.Context, p *queuedPhoto, rep *PhotoReport) error {
	for failures := 0; ; {
		end, err := c.sendPhoto(ctx, p, rep)
		if err == nil {
			return c.finishPhoto(p, end, rep)
		}
		var gaveUp *GaveUpError
		var retry *photoRetry
		if !errors.As(err, &gaveUp) && !errors.As(err, &retry) {
			return err
		}
		failures++
		c.chunks.failed()
		if failures >= c.cfg.Backoff.Attempts {
			return &GaveUpError{Attempts: failures, Last: err}
		}
		wait := c.backoff(failures)
		var pe *ProblemError
		if errors.As(err, &pe) {
			wait = max(wait, pe.RetryAfter)
		}
		c.logf("client: photo %s: %v; taking it up again in %s", p.ID, err, wait.Round(time.Millisecond))
		if err := c.cfg.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// photoRetry is a failure to take the photo up again from after a
// backoff (the server's state was not what the phone expected).
type photoRetry struct{ msg string }

func (e *photoRetry) Error() string { return "client: " + e.msg }

// photoEnd is how a photo left the outbox: stored, or refused.
type photoEnd struct {
	stored        *wire.Photo
	alreadyStored bool // found on the server; nothing sent in this pass
	refused       *RefusedPhoto
}

// sendPhoto makes one pass at a photo: ask what the server holds if a send
// may have reached it, then send the rest. p is kept up to date with what
// is saved.
func (c *Client) sendPhoto(ctx context.Context, p *queuedPhoto, rep *PhotoReport) (photoEnd, error) {
	switch {
	case p.UploadID != nil:
		a, err := c.call(ctx, http.MethodHead, uploadPath(*p.UploadID, ""), nil, reqOpts{authed: true, attempts: 1})
		if err != nil {
			return photoEnd{}, err
		}
		switch off, ok := uploadOffset(a); {
		case a.status == http.StatusOK && ok:
			p.Offset = off
		case a.status == http.StatusNotFound: // expired or discarded: start again
			if err := c.forgetUpload(p); err != nil {
				return photoEnd{}, err
			}
		case a.status == http.StatusOK:
			return photoEnd{}, &photoRetry{"the upload's status has no Upload-Offset"}
		default:
			return c.refusal(p, problemOf(http.MethodHead, uploadPath(*p.UploadID, ""), a)), nil
		}
	case p.Sent:
		ph, found, err := c.storedPhoto(ctx, p)
		if err != nil || found {
			return photoEnd{stored: ph, alreadyStored: true}, err
		}
	}
	if p.UploadID == nil && p.Size <= c.chunks.size {
		return c.putPhoto(ctx, p, rep)
	}
	if p.UploadID == nil {
		end, err := c.startUpload(ctx, p)
		if err != nil || end.stored != nil || end.refused != nil {
			return end, err
		}
	}
	return c.sendChunks(ctx, p, rep)
}

// storedPhoto asks whether the server holds the photo (after a PUT whose
// answer was lost).
func (c *Client) storedPhoto(ctx context.Context, p *queuedPhoto) (*wire.Photo, bool, error) {
	path := "/api/v1/photos/" + p.ID.String()
	a, err := c.call(ctx, http.MethodGet, path, nil, reqOpts{authed: true, attempts: 1})
	if err != nil {
		return nil, false, err
	}
	switch a.status {
	case http.StatusOK:
		var ph wire.Photo
		if err := json.Unmarshal(a.body, &ph); err != nil {
			return nil, false, &photoRetry{"unreadable photo answer: " + err.Error()}
		}
		// Another content under this id is the PUT's business: it refuses it.
		return &ph, ph.SHA256 == p.SHA256, nil
	case http.StatusNotFound:
		return nil, false, nil
	}
	return nil, false, &photoRetry{problemOf(http.MethodGet, path, a).Error()}
}

func (c *Client) putPhoto(ctx context.Context, p *queuedPhoto, rep *PhotoReport) (photoEnd, error) {
	body, end, err := c.readPhoto(p, 0, p.Size)
	if end.refused != nil || err != nil {
		return end, err
	}
	if err := c.updatePhoto(p.ID, func(q *queuedPhoto) { q.Sent = true }); err != nil {
		return photoEnd{}, err
	}
	p.Sent = true
	path := "/api/v1/photos/" + p.ID.String() + "?visit_id=" + p.VisitID.String()
	began := time.Now()
	a, err := c.call(ctx, http.MethodPut, path, body, reqOpts{authed: true, attempts: 1,
		header: http.Header{"X-Content-SHA256": {p.SHA256}, "Content-Type": {p.MediaType}}})
	rep.BytesSent += int64(len(body))
	if err != nil {
		return photoEnd{}, err
	}
	if a.status != http.StatusOK && a.status != http.StatusCreated {
		return c.refusal(p, problemOf(http.MethodPut, path, a)), nil
	}
	c.chunks.sent(int64(len(body)), time.Since(began))
	return storedAnswer(a, http.MethodPut, path)
}

func (c *Client) startUpload(ctx context.Context, p *queuedPhoto) (photoEnd, error) {
	const path = "/api/v1/photo-uploads"
	visit := p.VisitID
	body := mustJSON(wire.StartUpload{PhotoID: p.ID, SHA256: p.SHA256, Size: p.Size, ContentType: p.MediaType, VisitID: &visit,
		Method: domain.UploadChunked})
	a, err := c.call(ctx, http.MethodPost, path, body, reqOpts{authed: true, attempts: 1})
	if err != nil {
		return photoEnd{}, err
	}
	if a.status != http.StatusOK && a.status != http.StatusCreated {
		return c.refusal(p, problemOf(http.MethodPost, path, a)), nil
	}
	var up wire.Upload
	if err := json.Unmarshal(a.body, &up); err != nil {
		return photoEnd{}, &photoRetry{"unreadable upload answer: " + err.Error()}
	}
	if up.Complete && up.Photo != nil {
		return photoEnd{stored: up.Photo, alreadyStored: true}, nil
	}
	c.chunks.limit(up.ChunkMax)
	if err := c.updatePhoto(p.ID, func(q *queuedPhoto) { q.UploadID, q.Offset = &up.ID, up.Offset }); err != nil {
		return photoEnd{}, err
	}
	p.UploadID, p.Offset = &up.ID, up.Offset
	return photoEnd{}, nil
}

// sendChunks sends the rest of the photo from the offset the server stands
// at, then completes the upload.
func (c *Client) sendChunks(ctx context.Context, p *queuedPhoto, rep *PhotoReport) (photoEnd, error) {
	path := uploadPath(*p.UploadID, "")
	for moves := 0; p.Offset < p.Size; moves++ {
		if moves > 2*int(p.Size/photoChunkMin)+8 {
			return photoEnd{}, &photoRetry{"the upload's offset does not advance"}
		}
		n := min(c.chunks.size, p.Size-p.Offset)
		body, end, err := c.readPhoto(p, p.Offset, n)
		if end.refused != nil || err != nil {
			return end, err
		}
		began := time.Now()
		a, err := c.call(ctx, http.MethodPatch, path, body, reqOpts{authed: true, attempts: 1, header: http.Header{
			"Upload-Offset": {strconv.FormatInt(p.Offset, 10)}, "Content-Type": {"application/offset+octet-stream"}}})
		rep.BytesSent += n
		if err != nil {
			return photoEnd{}, err
		}
		off, known := uploadOffset(a)
		switch {
		case a.status == http.StatusOK && known && off > p.Offset:
			c.chunks.sent(off-p.Offset, time.Since(began))
		case a.status == http.StatusConflict && known:
			// The server stands elsewhere (bytes of a cut chunk were
			// kept): go on from there.
		case a.status == http.StatusNotFound:
			if err := c.forgetUpload(p); err != nil {
				return photoEnd{}, err
			}
			return photoEnd{}, &photoRetry{"the upload expired; starting it again"}
		case a.status == http.StatusRequestEntityTooLarge && n > photoChunkMin:
			// Larger than this server's chunk_max (not known after a
			// restart, which asks with HEAD): smaller chunks, same photo.
			c.chunks.limit(n / 2)
			continue
		case a.status < 300 || a.status == http.StatusConflict:
			return photoEnd{}, &photoRetry{fmt.Sprintf("chunk answer %d at offset %d without a usable Upload-Offset", a.status, p.Offset)}
		default:
			return c.refusal(p, problemOf(http.MethodPatch, path, a)), nil
		}
		if err := c.updatePhoto(p.ID, func(q *queuedPhoto) { q.Offset = off }); err != nil {
			return photoEnd{}, err
		}
		p.Offset = off
	}
	complete := uploadPath(*p.UploadID, "/complete")
	a, err := c.call(ctx, http.MethodPost, complete, nil, reqOpts{authed: true, attempts: 1})
	if err != nil {
		return photoEnd{}, err
	}
	switch {
	case a.status == http.StatusOK || a.status == http.StatusCreated:
		return storedAnswer(a, http.MethodPost, complete)
	case a.status == http.StatusNotFound:
		if err := c.forgetUpload(p); err != nil {
			return photoEnd{}, err
		}
		return photoEnd{}, &photoRetry{"the upload expired before it was completed; starting it again"}
	}
	pe := problemOf(http.MethodPost, complete, a)
	if pe.Reason() == "incomplete" { // the server holds less than the phone thought
		return photoEnd{}, &photoRetry{pe.Error()}
	}
	return c.refusal(p, pe), nil
}

func storedAnswer(a answer, method, path string) (photoEnd, error) {
	var ph wire.Photo
	if err := json.Unmarshal(a.body, &ph); err != nil {
		return photoEnd{}, &photoRetry{fmt.Sprintf("%s %s: unreadable photo answer: %v", method, path, err)}
	}
	return photoEnd{stored: &ph}, nil
}

func uploadPath(id uuid.UUID, suffix string) string {
	return "/api/v1/photo-uploads/" + id.String() + suffix
}

func uploadOffset(a answer) (int64, bool) {
	off, err := strconv.ParseInt(a.header.Get("Upload-Offset"), 10, 64)
	return off, err == nil && off >= 0
}

// forgetUpload drops an upload the server no longer has.
func (c *Client) forgetUpload(p *queuedPhoto) error {
	if err := c.updatePhoto(p.ID, func(q *queuedPhoto) { q.UploadID, q.Offset = nil, 0 }); err != nil {
		return err
	}
	p.UploadID, p.Offset = nil, 0
	return nil
}

// readPhoto reads n bytes of the photo's copy from off. A copy that can no
// longer be read is the phone's loss, reported as a refusal: retrying would
// not bring it back.
func (c *Client) readPhoto(p *queuedPhoto, off, n int64) ([]byte, photoEnd, error) {
	f, err := os.Open(c.photoPath(p.ID))
	if err == nil {
		defer f.Close()
		buf := make([]byte, n)
		if _, err = f.ReadAt(buf, off); err == nil {
			return buf, photoEnd{}, nil
		}
		if errors.Is(err, io.EOF) {
			err = fmt.Errorf("the copy is shorter than the %d bytes recorded", p.Size)
		}
	}
	if !c.queued(p.ID) {
		return nil, photoEnd{}, errPhotoGone
	}
	return nil, photoEnd{refused: &RefusedPhoto{Reason: "unreadable_file", Message: "the photo's copy on the phone cannot be read: " + err.Error(),
		MessageZH: "手机上的照片文件无法读取"}}, nil
}

// queued reports whether the photo is still in the outbox.
func (c *Client) queued(id uuid.UUID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, q := range c.st.Photos {
		if q.ID == id {
			return true
		}
	}
	return false
}

// refusal is the end of a photo the server refused.
func (c *Client) refusal(p *queuedPhoto, pe *ProblemError) photoEnd {
	r := &RefusedPhoto{Status: pe.Status, Reason: pe.Reason(), Message: pe.Error(), MessageZH: firstNonEmpty(pe.Problem.DetailZH, pe.Problem.TitleZH)}
	if r.Reason == "" {
		r.Reason = http.StatusText(pe.Status)
	}
	c.logf("client: photo %s refused: %v", p.ID, pe)
	return photoEnd{refused: r}
}

// finishPhoto takes a photo out of the outbox: stored (its copy is then
// removed) or refused (kept in RefusedPhotos with its copy).
func (c *Client) finishPhoto(p *queuedPhoto, end photoEnd, rep *PhotoReport) error {
	c.mu.Lock()
	if err := c.usableLocked(); err != nil {
		c.mu.Unlock()
		return err
	}
	i := -1
	for j, q := range c.st.Photos {
		if q.ID == p.ID {
			i = j
		}
	}
	if i < 0 {
		c.mu.Unlock()
		return errPhotoGone
	}
	c.st.Photos = append(c.st.Photos[:i:i], c.st.Photos[i+1:]...)
	if end.refused != nil {
		r := *end.refused
		r.PhotoID, r.VisitID, r.SHA256, r.Size, r.MediaType, r.At = p.ID, p.VisitID, p.SHA256, p.Size, p.MediaType, c.now()
		c.st.RefusedPhotos = append(c.st.RefusedPhotos, r)
		r.Path = c.photoPath(p.ID)
		rep.Refused = append(rep.Refused, r)
	}
	err := c.saveLocked()
	c.mu.Unlock()
	if err != nil || end.refused != nil {
		return err
	}
	rep.Uploaded++
	if end.alreadyStored {
		rep.AlreadyStored++
	}
	c.step("photo-stored")
	if err := removeIfExists(c.photoPath(p.ID)); err != nil {
		c.logf("%v (the next New removes it)", err)
	}
	return nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
