package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance/ledger"
	"github.com/fieldvisit/fieldvisit/internal/itemledger"
	fvsync "github.com/fieldvisit/fieldvisit/sync"
)

// The item ledgers' pages: the rectification ledger (整改台账) and the
// cadres' ledgers (四本台账: 民生诉求台账, 困难群众台账) are one mechanism in
// itemledger, so they are one set of pages here, drawn for each book: the
// items the caller may see, filtered by state, region and responsible
// cadre; each item's history; the moves the ledger service allows the
// caller now (itemledger.View.Allowed) as forms; the export is the
// service's own 台账. Who sees what is the service's rule.

// ledgerBook is one ledger as the console shows it: its kind, where its
// pages live, who has them in the nav, and its words.
type ledgerBook struct {
	kind     string
	base     string // the list's path; an item's is base/{id}
	title    string // the list's heading and nav entry: 民生诉求台账
	noun     string // an item's heading: 民生诉求
	deadline string // the deadline's heading: 办理时限
	roles    []string
}

// cadreLedgerReaders have the cadres' ledgers in the nav: the managers of
// a subtree and the cadres who answer for items. The API lets an
// inspector list them too, but an inspector sees only items of their
// campaigns and a cadre's item has none, so the page would always be
// empty for them.
var cadreLedgerReaders = []string{domain.RoleAdmin, domain.RoleSupervisor, domain.RoleCadre}

// ledgerBooks are the ledgers the console shows, in nav order. The
// rectification ledger keeps the paths it always had.
var ledgerBooks = []ledgerBook{
	{kind: itemledger.KindRectification, base: "/ui/rectifications", title: "整改台账", noun: "整改事项", deadline: "整改时限"},
	{kind: itemledger.KindLivelihoodRequest, base: "/ui/ledgers/" + itemledger.KindLivelihoodRequest, title: "民生诉求台账", noun: "民生诉求",
		deadline: "办理时限", roles: cadreLedgerReaders},
	{kind: itemledger.KindHardship, base: "/ui/ledgers/" + itemledger.KindHardship, title: "困难群众台账", noun: "困难群众事项",
		deadline: "解决时限", roles: cadreLedgerReaders},
}

// ledgerPages are each book's list and item pages.
func ledgerPages() []page {
	var out []page
	for _, b := range ledgerBooks {
		out = append(out,
			page{pattern: b.base, link: b.base, title: b.title, template: "ledger_items.html", roles: b.roles,
				load: func(c *Console, r *http.Request, s *session) (any, error) { return c.ledgerList(r, s, b) }},
			page{pattern: b.itemPattern(), link: b.base, title: b.noun, template: "ledger_item.html", roles: b.roles,
				load: func(c *Console, r *http.Request, s *session) (any, error) { return c.ledgerItemWith(r, s, b, nil) }})
	}
	return out
}

// ledgerFragments are each book's export and action routes.
func ledgerFragments() []fragment {
	var out []fragment
	for _, b := range ledgerBooks {
		out = append(out,
			fragment{pattern: "GET " + b.base + "/export", handle: func(c *Console, w http.ResponseWriter, r *http.Request, s *session) { c.ledgerExport(w, r, s, b) }},
			fragment{pattern: "POST " + b.itemPattern() + "/act", handle: b.act})
	}
	return out
}

func (b ledgerBook) itemPattern() string         { return b.base + "/{id}" }
func (b ledgerBook) itemURL(id uuid.UUID) string { return b.base + "/" + id.String() }

// allows mirrors page.allows, for the routes that are not pages.
func (b ledgerBook) allows(role string) bool { return page{roles: b.roles}.allows(role) }

func (b ledgerBook) stateLabel(state string) string {
	if state == "" {
		return "全部"
	}
	return itemledger.StateLabel(b.kind, state)
}

func (b ledgerBook) actionLabel(action string) string { return itemledger.ActionLabel(b.kind, action) }

func stateTone(state string) string {
	return map[string]string{itemledger.Overdue: "bad", itemledger.Submitted: "warn", itemledger.Closed: "good"}[state]
}

// ledgerStates are the list's state tabs: every item, then each state.
var ledgerStates = []string{"", itemledger.Open, itemledger.InProgress, itemledger.Submitted, itemledger.Overdue, itemledger.Closed, itemledger.Withdrawn}

// ledgerFilters are a list's filters as its URL carries them.
type ledgerFilters struct {
	State       string
	Region      *uuid.UUID
	Responsible *uuid.UUID
}

