package compliance

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance/ledger"
	"github.com/fieldvisit/fieldvisit/internal/compliance/rules"
)

// ProgressWindow is the days a progress report's visit columns count:
// within one period, From and To both included.
type ProgressWindow struct {
	Period   rules.Period
	From, To domain.Date
}

// progressWindow resolves the period and days of a progress report. With
// neither from nor to the days are the period so far. Given days and no
// period, the period is the shortest month, quarter or year that holds
// them, so "from=2026-11-01&to=2026-11-15" is November's first half.
func (s *Service) progressWindow(q ExportQuery) (ProgressWindow, error) {
	var fe domain.FieldErrors
	var days []domain.Date
	for _, d := range []*domain.Date{q.From, q.To} {
		if d != nil {
			days = append(days, *d)
		}
	}
	var per rules.Period
	if q.Period == "" && len(days) > 0 {
		var ok bool
		if per, ok = periodHolding(days); !ok {
			fe.Add("to", "out_of_range", "from and to must fall within one year, or name the period", "开始日期和结束日期应在同一年内")
			return ProgressWindow{}, fe.Err()
		}
	} else if per = s.period(&fe, q.Period); fe.Err() != nil {
		return ProgressWindow{}, fe.Err()
	}
	w := ProgressWindow{Period: per, From: per.Start, To: per.Last()}
	if today := s.today(); per.Contains(today) {
		w.To = today
	}
	for _, d := range []struct {
		field string
		day   *domain.Date
		into  *domain.Date
	}{{"from", q.From, &w.From}, {"to", q.To, &w.To}} {
		if d.day == nil {
			continue
		}
		if !per.Contains(*d.day) {
			fe.Add(d.field, "out_of_range", d.field+" lies outside the period "+per.Key(), "日期不在统计期间（"+per.LabelZH()+"）内")
			continue
		}
		*d.into = *d.day
	}
	if fe.Err() == nil && w.To.Before(w.From) {
		fe.Add("from", "out_of_range", "from is after the last day of the report", "开始日期晚于统计截止日期")
	}
	return w, fe.Err()
}

// periodHolding is the shortest month, quarter or year holding every day.
func periodHolding(days []domain.Date) (rules.Period, bool) {
	for _, window := range []string{rules.WindowMonth, rules.WindowQuarter, rules.WindowYear} {
		per, _ := rules.PeriodOf(window, days[0])
		if !slices.ContainsFunc(days, func(d domain.Date) bool { return !per.Contains(d) }) {
			return per, true
		}
	}
	return rules.Period{}, false
}

// WindowCounts are a group's figures for a progress window, read from the
// counted visits each status lists, so no visit is judged twice.
type WindowCounts struct {
	Reached   int64 // statuses with a counted visit within the window
	Visits    int64 // counted visits within the window, summed over statuses
	MetAtLast int64 // statuses whose counted visits up to the window's last day meet what they require
}

func (c *WindowCounts) add(st rules.Status, w ProgressWindow) {
	within, upToLast := 0, 0
	for _, v := range st.Counted {
		if v.On.After(w.To) {
			continue
		}
		upToLast++
		if !v.On.Before(w.From) {
			within++
		}
	}
	c.Visits += int64(within)
	if within > 0 {
		c.Reached++
	}
	if upToLast >= st.Required {
		c.MetAtLast++
	}
}

// Progress is the progress report (走访进度表) of a region: the missed-visit
// report's counts as of today, with each group's figures for the window.
type Progress struct {
	Report
	Window ProgressWindow
	// ByChild and ByCadre hold the window's figures by the id of a child
	// region and of a cadre (uuid.Nil: the statuses with none), as Regions
	// and Cadres the counts; Overall the region's.
	ByChild map[uuid.UUID]WindowCounts
	ByCadre map[uuid.UUID]WindowCounts
	Overall WindowCounts
}

// addTo adds a status to the figures of the group id names.
func addTo(groups map[uuid.UUID]WindowCounts, id *uuid.UUID, st rules.Status, w ProgressWindow) {
	key := uuid.Nil
	if id != nil {
		key = *id
	}
	c := groups[key]
	c.add(st, w)
	groups[key] = c
}

