package photoimage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"time"

	"github.com/fieldvisit/fieldvisit/domain"
)

// GenerateOptions describe a synthetic photo for the demo county, tests and
// benchmarks: a real JPEG with real EXIF, distinct per seed.
type GenerateOptions struct {
	Width, Height int
	Seed          int64
	Quality       int // JPEG quality; 85 when zero
	TakenAt       *time.Time
	GPS           *domain.GeoPoint
	Orientation   int // EXIF orientation; omitted when zero
	Label         string
	// Zone is the camera clock's zone, Beijing when nil; NoOffset leaves
	// out the offset tag (OffsetTimeOriginal), as older cameras do.
	Zone     *time.Location
	NoOffset bool
}

// GenerateJPEG draws a scene (sky, fields, a house-like block and sensor
// noise, so it compresses like a photo rather than a flat test card) and
// writes EXIF the way phone cameras do: Make, Model, DateTimeOriginal with
// its offset, and a GPS directory.
func GenerateJPEG(o GenerateOptions) ([]byte, error) {
	if o.Width <= 0 || o.Height <= 0 || o.Width > 8192 || o.Height > 8192 {
		return nil, errors.New("photoimage: generated size must be 1–8192 per side")
	}
	q := o.Quality
	if q == 0 {
		q = 85
	}
	rng := rand.New(rand.NewPCG(uint64(o.Seed), 0x9e3779b97f4a7c15))
	img := image.NewYCbCr(image.Rect(0, 0, o.Width, o.Height), image.YCbCrSubsampleRatio420)
	horizon := o.Height * (35 + rng.IntN(20)) / 100
	hx, hw := rng.IntN(max(1, o.Width/2)), o.Width/4+1
	hy, hh := horizon-o.Height/8, o.Height/4
	sky := color.RGBA{uint8(90 + rng.IntN(60)), uint8(140 + rng.IntN(60)), uint8(200 + rng.IntN(55)), 255}
	field := color.RGBA{uint8(60 + rng.IntN(60)), uint8(110 + rng.IntN(80)), uint8(40 + rng.IntN(40)), 255}
	wall := color.RGBA{uint8(170 + rng.IntN(60)), uint8(150 + rng.IntN(60)), uint8(120 + rng.IntN(60)), 255}
	for y := 0; y < o.Height; y++ {
		for x := 0; x < o.Width; x++ {
			c := field
			switch {
			case x >= hx && x < hx+hw && y >= hy && y < hy+hh:
				c = wall
			case y < horizon:
				c = sky
			}
			shade := int(12*math.Sin(float64(x)/37+float64(y)/53)) + rng.IntN(25) - 12
			yy, cb, cr := color.RGBToYCbCr(clamp(int(c.R)+shade), clamp(int(c.G)+shade), clamp(int(c.B)+shade))
			img.Y[img.YOffset(x, y)] = yy
			ci := img.COffset(x, y)
			img.Cb[ci], img.Cr[ci] = cb, cr
		}
	}
	var enc bytes.Buffer
	if err := jpeg.Encode(&enc, img, &jpeg.Options{Quality: q}); err != nil {
		return nil, err
	}
	app1 := exifAPP1(o)
	out := make([]byte, 0, enc.Len()+len(app1))
	out = append(out, enc.Bytes()[:2]...) // SOI
	out = append(out, app1...)
	out = append(out, enc.Bytes()[2:]...)
	return out, nil
}

func clamp(v int) uint8 { return uint8(min(255, max(0, v))) }

// tiffEntry is one IFD entry before layout.
type tiffEntry struct {
	tag, typ uint16
	count    uint32
	data     []byte // the value bytes; placed inline when ≤ 4
}

const (
	tiffASCII    = 2
	tiffShort    = 3
	tiffLong     = 4
	tiffRational = 5
)

func asciiEntry(tag uint16, s string) tiffEntry {
	return tiffEntry{tag, tiffASCII, uint32(len(s) + 1), append([]byte(s), 0)}
}

func shortEntry(tag uint16, v uint16) tiffEntry {
	return tiffEntry{tag, tiffShort, 1, binary.LittleEndian.AppendUint16(nil, v)}
}

func degreesEntry(tag uint16, deg float64) tiffEntry {
	deg = math.Abs(deg)
	d := math.Floor(deg)
	m := math.Floor((deg - d) * 60)
	s := math.Round(((deg-d)*60-m)*60*10000) / 10000
	var b []byte
	for _, r := range [][2]uint32{{uint32(d), 1}, {uint32(m), 1}, {uint32(s * 10000), 10000}} {
		b = binary.LittleEndian.AppendUint32(b, r[0])
		b = binary.LittleEndian.AppendUint32(b, r[1])
	}
	return tiffEntry{tag, tiffRational, 3, b}
}

