package sync

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/wire"
)

// Plan items (一户一案, DESIGN §6b) are the measures of a household's plan.
// The paired cadre edits them offline like visits: created with the
// phone's id, updated from a base_version with the same merge (edits of
// other fields merge, an overlapping one is last writer by server order
// with the lost value kept as a conflict), deleted as tombstones. They
// travel with their household: pulled while it is in the phone's scope,
// dropped with it when it leaves.

// PlanStore is what a pull reads of plan items.
type PlanStore interface {
	// PlanItemsByID returns the items among ids, deleted ones included,
	// without scope (the feed judges it).
	PlanItemsByID(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]domain.PlanItem, error)
	// PlanItemsOf returns the live items of the households, by household.
	PlanItemsOf(ctx context.Context, households []domain.Household) (map[uuid.UUID][]domain.PlanItem, error)
	// PlanItemsAfter walks the live items of the scope's households in
	// (household, id) order after the key, up to limit.
	PlanItemsAfter(ctx context.Context, scope domain.HouseholdScope, today domain.Date, after ChildKey, limit int, each func(domain.PlanItem) error) error
}

// PlanTxStore is what a push writes and checks of plan items.
type PlanTxStore interface {
	// PlanItemForUpdate locks and returns an item, deleted or not.
	PlanItemForUpdate(ctx context.Context, id uuid.UUID) (domain.PlanItem, error)
	// InsertPlanItem and SavePlanItem add their feed row; SavePlanItem
	// writes only over expectedVersion.
	InsertPlanItem(ctx context.Context, p domain.PlanItem) error
	SavePlanItem(ctx context.Context, p domain.PlanItem, expectedVersion int64) error
	// LivePlanItemIDs tells which of ids are live items of the household.
	LivePlanItemIDs(ctx context.Context, countyID, householdID uuid.UUID, ids []uuid.UUID) (map[uuid.UUID]bool, error)
}

// planItemFields are the JSON names of a plan item's editable fields.
var planItemFields = jsonFieldSet(wire.PlanItemData{})

// planWriter refuses a plan edit from an inspector: they check what the
// cadres recorded and change none of it.
func (r recordTx) planWriter() error {
	if r.p.Role == domain.RoleInspector {
		return reject(r.ptr+"/entity", "not_allowed", "inspectors do not edit households' plans", "督查人员不能修改帮扶计划")
	}
	return nil
}

// planItemDetails decodes, converts and validates a plan item's data and,
// when the phone sent it (responsible), checks its responsible cadre
// against the household's pairings: a pairing ended since must not block
// an edit of the notes.
func (r recordTx) planItemDetails(ctx context.Context, fields map[string]json.RawMessage, householdID uuid.UUID, responsible bool) (domain.PlanItemDetails, error) {
	prefix := r.ptr + "/data"
	var in wire.PlanItemData
	if err := decodeData(prefix, fields, &in); err != nil {
		return domain.PlanItemDetails{}, err
	}
	d := in.ToDomain()
	var fe domain.FieldErrors
	d.Validate(&fe, prefix)
	if err := fe.Err(); err != nil {
		return d, rejectAll("", err)
	}
	if !responsible {
		return d, nil
	}
	return d, r.checkResponsible(ctx, d.ResponsibleCadreID, householdID)
}

// checkResponsible accepts as a measure's responsible cadre the caller
// when a cadre, or a cadre paired with the household today: who answers
// for a household's plan is who helps it.
func (r recordTx) checkResponsible(ctx context.Context, cadreID, householdID uuid.UUID) error {
	if r.p.Role == domain.RoleCadre && cadreID == r.p.UserID {
		return nil
	}
	paired, err := r.tx.PairedOn(ctx, cadreID, householdID, r.today)
	if err != nil || paired {
		return err
	}
	return reject(r.ptr+"/data/responsible_cadre_id", "not_paired", "the responsible cadre must be paired with the household",
		"责任人应为该户的结对帮扶干部")
}

// planItemInScope loads an item whose household is in the caller's scope;
// any other is "not found".
func (r recordTx) planItemInScope(ctx context.Context) (domain.PlanItem, error) {
	it, err := r.tx.PlanItemForUpdate(ctx, r.ch.ID)
	notFound := reject(r.ptr+"/id", "not_found", "plan item not found", "未找到该帮扶措施")
	if domain.IsCode(err, domain.CodeNotFound) {
		return it, notFound
	}
	if err != nil {
		return it, err
	}
	if _, err := r.householdInScope(ctx, it.HouseholdID, r.today); err != nil {
		if _, ok := err.(*rejection); ok {
			return it, notFound
		}
		return it, err
	}
	return it, nil
}

