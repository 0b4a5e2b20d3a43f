package storage

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/inspect"
	"github.com/fieldvisit/fieldvisit/internal/inspect/forms"
	"github.com/fieldvisit/fieldvisit/internal/inspect/sampling"
	"github.com/fieldvisit/fieldvisit/internal/itemledger"
)

type findingRow struct {
	ID          uuid.UUID                          `gorm:"column:id;primaryKey"`
	CampaignID  uuid.UUID                          `gorm:"column:campaign_id"`
	CountyID    uuid.UUID                          `gorm:"column:county_id"`
	HouseholdID *uuid.UUID                         `gorm:"column:household_id"`
	VillageID   uuid.UUID                          `gorm:"column:village_id"`
	FormCode    string                             `gorm:"column:form_code"`
	FormVersion int                                `gorm:"column:form_version"`
	Answers     jsonValue[map[string]answerColumn] `gorm:"column:answers"`
	InspectorID uuid.UUID                          `gorm:"column:inspector_id"`
	VisitID     *uuid.UUID                         `gorm:"column:visit_id"`
	RecordedAt  time.Time                          `gorm:"column:recorded_at"`
	UpdatedAt   time.Time                          `gorm:"column:updated_at"`
	Version     int64                              `gorm:"column:version"`
}

func (findingRow) TableName() string { return "inspection_findings" }

// answerColumn is how an answer is kept in the findings' JSON column:
// storage's own shape, so a field renamed in the forms package never
// strands stored answers.
type answerColumn struct {
	Choice  string   `json:"choice,omitempty"`
	Choices []string `json:"choices,omitempty"`
	Count   *int     `json:"count,omitempty"`
	Yes     *bool    `json:"yes,omitempty"`
	Text    string   `json:"text,omitempty"`
}

func toFindingRow(f inspect.Finding) findingRow {
	answers := make(map[string]answerColumn, len(f.Answers))
	for k, a := range f.Answers {
		answers[k] = answerColumn{Choice: a.Choice, Choices: a.Choices, Count: a.Count, Yes: a.Yes, Text: a.Text}
	}
	return findingRow{ID: f.ID, CampaignID: f.CampaignID, CountyID: f.CountyID, HouseholdID: f.HouseholdID, VillageID: f.VillageID,
		FormCode: f.FormCode, FormVersion: f.FormVersion, Answers: jsonValue[map[string]answerColumn]{answers}, InspectorID: f.InspectorID,
		VisitID: f.VisitID, RecordedAt: utc(f.RecordedAt), UpdatedAt: utc(f.UpdatedAt), Version: f.Version}
}

func toFinding(r findingRow) inspect.Finding {
	answers := make(map[string]forms.Answer, len(r.Answers.V))
	for k, a := range r.Answers.V {
		answers[k] = forms.Answer{Choice: a.Choice, Choices: a.Choices, Count: a.Count, Yes: a.Yes, Text: a.Text}
	}
	return inspect.Finding{ID: r.ID, CampaignID: r.CampaignID, CountyID: r.CountyID, HouseholdID: r.HouseholdID, VillageID: r.VillageID,
		FormCode: r.FormCode, FormVersion: r.FormVersion, Answers: answers, InspectorID: r.InspectorID, VisitID: r.VisitID,
		RecordedAt: r.RecordedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), Version: r.Version}
}

// SampledHousehold reads one household of a campaign's sample.
func (s *Store) SampledHousehold(ctx context.Context, campaignID, householdID uuid.UUID) (inspect.SampledHousehold, error) {
	var h sampleHouseholdRow
	if err := s.db.WithContext(ctx).Where("campaign_id = ? AND household_id = ?", campaignID, householdID).Take(&h).Error; err != nil {
		return inspect.SampledHousehold{}, translate(err, "household")
	}
	return inspect.SampledHousehold{HouseholdID: h.HouseholdID, CountyID: h.CountyID, VillageID: h.VillageID, TownID: h.TownID,
		Stratum: h.Stratum, DoneAt: utcPtr(h.DoneAt)}, nil
}

