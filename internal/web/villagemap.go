package web

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance"
)

// The 挂图作战 map page: Leaflet with no tile layer (the console runs with
// no internet), villages as circles at the centre of their households,
// and beside it the same villages as a list, worst first, so the page
// works without the map. assets/map.js draws it from /ui/map/data.

// mapPage is what templates/map.html shows.
type mapPage struct {
	Period   string
	Villages []mapVillage
	DataURL  string
	Selected *selectedVillage // ?village=: its households, for browsers without the map
}

// selectedVillage is a village's households as a table.
type selectedVillage struct {
	Name       string
	Households Table
}

// mapVillage is a village as the map's list and its JSON show it.
type mapVillage struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Town       string   `json:"town"`
	Lat        *float64 `json:"lat"`
	Lon        *float64 `json:"lon"`
	Households int      `json:"households"`
	Rate       float64  `json:"rate"` // the share met; -1: nothing judged
	RateText   string   `json:"rate_text"`
	OnPace     float64  `json:"on_pace"` // the share met or on pace (compliance.StateCounts.OnPaceRate)
	Behind     string   `json:"behind"`  // what the list says: how many statuses are behind, or none
	Tone       string   `json:"tone"`    // by OnPace: good, warn, bad, none
	Overdue    int64    `json:"overdue"`
	Missed     int64    `json:"missed"`
	Total      int64    `json:"total"`
}

// mapHousehold is a household as the drill-down shows it.
type mapHousehold struct {
	ID         string   `json:"id"`
	Number     string   `json:"number"`
	Head       string   `json:"head"`
	Status     string   `json:"status"` // the register's status, zh-CN
	State      string   `json:"state"`  // this month's worst state, code
	StateLabel string   `json:"state_label"`
	Tone       string   `json:"tone"`
	Lat        *float64 `json:"lat"`
	Lon        *float64 `json:"lon"`
	URL        string   `json:"url"`
}

func toMapVillage(v compliance.VillageMark) mapVillage {
	out := mapVillage{ID: v.ID.String(), Name: v.Name, Town: v.TownName, Households: v.Households, Rate: v.Counts.MetRate(),
		RateText: formatRate(v.Counts.MetRate()), OnPace: v.Counts.OnPaceRate(), Tone: rateTone(v.Counts.OnPaceRate()), Overdue: v.Counts.Overdue,
		Missed: v.Counts.Missed, Total: v.Counts.Total, Behind: "无落后"}
	switch behind := v.Counts.Overdue + v.Counts.Missed; {
	case v.Counts.Total == 0:
		out.Behind = "未评判"
	case behind > 0:
		out.Behind = fmt.Sprintf("落后%d项", behind)
	}
	if v.Centroid != nil {
		lat, lon := v.Centroid.Lat, v.Centroid.Lon
		out.Lat, out.Lon = &lat, &lon
	}
	return out
}

func toMapHousehold(m compliance.HouseholdMark) mapHousehold {
	out := mapHousehold{ID: m.ID.String(), Number: m.Number, Head: m.HeadName, Status: label("status", m.Status), State: m.State,
		StateLabel: "未评判", Tone: stateCell(m.State).Tone, URL: householdURL(m.ID)}
	if m.State != "" {
		out.StateLabel = label("state", m.State)
	}
	if out.Tone == "" {
		out.Tone = "none"
	}
	if m.Home != nil {
		lat, lon := m.Home.Lat, m.Home.Lon
		out.Lat, out.Lon = &lat, &lon
	}
	return out
}

// villageMap draws the page with the village list; the map itself fills
// in from the data route.
func (c *Console) villageMap(r *http.Request, s *session) (any, error) {
	m, err := c.deps.Compliance.VillageMap(r.Context(), s.principal)
	if err != nil {
		return nil, err
	}
	out := mapPage{Period: m.Month.LabelZH(), DataURL: c.prefix + "map/data"}
	for _, v := range m.Villages {
		out.Villages = append(out.Villages, toMapVillage(v))
	}
	if v := r.URL.Query().Get("village"); v != "" {
		id, err := uuid.Parse(v)
		if err != nil {
			return nil, domain.NotFound("region")
		}
		marks, _, err := c.deps.Compliance.VillageHouseholds(r.Context(), s.principal, id)
		if err != nil {
			return nil, err
		}
		t := Table{Head: []string{"户编号", "户主", "农户状态", "走访进度"}}
		for _, m := range marks {
			h := toMapHousehold(m)
			t.Rows = append(t.Rows, []Cell{textCell(h.Number), {Text: h.Head, Link: h.URL}, textCell(h.Status), {Text: h.StateLabel, Tone: h.Tone}})
		}
		out.Selected = &selectedVillage{Name: marks[0].VillageName, Households: t}
	}
	return out, nil
}

// villageMapData answers the map's JSON: the villages, or with
// ?village= that village's households in the caller's sight (a village
// where they see none is 404, as the API answers another village's
// household).
func (c *Console) villageMapData(w http.ResponseWriter, r *http.Request, s *session) {
	var body any
	if v := r.URL.Query().Get("village"); v != "" {
		id, err := uuid.Parse(v)
		if err != nil {
			c.failJSON(w, r, domain.Invalid(domain.FieldError{Field: "village", Reason: "invalid_format", Message: "village must be a UUID",
				MessageZH: "村编号格式不正确"}))
			return
		}
		marks, per, err := c.deps.Compliance.VillageHouseholds(r.Context(), s.principal, id)
		if err != nil {
			c.failJSON(w, r, err)
			return
		}
		hs := make([]mapHousehold, len(marks))
		for i, m := range marks {
			hs[i] = toMapHousehold(m)
		}
		body = map[string]any{"period": per.LabelZH(), "village": marks[0].VillageName, "households": hs}
	} else {
		m, err := c.deps.Compliance.VillageMap(r.Context(), s.principal)
		if err != nil {
			c.failJSON(w, r, err)
			return
		}
		vs := make([]mapVillage, len(m.Villages))
		for i, v := range m.Villages {
			vs[i] = toMapVillage(v)
		}
		body = map[string]any{"period": m.Month.LabelZH(), "villages": vs}
	}
	writeJSON(w, http.StatusOK, body)
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// failJSON answers a data route's error as {"status", "message_zh"}.
func (c *Console) failJSON(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := http.StatusInternalServerError, "服务器出现意外错误"
	switch domain.ErrorCode(err) {
	case domain.CodeNotFound:
		status, msg = http.StatusNotFound, "未找到该村，或该村不在您的查看范围内"
	case domain.CodeForbidden:
		status, msg = http.StatusForbidden, "您的账号无权查看"
	case domain.CodeInvalid:
		status, msg = http.StatusUnprocessableEntity, "请求参数有误"
		var fe []domain.FieldError
		if de, ok := err.(*domain.Error); ok {
			fe = de.Fields
		}
		for _, f := range fe {
			msg += "：" + f.MessageZH
		}
	default:
		c.deps.Log.Error("console data failed", "route", r.Pattern, "error", err.Error(), "request_id", callerOf(r.Context()).RequestID)
	}
	writeJSON(w, status, map[string]any{"status": status, "message_zh": msg})
}
