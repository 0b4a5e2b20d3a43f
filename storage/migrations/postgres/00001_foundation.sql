-- +goose Up
-- Tables that grow per household carry county_id and include it in their key,
-- so they can be distributed by county (Citus) without a schema change.

CREATE TABLE regions (
    id              uuid PRIMARY KEY,
    parent_id       uuid REFERENCES regions(id),
    level           text NOT NULL,
    code            text NOT NULL UNIQUE,
    name            text NOT NULL,
    county_id       uuid,
    path            text NOT NULL,
    is_poor_village boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX regions_parent ON regions (parent_id);
CREATE INDEX regions_path ON regions (path text_pattern_ops);

CREATE TABLE units (
    id         uuid PRIMARY KEY,
    name       text NOT NULL,
    region_id  uuid NOT NULL REFERENCES regions(id),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (region_id, name)
);

CREATE TABLE unit_assignments (
    id         uuid PRIMARY KEY,
    unit_id    uuid NOT NULL REFERENCES units(id),
    village_id uuid NOT NULL REFERENCES regions(id),
    group_id   uuid REFERENCES regions(id),
    county_id  uuid NOT NULL,
    start_on   date NOT NULL,
    end_on     date
);
CREATE INDEX unit_assignments_unit ON unit_assignments (unit_id);
CREATE INDEX unit_assignments_village ON unit_assignments (village_id);

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    username      text NOT NULL UNIQUE,
    display_name  text NOT NULL,
    role          text NOT NULL,
    region_id     uuid NOT NULL REFERENCES regions(id),
    region_path   text NOT NULL,
    phone         text NOT NULL DEFAULT '',
    unit_id       uuid REFERENCES units(id),
    rank          text NOT NULL DEFAULT '',
    duties        jsonb NOT NULL DEFAULT '[]',
    password_hash text NOT NULL,
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX users_region_path ON users (region_path text_pattern_ops);

CREATE TABLE devices (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users(id),
    device_id  text NOT NULL,
    name       text NOT NULL DEFAULT '',
    first_seen timestamptz NOT NULL,
    last_seen  timestamptz NOT NULL,
    revoked_at timestamptz,
    UNIQUE (user_id, device_id)
);

CREATE TABLE refresh_tokens (
    id          uuid PRIMARY KEY,
    family_id   uuid NOT NULL,
    parent_id   uuid,
    user_id     uuid NOT NULL REFERENCES users(id),
    device_id   text NOT NULL,
    token_hash  text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

CREATE TABLE households (
    county_id            uuid NOT NULL,
    id                   uuid NOT NULL,
    region_id            uuid NOT NULL REFERENCES regions(id),
    village_id           uuid NOT NULL REFERENCES regions(id),
    region_path          text NOT NULL,
    number               text NOT NULL DEFAULT '',
    head_name            text NOT NULL,
    address              text NOT NULL DEFAULT '',
    phone                text NOT NULL DEFAULT '',
    home_lat             double precision,
    home_lon             double precision,
    housing_structure    text NOT NULL DEFAULT '',
    housing_safety_grade text NOT NULL DEFAULT '',
    housing_area         double precision,
    arable_land          double precision,
    annual_income        double precision,
    income_notes         text NOT NULL DEFAULT '',
    causes               jsonb NOT NULL DEFAULT '[]',
    poverty_type         text NOT NULL DEFAULT '',
    status               text NOT NULL,
    exit_year            integer,
    registered_year      integer,
    version              bigint NOT NULL DEFAULT 1,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    PRIMARY KEY (county_id, id)
);
CREATE INDEX households_id ON households (id);
CREATE INDEX households_region_path ON households (region_path text_pattern_ops);
CREATE INDEX households_village_status ON households (village_id, status);
CREATE UNIQUE INDEX households_number ON households (county_id, number) WHERE number <> '';

CREATE TABLE members (
    county_id    uuid NOT NULL,
    id           uuid NOT NULL,
    household_id uuid NOT NULL,
    name         text NOT NULL,
    relation     text NOT NULL,
    id_number    text NOT NULL DEFAULT '',
    gender       text NOT NULL DEFAULT '',
    birth_date   date,
    health       text NOT NULL DEFAULT '',
    disability   text NOT NULL DEFAULT '',
    education    text NOT NULL DEFAULT '',
    work         text NOT NULL DEFAULT '',
    phone        text NOT NULL DEFAULT '',
    version      bigint NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (county_id, id),
    FOREIGN KEY (county_id, household_id) REFERENCES households (county_id, id)
);
CREATE INDEX members_household ON members (county_id, household_id);
CREATE UNIQUE INDEX members_id_number ON members (county_id, id_number) WHERE id_number <> '';

CREATE TABLE household_status_changes (
    county_id    uuid NOT NULL,
    id           uuid NOT NULL,
    household_id uuid NOT NULL,
    from_status  text NOT NULL,
    to_status    text NOT NULL,
    exit_year    integer,
    effective_on date NOT NULL,
    reason       text NOT NULL DEFAULT '',
    changed_by   uuid,
    recorded_at  timestamptz NOT NULL,
    PRIMARY KEY (county_id, id),
    FOREIGN KEY (county_id, household_id) REFERENCES households (county_id, id)
);
CREATE INDEX household_status_changes_household ON household_status_changes (county_id, household_id, effective_on);

CREATE TABLE household_poverty_type_changes (
    county_id    uuid NOT NULL,
    id           uuid NOT NULL,
    household_id uuid NOT NULL,
    from_type    text NOT NULL,
    to_type      text NOT NULL,
    effective_on date NOT NULL,
    reason       text NOT NULL DEFAULT '',
    changed_by   uuid,
    recorded_at  timestamptz NOT NULL,
    PRIMARY KEY (county_id, id),
    FOREIGN KEY (county_id, household_id) REFERENCES households (county_id, id)
);
CREATE INDEX household_poverty_type_changes_household ON household_poverty_type_changes (county_id, household_id, effective_on);

CREATE TABLE pairings (
    county_id    uuid NOT NULL,
    id           uuid NOT NULL,
    household_id uuid NOT NULL,
    cadre_id     uuid NOT NULL REFERENCES users(id),
    start_on     date NOT NULL,
    end_on       date,
    end_reason   text NOT NULL DEFAULT '',
    created_by   uuid,
    created_at   timestamptz NOT NULL,
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
    id          uuid PRIMARY KEY,
    at          timestamptz NOT NULL,
    actor_id    uuid,
    actor_name  text NOT NULL DEFAULT '',
    action      text NOT NULL,
    object_type text NOT NULL,
    object_id   text NOT NULL DEFAULT '',
    region_path text NOT NULL DEFAULT '',
    detail      jsonb NOT NULL DEFAULT '{}',
    request_id  text NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_object ON audit_log (object_type, object_id);

-- +goose StatementBegin
CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

-- demo_marker records that `serve --demo` seeded this database, so demo mode
-- can refuse a database it did not seed.
CREATE TABLE settings (
    key   text PRIMARY KEY,
    value text NOT NULL
);

-- +goose Down
DROP TABLE settings;
DROP TRIGGER audit_log_no_change ON audit_log;
DROP FUNCTION audit_log_append_only();
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
