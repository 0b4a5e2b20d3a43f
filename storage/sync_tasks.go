package storage

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/sync"
)

// An inspector's phone holds their tasks and, for each task's household,
// what the cadres recorded there: the reads behind it are here. A task row
// has no id of its own (its key is campaign, household and inspector), and
// the feed and the phone need one, so it is derived from that key.

// taskNamespace names the ids derived for inspection tasks.
var taskNamespace = uuid.MustParse("0d6f3b8e-4c1a-4e57-9a2b-7f1e5c3d9b60")

// taskID is a task's id: the same for the same campaign, household and
// inspector, whoever computes it.
func taskID(campaign, household, inspector uuid.UUID) uuid.UUID {
	key := make([]byte, 0, 48)
	key = append(append(append(key, campaign[:]...), household[:]...), inspector[:]...)
	return uuid.NewSHA1(taskNamespace, key)
}

// taskChange is the feed row of a task: the inspector's own row (cadre_id),
// like a cadre's pairing, so it reaches their feed alone — never that of
// the inspected village, whose cadres must not learn of an unannounced
// campaign from their phones. An active task is version 1 and an ended
// one 2, so the tombstone outranks the task on a phone.
func taskChange(t taskRow, op string) feedEntry {
	hid, iid := t.HouseholdID, t.InspectorID
	version := int64(1)
	if op == "delete" {
		version = 2
	}
	return feedEntry{CountyID: t.CountyID, Entity: "task", EntityID: taskID(t.CampaignID, t.HouseholdID, t.InspectorID), HouseholdID: &hid,
		CadreID: &iid, Op: op, Version: version}
}

// appendTaskChanges writes the feed rows of tasks, in the caller's
// transaction.
func (s *Store) appendTaskChanges(tx *gorm.DB, tasks []taskRow, op string) error {
	cs := make([]feedEntry, len(tasks))
	for i, t := range tasks {
		cs[i] = taskChange(t, op)
	}
	return s.appendChanges(tx, cs)
}

// syncTaskRow is a task with what its phone shows of the campaign and the
// sample.
type syncTaskRow struct {
	CampaignID   uuid.UUID  `gorm:"column:campaign_id"`
	HouseholdID  uuid.UUID  `gorm:"column:household_id"`
	InspectorID  uuid.UUID  `gorm:"column:inspector_id"`
	CountyID     uuid.UUID  `gorm:"column:county_id"`
	Active       bool       `gorm:"column:active"`
	CampaignName string     `gorm:"column:campaign_name"`
	Mode         string     `gorm:"column:mode"`
	PeriodFrom   sqlDate    `gorm:"column:period_from"`
	PeriodTo     sqlDate    `gorm:"column:period_to"`
	VillageID    uuid.UUID  `gorm:"column:village_id"`
	TownID       uuid.UUID  `gorm:"column:town_id"`
	VillageName  string     `gorm:"column:village_name"`
	Stratum      string     `gorm:"column:stratum"`
	DoneAt       *time.Time `gorm:"column:done_at"`
}

func (r syncTaskRow) task() sync.Task {
	return sync.Task{ID: taskID(r.CampaignID, r.HouseholdID, r.InspectorID), CampaignID: r.CampaignID, CampaignName: r.CampaignName, Mode: r.Mode,
		PeriodFrom: r.PeriodFrom.date(), PeriodTo: r.PeriodTo.date(), HouseholdID: r.HouseholdID, CountyID: r.CountyID, InspectorID: r.InspectorID,
		VillageID: r.VillageID, TownID: r.TownID, VillageName: r.VillageName, Stratum: r.Stratum, Active: r.Active, Done: r.DoneAt != nil}
}

// syncTasks reads tasks (alias t) with their campaign and sample row; the
// caller adds the conditions.
const syncTasks = `SELECT t.campaign_id, t.household_id, t.inspector_id, t.county_id, t.active, c.name AS campaign_name, c.mode, c.period_from,
	c.period_to, s.village_id, s.town_id, COALESCE(r.name, '') AS village_name, s.stratum, s.done_at
	FROM inspection_sample s
	JOIN inspection_tasks t ON t.campaign_id = s.campaign_id AND t.household_id = s.household_id
	JOIN inspection_campaigns c ON c.id = s.campaign_id
	LEFT JOIN regions r ON r.id = s.village_id`

