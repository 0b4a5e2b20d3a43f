-- +goose Up
-- Poor-village exit (贫困村出列, issue 20): a procedure may belong to a
-- village rather than a household (village_id set, household_id empty);
-- each year's village criteria; the facts recorded per village and year
-- (collective income, the 五通七有 items); and the villages' exits with
-- their year, as history. SQLite cannot drop a NOT NULL: the procedures
-- table is rebuilt.

CREATE TABLE casework_procedures_rebuilt (
    county_id    TEXT NOT NULL,
    id           TEXT NOT NULL,
    household_id TEXT,
    village_id   TEXT,
    region_path  text NOT NULL,
    kind         text NOT NULL,
    year         integer NOT NULL,
    poverty_type text NOT NULL DEFAULT '',
    reason       text NOT NULL DEFAULT '',
    status       text NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    version      integer NOT NULL,
    PRIMARY KEY (county_id, id),
    CHECK ((household_id IS NULL) <> (village_id IS NULL))
);
INSERT INTO casework_procedures_rebuilt (county_id, id, household_id, region_path, kind, year, poverty_type, reason, status, created_by,
    created_at, updated_at, version)
SELECT county_id, id, household_id, region_path, kind, year, poverty_type, reason, status, created_by, created_at, updated_at, version
FROM casework_procedures;
DROP TABLE casework_procedures;
ALTER TABLE casework_procedures_rebuilt RENAME TO casework_procedures;
CREATE INDEX casework_procedures_id ON casework_procedures (id);
CREATE INDEX casework_procedures_household ON casework_procedures (county_id, household_id, status);
CREATE UNIQUE INDEX casework_procedures_one_open ON casework_procedures (county_id, household_id) WHERE status = 'open';
CREATE UNIQUE INDEX casework_procedures_one_open_village ON casework_procedures (county_id, village_id)
    WHERE status = 'open' AND village_id IS NOT NULL;

CREATE TABLE village_exit_standards (
    year                  integer PRIMARY KEY,
    incidence_permille    integer NOT NULL,
    collective_income_fen INTEGER NOT NULL,
    indicators            TEXT NOT NULL,
    version               integer NOT NULL,
    updated_at            TIMESTAMP NOT NULL
);

CREATE TABLE village_exit_records (
    county_id             TEXT NOT NULL,
    village_id            TEXT NOT NULL,
    year                  integer NOT NULL,
    collective_income_fen INTEGER,
    indicators            TEXT NOT NULL,
    notes                 text NOT NULL DEFAULT '',
    version               integer NOT NULL,
    updated_by            TEXT NOT NULL,
    updated_at            TIMESTAMP NOT NULL,
    PRIMARY KEY (county_id, village_id, year)
);

CREATE TABLE village_exits (
    county_id    TEXT NOT NULL,
    village_id   TEXT NOT NULL,
    procedure_id TEXT NOT NULL,
    year         integer NOT NULL,
    exited_on    text NOT NULL,
    recorded_by  TEXT NOT NULL,
    recorded_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (county_id, village_id, procedure_id)
);

-- +goose Down
DROP TABLE village_exits;
DROP TABLE village_exit_records;
DROP TABLE village_exit_standards;
DELETE FROM casework_procedure_steps WHERE procedure_id IN (SELECT id FROM casework_procedures WHERE village_id IS NOT NULL);
DELETE FROM casework_procedures WHERE village_id IS NOT NULL;
CREATE TABLE casework_procedures_rebuilt (
    county_id    TEXT NOT NULL,
    id           TEXT NOT NULL,
    household_id TEXT NOT NULL,
    region_path  text NOT NULL,
    kind         text NOT NULL,
    year         integer NOT NULL,
    poverty_type text NOT NULL DEFAULT '',
    reason       text NOT NULL DEFAULT '',
    status       text NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    version      integer NOT NULL,
    PRIMARY KEY (county_id, id)
);
INSERT INTO casework_procedures_rebuilt SELECT county_id, id, household_id, region_path, kind, year, poverty_type, reason, status, created_by,
    created_at, updated_at, version FROM casework_procedures;
DROP TABLE casework_procedures;
ALTER TABLE casework_procedures_rebuilt RENAME TO casework_procedures;
CREATE INDEX casework_procedures_id ON casework_procedures (id);
CREATE INDEX casework_procedures_household ON casework_procedures (county_id, household_id, status);
CREATE UNIQUE INDEX casework_procedures_one_open ON casework_procedures (county_id, household_id) WHERE status = 'open';
