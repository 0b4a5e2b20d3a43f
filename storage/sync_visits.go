package storage

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/fieldvisit/fieldvisit/domain"
)

type visitRow struct {
	CountyID           uuid.UUID                                   `gorm:"column:county_id;primaryKey"`
	ID                 uuid.UUID                                   `gorm:"column:id;primaryKey"`
	HouseholdID        uuid.UUID                                   `gorm:"column:household_id"`
	CadreID            uuid.UUID                                   `gorm:"column:cadre_id"`
	DeviceID           string                                      `gorm:"column:device_id"`
	Kind               string                                      `gorm:"column:kind"`
	StartedAt          time.Time                                   `gorm:"column:started_at"`
	EndedAt            *time.Time                                  `gorm:"column:ended_at"`
	StartedAtText      string                                      `gorm:"column:started_at_text"`
	ReceivedAt         time.Time                                   `gorm:"column:received_at"`
	ClockOffsetMS      int64                                       `gorm:"column:clock_offset_ms"`
	Notes              string                                      `gorm:"column:notes"`
	Checklist          jsonValue[map[string]domain.ChecklistEntry] `gorm:"column:checklist"`
	Measures           jsonValue[[]string]                         `gorm:"column:measures"`
	MetWith            jsonValue[[]string]                         `gorm:"column:met_with"`
	HouseholdConfirmed *bool                                       `gorm:"column:household_confirmed"`
	GPS                jsonValue[[]domain.GPSStamp]                `gorm:"column:gps"`
	Photos             jsonValue[[]domain.PhotoRef]                `gorm:"column:photos"`
	PlanProgress       jsonValue[[]domain.PlanProgress]            `gorm:"column:plan_progress"`
	RiskTriggers       jsonValue[[]domain.RiskTrigger]             `gorm:"column:risk_triggers"`
	IncomeUpdates      jsonValue[[]domain.IncomeUpdate]            `gorm:"column:income_updates"`
	Flags              jsonValue[[]domain.Flag]                    `gorm:"column:flags"`
	Deleted            bool                                        `gorm:"column:deleted"`
	Version            int64                                       `gorm:"column:version"`
	CreatedAt          time.Time                                   `gorm:"column:created_at"`
	UpdatedAt          time.Time                                   `gorm:"column:updated_at"`
}

func (visitRow) TableName() string { return "visits" }

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func toVisitRow(v domain.Visit) visitRow {
	cl := v.Checklist
	if cl == nil {
		cl = map[string]domain.ChecklistEntry{}
	}
	var ended *time.Time
	if v.EndedAt != nil {
		e := v.EndedAt.UTC()
		ended = &e
	}
	return visitRow{CountyID: v.CountyID, ID: v.ID, HouseholdID: v.HouseholdID, CadreID: v.CadreID, DeviceID: v.DeviceID, Kind: v.Kind,
		StartedAt: v.StartedAt.UTC(), EndedAt: ended, StartedAtText: v.StartedAtText, ReceivedAt: v.ReceivedAt.UTC(),
		ClockOffsetMS: v.ClockOffsetMS, Notes: v.Notes, Checklist: jsonValue[map[string]domain.ChecklistEntry]{cl},
		Measures: jsonValue[[]string]{nonNil(v.Measures)}, MetWith: jsonValue[[]string]{nonNil(v.MetWith)},
		HouseholdConfirmed: v.HouseholdConfirmed, GPS: jsonValue[[]domain.GPSStamp]{nonNil(v.GPS)},
		Photos: jsonValue[[]domain.PhotoRef]{nonNil(v.Photos)}, PlanProgress: jsonValue[[]domain.PlanProgress]{nonNil(v.PlanProgress)},
		RiskTriggers: jsonValue[[]domain.RiskTrigger]{nonNil(v.RiskTriggers)}, IncomeUpdates: jsonValue[[]domain.IncomeUpdate]{nonNil(v.IncomeUpdates)}, Flags: jsonValue[[]domain.Flag]{nonNil(v.Flags)},
		Deleted: v.Deleted, Version: v.Version, CreatedAt: v.CreatedAt.UTC(), UpdatedAt: v.UpdatedAt.UTC()}
}

