package photoimage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // registered for DecodeConfig and Decode
	_ "image/png"
	"io"
	"math"
	"strings"
	"time"

	"github.com/rwcarlsen/goexif/exif"
	"github.com/rwcarlsen/goexif/tiff"
	_ "golang.org/x/image/webp"

	"github.com/fieldvisit/fieldvisit/domain"
)

// Errors callers map to 4xx answers.
var (
	ErrUnsupportedType = errors.New("not a JPEG, PNG or WebP image")
	ErrTooLarge        = errors.New("image dimensions over the limit")
	ErrCorrupt         = errors.New("image is corrupt")
)

// Limits bound what an image may declare before it is decoded: a 50,000 ×
// 50,000 PNG is a few hundred bytes but ten gigabytes once decoded.
type Limits struct {
	MaxPixels int64 // width × height
	MaxSide   int   // the longer side
}

// DefaultLimits allow every phone camera in use (a 108-megapixel sensor
// saves 12,000 × 9,000 only in its special mode; ordinary photos are 12–50
// MP) while keeping a decode below a few hundred megabytes.
func DefaultLimits() Limits { return Limits{MaxPixels: 64_000_000, MaxSide: 16_384} }

// Info is what the header of an image says.
type Info struct {
	MediaType   string
	Width       int
	Height      int
	Orientation int        // EXIF orientation 1–8; 1 when absent
	TakenAt     *time.Time // EXIF DateTimeOriginal
	GPS         *domain.GeoPoint
	Make        string
	Model       string
}

// Inspect reads the type, dimensions and EXIF of an image from r, which
// need hold only the file's first bytes (EXIF and the frame header sit at
// the start). size is the whole file's length, used for plausibility.
func Inspect(r io.Reader, size int64, lim Limits) (Info, error) {
	head, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return Info{}, err
	}
	return InspectHead(head, size, lim)
}

// InspectHead is Inspect of bytes already in hand (an upload's peeked
// header), without copying them.
func InspectHead(head []byte, size int64, lim Limits) (Info, error) {
	mt, ok := Sniff(head)
	if !ok {
		return Info{MediaType: mt}, ErrUnsupportedType
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(head))
	if err != nil {
		return Info{MediaType: mt}, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if "image/"+format != mt {
		return Info{MediaType: mt}, fmt.Errorf("%w: header says %s", ErrCorrupt, format)
	}
	if err := lim.check(cfg.Width, cfg.Height); err != nil {
		return Info{MediaType: mt}, err
	}
	// A real image needs at least a byte per 5,000 pixels even when flat and
	// at the worst quality; fewer bytes mean a header with nothing behind it.
	if size > 0 && int64(cfg.Width)*int64(cfg.Height) > size*5000 {
		return Info{MediaType: mt}, fmt.Errorf("%w: %d bytes cannot hold %d×%d pixels", ErrCorrupt, size, cfg.Width, cfg.Height)
	}
	info := Info{MediaType: mt, Width: cfg.Width, Height: cfg.Height, Orientation: 1}
	if raw := exifBlock(mt, head); raw != nil && saneExif(raw) {
		readExif(raw, &info)
	}
	return info, nil
}

// JPEGHeaderEnd reports how many of a JPEG's first bytes hold everything
// InspectHead reads — its metadata segments, its frame header and its
// tables, up to the start of the first scan (DecodeConfig reads that far
// when the file has no JFIF segment, as camera files do not) — by walking
// the segment lengths in head. Cameras put hundreds of kilobytes of
// metadata before the frame (a portrait's depth map in XMP, an ICC
// profile), so no fixed window is always enough. With ok false, head ends
// first and end is how far the walk needs bytes next (beyond len(head)),
// or 0 when head is not a JPEG segment chain (the decoder says what is
// wrong with it).
func JPEGHeaderEnd(head []byte) (end int, ok bool) {
	if len(head) < 2 || head[0] != 0xFF || head[1] != 0xD8 {
		return 0, false
	}
	p := 2
	for {
		if p+4 > len(head) {
			return p + 4, false
		}
		if head[p] != 0xFF {
			return 0, false
		}
		switch marker := head[p+1]; {
		case marker == 0xFF: // fill byte before a marker
			p++
			continue
		case marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7): // no length
			p += 2
			continue
		case marker == 0xDA: // start of scan: its marker and length are read
			return p + 4, true
		case marker == 0xD8 || marker == 0xD9:
			return 0, false
		}
		n := int(binary.BigEndian.Uint16(head[p+2:]))
		if n < 2 {
			return 0, false
		}
		p += 2 + n
	}
}

func (l Limits) check(w, h int) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("%w: %d×%d pixels", ErrCorrupt, w, h)
	}
	if (l.MaxSide > 0 && (w > l.MaxSide || h > l.MaxSide)) || (l.MaxPixels > 0 && int64(w)*int64(h) > l.MaxPixels) {
		return fmt.Errorf("%w: %d×%d pixels, at most %d pixels and %d per side", ErrTooLarge, w, h, l.MaxPixels, l.MaxSide)
	}
	return nil
}

