package storage

import (
	"context"

	"github.com/fieldvisit/fieldvisit/domain"
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
	// The region's county is the one whose path begins the region's; the
	// counties under it, those whose path begins with it.
	var ancestors []string
	for i := 1; i < len(regionPath); i++ {
		if regionPath[i] == '/' {
			ancestors = append(ancestors, regionPath[:i+1])
		}
	}
	if len(ancestors) == 0 {
		ancestors = []string{regionPath}
	}
	q := `SELECT
	(SELECT COALESCE(MAX((SELECT MAX(c.seq) FROM changes c WHERE c.county_id = r.id)), 0) FROM regions r
		WHERE r.level = ? AND (r.path IN ? OR ` + like("r.path") + `)),
	(SELECT COUNT(*) + COALESCE(SUM(version), 0) FROM exit_standards),
	(SELECT COUNT(*) + COALESCE(SUM(version), 0) FROM inspection_campaigns)`
	row := s.db.WithContext(ctx).Raw(q, domain.LevelCounty, ancestors, likePrefix(regionPath)).Row()
	if err := row.Scan(&v.Feed, &v.Standards, &v.Campaigns); err != nil {
		return v, translate(err, "exit candidates")
	}
	return v, nil
}
