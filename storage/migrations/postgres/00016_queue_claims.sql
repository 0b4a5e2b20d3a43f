-- +goose Up
-- The judging and evidence queues are shared by every replica (issue 21): a
-- replica claims a batch by setting claimed_until, and the others skip it
-- until the claim ends (done, released on error, or the lease passed, when
-- the replica holding it was killed).
ALTER TABLE compliance_queue ADD COLUMN claimed_until timestamptz;
ALTER TABLE evidence_queue ADD COLUMN claimed_until timestamptz;

-- +goose Down
ALTER TABLE evidence_queue DROP COLUMN claimed_until;
ALTER TABLE compliance_queue DROP COLUMN claimed_until;
