package demo

// The inspection teams' work in the demo county (DESIGN §7), so that a new
// user finds it without doing any:
//   - a finished announced campaign (明查) over one town: drawn, with
//     findings for every sampled household and village — most households
//     fine, a few with a 两不愁三保障 problem their cadre's latest visit
//     recorded as met, and one household of a planted fake-visit cadre
//     (visits.go) that remembers one visit in three months and does not know
//     its cadre, which the campaign's report lists as a likely paper visit
//     (纸上帮扶);
//   - its rectifications (整改台账): one closed (销号) on the cadre's
//     follow-up visit and its photos, one submitted awaiting approval, one
//     in progress (the paper-visit household's), one overdue; a supervision
//     order (督办单) to the town with the town's answer, and a warning
//     (黄牌警告) to the fake-visit cadre;
//   - a running unannounced campaign (明察暗访) over another town, drawn,
//     whose tasks are on the `inspector` account's phone, hidden from the
//     town's own office and cadres until it ends.
//
// Everything goes through the inspection and ledger services, so the demo
// holds only what a user's requests could have made. The finished campaign
// happened in the weeks before Today, and the services judge dates (a
// deadline not in the past, an answer not before its order) by their
// clock, so the demo runs them on a clock it moves from step to step.
//
// Draws are random by design; the demo's must hold the story. The sampling
// package is pure, so the demo previews the draw of each town's population
// as stored, seed after seed, and draws with the first seed whose sample
// holds the best fake-visit household to be had and a household for each
// rectification (one whose cadre visited it again after the campaign, for
// the closed and the submitted one). A county too small for the whole
// story gets as much of it as its samples allow; the Summary says what.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/inspect"
	"github.com/fieldvisit/fieldvisit/internal/inspect/discrepancy"
	"github.com/fieldvisit/fieldvisit/internal/inspect/forms"
	"github.com/fieldvisit/fieldvisit/internal/inspect/sampling"
	"github.com/fieldvisit/fieldvisit/internal/itemledger"
	"github.com/fieldvisit/fieldvisit/storage"
)

// Inspections is what the demo asks of the inspection service
// (inspect.Service).
type Inspections interface {
	CreateCampaign(ctx context.Context, p domain.Principal, in inspect.NewCampaign) (inspect.Campaign, error)
	Draw(ctx context.Context, p domain.Principal, id uuid.UUID, seed string) (inspect.Drawn, error)
	RecordFindings(ctx context.Context, p domain.Principal, in inspect.FindingInput) (inspect.Finding, bool, error)
	End(ctx context.Context, p domain.Principal, id uuid.UUID) (inspect.Campaign, error)
	IssueAction(ctx context.Context, p domain.Principal, in inspect.NewAction) (inspect.NamedAction, error)
	FollowUpAction(ctx context.Context, p domain.Principal, id uuid.UUID, in inspect.FollowUp) (inspect.NamedAction, error)
}

// Rectifications is what the demo asks of the rectification ledger
// (itemledger.Service).
type Rectifications interface {
	Create(ctx context.Context, p domain.Principal, in itemledger.NewItem) (itemledger.View, error)
	Act(ctx context.Context, p domain.Principal, kind string, id uuid.UUID, a itemledger.Step) (itemledger.View, error)
}

// InspectionServices returns the services judging time by now.
type InspectionServices func(now func() time.Time) (Inspections, Rectifications)

// Inspection is a campaign the demo holds, as the Summary lists it.
type Inspection struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Mode       string `json:"mode"`
	Status     string `json:"status"`
	Town       string `json:"town"`
	Households int    `json:"households"` // sampled
	// PaperHouseholds are the numbers of the sampled households whose
	// account contradicts their cadre's records (the report's likely
	// paper visits), with their cadres' usernames.
	PaperHouseholds []string `json:"paper_households,omitempty"`
	PaperCadres     []string `json:"paper_cadres,omitempty"`
	// Rectifications counts the campaign's items by state on Today.
	Rectifications map[string]int `json:"rectifications,omitempty"`
	Actions        int            `json:"actions,omitempty"` // accountability actions
	Note           string         `json:"note"`
}

// The finished campaign's days, counted back from Today: it was held some
// five weeks ago, so its rectifications have had time to move.
const (
	finishedCreated    = 45 // announced a week ahead
	finishedDrawn      = 38
	finishedFrom       = 37 // the inspectors' first day in the villages
	finishedTo         = 30
	finishedEnded      = 29
	itemsRegistered    = 28 // the rectification notices go out
	itemDeadline       = 40 // days to rectify, from registration
	overdueDeadline    = 21 // an urgent item's, which has passed
	evidenceFrom       = 27 // a follow-up visit counts as evidence from then…
	closedBy           = 3  // …and is approved by then, a day or more after
	followedUp         = 14 // the town answers the supervision order
	runningCreated     = 2  // the unannounced campaign is set up…
	runningDrawn       = 1  // …and drawn the evening before it starts on Today
	runningDays        = 7
	previewSeeds       = 200 // seeds previewed for the finished campaign's draw
	findingMinutes     = 40  // an inspector's time per household
	firstFindingMinute = 8*60 + 30
)

// inspectionDraw is the inspections' random stream, apart from the
// county's and the visits' so those are the same with or without it.
func inspectionDraw(opt Options) *draw {
	return &draw{r: rand.New(rand.NewPCG(uint64(opt.Seed), 0x1a5_9ec7_10a5)), today: opt.Today}
}