// exifBlock finds the EXIF bytes of each format: an APP1 "Exif" segment in
// JPEG, an eXIf chunk in PNG, an EXIF chunk in WebP. It returns nil when
// there is none within head.
func exifBlock(mt string, head []byte) []byte {
	switch mt {
	case "image/jpeg":
		p := 2
		for p+4 <= len(head) && head[p] == 0xFF {
			marker := head[p+1]
			if marker == 0xDA || marker == 0xD9 { // start of scan: no more metadata
				return nil
			}
			n := int(binary.BigEndian.Uint16(head[p+2:]))
			if n < 2 || p+2+n > len(head) {
				return nil
			}
			seg := head[p+4 : p+2+n]
			if marker == 0xE1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
				return seg
			}
			p += 2 + n
		}
	case "image/png":
		p := 8
		for p+12 <= len(head) {
			n := int(binary.BigEndian.Uint32(head[p:]))
			typ := string(head[p+4 : p+8])
			if n < 0 || n > len(head)-p-12 {
				return nil
			}
			if typ == "eXIf" {
				return head[p+8 : p+8+n]
			}
			if typ == "IDAT" || typ == "IEND" {
				return nil
			}
			p += 12 + n
		}
	case "image/webp":
		p := 12
		for p+8 <= len(head) {
			n := int(binary.LittleEndian.Uint32(head[p+4:]))
			if n < 0 || n > len(head)-p-8 {
				return nil
			}
			if string(head[p:p+4]) == "EXIF" {
				return head[p+8 : p+8+n]
			}
			p += 8 + n + n%2
		}
	}
	return nil
}

// readExif fills what it can; EXIF written by cheap phones is often broken
// and a broken EXIF never makes the photo itself invalid, so parse errors
// (and panics inside the parser, which has had them on fuzzed input) only
// mean "no EXIF".
func readExif(raw []byte, info *Info) {
	defer func() { _ = recover() }()
	x, err := exif.Decode(bytes.NewReader(raw))
	if x == nil || (err != nil && exif.IsCriticalError(err)) {
		return
	}
	loadOffsetTags(x)
	if t, ok := exifTime(x); ok {
		info.TakenAt = &t
	}
	if lat, lon, err := x.LatLong(); err == nil && validPosition(lat, lon) {
		info.GPS = &domain.GeoPoint{Lat: lat, Lon: lon}
	}
	info.Make = exifString(x, exif.Make)
	info.Model = exifString(x, exif.Model)
	if tag, err := x.Get(exif.Orientation); err == nil {
		if o, err := tag.Int(0); err == nil && o >= 1 && o <= 8 {
			info.Orientation = o
		}
	}
}

// exifTime reads DateTimeOriginal. EXIF stores wall-clock time; the
// camera's offset from UTC is in OffsetTimeOriginal (EXIF 2.31, written by
// current phones), and a photo without it is read as Beijing time, where
// phones in the field are (the library's own reading would take the
// server's zone). A phone set to another zone would otherwise be flagged
// for a photo taken hours away from its visit.
func exifTime(x *exif.Exif) (time.Time, bool) {
	s, offsetTag := exifString(x, exif.DateTimeOriginal), exifOffsetTimeOriginal
	if s == "" {
		s, offsetTag = exifString(x, exif.DateTime), exifOffsetTime
	}
	zone := domain.Shanghai
	if off, ok := exifOffset(exifString(x, offsetTag)); ok {
		zone = off
	}
	t, err := time.ParseInLocation("2006:01:02 15:04:05", s, zone)
	if err != nil || t.Year() < 2000 || t.Year() > 2200 {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// The offset tags are newer than the EXIF library, which names a tag it
// does not know by its number.
const (
	exifOffsetTime         = exif.FieldName(exif.UnknownPrefix + "9010")
	exifOffsetTimeOriginal = exif.FieldName(exif.UnknownPrefix + "9011")
)

// loadOffsetTags adds the offset tags of the Exif directory to x, which
// the library reads only by the names it knows.
func loadOffsetTags(x *exif.Exif) {
	ptr, err := x.Get(exif.ExifIFDPointer)
	if err != nil {
		return
	}
	at, err := ptr.Int64(0)
	if err != nil || at < 0 || at >= int64(len(x.Raw)) {
		return
	}
	r := bytes.NewReader(x.Raw)
	if _, err := r.Seek(at, io.SeekStart); err != nil {
		return
	}
	if dir, _, err := tiff.DecodeDir(r, x.Tiff.Order); err == nil {
		x.LoadTags(dir, map[uint16]exif.FieldName{0x9010: exifOffsetTime, 0x9011: exifOffsetTimeOriginal}, false)
	}
}

// exifOffset reads an EXIF offset ("+08:00", "-05:30"); an empty, blank
// ("   :  ") or out-of-range one is none.
func exifOffset(s string) (*time.Location, bool) {
	t, err := time.Parse("-07:00", s)
	if err != nil {
		return nil, false
	}
	_, off := t.Zone()
	if off < -12*3600 || off > 14*3600 {
		return nil, false
	}
	return time.FixedZone("", off), true
}

func exifString(x *exif.Exif, name exif.FieldName) string {
	tag, err := x.Get(name)
	if err != nil {
		return ""
	}
	s, err := tag.StringVal()
	if err != nil {
		return ""
	}
	s = strings.TrimSpace(strings.TrimRight(s, "\x00"))
	if !utf8Clean(s) || len(s) > 100 {
		return ""
	}
	return s
}

func utf8Clean(s string) bool {
	return strings.ToValidUTF8(s, "") == s && !strings.ContainsRune(s, 0)
}

func validPosition(lat, lon float64) bool {
	return !math.IsNaN(lat) && !math.IsNaN(lon) && lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 && (lat != 0 || lon != 0)
}
