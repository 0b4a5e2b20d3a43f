package sync

import (
	"context"
	"encoding/json"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/wire"
)

// IncomeAccounts is what a push needs of the casework service to take
// income_account changes (the app binds internal/casework); both run in
// the push's transaction.
type IncomeAccounts interface {
	// PushedIncomeAccount reads the account of a household and year the
	// caller may write, locked: its id (derived from household and year),
	// county, data, version (0: none yet) and who wrote that version.
	PushedIncomeAccount(ctx context.Context, tx TxStore, p domain.Principal, householdID uuid.UUID, year int) (IncomeAccountRecord, error)
	// SaveIncomeAccount validates and writes the data over version and
	// returns the new version; field errors name fields of the data.
	SaveIncomeAccount(ctx context.Context, tx TxStore, p domain.Principal, householdID uuid.UUID, data wire.IncomeAccountData, version int64, deviceID string) (int64, error)
	// IncomeAccountOf reads the year and version of a stored account by
	// its id, for a supervisor restoring a value it lost.
	IncomeAccountOf(ctx context.Context, tx TxStore, countyID, householdID, id uuid.UUID) (year int, version int64, err error)
}

// IncomeAccountRecord is a stored income account as a push merges it.
type IncomeAccountRecord struct {
	ID, CountyID uuid.UUID
	Data         wire.IncomeAccountData
	Version      int64
	WrittenBy    *uuid.UUID
}

// incomeFields are the mergeable fields of an income account: all but the
// year, which names the record.
var incomeFields = func() map[string]bool {
	m := jsonFieldSet(wire.IncomeAccountData{})
	delete(m, "year")
	return m
}()

// pushIncomeAccount takes a create or update of an income account with the
// rules of a visit edit: one outcome per record, an edit from an older
// version merged field by field, overlapping values kept as conflicts. Two
// phones that each create the same household's year write one record (its
// id is derived), the second merging into the first.
func (r recordTx) pushIncomeAccount(ctx context.Context) (recordOutcome, error) {
	accounts := r.svc.cfg.IncomeAccounts
	if accounts == nil {
		return recordOutcome{}, reject(r.ptr+"/entity", "invalid_enum", "this server takes no income accounts", "服务器未启用收入测算")
	}
	if r.ch.Op != wire.OpCreate && r.ch.Op != wire.OpUpdate {
		return recordOutcome{}, reject(r.ptr+"/op", "unsupported", "phones create and update income accounts", "收入测算只能新增和修改")
	}
	if r.ch.HouseholdID == nil {
		return recordOutcome{}, reject(r.ptr+"/household_id", "required", "household_id is required", "缺少农户编号household_id")
	}
	var year int
	if raw, ok := r.ch.Data["year"]; !ok || json.Unmarshal(raw, &year) != nil || year == 0 {
		return recordOutcome{}, reject(r.ptr+"/data/year", "required", "data.year names the account's year", "缺少收入测算年度year")
	}
	data := make(map[string]json.RawMessage, len(r.ch.Data))
	for f, raw := range r.ch.Data {
		switch {
		case f == "year":
		case incomeFields[f]:
			data[f] = raw
		default:
			return recordOutcome{}, reject(r.ptr+"/data/"+f, "unknown_field", "not an income account field", "不是收入测算的字段")
		}
	}
	rec, err := accounts.PushedIncomeAccount(ctx, r.tx, r.p, *r.ch.HouseholdID, year)
	if domain.IsCode(err, domain.CodeNotFound) {
		return recordOutcome{}, reject(r.ptr+"/household_id", "not_found", "household not found", "未找到该农户")
	}
	if err != nil {
		return recordOutcome{}, rejectAt(r.ptr, err)
	}
	if rec.ID != r.ch.ID {
		return recordOutcome{}, reject(r.ptr+"/id", "id_mismatch", "an income account's id is derived from its household and year: "+rec.ID.String(),
			"收入测算的编号应由农户和年度生成")
	}
	all, err := fieldsOf(rec.Data)
	if err != nil {
		return recordOutcome{}, err
	}
	current := pick(all, incomeFields)
	merged, outcome, losses := data, wire.StatusApplied, []FieldLoss(nil)
	switch {
	case r.ch.Op == wire.OpUpdate && rec.Version == 0:
		return recordOutcome{}, reject(r.ptr+"/id", "not_found", "no income account of this household and year yet; send a create", "该户该年度尚无收入测算，请以新增方式提交")
	case r.ch.Op == wire.OpUpdate:
		if err := r.requireBase(); err != nil {
			return recordOutcome{}, err
		}
		if err := r.checkBase(rec.Version); err != nil {
			return recordOutcome{}, err
		}
		merged, outcome, losses = Merge(current, data, r.ch.Base, r.ch.BaseVersion, rec.Version)
	case rec.Version > 0:
		// Another phone created it first: this create merges into it, made
		// from an empty account (every amount 0), so only amounts both
		// phones filled in overlap.
		empty, err := fieldsOf(wire.IncomeAccountData{})
		if err != nil {
			return recordOutcome{}, err
		}
		merged, outcome, losses = Merge(current, data, pick(empty, incomeFields), 0, rec.Version)
	}
	if rec.Version > 0 && unchanged(current, merged) {
		return recordOutcome{Status: wire.StatusDuplicate, Version: rec.Version}, nil
	}
	var in wire.IncomeAccountData
	if err := decodeData(r.ptr+"/data", merged, &in); err != nil {
		return recordOutcome{}, err
	}
	in.Year = year
	version, err := accounts.SaveIncomeAccount(ctx, r.tx, r.p, *r.ch.HouseholdID, in, rec.Version, r.req.DeviceID)
	if err != nil {
		return recordOutcome{}, rejectAt(r.ptr+"/data", err)
	}
	ids, err := r.keepLosses(ctx, wire.EntityIncomeAccount, rec.ID, rec.CountyID, *r.ch.HouseholdID, losses, rec.Version, version, rec.WrittenBy)
	if err != nil {
		return recordOutcome{}, err
	}
	return recordOutcome{Status: outcome, Version: version, ConflictIDs: ids}, nil
}

