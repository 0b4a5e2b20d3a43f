package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Local keeps blobs as files under one directory:
//
//	<root>/<key>          the blob's bytes, exactly as put
//	<root>/.meta/<key>    JSON sidecar: {"size":…,"sha256":…,"mtime_ns":…}
//	<root>/.tmp/…         uploads in progress
//
// Keys never start a segment with ".", so they cannot collide with .meta or
// .tmp. Put writes a temporary file in .tmp (same file system as the final
// place), hashing while copying, fsyncs it, checks size and hash, and only
// then renames it into place, so a reader sees the old blob or the new one,
// never a mix, and a rejected body leaves nothing behind. The sidecar is
// written after the data rename. It records the data file's size and
// modification time; Stat trusts it only while both still match the file,
// and otherwise (a crash between the two renames, two racing Puts)
// recomputes the hash from the data and rewrites the sidecar. The data file
// is the truth; the sidecar is a cache of its hash.
//
// Limitation of the file system, not of S3: a key cannot be both a blob and
// a "directory" of other keys ("a" and "a/b"); the second Put fails.
// Empty directories left by Delete are not removed.
type Local struct {
	root string
}

var _ Store = (*Local)(nil)

const (
	localMetaDir = ".meta"
	localTmpDir  = ".tmp"
	// staleTmpAge: temporary files older than this are leftovers of a crash
	// and are removed by NewLocal.
	staleTmpAge = 24 * time.Hour
)

// NewLocal opens (creating it if needed) a Local store rooted at dir.
func NewLocal(dir string) (*Local, error) {
	if dir == "" {
		return nil, errors.New("blob: local store needs a directory")
	}
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("blob: local store: %w", err)
	}
	for _, d := range []string{root, filepath.Join(root, localMetaDir), filepath.Join(root, localTmpDir)} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("blob: local store: %w", err)
		}
	}
	l := &Local{root: root}
	l.removeStaleTemps()
	return l, nil
}

// Root is the directory the store keeps its files in.
func (l *Local) Root() string { return l.root }

func (l *Local) dataPath(key string) string {
	return filepath.Join(l.root, filepath.FromSlash(key))
}

func (l *Local) metaPath(key string) string {
	return filepath.Join(l.root, localMetaDir, filepath.FromSlash(key))
}

type localMeta struct {
	Size    int64  `json:"size"`
	SHA256  string `json:"sha256"`
	MtimeNS int64  `json:"mtime_ns"`
}

// Put implements Store.
func (l *Local) Put(ctx context.Context, key string, r io.Reader, size int64, wantSHA256 string) (Info, error) {
	if err := checkPutArgs(key, r, size, wantSHA256); err != nil {
		return Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}

	tmp, err := os.CreateTemp(filepath.Join(l.root, localTmpDir), "put-*")
	if err != nil {
		return Info{}, fmt.Errorf("blob: put %q: %w", key, err)
	}
	tmpName := tmp.Name()
	kept := false
	defer func() {
		if !kept {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()

	hr := newHashingReader(r, size)
	if _, err := io.Copy(tmp, ctxReader{ctx, hr}); err != nil {
		return Info{}, fmt.Errorf("blob: put %q: %w", key, err)
	}
	sum, err := hr.finish(wantSHA256)
	if err != nil {
		return Info{}, fmt.Errorf("blob: put %q: %w", key, err)
	}
	if err := tmp.Sync(); err != nil {
		return Info{}, fmt.Errorf("blob: put %q: %w", key, err)
	}
	fi, err := tmp.Stat()
	if err != nil {
		return Info{}, fmt.Errorf("blob: put %q: %w", key, err)
	}
	if err := tmp.Close(); err != nil {
		return Info{}, fmt.Errorf("blob: put %q: %w", key, err)
	}

	dst := l.dataPath(key)
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.EEXIST) {
			return Info{}, fmt.Errorf("blob: put %q: a parent of the key is a blob (local store limitation): %w", key, err)
		}
		return Info{}, fmt.Errorf("blob: put %q: %w", key, err)
	}
	if err := os.Rename(tmpName, dst); err != nil {
		if errors.Is(err, syscall.EISDIR) || errors.Is(err, syscall.EEXIST) || errors.Is(err, syscall.ENOTEMPTY) {
			return Info{}, fmt.Errorf("blob: put %q: the key is a prefix of other keys (local store limitation): %w", key, err)
		}
		return Info{}, fmt.Errorf("blob: put %q: %w", key, err)
	}
	kept = true
	syncDir(filepath.Dir(dst))

	meta := localMeta{Size: hr.n, SHA256: sum, MtimeNS: fi.ModTime().UnixNano()}
	if err := l.writeMeta(key, meta); err != nil {
		// The data is in place; Stat will recompute the hash.
		return Info{}, fmt.Errorf("blob: put %q: writing metadata: %w", key, err)
	}
	return Info{Key: key, Size: hr.n, SHA256: sum, ModTime: fi.ModTime()}, nil
}

func (l *Local) writeMeta(key string, m localMeta) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Join(l.root, localTmpDir), "meta-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	dst := l.metaPath(key)
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}

