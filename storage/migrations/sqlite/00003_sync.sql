-- +goose Up
-- Visits are created on phones, offline: the phone makes the UUID.
CREATE TABLE visits (
    county_id           TEXT NOT NULL,
    id                  TEXT NOT NULL,
    household_id        TEXT NOT NULL,
    cadre_id            TEXT NOT NULL REFERENCES users(id),
    device_id           text NOT NULL,
    kind                text NOT NULL,
    started_at          TIMESTAMP NOT NULL,  -- the device's clock, as given
    ended_at            TIMESTAMP,
    started_at_text     text NOT NULL,         -- the device's own spelling, offset included
    received_at         TIMESTAMP NOT NULL,  -- server clock, first arrival
    clock_offset_ms     INTEGER NOT NULL,       -- server minus device clock, measured at push
    notes               text NOT NULL DEFAULT '',
    checklist           TEXT NOT NULL DEFAULT '{}',
    measures            TEXT NOT NULL DEFAULT '[]',
    met_with            TEXT NOT NULL DEFAULT '[]',
    household_confirmed INTEGER,
    gps                 TEXT NOT NULL DEFAULT '[]',
    photos              TEXT NOT NULL DEFAULT '[]',
    flags               TEXT NOT NULL DEFAULT '[]',
    deleted             INTEGER NOT NULL DEFAULT 0,
    version             INTEGER NOT NULL,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL,
    PRIMARY KEY (county_id, id),
    FOREIGN KEY (county_id, household_id) REFERENCES households (county_id, id)
);
CREATE INDEX visits_id ON visits (id);
CREATE INDEX visits_household ON visits (county_id, household_id, started_at);
CREATE INDEX visits_cadre ON visits (cadre_id, started_at);

-- The change feed. SQLite has one writer at a time, so seq is assigned at
-- insert and already follows commit order.
CREATE TABLE changes (
    county_id    TEXT NOT NULL,
    id           TEXT NOT NULL,
    seq          INTEGER,
    entity       text NOT NULL,
    entity_id    TEXT NOT NULL,
    household_id TEXT,
    cadre_id     TEXT,
    op           text NOT NULL,
    version      INTEGER NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (county_id, id)
);
CREATE UNIQUE INDEX changes_seq_idx ON changes (seq) WHERE seq IS NOT NULL;
CREATE INDEX changes_unsequenced ON changes (created_at) WHERE seq IS NULL;
CREATE INDEX changes_household ON changes (household_id, seq);
CREATE INDEX changes_cadre ON changes (cadre_id, seq);

-- A push batch's key and its stored answer, replayed byte for byte.
CREATE TABLE idempotency_keys (
    user_id        TEXT NOT NULL,
    key            text NOT NULL,
    request_sha256 text NOT NULL,
    status_code    INTEGER NOT NULL,
    response       BLOB NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    expires_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

-- Values that lost an overlapping edit, kept for a supervisor to review.
CREATE TABLE conflicts (
    county_id    TEXT NOT NULL,
    id           TEXT NOT NULL,
    entity       text NOT NULL,
    entity_id    TEXT NOT NULL,
    household_id TEXT NOT NULL,
    field        text NOT NULL,
    base_value   TEXT,
    lost_value   TEXT,
    won_value    TEXT,
    lost_version INTEGER NOT NULL,
    won_version  INTEGER NOT NULL,
    lost_by      TEXT,
    won_by       TEXT,
    won_device   text NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    resolved_at  TIMESTAMP,
    resolved_by  TEXT,
    resolution   text NOT NULL DEFAULT '',
    PRIMARY KEY (county_id, id)
);
CREATE INDEX conflicts_open ON conflicts (county_id, created_at) WHERE resolved_at IS NULL;
CREATE INDEX conflicts_id ON conflicts (id);

-- Who last wrote a household or member field, for the conflict record.
ALTER TABLE households ADD COLUMN updated_by TEXT;
ALTER TABLE members ADD COLUMN updated_by TEXT;

-- +goose Down
ALTER TABLE members DROP COLUMN updated_by;
ALTER TABLE households DROP COLUMN updated_by;
DROP TABLE conflicts;
DROP TABLE idempotency_keys;
DROP TABLE changes;
DROP TABLE visits;
