package web

import (
	"cmp"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/casework"
	"github.com/fieldvisit/fieldvisit/internal/plans"
)

// The casework pages: the exit candidates of a region and year
// (casework.Service.ExitCandidates) with each indicator's reason, and on
// the household file the plan (plans.Service.HouseholdPlan), the income
// accounts by year and the procedures with their steps, where a
// supervisor starts an exit procedure and records its next step. The
// services decide who sees what, as for the API; the console only leaves
// the section out for inspectors, whose work is the sample, not the case.

// caseworkRoles open the candidates page: the procedures are supervisors'.
var caseworkRoles = []string{domain.RoleAdmin, domain.RoleSupervisor}

// candidatesPage is what templates/exit_candidates.html shows.
type candidatesPage struct {
	Form       filterForm
	Year       int
	Standard   string // the year's thresholds in words
	Total      int64
	Qualifying *int64 // of the whole list, every page; nil while being judged
	Self       string // this page's URL, asked again for a count being judged
	Candidates []candidateLine
	Pager      Pager
	Ledgers    []ledgerLink // the casework ledgers of the region and year
}

type candidateLine struct {
	URL, Number, Head, Village string
	PerCapita                  string // yuan, "—" without an account
	Qualifies                  bool
	Reasons                    []reasonItem
}

// reasonItem is one indicator as judged for one household.
type reasonItem struct {
	Name, Reason string
	Met, Pending bool
}

func (c *Console) exitCandidates(r *http.Request, s *session) (any, error) {
	ctx, p := r.Context(), s.principal
	q := r.URL.Query()
	this := domain.DateOf(c.deps.Now()).Year
	year, err := yearParam(r, this)
	if err != nil {
		return nil, err
	}
	region := p.RegionID
	if v := q.Get("region"); v != "" {
		if region, err = uuid.Parse(v); err != nil {
			return nil, domain.Invalid(domain.FieldError{Field: "region", Reason: "invalid", Message: "region must be a region id", MessageZH: "地区无效"})
		}
	}
	n := pageOf(r)
	cq := casework.CandidateQuery{RegionID: region, Year: year, Limit: listSize, Offset: (n - 1) * listSize}
	page, err := c.deps.Casework.ExitCandidatesPage(ctx, p, cq)
	if err != nil {
		return nil, err
	}
	cands, total, st := page.Candidates, page.Total, page.Standard
	out := candidatesPage{Year: year, Total: total, Qualifying: page.Qualifying, Self: r.URL.RequestURI(), Pager: listPager(*r.URL, n, listSize, total), Ledgers: caseworkLedgerLinks(q.Get("region"), year),
		Standard: "人均纯收入达到" + casework.Yuan(st.PerCapitaFen) + "元（连续" + strconv.Itoa(st.StableYears) + "年），并满足以下" + strconv.Itoa(len(st.Indicators)) + "项指标"}
	if out.Form, err = c.regionYearForm(r, s, "/ui/exit-candidates", "脱贫年度", year, this); err != nil {
		return nil, err
	}
	villages := c.regionNames(r, s)
	for _, cd := range cands {
		h := cd.Household
		line := candidateLine{URL: "/ui/households/" + h.ID.String(), Number: h.Number, Head: h.HeadName, Village: villages(h.VillageID),
			PerCapita: "—", Qualifies: cd.Qualifies}
		if cd.PerCapitaFen != nil {
			line.PerCapita = casework.Yuan(*cd.PerCapitaFen)
		}
		for _, re := range cd.Reasons {
			line.Reasons = append(line.Reasons, reasonItem{Name: re.NameZH, Reason: re.ReasonZH, Met: re.Met, Pending: re.Pending})
		}
		out.Candidates = append(out.Candidates, line)
	}
	return out, nil
}

// regionYearForm is the filter of a casework page: a town or village of
// the caller's, and one of the last three years.
func (c *Console) regionYearForm(r *http.Request, s *session, action, yearLabel string, year, this int) (filterForm, error) {
	region := r.URL.Query().Get("region")
	regions, err := c.regionChoices(r, s, domain.LevelTown, domain.LevelVillage)
	if err != nil {
		return filterForm{}, err
	}
	groups := []optionGroup{{Options: []option{{Value: "", Label: "本辖区全部", Selected: region == ""}}}}
	for _, g := range regions {
		g.Options = filterOptions(g.Options, region, "")
		groups = append(groups, g)
	}
	var years []option
	for y := this; y >= this-2; y-- {
		years = append(years, option{Value: strconv.Itoa(y), Label: strconv.Itoa(y) + "年", Selected: y == year})
	}
	return filterForm{Action: action, Selects: []selectField{{Name: "region", Label: "地区", Groups: groups},
		{Name: "year", Label: yearLabel, Groups: []optionGroup{{Options: years}}}}}, nil
}

