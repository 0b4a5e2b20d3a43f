package web

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance/rules"
	"github.com/fieldvisit/fieldvisit/internal/photos/evidence"
	fvsync "github.com/fieldvisit/fieldvisit/sync"
	"github.com/fieldvisit/fieldvisit/wire"
)

// The household file (一户一档) at /ui/households/{id}: the register's
// file (registry.HouseholdFile: members with ID numbers masked as the API
// masks them, status and poverty-type histories, every pairing, ended
// ones too), the year's
// compliance statuses (compliance.Timeline), and the visit timeline
// (sync.Visits, newest first, paged, searchable by notes) where each visit
// says, from the same timeline, for which rules it counted and why not
// for the others. Photos are served through /ui/photos/… (photos.go),
// which asks the photos service with the caller, so scope applies to the
// bytes too. assets/household.js draws each visit's GPS fix against the
// home point and opens full-size photos.

// visitsPerPage keeps the page light on a slow intranet: a household has
// about a dozen visits a year.
const visitsPerPage = 10

// householdPage is what templates/household.html shows.
type householdPage struct {
	ID      string
	Head    string
	Facts   []fact
	Members Table
	// Masked says the ID numbers are shown masked, for the caller's role.
	Masked         bool
	StatusHistory  Table
	PovertyHistory Table
	Pairings       Table
	Compliance     complianceSection
	Visits         visitsSection
	// Casework is the household's plan (一户一案), income accounts
	// (收入测算) and procedures (casework.go); nil for an inspector.
	Casework *caseworkSection
	// Print links to the household's printed forms (internal/printforms).
	Print []printLink
	// Warnings are the household's early warnings (监测预警); nil for
	// those who do not manage the household's casework.
	Warnings *Table
}

// fact is one labelled line of the file's head; a wide one (a paragraph
// of text) takes a whole row.
type fact struct {
	Label, Value string
	Wide         bool
}

// complianceSection is the year's statuses of the household's rules.
type complianceSection struct {
	Year     int
	Years    []periodTab // Key: the page's URL for that year
	Profile  string
	Statuses []statusLine
}

// statusLine is one rule in one period, as the compliance service judged it.
type statusLine struct {
	Rule, Period, State, Tone string
	Counted, Required         int
	Explanation               string
}

// visitsSection is one page of the visit timeline; the notes search
// swaps it (htmx) from /ui/households/{id}/visits.
type visitsSection struct {
	HouseholdID string
	URL         string // the fragment's URL, without query
	Query       string
	Total       int64
	Page, Pages int
	Prev, Next  string // URLs of the neighbouring pages, "" at the ends
	Visits      []visitCard
}

// visitCard is one visit as the timeline shows it.
type visitCard struct {
	ID        string
	Date      string
	Time      string // HH:MM–HH:MM in Asia/Shanghai
	Kind      string
	Cadre     string
	Deleted   bool
	Notes     string
	Checklist []checkAnswer
	Measures  []string
	Risks     []checkAnswer // risks seen at the visit (大病, 灾害 …) and their notes
	MetWith   string
	Confirmed string
	Photos    []photoThumb
	Flags     []flagLine
	// Counted is whether the visit counted for at least one status;
	// Judged is whether any rule looked at it at all.
	Counted, Judged bool
	Reasons         []reasonLine
	Map             *visitMap
}

type checkAnswer struct{ Item, Answer, Tone, Note string }

type photoThumb struct {
	Thumb, Full string
	Missing     bool // listed by the visit, not (yet) uploaded
}

type flagLine struct{ Label, Detail string }

// reasonLine is one rule's verdict on a visit: the periods it counted
// in, or the periods it did not count in with the reason.
type reasonLine struct {
	Counted bool
	Text    string
}

// visitMap is a visit's best GPS fix against the household's home point,
// as data- attributes for assets/household.js.
type visitMap struct {
	Home, Fix string // "lat,lon", "" when unknown
	Distance  string // zh-CN, "" when either point is missing
	Note      string // what is missing, zh-CN
}

// householdFile gathers the file page.
func (c *Console) householdFile(r *http.Request, s *session) (any, error) {
	return c.householdWith(r, s, "", nil)
}

