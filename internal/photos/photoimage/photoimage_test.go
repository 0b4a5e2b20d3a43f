package photoimage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/jpeg"
	"image/png"
	"math"
	"testing"
	"time"

	"github.com/fieldvisit/fieldvisit/domain"
)

func TestSniff(t *testing.T) {
	jpg := mustGenerate(t, GenerateOptions{Width: 32, Height: 24, Seed: 1})
	for _, tc := range []struct {
		name string
		head []byte
		mt   string
		ok   bool
	}{
		{"jpeg", jpg, "image/jpeg", true},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00"), "image/png", true},
		{"webp", []byte("RIFF\x10\x00\x00\x00WEBPVP8 "), "image/webp", true},
		{"heic is named but refused", []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00"), "image/heic", false},
		{"gif is named but refused", []byte("GIF89a\x01\x00"), "image/gif", false},
		{"text named .jpg", []byte("hello, this is not a photo"), "", false},
		{"empty", nil, "", false},
		{"two bytes of a JPEG", []byte{0xFF, 0xD8}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mt, ok := Sniff(tc.head)
			if mt != tc.mt || ok != tc.ok {
				t.Fatalf("Sniff = %q, %v; want %q, %v", mt, ok, tc.mt, tc.ok)
			}
		})
	}
}

func TestGeneratedEXIFReadsBack(t *testing.T) {
	at := time.Date(2026, 11, 3, 9, 41, 7, 0, domain.Shanghai)
	where := &domain.GeoPoint{Lat: 33.123456, Lon: 108.654321}
	b := mustGenerate(t, GenerateOptions{Width: 640, Height: 480, Seed: 7, TakenAt: &at, GPS: where, Label: "走访"})
	info, err := Inspect(bytes.NewReader(b), int64(len(b)), DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if info.MediaType != "image/jpeg" || info.Width != 640 || info.Height != 480 {
		t.Fatalf("info = %+v", info)
	}
	if info.TakenAt == nil || !info.TakenAt.Equal(at) {
		t.Fatalf("TakenAt = %v, want %v", info.TakenAt, at)
	}
	if info.GPS == nil || math.Abs(info.GPS.Lat-where.Lat) > 1e-5 || math.Abs(info.GPS.Lon-where.Lon) > 1e-5 {
		t.Fatalf("GPS = %+v, want %+v", info.GPS, where)
	}
	if info.Make != "fieldvisit" || info.Model != "demo camera" {
		t.Fatalf("camera = %q %q", info.Make, info.Model)
	}
	if _, err := jpeg.Decode(bytes.NewReader(b)); err != nil {
		t.Fatalf("generated JPEG does not decode: %v", err)
	}
	if c := mustGenerate(t, GenerateOptions{Width: 640, Height: 480, Seed: 8, TakenAt: &at, GPS: where}); bytes.Equal(b, c) {
		t.Fatal("different seeds gave the same bytes")
	}
}

// The camera's clock zone: the offset tag when the photo has one, else
// Beijing time.
func TestPhotoTimeReadsTheCamerasOffset(t *testing.T) {
	at := time.Date(2026, 11, 3, 9, 41, 7, 0, domain.Shanghai)
	for _, tc := range []struct {
		name     string
		zone     *time.Location
		noOffset bool
		want     time.Time
	}{
		{"Beijing, with its offset", nil, false, at},
		{"a phone set to another zone, with its offset", time.FixedZone("", -7*3600), false, at},
		{"a half-hour zone", time.FixedZone("", 5*3600+1800), false, at},
		{"no offset: Beijing", nil, true, at},
		// Without the offset the wall clock is all there is: 02:41 read
		// as Beijing time is seven hours after the moment.
		{"another zone, no offset: its wall clock as Beijing time", time.FixedZone("", 0), true, at.Add(-8 * time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := mustGenerate(t, GenerateOptions{Width: 64, Height: 64, Seed: 3, TakenAt: &at, Zone: tc.zone, NoOffset: tc.noOffset})
			info, err := Inspect(bytes.NewReader(b), int64(len(b)), DefaultLimits())
			if err != nil || info.TakenAt == nil || !info.TakenAt.Equal(tc.want) {
				t.Fatalf("TakenAt = %v (%v), want %v", info.TakenAt, err, tc.want)
			}
		})
	}
}

func TestEXIFOffsets(t *testing.T) {
	for _, tc := range []struct {
		in   string
		ok   bool
		secs int
	}{
		{"+08:00", true, 8 * 3600}, {"-05:30", true, -(5*3600 + 1800)}, {"+00:00", true, 0},
		{"", false, 0}, {"   :  ", false, 0}, {"+8", false, 0}, {"+15:00", false, 0}, {"-13:00", false, 0},
	} {
		loc, ok := exifOffset(tc.in)
		if ok != tc.ok {
			t.Fatalf("exifOffset(%q) ok = %v, want %v", tc.in, ok, tc.ok)
		}
		if ok {
			if _, off := time.Date(2026, 1, 1, 0, 0, 0, 0, loc).Zone(); off != tc.secs {
				t.Fatalf("exifOffset(%q) = %d s, want %d", tc.in, off, tc.secs)
			}
		}
	}
}

func TestSouthWestPositionKeepsSigns(t *testing.T) {
	where := &domain.GeoPoint{Lat: -12.5, Lon: -77.25}
	b := mustGenerate(t, GenerateOptions{Width: 64, Height: 64, Seed: 1, GPS: where})
	info, err := Inspect(bytes.NewReader(b), int64(len(b)), DefaultLimits())
	if err != nil || info.GPS == nil || math.Abs(info.GPS.Lat+12.5) > 1e-5 || math.Abs(info.GPS.Lon+77.25) > 1e-5 {
		t.Fatalf("GPS = %+v, %v", info.GPS, err)
	}
	if info.TakenAt != nil {
		t.Fatalf("no time was written, got %v", info.TakenAt)
	}
}

// pngHeader is a PNG declaring w×h pixels with (almost) no data behind it.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		b.Write(binary.BigEndian.AppendUint32(nil, uint32(len(data))))
		c := crc32.NewIEEE()
		c.Write([]byte(typ))
		c.Write(data)
		b.WriteString(typ)
		b.Write(data)
		b.Write(binary.BigEndian.AppendUint32(nil, c.Sum32()))
	}
	ihdr := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, w), h)
	chunk("IHDR", append(ihdr, 8, 6, 0, 0, 0))
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	chunk("IEND", nil)
	return b.Bytes()
}

