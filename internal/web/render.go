package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"reflect"
	"time"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/casework"
	"github.com/fieldvisit/fieldvisit/internal/compliance"
	"github.com/fieldvisit/fieldvisit/internal/compliance/rules"
	"github.com/fieldvisit/fieldvisit/internal/photos/evidence"
	"github.com/fieldvisit/fieldvisit/internal/webasset"
)

//go:embed templates
var templateFiles embed.FS

// views are the parsed templates: each page's file with the layout and the
// shared partials.
type views struct {
	byName map[string]*template.Template
}

// shared templates every view is parsed with.
var shared = []string{"templates/layout.html", "templates/partials.html"}

func parseViews(assets *webasset.Set) (*views, error) {
	funcs := template.FuncMap{
		"asset":  assets.URL,
		"date":   formatDate,
		"pct":    formatRate,
		"label":  label,
		"tone":   rateTone,
		"rate":   metCell,
		"stat":   newStat,
		"numCol": numericColumn,
	}
	v := &views{byName: map[string]*template.Template{}}
	names := []string{"login.html", "error.html"}
	for _, pg := range pages {
		names = append(names, pg.template)
	}
	for _, f := range fragments {
		if f.template != "" {
			names = append(names, f.template)
		}
	}
	for _, name := range names {
		if v.byName[name] != nil {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFiles, append(shared, "templates/"+name)...)
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", name, err)
		}
		v.byName[name] = t
	}
	return v, nil
}

// render executes block of view name into a buffer first, so that a
// failing template answers a clean error page rather than half a page: an
// error means nothing was written.
func (v *views) render(w http.ResponseWriter, status int, name, block string, data any) error {
	t := v.byName[name]
	if t == nil {
		return fmt.Errorf("web: no view %s", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, block, data); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes()) // a failed write is a browser gone: nothing to answer
	return nil
}

// draw renders block of view name as the answer; a template that fails
// answers the error page (500), never an empty 200.
func (c *Console) draw(w http.ResponseWriter, r *http.Request, s *session, status int, name, block string, data any) {
	if err := c.views.render(w, status, name, block, data); err != nil {
		c.fail(w, r, s, fmt.Errorf("view %s, block %s: %w", name, block, err))
	}
}

// formatDate writes a day as YYYY-MM-DD in Asia/Shanghai; it takes a
// domain.Date, a time.Time or a pointer to either (nil: empty).
func formatDate(v any) string {
	switch d := v.(type) {
	case domain.Date:
		if d.IsZero() {
			return ""
		}
		return d.String()
	case *domain.Date:
		if d == nil {
			return ""
		}
		return formatDate(*d)
	case time.Time:
		if d.IsZero() {
			return ""
		}
		return d.In(domain.Shanghai).Format(time.DateOnly)
	case *time.Time:
		if d == nil {
			return ""
		}
		return formatDate(*d)
	}
	return fmt.Sprint(v)
}

// formatRate writes a share as a percentage with one decimal; a negative
// share (nothing to count) is a dash.
func formatRate(r float64) string {
	if r < 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", r*100)
}

// rateTone is the colour class of a compliance rate, as the map and the
// tables colour it: good from 95 %, warn from 80 %, bad below; none when
// nothing was judged.
func rateTone(r float64) string {
	switch {
	case r < 0:
		return "none"
	case r >= 0.95:
		return "good"
	case r >= 0.80:
		return "warn"
	}
	return "bad"
}

// vocabularies are the code lists pages show in Chinese, by the name
// templates use with label.
var vocabularies = map[string]domain.Vocabulary{
	"status":       domain.Statuses,
	"poverty_type": domain.PovertyTypes,
	"role":         domain.Roles,
	"region_level": domain.RegionLevels,
	"visit_kind":   domain.VisitKinds,
	"state":        rules.States,
	"flag":         evidence.FlagCodes,
	"rank":         domain.Ranks,
	// The household file's casework.
	"plan_route": domain.PlanRoutes,
	"plan_state": domain.PlanItemStates,
	// The household file's.
	"relation":          domain.Relations,
	"health":            domain.HealthStates,
	"disability":        domain.Disabilities,
	"education":         domain.EducationLevels,
	"work":              domain.WorkStates,
	"cause":             domain.Causes,
	"housing_structure": domain.HousingStructures,
	"housing_grade":     domain.HousingSafetyGrades,
	"answer":            domain.ChecklistAnswers,
	"measure":           domain.Measures,
	// Early warning (warnings.go).
	"risk_trigger":  domain.RiskTriggers,
	"relapse_cause": domain.RelapseCauses,
	"warning_list":  casework.WarningLists,
	"resolution":    casework.Resolutions,
}

// label is a code's Chinese label from a vocabulary, the code itself when
// the vocabulary does not know it.
func label(vocabulary, code string) string {
	if l, ok := vocabularies[vocabulary].Label(code); ok {
		return l
	}
	return code
}

// Table is a table as the shared "table" template draws it. Pages build
// their tables in Go, so every table looks and reads the same (numbers
// right-aligned, an empty table says so in Chinese).
type Table struct {
	Caption string
	Head    []string
	Rows    [][]Cell
	Empty   string // shown when there are no rows
}

// Cell is one table cell: its text, an optional link and colour tone
// (rateTone's classes).
type Cell struct {
	Text  string
	Link  string
	Tone  string
	Num   bool
	Title string // says why the cell is coloured so, on hover
}

// numericColumn reports whether column i of rows holds numbers, so its
// heading aligns with them.
func numericColumn(rows [][]Cell, i int) bool {
	return len(rows) > 0 && i < len(rows[0]) && rows[0][i].Num
}

// textCell and numCell build cells.
func textCell(s string) Cell { return Cell{Text: s} }

func numCell(n int64) Cell { return Cell{Text: fmt.Sprint(n), Num: true} }

// metCell shows the share of statuses met, coloured by the share not
// behind, as the map colours villages (compliance.StateCounts.OnPaceRate):
// early in a period most statuses are on track but not yet met, and a
// supervisor reads red as "behind" and looks for the households behind,
// which the missed-visit list would not have. "—" when nothing was judged.
func metCell(sc compliance.StateCounts) Cell {
	c := Cell{Text: formatRate(sc.MetRate()), Tone: rateTone(sc.OnPaceRate()), Num: true}
	behind := sc.Overdue + sc.Missed
	switch {
	case sc.Total == 0:
		c.Title = "本期没有需要评判的走访任务"
	case behind > 0:
		c.Title = fmt.Sprintf("进度落后%d项，未完成%d项", sc.Overdue, sc.Missed)
	case sc.Met < sc.Total:
		c.Title = fmt.Sprintf("未达标的%d项均未逾期（进度正常%d项，即将到期%d项），没有进度落后或未完成的项", sc.Total-sc.Met, sc.OnTrack, sc.DueSoon)
	}
	return c
}

// stat is one big number with its label, as the shared "stat" template
// draws it.
type stat struct {
	Value string
	Label string
	Tone  string
	Title string
}

// newStat takes a number or a pointer to one (a section's optional count).
func newStat(value any, label, tone string) stat {
	v := reflect.Indirect(reflect.ValueOf(value))
	return stat{Value: fmt.Sprint(v.Interface()), Label: label, Tone: tone}
}
