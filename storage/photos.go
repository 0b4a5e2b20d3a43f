package storage

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/photos"
)

type photoRow struct {
	CountyID   uuid.UUID  `gorm:"column:county_id;primaryKey"`
	ID         uuid.UUID  `gorm:"column:id;primaryKey"`
	UploadedBy uuid.UUID  `gorm:"column:uploaded_by"`
	VisitID    *uuid.UUID `gorm:"column:visit_id"`
	SHA256     string     `gorm:"column:sha256"`
	Size       int64      `gorm:"column:size"`
	MediaType  string     `gorm:"column:media_type"`
	Width      int        `gorm:"column:width"`
	Height     int        `gorm:"column:height"`
	TakenAt    *time.Time `gorm:"column:taken_at"`
	ExifLat    *float64   `gorm:"column:exif_lat"`
	ExifLon    *float64   `gorm:"column:exif_lon"`
	Camera     string     `gorm:"column:camera"`
	ThumbState string     `gorm:"column:thumb_state"`
	CreatedAt  time.Time  `gorm:"column:created_at"`
}

func (photoRow) TableName() string { return "photos" }

func toPhotoRow(p domain.Photo) photoRow {
	r := photoRow{CountyID: p.CountyID, ID: p.ID, UploadedBy: p.UploadedBy, VisitID: p.VisitID, SHA256: p.SHA256, Size: p.Size,
		MediaType: p.MediaType, Width: p.Width, Height: p.Height, Camera: p.Camera, ThumbState: p.ThumbState, CreatedAt: p.CreatedAt.UTC()}
	if p.TakenAt != nil {
		t := p.TakenAt.UTC()
		r.TakenAt = &t
	}
	if p.ExifGPS != nil {
		r.ExifLat, r.ExifLon = &p.ExifGPS.Lat, &p.ExifGPS.Lon
	}
	return r
}

func toDomainPhoto(r photoRow) domain.Photo {
	p := domain.Photo{ID: r.ID, CountyID: r.CountyID, UploadedBy: r.UploadedBy, VisitID: r.VisitID, SHA256: r.SHA256, Size: r.Size,
		MediaType: r.MediaType, Width: r.Width, Height: r.Height, Camera: r.Camera, ThumbState: r.ThumbState, CreatedAt: r.CreatedAt.UTC()}
	if r.TakenAt != nil {
		t := r.TakenAt.UTC()
		p.TakenAt = &t
	}
	if r.ExifLat != nil && r.ExifLon != nil {
		p.ExifGPS = &domain.GeoPoint{Lat: *r.ExifLat, Lon: *r.ExifLon}
	}
	return p
}

// values are the row's columns in insertPhotoStatement's order, then the
// queue's time.
func (r *photoRow) values(enqueued time.Time) []any {
	return []any{r.CountyID, r.ID, r.UploadedBy, r.VisitID, r.SHA256, r.Size, r.MediaType, r.Width, r.Height, r.TakenAt,
		r.ExifLat, r.ExifLon, r.Camera, r.ThumbState, r.CreatedAt, enqueued}
}

// insertPhotoStatement files a photo and queues for evidence assessment
// every visit that lists it ($2) or that it declares ($4).
const insertPhotoStatement = `WITH photo AS (
	INSERT INTO photos (county_id, id, uploaded_by, visit_id, sha256, size, media_type, width, height, taken_at,
		exif_lat, exif_lon, camera, thumb_state, created_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
	RETURNING id)
INSERT INTO evidence_queue (county_id, visit_id, enqueued_at)
SELECT county_id, visit_id, CAST($16 AS timestamptz) FROM visit_photos WHERE photo_id = (SELECT id FROM photo)
UNION
SELECT county_id, id, CAST($16 AS timestamptz) FROM visits WHERE id = $4 AND EXISTS (SELECT 1 FROM photo)
ON CONFLICT (county_id, visit_id) DO UPDATE SET enqueued_at = excluded.enqueued_at`

