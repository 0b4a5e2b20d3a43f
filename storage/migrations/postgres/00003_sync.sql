-- +goose Up
-- Visits are created on phones, offline: the phone makes the UUID.
CREATE TABLE visits (
    county_id           uuid NOT NULL,
    id                  uuid NOT NULL,
    household_id        uuid NOT NULL,
    cadre_id            uuid NOT NULL REFERENCES users(id),
    device_id           text NOT NULL,
    kind                text NOT NULL,
    started_at          timestamptz NOT NULL,  -- the device's clock, as given
    ended_at            timestamptz,
    started_at_text     text NOT NULL,         -- the device's own spelling, offset included
    received_at         timestamptz NOT NULL,  -- server clock, first arrival
    clock_offset_ms     bigint NOT NULL,       -- server minus device clock, measured at push
    notes               text NOT NULL DEFAULT '',
    checklist           jsonb NOT NULL DEFAULT '{}',
    measures            jsonb NOT NULL DEFAULT '[]',
    met_with            jsonb NOT NULL DEFAULT '[]',
    household_confirmed boolean,
    gps                 jsonb NOT NULL DEFAULT '[]',
    photos              jsonb NOT NULL DEFAULT '[]',
    flags               jsonb NOT NULL DEFAULT '[]',
    deleted             boolean NOT NULL DEFAULT false,
    version             bigint NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    PRIMARY KEY (county_id, id),
    FOREIGN KEY (county_id, household_id) REFERENCES households (county_id, id)
);
CREATE INDEX visits_id ON visits (id);
CREATE INDEX visits_household ON visits (county_id, household_id, started_at);
CREATE INDEX visits_cadre ON visits (cadre_id, started_at);

-- The change feed. Rows are written in the transaction that makes the
-- change. On PostgreSQL seq stays NULL until the sequencer numbers committed
-- rows under an advisory lock, so seq follows commit order and a pull can
-- never skip a change that committed late (the "id > cursor" gap).
CREATE SEQUENCE changes_seq;
CREATE TABLE changes (
    county_id    uuid NOT NULL,
    id           uuid NOT NULL,
    seq          bigint,
    entity       text NOT NULL,
    entity_id    uuid NOT NULL,
    household_id uuid,
    cadre_id     uuid,
    op           text NOT NULL,
    version      bigint NOT NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (county_id, id)
);
CREATE UNIQUE INDEX changes_seq_idx ON changes (seq) WHERE seq IS NOT NULL;
CREATE INDEX changes_unsequenced ON changes (created_at) WHERE seq IS NULL;
CREATE INDEX changes_household ON changes (household_id, seq);
CREATE INDEX changes_cadre ON changes (cadre_id, seq);

-- A push batch's key and its stored answer, replayed byte for byte.
CREATE TABLE idempotency_keys (
    user_id        uuid NOT NULL,
    key            text NOT NULL,
    request_sha256 text NOT NULL,
    status_code    integer NOT NULL,
    response       bytea NOT NULL,
    created_at     timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

-- Values that lost an overlapping edit, kept for a supervisor to review.
CREATE TABLE conflicts (
    county_id    uuid NOT NULL,
    id           uuid NOT NULL,
    entity       text NOT NULL,
    entity_id    uuid NOT NULL,
    household_id uuid NOT NULL,
    field        text NOT NULL,
    base_value   jsonb,
    lost_value   jsonb,
    won_value    jsonb,
    lost_version bigint NOT NULL,
    won_version  bigint NOT NULL,
    lost_by      uuid,
    won_by       uuid,
    won_device   text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    resolved_at  timestamptz,
    resolved_by  uuid,
    resolution   text NOT NULL DEFAULT '',
    PRIMARY KEY (county_id, id)
);
CREATE INDEX conflicts_open ON conflicts (county_id, created_at) WHERE resolved_at IS NULL;
CREATE INDEX conflicts_id ON conflicts (id);

-- Who last wrote a household or member field, for the conflict record.
ALTER TABLE households ADD COLUMN updated_by uuid;
ALTER TABLE members ADD COLUMN updated_by uuid;

-- +goose Down
ALTER TABLE members DROP COLUMN updated_by;
ALTER TABLE households DROP COLUMN updated_by;
DROP TABLE conflicts;
DROP TABLE idempotency_keys;
DROP TABLE changes;
DROP SEQUENCE changes_seq;
DROP TABLE visits;