// SampledVillage reads one village of a campaign's sample.
func (s *Store) SampledVillage(ctx context.Context, campaignID, villageID uuid.UUID) (sampling.DrawnVillage, error) {
	var v sampleVillageRow
	if err := s.db.WithContext(ctx).Where("campaign_id = ? AND village_id = ?", campaignID, villageID).Take(&v).Error; err != nil {
		return sampling.DrawnVillage{}, translate(err, "village")
	}
	return sampling.DrawnVillage{ID: v.VillageID, TownID: v.TownID, Stratum: v.Stratum}, nil
}

// HouseholdFinding reads a household's findings in a campaign.
func (s *Store) HouseholdFinding(ctx context.Context, campaignID, householdID uuid.UUID) (inspect.Finding, error) {
	var r findingRow
	err := s.db.WithContext(ctx).Where("campaign_id = ? AND household_id = ?", campaignID, householdID).Take(&r).Error
	if err != nil {
		return inspect.Finding{}, translate(err, "finding")
	}
	return toFinding(r), nil
}

// VillageFinding reads a village's findings (its village form) in a campaign.
func (s *Store) VillageFinding(ctx context.Context, campaignID, villageID uuid.UUID) (inspect.Finding, error) {
	var r findingRow
	err := s.db.WithContext(ctx).Where("campaign_id = ? AND village_id = ? AND household_id IS NULL", campaignID, villageID).Take(&r).Error
	if err != nil {
		return inspect.Finding{}, translate(err, "finding")
	}
	return toFinding(r), nil
}

// OpenItemOfFinding is the finding's rectification item neither closed nor withdrawn
// (OpenLedgerItemOfFinding). In PostgreSQL it first locks the finding's
// row to the end of the transaction, as registering an item does
// (LedgerFindingProblems): a correction and a registration for one finding
// are one after the other, so neither judges the finding without the
// other (SQLite's transactions are one at a time already).
func (s *Store) OpenItemOfFinding(ctx context.Context, findingID uuid.UUID) (uuid.UUID, error) {
	if s.dialect == Postgres && s.inTxn {
		var r findingRow
		err := s.db.WithContext(ctx).Clauses(clause.Locking{Strength: "UPDATE"}).Select("id").Where("id = ?", findingID).Take(&r).Error
		if err != nil {
			return uuid.Nil, translate(err, "finding")
		}
	}
	return s.OpenLedgerItemOfFinding(ctx, findingID)
}

// SaveFinding inserts a finding (expectedVersion 0), marking a household's
// sample row done, or overwrites the stored one at expectedVersion.
func (s *Store) SaveFinding(ctx context.Context, f inspect.Finding, expectedVersion int64, audit domain.AuditEntry) error {
	return s.inTx(ctx, "finding", func(tx *gorm.DB) error {
		row := toFindingRow(f)
		if expectedVersion == 0 {
			if err := tx.Create(&row).Error; err != nil {
				return err
			}
			if f.HouseholdID != nil {
				if err := s.markDone(tx, []uuid.UUID{f.CampaignID}, *f.HouseholdID, row.RecordedAt); err != nil {
					return err
				}
			}
		} else {
			res := tx.Model(&findingRow{}).Where("id = ? AND version = ?", f.ID, expectedVersion).Updates(map[string]any{
				"form_code": row.FormCode, "form_version": row.FormVersion, "answers": row.Answers, "inspector_id": row.InspectorID,
				"visit_id": row.VisitID, "updated_at": row.UpdatedAt, "version": row.Version})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected != 1 {
				return domain.Stale("finding", "核查结果")
			}
		}
		return s.appendAudit(tx, audit)
	})
}

