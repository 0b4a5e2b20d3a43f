package blob

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"
)

// S3Config says where an S3 store keeps its blobs.
type S3Config struct {
	Endpoint  string // host:port, no scheme
	AccessKey string
	SecretKey string
	Bucket    string // created (private) by NewS3 if missing
	Secure    bool   // https
	Region    string // optional
	// PartSize is the multipart part size, which is also the most memory a
	// Put with unknown size holds. 0 means 16 MiB; S3 requires at least 5 MiB.
	PartSize uint64
	// MaxRetries bounds how often a failed request is retried (minio-go
	// backs off between tries). 0 means minio-go's default (10); 1 means no
	// retry, so an unreachable server fails fast.
	MaxRetries int
}

// S3 keeps blobs in one bucket of an S3-compatible server.
//
// A Put with a declared SHA-256 and a known size (the photo path: keys are
// content-addressed) is one PutObject straight to the final key, guarded
// twice so that a wrong body is never stored:
//
//   - by the server: the request carries x-amz-checksum-sha256 (base64 of
//     the declared digest), and S3 and MinIO refuse a PutObject whose body
//     does not hash to it (BadDigest / XAmzContentChecksumMismatch), storing
//     nothing. The header is signed, so it also covers the body in transit,
//     which is why the body itself goes as UNSIGNED-PAYLOAD instead of being
//     hashed a second time for a streaming signature.
//   - by us: the body goes through a reader that holds back its last bytes
//     until it has seen the end of the body and checked its size (and, when
//     the server does not check it, its hash); on a mismatch it fails the
//     read instead, so the server gets a short body and stores nothing, and
//     Put returns ErrSizeMismatch or ErrHashMismatch exactly as before. The
//     size check is ours alone: a body longer than declared whose first
//     bytes hash right would pass the server.
//
// Whether the server checks the header is probed once, by NewS3: a PUT
// whose header does not match its body must be refused (S3 and MinIO do).
// Then our reader does not hash the body a second time (SHA-256 was the
// API's largest CPU cost per uploaded byte, B3) and the server's refusal
// (BadDigest, XAmzContentChecksumMismatch) is our ErrHashMismatch. A server
// that stores the probe anyway, or a probe that fails for any other reason,
// leaves the hashing on.
//
// Any other Put (no declared hash, size unknown or zero, or larger than a
// single PUT may be) uploads the body to a temporary object under ".tmp/"
// while hashing it, then, only if size and hash match, copies it
// server-side to the final key and deletes the temporary object. The
// temporary object of a process that crashed mid-Put stays behind; a bucket
// lifecycle rule expiring ".tmp/" after a day cleans those up (not set here,
// to leave the bucket's configuration to its operator). Keys never start
// with ".", so ".tmp/" cannot collide with them.
//
// Either way the SHA-256 is stored as user metadata (x-amz-meta-sha256), so
// Stat can return it. Bodies going through the temporary object that are
// larger than a part (S3Config.PartSize, 16 MiB by default) or of unknown
// size go up in multipart parts, holding one part in memory at a time; a
// direct PUT streams and holds no part at all.
//
// Objects written by other tools have no x-amz-meta-sha256; Stat returns an
// empty SHA256 for them.
type S3 struct {
	client *minio.Client
	// checksummed is a second client on the same transport, created with
	// TrailingHeaders: minio-go only lets a PutObject carry an
	// x-amz-checksum-* header from a client that has it. It is used for
	// the direct Put only; everything else keeps the plain client, whose
	// requests the flag would otherwise change (automatic CRC32C headers).
	checksummed *minio.Client
	bucket      string
	partSize    uint64
	// serverChecksums: the server was seen to refuse a body that does not
	// match its x-amz-checksum-sha256, so the direct Put leaves the hash
	// check to it (probeChecksums).
	serverChecksums bool
}

var _ Store = (*S3)(nil)

const (
	s3PartSize    = 16 << 20
	s3MinPartSize = 5 << 20
	s3MaxCopySize = 5 << 30
	s3TmpPrefix   = ".tmp/"
	s3MetaSHA     = "Sha256" // sent as X-Amz-Meta-Sha256
	// s3ChecksumSHA is the header S3 verifies the body against (base64 of
	// the raw digest). minio-go sends x-amz-checksum-* user metadata as is.
	s3ChecksumSHA = "x-amz-checksum-sha256"
	// s3MaxSinglePut is the largest body S3 takes in one PutObject.
	s3MaxSinglePut = 5 << 30
	// s3CleanupTimeout bounds the removal of a temporary object after a
	// failed or cancelled Put.
	s3CleanupTimeout = 30 * time.Second
)