func TestInspectRefuses(t *testing.T) {
	jpg := mustGenerate(t, GenerateOptions{Width: 320, Height: 240, Seed: 3})
	for _, tc := range []struct {
		name string
		body []byte
		size int64
		want error
	}{
		{"image bomb 50,000 × 50,000", pngHeader(50000, 50000), 100, ErrTooLarge},
		{"one side too long", pngHeader(20000, 10), 100, ErrTooLarge},
		{"zero width", pngHeader(0, 10), 100, ErrCorrupt},
		{"header with nothing behind it", pngHeader(6000, 6000), 60, ErrCorrupt},
		{"text named .jpg", []byte("just some text, honestly"), 24, ErrUnsupportedType},
		{"JPEG cut inside its header", jpg[:40], 40, ErrCorrupt},
		{"HEIC", []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), 24, ErrUnsupportedType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Inspect(bytes.NewReader(tc.body), tc.size, DefaultLimits())
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestThumbnail(t *testing.T) {
	for _, tc := range []struct {
		name               string
		w, h, orientation  int
		wantW, wantH, side int
	}{
		{"landscape scaled to fit", 1200, 900, 0, 320, 240, 320},
		{"portrait by EXIF orientation 6 turns upright", 1200, 900, 6, 240, 320, 320},
		{"orientation 3 keeps the shape", 900, 600, 3, 320, 213, 320},
		{"small image is not enlarged", 100, 80, 0, 100, 80, 320},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := mustGenerate(t, GenerateOptions{Width: tc.w, Height: tc.h, Seed: 5, Orientation: tc.orientation})
			th, err := Thumbnail(bytes.NewReader(b), DefaultLimits(), tc.side)
			if err != nil {
				t.Fatal(err)
			}
			img, err := jpeg.Decode(bytes.NewReader(th))
			if err != nil {
				t.Fatal(err)
			}
			if got := img.Bounds().Size(); got != image.Pt(tc.wantW, tc.wantH) {
				t.Fatalf("thumbnail is %v, want %dx%d", got, tc.wantW, tc.wantH)
			}
		})
	}
}

