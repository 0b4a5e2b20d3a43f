package inspect

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/inspect/sampling"
)

// Store is what the inspection service needs from persistence.
type Store interface {
	Tx(ctx context.Context, fn func(TxStore) error) error
	TxStore
}

// TxStore is Store bound to one transaction.
type TxStore interface {
	Region(ctx context.Context, id uuid.UUID) (domain.Region, error)
	RegionWithin(ctx context.Context, path string, id uuid.UUID) (domain.Region, error)
	Regions(ctx context.Context, f domain.RegionFilter) ([]domain.Region, int64, error)
	User(ctx context.Context, id uuid.UUID) (domain.User, error)
	Names(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]string, error)
	HouseholdsByID(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]domain.Household, error)
	// HouseholdLabels returns what a list shows of each household: a
	// sample names tens of thousands, and needs no more than this.
	HouseholdLabels(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]HouseholdLabel, error)

	CreateCampaign(ctx context.Context, c Campaign, audit domain.AuditEntry) error
	Campaign(ctx context.Context, id uuid.UUID) (Campaign, error)
	// CampaignForUpdate reads a campaign and holds it until the end of the
	// transaction, so two draws of one campaign are one after the other.
	CampaignForUpdate(ctx context.Context, id uuid.UUID) (Campaign, error)
	// CampaignsNear lists the campaigns whose region contains path or lies
	// inside it, newest first: every campaign a caller there could see.
	CampaignsNear(ctx context.Context, path string) ([]Campaign, error)
	// Population reads what a draw sees in a region: its villages (with
	// their town and poverty flag) and their households' statuses.
	Population(ctx context.Context, regionPath string) (sampling.Population, error)
	// SampledBy returns the households the region's campaigns drawn before
	// before sampled, over the last n of them.
	SampledBy(ctx context.Context, regionPath string, before time.Time, n int) (map[uuid.UUID]bool, error)
	SaveDraw(ctx context.Context, c Campaign, s sampling.Sample, tasks []Task, audit domain.AuditEntry) error
	Sample(ctx context.Context, campaignID uuid.UUID) (Sample, error)
	EndCampaign(ctx context.Context, c Campaign, at time.Time, audit domain.AuditEntry) error

	// Findings.
	// SampledHousehold and SampledVillage read one household or village
	// of a campaign's sample (not found when it was not drawn).
	SampledHousehold(ctx context.Context, campaignID, householdID uuid.UUID) (SampledHousehold, error)
	SampledVillage(ctx context.Context, campaignID, villageID uuid.UUID) (sampling.DrawnVillage, error)
	HouseholdFinding(ctx context.Context, campaignID, householdID uuid.UUID) (Finding, error)
	VillageFinding(ctx context.Context, campaignID, villageID uuid.UUID) (Finding, error)
	// SaveFinding stores f: a new finding when expectedVersion is 0 (and a
	// household's marks its sample row done), else f over the stored
	// finding at expectedVersion (stale otherwise).
	SaveFinding(ctx context.Context, f Finding, expectedVersion int64, audit domain.AuditEntry) error
	// Findings lists a campaign's findings, households' before villages',
	// each in the order recorded.
	Findings(ctx context.Context, campaignID uuid.UUID) ([]Finding, error)
	// OpenItemOfFinding holds the finding until the transaction ends, so
	// a rectification item registered for it meanwhile is seen here, or
	// waits and then judges the finding as corrected, and returns its item
	// neither closed nor withdrawn; not found when it has none.
	OpenItemOfFinding(ctx context.Context, findingID uuid.UUID) (uuid.UUID, error)
	Visit(ctx context.Context, id uuid.UUID) (domain.Visit, error)

	// The report.
	// HouseholdPairings lists every pairing, past or open, of households
	// of a county.
	HouseholdPairings(ctx context.Context, countyID uuid.UUID, households []uuid.UUID) ([]domain.Pairing, error)
	// HouseholdVisits lists the visits (not deleted) to households of a
	// county started in [from, to].
	HouseholdVisits(ctx context.Context, countyID uuid.UUID, households []uuid.UUID, from, to time.Time) ([]VisitFact, error)
	// CampaignRectifications counts the rectification ledger's items of a
	// campaign by status, and those overdue on today.
	CampaignRectifications(ctx context.Context, campaignID uuid.UUID, today domain.Date) (RectificationCounts, error)

	// Accountability.
	// UnitRegion returns the region a unit sits in.
	UnitRegion(ctx context.Context, unitID uuid.UUID) (domain.Region, error)
	UnitNames(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]string, error)
	CreateAction(ctx context.Context, a Action, audit domain.AuditEntry) error
	// ActionForUpdate reads an action and holds it until the end of the
	// transaction.
	ActionForUpdate(ctx context.Context, id uuid.UUID) (Action, error)
	// Actions lists the actions against targets within a region, newest
	// first, with their total.
	Actions(ctx context.Context, f ActionFilter) ([]Action, int64, error)
	// SaveFollowUp stores a's follow-up over the action at expectedVersion.
	SaveFollowUp(ctx context.Context, a Action, expectedVersion int64, audit domain.AuditEntry) error
}

