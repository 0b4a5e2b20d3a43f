package storage

import (
	"context"
	"sort"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/adjustment"
)

type adjustmentBatchRow struct {
	CountyID   uuid.UUID  `gorm:"column:county_id;primaryKey"`
	ID         uuid.UUID  `gorm:"column:id;primaryKey"`
	RegionID   uuid.UUID  `gorm:"column:region_id"`
	RegionPath string     `gorm:"column:region_path"`
	Year       int        `gorm:"column:year"`
	Status     string     `gorm:"column:status"`
	CreatedBy  uuid.UUID  `gorm:"column:created_by"`
	CreatedAt  time.Time  `gorm:"column:created_at"`
	UpdatedAt  time.Time  `gorm:"column:updated_at"`
	ClosedAt   *time.Time `gorm:"column:closed_at"`
}

func (adjustmentBatchRow) TableName() string { return "adjustment_batches" }

type adjustmentItemRow struct {
	CountyID         uuid.UUID           `gorm:"column:county_id;primaryKey"`
	ID               uuid.UUID           `gorm:"column:id;primaryKey"`
	BatchID          uuid.UUID           `gorm:"column:batch_id"`
	Seq              int                 `gorm:"column:seq"`
	HouseholdID      uuid.UUID           `gorm:"column:household_id"`
	Kind             string              `gorm:"column:kind"`
	Source           string              `gorm:"column:source"`
	Reason           string              `gorm:"column:reason"`
	Evidence         jsonValue[[]string] `gorm:"column:evidence"`
	HouseholdVersion int64               `gorm:"column:household_version"`
	PovertyType      string              `gorm:"column:poverty_type"`
	CadreID          *uuid.UUID          `gorm:"column:cadre_id"`
	FromCadreID      *uuid.UUID          `gorm:"column:from_cadre_id"`
	State            string              `gorm:"column:state"`
	StateReason      string              `gorm:"column:state_reason"`
	ResultID         *uuid.UUID          `gorm:"column:result_id"`
	ReviewedBy       *uuid.UUID          `gorm:"column:reviewed_by"`
	ReviewedAt       *time.Time          `gorm:"column:reviewed_at"`
	CreatedAt        time.Time           `gorm:"column:created_at"`
}

func (adjustmentItemRow) TableName() string { return "adjustment_items" }

// adjustmentItemScan is an item with what people read it by.
type adjustmentItemScan struct {
	Item            adjustmentItemRow `gorm:"embedded"`
	HouseholdNumber string            `gorm:"column:household_number"`
	HeadName        string            `gorm:"column:head_name"`
	CadreName       *string           `gorm:"column:cadre_name"`
}

type adjustmentBatchScan struct {
	Batch      adjustmentBatchRow `gorm:"embedded"`
	RegionName string             `gorm:"column:region_name"`
}

func toAdjustmentItemRow(it adjustment.Item) adjustmentItemRow {
	return adjustmentItemRow{CountyID: it.CountyID, ID: it.ID, BatchID: it.BatchID, Seq: it.Seq, HouseholdID: it.HouseholdID, Kind: it.Kind, Source: it.Source,
		Reason: it.Reason, Evidence: jsonValue[[]string]{V: nonNil(it.Evidence)}, HouseholdVersion: it.HouseholdVersion, PovertyType: it.PovertyType,
		CadreID: it.CadreID, FromCadreID: it.FromCadreID, State: it.State, StateReason: it.StateReason, ResultID: it.ResultID, ReviewedBy: it.ReviewedBy,
		ReviewedAt: utcPtr(it.ReviewedAt), CreatedAt: utc(it.CreatedAt)}
}

func toAdjustmentItem(r adjustmentItemScan) adjustment.Item {
	i := r.Item
	it := adjustment.Item{ID: i.ID, BatchID: i.BatchID, CountyID: i.CountyID, Seq: i.Seq, HouseholdID: i.HouseholdID, HouseholdNumber: r.HouseholdNumber,
		HeadName: r.HeadName, Kind: i.Kind, Source: i.Source, Reason: i.Reason, Evidence: nonNil(i.Evidence.V), HouseholdVersion: i.HouseholdVersion,
		PovertyType: i.PovertyType, CadreID: i.CadreID, FromCadreID: i.FromCadreID, State: i.State, StateReason: i.StateReason, ResultID: i.ResultID,
		ReviewedBy: i.ReviewedBy, ReviewedAt: utcPtr(i.ReviewedAt), CreatedAt: i.CreatedAt.UTC()}
	if r.CadreName != nil {
		it.CadreName = *r.CadreName
	}
	return it
}

