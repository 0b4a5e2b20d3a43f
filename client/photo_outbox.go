package client

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// The photo outbox. A photo recorded with a visit (NewVisit.PhotoFiles) is
// copied into Dir/photos/<photo id> and hashed while it is copied; the
// state lists it (queuedPhoto) in the same save as the visit's create, so
// a visit that is on disk has its photos on disk too. Uploads read these
// copies and never hash them again (photo_upload.go). A photo leaves the
// outbox when the server holds it (its file is then removed) or when the
// server refuses it as invalid (it moves to RefusedPhotos, file kept).

const (
	photoDirName   = "photos"
	photoTmpPrefix = ".incoming-"
)

// PhotoFile is a photo taken at a visit, recorded with it.
type PhotoFile struct {
	ID uuid.UUID // optional; a random UUID when zero
	// Path is the photo's file (the camera's output). It is copied when
	// the visit is recorded; the caller may delete it afterwards.
	Path string
	// Content, when set, is read instead of Path.
	Content io.Reader
}

// queuedPhoto is a photo waiting to be uploaded. Its bytes are the file
// photos/<ID> in the client's directory.
type queuedPhoto struct {
	ID         uuid.UUID `json:"id"`
	VisitID    uuid.UUID `json:"visit_id"`
	SHA256     string    `json:"sha256"`
	Size       int64     `json:"size"`
	MediaType  string    `json:"media_type"`
	RecordedAt time.Time `json:"recorded_at"` // phone clock
	// UploadID is the resumable upload under way, if any; Offset is how
	// many of the photo's bytes the server last said it holds. On restart
	// the server is asked again (HEAD): it may hold more.
	UploadID *uuid.UUID `json:"upload_id,omitempty"`
	Offset   int64      `json:"offset,omitempty"`
	// Sent: a whole-photo PUT went out and its answer was not recorded, so
	// the server may hold the photo: ask before sending it again.
	Sent bool `json:"sent,omitempty"`
	// Failures counts the uploads that stopped on this photo (link down,
	// server failing): it waits behind photos that failed less, so one
	// photo the server keeps failing on does not hold up the others.
	Failures int `json:"failures,omitempty"`
}

// RefusedPhoto is a photo the server refused as invalid (corrupt,
// truncated, of an unsupported type, too large, or another photo's id), or
// whose copy on the phone could no longer be read. It is never sent again;
// its file stays at Path until ForgetRefusedPhoto, so the app can show it
// to the cadre or take it again.
type RefusedPhoto struct {
	PhotoID   uuid.UUID `json:"photo_id"`
	VisitID   uuid.UUID `json:"visit_id"`
	SHA256    string    `json:"sha256"`
	Size      int64     `json:"size"`
	MediaType string    `json:"media_type"`
	// Status is the HTTP status of the refusal (413, 415, 422, 409, 404,
	// …); 0 when the phone's own copy was unreadable.
	Status int `json:"status"`
	// Reason is the machine-readable reason: too_large,
	// unsupported_media_type, truncated, mismatch, different_content,
	// unreadable_file, …
	Reason    string    `json:"reason"`
	Message   string    `json:"message"`
	MessageZH string    `json:"message_zh"`
	At        time.Time `json:"at"` // phone clock
	Path      string    `json:"-"`  // the photo's copy in the client's directory
}

// Backlog is what the phone still has to send.
type Backlog struct {
	Records    int   // changes not yet acknowledged (Pending)
	Photos     int   // photos waiting to be uploaded
	PhotoBytes int64 // bytes of those photos the server does not hold yet
}

// Backlog says how much is waiting to be sent: the record outbox and the
// photo outbox. Every sync request reports it to the server (backlog.go).
func (c *Client) Backlog() Backlog {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.backlog()
}

func (s *state) backlog() Backlog {
	b := Backlog{Records: len(s.Outbox)}
	if s.Inflight != nil {
		b.Records += len(s.Inflight.Changes)
	}
	b.Photos, b.PhotoBytes = s.photoBacklog()
	return b
}

func (s *state) photoBacklog() (photos int, bytes int64) {
	for _, p := range s.Photos {
		bytes += p.Size - p.Offset
	}
	return len(s.Photos), bytes
}

// RefusedPhotos lists the photos the server refused, oldest first.
func (c *Client) RefusedPhotos() []RefusedPhoto {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := append([]RefusedPhoto(nil), c.st.RefusedPhotos...)
	for i := range out {
		out[i].Path = c.photoPath(out[i].PhotoID)
	}
	return out
}

// ForgetRefusedPhoto drops a refused photo from the list and deletes its
// copy.
func (c *Client) ForgetRefusedPhoto(id uuid.UUID) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.usableLocked(); err != nil {
		return err
	}
	kept := c.st.RefusedPhotos[:0]
	found := false
	for _, r := range c.st.RefusedPhotos {
		if r.PhotoID == id {
			found = true
			continue
		}
		kept = append(kept, r)
	}
	if !found {
		return ErrNotFound
	}
	c.st.RefusedPhotos = kept
	if err := c.saveLocked(); err != nil {
		return err
	}
	return removeIfExists(c.photoPath(id))
}

func (c *Client) photoPath(id uuid.UUID) string {
	return filepath.Join(c.cfg.Dir, photoDirName, id.String())
}

