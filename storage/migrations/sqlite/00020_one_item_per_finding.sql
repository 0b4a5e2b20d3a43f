-- +goose Up
-- One rectification item to work on per inspection finding (整改一项、销号一项):
-- a second registration while the first is not closed is refused (409),
-- and this index keeps two racing ones apart. Findings that got two items
-- before the rule keep both — a ledger loses nothing — with the later ones
-- marked duplicate_of the first, which leaves them out of the index; they
-- are worked on and closed as any item.
ALTER TABLE ledger_items ADD COLUMN duplicate_of TEXT;
UPDATE ledger_items SET duplicate_of = (
        SELECT f.id FROM ledger_items f
        WHERE f.finding_id = ledger_items.finding_id AND f.status <> 'closed'
        ORDER BY f.created_at, f.id LIMIT 1)
    WHERE finding_id IS NOT NULL AND status <> 'closed' AND EXISTS (
        SELECT 1 FROM ledger_items e
        WHERE e.finding_id = ledger_items.finding_id AND e.status <> 'closed'
          AND (e.created_at < ledger_items.created_at OR (e.created_at = ledger_items.created_at AND e.id < ledger_items.id)));
CREATE UNIQUE INDEX ledger_items_one_open_per_finding ON ledger_items (county_id, finding_id)
    WHERE finding_id IS NOT NULL AND status <> 'closed' AND duplicate_of IS NULL;

-- +goose Down
DROP INDEX ledger_items_one_open_per_finding;
ALTER TABLE ledger_items DROP COLUMN duplicate_of;
