package storage

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance"
	"github.com/fieldvisit/fieldvisit/internal/compliance/rules"
)

// ---- rule profiles

type ruleProfileRow struct {
	Code      string     `gorm:"column:code;primaryKey"`
	NameZH    string     `gorm:"column:name_zh"`
	Version   int        `gorm:"column:version"`
	Body      string     `gorm:"column:body"`
	Builtin   bool       `gorm:"column:builtin"`
	UpdatedBy *uuid.UUID `gorm:"column:updated_by"`
	UpdatedAt time.Time  `gorm:"column:updated_at"`
}

func (ruleProfileRow) TableName() string { return "rule_profiles" }

type ruleProfileVersionRow struct {
	Code      string     `gorm:"column:code;primaryKey"`
	Version   int        `gorm:"column:version;primaryKey"`
	Body      string     `gorm:"column:body"`
	CreatedBy *uuid.UUID `gorm:"column:created_by"`
	CreatedAt time.Time  `gorm:"column:created_at"`
}

func (ruleProfileVersionRow) TableName() string { return "rule_profile_versions" }

type regionProfileRow struct {
	RegionID    uuid.UUID  `gorm:"column:region_id;primaryKey"`
	ProfileCode string     `gorm:"column:profile_code"`
	AssignedBy  *uuid.UUID `gorm:"column:assigned_by"`
	AssignedAt  time.Time  `gorm:"column:assigned_at"`
}

func (regionProfileRow) TableName() string { return "region_rule_profiles" }

func toStoredProfile(r ruleProfileRow) compliance.StoredProfile {
	return compliance.StoredProfile{Code: r.Code, NameZH: r.NameZH, Version: r.Version, Body: []byte(r.Body), Builtin: r.Builtin, UpdatedBy: r.UpdatedBy, UpdatedAt: r.UpdatedAt.UTC()}
}

// EnsureRuleProfiles adds the profiles that do not exist yet (the built-in
// ones at start-up), leaving saved ones alone.
func (s *Store) EnsureRuleProfiles(ctx context.Context, ps []compliance.StoredProfile, now time.Time) error {
	return s.inTx(ctx, "rule profile", func(tx *gorm.DB) error {
		for _, p := range ps {
			row := ruleProfileRow{Code: p.Code, NameZH: p.NameZH, Version: 1, Body: string(p.Body), Builtin: p.Builtin, UpdatedAt: now.UTC()}
			res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 1 {
				v := ruleProfileVersionRow{Code: p.Code, Version: 1, Body: string(p.Body), CreatedAt: now.UTC()}
				if err := tx.Create(&v).Error; err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// RuleProfiles lists every profile, by code.
func (s *Store) RuleProfiles(ctx context.Context) ([]compliance.StoredProfile, error) {
	var rows []ruleProfileRow
	if err := s.db.WithContext(ctx).Order("code").Find(&rows).Error; err != nil {
		return nil, translate(err, "rule profile")
	}
	out := make([]compliance.StoredProfile, len(rows))
	for i, r := range rows {
		out[i] = toStoredProfile(r)
	}
	return out, nil
}

// RuleProfile returns one profile.
func (s *Store) RuleProfile(ctx context.Context, code string) (compliance.StoredProfile, error) {
	var row ruleProfileRow
	err := s.db.WithContext(ctx).Where("code = ?", code).Take(&row).Error
	return toStoredProfile(row), translate(err, "rule profile")
}

// SaveRuleProfile creates a profile (expectedVersion 0) or replaces one at
// expectedVersion with the next version, keeps the version, and queues
// every household and cadre judged by it for the given years.
func (s *Store) SaveRuleProfile(ctx context.Context, p compliance.StoredProfile, expectedVersion int, years []int, now time.Time, audit domain.AuditEntry) (compliance.StoredProfile, error) {
	now = now.UTC()
	err := s.inTx(ctx, "rule profile", func(tx *gorm.DB) error {
		if expectedVersion == 0 {
			p.Version = 1
			row := ruleProfileRow{Code: p.Code, NameZH: p.NameZH, Version: 1, Body: string(p.Body), UpdatedBy: p.UpdatedBy, UpdatedAt: now}
			if err := tx.Create(&row).Error; err != nil {
				return err
			}
		} else {
			p.Version = expectedVersion + 1
			res := tx.Model(&ruleProfileRow{}).Where("code = ? AND version = ?", p.Code, expectedVersion).
				Updates(map[string]any{"name_zh": p.NameZH, "version": p.Version, "body": string(p.Body), "updated_by": p.UpdatedBy, "updated_at": now})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				return domain.Stale("rule profile", "规则方案")
			}
		}
		v := ruleProfileVersionRow{Code: p.Code, Version: p.Version, Body: string(p.Body), CreatedBy: p.UpdatedBy, CreatedAt: now}
		if err := tx.Create(&v).Error; err != nil {
			return err
		}
		if err := queueByProfile(tx, p.Code, years, now); err != nil {
			return err
		}
		return s.appendAudit(tx, audit)
	})
	p.UpdatedAt = now
	return p, err
}

// queueByProfile queues every subject already judged by a profile.
func queueByProfile(tx *gorm.DB, code string, years []int, now time.Time) error {
	for _, y := range years {
		err := tx.Exec(`INSERT INTO compliance_queue (subject_kind, subject_id, year, county_id, enqueued_at)
			SELECT subject_kind, subject_id, year, county_id, ? FROM compliance_subjects WHERE profile_code = ? AND year = ?
			ON CONFLICT (subject_kind, subject_id, year) DO UPDATE SET enqueued_at = excluded.enqueued_at`, now, code, y).Error
		if err != nil {
			return err
		}
	}
	return nil
}

// RegionProfiles returns the profile codes attached to the given regions.
func (s *Store) RegionProfiles(ctx context.Context, regionIDs []uuid.UUID) (map[uuid.UUID]string, error) {
	var rows []regionProfileRow
	if err := s.db.WithContext(ctx).Where("region_id IN ?", regionIDs).Find(&rows).Error; err != nil {
		return nil, translate(err, "rule profile")
	}
	out := make(map[uuid.UUID]string, len(rows))
	for _, r := range rows {
		out[r.RegionID] = r.ProfileCode
	}
	return out, nil
}

// AllRegionProfiles returns every attachment of a profile to a region
// (a few per county).
func (s *Store) AllRegionProfiles(ctx context.Context) (map[uuid.UUID]string, error) {
	var rows []regionProfileRow
	if err := s.db.WithContext(ctx).Find(&rows).Error; err != nil {
		return nil, translate(err, "rule profile")
	}
	out := make(map[uuid.UUID]string, len(rows))
	for _, r := range rows {
		out[r.RegionID] = r.ProfileCode
	}
	return out, nil
}

// AssignRuleProfile attaches a profile to a county or town (code "" takes
// it away, so the region inherits again) and queues everything in the
// region for the given years.
func (s *Store) AssignRuleProfile(ctx context.Context, region domain.Region, code string, years []int, now time.Time, audit domain.AuditEntry) error {
	now = now.UTC()
	return s.inTx(ctx, "rule profile", func(tx *gorm.DB) error {
		if code == "" {
			if err := tx.Where("region_id = ?", region.ID).Delete(&regionProfileRow{}).Error; err != nil {
				return err
			}
		} else {
			row := regionProfileRow{RegionID: region.ID, ProfileCode: code, AssignedBy: audit.ActorID, AssignedAt: now}
			err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "region_id"}},
				DoUpdates: clause.AssignmentColumns([]string{"profile_code", "assigned_by", "assigned_at"})}).Create(&row).Error
			if err != nil {
				return err
			}
		}
		for _, y := range years {
			if err := queueRegion(tx, region.Path, y, now); err != nil {
				return err
			}
		}
		return s.appendAudit(tx, audit)
	})
}

