// Package inspect is the inspection teams' service (督查组, DESIGN §7):
// campaigns over a county or town, their reproducible samples
// (internal/inspect/sampling), the inspectors' tasks, and who may see
// them — an unannounced campaign (明察暗访) stays hidden from the inspected
// towns until it ends; the findings inspectors record on the versioned
// forms (internal/inspect/forms), the campaign's report with each
// household's discrepancy score (internal/inspect/discrepancy), and the
// accountability actions (督办单, 通报, 黄牌警告) that follow. It declares
// the store it needs (Store) in its own types; storage implements it.
package inspect

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/inspect/sampling"
)

// Modes of a campaign.
const (
	ModeAnnounced   = "announced"   // 明查: the towns know it is coming
	ModeUnannounced = "unannounced" // 暗访: hidden from the inspected towns until it ends
	ModeCross       = "cross"       // 交叉互检: no inspector inspects the town they work in
)

// Modes labels the campaign modes.
var Modes = domain.Vocabulary{
	{Code: ModeAnnounced, Label: "明查"}, {Code: ModeUnannounced, Label: "暗访（明察暗访）"}, {Code: ModeCross, Label: "交叉互检"},
}

// Statuses of a campaign.
const (
	StatusPlanned = "planned" // created, no sample yet
	StatusDrawn   = "drawn"   // the sample is drawn: inspectors are at work
	StatusEnded   = "ended"   // closed: tasks leave the inspectors' phones
)

// CampaignStatuses labels the statuses.
var CampaignStatuses = domain.Vocabulary{
	{Code: StatusPlanned, Label: "待抽样"}, {Code: StatusDrawn, Label: "督查中"}, {Code: StatusEnded, Label: "已结束"},
}

// Plan is what a campaign draws: the sampling plan, how many of the
// region's earlier campaigns' households to leave out, and the targets its
// report ranks towns and villages against.
type Plan struct {
	sampling.Plan
	ExcludeLastCampaigns int
	Targets              Targets
}

// Targets are the opinion rates a campaign expects. They are part of the
// plan, fixed when the campaign is announced, so every reader of its
// report (the county, the towns answering it) ranks against the same bar.
type Targets struct {
	Awareness    float64 // 政策知晓率: aware 1, partly 0.5, unaware 0, over the households asked
	Satisfaction float64 // 群众满意度: satisfied or fairly satisfied over the households asked
}

// DefaultTargets are seed 002's: 知晓率 100%, 满意率 95%.
func DefaultTargets() Targets { return Targets{Awareness: 1, Satisfaction: 0.95} }

// DefaultPlan is seed 001's plan, households of the last campaign left out,
// with seed 002's targets.
func DefaultPlan() Plan {
	return Plan{Plan: sampling.DefaultPlan(), ExcludeLastCampaigns: 1, Targets: DefaultTargets()}
}

// Campaign is one inspection campaign (督查).
type Campaign struct {
	ID         uuid.UUID
	CountyID   *uuid.UUID
	RegionID   uuid.UUID
	RegionPath string
	Name       string
	PeriodFrom domain.Date
	PeriodTo   domain.Date
	Mode       string
	Plan       Plan
	Inspectors []uuid.UUID
	Status     string
	CreatedBy  uuid.UUID
	CreatedAt  time.Time
	EndedAt    *time.Time
	// Set by the draw.
	Seed           string
	Algorithm      string
	PopulationHash string
	DrawnAt        *time.Time
	Shortfalls     []sampling.Shortfall
	Version        int64
}

// VisibleTo says whether p may know of the campaign at all. Its creator,
// its inspectors and the admins above it always may. Otherwise an
// unannounced campaign stays hidden until it ends (明察暗访: the inspected
// towns must not learn of it from the system), and any other is seen by
// the managers above its region and inside it — the county office and the
// inspected towns' offices, which answer its rectifications. Cadres see
// no campaign.
func (c Campaign) VisibleTo(p domain.Principal) bool {
	above := p.RegionPath != "" && strings.HasPrefix(c.RegionPath, p.RegionPath)
	inside := p.RegionPath != "" && strings.HasPrefix(p.RegionPath, c.RegionPath)
	switch {
	case p.UserID == c.CreatedBy, slices.Contains(c.Inspectors, p.UserID):
		return true
	case p.Role == domain.RoleAdmin && above:
		return true
	case c.Mode == ModeUnannounced && c.Status != StatusEnded:
		return false
	case p.Role == domain.RoleAdmin || p.Role == domain.RoleSupervisor:
		return above || inside
	}
	return false
}

// maySteer says whether p may draw, end or otherwise run the campaign: its
// creator, or an admin or supervisor whose region contains its region.
func (c Campaign) maySteer(p domain.Principal) bool {
	if !p.Manages() {
		return false
	}
	return p.UserID == c.CreatedBy || (p.RegionPath != "" && strings.HasPrefix(c.RegionPath, p.RegionPath))
}

// NewCampaign is what a supervisor asks for.
type NewCampaign struct {
	RegionID   uuid.UUID
	Name       string
	PeriodFrom domain.Date
	PeriodTo   domain.Date
	Mode       string
	Plan       *Plan // nil takes DefaultPlan
	Inspectors []uuid.UUID
}

// Limits of a plan.
const (
	maxVillagesPerTown = 50
	maxStratumSize     = 100
	maxStrata          = 6
	maxExclude         = 10
	maxInspectors      = 50
)

