package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/fieldvisit/fieldvisit/internal/testkit"
)

// Every backend runs the same acceptance suite, testStore.

func TestLocal(t *testing.T) {
	s, err := NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	testStore(t, s)
}

func TestS3(t *testing.T) {
	s := newTestS3(t, 0) // as in production
	testStore(t, s)
	checkNoTemps(t, s)
}

// TestS3SmallParts uses the smallest part size S3 allows, so the 20 MiB
// upload goes up in several parts and the memory check has room to bite.
func TestS3SmallParts(t *testing.T) {
	s := newTestS3(t, s3MinPartSize)
	testStore(t, s)
	checkNoTemps(t, s)
}

func checkNoTemps(t *testing.T, s *S3) {
	t.Helper()
	// Whatever was accepted or rejected, no temporary upload stays behind.
	for obj := range s.client.ListObjects(context.Background(), s.bucket, minio.ListObjectsOptions{Prefix: s3TmpPrefix, Recursive: true}) {
		if obj.Err != nil {
			t.Fatal(obj.Err)
		}
		t.Errorf("temporary object left behind: %s", obj.Key)
	}
}

// newTestS3 opens an S3 store on a fresh bucket of the test MinIO server and
// removes the bucket when the test ends.
func newTestS3(t *testing.T, partSize uint64) *S3 {
	t.Helper()
	cfg := testkit.S3(t)
	ctx := context.Background()
	s, err := NewS3(ctx, S3Config{
		Endpoint:  cfg.Endpoint,
		AccessKey: cfg.AccessKey,
		SecretKey: cfg.SecretKey,
		Bucket:    testkit.NewBucketName(t),
		PartSize:  partSize,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for obj := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Recursive: true}) {
			if obj.Err == nil {
				_ = s.client.RemoveObject(ctx, s.bucket, obj.Key, minio.RemoveObjectOptions{})
			}
		}
		if err := s.client.RemoveBucket(ctx, s.bucket); err != nil {
			t.Errorf("removing bucket %s: %v", s.bucket, err)
		}
	})
	return s
}

