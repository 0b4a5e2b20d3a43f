package photos

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// Store is the persistence the photo service needs. Tx lets a caller that
// stores many photos or judges many visits commit once for all of them
// (Service.Tx): on SQLite a commit per photo is what makes a bulk load slow.
type Store interface {
	TxStore
	Tx(ctx context.Context, fn func(TxStore) error) error
}

// TxStore is what the service reads and writes, within a transaction or on
// its own: each method is then its own unit of work.
type TxStore interface {
	// InsertPhoto records a stored photo and queues every visit that lists
	// it (or that it declares) for evidence assessment; a second photo with
	// the same id is a duplicate conflict.
	InsertPhoto(ctx context.Context, p domain.Photo) error
	Photo(ctx context.Context, id uuid.UUID) (domain.Photo, error)
	// PhotoState answers in one round trip what an upload must know before
	// it stores a byte: the photo stored under id (nil when none) and
	// whether any visit lists id.
	PhotoState(ctx context.Context, id uuid.UUID) (*domain.Photo, bool, error)
	// UploadState is PhotoState with the account of the user behind a
	// login (userID, session) and whether the login is in force, in one
	// round trip where the database allows: an upload's first question. A
	// user that is gone is domain.NotFound("user").
	UploadState(ctx context.Context, userID, session, photoID uuid.UUID) (UploadState, error)
	PhotosByID(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]domain.Photo, error)
	// PhotoVisible reports whether the user with scope uploaded the photo
	// or may read a visit that lists it (or the visit it declares).
	PhotoVisible(ctx context.Context, p domain.Photo, reader domain.VisitReader, scope domain.HouseholdScope, today domain.Date) (bool, error)
	LinksBySHA256(ctx context.Context, hashes []string) ([]domain.VisitPhotoLink, error)
	SHA256InUse(ctx context.Context, sha string) (bool, error)
	SetThumbState(ctx context.Context, id uuid.UUID, state string) error
	PendingThumbnails(ctx context.Context, limit int) ([]domain.Photo, error)
	PhotoHashesAfter(ctx context.Context, after string, limit int) ([]string, error)
	PhotosWithSHA256(ctx context.Context, sha string) ([]uuid.UUID, error)

	CreateUpload(ctx context.Context, u domain.PhotoUpload) error
	Upload(ctx context.Context, id uuid.UUID) (domain.PhotoUpload, error)
	UploadFor(ctx context.Context, userID, photoID uuid.UUID) (domain.PhotoUpload, error)
	// AppendChunk records a stored chunk if the upload is still at the
	// chunk's offset, else answers domain.Stale.
	AppendChunk(ctx context.Context, u domain.PhotoUpload, c domain.Chunk, now time.Time, expires time.Time) (domain.PhotoUpload, error)
	DeleteUpload(ctx context.Context, id uuid.UUID) error
	ExpiredUploads(ctx context.Context, now time.Time, limit int) ([]domain.PhotoUpload, error)

	// ClaimEvidenceQueue claims up to limit queued visits, oldest first,
	// until until: no other worker takes them meanwhile.
	ClaimEvidenceQueue(ctx context.Context, limit int, now, until time.Time) ([]QueuedVisit, error)
	// ReleaseEvidenceClaims hands back the visits of the claim ending at
	// until that are still queued, for any worker to take at once.
	ReleaseEvidenceClaims(ctx context.Context, qs []QueuedVisit, until time.Time) error
	// DoneEvidence takes a visit off the queue unless it was queued again
	// after q was read (then its claim ends, so it is taken again at once).
	DoneEvidence(ctx context.Context, q QueuedVisit) error
	// SetVisitFlags replaces a visit's flags if it is still at version.
	SetVisitFlags(ctx context.Context, countyID, id uuid.UUID, version int64, flags []domain.Flag) (bool, error)
	// NeighbourVisits are the cadre's live visits just before and just
	// after t, other than except.
	NeighbourVisits(ctx context.Context, cadreID, except uuid.UUID, t time.Time) (prev, next *domain.Visit, err error)

	Visit(ctx context.Context, id uuid.UUID) (domain.Visit, error)
	HouseholdByID(ctx context.Context, id uuid.UUID) (domain.Household, error)
	Region(ctx context.Context, id uuid.UUID) (domain.Region, error)
}

// QueuedVisit is a visit waiting for its evidence to be judged, as of when
// it was queued (a visit queued again meanwhile stays queued).
type QueuedVisit struct {
	CountyID   uuid.UUID
	VisitID    uuid.UUID
	EnqueuedAt time.Time
}

// UploadState is what an upload must know before it stores a byte: who is
// asking (the account and whether their login is in force, for the auth
// service's rule to judge) and the photo's state.
type UploadState struct {
	User   domain.User
	Live   bool
	Stored *domain.Photo // the photo stored under the id, if any
	Listed bool          // whether any visit lists the id
}