// householdWith is the household file; posted, when set, is the casework
// form (which) the services refused, shown with its errors.
func (c *Console) householdWith(r *http.Request, s *session, which string, posted *form) (any, error) {
	ctx, p := r.Context(), s.principal
	id, err := householdID(r)
	if err != nil {
		return nil, err
	}
	f, err := c.deps.Registry.HouseholdFile(ctx, p, id)
	if err != nil {
		return nil, err
	}
	h := f.Household
	names := c.userNames(r, s)
	out := householdPage{ID: h.ID.String(), Head: h.HeadName, Masked: !p.SeesIDNumbers()}
	village := ""
	if reg, err := c.deps.Registry.Region(ctx, p, h.VillageID); err == nil {
		village = reg.Name
	} else if !domain.IsCode(err, domain.CodeNotFound) {
		return nil, err
	}
	out.Facts = householdFacts(h, village)
	out.Print = c.householdPrintLinks(p, h)
	out.Members = membersTable(f.Members, p)
	out.StatusHistory, out.PovertyHistory = statusHistoryTables(f)
	if out.Warnings, err = c.householdWarnings(r, s, h.ID); err != nil {
		return nil, err
	}
	out.Pairings = pairingsTable(f)
	year, err := yearParam(r, domain.DateOf(c.deps.Now()).Year)
	if err != nil {
		return nil, err
	}
	timelines := c.timelines(r, s, id)
	if out.Compliance, err = c.complianceOf(r, timelines, h.ID, year); err != nil {
		return nil, err
	}
	if out.Visits, err = c.visitTimeline(r, s, h, timelines, names); err != nil {
		return nil, err
	}
	if out.Casework, err = c.casework(r, s, h, which, posted); err != nil {
		return nil, err
	}
	return out, nil
}

// householdVisits answers the visit timeline alone, for the notes search
// and the page links (htmx).
func (c *Console) householdVisits(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := householdID(r)
	var sec visitsSection
	if err == nil {
		var h domain.Household
		if h, err = c.deps.Registry.Household(r.Context(), s.principal, id); err == nil {
			sec, err = c.visitTimeline(r, s, h, c.timelines(r, s, id), c.userNames(r, s))
		}
	}
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.draw(w, r, s, http.StatusOK, "household.html", "visits", sec)
}

// householdID reads the path's id; a malformed one is the same 404 as an
// unknown household.
func householdID(r *http.Request) (uuid.UUID, error) {
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		return uuid.Nil, domain.NotFound("household")
	}
	return id, nil
}

// yearParam reads ?year=, def when absent.
func yearParam(r *http.Request, def int) (int, error) {
	v := r.URL.Query().Get("year")
	if v == "" {
		return def, nil
	}
	y, err := strconv.Atoi(v)
	if err != nil {
		return 0, domain.Invalid(domain.FieldError{Field: "year", Reason: "invalid_format", Message: "year must be a number", MessageZH: "年份格式不正确"})
	}
	return y, nil
}

// registeredIncomeLabel names the register's annual income, as the income
// table's caption refers to it.
const registeredIncomeLabel = "家庭年纯收入（档案登记）"

func householdFacts(h domain.Household, village string) []fact {
	var out []fact
	add := func(label, value string) {
		if value != "" {
			out = append(out, fact{Label: label, Value: value, Wide: len([]rune(value)) > 30})
		}
	}
	add("户编号", h.Number)
	add("所在村", village)
	add("住址", h.Address)
	add("联系电话", h.Phone)
	status := label("status", h.Status)
	if h.ExitYear != nil {
		status += fmt.Sprintf("（%d年脱贫）", *h.ExitYear)
	}
	add("农户状态", status)
	if h.PovertyType != "" {
		add("贫困户属性", label("poverty_type", h.PovertyType))
	}
	causes := make([]string, len(h.Causes))
	for i, cs := range h.Causes {
		causes[i] = label("cause", cs)
	}
	add("致贫原因", strings.Join(causes, "、"))
	housing := label("housing_structure", h.HousingStructure)
	if h.HousingSafetyGrade != "" {
		housing = strings.TrimPrefix(housing+"，"+label("housing_grade", h.HousingSafetyGrade), "，")
	}
	add("住房", housing)
	add("住房面积", number(h.HousingArea, "平方米"))
	add("耕地", number(h.ArableLand, "亩"))
	if h.AnnualIncome != nil {
		// The register's figure, beside the income accounts' per-capita
		// 收入测算 further down: a supervisor read two numbers with no word
		// on which was which. The register keeps no year for it.
		add(registeredIncomeLabel, number(h.AnnualIncome, "元")+"（全户合计，建档或导入时登记，不是收入测算）")
	}
	add("经济状况", h.IncomeNotes)
	return out
}

