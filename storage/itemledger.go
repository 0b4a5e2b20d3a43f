package storage

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/inspect"
	"github.com/fieldvisit/fieldvisit/internal/itemledger"
)

// evidenceColumn is how evidence is kept in its JSON column: storage's own
// shape, so a field renamed in the service never strands stored evidence.
type evidenceColumn struct {
	VisitIDs    []string `json:"visit_ids,omitempty"`
	PhotoIDs    []string `json:"photo_ids,omitempty"`
	DocumentIDs []string `json:"document_ids,omitempty"`
	Note        string   `json:"note,omitempty"`
}

func toEvidenceColumn(e itemledger.Evidence) jsonValue[evidenceColumn] {
	return jsonValue[evidenceColumn]{evidenceColumn{VisitIDs: e.VisitIDs, PhotoIDs: e.PhotoIDs, DocumentIDs: e.DocumentIDs, Note: e.Note}}
}

func (c evidenceColumn) evidence() itemledger.Evidence {
	return itemledger.Evidence{VisitIDs: c.VisitIDs, PhotoIDs: c.PhotoIDs, DocumentIDs: c.DocumentIDs, Note: c.Note}
}

type ledgerItemRow struct {
	ID                uuid.UUID                 `gorm:"column:id;primaryKey"`
	CountyID          uuid.UUID                 `gorm:"column:county_id"`
	Kind              string                    `gorm:"column:kind"`
	CampaignID        *uuid.UUID                `gorm:"column:campaign_id"`
	FindingID         *uuid.UUID                `gorm:"column:finding_id"`
	HouseholdID       *uuid.UUID                `gorm:"column:household_id"`
	VillageID         *uuid.UUID                `gorm:"column:village_id"`
	RegionPath        string                    `gorm:"column:region_path"`
	Problem           string                    `gorm:"column:problem"`
	ResponsibleUserID *uuid.UUID                `gorm:"column:responsible_user_id"`
	ResponsibleUnitID *uuid.UUID                `gorm:"column:responsible_unit_id"`
	Deadline          sqlDate                   `gorm:"column:deadline"`
	Status            string                    `gorm:"column:status"`
	Evidence          jsonValue[evidenceColumn] `gorm:"column:evidence"`
	CreatedBy         uuid.UUID                 `gorm:"column:created_by"`
	CreatedAt         time.Time                 `gorm:"column:created_at"`
	UpdatedAt         time.Time                 `gorm:"column:updated_at"`
	ClosedAt          *time.Time                `gorm:"column:closed_at"`
	ClosedBy          *uuid.UUID                `gorm:"column:closed_by"`
	WithdrawnAt       *time.Time                `gorm:"column:withdrawn_at"`
	WithdrawnBy       *uuid.UUID                `gorm:"column:withdrawn_by"`
	WithdrawReason    string                    `gorm:"column:withdraw_reason"`
	Version           int64                     `gorm:"column:version"`
}

func (ledgerItemRow) TableName() string { return "ledger_items" }

func toLedgerItemRow(r itemledger.Record) ledgerItemRow {
	village := r.VillageID
	deadline := sqlDate("")
	if !r.Deadline.IsZero() {
		deadline = toSQLDate(r.Deadline)
	}
	return ledgerItemRow{ID: r.ID, CountyID: r.CountyID, Kind: r.Kind, CampaignID: r.CampaignID, FindingID: r.FindingID, HouseholdID: r.HouseholdID,
		VillageID: &village, RegionPath: r.RegionPath, Problem: r.Problem, ResponsibleUserID: r.ResponsibleUserID,
		ResponsibleUnitID: r.ResponsibleUnitID, Deadline: deadline, Status: r.Status, Evidence: toEvidenceColumn(r.Evidence),
		CreatedBy: r.CreatedBy, CreatedAt: utc(r.CreatedAt), UpdatedAt: utc(r.UpdatedAt), ClosedAt: utcPtr(r.ClosedAt), ClosedBy: r.ClosedBy,
		WithdrawnAt: utcPtr(r.WithdrawnAt), WithdrawnBy: r.WithdrawnBy, WithdrawReason: r.WithdrawReason, Version: r.Version}
}