func toDomainVisit(r visitRow) domain.Visit {
	v := domain.Visit{ID: r.ID, CountyID: r.CountyID, HouseholdID: r.HouseholdID, CadreID: r.CadreID, DeviceID: r.DeviceID,
		VisitDetails: domain.VisitDetails{Kind: r.Kind, StartedAt: r.StartedAt.UTC(), EndedAt: r.EndedAt, Notes: r.Notes,
			Checklist: r.Checklist.V, Measures: nonNil(r.Measures.V), MetWith: nonNil(r.MetWith.V), HouseholdConfirmed: r.HouseholdConfirmed,
			GPS: nonNil(r.GPS.V), Photos: nonNil(r.Photos.V), PlanProgress: nonNil(r.PlanProgress.V),
			RiskTriggers: nonNil(r.RiskTriggers.V), IncomeUpdates: nonNil(r.IncomeUpdates.V)},
		StartedAtText: r.StartedAtText, ReceivedAt: r.ReceivedAt.UTC(), ClockOffsetMS: r.ClockOffsetMS, Flags: nonNil(r.Flags.V),
		Deleted: r.Deleted, Version: r.Version, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if v.EndedAt != nil {
		e := v.EndedAt.UTC()
		v.EndedAt = &e
	}
	if v.Checklist == nil {
		v.Checklist = map[string]domain.ChecklistEntry{}
	}
	return v
}

func (s *Store) locking(q *gorm.DB) *gorm.DB {
	if s.dialect == Postgres {
		return q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	return q
}

// VisitForUpdate loads a visit by id, locking it for the transaction.
func (s *Store) VisitForUpdate(ctx context.Context, id uuid.UUID) (domain.Visit, error) {
	var row visitRow
	err := s.locking(s.db.WithContext(ctx)).Where("id = ?", id).Take(&row).Error
	return toDomainVisit(row), translate(err, "visit")
}

// InsertVisit stores a new visit and its change-feed row.
func (s *Store) InsertVisit(ctx context.Context, v domain.Visit) error {
	return s.inTx(ctx, "visit", func(tx *gorm.DB) error {
		row := toVisitRow(v)
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		if err := s.linkVisitPhotos(tx, s.importBatch(), []domain.Visit{v}, true); err != nil {
			return err
		}
		if err := queueVisits(tx, s.importBatch(), []domain.Visit{v}, s.stamp()); err != nil {
			return err
		}
		return s.appendChange(tx, visitChange(v, "create"))
	})
}

func visitChange(v domain.Visit, op string) feedEntry {
	hid, cid := v.HouseholdID, v.CadreID
	return feedEntry{CountyID: v.CountyID, Entity: "visit", EntityID: v.ID, HouseholdID: &hid, CadreID: &cid, Op: op, Version: v.Version}
}

// SaveVisit overwrites a visit at expectedVersion with v (whose Version is
// the new one) and records the change.
func (s *Store) SaveVisit(ctx context.Context, v domain.Visit, expectedVersion int64) error {
	return s.inTx(ctx, "visit", func(tx *gorm.DB) error {
		// The visit may move to another year: both years are judged again.
		var before visitRow
		if err := tx.Select("county_id", "household_id", "cadre_id", "started_at").Where("county_id = ? AND id = ?", v.CountyID, v.ID).Take(&before).Error; err != nil {
			if isNotFound(err) {
				return domain.Stale("visit", "走访记录")
			}
			return err
		}
		old := domain.Visit{CountyID: before.CountyID, HouseholdID: before.HouseholdID, CadreID: before.CadreID}
		old.StartedAt = before.StartedAt
		if err := queueVisits(tx, s.importBatch(), []domain.Visit{old, v}, s.stamp()); err != nil {
			return err
		}
		row := toVisitRow(v)
		res := tx.Model(&visitRow{}).Where("county_id = ? AND id = ? AND version = ?", v.CountyID, v.ID, expectedVersion).
			Select("kind", "started_at", "ended_at", "started_at_text", "notes", "checklist", "measures", "met_with", "household_confirmed",
				"gps", "photos", "plan_progress", "risk_triggers", "income_updates", "flags", "deleted", "version", "updated_at", "device_id").Updates(&row)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return domain.Stale("visit", "走访记录")
		}
		op := "update"
		if v.Deleted {
			op = "delete"
		}
		if err := s.linkVisitPhotos(tx, s.importBatch(), []domain.Visit{v}, false); err != nil {
			return err
		}
		return s.appendChange(tx, visitChange(v, op))
	})
}

// Visits lists visits, newest first by server arrival (never by device time).
func (s *Store) Visits(ctx context.Context, f domain.VisitFilter) ([]domain.Visit, int64, error) {
	q := s.db.WithContext(ctx).Model(&visitRow{}).Where("EXISTS (?)",
		scopeHouseholds(s.db.Model(&householdRow{}).Select("1").Where("households.county_id = visits.county_id AND households.id = visits.household_id"),
			scopeWithoutPairing(f.Scope, f.OnlyCadreID), f.Today))
	q = shownTo(q, "visits", f.Reader)
	if f.OnlyCadreID != nil {
		q = q.Where("visits.cadre_id = ?", *f.OnlyCadreID)
	}
	if f.HouseholdID != nil {
		q = q.Where("visits.household_id = ?", *f.HouseholdID)
	}
	if f.CadreID != nil {
		q = q.Where("visits.cadre_id = ?", *f.CadreID)
	}
	if !f.IncludeDeleted {
		q = q.Where("visits.deleted = ?", false)
	}
	if f.Query != "" {
		q = q.Where(like("visits.notes"), likeContains(f.Query))
	}
	q = s.visitFilters(q, f)
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, translate(err, "visit")
	}
	var rows []visitRow
	if err := q.Order("visits.received_at DESC, visits.id").Limit(f.Limit).Offset(f.Offset).Find(&rows).Error; err != nil {
		return nil, 0, translate(err, "visit")
	}
	out := make([]domain.Visit, len(rows))
	for i, r := range rows {
		out[i] = toDomainVisit(r)
	}
	return out, total, nil
}

