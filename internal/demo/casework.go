package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/casework"
	"github.com/fieldvisit/fieldvisit/internal/itemledger"
	"github.com/fieldvisit/fieldvisit/storage"
)

// The casework (DESIGN §6b) is drawn from a random stream of its own, after
// the county and its visits: adding it left every household, pairing and
// visit the county had as it was (only a few visits gain the progress they
// recorded on a plan's measure).

// caseworkPlan is the demo's casework: every registered and exited
// household's plan (一户一案), the income accounts of the last two years
// (of the poor, exited and edge households),
// the exit procedures, and the cadres' open ledger items.
type caseworkPlan struct {
	items      []domain.PlanItem
	accounts   []casework.IncomeAccount
	procedures []casework.Procedure // with their steps
	ledger     []ledgerEntry
	// warnings are the edge and watch lists' open warnings, raised by
	// risk triggers the latest visits to a few edge and exited households
	// recorded (监测预警).
	warnings []casework.Warning
}

type ledgerEntry struct {
	r  itemledger.Record
	ev itemledger.Event
}

// CaseworkCounts says what casework the demo holds.
type CaseworkCounts struct {
	PlanItems      int `json:"plan_items"`      // measures of the households' plans (一户一案)
	ProgressVisits int `json:"progress_visits"` // visits that recorded progress on a measure
	IncomeAccounts int `json:"income_accounts"` // accounts of last year and this year
	// ExitProcedures are the exit procedures' households by where they
	// stand: the last step done, or "completed".
	ExitProcedures map[string]string `json:"exit_procedures"`
	LedgerItems    int               `json:"ledger_items"` // open items of the cadres' ledgers
	Warnings       int               `json:"warnings"`     // open warnings on the edge and watch lists
	OverdueItems   int               `json:"overdue_items"`
}

// caseDraw is the casework's own random stream and uuids.
type caseDraw struct {
	*draw
	uuids *rand.ChaCha8
}

func (d caseDraw) newID() uuid.UUID {
	id, err := uuid.NewRandomFromReader(d.uuids)
	if err != nil {
		panic(err) // ChaCha8 never fails to read
	}
	return id
}

// planMeasures are what a plan's measure says, by route.
var planMeasures = map[string][]string{
	"industry":                {"发展油茶种植%d亩", "养殖土鸡%d只，申报产业奖补", "种植茶叶%d亩，加入茶叶合作社", "发展稻虾共养%d亩"},
	"employment":              {"推荐到县产业集聚区务工", "安排公益性岗位（护林员）", "参加%d天技能培训后外出务工", "介绍到村扶贫车间就业"},
	"education":               {"落实雨露计划职业教育补助", "落实义务教育阶段寄宿生生活补助", "申请生源地助学贷款"},
	"medical":                 {"办理慢性病卡，签约家庭医生", "落实健康扶贫“先诊疗后付费”", "资助参加城乡居民医保"},
	"housing_renovation":      {"实施危房改造，补助资金%d万元", "维修加固现有住房"},
	"dibao":                   {"纳入农村低保兜底保障", "落实残疾人两项补贴"},
	"ecological_compensation": {"落实生态公益林补偿", "聘为生态护林员"},
	"microcredit":             {"申请扶贫小额信贷%d万元发展产业"},
	"asset_income":            {"享受村光伏电站收益分红", "入股合作社获得资产收益分红"},
	"other":                   {"协调解决饮水管网入户"},
}

// causeRoutes are the routes a household's causes of poverty point to.
var causeRoutes = map[string]string{
	"illness": "medical", "disability": "dibao", "education": "education", "lack_skills": "employment", "lack_labor": "dibao",
	"lack_funds": "microcredit", "lack_land": "industry", "disaster": "housing_renovation", "poor_transport": "industry",
	"low_motivation": "employment",
}

var progressNotes = []string{"已完成前期申报，等待镇里审批", "苗木已到位，正在栽种", "已落实岗位，本月开始上岗", "补助资金已拨付一半",
	"材料已交镇民政所审核", "已联系合作社，签订收购协议"}

