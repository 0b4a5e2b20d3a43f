package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/casework"
)

// warningsPage is what templates/warnings.html shows: the edge and watch
// lists (监测预警), each open warning with its resolve form.
type warningsPage struct {
	CSRF        string
	List, State string
	Tabs        []navLink
	Total       int64
	Warnings    []warningLine
	Pager       Pager
	Causes      []option
}

type warningLine struct {
	ID, Version     string
	HouseholdURL    string
	Head            string
	List, Trigger   string
	Note, SeenOn    string
	Cadre           string
	Open            bool
	Resolution      string
	ResolutionNote  string
	Form            *form // a refused resolution, shown again
	ResolutionValue string
	// Resolutions are those its list allows (casework.ResolutionsFor);
	// AsksCause when one of them is a relapse, which needs its cause.
	Resolutions []option
	AsksCause   bool
}

// resolutionFields place the service's field pointers on the resolve form.
var resolutionFields = map[string]string{"resolution": "resolution", "note": "note", "cause": "cause", "version": "resolution"}

func (c *Console) warnings(r *http.Request, s *session) (any, error) {
	return c.warningsWith(r, s, "", nil)
}

// warningsWith builds the page; posted is a refused resolution of the
// warning which, shown again with its errors.
func (c *Console) warningsWith(r *http.Request, s *session, which string, posted *form) (any, error) {
	q := r.URL.Query()
	list, state := q.Get("list"), q.Get("state")
	if list == "" {
		list = casework.ListEdge
	}
	if state == "" {
		state = casework.WarningOpen
	}
	n := pageOf(r)
	ws, total, err := c.deps.Casework.Warnings(r.Context(), s.principal, casework.WarningQuery{List: list, State: state, Limit: listSize, Offset: (n - 1) * listSize})
	if err != nil {
		return nil, err
	}
	out := warningsPage{CSRF: s.csrf, List: list, State: state, Total: total, Pager: listPager(*r.URL, n, listSize, total)}
	for _, l := range casework.WarningLists {
		for _, st := range casework.WarningStates {
			u := url.Values{"list": {l.Code}, "state": {st.Code}}
			out.Tabs = append(out.Tabs, navLink{URL: "/ui/warnings?" + u.Encode(), Title: l.Label + "·" + st.Label, Current: l.Code == list && st.Code == state})
		}
	}
	out.Causes = append(out.Causes, option{Value: "", Label: "（认定返贫时选择）"})
	for _, t := range domain.RelapseCauses {
		out.Causes = append(out.Causes, option{Value: t.Code, Label: t.Label})
	}
	names := c.userNames(r, s)
	for _, w := range ws {
		line := warningLine{ID: w.ID.String(), Version: strconv.FormatInt(w.Version, 10), HouseholdURL: "/ui/households/" + w.HouseholdID.String(),
			Head: w.HeadName, List: label("warning_list", w.List), Trigger: label("risk_trigger", w.Trigger), Note: w.Note, SeenOn: w.SeenOn.String(),
			Cadre: names.of(w.CadreID), Open: w.State == casework.WarningOpen, Resolution: resolutionText(w), ResolutionNote: w.ResolutionNote}
		for _, t := range casework.ResolutionsFor(w.List) {
			line.Resolutions = append(line.Resolutions, option{Value: t.Code, Label: t.Label})
			line.AsksCause = line.AsksCause || t.Code == casework.ResolveRelapsed
		}
		if posted != nil && which == line.ID {
			line.Form, line.ResolutionValue = posted, posted.Value("resolution")
		}
		out.Warnings = append(out.Warnings, line)
	}
	return out, nil
}

func resolutionText(w casework.Warning) string {
	switch w.Resolution {
	case "":
		return "待处置"
	case casework.ResolveWithdrawn:
		return "走访记录已撤回该风险"
	case casework.ResolveRelapsed:
		return "认定返贫（" + label("relapse_cause", w.Cause) + "）"
	}
	return label("resolution", w.Resolution)
}

func resolveWarning(c *Console, w http.ResponseWriter, r *http.Request, s *session) {
	formPost{template: "warnings.html", which: r.PathValue("id"), fields: resolutionFields,
		reload: func(c *Console, r *http.Request, s *session, which string, f *form) (any, error) {
			return c.warningsWith(r, s, which, f)
		},
		call: func(c *Console, r *http.Request, s *session, f *form) (string, error) {
			id, err := pathUUID(r, "warning")
			if err != nil {
				return "", err
			}
			in := casework.Resolution{Resolution: f.Value("resolution"), Note: strings.TrimSpace(f.Value("note")), Cause: f.Value("cause"),
				Version: int64(formInt(f, "version", "版本号", 0))}
			if f.Failed() {
				return "", nil
			}
			_, err = c.deps.Casework.ResolveWarning(r.Context(), s.principal, id, in)
			return "/ui/warnings?" + r.URL.RawQuery, err
		}}.handle(c, w, r, s)
}

// householdWarnings is the household's warnings table, for those who
// manage its casework (nil for others).
func (c *Console) householdWarnings(r *http.Request, s *session, id uuid.UUID) (*Table, error) {
	if !s.principal.Manages() {
		return nil, nil
	}
	ws, err := c.deps.Casework.HouseholdWarnings(r.Context(), s.principal, id)
	if err != nil {
		return nil, err
	}
	names := c.userNames(r, s)
	t := &Table{Head: []string{"走访日期", "名单", "风险情形", "情况说明", "帮扶干部", "处置"}, Empty: "没有监测预警记录。"}
	for _, w := range ws {
		t.Rows = append(t.Rows, []Cell{textCell(w.SeenOn.String()), textCell(label("warning_list", w.List)), textCell(label("risk_trigger", w.Trigger)),
			textCell(w.Note), textCell(names.of(w.CadreID)), textCell(strings.TrimSpace(resolutionText(w) + " " + w.ResolutionNote))})
	}
	return t, nil
}
