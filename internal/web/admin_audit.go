package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/registry"
)

// The audit log page (审计日志): the append-only log as
// registry.Service.AuditLog reads it for the API's GET /audit-log —
// admins only, an admin below the top of the tree only the entries of
// their subtree, newest first — filtered by who acted, the household
// concerned, the action and a range of days.

// auditReaders may open the audit log: the service's rule (requireAdmin).
var auditReaders = []string{domain.RoleAdmin}

// auditActions label the actions the services write to the log; an
// action not listed shows its code.
var auditActions = domain.Vocabulary{
	{Code: "create", Label: "新建"}, {Code: "update", Label: "修改"}, {Code: "delete", Label: "删除"},
	{Code: "login", Label: "登录"}, {Code: "login_failed", Label: "登录失败"}, {Code: "read_id_numbers", Label: "查看身份证号"},
	{Code: "set_password", Label: "重置密码"}, {Code: "revoke", Label: "注销设备"}, {Code: "assign", Label: "分配"},
	{Code: "change_status", Label: "变更农户状态"}, {Code: "change_poverty_type", Label: "变更贫困户属性"},
	{Code: "end", Label: "结束"}, {Code: "close", Label: "关闭/封账"}, {Code: "draw", Label: "抽样"},
	{Code: "follow_up", Label: "跟进"}, {Code: "village_exit", Label: "贫困村出列"},
	{Code: "import", Label: "导入"}, {Code: "export_register", Label: "导出户籍台账"},
	{Code: "start", Label: "开始办理"}, {Code: "submit", Label: "提交销号"}, {Code: "reject", Label: "退回"},
	{Code: "approve", Label: "审核销号"}, {Code: "reopen", Label: "重新打开"},
	{Code: "bootstrap", Label: "初始化"}, {Code: "demo_seed", Label: "生成演示数据"},
}

// auditObjects label the kinds of object an entry is about.
var auditObjects = domain.Vocabulary{
	{Code: "household", Label: "农户"}, {Code: "households", Label: "农户台账"}, {Code: "member", Label: "家庭成员"},
	{Code: "pairing", Label: "结对"}, {Code: "user", Label: "用户"}, {Code: "unit", Label: "帮扶单位"},
	{Code: "region", Label: "行政区划"}, {Code: "device", Label: "设备"}, {Code: "session", Label: "登录"},
	{Code: "visit", Label: "走访记录"}, {Code: "photo", Label: "照片"}, {Code: "inspection", Label: "督查"},
	{Code: "inspection_finding", Label: "督查发现"}, {Code: "compliance_period", Label: "走访期间"},
	{Code: "rule_profile", Label: "规则方案"}, {Code: "region_rule_profile", Label: "区划规则方案"},
	{Code: "risk_warning", Label: "监测预警"}, {Code: "procedure", Label: "办理程序"}, {Code: "income_account", Label: "收入测算"},
	{Code: "exit_standard", Label: "脱贫标准"}, {Code: "adjustment_batch", Label: "调整批次"}, {Code: "accountability", Label: "问责"},
	{Code: "village_exit_record", Label: "贫困村出列记录"}, {Code: "village_exit_standard", Label: "贫困村出列标准"},
}

// auditFilters are the page's filters as its URL carries them.
type auditFilters struct {
	Actor, Household *uuid.UUID
	Action           string
	From, To         *domain.Date
}

// readAuditFilters reads the query; what is malformed is refused naming
// its filter. The service refuses the rest (an end before the start).
func readAuditFilters(q url.Values) (auditFilters, error) {
	f := auditFilters{Action: strings.TrimSpace(q.Get("action"))}
	var fe domain.FieldErrors
	for _, p := range []struct {
		name, label string
		to          **uuid.UUID
	}{{"user_id", "操作人", &f.Actor}, {"household_id", "农户", &f.Household}} {
		if v := q.Get(p.name); v != "" {
			id, err := uuid.Parse(v)
			if err != nil {
				fe.Add(p.name, "invalid", p.name+" is not an id", p.label+"无效")
				continue
			}
			*p.to = &id
		}
	}
	for _, p := range []struct {
		name, label string
		to          **domain.Date
	}{{"from", "开始日期", &f.From}, {"to", "结束日期", &f.To}} {
		if v := strings.TrimSpace(q.Get(p.name)); v != "" {
			d, err := domain.ParseDate(v)
			if err != nil {
				fe.Add(p.name, "invalid", p.name+" is not a date", p.label+"应为日期（年-月-日）")
				continue
			}
			*p.to = &d
		}
	}
	if len([]rune(f.Action)) > 40 {
		fe.Add("action", "too_long", "action is too long", "操作过长")
	}
	return f, fe.Err()
}