// queueRegion queues every household and cadre under a region path.
func queueRegion(tx *gorm.DB, path string, year int, now time.Time) error {
	prefix := likePrefix(path)
	err := tx.Exec(`INSERT INTO compliance_queue (subject_kind, subject_id, year, county_id, enqueued_at)
		SELECT ?, id, ?, county_id, ? FROM households WHERE `+like("region_path")+`
		ON CONFLICT (subject_kind, subject_id, year) DO UPDATE SET enqueued_at = excluded.enqueued_at`, compliance.SubjectHousehold, year, now, prefix).Error
	if err != nil {
		return err
	}
	return tx.Exec(`INSERT INTO compliance_queue (subject_kind, subject_id, year, county_id, enqueued_at)
		SELECT ?, u.id, ?, r.county_id, ? FROM users u JOIN regions r ON r.id = u.region_id
		WHERE u.role = 'cadre' AND `+like("u.region_path")+` AND r.county_id IS NOT NULL
		ON CONFLICT (subject_kind, subject_id, year) DO UPDATE SET enqueued_at = excluded.enqueued_at`, compliance.SubjectCadre, year, now, prefix).Error
}

// ---- the queue

type complianceQueueRow struct {
	SubjectKind string    `gorm:"column:subject_kind;primaryKey"`
	SubjectID   uuid.UUID `gorm:"column:subject_id;primaryKey"`
	Year        int       `gorm:"column:year;primaryKey"`
	CountyID    uuid.UUID `gorm:"column:county_id"`
	EnqueuedAt  time.Time `gorm:"column:enqueued_at"`
}

func (complianceQueueRow) TableName() string { return "compliance_queue" }

func enqueueCompliance(tx *gorm.DB, batch int, rows []complianceQueueRow) error {
	type key struct {
		kind string
		id   uuid.UUID
		year int
	}
	return enqueue(tx, batch, rows, func(r complianceQueueRow) key { return key{r.SubjectKind, r.SubjectID, r.Year} },
		func(a, b key) int {
			return cmp.Or(strings.Compare(a.kind, b.kind), domain.CompareIDs(a.id, b.id), cmp.Compare(a.year, b.year))
		},
		"subject_kind", "subject_id", "year")
}

// visitSubjects are the household and cadre a visit's counting touches, for
// the year it is dated in.
func visitSubjects(v domain.Visit, now time.Time) []complianceQueueRow {
	y := domain.DateOf(v.StartedAt).Year
	return []complianceQueueRow{
		{SubjectKind: compliance.SubjectHousehold, SubjectID: v.HouseholdID, Year: y, CountyID: v.CountyID, EnqueuedAt: now},
		{SubjectKind: compliance.SubjectCadre, SubjectID: v.CadreID, Year: y, CountyID: v.CountyID, EnqueuedAt: now},
	}
}

func queueVisits(tx *gorm.DB, batch int, vs []domain.Visit, now time.Time) error {
	rows := make([]complianceQueueRow, 0, 2*len(vs))
	for _, v := range vs {
		rows = append(rows, visitSubjects(v, now)...)
	}
	return enqueueCompliance(tx, batch, rows)
}

