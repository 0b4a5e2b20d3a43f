package photoimage

import "bytes"

// Sniff names the image type of a file from its first bytes. ok is false
// for anything fieldvisit cannot read; mt is still set when the type is a
// known image we refuse (HEIC from iPhones: no maintained pure-Go decoder
// exists, so the phone app converts to JPEG before upload), so the caller
// can say so instead of "not an image".
func Sniff(head []byte) (mt string, ok bool) {
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}):
		return "image/jpeg", true
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png", true
	case len(head) >= 12 && string(head[0:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return "image/webp", true
	case len(head) >= 12 && string(head[4:8]) == "ftyp":
		switch string(head[8:12]) {
		case "heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1":
			return "image/heic", false
		case "avif", "avis":
			return "image/avif", false
		}
	case bytes.HasPrefix(head, []byte("GIF87a")), bytes.HasPrefix(head, []byte("GIF89a")):
		return "image/gif", false
	case bytes.HasPrefix(head, []byte("BM")) && len(head) >= 26:
		return "image/bmp", false
	case bytes.HasPrefix(head, []byte("II*\x00")), bytes.HasPrefix(head, []byte("MM\x00*")):
		return "image/tiff", false
	}
	return "", false
}
