-- +goose Up
-- The audit log is read by user, by household and by date (an admin
-- following who read whose 身份证号), so each entry names its household.
ALTER TABLE audit_log ADD COLUMN household_id TEXT;
-- Older household and member entries name their household already, in
-- object_id or in detail; the append-only trigger stands aside for the
-- copy only.
DROP TRIGGER audit_log_no_update;
UPDATE audit_log SET household_id = object_id
 WHERE object_type = 'household' AND length(object_id) = 36;
UPDATE audit_log SET household_id = json_extract(detail, '$.household_id')
 WHERE object_type IN ('member', 'pairing') AND length(json_extract(detail, '$.household_id')) = 36;
-- +goose StatementBegin
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd
CREATE INDEX audit_log_household ON audit_log (household_id, at) WHERE household_id IS NOT NULL;
CREATE INDEX audit_log_actor ON audit_log (actor_id, at);

-- +goose Down
DROP INDEX audit_log_actor;
DROP INDEX audit_log_household;
ALTER TABLE audit_log DROP COLUMN household_id;