// householdYears queues a household for every year from from to to.
func householdYears(countyID, householdID uuid.UUID, from, to int, now time.Time) []complianceQueueRow {
	var rows []complianceQueueRow
	for y := max(from, to-5); y <= to; y++ {
		rows = append(rows, complianceQueueRow{SubjectKind: compliance.SubjectHousehold, SubjectID: householdID, Year: y, CountyID: countyID, EnqueuedAt: now})
	}
	return rows
}

// cadreYear queues a cadre for a year.
func cadreYear(countyID, cadreID uuid.UUID, year int, now time.Time) complianceQueueRow {
	return complianceQueueRow{SubjectKind: compliance.SubjectCadre, SubjectID: cadreID, Year: year, CountyID: countyID, EnqueuedAt: now}
}

func toQueuedSubject(r complianceQueueRow) compliance.QueuedSubject {
	return compliance.QueuedSubject{Kind: r.SubjectKind, ID: r.SubjectID, Year: r.Year, CountyID: r.CountyID, EnqueuedAt: r.EnqueuedAt.UTC()}
}

// ComplianceLag reports the queue's length and its oldest entry.
func (s *Store) ComplianceLag(ctx context.Context) (int64, *time.Time, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&complianceQueueRow{}).Count(&n).Error; err != nil {
		return 0, nil, translate(err, "compliance queue")
	}
	if n == 0 {
		return 0, nil, nil
	}
	var row complianceQueueRow
	if err := s.db.WithContext(ctx).Order("enqueued_at").Take(&row).Error; err != nil {
		return n, nil, translate(err, "compliance queue")
	}
	t := row.EnqueuedAt.UTC()
	return n, &t, nil
}

// QueueUnjudged queues every household and cadre of the given year that has
// never been judged for it (new households, a new year), up to limit, and
// reports how many it queued.
func (s *Store) QueueUnjudged(ctx context.Context, year, limit int, now time.Time) (int64, error) {
	var total int64
	err := s.inTx(ctx, "compliance queue", func(tx *gorm.DB) error {
		res := tx.Exec(`INSERT INTO compliance_queue (subject_kind, subject_id, year, county_id, enqueued_at)
			SELECT @kind, h.id, @year, h.county_id, @now FROM households h
			WHERE NOT EXISTS (SELECT 1 FROM compliance_subjects j WHERE j.subject_kind = @kind AND j.subject_id = h.id AND j.year = @year)
			LIMIT @limit
			ON CONFLICT (subject_kind, subject_id, year) DO NOTHING`, unjudged(compliance.SubjectHousehold, year, limit, now))
		if res.Error != nil {
			return res.Error
		}
		total = res.RowsAffected
		res = tx.Exec(`INSERT INTO compliance_queue (subject_kind, subject_id, year, county_id, enqueued_at)
			SELECT @kind, u.id, @year, r.county_id, @now FROM users u JOIN regions r ON r.id = u.region_id
			WHERE u.role = 'cadre' AND r.county_id IS NOT NULL
			AND NOT EXISTS (SELECT 1 FROM compliance_subjects j WHERE j.subject_kind = @kind AND j.subject_id = u.id AND j.year = @year)
			LIMIT @limit
			ON CONFLICT (subject_kind, subject_id, year) DO NOTHING`, unjudged(compliance.SubjectCadre, year, limit, now))
		if res.Error != nil {
			return res.Error
		}
		total += res.RowsAffected
		res = tx.Exec(`INSERT INTO compliance_queue (subject_kind, subject_id, year, county_id, enqueued_at)
			SELECT @kind, u.id, @year, r.county_id, @now FROM units u JOIN regions r ON r.id = u.region_id
			WHERE r.county_id IS NOT NULL
			AND NOT EXISTS (SELECT 1 FROM compliance_subjects j WHERE j.subject_kind = @kind AND j.subject_id = u.id AND j.year = @year)
			LIMIT @limit
			ON CONFLICT (subject_kind, subject_id, year) DO NOTHING`, unjudged(compliance.SubjectUnit, year, limit, now))
		total += res.RowsAffected
		return res.Error
	})
	return total, err
}

// unjudged binds the queries of QueueUnjudged for one kind of subject.
func unjudged(kind string, year, limit int, now time.Time) map[string]any {
	return map[string]any{"kind": kind, "year": year, "limit": limit, "now": now.UTC()}
}

// QueueSubject queues one subject for a year (a cadre's unit after the
// cadre's visits changed).
func (s *Store) QueueSubject(ctx context.Context, kind string, id uuid.UUID, year int, countyID uuid.UUID, now time.Time) error {
	err := enqueueCompliance(s.db.WithContext(ctx), 1, []complianceQueueRow{{SubjectKind: kind, SubjectID: id, Year: year, CountyID: countyID, EnqueuedAt: now.UTC()}})
	return translate(err, "compliance queue")
}

// UnitCadreIDs lists the cadres of a unit.
func (s *Store) UnitCadreIDs(ctx context.Context, unitID uuid.UUID) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	err := s.db.WithContext(ctx).Model(&userRow{}).Where("unit_id = ? AND role = ?", unitID, domain.RoleCadre).Order("id").Pluck("id", &ids).Error
	return ids, translate(err, "user")
}

// UnitRegionPath returns the region path of a unit's own region, where the
// profile judging the unit is looked up.
func (s *Store) UnitRegionPath(ctx context.Context, unitID uuid.UUID) (string, error) {
	var row struct{ Path string }
	err := s.db.WithContext(ctx).Table("units").Joins("JOIN regions r ON r.id = units.region_id").
		Select("r.path").Where("units.id = ?", unitID).Take(&row).Error
	return row.Path, translate(err, "unit")
}

// ---- facts

