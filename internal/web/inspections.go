package web

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance/ledger"
	"github.com/fieldvisit/fieldvisit/internal/inspect"
	"github.com/fieldvisit/fieldvisit/internal/inspect/sampling"
	"github.com/fieldvisit/fieldvisit/internal/registry"
)

// The inspections pages (督查): the campaigns the caller may see — an
// unannounced one stays hidden from the inspected town exactly as
// inspect.Campaign.VisibleTo decides, since every list and read goes
// through the service — a campaign's sample, findings progress and
// report, and the forms to create a campaign and draw its sample.

// inspectionRoles see the inspections pages; cadres see no campaign.
var inspectionRoles = []string{domain.RoleAdmin, domain.RoleSupervisor, domain.RoleInspector}

// listSize is how many rows a long list shows a page.
const listSize = 30

// option is one choice of a select or a set of checkboxes.
type option struct {
	Value, Label string
	Selected     bool
}

// optionGroup is a select's group of choices: regions of one level, or a
// filter's choices under an optgroup label ("" none).
type optionGroup struct {
	Level, Label string
	Options      []option
}

// vocabularyOptions are a vocabulary's terms as options, none selected.
func vocabularyOptions(v domain.Vocabulary) []option {
	out := make([]option, len(v))
	for i, t := range v {
		out[i] = option{Value: t.Code, Label: t.Label}
	}
	return out
}

type inspectionsPage struct {
	CSRF      string
	Campaigns Table
	Pager     Pager
	Create    *campaignForm // nil: the caller may not create campaigns
}

// campaignForm is the form that creates a campaign, with the plan's
// defaults (seed 001: 每镇抽查4个村, 每村贫困户和非贫困户各5户) filled in.
type campaignForm struct {
	form
	Regions    []optionGroup // counties, then towns
	Modes      []option
	Inspectors []option
	Strata     []option // the default plan's household strata: size_CODE fields
}

// campaignFields names the form fields of the service's field pointers.
var campaignFields = map[string]string{
	"plan/villages_per_town": "villages_per_town", "plan/exclude_last_campaigns": "exclude_last_campaigns",
	"plan/strata": "villages_per_town", "inspector_ids": "inspector_ids",
}

func init() {
	for i, st := range sampling.DefaultPlan().Strata {
		campaignFields[fmt.Sprintf("plan/strata/%d", i)] = "size_" + st.Code
	}
}

func (c *Console) inspections(r *http.Request, s *session) (any, error) {
	return c.inspectionsWith(r, s, "", nil)
}

// inspectionsWith is the list page, with the create form as posted
// (nil: the defaults).
func (c *Console) inspectionsWith(r *http.Request, s *session, _ string, posted *form) (any, error) {
	ctx, p := r.Context(), s.principal
	n := pageOf(r)
	items, total, err := c.deps.Inspect.Campaigns(ctx, p, inspect.CampaignQuery{Limit: listSize, Offset: (n - 1) * listSize})
	if err != nil {
		return nil, err
	}
	out := inspectionsPage{CSRF: s.csrf, Campaigns: Table{Head: []string{"督查名称", "督查范围", "方式", "状态", "督查期间", "抽样时间"}, Empty: "暂无您可查看的督查。"},
		Pager: listPager(*r.URL, n, listSize, int64(total))}
	names := c.regionNames(r, s)
	for _, camp := range items {
		mode, _ := inspect.Modes.Label(camp.Mode)
		status, _ := inspect.CampaignStatuses.Label(camp.Status)
		out.Campaigns.Rows = append(out.Campaigns.Rows, []Cell{{Text: camp.Name, Link: inspectionURL(camp.ID)}, textCell(names(camp.RegionID)),
			textCell(mode), {Text: status, Tone: map[string]string{inspect.StatusDrawn: "warn", inspect.StatusEnded: "good"}[camp.Status]},
			textCell(formatDate(camp.PeriodFrom) + " 至 " + formatDate(camp.PeriodTo)), textCell(formatDate(camp.DrawnAt))})
	}
	if p.Manages() {
		if out.Create, err = c.campaignForm(r, s, posted); err != nil {
			return out, err
		}
	}
	return out, nil
}

