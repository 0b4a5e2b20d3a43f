-- +goose Up
-- Each phone's sync health (issue 17): what its last syncs told of it, for
-- the supervisors' devices page. A device row is a user's phone (one per
-- user and device_id, made at login); these columns are written by one
-- UPSERT per sync request, outside the sync's own transaction.
ALTER TABLE devices ADD COLUMN last_sync_at timestamptz;      -- the later of the two below
ALTER TABLE devices ADD COLUMN last_push_at timestamptz;      -- last acknowledged push (a replay counts)
ALTER TABLE devices ADD COLUMN last_pull_at timestamptz;      -- last pull or snapshot page served
-- Feed positions between the cursor the last pull handed out and the feed
-- head numbered for it: 0 = caught up; NULL = the page ended inside the
-- first snapshot walk (what is left of it is not counted) or never pulled.
ALTER TABLE devices ADD COLUMN pull_lag bigint;
ALTER TABLE devices ADD COLUMN clock_offset_ms bigint;        -- server − device time, at the last push that carried a usable device time
-- The outbox backlog as the phone last reported it (X-Outbox-* headers);
-- a value it did not send, or sent malformed, is NULL in that report.
ALTER TABLE devices ADD COLUMN backlog_records bigint;
ALTER TABLE devices ADD COLUMN backlog_photos bigint;
ALTER TABLE devices ADD COLUMN backlog_bytes bigint;
ALTER TABLE devices ADD COLUMN backlog_at timestamptz;
ALTER TABLE devices ADD COLUMN app_version text;              -- X-App-Version, last well-formed one

-- +goose Down
ALTER TABLE devices DROP COLUMN app_version;
ALTER TABLE devices DROP COLUMN backlog_at;
ALTER TABLE devices DROP COLUMN backlog_bytes;
ALTER TABLE devices DROP COLUMN backlog_photos;
ALTER TABLE devices DROP COLUMN backlog_records;
ALTER TABLE devices DROP COLUMN clock_offset_ms;
ALTER TABLE devices DROP COLUMN pull_lag;
ALTER TABLE devices DROP COLUMN last_pull_at;
ALTER TABLE devices DROP COLUMN last_push_at;
ALTER TABLE devices DROP COLUMN last_sync_at;
