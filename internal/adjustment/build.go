package adjustment

import (
	"context"
	"fmt"
	"sort"
	"strconv"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/casework"
)

// NewBatch is the input for building a batch.
type NewBatch struct {
	RegionID uuid.UUID
	Year     int
}

// DefaultIdentificationType is the poverty type an edge household is
// proposed for registration with — a design choice: the candidate lists
// hold no type, 一般贫困户 is the common case, and a spreadsheet row can
// name another.
const DefaultIdentificationType = domain.PovertyOrdinary

// candidatePage is how many exit candidates are judged at a time.
const candidatePage = 500

// Build makes a batch for a town or county the caller supervises and a
// year, from the candidate lists: the households that qualify for exit
// (exit), edge households and households an inspection found missed
// (identification), households an inspection found wrongly registered
// (removal), and registered or relapsed households with nobody paired
// (repairing). A household with an open procedure is left out of the
// procedure kinds: it is in one already.
func (s *Service) Build(ctx context.Context, p domain.Principal, in NewBatch) (Batch, error) {
	if !p.Manages() {
		return Batch{}, domain.Forbidden()
	}
	today := s.today()
	var fe domain.FieldErrors
	region, err := s.store.RegionWithin(ctx, p.RegionPath, in.RegionID)
	switch {
	case domain.IsCode(err, domain.CodeNotFound):
		fe.Add("/region_id", "unknown", "region not found", "区划不存在")
	case err != nil:
		return Batch{}, err
	case region.Level != domain.LevelTown && region.Level != domain.LevelCounty || region.CountyID == nil:
		fe.Add("/region_id", "invalid", "an adjustment round is for a town or a county", "动态调整以乡镇或县为单位")
	}
	if in.Year < domain.FirstYear || in.Year > today.Year {
		fe.Add("/year", "out_of_range", fmt.Sprintf("year must be between %d and this year", domain.FirstYear),
			fmt.Sprintf("年度应在%d年至今年之间", domain.FirstYear))
	}
	if err := fe.Err(); err != nil {
		return Batch{}, err
	}
	now := s.now().UTC()
	b := Batch{ID: uuid.New(), CountyID: *region.CountyID, RegionID: region.ID, RegionName: region.Name, RegionPath: region.Path, Year: in.Year,
		Status: BatchOpen, CreatedBy: p.UserID, CreatedAt: now, UpdatedAt: now}
	items, err := s.proposals(ctx, p, b, today)
	if err != nil {
		return Batch{}, err
	}
	if err := s.store.CreateBatch(ctx, b, items, batchAudit(p, b, "create", map[string]any{"items": len(items)})); err != nil {
		if domain.Reason(err) == "duplicate" {
			return Batch{}, &domain.Error{Code: domain.CodeConflict, Reason: "open_batch", Message: "the region has an open adjustment batch for this year",
				MessageZH: "该区域本年度已有未关闭的调整批次"}
		}
		return Batch{}, err
	}
	return s.Batch(ctx, p, b.ID)
}