// regionNames names regions the caller may see, each read once.
func (c *Console) regionNames(r *http.Request, s *session) func(uuid.UUID) string {
	return readOnce(func(id uuid.UUID) (string, error) {
		reg, err := c.deps.Registry.Region(r.Context(), s.principal, id)
		return reg.Name, err
	})
}

// readOnce names ids by read, asking once per id; an id read cannot
// name (out of the caller's sight) is named "".
func readOnce(read func(uuid.UUID) (string, error)) func(uuid.UUID) string {
	seen := map[uuid.UUID]string{}
	return func(id uuid.UUID) string {
		if n, ok := seen[id]; ok {
			return n
		}
		n, err := read(id)
		if err != nil {
			n = ""
		}
		seen[id] = n
		return n
	}
}

func inspectionURL(id uuid.UUID) string { return "/ui/inspections/" + id.String() }

func (c *Console) campaignForm(r *http.Request, s *session, posted *form) (*campaignForm, error) {
	ctx, p := r.Context(), s.principal
	f := &campaignForm{Modes: vocabularyOptions(inspect.Modes)}
	if posted != nil {
		f.form = *posted
	} else {
		today := domain.DateOf(c.deps.Now())
		plan := inspect.DefaultPlan()
		f.Values = map[string][]string{"mode": {inspect.ModeAnnounced}, "period_from": {today.String()}, "period_to": {today.AddDays(30).String()},
			"villages_per_town": {fmt.Sprint(plan.VillagesPerTown)}, "exclude_last_campaigns": {fmt.Sprint(plan.ExcludeLastCampaigns)}}
		if plan.KeyPoorVillages {
			f.Values.Set("key_poor_villages", "on")
		}
		for _, st := range plan.Strata {
			f.Values.Set("size_"+st.Code, fmt.Sprint(st.Size))
		}
	}
	for _, st := range sampling.DefaultPlan().Strata {
		f.Strata = append(f.Strata, option{Value: "size_" + st.Code, Label: "每村" + stratumLabel(st.Code) + "户数"})
	}
	var err error
	if f.Regions, err = c.regionChoices(r, s, domain.LevelCounty, domain.LevelTown); err != nil {
		return nil, err
	}
	f.Regions, f.Modes = selectedGroups(f.Regions, f.form, "region_id"), selected(f.Modes, f.form, "mode")
	users, _, err := c.deps.Registry.Users(ctx, p, registry.UserQuery{Role: domain.RoleInspector}, registry.Page{Limit: 500})
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if u.Active {
			f.Inspectors = append(f.Inspectors, option{Value: u.ID.String(), Label: cmp.Or(u.DisplayName, u.Username)})
		}
	}
	return f, nil
}

func stratumLabel(code string) string {
	if l, ok := inspect.StratumLabels.Label(code); ok {
		return l
	}
	return map[string]string{sampling.StratumKeyVillage: "重点村（贫困村）", sampling.StratumSampledVillage: "抽样村"}[code]
}

// createCampaign takes the create form to inspect.Service.CreateCampaign;
// a refusal shows the form again with each field's error.
var createCampaign = formPost{template: "inspections.html", fields: campaignFields, reload: (*Console).inspectionsWith,
	call: func(c *Console, r *http.Request, s *session, f *form) (string, error) {
		plan := inspect.DefaultPlan()
		plan.VillagesPerTown = formInt(f, "villages_per_town", "每镇抽查村数", plan.VillagesPerTown)
		plan.ExcludeLastCampaigns = formInt(f, "exclude_last_campaigns", "排除近期督查次数", plan.ExcludeLastCampaigns)
		plan.KeyPoorVillages = f.Value("key_poor_villages") != ""
		for i, st := range plan.Strata {
			plan.Strata[i].Size = formInt(f, "size_"+st.Code, "每村抽查户数", st.Size)
		}
		in := inspect.NewCampaign{Name: f.Value("name"), Mode: f.Value("mode"), Plan: &plan,
			PeriodFrom: formDate(f, "period_from", "开始日期"), PeriodTo: formDate(f, "period_to", "结束日期")}
		if id := formUUID(f, "region_id", "督查范围"); id != nil {
			in.RegionID = *id
		}
		for _, v := range f.Values["inspector_ids"] {
			id, err := uuid.Parse(v)
			if err != nil {
				f.add("inspector_ids", "督查人员无效")
				continue
			}
			in.Inspectors = append(in.Inspectors, id)
		}
		if f.Failed() {
			return "", nil
		}
		camp, err := c.deps.Inspect.CreateCampaign(r.Context(), s.principal, in)
		return inspectionURL(camp.ID), err
	}}.handle