// readLedgerFilters reads the list's query; a malformed id is refused
// naming its filter (the services check the rest: a state that does not
// exist, a region outside the caller's subtree).
func readLedgerFilters(q url.Values) (ledgerFilters, error) {
	f := ledgerFilters{State: q.Get("status")}
	var fe domain.FieldErrors
	for _, p := range []struct {
		name, label string
		to          **uuid.UUID
	}{{"region", "地区", &f.Region}, {"responsible", "责任人", &f.Responsible}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		id, err := uuid.Parse(v)
		if err != nil {
			fe.Add(p.name, "invalid", p.name+" is not an id", p.label+"无效")
			continue
		}
		*p.to = &id
	}
	return f, fe.Err()
}

func (f ledgerFilters) values() url.Values {
	v := url.Values{}
	if f.State != "" {
		v.Set("status", f.State)
	}
	if f.Region != nil {
		v.Set("region", f.Region.String())
	}
	if f.Responsible != nil {
		v.Set("responsible", f.Responsible.String())
	}
	return v
}

// link is path with the filters, changed by name/value pairs ("" drops one).
func (f ledgerFilters) link(path string, set ...string) string {
	return filterLink(path, f.values(), set...)
}

func (f ledgerFilters) query(kind string) itemledger.Query {
	return itemledger.Query{Kind: kind, State: f.State, RegionID: f.Region, ResponsibleID: f.Responsible}
}

type ledgerListPage struct {
	Title             string
	Tabs              []filterTab
	Form              filterForm
	Items             Table
	Pager             Pager
	Export, ExportCSV string
}

// filterTab is one choice of a list's filter, as a link.
type filterTab struct {
	Label, URL string
	Current    bool
}

func (c *Console) ledgerList(r *http.Request, s *session, b ledgerBook) (any, error) {
	f, err := readLedgerFilters(r.URL.Query())
	if err != nil {
		return nil, err
	}
	n := pageOf(r)
	q := f.query(b.kind)
	q.Limit, q.Offset = listSize, (n-1)*listSize
	items, total, err := c.deps.ItemLedger.Items(r.Context(), s.principal, q)
	if err != nil {
		return nil, err
	}
	out := ledgerListPage{Title: b.title, Pager: listPager(*r.URL, n, listSize, total), Export: f.link(b.base + "/export"), ExportCSV: f.link(b.base+"/export", "format", ledger.CSV),
		Items: Table{Head: []string{"问题", "乡镇", "行政村", "户主", "责任人/单位", b.deadline, "状态", "来源"}, Empty: "没有符合条件的" + b.noun + "。"}}
	for _, st := range ledgerStates {
		out.Tabs = append(out.Tabs, filterTab{Label: b.stateLabel(st), URL: f.link(b.base, "status", st), Current: st == f.State})
	}
	if out.Form, err = c.ledgerFilterForm(r, s, b, f); err != nil {
		return nil, err
	}
	for _, v := range items {
		// The responsible cadre's name filters the list by them.
		who := textCell(v.Responsible())
		if v.ResponsibleUserID != nil {
			who.Link = f.link(b.base, "responsible", v.ResponsibleUserID.String(), "page", "")
		}
		out.Items.Rows = append(out.Items.Rows, []Cell{{Text: clip(v.Problem, 40), Link: b.itemURL(v.ID)}, textCell(v.TownName),
			textCell(v.VillageName), textCell(v.HeadName), who, textCell(formatDate(v.Deadline)),
			{Text: b.stateLabel(v.State), Tone: stateTone(v.State)}, textCell(v.CampaignName)})
	}
	return out, nil
}

// ledgerFilterForm is the region choice (for a manager: a cadre sees only
// their own items), with the state kept and the responsible cadre, set by
// a link, shown as a chip that drops it.
func (c *Console) ledgerFilterForm(r *http.Request, s *session, b ledgerBook, f ledgerFilters) (filterForm, error) {
	form := filterForm{Action: b.base}
	if f.State != "" {
		form.Hidden = append(form.Hidden, hiddenField{"status", f.State})
	}
	if f.Responsible != nil {
		form.Hidden = append(form.Hidden, hiddenField{"responsible", f.Responsible.String()})
		form.Cleared = append(form.Cleared, clearLink{Label: "责任人：" + c.userNames(r, s).of(*f.Responsible), URL: f.link(b.base, "responsible", "")})
	}
	if s.principal.Manages() {
		groups, err := c.regionChoices(r, s, domain.LevelTown, domain.LevelVillage)
		if err != nil {
			return form, err
		}
		chosen := ""
		if f.Region != nil {
			chosen = f.Region.String()
		}
		groups = selectedGroups(groups, formOf("region", chosen), "region")
		form.Selects = append(form.Selects, selectField{Name: "region", Label: "地区",
			Groups: append([]optionGroup{{Options: []option{{Value: "", Label: "全部地区", Selected: chosen == ""}}}}, groups...)})
	}
	return form, nil
}

