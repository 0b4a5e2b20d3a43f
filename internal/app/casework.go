package app

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/casework"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	"github.com/fieldvisit/fieldvisit/storage"
	fvsync "github.com/fieldvisit/fieldvisit/sync"
	"github.com/fieldvisit/fieldvisit/wire"
)

// registerStatus moves a household's status for a completed procedure
// through the register's own service, bound to the procedure's
// transaction: the status history, change feed, re-judging and audit
// entry are those of a status change made by hand, and commit with the
// procedure's last step or not at all.
type registerStatus struct{ now func() time.Time }

func (r registerStatus) ChangeStatus(ctx context.Context, tx casework.TxStore, p domain.Principal, householdID uuid.UUID, in casework.StatusMove) error {
	st, ok := tx.(storage.CaseworkStore)
	if !ok {
		return fmt.Errorf("app: a procedure runs in storage's transaction, not %T", tx)
	}
	_, err := registry.NewService(st.Store, nil, r.now).ChangeStatus(ctx, p, householdID, registry.StatusInput{Status: in.Status,
		PovertyType: in.PovertyType, ExitYear: in.ExitYear, EffectiveOn: in.EffectiveOn, Reason: in.Reason, Cause: in.Cause, Version: in.Version})
	return err
}

// pushedIncomeAccounts gives sync the casework service inside a push: the
// account and the rest of the batch share storage's transaction.
type pushedIncomeAccounts struct{ svc *casework.Service }

func caseworkTx(tx fvsync.TxStore) (casework.TxStore, error) {
	st, ok := tx.(storage.SyncStore)
	if !ok {
		return nil, fmt.Errorf("app: a push runs in storage's transaction, not %T", tx)
	}
	return st.Store.Casework(), nil
}

func (a pushedIncomeAccounts) PushedIncomeAccount(ctx context.Context, tx fvsync.TxStore, p domain.Principal, householdID uuid.UUID, year int) (fvsync.IncomeAccountRecord, error) {
	ct, err := caseworkTx(tx)
	if err != nil {
		return fvsync.IncomeAccountRecord{}, err
	}
	acc, by, err := a.svc.IncomeAccountIn(ctx, ct, p, householdID, year)
	if err != nil {
		return fvsync.IncomeAccountRecord{}, err
	}
	return fvsync.IncomeAccountRecord{ID: acc.ID, CountyID: acc.CountyID, Data: incomeAccountData(acc), Version: acc.Version, WrittenBy: by}, nil
}

func (a pushedIncomeAccounts) SaveIncomeAccount(ctx context.Context, tx fvsync.TxStore, p domain.Principal, householdID uuid.UUID, d wire.IncomeAccountData,
	version int64, deviceID string) (int64, error) {
	ct, err := caseworkTx(tx)
	if err != nil {
		return 0, err
	}
	acc, err := a.svc.SaveIncomeAccountIn(ctx, ct, p, householdID, d.Year, incomeFields(d), version, deviceID)
	return acc.Version, err
}

func (a pushedIncomeAccounts) IncomeAccountOf(ctx context.Context, tx fvsync.TxStore, countyID, householdID, id uuid.UUID) (int, int64, error) {
	ct, err := caseworkTx(tx)
	if err != nil {
		return 0, 0, err
	}
	acc, err := a.svc.IncomeAccountOf(ctx, ct, countyID, householdID, id)
	return acc.Year, acc.Version, err
}

func incomeAccountData(a casework.IncomeAccount) wire.IncomeAccountData {
	f := a.IncomeFields
	return wire.IncomeAccountData{Year: a.Year, IncomeAmounts: wire.IncomeAmounts{WagesFen: f.WagesFen, BusinessFen: f.BusinessFen,
		TransfersFen: f.TransfersFen, PensionsFen: f.PensionsFen, PropertyFen: f.PropertyFen, CostsFen: f.CostsFen, MembersCounted: f.MembersCounted,
		Notes: f.Notes}}
}

func incomeFields(d wire.IncomeAccountData) casework.IncomeFields {
	return casework.IncomeFields{WagesFen: d.WagesFen, BusinessFen: d.BusinessFen, TransfersFen: d.TransfersFen, PensionsFen: d.PensionsFen,
		PropertyFen: d.PropertyFen, CostsFen: d.CostsFen, MembersCounted: d.MembersCounted, Notes: d.Notes}
}

// visitCasework gives sync the casework service for what a pushed visit
// records (risk triggers, income updates), in the push's transaction.
type visitCasework struct{ svc *casework.Service }

func (v visitCasework) VisitWritten(ctx context.Context, tx fvsync.TxStore, p domain.Principal, before *domain.Visit, after domain.Visit) error {
	ct, err := caseworkTx(tx)
	if err != nil {
		return err
	}
	return v.svc.VisitWritten(ctx, ct, p, before, after)
}
