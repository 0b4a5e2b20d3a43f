package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/casework"
	fvsync "github.com/fieldvisit/fieldvisit/sync"
	"github.com/fieldvisit/fieldvisit/wire"
)

// The conflict inbox (冲突待处理) at /ui/conflicts: the open conflicts of
// the caller's subtree from the sync service (as GET /api/v1/conflicts),
// each with the field, the value the phone started from, the value that
// lost and the one that stands, who wrote each and when. Resolving posts
// (htmx, with the CSRF token) to the same service method as POST
// /api/v1/conflicts/{id}/resolve; a resolved conflict leaves the list.

// conflictsPerPage bounds the page's weight.
const conflictsPerPage = 20

// conflictsPage is what templates/conflicts.html shows.
type conflictsPage struct {
	CSRF       string // for the forms' posts without script; htmx sends the header
	Total      int64
	Page       int
	Prev, Next string
	Rows       []conflictRow
}

// conflictRow is one open conflict.
type conflictRow struct {
	ID           string
	Household    string
	HouseholdURL string
	Record       string // what was edited: the household, or which member or visit
	Field        string
	Base         string
	Lost, LostBy string
	Won, WonBy   string
	At           string
}

// resolvedAnswer is what a resolve answers htmx: nothing in the row's
// place and the new count; or, when the service refused, a row with the
// reason in Chinese.
type resolvedAnswer struct {
	ID      string
	Total   *int64 // nil when it could not be read (a cadre has no inbox)
	Message string
}

func (c *Console) conflictInbox(r *http.Request, s *session) (any, error) {
	out := conflictsPage{CSRF: s.csrf, Page: 1}
	if n, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil && n > 1 {
		out.Page = n
	}
	open := true
	items, total, err := c.deps.Sync.Conflicts(r.Context(), s.principal, fvsync.ConflictQuery{Open: &open, Limit: conflictsPerPage,
		Offset: (out.Page - 1) * conflictsPerPage})
	if err != nil {
		return nil, err
	}
	out.Total = total
	if out.Page > 1 {
		out.Prev = "/ui/conflicts?" + url.Values{"page": {strconv.Itoa(out.Page - 1)}}.Encode()
	}
	if int64(out.Page*conflictsPerPage) < total {
		out.Next = "/ui/conflicts?" + url.Values{"page": {strconv.Itoa(out.Page + 1)}}.Encode()
	}
	names := c.userNames(r, s)
	heads := map[uuid.UUID]string{}
	for _, it := range items {
		head, ok := heads[it.HouseholdID]
		if !ok {
			h, err := c.deps.Registry.Household(r.Context(), s.principal, it.HouseholdID)
			if err != nil {
				return nil, err
			}
			head, heads[it.HouseholdID] = h.HeadName, h.HeadName
		}
		out.Rows = append(out.Rows, c.conflictRow(r, s, it, head, names))
	}
	return out, nil
}

func (c *Console) conflictRow(r *http.Request, s *session, it wire.Conflict, head string, names *userNames) conflictRow {
	who := func(id *uuid.UUID) string {
		if id == nil {
			return "—"
		}
		return names.of(*id)
	}
	value := func(raw json.RawMessage) string { return conflictValue(it.Entity, it.Field, raw, names.of) }
	row := conflictRow{ID: it.ID.String(), Household: head, HouseholdURL: householdURL(it.HouseholdID), Field: conflictFieldLabel(it.Entity, it.Field),
		Base: value(it.BaseValue), Lost: value(it.LostValue), LostBy: who(it.LostBy),
		Won: value(it.WonValue), WonBy: who(it.WonBy), At: it.CreatedAt.In(domain.Shanghai).Format("2006-01-02 15:04")}
	switch it.Entity {
	case wire.EntityHousehold:
		row.Record = "农户信息"
	case wire.EntityMember:
		row.Record = "家庭成员"
		if m, err := c.deps.Registry.Member(r.Context(), s.principal, it.HouseholdID, it.EntityID); err == nil {
			row.Record += "：" + m.Name
		}
	case wire.EntityVisit:
		row.Record = "走访记录"
	case wire.EntityPlanItem:
		row.Record = "帮扶计划措施"
	case wire.EntityIncomeAccount:
		row.Record = "收入测算"
		if c.deps.Casework != nil {
			if accounts, err := c.deps.Casework.IncomeAccounts(r.Context(), s.principal, it.HouseholdID); err == nil {
				for _, a := range accounts {
					if a.ID == it.EntityID {
						row.Record += "：" + strconv.Itoa(a.Year) + "年度"
					}
				}
			}
		}
	case wire.EntityLedgerItem:
		row.Record = "台账事项"
	default:
		row.Record = it.Entity
	}
	return row
}

// conflictFields are the Chinese names of the fields phones edit (the
// fields of wire.HouseholdFields, wire.MemberFields and visits).
var conflictFields = map[string]string{
	"phone": "联系电话", "address": "住址", "home": "住户位置", "housing_structure": "住房结构", "housing_safety_grade": "住房安全等级",
	"housing_area": "住房面积", "arable_land": "耕地面积", "annual_income": registeredIncomeLabel, "income_notes": "经济状况", "causes": "致贫原因",
	"health": "健康状况", "disability": "残疾等级", "education": "文化程度", "work": "务工状况",
	"notes": "民情日记", "checklist": "两不愁三保障", "measures": "帮扶措施", "met_with": "见到的家庭成员", "kind": "走访类型",
	"ended_at": "结束时间", "household_confirmed": "农户确认", "gps": "定位", "photos": "照片", "plan_progress": "帮扶计划进展",
	"route": "脱贫路径", "measure": "帮扶措施", "responsible_cadre_id": "责任人", "target_on": "计划完成时间", "state": "措施状态",
}

