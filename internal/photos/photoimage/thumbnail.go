package photoimage

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"io"

	"golang.org/x/image/draw"
)

// Thumbnail decodes an image (refusing it first if its header declares more
// pixels than lim allows), turns it upright by its EXIF orientation and
// scales it to fit side × side, as a JPEG.
func Thumbnail(r io.Reader, lim Limits, side int) ([]byte, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	head, _ := br.Peek(1 << 20) // a short file gives what it has; Inspect judges it
	info, err := Inspect(bytes.NewReader(head), 0, lim)
	if err != nil {
		return nil, err
	}
	src, _, err := image.Decode(br)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	// Scale first, then turn: turning the small image is cheap. A kernel
	// scaler keeps a float buffer of (target width × source height), 19 MB
	// for a 12-megapixel photo, so the photo is first halved cheaply down to
	// twice the target and only that is filtered properly.
	tw, th := fit(src.Bounds().Dx(), src.Bounds().Dy(), side)
	if mw, mh := 2*tw, 2*th; mw < src.Bounds().Dx() && mh < src.Bounds().Dy() {
		mid := image.NewRGBA(image.Rect(0, 0, mw, mh))
		draw.ApproxBiLinear.Scale(mid, mid.Bounds(), src, src.Bounds(), draw.Src, nil)
		src = mid
	}
	small := image.NewRGBA(image.Rect(0, 0, tw, th))
	draw.CatmullRom.Scale(small, small.Bounds(), src, src.Bounds(), draw.Src, nil)
	dst := orient(small, info.Orientation)
	var out bytes.Buffer
	if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: 80}); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func fit(w, h, side int) (int, int) {
	if w <= side && h <= side {
		return w, h
	}
	if w >= h {
		return side, max(1, h*side/w)
	}
	return max(1, w*side/h), side
}

// orient returns src turned by EXIF orientation o (2–8 mirror and/or rotate;
// 1 is upright).
func orient(src image.Image, o int) image.Image {
	if o <= 1 || o > 8 {
		return src
	}
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var dx, dy int
			switch o {
			case 2:
				dx, dy = w-1-x, y
			case 3:
				dx, dy = w-1-x, h-1-y
			case 4:
				dx, dy = x, h-1-y
			case 5:
				dx, dy = y, x
			case 6:
				dx, dy = h-1-y, x
			case 7:
				dx, dy = h-1-y, w-1-x
			case 8:
				dx, dy = y, w-1-x
			}
			dst.Set(dx, dy, src.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	return dst
}
