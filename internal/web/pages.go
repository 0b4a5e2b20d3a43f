package web

import (
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/fieldvisit/fieldvisit/domain"
)

// page is one page of the console's navigation.
type page struct {
	pattern  string // ServeMux path pattern, GET only ("/ui/{$}", "/ui/map")
	link     string // the nav entry's URL; "" for a page reached from others (a household's file), not in the nav
	title    string // nav label and <title>, zh-CN
	template string // file in templates/ defining "content"
	// tab is the page's tab among the pages of one nav entry (系统管理's
	// 用户, 帮扶单位 …): the layout draws those the caller may open, each
	// linked to the first page of the tab; "" for a page with no tabs.
	tab     string
	styles  []string
	scripts []string // assets the page needs beyond the layout's
	roles   []string // who sees it and may open it; nil: every signed-in user
	load    func(c *Console, r *http.Request, s *session) (any, error)
}

// pages are the console's pages, in nav order. Only pages that exist are
// listed: the nav never shows a link to nothing.
var pages = slices.Concat([]page{
	{pattern: "/ui/{$}", link: "/ui/", title: "总览", template: "overview.html",
		styles: []string{"vendor/uplot-1.6.32.min.css"}, scripts: []string{"vendor/uplot-1.6.32.min.js", "overview.js"}, load: (*Console).overview},
	{pattern: "/ui/map", link: "/ui/map", title: "挂图作战", template: "map.html",
		styles: []string{"vendor/leaflet-1.9.4.css"}, scripts: []string{"vendor/leaflet-1.9.4.js", "map.js"}, load: (*Console).villageMap},
	{pattern: "/ui/inspections", link: "/ui/inspections", title: "督查抽查", template: "inspections.html", roles: inspectionRoles, load: (*Console).inspections},
	{pattern: "/ui/inspections/{id}", link: "/ui/inspections", title: "督查详情", template: "inspection.html", roles: inspectionRoles, load: (*Console).inspection},
}, ledgerPages(), []page{
	// The admin pages share one nav entry; admin-tabs (partials.html) moves between them.
	{pattern: "/ui/admin/users", link: "/ui/admin/users", title: "系统管理", tab: "用户", template: "admin_users.html", roles: adminRoles, load: (*Console).users},
	{pattern: "/ui/admin/users/{id}", link: "/ui/admin/users", title: "用户", tab: "用户", template: "admin_user.html", roles: adminRoles, load: (*Console).user},
	{pattern: "/ui/admin/units", link: "/ui/admin/users", title: "帮扶单位", tab: "帮扶单位", template: "admin_units.html", roles: adminRoles, load: (*Console).units},
	{pattern: "/ui/admin/regions", link: "/ui/admin/users", title: "行政区划", tab: "行政区划", template: "admin_regions.html", roles: adminRoles, load: (*Console).regions},
	{pattern: "/ui/admin/units/{id}", link: "/ui/admin/users", title: "帮扶单位", tab: "帮扶单位", template: "admin_unit.html", roles: adminRoles, load: (*Console).unit},
	{pattern: "/ui/admin/pairings", link: "/ui/admin/users", title: "结对调整", tab: "结对调整", template: "admin_pairings.html", roles: adminRoles, load: (*Console).pairings},
	{pattern: "/ui/admin/pairings/{id}", link: "/ui/admin/users", title: "结对调整", tab: "结对调整", template: "admin_pairings_household.html", roles: adminRoles, load: (*Console).householdPairings},
	{pattern: "/ui/admin/rules", link: "/ui/admin/users", title: "规则方案", tab: "规则方案", template: "admin_rules.html", roles: adminRoles, load: (*Console).rules},
	{pattern: "/ui/admin/imports", link: "/ui/admin/users", title: "导入台账", tab: "导入台账", template: "admin_imports.html", roles: adminRoles, load: (*Console).imports},
	{pattern: "/ui/admin/audit", link: "/ui/admin/users", title: "审计日志", tab: "审计日志", template: "admin_audit.html", roles: auditReaders, load: (*Console).auditLog},
	{pattern: "/ui/missed", link: "/ui/missed", title: "未走访情况", template: "missed.html", roles: reportReaders, load: (*Console).missed},
	{pattern: "/ui/exit-candidates", link: "/ui/exit-candidates", title: "脱贫候选", template: "exit_candidates.html", roles: caseworkRoles, load: (*Console).exitCandidates},
	{pattern: "/ui/adjustments", link: "/ui/adjustments", title: "动态调整", template: "adjustments.html", roles: caseworkRoles, load: (*Console).adjustments},
	{pattern: "/ui/adjustments/{id}", link: "/ui/adjustments", title: "调整批次", template: "adjustment.html", roles: caseworkRoles, load: (*Console).adjustmentBatch},
	{pattern: "/ui/warnings", link: "/ui/warnings", title: "监测预警", template: "warnings.html", roles: caseworkRoles, load: (*Console).warnings},
	{pattern: "/ui/village-exit", link: "/ui/village-exit", title: "贫困村出列", template: "village_exit.html", roles: caseworkRoles, load: (*Console).villageExit},
	{pattern: "/ui/worklist", link: "/ui/worklist", title: "走访任务", template: "worklist.html", load: (*Console).worklist},
	{pattern: "/ui/progress", link: "/ui/progress", title: "走访进度", template: "progress.html", roles: reportReaders, load: (*Console).progress},
	// A cadre's page opens from the lists (a cadre's own from their
	// worklist): no nav entry.
	{pattern: "/ui/cadres/{id}", title: "帮扶干部", template: "cadre.html", styles: []string{"vendor/uplot-1.6.32.min.css"},
		scripts: []string{"vendor/uplot-1.6.32.min.js", "cadre.js"}, roles: []string{domain.RoleAdmin, domain.RoleSupervisor, domain.RoleCadre}, load: (*Console).cadre},
	{pattern: "/ui/households/{id}", title: "一户一档", template: "household.html",
		styles: []string{"vendor/leaflet-1.9.4.css"}, scripts: []string{"vendor/leaflet-1.9.4.js", "household.js"}, load: (*Console).householdFile},
	{pattern: "/ui/devices", link: "/ui/devices", title: "设备同步", template: "devices.html",
		roles: []string{domain.RoleAdmin, domain.RoleSupervisor, domain.RoleCadre}, load: (*Console).devices},
	{pattern: "/ui/conflicts", link: "/ui/conflicts", title: "冲突处理", template: "conflicts.html", scripts: []string{"conflicts.js"},
		roles: []string{domain.RoleAdmin, domain.RoleSupervisor}, load: (*Console).conflictInbox},
})

