package photos

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/storage/blob"
)

type sha256Writer struct{ hash.Hash }

func newSHA256() sha256Writer      { return sha256Writer{sha256.New()} }
func (w sha256Writer) hex() string { return hex.EncodeToString(w.Sum(nil)) }

// Upload is an upload in progress as the phone sees it.
type Upload struct {
	domain.PhotoUpload
	Post     *blob.PostForm // presigned POST only
	Complete bool           // the photo is stored; the upload is only remembered
	Photo    *domain.Photo
}

// StartUpload begins a resumable (chunked) or presigned upload. Starting
// the same photo again returns the upload already under way, or the photo
// if it is already stored.
func (s *Service) StartUpload(ctx context.Context, p domain.Principal, method string, d Declared) (Upload, bool, error) {
	if method != domain.UploadChunked && method != domain.UploadPresignedPost {
		return Upload{}, false, domain.Invalid(domain.FieldError{Field: "/method", Reason: "invalid_enum",
			Message: "method must be chunked or presigned_post", MessageZH: "上传方式应为chunked或presigned_post"})
	}
	presigner, canPresign := s.blobs.(blob.PostPresigner)
	if method == domain.UploadPresignedPost && !canPresign {
		return Upload{}, false, domain.Invalid(domain.FieldError{Field: "/method", Reason: "unavailable",
			Message:   "this server keeps photos in a local directory, which phones cannot post to; use chunked",
			MessageZH: "本服务器的照片存储不支持直传，请使用分段上传"})
	}
	if err := d.validate(s.cfg.MaxSize, true); err != nil {
		return Upload{}, false, err
	}
	if ph, found, err := s.precheck(ctx, p, d); found || err != nil {
		if err != nil {
			return Upload{}, false, err
		}
		return Upload{PhotoUpload: domain.PhotoUpload{PhotoID: ph.ID, SHA256: ph.SHA256, Size: ph.Size, MediaType: ph.MediaType,
			Method: method, Offset: ph.Size}, Complete: true, Photo: &ph}, false, nil
	}
	if u, err := s.store.UploadFor(ctx, p.UserID, d.PhotoID); err == nil {
		if u.SHA256 != d.SHA256 || u.Size != d.Size || u.Method != method {
			return Upload{}, false, domain.Conflict("an upload of this photo id with other content is under way", "该照片编号正在上传内容不同的照片")
		}
		return s.withPost(ctx, presigner, u)
	} else if !domain.IsCode(err, domain.CodeNotFound) {
		return Upload{}, false, err
	}
	county, err := s.countyOf(ctx, p, d.VisitID)
	if err != nil {
		return Upload{}, false, err
	}
	now := s.now().UTC()
	u := domain.PhotoUpload{ID: uuid.New(), CountyID: county, UserID: p.UserID, PhotoID: d.PhotoID, VisitID: d.VisitID, Method: method,
		SHA256: d.SHA256, Size: d.Size, MediaType: normalType(d.ContentType), CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(s.cfg.UploadTTL)}
	if err := s.store.CreateUpload(ctx, u); err != nil {
		if domain.Reason(err) == "duplicate" { // a concurrent start won; answer with it
			if u, err := s.store.UploadFor(ctx, p.UserID, d.PhotoID); err == nil {
				return s.withPost(ctx, presigner, u)
			}
		}
		return Upload{}, false, err
	}
	up, _, err := s.withPost(ctx, presigner, u)
	return up, true, err
}

func (s *Service) withPost(ctx context.Context, presigner blob.PostPresigner, u domain.PhotoUpload) (Upload, bool, error) {
	if u.Method != domain.UploadPresignedPost {
		return Upload{PhotoUpload: u}, false, nil
	}
	form, err := presigner.PresignPost(ctx, incomingKey(u.ID), u.MediaType, u.Size, s.cfg.PresignExpiry)
	if err != nil {
		return Upload{}, false, s.blobErr(err)
	}
	return Upload{PhotoUpload: u, Post: &form}, false, nil
}

func normalType(ct string) string {
	for _, t := range domain.PhotoMediaTypes {
		if len(ct) >= len(t.Code) && equalFoldPrefix(ct, t.Code) {
			return t.Code
		}
	}
	return ct
}