// number writes an optional quantity with its unit ("" when unknown).
func number(v *float64, unit string) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64) + " " + unit
}

// membersTable shows members as the API does for the caller: the ID
// number masked (and the birth date reduced to a year) unless the role
// needs them, by the API's own conversion.
func membersTable(ms []domain.Member, p domain.Principal) Table {
	t := Table{Head: []string{"姓名", "与户主关系", "身份证号", "性别", "出生年份", "健康状况", "残疾", "文化程度", "务工状况"}, Empty: "没有登记家庭成员。"}
	for _, m := range ms {
		w := wire.FromMember(m, p.SeesIDNumbers())
		birth := ""
		if w.BirthYear != nil {
			birth = strconv.Itoa(*w.BirthYear)
		}
		t.Rows = append(t.Rows, []Cell{textCell(w.Name), textCell(label("relation", w.Relation)), textCell(w.IDNumber),
			textCell(map[string]string{"male": "男", "female": "女"}[w.Gender]), textCell(birth), textCell(label("health", w.Health)),
			textCell(label("disability", w.Disability)), textCell(label("education", w.Education)), textCell(label("work", w.Work))})
	}
	return t
}

func statusHistoryTables(f domain.HouseholdFile) (status, poverty Table) {
	status = Table{Head: []string{"生效日期", "原状态", "新状态", "原因", "记录时间"}, Empty: "没有状态变更记录。"}
	for _, ch := range f.StatusHistory {
		to := label("status", ch.To)
		if ch.ExitYear != nil {
			to += fmt.Sprintf("（%d年）", *ch.ExitYear)
		}
		reason := ch.Reason
		if ch.Cause != "" {
			reason = strings.TrimSpace(reason + " 返贫原因：" + label("relapse_cause", ch.Cause))
		}
		status.Rows = append(status.Rows, []Cell{textCell(formatDate(ch.EffectiveOn)), textCell(labelOrDash("status", ch.From)), textCell(to),
			textCell(reason), textCell(formatDate(ch.RecordedAt))})
	}
	poverty = Table{Head: []string{"生效日期", "原属性", "新属性", "原因", "记录时间"}, Empty: "没有贫困户属性变更记录。"}
	for _, ch := range f.PovertyHistory {
		poverty.Rows = append(poverty.Rows, []Cell{textCell(formatDate(ch.EffectiveOn)), textCell(labelOrDash("poverty_type", ch.From)),
			textCell(labelOrDash("poverty_type", ch.To)), textCell(ch.Reason), textCell(formatDate(ch.RecordedAt))})
	}
	return status, poverty
}

// labelOrDash is label for a code that may be empty (a first record has
// no "from").
func labelOrDash(vocabulary, code string) string {
	if code == "" {
		return "—"
	}
	return label(vocabulary, code)
}

// pairingsTable lists every cadre the household has had, ended pairings
// too (oldest first, as the registry keeps them): who was responsible when.
func pairingsTable(f domain.HouseholdFile) Table {
	t := Table{Head: []string{"帮扶责任人", "开始日期", "结束日期", "结束原因"}, Empty: "没有结对帮扶记录。"}
	for _, pr := range f.PairingHistory {
		end := Cell{Text: "至今（在帮）", Tone: "good"}
		if pr.EndOn != nil {
			end = textCell(formatDate(pr.EndOn))
		}
		t.Rows = append(t.Rows, []Cell{textCell(cmp.Or(pr.CadreName, "—")), textCell(formatDate(pr.StartOn)), end, textCell(pr.EndReason)})
	}
	return t
}

// timelines judges the household's years on demand, once each per
// request: the statuses section reads one year, the visit cards the
// years their visits fall in.
type timelines struct {
	get func(year int) ([]rules.Status, string, error)
}

func (c *Console) timelines(r *http.Request, s *session, id uuid.UUID) *timelines {
	type judged struct {
		sts     []rules.Status
		profile string
		err     error
	}
	byYear := map[int]judged{}
	return &timelines{get: func(year int) ([]rules.Status, string, error) {
		if j, ok := byYear[year]; ok {
			return j.sts, j.profile, j.err
		}
		sts, prof, err := c.deps.Compliance.Timeline(r.Context(), s.principal, id, year)
		j := judged{sts: sts, profile: cmp.Or(prof.NameZH, prof.Code), err: err}
		byYear[year] = j
		return j.sts, j.profile, j.err
	}}
}

