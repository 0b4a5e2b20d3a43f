package photos

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"

	"github.com/fieldvisit/fieldvisit/internal/photos/photoimage"
)

// chunked reads r in random small pieces, as a slow link delivers them.
type chunked struct {
	r   io.Reader
	rng *rand.Rand
}

func (c chunked) Read(b []byte) (int, error) {
	return c.r.Read(b[:min(len(b), 1+c.rng.IntN(40))])
}

// TestStreamedEndingMatchesStoredEnding: judging a photo's ending as it
// streams by gives the same answer as reading the stored file's ending.
func TestStreamedEndingMatchesStoredEnding(t *testing.T) {
	jpg, err := photoimage.GenerateJPEG(photoimage.GenerateOptions{Width: 320, Height: 240, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{1}, 100)...)
	png = append(png, pngEnd...)
	webp := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, 40)...)
	webp = append(webp, []byte("WEBPVP8 ")...)
	webp = append(webp, bytes.Repeat([]byte{0}, 32)...)
	for _, tc := range []struct {
		name, mt  string
		b         []byte
		truncated bool
	}{
		{"whole JPEG", "image/jpeg", jpg, false},
		{"JPEG cut in its scan", "image/jpeg", jpg[:len(jpg)/2], true},
		{"JPEG with bytes after its end (motion photo)", "image/jpeg", append(append([]byte{}, jpg...), bytes.Repeat([]byte{7}, 5000)...), false},
		{"whole PNG", "image/png", png, false},
		{"PNG without IEND", "image/png", png[:len(png)-3], true},
		{"whole WebP", "image/webp", webp, false},
		{"WebP shorter than its header says", "image/webp", webp[:30], true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stored := checkEnding(tc.mt, tc.b, int64(len(tc.b)), func(off, n int64) (io.ReadCloser, error) {
				return io.NopCloser(bytes.NewReader(tc.b[off : off+n])), nil
			})
			tr := newEndingTracker(chunked{iotest.HalfReader(bytes.NewReader(tc.b)), rand.New(rand.NewPCG(1, 2))})
			if _, err := io.Copy(io.Discard, tr); err != nil {
				t.Fatal(err)
			}
			streamed := tr.check(tc.mt, tc.b)
			// One byte at a time: every marker is split across reads.
			bytewise := newEndingTracker(iotest.OneByteReader(bytes.NewReader(tc.b)))
			if _, err := io.Copy(io.Discard, bytewise); err != nil {
				t.Fatal(err)
			}
			split := bytewise.check(tc.mt, tc.b)
			if errors.Is(stored, errTruncated) != tc.truncated || errors.Is(streamed, errTruncated) != tc.truncated || errors.Is(split, errTruncated) != tc.truncated {
				t.Fatalf("stored ending: %v, streamed ending: %v, byte by byte: %v, want truncated=%v", stored, streamed, split, tc.truncated)
			}
		})
	}
}

// BenchmarkEndingTracker: the ending scan runs over every byte of every
// upload, so it must keep up with SHA-256 (B3).
func BenchmarkEndingTracker(b *testing.B) {
	jpg, err := photoimage.GenerateJPEG(photoimage.GenerateOptions{Width: 2480, Height: 1860, Seed: 1, Quality: 95})
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 32<<10)
	b.SetBytes(int64(len(jpg)))
	for b.Loop() {
		tr := newEndingTracker(bytes.NewReader(jpg))
		if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{tr}, buf); err != nil {
			b.Fatal(err)
		}
		if err := tr.check("image/jpeg", jpg); err != nil {
			b.Fatal(err)
		}
	}
}
