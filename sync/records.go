package sync

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/wire"
)

// recordTx applies one change inside its savepoint.
type recordTx struct {
	*batch
	tx  TxStore
	ptr string
	ch  wire.Change
}

type recordOutcome struct {
	Status      string
	Version     int64
	ConflictIDs []uuid.UUID
	Flags       []domain.Flag
}

func (r recordTx) run(ctx context.Context) (recordOutcome, error) {
	if r.ch.ID == uuid.Nil {
		return recordOutcome{}, reject(r.ptr+"/id", "required", "id is required (a UUID made by the phone)", "缺少记录编号id")
	}
	write, err := r.operation()
	if err != nil {
		return recordOutcome{}, err
	}
	if err := r.checkBaseValues(); err != nil {
		return recordOutcome{}, err
	}
	return write(ctx)
}

// operation picks what applies the change, or refuses an entity or
// operation the push does not take.
func (r recordTx) operation() (func(context.Context) (recordOutcome, error), error) {
	switch r.ch.Entity + ":" + r.ch.Op {
	case wire.EntityVisit + ":" + wire.OpCreate:
		return r.createVisit, nil
	case wire.EntityVisit + ":" + wire.OpUpdate:
		return r.updateVisit, nil
	case wire.EntityVisit + ":" + wire.OpDelete:
		return r.deleteVisit, nil
	case wire.EntityHousehold + ":" + wire.OpUpdate:
		return r.updateHousehold, nil
	case wire.EntityMember + ":" + wire.OpUpdate:
		return r.updateMember, nil
	case wire.EntityPlanItem + ":" + wire.OpCreate:
		return r.createPlanItem, nil
	case wire.EntityPlanItem + ":" + wire.OpUpdate:
		return r.updatePlanItem, nil
	case wire.EntityPlanItem + ":" + wire.OpDelete:
		return r.deletePlanItem, nil
	case wire.EntityLedgerItem + ":" + wire.OpCreate:
		return r.createLedgerItem, nil
	}
	switch r.ch.Entity {
	case wire.EntityIncomeAccount:
		return r.pushIncomeAccount, nil
	case wire.EntityPlanItem:
		return nil, reject(r.ptr+"/op", "unsupported", "plan items are created, updated and deleted", "帮扶措施只能新增、修改、删除")
	case wire.EntityLedgerItem:
		return nil, reject(r.ptr+"/op", "unsupported", "phones create ledger items; they are worked on through the ledger routes", "手机端只能新增台账事项")
	case wire.EntityVisit, wire.EntityHousehold, wire.EntityMember:
		return nil, reject(r.ptr+"/op", "unsupported", "phones may create, update and delete visits and update households and members",
			"手机端只能新增、修改、删除走访记录，修改农户和成员信息")
	}
	return nil, reject(r.ptr+"/entity", "invalid_enum", "entity must be visit, household, member, income_account, plan_item or ledger_item", "记录类型无效")
}

func (r recordTx) requireBase() error {
	if r.ch.BaseVersion < 1 {
		return reject(r.ptr+"/base_version", "required", "base_version (the version the edit was made from) is required", "缺少base_version")
	}
	return nil
}

func (r recordTx) checkBase(current int64) error {
	if r.ch.BaseVersion > current {
		return reject(r.ptr+"/base_version", "out_of_range", "base_version is newer than the stored record", "base_version大于服务器上的版本")
	}
	return nil
}

// checkHousehold refuses a change of a stored record that names another
// household than the record's (stored): a visit, a measure or a household
// never moves, and taking the change without the move would leave the
// phone believing it had moved the record. The same household, or none,
// is fine.
func (r recordTx) checkHousehold(stored uuid.UUID) error {
	if r.ch.HouseholdID == nil || *r.ch.HouseholdID == stored {
		return nil
	}
	return reject(r.ptr+"/household_id", "immutable", "a record stays with its household: household_id, when sent, must be the stored one",
		"记录所属农户不能更改")
}

// visitFields are the JSON names of a visit's editable fields.
var visitFields = jsonFieldSet(wire.VisitData{})