// InspectorTasks lists an inspector's tasks at a household, active or
// not (their campaign ended).
func (s *Store) InspectorTasks(ctx context.Context, inspectorID, householdID uuid.UUID) ([]inspect.Task, error) {
	var rows []taskRow
	err := s.db.WithContext(ctx).Where("inspector_id = ? AND household_id = ?", inspectorID, householdID).Order("campaign_id").Find(&rows).Error
	if err != nil {
		return nil, translate(err, "inspection")
	}
	out := make([]inspect.Task, len(rows))
	for i, r := range rows {
		out[i] = inspect.Task{CampaignID: r.CampaignID, HouseholdID: r.HouseholdID, InspectorID: r.InspectorID}
	}
	return out, nil
}

// MarkDone marks a household done in the campaigns' samples where it is
// not yet, with the feed rows of the tasks whose done flag that changed.
func (s *Store) MarkDone(ctx context.Context, campaigns []uuid.UUID, householdID uuid.UUID, at time.Time) error {
	return s.inTx(ctx, "inspection", func(tx *gorm.DB) error { return s.markDone(tx, campaigns, householdID, at) })
}

// markDone is MarkDone in the caller's transaction. A household already
// done keeps its first time and writes no feed row.
func (s *Store) markDone(tx *gorm.DB, campaigns []uuid.UUID, householdID uuid.UUID, at time.Time) error {
	var pending []uuid.UUID
	err := tx.Model(&sampleHouseholdRow{}).Where("campaign_id IN ? AND household_id = ? AND done_at IS NULL", campaigns, householdID).
		Pluck("campaign_id", &pending).Error
	if err != nil || len(pending) == 0 {
		return err
	}
	err = tx.Model(&sampleHouseholdRow{}).Where("campaign_id IN ? AND household_id = ? AND done_at IS NULL", pending, householdID).
		Update("done_at", at.UTC()).Error
	if err != nil {
		return err
	}
	// Every inspector sent to the household shows the task done, not only
	// the one whose visit or findings did it.
	var tasks []taskRow
	if err := tx.Where("campaign_id IN ? AND household_id = ? AND active", pending, householdID).Order("campaign_id, inspector_id").Find(&tasks).Error; err != nil {
		return err
	}
	return s.appendTaskChanges(tx, tasks, "upsert")
}

// Findings lists a campaign's findings, households' before villages', each
// in the order recorded.
func (s *Store) Findings(ctx context.Context, campaignID uuid.UUID) ([]inspect.Finding, error) {
	var rows []findingRow
	if err := s.db.WithContext(ctx).Where("campaign_id = ?", campaignID).Order("household_id IS NULL, recorded_at, id").Find(&rows).Error; err != nil {
		return nil, translate(err, "finding")
	}
	out := make([]inspect.Finding, len(rows))
	for i, r := range rows {
		out[i] = toFinding(r)
	}
	return out, nil
}

// HouseholdPairings lists every pairing of households of a county.
func (s *Store) HouseholdPairings(ctx context.Context, countyID uuid.UUID, households []uuid.UUID) ([]domain.Pairing, error) {
	var out []domain.Pairing
	for _, part := range chunks(households, 1000) {
		var rows []pairingRow
		if err := s.db.WithContext(ctx).Where("county_id = ? AND household_id IN ?", countyID, part).Order("start_on, id").Find(&rows).Error; err != nil {
			return nil, translate(err, "pairing")
		}
		for _, r := range rows {
			out = append(out, toDomainPairing(r))
		}
	}
	return out, nil
}