// inspectionSeeder replays the campaigns through the services.
type inspectionSeeder struct {
	p      *plan
	store  *storage.Store
	d      *draw
	clock  time.Time
	insp   Inspections
	ledger Rectifications

	cadres  map[uuid.UUID]*cadre
	faking  map[*cadre]bool // the cadres of the planted fake-visit patterns
	byID    map[uuid.UUID]*household
	visits  map[*household][]*pvisit
	facts   map[*household][]inspect.VisitFact
	sup     domain.Principal
	checker domain.Principal
}

// at sets the services' clock to a minute of the day daysAgo before Today.
func (s *inspectionSeeder) at(daysAgo, minute int) {
	s.clock = s.p.today.AddDays(-daysAgo).Start().Add(time.Duration(minute) * time.Minute)
}

func principal(u domain.User) domain.Principal {
	return domain.Principal{UserID: u.ID, Username: u.Username, Role: u.Role, RegionID: u.RegionID, RegionPath: u.RegionPath, Duties: u.Duties}
}

// seedInspections seeds the campaigns of the file comment.
func (p *plan) seedInspections(ctx context.Context, store *storage.Store, opt Options, pr progress) ([]Inspection, error) {
	s := &inspectionSeeder{p: p, store: store, d: inspectionDraw(opt), cadres: map[uuid.UUID]*cadre{}, faking: map[*cadre]bool{},
		byID: map[uuid.UUID]*household{}, visits: map[*household][]*pvisit{}, facts: map[*household][]inspect.VisitFact{},
		sup: principal(p.supervisor), checker: principal(p.inspector)}
	s.insp, s.ledger = opt.Inspections(func() time.Time { return s.clock })
	for _, c := range p.cadres {
		s.cadres[c.user.ID] = c
	}
	for _, pt := range p.visitPlan.patterns {
		for _, c := range p.cadres {
			if pt.Cadre != "" && c.user.Username == pt.Cadre {
				s.faking[c] = true
			}
		}
	}
	for _, hh := range p.households {
		s.byID[hh.h.ID] = hh
	}
	for _, pv := range p.visitPlan.visits {
		s.visits[pv.hh] = append(s.visits[pv.hh], pv)
		s.facts[pv.hh] = append(s.facts[pv.hh], visitFact(pv))
	}
	pr.report("inspections", 0, 2)
	finished, town, err := s.finished(ctx)
	if err != nil {
		return nil, err
	}
	pr.report("inspections", 1, 2)
	running, err := s.running(ctx, town)
	if err != nil {
		return nil, err
	}
	pr.report("inspections", 2, 2)
	return []Inspection{finished, running}, nil
}

func visitFact(pv *pvisit) inspect.VisitFact {
	cl := make(map[string]string, len(pv.v.Checklist))
	for item, e := range pv.v.Checklist {
		cl[item] = e.Answer
	}
	return inspect.VisitFact{ID: pv.v.ID, HouseholdID: pv.v.HouseholdID, CadreID: pv.v.CadreID, Kind: pv.v.Kind, StartedAt: pv.v.StartedAt.UTC(),
		Measures: pv.v.Measures, Checklist: cl}
}

// inspected is a sampled household as the demo's inspector meets it.
type inspected struct {
	hh      *household
	drawn   inspect.SampledHousehold
	at      time.Time // its findings are recorded
	cadre   *cadre    // responsible on that day
	facts   discrepancy.Facts
	role    string // one of the roles below
	problem string // the 两不愁三保障 item found with a problem
	finding uuid.UUID
}

// Roles of an inspected household in the demo's story.
const (
	roleFine      = ""
	rolePaper     = "paper"       // the fake-visit household
	roleClosed    = "closed"      // its problem is rectified and 销号
	roleSubmitted = "submitted"   // rectified, awaiting approval
	roleProgress  = "in_progress" // being rectified
	roleOverdue   = "overdue"     // past its deadline
)

// schedule gives each sampled household the time its findings are
// recorded: a village a day, in the sample's order, households one after
// another from the morning on.
func (s *inspectionSeeder) schedule(villages []sampling.DrawnVillage, households []inspect.SampledHousehold) []*inspected {
	day := map[uuid.UUID]int{}
	for i, v := range villages {
		day[v.ID] = min(i, finishedFrom-finishedTo)
	}
	next := map[uuid.UUID]int{}
	out := make([]*inspected, 0, len(households))
	for _, h := range households {
		hh := s.byID[h.HouseholdID]
		if hh == nil {
			continue // not the demo's: drawn from a population the demo did not write
		}
		in := &inspected{hh: hh, drawn: h, at: s.p.today.AddDays(-finishedFrom + day[h.VillageID]).Start().
			Add(time.Duration(firstFindingMinute+findingMinutes*next[h.VillageID]) * time.Minute)}
		next[h.VillageID]++
		if id := inspect.ResponsibleCadre(hh.pairings, hh.h.ID, domain.DateOf(in.at)); id != nil {
			in.cadre = s.cadres[*id]
		}
		in.facts = s.householdFacts(in, nil)
		out = append(out, in)
	}
	return out
}

