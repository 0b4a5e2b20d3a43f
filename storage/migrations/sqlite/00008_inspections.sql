-- +goose Up
-- Inspections (DESIGN §7): campaigns, their reproducible samples, the
-- inspectors' tasks, findings, and the ledger of items closed one by one
-- (整改台账, also the cadres' 四本台账), with accountability actions.

CREATE TABLE inspection_campaigns (
    id              TEXT PRIMARY KEY,
    county_id       TEXT,                    -- the campaign region's county (none above county level)
    region_id       TEXT NOT NULL REFERENCES regions(id),
    region_path     text NOT NULL,
    name            text NOT NULL,
    period_from     text NOT NULL,           -- YYYY-MM-DD, Asia/Shanghai
    period_to       text NOT NULL,
    mode            text NOT NULL,           -- announced | unannounced | cross
    plan            TEXT NOT NULL,
    status          text NOT NULL,           -- planned | drawn | ended
    created_by      TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    ended_at        TIMESTAMP,
    seed            text NOT NULL DEFAULT '',
    algorithm       text NOT NULL DEFAULT '',
    population_hash text NOT NULL DEFAULT '',
    drawn_at        TIMESTAMP,
    shortfalls      TEXT NOT NULL DEFAULT '[]',
    version         INTEGER NOT NULL
);
CREATE INDEX inspection_campaigns_region ON inspection_campaigns (region_path);

CREATE TABLE inspection_inspectors (
    campaign_id TEXT NOT NULL REFERENCES inspection_campaigns(id),
    user_id     TEXT NOT NULL REFERENCES users(id),
    PRIMARY KEY (campaign_id, user_id)
);
CREATE INDEX inspection_inspectors_user ON inspection_inspectors (user_id);

-- The drawn villages and households, in draw order.
CREATE TABLE inspection_sample_villages (
    campaign_id TEXT NOT NULL REFERENCES inspection_campaigns(id),
    village_id  TEXT NOT NULL,
    town_id     TEXT NOT NULL,
    stratum     text NOT NULL,
    position    INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, village_id)
);
CREATE TABLE inspection_sample (
    campaign_id  TEXT NOT NULL REFERENCES inspection_campaigns(id),
    household_id TEXT NOT NULL,
    county_id    TEXT NOT NULL,
    village_id   TEXT NOT NULL,
    town_id      TEXT NOT NULL,
    stratum      text NOT NULL,
    position     INTEGER NOT NULL,
    done_at      TIMESTAMP,                -- the household's inspection was recorded
    PRIMARY KEY (campaign_id, household_id)
);
CREATE INDEX inspection_sample_household ON inspection_sample (household_id);

-- Who inspects which sampled household; an active task puts the household
-- in the inspector's sync scope.
CREATE TABLE inspection_tasks (
    campaign_id  TEXT NOT NULL REFERENCES inspection_campaigns(id),
    household_id TEXT NOT NULL,
    inspector_id TEXT NOT NULL,
    county_id    TEXT NOT NULL,
    active       boolean NOT NULL,
    PRIMARY KEY (campaign_id, household_id, inspector_id)
);
CREATE INDEX inspection_tasks_inspector ON inspection_tasks (inspector_id, household_id) WHERE active;

-- Findings: one form filled in for a household (or a village) of a campaign.
CREATE TABLE inspection_findings (
    id           TEXT PRIMARY KEY,
    campaign_id  TEXT NOT NULL REFERENCES inspection_campaigns(id),
    county_id    TEXT NOT NULL,
    household_id TEXT,                       -- null for a village form
    village_id   TEXT NOT NULL,
    form_code    text NOT NULL,
    form_version INTEGER NOT NULL,
    answers      TEXT NOT NULL,
    inspector_id TEXT NOT NULL,
    visit_id     TEXT,                       -- the inspection visit it was recorded on
    recorded_at  TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    version      INTEGER NOT NULL
);
CREATE UNIQUE INDEX inspection_findings_household ON inspection_findings (campaign_id, household_id) WHERE household_id IS NOT NULL;
CREATE UNIQUE INDEX inspection_findings_village ON inspection_findings (campaign_id, village_id) WHERE household_id IS NULL;

-- Items closed one by one (销号): rectifications and cadres' ledgers.
CREATE TABLE ledger_items (
    id                  TEXT PRIMARY KEY,
    county_id           TEXT NOT NULL,
    kind                text NOT NULL,       -- rectification | request | hardship | …
    campaign_id         TEXT,
    finding_id          TEXT,
    household_id        TEXT,
    village_id          TEXT,
    region_path         text NOT NULL,
    problem             text NOT NULL,
    responsible_user_id TEXT,
    responsible_unit_id TEXT,
    deadline            text NOT NULL DEFAULT '',
    status              text NOT NULL,
    evidence            TEXT NOT NULL DEFAULT '{}',
    created_by          TEXT NOT NULL,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL,
    closed_at           TIMESTAMP,
    closed_by           TEXT,
    version             INTEGER NOT NULL
);
CREATE INDEX ledger_items_region ON ledger_items (region_path, status);
CREATE INDEX ledger_items_campaign ON ledger_items (campaign_id) WHERE campaign_id IS NOT NULL;
CREATE TABLE ledger_item_events (
    id          TEXT PRIMARY KEY,
    item_id     TEXT NOT NULL REFERENCES ledger_items(id),
    action      text NOT NULL,
    from_status text NOT NULL,
    to_status   text NOT NULL,
    by_user     TEXT NOT NULL,
    at          TIMESTAMP NOT NULL,
    note        text NOT NULL DEFAULT '',
    evidence    TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX ledger_item_events_item ON ledger_item_events (item_id, at);

-- Supervision orders (督办单), circulars (通报) and warnings (黄牌警告),
-- each with its follow-up.
CREATE TABLE accountability_actions (
    id             TEXT PRIMARY KEY,
    county_id      TEXT,
    campaign_id    TEXT,
    kind           text NOT NULL,            -- supervision_order | circular | warning
    target_unit_id TEXT,
    target_user_id TEXT,
    region_path    text NOT NULL,
    reason         text NOT NULL,
    issued_by      TEXT NOT NULL,
    issued_at      TIMESTAMP NOT NULL,
    follow_up      text NOT NULL DEFAULT '',
    followed_up_at TIMESTAMP,
    version        INTEGER NOT NULL
);
CREATE INDEX accountability_actions_region ON accountability_actions (region_path);

-- +goose Down
DROP TABLE accountability_actions;
DROP TABLE ledger_item_events;
DROP TABLE ledger_items;
DROP TABLE inspection_findings;
DROP TABLE inspection_tasks;
DROP TABLE inspection_sample;
DROP TABLE inspection_sample_villages;
DROP TABLE inspection_inspectors;
DROP TABLE inspection_campaigns;