// photoStateRow is PhotoState's one row: the photo under an id, if any,
// and whether a visit lists the id.
type photoStateRow struct {
	photo  photoRow
	listed bool
}

// state is the photo under the id (nil when none) and whether a visit
// lists the id.
func (r *photoStateRow) state() (*domain.Photo, bool) {
	if r.photo.ID == uuid.Nil {
		return nil, r.listed
	}
	ph := toDomainPhoto(r.photo)
	return &ph, r.listed
}

func (r *photoStateRow) fields() []any {
	p := &r.photo
	return []any{&p.CountyID, &p.ID, &p.UploadedBy, &p.VisitID, &p.SHA256, &p.Size, &p.MediaType, &p.Width, &p.Height, &p.TakenAt,
		&p.ExifLat, &p.ExifLon, &p.Camera, &p.ThumbState, &p.CreatedAt, &r.listed}
}

// photoStateQuery is a one-row left join, so that it answers whether a
// visit lists the id when no photo has it.
var photoStateQuery = "SELECT " + photoStateColumns + " FROM (SELECT 1) AS one LEFT JOIN photos AS p ON p.id = ?"

// photoStateColumns are photoStateRow's, of photos p left joined on the
// id, which is their one parameter: with no photo under the id the photo's
// columns are NULL, and the NOT NULL ones then read as zero values (a nil
// id: no photo), so they scan as they are.
var photoStateColumns = `COALESCE(p.county_id, '` + nilUUID + `'), COALESCE(p.id, '` + nilUUID + `'),
	COALESCE(p.uploaded_by, '` + nilUUID + `'), p.visit_id,
	COALESCE(p.sha256, ''), COALESCE(p.size, 0), COALESCE(p.media_type, ''), COALESCE(p.width, 0), COALESCE(p.height, 0),
	p.taken_at, p.exif_lat, p.exif_lon, COALESCE(p.camera, ''), COALESCE(p.thumb_state, ''), COALESCE(p.created_at, 'epoch'),
	EXISTS (SELECT 1 FROM visit_photos WHERE photo_id = ?)`

// uploadStateRow is UploadState's one row.
type uploadStateRow struct {
	session sessionUserRow
	photo   photoStateRow
}

func (r *uploadStateRow) fields() []any { return append(r.session.fields(), r.photo.fields()...) }

// uploadStateQuery is sessionUserQuery and photoStateQuery in one: no row
// when the user is gone.
var uploadStateQuery = "SELECT " + sessionUserColumns + ", " + photoStateColumns + " FROM users u LEFT JOIN photos AS p ON p.id = ? WHERE u.id = ?"

const nilUUID = "00000000-0000-0000-0000-000000000000"

type visitPhotoRow struct {
	CountyID    uuid.UUID `gorm:"column:county_id;primaryKey"`
	VisitID     uuid.UUID `gorm:"column:visit_id;primaryKey"`
	PhotoID     uuid.UUID `gorm:"column:photo_id;primaryKey"`
	SHA256      string    `gorm:"column:sha256"`
	HouseholdID uuid.UUID `gorm:"column:household_id"`
	CadreID     uuid.UUID `gorm:"column:cadre_id"`
}

func (visitPhotoRow) TableName() string { return "visit_photos" }

type evidenceQueueRow struct {
	CountyID   uuid.UUID `gorm:"column:county_id;primaryKey"`
	VisitID    uuid.UUID `gorm:"column:visit_id;primaryKey"`
	EnqueuedAt time.Time `gorm:"column:enqueued_at"`
}

func (evidenceQueueRow) TableName() string { return "evidence_queue" }

func toQueuedVisit(r evidenceQueueRow) photos.QueuedVisit {
	return photos.QueuedVisit{CountyID: r.CountyID, VisitID: r.VisitID, EnqueuedAt: r.EnqueuedAt.UTC()}
}

