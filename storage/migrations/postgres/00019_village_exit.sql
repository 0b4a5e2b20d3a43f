-- +goose Up
-- Poor-village exit (贫困村出列, issue 20): a procedure may belong to a
-- village rather than a household (village_id set, household_id empty);
-- each year's village criteria; the facts recorded per village and year
-- (collective income, the 五通七有 items); and the villages' exits with
-- their year, as history.

ALTER TABLE casework_procedures ALTER COLUMN household_id DROP NOT NULL;
ALTER TABLE casework_procedures ADD COLUMN village_id uuid;
ALTER TABLE casework_procedures ADD CONSTRAINT casework_procedures_one_subject
    CHECK ((household_id IS NULL) <> (village_id IS NULL));
-- At most one open procedure a village, as for a household.
CREATE UNIQUE INDEX casework_procedures_one_open_village ON casework_procedures (county_id, village_id)
    WHERE status = 'open' AND village_id IS NOT NULL;

CREATE TABLE village_exit_standards (
    year                  integer PRIMARY KEY,
    incidence_permille    integer NOT NULL,   -- poverty incidence must be below this (‰)
    collective_income_fen bigint NOT NULL,    -- the village collective's yearly income must reach this
    indicators            jsonb NOT NULL,     -- yes/no items (五通七有): [{code, name_zh}]
    version               integer NOT NULL,
    updated_at            timestamptz NOT NULL
);

CREATE TABLE village_exit_records (
    county_id             uuid NOT NULL,
    village_id            uuid NOT NULL,
    year                  integer NOT NULL,
    collective_income_fen bigint,             -- null: not recorded
    indicators            jsonb NOT NULL,     -- {code: true|false}
    notes                 text NOT NULL DEFAULT '',
    version               integer NOT NULL,
    updated_by            uuid NOT NULL,
    updated_at            timestamptz NOT NULL,
    PRIMARY KEY (county_id, village_id, year)
);

CREATE TABLE village_exits (
    county_id    uuid NOT NULL,
    village_id   uuid NOT NULL,
    procedure_id uuid NOT NULL,
    year         integer NOT NULL,
    exited_on    text NOT NULL,               -- YYYY-MM-DD, the announcement's day
    recorded_by  uuid NOT NULL,
    recorded_at  timestamptz NOT NULL,
    PRIMARY KEY (county_id, village_id, procedure_id)
);

-- +goose Down
DROP TABLE village_exits;
DROP TABLE village_exit_records;
DROP TABLE village_exit_standards;
DROP INDEX casework_procedures_one_open_village;
DELETE FROM casework_procedure_steps WHERE procedure_id IN (SELECT id FROM casework_procedures WHERE village_id IS NOT NULL);
DELETE FROM casework_procedures WHERE village_id IS NOT NULL;
ALTER TABLE casework_procedures DROP CONSTRAINT casework_procedures_one_subject;
ALTER TABLE casework_procedures DROP COLUMN village_id;
ALTER TABLE casework_procedures ALTER COLUMN household_id SET NOT NULL;