// validate checks what can be checked without the store.
func (n NewCampaign) validate(fe *domain.FieldErrors) {
	if reason, msg, msgZH, ok := domain.TextProblem(strings.TrimSpace(n.Name), 100); !ok || strings.TrimSpace(n.Name) == "" {
		if ok {
			reason, msg, msgZH = "required", "name is required", "不能为空"
		}
		fe.Add("/name", reason, msg, "督查名称"+msgZH)
	}
	switch {
	case n.PeriodFrom.IsZero():
		fe.Required("/period_from", "督查开始日期")
	case n.PeriodTo.IsZero():
		fe.Required("/period_to", "督查结束日期")
	case n.PeriodTo.Before(n.PeriodFrom):
		fe.Add("/period_to", "out_of_range", "period_to is before period_from", "结束日期早于开始日期")
	}
	if !Modes.Has(n.Mode) {
		fe.Add("/mode", "invalid_enum", "mode must be announced, unannounced or cross", "督查方式无效")
	}
	if n.Plan != nil {
		n.Plan.validate(fe, "/plan")
	}
	if len(n.Inspectors) == 0 {
		fe.Add("/inspector_ids", "required", "a campaign needs at least one inspector", "至少指派一名督查人员")
	}
	if len(n.Inspectors) > maxInspectors {
		fe.Add("/inspector_ids", "too_many", "at most 50 inspectors", "督查人员不能超过50人")
	}
	for i, id := range n.Inspectors {
		if slices.Index(n.Inspectors, id) != i {
			fe.Add("/inspector_ids/"+strconv.Itoa(i), "duplicate", "inspector listed twice", "督查人员重复")
		}
	}
}

func (p Plan) validate(fe *domain.FieldErrors, prefix string) {
	if p.VillagesPerTown < 0 || p.VillagesPerTown > maxVillagesPerTown {
		fe.Add(prefix+"/villages_per_town", "out_of_range", "villages_per_town must be 0 to 50", "每镇抽查村数应为0至50")
	}
	if p.ExcludeLastCampaigns < 0 || p.ExcludeLastCampaigns > maxExclude {
		fe.Add(prefix+"/exclude_last_campaigns", "out_of_range", "exclude_last_campaigns must be 0 to 10", "排除近期督查次数应为0至10")
	}
	for _, t := range []struct {
		name, labelZH string
		v             float64
	}{{"awareness", "知晓率目标", p.Targets.Awareness}, {"satisfaction", "满意率目标", p.Targets.Satisfaction}} {
		if math.IsNaN(t.v) || t.v < 0 || t.v > 1 {
			fe.Add(prefix+"/targets/"+t.name, "out_of_range", "a target is a rate from 0 to 1", t.labelZH+"应为0至1之间的比率")
		}
	}
	if len(p.Strata) == 0 {
		fe.Add(prefix+"/strata", "required", "a plan draws at least one stratum of households", "至少设置一类抽查农户")
	}
	if len(p.Strata) > maxStrata {
		fe.Add(prefix+"/strata", "too_many", "at most 6 strata", "农户分层不能超过6类")
	}
	var codes, statuses []string
	for i, st := range p.Strata {
		sp := prefix + "/strata/" + strconv.Itoa(i)
		if st.Code == "" || len(st.Code) > 40 {
			fe.Add(sp+"/code", "invalid_format", "a stratum code is 1 to 40 characters", "分层代码应为1至40个字符")
		} else if slices.Contains(codes, st.Code) {
			fe.Add(sp+"/code", "duplicate", "stratum code used twice", "分层代码重复")
		}
		codes = append(codes, st.Code)
		if st.Size < 0 || st.Size > maxStratumSize {
			fe.Add(sp+"/size", "out_of_range", "size must be 0 to 100", "每村抽查户数应为0至100")
		}
		if len(st.Statuses) == 0 {
			fe.Add(sp+"/statuses", "required", "a stratum names the household statuses it draws from", "分层须指定农户状态")
		}
		for j, s := range st.Statuses {
			p := sp + "/statuses/" + strconv.Itoa(j)
			switch {
			case !domain.Statuses.Has(s):
				fe.Add(p, "invalid_enum", "not a household status", "农户状态无效")
			case slices.Contains(statuses, s):
				// A household in two strata could be drawn twice.
				fe.Add(p, "duplicate", "a status may be in one stratum only", "同一农户状态只能属于一个分层")
			}
			statuses = append(statuses, s)
		}
	}
	p.checkDrawsSomething(fe, prefix)
}

// checkDrawsSomething refuses a plan that would draw no household: no
// village (no poor villages, none sampled per town) or no household in
// one (every stratum's size 0). Such a campaign would be drawn and shown
// as 督查中 with nothing to inspect. Each field that would have to change
// is named.
func (p Plan) checkDrawsSomething(fe *domain.FieldErrors, prefix string) {
	if !p.KeyPoorVillages && p.VillagesPerTown == 0 {
		fe.Add(prefix+"/villages_per_town", "nothing_to_draw", "no village would be drawn: villages_per_town is 0 and key_poor_villages is off",
			"每镇抽查村数为0且不抽重点村（贫困村），抽不到任何村")
	}
	if len(p.Strata) == 0 || slices.ContainsFunc(p.Strata, func(st sampling.Stratum) bool { return st.Size != 0 }) {
		return
	}
	for i := range p.Strata {
		fe.Add(prefix+"/strata/"+strconv.Itoa(i)+"/size", "nothing_to_draw", "no household would be drawn: every stratum's size is 0",
			"各类农户的每村抽查户数均为0，抽不到任何农户")
	}
}