func testStore(t *testing.T, s Store) {
	ctx := context.Background()
	// Each subtest uses its own keys, so they can run in parallel.

	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			name string
			body string
			size int64
		}{
			{"known size", "hello, village", 14},
			{"unknown size", "hello, village", -1},
			{"empty known size", "", 0},
			{"empty unknown size", "", -1},
			{"binary", "\x00\xff\x00\r\n\x1a", 6},
		} {
			t.Run(tc.name, func(t *testing.T) {
				key := "roundtrip/" + strings.ReplaceAll(tc.name, " ", "-")
				info := mustPut(t, s, key, tc.body, tc.size, "")
				want := Info{Key: key, Size: int64(len(tc.body)), SHA256: sha(tc.body)}
				checkInfo(t, info, want)
				if got := mustGet(t, s, key); got != tc.body {
					t.Errorf("Get = %q, want %q", got, tc.body)
				}
				st, err := s.Stat(ctx, key)
				if err != nil {
					t.Fatal(err)
				}
				checkInfo(t, st, want)
			})
		}
	})

	t.Run("HashMatch", func(t *testing.T) {
		t.Parallel()
		body := "photo bytes"
		for _, size := range []int64{int64(len(body)), -1} {
			key := fmt.Sprintf("hash-match/%d", size+1)
			info := mustPut(t, s, key, body, size, sha(body))
			checkInfo(t, info, Info{Key: key, Size: int64(len(body)), SHA256: sha(body)})
		}
	})

	t.Run("HashMismatchKeepsNothing", func(t *testing.T) {
		t.Parallel()
		for _, size := range []int64{5, -1} {
			key := fmt.Sprintf("hash-mismatch/%d", size+1)
			_, err := s.Put(ctx, key, strings.NewReader("wrong"), size, sha("right"))
			if !errors.Is(err, ErrHashMismatch) {
				t.Fatalf("Put with wrong hash: %v, want ErrHashMismatch", err)
			}
			checkMissing(t, s, key)
		}
	})

	t.Run("RejectedPutKeepsOldBlob", func(t *testing.T) {
		t.Parallel()
		key := "rejected-put/keep"
		mustPut(t, s, key, "version 1", -1, "")
		if _, err := s.Put(ctx, key, strings.NewReader("version 2"), -1, sha("something else")); !errors.Is(err, ErrHashMismatch) {
			t.Fatalf("Put with wrong hash: %v, want ErrHashMismatch", err)
		}
		if _, err := s.Put(ctx, key, strings.NewReader("version 2"), 100, ""); !errors.Is(err, ErrSizeMismatch) {
			t.Fatalf("Put with wrong size: %v, want ErrSizeMismatch", err)
		}
		if got := mustGet(t, s, key); got != "version 1" {
			t.Fatalf("after rejected puts Get = %q, want the old blob", got)
		}
		st, err := s.Stat(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		checkInfo(t, st, Info{Key: key, Size: 9, SHA256: sha("version 1")})
	})

	t.Run("SizeMismatchKeepsNothing", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			name string
			body string
			size int64
		}{
			{"body-shorter", "short", 6},
			{"body-much-shorter", "short", 1 << 20},
			{"body-longer", "longer body", 6},
			{"body-one-byte-longer", "123456", 5},
			{"nonempty-declared-empty", "x", 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				key := "size-mismatch/" + tc.name
				_, err := s.Put(ctx, key, strings.NewReader(tc.body), tc.size, "")
				if !errors.Is(err, ErrSizeMismatch) {
					t.Fatalf("Put(%d bytes, size %d): %v, want ErrSizeMismatch", len(tc.body), tc.size, err)
				}
				checkMissing(t, s, key)
			})
		}
	})

	t.Run("BadDeclaredHash", func(t *testing.T) {
		t.Parallel()
		for _, h := range []string{"abc", strings.ToUpper(sha("x")), sha("x")[:63] + "g"} {
			if _, err := s.Put(ctx, "bad-hash/x", strings.NewReader("x"), 1, h); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("Put with declared hash %q: %v, want ErrInvalidKey", h, err)
			}
		}
		checkMissing(t, s, "bad-hash/x")
	})

	t.Run("RangedReads", func(t *testing.T) {
		t.Parallel()
		const body = "0123456789abcdefghij" // 20 bytes
		key := "range/blob"
		mustPut(t, s, key, body, int64(len(body)), "")
		for _, tc := range []struct {
			off, length int64
			want        string
		}{
			{0, 1, "0"},
			{0, 5, "01234"},
			{3, 4, "3456"},
			{19, 1, "j"},
			{10, -1, "abcdefghij"},
			{0, -1, body},
			{15, 100, "fghij"}, // cut short at the end
			{0, 20, body},
			{5, 0, ""},
			{20, 5, ""}, // at the end: empty
			{20, -1, ""},
			{20, 0, ""},
		} {
			rc, err := s.GetRange(ctx, key, tc.off, tc.length)
			if err != nil {
				t.Errorf("GetRange(%d, %d): %v", tc.off, tc.length, err)
				continue
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || string(got) != tc.want {
				t.Errorf("GetRange(%d, %d) = %q, %v; want %q", tc.off, tc.length, got, err, tc.want)
			}
		}
		for _, tc := range []struct{ off, length int64 }{{21, 1}, {21, -1}, {21, 0}, {100, 5}, {-1, 5}} {
			if rc, err := s.GetRange(ctx, key, tc.off, tc.length); !errors.Is(err, ErrInvalidRange) {
				if rc != nil {
					rc.Close()
				}
				t.Errorf("GetRange(%d, %d): %v, want ErrInvalidRange", tc.off, tc.length, err)
			}
		}
		if _, err := s.GetRange(ctx, "range/missing", 0, 5); !errors.Is(err, ErrNotFound) {
			t.Errorf("GetRange of a missing key: %v, want ErrNotFound", err)
		}
	})

	t.Run("Stat", func(t *testing.T) {
		t.Parallel()
		before := time.Now().Add(-2 * time.Second) // S3 keeps seconds only
		mustPut(t, s, "stat/blob", "twelve bytes", 12, "")
		st, err := s.Stat(ctx, "stat/blob")
		if err != nil {
			t.Fatal(err)
		}
		checkInfo(t, st, Info{Key: "stat/blob", Size: 12, SHA256: sha("twelve bytes")})
		if st.ModTime.Before(before) || st.ModTime.After(time.Now().Add(time.Minute)) {
			t.Errorf("ModTime %v, want about now", st.ModTime)
		}
	})

	t.Run("DeleteIdempotent", func(t *testing.T) {
		t.Parallel()
		key := "delete/blob"
		mustPut(t, s, key, "bye", 3, "")
		for i := range 2 {
			if err := s.Delete(ctx, key); err != nil {
				t.Fatalf("Delete #%d: %v", i+1, err)
			}
			checkMissing(t, s, key)
		}
		if err := s.Delete(ctx, "delete/never-existed/deep"); err != nil {
			t.Fatalf("Delete of a key never put: %v", err)
		}
	})

	t.Run("MissingKey", func(t *testing.T) {
		t.Parallel()
		checkMissing(t, s, "missing/nothing-here")
		_, err := s.Stat(ctx, "missing/nothing-here")
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Stat of a missing key: %v, want errors.Is(err, os.ErrNotExist) too", err)
		}
	})

	t.Run("InvalidKeys", func(t *testing.T) {
		t.Parallel()
		for _, key := range []string{
			"", "../x", "a/../../x", "..", ".", "/abs", "a/", "a//b", "a\x00b", `a\b`, ".hidden", "a/.tmp",
			".tmp/x", ".meta/x", "a..b", "a b", "a:b", "ü", "a?b", "a%2f", "-flag", "_x",
			strings.Repeat("a", MaxKeySegmentLen+1),
			strings.Repeat("abcdefg/", MaxKeyLen/8) + "x", // 513 bytes
		} {
			_, err := s.Put(ctx, key, strings.NewReader("x"), 1, "")
			errs := map[string]error{"Put": err}
			_, errs["Get"] = s.Get(ctx, key)
			_, errs["GetRange"] = s.GetRange(ctx, key, 0, 1)
			_, errs["Stat"] = s.Stat(ctx, key)
			errs["Delete"] = s.Delete(ctx, key)
			for op, err := range errs {
				if !errors.Is(err, ErrInvalidKey) {
					t.Errorf("%s(%q): %v, want ErrInvalidKey", op, key, err)
				}
			}
		}
	})

	t.Run("ValidKeys", func(t *testing.T) {
		t.Parallel()
		for _, key := range []string{
			"valid/a",
			"valid/visits/2024/07/0f8c2d1e-9a7b-4c3d-8e2f-1a2b3c4d5e6f.jpg",
			"valid/UPPER_lower-123.tar.gz",
			"valid/" + strings.Repeat("s", MaxKeySegmentLen),
			maxLenKey(),
		} {
			if err := ValidateKey(key); err != nil {
				t.Fatalf("ValidateKey(%q): %v", key, err)
			}
			mustPut(t, s, key, key, int64(len(key)), sha(key))
			if got := mustGet(t, s, key); got != key {
				t.Errorf("Get(%q) = %q", key, got)
			}
		}
	})

	t.Run("Overwrite", func(t *testing.T) {
		t.Parallel()
		key := "overwrite/blob"
		mustPut(t, s, key, "first version, longer", -1, "")
		info := mustPut(t, s, key, "second", 6, sha("second"))
		checkInfo(t, info, Info{Key: key, Size: 6, SHA256: sha("second")})
		if got := mustGet(t, s, key); got != "second" {
			t.Errorf("Get = %q", got)
		}
		st, err := s.Stat(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		checkInfo(t, st, Info{Key: key, Size: 6, SHA256: sha("second")})
	})

	t.Run("NestedKeys", func(t *testing.T) {
		t.Parallel()
		mustPut(t, s, "nested/a/b/c", "c", 1, "")
		mustPut(t, s, "nested/a/b/d", "d", 1, "")
		checkMissing(t, s, "nested/a/b") // a "directory" is not a blob
		if err := s.Delete(ctx, "nested/a/b"); err != nil {
			t.Errorf("Delete of a prefix: %v", err)
		}
		if got := mustGet(t, s, "nested/a/b/c"); got != "c" {
			t.Errorf("Get = %q", got)
		}
		checkMissing(t, s, "nested/a/b/c/e") // under a blob
	})

	t.Run("List", func(t *testing.T) {
		t.Parallel()
		for _, k := range []string{"listing/b/2", "listing/a/1", "listing/a/10", "listing-other/x"} {
			mustPut(t, s, k, k, int64(len(k)), "")
		}
		for _, tc := range []struct {
			prefix string
			want   []string
		}{
			{"listing/", []string{"listing/a/1", "listing/a/10", "listing/b/2"}},
			{"listing/a/", []string{"listing/a/1", "listing/a/10"}},
			{"listing/a/1", []string{"listing/a/1", "listing/a/10"}},
			{"listing/c/", nil},
		} {
			var got []string
			err := s.List(ctx, tc.prefix, func(i Info) error {
				if i.Size != int64(len(i.Key)) {
					t.Errorf("%s: size %d, want %d", i.Key, i.Size, len(i.Key))
				}
				got = append(got, i.Key)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("List(%q) = %v, want %v", tc.prefix, got, tc.want)
			}
		}
		stop := errors.New("stop")
		n := 0
		if err := s.List(ctx, "listing/", func(Info) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
			t.Errorf("List did not stop at fn's error: n=%d err=%v", n, err)
		}
	})

	t.Run("CancelledPut", func(t *testing.T) {
		t.Parallel()
		cctx, cancel := context.WithCancel(ctx)
		r := &genReader{remaining: 8 << 20, onRead: func(n int64) {
			if n > 1<<20 {
				cancel()
			}
		}}
		if _, err := s.Put(cctx, "cancelled/blob", r, -1, ""); !errors.Is(err, context.Canceled) {
			t.Errorf("Put with cancelled context: %v, want context.Canceled", err)
		}
		checkMissing(t, s, "cancelled/blob")
	})

	t.Run("Ping", func(t *testing.T) {
		t.Parallel()
		if err := s.Ping(ctx); err != nil {
			t.Fatal(err)
		}
	})

	// Not parallel: it measures allocations, so runs alone (parallel
	// subtests wait until the serial ones are done).
	t.Run("LargeStreamed", func(t *testing.T) {
		const size = 20 << 20
		// A Put that read the blob into memory would allocate at least its
		// size; a streaming one allocates a small copy buffer (local) or one
		// multipart part plus per-part HTTP and signing buffers (S3). With
		// 16 MiB parts that is close to 20 MiB anyway, so the check is only
		// meaningful for parts well below the blob's size.
		checkAlloc := true
		if s3, ok := s.(*S3); ok && s3.partSize > size/2 {
			checkAlloc = false
		}
		want := genSHA256(size)
		for _, declared := range []int64{size, -1} {
			key := fmt.Sprintf("large/%d", declared+1)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			info, err := s.Put(ctx, key, &genReader{remaining: size}, declared, want)
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatalf("Put(size %d): %v", declared, err)
			}
			checkInfo(t, info, Info{Key: key, Size: size, SHA256: want})
			if alloc := after.TotalAlloc - before.TotalAlloc; checkAlloc && alloc >= size {
				t.Errorf("Put(size %d) allocated %.1f MiB for a %d MiB blob: is it buffering?",
					declared, float64(alloc)/(1<<20), size>>20)
			} else {
				t.Logf("Put(size %d) allocated %.1f MiB", declared, float64(alloc)/(1<<20))
			}

			rc, err := s.Get(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			h := sha256.New()
			n, err := io.Copy(h, rc)
			rc.Close()
			if err != nil || n != size || hex.EncodeToString(h.Sum(nil)) != want {
				t.Fatalf("Get: %d bytes, %v, hash match %v", n, err, hex.EncodeToString(h.Sum(nil)) == want)
			}
		}
	})
}

// TestS3Unavailable points an S3 store at a server that is there but
// failing (503 SlowDown to every request): every operation must say
// ErrUnavailable (so the API can answer 503), and give up after its one
// retry rather than keep a phone's upload waiting through minio-go's
// backoff — counted in requests, not in seconds.
func TestS3Unavailable(t *testing.T) {
	var attempts atomic.Int64
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attempts.Add(1)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>down</Message></Error>`)
	}))
	defer down.Close()
	cfg := S3Config{
		Endpoint:   strings.TrimPrefix(down.URL, "http://"),
		AccessKey:  "nobody",
		SecretKey:  "nothing-here",
		Bucket:     "fv-down",
		MaxRetries: 1,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	if _, err := NewS3(ctx, cfg); !errors.Is(err, ErrUnavailable) {
		t.Errorf("NewS3: %v, want ErrUnavailable", err)
	}
	s, err := newS3(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ops := []struct {
		name string
		do   func() error
	}{
		{"Ping", func() error { return s.Ping(ctx) }},
		{"Put", func() error { _, err := s.Put(ctx, "k", strings.NewReader("data"), 4, ""); return err }},
		{"Put unknown size", func() error { _, err := s.Put(ctx, "k", strings.NewReader("data"), -1, ""); return err }},
		{"Get", func() error { _, err := s.Get(ctx, "k"); return err }},
		{"GetRange", func() error { _, err := s.GetRange(ctx, "k", 1, 2); return err }},
		{"Stat", func() error { _, err := s.Stat(ctx, "k"); return err }},
		{"Delete", func() error { return s.Delete(ctx, "k") }},
	}
	for _, op := range ops {
		before := attempts.Load()
		if err := op.do(); !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s: %v, want ErrUnavailable", op.name, err)
		}
		if n := attempts.Load() - before; n > 2 {
			t.Errorf("%s: %d requests, want at most 2 (MaxRetries 1)", op.name, n)
		}
	}
}

// TestLocalSidecar checks that the local store's hash cache heals: a missing
// or stale sidecar is recomputed from the data.
func TestLocalSidecar(t *testing.T) {
	ctx := context.Background()
	l, err := NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, l, "k", "original", -1, "")

	// Sidecar lost (crash between the data rename and the sidecar write).
	if err := os.Remove(l.metaPath("k")); err != nil {
		t.Fatal(err)
	}
	st, err := l.Stat(ctx, "k")
	if err != nil || st.SHA256 != sha("original") {
		t.Fatalf("Stat without sidecar: %+v, %v", st, err)
	}
	if _, err := os.Stat(l.metaPath("k")); err != nil {
		t.Errorf("sidecar not rewritten: %v", err)
	}

	// Data replaced behind the sidecar's back, same size.
	if err := os.WriteFile(l.dataPath("k"), []byte("replaced"), 0o640); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Hour)
	if err := os.Chtimes(l.dataPath("k"), future, future); err != nil {
		t.Fatal(err)
	}
	if st, err := l.Stat(ctx, "k"); err != nil || st.SHA256 != sha("replaced") {
		t.Fatalf("Stat with stale sidecar: %+v, %v; want hash of the new data", st, err)
	}

	// Nothing is left in the temporary directory.
	if entries, _ := os.ReadDir(l.root + "/" + localTmpDir); len(entries) != 0 {
		t.Errorf("temporary files left: %v", entries)
	}
}

func TestLocalKeyPrefixConflict(t *testing.T) {
	l, err := NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, l, "a/b", "x", 1, "")
	// A file system cannot hold "a" as both a directory and a file.
	if _, err := l.Put(context.Background(), "a", strings.NewReader("y"), 1, ""); err == nil {
		t.Error(`Put("a") over the prefix of "a/b" succeeded`)
	}
	mustPut(t, l, "c", "x", 1, "")
	if _, err := l.Put(context.Background(), "c/d", strings.NewReader("y"), 1, ""); err == nil {
		t.Error(`Put("c/d") under the blob "c" succeeded`)
	}
	if got := mustGet(t, l, "a/b"); got != "x" {
		t.Errorf("a/b = %q", got)
	}
}

func TestValidateKeyMessages(t *testing.T) {
	err := ValidateKey("../etc/passwd")
	if !errors.Is(err, ErrInvalidKey) || !strings.Contains(err.Error(), "..") {
		t.Errorf("ValidateKey(../etc/passwd) = %v", err)
	}
}

// --- helpers ---

// maxLenKey is a valid key of exactly MaxKeyLen bytes.
func maxLenKey() string {
	k := "valid/" + strings.Repeat("abcdefg/", 62)
	return k + strings.Repeat("z", MaxKeyLen-len(k))
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func mustPut(t *testing.T, s Store, key, body string, size int64, wantSHA string) Info {
	t.Helper()
	info, err := s.Put(context.Background(), key, strings.NewReader(body), size, wantSHA)
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
	return info
}

func mustGet(t *testing.T, s Store, key string) string {
	t.Helper()
	rc, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading %q: %v", key, err)
	}
	return string(b)
}

func checkInfo(t *testing.T, got, want Info) {
	t.Helper()
	if got.Key != want.Key || got.Size != want.Size || got.SHA256 != want.SHA256 {
		t.Errorf("Info = {%q %d %s}, want {%q %d %s}", got.Key, got.Size, got.SHA256, want.Key, want.Size, want.SHA256)
	}
	if got.ModTime.IsZero() {
		t.Errorf("Info.ModTime is zero")
	}
}

// checkMissing asserts that key holds nothing, through every read.
func checkMissing(t *testing.T, s Store, key string) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.Stat(ctx, key); !errors.Is(err, ErrNotFound) {
		t.Errorf("Stat(%q): %v, want ErrNotFound", key, err)
	}
	if rc, err := s.Get(ctx, key); !errors.Is(err, ErrNotFound) {
		if rc != nil {
			rc.Close()
		}
		t.Errorf("Get(%q): %v, want ErrNotFound", key, err)
	}
	if rc, err := s.GetRange(ctx, key, 0, 1); !errors.Is(err, ErrNotFound) {
		if rc != nil {
			rc.Close()
		}
		t.Errorf("GetRange(%q): %v, want ErrNotFound", key, err)
	}
}

// genReader yields remaining bytes of a deterministic pseudo-random stream
// without holding them: a stand-in for a large upload.
type genReader struct {
	remaining int64
	state     uint64
	read      int64
	onRead    func(total int64)
}

func (g *genReader) Read(p []byte) (int, error) {
	if g.remaining <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > g.remaining {
		p = p[:g.remaining]
	}
	if g.state == 0 {
		g.state = 0x9e3779b97f4a7c15
	}
	for i := range p {
		// xorshift64
		g.state ^= g.state << 13
		g.state ^= g.state >> 7
		g.state ^= g.state << 17
		p[i] = byte(g.state)
	}
	g.remaining -= int64(len(p))
	g.read += int64(len(p))
	if g.onRead != nil {
		g.onRead(g.read)
	}
	return len(p), nil
}

// genSHA256 is the hash of the first n bytes of a genReader.
func genSHA256(n int64) string {
	h := sha256.New()
	if _, err := io.Copy(h, &genReader{remaining: n}); err != nil {
		panic(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}