// pageNamed is the pages entry drawn from template name.
func pageNamed(template string) page {
	i := slices.IndexFunc(pages, func(pg page) bool { return pg.template == template })
	return pages[i]
}

// pageAt is the page served at pattern.
func pageAt(pattern string) page {
	i := slices.IndexFunc(pages, func(pg page) bool { return pg.pattern == pattern })
	return pages[i]
}

// inspectionPage is what templates/inspection.html shows of a campaign.
type inspectionPage struct {
	CSRF         string
	Campaign     inspect.Campaign
	Plan         string // the sampling plan in words
	Mode, Status string
	Region       string
	Inspectors   string
	Draw         *form // the draw form, for a manager while the campaign is planned
	Verification *inspect.Verification
	Sample       *sampleSection
	Report       *reportSection
}

type sampleSection struct {
	Villages   Table
	Households Table
	Pager      Pager
	Shortfalls Table
}

type reportSection struct {
	Coverage       []stat
	Opinion        []stat
	Scores         Table
	Paper          Table
	Rectifications inspect.RectificationCounts
}

func (c *Console) inspection(r *http.Request, s *session) (any, error) {
	return c.inspectionWith(r, s, nil, nil)
}

// drawnWith is the campaign page with the draw form refused.
func (c *Console) drawnWith(r *http.Request, s *session, _ string, draw *form) (any, error) {
	return c.inspectionWith(r, s, draw, nil)
}

func (c *Console) inspectionWith(r *http.Request, s *session, draw *form, v *inspect.Verification) (inspectionPage, error) {
	ctx, p := r.Context(), s.principal
	id, err := pathUUID(r, "inspection")
	if err != nil {
		return inspectionPage{}, err
	}
	camp, err := c.deps.Inspect.Campaign(ctx, p, id)
	if err != nil {
		return inspectionPage{}, err
	}
	out := inspectionPage{CSRF: s.csrf, Plan: planText(camp.Plan), Campaign: camp, Region: c.regionNames(r, s)(camp.RegionID), Verification: v}
	out.Mode, _ = inspect.Modes.Label(camp.Mode)
	out.Status, _ = inspect.CampaignStatuses.Label(camp.Status)
	var names []string
	for _, uid := range camp.Inspectors {
		if u, err := c.deps.Registry.User(ctx, p, uid); err == nil {
			names = append(names, cmp.Or(u.DisplayName, u.Username))
		}
	}
	out.Inspectors = fmt.Sprintf("%d人", len(camp.Inspectors))
	if len(names) > 0 {
		out.Inspectors = strings.Join(names, "、")
	}
	if camp.Status == inspect.StatusPlanned {
		if p.Manages() {
			out.Draw = cmp.Or(draw, &form{})
		}
		return out, nil
	}
	rep, err := c.deps.Inspect.Report(ctx, p, id)
	if err != nil {
		return out, err
	}
	out.Sample = sampleOf(r, rep)
	out.Report = reportOf(rep)
	return out, nil
}