var livelihoodProblems = []string{"反映入户道路雨天泥泞，希望硬化", "自来水水压不足，高峰时段断水", "希望协助办理残疾证",
	"申请将户口迁入本村", "反映村组路灯损坏", "希望帮助联系农产品销路"}

var hardshipProblems = []string{"户主突发疾病住院，医疗费用负担重", "房屋漏雨，需维修", "家中主要劳动力外出务工受伤，暂无收入",
	"子女上学生活费困难", "冬季取暖困难，需棉被和煤炭", "暴雨冲毁部分庄稼"}

// buildCasework draws the casework from its own stream.
func (p *plan) buildCasework(opt Options) *caseworkPlan {
	var seed [32]byte
	for i := 0; i < 8; i++ {
		seed[i] = byte(uint64(opt.Seed) >> (8 * i))
	}
	copy(seed[8:], "fieldvisit demo casework uuids")
	d := caseDraw{draw: &draw{r: rand.New(rand.NewPCG(uint64(opt.Seed), 0xca5e_0f_f11e)), today: p.today}, uuids: rand.NewChaCha8(seed)}
	cp := &caseworkPlan{}
	created := p.today.AddDays(-d.between(200, 300)).Start().Add(9 * time.Hour).UTC()

	// The latest visit of each cadre to each household, for progress.
	type visitKey struct {
		hh *household
		by uuid.UUID
	}
	latest := map[visitKey]*pvisit{}
	if p.visitPlan != nil {
		for _, pv := range p.visitPlan.visits {
			latest[visitKey{pv.hh, pv.c.user.ID}] = pv // by start time: the last one wins
		}
	}

	var registered, edge []*household
	var atRisk []*pvisit // the latest visits to edge and exited households
	for _, hh := range p.households {
		cadreID, ok := activeCadre(hh, p.today)
		st := hh.h.Status
		switch {
		case st == domain.StatusEdge:
			edge = append(edge, hh)
		case st == domain.StatusRegistered:
			registered = append(registered, hh)
		}
		if st == domain.StatusRegistered || st == domain.StatusExited || st == domain.StatusRelapsed || st == domain.StatusEdge {
			cp.accounts = append(cp.accounts, d.incomeAccounts(hh, p.today, created)...)
		}
		if pv := latest[visitKey{hh, cadreID}]; ok && pv != nil && (st == domain.StatusEdge || st == domain.StatusExited) {
			atRisk = append(atRisk, pv)
		}
		if !ok || (st != domain.StatusRegistered && st != domain.StatusExited) {
			continue
		}
		for _, it := range d.planItems(hh, cadreID, p.today, created) {
			if pv := latest[visitKey{hh, cadreID}]; pv != nil && it.State == domain.PlanInProgress && len(pv.v.PlanProgress) == 0 &&
				pv.v.StartedAt.After(it.CreatedAt) && d.chance(0.4) {
				pv.v.PlanProgress = append(pv.v.PlanProgress, domain.PlanProgress{PlanItemID: it.ID, Note: pick(d.draw, progressNotes)})
			}
			cp.items = append(cp.items, it)
		}
	}
	cp.procedures = p.exitProcedures(d, registered, cp)
	cp.ledger = p.ledgerItems(d, registered, edge)
	cp.warnings = riskWarnings(d, atRisk)
	return cp
}

// riskWarnings puts risk triggers on the latest visits to four edge and
// three exited households, and the warnings they raise: the console's
// 监测预警 page is not empty, on both lists.
func riskWarnings(d caseDraw, visits []*pvisit) []casework.Warning {
	var out []casework.Warning
	edge, watch := 0, 0
	for _, pv := range visits {
		list := casework.ListWatch
		if pv.hh.h.Status == domain.StatusEdge {
			if edge++; edge > 4 {
				continue
			}
			list = casework.ListEdge
		} else if watch++; watch > 3 {
			continue
		}
		t := domain.RiskTriggers[d.between(0, len(domain.RiskTriggers)-1)]
		note := pick(d.draw, riskNotes[t.Code])
		pv.v.RiskTriggers = append(pv.v.RiskTriggers, domain.RiskTrigger{Code: t.Code, Note: note})
		out = append(out, casework.Warning{ID: casework.WarningID(pv.v.ID, t.Code), CountyID: pv.v.CountyID, HouseholdID: pv.v.HouseholdID, List: list,
			Trigger: t.Code, Note: note, VisitID: pv.v.ID, SeenOn: domain.DateOf(pv.v.StartedAt), CadreID: pv.v.CadreID, State: casework.WarningOpen,
			CreatedAt: pv.v.ReceivedAt, Version: 1})
	}
	return out
}

