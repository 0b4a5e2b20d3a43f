package photos

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/photos/evidence"
	"github.com/fieldvisit/fieldvisit/internal/photos/photoimage"
	"github.com/fieldvisit/fieldvisit/storage/blob"
)

// Config bounds what the service accepts.
type Config struct {
	MaxSize       int64         // bytes per photo (default 15 MB)
	MaxChunk      int64         // bytes per resumable chunk (default 4 MiB)
	UploadTTL     time.Duration // an upload untouched this long is abandoned (default 48 h)
	PresignExpiry time.Duration // presigned POST lifetime (default and maximum 15 min)
	ThumbSide     int           // thumbnail's longer side in pixels (default 320)
	Image         photoimage.Limits
	Evidence      evidence.Config
	SpoolDir      string // where chunks wait before they go to the blob store (default os.TempDir())
	RetryAfter    time.Duration
}

func (c *Config) defaults() {
	if c.MaxSize == 0 {
		c.MaxSize = 15_000_000
	}
	if c.MaxChunk == 0 {
		c.MaxChunk = 4 << 20
	}
	if c.UploadTTL == 0 {
		c.UploadTTL = 48 * time.Hour
	}
	if c.PresignExpiry == 0 || c.PresignExpiry > 15*time.Minute {
		c.PresignExpiry = 15 * time.Minute
	}
	if c.ThumbSide == 0 {
		c.ThumbSide = 320
	}
	if c.Image == (photoimage.Limits{}) {
		c.Image = photoimage.DefaultLimits()
	}
	if c.Evidence == (evidence.Config{}) {
		c.Evidence = evidence.Defaults()
	}
	if c.RetryAfter == 0 {
		c.RetryAfter = 30 * time.Second
	}
}

// Service takes photos in and gives them out.
type Service struct {
	store    TxStore
	tx       func(ctx context.Context, fn func(TxStore) error) error
	blobs    blob.Store
	cfg      Config
	now      func() time.Time
	heads    sync.Pool // *bufio.Reader of headerBytes
	counties sync.Map  // region id → county id
	log      *slog.Logger
	kick     chan struct{}
}

// NewService builds the service.
func NewService(store Store, blobs blob.Store, cfg Config, now func() time.Time, log *slog.Logger) *Service {
	cfg.defaults()
	// Times are kept to the microsecond, as PostgreSQL stores them, so a
	// replayed upload answers exactly what the first one did.
	micro := func() time.Time { return now().UTC().Truncate(time.Microsecond) }
	return newService(store, store.Tx, blobs, cfg, micro, log, make(chan struct{}, 1))
}

func newService(store TxStore, tx func(context.Context, func(TxStore) error) error, blobs blob.Store, cfg Config,
	now func() time.Time, log *slog.Logger, kick chan struct{}) *Service {
	s := &Service{store: store, tx: tx, blobs: blobs, cfg: cfg, now: now, log: log, kick: kick}
	// The 128 KiB buffers uploads peek their header through are reused:
	// sixteen parallel uploads would otherwise leave 2 MB of garbage each
	// time round, and the heap (and RSS) grows to hold it.
	s.heads.New = func() any { return bufio.NewReaderSize(nil, headerBytes) }
	return s
}

// Tx runs fn with a service whose every store call joins one transaction,
// so a bulk load (the demo county's photos) commits once per batch instead
// of once per photo. Within fn, Tx joins the same transaction.
func (s *Service) Tx(ctx context.Context, fn func(*Service) error) error {
	return s.tx(ctx, func(tx TxStore) error {
		joined := func(_ context.Context, fn func(TxStore) error) error { return fn(tx) }
		return fn(newService(tx, joined, s.blobs, s.cfg, s.now, s.log, s.kick))
	})
}

// Config is the effective configuration.
func (s *Service) Config() Config { return s.cfg }

// Kicked fires when new work arrived for the background workers.
func (s *Service) Kicked() <-chan struct{} { return s.kick }