// sampleOf lays out the drawn sample: villages with their strata and
// progress, households by village and stratum (a page at a time), and the
// shortfalls the draw reported.
func sampleOf(r *http.Request, rep inspect.Report) *sampleSection {
	names := rep.Names
	type progress struct{ drawn, done map[string]int }
	byVillage := map[uuid.UUID]*progress{}
	for _, h := range rep.Sample.Households {
		pr := byVillage[h.VillageID]
		if pr == nil {
			pr = &progress{drawn: map[string]int{}, done: map[string]int{}}
			byVillage[h.VillageID] = pr
		}
		pr.drawn[h.Stratum]++
		if h.DoneAt != nil {
			pr.done[h.Stratum]++
		}
	}
	var strata []string
	for _, st := range rep.Campaign.Plan.Strata {
		strata = append(strata, st.Code)
	}
	sec := &sampleSection{Villages: Table{Head: []string{"乡镇", "行政村", "村类别"}, Empty: "未抽中任何村。"},
		Shortfalls: Table{Head: []string{"乡镇", "行政村", "类别", "应抽", "实有"}, Empty: "各类样本均已抽足。"}}
	for _, st := range strata {
		sec.Villages.Head = append(sec.Villages.Head, stratumLabel(st)+"（已查/抽中）")
	}
	villages := slices.Clone(rep.Sample.Villages)
	slices.SortStableFunc(villages, func(a, b sampling.DrawnVillage) int {
		return cmp.Or(cmp.Compare(names[a.TownID], names[b.TownID]), cmp.Compare(names[a.ID], names[b.ID]))
	})
	for _, v := range villages {
		row := []Cell{textCell(names[v.TownID]), textCell(names[v.ID]), textCell(stratumLabel(v.Stratum))}
		pr := byVillage[v.ID]
		for _, st := range strata {
			cell := Cell{Text: "0/0", Num: true}
			if pr != nil {
				cell.Text = fmt.Sprintf("%d/%d", pr.done[st], pr.drawn[st])
				if pr.done[st] == pr.drawn[st] && pr.drawn[st] > 0 {
					cell.Tone = "good"
				}
			}
			row = append(row, cell)
		}
		sec.Villages.Rows = append(sec.Villages.Rows, row)
	}
	for _, sf := range rep.Campaign.Shortfalls {
		village := "（全镇）"
		if sf.VillageID != nil {
			village = names[*sf.VillageID]
		}
		sec.Shortfalls.Rows = append(sec.Shortfalls.Rows, []Cell{textCell(names[sf.TownID]), textCell(village), textCell(stratumLabel(sf.Stratum)),
			numCell(int64(sf.Wanted)), {Text: fmt.Sprint(sf.Found), Num: true, Tone: "bad"}})
	}
	households := slices.Clone(rep.Sample.Households)
	slices.SortStableFunc(households, func(a, b inspect.SampledHousehold) int {
		return cmp.Or(cmp.Compare(names[a.TownID], names[b.TownID]), cmp.Compare(names[a.VillageID], names[b.VillageID]),
			cmp.Compare(slices.Index(strata, a.Stratum), slices.Index(strata, b.Stratum)))
	})
	n := pageOf(r)
	sec.Pager = listPager(*r.URL, n, listSize, int64(len(households)))
	sec.Households = Table{Head: []string{"乡镇", "行政村", "抽样类别", "户编号", "户主", "核查"}, Empty: "样本中没有农户。"}
	for _, h := range households[min((n-1)*listSize, len(households)):min(n*listSize, len(households))] {
		hh := rep.Households[h.HouseholdID]
		done := Cell{Text: "未核查", Tone: "warn"}
		if h.DoneAt != nil {
			done = Cell{Text: "已核查 " + formatDate(h.DoneAt), Tone: "good"}
		}
		sec.Households.Rows = append(sec.Households.Rows, []Cell{textCell(names[h.TownID]), textCell(names[h.VillageID]), textCell(stratumLabel(h.Stratum)),
			textCell(hh.Number), textCell(hh.HeadName), done})
	}
	return sec
}

// paperShown bounds the report's tables on the page; the XLSX has all.
const paperShown = 20