// riskNotes are what a cadre wrote of a risk they saw.
var riskNotes = map[string][]string{
	"serious_illness": {"户主确诊肺癌，正在县医院治疗", "妻子突发脑梗住院，医药费较高"},
	"disability":      {"儿子务工时受伤致残，暂无劳动能力", "户主车祸后腿部残疾"},
	"disaster":        {"暴雨致房屋后墙倒塌", "冰雹毁坏两亩烟叶"},
	"income_drop":     {"养殖的生猪价格下跌，收入减少一半", "光伏分红停发，收入骤减"},
	"job_loss":        {"在外务工的儿子失业返乡", "工厂停工，夫妻二人务工中断"},
	"education_costs": {"两个孩子同时上高中，学费生活费负担重", "女儿考上大学，需筹措学费"},
	"housing_unsafe":  {"房屋墙体出现裂缝，需鉴定", "屋顶漏雨，梁木腐朽"},
}

// activeCadre is the cadre paired with the household on day.
func activeCadre(hh *household, day domain.Date) (uuid.UUID, bool) {
	for i := len(hh.pairings) - 1; i >= 0; i-- {
		if hh.pairings[i].ActiveOn(day) {
			return hh.pairings[i].CadreID, true
		}
	}
	return uuid.Nil, false
}

// planItems draws 1–3 measures for a household, on routes its causes of
// poverty point to: an exited household's are done, a registered one's
// planned, under way (a few overdue) or done.
func (d caseDraw) planItems(hh *household, cadreID uuid.UUID, today domain.Date, created time.Time) []domain.PlanItem {
	routes := []string{}
	seen := map[string]bool{}
	add := func(r string) {
		if !seen[r] {
			seen[r] = true
			routes = append(routes, r)
		}
	}
	for _, c := range hh.h.Causes {
		if r, ok := causeRoutes[c]; ok {
			add(r)
		}
	}
	if g := hh.h.HousingSafetyGrade; g == "C" || g == "D" {
		add("housing_renovation")
	}
	if hh.village.region.IsPoorVillage {
		add("asset_income")
	}
	add(pick(d.draw, []string{"industry", "employment"}))
	d.r.Shuffle(len(routes), func(i, j int) { routes[i], routes[j] = routes[j], routes[i] })
	routes = routes[:min(len(routes), d.between(1, 3))]

	out := make([]domain.PlanItem, 0, len(routes))
	for _, r := range routes {
		measure := pick(d.draw, planMeasures[r])
		switch r {
		case "housing_renovation", "microcredit":
			measure = fmt.Sprintf(measure, d.between(2, 5))
		default:
			if strings.Contains(measure, "%d") {
				measure = fmt.Sprintf(measure, d.between(2, 30))
			}
		}
		state, target := domain.PlanDone, today.AddDays(-d.between(30, 400))
		if hh.h.Status == domain.StatusRegistered {
			switch d.weighted(0.3, 0.45, 0.25) {
			case 0:
				state, target = domain.PlanPlanned, today.AddDays(d.between(30, 300))
			case 1:
				state, target = domain.PlanInProgress, today.AddDays(d.between(-30, 200)) // some overdue
			}
		}
		out = append(out, domain.PlanItem{ID: d.newID(), CountyID: hh.h.CountyID, HouseholdID: hh.h.ID,
			PlanItemDetails: domain.PlanItemDetails{Route: r, Measure: measure, ResponsibleCadreID: cadreID, TargetOn: target, State: state},
			Version:         1, CreatedBy: cadreID, UpdatedBy: cadreID, CreatedAt: created, UpdatedAt: created})
	}
	return out
}

