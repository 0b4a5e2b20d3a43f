// Package photoimage owns what fieldvisit knows about image bytes: telling
// JPEG, PNG and WebP apart from anything else by their first bytes, reading
// dimensions before anything is decoded (so an image bomb is refused for the
// price of its header), reading EXIF time and position, and making
// thumbnails. It knows nothing of HTTP, databases or blob stores; callers
// hand it readers and bounded byte slices.
package photoimage