// ComplianceHouseholdFacts loads a household with its histories.
func (s *Store) ComplianceHouseholdFacts(ctx context.Context, id uuid.UUID) (compliance.HouseholdHistory, error) {
	var row householdRow
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return compliance.HouseholdHistory{}, translate(err, "household")
	}
	out := compliance.HouseholdHistory{Household: toDomainHousehold(row), RegionPath: row.RegionPath}
	var err error
	if out.StatusChanges, out.PovertyChanges, err = s.StatusHistory(ctx, row.CountyID, id); err != nil {
		return out, err
	}
	var prows []pairingRow
	if err := s.db.WithContext(ctx).Where("county_id = ? AND household_id = ?", row.CountyID, id).Order("start_on, id").Find(&prows).Error; err != nil {
		return out, translate(err, "pairing")
	}
	for _, p := range prows {
		out.Pairings = append(out.Pairings, toDomainPairing(p))
	}
	return out, nil
}

type visitFactRow struct {
	ID          uuid.UUID                `gorm:"column:id"`
	HouseholdID uuid.UUID                `gorm:"column:household_id"`
	CadreID     uuid.UUID                `gorm:"column:cadre_id"`
	VillageID   uuid.UUID                `gorm:"column:village_id"`
	RegionID    uuid.UUID                `gorm:"column:region_id"`
	Kind        string                   `gorm:"column:kind"`
	StartedAt   time.Time                `gorm:"column:started_at"`
	EndedAt     *time.Time               `gorm:"column:ended_at"`
	Flags       jsonValue[[]domain.Flag] `gorm:"column:flags"`
	Deleted     bool                     `gorm:"column:deleted"`
}

func toVisitFacts(rows []visitFactRow) []rules.VisitFact {
	out := make([]rules.VisitFact, len(rows))
	for i, r := range rows {
		codes := make([]string, len(r.Flags.V))
		for j, f := range r.Flags.V {
			codes[j] = f.Code
		}
		var ended *time.Time
		if r.EndedAt != nil {
			e := r.EndedAt.UTC()
			ended = &e
		}
		out[i] = rules.VisitFact{ID: r.ID, HouseholdID: r.HouseholdID, CadreID: r.CadreID, VillageID: r.VillageID, RegionID: r.RegionID,
			Kind: r.Kind, StartedAt: r.StartedAt.UTC(), EndedAt: ended, Flags: codes, Deleted: r.Deleted}
	}
	return out
}

const visitFactColumns = "v.id, v.household_id, v.cadre_id, h.village_id, h.region_id, v.kind, v.started_at, v.ended_at, v.flags, v.deleted"

// visitFacts lists the visits (v, joined to their households h) that
// narrow selects started in [from, to), in time order.
func (s *Store) visitFacts(ctx context.Context, from, to time.Time, narrow func(q *gorm.DB) *gorm.DB) ([]rules.VisitFact, error) {
	var rows []visitFactRow
	q := s.db.WithContext(ctx).Table("visits v").Select(visitFactColumns).
		Joins("JOIN households h ON h.county_id = v.county_id AND h.id = v.household_id").
		Where("v.started_at >= ? AND v.started_at < ?", from.UTC(), to.UTC())
	err := narrow(q).Order("v.started_at, v.id").Scan(&rows).Error
	return toVisitFacts(rows), translate(err, "visit")
}

// HouseholdVisitFacts returns a household's visits started in [from, to)
// that reader r may see (visitShown), deleted ones included so a judgement
// can say they were.
func (s *Store) HouseholdVisitFacts(ctx context.Context, r domain.VisitReader, countyID, householdID uuid.UUID, from, to time.Time) ([]rules.VisitFact, error) {
	return s.visitFacts(ctx, from, to, func(q *gorm.DB) *gorm.DB {
		return shownTo(q.Where("v.county_id = ? AND v.household_id = ?", countyID, householdID), "v", r)
	})
}

// CadreVisitFacts returns a cadre's visits started in [from, to).
func (s *Store) CadreVisitFacts(ctx context.Context, cadreIDs []uuid.UUID, from, to time.Time) ([]rules.VisitFact, error) {
	return s.visitFacts(ctx, from, to, func(q *gorm.DB) *gorm.DB { return q.Where("v.cadre_id IN ?", cadreIDs) })
}

// CadreVisitFactsWithin returns a cadre's visits to households within path
// started in [from, to), deleted ones included.
func (s *Store) CadreVisitFactsWithin(ctx context.Context, path string, cadreID uuid.UUID, from, to time.Time) ([]rules.VisitFact, error) {
	return s.visitFacts(ctx, from, to, func(q *gorm.DB) *gorm.DB {
		return q.Where("v.cadre_id = ?", cadreID).Where(like("h.region_path"), likePrefix(path))
	})
}

// PairedHouseholds lists the households within path paired with the cadre
// on day, by village and number.
func (s *Store) PairedHouseholds(ctx context.Context, path string, cadreID uuid.UUID, day domain.Date) ([]compliance.PairedHousehold, error) {
	var rows []struct {
		Household   householdRow `gorm:"embedded"`
		VillageName *string      `gorm:"column:village_name"`
		PairedSince sqlDate      `gorm:"column:paired_since"`
	}
	d := toSQLDate(day)
	err := s.db.WithContext(ctx).Table("households").Select("households.*, v.name AS village_name, p.start_on AS paired_since").
		Joins("JOIN pairings p ON p.county_id = households.county_id AND p.household_id = households.id").
		Joins("LEFT JOIN regions v ON v.id = households.village_id").
		Where("p.cadre_id = ?", cadreID).Where(pairingOpen("p"), d, d).Where(like("households.region_path"), likePrefix(path)).
		Order("v.name, households.number, households.head_name, households.id").Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "household")
	}
	out := make([]compliance.PairedHousehold, len(rows))
	for i, r := range rows {
		out[i] = compliance.PairedHousehold{Household: toDomainHousehold(r.Household), VillageName: deref(r.VillageName), PairedSince: r.PairedSince.date()}
	}
	return out, nil
}