// Task puts a sampled household on an inspector's phone.
type Task struct {
	CampaignID  uuid.UUID
	HouseholdID uuid.UUID
	InspectorID uuid.UUID
}

// SampledHousehold is a household of a drawn sample.
type SampledHousehold struct {
	HouseholdID uuid.UUID
	CountyID    uuid.UUID
	VillageID   uuid.UUID
	TownID      uuid.UUID
	Stratum     string
	DoneAt      *time.Time // its inspection was recorded
}

// Sample is a campaign's drawn sample, in draw order.
type Sample struct {
	Villages   []sampling.DrawnVillage
	Households []SampledHousehold
}

// Service runs inspection campaigns.
type Service struct {
	port  Store
	store TxStore
	now   func() time.Time
	// spillDir is where the XLSX exports' rows wait past 16 MB (SpillTo).
	spillDir string
}

// NewService builds the service; now is the clock.
func NewService(store Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{port: store, store: store, now: now}
}

// SpillTo names the directory where excelize's temporary files go (""
// is the system's): the server gives its own, which serve empties at
// start and checks is writable.
func (s *Service) SpillTo(dir string) { s.spillDir = dir }

func (s *Service) inTx(ctx context.Context, fn func(in *Service) error) error {
	return s.port.Tx(ctx, func(tx TxStore) error {
		in := *s
		in.store = tx
		return fn(&in)
	})
}

func audit(p domain.Principal, action string, c Campaign, detail map[string]any) domain.AuditEntry {
	actor := p.UserID
	return domain.AuditEntry{ActorID: &actor, ActorName: p.Username, Action: action, ObjectType: "inspection", ObjectID: c.ID.String(),
		RegionPath: c.RegionPath, Detail: detail, RequestID: p.RequestID}
}

// CreateCampaign registers a campaign (supervisors and admins) over a
// county or town of their subtree, with the inspectors who will do it.
func (s *Service) CreateCampaign(ctx context.Context, p domain.Principal, in NewCampaign) (Campaign, error) {
	if !p.Manages() {
		return Campaign{}, domain.Forbidden()
	}
	var fe domain.FieldErrors
	in.validate(&fe)
	region, err := s.store.RegionWithin(ctx, p.RegionPath, in.RegionID)
	switch {
	case domain.IsCode(err, domain.CodeNotFound):
		fe.Add("/region_id", "unknown", "region not found", "督查范围不存在")
	case err != nil:
		return Campaign{}, err
	case region.Level == domain.LevelVillage:
		// A village is inspected as part of a town's or county's sample;
		// provinces and cities draw over all their towns (省级督查).
		fe.Add("/region_id", "invalid_level", "a campaign covers a province, city, county or town", "督查范围应为省、市、县或乡镇")
	}
	inspectors := map[uuid.UUID]domain.User{}
	for i, id := range in.Inspectors {
		u, err := s.store.User(ctx, id)
		if err != nil && !domain.IsCode(err, domain.CodeNotFound) {
			return Campaign{}, err
		}
		if err != nil || !u.Active || u.Role != domain.RoleInspector || !p.InSubtree(u.RegionPath) {
			fe.Add("/inspector_ids/"+strconv.Itoa(i), "invalid", "not an active inspector of your region", "不是本辖区在岗的督查人员")
			continue
		}
		inspectors[id] = u
	}
	if in.Mode == ModeCross && region.ID != uuid.Nil && len(inspectors) == len(in.Inspectors) {
		if err := s.checkCross(ctx, region, inspectors, &fe); err != nil {
			return Campaign{}, err
		}
	}
	if err := fe.Err(); err != nil {
		return Campaign{}, err
	}
	plan := DefaultPlan()
	if in.Plan != nil {
		plan = *in.Plan
	}
	c := Campaign{ID: uuid.New(), CountyID: region.CountyID, RegionID: region.ID, RegionPath: region.Path, Name: strings.TrimSpace(in.Name),
		PeriodFrom: in.PeriodFrom, PeriodTo: in.PeriodTo, Mode: in.Mode, Plan: plan, Inspectors: slices.Clone(in.Inspectors),
		Status: StatusPlanned, CreatedBy: p.UserID, CreatedAt: s.now().UTC(), Shortfalls: []sampling.Shortfall{}, Version: 1}
	if err := s.store.CreateCampaign(ctx, c, audit(p, "create", c, map[string]any{"mode": c.Mode, "name": c.Name})); err != nil {
		return Campaign{}, err
	}
	return c, nil
}

