package web

import (
	"cmp"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/registry"
)

// The admin forms over the register: pairings and re-pairing (结对调整:
// end one and start another in the same step, so a household is never
// without its cadre), assisting units and their village assignments. They
// call registry.Service as the API's routes do.

// cadreChoices are the active cadres the caller manages, for a select.
func (c *Console) cadreChoices(r *http.Request, s *session) ([]option, error) {
	users, _, err := c.deps.Registry.Users(r.Context(), s.principal, registry.UserQuery{Role: domain.RoleCadre}, registry.Page{Limit: 2000})
	if err != nil {
		return nil, err
	}
	var out []option
	for _, u := range users {
		if u.Active {
			out = append(out, option{Value: u.ID.String(), Label: cmp.Or(u.DisplayName, u.Username) + "（" + u.Username + "）"})
		}
	}
	return out, nil
}

type pairingsPage struct {
	Query      string
	Households Table
	Pager      Pager
}

func pairingURL(household uuid.UUID) string { return "/ui/admin/pairings/" + household.String() }

// pairings lists households (searched by number or head) with their
// cadres today; each opens its pairings.
func (c *Console) pairings(r *http.Request, s *session) (any, error) {
	ctx, p := r.Context(), s.principal
	q := r.URL.Query()
	out := pairingsPage{Query: q.Get("q")}
	hq := registry.HouseholdQuery{Query: out.Query, Unpaired: q.Get("unpaired") != ""}
	n := pageOf(r)
	hs, total, err := c.deps.Registry.Households(ctx, p, hq, registry.Page{Limit: listSize, Offset: (n - 1) * listSize})
	if err != nil {
		return nil, err
	}
	out.Pager = listPager(*r.URL, n, listSize, total)
	out.Households = Table{Head: []string{"户编号", "户主", "行政村", "户类型", "帮扶责任人"}, Empty: "没有符合条件的农户。"}
	today := domain.DateOf(c.deps.Now())
	villages, cadres := c.regionNames(r, s), c.userNames(r, s)
	for _, h := range hs {
		open, _, err := c.deps.Registry.Pairings(ctx, p, registry.PairingQuery{HouseholdID: &h.ID, ActiveOn: &today}, registry.Page{Limit: 20})
		if err != nil {
			return nil, err
		}
		var names []string
		for _, pr := range open {
			names = append(names, cadres.of(pr.CadreID))
		}
		who := Cell{Text: strings.Join(names, "、")}
		if len(names) == 0 {
			who = Cell{Text: "未结对", Tone: "bad"}
		}
		out.Households.Rows = append(out.Households.Rows, []Cell{{Text: cmp.Or(h.Number, "（无编号）"), Link: pairingURL(h.ID)}, textCell(h.HeadName),
			textCell(villages(h.VillageID)), textCell(label("status", h.Status)), who})
	}
	return out, nil
}

type householdPairingsPage struct {
	CSRF      string
	Household domain.Household
	Village   string
	Pairings  []pairingRow
	Cadres    []option
	New       form // 新增帮扶责任人
}

// pairingRow is one pairing of a household; an open one carries its
// end-or-re-pair form.
type pairingRow struct {
	ID         uuid.UUID
	Cadre      string
	Start, End string
	Reason     string
	Open       bool
	EndForm    form
}

func (c *Console) householdPairings(r *http.Request, s *session) (any, error) {
	return c.householdPairingsWith(r, s, "", nil)
}

// householdPairingsWith is a household's pairings page; which names the
// form refused ("new", or a pairing's id), shown with posted.
func (c *Console) householdPairingsWith(r *http.Request, s *session, which string, posted *form) (any, error) {
	ctx, p := r.Context(), s.principal
	id, err := pathUUID(r, "household")
	if err != nil {
		return nil, err
	}
	h, err := c.deps.Registry.Household(ctx, p, id)
	if err != nil {
		return nil, err
	}
	all, _, err := c.deps.Registry.Pairings(ctx, p, registry.PairingQuery{HouseholdID: &id}, registry.Page{Limit: 200})
	if err != nil {
		return nil, err
	}
	today := domain.DateOf(c.deps.Now())
	out := householdPairingsPage{CSRF: s.csrf, Household: h, Village: c.regionNames(r, s)(h.VillageID),
		New: form{Values: url.Values{"start_on": {today.String()}}}}
	if which == "new" {
		out.New = *posted
	}
	cadres := c.userNames(r, s)
	for _, pr := range all {
		row := pairingRow{ID: pr.ID, Cadre: cadres.of(pr.CadreID), Start: formatDate(pr.StartOn), End: formatDate(pr.EndOn), Reason: pr.EndReason,
			Open: domain.InForce(pr.StartOn, pr.EndOn, today) || pr.StartOn.After(today)}
		row.EndForm = form{Values: url.Values{"end_on": {today.String()}}}
		if which == pr.ID.String() {
			row.EndForm = *posted
		}
		out.Pairings = append(out.Pairings, row)
	}
	if out.Cadres, err = c.cadreChoices(r, s); err != nil {
		return nil, err
	}
	return out, nil
}