// incomeAccounts draws last year's and this year's accounts around the
// exit standard (3,335 yuan per head): many registered households above it
// (qualifiers), some just below (near-misses), exited households well
// above, relapsed ones below, edge households on either side of it.
func (d caseDraw) incomeAccounts(hh *household, today domain.Date, created time.Time) []casework.IncomeAccount {
	var perHead int // yuan, this year
	switch hh.h.Status {
	case domain.StatusExited:
		perHead = d.between(4500, 12000)
	case domain.StatusRelapsed:
		perHead = d.between(1500, 3200)
	case domain.StatusEdge: // monitored (防止返贫监测): just above the line or slipping
		perHead = d.between(2600, 4200)
	default:
		switch d.weighted(0.45, 0.2, 0.35) {
		case 0:
			perHead = d.between(3335, 5200)
		case 1:
			perHead = d.between(3000, 3334)
		default:
			perHead = d.between(1800, 2999)
		}
	}
	n := len(hh.members)
	return []casework.IncomeAccount{
		d.account(hh, today.Year-1, int(float64(perHead)*d.uniform(0.85, 1)), n, created),
		d.account(hh, today.Year, perHead, n, created),
	}
}

// account splits a year's net income of perHead yuan a head into sources
// and costs, in whole yuan, so the per-capita figure is exactly perHead.
func (d caseDraw) account(hh *household, year, perHead, n int, created time.Time) casework.IncomeAccount {
	net := int64(perHead * n)
	costs := int64(float64(net) * d.uniform(0.05, 0.15))
	gross := net + costs
	weights := []float64{d.uniform(0.2, 0.6), d.uniform(0.1, 0.4), d.uniform(0.05, 0.2), d.uniform(0.02, 0.1), 0}
	if hh.village.region.IsPoorVillage {
		weights[4] = d.uniform(0.02, 0.08)
	}
	var sum float64
	for _, w := range weights {
		sum += w
	}
	amounts := make([]int64, len(weights))
	left := gross
	for i := 1; i < len(weights); i++ {
		amounts[i] = int64(float64(gross) * weights[i] / sum)
		left -= amounts[i]
	}
	amounts[0] = left // wages take the rounding
	return casework.IncomeAccount{ID: casework.IncomeAccountID(hh.h.ID, year), CountyID: hh.h.CountyID, HouseholdID: hh.h.ID, Year: year,
		IncomeFields: casework.IncomeFields{WagesFen: amounts[0] * 100, BusinessFen: amounts[1] * 100, TransfersFen: amounts[2] * 100,
			PensionsFen: amounts[3] * 100, PropertyFen: amounts[4] * 100, CostsFen: costs * 100, MembersCounted: n},
		Version: 1, CreatedAt: created, UpdatedAt: created}
}

