package wire

import (
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// Photo is a stored visit photo's description; the bytes are at ContentURL.
type Photo struct {
	ID           uuid.UUID  `json:"id"`
	VisitID      *uuid.UUID `json:"visit_id"`
	SHA256       string     `json:"sha256"`
	Size         int64      `json:"size"`
	MediaType    string     `json:"media_type"`
	Width        int        `json:"width"`
	Height       int        `json:"height"`
	TakenAt      *time.Time `json:"taken_at"`
	ExifGPS      *GeoPoint  `json:"exif_gps"`
	Camera       string     `json:"camera"`
	Thumbnail    string     `json:"thumbnail"`
	UploadedBy   uuid.UUID  `json:"uploaded_by"`
	CreatedAt    time.Time  `json:"created_at"`
	ContentURL   string     `json:"content_url"`
	ThumbnailURL string     `json:"thumbnail_url"`
}

// FromPhoto converts a domain photo.
func FromPhoto(p domain.Photo) Photo {
	base := "/api/v1/photos/" + p.ID.String()
	return Photo{ID: p.ID, VisitID: p.VisitID, SHA256: p.SHA256, Size: p.Size, MediaType: p.MediaType, Width: p.Width, Height: p.Height,
		TakenAt: p.TakenAt, ExifGPS: FromGeoPoint(p.ExifGPS), Camera: p.Camera, Thumbnail: p.ThumbState, UploadedBy: p.UploadedBy, CreatedAt: p.CreatedAt,
		ContentURL: base + "/content", ThumbnailURL: base + "/thumbnail"}
}

// StartUpload asks for a resumable or presigned upload.
type StartUpload struct {
	PhotoID     uuid.UUID  `json:"photo_id"`
	SHA256      string     `json:"sha256"`
	Size        int64      `json:"size"`
	ContentType string     `json:"content_type"`
	VisitID     *uuid.UUID `json:"visit_id"`
	Method      string     `json:"method"`
}

// Upload is an upload in progress.
type Upload struct {
	ID        uuid.UUID  `json:"id"`
	PhotoID   uuid.UUID  `json:"photo_id"`
	Method    string     `json:"method"`
	SHA256    string     `json:"sha256"`
	Size      int64      `json:"size"`
	MediaType string     `json:"media_type"`
	Offset    int64      `json:"offset"`
	ChunkMax  int64      `json:"chunk_max"`
	ExpiresAt *time.Time `json:"expires_at"`
	Complete  bool       `json:"complete"`
	Photo     *Photo     `json:"photo"`
	Post      *PostForm  `json:"post,omitempty"`
}

// PostForm is how to post the photo straight to the object store: a
// multipart/form-data POST to URL with Fields first and the file last, in a
// field named "file".
type PostForm struct {
	URL       string            `json:"url"`
	Fields    map[string]string `json:"fields"`
	ExpiresAt time.Time         `json:"expires_at"`
}