// householdFacts are the facts the campaign's report weighs for the
// household, given the answers recorded.
func (s *inspectionSeeder) householdFacts(in *inspected, answers map[string]forms.Answer) discrepancy.Facts {
	var cadre *uuid.UUID
	if in.cadre != nil {
		id := in.cadre.user.ID
		cadre = &id
	}
	return inspect.HouseholdFacts(in.drawn, inspect.Finding{Answers: answers, RecordedAt: in.at}, cadre, s.facts[in.hh])
}

// paperAnswers are the fake-visit household's: one visit remembered, the
// cadre unknown, no measure received, unhappy, and the inspector finds a
// problem the cadre's visits recorded as met.
func paperAnswers(in *inspected) map[string]forms.Answer {
	a := baseAnswers(in, nil)
	a[forms.ItemVisitsRecalled] = forms.Answer{Count: ptr(1)}
	a[forms.ItemCadreRecognised] = forms.Answer{Yes: ptr(false)}
	delete(a, forms.ItemMeasures)
	a[forms.ItemEffect] = forms.Answer{Choice: "none"}
	a[forms.ItemPlanSeen] = forms.Answer{Yes: ptr(false)}
	a[forms.ItemSatisfaction] = forms.Answer{Choice: "unsatisfied"}
	a[forms.ItemAwareness] = forms.Answer{Choice: "partly"}
	note := fmt.Sprintf("农户反映近三个月只见过帮扶干部1次，说不出帮扶干部姓名，也不清楚享受了哪些帮扶措施；干部走访记录为%d次。", in.facts.RecordedVisits)
	if in.problem != "" {
		a[in.problem] = forms.Answer{Choice: "problem"}
		note += problems[in.problem].finding
	}
	a[forms.ItemNote] = forms.Answer{Text: note}
	return a
}

// story is how good a demo a draw makes, best first by: the
// rectifications' roles it fills, how many recorded visits (up to five)
// its fake-visit household denies (-1: it has none), and that household's
// score.
type story struct{ roles, denied, points int }

func (a story) beats(b story) bool {
	switch {
	case a.roles != b.roles:
		return a.roles > b.roles
	case a.denied != b.denied:
		return a.denied > b.denied
	}
	return a.points > b.points
}

var noStory = story{roles: -1, denied: -1}

// paperScore weighs the household as the fake-visit one: the problem the
// inspector finds there, and the story's paper part (denied -1 when the
// household will not do).
func (s *inspectionSeeder) paperScore(in *inspected) (string, story) {
	if in.cadre == nil || !s.faking[in.cadre] || in.drawn.Stratum != sampling.StratumPoor || in.facts.RecordedVisits < 1 {
		return "", noStory
	}
	as := *in
	as.problem = pickProblem(in.facts.CadreMet, []string{"housing", "water", "medical", "education"}, nil)
	sc := discrepancy.Weigh(s.householdFacts(&as, paperAnswers(&as)))
	if !sc.LikelyPaper {
		return "", noStory
	}
	return as.problem, story{denied: min(in.facts.RecordedVisits, 5), points: sc.Points}
}

// bestPaper is the sampled household that makes the best fake-visit
// household (nil when none will do), with its part of the story.
func (s *inspectionSeeder) bestPaper(ins []*inspected) (*inspected, story) {
	var best *inspected
	top := noStory
	for _, in := range ins {
		if _, st := s.paperScore(in); st.denied >= 0 && st.beats(top) {
			best, top = in, st
		}
	}
	return best, top
}

// previewSeed finds, for the town, the first seed whose draw tells the
// whole story — every rectification's role filled, and a fake-visit
// household denying as many visits as the town's can (bound) — or else
// the best story any seed tells.
func (s *inspectionSeeder) previewSeed(ctx context.Context, t *town, plan inspect.Plan, bound int) (string, story, error) {
	pop, err := s.store.Population(ctx, t.region.Path)
	if err != nil {
		return "", noStory, err
	}
	seed, best := "", story{roles: -2}
	for n := 1; n <= previewSeeds; n++ {
		try := fmt.Sprintf("demo-%s-%d", strings.ReplaceAll(s.p.today.AddDays(-finishedDrawn).String(), "-", ""), n)
		smp := sampling.Draw(pop, plan.Plan, try, nil)
		hs := make([]inspect.SampledHousehold, len(smp.Households))
		for i, h := range smp.Households {
			hs[i] = inspect.SampledHousehold{HouseholdID: h.ID, CountyID: s.p.county.ID, VillageID: h.VillageID, TownID: h.TownID, Stratum: h.Stratum}
		}
		ins := s.schedule(smp.Villages, hs)
		_, st := s.bestPaper(ins)
		st.roles = s.cast(ins)
		if st.beats(best) {
			seed, best = try, st
			if st.roles == len(storyRoles) && st.denied >= bound {
				break
			}
		}
	}
	return seed, best, nil
}

