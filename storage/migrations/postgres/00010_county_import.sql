-- +goose Up
-- Setting up a county from its sheets (issue 19): a region sheet may give a
-- village's (or town's) centre, and a one-row-per-household register gives
-- 家庭人口 without listing the members, so the size is recorded as declared.
ALTER TABLE regions ADD COLUMN centroid_lat double precision;
ALTER TABLE regions ADD COLUMN centroid_lon double precision;
ALTER TABLE households ADD COLUMN declared_size integer;

-- +goose Down
ALTER TABLE households DROP COLUMN declared_size;
ALTER TABLE regions DROP COLUMN centroid_lon;
ALTER TABLE regions DROP COLUMN centroid_lat;