// linkVisitPhotos brings visit_photos in step with the visits' photo lists
// and queues the visits for evidence assessment, inside the visit write's
// transaction so neither can be missed.
//
// fresh says the visits are new: they list nothing yet, so there is
// nothing to unlink (the bulk push path skips two statements per batch).
func (s *Store) linkVisitPhotos(tx *gorm.DB, batch int, vs []domain.Visit, fresh bool) error {
	if len(vs) == 0 {
		return nil
	}
	ids := make([]uuid.UUID, 0, len(vs))
	var links []visitPhotoRow
	queue := make([]evidenceQueueRow, 0, len(vs))
	now := s.stamp()
	for _, v := range vs {
		if !fresh { // a new visit lists nothing yet: nothing to unlink
			ids = append(ids, v.ID)
		}
		queue = append(queue, evidenceQueueRow{CountyID: v.CountyID, VisitID: v.ID, EnqueuedAt: now})
		if v.Deleted {
			continue
		}
		for _, p := range v.Photos {
			links = append(links, visitPhotoRow{CountyID: v.CountyID, VisitID: v.ID, PhotoID: p.PhotoID, SHA256: p.SHA256,
				HouseholdID: v.HouseholdID, CadreID: v.CadreID})
		}
	}
	// Other visits sharing bytes with what these visits list now, or
	// listed before, are judged again: photo reuse is a property of the
	// pair, and the first visit must learn of a second one days later.
	hashes := map[string]bool{}
	for _, l := range links {
		hashes[l.SHA256] = true
	}
	for _, c := range chunks(ids, batch) {
		var old []string
		if err := tx.Model(&visitPhotoRow{}).Where("visit_id IN ?", c).Distinct().Pluck("sha256", &old).Error; err != nil {
			return err
		}
		for _, h := range old {
			hashes[h] = true
		}
		if err := tx.Where("visit_id IN ?", c).Delete(&visitPhotoRow{}).Error; err != nil {
			return err
		}
	}
	for _, c := range chunks(links, batch) {
		if err := tx.Create(&c).Error; err != nil {
			return err
		}
	}
	shared := make([]string, 0, len(hashes))
	for h := range hashes {
		shared = append(shared, h)
	}
	for _, c := range chunks(shared, batch) {
		var others []visitPhotoRow
		if err := tx.Select("DISTINCT county_id, visit_id").Where("sha256 IN ?", c).Find(&others).Error; err != nil {
			return err
		}
		for _, o := range others {
			queue = append(queue, evidenceQueueRow{CountyID: o.CountyID, VisitID: o.VisitID, EnqueuedAt: now})
		}
	}
	return enqueueEvidence(tx, batch, queue)
}

func enqueueEvidence(tx *gorm.DB, batch int, rows []evidenceQueueRow) error {
	return enqueue(tx, batch, rows, func(r evidenceQueueRow) [2]uuid.UUID { return [2]uuid.UUID{r.CountyID, r.VisitID} },
		func(a, b [2]uuid.UUID) int {
			return cmp.Or(domain.CompareIDs(a[0], b[0]), domain.CompareIDs(a[1], b[1]))
		}, "county_id", "visit_id")
}

// InsertPhoto records a stored photo and queues every visit that lists it
// (or that it declares) for evidence assessment. A second photo with the same
// id is a conflict.
func (s *Store) InsertPhoto(ctx context.Context, p domain.Photo) error {
	row := toPhotoRow(p)
	now := s.stamp()
	if s.dialect == Postgres && !s.inTxn {
		// One statement, atomic on its own: the photo and the queue rows
		// of every visit that lists it or that it declares, in a single
		// round trip instead of four, prepared and sent natively (an
		// upload's fixed cost, B3: through GORM its named parameters were
		// rebuilt and its values reflected on every upload).
		return translate(s.nativePrimary(ctx, func(conn *pgx.Conn) error {
			_, err := conn.Exec(ctx, insertPhotoStatement, append([]any{pgx.QueryExecModeCacheStatement}, row.values(now)...)...)
			return err
		}), "photo")
	}
	return s.inTx(ctx, "photo", func(tx *gorm.DB) error {
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		// One statement each, whether or not any visit lists the photo yet
		// (a photo is listed at most once per visit: no duplicates to upsert).
		err := tx.Exec(`INSERT INTO evidence_queue (county_id, visit_id, enqueued_at)
			SELECT county_id, visit_id, ? FROM visit_photos WHERE photo_id = ?
			ON CONFLICT (county_id, visit_id) DO UPDATE SET enqueued_at = excluded.enqueued_at`, now, p.ID).Error
		if err != nil || p.VisitID == nil {
			return err
		}
		return tx.Exec(`INSERT INTO evidence_queue (county_id, visit_id, enqueued_at)
			SELECT county_id, id, ? FROM visits WHERE id = ?
			ON CONFLICT (county_id, visit_id) DO UPDATE SET enqueued_at = excluded.enqueued_at`, now, *p.VisitID).Error
	})
}