var pairingFields = map[string]string{"on": "end_on", "reason": "reason", "new_cadre_id": "new_cadre_id", "cadre_id": "cadre_id", "start_on": "start_on"}

// pair adds a responsible cadre (registry.Service.Pair).
var pair = formPost{template: "admin_pairings_household.html", which: "new", fields: pairingFields, reload: (*Console).householdPairingsWith,
	call: func(c *Console, r *http.Request, s *session, f *form) (string, error) {
		id, err := pathUUID(r, "household")
		if err != nil {
			return "", err
		}
		in := registry.NewPairing{HouseholdID: id, StartOn: formDate(f, "start_on", "开始日期")}
		if cadre := formUUID(f, "cadre_id", "帮扶责任人"); cadre != nil {
			in.CadreID = *cadre
		}
		if f.Failed() {
			return "", nil
		}
		_, err = c.deps.Registry.Pair(r.Context(), s.principal, in)
		return pairingURL(id), err
	}}.handle

// endPairing ends a pairing, re-pairing the household with the new cadre
// when one is chosen (registry.Service.EndPairing). The form names its
// pairing, so a refusal shows under that pairing.
func endPairing(c *Console, w http.ResponseWriter, r *http.Request, s *session) {
	formPost{template: "admin_pairings_household.html", which: r.PostFormValue("pairing_id"), fields: pairingFields, reload: (*Console).householdPairingsWith,
		call: func(c *Console, r *http.Request, s *session, f *form) (string, error) {
			household, err := pathUUID(r, "household")
			if err != nil {
				return "", err
			}
			pairing, err := uuid.Parse(f.Value("pairing_id"))
			if err != nil {
				return "", domain.NotFound("pairing")
			}
			in := registry.EndInput{On: formDate(f, "end_on", "结束日期"), Reason: strings.TrimSpace(f.Value("reason")), NewCadreID: formUUID(f, "new_cadre_id", "新帮扶责任人")}
			if f.Failed() {
				return "", nil
			}
			_, _, err = c.deps.Registry.EndPairing(r.Context(), s.principal, pairing, in)
			return pairingURL(household), err
		}}.handle(c, w, r, s)
}

type unitsPage struct {
	CSRF    string
	Units   Table
	Pager   Pager
	Regions []optionGroup
	New     form
}

func unitURL(id uuid.UUID) string { return "/ui/admin/units/" + id.String() }

func (c *Console) units(r *http.Request, s *session) (any, error) { return c.unitsWith(r, s, "", nil) }

func (c *Console) unitsWith(r *http.Request, s *session, _ string, posted *form) (any, error) {
	n := pageOf(r)
	list, total, err := c.deps.Registry.Units(r.Context(), s.principal, r.URL.Query().Get("q"), registry.Page{Limit: listSize, Offset: (n - 1) * listSize})
	if err != nil {
		return nil, err
	}
	out := unitsPage{CSRF: s.csrf, Pager: listPager(*r.URL, n, listSize, total), New: cmp.Or(posted, &form{}).clone(),
		Units: Table{Head: []string{"帮扶单位", "所在区划"}, Empty: "暂无帮扶单位。"}}
	names := c.regionNames(r, s)
	for _, u := range list {
		out.Units.Rows = append(out.Units.Rows, []Cell{{Text: u.Name, Link: unitURL(u.ID)}, textCell(names(u.RegionID))})
	}
	out.Regions, err = c.regionChoices(r, s, domain.LevelCounty, domain.LevelTown)
	out.Regions = selectedGroups(out.Regions, out.New, "region_id")
	return out, err
}

var createUnit = formPost{template: "admin_units.html", reload: (*Console).unitsWith,
	call: func(c *Console, r *http.Request, s *session, f *form) (string, error) {
		var region uuid.UUID
		if id := formUUID(f, "region_id", "所在区划"); id != nil {
			region = *id
		}
		if f.Failed() {
			return "", nil
		}
		u, err := c.deps.Registry.CreateUnit(r.Context(), s.principal, strings.TrimSpace(f.Value("name")), region)
		return unitURL(u.ID), err
	}}.handle

type unitPage struct {
	CSRF        string
	Unit        registry.UnitWithPath
	Region      string
	Assignments Table
	Villages    []optionGroup
	Assign      form
}

func (c *Console) unit(r *http.Request, s *session) (any, error) { return c.unitWith(r, s, "", nil) }

func (c *Console) unitWith(r *http.Request, s *session, _ string, posted *form) (any, error) {
	id, err := pathUUID(r, "unit")
	if err != nil {
		return nil, err
	}
	u, as, err := c.deps.Registry.Unit(r.Context(), s.principal, id)
	if err != nil {
		return nil, err
	}
	names := c.regionNames(r, s)
	out := unitPage{CSRF: s.csrf, Unit: u, Region: names(u.RegionID),
		Assign:      cmp.Or(posted, &form{Values: url.Values{"start_on": {domain.DateOf(c.deps.Now()).String()}}}).clone(),
		Assignments: Table{Head: []string{"行政村", "村民小组", "开始日期", "结束日期"}, Empty: "尚未派驻到村。"}}
	for _, a := range as {
		group := ""
		if a.GroupID != nil {
			group = names(*a.GroupID)
		}
		out.Assignments.Rows = append(out.Assignments.Rows, []Cell{textCell(names(a.VillageID)), textCell(group), textCell(formatDate(a.StartOn)), textCell(formatDate(a.EndOn))})
	}
	out.Villages, err = c.regionChoices(r, s, domain.LevelVillage, domain.LevelGroup)
	out.Villages = selectedGroups(out.Villages, out.Assign, "region_id")
	return out, err
}

