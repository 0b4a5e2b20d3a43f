package domain

import (
	"time"

	"github.com/google/uuid"
)

// Photo is one picture a cadre took on a visit (上户照片). Its bytes live in
// the blob store under their SHA-256; several photo ids may share them (the
// same picture attached twice is the photo-reuse red flag).
type Photo struct {
	ID         uuid.UUID
	CountyID   uuid.UUID
	UploadedBy uuid.UUID
	VisitID    *uuid.UUID // as declared at upload; visits also link photos by listing them
	SHA256     string
	Size       int64
	MediaType  string
	Width      int
	Height     int
	TakenAt    *time.Time // from EXIF
	ExifGPS    *GeoPoint  // from EXIF
	Camera     string
	ThumbState string // ThumbPending, ThumbReady or ThumbFailed
	CreatedAt  time.Time
}

// Thumbnail states.
const (
	ThumbPending = "pending"
	ThumbReady   = "ready"
	ThumbFailed  = "failed"
)

// PhotoMediaTypes are the image types a photo may have, decided from its
// bytes, never from its name.
var PhotoMediaTypes = Vocabulary{{"image/jpeg", "JPEG"}, {"image/png", "PNG"}, {"image/webp", "WebP"}}

// Upload methods for photos that do not come in one request.
const (
	UploadChunked       = "chunked"        // resumable: chunks at offsets through the API
	UploadPresignedPost = "presigned_post" // the phone posts straight to S3
)

// PhotoUpload is a resumable or presigned upload in progress.
type PhotoUpload struct {
	ID        uuid.UUID
	CountyID  uuid.UUID
	UserID    uuid.UUID
	PhotoID   uuid.UUID
	VisitID   *uuid.UUID
	Method    string
	SHA256    string
	Size      int64
	MediaType string
	Offset    int64   // bytes stored so far
	Chunks    []Chunk // in offset order, contiguous from 0
	CreatedAt time.Time
	UpdatedAt time.Time
	ExpiresAt time.Time
}

// Chunk is one stored piece of a resumable upload.
type Chunk struct {
	Offset int64  `json:"offset"`
	Size   int64  `json:"size"`
	Key    string `json:"key"`
}

// VisitPhotoLink says that a visit lists a photo.
type VisitPhotoLink struct {
	CountyID    uuid.UUID
	VisitID     uuid.UUID
	PhotoID     uuid.UUID
	SHA256      string
	HouseholdID uuid.UUID
	CadreID     uuid.UUID
}
