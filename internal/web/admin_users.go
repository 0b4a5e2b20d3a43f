package web

import (
	"cmp"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/registry"
)

// The admin forms for users (用户管理): the list, a new user, and on a
// user's page deactivation, a new password and their duties. They call
// registry.Service as the API's /users routes do, so the checks, the
// scope (a manager's subtree) and the audit entries are the same.

// adminRoles see the admin pages; the services decide what each may do
// there (a supervisor manages cadres and inspectors of their subtree).
var adminRoles = []string{domain.RoleAdmin, domain.RoleSupervisor}

type usersPage struct {
	CSRF   string
	Roles  []filterTab
	Query  string
	Role   string
	Users  Table
	Pager  Pager
	Create newUserForm
}

// newUserForm is the new-user form with its choices.
type newUserForm struct {
	form
	Roles   []option
	Ranks   []option
	Regions []optionGroup
	Units   []option
}

func userURL(id uuid.UUID) string { return "/ui/admin/users/" + id.String() }

func (c *Console) users(r *http.Request, s *session) (any, error) { return c.usersWith(r, s, "", nil) }

func (c *Console) usersWith(r *http.Request, s *session, _ string, posted *form) (any, error) {
	ctx, p := r.Context(), s.principal
	q := r.URL.Query()
	out := usersPage{CSRF: s.csrf, Query: q.Get("q"), Role: q.Get("role")}
	for _, role := range append([]string{""}, domain.RoleAdmin, domain.RoleSupervisor, domain.RoleInspector, domain.RoleCadre) {
		lbl := "全部"
		if role != "" {
			lbl = label("role", role)
		}
		out.Roles = append(out.Roles, filterTab{Label: lbl, URL: "/ui/admin/users?" + url.Values{"role": {role}, "q": {out.Query}}.Encode(), Current: role == out.Role})
	}
	n := pageOf(r)
	list, total, err := c.deps.Registry.Users(ctx, p, registry.UserQuery{Role: out.Role, Query: out.Query}, registry.Page{Limit: listSize, Offset: (n - 1) * listSize})
	if err != nil {
		return out, err
	}
	out.Pager = listPager(*r.URL, n, listSize, total)
	out.Users = Table{Head: []string{"用户名", "姓名", "角色", "所属区划", "职级", "状态"}, Empty: "没有符合条件的用户。"}
	names := c.regionNames(r, s)
	for _, u := range list {
		state := Cell{Text: "在岗", Tone: "good"}
		if !u.Active {
			state = Cell{Text: "已停用", Tone: "none"}
		}
		rank, _ := domain.Ranks.Label(u.Rank)
		out.Users.Rows = append(out.Users.Rows, []Cell{{Text: u.Username, Link: userURL(u.ID)}, textCell(u.DisplayName), textCell(label("role", u.Role)),
			textCell(names(u.RegionID)), textCell(rank), state})
	}
	out.Create.form = cmp.Or(posted, &form{Values: url.Values{"role": {domain.RoleCadre}}}).clone()
	// Only the roles the caller may give: a supervisor offered 系统管理员
	// lost the whole form to a 403.
	for _, code := range registry.RolesManagedBy(p) {
		out.Create.Roles = append(out.Create.Roles, option{Value: code, Label: label("role", code)})
	}
	out.Create.Ranks = vocabularyOptions(domain.Ranks)
	if out.Create.Regions, err = c.regionChoices(r, s); err != nil {
		return out, err
	}
	units, _, err := c.deps.Registry.Units(ctx, p, "", registry.Page{Limit: 500})
	if err != nil {
		return out, err
	}
	for _, u := range units {
		out.Create.Units = append(out.Create.Units, option{Value: u.ID.String(), Label: u.Name})
	}
	f := out.Create.form
	out.Create.Roles, out.Create.Ranks, out.Create.Units = selected(out.Create.Roles, f, "role"), selected(out.Create.Ranks, f, "rank"), selected(out.Create.Units, f, "unit_id")
	out.Create.Regions = selectedGroups(out.Create.Regions, f, "region_id")
	return out, nil
}

// clone is the form itself; it lets cmp.Or pick between a posted form and
// the defaults.
func (f *form) clone() form { return *f }