// ---- statuses

type complianceStatusRow struct {
	CountyID       uuid.UUID               `gorm:"column:county_id"`
	SubjectKind    string                  `gorm:"column:subject_kind;primaryKey"`
	SubjectID      uuid.UUID               `gorm:"column:subject_id;primaryKey"`
	CadreKey       uuid.UUID               `gorm:"column:cadre_key;primaryKey"`
	RuleCode       string                  `gorm:"column:rule_code;primaryKey"`
	PeriodKey      string                  `gorm:"column:period_key;primaryKey"`
	Year           int                     `gorm:"column:year"`
	WindowKind     string                  `gorm:"column:window_kind"`
	HouseholdID    *uuid.UUID              `gorm:"column:household_id"`
	CadreID        *uuid.UUID              `gorm:"column:cadre_id"`
	VillageID      *uuid.UUID              `gorm:"column:village_id"`
	TownID         *uuid.UUID              `gorm:"column:town_id"`
	RegionPath     string                  `gorm:"column:region_path"`
	Required       int                     `gorm:"column:required"`
	FullRequired   int                     `gorm:"column:full_required"`
	Counted        int                     `gorm:"column:counted"`
	Prorated       bool                    `gorm:"column:prorated"`
	DueOn          string                  `gorm:"column:due_on"`
	DueSoonFrom    string                  `gorm:"column:due_soon_from"`
	OverdueFrom    *string                 `gorm:"column:overdue_from"`
	Detail         jsonValue[rules.Status] `gorm:"column:detail"`
	ProfileCode    string                  `gorm:"column:profile_code"`
	ProfileVersion int                     `gorm:"column:profile_version"`
	ComputedAt     time.Time               `gorm:"column:computed_at"`
}

func (complianceStatusRow) TableName() string { return "compliance_statuses" }

type complianceSubjectRow struct {
	SubjectKind    string    `gorm:"column:subject_kind;primaryKey"`
	SubjectID      uuid.UUID `gorm:"column:subject_id;primaryKey"`
	Year           int       `gorm:"column:year;primaryKey"`
	CountyID       uuid.UUID `gorm:"column:county_id"`
	ProfileCode    string    `gorm:"column:profile_code"`
	ProfileVersion int       `gorm:"column:profile_version"`
	JudgedAt       time.Time `gorm:"column:judged_at"`
}

func (complianceSubjectRow) TableName() string { return "compliance_subjects" }

func optDate(d *domain.Date) *string {
	if d == nil {
		return nil
	}
	s := d.String()
	return &s
}

// SaveJudgement replaces a subject's statuses for the year and takes it off
// the queue unless it was queued again while being judged.
func (s *Store) SaveJudgement(ctx context.Context, j compliance.Judgement) error {
	sub := j.Subject
	return s.inTx(ctx, "compliance", func(tx *gorm.DB) error {
		kinds := compliance.StatusSubjects(sub.Kind)
		if err := tx.Where("subject_id = ? AND year = ? AND subject_kind IN ?", sub.ID, sub.Year, kinds).Delete(&complianceStatusRow{}).Error; err != nil {
			return err
		}
		rows := make([]complianceStatusRow, 0, len(j.Statuses))
		for _, js := range j.Statuses {
			rows = append(rows, toStatusRow(j, js))
		}
		if err := insertBatches(tx, rows, max(1, s.importBatch()/4), func(int) {}); err != nil {
			return err
		}
		judged := complianceSubjectRow{SubjectKind: sub.Kind, SubjectID: sub.ID, Year: sub.Year, CountyID: sub.CountyID,
			ProfileCode: j.ProfileCode, ProfileVersion: j.ProfileVersion, JudgedAt: j.At.UTC()}
		err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "subject_kind"}, {Name: "subject_id"}, {Name: "year"}},
			DoUpdates: clause.AssignmentColumns([]string{"county_id", "profile_code", "profile_version", "judged_at"})}).Create(&judged).Error
		if err != nil {
			return err
		}
		if sub.EnqueuedAt.IsZero() {
			return nil
		}
		err = tx.Where("subject_kind = ? AND subject_id = ? AND year = ? AND enqueued_at <= ?", sub.Kind, sub.ID, sub.Year, sub.EnqueuedAt.UTC()).
			Delete(&complianceQueueRow{}).Error
		if err != nil {
			return err
		}
		return complianceWork.requeued(tx, sub.Kind, sub.ID, sub.Year)
	})
}

func toStatusRow(j compliance.Judgement, js compliance.JudgedStatus) complianceStatusRow {
	sub, st := j.Subject, js.Status
	row := complianceStatusRow{CountyID: js.CountyID, SubjectKind: st.Subject, SubjectID: sub.ID, RuleCode: st.RuleCode,
		PeriodKey: st.Period.Key(), Year: sub.Year, WindowKind: st.Period.Window, CadreID: js.CadreID, VillageID: js.VillageID,
		TownID: js.TownID, RegionPath: js.RegionPath, Required: st.Required, FullRequired: st.FullRequired, Counted: st.CountedN,
		Prorated: st.Prorated, DueOn: st.DueOn.String(), DueSoonFrom: st.DueSoonFrom.String(), OverdueFrom: optDate(st.OverdueFrom),
		Detail: jsonValue[rules.Status]{st}, ProfileCode: j.ProfileCode, ProfileVersion: j.ProfileVersion, ComputedAt: j.At.UTC()}
	if st.HouseholdID != uuid.Nil {
		h := st.HouseholdID
		row.HouseholdID = &h
	}
	// The key tells apart a household's pairs and a unit's places.
	switch {
	case st.Subject == rules.SubjectPairing && st.CadreID != nil:
		row.CadreKey = *st.CadreID
	case st.Subject == rules.SubjectUnitGroup && st.RegionID != nil:
		row.CadreKey = *st.RegionID
	}
	return row
}