// fragment is a route that answers part of a page (htmx) or data for a
// page's script, behind the same session and CSRF checks as pages.
type fragment struct {
	pattern  string // ServeMux pattern with its method
	template string // file in templates/ it renders from, if any
	handle   func(c *Console, w http.ResponseWriter, r *http.Request, s *session)
}

var fragments = slices.Concat([]fragment{
	{pattern: "GET /ui/overview/rates", template: "overview.html", handle: (*Console).overviewRates},
	{pattern: "GET /ui/map/data", handle: (*Console).villageMapData},
	{pattern: "POST /ui/inspections", handle: createCampaign},
	{pattern: "POST /ui/inspections/{id}/sample", handle: drawSample},
	{pattern: "POST /ui/inspections/{id}/verify", handle: (*Console).verifySample},
	{pattern: "GET /ui/inspections/{id}/report.xlsx", handle: (*Console).inspectionReportXLSX},
}, ledgerFragments(), []fragment{
	{pattern: "POST /ui/admin/users", handle: createUser},
	{pattern: "POST /ui/admin/imports", template: "admin_imports.html", handle: (*Console).importFile},
	{pattern: "GET /ui/admin/imports/export", handle: (*Console).registerExport},
	{pattern: "POST /ui/admin/units", handle: createUnit},
	{pattern: "POST /ui/admin/regions", handle: createRegion},
	{pattern: "POST /ui/admin/units/{id}/assignments", handle: assignUnit},
	{pattern: "POST /ui/admin/pairings/{id}", handle: pair},
	{pattern: "POST /ui/admin/pairings/{id}/end", handle: endPairing},
	{pattern: "POST /ui/admin/rules", handle: assignProfile},
	{pattern: "POST /ui/admin/users/{id}/password", handle: userForm("password", (*Console).setPassword)},
	{pattern: "POST /ui/admin/users/{id}/active", handle: userForm("active", (*Console).setActive)},
	{pattern: "POST /ui/admin/users/{id}/devices/{device}/revoke", handle: userForm("device", (*Console).revokeDevice)},
	{pattern: "POST /ui/admin/users/{id}/duties", handle: userForm("duty", (*Console).changeDuties)},
	{pattern: "GET /ui/missed/export", handle: (*Console).missedExport},
	{pattern: "GET /ui/progress/export", handle: (*Console).progressExport},
	{pattern: "GET /ui/households/{id}/visits", template: "household.html", handle: (*Console).householdVisits},
	{pattern: "GET /ui/households/{id}/forms/{form}", handle: (*Console).householdForm},
	{pattern: "GET /ui/regions/{id}/forms/{form}", handle: (*Console).villageForms},
	{pattern: "POST /ui/households/{id}/procedures", handle: startProcedure},
	{pattern: "POST /ui/households/{id}/procedures/{pid}/steps", handle: recordStep},
	{pattern: "POST /ui/warnings/{id}/resolve", handle: resolveWarning},
	{pattern: "POST /ui/missed/close", handle: closePeriod},
	{pattern: "POST /ui/village-exit/{id}/procedures", handle: startVillageExit},
	{pattern: "POST /ui/village-exit/{id}/record", handle: recordVillage},
	{pattern: "POST /ui/village-exit/{id}/procedures/{pid}/steps", handle: recordVillageStep},
	{pattern: "GET /ui/casework/export", handle: (*Console).caseworkExport},
	{pattern: "GET /ui/cadres/{id}/handbook.pdf", handle: (*Console).cadreHandbook},
	{pattern: "GET /ui/photos/{id}", handle: (*Console).photoContent},
	{pattern: "GET /ui/photos/{id}/thumbnail", handle: (*Console).photoThumbnail},
	{pattern: "POST /ui/adjustments", handle: buildAdjustment},
	{pattern: "POST /ui/adjustments/{id}/approve", handle: reviewAdjustment("approve-all")},
	{pattern: "POST /ui/adjustments/{id}/close", handle: reviewAdjustment("close")},
	{pattern: "POST /ui/adjustments/{id}/items/{item}/approve", handle: reviewAdjustment("approve")},
	{pattern: "POST /ui/adjustments/{id}/items/{item}/reject", handle: reviewAdjustment("reject")},
	{pattern: "POST /ui/conflicts/{id}/resolve", template: "conflicts.html", handle: (*Console).resolveConflict},
})