// formOf is a form holding one value, to mark a choice with selected.
func formOf(name, value string) form { return form{Values: url.Values{name: {value}}} }

// clip shortens a long text for a table cell.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// ledgerExport downloads the ledger as the list filters it.
func (c *Console) ledgerExport(w http.ResponseWriter, r *http.Request, s *session, b ledgerBook) {
	if !b.allows(s.principal.Role) {
		c.fail(w, r, s, domain.Forbidden())
		return
	}
	f, err := readLedgerFilters(r.URL.Query())
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	format := r.URL.Query().Get("format")
	switch format {
	case "":
		format = ledger.XLSX
	case ledger.XLSX, ledger.CSV:
	default:
		c.fail(w, r, s, domain.Invalid(domain.FieldError{Field: "format", Reason: "invalid_enum", Message: "format must be xlsx or csv", MessageZH: "导出格式应为xlsx或csv"}))
		return
	}
	ex, err := c.deps.ItemLedger.Ledger(r.Context(), s.principal, f.query(b.kind), format)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.download(w, s, ex.ContentType, ex.Filename, ex.Write)
}

type ledgerItemPage struct {
	CSRF     string
	Noun     string
	Deadline string // the deadline's heading
	Back     string // the list
	Action   string // where the forms post
	Done     string // what the last action did, after it succeeded
	Item     itemledger.View
	State    string
	Tone     string
	Who      string
	History  Table
	Actions  []actionForm
	// Refused is why a posted move was refused when it is none of the
	// forms shown (the item moved on, or the move does not exist).
	Refused string
}

// actionForm is one move the caller may make, as a form: its note, and
// for a submission or a closing the evidence it rests on.
type actionForm struct {
	form
	Action, Label string
	// NoteLabel heads the note: its reason, for a move that needs one.
	NoteLabel string
	// NoteRequired makes the browser ask for the reason before the move's
	// confirmation: else 撤销 asked "不能恢复，确定撤销？" and only then
	// was refused for its missing reason.
	NoteRequired bool
	Evidence     bool
	// Confirm is the question asked before a move that closes the item
	// or sends it back; "" asks none.
	Confirm string
	// Visits are the household's recent visits to pick as evidence, each
	// with its photos; empty (a village's item) leaves ids to be typed.
	Visits []evidenceVisit
}

// confirmations are the questions asked before the moves a supervisor
// would not want to make by a slip.
var confirmations = map[string]string{
	itemledger.Approve:  "销号后该事项即办结关闭。确定销号？",
	itemledger.Reject:   "退回后责任人须重新办理并再次提交。确定退回？",
	itemledger.Reopen:   "重新打开已销号的事项，责任人须重新办理。确定？",
	itemledger.Withdraw: "撤销仅用于登记错误的事项（如农户选错、重复登记、问题已不存在），撤销后不能恢复，也不算销号。确定撤销？",
}

// noteLabels head the note of the moves whose note is their reason.
var noteLabels = map[string]string{
	itemledger.Reject: "退回原因（必填）", itemledger.Reopen: "重新办理原因（必填）", itemledger.Withdraw: "撤销原因（必填）",
}

// evidenceVisit is a visit offered as evidence, with its photos.
type evidenceVisit struct {
	ID, Label string
	Checked   bool
	Photos    []evidencePhoto
}

type evidencePhoto struct {
	ID, Label, Thumb string
	Checked          bool
}

// evidenceVisits are the household's latest visits as evidence choices,
// none begun before the day the problem was found: the ledger refuses
// those (早于问题发现日期), and a page offering a year of visits to tick
// had the supervisor pick one only to be told so.
func (c *Console) evidenceVisits(r *http.Request, s *session, household uuid.UUID, found domain.Date) ([]evidenceVisit, error) {
	visits, _, err := c.deps.Sync.Visits(r.Context(), s.principal, fvsync.VisitQuery{HouseholdID: &household, From: &found, Limit: 20})
	if err != nil {
		return nil, err
	}
	names := c.userNames(r, s)
	out := make([]evidenceVisit, 0, len(visits))
	for _, v := range visits {
		ev := evidenceVisit{ID: v.ID.String(), Label: formatDate(v.StartedAt) + " " + names.of(v.CadreID) + " " + label("visit_kind", v.Kind)}
		for i, ph := range v.Photos {
			id := ph.PhotoID.String()
			ev.Photos = append(ev.Photos, evidencePhoto{ID: id, Label: "照片" + strconv.Itoa(i+1), Thumb: "/ui/photos/" + id + "/thumbnail"})
		}
		out = append(out, ev)
	}
	return out, nil
}

var actionFields = map[string]string{"evidence": "visit_ids", "evidence/visit_ids": "visit_ids", "evidence/photo_ids": "photo_ids",
	"evidence/document_ids": "photo_ids", "evidence/note": "note", "version": "note", "action": "note"}