func toJudgedStatus(r complianceStatusRow) compliance.JudgedStatus {
	return compliance.JudgedStatus{Status: r.Detail.V, CountyID: r.CountyID, CadreID: r.CadreID, VillageID: r.VillageID, TownID: r.TownID, RegionPath: r.RegionPath}
}

// StoredStatuses returns the statuses of a subject for a year.
func (s *Store) StoredStatuses(ctx context.Context, subjectID uuid.UUID, year int) ([]compliance.JudgedStatus, error) {
	var rows []complianceStatusRow
	if err := s.db.WithContext(ctx).Where("subject_id = ? AND year = ?", subjectID, year).
		Order("rule_code, period_key, cadre_key").Find(&rows).Error; err != nil {
		return nil, translate(err, "compliance")
	}
	out := make([]compliance.JudgedStatus, len(rows))
	for i, r := range rows {
		out[i] = toJudgedStatus(r)
	}
	return out, nil
}

// ---- reports

// stateSQL spells rules.Status.StateOn in SQL; dates are YYYY-MM-DD text,
// which compares in calendar order.
const stateSQL = `CASE WHEN s.counted >= s.required THEN 'met'
	WHEN @today > s.due_on THEN 'missed'
	WHEN s.overdue_from IS NOT NULL AND @today >= s.overdue_from THEN 'overdue'
	WHEN @today >= s.due_soon_from THEN 'due_soon'
	ELSE 'on_track' END`

func (s *Store) reportBase(ctx context.Context, f compliance.ReportFilter) *gorm.DB {
	table := "compliance_statuses s"
	state := stateSQL
	if f.Frozen {
		table, state = "compliance_frozen s", "s.state"
	}
	q := s.db.WithContext(ctx).Table(table).
		Where("s.period_key IN ?", f.PeriodKeys).Where(like("s.region_path"), likePrefix(f.RegionPath))
	if f.CadreID != nil {
		q = q.Where("s.cadre_id = ?", *f.CadreID)
	}
	if f.RuleCode != "" {
		q = q.Where("s.rule_code = ?", f.RuleCode)
	}
	if f.Households != nil {
		q = q.Where("s.household_id IN (?)", s.householdsIn(*f.Households, f.Today))
	}
	// A subquery rather than a join: ReportItems joins households for the
	// names, and a status without a household must drop out here only.
	if f.PovertyType != "" || f.HouseholdStatus != "" {
		household := "SELECT 1 FROM households fh WHERE fh.county_id = s.county_id AND fh.id = s.household_id"
		var args []any
		if f.PovertyType != "" {
			household += " AND fh.poverty_type = ?"
			args = append(args, f.PovertyType)
		}
		if f.HouseholdStatus != "" {
			household += " AND fh.status = ?"
			args = append(args, f.HouseholdStatus)
		}
		q = q.Where("EXISTS ("+household+")", args...)
	}
	if len(f.States) > 0 {
		args := map[string]any{"states": f.States}
		if !f.Frozen {
			args["today"] = f.Today.String()
		}
		q = q.Where("("+state+") IN @states", args)
	}
	return q
}

// todayArgs binds @today where the state is computed (live statuses);
// a frozen close stores its state and takes no argument.
func todayArgs(f compliance.ReportFilter) []any {
	if f.Frozen {
		return nil
	}
	return []any{map[string]any{"today": f.Today.String()}}
}

// groupColumns are the status columns a report's counts are grouped by.
var groupColumns = map[compliance.Grouping]string{compliance.Overall: "", compliance.ByVillage: "village_id", compliance.ByTown: "town_id",
	compliance.ByCadre: "cadre_id", compliance.ByRule: "rule_code"}

// ReportCounts counts a report's statuses by state, grouped as asked.
func (s *Store) ReportCounts(ctx context.Context, f compliance.ReportFilter, by compliance.Grouping) ([]compliance.StateCounts, error) {
	groupBy, ok := groupColumns[by]
	if !ok {
		return nil, fmt.Errorf("storage: cannot group a report by %d", by)
	}
	state := stateSQL
	if f.Frozen {
		state = "s.state"
	}
	group := "''"
	if groupBy != "" {
		group = "COALESCE(CAST(s." + groupBy + " AS TEXT), '')"
	}
	sel := group + ` AS grp, COUNT(*) AS total,
		SUM(CASE WHEN st = 'met' THEN 1 ELSE 0 END) AS met, SUM(CASE WHEN st = 'on_track' THEN 1 ELSE 0 END) AS on_track,
		SUM(CASE WHEN st = 'due_soon' THEN 1 ELSE 0 END) AS due_soon, SUM(CASE WHEN st = 'overdue' THEN 1 ELSE 0 END) AS overdue,
		SUM(CASE WHEN st = 'missed' THEN 1 ELSE 0 END) AS missed, SUM(s.required) AS required, SUM(LEAST_COUNTED) AS counted`
	sel = strings.ReplaceAll(sel, "st =", "("+state+") =")
	sel = strings.ReplaceAll(sel, "LEAST_COUNTED", "CASE WHEN s.counted > s.required THEN s.required ELSE s.counted END")
	var rows []struct {
		Grp                                           string
		Total, Met, OnTrack, DueSoon, Overdue, Missed int64
		Required, Counted                             int64
	}
	q := s.reportBase(ctx, f).Select(sel, todayArgs(f)...)
	if groupBy != "" {
		q = q.Group("grp").Order("grp")
	}
	if err := q.Scan(&rows).Error; err != nil {
		return nil, translate(err, "compliance")
	}
	out := make([]compliance.StateCounts, 0, len(rows))
	for _, r := range rows {
		if r.Total == 0 {
			continue
		}
		out = append(out, compliance.StateCounts{Group: r.Grp, Total: r.Total, Met: r.Met, OnTrack: r.OnTrack, DueSoon: r.DueSoon, Overdue: r.Overdue,
			Missed: r.Missed, Required: r.Required, Counted: r.Counted})
	}
	return out, nil
}