// caseworkSection is the household file's casework: what the caller may
// see of it.
type caseworkSection struct {
	HouseholdID string
	CSRF        string
	Plan        Table
	Incomes     Table
	// Manages: the caller supervises the household, so sees and records
	// its procedures.
	Manages    bool
	Procedures []procedureView
	// Start is the form that opens an exit procedure; nil when one is
	// open or the household is not registered.
	Start *startForm
}

type startForm struct {
	form
	Years        []option
	Kinds        []option // a household's procedures its status allows; none for a village's exit
	PovertyTypes []option // when an identification is among them
}

// newStartForm is a start form for year, offering this year and the last;
// refused (the posted form is this one), it shows what was posted.
func newStartForm(year int, today domain.Date, posted *form, refused bool) *startForm {
	st := &startForm{form: form{Values: url.Values{"year": {strconv.Itoa(year)}}}}
	if posted != nil && refused {
		st.form = *posted
	}
	for y := today.Year; y >= today.Year-1; y-- {
		st.Years = append(st.Years, option{Value: strconv.Itoa(y), Label: strconv.Itoa(y) + "年", Selected: st.Value("year") == strconv.Itoa(y)})
	}
	return st
}

type procedureView struct {
	ID, Kind, Status string
	Action, CSRF     string // where the step form posts, with the session's token
	Open             bool
	Year             int
	Steps            Table
	Next             *stepForm
}

// stepForm records a step: the next one is chosen, the others are there
// so that a mistaken choice is refused by the service, in its words.
type stepForm struct {
	form
	Version   int64
	Steps     []option
	Confirm   []option // the exit village review's indicators to confirm
	Today     string
	NextLabel string
	// Ends is the question asked before the procedure's last step, which
	// changes the household's (or village's) status: it went through on
	// one click, where a slip marks a household 已脱贫 or 清退.
	Ends string
}

// procedureEnds says what the last step of a procedure kind does.
var procedureEnds = map[string]string{
	casework.KindExit: "该户即标记为已脱贫", casework.KindIdentification: "该户即纳入建档立卡",
	casework.KindRemoval: "该户即标记为清退", casework.KindVillageExit: "该村即标记为已出列",
}

// stepFields place the service's field pointers on the step form.
var stepFields = map[string]string{"done_on": "done_on", "note": "note", "document_ids": "document_ids", "document_ids/*": "document_ids",
	"photo_ids": "photo_ids", "confirmed": "confirmed", "step": "step", "version": "step"}

// casework builds the household's section; posted is a refused form
// (which: "start" or the procedure's id) shown again with its errors.
func (c *Console) casework(r *http.Request, s *session, h domain.Household, which string, posted *form) (*caseworkSection, error) {
	ctx, p := r.Context(), s.principal
	if p.Role == domain.RoleInspector || c.deps.Casework == nil || c.deps.Plans == nil {
		return nil, nil
	}
	out := &caseworkSection{HouseholdID: h.ID.String(), CSRF: s.csrf, Manages: p.Manages()}
	plan, err := c.deps.Plans.HouseholdPlan(ctx, p, h.ID)
	if err != nil {
		return nil, err
	}
	out.Plan = planTable(plan)
	accounts, err := c.deps.Casework.IncomeAccounts(ctx, p, h.ID)
	if err != nil {
		return nil, err
	}
	out.Incomes = incomeTable(accounts)
	if !out.Manages {
		return out, nil
	}
	prs, err := c.deps.Casework.HouseholdProcedures(ctx, p, h.ID)
	if err != nil {
		return nil, err
	}
	today := domain.DateOf(c.deps.Now())
	var open bool
	if out.Procedures, open, err = c.procedureViews(r, s, prs, today, which, posted); err != nil {
		return nil, err
	}
	if kinds := casework.KindsFrom(h.Status); !open && len(kinds) > 0 {
		st := newStartForm(today.Year, today, posted, which == "start")
		for _, k := range kinds {
			l, _ := casework.KindLabels.Label(k)
			st.Kinds = append(st.Kinds, option{Value: k, Label: l})
			if k == casework.KindIdentification {
				st.PovertyTypes = selected(vocabularyOptions(domain.PovertyTypes), st.form, "poverty_type")
			}
		}
		st.Kinds = selected(st.Kinds, st.form, "kind")
		out.Start = st
	}
	return out, nil
}

