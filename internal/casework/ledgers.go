package casework

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance/ledger"
)

// The casework ledgers (002: 四本台账 among them): the income ledger
// (收入台账) and the exit ledger (脱贫退出台账), streamed as the visit 台账 is,
// through the same spreadsheet writer.

// LedgerStore is what the ledgers read, a page at a time.
type LedgerStore interface {
	RegionWithin(ctx context.Context, path string, id uuid.UUID) (domain.Region, error)
	// IncomeLedger calls fn with the year's account of each household in
	// scope under withinPath, by town, village and household number.
	IncomeLedger(ctx context.Context, scope domain.HouseholdScope, today domain.Date, withinPath string, year int, fn func(IncomeLine) error) error
	// ProcedureLedger calls fn with each procedure of kind filed under
	// withinPath, with its steps, by town, village, household number and
	// start.
	ProcedureLedger(ctx context.Context, withinPath, kind string, fn func(ProcedureLine) error) error
}

// IncomeLine is one household's account as the income ledger lists it.
type IncomeLine struct {
	TownName, VillageName, HouseholdNumber, HeadName, PovertyType, Status string
	Account                                                               IncomeAccount
}

// ProcedureLine is one procedure as the exit ledger lists it; a village's
// has no household.
type ProcedureLine struct {
	TownName, VillageName, HouseholdNumber, HeadName string
	Procedure                                        Procedure
}

// LedgerQuery asks for a casework ledger of a region.
type LedgerQuery struct {
	RegionID *uuid.UUID // nil: the caller's own region
	Year     int        // the income ledger's year
	Kind     string     // the exit ledger's procedure kind; default exit
	Format   string     // xlsx (default) or csv
}

// Download is a ledger ready to stream: Write runs once the caller was
// authorised and the query checked, so an error is still a clean answer
// until then.
type Download struct {
	Filename    string
	ContentType string
	Write       func(w io.Writer) error
}

func (s *Service) ledgerRegion(ctx context.Context, p domain.Principal, q LedgerQuery, fe *domain.FieldErrors) (domain.Region, string, error) {
	format := q.Format
	switch format {
	case "":
		format = ledger.XLSX
	case ledger.XLSX, ledger.CSV:
	default:
		fe.Add("format", "invalid_enum", "format must be xlsx or csv", "导出格式应为xlsx或csv")
	}
	if err := fe.Err(); err != nil {
		return domain.Region{}, "", err
	}
	id := p.RegionID
	if q.RegionID != nil {
		id = *q.RegionID
	}
	r, err := s.store.RegionWithin(ctx, p.RegionPath, id)
	return r, format, err
}

// IncomeLedger is the income ledger (收入台账) of a region and year: each
// household's account by source, its net and per-capita net income.
// Supervisors and admins export their subtree, a cadre the households
// they may see (their pairings), as the visit 台账 is scoped; inspectors
// are refused.
func (s *Service) IncomeLedger(ctx context.Context, p domain.Principal, q LedgerQuery) (Download, error) {
	if !p.Manages() && p.Role != domain.RoleCadre {
		return Download{}, domain.Forbidden()
	}
	today := s.today()
	var fe domain.FieldErrors
	checkYear(&fe, "year", q.Year, today)
	r, format, err := s.ledgerRegion(ctx, p, q, &fe)
	if err != nil {
		return Download{}, err
	}
	headings := []string{"序号", "乡镇", "行政村", "户编号", "户主", "贫困户属性", "户状态", "年度"}
	widths := []float64{6, 10, 10, 14, 10, 12, 10, 6}
	for _, a := range (IncomeFields{}).Amounts() {
		headings, widths = append(headings, a.LabelZH+"（元）"), append(widths, 14)
	}
	headings, widths = append(headings, "纯收入（元）", "计算人口", "人均纯收入（元）", "备注"), append(widths, 14, 8, 14, 24)
	subtitle := fmt.Sprintf("%s %d年度 制表日期：%s", r.Name, q.Year, today)
	write, err := ledger.Stream(format, "收入台账", "贫困户家庭收入台账", subtitle, ledger.Columns(headings, widths...), func(t ledger.Table) error {
		n := 0
		err := s.store.IncomeLedger(ctx, p.HouseholdScope(), today, r.Path, q.Year, func(l IncomeLine) error {
			n++
			f := l.Account.IncomeFields
			row := []any{n, l.TownName, l.VillageName, l.HouseholdNumber, l.HeadName, vocabLabel(domain.PovertyTypes, l.PovertyType),
				vocabLabel(domain.Statuses, l.Status), l.Account.Year}
			for _, a := range f.Amounts() {
				row = append(row, ledger.Fen(a.Fen))
			}
			return t.Row(append(row, ledger.Fen(f.NetFen()), f.MembersCounted, ledger.Fen(f.PerCapitaFen()), f.Notes)...)
		})
		return err
	}, ledger.SpillTo(s.spillDir))
	if err != nil {
		return Download{}, err
	}
	return Download{Filename: fmt.Sprintf("收入台账-%s-%d.%s", r.Name, q.Year, format), ContentType: ledger.ContentType(format), Write: write}, nil
}