func toAdjustmentBatch(r adjustmentBatchScan) adjustment.Batch {
	b := r.Batch
	return adjustment.Batch{ID: b.ID, CountyID: b.CountyID, RegionID: b.RegionID, RegionName: r.RegionName, RegionPath: b.RegionPath, Year: b.Year,
		Status: b.Status, CreatedBy: b.CreatedBy, CreatedAt: b.CreatedAt.UTC(), UpdatedAt: b.UpdatedAt.UTC(), ClosedAt: utcPtr(b.ClosedAt),
		Counts: map[string]int{}}
}

// HouseholdsByNumber finds the households of the subtree by 户编号.
func (s *Store) HouseholdsByNumber(ctx context.Context, withinPath string, numbers []string) (map[string]domain.Household, error) {
	out := map[string]domain.Household{}
	for len(numbers) > 0 {
		chunk := numbers[:min(len(numbers), 500)]
		numbers = numbers[len(chunk):]
		var rows []householdRow
		if err := s.db.WithContext(ctx).Where(like("region_path"), likePrefix(withinPath)).Where("number IN ? AND number <> ''", chunk).
			Find(&rows).Error; err != nil {
			return nil, translate(err, "household")
		}
		for _, r := range rows {
			out[r.Number] = toDomainHousehold(r)
		}
	}
	return out, nil
}

// PairableCadres lists the active cadres whose region holds the
// household, deepest region first, with their open pairings counted.
func (s *Store) PairableCadres(ctx context.Context, countyID, householdID uuid.UUID) ([]adjustment.Cadre, error) {
	var path []string
	if err := s.db.WithContext(ctx).Model(&householdRow{}).Where("county_id = ? AND id = ?", countyID, householdID).Pluck("region_path", &path).Error; err != nil {
		return nil, translate(err, "household")
	}
	if len(path) == 0 {
		return nil, domain.NotFound("household")
	}
	var rows []struct {
		ID          uuid.UUID `gorm:"column:id"`
		Username    string    `gorm:"column:username"`
		DisplayName string    `gorm:"column:display_name"`
		RegionPath  string    `gorm:"column:region_path"`
		Households  int       `gorm:"column:households"`
	}
	err := s.db.WithContext(ctx).Table("users u").
		Select("u.id, u.username, u.display_name, u.region_path, (SELECT COUNT(*) FROM pairings p WHERE p.cadre_id = u.id AND p.end_on IS NULL) AS households").
		Where("u.role = ? AND u.active AND ? LIKE "+s.concatLike("u.region_path"), domain.RoleCadre, path[0]).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "user")
	}
	out := make([]adjustment.Cadre, len(rows))
	for i, r := range rows {
		out[i] = adjustment.Cadre{ID: r.ID, Username: r.Username, DisplayName: r.DisplayName, RegionPath: r.RegionPath, Households: r.Households}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if len(out[i].RegionPath) != len(out[j].RegionPath) {
			return len(out[i].RegionPath) > len(out[j].RegionPath)
		}
		return out[i].DisplayName < out[j].DisplayName
	})
	return out, nil
}

// concatLike is col || '%' as a LIKE pattern: the value on the left lies
// under the path in col.
func (s *Store) concatLike(col string) string { return "(" + col + " || '%')" }

// IdentificationFindings are the latest household findings of the
// subtree's ended campaigns whose 精准识别 answer says 漏评 or 错评.
func (s *Store) IdentificationFindings(ctx context.Context, withinPath string) ([]adjustment.Finding, error) {
	var rows []struct {
		HouseholdID uuid.UUID                          `gorm:"column:household_id"`
		Name        string                             `gorm:"column:name"`
		Answers     jsonValue[map[string]answerColumn] `gorm:"column:answers"`
		RecordedAt  time.Time                          `gorm:"column:recorded_at"`
	}
	err := s.db.WithContext(ctx).Table("inspection_findings f").Select("f.household_id, c.name, f.answers, f.recorded_at").
		Joins("JOIN inspection_campaigns c ON c.id = f.campaign_id").
		Joins("JOIN households h ON h.county_id = f.county_id AND h.id = f.household_id").
		// Ended campaigns only: an unannounced sample stays hidden from the
		// inspected town until it ends, and its findings with it.
		Where("f.household_id IS NOT NULL AND c.status = 'ended'").Where(like("h.region_path"), likePrefix(withinPath)).
		Order("f.recorded_at").Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "finding")
	}
	latest := map[uuid.UUID]adjustment.Finding{}
	var order []uuid.UUID
	for _, r := range rows {
		if _, seen := latest[r.HouseholdID]; !seen {
			order = append(order, r.HouseholdID)
		}
		latest[r.HouseholdID] = adjustment.Finding{HouseholdID: r.HouseholdID, CampaignName: r.Name, Choice: r.Answers.V["identification"].Choice,
			RecordedAt: r.RecordedAt.UTC()}
	}
	var out []adjustment.Finding
	for _, id := range order {
		if f := latest[id]; f.Choice == "should_register" || f.Choice == "wrongly_registered" {
			out = append(out, f)
		}
	}
	return out, nil
}