// Photo returns a photo by id.
func (s *Store) Photo(ctx context.Context, id uuid.UUID) (domain.Photo, error) {
	var row photoRow
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&row).Error
	return toDomainPhoto(row), translate(err, "photo")
}

// PhotoState answers in one round trip what an upload of a photo id must
// know before it stores a byte: the photo, if one is stored under the id
// (nil otherwise), and whether any visit lists the id (a visit may list a
// photo before the photo arrives). The upload path asked this in two
// queries before (B3).
func (s *Store) PhotoState(ctx context.Context, id uuid.UUID) (*domain.Photo, bool, error) {
	var row photoStateRow
	var err error
	if s.dialect == Postgres && !s.inTxn {
		// Every upload asks first: prepared and scanned natively (B3).
		row, err = oneRowPrepared(ctx, s, "photo", photoStateQuery, []any{id, id}, (*photoStateRow).fields)
	} else {
		// The one-row left join answers even when no photo has the id; the
		// photo's columns are then NULL, which gorm scans as zero values.
		// They go in through an exported field: gorm skips an unexported
		// embedded struct (photoRow) without a word.
		var g struct {
			Photo  photoRow `gorm:"embedded"`
			Listed bool     `gorm:"column:listed"`
		}
		err = s.db.WithContext(ctx).Raw(`SELECT p.*, EXISTS (SELECT 1 FROM visit_photos WHERE photo_id = ?) AS listed
			FROM (SELECT 1 AS one) AS one LEFT JOIN photos AS p ON p.id = ?`, id, id).Scan(&g).Error
		row = photoStateRow{photo: g.Photo, listed: g.Listed}
	}
	if err != nil {
		return nil, false, translate(err, "photo")
	}
	stored, listed := row.state()
	return stored, listed, nil
}

// UploadState answers an upload's first question — the account behind its
// login, whether the login is in force, and the photo's state — in one
// round trip on PostgreSQL, where SessionUser and PhotoState would be two
// (B3). A user that is gone is domain.NotFound("user").
func (s *Store) UploadState(ctx context.Context, userID, session, photoID uuid.UUID) (photos.UploadState, error) {
	if s.dialect != Postgres || s.inTxn {
		u, live, err := s.SessionUser(ctx, userID, session)
		if err != nil {
			return photos.UploadState{}, err
		}
		stored, listed, err := s.PhotoState(ctx, photoID)
		return photos.UploadState{User: u, Live: live, Stored: stored, Listed: listed}, err
	}
	row, err := oneRowPrepared(ctx, s, "user", uploadStateQuery, []any{session, photoID, photoID, userID}, (*uploadStateRow).fields)
	if err != nil {
		return photos.UploadState{}, err
	}
	stored, listed := row.photo.state()
	return photos.UploadState{User: toDomainUser(row.session.User), Live: row.session.SessionLive, Stored: stored, Listed: listed}, nil
}

// PhotosByID returns the stored photos among ids.
func (s *Store) PhotosByID(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]domain.Photo, error) {
	out := map[uuid.UUID]domain.Photo{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []photoRow
	if err := s.db.WithContext(ctx).Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, translate(err, "photo")
	}
	for _, r := range rows {
		out[r.ID] = toDomainPhoto(r)
	}
	return out, nil
}