// takePhotos copies a visit's photo files into the client's directory. On
// error nothing of them is left behind.
func (c *Client) takePhotos(visitID uuid.UUID, files []PhotoFile, firstIndex int) ([]*queuedPhoto, error) {
	if len(files) == 0 {
		return nil, nil
	}
	dir := filepath.Join(c.cfg.Dir, photoDirName)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	var taken []*queuedPhoto
	for i, f := range files {
		p, err := c.takePhoto(f, dir)
		if err == nil && !c.cfg.NoLocalChecks {
			err = checkPhoto(p, firstIndex+i)
		}
		if err != nil {
			if p != nil {
				taken = append(taken, p)
			}
			c.discardPhotoFiles(taken)
			return nil, err
		}
		p.VisitID = visitID
		taken = append(taken, p)
	}
	if !c.cfg.NoFsync {
		// The renames must be durable before the state that names them.
		if err := syncDir(dir); err != nil {
			c.discardPhotoFiles(taken)
			return nil, fmt.Errorf("client: save photos: fsync dir: %w", err)
		}
	}
	return taken, nil
}

// takePhoto copies one photo to dir/<id> through a temporary file (written,
// fsynced, then renamed, so a crash leaves a whole copy or none), hashing
// it on the way; the type is read from its first bytes.
func (c *Client) takePhoto(f PhotoFile, dir string) (*queuedPhoto, error) {
	id := f.ID
	if id == uuid.Nil {
		id = uuid.New()
	}
	final := filepath.Join(dir, id.String())
	if _, err := os.Lstat(final); err == nil {
		return nil, fmt.Errorf("client: photo %s exists already", id)
	}
	src := f.Content
	if src == nil {
		in, err := os.Open(f.Path)
		if err != nil {
			return nil, fmt.Errorf("client: photo: %w", err)
		}
		defer in.Close()
		src = in
	}
	tmp, err := os.CreateTemp(dir, photoTmpPrefix+"*")
	if err != nil {
		return nil, fmt.Errorf("client: photo: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	br := bufio.NewReaderSize(src, 64<<10)
	head, err := br.Peek(512)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("client: read photo: %w", err)
	}
	mediaType := http.DetectContentType(head)
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), br)
	if err != nil {
		return nil, fmt.Errorf("client: copy photo: %w", err)
	}
	if !c.cfg.NoFsync {
		if err := tmp.Sync(); err != nil {
			return nil, fmt.Errorf("client: copy photo: fsync: %w", err)
		}
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("client: copy photo: %w", err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return nil, fmt.Errorf("client: copy photo: %w", err)
	}
	done = true
	return &queuedPhoto{ID: id, SHA256: hex.EncodeToString(h.Sum(nil)), Size: n, MediaType: mediaType, RecordedAt: c.now()}, nil
}

// checkPhoto refuses, on the phone, a photo the server would refuse for
// its type or emptiness.
func checkPhoto(p *queuedPhoto, index int) error {
	field := fmt.Sprintf("/photos/%d", index)
	switch {
	case p.Size == 0:
		return &ValidationError{Fields: []domain.FieldError{{Field: field, Reason: "empty", Message: "the photo file is empty", MessageZH: "照片文件为空"}}}
	case !domain.PhotoMediaTypes.Has(p.MediaType):
		return &ValidationError{Fields: []domain.FieldError{{Field: field, Reason: "unsupported_media_type",
			Message: "a photo must be JPEG, PNG or WebP, not " + p.MediaType, MessageZH: "照片格式应为JPEG、PNG或WebP"}}}
	}
	return nil
}

func (c *Client) discardPhotoFiles(ps []*queuedPhoto) {
	for _, p := range ps {
		_ = removeIfExists(c.photoPath(p.ID))
	}
}

// dropVisitPhotosLocked takes the photos of a visit that will never reach
// the server (created and deleted before it was sent) out of the outbox
// and returns them, for their files to be removed once the state is saved.
func (c *Client) dropVisitPhotosLocked(visitID uuid.UUID) []*queuedPhoto {
	var dropped []*queuedPhoto
	kept := c.st.Photos[:0]
	for _, p := range c.st.Photos {
		if p.VisitID == visitID {
			dropped = append(dropped, p)
			continue
		}
		kept = append(kept, p)
	}
	c.st.Photos = kept
	return dropped
}

// sweepPhotoFiles removes from the photo directory what the state does not
// name: copies of a visit whose recording died before its save, temporary
// files of an interrupted copy, and files of photos dropped from the state
// by a process that died before removing them. It runs in New, before
// anything can record a photo.
func (c *Client) sweepPhotoFiles() {
	dir := filepath.Join(c.cfg.Dir, photoDirName)
	entries, err := os.ReadDir(dir)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			c.logf("client: photo directory: %v", err)
		}
		return
	}
	named := make(map[string]bool, len(c.st.Photos)+len(c.st.RefusedPhotos))
	for _, p := range c.st.Photos {
		named[p.ID.String()] = true
	}
	for _, r := range c.st.RefusedPhotos {
		named[r.PhotoID.String()] = true
	}
	for _, e := range entries {
		if named[e.Name()] {
			continue
		}
		if !strings.HasPrefix(e.Name(), photoTmpPrefix) {
			c.logf("client: removing photo file %s that no saved state names", e.Name())
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			c.logf("client: %v", err)
		}
	}
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("client: %w", err)
	}
	return nil
}