// paperBound is the most recorded visits (up to five) a fake-visit
// household of the town can deny, whichever day of the campaign it is
// inspected; -1 when none will do.
func (s *inspectionSeeder) paperBound(t *town, plan inspect.Plan) int {
	var poor []string
	for _, st := range plan.Strata {
		if st.Code == sampling.StratumPoor {
			poor = st.Statuses
		}
	}
	best := -1
	for c := range s.faking {
		for _, hh := range c.households {
			if hh.village.town != t || !slices.Contains(poor, hh.h.Status) {
				continue
			}
			for day := finishedFrom; day >= finishedTo; day-- {
				in := &inspected{hh: hh, at: s.p.today.AddDays(-day).Start().Add(firstFindingMinute * time.Minute),
					drawn: inspect.SampledHousehold{HouseholdID: hh.h.ID, VillageID: hh.village.region.ID, TownID: t.region.ID, Stratum: sampling.StratumPoor}}
				if id := inspect.ResponsibleCadre(hh.pairings, hh.h.ID, domain.DateOf(in.at)); id != nil {
					in.cadre = s.cadres[*id]
				}
				in.facts = s.householdFacts(in, nil)
				_, st := s.paperScore(in)
				best = max(best, st.denied)
			}
		}
	}
	return best
}

// finished seeds the finished campaign over the town where the draw finds
// the best fake-visit household, and returns it with that town.
func (s *inspectionSeeder) finished(ctx context.Context) (Inspection, *town, error) {
	plan := inspect.DefaultPlan()
	towns := slices.DeleteFunc(slices.Clone(s.p.towns), func(t *town) bool { return !s.hasFaker(t) })
	if len(towns) == 0 {
		towns = s.p.towns[:1]
	}
	bounds := map[*town]int{}
	for _, t := range towns {
		bounds[t] = s.paperBound(t, plan)
	}
	slices.SortStableFunc(towns, func(a, b *town) int { return bounds[b] - bounds[a] })
	var town *town
	seed, best := "", story{roles: -3}
	for i, t := range towns {
		sd, st, err := s.previewSeed(ctx, t, plan, bounds[t])
		if err != nil {
			return Inspection{}, nil, err
		}
		if st.beats(best) {
			town, seed, best = t, sd, st
		}
		if i+1 < len(towns) && best.roles == len(storyRoles) && best.denied >= bounds[towns[i+1]] {
			break // the other towns can do no better
		}
	}
	from, to := s.p.today.AddDays(-finishedFrom), s.p.today.AddDays(-finishedTo)
	name := fmt.Sprintf("%s%d年第%s季度督查", town.region.Name, from.Year, []string{"一", "二", "三", "四"}[(from.Month-1)/3])
	s.at(finishedCreated, 10*60)
	c, err := s.insp.CreateCampaign(ctx, s.sup, inspect.NewCampaign{RegionID: town.region.ID, Name: name, PeriodFrom: from, PeriodTo: to,
		Mode: inspect.ModeAnnounced, Plan: &plan, Inspectors: []uuid.UUID{s.p.inspector.ID}})
	if err != nil {
		return Inspection{}, nil, fmt.Errorf("create the campaign %s: %w", name, err)
	}
	s.at(finishedDrawn, 9*60)
	drawn, err := s.insp.Draw(ctx, s.sup, c.ID, seed)
	if err != nil {
		return Inspection{}, nil, fmt.Errorf("draw the campaign %s: %w", name, err)
	}
	ins := s.schedule(drawn.Sample.Villages, drawn.Sample.Households)
	s.cast(ins)
	if err := s.recordFindings(ctx, c.ID, drawn.Sample.Villages, ins); err != nil {
		return Inspection{}, nil, fmt.Errorf("record the findings of %s: %w", name, err)
	}
	s.at(finishedEnded, 16*60)
	if _, err := s.insp.End(ctx, s.sup, c.ID); err != nil {
		return Inspection{}, nil, fmt.Errorf("end the campaign %s: %w", name, err)
	}
	out := Inspection{ID: c.ID.String(), Name: name, Mode: c.Mode, Status: inspect.StatusEnded, Town: town.region.Name,
		Households: len(drawn.Sample.Households), Rectifications: map[string]int{}}
	for _, in := range ins {
		if in.role == rolePaper {
			out.PaperHouseholds = append(out.PaperHouseholds, in.hh.h.Number)
			out.PaperCadres = append(out.PaperCadres, in.cadre.user.Username)
		}
	}
	if err := s.rectify(ctx, c, town, ins, &out); err != nil {
		return Inspection{}, nil, fmt.Errorf("rectifications of %s: %w", name, err)
	}
	items := 0
	for _, n := range out.Rectifications {
		items += n
	}
	out.Note = fmt.Sprintf("明查，已结束：抽查%d户，全部核查完毕；%d户疑似纸上帮扶；整改事项%d项，问责%d起", out.Households, len(out.PaperHouseholds), items, out.Actions)
	return out, town, nil
}

func (s *inspectionSeeder) hasFaker(t *town) bool {
	for c := range s.faking {
		for _, hh := range c.households {
			if hh.village.town == t {
				return true
			}
		}
	}
	return false
}

func countRole(ins []*inspected, role string) int {
	n := 0
	for _, in := range ins {
		if in.role == role {
			n++
		}
	}
	return n
}

// storyRoles are the rectifications' roles.
var storyRoles = []string{roleClosed, roleSubmitted, roleOverdue, roleProgress}