// PhotoVisible reports whether a user with scope may see the photo: they
// uploaded it, or they may read a visit that lists it (or the visit it
// declares) — the rule of GET /visits/{id}: a cadre reads only their own
// visits, others the visits of households in their scope. A colleague's
// visit to a household in the same village stays unseen, photos included.
//
// A stored photo is shown through a visit's list only when that visit is
// its uploader's (or the one it was uploaded for) and lists its hash: a
// visit names photos by id, and anyone may push a visit of their own
// naming any id, which must not open someone else's photo to them or to
// their supervisor. A photo not stored yet (an upload's ownership check)
// is judged by any listing visit.
func (s *Store) PhotoVisible(ctx context.Context, p domain.Photo, reader domain.VisitReader, scope domain.HouseholdScope, today domain.Date) (bool, error) {
	if p.UploadedBy == reader.UserID {
		return true, nil
	}
	db := s.db.WithContext(ctx)
	readable := func(table string) *gorm.DB {
		if scope.CadreID != nil {
			return db.Where(table+".cadre_id = ?", *scope.CadreID)
		}
		return db.Where("EXISTS (?)", scopeHouseholds(s.db.Model(&householdRow{}).Select("1").
			Where("households.county_id = "+table+".county_id AND households.id = "+table+".household_id"), scope, today))
	}
	listing := db.Model(&visitPhotoRow{}).Where("photo_id = ?", p.ID)
	if p.UploadedBy != uuid.Nil {
		listing = listing.Where("sha256 = ?", p.SHA256)
		if p.VisitID != nil {
			listing = listing.Where("(cadre_id = ? OR visit_id = ?)", p.UploadedBy, *p.VisitID)
		} else {
			listing = listing.Where("cadre_id = ?", p.UploadedBy)
		}
	}
	var n int64
	// The listing visit must be one the reader may be shown (an
	// unannounced campaign's inspection visit is not, while it runs).
	shownCond, shownArgs := visitShown("v", reader)
	listed := "EXISTS (SELECT 1 FROM visits v WHERE v.id = visit_photos.visit_id AND " + shownCond + ")"
	err := listing.Where(readable("visit_photos")).Where(listed, shownArgs...).Limit(1).Count(&n).Error
	if err != nil || n > 0 || p.VisitID == nil {
		return n > 0, translate(err, "photo")
	}
	err = shownTo(db.Model(&visitRow{}).Where("id = ?", *p.VisitID).Where(readable("visits")), "visits", reader).Limit(1).Count(&n).Error
	return n > 0, translate(err, "photo")
}

// PhotoLinks lists the visits that list a photo.
func (s *Store) PhotoLinks(ctx context.Context, photoID uuid.UUID) ([]domain.VisitPhotoLink, error) {
	var rows []visitPhotoRow
	if err := s.db.WithContext(ctx).Where("photo_id = ?", photoID).Order("visit_id").Find(&rows).Error; err != nil {
		return nil, translate(err, "photo")
	}
	return toLinks(rows), nil
}

// LinksBySHA256 lists the visits that list a photo with one of these
// hashes: the evidence of photo reuse.
func (s *Store) LinksBySHA256(ctx context.Context, hashes []string) ([]domain.VisitPhotoLink, error) {
	if len(hashes) == 0 {
		return nil, nil
	}
	var rows []visitPhotoRow
	if err := s.db.WithContext(ctx).Where("sha256 IN ?", hashes).Order("visit_id").Find(&rows).Error; err != nil {
		return nil, translate(err, "photo")
	}
	return toLinks(rows), nil
}

func toLinks(rows []visitPhotoRow) []domain.VisitPhotoLink {
	out := make([]domain.VisitPhotoLink, len(rows))
	for i, r := range rows {
		out[i] = domain.VisitPhotoLink{CountyID: r.CountyID, VisitID: r.VisitID, PhotoID: r.PhotoID, SHA256: r.SHA256, HouseholdID: r.HouseholdID, CadreID: r.CadreID}
	}
	return out
}