func (row ledgerItemRow) record() itemledger.Record {
	r := itemledger.Record{ID: row.ID, CountyID: row.CountyID, Kind: row.Kind, CampaignID: row.CampaignID, FindingID: row.FindingID,
		HouseholdID: row.HouseholdID, RegionPath: row.RegionPath, Problem: row.Problem, ResponsibleUserID: row.ResponsibleUserID,
		ResponsibleUnitID: row.ResponsibleUnitID, Item: itemledger.Item{Status: row.Status, Evidence: row.Evidence.V.evidence()},
		CreatedBy: row.CreatedBy, CreatedAt: row.CreatedAt.UTC(), UpdatedAt: row.UpdatedAt.UTC(), ClosedAt: utcPtr(row.ClosedAt),
		ClosedBy: row.ClosedBy, WithdrawnAt: utcPtr(row.WithdrawnAt), WithdrawnBy: row.WithdrawnBy, WithdrawReason: row.WithdrawReason,
		Version: row.Version}
	if row.VillageID != nil {
		r.VillageID = *row.VillageID
	}
	if row.Deadline != "" {
		r.Deadline = row.Deadline.date()
	}
	return r
}

// ledgerLineRow is an item with the names its line shows, read in one
// query (GORM reads only exported fields: the row is a named embedded
// field).
type ledgerLineRow struct {
	Item            ledgerItemRow `gorm:"embedded"`
	HouseholdNumber *string       `gorm:"column:household_number"`
	HeadName        *string       `gorm:"column:head_name"`
	VillageName     *string       `gorm:"column:village_name"`
	TownID          *uuid.UUID    `gorm:"column:town_id"`
	TownName        *string       `gorm:"column:town_name"`
	ResponsibleName *string       `gorm:"column:responsible_name"`
	UnitName        *string       `gorm:"column:unit_name"`
	CampaignName    *string       `gorm:"column:campaign_name"`
	ClosedByName    *string       `gorm:"column:closed_by_name"`
}

func (row ledgerLineRow) line() itemledger.Line {
	return itemledger.Line{Record: row.Item.record(), HouseholdNumber: deref(row.HouseholdNumber), HeadName: deref(row.HeadName),
		VillageName: deref(row.VillageName), TownID: row.TownID, TownName: deref(row.TownName), ResponsibleName: deref(row.ResponsibleName),
		UnitName: deref(row.UnitName), CampaignName: deref(row.CampaignName), ClosedByName: deref(row.ClosedByName)}
}

// ledgerLines selects items with their names; the town is the village's
// parent.
const ledgerLines = `li.*, h.number AS household_number, h.head_name AS head_name, v.name AS village_name, t.id AS town_id,
	t.name AS town_name, ru.display_name AS responsible_name, un.name AS unit_name, c.name AS campaign_name, cb.display_name AS closed_by_name`

func ledgerJoins(q *gorm.DB) *gorm.DB {
	return q.Joins("LEFT JOIN households h ON h.county_id = li.county_id AND h.id = li.household_id").
		Joins("LEFT JOIN regions v ON v.id = li.village_id").
		Joins("LEFT JOIN regions t ON t.id = v.parent_id").
		Joins("LEFT JOIN users ru ON ru.id = li.responsible_user_id").
		Joins("LEFT JOIN units un ON un.id = li.responsible_unit_id").
		Joins("LEFT JOIN inspection_campaigns c ON c.id = li.campaign_id").
		Joins("LEFT JOIN users cb ON cb.id = li.closed_by")
}

type ledgerEventRow struct {
	ID         uuid.UUID                 `gorm:"column:id;primaryKey"`
	ItemID     uuid.UUID                 `gorm:"column:item_id"`
	Action     string                    `gorm:"column:action"`
	FromStatus string                    `gorm:"column:from_status"`
	ToStatus   string                    `gorm:"column:to_status"`
	ByUser     uuid.UUID                 `gorm:"column:by_user"`
	At         time.Time                 `gorm:"column:at"`
	Note       string                    `gorm:"column:note"`
	Evidence   jsonValue[evidenceColumn] `gorm:"column:evidence"`
}

func (ledgerEventRow) TableName() string { return "ledger_item_events" }

func toLedgerEventRow(e itemledger.Event) ledgerEventRow {
	return ledgerEventRow{ID: e.ID, ItemID: e.ItemID, Action: e.Action, FromStatus: e.From, ToStatus: e.To, ByUser: e.By, At: utc(e.At),
		Note: e.Note, Evidence: toEvidenceColumn(e.Evidence)}
}