// complianceOf is the statuses section of a year: the periods begun by
// today, year first, then quarters, then months.
func (c *Console) complianceOf(r *http.Request, tl *timelines, id uuid.UUID, year int) (complianceSection, error) {
	today := domain.DateOf(c.deps.Now())
	sts, profile, err := tl.get(year)
	if err != nil {
		return complianceSection{}, err
	}
	sec := complianceSection{Year: year, Profile: profile}
	for y := today.Year; y >= today.Year-2; y-- {
		sec.Years = append(sec.Years, periodTab{Key: householdURL(id) + "?year=" + strconv.Itoa(y) + "#compliance", Label: strconv.Itoa(y) + "年",
			Current: y == year})
	}
	for _, st := range sts {
		if today.Before(st.Period.Start) {
			continue
		}
		sec.Statuses = append(sec.Statuses, statusLine{Rule: st.RuleNameZH, Period: st.Period.LabelZH(), State: label("state", st.State),
			Tone: stateCell(st.State).Tone, Counted: st.CountedN, Required: st.Required, Explanation: st.ExplanationZH})
	}
	return sec, nil
}

// visitTimeline is one page of the household's visits, with ?q= (notes
// search) and ?page=.
func (c *Console) visitTimeline(r *http.Request, s *session, h domain.Household, tl *timelines, names *userNames) (visitsSection, error) {
	q := r.URL.Query()
	sec := visitsSection{HouseholdID: h.ID.String(), URL: householdURL(h.ID) + "/visits", Query: strings.TrimSpace(q.Get("q")), Page: 1}
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 1 {
		sec.Page = n
	}
	if len([]rune(sec.Query)) > 100 {
		return sec, domain.Invalid(domain.FieldError{Field: "q", Reason: "too_long", Message: "q is at most 100 characters", MessageZH: "搜索内容不能超过100个字"})
	}
	id := h.ID
	visits, total, err := c.deps.Sync.Visits(r.Context(), s.principal, fvsync.VisitQuery{HouseholdID: &id, Query: sec.Query,
		IncludeDeleted: true, Limit: visitsPerPage, Offset: (sec.Page - 1) * visitsPerPage})
	if err != nil {
		return sec, err
	}
	sec.Total, sec.Pages = total, max(1, int((total+visitsPerPage-1)/visitsPerPage))
	link := func(page int) string {
		v := url.Values{"page": {strconv.Itoa(page)}}
		if sec.Query != "" {
			v.Set("q", sec.Query)
		}
		return householdURL(h.ID) + "?" + v.Encode() + "#visits"
	}
	if sec.Page > 1 {
		sec.Prev = link(sec.Page - 1)
	}
	if sec.Page < sec.Pages {
		sec.Next = link(sec.Page + 1)
	}
	for _, v := range visits {
		card, err := c.visitCard(r, s, h, v, tl, names)
		if err != nil {
			return sec, err
		}
		sec.Visits = append(sec.Visits, card)
	}
	return sec, nil
}

func (c *Console) visitCard(r *http.Request, s *session, h domain.Household, v domain.Visit, tl *timelines, names *userNames) (visitCard, error) {
	start := v.StartedAt.In(domain.Shanghai)
	card := visitCard{ID: v.ID.String(), Date: formatDate(v.StartedAt), Time: start.Format("15:04"), Kind: label("visit_kind", v.Kind),
		Cadre: names.of(v.CadreID), Deleted: v.Deleted, Notes: v.Notes, MetWith: strings.Join(v.MetWith, "、")}
	if v.EndedAt != nil {
		card.Time += "–" + v.EndedAt.In(domain.Shanghai).Format("15:04")
	}
	if v.HouseholdConfirmed != nil {
		card.Confirmed = map[bool]string{true: "农户已确认走访", false: "农户未确认走访"}[*v.HouseholdConfirmed]
	}
	for _, item := range domain.ChecklistItems {
		e, ok := v.Checklist[item.Code]
		if !ok {
			continue
		}
		tone := map[string]string{"met": "good", "problem": "bad"}[e.Answer]
		card.Checklist = append(card.Checklist, checkAnswer{Item: item.Label, Answer: label("answer", e.Answer), Tone: tone, Note: e.Note})
	}
	for _, m := range v.Measures {
		card.Measures = append(card.Measures, label("measure", m))
	}
	// A registered household's risk opens no warning (it is helped as
	// registered), so the visit card is where a supervisor sees it.
	for _, rt := range v.RiskTriggers {
		card.Risks = append(card.Risks, checkAnswer{Item: label("risk_trigger", rt.Code), Tone: "bad", Note: rt.Note})
	}
	for _, f := range v.Flags {
		card.Flags = append(card.Flags, flagLine{Label: label("flag", f.Code), Detail: f.MessageZH})
	}
	for _, ref := range v.Photos {
		ph := photoThumb{Thumb: photoURL(ref.PhotoID) + "/thumbnail", Full: photoURL(ref.PhotoID)}
		if _, err := c.deps.Photos.Photo(r.Context(), s.principal, ref.PhotoID); domain.IsCode(err, domain.CodeNotFound) {
			ph.Missing = true
		} else if err != nil {
			return card, err
		}
		card.Photos = append(card.Photos, ph)
	}
	var err error
	if card.Reasons, card.Counted, card.Judged, err = judgementsOf(v, tl); err != nil {
		return card, err
	}
	card.Map = mapOf(h, v)
	return card, nil
}