// SHA256InUse reports whether any photo record points at these bytes, so
// the blob must be kept.
func (s *Store) SHA256InUse(ctx context.Context, sha string) (bool, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&photoRow{}).Where("sha256 = ?", sha).Limit(1).Count(&n).Error
	return n > 0, translate(err, "photo")
}

// SetThumbState records the outcome of making a photo's thumbnail.
func (s *Store) SetThumbState(ctx context.Context, id uuid.UUID, state string) error {
	err := s.db.WithContext(ctx).Model(&photoRow{}).Where("id = ?", id).Update("thumb_state", state).Error
	return translate(err, "photo")
}

// PendingThumbnails lists photos still waiting for a thumbnail, oldest first.
func (s *Store) PendingThumbnails(ctx context.Context, limit int) ([]domain.Photo, error) {
	var rows []photoRow
	err := s.db.WithContext(ctx).Where("thumb_state = ?", domain.ThumbPending).Order("created_at, id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, translate(err, "photo")
	}
	out := make([]domain.Photo, len(rows))
	for i, r := range rows {
		out[i] = toDomainPhoto(r)
	}
	return out, nil
}

// PhotoHashesAfter pages the distinct hashes photo records point at, in
// order, for reconciling the blob store.
func (s *Store) PhotoHashesAfter(ctx context.Context, after string, limit int) ([]string, error) {
	var out []string
	err := s.db.WithContext(ctx).Model(&photoRow{}).Distinct("sha256").Where("sha256 > ?", after).Order("sha256").Limit(limit).Pluck("sha256", &out).Error
	return out, translate(err, "photo")
}

// PhotosWithSHA256 lists the photo ids pointing at these bytes.
func (s *Store) PhotosWithSHA256(ctx context.Context, sha string) ([]uuid.UUID, error) {
	var out []uuid.UUID
	err := s.db.WithContext(ctx).Model(&photoRow{}).Where("sha256 = ?", sha).Order("id").Pluck("id", &out).Error
	return out, translate(err, "photo")
}

type uploadRow struct {
	ID        uuid.UUID                 `gorm:"column:id;primaryKey"`
	CountyID  uuid.UUID                 `gorm:"column:county_id"`
	UserID    uuid.UUID                 `gorm:"column:user_id"`
	PhotoID   uuid.UUID                 `gorm:"column:photo_id"`
	VisitID   *uuid.UUID                `gorm:"column:visit_id"`
	Method    string                    `gorm:"column:method"`
	SHA256    string                    `gorm:"column:sha256"`
	Size      int64                     `gorm:"column:size"`
	MediaType string                    `gorm:"column:media_type"`
	Offset    int64                     `gorm:"column:offset"`
	Chunks    jsonValue[[]domain.Chunk] `gorm:"column:chunks"`
	CreatedAt time.Time                 `gorm:"column:created_at"`
	UpdatedAt time.Time                 `gorm:"column:updated_at"`
	ExpiresAt time.Time                 `gorm:"column:expires_at"`
}

func (uploadRow) TableName() string { return "photo_uploads" }

func toUploadRow(u domain.PhotoUpload) uploadRow {
	return uploadRow{ID: u.ID, CountyID: u.CountyID, UserID: u.UserID, PhotoID: u.PhotoID, VisitID: u.VisitID, Method: u.Method,
		SHA256: u.SHA256, Size: u.Size, MediaType: u.MediaType, Offset: u.Offset, Chunks: jsonValue[[]domain.Chunk]{nonNil(u.Chunks)},
		CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC(), ExpiresAt: u.ExpiresAt.UTC()}
}

func toDomainUpload(r uploadRow) domain.PhotoUpload {
	return domain.PhotoUpload{ID: r.ID, CountyID: r.CountyID, UserID: r.UserID, PhotoID: r.PhotoID, VisitID: r.VisitID, Method: r.Method,
		SHA256: r.SHA256, Size: r.Size, MediaType: r.MediaType, Offset: r.Offset, Chunks: nonNil(r.Chunks.V),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC()}
}

