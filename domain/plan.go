package domain

import (
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// PlanRoutesVersion is the version of PlanRoutes. A version only ever adds
// routes: a code, once given out, keeps its meaning, so plans recorded
// under an older version read the same under a newer one, and a phone
// with an older list never holds a code the server refuses.
const PlanRoutesVersion = 1

// PlanRoutes are the routes out of poverty a household's plan (一户一案)
// takes (DESIGN §6b; 001: 至少设计一条脱贫门路; the 五个一批 of the national
// programme and the measures of 002). Version 1.
var PlanRoutes = Vocabulary{
	{"industry", "产业扶贫"}, {"employment", "就业扶贫"}, {"education", "教育扶贫"}, {"medical", "健康扶贫"},
	{"housing_renovation", "危房改造"}, {"relocation", "易地扶贫搬迁"}, {"dibao", "低保兜底"},
	{"ecological_compensation", "生态补偿"}, {"microcredit", "小额信贷"}, {"asset_income", "资产收益（光伏分红等）"},
	{"other", "其他"},
}

// Plan item states.
const (
	PlanPlanned    = "planned"
	PlanInProgress = "in_progress"
	PlanDone       = "done"
	PlanDropped    = "dropped"
)

// PlanItemStates are where a measure of the plan stands.
var PlanItemStates = Vocabulary{
	{PlanPlanned, "未开始"}, {PlanInProgress, "推进中"}, {PlanDone, "已完成"}, {PlanDropped, "已取消"},
}

// Limits of a plan item and of the progress a visit records.
const (
	MaxPlanMeasure      = 500
	MaxPlanNotes        = 2000
	MaxPlanProgress     = 30
	MaxPlanProgressNote = 1000
)

// PlanItemDetails are the fields of one measure of a household's plan that
// the paired cadre edits, on the phone or not.
type PlanItemDetails struct {
	Route              string    `json:"route"`
	Measure            string    `json:"measure"` // what is to be done: 种植油茶3亩
	ResponsibleCadreID uuid.UUID `json:"responsible_cadre_id"`
	TargetOn           Date      `json:"target_on"`
	State              string    `json:"state"`
	Notes              string    `json:"notes"`
}

// PlanItem is one measure of a household's plan as stored. A deleted item
// stays as a tombstone so phones learn of the delete.
type PlanItem struct {
	ID          uuid.UUID
	CountyID    uuid.UUID
	HouseholdID uuid.UUID
	PlanItemDetails
	Deleted   bool
	Version   int64
	CreatedBy uuid.UUID
	UpdatedBy uuid.UUID
	DeviceID  string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Validate checks a plan item's fields; prefix is the JSON pointer of the
// object. Who may be responsible is judged against the register by the
// caller (it takes a lookup).
func (d PlanItemDetails) Validate(fe *FieldErrors, prefix string) {
	if !PlanRoutes.Has(d.Route) {
		fe.Add(prefix+"/route", "invalid_enum", "route must be a plan route (GET /api/v1/vocabularies: plan_routes)", "脱贫路径无效")
	}
	checkText(fe, prefix+"/measure", "帮扶措施", d.Measure, 1, MaxPlanMeasure)
	if d.ResponsibleCadreID == uuid.Nil {
		fe.Required(prefix+"/responsible_cadre_id", "责任人")
	}
	switch {
	case d.TargetOn.IsZero():
		fe.Required(prefix+"/target_on", "计划完成时间")
	case d.TargetOn.Year < FirstYear || d.TargetOn.Year > LastYear:
		fe.Add(prefix+"/target_on", "out_of_range", fmt.Sprintf("target_on must lie between %d and %d", FirstYear, LastYear),
			fmt.Sprintf("计划完成时间应在%d年至%d年之间", FirstYear, LastYear))
	}
	if !PlanItemStates.Has(d.State) {
		fe.Add(prefix+"/state", "invalid_enum", "state must be planned, in_progress, done or dropped", "措施状态无效")
	}
	checkText(fe, prefix+"/notes", "备注", d.Notes, 0, MaxPlanNotes)
}

// PlanProgress is what a visit records against one measure of the
// household's plan.
type PlanProgress struct {
	PlanItemID uuid.UUID `json:"plan_item_id"`
	Note       string    `json:"note"`
}

// ValidatePlanProgress checks a visit's progress entries on their own;
// prefix is the JSON pointer of the list. That each names a measure of the
// visit's household is judged where the plan is read.
func ValidatePlanProgress(fe *FieldErrors, prefix string, ps []PlanProgress) {
	if len(ps) > MaxPlanProgress {
		fe.Add(prefix, "too_many", "at most 30 progress entries", "进展记录不能超过30条")
	}
	seen := map[uuid.UUID]bool{}
	for i, p := range ps {
		ptr := prefix + "/" + strconv.Itoa(i)
		switch {
		case p.PlanItemID == uuid.Nil:
			fe.Required(ptr+"/plan_item_id", "帮扶措施编号")
		case seen[p.PlanItemID]:
			fe.Add(ptr+"/plan_item_id", "duplicate", "measure listed twice", "同一措施重复记录")
		}
		seen[p.PlanItemID] = true
		checkText(fe, ptr+"/note", "进展情况", p.Note, 1, MaxPlanProgressNote)
	}
}