// CreateLedgerItem stores a new item with the event that opened it.
func (s *Store) CreateLedgerItem(ctx context.Context, r itemledger.Record, ev itemledger.Event, audit domain.AuditEntry) error {
	return s.inTx(ctx, r.Kind, func(tx *gorm.DB) error {
		row := toLedgerItemRow(r)
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		er := toLedgerEventRow(ev)
		if err := tx.Create(&er).Error; err != nil {
			return err
		}
		return s.appendAudit(tx, audit)
	})
}

// MoveLedgerItem stores an item's new state if nobody moved it since the
// caller read it (its version is one below r's), with the event.
func (s *Store) MoveLedgerItem(ctx context.Context, r itemledger.Record, ev itemledger.Event, audit domain.AuditEntry) error {
	return s.inTx(ctx, r.Kind, func(tx *gorm.DB) error {
		row := toLedgerItemRow(r)
		res := tx.Model(&ledgerItemRow{}).Where("id = ? AND version = ?", r.ID, r.Version-1).Updates(map[string]any{
			"status": row.Status, "evidence": row.Evidence, "updated_at": row.UpdatedAt, "closed_at": row.ClosedAt, "closed_by": row.ClosedBy,
			"withdrawn_at": row.WithdrawnAt, "withdrawn_by": row.WithdrawnBy, "withdraw_reason": row.WithdrawReason, "version": row.Version})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return domain.Stale(r.Kind, "事项")
		}
		er := toLedgerEventRow(ev)
		if err := tx.Create(&er).Error; err != nil {
			return err
		}
		return s.appendAudit(tx, audit)
	})
}

// LedgerItem reads one item with its names.
func (s *Store) LedgerItem(ctx context.Context, id uuid.UUID) (itemledger.Line, error) {
	var row ledgerLineRow
	err := ledgerJoins(s.db.WithContext(ctx).Table("ledger_items li")).Select(ledgerLines).Where("li.id = ?", id).Take(&row).Error
	if err != nil {
		return itemledger.Line{}, translate(err, "item")
	}
	return row.line(), nil
}

// LedgerHistory reads an item's events in the order they happened.
func (s *Store) LedgerHistory(ctx context.Context, id uuid.UUID) ([]itemledger.Event, error) {
	var rows []struct {
		Event  ledgerEventRow `gorm:"embedded"`
		ByName *string        `gorm:"column:by_name"`
	}
	err := s.db.WithContext(ctx).Table("ledger_item_events e").Select("e.*, u.display_name AS by_name").
		Joins("LEFT JOIN users u ON u.id = e.by_user").Where("e.item_id = ?", id).Order("e.at, e.id").Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "item")
	}
	out := make([]itemledger.Event, len(rows))
	for i, row := range rows {
		r := row.Event
		out[i] = itemledger.Event{ID: r.ID, ItemID: r.ItemID, Action: r.Action, From: r.FromStatus, To: r.ToStatus, By: r.ByUser,
			ByName: deref(row.ByName), At: r.At.UTC(), Note: r.Note, Evidence: r.Evidence.V.evidence()}
	}
	return out, nil
}

// LedgerItems lists the items of a filter, oldest first, with the total.
func (s *Store) LedgerItems(ctx context.Context, f itemledger.Filter) ([]itemledger.Line, int64, error) {
	db := s.db.WithContext(ctx)
	q := ledgerWhere(db.Table("ledger_items li"), f)
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, translate(err, "item")
	}
	var rows []ledgerLineRow
	err := ledgerJoins(ledgerWhere(db.Table("ledger_items li"), f)).Select(ledgerLines).
		Order("li.created_at, li.id").Limit(f.Limit).Offset(f.Offset).Scan(&rows).Error
	if err != nil {
		return nil, 0, translate(err, "item")
	}
	out := make([]itemledger.Line, len(rows))
	for i, r := range rows {
		out[i] = r.line()
	}
	return out, total, nil
}