// Progress builds the progress report of a region for a period and window
// (ExportQuery.From and To): the counts by state as of today (or the
// period's frozen close), and by the window's days, statuses that got a
// counted visit, the counted visits, and statuses met by its last day —
// run on the 15th over the month so far it is the 半月报.
func (s *Service) Progress(ctx context.Context, p domain.Principal, q ExportQuery) (Progress, error) {
	if err := q.check(); err != nil {
		return Progress{}, err
	}
	w, err := s.progressWindow(q)
	if err != nil {
		return Progress{}, err
	}
	q.Period, q.States, q.Limit, q.Offset = w.Period.Key(), nil, 1, 0
	rep, err := s.Missed(ctx, p, q.ReportQuery)
	if err != nil {
		return Progress{}, err
	}
	out := Progress{Report: rep, Window: w, ByChild: map[uuid.UUID]WindowCounts{}, ByCadre: map[uuid.UUID]WindowCounts{}}
	f := q.filter(p, rep.Region, rep.Period, rep.Today)
	f.Frozen = rep.ClosedAt != nil
	byTown := childGrouping(rep.Region) == ByTown
	err = s.eachItem(ctx, f, func(it ReportItem) error {
		out.Overall.add(it.Status, w)
		child := it.VillageID
		if byTown {
			child = it.TownID
		}
		addTo(out.ByChild, child, it.Status, w)
		addTo(out.ByCadre, it.CadreID, it.Status, w)
		return nil
	})
	return out, err
}

// childGrouping is how a report splits its region: a county or above by
// town, a town or village by village.
func childGrouping(r domain.Region) Grouping {
	if r.Level == domain.LevelCounty || r.Level == domain.LevelCity || r.Level == domain.LevelProvince {
		return ByTown
	}
	return ByVillage
}

// ProgressLedger is the progress report as a 台账: one line per child
// region (town or village), then per cadre, with the totals.
func (s *Service) ProgressLedger(ctx context.Context, p domain.Principal, q ExportQuery) (Export, error) {
	prog, err := s.Progress(ctx, p, q)
	if err != nil {
		return Export{}, err
	}
	rep, w := prog.Report, prog.Window
	cols := ledger.Columns([]string{"单位", "名称", "应走访户次", "已达标", "进度正常", "即将到期", "进度落后", "未完成", "达标率", "应走访次数", "已计入次数",
		"时段内有走访", "时段内计入次数", "时段末已达标"}, 16, 14, 10, 8, 8, 8, 8, 8, 8, 10, 10, 12, 14, 12)
	subtitle := fmt.Sprintf("%s %s 截至%s 时段：%s至%s", rep.Region.Name, rep.Period.LabelZH(), rep.Today, w.From, w.To)
	if rep.ClosedAt != nil {
		subtitle += " 已于" + domain.DateOf(*rep.ClosedAt).String() + "结账"
	}
	fm := format(q)
	write, err := ledger.Stream(fm, "走访进度", "帮扶走访进度统计表", subtitle, cols, func(t ledger.Table) error {
		line := func(kind, name string, c StateCounts, wc WindowCounts) error {
			var rate any
			if c.Total > 0 {
				rate = ledger.Percent(float64(c.Met) / float64(c.Total))
			}
			return t.Row(kind, name, c.Total, c.Met, c.OnTrack, c.DueSoon, c.Overdue, c.Missed, rate, c.Required, c.Counted,
				wc.Reached, wc.Visits, wc.MetAtLast)
		}
		group := func(kind string, g GroupCounts, window map[uuid.UUID]WindowCounts) error {
			id, _ := uuid.Parse(g.ID) // "" (none) reads as uuid.Nil
			return line(kind, g.Name, g.StateCounts, window[id])
		}
		childKind := "行政村"
		if childGrouping(rep.Region) == ByTown {
			childKind = "乡镇"
		}
		groups := slices.Clone(rep.Regions)
		slices.SortFunc(groups, func(a, b GroupCounts) int { return strings.Compare(a.Name, b.Name) })
		for _, g := range groups {
			if err := group(childKind, g, prog.ByChild); err != nil {
				return err
			}
		}
		for _, g := range rep.Cadres {
			if err := group("帮扶干部", g, prog.ByCadre); err != nil {
				return err
			}
		}
		if err := line("合计", rep.Region.Name, rep.Total, prog.Overall); err != nil {
			return err
		}
		return nil
	}, ledger.SpillTo(s.spillDir))
	if err != nil {
		return Export{}, err
	}
	return Export{Filename: fileName("走访进度", rep.Region, rep.Period.Key(), fm), ContentType: ledger.ContentType(fm), Write: write}, nil
}
