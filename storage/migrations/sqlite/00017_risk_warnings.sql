-- +goose Up
-- Early warning (监测预警, issue 20 item 5): the risks a visit records and
-- the income it adds to the year's account (增收减支) ride on the visit; a
-- risk at a non-registered household puts it on the edge list, at an
-- exited one on the watch list, one warning row each until a supervisor
-- resolves it. A relapse names its cause in the status history.
ALTER TABLE visits ADD COLUMN risk_triggers TEXT NOT NULL DEFAULT '[]';
ALTER TABLE visits ADD COLUMN income_updates TEXT NOT NULL DEFAULT '[]';
ALTER TABLE household_status_changes ADD COLUMN cause text NOT NULL DEFAULT '';

CREATE TABLE risk_warnings (
    county_id       TEXT NOT NULL,
    id              TEXT NOT NULL,            -- derived from (visit, trigger): a visit pushed twice raises one
    household_id    TEXT NOT NULL,
    region_path     text NOT NULL,            -- the household's, for scope
    list            text NOT NULL,            -- edge | watch
    trigger_code    text NOT NULL,
    note            text NOT NULL DEFAULT '',
    visit_id        TEXT NOT NULL,
    seen_on         TEXT NOT NULL,            -- the visit's day
    cadre_id        TEXT NOT NULL,
    state           text NOT NULL,            -- open | resolved
    resolution      text NOT NULL DEFAULT '', -- cleared | edge | relapsed | withdrawn
    resolution_note text NOT NULL DEFAULT '',
    cause           text NOT NULL DEFAULT '', -- relapsed: the relapse cause
    resolved_by     TEXT,
    resolved_at     TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    version         INTEGER NOT NULL,
    PRIMARY KEY (county_id, id),
    FOREIGN KEY (county_id, household_id) REFERENCES households (county_id, id)
);
CREATE INDEX risk_warnings_id ON risk_warnings (id);
CREATE INDEX risk_warnings_household ON risk_warnings (county_id, household_id, state);
CREATE INDEX risk_warnings_list ON risk_warnings (list, state, seen_on);

-- +goose Down
DROP TABLE risk_warnings;
ALTER TABLE household_status_changes DROP COLUMN cause;
ALTER TABLE visits DROP COLUMN income_updates;
ALTER TABLE visits DROP COLUMN risk_triggers;