func (s *Service) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Keys in the blob store. Photos are content-addressed, so the same bytes
// uploaded twice are stored once.
func contentKey(sha string) string { return "photos/" + sha[:2] + "/" + sha }
func thumbKey(sha string) string   { return "thumbs/" + sha[:2] + "/" + sha + ".jpg" }

// chunkKey is unique per request: a phone that resumes right after its
// link dropped may send a chunk at the offset where the server is still
// storing the cut one, and the request that loses the race deletes its own
// bytes, never the winner's.
func chunkKey(upload uuid.UUID, off int64) string {
	return fmt.Sprintf("uploads/%s/%012d-%s", upload, off, uuid.NewString())
}
func incomingKey(upload uuid.UUID) string { return "incoming/" + upload.String() }

// Declared is what a phone states about a photo before sending its bytes.
type Declared struct {
	PhotoID     uuid.UUID
	SHA256      string
	ContentType string
	Size        int64 // -1 when unknown (a streamed PUT without Content-Length)
	VisitID     *uuid.UUID
}

func (d Declared) validate(maxSize int64, needSize bool) error {
	var fe domain.FieldErrors
	if !isHexSHA256(d.SHA256) {
		fe.Add("X-Content-SHA256", "invalid_format", "X-Content-SHA256 must be the photo's SHA-256 as 64 lowercase hex digits", "照片校验值应为64位小写十六进制SHA-256")
	}
	if needSize && d.Size <= 0 {
		fe.Add("/size", "out_of_range", "size must be a positive number of bytes", "文件大小应为正数")
	}
	if err := fe.Err(); err != nil {
		return err
	}
	if err := checkContentType(d.ContentType); err != nil {
		return err
	}
	if d.Size > maxSize {
		return tooLarge(maxSize)
	}
	return nil
}

func isHexSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func checkContentType(ct string) error {
	ct = strings.TrimSpace(strings.ToLower(strings.SplitN(ct, ";", 2)[0]))
	if domain.PhotoMediaTypes.Has(ct) {
		return nil
	}
	return unsupported("Content-Type", "Content-Type must be image/jpeg, image/png or image/webp", "照片类型应为JPEG、PNG或WebP")
}

func unsupported(field, msg, msgZH string) error {
	return &domain.Error{Code: domain.CodeUnsupported, Message: msg, MessageZH: msgZH,
		Fields: []domain.FieldError{{Field: field, Reason: "unsupported_media_type", Message: msg, MessageZH: msgZH}}}
}

func tooLarge(max int64) error {
	return &domain.Error{Code: domain.CodeTooLarge, Message: fmt.Sprintf("a photo may have at most %d bytes", max),
		MessageZH: fmt.Sprintf("照片不能超过%d字节", max),
		Fields:    []domain.FieldError{{Field: "body", Reason: "too_large", Message: "the photo is too large", MessageZH: "照片过大"}}}
}

func hashMismatch() error {
	return domain.Invalid(domain.FieldError{Field: "X-Content-SHA256", Reason: "mismatch",
		Message: "the bytes received do not have the declared SHA-256; nothing was kept", MessageZH: "收到的照片与声明的校验值不一致，未保存"})
}

// blobErr turns blob-store failures into domain errors: an unreachable
// store is a 503 with Retry-After, so phones try again later.
func (s *Service) blobErr(err error) error {
	var de *domain.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &de):
		return err
	case errors.Is(err, blob.ErrUnavailable):
		return domain.Unavailable("photo store", s.cfg.RetryAfter, err)
	case errors.Is(err, blob.ErrHashMismatch):
		return hashMismatch()
	case errors.Is(err, blob.ErrSizeMismatch):
		return domain.Invalid(domain.FieldError{Field: "Content-Length", Reason: "mismatch",
			Message: "the body is shorter or longer than declared; nothing was kept", MessageZH: "收到的字节数与声明不一致，未保存"})
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return domain.Unavailable("photo store", s.cfg.RetryAfter, err)
	}
	return err
}

