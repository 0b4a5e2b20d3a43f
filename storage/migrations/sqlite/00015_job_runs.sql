-- +goose Up
-- Periodic jobs (issue 21): one row per job, claimed for a period by one
-- replica at a time. The claim is a lease: a replica killed mid-job leaves
-- it unfinished, and another takes the period again once lease_until has
-- passed; a finished period is never run again.
CREATE TABLE job_runs (
    job         text PRIMARY KEY,
    period      text NOT NULL,      -- the period claimed, e.g. 2026-12-06T14 for an hourly job
    holder      text NOT NULL,      -- the replica that claimed it
    lease_until timestamp NOT NULL,
    done        boolean NOT NULL,
    runs        bigint NOT NULL     -- how many periods were claimed: each claim of a new period adds one
);

-- +goose Down
DROP TABLE job_runs;
