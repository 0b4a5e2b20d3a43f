// Package photos owns visit photos as evidence: taking them in (one
// streamed PUT, resumable chunks, or a presigned POST straight to S3),
// keeping their bytes once under their SHA-256, reading them back to the
// people allowed to see them, making thumbnails, and judging each visit's
// proof of presence (evidence flags) as visits and photos arrive.
//
// The bytes never sit whole in memory: uploads stream to the blob store
// while hashing, chunks spool through a temporary file, and reading EXIF or
// checking a file's ending reads bounded ranges of the stored blob.
//
// A photo counts only once its declared SHA-256 matched the bytes and the
// bytes are an image of an accepted type and size; anything else is a 4xx
// and nothing is kept. Uploads are idempotent by photo id: the same id with
// the same bytes answers the same; the same id with other bytes is a
// conflict.
//
// Evidence is judged after the fact, by a worker draining a queue that
// visit and photo writes fill in their own transactions, so a push never
// waits for it and no arrival is missed (the queue's age is the lag metric).
package photos