// visitFlagRows spells, in the store's dialect, the flags of a visit
// (alias visits) as rows fl for a FROM clause, and the code of each.
func (s *Store) visitFlagRows() (from, code string) {
	if s.dialect == Postgres {
		return "jsonb_array_elements(visits.flags) fl", "fl->>'code'"
	}
	return "json_each(visits.flags) fl", "json_extract(fl.value, '$.code')"
}

// visitFilters narrows a visit listing by start, region, kind, flag and
// whether a compliance status counts the visit.
func (s *Store) visitFilters(q *gorm.DB, f domain.VisitFilter) *gorm.DB {
	if f.StartedFrom != nil {
		q = q.Where("visits.started_at >= ?", f.StartedFrom.UTC())
	}
	if f.StartedBefore != nil {
		q = q.Where("visits.started_at < ?", f.StartedBefore.UTC())
	}
	if f.RegionPath != "" {
		q = q.Where("EXISTS (SELECT 1 FROM households rh WHERE rh.county_id = visits.county_id AND rh.id = visits.household_id AND "+
			like("rh.region_path")+")", likePrefix(f.RegionPath))
	}
	if f.Kind != "" {
		q = q.Where("visits.kind = ?", f.Kind)
	}
	flags, flagCode := s.visitFlagRows()
	counted, countedID := "json_each(cs.detail, '$.counted') c", "json_extract(c.value, '$.visit_id') = visits.id"
	if s.dialect == Postgres {
		counted, countedID = "jsonb_array_elements(cs.detail->'counted') c", "c->>'visit_id' = CAST(visits.id AS TEXT)"
	}
	if f.Flag != "" {
		q = q.Where("EXISTS (SELECT 1 FROM "+flags+" WHERE "+flagCode+" = ?)", f.Flag)
	}
	if f.Counted != nil {
		// A status counts its visits in its detail (rules.Status.Counted);
		// the household's statuses are the only ones that can.
		cond := "EXISTS (SELECT 1 FROM compliance_statuses cs, " + counted + " WHERE cs.county_id = visits.county_id AND cs.household_id = visits.household_id AND " + countedID + ")"
		if !*f.Counted {
			cond = "NOT " + cond
		}
		q = q.Where(cond)
	}
	return q
}

// scopeWithoutPairing lets a cadre read their own visits to households they
// are no longer paired with (history stays theirs to see), within their region.
func scopeWithoutPairing(sc domain.HouseholdScope, own *uuid.UUID) domain.HouseholdScope {
	if own != nil {
		sc.CadreID = nil
	}
	return sc
}

// Visit returns one visit by id (callers check scope).
func (s *Store) Visit(ctx context.Context, id uuid.UUID) (domain.Visit, error) {
	var row visitRow
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&row).Error
	return toDomainVisit(row), translate(err, "visit")
}