// cast picks the households of the story: the fake-visit one, and those
// whose problems become the rectifications — the closed and the submitted
// one each with a follow-up visit of their cadre (an honest one where the
// sample allows) to show for it.
// It returns how many rectifications' roles it filled.
func (s *inspectionSeeder) cast(ins []*inspected) int {
	if paper, _ := s.bestPaper(ins); paper != nil {
		paper.role = rolePaper
		paper.problem, _ = s.paperScore(paper)
	}
	today := s.p.today
	used := map[string]bool{}
	for _, in := range ins {
		if in.role == rolePaper && in.problem != "" {
			used[in.problem] = true
		}
	}
	take := func(role string, prefer []string, ok func(*inspected) bool) {
		// An honest cadre's household, with a problem not found elsewhere,
		// tells the story best; a small county may have to do with less.
		for _, relax := range []bool{false, true} {
			for _, in := range ins {
				if in.role != roleFine || !s.answerable(in) || !ok(in) || (!relax && s.faking[in.cadre]) {
					continue
				}
				item := pickProblem(in.facts.CadreMet, prefer, used)
				if item == "" && relax {
					item = pickProblem(in.facts.CadreMet, prefer, nil)
				}
				if item != "" {
					in.role, in.problem = role, item
					used[item] = true
					return
				}
			}
		}
	}
	take(roleClosed, []string{"water", "medical", "housing", "clothing", "food"}, func(in *inspected) bool {
		return s.followUp(in, today.AddDays(-evidenceFrom), today.AddDays(-closedBy), false) != nil
	})
	take(roleSubmitted, []string{"housing", "water", "medical", "clothing", "food"}, func(in *inspected) bool {
		return s.followUp(in, today.AddDays(-evidenceFrom), today.AddDays(-1), true) != nil
	})
	take(roleOverdue, []string{"medical", "education", "water", "housing", "food"}, func(*inspected) bool { return true })
	filled := 0
	if slices.ContainsFunc(ins, func(in *inspected) bool { return in.role == rolePaper && s.answerable(in) && in.problem != "" }) {
		filled++ // the paper household's item is the one in progress
	} else {
		take(roleProgress, []string{"housing", "water", "medical", "food"}, func(*inspected) bool { return true })
	}
	for _, in := range ins {
		if slices.Contains(storyRoles, in.role) {
			filled++
		}
	}
	return filled
}

// answerable says whether the household's cadre may answer for an item
// about it (a cadre of a region holding the household) and stays paired
// with it to Today.
func (s *inspectionSeeder) answerable(in *inspected) bool {
	if in.cadre == nil || in.drawn.Stratum != sampling.StratumPoor || !strings.HasPrefix(in.hh.path, in.cadre.user.RegionPath) {
		return false
	}
	now := inspect.ResponsibleCadre(in.hh.pairings, in.hh.h.ID, s.p.today.AddDays(-1))
	return now != nil && *now == in.cadre.user.ID
}

// followUp is the cadre's visit to the household in [from, to], without a
// planted fault: the earliest, or the latest when latest is set.
func (s *inspectionSeeder) followUp(in *inspected, from, to domain.Date, latest bool) *pvisit {
	var out *pvisit
	for _, pv := range s.visits[in.hh] {
		day := domain.DateOf(pv.v.StartedAt)
		if pv.c != in.cadre || pv.pattern != "" || day.Before(from) || day.After(to) {
			continue
		}
		if out == nil || latest {
			out = pv
		}
	}
	return out
}

// pickProblem returns the first item of prefer the cadre recorded as met
// and not used yet.
func pickProblem(met, prefer []string, used map[string]bool) string {
	for _, item := range prefer {
		if slices.Contains(met, item) && !used[item] {
			return item
		}
	}
	return ""
}

// problems are what the inspectors found, by 两不愁三保障 item: in the
// findings' note, and as the rectification's problem.
var problems = map[string]struct{ finding, item, start, done string }{
	"water": {"入户自来水管破损漏水，家中时常断水。", "饮水安全：入户自来水管破损漏水，家中时常断水，帮扶干部走访记录为“已保障”",
		"已联系村水管员上门查看", "已更换入户水管并试水，供水正常"},
	"medical": {"家中慢性病患者未办理门诊慢性病卡，门诊费用未能报销。", "基本医疗：家庭成员慢性病卡未办理，门诊慢性病费用未享受报销，帮扶干部走访记录为“已保障”",
		"已协助准备慢性病卡申请材料", "慢性病卡已办理，已告知报销流程"},
	"housing": {"房屋后墙开裂、屋顶漏雨，存在安全隐患。", "住房安全：房屋后墙开裂、屋顶漏雨，存在安全隐患，帮扶干部走访记录为“已保障”",
		"已请镇村建所上门鉴定", "屋顶已翻修、后墙已加固，附修缮后照片"},
	"education": {"家中适龄子女近一个月未到校。", "义务教育：适龄子女近一个月未到校，控辍保学未落实，帮扶干部走访记录为“已保障”",
		"已联系学校班主任共同上门劝返", "学生已返校就读"},
	"food": {"家中存粮不足，近期无稳定收入。", "不愁吃：家中存粮不足、近期无稳定收入，帮扶干部走访记录为“已保障”",
		"已协调临时救助", "已发放临时救助金并安排公益性岗位"},
	"clothing": {"冬季衣被不足。", "不愁穿：冬季衣被不足，帮扶干部走访记录为“已保障”", "已联系村委会登记", "已送去棉被和冬衣"},
}

