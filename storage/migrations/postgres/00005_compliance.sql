-- +goose Up
-- Rule profiles (DESIGN §6): rules as data, grouped in profiles that
-- counties and towns are judged by. Every saved version is kept, so a
-- status can say which version judged it.
CREATE TABLE rule_profiles (
    code        text PRIMARY KEY,
    name_zh     text NOT NULL,
    version     integer NOT NULL,
    body        jsonb NOT NULL,          -- the profile as the admin API shows it
    builtin     boolean NOT NULL DEFAULT false,
    updated_by  uuid,
    updated_at  timestamptz NOT NULL
);
CREATE TABLE rule_profile_versions (
    code        text NOT NULL REFERENCES rule_profiles(code),
    version     integer NOT NULL,
    body        jsonb NOT NULL,
    created_by  uuid,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (code, version)
);
-- A county or town judged by a profile; a town without a row takes its
-- county's, a county without one the built-in default.
CREATE TABLE region_rule_profiles (
    region_id    uuid PRIMARY KEY REFERENCES regions(id),
    profile_code text NOT NULL REFERENCES rule_profiles(code),
    assigned_by  uuid,
    assigned_at  timestamptz NOT NULL
);

-- Households and cadres whose statuses for a year must be judged again,
-- written in the same transaction as the visit, flag, status or pairing
-- change that moved them, and drained by a worker.
CREATE TABLE compliance_queue (
    subject_kind text NOT NULL,          -- household | cadre
    subject_id   uuid NOT NULL,
    year         integer NOT NULL,
    county_id    uuid NOT NULL,
    enqueued_at  timestamptz NOT NULL,
    PRIMARY KEY (subject_kind, subject_id, year)
);
CREATE INDEX compliance_queue_age ON compliance_queue (enqueued_at);

-- Which subjects have been judged for a year, and by which profile version:
-- a household no visit ever touched still owes its visits, so the worker
-- judges every subject that has no row here.
CREATE TABLE compliance_subjects (
    subject_kind    text NOT NULL,
    subject_id      uuid NOT NULL,
    year            INTEGER NOT NULL,
    county_id       uuid NOT NULL,
    profile_code    text NOT NULL,
    profile_version INTEGER NOT NULL,
    judged_at       timestamptz NOT NULL,
    PRIMARY KEY (subject_kind, subject_id, year)
);

-- One rule's standing for one subject in one window, kept current by the
-- worker. The state is not stored: it moves with the calendar, so the days
-- it turns due_soon and overdue are, and readers apply today.
CREATE TABLE compliance_statuses (
    county_id       uuid NOT NULL,
    subject_kind    text NOT NULL,       -- household | pairing | cadre
    subject_id      uuid NOT NULL,       -- the household, or the cadre of a duty rule
    cadre_key       uuid NOT NULL,       -- the pairing's cadre; the nil uuid otherwise
    rule_code       text NOT NULL,
    period_key      text NOT NULL,       -- 2026 | 2026-Q4 | 2026-11
    year            integer NOT NULL,
    window_kind     text NOT NULL,
    household_id    uuid,
    cadre_id        uuid,                -- who answers for it
    village_id      uuid,
    town_id         uuid,
    region_path     text NOT NULL,       -- the household's or the cadre's, for scope
    required        integer NOT NULL,
    full_required   integer NOT NULL,
    counted         integer NOT NULL,
    prorated        boolean NOT NULL,
    due_on          text NOT NULL,       -- YYYY-MM-DD, Asia/Shanghai
    due_soon_from   text NOT NULL,
    overdue_from    text,
    detail          jsonb NOT NULL,      -- the judgement: visits counted and not, and why
    profile_code    text NOT NULL,
    profile_version integer NOT NULL,
    computed_at     timestamptz NOT NULL,
    PRIMARY KEY (subject_kind, subject_id, cadre_key, rule_code, period_key)
);
-- Reports count a region's statuses for a period from the index alone: a
-- status row carries its judgement and is nearly a page wide, so reading
-- the table for every status would cost a county report a page per status.
CREATE INDEX compliance_statuses_region ON compliance_statuses (period_key, region_path text_pattern_ops)
    INCLUDE (town_id, village_id, cadre_id, rule_code, required, counted, due_on, due_soon_from, overdue_from);
CREATE INDEX compliance_statuses_cadre ON compliance_statuses (cadre_id, period_key);
CREATE INDEX compliance_statuses_year ON compliance_statuses (subject_id, year);

-- A closed period's statuses, frozen as they stood when it was closed, so a
-- published 通报 never changes afterwards; late visits still count in the
-- live table.
CREATE TABLE compliance_closes (
    county_id  uuid NOT NULL,
    period_key text NOT NULL,
    closed_at  timestamptz NOT NULL,
    closed_by  uuid,
    PRIMARY KEY (county_id, period_key)
);
CREATE TABLE compliance_frozen (
    county_id     uuid NOT NULL,
    period_key    text NOT NULL,
    subject_kind  text NOT NULL,
    subject_id    uuid NOT NULL,
    cadre_key     uuid NOT NULL,
    rule_code     text NOT NULL,
    window_kind   text NOT NULL,
    household_id  uuid,
    cadre_id      uuid,
    village_id    uuid,
    town_id       uuid,
    region_path   text NOT NULL,
    required      integer NOT NULL,
    counted       integer NOT NULL,
    state         text NOT NULL,
    due_on        text NOT NULL,
    detail        jsonb NOT NULL,
    PRIMARY KEY (county_id, period_key, subject_kind, subject_id, cadre_key, rule_code)
);
CREATE INDEX compliance_frozen_region ON compliance_frozen (period_key, region_path text_pattern_ops);

-- +goose Down
DROP TABLE compliance_frozen;
DROP TABLE compliance_closes;
DROP TABLE compliance_statuses;
DROP TABLE compliance_subjects;
DROP TABLE compliance_queue;
DROP TABLE region_rule_profiles;
DROP TABLE rule_profile_versions;
DROP TABLE rule_profiles;
