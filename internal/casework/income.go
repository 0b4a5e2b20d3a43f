package casework

import (
	"context"
	"crypto/sha1"
	"fmt"
	"strconv"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// IncomeFields are an income account's amounts (domain.IncomeFields).
type IncomeFields = domain.IncomeFields

// IncomeAccount is one household's account of one year (domain.IncomeAccount).
type IncomeAccount = domain.IncomeAccount

// Amount is one line of an income account (domain.Amount).
type Amount = domain.Amount

// accountNamespace roots the ids of income accounts.
var accountNamespace = uuid.MustParse("6f1c2b8e-2d0a-4c55-9a59-3a1d4e7c0b11")

// IncomeAccountID is the id of a household's account of a year. It is
// derived, not drawn, so that two phones starting the same year's account
// offline write one record (and merge), never two.
func IncomeAccountID(householdID uuid.UUID, year int) uuid.UUID {
	return uuid.NewHash(sha1.New(), accountNamespace, []byte(householdID.String()+"/"+strconv.Itoa(year)), 5)
}

// checkYear refuses a year outside domain.FirstYear (the register's start)
// to next year.
func checkYear(fe *domain.FieldErrors, field string, year int, today domain.Date) {
	if year < domain.FirstYear || year > today.Year+1 {
		fe.Add(field, "out_of_range", fmt.Sprintf("year must be between %d and next year", domain.FirstYear),
			fmt.Sprintf("年度应在%d年至明年之间", domain.FirstYear))
	}
}

// IncomeAccounts lists a visible household's accounts, newest year first:
// its history by year.
func (s *Service) IncomeAccounts(ctx context.Context, p domain.Principal, householdID uuid.UUID) ([]IncomeAccount, error) {
	h, err := s.store.Household(ctx, p.HouseholdScope(), s.today(), householdID)
	if err != nil {
		return nil, err
	}
	return s.store.IncomeAccounts(ctx, h.CountyID, h.ID)
}

// IncomeAccount is one year's account of a visible household.
func (s *Service) IncomeAccount(ctx context.Context, p domain.Principal, householdID uuid.UUID, year int) (IncomeAccount, error) {
	h, err := s.store.Household(ctx, p.HouseholdScope(), s.today(), householdID)
	if err != nil {
		return IncomeAccount{}, err
	}
	a, _, err := s.store.IncomeAccount(ctx, h.CountyID, h.ID, year)
	return a, err
}

// PutIncomeAccount writes a year's account: created when version is 0,
// replaced when it is the stored version (else stale). Supervisors of the
// household's region and its paired cadres write; inspectors only read.
func (s *Service) PutIncomeAccount(ctx context.Context, p domain.Principal, householdID uuid.UUID, year int, in IncomeFields, version int64) (IncomeAccount, error) {
	var out IncomeAccount
	err := s.store.Tx(ctx, func(tx TxStore) error {
		var err error
		out, err = s.saveIncomeAccount(ctx, tx, p, householdID, year, in, version, "", "")
		return err
	})
	return out, err
}

// saveIncomeAccount validates and writes an account inside tx; prefix
// places field errors (a push's "/changes/3/data").
func (s *Service) saveIncomeAccount(ctx context.Context, tx TxStore, p domain.Principal, householdID uuid.UUID, year int, in IncomeFields,
	version int64, deviceID, prefix string) (IncomeAccount, error) {
	if p.Role == domain.RoleInspector {
		return IncomeAccount{}, domain.Forbidden()
	}
	h, err := tx.Household(ctx, p.HouseholdScope(), s.today(), householdID)
	if err != nil {
		return IncomeAccount{}, err
	}
	var fe domain.FieldErrors
	checkYear(&fe, prefix+"/year", year, s.today())
	in.Validate(&fe, prefix)
	if err := fe.Err(); err != nil {
		return IncomeAccount{}, err
	}
	if in.MembersCounted == 0 {
		if in.MembersCounted, err = membersCounted(ctx, tx, h); err != nil {
			return IncomeAccount{}, err
		}
		if in.MembersCounted == 0 {
			return IncomeAccount{}, domain.Invalid(domain.FieldError{Field: prefix + "/members_counted", Reason: "required",
				Message: "the register lists no members: say how many people the income is shared by", MessageZH: "户内无家庭成员记录，请填写计算人口"})
		}
	}
	now := s.now().UTC()
	cur, _, err := tx.IncomeAccount(ctx, h.CountyID, h.ID, year)
	switch {
	case domain.IsCode(err, domain.CodeNotFound):
		if version != 0 {
			return IncomeAccount{}, domain.Stale("income account", "收入测算")
		}
		a := IncomeAccount{ID: IncomeAccountID(h.ID, year), CountyID: h.CountyID, HouseholdID: h.ID, Year: year, IncomeFields: in, Version: 1,
			UpdatedBy: p.UserID, DeviceID: deviceID, CreatedAt: now, UpdatedAt: now}
		return a, tx.SaveIncomeAccount(ctx, a, 0, incomeAudit(p, a, "create"))
	case err != nil:
		return IncomeAccount{}, err
	}
	if version != cur.Version {
		return IncomeAccount{}, domain.Stale("income account", "收入测算")
	}
	if cur.IncomeFields == in {
		return cur, nil
	}
	a := cur
	a.IncomeFields, a.Version, a.UpdatedBy, a.DeviceID, a.UpdatedAt = in, cur.Version+1, p.UserID, deviceID, now
	return a, tx.SaveIncomeAccount(ctx, a, cur.Version, incomeAudit(p, a, "update"))
}

func incomeAudit(p domain.Principal, a IncomeAccount, action string) domain.AuditEntry {
	actor, hid := p.UserID, a.HouseholdID
	return domain.AuditEntry{ActorID: &actor, ActorName: p.Username, Action: action, ObjectType: "income_account", ObjectID: a.ID.String(),
		HouseholdID: &hid, RequestID: p.RequestID, Detail: map[string]any{"year": a.Year, "version": a.Version, "per_capita_fen": a.PerCapitaFen()}}
}

// IncomeAccountIn reads, inside a push's transaction, the account of a
// household and year the caller may write (locked; a zero Version when
// there is none yet, with its id), and who wrote the stored version.
func (s *Service) IncomeAccountIn(ctx context.Context, tx TxStore, p domain.Principal, householdID uuid.UUID, year int) (IncomeAccount, *uuid.UUID, error) {
	if p.Role == domain.RoleInspector {
		return IncomeAccount{}, nil, domain.Forbidden()
	}
	h, err := tx.Household(ctx, p.HouseholdScope(), s.today(), householdID)
	if err != nil {
		return IncomeAccount{}, nil, err
	}
	a, by, err := tx.IncomeAccount(ctx, h.CountyID, h.ID, year)
	if domain.IsCode(err, domain.CodeNotFound) {
		return IncomeAccount{ID: IncomeAccountID(h.ID, year), CountyID: h.CountyID, HouseholdID: h.ID, Year: year}, nil, nil
	}
	return a, by, err
}

// SaveIncomeAccountIn writes a pushed account inside the push's
// transaction over version (0: create), as PutIncomeAccount does.
func (s *Service) SaveIncomeAccountIn(ctx context.Context, tx TxStore, p domain.Principal, householdID uuid.UUID, year int, in IncomeFields,
	version int64, deviceID string) (IncomeAccount, error) {
	return s.saveIncomeAccount(ctx, tx, p, householdID, year, in, version, deviceID, "")
}

// IncomeAccountOf finds a stored account by its id among the household's
// (an id names its household and year only one way).
func (s *Service) IncomeAccountOf(ctx context.Context, tx TxStore, countyID, householdID, id uuid.UUID) (IncomeAccount, error) {
	as, err := tx.IncomeAccounts(ctx, countyID, householdID)
	if err != nil {
		return IncomeAccount{}, err
	}
	for _, a := range as {
		if a.ID == id {
			return a, nil
		}
	}
	return IncomeAccount{}, domain.NotFound("income account")
}