// proposals reads the candidate lists of the batch's region.
func (s *Service) proposals(ctx context.Context, p domain.Principal, b Batch, today domain.Date) ([]Item, error) {
	busy, err := s.store.OpenProcedureHouseholds(ctx, b.RegionPath)
	if err != nil {
		return nil, err
	}
	var items []Item
	seen := map[uuid.UUID]map[string]bool{}
	add := func(h domain.Household, kind, reason string, evidence []string, edit func(*Item)) {
		if seen[h.ID][kind] || kind != KindRepairing && busy[h.ID] {
			return
		}
		if seen[h.ID] == nil {
			seen[h.ID] = map[string]bool{}
		}
		seen[h.ID][kind] = true
		it := Item{ID: uuid.New(), BatchID: b.ID, CountyID: h.CountyID, Seq: len(items) + 1, HouseholdID: h.ID, HouseholdNumber: h.Number, HeadName: h.HeadName,
			Kind: kind, Source: SourceCandidates, Reason: reason, Evidence: evidence, HouseholdVersion: h.Version, State: StatePending, CreatedAt: b.CreatedAt}
		if edit != nil {
			edit(&it)
		}
		items = append(items, it)
	}

	// Exits: the households that qualify against the year's standard.
	for offset := 0; ; offset += candidatePage {
		cs, total, _, err := s.exits.ExitCandidates(ctx, p, casework.CandidateQuery{RegionID: b.RegionID, Year: b.Year, Limit: candidatePage, Offset: offset})
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			if !c.Qualifies {
				continue
			}
			ev := make([]string, 0, len(c.Reasons))
			for _, r := range c.Reasons {
				ev = append(ev, r.NameZH+"："+r.ReasonZH)
			}
			add(c.Household, KindExit, "达到"+strconv.Itoa(b.Year)+"年度脱贫标准，建议启动脱贫退出程序（两公示一公告）", ev, nil)
		}
		if len(cs) == 0 || int64(offset+len(cs)) >= total {
			break
		}
	}

	// Findings: 漏评 → identification, 错评 → removal (回头看).
	findings, err := s.store.IdentificationFindings(ctx, b.RegionPath)
	if err != nil {
		return nil, err
	}
	for _, f := range findings {
		h, err := s.store.Household(ctx, p.HouseholdScope(), today, f.HouseholdID)
		if domain.IsCode(err, domain.CodeNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		ev := []string{f.RecordedAt.In(domain.Shanghai).Format("2006-01-02") + " " + f.CampaignName + "入户核查"}
		switch {
		case f.Choice == "wrongly_registered" && h.Status == domain.StatusRegistered:
			add(h, KindRemoval, "督查核查认定不符合条件被纳入（错评），建议回头看后清退", append(ev, "精准识别：不符合条件被纳入（错评）"), nil)
		case f.Choice == "should_register" && (h.Status == domain.StatusGeneral || h.Status == domain.StatusEdge):
			add(h, KindIdentification, "督查核查认定符合条件未纳入（漏评），建议按程序识别纳入", append(ev, "精准识别：符合条件未纳入（漏评）"),
				func(it *Item) { it.PovertyType = DefaultIdentificationType })
		}
	}

	// Edge households: proposed for registration.
	edge, err := s.all(ctx, p, b, today, domain.StatusEdge, false)
	if err != nil {
		return nil, err
	}
	for _, h := range edge {
		add(h, KindIdentification, "边缘户（边缘易致贫户），建议入户核查后按程序识别纳入", []string{"当前状态：边缘户"},
			func(it *Item) { it.PovertyType = DefaultIdentificationType })
	}

	// Nobody paired: the village's cadre with the fewest households.
	var unpaired []domain.Household
	for _, st := range []string{domain.StatusRegistered, domain.StatusRelapsed} {
		hs, err := s.all(ctx, p, b, today, st, true)
		if err != nil {
			return nil, err
		}
		unpaired = append(unpaired, hs...)
	}
	load := map[uuid.UUID]int{} // proposed in this batch, so proposals spread
	for _, h := range unpaired {
		c, ok, err := s.leastLoaded(ctx, h, load)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		load[c.ID]++
		status, _ := domain.Statuses.Label(h.Status)
		add(h, KindRepairing, "建议由"+c.DisplayName+"结对帮扶（本村帮扶户最少的干部）",
			[]string{"当前状态：" + status + "，无帮扶责任人", c.DisplayName + "现帮扶" + strconv.Itoa(c.Households) + "户"}, func(it *Item) {
				id := c.ID
				it.CadreID, it.CadreName = &id, c.DisplayName
			})
	}
	return items, nil
}

// all lists every household of a status in the batch's region.
func (s *Service) all(ctx context.Context, p domain.Principal, b Batch, today domain.Date, status string, unpaired bool) ([]domain.Household, error) {
	var out []domain.Household
	for offset := 0; ; offset += candidatePage {
		hs, total, err := s.store.Households(ctx, domain.HouseholdFilter{Scope: p.HouseholdScope(), Today: today, WithinPath: b.RegionPath, Status: status,
			Unpaired: unpaired, Limit: candidatePage, Offset: offset})
		if err != nil {
			return nil, err
		}
		out = append(out, hs...)
		if len(hs) == 0 || int64(offset+len(hs)) >= total {
			return out, nil
		}
	}
}

// leastLoaded is the cadre proposed for an unpaired household — a design
// choice: among the active cadres of the household's own village (the
// deepest region holding it), the one with the fewest households paired
// now and proposed in this batch, then by name; false when the village
// has no cadre.
func (s *Service) leastLoaded(ctx context.Context, h domain.Household, proposed map[uuid.UUID]int) (Cadre, bool, error) {
	cs, err := s.store.PairableCadres(ctx, h.CountyID, h.ID)
	if err != nil || len(cs) == 0 {
		return Cadre{}, false, err
	}
	deepest := cs[0].RegionPath
	var near []Cadre
	for _, c := range cs {
		if c.RegionPath == deepest {
			near = append(near, c)
		}
	}
	sort.SliceStable(near, func(i, j int) bool {
		li, lj := near[i].Households+proposed[near[i].ID], near[j].Households+proposed[near[j].ID]
		if li != lj {
			return li < lj
		}
		return near[i].DisplayName < near[j].DisplayName
	})
	return near[0], true, nil
}