// ReportItems lists a report's statuses (worst first, then by deadline).
func (s *Store) ReportItems(ctx context.Context, f compliance.ReportFilter) ([]compliance.ReportItem, int64, error) {
	state := stateSQL
	if f.Frozen {
		state = "s.state"
	}
	var total int64
	if err := s.reportBase(ctx, f).Count(&total).Error; err != nil {
		return nil, 0, translate(err, "compliance")
	}
	var rows []reportItemRow
	q := s.reportBase(ctx, f).
		Select("s.county_id, s.cadre_id, s.village_id, s.town_id, s.region_path, s.detail, ("+state+") AS state, h.head_name, h.number, u.display_name, r.name AS village_name",
			todayArgs(f)...).
		Joins("LEFT JOIN households h ON h.county_id = s.county_id AND h.id = s.household_id").
		Joins("LEFT JOIN users u ON u.id = s.cadre_id").
		Joins("LEFT JOIN regions r ON r.id = s.village_id").
		Order(clause.OrderBy{Expression: clause.NamedExpr{SQL: "CASE (" + state + ") WHEN 'missed' THEN 0 WHEN 'overdue' THEN 1 WHEN 'due_soon' THEN 2 WHEN 'on_track' THEN 3 ELSE 4 END, s.due_on, r.name, h.number, s.rule_code, s.subject_id",
			Vars: todayArgs(f)}})
	if f.Limit > 0 {
		q = q.Limit(f.Limit).Offset(f.Offset)
	}
	if err := q.Scan(&rows).Error; err != nil {
		return nil, 0, translate(err, "compliance")
	}
	out := make([]compliance.ReportItem, len(rows))
	for i, r := range rows {
		out[i] = toReportItem(r)
	}
	return out, total, nil
}

// reportItemRow is a status with its state and the names of its
// household, cadre and village (each missing when the status has none).
type reportItemRow struct {
	CountyID    uuid.UUID
	CadreID     *uuid.UUID
	VillageID   *uuid.UUID
	TownID      *uuid.UUID
	RegionPath  string
	Detail      jsonValue[rules.Status]
	State       string
	HeadName    *string
	Number      *string
	DisplayName *string
	VillageName *string
}

func toReportItem(r reportItemRow) compliance.ReportItem {
	return compliance.ReportItem{JudgedStatus: compliance.JudgedStatus{Status: r.Detail.V, CountyID: r.CountyID, CadreID: r.CadreID, VillageID: r.VillageID,
		TownID: r.TownID, RegionPath: r.RegionPath}, State: r.State,
		HouseholdName: deref(r.HeadName), HouseholdNo: deref(r.Number), CadreName: deref(r.DisplayName), VillageName: deref(r.VillageName)}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Names returns the display names of users and the names of regions with
// the given ids, in two queries.
func (s *Store) Names(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]string, error) {
	out := make(map[uuid.UUID]string, len(ids))
	for _, c := range chunks(ids, 1000) {
		var rows []struct {
			ID   uuid.UUID
			Name string
		}
		if err := s.db.WithContext(ctx).Table("users").Select("id, display_name AS name").Where("id IN ?", c).Scan(&rows).Error; err != nil {
			return nil, translate(err, "user")
		}
		var regions []struct {
			ID   uuid.UUID
			Name string
		}
		if err := s.db.WithContext(ctx).Table("regions").Select("id, name").Where("id IN ?", c).Scan(&regions).Error; err != nil {
			return nil, translate(err, "region")
		}
		for _, r := range append(rows, regions...) {
			out[r.ID] = r.Name
		}
	}
	return out, nil
}

// ---- closes

