-- +goose Up
-- An item registered in error is withdrawn (撤销): it ends as 'withdrawn',
-- with when, by whom and why, and no longer counts as its finding's item
-- to work on — a new one may be registered — so the one-open-item index
-- leaves it out as it leaves out a closed one.
ALTER TABLE ledger_items ADD COLUMN withdrawn_at timestamptz;
ALTER TABLE ledger_items ADD COLUMN withdrawn_by uuid;
ALTER TABLE ledger_items ADD COLUMN withdraw_reason text NOT NULL DEFAULT '';
DROP INDEX ledger_items_one_open_per_finding;
CREATE UNIQUE INDEX ledger_items_one_open_per_finding ON ledger_items (county_id, finding_id)
    WHERE finding_id IS NOT NULL AND status NOT IN ('closed', 'withdrawn') AND duplicate_of IS NULL;

-- +goose Down
-- Fails while a finding has a withdrawn item beside a newer one not closed:
-- the old index would count both, and a ledger is not rewritten to fit.
DROP INDEX ledger_items_one_open_per_finding;
CREATE UNIQUE INDEX ledger_items_one_open_per_finding ON ledger_items (county_id, finding_id)
    WHERE finding_id IS NOT NULL AND status <> 'closed' AND duplicate_of IS NULL;
ALTER TABLE ledger_items DROP COLUMN withdraw_reason;
ALTER TABLE ledger_items DROP COLUMN withdrawn_by;
ALTER TABLE ledger_items DROP COLUMN withdrawn_at;