// ledgerWhere applies a filter: the caller's scope, what they asked for,
// and the hold on items of an unannounced campaign still running.
func ledgerWhere(q *gorm.DB, f itemledger.Filter) *gorm.DB {
	q = q.Where("li.kind = ?", f.Kind)
	for _, path := range []string{f.ScopePath, f.RegionPath} {
		if path != "" {
			q = q.Where(like("li.region_path"), likePrefix(path))
		}
	}
	if f.ResponsibleOf != nil {
		q = q.Where("li.responsible_user_id = ?", *f.ResponsibleOf)
	}
	if f.ResponsibleID != nil {
		q = q.Where("li.responsible_user_id = ?", *f.ResponsibleID)
	}
	if f.InspectorOf != nil {
		q = q.Where("li.campaign_id IN (SELECT campaign_id FROM inspection_inspectors WHERE user_id = ?)", *f.InspectorOf)
	}
	if f.CampaignID != nil {
		q = q.Where("li.campaign_id = ?", *f.CampaignID)
	}
	if len(f.State.Statuses) > 0 {
		q = q.Where("li.status IN ?", f.State.Statuses)
	}
	if f.State.Overdue != nil {
		// Deadlines are YYYY-MM-DD text: they compare as days.
		if *f.State.Overdue {
			q = q.Where("li.deadline <> '' AND li.deadline < ?", f.State.Today.String())
		} else {
			q = q.Where("(li.deadline = '' OR li.deadline >= ?)", f.State.Today.String())
		}
	}
	held := `SELECT 1 FROM inspection_campaigns hc WHERE hc.id = li.campaign_id AND hc.mode = ? AND hc.status <> ? AND hc.created_by <> ?
		AND NOT EXISTS (SELECT 1 FROM inspection_inspectors hi WHERE hi.campaign_id = hc.id AND hi.user_id = ?)`
	args := []any{inspect.ModeUnannounced, inspect.StatusEnded, f.Viewer, f.Viewer}
	if f.AdminPath != "" {
		held += ` AND NOT (hc.region_path LIKE ? ESCAPE '\')`
		args = append(args, likePrefix(f.AdminPath))
	}
	return q.Where("(li.campaign_id IS NULL OR NOT EXISTS ("+held+"))", args...)
}

// LedgerFinding reads what an item needs of an inspection finding.
func (s *Store) LedgerFinding(ctx context.Context, id uuid.UUID) (itemledger.Finding, error) {
	var row struct {
		ID          uuid.UUID  `gorm:"column:id"`
		CampaignID  uuid.UUID  `gorm:"column:campaign_id"`
		HouseholdID *uuid.UUID `gorm:"column:household_id"`
		VillageID   uuid.UUID  `gorm:"column:village_id"`
		RecordedAt  time.Time  `gorm:"column:recorded_at"`
	}
	err := s.db.WithContext(ctx).Table("inspection_findings").Select("id, campaign_id, household_id, village_id, recorded_at").Where("id = ?", id).Take(&row).Error
	if err != nil {
		return itemledger.Finding{}, translate(err, "finding")
	}
	return itemledger.Finding{ID: row.ID, CampaignID: row.CampaignID, HouseholdID: row.HouseholdID, VillageID: row.VillageID,
		RecordedAt: row.RecordedAt.UTC()}, nil
}

// LedgerFindingProblems judges what an inspection finding records as a
// problem (inspect.FindingProblems) over the cadre's records as stored. In
// PostgreSQL it locks the finding's row to the end of the transaction, so
// two registrations for one finding are one after the other (SQLite's
// transactions are one at a time already).
func (s *Store) LedgerFindingProblems(ctx context.Context, id uuid.UUID) ([]string, error) {
	q := s.db.WithContext(ctx)
	if s.dialect == Postgres && s.inTxn {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var r findingRow
	if err := q.Where("id = ?", id).Take(&r).Error; err != nil {
		return nil, translate(err, "finding")
	}
	return inspect.FindingProblems(ctx, s, toFinding(r))
}

// OpenLedgerItemOfFinding is the finding's item neither closed nor
// withdrawn (a withdrawn one was registered in error). Items
// registered twice before the rule was kept (migration 00020 marks the
// later ones duplicate_of the first) answer with the first.
func (s *Store) OpenLedgerItemOfFinding(ctx context.Context, findingID uuid.UUID) (uuid.UUID, error) {
	var ids []uuid.UUID
	err := s.db.WithContext(ctx).Model(&ledgerItemRow{}).Where("finding_id = ? AND status NOT IN ?", findingID, itemledger.EndedStatuses).
		Order("CASE WHEN duplicate_of IS NULL THEN 0 ELSE 1 END, created_at, id").Limit(1).Pluck("id", &ids).Error
	if err != nil {
		return uuid.Nil, translate(err, "rectification")
	}
	if len(ids) == 0 {
		return uuid.Nil, domain.NotFound("rectification")
	}
	return ids[0], nil
}