// ClosePeriod freezes a county's statuses for a period as they stand on
// today. A period is closed once; closing again is a conflict.
func (s *Store) ClosePeriod(ctx context.Context, countyID uuid.UUID, periodKey string, today domain.Date, now time.Time, audit domain.AuditEntry) error {
	return s.inTx(ctx, "compliance close", func(tx *gorm.DB) error {
		res := tx.Exec(`INSERT INTO compliance_closes (county_id, period_key, closed_at, closed_by) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			countyID, periodKey, now.UTC(), audit.ActorID)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return domain.Conflict("the period is already closed", "该期间已结账，数据已冻结")
		}
		err := tx.Exec(`INSERT INTO compliance_frozen (county_id, period_key, subject_kind, subject_id, cadre_key, rule_code, window_kind,
			household_id, cadre_id, village_id, town_id, region_path, required, counted, state, due_on, detail)
			SELECT s.county_id, s.period_key, s.subject_kind, s.subject_id, s.cadre_key, s.rule_code, s.window_kind,
			s.household_id, s.cadre_id, s.village_id, s.town_id, s.region_path, s.required, s.counted, `+stateSQL+`, s.due_on, s.detail
			FROM compliance_statuses s WHERE s.county_id = @county AND s.period_key = @period`,
			map[string]any{"today": today.String(), "county": countyID, "period": periodKey}).Error
		if err != nil {
			return err
		}
		return s.appendAudit(tx, audit)
	})
}

// PeriodClose says when a county's period was closed, if it was.
func (s *Store) PeriodClose(ctx context.Context, countyID uuid.UUID, periodKey string) (*time.Time, error) {
	var rows []struct{ ClosedAt time.Time }
	err := s.db.WithContext(ctx).Table("compliance_closes").Select("closed_at").
		Where("county_id = ? AND period_key = ?", countyID, periodKey).Scan(&rows).Error
	if err != nil || len(rows) == 0 {
		return nil, translate(err, "compliance close")
	}
	t := rows[0].ClosedAt.UTC()
	return &t, nil
}

// ---- coverage

// CountyCoverageFacts loads a region's coverage facts in a few queries,
// for visits started in [from, to).
func (s *Store) CountyCoverageFacts(ctx context.Context, path string, from, to time.Time) (compliance.CoverageFacts, error) {
	var out compliance.CoverageFacts
	db := s.db.WithContext(ctx)
	var hrows []householdRow
	if err := db.Where(like("region_path"), likePrefix(path)).Order("id").Find(&hrows).Error; err != nil {
		return out, translate(err, "household")
	}
	inPath := "household_id IN (SELECT id FROM households WHERE " + like("region_path") + ")"
	var srows []statusChangeRow
	if err := db.Where(inPath, likePrefix(path)).Order("effective_on, recorded_at").Find(&srows).Error; err != nil {
		return out, translate(err, "household")
	}
	var prows []povertyTypeChangeRow
	if err := db.Where(inPath, likePrefix(path)).Order("effective_on, recorded_at").Find(&prows).Error; err != nil {
		return out, translate(err, "household")
	}
	var pairs []pairingRow
	if err := db.Where(inPath, likePrefix(path)).Order("start_on, id").Find(&pairs).Error; err != nil {
		return out, translate(err, "pairing")
	}
	byID := make(map[uuid.UUID]*compliance.HouseholdHistory, len(hrows))
	out.Households = make([]compliance.HouseholdHistory, len(hrows))
	for i, r := range hrows {
		out.Households[i] = compliance.HouseholdHistory{Household: toDomainHousehold(r), RegionPath: r.RegionPath}
		byID[r.ID] = &out.Households[i]
	}
	for _, r := range srows {
		if h := byID[r.HouseholdID]; h != nil {
			h.StatusChanges = append(h.StatusChanges, domain.StatusChange{ID: r.ID, HouseholdID: r.HouseholdID, CountyID: r.CountyID,
				From: r.FromStatus, To: r.ToStatus, ExitYear: r.ExitYear, EffectiveOn: r.EffectiveOn.date()})
		}
	}
	for _, r := range prows {
		if h := byID[r.HouseholdID]; h != nil {
			h.PovertyChanges = append(h.PovertyChanges, domain.PovertyTypeChange{ID: r.ID, HouseholdID: r.HouseholdID, CountyID: r.CountyID,
				From: r.FromType, To: r.ToType, EffectiveOn: r.EffectiveOn.date()})
		}
	}
	for _, r := range pairs {
		if h := byID[r.HouseholdID]; h != nil {
			h.Pairings = append(h.Pairings, toDomainPairing(r))
		}
	}
	var vrows []regionRow
	if err := db.Where("level = ?", domain.LevelVillage).Where(like("path"), likePrefix(path)).Order("code").Find(&vrows).Error; err != nil {
		return out, translate(err, "region")
	}
	for _, r := range vrows {
		out.Villages = append(out.Villages, toDomainRegion(r))
	}
	var urows []userRow
	if err := db.Where("role = ? AND active = ?", domain.RoleCadre, true).Where(like("region_path"), likePrefix(path)).Order("username").Find(&urows).Error; err != nil {
		return out, translate(err, "user")
	}
	var covering []uuid.UUID
	for _, r := range urows {
		u := toDomainUser(r)
		out.Cadres = append(out.Cadres, u)
		for _, d := range u.Duties {
			if d.Kind == domain.DutyTownHead || d.Kind == domain.DutyCountyLeader {
				covering = append(covering, u.ID)
				break
			}
		}
	}
	if len(covering) > 0 {
		var err error
		if out.Visits, err = s.CadreVisitFacts(ctx, covering, from, to); err != nil {
			return out, err
		}
	}
	return out, nil
}

// CountyIDs lists every county.
func (s *Store) CountyIDs(ctx context.Context) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	err := s.db.WithContext(ctx).Model(&regionRow{}).Where("level = ?", domain.LevelCounty).Order("id").Pluck("id", &ids).Error
	return ids, translate(err, "region")
}

// ClosedPeriods lists the period keys a county has closed.
func (s *Store) ClosedPeriods(ctx context.Context, countyID uuid.UUID) (map[string]bool, error) {
	var keys []string
	err := s.db.WithContext(ctx).Table("compliance_closes").Where("county_id = ?", countyID).Pluck("period_key", &keys)
	out := make(map[string]bool, len(keys))
	for _, k := range keys {
		out[k] = true
	}
	return out, translate(err.Error, "compliance close")
}