// planItemDeleted refuses a change to a deleted plan item: it stays
// deleted (a supervisor may restore it from its conflict), and a measure
// written again is a new item with a new id.
func planItemDeleted(ptr string) error {
	return reject(ptr+"/id", "deleted", "the plan item was deleted; add the measure again as a new item (a new id)", "该帮扶措施已删除；如需保留，请重新添加")
}

func (r recordTx) createPlanItem(ctx context.Context) (recordOutcome, error) {
	if err := r.planWriter(); err != nil {
		return recordOutcome{}, err
	}
	if r.ch.HouseholdID == nil {
		return recordOutcome{}, reject(r.ptr+"/household_id", "required", "household_id is required", "缺少农户编号household_id")
	}
	if len(r.ch.Data) == 0 {
		return recordOutcome{}, reject(r.ptr+"/data", "required", "data holds the plan item", "缺少措施内容data")
	}
	h, err := r.householdInScope(ctx, *r.ch.HouseholdID, r.today)
	if err != nil {
		return recordOutcome{}, err
	}
	d, err := r.planItemDetails(ctx, r.ch.Data, h.ID, true)
	if err != nil {
		return recordOutcome{}, err
	}
	existing, err := r.tx.PlanItemForUpdate(ctx, r.ch.ID)
	switch {
	case err == nil && existing.HouseholdID == h.ID && !existing.Deleted && existing.PlanItemDetails == d:
		return recordOutcome{Status: wire.StatusDuplicate, Version: existing.Version}, nil
	case err == nil && existing.HouseholdID == h.ID && !existing.Deleted:
		return recordOutcome{}, reject(r.ptr+"/id", "exists", "a plan item with this id exists with other content; send an update with base_version",
			"该帮扶措施已存在且内容不同，请以修改方式提交")
	case err == nil && existing.HouseholdID == h.ID:
		return recordOutcome{}, planItemDeleted(r.ptr)
	case err == nil:
		return recordOutcome{}, reject(r.ptr+"/id", "id_taken", "this id belongs to another record", "该编号已被其他记录使用")
	case !domain.IsCode(err, domain.CodeNotFound):
		return recordOutcome{}, err
	}
	it := domain.PlanItem{ID: r.ch.ID, CountyID: h.CountyID, HouseholdID: h.ID, PlanItemDetails: d, Version: 1, CreatedBy: r.p.UserID,
		UpdatedBy: r.p.UserID, DeviceID: r.req.DeviceID, CreatedAt: r.received, UpdatedAt: r.received}
	if err := r.tx.InsertPlanItem(ctx, it); err != nil {
		return recordOutcome{}, err
	}
	return recordOutcome{Status: wire.StatusApplied, Version: 1}, nil
}

func (r recordTx) updatePlanItem(ctx context.Context) (recordOutcome, error) {
	if err := r.planWriter(); err != nil {
		return recordOutcome{}, err
	}
	if err := r.requireBase(); err != nil {
		return recordOutcome{}, err
	}
	if len(r.ch.Data) == 0 {
		return recordOutcome{}, reject(r.ptr+"/data", "required", "data holds the changed fields", "缺少修改内容data")
	}
	for f := range r.ch.Data {
		if !planItemFields[f] {
			return recordOutcome{}, reject(r.ptr+"/data/"+f, "unknown_field", "not a plan item field", "不是帮扶措施的字段")
		}
	}
	it, err := r.planItemInScope(ctx)
	if err != nil {
		return recordOutcome{}, err
	}
	if err := r.checkHousehold(it.HouseholdID); err != nil {
		return recordOutcome{}, err
	}
	if it.Deleted {
		return recordOutcome{}, planItemDeleted(r.ptr)
	}
	if err := r.checkBase(it.Version); err != nil {
		return recordOutcome{}, err
	}
	current, err := fieldsOf(wire.PlanItemDataOf(it.PlanItemDetails))
	if err != nil {
		return recordOutcome{}, err
	}
	merged, outcome, losses := Merge(current, r.ch.Data, r.ch.Base, r.ch.BaseVersion, it.Version)
	if unchanged(current, merged) {
		return recordOutcome{Status: wire.StatusDuplicate, Version: it.Version}, nil
	}
	_, sentResponsible := r.ch.Data["responsible_cadre_id"]
	d, err := r.planItemDetails(ctx, merged, it.HouseholdID, sentResponsible)
	if err != nil {
		return recordOutcome{}, err
	}
	next := it
	next.PlanItemDetails, next.Version, next.UpdatedBy, next.DeviceID, next.UpdatedAt = d, it.Version+1, r.p.UserID, r.req.DeviceID, r.received
	if err := r.tx.SavePlanItem(ctx, next, it.Version); err != nil {
		return recordOutcome{}, err
	}
	lostBy := it.UpdatedBy
	ids, err := r.keepLosses(ctx, wire.EntityPlanItem, it.ID, it.CountyID, it.HouseholdID, losses, it.Version, next.Version, &lostBy)
	if err != nil {
		return recordOutcome{}, err
	}
	return recordOutcome{Status: outcome, Version: next.Version, ConflictIDs: ids}, nil
}