// regionChoices are the regions of the caller's subtree down to the
// villages, by level, for a form's region select.
func (c *Console) regionChoices(r *http.Request, s *session, levels ...string) ([]optionGroup, error) {
	if len(levels) == 0 {
		levels = []string{domain.LevelCounty, domain.LevelTown, domain.LevelVillage}
	}
	var out []optionGroup
	for _, level := range levels {
		regions, _, err := c.deps.Registry.Regions(r.Context(), s.principal, registry.RegionQuery{Level: level}, registry.Page{Limit: 2000})
		if err != nil {
			return nil, err
		}
		g := optionGroup{Level: level, Label: label("region_level", level)}
		for _, reg := range regions {
			g.Options = append(g.Options, option{Value: reg.ID.String(), Label: reg.Name})
		}
		if len(g.Options) > 0 {
			out = append(out, g)
		}
	}
	return out, nil
}

// createUser takes the new-user form to registry.Service.CreateUser.
var createUser = formPost{template: "admin_users.html", reload: (*Console).usersWith,
	call: func(c *Console, r *http.Request, s *session, f *form) (string, error) {
		u := domain.User{Username: strings.TrimSpace(f.Value("username")), DisplayName: strings.TrimSpace(f.Value("display_name")), Role: f.Value("role"),
			Phone: strings.TrimSpace(f.Value("phone")), Rank: f.Value("rank"), UnitID: formUUID(f, "unit_id", "帮扶单位")}
		if id := formUUID(f, "region_id", "所属区划"); id != nil {
			u.RegionID = *id
		}
		if f.Failed() {
			return "", nil
		}
		created, err := c.deps.Registry.CreateUser(r.Context(), s.principal, registry.NewUser{User: u, Password: f.Value("password")})
		return userURL(created.ID), err
	}}.handle

type userPage struct {
	CSRF     string
	User     domain.User
	Role     string
	Region   string
	Rank     string
	Unit     string
	Duties   []dutyRow
	Password form
	Active   form
	Duty     dutyForm
	IsCadre  bool
	IsSelf   bool // one's own page: a new password needs the current one
	Devices  []deviceRow
	Done     string // what the last form did, said once after it
}

// deviceRow is one of a user's phones with its revoke action.
type deviceRow struct {
	Device, FirstSeen, LastSeen, Revoked, Action string
}

// doneText is what each of the user page's forms says once it is done.
var doneText = map[string]string{"password": "密码已重置：该用户的所有设备需用新密码重新登录。", "active": "账号状态已更新。",
	"duty": "职责已更新。", "device": "设备已注销：该手机需重新登录才能同步。"}

// dutyRow is one of a cadre's duties, with its place in the list (the
// remove button's value).
type dutyRow struct {
	Index                   int
	Kind, Where, Start, End string
}

type dutyForm struct {
	form
	Kinds   []option
	Regions []optionGroup
}

func (c *Console) user(r *http.Request, s *session) (any, error) { return c.userWith(r, s, "", nil) }

// userWith is a user's page; which names the form posted ("password",
// "active", "duty") that the services refused, shown with its errors.
func (c *Console) userWith(r *http.Request, s *session, which string, posted *form) (any, error) {
	ctx, p := r.Context(), s.principal
	id, err := pathUUID(r, "user")
	if err != nil {
		return nil, err
	}
	u, err := c.deps.Registry.User(ctx, p, id)
	if err != nil {
		return nil, err
	}
	names := c.regionNames(r, s)
	out := userPage{CSRF: s.csrf, User: u, Role: label("role", u.Role), Region: names(u.RegionID), IsCadre: u.Role == domain.RoleCadre, IsSelf: u.ID == s.principal.UserID}
	out.Rank, _ = domain.Ranks.Label(u.Rank)
	if u.UnitID != nil {
		if unit, _, err := c.deps.Registry.Unit(ctx, p, *u.UnitID); err == nil {
			out.Unit = unit.Name
		}
	}
	for i, d := range u.Duties {
		kind, _ := domain.Duties.Label(d.Kind)
		where := ""
		if d.RegionID != nil {
			where = names(*d.RegionID)
		}
		out.Duties = append(out.Duties, dutyRow{Index: i, Kind: kind, Where: where, Start: formatDate(d.StartOn), End: formatDate(d.EndOn)})
	}
	out.Done = doneText[r.URL.Query().Get("done")]
	devices, err := c.deps.Registry.Devices(ctx, p, u.ID)
	if err != nil {
		return nil, err
	}
	for _, d := range devices {
		row := deviceRow{Device: cmp.Or(d.Name, d.DeviceID), FirstSeen: timeText(&d.FirstSeen), LastSeen: timeText(&d.LastSeen),
			Action: userURL(u.ID) + "/devices/" + d.ID.String() + "/revoke"}
		if d.RevokedAt != nil {
			row.Revoked = timeText(d.RevokedAt)
		}
		out.Devices = append(out.Devices, row)
	}
	switch which {
	case "password":
		out.Password = *posted
	case "active":
		out.Active = *posted
	case "duty":
		out.Duty.form = *posted
	}
	if out.IsCadre {
		out.Duty.Kinds = vocabularyOptions(domain.Duties)
		if out.Duty.Regions, err = c.regionChoices(r, s, domain.LevelCounty, domain.LevelTown, domain.LevelVillage); err != nil {
			return out, err
		}
		out.Duty.Kinds, out.Duty.Regions = selected(out.Duty.Kinds, out.Duty.form, "kind"), selectedGroups(out.Duty.Regions, out.Duty.form, "region_id")
	}
	return out, nil
}