// doneNotes are the notices after a move went through, by action.
var doneNotes = map[string]string{
	itemledger.Start: "已开始办理。", itemledger.Submit: "已提交销号，等待审核。", itemledger.Reject: "已退回重办。",
	itemledger.Approve: "已销号。", itemledger.Reopen: "已重新打开。", itemledger.Withdraw: "已撤销。",
}

// ledgerItemWith is an item's page; posted, when set, is the action form
// the services refused, shown with its errors.
func (c *Console) ledgerItemWith(r *http.Request, s *session, b ledgerBook, posted *form) (any, error) {
	id, err := pathUUID(r, b.kind)
	if err != nil {
		return nil, err
	}
	v, err := c.deps.ItemLedger.Item(r.Context(), s.principal, b.kind, id)
	if err != nil {
		return nil, err
	}
	out := ledgerItemPage{CSRF: s.csrf, Noun: b.noun, Deadline: b.deadline, Back: b.base, Action: b.itemURL(v.ID) + "/act",
		Item: v, State: b.stateLabel(v.State), Tone: stateTone(v.State), Who: v.Responsible(),
		History: Table{Head: []string{"时间", "操作", "状态变化", "操作人", "说明", "材料"}}}
	if posted == nil {
		out.Done = doneNotes[r.URL.Query().Get("done")]
	}
	for _, e := range v.History {
		change := b.stateLabel(e.To)
		if e.From != "" {
			change = b.stateLabel(e.From) + " → " + change
		}
		out.History.Rows = append(out.History.Rows, []Cell{textCell(e.At.In(domain.Shanghai).Format("2006-01-02 15:04")), textCell(b.actionLabel(e.Action)),
			textCell(change), textCell(e.ByName), textCell(e.Note), textCell(e.Evidence.Summary())})
	}
	for _, a := range v.Allowed {
		af := actionForm{Action: a, Label: b.actionLabel(a), NoteLabel: noteLabels[a], Evidence: a == itemledger.Submit || a == itemledger.Approve,
			Confirm: confirmations[a]}
		af.NoteRequired = af.NoteLabel != ""
		if af.NoteLabel == "" {
			af.NoteLabel = "说明"
		}
		if posted != nil && posted.Value("action") == a {
			af.form = *posted
		}
		if af.Evidence && v.HouseholdID != nil {
			if af.Visits, err = c.evidenceVisits(r, s, *v.HouseholdID, v.FoundOn); err != nil {
				return nil, err
			}
			for i := range af.Visits {
				ev := &af.Visits[i]
				ev.Checked = af.Has("visit_ids", ev.ID)
				for j := range ev.Photos {
					ev.Photos[j].Checked = af.Has("photo_ids", ev.Photos[j].ID)
				}
			}
		}
		out.Actions = append(out.Actions, af)
	}
	if posted != nil && !slices.ContainsFunc(out.Actions, func(af actionForm) bool { return af.Action == posted.Value("action") }) {
		out.Refused = posted.summary()
	}
	return out, nil
}

// act takes one move (itemledger.Service.Act) at the version the page
// showed; a refusal shows the page again with the form's errors (a stale
// version says the item changed meanwhile), and nothing is written.
func (b ledgerBook) act(c *Console, w http.ResponseWriter, r *http.Request, s *session) {
	if !b.allows(s.principal.Role) {
		c.fail(w, r, s, domain.Forbidden())
		return
	}
	formPost{pattern: b.itemPattern(), fields: actionFields,
		reload: func(c *Console, r *http.Request, s *session, _ string, f *form) (any, error) {
			return c.ledgerItemWith(r, s, b, f)
		},
		call: func(c *Console, r *http.Request, s *session, f *form) (string, error) {
			id, err := pathUUID(r, b.kind)
			if err != nil {
				return "", err
			}
			action := f.Value("action")
			step := itemledger.Step{Action: action, Version: int64(formInt(f, "version", "版本号", 0)), Note: strings.TrimSpace(f.Value("note")),
				Evidence: itemledger.Evidence{VisitIDs: idList(strings.Join(f.Values["visit_ids"], ",")), PhotoIDs: idList(strings.Join(f.Values["photo_ids"], ","))}}
			if f.Failed() {
				return "", nil
			}
			_, err = c.deps.ItemLedger.Act(r.Context(), s.principal, b.kind, id, step)
			return b.itemURL(id) + "?" + url.Values{"done": {action}}.Encode(), err
		}}.handle(c, w, r, s)
}

// idList splits ids typed one per line or separated by commas.
func idList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '，' || r == '\n' || r == '\r' || r == ' ' || r == '、' })
}