// checkCross refuses a cross-inspection (交叉互检) that would leave a town
// with nobody but its own people to inspect it.
func (s *Service) checkCross(ctx context.Context, region domain.Region, inspectors map[uuid.UUID]domain.User, fe *domain.FieldErrors) error {
	towns := []domain.Region{region}
	if region.Level != domain.LevelTown {
		ts, _, err := s.store.Regions(ctx, domain.RegionFilter{WithinPath: region.Path, Level: domain.LevelTown, Limit: 10000})
		if err != nil {
			return err
		}
		towns = ts
	}
	for _, t := range towns {
		outsiders := 0
		for _, u := range inspectors {
			if !worksIn(u, t.ID) {
				outsiders++
			}
		}
		if outsiders == 0 {
			fe.Add("/inspector_ids", "own_town", "cross-inspection: every inspector named works in "+t.Name+"; add one from another town",
				"交叉互检：所派督查人员均在"+t.Name+"工作，不能检查本镇，请增派其他乡镇的人员")
		}
	}
	return nil
}

// worksIn reports whether a user's region lies in town.
func worksIn(u domain.User, town uuid.UUID) bool {
	return strings.Contains(u.RegionPath, "/"+town.String()+"/")
}

// Campaign returns a campaign p may see.
func (s *Service) Campaign(ctx context.Context, p domain.Principal, id uuid.UUID) (Campaign, error) {
	c, err := s.store.Campaign(ctx, id)
	if err != nil {
		return Campaign{}, err
	}
	if !c.VisibleTo(p) {
		return Campaign{}, domain.NotFound("inspection")
	}
	return c, nil
}

// CampaignQuery filters a listing.
type CampaignQuery struct {
	RegionID *uuid.UUID // campaigns over this region or inside it
	Status   string
	Limit    int
	Offset   int
}

// Campaigns lists the campaigns p may see, newest first.
func (s *Service) Campaigns(ctx context.Context, p domain.Principal, q CampaignQuery) ([]Campaign, int, error) {
	if p.Role == domain.RoleCadre {
		return nil, 0, domain.Forbidden()
	}
	if q.Status != "" && !CampaignStatuses.Has(q.Status) {
		return nil, 0, domain.Invalid(domain.FieldError{Field: "status", Reason: "invalid_enum", Message: "status must be planned, drawn or ended", MessageZH: "督查状态无效"})
	}
	path := p.RegionPath
	if q.RegionID != nil {
		r, err := s.store.RegionWithin(ctx, p.RegionPath, *q.RegionID)
		if err != nil {
			return nil, 0, err
		}
		path = r.Path
	}
	all, err := s.store.CampaignsNear(ctx, path)
	if err != nil {
		return nil, 0, err
	}
	var out []Campaign
	for _, c := range all {
		// A region filter keeps the campaigns over that region or inside it.
		if q.RegionID != nil && !strings.HasPrefix(c.RegionPath, path) && !strings.HasPrefix(path, c.RegionPath) {
			continue
		}
		if c.VisibleTo(p) && (q.Status == "" || c.Status == q.Status) {
			out = append(out, c)
		}
	}
	total := len(out)
	out = out[min(q.Offset, total):min(q.Offset+q.Limit, total)]
	return out, total, nil
}