// CreateUpload starts an upload. One user has at most one upload per photo
// id; starting it again is a conflict the caller answers with the existing one.
func (s *Store) CreateUpload(ctx context.Context, u domain.PhotoUpload) error {
	row := toUploadRow(u)
	return translate(s.db.WithContext(ctx).Create(&row).Error, "upload")
}

// Upload returns an upload by id.
func (s *Store) Upload(ctx context.Context, id uuid.UUID) (domain.PhotoUpload, error) {
	var row uploadRow
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&row).Error
	return toDomainUpload(row), translate(err, "upload")
}

// UploadFor returns a user's upload of a photo id.
func (s *Store) UploadFor(ctx context.Context, userID, photoID uuid.UUID) (domain.PhotoUpload, error) {
	var row uploadRow
	err := s.db.WithContext(ctx).Where("user_id = ? AND photo_id = ?", userID, photoID).Take(&row).Error
	return toDomainUpload(row), translate(err, "upload")
}

// AppendChunk records a stored chunk if the upload is still at the offset
// the chunk starts at; otherwise another request moved it and the chunk is
// stale (domain.Stale).
func (s *Store) AppendChunk(ctx context.Context, u domain.PhotoUpload, c domain.Chunk, now time.Time, expires time.Time) (domain.PhotoUpload, error) {
	chunks := append(append([]domain.Chunk{}, u.Chunks...), c)
	res := s.db.WithContext(ctx).Model(&uploadRow{}).Where(`id = ? AND "offset" = ?`, u.ID, c.Offset).
		Updates(map[string]any{"offset": c.Offset + c.Size, "chunks": jsonValue[[]domain.Chunk]{chunks}, "updated_at": now.UTC(), "expires_at": expires.UTC()})
	if res.Error != nil {
		return u, translate(res.Error, "upload")
	}
	if res.RowsAffected == 0 {
		return u, domain.Stale("upload", "上传")
	}
	u.Offset, u.Chunks, u.UpdatedAt, u.ExpiresAt = c.Offset+c.Size, chunks, now, expires
	return u, nil
}

// DeleteUpload forgets an upload (its chunks are the caller's to delete).
func (s *Store) DeleteUpload(ctx context.Context, id uuid.UUID) error {
	return translate(s.db.WithContext(ctx).Where("id = ?", id).Delete(&uploadRow{}).Error, "upload")
}

// ExpiredUploads lists uploads abandoned past their expiry.
func (s *Store) ExpiredUploads(ctx context.Context, now time.Time, limit int) ([]domain.PhotoUpload, error) {
	var rows []uploadRow
	if err := s.db.WithContext(ctx).Where("expires_at < ?", now.UTC()).Order("expires_at").Limit(limit).Find(&rows).Error; err != nil {
		return nil, translate(err, "upload")
	}
	out := make([]domain.PhotoUpload, len(rows))
	for i, r := range rows {
		out[i] = toDomainUpload(r)
	}
	return out, nil
}

// EvidenceLag is how many visits wait and since when the oldest has.
func (s *Store) EvidenceLag(ctx context.Context) (int64, *time.Time, error) {
	var n int64
	db := s.db.WithContext(ctx)
	if err := db.Model(&evidenceQueueRow{}).Count(&n).Error; err != nil || n == 0 {
		return n, nil, translate(err, "evidence queue")
	}
	var row evidenceQueueRow
	if err := db.Order("enqueued_at").Take(&row).Error; err != nil {
		return n, nil, translate(err, "evidence queue")
	}
	t := row.EnqueuedAt.UTC()
	return n, &t, nil
}

// DoneEvidence removes a visit from the queue unless it was queued again
// after the assessment read it; one queued again is unclaimed, so it is
// assessed again at once.
func (s *Store) DoneEvidence(ctx context.Context, q photos.QueuedVisit) error {
	return s.inTx(ctx, "evidence queue", func(tx *gorm.DB) error {
		err := tx.Where("county_id = ? AND visit_id = ? AND enqueued_at <= ?", q.CountyID, q.VisitID, q.EnqueuedAt.UTC()).
			Delete(&evidenceQueueRow{}).Error
		if err != nil {
			return err
		}
		return evidenceWork.requeued(tx, q.CountyID, q.VisitID)
	})
}

