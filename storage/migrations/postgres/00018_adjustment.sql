-- +goose Up
-- The yearly adjustment round (每年一季度动态调整, issue 20 item 6): a batch
-- of proposed changes for a town or county and year, reviewed item by item.

CREATE TABLE adjustment_batches (
    county_id   uuid NOT NULL,
    id          uuid NOT NULL,
    region_id   uuid NOT NULL REFERENCES regions(id),
    region_path text NOT NULL,
    year        integer NOT NULL,
    status      text NOT NULL,               -- open | closed
    created_by  uuid NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    closed_at   timestamptz,
    PRIMARY KEY (county_id, id)
);
CREATE INDEX adjustment_batches_id ON adjustment_batches (id);
CREATE INDEX adjustment_batches_region_path ON adjustment_batches (region_path text_pattern_ops);
-- One open round a region and year, whatever two supervisors send at once.
CREATE UNIQUE INDEX adjustment_batches_one_open ON adjustment_batches (region_id, year) WHERE status = 'open';

CREATE TABLE adjustment_items (
    county_id         uuid NOT NULL,
    id                uuid NOT NULL,
    batch_id          uuid NOT NULL,
    seq               integer NOT NULL,
    household_id      uuid NOT NULL,
    kind              text NOT NULL,         -- exit | identification | removal | repairing | poverty_type
    source            text NOT NULL,         -- candidates | import
    reason            text NOT NULL,
    evidence          jsonb NOT NULL DEFAULT '[]',
    household_version bigint NOT NULL,
    poverty_type      text NOT NULL DEFAULT '',
    cadre_id          uuid,
    from_cadre_id     uuid,
    state             text NOT NULL,         -- pending | applied | rejected | stale
    state_reason      text NOT NULL DEFAULT '',
    result_id         uuid,
    reviewed_by       uuid,
    reviewed_at       timestamptz,
    created_at        timestamptz NOT NULL,
    PRIMARY KEY (county_id, id),
    UNIQUE (county_id, batch_id, household_id, kind),
    FOREIGN KEY (county_id, batch_id) REFERENCES adjustment_batches (county_id, id)
);
CREATE INDEX adjustment_items_batch ON adjustment_items (county_id, batch_id, seq);

-- +goose Down
DROP TABLE adjustment_items;
DROP TABLE adjustment_batches;