// userForm is a form of a user's page, posted to
// /ui/admin/users/{id}/WHICH.
func userForm(which string, call func(c *Console, r *http.Request, s *session, id uuid.UUID, f *form) error) func(*Console, http.ResponseWriter, *http.Request, *session) {
	return formPost{template: "admin_user.html", which: which, fields: dutyFields,
		call: func(c *Console, r *http.Request, s *session, f *form) (string, error) {
			id, err := pathUUID(r, "user")
			if err != nil {
				return "", err
			}
			return userURL(id) + "?done=" + which + "#" + which, call(c, r, s, id, f)
		},
		reload: (*Console).userWith}.handle
}

// dutyFields names the duty form's fields for the service's pointers
// into the user's list of duties.
var dutyFields = map[string]string{"duties/*/kind": "kind", "duties/*/region_id": "region_id", "duties/*/start_on": "start_on", "duties/*/end_on": "end_on"}

func (c *Console) setPassword(r *http.Request, s *session, id uuid.UUID, f *form) error {
	return c.deps.Registry.SetPassword(r.Context(), s.principal, id, f.Value("password"), f.Value("current_password"))
}

// revokeDevice retires one of the user's phones: its logins end.
func (c *Console) revokeDevice(r *http.Request, s *session, id uuid.UUID, f *form) error {
	device, err := uuid.Parse(r.PathValue("device"))
	if err != nil {
		return domain.NotFound("device")
	}
	_, err = c.deps.Registry.RevokeDevice(r.Context(), s.principal, id, device)
	return err
}

func (c *Console) setActive(r *http.Request, s *session, id uuid.UUID, f *form) error {
	active := f.Value("active") == "true"
	_, err := c.deps.Registry.UpdateUser(r.Context(), s.principal, id, registry.UserChanges{Active: &active})
	return err
}

// changeDuties adds a duty (kind, region, start, end) or removes the one
// at index remove, and saves the whole list as the API's PATCH does.
func (c *Console) changeDuties(r *http.Request, s *session, id uuid.UUID, f *form) error {
	u, err := c.deps.Registry.User(r.Context(), s.principal, id)
	if err != nil {
		return err
	}
	duties := append([]domain.Duty{}, u.Duties...)
	if rm := f.Value("remove"); rm != "" {
		i, err := strconv.Atoi(rm)
		if err != nil || i < 0 || i >= len(duties) {
			return domain.NotFound("duty")
		}
		duties = append(duties[:i], duties[i+1:]...)
	} else {
		d := domain.Duty{Kind: f.Value("kind"), RegionID: formUUID(f, "region_id", "所在区划"), StartOn: formDate(f, "start_on", "开始日期")}
		if end := formDate(f, "end_on", "结束日期"); !end.IsZero() {
			d.EndOn = &end
		}
		duties = append(duties, d)
	}
	if f.Failed() {
		return nil
	}
	_, err = c.deps.Registry.UpdateUser(r.Context(), s.principal, id, registry.UserChanges{Duties: &duties})
	return err
}