// restoringIncomeAccount completes a supervisor's restore of a value an
// income account lost: the change names the account's year and is made
// from its current version.
func (s *Service) restoringIncomeAccount(ctx context.Context, tx TxStore, c Conflict, ch *wire.Change) error {
	if s.cfg.IncomeAccounts == nil {
		return domain.NotFound("income account")
	}
	year, version, err := s.cfg.IncomeAccounts.IncomeAccountOf(ctx, tx, c.CountyID, c.HouseholdID, c.EntityID)
	if err != nil {
		return err
	}
	ch.Data["year"], _ = json.Marshal(year)
	ch.BaseVersion = version
	return nil
}

// IncomeAccountStore is what a pull reads of income accounts: the paired
// cadre's phone holds its households' accounts (and their versions, to
// edit them offline) like their plans.
type IncomeAccountStore interface {
	// IncomeAccountsByID returns the accounts among ids, without scope
	// (the feed judges it).
	IncomeAccountsByID(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]domain.IncomeAccount, error)
	// IncomeAccountsOfHouseholds returns the accounts of the households, by household.
	IncomeAccountsOfHouseholds(ctx context.Context, households []domain.Household) (map[uuid.UUID][]domain.IncomeAccount, error)
	// IncomeAccountsAfter walks the accounts of the scope's households in
	// (household, id) order after the key, up to limit.
	IncomeAccountsAfter(ctx context.Context, scope domain.HouseholdScope, today domain.Date, after ChildKey, limit int, each func(domain.IncomeAccount) error) error
}

func (pl puller) incomeAccount(a domain.IncomeAccount) error {
	hid := a.HouseholdID
	wa := wire.FromIncomeAccount(a)
	return pl.upsert(wire.EntityIncomeAccount, a.ID, &hid, a.Version, &wa)
}

// incomeAccountChange sends an account as it is now, when its household
// is in the caller's scope (accounts are never deleted; they leave a phone
// with their household).
func (pl puller) incomeAccountChange(ch Change, now currentState) error {
	a, ok := now.incomeAccounts[ch.EntityID]
	if !ok {
		return nil
	}
	if _, ok := now.households[a.HouseholdID]; !ok {
		return nil
	}
	return pl.incomeAccount(a)
}