// Get implements Store. The returned reader is an *os.File.
func (l *Local) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	f, _, err := l.open(ctx, key)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// GetRange implements Store.
func (l *Local) GetRange(ctx context.Context, key string, off, length int64) (io.ReadCloser, error) {
	if off < 0 {
		return nil, fmt.Errorf("%w: offset %d", ErrInvalidRange, off)
	}
	f, fi, err := l.open(ctx, key)
	if err != nil {
		return nil, err
	}
	size := fi.Size()
	if off > size {
		f.Close()
		return nil, fmt.Errorf("%w: offset %d past the end of %q (%d bytes)", ErrInvalidRange, off, key, size)
	}
	n := size - off
	if length >= 0 && length < n {
		n = length
	}
	return struct {
		io.Reader
		io.Closer
	}{io.NewSectionReader(f, off, n), f}, nil
}

func (l *Local) open(ctx context.Context, key string) (*os.File, fs.FileInfo, error) {
	if err := ValidateKey(key); err != nil {
		return nil, nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	f, err := os.Open(l.dataPath(key))
	if err != nil {
		return nil, nil, l.mapErr("get", key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, l.mapErr("get", key, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("blob: get %q: %w", key, ErrNotFound)
	}
	return f, fi, nil
}

// Stat implements Store.
func (l *Local) Stat(ctx context.Context, key string) (Info, error) {
	if err := ValidateKey(key); err != nil {
		return Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	fi, err := os.Stat(l.dataPath(key))
	if err != nil {
		return Info{}, l.mapErr("stat", key, err)
	}
	if !fi.Mode().IsRegular() {
		return Info{}, fmt.Errorf("blob: stat %q: %w", key, ErrNotFound)
	}
	info := Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}

	var m localMeta
	if b, err := os.ReadFile(l.metaPath(key)); err == nil &&
		json.Unmarshal(b, &m) == nil &&
		m.Size == fi.Size() && m.MtimeNS == fi.ModTime().UnixNano() && validateSHA256(m.SHA256) == nil && m.SHA256 != "" {
		info.SHA256 = m.SHA256
		return info, nil
	}

	// Sidecar missing or stale: the data file is the truth.
	f, err := os.Open(l.dataPath(key))
	if err != nil {
		return Info{}, l.mapErr("stat", key, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, ctxReader{ctx, f}); err != nil {
		return Info{}, fmt.Errorf("blob: stat %q: %w", key, err)
	}
	fi2, err := f.Stat()
	if err != nil {
		return Info{}, l.mapErr("stat", key, err)
	}
	info = Info{Key: key, Size: fi2.Size(), SHA256: hex.EncodeToString(h.Sum(nil)), ModTime: fi2.ModTime()}
	_ = l.writeMeta(key, localMeta{Size: info.Size, SHA256: info.SHA256, MtimeNS: fi2.ModTime().UnixNano()}) // best effort
	return info, nil
}

// Delete implements Store.
func (l *Local) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	p := l.dataPath(key)
	fi, err := os.Lstat(p)
	if err != nil {
		if isNotExist(err) {
			return nil
		}
		return fmt.Errorf("blob: delete %q: %w", key, err)
	}
	if fi.IsDir() {
		return nil // a prefix of other keys, not a blob
	}
	if err := os.Remove(p); err != nil && !isNotExist(err) {
		return fmt.Errorf("blob: delete %q: %w", key, err)
	}
	if err := os.Remove(l.metaPath(key)); err != nil && !isNotExist(err) {
		return fmt.Errorf("blob: delete %q: metadata: %w", key, err)
	}
	return nil
}

// Ping implements Store: it checks that a file can be created, written and
// removed in the store's directory.
func (l *Local) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Join(l.root, localTmpDir), "ping-*")
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	_, err = f.Write([]byte("ping"))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if rerr := os.Remove(f.Name()); err == nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return nil
}

func (l *Local) mapErr(op, key string, err error) error {
	if isNotExist(err) {
		return fmt.Errorf("blob: %s %q: %w", op, key, ErrNotFound)
	}
	return fmt.Errorf("blob: %s %q: %w", op, key, err)
}

// removeStaleTemps deletes leftovers of uploads interrupted by a crash.
func (l *Local) removeStaleTemps() {
	dir := filepath.Join(l.root, localTmpDir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > staleTmpAge {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// isNotExist: the path or one of its parents is missing, or a parent is a
// file (key "a/b" when "a" is a blob).
func isNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// syncDir makes a rename in dir durable. Best effort: some file systems
// refuse to fsync directories.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// ctxReader stops a copy once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// List implements Store. It walks the directory under prefix; the store's
// own sidecar and temporary directories start with "." and are skipped, as
// no key can start with ".".
func (l *Local) List(ctx context.Context, prefix string, fn func(Info) error) error {
	err := filepath.WalkDir(l.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if isNotExist(err) {
				return nil
			}
			return err
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		rel, rerr := filepath.Rel(l.root, p)
		if rerr != nil {
			return rerr
		}
		key := filepath.ToSlash(rel)
		if d.IsDir() {
			if key != "." && (strings.HasPrefix(d.Name(), ".") || !strings.HasPrefix(key+"/", prefix) && !strings.HasPrefix(prefix, key+"/")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasPrefix(key, prefix) || ValidateKey(key) != nil {
			return nil
		}
		fi, ierr := d.Info()
		if ierr != nil {
			if isNotExist(ierr) {
				return nil
			}
			return ierr
		}
		return fn(Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime()})
	})
	return err
}
