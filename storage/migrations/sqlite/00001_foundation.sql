-- +goose Up
-- SQLite twin of the PostgreSQL schema (the embedded default). Types are
-- SQLite's; dates are ISO text, so they compare in order.

CREATE TABLE regions (
    id              TEXT PRIMARY KEY,
    parent_id       TEXT REFERENCES regions(id),
    level           text NOT NULL,
    code            text NOT NULL UNIQUE,
    name            text NOT NULL,
    county_id       TEXT,
    path            text NOT NULL,
    is_poor_village INTEGER NOT NULL DEFAULT 0,
    created_at      TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX regions_parent ON regions (parent_id);
CREATE INDEX regions_path ON regions (path);

CREATE TABLE units (
    id         TEXT PRIMARY KEY,
    name       text NOT NULL,
    region_id  TEXT NOT NULL REFERENCES regions(id),
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (region_id, name)
);

CREATE TABLE unit_assignments (
    id         TEXT PRIMARY KEY,
    unit_id    TEXT NOT NULL REFERENCES units(id),
    village_id TEXT NOT NULL REFERENCES regions(id),
    group_id   TEXT REFERENCES regions(id),
    county_id  TEXT NOT NULL,
    start_on   TEXT NOT NULL,
    end_on     TEXT
);
CREATE INDEX unit_assignments_unit ON unit_assignments (unit_id);
CREATE INDEX unit_assignments_village ON unit_assignments (village_id);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      text NOT NULL UNIQUE,
    display_name  text NOT NULL,
    role          text NOT NULL,
    region_id     TEXT NOT NULL REFERENCES regions(id),
    region_path   text NOT NULL,
    phone         text NOT NULL DEFAULT '',
    unit_id       TEXT REFERENCES units(id),
    rank          text NOT NULL DEFAULT '',
    duties        TEXT NOT NULL DEFAULT '[]',
    password_hash text NOT NULL,
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at    TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX users_region_path ON users (region_path);

CREATE TABLE devices (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    device_id  text NOT NULL,
    name       text NOT NULL DEFAULT '',
    first_seen TIMESTAMP NOT NULL,
    last_seen  TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    UNIQUE (user_id, device_id)
);

CREATE TABLE refresh_tokens (
    id          TEXT PRIMARY KEY,
    family_id   TEXT NOT NULL,
    parent_id   TEXT,
    user_id     TEXT NOT NULL REFERENCES users(id),
    device_id   text NOT NULL,
    token_hash  text NOT NULL UNIQUE,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP,
    revoked_at  TIMESTAMP
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

CREATE TABLE households (
    county_id            TEXT NOT NULL,
    id                   TEXT NOT NULL,
    region_id            TEXT NOT NULL REFERENCES regions(id),
    village_id           TEXT NOT NULL REFERENCES regions(id),
    region_path          text NOT NULL,
    number               text NOT NULL DEFAULT '',
    head_name            text NOT NULL,
    address              text NOT NULL DEFAULT '',
    phone                text NOT NULL DEFAULT '',
    home_lat             REAL,
    home_lon             REAL,
    housing_structure    text NOT NULL DEFAULT '',
    housing_safety_grade text NOT NULL DEFAULT '',
    housing_area         REAL,
    arable_land          REAL,
    annual_income        REAL,
    income_notes         text NOT NULL DEFAULT '',
    causes               TEXT NOT NULL DEFAULT '[]',
    poverty_type         text NOT NULL DEFAULT '',
    status               text NOT NULL,
    exit_year            integer,
    registered_year      integer,
    version              INTEGER NOT NULL DEFAULT 1,
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL,
    PRIMARY KEY (county_id, id)
);
CREATE INDEX households_id ON households (id);
CREATE INDEX households_region_path ON households (region_path);
CREATE INDEX households_village_status ON households (village_id, status);
CREATE UNIQUE INDEX households_number ON households (county_id, number) WHERE number <> '';

CREATE TABLE members (
    county_id    TEXT NOT NULL,
    id           TEXT NOT NULL,
    household_id TEXT NOT NULL,
    name         text NOT NULL,
    relation     text NOT NULL,
    id_number    text NOT NULL DEFAULT '',
    gender       text NOT NULL DEFAULT '',
    birth_date   TEXT,
    health       text NOT NULL DEFAULT '',
    disability   text NOT NULL DEFAULT '',
    education    text NOT NULL DEFAULT '',
    work         text NOT NULL DEFAULT '',
    phone        text NOT NULL DEFAULT '',
    version      INTEGER NOT NULL DEFAULT 1,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (county_id, id),
    FOREIGN KEY (county_id, household_id) REFERENCES households (county_id, id)
);
CREATE INDEX members_household ON members (county_id, household_id);
CREATE UNIQUE INDEX members_id_number ON members (county_id, id_number) WHERE id_number <> '';

CREATE TABLE household_status_changes (
    county_id    TEXT NOT NULL,
    id           TEXT NOT NULL,
    household_id TEXT NOT NULL,
    from_status  text NOT NULL,
    to_status    text NOT NULL,
    exit_year    integer,
    effective_on TEXT NOT NULL,
    reason       text NOT NULL DEFAULT '',
    changed_by   TEXT,
    recorded_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (county_id, id),
    FOREIGN KEY (county_id, household_id) REFERENCES households (county_id, id)
);
CREATE INDEX household_status_changes_household ON household_status_changes (county_id, household_id, effective_on);

CREATE TABLE household_poverty_type_changes (
    county_id    TEXT NOT NULL,
    id           TEXT NOT NULL,
    household_id TEXT NOT NULL,
    from_type    text NOT NULL,
    to_type      text NOT NULL,
    effective_on TEXT NOT NULL,
    reason       text NOT NULL DEFAULT '',
    changed_by   TEXT,
    recorded_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (county_id, id),
    FOREIGN KEY (county_id, household_id) REFERENCES households (county_id, id)
);
CREATE INDEX household_poverty_type_changes_household ON household_poverty_type_changes (county_id, household_id, effective_on);

CREATE TABLE pairings (
    county_id    TEXT NOT NULL,
    id           TEXT NOT NULL,
    household_id TEXT NOT NULL,
    cadre_id     TEXT NOT NULL REFERENCES users(id),
    start_on     TEXT NOT NULL,
    end_on       TEXT,
    end_reason   text NOT NULL DEFAULT '',
    created_by   TEXT,
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (county_id, id),
    FOREIGN KEY (county_id, household_id) REFERENCES households (county_id, id)
);
CREATE INDEX pairings_household ON pairings (county_id, household_id);
CREATE INDEX pairings_cadre ON pairings (cadre_id) WHERE end_on IS NULL;
-- one open pairing per household and cadre
CREATE UNIQUE INDEX pairings_open ON pairings (county_id, household_id, cadre_id) WHERE end_on IS NULL;

-- The audit log is append-only: the trigger refuses UPDATE and DELETE even for
-- the application's own role.
CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    at          TIMESTAMP NOT NULL,
    actor_id    TEXT,
    actor_name  text NOT NULL DEFAULT '',
    action      text NOT NULL,
    object_type text NOT NULL,
    object_id   text NOT NULL DEFAULT '',
    region_path text NOT NULL DEFAULT '',
    detail      TEXT NOT NULL DEFAULT '{}',
    request_id  text NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_object ON audit_log (object_type, object_id);

-- +goose StatementBegin
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd

-- demo_marker records that `serve --demo` seeded this database, so demo mode
-- can refuse a database it did not seed.
CREATE TABLE settings (
    key   text PRIMARY KEY,
    value text NOT NULL
);

-- +goose Down
DROP TABLE settings;
DROP TRIGGER audit_log_no_update;
DROP TRIGGER audit_log_no_delete;
DROP TABLE audit_log;
DROP TABLE pairings;
DROP TABLE household_poverty_type_changes;
DROP TABLE household_status_changes;
DROP TABLE members;
DROP TABLE households;
DROP TABLE refresh_tokens;
DROP TABLE devices;
DROP TABLE users;
DROP TABLE unit_assignments;
DROP TABLE units;
DROP TABLE regions;