func equalFoldPrefix(s, prefix string) bool {
	for i := 0; i < len(prefix); i++ {
		a, b := s[i], prefix[i]
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

// ownUpload loads an upload of the caller's; anyone else's is not found.
func (s *Service) ownUpload(ctx context.Context, p domain.Principal, id uuid.UUID) (domain.PhotoUpload, error) {
	u, err := s.store.Upload(ctx, id)
	if err != nil {
		return u, err
	}
	if u.UserID != p.UserID {
		return domain.PhotoUpload{}, domain.NotFound("upload")
	}
	return u, nil
}

// UploadStatus says how far an upload has got.
func (s *Service) UploadStatus(ctx context.Context, p domain.Principal, id uuid.UUID) (Upload, error) {
	u, err := s.ownUpload(ctx, p, id)
	if err != nil {
		return Upload{}, err
	}
	return s.view(ctx, u)
}

func (s *Service) view(ctx context.Context, u domain.PhotoUpload) (Upload, error) {
	ph, err := s.store.Photo(ctx, u.PhotoID)
	if err == nil && ph.SHA256 == u.SHA256 {
		return Upload{PhotoUpload: u, Complete: true, Photo: &ph}, nil
	}
	if err != nil && !domain.IsCode(err, domain.CodeNotFound) {
		return Upload{}, err
	}
	return Upload{PhotoUpload: u}, nil
}

// OffsetMismatch is the conflict a chunk gets when it does not start where
// the upload stands; Offset is where it stands.
type OffsetMismatch struct {
	Problem *domain.Error
	Offset  int64
}

func (e *OffsetMismatch) Error() string { return e.Problem.Error() }
func (e *OffsetMismatch) Unwrap() error { return e.Problem }

// offsetMismatch is the 409 of a chunk sent at another offset than the
// upload stands at, which is offset.
func offsetMismatch(msg, msgZH string, offset int64) *OffsetMismatch {
	return &OffsetMismatch{Problem: &domain.Error{Code: domain.CodeConflict, Reason: "offset_mismatch", Message: msg, MessageZH: msgZH,
		Fields: []domain.FieldError{{Field: "Upload-Offset", Reason: "offset_mismatch", Message: msg, MessageZH: msgZH}}}, Offset: offset}
}

// AppendChunk stores the bytes of body at offset. Bytes that arrived before
// a dropped connection are kept, so the phone asks for the offset and goes
// on from there.
func (s *Service) AppendChunk(ctx context.Context, p domain.Principal, id uuid.UUID, offset int64, body io.Reader) (Upload, error) {
	u, err := s.ownUpload(ctx, p, id)
	if err != nil {
		return Upload{}, err
	}
	if u.Method != domain.UploadChunked {
		return Upload{}, domain.Invalid(domain.FieldError{Field: "Upload-Offset", Reason: "wrong_method",
			Message: "this upload goes straight to the store with its presigned form", MessageZH: "该上传应使用直传表单"})
	}
	if offset != u.Offset {
		return Upload{}, offsetMismatch("the upload stands at another offset; resend from the Upload-Offset of this answer", "上传位置不一致，请从返回的位置续传", u.Offset)
	}
	remaining := u.Size - u.Offset
	if remaining == 0 {
		return s.view(ctx, u)
	}
	f, n, cut, err := s.spool(body, min(remaining, s.cfg.MaxChunk))
	if err != nil {
		var de *domain.Error
		if errors.As(err, &de) {
			return Upload{}, err
		}
		return Upload{}, domain.Unavailable("upload spool", s.cfg.RetryAfter, err)
	}
	defer f.Close()
	if n == 0 {
		if cut != nil {
			return Upload{}, domain.Unavailable("upload", s.cfg.RetryAfter, cut)
		}
		return s.view(ctx, u)
	}
	// A cut connection cancels the request's context, but what arrived
	// before the cut is exactly what the phone must not send again.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	key := chunkKey(u.ID, offset)
	if _, err := s.blobs.Put(ctx, key, f, n, ""); err != nil {
		return Upload{}, s.blobErr(err)
	}
	now := s.now().UTC()
	u, err = s.store.AppendChunk(ctx, u, domain.Chunk{Offset: offset, Size: n, Key: key}, now, now.Add(s.cfg.UploadTTL))
	if err != nil {
		if domain.Reason(err) == "stale_version" { // a parallel request stored this offset first
			_ = s.blobs.Delete(context.WithoutCancel(ctx), key)
			cur, lerr := s.store.Upload(ctx, id)
			if lerr == nil {
				return Upload{}, offsetMismatch("another request stored this part first; resend from the Upload-Offset of this answer", "该段已由另一请求上传，请从返回的位置续传", cur.Offset)
			}
		}
		return Upload{}, err
	}
	if cut != nil {
		return Upload{}, domain.Unavailable("upload", s.cfg.RetryAfter, cut)
	}
	return Upload{PhotoUpload: u}, nil
}

// CompleteUpload turns a finished upload into a photo: the chunks (or the
// presigned object) are streamed once through the hash into the photo's
// content-addressed key. Completing again answers the same photo.
func (s *Service) CompleteUpload(ctx context.Context, p domain.Principal, id uuid.UUID) (domain.Photo, bool, error) {
	u, err := s.ownUpload(ctx, p, id)
	if err != nil {
		return domain.Photo{}, false, err
	}
	if v, err := s.view(ctx, u); err != nil || v.Complete {
		if err != nil {
			return domain.Photo{}, false, err
		}
		return *v.Photo, false, nil
	}
	d := Declared{PhotoID: u.PhotoID, SHA256: u.SHA256, ContentType: u.MediaType, Size: u.Size, VisitID: u.VisitID}
	var src io.ReadCloser
	switch u.Method {
	case domain.UploadChunked:
		if u.Offset != u.Size {
			return domain.Photo{}, false, domain.Invalid(domain.FieldError{Field: "Upload-Offset", Reason: "incomplete",
				Message: "the upload is not complete yet", MessageZH: "照片尚未上传完整"})
		}
		src = s.chunkReader(ctx, u.Chunks)
	case domain.UploadPresignedPost:
		info, err := s.blobs.Stat(ctx, incomingKey(u.ID))
		if errors.Is(err, blob.ErrNotFound) {
			return domain.Photo{}, false, domain.Invalid(domain.FieldError{Field: "upload", Reason: "incomplete",
				Message: "nothing has been posted to the store for this upload yet", MessageZH: "照片尚未直传到存储"})
		}
		if err != nil {
			return domain.Photo{}, false, s.blobErr(err)
		}
		if info.Size != u.Size {
			s.discard(ctx, u)
			return domain.Photo{}, false, s.blobErr(blob.ErrSizeMismatch)
		}
		if src, err = s.blobs.Get(ctx, incomingKey(u.ID)); err != nil {
			return domain.Photo{}, false, s.blobErr(err)
		}
	}
	defer src.Close()
	head := make([]byte, 512)
	hn, _ := io.ReadFull(src, head)
	if err := s.sniff(head[:hn], u.MediaType); err != nil {
		s.discard(ctx, u)
		return domain.Photo{}, false, err
	}
	err = s.storeContent(ctx, d, io.MultiReader(bytes.NewReader(head[:hn]), src))
	if err != nil {
		if !domain.IsCode(err, domain.CodeUnavailable) {
			s.discard(ctx, u) // bad bytes: the phone must start over
		}
		return domain.Photo{}, false, err
	}
	ph, created, err := s.record(ctx, p, d)
	if err != nil {
		if !domain.IsCode(err, domain.CodeUnavailable) {
			s.discard(ctx, u)
		}
		return ph, created, err
	}
	s.dropParts(ctx, u)
	return ph, created, nil
}

// discard forgets a failed upload and its parts.
func (s *Service) discard(ctx context.Context, u domain.PhotoUpload) {
	s.dropParts(ctx, u)
	_ = s.store.DeleteUpload(context.WithoutCancel(ctx), u.ID)
}

// dropParts deletes the stored chunks or presigned object; the upload row
// stays until it expires so that completing again gives the same answer.
func (s *Service) dropParts(ctx context.Context, u domain.PhotoUpload) {
	ctx = context.WithoutCancel(ctx)
	for _, c := range u.Chunks {
		_ = s.blobs.Delete(ctx, c.Key)
	}
	_ = s.blobs.Delete(ctx, incomingKey(u.ID))
}

// chunkReader reads the chunks one after another, opening each only when
// the previous one is used up.
func (s *Service) chunkReader(ctx context.Context, chunks []domain.Chunk) io.ReadCloser {
	return &chunkChain{ctx: ctx, blobs: s.blobs, chunks: chunks}
}

type chunkChain struct {
	ctx    context.Context
	blobs  blob.Store
	chunks []domain.Chunk
	cur    io.ReadCloser
}

func (c *chunkChain) Read(p []byte) (int, error) {
	for {
		if c.cur == nil {
			if len(c.chunks) == 0 {
				return 0, io.EOF
			}
			rc, err := c.blobs.Get(c.ctx, c.chunks[0].Key)
			if err != nil {
				return 0, err
			}
			c.cur, c.chunks = rc, c.chunks[1:]
		}
		n, err := c.cur.Read(p)
		if err == io.EOF {
			c.cur.Close()
			c.cur = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

func (c *chunkChain) Close() error {
	if c.cur != nil {
		return c.cur.Close()
	}
	return nil
}

// CleanupUploads deletes uploads abandoned past their expiry, with their
// parts, and reports how many.
func (s *Service) CleanupUploads(ctx context.Context) (int, error) {
	n := 0
	for {
		expired, err := s.store.ExpiredUploads(ctx, s.now(), 100)
		if err != nil || len(expired) == 0 {
			return n, err
		}
		for _, u := range expired {
			s.dropParts(ctx, u)
			// Chunks a crash left unrecorded sit under the upload's prefix.
			_ = s.blobs.List(ctx, "uploads/"+u.ID.String()+"/", func(i blob.Info) error { return s.blobs.Delete(ctx, i.Key) })
			if err := s.store.DeleteUpload(ctx, u.ID); err != nil {
				return n, err
			}
			n++
		}
	}
}