// Drawn is a campaign with its sample, and what an answer names: the
// regions' names and the households' numbers and heads.
type Drawn struct {
	Campaign   Campaign
	Sample     Sample
	Names      map[uuid.UUID]string
	Households map[uuid.UUID]HouseholdLabel
	Again      bool // a draw asked again with its seed: the stored sample
}

// HouseholdLabel is how a household is named in a list: its number and
// its head.
type HouseholdLabel struct {
	Number, HeadName string
}

// label reads the names the sample's answer shows.
func (s *Service) label(ctx context.Context, d *Drawn) error {
	var regions, households []uuid.UUID
	for _, v := range d.Sample.Villages {
		regions = append(regions, v.ID, v.TownID)
	}
	for _, f := range d.Campaign.Shortfalls {
		regions = append(regions, f.TownID)
		if f.VillageID != nil {
			regions = append(regions, *f.VillageID)
		}
	}
	for _, h := range d.Sample.Households {
		households = append(households, h.HouseholdID)
	}
	var err error
	if d.Names, err = s.store.Names(ctx, regions); err != nil {
		return err
	}
	d.Households, err = s.store.HouseholdLabels(ctx, households)
	return err
}

// Draw draws the campaign's sample once, with seed (a fresh one when
// empty), from the region's households as they stand, leaving out those
// the region's last campaigns sampled, and shares the sampled towns among
// the campaign's inspectors (assign).
//
// The population is read and drawn outside any transaction: a province is
// a million rows, and nothing is held while they are read. The campaign's
// version guards the write instead: of two draws racing, the second finds
// the campaign changed and is told it was drawn.
func (s *Service) Draw(ctx context.Context, p domain.Principal, id uuid.UUID, seed string) (Drawn, error) {
	if len(seed) > 100 {
		return Drawn{}, domain.Invalid(domain.FieldError{Field: "/seed", Reason: "too_long", Message: "a seed is at most 100 characters", MessageZH: "随机种子不能超过100个字符"})
	}
	if seed == "" {
		seed = sampling.NewSeed()
	}
	c, err := s.store.Campaign(ctx, id)
	if err != nil {
		return Drawn{}, err
	}
	if err := mayDraw(p, c); err != nil {
		return s.drawnAlready(ctx, p, c, seed, err)
	}
	// To the microsecond, as the database keeps it: the answer and every
	// later read show the same instant.
	now := s.now().UTC().Truncate(time.Microsecond)
	pop, exclude, err := s.population(ctx, c, now)
	if err != nil {
		return Drawn{}, err
	}
	drawn := sampling.Draw(pop, c.Plan.Plan, seed, exclude)
	tasks, err := s.tasks(ctx, c, drawn)
	if err != nil {
		return Drawn{}, err
	}
	c.Status, c.Seed, c.Algorithm, c.PopulationHash, c.DrawnAt, c.Shortfalls = StatusDrawn, drawn.Seed, drawn.Algorithm, drawn.PopulationHash, &now, drawn.Shortfalls
	c.Version++
	err = s.store.SaveDraw(ctx, c, drawn, tasks, audit(p, "draw", c, map[string]any{"seed": seed, "households": len(drawn.Households)}))
	if domain.Reason(err) == "stale_version" {
		if again, rerr := s.store.Campaign(ctx, id); rerr == nil {
			if err = mayDraw(p, again); err != nil {
				return s.drawnAlready(ctx, p, again, seed, err)
			}
		}
	}
	if err != nil {
		return Drawn{}, err
	}
	out := Drawn{Campaign: c, Sample: Sample{Villages: drawn.Villages, Households: make([]SampledHousehold, len(drawn.Households))}}
	for i, h := range drawn.Households {
		out.Sample.Households[i] = SampledHousehold{HouseholdID: h.ID, VillageID: h.VillageID, TownID: h.TownID, Stratum: h.Stratum}
	}
	return out, s.label(ctx, &out)
}