// assignUnit places the unit in a village, or one group of it (a group
// chosen: its village is the group's parent, as the API takes both).
var assignUnit = formPost{template: "admin_unit.html", reload: (*Console).unitWith, fields: map[string]string{"group_id": "region_id", "village_id": "region_id"},
	call: func(c *Console, r *http.Request, s *session, f *form) (string, error) {
		id, err := pathUUID(r, "unit")
		if err != nil {
			return "", err
		}
		var village uuid.UUID
		var group *uuid.UUID
		if where := formUUID(f, "region_id", "派驻地点"); where != nil {
			reg, err := c.deps.Registry.Region(r.Context(), s.principal, *where)
			switch {
			case domain.IsCode(err, domain.CodeNotFound):
				f.add("region_id", "派驻地点不存在")
			case err != nil:
				return "", err
			case reg.Level == domain.LevelGroup && reg.ParentID != nil:
				village, group = *reg.ParentID, where
			default:
				village = reg.ID
			}
		}
		start := formDate(f, "start_on", "开始日期")
		var end *domain.Date
		if e := formDate(f, "end_on", "结束日期"); !e.IsZero() {
			end = &e
		}
		if f.Failed() {
			return "", nil
		}
		_, err = c.deps.Registry.AssignUnit(r.Context(), s.principal, id, village, group, start, end)
		return unitURL(id), err
	}}.handle

// regionsPage is the region tree of the caller's subtree, a page at a
// time, with the form that adds a town, a village or a group (admins).
type regionsPage struct {
	CSRF    string
	Query   string
	Regions Table
	Pager   Pager
	New     *regionForm // nil: the caller may not add regions
}

type regionForm struct {
	form
	Parents []optionGroup
	Levels  []option
}

func (c *Console) regions(r *http.Request, s *session) (any, error) {
	return c.regionsWith(r, s, "", nil)
}

func (c *Console) regionsWith(r *http.Request, s *session, _ string, posted *form) (any, error) {
	n, q := pageOf(r), r.URL.Query().Get("q")
	list, total, err := c.deps.Registry.Regions(r.Context(), s.principal, registry.RegionQuery{Query: q}, registry.Page{Limit: listSize, Offset: (n - 1) * listSize})
	if err != nil {
		return nil, err
	}
	names := c.regionNames(r, s)
	out := regionsPage{CSRF: s.csrf, Query: q, Pager: listPager(*r.URL, n, listSize, total),
		Regions: Table{Head: []string{"名称", "级别", "区划代码", "上级区划", "贫困村"}, Empty: "没有符合条件的区划。"}}
	for _, reg := range list {
		parent, poor := "—", ""
		if reg.ParentID != nil {
			parent = names(*reg.ParentID)
		}
		if reg.IsPoorVillage {
			poor = "是"
		}
		out.Regions.Rows = append(out.Regions.Rows, []Cell{textCell(reg.Name), textCell(label("region_level", reg.Level)), textCell(reg.Code), textCell(parent), textCell(poor)})
	}
	if s.principal.Role != domain.RoleAdmin {
		return out, nil
	}
	f := &regionForm{form: cmp.Or(posted, &form{Values: url.Values{"level": {domain.LevelVillage}}}).clone()}
	if f.Parents, err = c.regionChoices(r, s, domain.LevelProvince, domain.LevelCity, domain.LevelCounty, domain.LevelTown, domain.LevelVillage); err != nil {
		return nil, err
	}
	f.Parents = selectedGroups(f.Parents, f.form, "parent_id")
	f.Levels = selected(vocabularyOptions(domain.RegionLevels[1:]), f.form, "level")
	out.New = f
	return out, nil
}

// createRegion takes the new-region form to registry.Service.CreateRegion.
var createRegion = formPost{template: "admin_regions.html", reload: (*Console).regionsWith,
	fields: map[string]string{"parent_id": "parent_id", "level": "level", "code": "code", "name": "name"},
	call: func(c *Console, r *http.Request, s *session, f *form) (string, error) {
		parent := formUUID(f, "parent_id", "上级区划")
		if f.Failed() {
			return "", nil
		}
		reg, err := c.deps.Registry.CreateRegion(r.Context(), s.principal, registry.NewRegion{ParentID: parent, Level: f.Value("level"),
			Code: strings.TrimSpace(f.Value("code")), Name: strings.TrimSpace(f.Value("name")), IsPoorVillage: f.Value("is_poor_village") == "true"})
		return "/ui/admin/regions?q=" + url.QueryEscape(reg.Name), err
	}}.handle
