package compliance

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance/ledger"
	"github.com/fieldvisit/fieldvisit/internal/compliance/rules"
	"github.com/fieldvisit/fieldvisit/internal/photos/evidence"
)

// Export is a 台账 ready to be written: its file name, and the writer that
// streams it (called after the caller was authorised and the query checked,
// so an error answer is still possible up to that point).
type Export struct {
	Filename    string
	ContentType string
	Write       func(w io.Writer) error
}

// maxLedgerDays bounds the days from and to span, both counted: a leap year.
const maxLedgerDays = 366

// ExportQuery asks for a 台账.
type ExportQuery struct {
	ReportQuery
	From, To *domain.Date // the visit ledger's days, inclusive; default the period
	Format   string       // xlsx (default) or csv
	// BaseURL is the service's address as the caller reached it
	// (https://host): the visit 台账 links each visit's first photo in
	// the console there. Empty: no links.
	BaseURL string
}

func (q ExportQuery) check() error {
	var fe domain.FieldErrors
	if q.Format != "" && q.Format != ledger.XLSX && q.Format != ledger.CSV {
		fe.Add("format", "invalid_enum", "format must be xlsx or csv", "导出格式应为xlsx或csv")
	}
	if q.From != nil && q.To != nil && q.To.Before(*q.From) {
		fe.Add("to", "out_of_range", "to is before from", "结束日期早于开始日期")
	}
	if q.From != nil && q.To != nil && q.From.AddDays(maxLedgerDays-1).Before(*q.To) {
		fe.Add("to", "out_of_range", fmt.Sprintf("a ledger covers at most %d days", maxLedgerDays), fmt.Sprintf("台账最多导出%d天", maxLedgerDays))
	}
	return fe.Err()
}

func format(q ExportQuery) string {
	if q.Format == "" {
		return ledger.XLSX
	}
	return q.Format
}

func fileName(kind string, r domain.Region, period string, f string) string {
	return fmt.Sprintf("%s-%s-%s.%s", kind, r.Name, period, f)
}

func statusLabel(s string) string {
	l, _ := domain.Statuses.Label(s)
	return l
}

func povertyLabel(s string) string {
	l, _ := domain.PovertyTypes.Label(s)
	return l
}

// VisitLedger is the visit 台账 (走访台账) of a region: one line per visit
// with the household, the cadre, what was done and the evidence flags.
// Supervisors and inspectors export their region; a cadre exports only
// their own visits (the form they now fill in by hand).
func (s *Service) VisitLedger(ctx context.Context, p domain.Principal, q ExportQuery) (Export, error) {
	if err := q.check(); err != nil {
		return Export{}, err
	}
	// A cadre's ledger is their own visits: naming another cadre gives an
	// empty ledger, as an unknown cadre does for a supervisor.
	cadre, nobody := q.CadreID, false
	if p.Role == domain.RoleCadre {
		nobody = cadre != nil && *cadre != p.UserID
		id := p.UserID
		cadre = &id
	} else if !p.Manages() && p.Role != domain.RoleInspector {
		return Export{}, domain.Forbidden()
	}
	var fe domain.FieldErrors
	per := s.period(&fe, q.Period)
	q.checkHousehold(&fe)
	if err := fe.Err(); err != nil {
		return Export{}, err
	}
	r, err := s.visibleRegion(ctx, p, q.RegionID)
	if err != nil {
		return Export{}, err
	}
	from, to := per.Start, per.End
	if q.From != nil {
		from = *q.From
	}
	if q.To != nil {
		to = q.To.AddDays(1)
	}
	cols := ledger.Columns([]string{"序号", "乡镇", "行政村", "户编号", "户主姓名", "贫困户属性", "户状态", "帮扶干部", "走访日期", "开始时间", "结束时间", "时长（分钟）", "走访类型", "帮扶措施", "两不愁三保障情况", "见到的人", "户主确认", "照片数", "照片", "预警标记", "民情日记", "上传时间"}, 6, 10, 10, 14, 10, 12, 10, 10, 12, 8, 8, 10, 10, 24, 30, 12, 8, 8, 12, 30, 60, 17)
	subtitle := fmt.Sprintf("%s %s至%s 制表日期：%s", r.Name, from, to.AddDays(-1), s.today())
	f := format(q)
	// A county's year is a million lines: the cells are encoded on one
	// core while the rows are read and spelled on the other (InPipeline).
	write, err := ledger.Stream(f, "走访台账", "帮扶干部走访台账", subtitle, cols, func(t ledger.Table) error {
		n := 0
		f := VisitLedgerFilter{RegionPath: r.Path, CadreID: cadre, PovertyType: q.PovertyType, HouseholdStatus: q.HouseholdStatus,
			From: from.Start(), To: to.Start(), Households: tasksOnly(p), Today: s.today(), Reader: p.VisitReader()}
		if nobody {
			return nil
		}
		err := s.store.VisitLedger(s.store.ReadsCurrent(ctx), f, func(row VisitLedgerRow) error {
			n++
			v := row.Visit
			// Typed cells: Excel sums the minutes and sorts by the days.
			var end, minutes, photo any
			if v.EndedAt != nil {
				end, minutes = ledger.Clock{Time: *v.EndedAt}, int(v.EndedAt.Sub(v.StartedAt).Minutes())
			}
			if row.FirstPhotoID != uuid.Nil && q.BaseURL != "" {
				photo = ledger.Link{Text: fmt.Sprintf("查看照片（%d张）", row.PhotoCount), URL: q.BaseURL + "/ui/photos/" + row.FirstPhotoID.String()}
			}
			kind, _ := domain.VisitKinds.Label(v.Kind)
			confirmed := ""
			if v.HouseholdConfirmed != nil {
				confirmed = "否"
				if *v.HouseholdConfirmed {
					confirmed = "是"
				}
			}
			return t.Row(n, row.TownName, row.VillageName, row.HouseholdNo, row.HeadName, povertyLabel(row.PovertyType), statusLabel(row.Status),
				row.CadreName, ledger.Day{Time: v.StartedAt}, ledger.Clock{Time: v.StartedAt}, end, minutes, kind, labels(domain.Measures, v.Measures),
				checklistText(v.Checklist), strings.Join(v.MetWith, "、"), confirmed, row.PhotoCount, photo, flagText(v.Flags), v.Notes,
				v.ReceivedAt)
		})
		return err
	}, ledger.SpillTo(s.spillDir), ledger.InPipeline())
	if err != nil {
		return Export{}, err
	}
	return Export{Filename: fileName("走访台账", r, per.Key(), f), ContentType: ledger.ContentType(f), Write: write}, nil
}