// SetVisitFlags replaces a visit's flags if it is still at version; flags
// are the server's judgement, so writing them is not an edit and bumps no
// version. A visit edited meanwhile is queued again by that edit.
func (s *Store) SetVisitFlags(ctx context.Context, countyID, id uuid.UUID, version int64, flags []domain.Flag) (bool, error) {
	changed := false
	err := s.inTx(ctx, "visit", func(tx *gorm.DB) error {
		// The visit's household first, as a push editing the visit locks it
		// (the lock order, see LockHouseholds): otherwise the job could hold
		// the visit and wait for a queue row the push holds while the push
		// waits for the visit.
		if err := s.lockHouseholds(tx, "", nil, nil, []uuid.UUID{id}); err != nil {
			return err
		}
		var row visitRow
		if err := tx.Select("county_id", "household_id", "cadre_id", "started_at", "flags").
			Where("county_id = ? AND id = ? AND version = ?", countyID, id, version).Take(&row).Error; err != nil {
			if isNotFound(err) {
				return nil
			}
			return err
		}
		// The same judgement again (a neighbour's visit was judged) writes
		// nothing: no new updated_at, nothing for phones to pull.
		if slices.Equal(row.Flags.V, nonNil(flags)) {
			changed = true
			return nil
		}
		res := tx.Model(&visitRow{}).Where("county_id = ? AND id = ? AND version = ?", countyID, id, version).
			Update("flags", jsonValue[[]domain.Flag]{nonNil(flags)})
		if res.Error != nil {
			return res.Error
		}
		changed = res.RowsAffected > 0
		if !changed {
			return nil
		}
		v := domain.Visit{ID: id, CountyID: row.CountyID, HouseholdID: row.HouseholdID, CadreID: row.CadreID, Version: version}
		v.StartedAt = row.StartedAt
		// Phones hold the flags too: the record goes out again at the same
		// version (the cadre's fields did not change).
		if err := s.appendChange(tx, visitChange(v, "update")); err != nil {
			return err
		}
		if sameFlagCodes(row.Flags.V, flags) {
			return nil
		}
		// A flag may make the visit stop counting, or count again.
		return queueVisits(tx, s.importBatch(), []domain.Visit{v}, s.stamp())
	})
	return changed, err
}

func sameFlagCodes(a, b []domain.Flag) bool {
	codes := func(fs []domain.Flag) map[string]bool {
		m := make(map[string]bool, len(fs))
		for _, f := range fs {
			m[f.Code] = true
		}
		return m
	}
	return maps.Equal(codes(a), codes(b))
}

// NeighbourVisits returns the cadre's live visits just before and just
// after t by device start time (for travel-speed checks; device time is all
// there is for where a cadre was when).
func (s *Store) NeighbourVisits(ctx context.Context, cadreID, except uuid.UUID, t time.Time) (prev, next *domain.Visit, err error) {
	db := s.db.WithContext(ctx).Where("cadre_id = ? AND deleted = ? AND id <> ?", cadreID, false, except)
	var before, after []visitRow
	if err := db.Session(&gorm.Session{}).Where("started_at <= ?", t.UTC()).Order("started_at DESC, id").Limit(1).Find(&before).Error; err != nil {
		return nil, nil, translate(err, "visit")
	}
	if err := db.Session(&gorm.Session{}).Where("started_at > ?", t.UTC()).Order("started_at, id").Limit(1).Find(&after).Error; err != nil {
		return nil, nil, translate(err, "visit")
	}
	if len(before) == 1 {
		v := toDomainVisit(before[0])
		prev = &v
	}
	if len(after) == 1 {
		v := toDomainVisit(after[0])
		next = &v
	}
	return prev, next, nil
}