// baseAnswers are what an ordinary household says and the inspector sees:
// the 两不愁三保障 as the cadre's latest visit recorded them (or as they
// stand, for a household no cadre visits), its visits and measures as
// recorded, and opinions drawn from d (nil: the most common answers).
func baseAnswers(in *inspected, d *draw) map[string]forms.Answer {
	hh := in.hh
	a := map[string]forms.Answer{}
	cl := currentChecklist(in)
	for _, it := range domain.ChecklistItems {
		a[it.Code] = forms.Answer{Choice: cl[it.Code]}
	}
	poor := in.drawn.Stratum == sampling.StratumPoor
	a[forms.ItemIdentification] = forms.Answer{Choice: "accurate"}
	exit := "not_exited"
	if hh.h.Status == domain.StatusExited {
		exit = "criteria_met"
	}
	a[forms.ItemExit] = forms.Answer{Choice: exit}
	choose := func(common string, choices []string, weights ...float64) string {
		if d == nil {
			return common
		}
		return choices[d.weighted(weights...)]
	}
	effect := choose("clear", []string{"clear", "some", "none"}, 55, 42, 3)
	if !poor {
		effect = choose("some", []string{"clear", "some"}, 20, 80)
	}
	a[forms.ItemEffect] = forms.Answer{Choice: effect}
	a[forms.ItemPlanSeen] = forms.Answer{Yes: ptr(poor && in.cadre != nil && (d == nil || d.chance(0.92)))}
	a[forms.ItemSatisfaction] = forms.Answer{Choice: choose("satisfied", []string{"satisfied", "fairly", "unsatisfied"}, 76, 22, 2)}
	aware := []float64{85, 14, 1}
	if !poor {
		aware = []float64{62, 33, 5}
	}
	a[forms.ItemAwareness] = forms.Answer{Choice: choose("aware", []string{"aware", "partly", "unaware"}, aware...)}
	// Memory: most remember every visit, some one fewer.
	recalled := in.facts.RecordedVisits
	if recalled > 0 && d != nil && d.chance(0.25) {
		recalled--
	}
	a[forms.ItemVisitsRecalled] = forms.Answer{Count: ptr(recalled)}
	a[forms.ItemCadreRecognised] = forms.Answer{Yes: ptr(in.cadre != nil)}
	if len(in.facts.RecordedMeasure) > 0 {
		a[forms.ItemMeasures] = forms.Answer{Choices: slices.Clone(in.facts.RecordedMeasure)}
	}
	return a
}

// currentChecklist is the 两不愁三保障 as the cadre's latest visit in the
// window recorded it, or, without one, as the household's file says.
func currentChecklist(in *inspected) map[string]string {
	out := map[string]string{}
	if in.cadre != nil && in.facts.RecordedVisits > 0 {
		// HouseholdFacts lists what the latest visit recorded as met; the
		// rest it recorded as a problem or not applicable, as the file says.
		for _, it := range domain.ChecklistItems {
			out[it.Code] = fileChecklist(in.hh)[it.Code]
			if slices.Contains(in.facts.CadreMet, it.Code) {
				out[it.Code] = "met"
			}
		}
		return out
	}
	return fileChecklist(in.hh)
}

