package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance/ledger"
	"github.com/fieldvisit/fieldvisit/internal/itemledger"
	fvsync "github.com/fieldvisit/fieldvisit/sync"
)

// The rectification pages (整改台账): the items the caller may see, by
// state, each item's history, and the moves the ledger service allows the
// caller now (itemledger.View.Allowed) as buttons; the export is the
// service's own 台账.

type rectificationsPage struct {
	Tabs   []filterTab
	Items  Table
	Pager  Pager
	Export string
}

// filterTab is one choice of a list's filter, as a link.
type filterTab struct {
	Label, URL string
	Current    bool
}

// rectificationStates are the list's filters: every item, then each state.
var rectificationStates = []string{"", itemledger.Open, itemledger.InProgress, itemledger.Submitted, itemledger.Overdue, itemledger.Closed}

func stateLabel(state string) string {
	if state == "" {
		return "全部"
	}
	l, _ := itemledger.Statuses.Label(state)
	return l
}

func stateTone(state string) string {
	return map[string]string{itemledger.Overdue: "bad", itemledger.Submitted: "warn", itemledger.Closed: "good"}[state]
}

func rectificationURL(id uuid.UUID) string { return "/ui/rectifications/" + id.String() }

func (c *Console) rectificationList(r *http.Request, s *session) (any, error) {
	state := r.URL.Query().Get("status")
	n := pageOf(r)
	items, total, err := c.deps.ItemLedger.Items(r.Context(), s.principal, itemledger.Query{Kind: itemledger.KindRectification, State: state,
		Limit: listSize, Offset: (n - 1) * listSize})
	if err != nil {
		return nil, err
	}
	out := rectificationsPage{Pager: listPager(*r.URL, n, listSize, total),
		Export: "/ui/rectifications/export?" + url.Values{"status": {state}}.Encode(),
		Items:  Table{Head: []string{"问题", "乡镇", "行政村", "户主", "责任人/单位", "整改时限", "状态", "来源"}, Empty: "没有符合条件的整改事项。"}}
	for _, st := range rectificationStates {
		out.Tabs = append(out.Tabs, filterTab{Label: stateLabel(st), URL: "/ui/rectifications?" + url.Values{"status": {st}}.Encode(), Current: st == state})
	}
	for _, v := range items {
		out.Items.Rows = append(out.Items.Rows, []Cell{{Text: clip(v.Problem, 40), Link: rectificationURL(v.ID)}, textCell(v.TownName),
			textCell(v.VillageName), textCell(v.HeadName), textCell(v.Responsible()), textCell(formatDate(v.Deadline)),
			{Text: stateLabel(v.State), Tone: stateTone(v.State)}, textCell(v.CampaignName)})
	}
	return out, nil
}

// clip shortens a long text for a table cell.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// rectificationExport downloads the ledger as the list filters it.
func (c *Console) rectificationExport(w http.ResponseWriter, r *http.Request, s *session) {
	ex, err := c.deps.ItemLedger.Ledger(r.Context(), s.principal, itemledger.Query{Kind: itemledger.KindRectification,
		State: r.URL.Query().Get("status")}, ledger.XLSX)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.download(w, s, ex.ContentType, ex.Filename, ex.Write)
}

type rectificationPage struct {
	CSRF    string
	Item    itemledger.View
	State   string
	Tone    string
	Who     string
	History Table
	Actions []actionForm
}

// actionForm is one move the caller may make, as a form: its note, and
// for a submission or a closing the evidence it rests on.
type actionForm struct {
	form
	Action, Label string
	Evidence      bool
	// Visits are the household's recent visits to pick as evidence, each
	// with its photos; empty (a village's item) leaves ids to be typed.
	Visits []evidenceVisit
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

// evidenceVisits are the household's latest visits as evidence choices.
func (c *Console) evidenceVisits(r *http.Request, s *session, household uuid.UUID) ([]evidenceVisit, error) {
	visits, _, err := c.deps.Sync.Visits(r.Context(), s.principal, fvsync.VisitQuery{HouseholdID: &household, Limit: 20})
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

func (c *Console) rectification(r *http.Request, s *session) (any, error) {
	return c.rectificationWith(r, s, "", nil)
}

// rectificationWith is an item's page; posted, when set, is the action
// form the services refused, shown with its errors.
func (c *Console) rectificationWith(r *http.Request, s *session, _ string, posted *form) (any, error) {
	id, err := pathUUID(r, "rectification")
	if err != nil {
		return nil, err
	}
	v, err := c.deps.ItemLedger.Item(r.Context(), s.principal, itemledger.KindRectification, id)
	if err != nil {
		return nil, err
	}
	out := rectificationPage{CSRF: s.csrf, Item: v, State: stateLabel(v.State), Tone: stateTone(v.State), Who: v.Responsible(),
		History: Table{Head: []string{"时间", "操作", "状态变化", "操作人", "说明", "材料"}}}
	for _, e := range v.History {
		action, _ := itemledger.Actions.Label(e.Action)
		change := stateLabel(e.To)
		if e.From != "" {
			change = stateLabel(e.From) + " → " + change
		}
		out.History.Rows = append(out.History.Rows, []Cell{textCell(e.At.In(domain.Shanghai).Format("2006-01-02 15:04")), textCell(action),
			textCell(change), textCell(e.ByName), textCell(e.Note), textCell(e.Evidence.Summary())})
	}
	for _, a := range v.Allowed {
		lbl, _ := itemledger.Actions.Label(a)
		af := actionForm{Action: a, Label: lbl, Evidence: a == itemledger.Submit || a == itemledger.Approve}
		if posted != nil && posted.Value("action") == a {
			af.form = *posted
		}
		if af.Evidence && v.HouseholdID != nil {
			if af.Visits, err = c.evidenceVisits(r, s, *v.HouseholdID); err != nil {
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
	return out, nil
}

// actOnRectification takes one move (itemledger.Service.Act) at the
// version the page showed; a refusal shows the page again with the
// form's errors (a stale version says the item changed meanwhile).
var actOnRectification = formPost{template: "rectification.html", fields: actionFields, reload: (*Console).rectificationWith,
	call: func(c *Console, r *http.Request, s *session, f *form) (string, error) {
		id, err := pathUUID(r, "rectification")
		if err != nil {
			return "", err
		}
		step := itemledger.Step{Action: f.Value("action"), Version: int64(formInt(f, "version", "版本号", 0)), Note: strings.TrimSpace(f.Value("note")),
			Evidence: itemledger.Evidence{VisitIDs: idList(strings.Join(f.Values["visit_ids"], ",")), PhotoIDs: idList(strings.Join(f.Values["photo_ids"], ","))}}
		if f.Failed() {
			return "", nil
		}
		_, err = c.deps.ItemLedger.Act(r.Context(), s.principal, itemledger.KindRectification, id, step)
		return rectificationURL(id), err
	}}.handle

// idList splits ids typed one per line or separated by commas.
func idList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '，' || r == '\n' || r == '\r' || r == ' ' || r == '、' })
}