// layout is what templates/layout.html draws around a page.
type layout struct {
	Title   string
	User    *header
	Nav     []navLink
	Tabs    []navLink // the tabs of the page's nav entry (page.tab)
	CSRF    string
	Styles  []string
	Scripts []string
	Content any
}

// header is the signed-in user as the page header shows them.
type header struct {
	Name   string
	Role   string // zh-CN
	Region string
}

type navLink struct {
	URL     string
	Title   string
	Current bool
}

func (pg page) allows(role string) bool { return pg.roles == nil || slices.Contains(pg.roles, role) }

// page serves one page: its data, drawn in the layout.
func (c *Console) page(pg page) func(http.ResponseWriter, *http.Request, *session) {
	return func(w http.ResponseWriter, r *http.Request, s *session) {
		if !pg.allows(s.principal.Role) {
			c.fail(w, r, s, domain.Forbidden())
			return
		}
		data, err := pg.load(c, r, s)
		if err != nil {
			c.fail(w, r, s, err)
			return
		}
		c.show(w, r, s, pg, http.StatusOK, data)
	}
}

// show draws data as page pg in the layout, with status: a page's GET, or
// a form's POST answered with the form again and its field errors.
func (c *Console) show(w http.ResponseWriter, r *http.Request, s *session, pg page, status int, data any) {
	l, err := c.layoutFor(r, s, pg.title, pg.link)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	l.Tabs = tabsOf(pg, s.principal.Role)
	l.Content = data
	for _, a := range pg.styles {
		u, _ := c.assets.URL(a)
		l.Styles = append(l.Styles, u)
	}
	for _, a := range pg.scripts {
		u, _ := c.assets.URL(a)
		l.Scripts = append(l.Scripts, u)
	}
	c.draw(w, r, s, status, pg.template, "layout", l)
}