func (f auditFilters) values() url.Values {
	v := url.Values{}
	if f.Actor != nil {
		v.Set("user_id", f.Actor.String())
	}
	if f.Household != nil {
		v.Set("household_id", f.Household.String())
	}
	if f.Action != "" {
		v.Set("action", f.Action)
	}
	if f.From != nil {
		v.Set("from", f.From.String())
	}
	if f.To != nil {
		v.Set("to", f.To.String())
	}
	return v
}

// link is the page with the filters, one of them set or dropped ("").
func (f auditFilters) link(name, value string) string {
	return filterLink(auditPath, f.values(), name, value)
}

const auditPath = "/ui/admin/audit"

type auditPage struct {
	Path     string
	Actions  []option
	From, To string
	Hidden   []hiddenField // the filters set by links, kept by the form
	Cleared  []clearLink
	Entries  Table
	Pager    Pager
}

func (c *Console) auditLog(r *http.Request, s *session) (any, error) {
	f, err := readAuditFilters(r.URL.Query())
	if err != nil {
		return nil, err
	}
	n := pageOf(r)
	entries, total, err := c.deps.Registry.AuditLog(r.Context(), s.principal,
		registry.AuditQuery{UserID: f.Actor, HouseholdID: f.Household, Action: f.Action, From: f.From, To: f.To},
		registry.Page{Limit: listSize, Offset: (n - 1) * listSize})
	if err != nil {
		return nil, err
	}
	out := auditPage{Path: auditPath, From: formatDate(f.From), To: formatDate(f.To), Pager: listPager(*r.URL, n, listSize, total),
		Actions: filterOptions(vocabularyOptions(auditActions), f.Action, "全部操作"),
		Entries: Table{Head: []string{"时间", "操作人", "操作", "对象", "涉及农户", "详情"}, Empty: "没有符合条件的审计记录。"}}
	if f.Action != "" && !slices.ContainsFunc(out.Actions, func(o option) bool { return o.Value == f.Action }) {
		out.Actions = append(out.Actions, option{Value: f.Action, Label: f.Action, Selected: true})
	}
	names := c.userNames(r, s)
	if f.Actor != nil {
		out.Hidden = append(out.Hidden, hiddenField{"user_id", f.Actor.String()})
		out.Cleared = append(out.Cleared, clearLink{Label: "操作人：" + names.of(*f.Actor), URL: f.link("user_id", "")})
	}
	if f.Household != nil {
		out.Hidden = append(out.Hidden, hiddenField{"household_id", f.Household.String()})
		out.Cleared = append(out.Cleared, clearLink{Label: "农户：" + f.Household.String()[:8], URL: f.link("household_id", "")})
	}
	for _, e := range entries {
		// Who acted filters the log by them; the object opens its page.
		who := textCell(e.ActorName)
		if e.ActorID != nil {
			who.Link = f.link("user_id", e.ActorID.String())
		}
		household := textCell("")
		if e.HouseholdID != nil {
			household = Cell{Text: "只看此户", Link: f.link("household_id", e.HouseholdID.String())}
		}
		out.Entries.Rows = append(out.Entries.Rows, []Cell{textCell(e.At.In(domain.Shanghai).Format("2006-01-02 15:04:05")), who,
			textCell(labelOr(auditActions, e.Action)), auditObjectCell(e), household, textCell(clip(auditDetail(e.Detail), 80))})
	}
	return out, nil
}

// auditObjectCell names an entry's object, linked to its console page
// where one exists: its own, else its household's file.
func auditObjectCell(e domain.AuditRecord) Cell {
	cell := textCell(labelOr(auditObjects, e.ObjectType))
	id, err := uuid.Parse(e.ObjectID)
	if err != nil {
		return cell
	}
	cell.Text += " " + e.ObjectID[:8]
	switch e.ObjectType {
	case "household":
		cell.Link = "/ui/households/" + id.String()
	case "user":
		cell.Link = userURL(id)
	case "unit":
		cell.Link = "/ui/admin/units/" + id.String()
	case "inspection":
		cell.Link = "/ui/inspections/" + id.String()
	case "adjustment_batch":
		cell.Link = "/ui/adjustments/" + id.String()
	default:
		if i := slices.IndexFunc(ledgerBooks, func(b ledgerBook) bool { return b.kind == e.ObjectType }); i >= 0 {
			cell.Link = ledgerBooks[i].itemURL(id)
		} else if e.HouseholdID != nil {
			cell.Link = "/ui/households/" + e.HouseholdID.String()
		}
	}
	return cell
}

// labelOr is a code's label in v, the code itself when v does not know it.
func labelOr(v domain.Vocabulary, code string) string {
	if l, ok := v.Label(code); ok {
		return l
	}
	if i := slices.IndexFunc(ledgerBooks, func(b ledgerBook) bool { return b.kind == code }); i >= 0 {
		return ledgerBooks[i].noun
	}
	return code
}

// auditDetail writes an entry's detail as key: value pairs, keys sorted.
func auditDetail(d map[string]any) string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %v", k, d[k])
	}
	return strings.Join(parts, "，")
}