// exifAPP1 lays out a little-endian TIFF block — IFD0, then the Exif and
// GPS sub-directories — inside a JPEG APP1 segment.
func exifAPP1(o GenerateOptions) []byte {
	ifd0 := []tiffEntry{asciiEntry(0x010F, "fieldvisit"), asciiEntry(0x0110, "demo camera")}
	if o.Label != "" {
		ifd0 = append([]tiffEntry{asciiEntry(0x010E, o.Label)}, ifd0...)
	}
	if o.Orientation > 0 {
		ifd0 = append(ifd0, shortEntry(0x0112, uint16(o.Orientation)))
	}
	var exifIFD, gpsIFD []tiffEntry
	if o.TakenAt != nil {
		zone := o.Zone
		if zone == nil {
			zone = domain.Shanghai
		}
		t := o.TakenAt.In(zone)
		exifIFD = append(exifIFD, asciiEntry(0x9003, t.Format("2006:01:02 15:04:05")))
		if !o.NoOffset {
			exifIFD = append(exifIFD, asciiEntry(0x9011, t.Format("-07:00")))
		}
	}
	if o.GPS != nil {
		ns, ew := "N", "E"
		if o.GPS.Lat < 0 {
			ns = "S"
		}
		if o.GPS.Lon < 0 {
			ew = "W"
		}
		gpsIFD = []tiffEntry{asciiEntry(0x0001, ns), degreesEntry(0x0002, o.GPS.Lat), asciiEntry(0x0003, ew), degreesEntry(0x0004, o.GPS.Lon)}
	}
	// Offsets are from the TIFF header. Layout: header(8), IFD0, its data,
	// Exif IFD, its data, GPS IFD, its data.
	size := func(es []tiffEntry) int {
		n := 2 + 12*len(es) + 4
		for _, e := range es {
			if len(e.data) > 4 {
				n += len(e.data) + len(e.data)%2
			}
		}
		return n
	}
	ptrs := 0
	if exifIFD != nil {
		ptrs++
	}
	if gpsIFD != nil {
		ptrs++
	}
	ifd0Size := size(ifd0) + 12*ptrs
	exifAt := 8 + ifd0Size
	gpsAt := exifAt
	if exifIFD != nil {
		gpsAt += size(exifIFD)
		ifd0 = append(ifd0, tiffEntry{0x8769, tiffLong, 1, binary.LittleEndian.AppendUint32(nil, uint32(exifAt))})
	}
	if gpsIFD != nil {
		ifd0 = append(ifd0, tiffEntry{0x8825, tiffLong, 1, binary.LittleEndian.AppendUint32(nil, uint32(gpsAt))})
	}
	tiff := []byte("II*\x00\x08\x00\x00\x00")
	tiff = writeIFD(tiff, ifd0)
	if exifIFD != nil {
		tiff = writeIFD(tiff, exifIFD)
	}
	if gpsIFD != nil {
		tiff = writeIFD(tiff, gpsIFD)
	}
	seg := append([]byte("Exif\x00\x00"), tiff...)
	out := []byte{0xFF, 0xE1}
	out = binary.BigEndian.AppendUint16(out, uint16(len(seg)+2))
	return append(out, seg...)
}

// writeIFD appends one directory at the current end of tiff (entries
// sorted by tag as the format requires) followed by its out-of-line data.
func writeIFD(tiff []byte, es []tiffEntry) []byte {
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && es[j].tag < es[j-1].tag; j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
	start := len(tiff)
	dataAt := start + 2 + 12*len(es) + 4
	tiff = binary.LittleEndian.AppendUint16(tiff, uint16(len(es)))
	var data []byte
	for _, e := range es {
		tiff = binary.LittleEndian.AppendUint16(tiff, e.tag)
		tiff = binary.LittleEndian.AppendUint16(tiff, e.typ)
		tiff = binary.LittleEndian.AppendUint32(tiff, e.count)
		if len(e.data) <= 4 {
			v := make([]byte, 4)
			copy(v, e.data)
			tiff = append(tiff, v...)
			continue
		}
		tiff = binary.LittleEndian.AppendUint32(tiff, uint32(dataAt+len(data)))
		data = append(data, e.data...)
		if len(e.data)%2 == 1 {
			data = append(data, 0)
		}
	}
	tiff = binary.LittleEndian.AppendUint32(tiff, 0) // no next IFD
	return append(tiff, data...)
}

// WithMetadata returns jpg with about n bytes of XMP extension segments
// put after its EXIF, as a phone's portrait or motion mode writes a depth
// map or an embedded image's description before the frame: what a bounded
// header read must not mistake for a truncated file.
func WithMetadata(jpg []byte, n int) []byte {
	const ns = "http://ns.adobe.com/xmp/extension/\x00"
	at := 2 // after SOI, and after an EXIF segment right behind it
	if len(jpg) > 6 && jpg[2] == 0xFF && jpg[3] == 0xE1 {
		at = 4 + int(binary.BigEndian.Uint16(jpg[4:]))
	}
	var b bytes.Buffer
	b.Write(jpg[:at])
	for i := 0; n > 0; i++ {
		payload := min(n, 65533-len(ns))
		b.Write([]byte{0xFF, 0xE1})
		_ = binary.Write(&b, binary.BigEndian, uint16(2+len(ns)+payload))
		b.WriteString(ns)
		b.Write(bytes.Repeat([]byte{byte('a' + i%26)}, payload))
		n -= payload
	}
	b.Write(jpg[at:])
	return b.Bytes()
}