// ExitLedger is the exit ledger (脱贫退出台账) of a region: the procedures of
// one kind (exit by default; identification, removal, village_exit) with
// each step's date and documents. The procedures are the supervisors':
// admins and supervisors export their subtree.
func (s *Service) ExitLedger(ctx context.Context, p domain.Principal, q LedgerQuery) (Download, error) {
	if !p.Manages() {
		return Download{}, domain.Forbidden()
	}
	var fe domain.FieldErrors
	kind := q.Kind
	if kind == "" {
		kind = KindExit
	}
	defs, ok := Kinds[kind]
	if !ok {
		fe.Add("kind", "invalid_enum", "kind must be exit, identification, removal or village_exit", "程序类型无效")
	}
	r, format, err := s.ledgerRegion(ctx, p, q, &fe)
	if err != nil {
		return Download{}, err
	}
	kindLabel, _ := KindLabels.Label(kind)
	headings := []string{"序号", "乡镇", "行政村", "户编号", "户主", "程序", "年度", "状态"}
	widths := []float64{6, 10, 10, 14, 10, 10, 6, 8}
	for _, d := range defs {
		headings, widths = append(headings, d.NameZH+"日期", d.NameZH+"文件"), append(widths, 12, 16)
	}
	headings, widths = append(headings, "原因"), append(widths, 24)
	today := s.today()
	write, err := ledger.Stream(format, "退出台账", kindLabel+"台账", r.Name+" 制表日期："+today.String(), ledger.Columns(headings, widths...), func(t ledger.Table) error {
		n := 0
		err := s.store.ProcedureLedger(ctx, r.Path, kind, func(l ProcedureLine) error {
			n++
			pr := l.Procedure
			status := "进行中"
			if pr.Status == ProcedureCompleted {
				status = "已完成"
			}
			row := []any{n, l.TownName, l.VillageName, l.HouseholdNumber, l.HeadName, kindLabel, pr.Year, status}
			for i := range defs {
				if i < len(pr.Steps) {
					row = append(row, ledger.Day{Time: pr.Steps[i].DoneOn.Start()}, joinDocuments(pr.Steps[i]))
				} else {
					row = append(row, nil, nil)
				}
			}
			return t.Row(append(row, pr.Reason)...)
		})
		return err
	}, ledger.SpillTo(s.spillDir))
	if err != nil {
		return Download{}, err
	}
	return Download{Filename: fmt.Sprintf("%s台账-%s-%s.%s", kindLabel, r.Name, today, format), ContentType: ledger.ContentType(format), Write: write}, nil
}

// joinDocuments spells a step's evidence: its document numbers, and how
// many photos.
func joinDocuments(st Step) string {
	out := ""
	for i, d := range st.DocumentIDs {
		if i > 0 {
			out += "、"
		}
		out += d
	}
	if n := len(st.PhotoIDs); n > 0 {
		if out != "" {
			out += "、"
		}
		out += "照片" + strconv.Itoa(n) + "张"
	}
	return out
}

func vocabLabel(v domain.Vocabulary, code string) string {
	if l, ok := v.Label(code); ok {
		return l
	}
	return code
}