// NewS3 connects to the server and creates the bucket if it does not exist.
// An unreachable server gives an error wrapping ErrUnavailable.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	s, err := newS3(cfg)
	if err != nil {
		return nil, err
	}
	exists, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return nil, s.mapErr(ctx, "check bucket", s.bucket, err)
	}
	if !exists {
		err := s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: cfg.Region})
		if err != nil && minio.ToErrorResponse(err).Code != "BucketAlreadyOwnedByYou" {
			return nil, s.mapErr(ctx, "create bucket", s.bucket, err)
		}
	}
	s.serverChecksums = s.probeChecksums(ctx)
	return s, nil
}

// probeChecksums reports whether the server refuses a PutObject whose body
// does not match its x-amz-checksum-sha256. Anything else (the probe is
// stored, or fails another way) answers false, which keeps our own hashing.
func (s *S3) probeChecksums(ctx context.Context) bool {
	key := s3TmpPrefix + "checksum-probe-" + randomHex(8)
	body := []byte("fieldvisit: does this server check x-amz-checksum-sha256?")
	wrong := sha256.Sum256([]byte("not the probe's body"))
	_, err := s.checksummed.PutObject(ctx, s.bucket, key, bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{
		ContentType:          "application/octet-stream",
		UserMetadata:         map[string]string{s3ChecksumSHA: base64.StdEncoding.EncodeToString(wrong[:])},
		DisableMultipart:     true,
		DisableContentSha256: true,
	})
	if err == nil { // stored: the header is ignored here
		s.removeTemp(ctx, key)
		return false
	}
	code := minio.ToErrorResponse(err).Code
	return code == "BadDigest" || code == "XAmzContentChecksumMismatch"
}

// newS3 builds the client without talking to the server.
func newS3(cfg S3Config) (*S3, error) {
	if cfg.Endpoint == "" || cfg.Bucket == "" {
		return nil, errors.New("blob: S3 store needs an endpoint and a bucket")
	}
	if err := s3utils.CheckValidBucketNameStrict(cfg.Bucket); err != nil {
		return nil, fmt.Errorf("blob: S3 bucket %q: %w", cfg.Bucket, err)
	}
	partSize := cfg.PartSize
	if partSize == 0 {
		partSize = s3PartSize
	}
	if partSize < s3MinPartSize {
		return nil, fmt.Errorf("blob: S3 part size %d is below the 5 MiB minimum", partSize)
	}
	transport, err := minio.DefaultTransport(cfg.Secure)
	if err != nil {
		return nil, fmt.Errorf("blob: S3 store: %w", err)
	}
	opts := minio.Options{
		Creds:      credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:     cfg.Secure,
		Region:     cfg.Region,
		MaxRetries: cfg.MaxRetries,
		Transport:  transport,
	}
	client, err := minio.New(cfg.Endpoint, &opts)
	if err != nil {
		return nil, fmt.Errorf("blob: S3 store: %w", err)
	}
	opts.TrailingHeaders = true
	checksummed, err := minio.New(cfg.Endpoint, &opts)
	if err != nil {
		return nil, fmt.Errorf("blob: S3 store: %w", err)
	}
	return &S3{client: client, checksummed: checksummed, bucket: cfg.Bucket, partSize: partSize}, nil
}

// Bucket is the bucket the store keeps its blobs in.
func (s *S3) Bucket() string { return s.bucket }

// Put implements Store.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64, wantSHA256 string) (Info, error) {
	if err := checkPutArgs(key, r, size, wantSHA256); err != nil {
		return Info{}, err
	}
	if wantSHA256 != "" && size > 0 && size <= s3MaxSinglePut {
		return s.putDirect(ctx, key, r, size, wantSHA256)
	}
	tmpKey := s3TmpPrefix + randomHex(16)
	hr := newHashingReader(r, size)
	_, err := s.client.PutObject(ctx, s.bucket, tmpKey, hr, size, minio.PutObjectOptions{
		PartSize:    s.partSize,
		ContentType: "application/octet-stream",
	})
	if err != nil {
		s.removeTemp(ctx, tmpKey)
		if hr.err != nil { // the body, not the server, was at fault
			return Info{}, fmt.Errorf("blob: put %q: %w", key, hr.err)
		}
		return Info{}, s.mapErr(ctx, "put", key, err)
	}
	sum, err := hr.finish(wantSHA256)
	if err != nil {
		s.removeTemp(ctx, tmpKey)
		return Info{}, fmt.Errorf("blob: put %q: %w", key, err)
	}

	// Server-side copy to the final key, with the hash as metadata. A single
	// CopyObject handles up to 5 GiB; ComposeObject does a multipart copy
	// beyond (after one more HEAD of the source).
	dst := minio.CopyDestOptions{
		Bucket:          s.bucket,
		Object:          key,
		UserMetadata:    map[string]string{s3MetaSHA: sum},
		ReplaceMetadata: true,
		ContentType:     "application/octet-stream",
	}
	src := minio.CopySrcOptions{Bucket: s.bucket, Object: tmpKey}
	var up minio.UploadInfo
	if hr.n <= s3MaxCopySize {
		up, err = s.client.CopyObject(ctx, dst, src)
	} else {
		up, err = s.client.ComposeObject(ctx, dst, src)
	}
	s.removeTemp(ctx, tmpKey)
	if err != nil {
		return Info{}, s.mapErr(ctx, "put", key, err)
	}
	mod := up.LastModified
	if mod.IsZero() {
		mod = time.Now()
	}
	return Info{Key: key, Size: hr.n, SHA256: sum, ModTime: mod}, nil
}

