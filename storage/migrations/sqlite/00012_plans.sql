-- +goose Up
-- The household's plan (一户一案, issue 20): one row per measure, each on a
-- route out of poverty, with its responsible cadre, target date and state.
-- Phones edit them offline, so they carry a version and deletes are kept
-- as tombstones (deleted), like visits.
CREATE TABLE plan_items (
    county_id            TEXT NOT NULL,
    id                   TEXT NOT NULL,
    household_id         TEXT NOT NULL,
    route                text NOT NULL,
    measure              text NOT NULL,
    responsible_cadre_id TEXT NOT NULL REFERENCES users(id),
    target_on            TEXT NOT NULL,
    state                text NOT NULL,
    notes                text NOT NULL DEFAULT '',
    deleted              INTEGER NOT NULL DEFAULT 0,
    version              INTEGER NOT NULL,
    created_by           TEXT NOT NULL,
    updated_by           TEXT NOT NULL,
    device_id            text NOT NULL DEFAULT '',
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL,
    PRIMARY KEY (county_id, id),
    FOREIGN KEY (county_id, household_id) REFERENCES households (county_id, id)
);
CREATE INDEX plan_items_id ON plan_items (id);
CREATE INDEX plan_items_household ON plan_items (county_id, household_id);

-- Progress a visit records against the plan's measures: [{plan_item_id, note}].
ALTER TABLE visits ADD COLUMN plan_progress TEXT NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE visits DROP COLUMN plan_progress;
DROP TABLE plan_items;