// judgementsOf reads, from the timeline of the visit's year, each rule's
// verdict on the visit: one line per rule it counted for, one per rule
// and reason it did not.
func judgementsOf(v domain.Visit, tl *timelines) (lines []reasonLine, counted, judged bool, err error) {
	type verdict struct {
		rule, reason string
		counted      bool
	}
	periods := map[verdict][]string{}
	var order []verdict
	sts, _, err := tl.get(domain.DateOf(v.StartedAt).Year)
	if domain.IsCode(err, domain.CodeInvalid) { // a year the service does not judge (before 2014, after next year)
		return nil, false, false, nil
	}
	if err != nil {
		return nil, false, false, err
	}
	for _, st := range sts {
		for _, j := range slices.Concat(st.Counted, st.NotCounted) {
			if j.VisitID != v.ID {
				continue
			}
			k := verdict{rule: st.RuleNameZH, reason: j.ReasonZH, counted: j.Counted}
			if _, seen := periods[k]; !seen {
				order = append(order, k)
			}
			periods[k] = append(periods[k], st.Period.LabelZH())
			counted = counted || j.Counted
			judged = true
		}
	}
	for _, k := range order {
		if k.counted {
			lines = append(lines, reasonLine{Counted: true, Text: "计入「" + k.rule + "」：" + strings.Join(periods[k], "、")})
		} else {
			lines = append(lines, reasonLine{Text: "不计入「" + k.rule + "」（" + strings.Join(periods[k], "、") + "）：" + k.reason})
		}
	}
	return lines, counted, judged, nil
}

// mapOf places the visit's best GPS fix (the one its evidence flags
// judged) against the household's home point.
func mapOf(h domain.Household, v domain.Visit) *visitMap {
	m := &visitMap{}
	if h.Home != nil {
		m.Home = latLon(*h.Home)
	}
	fix, located := evidence.BestStamp(v.GPS)
	if located {
		m.Fix = latLon(domain.GeoPoint{Lat: fix.Lat, Lon: fix.Lon})
	}
	switch {
	case h.Home != nil && located:
		d := evidence.Distance(*h.Home, domain.GeoPoint{Lat: fix.Lat, Lon: fix.Lon})
		if d < 1000 {
			m.Distance = fmt.Sprintf("距住户 %.0f 米", d)
		} else {
			m.Distance = fmt.Sprintf("距住户 %.1f 公里", d/1000)
		}
	case h.Home == nil && !located:
		m.Note = "住户未登记位置，走访也没有有效定位。"
	case h.Home == nil:
		m.Note = "住户未登记位置，无法计算距离。"
	default:
		m.Note = "这次走访没有有效定位（无定位或仅有虚拟定位）。"
	}
	return m
}

func latLon(p domain.GeoPoint) string {
	return strconv.FormatFloat(p.Lat, 'f', 6, 64) + "," + strconv.FormatFloat(p.Lon, 'f', 6, 64)
}

// userNames finds people's display names once per request; someone the
// caller may not look up (a cadre looking at another cadre) shows as
// 其他干部.
type userNames struct {
	lookup func(id uuid.UUID) string
}

func (c *Console) userNames(r *http.Request, s *session) *userNames {
	return &userNames{lookup: readOnce(func(id uuid.UUID) (string, error) {
		u, err := c.deps.Registry.User(r.Context(), s.principal, id)
		if err != nil {
			return "其他干部", nil
		}
		return cmp.Or(u.DisplayName, u.Username), nil
	})}
}

func (n *userNames) of(id uuid.UUID) string { return n.lookup(id) }