func TestThumbnailOfPNGAndCorrupt(t *testing.T) {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 400, 100))); err != nil {
		t.Fatal(err)
	}
	if _, err := Thumbnail(bytes.NewReader(b.Bytes()), DefaultLimits(), 200); err != nil {
		t.Fatalf("PNG thumbnail: %v", err)
	}
	jpg := mustGenerate(t, GenerateOptions{Width: 400, Height: 300, Seed: 9})
	broken := append([]byte{}, jpg[:len(jpg)/2]...)
	if _, err := Thumbnail(bytes.NewReader(broken), DefaultLimits(), 200); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("truncated JPEG: err = %v, want ErrCorrupt", err)
	}
	if _, err := Thumbnail(bytes.NewReader(pngHeader(50000, 50000)), DefaultLimits(), 200); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("bomb: err = %v, want ErrTooLarge", err)
	}
}

// FuzzInspect: no input makes Inspect panic or answer outside its errors.
func FuzzInspect(f *testing.F) {
	f.Add(mustGenerate(f, GenerateOptions{Width: 16, Height: 16, Seed: 1, GPS: &domain.GeoPoint{Lat: 30, Lon: 110}}))
	f.Add(pngHeader(10, 10))
	f.Add([]byte("RIFF\x10\x00\x00\x00WEBPVP8 "))
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := Inspect(bytes.NewReader(b), int64(len(b)), DefaultLimits())
		if err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrUnsupportedType) {
			t.Fatalf("unexpected error kind: %v", err)
		}
		if err == nil && (info.Width <= 0 || info.Height <= 0) {
			t.Fatalf("accepted %dx%d", info.Width, info.Height)
		}
	})
}

func mustGenerate(tb testing.TB, o GenerateOptions) []byte {
	tb.Helper()
	b, err := GenerateJPEG(o)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestJPEGHeaderEnd: the header is found whole past any amount of
// metadata, a head cut before it asks for the bytes it needs next, and what
// is no JPEG segment chain is left to the decoder.
func TestJPEGHeaderEnd(t *testing.T) {
	at := time.Date(2026, 11, 20, 9, 40, 0, 0, domain.Shanghai)
	plain := mustGenerate(t, GenerateOptions{Width: 320, Height: 240, Seed: 5, TakenAt: &at})
	for _, tc := range []struct {
		name     string
		metadata int
	}{
		{"camera JPEG", 0},
		{"200 KB of XMP before the frame", 200_000},
		{"3 MB of XMP before the frame", 3_000_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			jpg := WithMetadata(plain, tc.metadata)
			end, ok := JPEGHeaderEnd(jpg)
			if !ok || end <= tc.metadata || end > tc.metadata+10_000 {
				t.Fatalf("JPEGHeaderEnd = %d, %v; want the first scan just past %d bytes of metadata", end, ok, tc.metadata)
			}
			info, err := InspectHead(jpg[:end], int64(len(jpg)), DefaultLimits())
			if err != nil || info.Width != 320 || info.Height != 240 || info.TakenAt == nil || !info.TakenAt.Equal(at) {
				t.Errorf("InspectHead of the first %d bytes = %+v, %v", end, info, err)
			}
			for _, cut := range []int{3, end / 2, end - 1} {
				if need, ok := JPEGHeaderEnd(jpg[:cut]); ok || need <= cut || need > end {
					t.Errorf("cut at %d: JPEGHeaderEnd = %d, %v; want more bytes needed, at most %d", cut, need, ok, end)
				}
			}
		})
	}
	for name, b := range map[string][]byte{"PNG": pngHeader(10, 10), "text": []byte("hello")} {
		if end, ok := JPEGHeaderEnd(b); ok || end != 0 {
			t.Errorf("%s: JPEGHeaderEnd = %d, %v; want 0, false", name, end, ok)
		}
	}
}
