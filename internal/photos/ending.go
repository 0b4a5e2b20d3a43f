package photos

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/fieldvisit/fieldvisit/internal/photos/photoimage"
)

// Bounded reads of a stored photo: EXIF and the image header sit in the
// first bytes; the file's ending shows whether it was cut short. A JPEG
// whose metadata runs past headerBytes (a portrait's depth map) is read on
// to its first scan, up to maxJPEGHeader.
const (
	headerBytes   = 128 << 10
	maxJPEGHeader = 4 << 20
	trailerBytes  = 1 << 20
)

// errHeaderTooLarge is a JPEG whose header ends past maxJPEGHeader.
var errHeaderTooLarge = fmt.Errorf("%w: the metadata before the image runs past %d MB", photoimage.ErrCorrupt, maxJPEGHeader>>20)

// readJPEGHead reads a JPEG from r up to its first scan (see
// photoimage.JPEGHeaderEnd) and returns every byte it read; a stream that
// ends first, or is no segment chain, returns what there was, for the
// decoder to judge.
func readJPEGHead(r io.Reader) ([]byte, error) {
	buf := make([]byte, 0, headerBytes)
	for {
		end, ok := photoimage.JPEGHeaderEnd(buf)
		switch {
		case ok || (end == 0 && len(buf) >= 2):
			return buf, nil
		case end > maxJPEGHeader:
			return nil, errHeaderTooLarge
		}
		want := max(end, len(buf)+4, 2)
		buf = slices.Grow(buf, want-len(buf))
		n, err := io.ReadFull(r, buf[len(buf):want])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// eoi is the JPEG end-of-image marker.
var eoi = []byte{0xFF, 0xD9}

var pngEnd = []byte{0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82}

// errTruncated is a file whose ending is missing.
var errTruncated = errors.New("the file ends before the image does (truncated)")

// checkEnding tells a complete image from one cut short without decoding
// it or holding more than a small buffer; tail opens a range of the stored
// file:
//   - JPEG: an end-of-image marker (FF D9) in the last trailerBytes. Inside
//     compressed data an FF is always followed by 00 or a restart marker, so
//     a file cut mid-scan has none; cameras that append data after the image
//     (motion photos) keep their marker within that window in practice.
//   - PNG: the file ends with the IEND chunk.
//   - WebP: the RIFF header's length matches the size.
func checkEnding(mediaType string, head []byte, size int64, tail func(off, n int64) (io.ReadCloser, error)) error {
	// The stored file's last bytes go through the same tracker a direct
	// upload streams through, placed where they sit in the file.
	var n int64
	switch mediaType {
	case "image/jpeg":
		n = min(size, trailerBytes)
	case "image/png":
		n = min(size, int64(len(pngEnd)))
	}
	t := newEndingTracker(nil)
	t.n = size - n
	if n > 0 {
		rc, err := tail(size-n, n)
		if err != nil {
			return err
		}
		defer rc.Close()
		t.r = rc
		if _, err := io.Copy(io.Discard, t); err != nil {
			return err
		}
	}
	return t.check(mediaType, head)
}

func readAllBounded(r io.Reader, n int64) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r, n))
}

// endingTracker watches a photo stream go by and remembers what the ending
// checks need, so a direct upload is judged without reading the stored
// bytes back: where the last JPEG end-of-image marker ended and the last
// bytes of the stream.
type endingTracker struct {
	r       io.Reader
	n       int64
	lastEOI int64 // offset just past the last FF D9; -1 when none
	prevFF  bool
	last    [12]byte
	lastN   int
}

func newEndingTracker(r io.Reader) *endingTracker { return &endingTracker{r: r, lastEOI: -1} }

func (t *endingTracker) Read(b []byte) (int, error) {
	n, err := t.r.Read(b)
	chunk := b[:n]
	if n > 0 {
		if t.prevFF && chunk[0] == 0xD9 { // a marker split across reads
			t.lastEOI = t.n + 1
		}
		// Forward, not bytes.LastIndex: Index finds a two-byte pattern
		// with vector instructions, LastIndex hashes every byte
		// (Rabin-Karp), and this runs over every byte of every upload.
		// FF D9 is rare (an FF in JPEG data is followed by 00 or a
		// restart marker), so the loop turns round a few times at most.
		for off := 0; ; {
			i := bytes.Index(chunk[off:], eoi)
			if i < 0 {
				break
			}
			off += i + 2
			t.lastEOI = t.n + int64(off)
		}
		t.prevFF = chunk[n-1] == 0xFF
	}
	t.n += int64(n)
	if n >= len(t.last) {
		copy(t.last[:], b[n-len(t.last):n])
		t.lastN = len(t.last)
	} else if n > 0 {
		keep := min(t.lastN, len(t.last)-n)
		copy(t.last[:], t.last[t.lastN-keep:t.lastN])
		copy(t.last[keep:], b[:n])
		t.lastN = keep + n
	}
	return n, err
}

// check applies checkEnding's rules to what went by.
func (t *endingTracker) check(mediaType string, head []byte) error {
	switch mediaType {
	case "image/jpeg":
		if t.lastEOI < 0 || t.lastEOI < t.n-trailerBytes {
			return errTruncated
		}
	case "image/png":
		if t.lastN < len(pngEnd) || !bytes.Equal(t.last[:t.lastN], pngEnd) {
			return errTruncated
		}
	case "image/webp":
		if len(head) < 12 || int64(binary.LittleEndian.Uint32(head[4:8]))+8 > t.n {
			return errTruncated
		}
	}
	return nil
}