// putDirect uploads a body of known size and declared hash straight to key
// in one PutObject that the server verifies against the declared hash (see
// the S3 type's comment).
func (s *S3) putDirect(ctx context.Context, key string, r io.Reader, size int64, wantSHA256 string) (Info, error) {
	digest, err := hex.DecodeString(wantSHA256) // validated by checkPutArgs
	if err != nil {
		return Info{}, fmt.Errorf("%w: declared sha256 %q: %w", ErrInvalidKey, wantSHA256, err)
	}
	hr := newHashingReader(r, size)
	if s.serverChecksums {
		hr.h = nil // the server checks the hash (probeChecksums); we check the size
	}
	sr := &sealedReader{hr: hr, want: wantSHA256}
	var body io.Reader = sr
	if size <= s3BufferedPutMax {
		// A small body (a phone's photo) is read whole first and goes to
		// the server in one burst: as it trickles in from a phone the
		// server would take it in many small reads, which cost MinIO
		// about 15 % more CPU per 300 KB photo than the same bytes sent at
		// once (B3). A body that fails the size or hash check is then
		// never sent at all.
		bp := smallBodies.Get().(*[]byte)
		defer smallBodies.Put(bp)
		buf := (*bp)[:size]
		if _, err := io.ReadFull(sr, buf); err != nil || !sr.done {
			if sr.mismatch != nil {
				return Info{}, fmt.Errorf("blob: put %q: %w", key, sr.mismatch)
			}
			if err == nil || errors.Is(err, io.ErrUnexpectedEOF) {
				err = fmt.Errorf("%w: the body ended before the declared %d bytes", ErrSizeMismatch, size)
			}
			return Info{}, fmt.Errorf("blob: put %q: %w", key, err)
		}
		body = bytes.NewReader(buf)
	}
	up, err := s.checksummed.PutObject(ctx, s.bucket, key, body, size, minio.PutObjectOptions{
		ContentType: "application/octet-stream",
		UserMetadata: map[string]string{
			s3MetaSHA:     wantSHA256,
			s3ChecksumSHA: base64.StdEncoding.EncodeToString(digest),
		},
		// One request, streamed: no multipart part is buffered.
		DisableMultipart: true,
		// The signed checksum header covers the body; a streaming
		// signature would hash every byte once more on each side.
		DisableContentSha256: true,
	})
	if sr.mismatch != nil { // the body, not the server, was at fault
		return Info{}, fmt.Errorf("blob: put %q: %w", key, sr.mismatch)
	}
	if err != nil {
		if er := (minio.ErrorResponse{}); errors.As(err, &er) && (er.Code == "BadDigest" || er.Code == "XAmzContentChecksumMismatch") {
			// The server's hash check (ours too, when it runs, would have
			// cut the body short first): it stored nothing.
			return Info{}, fmt.Errorf("blob: put %q: %w: %w", key, ErrHashMismatch, err)
		}
		return Info{}, s.mapErr(ctx, "put", key, err)
	}
	if !sr.done { // cannot happen: the server took fewer bytes than declared
		return Info{}, fmt.Errorf("blob: put %q: %w: the server read %d of %d bytes", key, ErrSizeMismatch, sr.hr.n, size)
	}
	mod := up.LastModified
	if mod.IsZero() {
		mod = time.Now()
	}
	return Info{Key: key, Size: size, SHA256: wantSHA256, ModTime: mod}, nil
}

// s3BufferedPutMax is the largest body putDirect reads whole before
// sending it; the pool holds a buffer of this size per upload in flight.
const s3BufferedPutMax = 512 << 10

var smallBodies = sync.Pool{New: func() any { b := make([]byte, s3BufferedPutMax); return &b }}

