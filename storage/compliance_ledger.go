package storage

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fieldvisit/fieldvisit/domain"

	"github.com/fieldvisit/fieldvisit/internal/compliance"
)

// visitLedgerScan is what a 台账 line shows of a visit, scanned into
// explicit fields: a county's year is a million rows, and GORM's per-row
// reflection and the GPS fixes (the ledger shows none) were most of the
// export's CPU.
type visitLedgerScan struct {
	ID                 uuid.UUID
	Kind               string
	StartedAt          time.Time
	EndedAt            *time.Time
	ReceivedAt         time.Time
	Notes              string
	Checklist          map[string]domain.ChecklistEntry
	Measures, MetWith  []string
	HouseholdConfirmed *bool
	FirstPhoto         *string
	Flags              []domain.Flag
	names              compliance.VisitLedgerRow // the names beside the visit and its photo count
}

// visitLedgerColumns are the columns a 台账 line is written from. Of the
// photo list a line shows only the count and a link to the first photo:
// the list itself (an id and a hash a photo, different on every visit)
// would widen every row PostgreSQL sorts and sends by about 120 bytes a
// photo and be decoded whole for one id.
func (s *Store) visitLedgerColumns() string {
	photos := "CASE jsonb_typeof(visits.photos) WHEN 'array' THEN jsonb_array_length(visits.photos) ELSE 0 END, visits.photos->0->>'photo_id'"
	if s.dialect != Postgres {
		photos = "json_array_length(visits.photos), json_extract(visits.photos, '$[0].photo_id')"
	}
	return "visits.id, visits.kind, visits.started_at, visits.ended_at, visits.received_at, visits.notes, visits.checklist, " +
		"visits.measures, visits.met_with, visits.household_confirmed, " + photos + ", visits.flags, " +
		"COALESCE(t.name, '') AS town_name, v.name AS village_name, h.number AS household_no, h.head_name, h.poverty_type, h.status, u.display_name AS cadre_name"
}

// visitLedgerFields are the scan targets of one statement's rows: its JSON
// columns go through memos (the same checklist on most lines is decoded
// once), so rows share those values, which the 台账 only reads.
func visitLedgerFields() func(*visitLedgerScan) []any {
	return func(r *visitLedgerScan) []any {
		n := &r.names
		return []any{&r.ID, &r.Kind, &r.StartedAt, &r.EndedAt, &r.ReceivedAt, &r.Notes, newJSONMemo(&r.Checklist), newJSONMemo(&r.Measures),
			newJSONMemo(&r.MetWith), &r.HouseholdConfirmed, &n.PhotoCount, &r.FirstPhoto, newJSONMemo(&r.Flags),
			&n.TownName, &n.VillageName, &n.HouseholdNo, &n.HeadName, &n.PovertyType, &n.Status, &n.CadreName}
	}
}

func (r *visitLedgerScan) row() compliance.VisitLedgerRow {
	out := r.names
	out.Visit = domain.Visit{ID: r.ID, VisitDetails: domain.VisitDetails{Kind: r.Kind, StartedAt: r.StartedAt.UTC(), EndedAt: r.EndedAt, Notes: r.Notes,
		Checklist: r.Checklist, Measures: r.Measures, MetWith: r.MetWith, HouseholdConfirmed: r.HouseholdConfirmed},
		ReceivedAt: r.ReceivedAt.UTC(), Flags: r.Flags}
	if r.FirstPhoto != nil {
		// A list the phone sent with a malformed id links nothing; the
		// count still says how many photos the visit has.
		out.FirstPhotoID, _ = uuid.Parse(*r.FirstPhoto)
	}
	return out
}

// VisitLedger streams the live visits of a region and date range in
// village, household and time order to fn, one row at a time off the
// database cursor, so a county's year of visits is never held in memory.
// Each visit carries what its line shows (no GPS fixes, no photo list: the
// row has its count and first id); its JSON values may be shared with other
// rows and must only be read.
func (s *Store) VisitLedger(ctx context.Context, f compliance.VisitLedgerFilter, fn func(compliance.VisitLedgerRow) error) error {
	q := s.db.Table("visits").
		Select(s.visitLedgerColumns()).
		Joins("JOIN households h ON h.county_id = visits.county_id AND h.id = visits.household_id").
		Joins("JOIN regions v ON v.id = h.village_id").
		Joins("LEFT JOIN regions t ON t.id = v.parent_id").
		Joins("JOIN users u ON u.id = visits.cadre_id").
		Where("visits.deleted = ? AND visits.started_at >= ? AND visits.started_at < ?", false, f.From.UTC(), f.To.UTC()).
		Where(like("h.region_path"), likePrefix(f.RegionPath))
	q = s.ledgerVisits(q, f).Order("t.name, v.name, h.number, h.head_name, visits.started_at, visits.id")
	// A year's 台账 is a million rows: scanned natively on PostgreSQL, not
	// through database/sql's conversions (a third of the export's CPU, B7).
	stmt := q.Session(&gorm.Session{DryRun: true}).Find(&[]map[string]any{}).Statement
	return eachRow(ctx, s, "visit", stmt.SQL.String(), stmt.Vars, visitLedgerFields(), func(r *visitLedgerScan) error { return fn(r.row()) })
}

// ledgerVisits narrows a query of visits joined to their households (h)
// by the filter's cadre, household fields and household scope.
func (s *Store) ledgerVisits(q *gorm.DB, f compliance.VisitLedgerFilter) *gorm.DB {
	q = shownTo(q, "visits", f.Reader)
	if f.Households != nil {
		q = q.Where("h.id IN (?)", s.householdsIn(*f.Households, f.Today))
	}
	if f.CadreID != nil {
		q = q.Where("visits.cadre_id = ?", *f.CadreID)
	}
	if f.PovertyType != "" {
		q = q.Where("h.poverty_type = ?", f.PovertyType)
	}
	if f.HouseholdStatus != "" {
		q = q.Where("h.status = ?", f.HouseholdStatus)
	}
	return q
}