func (r recordTx) deletePlanItem(ctx context.Context) (recordOutcome, error) {
	if err := r.planWriter(); err != nil {
		return recordOutcome{}, err
	}
	if err := r.requireBase(); err != nil {
		return recordOutcome{}, err
	}
	it, err := r.planItemInScope(ctx)
	if err != nil {
		return recordOutcome{}, err
	}
	if err := r.checkHousehold(it.HouseholdID); err != nil {
		return recordOutcome{}, err
	}
	if it.Deleted {
		return recordOutcome{Status: wire.StatusDuplicate, Version: it.Version}, nil
	}
	if err := r.checkBase(it.Version); err != nil {
		return recordOutcome{}, err
	}
	next := it
	next.Deleted, next.Version, next.UpdatedBy, next.DeviceID, next.UpdatedAt = true, it.Version+1, r.p.UserID, r.req.DeviceID, r.received
	if err := r.tx.SavePlanItem(ctx, next, it.Version); err != nil {
		return recordOutcome{}, err
	}
	if r.ch.BaseVersion == it.Version {
		return recordOutcome{Status: wire.StatusApplied, Version: next.Version}, nil
	}
	// Deleted from an older version: what another phone changed since is
	// kept whole for review, as for a visit.
	lost, _ := json.Marshal(wire.FromPlanItem(it))
	lostBy := it.UpdatedBy
	ids, err := r.keepLosses(ctx, wire.EntityPlanItem, it.ID, it.CountyID, it.HouseholdID,
		[]FieldLoss{{Field: "deleted", Lost: lost, Won: json.RawMessage("true")}}, it.Version, next.Version, &lostBy)
	if err != nil {
		return recordOutcome{}, err
	}
	return recordOutcome{Status: wire.StatusConflict, Version: next.Version, ConflictIDs: ids}, nil
}

// checkPlanProgress refuses progress recorded against anything but a live
// measure of the visit's household, naming the entry.
func (r recordTx) checkPlanProgress(ctx context.Context, countyID, householdID uuid.UUID, ps []domain.PlanProgress) error {
	if len(ps) == 0 {
		return nil
	}
	ids := make([]uuid.UUID, len(ps))
	for i, p := range ps {
		ids[i] = p.PlanItemID
	}
	live, err := r.tx.LivePlanItemIDs(ctx, countyID, householdID, ids)
	if err != nil {
		return err
	}
	for i, p := range ps {
		if !live[p.PlanItemID] {
			return reject(r.ptr+"/data/plan_progress/"+strconv.Itoa(i)+"/plan_item_id", "unknown",
				"not a measure of this household's plan", "不是该户帮扶计划中的措施")
		}
	}
	return nil
}

// restorePlanItem puts a plan item's lost value back (ResolveConflict):
// a field through the same update a phone sends, a deleted item whole.
func (s *Service) restorePlanItem(ctx context.Context, tx TxStore, b *batch, c Conflict, ch wire.Change) error {
	it, err := tx.PlanItemForUpdate(ctx, c.EntityID)
	if err != nil {
		return err
	}
	if c.Field != "deleted" {
		ch.BaseVersion = it.Version
		_, err := recordTx{batch: b, tx: tx, ch: ch}.run(ctx)
		if rej, ok := err.(*rejection); ok {
			return domain.Invalid(rej.fields...)
		}
		return err
	}
	var old wire.PlanItem
	if err := json.Unmarshal(c.LostValue, &old); err != nil {
		return err
	}
	next := it
	next.PlanItemDetails = old.ToDomain()
	next.Deleted, next.Version, next.UpdatedBy, next.DeviceID, next.UpdatedAt = false, it.Version+1, b.p.UserID, b.req.DeviceID, b.received
	return tx.SavePlanItem(ctx, next, it.Version)
}

func (pl puller) planItem(it domain.PlanItem) error {
	hid := it.HouseholdID
	if it.Deleted {
		return pl.tombstone(wire.EntityPlanItem, it.ID, &hid, it.Version)
	}
	return pl.upsert(wire.EntityPlanItem, it.ID, &hid, it.Version, wire.FromPlanItem(it))
}

// planItemChange sends a plan item as it is now, while its household is
// in the caller's scope; once it is not, the household's tombstones took
// its plan off the phone.
func (pl puller) planItemChange(ch Change, now currentState) error {
	it, ok := now.planItems[ch.EntityID]
	if !ok {
		return nil
	}
	if _, ok := now.households[it.HouseholdID]; !ok {
		return nil
	}
	return pl.planItem(it)
}