// sealedReader passes a body of known size through a hashingReader but
// never hands out its last bytes before checking them: once the declared
// size has been read it makes sure the body ends there and hashes to want
// (the hash only when the hashingReader hashes: h is nil when the server
// checks it).
// On a mismatch the read fails instead (mismatch says why), so the request
// carrying the body is cut short and the server stores nothing.
type sealedReader struct {
	hr       *hashingReader
	want     string
	mismatch error // ErrSizeMismatch or ErrHashMismatch, once found
	done     bool  // every byte was checked and handed out
}

func (sr *sealedReader) Read(p []byte) (int, error) {
	if sr.mismatch != nil {
		return 0, sr.mismatch
	}
	if sr.done {
		return 0, io.EOF
	}
	if rest := sr.hr.size - sr.hr.n; int64(len(p)) > rest {
		p = p[:rest] // the check below reads the byte after the end itself
	}
	n, err := sr.hr.Read(p)
	if sr.hr.err != nil { // shorter (or longer) than declared
		sr.mismatch = sr.hr.err
		return 0, sr.mismatch
	}
	if err != nil && err != io.EOF {
		return 0, err
	}
	if sr.hr.n < sr.hr.size {
		return n, nil
	}
	// All declared bytes are in hand and the last n are not out yet.
	var one [1]byte
	if m, err := io.ReadFull(sr.hr, one[:]); m > 0 || sr.hr.err != nil {
		sr.mismatch = sr.hr.err
		if sr.mismatch == nil {
			sr.mismatch = fmt.Errorf("%w: body longer than the declared %d bytes", ErrSizeMismatch, sr.hr.size)
		}
		return 0, sr.mismatch
	} else if err != io.EOF {
		return 0, err
	}
	if sr.hr.h != nil {
		if sum := hex.EncodeToString(sr.hr.h.Sum(nil)); sum != sr.want {
			sr.mismatch = fmt.Errorf("%w: declared %s, got %s", ErrHashMismatch, sr.want, sum)
			return 0, sr.mismatch
		}
	}
	sr.done = true
	return n, io.EOF
}

// removeTemp deletes a temporary upload, even when ctx is already cancelled.
func (s *S3) removeTemp(ctx context.Context, tmpKey string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s3CleanupTimeout)
	defer cancel()
	_ = s.client.RemoveObject(ctx, s.bucket, tmpKey, minio.RemoveObjectOptions{})
}

// Get implements Store. The blob's bytes are fetched by the first Read.
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	return s.get(ctx, key, minio.GetObjectOptions{})
}

// GetRange implements Store.
func (s *S3) GetRange(ctx context.Context, key string, off, length int64) (io.ReadCloser, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	if off < 0 {
		return nil, fmt.Errorf("%w: offset %d", ErrInvalidRange, off)
	}
	if length == 0 {
		// S3 cannot express an empty range; check existence and bounds.
		info, err := s.Stat(ctx, key)
		if err != nil {
			return nil, err
		}
		if off > info.Size {
			return nil, fmt.Errorf("%w: offset %d past the end of %q (%d bytes)", ErrInvalidRange, off, key, info.Size)
		}
		return emptyReader(), nil
	}

	var opts minio.GetObjectOptions
	switch {
	case off == 0 && length < 0:
		// whole object
	case length < 0:
		if err := opts.SetRange(off, 0); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidRange, err)
		}
	default:
		if err := opts.SetRange(off, off+length-1); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidRange, err)
		}
	}
	rc, err := s.get(ctx, key, opts)
	if er := (minio.ErrorResponse{}); errors.As(err, &er) && er.Code == "InvalidRange" {
		// The range starts at or past the end: empty when exactly at it.
		info, serr := s.Stat(ctx, key)
		if serr != nil {
			return nil, serr
		}
		if off == info.Size {
			return emptyReader(), nil
		}
		return nil, fmt.Errorf("%w: offset %d past the end of %q (%d bytes)", ErrInvalidRange, off, key, info.Size)
	}
	return rc, err
}

// get starts the download so that a missing key is reported now rather than
// by the first Read. It is one GET whose body is returned as is (minio.Core):
// Client.GetObject followed by Object.Stat would send a HEAD first and the
// GET only on the first Read, two round trips per read (the photo path reads
// a header and an ending of every upload, so that doubled its requests).
func (s *S3) get(ctx context.Context, key string, opts minio.GetObjectOptions) (io.ReadCloser, error) {
	body, _, _, err := minio.Core{Client: s.client}.GetObject(ctx, s.bucket, key, opts)
	if err != nil {
		return nil, s.mapErr(ctx, "get", key, err)
	}
	return body, nil
}

