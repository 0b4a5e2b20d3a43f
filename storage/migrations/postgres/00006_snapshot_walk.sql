-- +goose Up
-- A fresh phone's snapshot (sync/pull.go, storage/snapshot.go) walks its
-- scope household by household: members and pairings come by
-- (household, id), so their indexes carry the id; a cadre's households are
-- found from their pairings, open or ending on a later date, so that index
-- is no longer limited to open pairings.
DROP INDEX members_household;
CREATE INDEX members_household ON members (county_id, household_id, id);
DROP INDEX pairings_household;
CREATE INDEX pairings_household ON pairings (county_id, household_id, id);
DROP INDEX pairings_cadre;
CREATE INDEX pairings_cadre ON pairings (cadre_id, household_id);

-- +goose Down
DROP INDEX pairings_cadre;
CREATE INDEX pairings_cadre ON pairings (cadre_id) WHERE end_on IS NULL;
DROP INDEX pairings_household;
CREATE INDEX pairings_household ON pairings (county_id, household_id);
DROP INDEX members_household;
CREATE INDEX members_household ON members (county_id, household_id);