// OpenProcedureHouseholds are the households of the subtree with an open procedure.
func (s *Store) OpenProcedureHouseholds(ctx context.Context, withinPath string) (map[uuid.UUID]bool, error) {
	var ids []uuid.UUID
	if err := s.db.WithContext(ctx).Model(&procedureRow{}).Where("status = 'open'").Where(like("region_path"), likePrefix(withinPath)).
		Pluck("household_id", &ids).Error; err != nil {
		return nil, translate(err, "procedure")
	}
	out := make(map[uuid.UUID]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// CreateBatch writes a batch with its items.
func (s *Store) CreateBatch(ctx context.Context, b adjustment.Batch, items []adjustment.Item, audit domain.AuditEntry) error {
	return s.inTx(ctx, "adjustment batch", func(tx *gorm.DB) error {
		row := adjustmentBatchRow{CountyID: b.CountyID, ID: b.ID, RegionID: b.RegionID, RegionPath: b.RegionPath, Year: b.Year, Status: b.Status,
			CreatedBy: b.CreatedBy, CreatedAt: utc(b.CreatedAt), UpdatedAt: utc(b.UpdatedAt)}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		if err := createAdjustmentItems(tx, items); err != nil {
			return err
		}
		return s.appendAudit(tx, audit)
	})
}

func createAdjustmentItems(tx *gorm.DB, items []adjustment.Item) error {
	rows := make([]adjustmentItemRow, len(items))
	for i, it := range items {
		rows[i] = toAdjustmentItemRow(it)
	}
	if len(rows) == 0 {
		return nil
	}
	return tx.CreateInBatches(rows, 200).Error
}

// AddItems appends items to a batch.
func (s *Store) AddItems(ctx context.Context, b adjustment.Batch, items []adjustment.Item, audit domain.AuditEntry) error {
	return s.inTx(ctx, "adjustment item", func(tx *gorm.DB) error {
		if err := createAdjustmentItems(tx, items); err != nil {
			return err
		}
		if err := tx.Model(&adjustmentBatchRow{}).Where("county_id = ? AND id = ?", b.CountyID, b.ID).Update("updated_at", s.stamp()).Error; err != nil {
			return err
		}
		return s.appendAudit(tx, audit)
	})
}

func (s *Store) batchQuery(ctx context.Context) *gorm.DB {
	return s.db.WithContext(ctx).Table("adjustment_batches b").Select("b.*, r.name AS region_name").Joins("JOIN regions r ON r.id = b.region_id")
}

// Batches lists the batches whose region lies under regionPath (inside
// withinPath), newest first, with their items counted by state.
func (s *Store) Batches(ctx context.Context, withinPath, regionPath string, limit, offset int) ([]adjustment.Batch, int64, error) {
	q := s.batchQuery(ctx).Where(like("b.region_path"), likePrefix(withinPath)).Where(like("b.region_path"), likePrefix(regionPath))
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, translate(err, "adjustment batch")
	}
	var rows []adjustmentBatchScan
	if err := q.Order("b.created_at DESC, b.id").Limit(limit).Offset(offset).Scan(&rows).Error; err != nil {
		return nil, 0, translate(err, "adjustment batch")
	}
	out := make([]adjustment.Batch, len(rows))
	for i, r := range rows {
		out[i] = toAdjustmentBatch(r)
		if err := s.countItems(ctx, &out[i]); err != nil {
			return nil, 0, err
		}
	}
	return out, total, nil
}

func (s *Store) countItems(ctx context.Context, b *adjustment.Batch) error {
	var counts []struct {
		State string `gorm:"column:state"`
		N     int    `gorm:"column:n"`
	}
	if err := s.db.WithContext(ctx).Model(&adjustmentItemRow{}).Select("state, COUNT(*) AS n").Where("county_id = ? AND batch_id = ?", b.CountyID, b.ID).
		Group("state").Scan(&counts).Error; err != nil {
		return translate(err, "adjustment item")
	}
	for _, c := range counts {
		b.Counts[c.State] = c.N
	}
	return nil
}

// Batch reads a batch of the subtree with its items in order.
func (s *Store) Batch(ctx context.Context, withinPath string, id uuid.UUID) (adjustment.Batch, error) {
	var rows []adjustmentBatchScan
	if err := s.batchQuery(ctx).Where("b.id = ?", id).Where(like("b.region_path"), likePrefix(withinPath)).Scan(&rows).Error; err != nil {
		return adjustment.Batch{}, translate(err, "adjustment batch")
	}
	if len(rows) == 0 {
		return adjustment.Batch{}, domain.NotFound("adjustment batch")
	}
	b := toAdjustmentBatch(rows[0])
	var items []adjustmentItemScan
	if err := s.itemQuery(ctx).Where("i.county_id = ? AND i.batch_id = ?", b.CountyID, b.ID).Order("i.seq").Scan(&items).Error; err != nil {
		return adjustment.Batch{}, translate(err, "adjustment item")
	}
	b.Items = make([]adjustment.Item, len(items))
	for i, r := range items {
		b.Items[i] = toAdjustmentItem(r)
		b.Counts[b.Items[i].State]++
	}
	return b, nil
}

func (s *Store) itemQuery(ctx context.Context) *gorm.DB {
	return s.db.WithContext(ctx).Table("adjustment_items i").Select("i.*, h.number AS household_number, h.head_name, u.display_name AS cadre_name").
		Joins("JOIN households h ON h.county_id = i.county_id AND h.id = i.household_id").
		Joins("LEFT JOIN users u ON u.id = i.cadre_id")
}

// BatchForUpdate locks a batch of the subtree (without its items).
func (s *Store) BatchForUpdate(ctx context.Context, withinPath string, id uuid.UUID) (adjustment.Batch, error) {
	var row adjustmentBatchRow
	if err := s.locking(s.db.WithContext(ctx)).Where("id = ?", id).Where(like("region_path"), likePrefix(withinPath)).Take(&row).Error; err != nil {
		return adjustment.Batch{}, translate(err, "adjustment batch")
	}
	return toAdjustmentBatch(adjustmentBatchScan{Batch: row}), nil
}

// ItemForUpdate locks an item of the batch.
func (s *Store) ItemForUpdate(ctx context.Context, countyID, batchID, id uuid.UUID) (adjustment.Item, error) {
	var row adjustmentItemRow
	if err := s.locking(s.db.WithContext(ctx)).Where("county_id = ? AND batch_id = ? AND id = ?", countyID, batchID, id).Take(&row).Error; err != nil {
		return adjustment.Item{}, translate(err, "adjustment item")
	}
	var names []adjustmentItemScan
	if err := s.itemQuery(ctx).Where("i.county_id = ? AND i.id = ?", countyID, id).Scan(&names).Error; err != nil {
		return adjustment.Item{}, translate(err, "adjustment item")
	}
	scan := adjustmentItemScan{Item: row}
	if len(names) == 1 {
		scan.HouseholdNumber, scan.HeadName, scan.CadreName = names[0].HouseholdNumber, names[0].HeadName, names[0].CadreName
	}
	return toAdjustmentItem(scan), nil
}

// SaveItemState writes an item's review.
func (s *Store) SaveItemState(ctx context.Context, it adjustment.Item, audit domain.AuditEntry) error {
	return s.inTx(ctx, "adjustment item", func(tx *gorm.DB) error {
		if err := tx.Model(&adjustmentItemRow{}).Where("county_id = ? AND id = ?", it.CountyID, it.ID).Updates(map[string]any{
			"state": it.State, "state_reason": it.StateReason, "result_id": it.ResultID, "reviewed_by": it.ReviewedBy, "reviewed_at": utcPtr(it.ReviewedAt),
		}).Error; err != nil {
			return err
		}
		if err := tx.Model(&adjustmentBatchRow{}).Where("county_id = ? AND id = ?", it.CountyID, it.BatchID).Update("updated_at", s.stamp()).Error; err != nil {
			return err
		}
		return s.appendAudit(tx, audit)
	})
}

// CloseBatch marks a batch closed.
func (s *Store) CloseBatch(ctx context.Context, b adjustment.Batch, audit domain.AuditEntry) error {
	return s.inTx(ctx, "adjustment batch", func(tx *gorm.DB) error {
		if err := tx.Model(&adjustmentBatchRow{}).Where("county_id = ? AND id = ?", b.CountyID, b.ID).Updates(map[string]any{
			"status": b.Status, "closed_at": utcPtr(b.ClosedAt), "updated_at": utc(b.UpdatedAt)}).Error; err != nil {
			return err
		}
		return s.appendAudit(tx, audit)
	})
}