// Stat implements Store.
func (s *S3) Stat(ctx context.Context, key string) (Info, error) {
	if err := ValidateKey(key); err != nil {
		return Info{}, err
	}
	oi, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return Info{}, s.mapErr(ctx, "stat", key, err)
	}
	return Info{Key: key, Size: oi.Size, SHA256: oi.UserMetadata[s3MetaSHA], ModTime: oi.LastModified}, nil
}

// Delete implements Store.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{})
	if err != nil {
		err = s.mapErr(ctx, "delete", key, err)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
	}
	return err
}

// Ping implements Store: the server answers and the bucket exists.
func (s *S3) Ping(ctx context.Context) error {
	exists, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return s.mapErr(ctx, "ping", s.bucket, err)
	}
	if !exists {
		return fmt.Errorf("%w: bucket %q does not exist", ErrUnavailable, s.bucket)
	}
	return nil
}

// mapErr turns minio-go and network errors into this package's sentinels,
// keeping the original error in the chain.
func (s *S3) mapErr(ctx context.Context, op, key string, err error) error {
	wrap := func(sentinel error) error {
		return fmt.Errorf("blob: %s %q: %w: %w", op, key, sentinel, err)
	}
	// The caller gave up: not the backend's fault.
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return fmt.Errorf("blob: %s %q: %w", op, key, err)
	}
	var er minio.ErrorResponse
	if errors.As(err, &er) {
		switch er.Code {
		case "NoSuchKey", "NotFound", "NoSuchObject":
			return fmt.Errorf("blob: %s %q: %w", op, key, ErrNotFound)
		case "NoSuchBucket", "ServiceUnavailable", "SlowDown", "XMinioServerNotInitialized", "XMinioStorageFull":
			return wrap(ErrUnavailable)
		}
		switch er.StatusCode {
		case http.StatusNotFound:
			return fmt.Errorf("blob: %s %q: %w", op, key, ErrNotFound)
		case http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusGatewayTimeout:
			return wrap(ErrUnavailable)
		}
		return fmt.Errorf("blob: %s %q: %w", op, key, err)
	}
	var netErr net.Error
	if errors.As(err, &netErr) ||
		errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.ErrUnexpectedEOF) {
		return wrap(ErrUnavailable)
	}
	return fmt.Errorf("blob: %s %q: %w", op, key, err)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand, Go ≥ 1.24)
	return hex.EncodeToString(b)
}

// PostForm is what a phone needs to upload one object straight to the
// bucket with an HTML-form POST: the URL and the signed fields to send
// before the file field.
type PostForm struct {
	URL       string
	Fields    map[string]string
	ExpiresAt time.Time
}

// PostPresigner is implemented by stores a phone can upload to directly.
type PostPresigner interface {
	PresignPost(ctx context.Context, key, contentType string, size int64, expiry time.Duration) (PostForm, error)
}

var _ PostPresigner = (*S3)(nil)

// PresignPost signs a POST policy for exactly one object: key, content type
// and size are fixed by the policy, so the phone can send nothing else.
func (s *S3) PresignPost(ctx context.Context, key, contentType string, size int64, expiry time.Duration) (PostForm, error) {
	if err := ValidateKey(key); err != nil {
		return PostForm{}, err
	}
	if size <= 0 {
		return PostForm{}, fmt.Errorf("blob: presign %q: size %d must be positive", key, size)
	}
	expires := time.Now().Add(expiry).UTC()
	policy := minio.NewPostPolicy()
	for _, err := range []error{
		policy.SetBucket(s.bucket), policy.SetKey(key), policy.SetExpires(expires),
		policy.SetContentType(contentType), policy.SetContentLengthRange(size, size),
	} {
		if err != nil {
			return PostForm{}, fmt.Errorf("blob: presign %q: %w", key, err)
		}
	}
	u, fields, err := s.client.PresignedPostPolicy(ctx, policy)
	if err != nil {
		return PostForm{}, s.mapErr(ctx, "presign", key, err)
	}
	return PostForm{URL: u.String(), Fields: fields, ExpiresAt: expires}, nil
}

// List implements Store. Temporary objects (".tmp/") are skipped.
func (s *S3) List(ctx context.Context, prefix string, fn func(Info) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing goroutine when fn fails
	for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			return s.mapErr(ctx, "list", prefix, obj.Err)
		}
		if strings.HasPrefix(obj.Key, s3TmpPrefix) {
			continue
		}
		if err := fn(Info{Key: obj.Key, Size: obj.Size, ModTime: obj.LastModified}); err != nil {
			return err
		}
	}
	return nil
}