// drawnAlready answers a draw refused with refusal: asked again with the
// seed it was drawn with, a drawn campaign answers its sample — the same
// list, as a second click or a retried request expects — and otherwise
// the refusal stands.
func (s *Service) drawnAlready(ctx context.Context, p domain.Principal, c Campaign, seed string, refusal error) (Drawn, error) {
	if domain.Reason(refusal) != ReasonAlreadyDrawn || seed != c.Seed {
		return Drawn{}, refusal
	}
	d, err := s.Sample(ctx, p, c.ID)
	d.Again = true
	return d, err
}

// ReasonAlreadyDrawn refuses a second draw with another seed.
const ReasonAlreadyDrawn = "already_drawn"

// mayDraw says whether p may draw c now.
func mayDraw(p domain.Principal, c Campaign) error {
	switch {
	case !c.VisibleTo(p):
		return domain.NotFound("inspection")
	case !c.maySteer(p):
		return domain.Forbidden()
	case c.Status != StatusPlanned:
		return &domain.Error{Code: domain.CodeConflict, Reason: ReasonAlreadyDrawn, Message: "the campaign's sample was drawn already (with another seed); read it, or verify it",
			MessageZH: "该督查已抽样，请查看或核验样本"}
	}
	return nil
}

// population is what a draw of c sees at now: the region's households,
// and those of its last campaigns to leave out.
func (s *Service) population(ctx context.Context, c Campaign, now time.Time) (sampling.Population, map[uuid.UUID]bool, error) {
	pop, err := s.store.Population(ctx, c.RegionPath)
	if err != nil {
		return pop, nil, err
	}
	exclude := map[uuid.UUID]bool{}
	if c.Plan.ExcludeLastCampaigns > 0 {
		if exclude, err = s.store.SampledBy(ctx, c.RegionPath, now, c.Plan.ExcludeLastCampaigns); err != nil {
			return pop, nil, err
		}
	}
	return pop, exclude, nil
}

// tasks puts each drawn household on the phones of the inspectors its
// town was assigned to.
func (s *Service) tasks(ctx context.Context, c Campaign, drawn sampling.Sample) ([]Task, error) {
	inspectors := make([]domain.User, 0, len(c.Inspectors))
	for _, id := range c.Inspectors {
		u, err := s.store.User(ctx, id)
		if err != nil {
			return nil, err
		}
		inspectors = append(inspectors, u)
	}
	var towns []TownLoad
	at := map[uuid.UUID]int{}
	for _, h := range drawn.Households {
		i, ok := at[h.TownID]
		if !ok {
			i = len(towns)
			at[h.TownID] = i
			towns = append(towns, TownLoad{ID: h.TownID})
		}
		towns[i].Households++
	}
	teams := Assign(towns, inspectors, c.Mode == ModeCross)
	var out []Task
	for _, h := range drawn.Households {
		for _, u := range teams[h.TownID] {
			out = append(out, Task{CampaignID: c.ID, HouseholdID: h.ID, InspectorID: u})
		}
	}
	return out, nil
}

// TownLoad is a sampled town and how many households were drawn in it.
type TownLoad struct {
	ID         uuid.UUID
	Households int
}

// Assign shares a sample's towns among a campaign's inspectors, as county
// offices form their 督查组 (seed 001: 组成5个督查组): with at least as
// many towns as inspectors, each inspector takes whole towns, the
// households balanced between them; with more inspectors than towns, each
// town gets a team, the inspectors spread evenly. In cross mode nobody is
// assigned to the town they work in (交叉互检). The answer maps each town to
// its inspectors; it depends only on the order of towns and inspectors.
func Assign(towns []TownLoad, inspectors []domain.User, cross bool) map[uuid.UUID][]uuid.UUID {
	out := make(map[uuid.UUID][]uuid.UUID, len(towns))
	may := func(u domain.User, town uuid.UUID) bool { return !cross || !worksIn(u, town) }
	load := make([]int, len(inspectors)) // households so far
	leastLoaded := func(town uuid.UUID) int {
		best := -1
		for i, u := range inspectors {
			if may(u, town) && (best < 0 || load[i] < load[best]) {
				best = i
			}
		}
		return best
	}
	if len(inspectors) <= len(towns) {
		for _, t := range towns {
			// A town no inspector may visit (every one works there, which
			// creating the campaign refuses) is drawn but on no phone.
			if i := leastLoaded(t.ID); i >= 0 {
				out[t.ID] = append(out[t.ID], inspectors[i].ID)
				load[i] += t.Households
			}
		}
		return out
	}
	for i, u := range inspectors {
		best := -1
		for j, t := range towns {
			if may(u, t.ID) && (best < 0 || len(out[t.ID]) < len(out[towns[best].ID])) {
				best = j
			}
		}
		if best >= 0 {
			out[towns[best].ID] = append(out[towns[best].ID], u.ID)
			load[i] += towns[best].Households
		}
	}
	// Cross mode can leave a town without a team when the inspectors left
	// for it all work there; one of the others takes it as well.
	for _, t := range towns {
		if len(out[t.ID]) == 0 {
			if i := leastLoaded(t.ID); i >= 0 {
				out[t.ID] = append(out[t.ID], inspectors[i].ID)
				load[i] += t.Households
			}
		}
	}
	return out
}