// exitProcedures opens an exit for three registered households that
// qualify as the service judges them (casework.Judge: income and the
// latest visits' 两不愁三保障 — the announcement is refused to any other),
// one at each step of 两公示一公告 (village review done, first notice done,
// second notice done), and records the completed procedure of the
// household that exited last.
func (p *plan) exitProcedures(d caseDraw, registered []*household, cp *caseworkPlan) []casework.Procedure {
	st := casework.DefaultExitStandard(p.today.Year)
	standards := map[int]casework.ExitStandard{st.Year: st}
	accounts := map[uuid.UUID]map[int]casework.IncomeAccount{}
	for _, a := range cp.accounts {
		if a.Year == st.Year {
			accounts[a.HouseholdID] = map[int]casework.IncomeAccount{a.Year: a}
		}
	}
	checklists := map[uuid.UUID]map[string]casework.ChecklistAnswer{}
	if p.visitPlan != nil {
		for _, pv := range p.visitPlan.visits { // by start time: the latest answer wins
			for item, e := range pv.v.Checklist {
				if checklists[pv.v.HouseholdID] == nil {
					checklists[pv.v.HouseholdID] = map[string]casework.ChecklistAnswer{}
				}
				checklists[pv.v.HouseholdID][item] = casework.ChecklistAnswer{Answer: e.Answer, VisitID: pv.v.ID, On: domain.DateOf(pv.v.StartedAt)}
			}
		}
	}
	var out []casework.Procedure
	by := p.supervisor.ID
	for _, hh := range registered {
		if len(out) == 3 {
			break
		}
		if !casework.Judge(hh.h, st, standards, accounts[hh.h.ID], checklists[hh.h.ID], nil).Qualifies { // no risk is drawn at a registered household
			continue
		}
		steps := len(out) + 1 // 1, 2 then 3 steps done
		start := p.today.AddDays(-30)
		out = append(out, exitProcedure(d, hh, p.today.Year, start, steps, by))
	}
	// The household that exited last, its procedure completed on the day
	// its exit took effect.
	var last *household
	var lastOn domain.Date
	var exitYear int
	for _, hh := range p.households {
		if hh.h.Status != domain.StatusExited {
			continue
		}
		for _, s := range hh.steps {
			if s.sc.To == domain.StatusExited && s.sc.ExitYear != nil && (last == nil || s.sc.EffectiveOn.After(lastOn)) {
				last, lastOn, exitYear = hh, s.sc.EffectiveOn, *s.sc.ExitYear
			}
		}
	}
	if last != nil {
		pr := exitProcedure(d, last, exitYear, lastOn.AddDays(-3*(casework.NoticeDays+1)), 4, by)
		pr.Status = casework.ProcedureCompleted
		out = append(out, pr)
	}
	return out
}

// exitProcedure is a household's exit with its first done steps, a
// notice's seven days apart, from start.
func exitProcedure(d caseDraw, hh *household, year int, start domain.Date, done int, by uuid.UUID) casework.Procedure {
	at := start.Start().Add(10 * time.Hour)
	pr := casework.Procedure{ID: d.newID(), CountyID: hh.h.CountyID, HouseholdID: hh.h.ID, RegionPath: hh.path, Kind: casework.KindExit,
		Year: year, Status: casework.ProcedureOpen, CreatedBy: by, CreatedAt: at.UTC(), Version: 1}
	day := start
	for i, def := range casework.Kinds[casework.KindExit][:done] {
		st := casework.Step{ID: d.newID(), ProcedureID: pr.ID, Code: def.Code, Seq: i + 1, DoneOn: day, RecordedBy: by,
			RecordedAt: day.Start().Add(16 * time.Hour).UTC()}
		if i == 0 {
			st.Confirmed = []string{"livelihood", "agreement"}
			st.Note = "村民代表大会评议通过，同意脱贫退出"
		} else {
			st.DocumentIDs = []string{fmt.Sprintf("示范县脱贫退出公示〔%d〕%d号", year, d.between(1, 60))}
			st.Note = def.NameZH + "无异议"
		}
		pr.Steps = append(pr.Steps, st)
		pr.UpdatedAt = st.RecordedAt
		day = day.AddDays(1)
		if def.Notice || i == 0 {
			day = day.AddDays(casework.NoticeDays)
		}
	}
	return pr
}

