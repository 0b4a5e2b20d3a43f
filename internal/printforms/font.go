package printforms

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"io"
	"sync"
)

// The font is WenQuanYi Micro Hei 0.2.0-beta (Apache-2.0; the first face
// of Debian's fonts-wqy-microhei TTC, saved as a TTF: docs/third-party.md):
// a TrueType (glyf) font with the CJK glyphs of Droid Sans Fallback and
// the Latin letters and digits of Droid Sans, which the fallback alone
// lacks. The PDF library subsets it, so a form carries only the glyphs it
// uses (tens of kilobytes) instead of the font's 4.6 MB. It is kept
// gzipped (2.1 MB in the binary) and unpacked once per process.
//
//go:embed fonts/wqy-microhei.ttf.gz
var fontGz []byte

// fontFamily is the family name the documents register the font under.
const fontFamily = "wqymicrohei"

var cjkFont = sync.OnceValues(func() ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(fontGz))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
})