// Sample returns the campaign's drawn sample.
func (s *Service) Sample(ctx context.Context, p domain.Principal, id uuid.UUID) (Drawn, error) {
	d, err := s.sample(ctx, p, id)
	if err != nil {
		return Drawn{}, err
	}
	return d, s.label(ctx, &d)
}

// sample is Sample without the names.
func (s *Service) sample(ctx context.Context, p domain.Principal, id uuid.UUID) (Drawn, error) {
	c, err := s.Campaign(ctx, p, id)
	if err != nil {
		return Drawn{}, err
	}
	if c.Status == StatusPlanned {
		return Drawn{}, domain.NotFound("sample")
	}
	d := Drawn{Campaign: c}
	d.Sample, err = s.store.Sample(ctx, c.ID)
	return d, err
}

// Verification says whether a sample draws again the same from today's
// population.
type Verification struct {
	Reproduced          bool // today's population and the stored seed give the stored sample
	PopulationChanged   bool // the population differs from the one drawn from
	PopulationHash      string
	DrawnPopulationHash string
}

// Verify draws the campaign again with its stored seed from the region's
// population as it stands today (and the exclusions as they stood at the
// draw), and compares.
func (s *Service) Verify(ctx context.Context, p domain.Principal, id uuid.UUID) (Verification, error) {
	d, err := s.sample(ctx, p, id)
	if err != nil {
		return Verification{}, err
	}
	pop, exclude, err := s.population(ctx, d.Campaign, *d.Campaign.DrawnAt)
	if err != nil {
		return Verification{}, err
	}
	again := sampling.Draw(pop, d.Campaign.Plan.Plan, d.Campaign.Seed, exclude)
	stored := sampling.Sample{Villages: d.Sample.Villages, Households: make([]sampling.DrawnHousehold, len(d.Sample.Households))}
	for i, h := range d.Sample.Households {
		stored.Households[i] = sampling.DrawnHousehold{ID: h.HouseholdID, VillageID: h.VillageID, TownID: h.TownID, Stratum: h.Stratum}
	}
	return Verification{Reproduced: again.SameDraw(stored), PopulationChanged: again.PopulationHash != d.Campaign.PopulationHash,
		PopulationHash: again.PopulationHash, DrawnPopulationHash: d.Campaign.PopulationHash}, nil
}

// End closes a campaign: its tasks leave the inspectors' phones, and an
// unannounced campaign becomes visible to the towns it inspected.
func (s *Service) End(ctx context.Context, p domain.Principal, id uuid.UUID) (Campaign, error) {
	var out Campaign
	err := s.inTx(ctx, func(in *Service) error {
		c, err := in.store.CampaignForUpdate(ctx, id)
		if err != nil {
			return err
		}
		if !c.VisibleTo(p) {
			return domain.NotFound("inspection")
		}
		if !c.maySteer(p) {
			return domain.Forbidden()
		}
		if c.Status == StatusEnded {
			return &domain.Error{Code: domain.CodeConflict, Reason: "ended", Message: "the campaign has ended", MessageZH: "该督查已结束"}
		}
		now := in.now().UTC()
		c.Status, c.EndedAt = StatusEnded, &now
		c.Version++
		if err := in.store.EndCampaign(ctx, c, now, audit(p, "end", c, nil)); err != nil {
			return err
		}
		out = c
		return nil
	})
	return out, err
}