// VisitFor returns one visit by id as reader r may see it: a secret
// inspection visit (visitShown) is not found (callers check scope).
func (s *Store) VisitFor(ctx context.Context, r domain.VisitReader, id uuid.UUID) (domain.Visit, error) {
	var row visitRow
	err := shownTo(s.db.WithContext(ctx).Where("id = ?", id), "visits", r).Take(&row).Error
	return toDomainVisit(row), translate(err, "visit")
}

// VisitsAfter pages a cadre's visits by id, for a fresh phone's snapshot.
// Deleted ones are included: the phone may hold a visit it created itself
// that another of the cadre's phones deleted, and needs the tombstone.
func (s *Store) VisitsAfter(ctx context.Context, cadreID uuid.UUID, after uuid.UUID, limit int) ([]domain.Visit, error) {
	var rows []visitRow
	if err := s.db.WithContext(ctx).Where("cadre_id = ? AND id > ?", cadreID, after).Order("id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, translate(err, "visit")
	}
	out := make([]domain.Visit, len(rows))
	for i, r := range rows {
		out[i] = toDomainVisit(r)
	}
	return out, nil
}

// PairedOn reports whether cadreID was paired with the household on day d.
func (s *Store) PairedOn(ctx context.Context, cadreID, householdID uuid.UUID, d domain.Date) (bool, error) {
	var n int64
	day := toSQLDate(d)
	err := s.db.WithContext(ctx).Model(&pairingRow{}).
		Where("cadre_id = ? AND household_id = ? AND "+pairingOpen(""), cadreID, householdID, day, day).Count(&n).Error
	return n > 0, translate(err, "pairing")
}

// PairedSince reports whether cadreID was paired with the household at any
// time from day since onwards (a pairing that ended on or after since, or is
// still open).
func (s *Store) PairedSince(ctx context.Context, cadreID, householdID uuid.UUID, since domain.Date) (bool, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&pairingRow{}).
		Where("cadre_id = ? AND household_id = ? AND (end_on IS NULL OR end_on >= ?)", cadreID, householdID, toSQLDate(since)).Count(&n).Error
	return n > 0, translate(err, "pairing")
}

// VisitsByID returns the stored visits among ids, locked for the transaction
// (one query for a whole push batch).
func (s *Store) VisitsByID(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]domain.Visit, error) {
	return s.visitsByID(ctx, ids, true, nil)
}

// CurrentVisits returns the visits among ids as they are now, deleted ones
// included, without locking them (a pull page's reads), leaving out those
// hidden from reader r (visitShown).
func (s *Store) CurrentVisits(ctx context.Context, r domain.VisitReader, ids []uuid.UUID) (map[uuid.UUID]domain.Visit, error) {
	return s.visitsByID(ctx, ids, false, &r)
}

// visitsByID reads the visits among ids, locked or not, and (given a
// reader) without those hidden from them.
func (s *Store) visitsByID(ctx context.Context, ids []uuid.UUID, lock bool, reader *domain.VisitReader) (map[uuid.UUID]domain.Visit, error) {
	out := map[uuid.UUID]domain.Visit{}
	for _, part := range chunks(uniqueIDs(ids), lookupChunk) {
		q := s.db.WithContext(ctx)
		if lock {
			q = s.locking(q)
		}
		if reader != nil {
			q = shownTo(q, "visits", *reader)
		}
		var rows []visitRow
		if err := q.Where("id IN ?", part).Find(&rows).Error; err != nil {
			return nil, translate(err, "visit")
		}
		for _, r := range rows {
			out[r.ID] = toDomainVisit(r)
		}
	}
	return out, nil
}

// InsertVisits stores new visits and their feed rows with multi-row INSERTs.
func (s *Store) InsertVisits(ctx context.Context, vs []domain.Visit) error {
	return s.inTx(ctx, "visit", func(tx *gorm.DB) error {
		rows := make([]visitRow, len(vs))
		changes := make([]feedEntry, len(vs))
		for i, v := range vs {
			rows[i] = toVisitRow(v)
			changes[i] = visitChange(v, "create")
		}
		for _, c := range chunks(rows, s.importBatch()) {
			if err := tx.Create(&c).Error; err != nil {
				return err
			}
		}
		if err := s.linkVisitPhotos(tx, s.importBatch(), vs, true); err != nil {
			return err
		}
		if err := queueVisits(tx, s.importBatch(), vs, s.stamp()); err != nil {
			return err
		}
		return s.appendChanges(tx, changes)
	})
}