// HouseholdVisits lists the visits, not deleted, to households of a county
// started in [from, to].
func (s *Store) HouseholdVisits(ctx context.Context, countyID uuid.UUID, households []uuid.UUID, from, to time.Time) ([]inspect.VisitFact, error) {
	var out []inspect.VisitFact
	for _, part := range chunks(households, 1000) {
		var rows []visitRow
		err := s.db.WithContext(ctx).Select("id, household_id, cadre_id, kind, started_at, flags, measures, checklist").
			Where("county_id = ? AND household_id IN ? AND started_at >= ? AND started_at <= ? AND deleted = ?", countyID, part, from.UTC(), to.UTC(), false).
			Order("started_at, id").Find(&rows).Error
		if err != nil {
			return nil, translate(err, "visit")
		}
		for _, r := range rows {
			v := inspect.VisitFact{ID: r.ID, HouseholdID: r.HouseholdID, CadreID: r.CadreID, Kind: r.Kind, StartedAt: r.StartedAt.UTC(),
				Measures: nonNil(r.Measures.V), Checklist: map[string]string{}}
			for _, f := range r.Flags.V {
				v.Flags = append(v.Flags, f.Code)
			}
			for item, e := range r.Checklist.V {
				v.Checklist[item] = e.Answer
			}
			out = append(out, v)
		}
	}
	return out, nil
}

// CampaignRectifications counts a campaign's items in the rectification
// ledger by status, and those not ended (closed or withdrawn) whose
// deadline (YYYY-MM-DD) is before today.
func (s *Store) CampaignRectifications(ctx context.Context, campaignID uuid.UUID, today domain.Date) (inspect.RectificationCounts, error) {
	out := inspect.RectificationCounts{ByStatus: map[string]int{}}
	db := s.db.WithContext(ctx)
	var rows []struct {
		Status string
		N      int
	}
	if err := db.Table("ledger_items").Select("status, COUNT(*) AS n").Where("campaign_id = ?", campaignID).Group("status").Scan(&rows).Error; err != nil {
		return out, translate(err, "rectification")
	}
	for _, r := range rows {
		out.ByStatus[r.Status] = r.N
	}
	var overdue int64
	err := db.Table("ledger_items").Where("campaign_id = ? AND status NOT IN ? AND deadline <> '' AND deadline < ?", campaignID,
		itemledger.EndedStatuses, today.String()).
		Count(&overdue).Error
	out.Overdue = int(overdue)
	return out, translate(err, "rectification")
}

// ---- accountability

type accountabilityRow struct {
	ID           uuid.UUID  `gorm:"column:id;primaryKey"`
	CountyID     *uuid.UUID `gorm:"column:county_id"`
	CampaignID   *uuid.UUID `gorm:"column:campaign_id"`
	Kind         string     `gorm:"column:kind"`
	TargetUnitID *uuid.UUID `gorm:"column:target_unit_id"`
	TargetUserID *uuid.UUID `gorm:"column:target_user_id"`
	RegionPath   string     `gorm:"column:region_path"`
	Reason       string     `gorm:"column:reason"`
	IssuedBy     uuid.UUID  `gorm:"column:issued_by"`
	IssuedAt     time.Time  `gorm:"column:issued_at"`
	FollowUp     string     `gorm:"column:follow_up"`
	// FollowedUpAt keeps the follow-up's day as its first instant in
	// Asia/Shanghai; the audit log has when it was written.
	FollowedUpAt *time.Time `gorm:"column:followed_up_at"`
	Version      int64      `gorm:"column:version"`
}

func (accountabilityRow) TableName() string { return "accountability_actions" }

func toAccountabilityRow(a inspect.Action) accountabilityRow {
	r := accountabilityRow{ID: a.ID, CountyID: a.CountyID, CampaignID: a.CampaignID, Kind: a.Kind, TargetUnitID: a.TargetUnitID,
		TargetUserID: a.TargetUserID, RegionPath: a.RegionPath, Reason: a.Reason, IssuedBy: a.IssuedBy, IssuedAt: utc(a.IssuedAt),
		FollowUp: a.FollowUp, Version: a.Version}
	if a.FollowedUpOn != nil {
		at := a.FollowedUpOn.Start().UTC()
		r.FollowedUpAt = &at
	}
	return r
}

