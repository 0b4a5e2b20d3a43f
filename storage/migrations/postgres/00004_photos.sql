-- +goose Up
-- Photos are content-addressed: the bytes live once in the blob store under
-- their SHA-256, and each photo id the phone made points at them. The id is
-- unique on its own (the phone makes it and may upload before its visit
-- exists, so the county is the uploader's).
CREATE TABLE photos (
    county_id   uuid NOT NULL,
    id          uuid NOT NULL,
    uploaded_by uuid NOT NULL REFERENCES users(id),
    visit_id    uuid,                 -- as declared at upload; links also come from visits
    sha256      text NOT NULL,
    size        bigint NOT NULL,
    media_type  text NOT NULL,
    width       integer NOT NULL,
    height      integer NOT NULL,
    taken_at    timestamptz,          -- EXIF, when the photo has it
    exif_lat    double precision,
    exif_lon    double precision,
    camera      text NOT NULL DEFAULT '',
    thumb_state text NOT NULL DEFAULT 'pending', -- pending | ready | failed
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (county_id, id)
);
CREATE UNIQUE INDEX photos_id ON photos (id);
CREATE INDEX photos_sha256 ON photos (sha256);
CREATE INDEX photos_thumb_pending ON photos (created_at) WHERE thumb_state = 'pending';

-- Which visit lists which photo, kept in step with the visit's photo list
-- by every visit write (a deleted visit lists none). Photo reuse and read
-- access are answered from here.
CREATE TABLE visit_photos (
    county_id    uuid NOT NULL,
    visit_id     uuid NOT NULL,
    photo_id     uuid NOT NULL,
    sha256       text NOT NULL,
    household_id uuid NOT NULL,
    cadre_id     uuid NOT NULL,
    PRIMARY KEY (county_id, visit_id, photo_id)
);
CREATE INDEX visit_photos_photo ON visit_photos (photo_id);
CREATE INDEX visit_photos_sha256 ON visit_photos (sha256);

-- Resumable and presigned uploads in progress. Chunks are blobs of their
-- own until the upload completes.
CREATE TABLE photo_uploads (
    id           uuid PRIMARY KEY,
    county_id    uuid NOT NULL,
    user_id      uuid NOT NULL REFERENCES users(id),
    photo_id     uuid NOT NULL,
    visit_id     uuid,
    method       text NOT NULL,        -- chunked | presigned_post
    sha256       text NOT NULL,
    size         bigint NOT NULL,
    media_type   text NOT NULL,
    "offset"     bigint NOT NULL DEFAULT 0,
    chunks       jsonb NOT NULL DEFAULT '[]',
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
);
CREATE UNIQUE INDEX photo_uploads_photo ON photo_uploads (user_id, photo_id);
CREATE INDEX photo_uploads_expiry ON photo_uploads (expires_at);

-- Visits whose evidence flags need (re)assessing: written in the same
-- transaction as the visit or photo that changed them, drained by a worker.
CREATE TABLE evidence_queue (
    county_id   uuid NOT NULL,
    visit_id    uuid NOT NULL,
    enqueued_at timestamptz NOT NULL,
    PRIMARY KEY (county_id, visit_id)
);
CREATE INDEX evidence_queue_age ON evidence_queue (enqueued_at);

-- +goose Down
DROP TABLE evidence_queue;
DROP TABLE photo_uploads;
DROP TABLE visit_photos;
DROP TABLE photos;