func reportOf(rep inspect.Report) *reportSection {
	cov, ov := rep.Coverage, rep.Opinion.Overall
	rateStat := func(r *float64, target float64, what string) stat {
		if r == nil {
			return stat{Value: "—", Label: what + "（目标" + formatRate(target) + "）", Tone: "none"}
		}
		tone := "good"
		if *r < target {
			tone = "bad"
		}
		return stat{Value: formatRate(*r), Label: what + "（目标" + formatRate(target) + "）", Tone: tone}
	}
	sec := &reportSection{Rectifications: rep.Rectifications,
		Coverage: []stat{newStat(cov.Households, "抽查农户", ""), newStat(cov.Done, "已核查农户", rateTone(share(cov.Done, cov.Households))),
			newStat(len(cov.Villages), "抽查村", ""), newStat(cov.VillagesDone, "已填村级核查表", "")},
		Opinion: []stat{rateStat(ov.SatisfactionRate, rep.Targets.Satisfaction, "群众满意率"), rateStat(ov.AwarenessRate, rep.Targets.Awareness, "政策知晓率")},
		Scores:  Table{Head: []string{"乡镇", "行政村", "户编号", "户主", "帮扶干部", "差异分值", "疑似纸上帮扶"}, Empty: "尚无已核查的农户。"},
		Paper:   Table{Head: []string{"户编号", "户主", "帮扶干部", "差异分值", "原因"}, Empty: "未发现疑似纸上帮扶的走访。"}}
	cadre := func(sc inspect.HouseholdScore) string {
		if sc.CadreID == nil {
			return "（无结对干部）"
		}
		return rep.Names[*sc.CadreID]
	}
	for _, sc := range rep.Scores[:min(paperShown, len(rep.Scores))] {
		hh := rep.Households[sc.HouseholdID]
		paper := textCell("否")
		if sc.LikelyPaper {
			paper = Cell{Text: "是", Tone: "bad"}
		}
		sec.Scores.Rows = append(sec.Scores.Rows, []Cell{textCell(rep.Names[sc.TownID]), textCell(rep.Names[sc.VillageID]), textCell(hh.Number),
			textCell(hh.HeadName), textCell(cadre(sc)), numCell(int64(sc.Points)), paper})
	}
	paper := rep.LikelyPaper()
	for _, sc := range paper[:min(paperShown, len(paper))] {
		hh := rep.Households[sc.HouseholdID]
		var reasons []string
		for _, rs := range sc.Reasons {
			reasons = append(reasons, rs.MessageZH)
		}
		sec.Paper.Rows = append(sec.Paper.Rows, []Cell{textCell(hh.Number), textCell(hh.HeadName), textCell(cadre(sc)), numCell(int64(sc.Points)),
			textCell(strings.Join(reasons, "；"))})
	}
	return sec
}

// planText says a plan in a sentence: 每镇4个村（贫困村全部抽查），贫困户每村5户…
func planText(p inspect.Plan) string {
	out := fmt.Sprintf("每镇%d个村", p.VillagesPerTown)
	if p.KeyPoorVillages {
		out += "（贫困村全部抽查）"
	}
	for _, st := range p.Strata {
		out += fmt.Sprintf("，%s每村%d户", stratumLabel(st.Code), st.Size)
	}
	if p.ExcludeLastCampaigns > 0 {
		out += fmt.Sprintf("；排除近%d次督查已抽农户", p.ExcludeLastCampaigns)
	}
	return out
}

// share is n of total, -1 when total is 0.
func share(n, total int) float64 {
	if total == 0 {
		return -1
	}
	return float64(n) / float64(total)
}

// drawSample draws the campaign's sample (inspect.Service.Draw), with the
// seed typed or a fresh one.
var drawSample = formPost{template: "inspection.html", reload: (*Console).drawnWith,
	call: func(c *Console, r *http.Request, s *session, f *form) (string, error) {
		id, err := pathUUID(r, "inspection")
		if err != nil {
			return "", err
		}
		_, err = c.deps.Inspect.Draw(r.Context(), s.principal, id, strings.TrimSpace(f.Value("seed")))
		return inspectionURL(id), err
	}}.handle

// verifySample draws again with the stored seed (inspect.Service.Verify)
// and shows the campaign with the answer.
func (c *Console) verifySample(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := pathUUID(r, "inspection")
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	v, err := c.deps.Inspect.Verify(r.Context(), s.principal, id)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	data, err := c.inspectionWith(r, s, nil, &v)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.show(w, r, s, pageNamed("inspection.html"), http.StatusOK, data)
}

// inspectionReportXLSX downloads the campaign's report as the API's
// format=xlsx does: the same function, the same caller.
func (c *Console) inspectionReportXLSX(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := pathUUID(r, "inspection")
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	ex, err := c.deps.Inspect.ReportExport(r.Context(), s.principal, id, ledger.XLSX)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.download(w, s, ex.ContentType, ex.Filename, ex.Write)
}
