package domain

import (
	"time"

	"github.com/google/uuid"
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

// MaxAmountFen bounds each amount: 100 million yuan is no rural household's
// year and catches a figure typed in fen twice.
const MaxAmountFen = 10_000_000_000

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
func (f IncomeFields) Validate(fe *FieldErrors, prefix string) {
	for _, a := range f.Amounts() {
		if a.Fen < 0 || a.Fen > MaxAmountFen {
			fe.Add(prefix+"/"+a.Field, "out_of_range", a.Field+" must be between 0 and 10,000,000,000 fen", a.LabelZH+"应在0至1亿元之间（以分计）")
		}
	}
	if f.MembersCounted < 0 || f.MembersCounted > 30 {
		fe.Add(prefix+"/members_counted", "out_of_range", "members_counted must be between 1 and 30, or 0 to count the household's members", "计算人口应在1至30人之间（填0按家庭成员计）")
	}
	// The shared text rules, not a bare length: a phone's push reaches here
	// without the JSON body's control-character screen, and a NUL that
	// PostgreSQL cannot store must be the field's refusal, not a 500.
	checkText(fe, prefix+"/notes", "备注", f.Notes, 0, 2000)
}