// TasksAfter hands an inspector's active tasks after the key (household,
// then campaign as the ID) to each, in that order, up to limit.
func (s *Store) TasksAfter(ctx context.Context, inspectorID uuid.UUID, after sync.ChildKey, limit int, each func(sync.Task) error) error {
	var rows []syncTaskRow
	err := s.db.WithContext(ctx).Raw(syncTasks+` WHERE t.inspector_id = ? AND t.active AND t.household_id >= ? AND (t.household_id > ? OR t.campaign_id > ?)
		ORDER BY t.household_id, t.campaign_id LIMIT ?`, inspectorID, after.HouseholdID, after.HouseholdID, after.ID, limit).Scan(&rows).Error
	if err != nil {
		return translate(err, "inspection")
	}
	for _, r := range rows {
		if err := each(r.task()); err != nil {
			return err
		}
	}
	return nil
}

// TasksOf returns an inspector's tasks on the households, active or not,
// by id (a pull page's task rows: the task as it is now). It starts from
// the sample's household index: a household is in few campaigns' samples.
func (s *Store) TasksOf(ctx context.Context, inspectorID uuid.UUID, households []uuid.UUID) (map[uuid.UUID]sync.Task, error) {
	out := map[uuid.UUID]sync.Task{}
	for _, part := range chunks(uniqueIDs(households), lookupChunk) {
		var rows []syncTaskRow
		if err := s.db.WithContext(ctx).Raw(syncTasks+" WHERE s.household_id IN ? AND t.inspector_id = ?", part, inspectorID).Scan(&rows).Error; err != nil {
			return nil, translate(err, "inspection")
		}
		for _, r := range rows {
			t := r.task()
			out[t.ID] = t
		}
	}
	return out, nil
}

// ScopeVisitsAfter pages, by id, the visits others recorded since since to
// the households of an inspector's active tasks, deleted ones left out (a
// fresh phone's snapshot; the inspector's own visits are walked apart),
// without those hidden from reader r (visitShown).
func (s *Store) ScopeVisitsAfter(ctx context.Context, r domain.VisitReader, inspectorID uuid.UUID, since time.Time, after uuid.UUID, limit int) ([]domain.Visit, error) {
	var rows []visitRow
	shown, shownArgs := visitShown("v", r)
	err := s.db.WithContext(ctx).Raw(`SELECT v.* FROM `+inspectedHouseholds+`
		JOIN visits v ON v.county_id = it.county_id AND v.household_id = it.household_id
		WHERE v.started_at >= ? AND v.deleted = ? AND v.cadre_id <> ? AND v.id > ? AND `+shown+` ORDER BY v.id LIMIT ?`,
		append(append([]any{inspectorID, since.UTC(), false, inspectorID, after}, shownArgs...), limit)...).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "visit")
	}
	out := make([]domain.Visit, len(rows))
	for i, r := range rows {
		out[i] = toDomainVisit(r)
	}
	return out, nil
}

// VisitsSince returns every visit, deleted ones included, started since
// since to the households, by household (a household arriving on an
// inspector's phone comes with them, and leaves with their tombstones),
// without those hidden from reader r (visitShown).
func (s *Store) VisitsSince(ctx context.Context, r domain.VisitReader, households []domain.Household, since time.Time) (map[uuid.UUID][]domain.Visit, error) {
	out := map[uuid.UUID][]domain.Visit{}
	for county, ids := range byCounty(households) {
		for _, part := range chunks(ids, lookupChunk) {
			var rows []visitRow
			err := shownTo(s.db.WithContext(ctx), "visits", r).Where("county_id = ? AND household_id IN ? AND started_at >= ?", county, part, since.UTC()).
				Order("id").Find(&rows).Error
			if err != nil {
				return nil, translate(err, "visit")
			}
			for _, r := range rows {
				out[r.HouseholdID] = append(out[r.HouseholdID], toDomainVisit(r))
			}
		}
	}
	return out, nil
}

// OpenPairingsOf returns the pairings of the households open on day, with
// their cadres' names and phones, by household.
func (s *Store) OpenPairingsOf(ctx context.Context, households []domain.Household, day domain.Date) (map[uuid.UUID][]domain.PairingRecord, error) {
	out := map[uuid.UUID][]domain.PairingRecord{}
	d := toSQLDate(day)
	for county, ids := range byCounty(households) {
		err := eachByID(ctx, s, "pairing", "SELECT "+pairingRecordSelect("p")+" FROM pairings p"+pairingCadreJoin("p")+" WHERE p.county_id = ? AND "+pairingOpen("p")+
			" AND p.household_id", []any{county, d, d}, ids,
			(*pairingRecordScan).fields, func(r *pairingRecordScan) {
				out[r.Pairing.HouseholdID] = append(out[r.Pairing.HouseholdID], r.record())
			})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// byCounty groups households' ids by county (every table is keyed by
// county first).
func byCounty(households []domain.Household) map[uuid.UUID][]uuid.UUID {
	out := map[uuid.UUID][]uuid.UUID{}
	for _, h := range households {
		out[h.CountyID] = append(out[h.CountyID], h.ID)
	}
	return out
}