// procedureViews are a subject's procedures as the page shows them, the
// refused step form (which: its procedure's id) shown again; open says
// whether one is still open.
func (c *Console) procedureViews(r *http.Request, s *session, prs []casework.Procedure, today domain.Date, which string,
	posted *form) ([]procedureView, bool, error) {
	var out []procedureView
	open := false
	for _, pr := range prs {
		v, err := c.procedureView(r, s, pr, today)
		if err != nil {
			return nil, false, err
		}
		if v.Next != nil && posted != nil && which == v.ID {
			v.Next.form = refusedStep(pr, *posted)
		}
		open = open || v.Open
		out = append(out, v)
	}
	return out, open, nil
}

// refusedStep is a refused step form shown again: what the supervisor
// typed stays, but a step already recorded (the refusal said so, or
// another supervisor recorded it meanwhile), a step further on (the
// refusal says which comes first) or one not of this procedure gives way
// to the procedure's next step — left selected, one more click would be
// refused the same way. The next step itself stays as chosen: the refusal
// was about another field.
func refusedStep(pr casework.Procedure, posted form) form {
	at := slices.IndexFunc(casework.Kinds[pr.Kind], func(d casework.StepDef) bool { return d.Code == posted.Value("step") })
	if at == len(pr.Steps) {
		return posted
	}
	posted.Values = maps.Clone(posted.Values) // the caller's form stays as posted
	posted.Values.Set("step", pr.Next())
	return posted
}

func (c *Console) procedureView(r *http.Request, s *session, pr casework.Procedure, today domain.Date) (procedureView, error) {
	kind, _ := casework.KindLabels.Label(pr.Kind)
	v := procedureView{ID: pr.ID.String(), Kind: kind, Year: pr.Year, Open: pr.Status == casework.ProcedureOpen, Status: "已完成", CSRF: s.csrf,
		Action: "/ui/households/" + pr.HouseholdID.String() + "/procedures/" + pr.ID.String() + "/steps#casework",
		Steps:  Table{Head: []string{"步骤", "办理日期", "说明", "文件", "照片"}, Empty: "尚未记录任何步骤。"}}
	if pr.VillageID != uuid.Nil {
		v.Action = villageExitURL(pr.VillageID, "/procedures/"+pr.ID.String()+"/steps")
	}
	defs := casework.Kinds[pr.Kind]
	names := map[string]string{}
	for _, d := range defs {
		names[d.Code] = d.NameZH
	}
	for _, st := range pr.Steps {
		v.Steps.Rows = append(v.Steps.Rows, []Cell{textCell(names[st.Code]), textCell(formatDate(st.DoneOn)), textCell(st.Note),
			textCell(strings.Join(st.DocumentIDs, "、")), textCell(strconv.Itoa(len(st.PhotoIDs)) + "张")})
	}
	if !v.Open {
		return v, nil
	}
	next := pr.Next()
	v.Status = "进行中：下一步" + names[next]
	f := &stepForm{Version: pr.Version, Today: today.String(), NextLabel: names[next], form: form{Values: url.Values{"step": {next}}}}
	for _, d := range defs {
		f.Steps = append(f.Steps, option{Value: d.Code, Label: d.NameZH})
	}
	if last := defs[len(defs)-1]; next == last.Code {
		f.Ends = "记录“" + last.NameZH + "”后，" + strconv.Itoa(pr.Year) + "年" + kind + "程序即完成，" + procedureEnds[pr.Kind] + "。确定记录？"
	}
	if pr.Kind == casework.KindExit && next == defs[0].Code {
		st, err := c.deps.Casework.ExitStandardOf(r.Context(), s.principal, pr.Year)
		if err != nil {
			return v, err
		}
		for _, in := range st.Indicators {
			if in.Check == casework.CheckConfirmed {
				f.Confirm = append(f.Confirm, option{Value: in.Code, Label: in.NameZH})
			}
		}
	}
	v.Next = f
	return v, nil
}

func planTable(plan plans.Plan) Table {
	t := Table{Head: []string{"帮扶路径", "帮扶措施", "责任人", "目标日期", "状态", "最新进展"}, Empty: "尚未制定帮扶计划。"}
	for _, it := range plan.Items {
		state := label("plan_state", it.State)
		tone := ""
		if it.Overdue {
			state, tone = state+"（逾期）", "bad"
		}
		latest := "—"
		if len(it.Progress) > 0 {
			pg := it.Progress[0]
			latest = pg.StartedAt.In(domain.Shanghai).Format("2006-01-02") + " " + pg.Note
		}
		t.Rows = append(t.Rows, []Cell{textCell(label("plan_route", it.Route)), textCell(it.Measure), textCell(it.ResponsibleName),
			textCell(formatDate(it.TargetOn)), {Text: state, Tone: tone}, textCell(latest)})
	}
	return t
}

