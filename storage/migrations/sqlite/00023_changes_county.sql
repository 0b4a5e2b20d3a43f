-- +goose Up
-- A county's newest change-feed number (storage.VerdictVersion) is the
-- version of everything its households' exit verdicts are judged from: the
-- exit-candidates count is kept while it stands. Read per request, it must
-- be one index probe, not a walk of the county's feed.
CREATE INDEX changes_county_seq ON changes (county_id, seq);

-- +goose Down
DROP INDEX changes_county_seq;
