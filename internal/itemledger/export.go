package itemledger

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance/ledger"
)

// Export is a ledger ready to be written: its file name, and the writer
// that streams it (called once the caller was authorised and the query
// checked, so an error answer is still possible up to then).
type Export struct {
	Filename    string
	ContentType string
	Write       func(w io.Writer) error
}

// Ledger is the form of a kind's items p may see (整改台账): one line per
// item, oldest first, with the same scope and filters as Items.
func (s *Service) Ledger(ctx context.Context, p domain.Principal, q Query, format string) (Export, error) {
	sp, ok := specs[q.Kind]
	if !ok {
		return Export{}, domain.NotFound("ledger")
	}
	var fe domain.FieldErrors
	if format != "" && format != ledger.XLSX && format != ledger.CSV {
		fe.Add("format", "invalid_enum", "format must be xlsx or csv", "导出格式应为xlsx或csv")
	}
	f, err := s.filter(ctx, p, q, &fe)
	if err == nil {
		err = fe.Err()
	}
	if err != nil {
		return Export{}, err
	}
	if format == "" {
		format = ledger.XLSX
	}
	regionID := p.RegionID
	if q.RegionID != nil {
		regionID = *q.RegionID
	}
	region, err := s.store.Region(ctx, regionID)
	if err != nil {
		return Export{}, err
	}
	today := s.today()
	subtitle := region.Name
	if q.State != "" {
		label, _ := Statuses.Label(q.State)
		subtitle += " " + label
	}
	subtitle += " 制表日期：" + today.String()
	cols := ledger.Columns([]string{"序号", "乡镇", "行政村", "户编号", "户主", "问题", "来源", "责任人/单位", sp.deadlineLabel, "状态", "整改情况", "销号日期"},
		6, 10, 10, 14, 10, 40, 16, 20, 12, 12, 30, 12)
	write, err := ledger.Stream(format, sp.ledger, sp.ledger, subtitle, cols, func(t ledger.Table) error {
		const page = 1000
		n := 0
		for off := 0; ; off += page {
			f.Limit, f.Offset = page, off
			lines, _, err := s.store.LedgerItems(ctx, f)
			if err != nil {
				return err
			}
			for _, l := range lines {
				n++
				state, _ := Statuses.Label(l.State(today))
				var closed any
				if l.ClosedAt != nil {
					closed = ledger.Day{Time: *l.ClosedAt}
				}
				var deadline any
				if !l.Deadline.IsZero() {
					deadline = ledger.Day{Time: l.Deadline.Start()}
				}
				if err := t.Row(n, l.TownName, l.VillageName, l.HouseholdNumber, l.HeadName, l.Problem, source(l), l.Responsible(),
					deadline, state, l.Done(), closed); err != nil {
					return err
				}
			}
			if len(lines) < page {
				break
			}
		}
		return nil
	}, ledger.SpillTo(s.spillDir))
	if err != nil {
		return Export{}, err
	}
	return Export{Filename: fmt.Sprintf("%s-%s-%s.%s", sp.ledger, region.Name, today, format), ContentType: ledger.ContentType(format), Write: write}, nil
}

// source names where an item came from: its campaign, or the office.
func source(l Line) string {
	if l.CampaignName != "" {
		return l.CampaignName
	}
	return "日常督导"
}

// Responsible spells who answers for an item: 张三(县农业农村局).
func (l Line) Responsible() string {
	switch {
	case l.ResponsibleName != "" && l.UnitName != "":
		return l.ResponsibleName + "(" + l.UnitName + ")"
	case l.ResponsibleName != "":
		return l.ResponsibleName
	}
	return l.UnitName
}

// Done says in words what became of an item (the ledger's 整改情况): the
// evidence it was dealt with on, or why it was withdrawn (撤销) — a
// withdrawn item was not put right, so it shows its reason, not evidence.
func (l Line) Done() string {
	if l.Status == Withdrawn {
		return "已撤销：" + l.WithdrawReason
	}
	return l.Evidence.Summary()
}

// Summary sums up evidence in words: 走访记录1条、照片2张;说明.
func (e Evidence) Summary() string {
	var parts []string
	if n := len(e.VisitIDs); n > 0 {
		parts = append(parts, fmt.Sprintf("走访记录%d条", n))
	}
	if n := len(e.PhotoIDs); n > 0 {
		parts = append(parts, fmt.Sprintf("照片%d张", n))
	}
	out := strings.Join(parts, "、")
	if e.Note != "" {
		if out != "" {
			out += ";"
		}
		out += e.Note
	}
	return out
}