func incomeTable(accounts []casework.IncomeAccount) Table {
	head := []string{"年度"}
	for _, amount := range (casework.IncomeFields{}).Amounts() {
		head = append(head, amount.LabelZH)
	}
	t := Table{Head: append(head, "纯收入", "计算人数", "人均纯收入（测算）"), Empty: "尚无收入测算。",
		Caption: "金额单位：元。收入测算按年度：纯收入＝各项收入－生产经营费用，人均纯收入＝纯收入÷计算人数；上方“" + registeredIncomeLabel + "”是档案登记的全户数，不是测算结果。"}
	for _, a := range accounts {
		row := []Cell{{Text: strconv.Itoa(a.Year) + "年"}}
		for _, amount := range a.Amounts() {
			row = append(row, yuanCell(amount.Fen))
		}
		t.Rows = append(t.Rows, append(row, yuanCell(a.NetFen()), Cell{Text: strconv.Itoa(a.MembersCounted), Num: true}, yuanCell(a.PerCapitaFen())))
	}
	return t
}

func yuanCell(fen int64) Cell { return Cell{Text: casework.Yuan(fen), Num: true} }

func caseworkURL(householdID uuid.UUID) string {
	return "/ui/households/" + householdID.String() + "#casework"
}

// startProcedure opens a household's exit, identification or removal
// (casework.Service.StartProcedure), as its status allows.
var startProcedure = formPost{template: "household.html", which: "start", reload: (*Console).householdWith,
	fields: map[string]string{"kind": "kind", "year": "year", "reason": "reason", "poverty_type": "poverty_type"},
	call: func(c *Console, r *http.Request, s *session, f *form) (string, error) {
		id, err := householdID(r)
		if err != nil {
			return "", err
		}
		year := formInt(f, "year", "年度", 0)
		if f.Failed() {
			return "", nil
		}
		_, err = c.deps.Casework.StartProcedure(r.Context(), s.principal, id, casework.NewProcedure{Kind: cmp.Or(f.Value("kind"), casework.KindExit),
			Year: year, Reason: strings.TrimSpace(f.Value("reason")), PovertyType: f.Value("poverty_type")})
		return caseworkURL(id), err
	}}.handle

// recordStep records a household procedure's step (casework.Service.RecordStep); a
// refusal (out of order: 409; a bad date or missing document: 422) shows
// the household again with the service's message on the form.
func recordStep(c *Console, w http.ResponseWriter, r *http.Request, s *session) {
	fp := stepPost("household.html", (*Console).householdWith, func(pr casework.Procedure) uuid.UUID { return pr.HouseholdID }, caseworkURL)
	fp.which = r.PathValue("pid")
	fp.handle(c, w, r, s)
}

// stepPost is the step form of a procedure whose subject (its household
// or its village) is the route's {id}: reload draws the page again on a
// refusal, next is where a recorded step goes.
func stepPost(template string, reload func(c *Console, r *http.Request, s *session, which string, f *form) (any, error),
	subject func(casework.Procedure) uuid.UUID, next func(uuid.UUID) string) formPost {
	return formPost{template: template, fields: stepFields, reload: reload,
		call: func(c *Console, r *http.Request, s *session, f *form) (string, error) {
			id, err := pathUUID(r, "procedure")
			if err != nil {
				return "", err
			}
			pid, err := uuid.Parse(r.PathValue("pid"))
			if err != nil {
				return "", domain.NotFound("procedure")
			}
			in := casework.StepInput{Step: f.Value("step"), DoneOn: formDate(f, "done_on", "办理日期"), Note: strings.TrimSpace(f.Value("note")),
				DocumentIDs: idList(f.Value("document_ids")), Confirmed: f.Values["confirmed"], Version: int64(formInt(f, "version", "版本号", 0))}
			for _, v := range idList(f.Value("photo_ids")) {
				ph, err := uuid.Parse(v)
				if err != nil {
					f.add("photo_ids", "照片编号无效："+v)
					continue
				}
				in.PhotoIDs = append(in.PhotoIDs, ph)
			}
			if f.Failed() {
				return "", nil
			}
			pr, err := c.deps.Casework.Procedure(r.Context(), s.principal, pid)
			if err == nil && subject(pr) != id {
				err = domain.NotFound("procedure")
			}
			if err != nil {
				return "", err
			}
			_, err = c.deps.Casework.RecordStep(r.Context(), s.principal, pid, in)
			return next(id), err
		}}
}
