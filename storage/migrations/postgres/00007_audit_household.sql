-- +goose Up
-- The audit log is read by user, by household and by date (an admin
-- following who read whose 身份证号), so each entry names its household.
ALTER TABLE audit_log ADD COLUMN household_id uuid;
-- Older household and member entries name their household already, in
-- object_id or in detail; the append-only trigger stands aside for the
-- copy only.
ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change;
UPDATE audit_log SET household_id = object_id::uuid
 WHERE object_type = 'household' AND object_id ~ '^[0-9a-f-]{36}$';
UPDATE audit_log SET household_id = (detail->>'household_id')::uuid
 WHERE object_type IN ('member', 'pairing') AND detail->>'household_id' ~ '^[0-9a-f-]{36}$';
ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change;
CREATE INDEX audit_log_household ON audit_log (household_id, at) WHERE household_id IS NOT NULL;
CREATE INDEX audit_log_actor ON audit_log (actor_id, at);

-- +goose Down
DROP INDEX audit_log_actor;
DROP INDEX audit_log_household;
ALTER TABLE audit_log DROP COLUMN household_id;
