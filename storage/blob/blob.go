// Package blob owns the bytes of fieldvisit's attachments (photos, audio,
// signed forms): it keeps opaque blobs by key and knows nothing about visits,
// users or databases.
//
// Two backends implement [Store]:
//
//   - [Local] keeps blobs as files under a directory (single-node deployments,
//     development, the demo).
//   - [S3] keeps blobs in one bucket of an S3-compatible server (MinIO in
//     production and in the tests).
//
// Both behave the same way, which acceptance_test.go checks by running one
// suite against each:
//
//   - Writes are all-or-nothing. Put streams the body while hashing it with
//     SHA-256; if the caller declared a hash or a size and the body does not
//     match, nothing is kept under the key (an earlier blob under the same key
//     stays as it was) and ErrHashMismatch or ErrSizeMismatch is returned.
//   - Put never holds a whole blob in memory. The local backend copies through
//     a small buffer; the S3 backend holds at most one multipart part
//     (S3Config.PartSize, 16 MiB by default).
//   - Every stored blob carries its SHA-256, returned by Stat.
//   - Keys are validated the same way everywhere (see ValidateKey), so a key
//     that works on one backend works on the other.
//   - Errors are classified with sentinels to test with errors.Is:
//     ErrNotFound, ErrHashMismatch, ErrSizeMismatch, ErrInvalidKey,
//     ErrInvalidRange and ErrUnavailable (backend unreachable: answer 503).
//
// Callers decide the key layout; this package only checks that keys are safe.
package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
	"time"
)

// Store keeps opaque blobs by key.
type Store interface {
	// Put streams r into key. size is the byte count or -1 if unknown.
	// wantSHA256 is the lowercase hex SHA-256 the caller declares ("" = not
	// checked). The hash is computed while streaming; on mismatch nothing is
	// kept under key and ErrHashMismatch is returned (ErrSizeMismatch when r
	// does not yield exactly size bytes). Never buffers the whole blob in
	// memory. Putting an existing key replaces it.
	Put(ctx context.Context, key string, r io.Reader, size int64, wantSHA256 string) (Info, error)

	// Get opens the blob under key. A missing key gives ErrNotFound.
	Get(ctx context.Context, key string) (io.ReadCloser, error)

	// GetRange opens length bytes of the blob under key starting at off;
	// length < 0 means "to the end". A range reaching past the end is cut
	// short there. off < 0 or off > size gives ErrInvalidRange; off == size
	// gives an empty reader.
	GetRange(ctx context.Context, key string, off, length int64) (io.ReadCloser, error)

	// Stat describes the blob under key. A missing key gives ErrNotFound.
	Stat(ctx context.Context, key string) (Info, error)

	// Delete removes the blob under key. Deleting a missing key is not an
	// error.
	Delete(ctx context.Context, key string) error

	// List calls fn for every blob whose key starts with prefix, in key
	// order, with Key, Size and ModTime set (SHA256 is left empty: listing
	// never reads the data). An error from fn stops the walk and is
	// returned.
	List(ctx context.Context, prefix string, fn func(Info) error) error

	// Ping reports whether the backend can currently serve requests (for
	// /readyz). An unreachable backend gives ErrUnavailable.
	Ping(ctx context.Context) error
}

// Info describes a stored blob.
type Info struct {
	Key     string
	Size    int64
	SHA256  string // lowercase hex
	ModTime time.Time
}

// Errors returned by Store implementations, possibly wrapped: test them with
// errors.Is.
var (
	// ErrNotFound: no blob under the key. errors.Is(err, os.ErrNotExist)
	// holds too, so code written against the os package keeps working.
	ErrNotFound = fmt.Errorf("blob: not found: %w", os.ErrNotExist)
	// ErrHashMismatch: the body's SHA-256 differs from the declared one.
	ErrHashMismatch = errors.New("blob: sha256 mismatch")
	// ErrSizeMismatch: the body's length differs from the declared size.
	ErrSizeMismatch = errors.New("blob: size mismatch")
	// ErrInvalidKey: the key fails ValidateKey, or the declared hash is not
	// 64 lowercase hex digits.
	ErrInvalidKey = errors.New("blob: invalid key")
	// ErrInvalidRange: GetRange was asked to start before 0 or past the end.
	ErrInvalidRange = errors.New("blob: invalid range")
	// ErrUnavailable: the backend cannot be reached or is not serving right
	// now (connection refused, timeout, HTTP 503). Retrying later may work.
	ErrUnavailable = errors.New("blob: backend unavailable")
)

// Limits on keys, in bytes. A segment (between slashes) is a file name for
// the local backend, hence the file-system limit.
const (
	MaxKeyLen        = 512
	MaxKeySegmentLen = 255
)