// existing answers a photo id that is already stored: the same bytes again
// is the same answer, other bytes are a conflict. Someone else's photo is
// not found, so ids reveal nothing.
func (s *Service) existing(ctx context.Context, p domain.Principal, d Declared) (domain.Photo, bool, error) {
	ph, err := s.store.Photo(ctx, d.PhotoID)
	if domain.IsCode(err, domain.CodeNotFound) {
		return domain.Photo{}, false, nil
	}
	if err != nil {
		return domain.Photo{}, false, err
	}
	return s.answerExisting(ctx, p, d, ph)
}

// answerExisting is existing's answer once the stored photo is in hand.
func (s *Service) answerExisting(ctx context.Context, p domain.Principal, d Declared, ph domain.Photo) (domain.Photo, bool, error) {
	if ok, err := s.visible(ctx, p, ph); err != nil || !ok {
		return domain.Photo{}, true, firstErr(err, domain.NotFound("photo"))
	}
	if ph.SHA256 != d.SHA256 {
		const msg, msgZH = "a photo with this id is already stored with other content", "该照片编号已上传过内容不同的照片"
		return ph, true, &domain.Error{Code: domain.CodeConflict, Reason: "different_content", Message: msg, MessageZH: msgZH,
			Fields: []domain.FieldError{{Field: "X-Content-SHA256", Reason: "different_content", Message: msg, MessageZH: msgZH}}}
	}
	return ph, true, nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func (s *Service) visible(ctx context.Context, p domain.Principal, ph domain.Photo) (bool, error) {
	return s.store.PhotoVisible(ctx, ph, p.VisitReader(), p.HouseholdScope(), domain.DateOf(s.now()))
}

// precheck is what an upload asks before it stores a byte, with the photo
// and whether any visit lists its id read in one query: an already stored
// photo is answered as existing does (found; the same bytes again are the
// same answer), else ownership must allow the upload.
func (s *Service) precheck(ctx context.Context, p domain.Principal, d Declared) (ph domain.Photo, found bool, err error) {
	return s.precheckState(ctx, p, d, s.readState(ctx, d.PhotoID))
}

// photoState is store.PhotoState's answer.
type photoState struct {
	stored *domain.Photo
	listed bool
	err    error
}

func (s *Service) readState(ctx context.Context, id uuid.UUID) photoState {
	stored, listed, err := s.store.PhotoState(ctx, id)
	return photoState{stored, listed, err}
}

// precheckState is precheck once the photo's state is read.
func (s *Service) precheckState(ctx context.Context, p domain.Principal, d Declared, st photoState) (ph domain.Photo, found bool, err error) {
	stored, listed, err := st.stored, st.listed, st.err
	if err != nil {
		return domain.Photo{}, false, err
	}
	if stored != nil {
		return s.answerExisting(ctx, p, d, *stored)
	}
	return domain.Photo{}, false, s.ownership(ctx, p, d, listed)
}

// ownership refuses a photo id or visit that belongs to someone else's
// visit the caller cannot see; listed says whether any visit lists the
// photo id. A visit that has not arrived yet is fine: the photo may come
// first.
func (s *Service) ownership(ctx context.Context, p domain.Principal, d Declared, listed bool) error {
	probe := domain.Photo{ID: d.PhotoID, VisitID: d.VisitID}
	if listed {
		if ok, err := s.visible(ctx, p, probe); err != nil || !ok {
			return firstErr(err, domain.NotFound("photo"))
		}
	}
	if d.VisitID != nil {
		v, err := s.store.Visit(ctx, *d.VisitID)
		if domain.IsCode(err, domain.CodeNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if v.CadreID == p.UserID {
			return nil
		}
		if ok, err := s.visible(ctx, p, probe); err != nil || !ok {
			return firstErr(err, domain.NotFound("visit"))
		}
	}
	return nil
}

// countyOf is where a new photo is filed: its visit's county when the visit
// is known, else the uploader's.
func (s *Service) countyOf(ctx context.Context, p domain.Principal, visitID *uuid.UUID) (uuid.UUID, error) {
	if visitID != nil {
		if v, err := s.store.Visit(ctx, *visitID); err == nil {
			return v.CountyID, nil
		}
	}
	// A region never moves to another county, so the answer is kept: one
	// database round trip less for every upload.
	if c, ok := s.counties.Load(p.RegionID); ok {
		return c.(uuid.UUID), nil
	}
	r, err := s.store.Region(ctx, p.RegionID)
	if err != nil {
		return uuid.Nil, err
	}
	county := uuid.Nil
	if r.CountyID != nil {
		county = *r.CountyID
	}
	s.counties.Store(p.RegionID, county)
	return county, nil
}

// Put takes a whole photo in one request body. created is false when the
// same photo was already stored (the body is then not read).
func (s *Service) Put(ctx context.Context, p domain.Principal, d Declared, body io.Reader) (domain.Photo, bool, error) {
	if err := d.validate(s.cfg.MaxSize, false); err != nil {
		return domain.Photo{}, false, err
	}
	return s.put(ctx, p, d, body, s.readState(ctx, d.PhotoID))
}

// Login is the login an upload comes under, as its verified access token
// names it (the user and the login's token family), and the rule its
// account is judged by (auth.Admit).
type Login struct {
	UserID, Session uuid.UUID
	Admit           func(u domain.User, live bool, err error) (domain.Principal, error)
}

// PutAs is Put for a caller whose account is still to be checked (the HTTP
// API verified the token only): the account is read with the photo's
// state, in one database round trip before the bytes flow instead of two
// (B3), and judged by l.Admit. Nothing is stored, and nothing about the
// photo answered, unless the account may act; its error comes first.
func (s *Service) PutAs(ctx context.Context, l Login, d Declared, body io.Reader) (domain.Photo, bool, error) {
	st, err := s.store.UploadState(ctx, l.UserID, l.Session, d.PhotoID)
	p, err := l.Admit(st.User, st.Live, err)
	if err != nil {
		return domain.Photo{}, false, err
	}
	if err := d.validate(s.cfg.MaxSize, false); err != nil {
		return domain.Photo{}, false, err
	}
	return s.put(ctx, p, d, body, photoState{stored: st.Stored, listed: st.Listed})
}

// put is Put once the declaration is valid and the photo's state read.
func (s *Service) put(ctx context.Context, p domain.Principal, d Declared, body io.Reader, st photoState) (domain.Photo, bool, error) {
	if ph, found, err := s.precheckState(ctx, p, d, st); found || err != nil {
		return ph, false, err
	}
	// The header (type, dimensions, EXIF) is judged before a byte is
	// stored, so an image bomb or a text file never reaches the store; the
	// ending is watched as the bytes stream by, so nothing is read back.
	br := s.heads.Get().(*bufio.Reader)
	br.Reset(io.LimitReader(body, s.cfg.MaxSize+1))
	defer func() { br.Reset(nil); s.heads.Put(br) }()
	head, _ := br.Peek(headerBytes)
	if err := s.sniff(head[:min(len(head), 512)], d.ContentType); err != nil {
		return domain.Photo{}, false, err
	}
	var rest io.Reader = br
	if end, ok := photoimage.JPEGHeaderEnd(head); !ok && end > len(head) && len(head) == headerBytes {
		// The header runs past the buffer (metadata before the frame):
		// what is read to reach its end is held, and stored first.
		read, err := readJPEGHead(br)
		if err != nil {
			return domain.Photo{}, false, imageErr(err)
		}
		head, rest = read, io.MultiReader(bytes.NewReader(read), br)
	}
	img, err := photoimage.InspectHead(head, max(d.Size, 0), s.cfg.Image)
	if err != nil {
		return domain.Photo{}, false, imageErr(err)
	}
	riff := append([]byte(nil), head[:min(len(head), 12)]...)
	tr := newEndingTracker(&limitChecked{r: rest, max: s.cfg.MaxSize})
	if err := s.storeContent(ctx, d, tr); err != nil {
		return domain.Photo{}, false, err
	}
	// head points into the reader's buffer, which the upload has since
	// overwritten: the ending check gets the RIFF header kept before.
	if err := tr.check(img.MediaType, riff); err != nil {
		s.dropUnused(ctx, d.SHA256)
		return domain.Photo{}, false, truncatedErr(err)
	}
	return s.file(ctx, p, d, img, tr.n)
}

func truncatedErr(err error) error {
	return domain.Invalid(domain.FieldError{Field: "body", Reason: "truncated",
		Message: "the image is truncated: " + err.Error(), MessageZH: "图片不完整（上传被截断）"})
}

// dropUnused removes bytes that turned out not to be a usable photo,
// unless another photo uses them.
func (s *Service) dropUnused(ctx context.Context, sha string) {
	if inUse, err := s.store.SHA256InUse(ctx, sha); err == nil && !inUse {
		_ = s.blobs.Delete(context.WithoutCancel(ctx), contentKey(sha))
	}
}

// limitChecked fails a body that runs past max with a too-large error
// instead of quietly cutting it (which would then look like a hash mismatch).
type limitChecked struct {
	r   io.Reader
	max int64
	n   int64
}

func (l *limitChecked) Read(b []byte) (int, error) {
	n, err := l.r.Read(b)
	l.n += int64(n)
	if l.n > l.max {
		return n, tooLarge(l.max)
	}
	return n, err
}

func (s *Service) sniff(head []byte, declared string) error {
	mt, ok := photoimage.Sniff(head)
	if !ok {
		if mt != "" {
			return unsupported("body", "the photo is "+mt+", which cannot be read here; send JPEG, PNG or WebP", "照片格式（"+mt+"）暂不支持，请使用JPEG、PNG或WebP")
		}
		return unsupported("body", "the body is not a JPEG, PNG or WebP image", "上传的内容不是JPEG、PNG或WebP图片")
	}
	if ct := strings.TrimSpace(strings.ToLower(strings.SplitN(declared, ";", 2)[0])); ct != mt {
		return unsupported("Content-Type", "Content-Type says "+ct+" but the bytes are "+mt, "声明的类型（"+ct+"）与照片实际格式（"+mt+"）不符")
	}
	return nil
}

// storeContent streams r into the content-addressed key, checking the
// declared hash. The key is written even when the same bytes are already
// there: asking first would cost every upload a round trip to the store to
// save the rare duplicate a write of identical bytes, which changes nothing.
func (s *Service) storeContent(ctx context.Context, d Declared, r io.Reader) error {
	_, err := s.blobs.Put(ctx, contentKey(d.SHA256), r, d.Size, d.SHA256)
	var de *domain.Error
	if errors.As(err, &de) { // the body's own limit, surfaced through the store
		return de
	}
	return s.blobErr(err)
}

// record inspects the stored bytes and files the photo (for uploads whose
// bytes reached the store before they could be looked at). Bytes that turn
// out not to be a usable image are removed again unless another photo uses
// them.
func (s *Service) record(ctx context.Context, p domain.Principal, d Declared) (domain.Photo, bool, error) {
	key := contentKey(d.SHA256)
	info, err := s.blobs.Stat(ctx, key)
	if err != nil {
		return domain.Photo{}, false, s.blobErr(err)
	}
	img, err := s.inspect(ctx, key, info.Size)
	if err != nil {
		s.dropUnused(ctx, d.SHA256)
		return domain.Photo{}, false, err
	}
	return s.file(ctx, p, d, img, info.Size)
}

// file records an inspected photo.
func (s *Service) file(ctx context.Context, p domain.Principal, d Declared, img photoimage.Info, size int64) (domain.Photo, bool, error) {
	county, err := s.countyOf(ctx, p, d.VisitID)
	if err != nil {
		return domain.Photo{}, false, err
	}
	ph := domain.Photo{ID: d.PhotoID, CountyID: county, UploadedBy: p.UserID, VisitID: d.VisitID, SHA256: d.SHA256, Size: size,
		MediaType: img.MediaType, Width: img.Width, Height: img.Height, TakenAt: img.TakenAt, ExifGPS: img.GPS,
		Camera: strings.TrimSpace(img.Make + " " + img.Model), ThumbState: domain.ThumbPending, CreatedAt: s.now().UTC()}
	if err := s.store.InsertPhoto(ctx, ph); err != nil {
		if domain.Reason(err) == "duplicate" { // a concurrent upload of the same id won
			if prev, found, perr := s.existing(ctx, p, d); found || perr != nil {
				return prev, false, perr
			}
		}
		return domain.Photo{}, false, err
	}
	s.wake()
	return ph, true, nil
}

// inspect reads the header (for type, dimensions and EXIF) and the ending
// (for truncation) of a stored blob, never the whole of it.
func (s *Service) inspect(ctx context.Context, key string, size int64) (photoimage.Info, error) {
	rc, err := s.blobs.GetRange(ctx, key, 0, headerBytes)
	if err != nil {
		return photoimage.Info{}, s.blobErr(err)
	}
	head, err := readAllBounded(rc, headerBytes)
	rc.Close()
	if err != nil {
		return photoimage.Info{}, s.blobErr(err)
	}
	if end, ok := photoimage.JPEGHeaderEnd(head); !ok && end > len(head) && int64(len(head)) < size {
		// The header runs further in (metadata before the frame): read on
		// from where the first read stopped.
		if rc, err = s.blobs.GetRange(ctx, key, int64(len(head)), min(size, maxJPEGHeader)-int64(len(head))); err != nil {
			return photoimage.Info{}, s.blobErr(err)
		}
		head, err = readJPEGHead(io.MultiReader(bytes.NewReader(head), rc))
		rc.Close()
		if errors.Is(err, photoimage.ErrCorrupt) {
			return photoimage.Info{}, imageErr(err)
		}
		if err != nil {
			return photoimage.Info{}, s.blobErr(err)
		}
	}
	img, err := photoimage.InspectHead(head, size, s.cfg.Image)
	if err != nil {
		return photoimage.Info{}, imageErr(err)
	}
	err = checkEnding(img.MediaType, head, size, func(off, n int64) (io.ReadCloser, error) { return s.blobs.GetRange(ctx, key, off, n) })
	if errors.Is(err, errTruncated) {
		return photoimage.Info{}, truncatedErr(err)
	}
	if err != nil {
		return photoimage.Info{}, s.blobErr(err)
	}
	return img, nil
}

func imageErr(err error) error {
	switch {
	case errors.Is(err, photoimage.ErrTooLarge):
		return domain.Invalid(domain.FieldError{Field: "body", Reason: "too_many_pixels",
			Message: "the image declares more pixels than allowed (" + err.Error() + ")", MessageZH: "图片像素尺寸超出允许范围"})
	case errors.Is(err, photoimage.ErrUnsupportedType):
		return unsupported("body", "the body is not a JPEG, PNG or WebP image", "上传的内容不是JPEG、PNG或WebP图片")
	case errors.Is(err, photoimage.ErrCorrupt):
		return domain.Invalid(domain.FieldError{Field: "body", Reason: "corrupt",
			Message: "the image is corrupt or truncated (" + err.Error() + ")", MessageZH: "图片已损坏或不完整"})
	}
	return err
}

// Photo returns a photo the caller may see.
func (s *Service) Photo(ctx context.Context, p domain.Principal, id uuid.UUID) (domain.Photo, error) {
	ph, err := s.store.Photo(ctx, id)
	if err != nil {
		return domain.Photo{}, err
	}
	if ok, err := s.visible(ctx, p, ph); err != nil || !ok {
		return domain.Photo{}, firstErr(err, domain.NotFound("photo"))
	}
	return ph, nil
}

// Content opens a photo's bytes for a caller who may see it.
func (s *Service) Content(ctx context.Context, p domain.Principal, id uuid.UUID) (domain.Photo, io.ReadCloser, error) {
	ph, err := s.Photo(ctx, p, id)
	if err != nil {
		return ph, nil, err
	}
	rc, err := s.blobs.Get(ctx, contentKey(ph.SHA256))
	if errors.Is(err, blob.ErrNotFound) {
		return ph, nil, &domain.Error{Code: domain.CodeNotFound, Reason: "blob_missing", Message: "the photo's bytes are missing from the store", MessageZH: "照片文件丢失"}
	}
	return ph, rc, s.blobErr(err)
}

// Thumbnail returns a photo's thumbnail, making it now if the worker has
// not yet.
func (s *Service) Thumbnail(ctx context.Context, p domain.Principal, id uuid.UUID) (domain.Photo, io.ReadCloser, int64, error) {
	ph, err := s.Photo(ctx, p, id)
	if err != nil {
		return ph, nil, 0, err
	}
	if ph.ThumbState != domain.ThumbReady {
		if err := s.makeThumbnail(ctx, ph); err != nil {
			return ph, nil, 0, err
		}
	}
	key := thumbKey(ph.SHA256)
	info, err := s.blobs.Stat(ctx, key)
	if errors.Is(err, blob.ErrNotFound) { // lost from the store: make it again
		if err = s.makeThumbnail(ctx, ph); err == nil {
			info, err = s.blobs.Stat(ctx, key)
		}
	}
	if err != nil {
		return ph, nil, 0, s.blobErr(err)
	}
	rc, err := s.blobs.Get(ctx, key)
	return ph, rc, info.Size, s.blobErr(err)
}

func (s *Service) makeThumbnail(ctx context.Context, ph domain.Photo) error {
	rc, err := s.blobs.Get(ctx, contentKey(ph.SHA256))
	if err != nil {
		return s.blobErr(err)
	}
	defer rc.Close()
	jpg, err := photoimage.Thumbnail(rc, s.cfg.Image, s.cfg.ThumbSide)
	if err != nil {
		if errors.Is(err, photoimage.ErrCorrupt) || errors.Is(err, photoimage.ErrTooLarge) || errors.Is(err, photoimage.ErrUnsupportedType) {
			_ = s.store.SetThumbState(ctx, ph.ID, domain.ThumbFailed)
			return &domain.Error{Code: domain.CodeNotFound, Reason: "no_thumbnail", Message: "no thumbnail can be made of this photo: " + err.Error(), MessageZH: "无法生成该照片的缩略图"}
		}
		return s.blobErr(err)
	}
	if _, err := s.blobs.Put(ctx, thumbKey(ph.SHA256), strings.NewReader(string(jpg)), int64(len(jpg)), ""); err != nil {
		return s.blobErr(err)
	}
	return s.store.SetThumbState(ctx, ph.ID, domain.ThumbReady)
}

// MakeThumbnails makes the thumbnails still pending, oldest first, and
// reports how many it made.
func (s *Service) MakeThumbnails(ctx context.Context, limit int) (int, error) {
	pending, err := s.store.PendingThumbnails(ctx, limit)
	if err != nil {
		return 0, err
	}
	made := 0
	for _, ph := range pending {
		err := s.makeThumbnail(ctx, ph)
		if domain.IsCode(err, domain.CodeUnavailable) {
			return made, err
		}
		if err == nil {
			made++
		}
	}
	return made, nil
}

// spool copies a chunk body into a temporary file and reports how many
// bytes arrived. A connection cut mid-chunk keeps the bytes that did
// arrive (that is what lets the phone resume from the last stored byte);
// cut reports the cut.
func (s *Service) spool(body io.Reader, max int64) (f *os.File, n int64, cut error, err error) {
	f, err = os.CreateTemp(s.cfg.SpoolDir, "fieldvisit-chunk-*")
	if err != nil {
		return nil, 0, nil, err
	}
	_ = os.Remove(f.Name()) // unlinked: the file vanishes when closed, even after a crash
	n, cut = io.Copy(f, io.LimitReader(body, max+1))
	if n > max {
		f.Close()
		return nil, 0, nil, &domain.Error{Code: domain.CodeTooLarge, Message: fmt.Sprintf("a chunk may have at most %d bytes", max),
			MessageZH: fmt.Sprintf("每段不能超过%d字节", max)}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, 0, nil, err
	}
	return f, n, cut, nil
}