// ledgerItems draws the cadres' open ledger items: requests and hardships
// heard on visits at registered and edge households, cadre01's first, a
// third of them past their deadline.
func (p *plan) ledgerItems(d caseDraw, registered, edge []*household) []ledgerEntry {
	var hhs []*household
	hhs = append(hhs, p.cadres[0].households...)
	for i := 0; i < len(registered); i += max(1, len(registered)/20) {
		hhs = append(hhs, registered[i])
	}
	for i := 0; i < len(edge) && i < 5; i++ {
		hhs = append(hhs, edge[i])
	}
	var out []ledgerEntry
	seen := map[*household]bool{}
	for _, hh := range hhs {
		cadreID, ok := activeCadre(hh, p.today)
		if !ok || seen[hh] || (hh.h.Status != domain.StatusRegistered && hh.h.Status != domain.StatusEdge) {
			continue
		}
		seen[hh] = true
		kind, problem := itemledger.KindLivelihoodRequest, pick(d.draw, livelihoodProblems)
		if hh.h.Status == domain.StatusEdge || len(out)%2 == 1 {
			kind, problem = itemledger.KindHardship, pick(d.draw, hardshipProblems)
		}
		recorded := p.today.AddDays(-d.between(5, 50))
		deadline := recorded.AddDays(d.between(7, 30))
		if len(out)%3 == 0 {
			deadline = p.today.AddDays(-d.between(1, 4)) // overdue
		} else if !deadline.After(p.today) {
			deadline = p.today.AddDays(d.between(3, 20))
		}
		at := recorded.Start().Add(15 * time.Hour).UTC()
		hid, by := hh.h.ID, cadreID
		r := itemledger.Record{ID: d.newID(), CountyID: hh.h.CountyID, Kind: kind, Problem: hh.h.HeadName + "家" + problem, HouseholdID: &hid,
			VillageID: hh.village.region.ID, RegionPath: hh.path, ResponsibleUserID: &by,
			Item: itemledger.Item{Status: itemledger.Open, Deadline: deadline}, CreatedBy: cadreID, CreatedAt: at, UpdatedAt: at, Version: 1}
		out = append(out, ledgerEntry{r: r, ev: itemledger.Event{ID: d.newID(), ItemID: r.ID, Action: itemledger.Create, To: itemledger.Open, By: cadreID, At: at}})
	}
	return out
}

// writeCasework stores the casework in one transaction, through the same
// storage writes the services use.
func (cp *caseworkPlan) write(ctx context.Context, store *storage.Store) error {
	none := domain.AuditEntry{} // the demo's one audit entry is written at the end
	return store.Tx(ctx, func(tx *storage.Store) error {
		for _, it := range cp.items {
			if err := tx.InsertPlanItem(ctx, it); err != nil {
				return fmt.Errorf("create plan item: %w", err)
			}
		}
		for _, a := range cp.accounts {
			if err := tx.SaveIncomeAccount(ctx, a, 0, none); err != nil {
				return fmt.Errorf("create income account %d: %w", a.Year, err)
			}
		}
		for _, pr := range cp.procedures {
			open := pr
			open.Status, open.Steps, open.Version, open.UpdatedAt = casework.ProcedureOpen, nil, 1, pr.CreatedAt
			if err := tx.CreateProcedure(ctx, open, none); err != nil {
				return fmt.Errorf("create exit procedure: %w", err)
			}
			for i, st := range pr.Steps {
				open.Version++
				open.UpdatedAt = st.RecordedAt
				if i == len(pr.Steps)-1 {
					open.Status = pr.Status
				}
				if err := tx.AddStep(ctx, open, st, open.Version-1, none); err != nil {
					return fmt.Errorf("record exit step %s: %w", st.Code, err)
				}
			}
		}
		for _, e := range cp.ledger {
			if err := tx.CreateLedgerItem(ctx, e.r, e.ev, none); err != nil {
				return fmt.Errorf("create ledger item: %w", err)
			}
		}
		if err := tx.InsertWarnings(ctx, cp.warnings); err != nil {
			return fmt.Errorf("create warnings: %w", err)
		}
		return nil
	})
}

// counts are the Summary's numbers about the casework.
func (cp *caseworkPlan) counts(p *plan) CaseworkCounts {
	c := CaseworkCounts{PlanItems: len(cp.items), IncomeAccounts: len(cp.accounts), LedgerItems: len(cp.ledger), Warnings: len(cp.warnings),
		ExitProcedures: map[string]string{}}
	if p.visitPlan != nil {
		for _, pv := range p.visitPlan.visits {
			if len(pv.v.PlanProgress) > 0 {
				c.ProgressVisits++
			}
		}
	}
	number := map[uuid.UUID]string{}
	for _, hh := range p.households {
		number[hh.h.ID] = hh.h.Number
	}
	for _, pr := range cp.procedures {
		at := pr.Steps[len(pr.Steps)-1].Code
		if pr.Status == casework.ProcedureCompleted {
			at = casework.ProcedureCompleted
		}
		c.ExitProcedures[number[pr.HouseholdID]] = at
	}
	for _, e := range cp.ledger {
		if e.r.Item.State(p.today) == itemledger.Overdue {
			c.OverdueItems++
		}
	}
	return c
}