// findingsField is the name of the findings an inspector sends with a
// visit's data (wire.VisitData.Findings), which the visit does not keep.
const findingsField = "findings"

func jsonFieldSet(v any) map[string]bool {
	m, _ := fieldsOf(v)
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

func (r recordTx) decodeVisit() (domain.VisitDetails, *wire.VisitFindings, string, error) {
	if len(r.ch.Data) == 0 {
		return domain.VisitDetails{}, nil, "", reject(r.ptr+"/data", "required", "data holds the visit", "缺少走访内容data")
	}
	d, findings, err := r.visitDetails(r.ch.Data)
	if err != nil {
		return d, nil, "", err
	}
	var startedText string
	_ = json.Unmarshal(r.ch.Data["started_at"], &startedText)
	return d, findings, startedText, nil
}

// visitDetails decodes, converts and validates a visit's data fields, and
// the findings sent with them (nil when none were).
func (r recordTx) visitDetails(fields map[string]json.RawMessage) (domain.VisitDetails, *wire.VisitFindings, error) {
	prefix := r.ptr + "/data"
	var in wire.VisitData
	if err := decodeData(prefix, fields, &in); err != nil {
		return domain.VisitDetails{}, nil, err
	}
	var fe domain.FieldErrors
	d := in.ToDomain(&fe, prefix)
	d.Validate(&fe, prefix)
	if err := fe.Err(); err != nil {
		return d, nil, rejectAll("", err)
	}
	// An inspector comes to check, not to help: their visits are
	// inspections, and must never pass for a cadre's help visit.
	if r.p.Role == domain.RoleInspector && d.Kind != domain.KindInspection {
		return d, nil, reject(prefix+"/kind", "not_allowed", "inspectors record inspection visits only (kind inspection)", "督查人员只能记录督查核查走访")
	}
	if in.Findings != nil && (r.p.Role != domain.RoleInspector || r.svc.cfg.Inspections == nil) {
		return d, nil, reject(prefix+"/findings", "not_allowed", "findings go with an inspector's inspection visit to a household of their tasks",
			"只有督查人员对督查任务农户的核查走访可以附带核查结果")
	}
	return d, in.Findings, nil
}

// pairingGrace is how long after a pairing ended its cadre's visits are
// still taken: a cadre offline for days may visit before learning of a
// re-pairing, and that visit happened. It is kept, flagged outside_pairing.
const pairingGrace = 30

// visibleHousehold finds the household a visit is for: in the caller's scope
// now, or paired with the caller on the day of the visit, or within the
// grace period after such a pairing ended (then outside is true). Anything
// else is "not found".
func (r recordTx) visibleHousehold(ctx context.Context, id uuid.UUID, day domain.Date) (domain.Household, bool, error) {
	h, err := r.householdInScope(ctx, id, day)
	if err == nil {
		return h, false, nil
	}
	var rej *rejection
	if errors.As(err, &rej) && r.p.Role == domain.RoleInspector && r.svc.cfg.Inspections != nil {
		// A campaign that sent them there ended before the phone synced:
		// the inspection service judges the visit by its start.
		sent, ierr := r.svc.cfg.Inspections.Inspects(ctx, r.tx, r.p, id)
		if ierr != nil || !sent {
			return h, false, firstErr(ierr, err)
		}
		h, herr := r.tx.HouseholdByID(ctx, id)
		return h, false, herr
	}
	if !errors.As(err, &rej) || r.p.Role != domain.RoleCadre {
		return h, false, err
	}
	recent, perr := r.tx.PairedSince(ctx, r.p.UserID, id, day.AddDays(-pairingGrace))
	if perr != nil || !recent {
		return h, false, firstErr(perr, err)
	}
	h, herr := r.tx.HouseholdByID(ctx, id)
	return h, true, herr
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func (r recordTx) householdInScope(ctx context.Context, id uuid.UUID, day domain.Date) (domain.Household, error) {
	if h, ok := r.households[id]; ok {
		return h, nil
	}
	h, err := r.tx.Household(ctx, r.p.HouseholdScope(), r.today, id)
	if err == nil {
		if r.households == nil {
			r.households = map[uuid.UUID]domain.Household{}
		}
		r.households[id] = h
		return h, nil
	}
	if !domain.IsCode(err, domain.CodeNotFound) {
		return h, err
	}
	notFound := reject(r.ptr+"/household_id", "not_found", "household not found", "未找到该农户")
	if r.p.Role != domain.RoleCadre {
		return h, notFound
	}
	paired, perr := r.tx.PairedOn(ctx, r.p.UserID, id, day)
	if perr != nil {
		return h, perr
	}
	if !paired {
		return h, notFound
	}
	h, err = r.tx.HouseholdByID(ctx, id)
	if err != nil {
		return h, err
	}
	return h, nil
}

func (r recordTx) createVisit(ctx context.Context) (recordOutcome, error) {
	var existing *domain.Visit
	v, err := r.tx.VisitForUpdate(ctx, r.ch.ID)
	switch {
	case err == nil:
		existing = &v
	case !domain.IsCode(err, domain.CodeNotFound):
		return recordOutcome{}, err
	}
	out, nv, findings, err := r.prepareCreate(ctx, existing)
	if err != nil || nv == nil {
		return out, err
	}
	if err := r.tx.InsertVisit(ctx, *nv); err != nil {
		return recordOutcome{}, err
	}
	if err := r.visitWritten(ctx, nil, *nv); err != nil {
		return recordOutcome{}, err
	}
	if _, err := r.inspected(ctx, *nv, true, findings); err != nil {
		return recordOutcome{}, err
	}
	return out, nil
}

// visitDeleted refuses a change to a deleted visit: it stays deleted, and
// what the cadre recorded again is a new visit with a new id.
func visitDeleted(ptr string) error {
	return reject(ptr+"/id", "deleted", "the visit was deleted; record it again as a new visit (a new id)", "该走访记录已删除；如需补记，请新建走访")
}

// prepareCreate judges a visit create against what is stored under its id
// (existing, nil if nothing) without writing. It returns the visit to
// insert with the findings sent with it, or nil with the outcome when
// there is nothing to insert (a re-sent create is a duplicate: its
// findings were recorded with it the first time, in its transaction).
func (r recordTx) prepareCreate(ctx context.Context, existing *domain.Visit) (recordOutcome, *domain.Visit, *wire.VisitFindings, error) {
	if r.ch.HouseholdID == nil {
		return recordOutcome{}, nil, nil, reject(r.ptr+"/household_id", "required", "household_id is required", "缺少农户编号household_id")
	}
	d, findings, startedText, err := r.decodeVisit()
	if err != nil {
		return recordOutcome{}, nil, nil, err
	}
	if existing != nil {
		if existing.CadreID != r.p.UserID || existing.HouseholdID != *r.ch.HouseholdID {
			return recordOutcome{}, nil, nil, reject(r.ptr+"/id", "id_taken", "this id belongs to another record", "该编号已被其他记录使用")
		}
		if sameDetails(existing.VisitDetails, d) {
			return recordOutcome{Status: wire.StatusDuplicate, Version: existing.Version, Flags: existing.Flags}, nil, nil, nil
		}
		if existing.Deleted {
			// "exists" would send the phone to update it, which answers
			// "deleted": a loop.
			return recordOutcome{}, nil, nil, visitDeleted(r.ptr)
		}
		return recordOutcome{}, nil, nil, reject(r.ptr+"/id", "exists", "a visit with this id exists with other content; send an update with base_version",
			"该走访记录已存在且内容不同，请以修改方式提交")
	}
	h, outside, err := r.visibleHousehold(ctx, *r.ch.HouseholdID, domain.DateOf(d.StartedAt))
	if err != nil {
		return recordOutcome{}, nil, nil, err
	}
	if err := r.checkPlanProgress(ctx, h.CountyID, h.ID, d.PlanProgress); err != nil {
		return recordOutcome{}, nil, nil, err
	}
	v := domain.Visit{ID: r.ch.ID, CountyID: h.CountyID, HouseholdID: h.ID, CadreID: r.p.UserID, DeviceID: r.req.DeviceID, VisitDetails: d,
		StartedAtText: startedText, ReceivedAt: r.received, ClockOffsetMS: r.offsetMS, Version: 1, CreatedAt: r.received, UpdatedAt: r.received}
	v.Flags = domain.ClockFlags(v, r.svc.cfg.Clock, h.RegisteredYear)
	if outside {
		v.Flags = append(v.Flags, domain.Flag{Code: "outside_pairing", Message: "the visit is dated after the cadre's pairing with this household ended",
			MessageZH: "走访日期在该干部与此户结对关系解除之后"})
	}
	return recordOutcome{Status: wire.StatusApplied, Version: 1, Flags: v.Flags}, &v, findings, nil
}

// inspected tells the inspection service of an inspector's visit just
// written (arrived: created), with the findings sent with it. Their
// refusal rejects the change, visit and all, at /changes/i/data/findings
// (at /changes/i/data/started_at for a visit without findings: begun
// after the campaign ended).
func (r recordTx) inspected(ctx context.Context, v domain.Visit, arrived bool, findings *wire.VisitFindings) (bool, error) {
	ins := r.svc.cfg.Inspections
	if ins == nil || r.p.Role != domain.RoleInspector {
		return false, nil
	}
	recorded, err := ins.InspectionVisit(ctx, r.tx, r.p, v, arrived, findings)
	if err == nil || abortsBatch(err) {
		return recorded, err
	}
	if findings == nil {
		// Without findings, only the visit's start can be refused: begun
		// after the campaign ended.
		return false, rejectAt(r.ptr+"/data/started_at", err)
	}
	return false, rejectAt(r.ptr+"/data/findings", err)
}

// rejectAt turns a service's refusal into a rejection of the change: its
// field errors under prefix, or, for a refusal that names no field (a
// conflict, something not found), one error at prefix with its reason.
// Anything else is left as it is, an unexpected fault.
func rejectAt(prefix string, err error) error {
	var de *domain.Error
	if !errors.As(err, &de) {
		return err
	}
	if len(de.Fields) > 0 {
		return rejectAll(prefix, err)
	}
	switch de.Code {
	case domain.CodeInvalid, domain.CodeConflict, domain.CodeNotFound, domain.CodeForbidden:
		reason := de.Reason
		if reason == "" {
			reason = string(de.Code)
		}
		return reject(prefix, reason, de.Message, de.MessageZH)
	}
	return err
}

// sameDetails compares two visits' contents as instants, not spellings:
// 09:30+08:00 and 01:30Z are the same start.
func sameDetails(a, b domain.VisitDetails) bool {
	fa, _ := fieldsOf(wire.VisitDataOf(utcDetails(a)))
	fb, _ := fieldsOf(wire.VisitDataOf(utcDetails(b)))
	for k := range visitFields {
		if !SameJSON(fa[k], fb[k]) {
			return false
		}
	}
	return true
}

// ownVisit loads a visit the caller recorded; anyone else's is "not found".
func (r recordTx) ownVisit(ctx context.Context) (domain.Visit, error) {
	v, err := r.tx.VisitForUpdate(ctx, r.ch.ID)
	if domain.IsCode(err, domain.CodeNotFound) || (err == nil && v.CadreID != r.p.UserID) {
		return v, reject(r.ptr+"/id", "not_found", "visit not found", "未找到该走访记录")
	}
	return v, err
}

func (r recordTx) updateVisit(ctx context.Context) (recordOutcome, error) {
	if err := r.requireBase(); err != nil {
		return recordOutcome{}, err
	}
	// Findings are no field of the stored visit: they stay out of the
	// merge, and are recorded (again) on the visit as sent.
	data := make(map[string]json.RawMessage, len(r.ch.Data))
	for f, raw := range r.ch.Data {
		switch {
		case f == findingsField:
		case visitFields[f]:
			data[f] = raw
		default:
			return recordOutcome{}, reject(r.ptr+"/data/"+f, "unknown_field", "not a visit field", "不是走访记录的字段")
		}
	}
	if len(r.ch.Data) == 0 {
		return recordOutcome{}, reject(r.ptr+"/data", "required", "data holds the changed fields", "缺少修改内容data")
	}
	v, err := r.ownVisit(ctx)
	if err != nil {
		return recordOutcome{}, err
	}
	if err := r.checkHousehold(v.HouseholdID); err != nil {
		return recordOutcome{}, err
	}
	if v.Deleted {
		return recordOutcome{}, visitDeleted(r.ptr)
	}
	if err := r.checkBase(v.Version); err != nil {
		return recordOutcome{}, err
	}
	current, err := fieldsOf(wire.VisitDataOf(utcDetails(v.VisitDetails)))
	if err != nil {
		return recordOutcome{}, err
	}
	merged, outcome, losses := Merge(current, canonicalTimes(data), canonicalTimes(r.ch.Base), r.ch.BaseVersion, v.Version)
	if raw, ok := r.ch.Data[findingsField]; ok {
		merged[findingsField] = raw
	}
	d, findings, err := r.visitDetails(merged)
	if err != nil {
		return recordOutcome{}, err
	}
	if sameDetails(v.VisitDetails, d) {
		recorded, err := r.inspected(ctx, v, false, findings)
		if err != nil {
			return recordOutcome{}, err
		}
		if recorded {
			// The visit stands as it was, at its version; its findings changed.
			return recordOutcome{Status: wire.StatusApplied, Version: v.Version, Flags: v.Flags}, nil
		}
		return recordOutcome{Status: wire.StatusDuplicate, Version: v.Version, Flags: v.Flags}, nil
	}
	// Only progress the phone sent is judged: a measure deleted since
	// must not block an edit of the notes.
	if _, ok := r.ch.Data["plan_progress"]; ok {
		if err := r.checkPlanProgress(ctx, v.CountyID, v.HouseholdID, d.PlanProgress); err != nil {
			return recordOutcome{}, err
		}
	}
	nv := v
	nv.VisitDetails, nv.DeviceID, nv.Version, nv.UpdatedAt = d, r.req.DeviceID, v.Version+1, r.received
	if raw, ok := r.ch.Data["started_at"]; ok {
		_ = json.Unmarshal(raw, &nv.StartedAtText)
	}
	h, err := r.tx.HouseholdByID(ctx, v.HouseholdID)
	if err != nil {
		return recordOutcome{}, err
	}
	nv.Flags = append(domain.ClockFlags(nv, r.svc.cfg.Clock, h.RegisteredYear), keptFlags(v.Flags)...)
	if err := r.tx.SaveVisit(ctx, nv, v.Version); err != nil {
		return recordOutcome{}, err
	}
	if err := r.visitWritten(ctx, &v, nv); err != nil {
		return recordOutcome{}, err
	}
	if _, err := r.inspected(ctx, nv, false, findings); err != nil {
		return recordOutcome{}, err
	}
	ids, err := r.keepLosses(ctx, wire.EntityVisit, v.ID, v.CountyID, v.HouseholdID, losses, v.Version, nv.Version, &v.CadreID)
	if err != nil {
		return recordOutcome{}, err
	}
	return recordOutcome{Status: outcome, Version: nv.Version, ConflictIDs: ids, Flags: nv.Flags}, nil
}

func (r recordTx) deleteVisit(ctx context.Context) (recordOutcome, error) {
	if err := r.requireBase(); err != nil {
		return recordOutcome{}, err
	}
	v, err := r.ownVisit(ctx)
	if err != nil {
		return recordOutcome{}, err
	}
	if err := r.checkHousehold(v.HouseholdID); err != nil {
		return recordOutcome{}, err
	}
	if v.Deleted {
		return recordOutcome{Status: wire.StatusDuplicate, Version: v.Version}, nil
	}
	if err := r.checkBase(v.Version); err != nil {
		return recordOutcome{}, err
	}
	nv := v
	nv.Deleted, nv.DeviceID, nv.Version, nv.UpdatedAt = true, r.req.DeviceID, v.Version+1, r.received
	if err := r.tx.SaveVisit(ctx, nv, v.Version); err != nil {
		return recordOutcome{}, err
	}
	if err := r.visitWritten(ctx, &v, nv); err != nil {
		return recordOutcome{}, err
	}
	if r.ch.BaseVersion == v.Version {
		return recordOutcome{Status: wire.StatusApplied, Version: nv.Version}, nil
	}
	// Deleted from an older version: edits made since on another device
	// are kept whole for review.
	lost, _ := json.Marshal(wire.FromVisit(v))
	ids, err := r.keepLosses(ctx, wire.EntityVisit, v.ID, v.CountyID, v.HouseholdID,
		[]FieldLoss{{Field: "deleted", Lost: lost, Won: json.RawMessage("true")}}, v.Version, nv.Version, &v.CadreID)
	if err != nil {
		return recordOutcome{}, err
	}
	return recordOutcome{Status: wire.StatusConflict, Version: nv.Version, ConflictIDs: ids}, nil
}

func (r recordTx) keepLosses(ctx context.Context, entity string, id, county, household uuid.UUID, losses []FieldLoss, lostVersion, wonVersion int64, lostBy *uuid.UUID) ([]uuid.UUID, error) {
	if len(losses) == 0 {
		return nil, nil
	}
	won := r.p.UserID
	cs := make([]Conflict, len(losses))
	ids := make([]uuid.UUID, len(losses))
	for i, l := range losses {
		ids[i] = uuid.New()
		cs[i] = Conflict{ID: ids[i], CountyID: county, Entity: entity, EntityID: id, HouseholdID: household, Field: l.Field,
			BaseValue: l.Base, LostValue: l.Lost, WonValue: l.Won, LostVersion: lostVersion, WonVersion: wonVersion, LostBy: lostBy,
			WonBy: &won, WonDevice: r.req.DeviceID, CreatedAt: r.received}
	}
	return ids, r.tx.InsertConflicts(ctx, cs)
}

// Household and member fields a cadre's phone may change. Status, poverty
// type, pairing, identity and location in the register are the server's
// (supervisors change them through the register, with dates and reasons).
// The wire types name them, once.
var (
	householdEditable = jsonFieldSet(wire.HouseholdFields{})
	memberEditable    = jsonFieldSet(wire.MemberFields{})
)

// checkEditable refuses fields outside the editable set, naming them.
// Inspectors edit nothing of the register: they check what the cadres
// recorded, and every field they could send is refused.
func (r recordTx) checkEditable(editable map[string]bool, known map[string]bool) error {
	if r.p.Role == domain.RoleInspector {
		editable = nil
	}
	if len(r.ch.Data) == 0 {
		return reject(r.ptr+"/data", "required", "data holds the changed fields", "缺少修改内容data")
	}
	fields := make([]string, 0, len(r.ch.Data))
	for f := range r.ch.Data {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	for _, f := range fields {
		switch {
		case editable[f]:
		case known[f] && r.p.Role == domain.RoleInspector:
			return reject(r.ptr+"/data/"+f, "server_authority", "inspectors do not change households or members; "+f+" is the cadres' and the register's",
				"督查人员不能修改农户和家庭成员信息")
		case known[f]:
			return reject(r.ptr+"/data/"+f, "server_authority", f+" is changed only by supervisors through the register",
				"该字段只能由扶贫办在系统中修改")
		default:
			return reject(r.ptr+"/data/"+f, "unknown_field", "not a field of this record", "不是该记录的字段")
		}
	}
	return nil
}

var (
	householdKnown = jsonFieldSet(wire.Household{})
	memberKnown    = jsonFieldSet(wire.Member{})
)

func pick(all map[string]json.RawMessage, keep map[string]bool) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(keep))
	for k := range keep {
		out[k] = all[k]
	}
	return out
}

func (r recordTx) updateHousehold(ctx context.Context) (recordOutcome, error) {
	if err := r.requireBase(); err != nil {
		return recordOutcome{}, err
	}
	if err := r.checkEditable(householdEditable, householdKnown); err != nil {
		return recordOutcome{}, err
	}
	h, by, err := r.tx.HouseholdForUpdate(ctx, r.p.HouseholdScope(), r.today, r.ch.ID)
	if domain.IsCode(err, domain.CodeNotFound) {
		return recordOutcome{}, reject(r.ptr+"/id", "not_found", "household not found", "未找到该农户")
	}
	if err != nil {
		return recordOutcome{}, err
	}
	if err := r.checkHousehold(h.ID); err != nil {
		return recordOutcome{}, err
	}
	if err := r.checkBase(h.Version); err != nil {
		return recordOutcome{}, err
	}
	all, err := fieldsOf(wire.FromHousehold(h))
	if err != nil {
		return recordOutcome{}, err
	}
	current := pick(all, householdEditable)
	merged, outcome, losses := Merge(current, r.ch.Data, r.ch.Base, r.ch.BaseVersion, h.Version)
	if unchanged(current, merged) {
		return recordOutcome{Status: wire.StatusDuplicate, Version: h.Version}, nil
	}
	var in wire.HouseholdFields
	if err := decodeData(r.ptr+"/data", merged, &in); err != nil {
		return recordOutcome{}, err
	}
	var fe domain.FieldErrors
	d := in.Apply(h.HouseholdDetails, &fe)
	d.Validate(&fe)
	// Judge only what the phone sent: a bad value stored by an import in
	// another field must not block a cadre's phone-number fix.
	if err := keepFields(fe.Err(), sent(r.ch.Data)); err != nil {
		return recordOutcome{}, rejectAll(r.ptr+"/data", err)
	}
	nh := h
	nh.HouseholdDetails, nh.Version, nh.UpdatedAt = d, h.Version+1, r.received
	if err := r.tx.SaveHouseholdDetails(ctx, nh, h.Version, r.p.UserID); err != nil {
		return recordOutcome{}, err
	}
	ids, err := r.keepLosses(ctx, wire.EntityHousehold, h.ID, h.CountyID, h.ID, losses, h.Version, nh.Version, by)
	if err != nil {
		return recordOutcome{}, err
	}
	return recordOutcome{Status: outcome, Version: nh.Version, ConflictIDs: ids}, nil
}

func (r recordTx) updateMember(ctx context.Context) (recordOutcome, error) {
	if err := r.requireBase(); err != nil {
		return recordOutcome{}, err
	}
	if r.ch.HouseholdID == nil {
		return recordOutcome{}, reject(r.ptr+"/household_id", "required", "household_id is required", "缺少农户编号household_id")
	}
	if err := r.checkEditable(memberEditable, memberKnown); err != nil {
		return recordOutcome{}, err
	}
	notFound := reject(r.ptr+"/id", "not_found", "member not found", "未找到该家庭成员")
	h, err := r.tx.Household(ctx, r.p.HouseholdScope(), r.today, *r.ch.HouseholdID)
	if domain.IsCode(err, domain.CodeNotFound) {
		return recordOutcome{}, notFound
	}
	if err != nil {
		return recordOutcome{}, err
	}
	m, by, err := r.tx.MemberForUpdate(ctx, h.CountyID, h.ID, r.ch.ID)
	if domain.IsCode(err, domain.CodeNotFound) {
		return recordOutcome{}, notFound
	}
	if err != nil {
		return recordOutcome{}, err
	}
	if err := r.checkBase(m.Version); err != nil {
		return recordOutcome{}, err
	}
	all, err := fieldsOf(wire.FromMember(m, false))
	if err != nil {
		return recordOutcome{}, err
	}
	current := pick(all, memberEditable)
	merged, outcome, losses := Merge(current, r.ch.Data, r.ch.Base, r.ch.BaseVersion, m.Version)
	if unchanged(current, merged) {
		return recordOutcome{Status: wire.StatusDuplicate, Version: m.Version}, nil
	}
	var in wire.MemberFields
	if err := decodeData(r.ptr+"/data", merged, &in); err != nil {
		return recordOutcome{}, err
	}
	d := in.Apply(m.MemberDetails)
	var fe domain.FieldErrors
	d.Validate(&fe, "", r.today)
	// Only the fields a phone can send are judged here; identity fields
	// already stored are the register's business.
	if err := keepFields(fe.Err(), sent(r.ch.Data)); err != nil {
		return recordOutcome{}, rejectAll(r.ptr+"/data", err)
	}
	nm := m
	nm.MemberDetails, nm.Version, nm.UpdatedAt = d, m.Version+1, r.received
	if err := r.tx.SaveMemberDetails(ctx, nm, m.Version, r.p.UserID); err != nil {
		return recordOutcome{}, err
	}
	ids, err := r.keepLosses(ctx, wire.EntityMember, m.ID, m.CountyID, h.ID, losses, m.Version, nm.Version, by)
	if err != nil {
		return recordOutcome{}, err
	}
	return recordOutcome{Status: outcome, Version: nm.Version, ConflictIDs: ids}, nil
}

// unchanged reports whether an edit leaves every field as stored (a resent
// edit): answered as a duplicate, with no new version.
func unchanged(current, merged map[string]json.RawMessage) bool {
	for k, v := range merged {
		if !SameJSON(current[k], v) {
			return false
		}
	}
	return true
}

func sent(data map[string]json.RawMessage) map[string]bool {
	out := make(map[string]bool, len(data))
	for k := range data {
		out[k] = true
	}
	return out
}

// keepFields keeps the field errors of err that lie in one of the fields
// named in keep: "/home/lat" lies in home.
func keepFields(err error, keep map[string]bool) error {
	de, ok := err.(*domain.Error)
	if !ok {
		return err
	}
	var fs []domain.FieldError
	for _, f := range de.Fields {
		top, _, _ := strings.Cut(strings.TrimPrefix(f.Field, "/"), "/")
		if keep[top] {
			fs = append(fs, f)
		}
	}
	if len(fs) == 0 {
		return nil
	}
	return domain.Invalid(fs...)
}

func utcDetails(d domain.VisitDetails) domain.VisitDetails {
	d.StartedAt = d.StartedAt.UTC()
	if d.EndedAt != nil {
		e := d.EndedAt.UTC()
		d.EndedAt = &e
	}
	gps := make([]domain.GPSStamp, len(d.GPS))
	for i, g := range d.GPS {
		g.DeviceTime = g.DeviceTime.UTC()
		gps[i] = g
	}
	d.GPS = gps
	if d.Checklist == nil {
		d.Checklist = map[string]domain.ChecklistEntry{}
	}
	for _, s := range []*[]string{&d.Measures, &d.MetWith} {
		if *s == nil {
			*s = []string{}
		}
	}
	if d.Photos == nil {
		d.Photos = []domain.PhotoRef{}
	}
	if d.PlanProgress == nil {
		d.PlanProgress = []domain.PlanProgress{}
	}
	return d
}

// canonicalTimes rewrites the time-bearing visit fields of a phone's edit in
// UTC, so that comparing them with stored values compares instants. Values
// that do not parse are left for validation to refuse.
func canonicalTimes(m map[string]json.RawMessage) map[string]json.RawMessage {
	if m == nil {
		return nil
	}
	out := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		out[k] = v
	}
	for _, k := range []string{"started_at", "ended_at"} {
		var t *time.Time
		if raw, ok := m[k]; ok && json.Unmarshal(raw, &t) == nil && t != nil {
			u := t.UTC()
			out[k], _ = json.Marshal(u)
		}
	}
	// Each fix is rewritten member by member, so that what validation must
	// see (a coordinate left out, an unknown member) reaches it unchanged.
	var gps []map[string]json.RawMessage
	if raw, ok := m["gps"]; ok && json.Unmarshal(raw, &gps) == nil {
		for _, fix := range gps {
			var t time.Time
			if raw, ok := fix["device_time"]; ok && json.Unmarshal(raw, &t) == nil {
				fix["device_time"], _ = json.Marshal(t.UTC())
			}
		}
		out["gps"], _ = json.Marshal(gps)
	}
	return out
}

// keptFlags are the flags an edit does not recompute (clock flags are).
func keptFlags(fs []domain.Flag) []domain.Flag {
	var out []domain.Flag
	for _, f := range fs {
		switch f.Code {
		case "clock_offset", "future_time", "before_registration":
		default:
			out = append(out, f)
		}
	}
	return out
}
