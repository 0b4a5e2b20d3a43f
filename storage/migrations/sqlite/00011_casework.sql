-- +goose Up
-- Household casework (DESIGN §6b, issue 20): yearly income accounts
-- (收入测算, amounts in fen), each year's exit standard, and the step-by-step
-- procedures (两公示一公告) for exit, identification and removal.

CREATE TABLE income_accounts (
    county_id       TEXT NOT NULL,
    id              TEXT NOT NULL,            -- derived from (household, year): two phones write one record
    household_id    TEXT NOT NULL,
    year            integer NOT NULL,
    wages_fen       INTEGER NOT NULL,
    business_fen    INTEGER NOT NULL,
    transfers_fen   INTEGER NOT NULL,
    pensions_fen    INTEGER NOT NULL,
    property_fen    INTEGER NOT NULL,
    costs_fen       INTEGER NOT NULL,
    members_counted integer NOT NULL,
    notes           text NOT NULL DEFAULT '',
    version         integer NOT NULL,
    updated_by      TEXT,
    device_id       text NOT NULL DEFAULT '',
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (county_id, id),
    UNIQUE (county_id, household_id, year)
);
CREATE INDEX income_accounts_household ON income_accounts (household_id, year);

CREATE TABLE exit_standards (
    year             integer PRIMARY KEY,
    per_capita_fen   INTEGER NOT NULL,
    poverty_line_fen INTEGER NOT NULL,
    stable_years     integer NOT NULL,
    indicators       TEXT NOT NULL,
    version          integer NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);

CREATE TABLE casework_procedures (
    county_id    TEXT NOT NULL,
    id           TEXT NOT NULL,
    household_id TEXT NOT NULL,
    region_path  text NOT NULL,
    kind         text NOT NULL,               -- exit | identification | removal
    year         integer NOT NULL,
    poverty_type text NOT NULL DEFAULT '',
    reason       text NOT NULL DEFAULT '',
    status       text NOT NULL,               -- open | completed
    created_by   TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    version      integer NOT NULL,
    PRIMARY KEY (county_id, id)
);
CREATE INDEX casework_procedures_id ON casework_procedures (id);
CREATE INDEX casework_procedures_household ON casework_procedures (county_id, household_id, status);
-- At most one open procedure a household, whatever two supervisors send at once.
CREATE UNIQUE INDEX casework_procedures_one_open ON casework_procedures (county_id, household_id) WHERE status = 'open';

CREATE TABLE casework_procedure_steps (
    county_id    TEXT NOT NULL,
    id           TEXT NOT NULL,
    procedure_id TEXT NOT NULL,
    code         text NOT NULL,
    seq          integer NOT NULL,
    done_on      text NOT NULL,               -- YYYY-MM-DD, Asia/Shanghai
    note         text NOT NULL DEFAULT '',
    document_ids TEXT NOT NULL DEFAULT '[]',
    photo_ids    TEXT NOT NULL DEFAULT '[]',
    confirmed    TEXT NOT NULL DEFAULT '[]',
    recorded_by  TEXT NOT NULL,
    recorded_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (county_id, id),
    UNIQUE (county_id, procedure_id, seq)
);

-- +goose Down
DROP TABLE casework_procedure_steps;
DROP TABLE casework_procedures;
DROP TABLE exit_standards;
DROP TABLE income_accounts;