func toAction(r accountabilityRow) inspect.Action {
	a := inspect.Action{ID: r.ID, CountyID: r.CountyID, CampaignID: r.CampaignID, Kind: r.Kind, TargetUnitID: r.TargetUnitID,
		TargetUserID: r.TargetUserID, RegionPath: r.RegionPath, Reason: r.Reason, IssuedBy: r.IssuedBy, IssuedAt: r.IssuedAt.UTC(),
		FollowUp: r.FollowUp, Version: r.Version}
	if r.FollowedUpAt != nil {
		on := domain.DateOf(*r.FollowedUpAt)
		a.FollowedUpOn = &on
	}
	return a
}

// UnitRegion returns the region a unit sits in.
func (s *Store) UnitRegion(ctx context.Context, unitID uuid.UUID) (domain.Region, error) {
	var r regionRow
	err := s.db.WithContext(ctx).Table("regions").Joins("JOIN units u ON u.region_id = regions.id").Where("u.id = ?", unitID).
		Select("regions.*").Take(&r).Error
	if err != nil {
		return domain.Region{}, translate(err, "unit")
	}
	return toDomainRegion(r), nil
}

// UnitNames names units.
func (s *Store) UnitNames(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]string, error) {
	out := make(map[uuid.UUID]string, len(ids))
	for _, part := range chunks(ids, 1000) {
		var rows []struct {
			ID   uuid.UUID
			Name string
		}
		if err := s.db.WithContext(ctx).Table("units").Select("id, name").Where("id IN ?", part).Scan(&rows).Error; err != nil {
			return nil, translate(err, "unit")
		}
		for _, r := range rows {
			out[r.ID] = r.Name
		}
	}
	return out, nil
}

// CreateAction stores a new accountability action.
func (s *Store) CreateAction(ctx context.Context, a inspect.Action, audit domain.AuditEntry) error {
	return s.inTx(ctx, "accountability action", func(tx *gorm.DB) error {
		row := toAccountabilityRow(a)
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		return s.appendAudit(tx, audit)
	})
}

// ActionForUpdate reads an action and locks it for the transaction.
func (s *Store) ActionForUpdate(ctx context.Context, id uuid.UUID) (inspect.Action, error) {
	var r accountabilityRow
	if err := s.locking(s.db.WithContext(ctx)).Where("id = ?", id).Take(&r).Error; err != nil {
		return inspect.Action{}, translate(err, "accountability action")
	}
	return toAction(r), nil
}

// Actions lists the actions against targets within a region, newest first.
func (s *Store) Actions(ctx context.Context, f inspect.ActionFilter) ([]inspect.Action, int64, error) {
	q := s.db.WithContext(ctx).Model(&accountabilityRow{}).Where(like("region_path"), likePrefix(f.WithinPath))
	if f.CampaignID != nil {
		q = q.Where("campaign_id = ?", *f.CampaignID)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, translate(err, "accountability action")
	}
	var rows []accountabilityRow
	if err := q.Order("issued_at DESC, id").Limit(f.Limit).Offset(f.Offset).Find(&rows).Error; err != nil {
		return nil, 0, translate(err, "accountability action")
	}
	out := make([]inspect.Action, len(rows))
	for i, r := range rows {
		out[i] = toAction(r)
	}
	return out, total, nil
}

// SaveFollowUp stores an action's follow-up over the action at
// expectedVersion.
func (s *Store) SaveFollowUp(ctx context.Context, a inspect.Action, expectedVersion int64, audit domain.AuditEntry) error {
	return s.inTx(ctx, "accountability action", func(tx *gorm.DB) error {
		row := toAccountabilityRow(a)
		res := tx.Model(&accountabilityRow{}).Where("id = ? AND version = ?", a.ID, expectedVersion).
			Updates(map[string]any{"follow_up": row.FollowUp, "followed_up_at": row.FollowedUpAt, "version": row.Version})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return domain.Stale("accountability action", "问责事项")
		}
		return s.appendAudit(tx, audit)
	})
}