// ValidateKey reports whether key is acceptable to every backend. A key is
// one or more segments separated by "/"; each segment starts with a letter
// or digit and holds only [A-Za-z0-9._-]; ".." never appears; the whole key
// is at most MaxKeyLen bytes and a segment at most MaxKeySegmentLen. So keys cannot escape a directory, cannot be
// absolute, and never collide with the names the backends keep for
// themselves (which start with ".").
func ValidateKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	}
	if len(key) > MaxKeyLen {
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalidKey, MaxKeyLen)
	}
	if strings.Contains(key, "..") {
		return fmt.Errorf("%w: %q contains \"..\"", ErrInvalidKey, key)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" {
			return fmt.Errorf("%w: %q has an empty segment (leading, trailing or double \"/\")", ErrInvalidKey, key)
		}
		if len(seg) > MaxKeySegmentLen {
			return fmt.Errorf("%w: a segment of %q is longer than %d bytes", ErrInvalidKey, key, MaxKeySegmentLen)
		}
		if !isAlnum(seg[0]) {
			return fmt.Errorf("%w: segment %q of %q must start with a letter or digit", ErrInvalidKey, seg, key)
		}
		for i := 0; i < len(seg); i++ {
			if c := seg[i]; !isAlnum(c) && c != '.' && c != '_' && c != '-' {
				return fmt.Errorf("%w: %q contains %q (allowed: A-Z a-z 0-9 / . _ -)", ErrInvalidKey, key, c)
			}
		}
	}
	return nil
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func validateSHA256(s string) error {
	if s == "" {
		return nil
	}
	if len(s) != 2*sha256.Size {
		return fmt.Errorf("%w: declared sha256 %q is not 64 hex digits", ErrInvalidKey, s)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return fmt.Errorf("%w: declared sha256 %q is not lowercase hex", ErrInvalidKey, s)
		}
	}
	return nil
}

// checkPutArgs validates what every Put receives before any I/O.
func checkPutArgs(key string, r io.Reader, size int64, wantSHA256 string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if err := validateSHA256(wantSHA256); err != nil {
		return err
	}
	if r == nil {
		return errors.New("blob: nil reader")
	}
	if size < -1 {
		return fmt.Errorf("blob: size %d: want >= 0 or -1 for unknown", size)
	}
	return nil
}

// hashingReader hashes and counts what is read through it and enforces the
// declared size: reading past it, or hitting EOF before it, fails with
// ErrSizeMismatch (also remembered in err, because a backend may wrap or
// replace the error it got from the reader).
type hashingReader struct {
	r    io.Reader
	h    hash.Hash
	n    int64
	size int64 // -1: unknown
	err  error
}

func newHashingReader(r io.Reader, size int64) *hashingReader {
	if size >= 0 {
		// Allow one byte past size so that an over-long body is noticed.
		r = io.LimitReader(r, size+1)
	}
	return &hashingReader{r: r, h: sha256.New(), size: size}
}

func (hr *hashingReader) Read(p []byte) (int, error) {
	if hr.err != nil {
		return 0, hr.err
	}
	n, err := hr.r.Read(p)
	if hr.size >= 0 && hr.n+int64(n) > hr.size {
		n = int(hr.size - hr.n)
		hr.err = fmt.Errorf("%w: body longer than the declared %d bytes", ErrSizeMismatch, hr.size)
		err = hr.err
	}
	if hr.h != nil { // nil: counting only (S3.putDirect when the server checks the hash)
		hr.h.Write(p[:n])
	}
	hr.n += int64(n)
	if err == io.EOF && hr.size >= 0 && hr.n < hr.size {
		hr.err = fmt.Errorf("%w: body has %d bytes, declared %d", ErrSizeMismatch, hr.n, hr.size)
		err = hr.err
	}
	return n, err
}

// finish drains nothing; it checks what was read against the declarations.
// It must be called after the whole body went through (EOF seen, or exactly
// size bytes read when the size is known).
func (hr *hashingReader) finish(wantSHA256 string) (sum string, err error) {
	if hr.err != nil {
		return "", hr.err
	}
	if hr.size >= 0 {
		if hr.n != hr.size {
			return "", fmt.Errorf("%w: body has %d bytes, declared %d", ErrSizeMismatch, hr.n, hr.size)
		}
		// A backend that knows the size stops reading at it: make sure the
		// body really ends there.
		var one [1]byte
		if n, _ := io.ReadFull(hr.r, one[:]); n > 0 {
			return "", fmt.Errorf("%w: body longer than the declared %d bytes", ErrSizeMismatch, hr.size)
		}
	}
	sum = hex.EncodeToString(hr.h.Sum(nil))
	if wantSHA256 != "" && sum != wantSHA256 {
		return "", fmt.Errorf("%w: declared %s, got %s", ErrHashMismatch, wantSHA256, sum)
	}
	return sum, nil
}

// emptyReader is what a zero-length range reads.
func emptyReader() io.ReadCloser { return io.NopCloser(strings.NewReader("")) }