func labels(v domain.Vocabulary, codes []string) string {
	out := make([]string, 0, len(codes))
	for _, c := range codes {
		l, ok := v.Label(c)
		if !ok {
			l = c
		}
		out = append(out, l)
	}
	return strings.Join(out, "、")
}

// checklistText spells the 两不愁三保障 answers in the checklist's order:
// "不愁吃：已保障；住房安全有保障：存在问题（屋顶漏雨）".
func checklistText(c map[string]domain.ChecklistEntry) string {
	var parts []string
	for _, item := range domain.ChecklistItems {
		e, ok := c[item.Code]
		if !ok {
			continue
		}
		a, _ := domain.ChecklistAnswers.Label(e.Answer)
		part := item.Label + "：" + a
		if e.Note != "" {
			part += "（" + e.Note + "）"
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, "；")
}

func flagText(fs []domain.Flag) string {
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		if f.MessageZH != "" {
			out = append(out, f.MessageZH)
		} else if l, ok := evidence.FlagCodes.Label(f.Code); ok {
			out = append(out, l)
		}
	}
	return strings.Join(out, "；")
}

// MissedLedger is the missed-visit list (未按要求走访清单) of a region and
// period: every status in the asked states (default missed and overdue).
func (s *Service) MissedLedger(ctx context.Context, p domain.Principal, q ExportQuery) (Export, error) {
	if err := q.check(); err != nil {
		return Export{}, err
	}
	r, per, err := s.reportScope(ctx, p, q.ReportQuery)
	if err != nil {
		return Export{}, err
	}
	today := s.today()
	states := q.States
	if len(states) == 0 {
		states = []string{rules.StateMissed, rules.StateOverdue}
	}
	f := q.filter(p, r, per, today)
	f.States = states
	closed := ""
	if r.CountyID != nil && !q.Live {
		at, err := s.store.PeriodClose(ctx, *r.CountyID, per.Key())
		if err != nil {
			return Export{}, err
		}
		if at != nil {
			f.Frozen = true
			closed = " 已于" + domain.DateOf(*at).String() + "结账"
		}
	}
	cols := ledger.Columns([]string{"序号", "行政村", "户编号", "户主姓名", "帮扶干部", "规则", "期间", "应走访次数", "已计入次数", "差额", "截止日期", "状态", "说明"}, 6, 10, 14, 10, 10, 24, 12, 10, 10, 6, 12, 10, 80)
	subtitle := fmt.Sprintf("%s %s 截至%s%s", r.Name, per.LabelZH(), today, closed)
	fm := format(q)
	write, err := ledger.Stream(fm, "未走访清单", "未按要求走访清单", subtitle, cols, func(t ledger.Table) error {
		n := 0
		err := s.eachItem(s.reportReads(ctx, r, per, f), f, func(it ReportItem) error {
			n++
			st := it.Status
			label, _ := rules.States.Label(it.State)
			return t.Row(n, it.VillageName, it.HouseholdNo, it.HouseholdName, it.CadreName, st.RuleNameZH, st.Period.LabelZH(),
				st.Required, st.CountedN, st.Short(), ledger.Day{Time: st.DueOn.Start()}, label, st.ExplanationZH)
		})
		return err
	}, ledger.SpillTo(s.spillDir))
	if err != nil {
		return Export{}, err
	}
	return Export{Filename: fileName("未走访清单", r, per.Key(), fm), ContentType: ledger.ContentType(fm), Write: write}, nil
}

// eachItem calls fn with every status of the filter, a page at a time, in
// the report's order.
func (s *Service) eachItem(ctx context.Context, f ReportFilter, fn func(ReportItem) error) error {
	const page = 1000
	for off := 0; ; off += page {
		f.Limit, f.Offset = page, off
		items, _, err := s.store.ReportItems(ctx, f)
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := fn(it); err != nil {
				return err
			}
		}
		if len(items) < page {
			return nil
		}
	}
}