// planItemFields are the names a plan item's fields take where they
// differ from a visit's of the same JSON name.
var planItemFields = map[string]string{"notes": "备注", "deleted": "删除"}

// incomeAccountFields are an income account's: its amounts by the names
// of the 收入测算 form (domain.IncomeFields.Amounts), the people counted
// and the notes.
var incomeAccountFields = func() map[string]string {
	out := map[string]string{"members_counted": "计算人数", "notes": "备注", "deleted": "删除"}
	for _, a := range (domain.IncomeFields{}).Amounts() {
		out[a.Field] = a.LabelZH
	}
	return out
}()

func conflictFieldLabel(entity, field string) string {
	if l, ok := planItemFields[field]; ok && entity == wire.EntityPlanItem {
		return l
	}
	if entity == wire.EntityIncomeAccount {
		if l, ok := incomeAccountFields[field]; ok {
			return l
		}
	}
	if l, ok := conflictFields[field]; ok {
		return l
	}
	return field
}

// conflictValue writes a stored JSON value for people: text as it is,
// codes by their Chinese labels, an income account's amounts in yuan with
// two decimals, a responsible cadre by name (who), nothing as （空）.
func conflictValue(entity, field string, raw json.RawMessage, who func(uuid.UUID) string) string {
	var v any
	if len(raw) == 0 || json.Unmarshal(raw, &v) != nil || v == nil {
		return "（空）"
	}
	if entity == wire.EntityIncomeAccount {
		if fen, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
			switch {
			case strings.HasSuffix(field, "_fen"):
				return casework.Yuan(fen) + "元"
			case field == "members_counted":
				return strconv.FormatInt(fen, 10) + "人"
			}
		}
	}
	vocab := map[string]string{"housing_structure": "housing_structure", "housing_safety_grade": "housing_grade", "causes": "cause",
		"health": "health", "disability": "disability", "education": "education", "work": "work", "measures": "measure", "kind": "visit_kind"}[field]
	if entity == wire.EntityPlanItem {
		vocab = map[string]string{"state": "plan_state", "route": "plan_route"}[field]
		if id, ok := v.(string); ok && field == "responsible_cadre_id" && who != nil {
			if u, err := uuid.Parse(id); err == nil {
				return who(u)
			}
		}
	}
	switch x := v.(type) {
	case string:
		if x == "" {
			return "（空）"
		}
		if vocab != "" {
			return label(vocab, x)
		}
		return x
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok && vocab != "" {
				parts = append(parts, label(vocab, s))
			} else {
				b, _ := json.Marshal(e)
				parts = append(parts, strings.Trim(string(b), `"`))
			}
		}
		if len(parts) == 0 {
			return "（空）"
		}
		return strings.Join(parts, "、")
	case bool:
		return map[bool]string{true: "是", false: "否"}[x]
	}
	return string(raw)
}

// resolveConflict applies keep_won or restore_lost through the sync
// service. htmx gets the row's replacement; a plain form post (no
// script) comes back to the inbox.
func (c *Console) resolveConflict(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := uuid.Parse(r.PathValue("id"))
	if err == nil {
		_, err = c.deps.Sync.ResolveConflict(r.Context(), s.principal, id, r.PostFormValue("resolution"))
	} else {
		err = domain.NotFound("conflict")
	}
	if r.Header.Get("HX-Request") != "true" {
		if err != nil {
			c.fail(w, r, s, err)
			return
		}
		http.Redirect(w, r, "/ui/conflicts", http.StatusSeeOther)
		return
	}
	status, ans := http.StatusOK, resolvedAnswer{ID: r.PathValue("id")}
	if err != nil {
		status, ans.Message = resolveRefusal(err)
		if status == http.StatusInternalServerError {
			c.deps.Log.Error("console resolve failed", "error", err.Error(), "request_id", s.principal.RequestID)
		}
	}
	// The count is read afresh either way: a refusal often means someone
	// else resolved it meanwhile.
	open := true
	if _, n, err := c.deps.Sync.Conflicts(r.Context(), s.principal, fvsync.ConflictQuery{Open: &open, Limit: 1}); err == nil {
		ans.Total = &n
	}
	c.draw(w, r, s, status, "conflicts.html", "resolved", ans)
}

// resolveRefusal says in Chinese why the service refused a resolution.
func resolveRefusal(err error) (int, string) {
	var de *domain.Error
	errors.As(err, &de)
	switch domain.ErrorCode(err) {
	case domain.CodeNotFound:
		return http.StatusNotFound, "未找到该冲突，或它不在您的管辖范围内。"
	case domain.CodeConflict:
		return http.StatusConflict, "该冲突已由他人处理，请刷新页面。"
	case domain.CodeForbidden:
		return http.StatusForbidden, "您的账号无权处理数据冲突。"
	case domain.CodeInvalid:
		msg := "处理失败"
		if de != nil {
			for _, f := range de.Fields {
				msg += "：" + f.MessageZH
			}
		}
		return http.StatusUnprocessableEntity, msg + "。"
	case domain.CodeUnavailable:
		return http.StatusServiceUnavailable, "服务暂时不可用，请稍后再试。"
	}
	return http.StatusInternalServerError, "服务器出现意外错误，请稍后再试。"
}