// tabsOf are the tabs of pg's nav entry that role may open, pg's own
// marked current.
func tabsOf(pg page, role string) []navLink {
	var out []navLink
	if pg.tab == "" {
		return nil
	}
	for _, o := range pages {
		if o.link == pg.link && o.tab != "" && o.allows(role) && !slices.ContainsFunc(out, func(n navLink) bool { return n.Title == o.tab }) {
			out = append(out, navLink{URL: o.pattern, Title: o.tab, Current: o.tab == pg.tab})
		}
	}
	return out
}

// layoutFor builds the header and nav for a signed-in user (s nil: the
// login and error pages of nobody).
func (c *Console) layoutFor(r *http.Request, s *session, title, current string) (layout, error) {
	l := layout{Title: title}
	if s == nil {
		return l, nil
	}
	p := s.principal
	h := &header{Name: p.Username, Role: label("role", p.Role)}
	if u, err := c.deps.Registry.User(r.Context(), p, p.UserID); err == nil {
		if u.DisplayName != "" {
			h.Name = u.DisplayName
		}
	} else if !domain.IsCode(err, domain.CodeNotFound) {
		return l, err
	}
	if reg, err := c.deps.Registry.Region(r.Context(), p, p.RegionID); err == nil {
		h.Region = reg.Name
	} else if !domain.IsCode(err, domain.CodeNotFound) {
		return l, err
	}
	l.User, l.CSRF = h, s.csrf
	for _, pg := range pages {
		// A detail page shares its list's link: one nav entry for both; a
		// page with no link (the household file) has none.
		if pg.allows(p.Role) && pg.link != "" && !slices.ContainsFunc(l.Nav, func(n navLink) bool { return n.URL == pg.link }) {
			l.Nav = append(l.Nav, navLink{URL: pg.link, Title: pg.title, Current: pg.link == current})
		}
	}
	return l, nil
}

// errorPage is what templates/error.html shows.
type errorPage struct {
	Status  int
	Heading string
	Message string
}

// fail answers an error as a page in Chinese, with the status the API
// would give: another village's household is the same 404 as none.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, s *session, err error) {
	status, heading, msg := http.StatusInternalServerError, "服务器出错", "服务器出现意外错误，请稍后再试。"
	var de *domain.Error
	if errors.As(err, &de) {
		switch de.Code {
		case domain.CodeNotFound:
			status, heading, msg = http.StatusNotFound, "未找到", "您要找的页面或记录不存在，或不在您的查看范围内。"
		case domain.CodeForbidden:
			status, heading, msg = http.StatusForbidden, "无权访问", "您的账号无权查看此页面。"
		case domain.CodeInvalid:
			status, heading, msg = http.StatusUnprocessableEntity, "请求有误", de.MessageZH
			for _, f := range de.Fields {
				msg += "：" + f.MessageZH
			}
		case domain.CodeUnavailable:
			status, heading, msg = http.StatusServiceUnavailable, "服务暂不可用", "依赖的服务暂时不可用，请稍后再试。"
		case domain.CodeRateLimited:
			status, heading, msg = http.StatusTooManyRequests, "操作过于频繁", de.MessageZH
			if de.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int(de.RetryAfter.Seconds()+0.5)))
			}
		}
	}
	if status == http.StatusInternalServerError {
		c.deps.Log.Error("console request failed", "route", r.Pattern, "error", err.Error(), "request_id", callerOf(r.Context()).RequestID)
	}
	c.errorPage(w, r, s, status, heading, msg)
}

// forbidCSRF refuses a state-changing request that failed the CSRF checks.
func (c *Console) forbidCSRF(w http.ResponseWriter, r *http.Request, s *session) {
	c.errorPage(w, r, s, http.StatusForbidden, "请求被拒绝",
		"此操作未通过安全校验（可能来自其他网站，或页面已过期）。请刷新页面后重试。")
}

func (c *Console) errorPage(w http.ResponseWriter, r *http.Request, s *session, status int, heading, msg string) {
	l, err := c.layoutFor(r, s, heading, "")
	if err != nil {
		l = layout{Title: heading}
	}
	l.Content = errorPage{Status: status, Heading: heading, Message: msg}
	if err := c.views.render(w, status, "error.html", "layout", l); err != nil {
		http.Error(w, msg, status)
	}
}
