package casework

import (
	"context"
	"crypto/sha1"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// IncomeFields are the amounts of an income account, in fen (分): income
// by source (the 增收减支 board's columns) and the production costs. The
// member count is the people the year's income is shared by.
type IncomeFields struct {
	WagesFen       int64 // 工资性收入
	BusinessFen    int64 // 生产经营性收入 (farming, industry)
	TransfersFen   int64 // 转移性收入
	PensionsFen    int64 // 养老金和各类补贴
	PropertyFen    int64 // 财产性收入, dividends such as 光伏分红
	CostsFen       int64 // 生产经营费用支出
	MembersCounted int   // 0: the register's member count when written
	Notes          string
}

// IncomeAccount is one household's account of one year.
type IncomeAccount struct {
	ID          uuid.UUID
	CountyID    uuid.UUID
	HouseholdID uuid.UUID
	Year        int
	IncomeFields
	Version   int64
	UpdatedBy uuid.UUID
	DeviceID  string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// maxAmountFen bounds each amount: 100 million yuan is no rural household's
// year and catches a figure typed in fen twice.
const maxAmountFen = 10_000_000_000

// accountNamespace roots the ids of income accounts.
var accountNamespace = uuid.MustParse("6f1c2b8e-2d0a-4c55-9a59-3a1d4e7c0b11")

// IncomeAccountID is the id of a household's account of a year. It is
// derived, not drawn, so that two phones starting the same year's account
// offline write one record (and merge), never two.
func IncomeAccountID(householdID uuid.UUID, year int) uuid.UUID {
	return uuid.NewHash(sha1.New(), accountNamespace, []byte(householdID.String()+"/"+strconv.Itoa(year)), 5)
}

// Amount is one line of an income account: its field in the API, its
// name on the 收入测算 form, and its value.
type Amount struct {
	Field, LabelZH string
	Fen            int64
	Cost           bool // production costs (支出), not a source of income
}

// Amounts are the account's lines in the form's order: the five sources
// of income, then the production costs. Validation, the console and the
// printed forms name them from this one list.
func (f IncomeFields) Amounts() []Amount {
	return []Amount{
		{"wages_fen", "工资性收入", f.WagesFen, false}, {"business_fen", "生产经营性收入", f.BusinessFen, false},
		{"transfers_fen", "转移性收入", f.TransfersFen, false}, {"pensions_fen", "养老金和补贴", f.PensionsFen, false},
		{"property_fen", "财产性收入", f.PropertyFen, false}, {"costs_fen", "生产经营费用", f.CostsFen, true},
	}
}

// GrossFen is the year's income from every source.
func (f IncomeFields) GrossFen() int64 {
	return f.WagesFen + f.BusinessFen + f.TransfersFen + f.PensionsFen + f.PropertyFen
}

// NetFen is income less production costs; it may be negative.
func (f IncomeFields) NetFen() int64 { return f.GrossFen() - f.CostsFen }

// PerCapitaFen is the net income per counted member, rounded to the fen
// half away from zero (0 when nobody is counted).
func (f IncomeFields) PerCapitaFen() int64 {
	return divRound(f.NetFen(), int64(f.MembersCounted))
}

func divRound(n, d int64) int64 {
	if d <= 0 {
		return 0
	}
	q, r := n/d, n%d
	if r < 0 {
		r = -r
	}
	if 2*r >= d {
		if n < 0 {
			q--
		} else {
			q++
		}
	}
	return q
}

// Validate checks the fields; prefix is the JSON pointer of the account.
func (f IncomeFields) Validate(fe *domain.FieldErrors, prefix string) {
	for _, a := range f.Amounts() {
		if a.Fen < 0 || a.Fen > maxAmountFen {
			fe.Add(prefix+"/"+a.Field, "out_of_range", a.Field+" must be between 0 and 10,000,000,000 fen", a.LabelZH+"应在0至1亿元之间（以分计）")
		}
	}
	if f.MembersCounted < 0 || f.MembersCounted > 30 {
		fe.Add(prefix+"/members_counted", "out_of_range", "members_counted must be between 1 and 30", "计算人口应在1至30人之间")
	}
	if len([]rune(f.Notes)) > 2000 {
		fe.Add(prefix+"/notes", "too_long", "notes must be at most 2000 characters", "备注不能超过2000字")
	}
}

// checkYear refuses a year outside 2013 (the register's start) to next year.
func checkYear(fe *domain.FieldErrors, field string, year int, today domain.Date) {
	if year < 2013 || year > today.Year+1 {
		fe.Add(field, "out_of_range", "year must be between 2013 and next year", "年度应在2013年至明年之间")
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
