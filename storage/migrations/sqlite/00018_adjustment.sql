-- +goose Up
-- The yearly adjustment round (每年一季度动态调整, issue 20 item 6): a batch
-- of proposed changes for a town or county and year, reviewed item by item.

CREATE TABLE adjustment_batches (
    county_id   TEXT NOT NULL,
    id          TEXT NOT NULL,
    region_id   TEXT NOT NULL REFERENCES regions(id),
    region_path text NOT NULL,
    year        integer NOT NULL,
    status      text NOT NULL,               -- open | closed
    created_by  TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    closed_at   TIMESTAMP,
    PRIMARY KEY (county_id, id)
);
CREATE INDEX adjustment_batches_id ON adjustment_batches (id);
CREATE INDEX adjustment_batches_region_path ON adjustment_batches (region_path);
-- One open round a region and year, whatever two supervisors send at once.
CREATE UNIQUE INDEX adjustment_batches_one_open ON adjustment_batches (region_id, year) WHERE status = 'open';

CREATE TABLE adjustment_items (
    county_id         TEXT NOT NULL,
    id                TEXT NOT NULL,
    batch_id          TEXT NOT NULL,
    seq               integer NOT NULL,
    household_id      TEXT NOT NULL,
    kind              text NOT NULL,         -- exit | identification | removal | repairing | poverty_type
    source            text NOT NULL,         -- candidates | import
    reason            text NOT NULL,
    evidence          TEXT NOT NULL DEFAULT '[]',
    household_version INTEGER NOT NULL,
    poverty_type      text NOT NULL DEFAULT '',
    cadre_id          TEXT,
    from_cadre_id     TEXT,
    state             text NOT NULL,         -- pending | applied | rejected | stale
    state_reason      text NOT NULL DEFAULT '',
    result_id         TEXT,
    reviewed_by       TEXT,
    reviewed_at       TIMESTAMP,
    created_at        TIMESTAMP NOT NULL,
    PRIMARY KEY (county_id, id),
    UNIQUE (county_id, batch_id, household_id, kind),
    FOREIGN KEY (county_id, batch_id) REFERENCES adjustment_batches (county_id, id)
);
CREATE INDEX adjustment_items_batch ON adjustment_items (county_id, batch_id, seq);

-- +goose Down
DROP TABLE adjustment_items;
DROP TABLE adjustment_batches;
