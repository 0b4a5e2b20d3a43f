package storage

import (
	"context"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/internal/casework"
)

// VerdictVersion is the version of what the exit verdicts of the
// households under regionPath are judged from (casework.VerdictVersion).
//
// Feed is the newest change-feed number of the counties the region lies in
// or holds: every write to a household (registered, exited, re-typed,
// moved), a visit (its checklist answers, its deletion, an unannounced
// campaign's end revealing it), an income account, a pairing or a risk
// warning (opened, resolved, withdrawn) appends a feed row of its county in
// its own transaction, so a write that committed is in a newer number once
// numbered — and on PostgreSQL this numbers first (SequenceChanges), so
// every write committed before the call is counted. Standards and
// Campaigns are rows + the sum of versions of exit_standards and
// inspection_campaigns (small tables, never deleted from, whose every write
// adds a row or raises a version): they grow with every write, so they
// never come back to a value they had. The campaigns decide which
// inspection visits the verdicts may read (visitShown).
func (s *Store) VerdictVersion(ctx context.Context, regionPath string) (casework.VerdictVersion, error) {
	var v casework.VerdictVersion
	if _, err := s.SequenceChanges(ctx); err != nil {
		return v, err
	}
	q := `SELECT
	(SELECT COALESCE(MAX((SELECT MAX(c.seq) FROM changes c WHERE c.county_id = k.county_id)), 0)
		FROM (` + regionCounties + `) k),
	(SELECT COUNT(*) + COALESCE(SUM(version), 0) FROM exit_standards),
	(SELECT COUNT(*) + COALESCE(SUM(version), 0) FROM inspection_campaigns)`
	row := s.db.WithContext(ctx).Raw(q, likePrefix(regionPath)).Row()
	if err := row.Scan(&v.Feed, &v.Standards, &v.Campaigns); err != nil {
		return v, translate(err, "exit candidates")
	}
	return v, nil
}

// HouseholdsChangedSince is the households under regionPath's counties
// whose feed rows are numbered in (after, upTo] — those whose exit
// verdicts may differ between two VerdictVersions whose Feed are after and
// upTo — at most limit+1 of them (more than limit: judge the list again).
func (s *Store) HouseholdsChangedSince(ctx context.Context, regionPath string, after, upTo int64, limit int) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	err := s.db.WithContext(ctx).Raw(`SELECT DISTINCT c.household_id FROM changes c
		WHERE c.county_id IN (`+regionCounties+`)
		AND c.seq > ? AND c.seq <= ? AND c.household_id IS NOT NULL LIMIT ?`, likePrefix(regionPath), after, upTo, limit+1).Scan(&ids).Error
	return ids, translate(err, "exit candidates")
}

// regionCounties selects the counties of a region (its path the one
// argument, as likePrefix gives it) and the regions under it — a
// household's county is its village's, regions.county_id: one for a
// county or a region in one, each of theirs for a city or a province.
var regionCounties = "SELECT DISTINCT county_id FROM regions WHERE county_id IS NOT NULL AND " + like("path")
