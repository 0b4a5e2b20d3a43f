package blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
)

// TestS3DirectPut covers the photo path of S3.Put: a declared hash and a
// known size go in one PutObject to the final key, checked by the server
// (x-amz-checksum-sha256) and by our reader before the last bytes leave
// (the size always, the hash when the server does not check it).
func TestS3DirectPut(t *testing.T) {
	s := newTestS3(t, 0)
	ctx := context.Background()
	body := photoLike(300 << 10)
	want := hexSHA(body)

	t.Run("StoredWithChecksumAndMetadata", func(t *testing.T) {
		key := "photos/" + want[:2] + "/" + want
		info, err := s.Put(ctx, key, bytes.NewReader(body), int64(len(body)), want)
		if err != nil {
			t.Fatal(err)
		}
		checkInfo(t, info, Info{Key: key, Size: int64(len(body)), SHA256: want})
		st, err := s.Stat(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		checkInfo(t, st, Info{Key: key, Size: int64(len(body)), SHA256: want})
		// The server kept the checksum we declared: the object came from
		// the direct PUT, not from a copy of a temporary object.
		oi, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{Checksum: true})
		if err != nil {
			t.Fatal(err)
		}
		if got := oi.ChecksumSHA256; got != b64SHA(body) {
			t.Errorf("stored x-amz-checksum-sha256 = %q, want %q", got, b64SHA(body))
		}
		if got := mustGet(t, s, key); got != string(body) {
			t.Errorf("Get returned %d bytes, not the body", len(got))
		}
	})

	// NewS3 found that MinIO checks x-amz-checksum-sha256, so the direct
	// Put leaves the hash to it (and checks the size itself).
	if !s.serverChecksums {
		t.Error("the probe did not find that MinIO refuses a body that does not match x-amz-checksum-sha256")
	}
	probed := s.serverChecksums

	// A mismatching body leaves no object under the key and no temporary
	// object anywhere, whatever is wrong with it: with the hash checked by
	// the server alone (as probed) and by our reader too (a server that
	// ignores the header).
	for _, mode := range []struct {
		name            string
		serverChecksums bool
	}{{"ServerHashes", probed}, {"WeHashToo", false}} {
		s.serverChecksums = mode.serverChecksums
		for _, tc := range []struct {
			name    string
			body    []byte
			size    int64
			sha     string
			wantErr error
		}{
			{"wrong-hash", body, int64(len(body)), hexSHA([]byte("another photo")), ErrHashMismatch},
			{"last-byte-flipped", flipLast(body), int64(len(body)), want, ErrHashMismatch},
			{"body-shorter", body[:len(body)-1], int64(len(body)), want, ErrSizeMismatch},
			// The first size bytes do hash to the declared value, so only our
			// own check can refuse this one: the server would see a good body.
			{"body-longer", append(append([]byte{}, body...), 'x'), int64(len(body)), want, ErrSizeMismatch},
			{"body-much-longer", append(append([]byte{}, body...), body...), int64(len(body)), want, ErrSizeMismatch},
		} {
			t.Run(mode.name+"/Mismatch/"+tc.name, func(t *testing.T) {
				key := "mismatch/" + tc.name
				_, err := s.Put(ctx, key, bytes.NewReader(tc.body), tc.size, tc.sha)
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Put: %v, want %v", err, tc.wantErr)
				}
				checkMissing(t, s, key)
				// Through a reader that is neither a ReaderAt nor a Seeker
				// (like an HTTP request body) too.
				_, err = s.Put(ctx, key, io.MultiReader(bytes.NewReader(tc.body)), tc.size, tc.sha)
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Put (plain reader): %v, want %v", err, tc.wantErr)
				}
				checkMissing(t, s, key)
			})
		}

		t.Run(mode.name+"/MismatchKeepsOldBlob", func(t *testing.T) {
			key := "mismatch/keeps-old"
			mustPut(t, s, key, "version 1", 9, sha("version 1"))
			if _, err := s.Put(ctx, key, strings.NewReader("version 2"), 9, sha("version 1")); !errors.Is(err, ErrHashMismatch) {
				t.Fatalf("Put: %v, want ErrHashMismatch", err)
			}
			if got := mustGet(t, s, key); got != "version 1" {
				t.Fatalf("Get = %q, want the old blob", got)
			}
		})
	}
	s.serverChecksums = probed

	// The server's half of the guarantee on its own: a PutObject whose
	// x-amz-checksum-sha256 does not match the body is refused by MinIO and
	// stores nothing (so a body changed in transit cannot be stored).
	t.Run("ServerVerifiesChecksumHeader", func(t *testing.T) {
		key := "mismatch/server-check"
		_, err := s.checksummed.PutObject(ctx, s.bucket, key, bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{
			UserMetadata:         map[string]string{s3MetaSHA: want, s3ChecksumSHA: b64SHA(flipLast(body))},
			DisableMultipart:     true,
			DisableContentSha256: true,
		})
		if err == nil {
			t.Fatal("MinIO accepted a body that does not match x-amz-checksum-sha256")
		}
		t.Logf("MinIO refused it: %v", err)
		checkMissing(t, s, key)
	})

	checkNoTemps(t, s)
}

// photoLike is n deterministic pseudo-random bytes.
func photoLike(n int) []byte {
	b := make([]byte, n)
	if _, err := io.ReadFull(&genReader{remaining: int64(n)}, b); err != nil {
		panic(err)
	}
	return b
}

func flipLast(b []byte) []byte {
	c := append([]byte{}, b...)
	c[len(c)-1] ^= 0xff
	return c
}

func hexSHA(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func b64SHA(b []byte) string {
	h := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(h[:])
}
