package ledger

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

// TestParallelDeflateIsOneDeflateStream: whatever the length and however
// it is written, the standard library's inflater reads back exactly what
// went in, across block boundaries, written in one piece or in odd-sized
// writes.
func TestParallelDeflateIsOneDeflateStream(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sheetLike := bytes.Repeat([]byte(`<row r="7"><c r="A7" t="inlineStr"><is><t>走访台账</t></is></c></row>`), 3*deflateBlock/64)
	noise := make([]byte, deflateBlock+777)
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	for _, tc := range []struct {
		name  string
		data  []byte
		write int // bytes a Write call gives at most (0: all at once)
	}{
		{"empty", nil, 0},
		{"one byte", []byte{'x'}, 0},
		{"a block less one", sheetLike[:deflateBlock-1], 0},
		{"exactly a block", sheetLike[:deflateBlock], 0},
		{"a block and one", sheetLike[:deflateBlock+1], 0},
		{"three blocks of sheet XML, odd writes", sheetLike, 4093},
		{"incompressible, odd writes", noise, 100_003},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var zipped bytes.Buffer
			w := newParallelDeflate(&zipped)
			rest := tc.data
			for len(rest) > 0 {
				n := len(rest)
				if tc.write > 0 {
					n = min(n, tc.write)
				}
				if _, err := w.Write(rest[:n]); err != nil {
					t.Fatal(err)
				}
				rest = rest[n:]
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(flate.NewReader(&zipped))
			if err != nil {
				t.Fatalf("inflating: %v", err)
			}
			if !bytes.Equal(got, tc.data) {
				t.Fatalf("read back %d bytes, want %d (equal: false)", len(got), len(tc.data))
			}
		})
	}
}

// brokenWriter takes limit bytes and refuses the rest, as a response
// whose client went away.
type brokenWriter struct{ limit int }

var errGone = errors.New("client gone")

func (b *brokenWriter) Write(p []byte) (int, error) {
	if len(p) > b.limit {
		return 0, errGone
	}
	b.limit -= len(p)
	return len(p), nil
}

// TestParallelDeflateStopsOnAWriteError: once the output refuses a block,
// later writes fail with its error rather than compressing the rest, and
// Close reports it.
func TestParallelDeflateStopsOnAWriteError(t *testing.T) {
	w := newParallelDeflate(&brokenWriter{limit: 10})
	block := bytes.Repeat([]byte("帮扶"), deflateBlock/6)
	var err error
	for i := 0; i < 50 && err == nil; i++ {
		_, err = w.Write(block)
	}
	if !errors.Is(err, errGone) {
		t.Fatalf("writing on after the output failed: %v, want %v", err, errGone)
	}
	if err := w.Close(); !errors.Is(err, errGone) {
		t.Fatalf("Close: %v, want %v", err, errGone)
	}
}
