package photoimage

import (
	"bytes"
	"encoding/binary"
)

// tiffTypeSize is the byte size of each TIFF field type (1–12).
var tiffTypeSize = [13]uint64{0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8}

// saneExif walks an EXIF block's TIFF directories before the EXIF library
// sees it. The library trusts counts (a count of 2³¹ makes it allocate
// gigabytes) and follows IFD chains that loop back (it hangs), so a block
// whose every directory and value does not lie inside the bytes given, or
// that visits a directory twice, is treated as no EXIF at all.
func saneExif(raw []byte) bool {
	raw = bytes.TrimPrefix(raw, []byte("Exif\x00\x00"))
	if len(raw) < 8 || len(raw) > 1<<20 {
		return false
	}
	var bo binary.ByteOrder
	switch string(raw[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return false
	}
	size := uint64(len(raw))
	seen := map[uint32]bool{}
	pending := []uint32{bo.Uint32(raw[4:])}
	for len(pending) > 0 {
		off := pending[0]
		pending = pending[1:]
		if off == 0 {
			continue
		}
		if seen[off] || len(seen) >= 8 || uint64(off)+2 > size {
			return false
		}
		seen[off] = true
		n := uint64(bo.Uint16(raw[off:]))
		end := uint64(off) + 2 + 12*n
		if end+4 > size {
			return false
		}
		for i := uint64(0); i < n; i++ {
			e := raw[uint64(off)+2+12*i:]
			tag, typ, count := bo.Uint16(e), bo.Uint16(e[2:]), uint64(bo.Uint32(e[4:]))
			if typ == 0 || typ > 12 {
				return false
			}
			valLen := tiffTypeSize[typ] * count
			if valLen > size || valLen == 0 {
				return false
			}
			if valLen > 4 && uint64(bo.Uint32(e[8:]))+valLen > size {
				return false
			}
			switch tag {
			case 0x8769, 0x8825, 0xA005: // Exif, GPS and interoperability sub-directories
				if typ != 4 || count != 1 {
					return false
				}
				pending = append(pending, bo.Uint32(e[8:]))
			}
		}
		pending = append(pending, bo.Uint32(raw[end:]))
	}
	return true
}