// fileChecklist is the 两不愁三保障 as the household's file shows it:
// compulsory education applies to a household with pupils, housing graded
// C or D is unsafe.
func fileChecklist(hh *household) map[string]string {
	out := map[string]string{"food": "met", "clothing": "met", "education": "not_applicable", "medical": "met", "housing": "met", "water": "met"}
	if len(members(hh, func(m domain.Member) bool {
		return m.Work == "student" && (m.Education == "primary" || m.Education == "junior")
	})) > 0 {
		out["education"] = "met"
	}
	if g := hh.h.HousingSafetyGrade; g == "C" || g == "D" {
		out["housing"] = "problem"
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// answers are the household's answers in its role.
func (s *inspectionSeeder) answers(in *inspected) map[string]forms.Answer {
	if in.role == rolePaper {
		return paperAnswers(in)
	}
	a := baseAnswers(in, s.d)
	if in.role != roleFine {
		a[in.problem] = forms.Answer{Choice: "problem"}
		a[forms.ItemNote] = forms.Answer{Text: problems[in.problem].finding}
		if a[forms.ItemSatisfaction].Choice == "satisfied" {
			a[forms.ItemSatisfaction] = forms.Answer{Choice: "fairly"}
		}
	}
	return a
}

// townInterviews and villageInterviews are what the inspectors noted of
// their talks with the town's and the village's cadres.
var (
	townInterviews = []string{"镇分管领导介绍了本村巩固脱贫成果和防返贫监测情况，帮扶台账基本齐全。",
		"镇包村干部对村内脱贫户底数清楚，能说出重点户的帮扶措施。", "镇扶贫办介绍了本村产业奖补和公益性岗位安排情况。"}
	villageInterviews = []string{"村支书介绍了村集体经济（茶叶合作社）收益分配情况。", "村委会主任对监测户情况熟悉，走访台账按月更新。",
		"村干部反映部分脱贫户务工收入不稳定，已纳入防返贫监测。", "驻村工作队介绍了扶贫车间用工和小额信贷发放情况。"}
)

// villageAnswers are a sampled village's: its infrastructure mostly in
// place, and the interviews.
func (s *inspectionSeeder) villageAnswers(poor bool) map[string]forms.Answer {
	a := map[string]forms.Answer{}
	for _, it := range forms.DefaultVillage().Items {
		if it.Kind != forms.KindYesNo {
			continue
		}
		yes := true
		switch it.Code {
		case "broadband", "collective_income":
			yes = poor || !s.d.chance(0.2) // poor villages got them first
		case "school":
			yes = !s.d.chance(0.3) // many 教学点 were merged into the town's school
		}
		a[it.Code] = forms.Answer{Yes: ptr(yes)}
	}
	a["town_cadres"] = forms.Answer{Text: pick(s.d, townInterviews)}
	a["village_cadres"] = forms.Answer{Text: pick(s.d, villageInterviews)}
	return a
}

// recordFindings records the inspector's findings, household by
// household, each village's form at the end of its day.
func (s *inspectionSeeder) recordFindings(ctx context.Context, campaign uuid.UUID, villages []sampling.DrawnVillage, ins []*inspected) error {
	for _, v := range villages {
		last := time.Time{}
		for _, in := range ins {
			if in.drawn.VillageID != v.ID {
				continue
			}
			s.clock, last = in.at, in.at
			hid := in.hh.h.ID
			f, _, err := s.insp.RecordFindings(ctx, s.checker, inspect.FindingInput{CampaignID: campaign, HouseholdID: &hid, Answers: s.answers(in)})
			if err != nil {
				return fmt.Errorf("household %s: %w", in.hh.h.Number, err)
			}
			in.finding = f.ID
		}
		if last.IsZero() {
			continue
		}
		s.clock = last.Add(findingMinutes * time.Minute)
		vid := v.ID
		if _, _, err := s.insp.RecordFindings(ctx, s.checker, inspect.FindingInput{CampaignID: campaign, VillageID: &vid,
			Answers: s.villageAnswers(v.Stratum == sampling.StratumKeyVillage)}); err != nil {
			return fmt.Errorf("village %s: %w", v.ID, err)
		}
	}
	return nil
}

// rectify registers the campaign's rectifications and takes each as far
// as its role says, and issues the accountability actions.
func (s *inspectionSeeder) rectify(ctx context.Context, c inspect.Campaign, t *town, ins []*inspected, out *Inspection) error {
	today := s.p.today
	kind := itemledger.KindRectification
	type item struct {
		in   *inspected
		view itemledger.View
	}
	var items []*item
	for i, in := range ins {
		role := in.role
		if role == rolePaper {
			if !s.answerable(in) {
				continue
			}
			role = roleProgress
		}
		if role == roleFine || in.problem == "" {
			continue
		}
		problem := problems[in.problem].item
		deadline := today.AddDays(-itemsRegistered + itemDeadline)
		switch {
		case in.role == rolePaper:
			problem = fmt.Sprintf("走访记录不实：农户反映近三个月只见过帮扶干部1次且不认识帮扶干部，干部走访记录为%d次，疑似纸上帮扶；须重新入户核实帮扶措施落实情况。同时，%s",
				in.facts.RecordedVisits, problem)
		case role == roleOverdue:
			deadline = today.AddDays(-itemsRegistered + overdueDeadline)
		}
		s.at(itemsRegistered, 9*60+30+i)
		fid, cid, cadre := in.finding, c.ID, in.cadre.user.ID
		v, err := s.ledger.Create(ctx, s.sup, itemledger.NewItem{Kind: kind, Problem: problem, CampaignID: &cid, FindingID: &fid,
			ResponsibleUserID: &cadre, Deadline: deadline})
		if err != nil {
			return fmt.Errorf("register the item of household %s: %w", in.hh.h.Number, err)
		}
		items = append(items, &item{in: in, view: v})
	}
	act := func(it *item, who domain.Principal, action, note string, ev itemledger.Evidence) error {
		v, err := s.ledger.Act(ctx, who, kind, it.view.ID, itemledger.Step{Action: action, Version: it.view.Version, Note: note, Evidence: ev})
		if err != nil {
			return fmt.Errorf("%s the item of household %s: %w", action, it.in.hh.h.Number, err)
		}
		it.view = v
		return nil
	}
	for _, it := range items {
		in := it.in
		cadre := principal(in.cadre.user)
		pb := problems[in.problem]
		switch in.role {
		case roleClosed, roleSubmitted:
			visit := s.followUp(in, today.AddDays(-evidenceFrom), today.AddDays(-closedBy), false)
			if in.role == roleSubmitted {
				visit = s.followUp(in, today.AddDays(-evidenceFrom), today.AddDays(-1), true)
			}
			s.at(itemsRegistered, 15*60)
			if err := act(it, cadre, itemledger.Start, pb.start, itemledger.Evidence{}); err != nil {
				return err
			}
			ev, err := s.evidence(ctx, visit, pb.done)
			if err != nil {
				return err
			}
			s.clock = visit.v.EndedAt.Add(90 * time.Minute)
			if err := act(it, cadre, itemledger.Submit, "整改完成，申请销号", ev); err != nil {
				return err
			}
			if in.role == roleClosed {
				s.clock = domain.DateOf(visit.v.StartedAt).AddDays(1).Start().Add(10 * time.Hour)
				if err := act(it, s.sup, itemledger.Approve, "经回访核实，整改到位，同意销号", itemledger.Evidence{}); err != nil {
					return err
				}
			}
		case roleOverdue:
			s.at(itemsRegistered-2, 9*60)
			if err := act(it, cadre, itemledger.Start, pb.start, itemledger.Evidence{}); err != nil {
				return err
			}
		default: // in progress
			s.at(itemsRegistered-3, 9*60)
			if err := act(it, cadre, itemledger.Start, pb.start, itemledger.Evidence{}); err != nil {
				return err
			}
		}
		out.Rectifications[it.view.Item.State(today)]++
	}

	// The county office holds the town to account, and the cadre whose
	// visits were made on paper.
	s.at(itemsRegistered, 11*60)
	cid := c.ID
	gov := t.gov.unit.ID
	order, err := s.insp.IssueAction(ctx, s.sup, inspect.NewAction{Kind: inspect.ActionSupervisionOrder, CampaignID: &cid, TargetUnitID: &gov,
		Reason: fmt.Sprintf("%s发现%d户两不愁三保障问题与帮扶干部走访记录不符，%d户疑似纸上帮扶。请于%s前逐项整改到位，并书面报告整改情况。",
			c.Name, len(ins)-countRole(ins, roleFine)-countRole(ins, rolePaper), countRole(ins, rolePaper), today.AddDays(-itemsRegistered+itemDeadline))})
	if err != nil {
		return fmt.Errorf("issue the supervision order: %w", err)
	}
	s.at(followedUp, 15*60)
	if _, err := s.insp.FollowUpAction(ctx, s.sup, order.ID, inspect.FollowUp{On: today.AddDays(-followedUp), Version: order.Version,
		Text: t.region.Name + "党委已召开专题会议，组织全镇帮扶干部对照走访记录逐户自查，约谈相关帮扶干部；各整改事项已逐项落实到人、明确时限。"}); err != nil {
		return fmt.Errorf("follow up the supervision order: %w", err)
	}
	out.Actions = 1
	for _, in := range ins {
		if in.role != rolePaper {
			continue
		}
		s.at(itemsRegistered, 11*60+10)
		cadre := in.cadre.user.ID
		if _, err := s.insp.IssueAction(ctx, s.sup, inspect.NewAction{Kind: inspect.ActionWarning, CampaignID: &cid, TargetUserID: &cadre,
			Reason: fmt.Sprintf("%s（%s）所帮扶的%s户反映近三个月只见过帮扶干部1次且不认识帮扶干部，而走访记录为%d次，存在纸上帮扶问题，给予黄牌警告。",
				in.cadre.user.DisplayName, in.cadre.unit.unit.Name, in.hh.h.HeadName, in.facts.RecordedVisits)}); err != nil {
			return fmt.Errorf("issue the warning: %w", err)
		}
		out.Actions++
	}
	return nil
}

// evidence is a follow-up visit with its photos, those stored.
func (s *inspectionSeeder) evidence(ctx context.Context, visit *pvisit, note string) (itemledger.Evidence, error) {
	ev := itemledger.Evidence{VisitIDs: []string{visit.v.ID.String()}, Note: note}
	for _, ph := range visit.photos {
		_, err := s.store.Photo(ctx, ph.id)
		switch {
		case err == nil:
			ev.PhotoIDs = append(ev.PhotoIDs, ph.id.String())
		case !domain.IsCode(err, domain.CodeNotFound):
			return ev, err
		}
	}
	return ev, nil
}

// running seeds the unannounced campaign over the first town other than
// the finished campaign's, drawn the evening before it starts on Today.
func (s *inspectionSeeder) running(ctx context.Context, other *town) (Inspection, error) {
	t := s.p.towns[0]
	if t == other && len(s.p.towns) > 1 {
		t = s.p.towns[1]
	}
	from := s.p.today
	name := fmt.Sprintf("%s%d年%d月明察暗访", t.region.Name, from.Year, from.Month)
	s.at(runningCreated, 16*60)
	c, err := s.insp.CreateCampaign(ctx, s.sup, inspect.NewCampaign{RegionID: t.region.ID, Name: name, PeriodFrom: from,
		PeriodTo: from.AddDays(runningDays - 1), Mode: inspect.ModeUnannounced, Inspectors: []uuid.UUID{s.p.inspector.ID}})
	if err != nil {
		return Inspection{}, fmt.Errorf("create the campaign %s: %w", name, err)
	}
	s.at(runningDrawn, 17*60)
	drawn, err := s.insp.Draw(ctx, s.sup, c.ID, "demo-"+strings.ReplaceAll(from.String(), "-", ""))
	if err != nil {
		return Inspection{}, fmt.Errorf("draw the campaign %s: %w", name, err)
	}
	return Inspection{ID: c.ID.String(), Name: name, Mode: c.Mode, Status: inspect.StatusDrawn, Town: t.region.Name,
		Households: len(drawn.Sample.Households),
		Note:       fmt.Sprintf("暗访，进行中：抽查%d户，核查任务已下发到 inspector 的手机；%s的干部和乡镇看不到", len(drawn.Sample.Households), t.region.Name)}, nil
}

// noteInspections tells, in the logins printed at start-up, where the
// inspector's campaigns are.
func (p *plan) noteInspections(ins []Inspection) {
	if len(ins) < 2 {
		return
	}
	finished, running := ins[0], ins[1]
	for i, a := range p.accounts {
		if a.Username == p.inspector.Username {
			p.accounts[i].Note = fmt.Sprintf("督查组 %s: the tasks of %s (%d households, unannounced) reach the phone on a sync snapshot; %s has ended, with findings, a report and rectifications",
				p.inspector.DisplayName, running.Name, running.Households, finished.Name)
		}
	}
}
