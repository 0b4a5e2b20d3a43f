package compliance

import (
	"cmp"
	"context"
	"sort"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance/rules"
)

// historyStart is before any household was registered (建档立卡 began in
// 2014), so a household with no recorded change has had its status since.
var historyStart = domain.Date{Year: domain.FirstYear, Month: time.January, Day: 1}

// ClaimLease is how long a worker holds the subjects it claimed from the
// queue before another replica may take them over: a batch (200 subjects,
// tens of milliseconds each) ends well within it, and a replica killed
// mid-batch delays its subjects' judgements by no more than this, which
// nobody reading a report notices.
const ClaimLease = 2 * time.Minute

// JudgeQueued claims up to limit queued subjects, judges them and reports
// how many. Profiles are read once per call, not once per subject. On a
// failure the subjects not judged are handed back at once, so a replica
// still alive retries them without waiting for the lease.
func (s *Service) JudgeQueued(ctx context.Context, limit int) (int, error) {
	now := s.now()
	until := now.Add(ClaimLease)
	queued, err := s.store.ClaimComplianceQueue(ctx, limit, now, until)
	if err != nil || len(queued) == 0 {
		return 0, err
	}
	judged, err := s.judgeClaimed(ctx, queued)
	if err != nil {
		if rerr := s.store.ReleaseComplianceClaims(context.WithoutCancel(ctx), queued[judged:], until); rerr != nil {
			s.log.Warn("handing back unjudged subjects failed; they wait for the lease", "error", rerr.Error())
		}
	}
	return judged, err
}

// judgeClaimed judges a claimed batch in order and reports how many it
// judged before any failure.
func (s *Service) judgeClaimed(ctx context.Context, queued []QueuedSubject) (int, error) {
	attached, err := s.store.AllRegionProfiles(ctx)
	if err != nil {
		return 0, err
	}
	profiles := map[string]Profile{}
	cached := func(ctx context.Context, path string) (Profile, error) {
		code := resolveProfile(attached, path)
		if p, ok := profiles[code]; ok {
			return p, nil
		}
		p, err := s.GetProfile(ctx, code)
		profiles[code] = p
		return p, err
	}
	for i, q := range queued {
		if err := s.judge(ctx, q, cached); err != nil {
			return i, err
		}
	}
	return len(queued), nil
}

// CatchUp queues the subjects never judged (up to queueLimit a year) and
// judges up to judgeLimit queued ones, all in one transaction: one commit
// per batch rather than one per subject is what makes judging a freshly
// seeded county take seconds on SQLite. It reports how many subjects it
// queued and judged; 0 means nothing was left.
func (s *Service) CatchUp(ctx context.Context, queueLimit, judgeLimit int) (int, error) {
	var n int
	err := s.inTx(ctx, func(in *Service) error {
		queued, err := in.QueueUnjudged(ctx, queueLimit)
		if err != nil {
			return err
		}
		n, err = in.JudgeQueued(ctx, judgeLimit)
		n += int(queued)
		return err
	})
	return n, err
}

// profileSource finds the profile judging a region path.
type profileSource func(ctx context.Context, path string) (Profile, error)

// QueueUnjudged queues the households and cadres never judged for this
// year or the last (a new household, a new year: last year's reports are
// still read and closed in January) and reports how many it queued.
func (s *Service) QueueUnjudged(ctx context.Context, limit int) (int64, error) {
	y := s.today().Year
	var total int64
	for _, year := range []int{y, y - 1} {
		n, err := s.store.QueueUnjudged(ctx, year, limit, s.now())
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// Judge recomputes one queued subject's statuses for its year from its own
// visits (a household's or a cadre's: a few dozen rows), never from all.
func (s *Service) Judge(ctx context.Context, q QueuedSubject) error {
	return s.judge(ctx, q, s.loadProfile)
}

func (s *Service) judge(ctx context.Context, q QueuedSubject, profileOf profileSource) error {
	var (
		j   Judgement
		err error
	)
	switch q.Kind {
	case SubjectHousehold:
		j, err = s.judgeHousehold(ctx, q, profileOf)
	case SubjectCadre:
		j, err = s.judgeCadre(ctx, q, profileOf)
	case SubjectUnit:
		j, err = s.judgeUnit(ctx, q, profileOf)
	}
	if domain.IsCode(err, domain.CodeNotFound) { // gone since it was queued: nothing to judge
		j, err = Judgement{Subject: q, ProfileCode: DefaultProfileCode, At: s.now()}, nil
	}
	if err != nil {
		return err
	}
	return s.store.SaveJudgement(ctx, j)
}

// yearBounds are the instants a year's visits fall between, a day wider on
// each side so a judgement can list visits whose UTC date is in the year.
func yearBounds(year int) (time.Time, time.Time) {
	return domain.Date{Year: year, Month: time.January, Day: 1}.AddDays(-1).Start(),
		domain.Date{Year: year + 1, Month: time.January, Day: 1}.AddDays(1).Start()
}

// HouseholdFacts turns the stored household into what the rules read.
func HouseholdFacts(c HouseholdHistory) rules.HouseholdFacts {
	h := c.Household
	f := rules.HouseholdFacts{ID: h.ID, VillageID: h.VillageID, RegionID: h.RegionID, Pairings: c.Pairings}
	if t := townOf(c.RegionPath, h.CountyID); t != nil {
		f.TownID = *t
	}
	f.StatusSpans = spans(h, c.StatusChanges, c.PovertyChanges)
	return f
}

// spans merges the status and poverty-type histories into stretches with
// one value of each. Before the first recorded change a household had the
// change's "from" status; with no change at all, its current one.
func spans(h domain.Household, sc []domain.StatusChange, pc []domain.PovertyTypeChange) []rules.Span {
	sort.SliceStable(sc, func(i, j int) bool { return sc[i].EffectiveOn.Before(sc[j].EffectiveOn) })
	sort.SliceStable(pc, func(i, j int) bool { return pc[i].EffectiveOn.Before(pc[j].EffectiveOn) })
	statusOn := func(d domain.Date) (string, int) {
		st, exit := h.Status, 0
		if len(sc) > 0 {
			st = sc[0].From
		}
		for _, c := range sc {
			if c.EffectiveOn.After(d) {
				break
			}
			st = c.To
			if c.ExitYear != nil {
				exit = *c.ExitYear
			}
		}
		if exit == 0 && h.ExitYear != nil && st == domain.StatusExited {
			exit = *h.ExitYear
		}
		return st, exit
	}
	typeOn := func(d domain.Date) string {
		t := h.PovertyType
		if len(pc) > 0 {
			t = pc[0].From
		}
		for _, c := range pc {
			if c.EffectiveOn.After(d) {
				break
			}
			t = c.To
		}
		return t
	}
	bounds := []domain.Date{historyStart}
	for _, c := range sc {
		bounds = append(bounds, c.EffectiveOn)
	}
	for _, c := range pc {
		bounds = append(bounds, c.EffectiveOn)
	}
	sort.Slice(bounds, func(i, j int) bool { return bounds[i].Before(bounds[j]) })
	var out []rules.Span
	for i, b := range bounds {
		if i > 0 && !b.After(bounds[i-1]) {
			continue
		}
		st, exit := statusOn(b)
		sp := rules.Span{Status: st, PovertyType: typeOn(b), ExitYear: exit, From: b}
		if n := len(out); n > 0 && out[n-1].Status == sp.Status && out[n-1].PovertyType == sp.PovertyType && out[n-1].ExitYear == sp.ExitYear {
			continue
		}
		if n := len(out); n > 0 {
			to := b
			out[n-1].To = &to
		}
		out = append(out, sp)
	}
	return out
}

func (s *Service) loadProfile(ctx context.Context, path string) (Profile, error) {
	code, _, err := s.profileFor(ctx, path)
	if err != nil {
		return Profile{}, err
	}
	return s.GetProfile(ctx, code)
}

func (s *Service) judgeHousehold(ctx context.Context, q QueuedSubject, profileOf profileSource) (Judgement, error) {
	c, err := s.store.ComplianceHouseholdFacts(ctx, q.ID)
	if err != nil {
		return Judgement{}, err
	}
	prof, err := profileOf(ctx, c.RegionPath)
	if err != nil {
		return Judgement{}, err
	}
	from, to := yearBounds(q.Year)
	// Built for nobody: a stored judgement is every reader's, so the
	// visits of a running unannounced campaign stay out of it until the
	// campaign ends (storage queues its households again then).
	visits, err := s.store.HouseholdVisitFacts(ctx, domain.VisitReader{}, c.Household.CountyID, c.Household.ID, from, to)
	if err != nil {
		return Judgement{}, err
	}
	facts := HouseholdFacts(c)
	today := s.today()
	j := Judgement{Subject: q, ProfileCode: prof.Code, ProfileVersion: prof.Version, At: s.now()}
	village := c.Household.VillageID
	for _, st := range rules.EvaluateHouseholdYear(prof.Profile, facts, visits, q.Year, today) {
		js := JudgedStatus{Status: st, CountyID: c.Household.CountyID, VillageID: &village, RegionPath: c.RegionPath,
			TownID: townOf(c.RegionPath, c.Household.CountyID), CadreID: st.CadreID}
		if js.CadreID == nil {
			js.CadreID = Answering(c.Pairings, st, today)
		}
		j.Statuses = append(j.Statuses, js)
	}
	return j, nil
}

// Answering is the cadre who answers for a household's status: the one
// paired on the deadline (or today, if that is earlier), else the last one
// whose pairing began before it.
func Answering(ps []domain.Pairing, st rules.Status, today domain.Date) *uuid.UUID {
	on := st.DueOn
	if today.Before(on) {
		on = today
	}
	var best *domain.Pairing
	for i := range ps {
		p := &ps[i]
		if p.ActiveOn(on) {
			id := p.CadreID
			return &id
		}
		if !p.StartOn.After(on) && (best == nil || p.StartOn.After(best.StartOn)) {
			best = p
		}
	}
	if best == nil {
		return nil
	}
	id := best.CadreID
	return &id
}

func (s *Service) judgeCadre(ctx context.Context, q QueuedSubject, profileOf profileSource) (Judgement, error) {
	u, err := s.store.User(ctx, q.ID)
	if err != nil {
		return Judgement{}, err
	}
	j := Judgement{Subject: q, ProfileCode: DefaultProfileCode, At: s.now()}
	facts := rules.CadreFacts{ID: u.ID, Rank: u.Rank, Duties: u.Duties}
	if u.UnitID != nil {
		as, err := s.store.UnitAssignments(ctx, *u.UnitID)
		if err != nil {
			return Judgement{}, err
		}
		for _, a := range as {
			facts.UnitVillageIDs = append(facts.UnitVillageIDs, a.VillageID)
		}
		// A unit placed in a village group owes monthly work there, which
		// its cadres' visits make.
		if len(as) > 0 {
			if err := s.store.QueueSubject(ctx, SubjectUnit, *u.UnitID, q.Year, q.CountyID, s.now()); err != nil {
				return Judgement{}, err
			}
		}
	}
	// Most cadres hold no duty with a rule of its own: nothing to judge
	// (a duty given later queues them again).
	if len(u.Duties) == 0 || u.Role != domain.RoleCadre {
		return j, nil
	}
	prof, err := profileOf(ctx, u.RegionPath)
	if err != nil {
		return Judgement{}, err
	}
	j.ProfileCode, j.ProfileVersion = prof.Code, prof.Version
	from, to := yearBounds(q.Year)
	visits, err := s.store.CadreVisitFacts(ctx, []uuid.UUID{u.ID}, from, to)
	if err != nil {
		return Judgement{}, err
	}
	today := s.today()
	id := u.ID
	town, err := s.townOfPath(ctx, u.RegionPath, q.CountyID)
	if err != nil {
		return Judgement{}, err
	}
	for _, w := range []string{rules.WindowYear, rules.WindowQuarter, rules.WindowMonth} {
		periods, _ := rules.PeriodsOfYear(w, q.Year)
		for _, per := range periods {
			for _, st := range rules.EvaluateCadre(prof.Profile, facts, visits, per, today) {
				j.Statuses = append(j.Statuses, JudgedStatus{Status: st, CountyID: q.CountyID, CadreID: &id,
					RegionPath: u.RegionPath, TownID: town})
			}
		}
	}
	return j, nil
}

func (s *Service) judgeUnit(ctx context.Context, q QueuedSubject, profileOf profileSource) (Judgement, error) {
	unitPath, err := s.store.UnitRegionPath(ctx, q.ID)
	if err != nil {
		return Judgement{}, err
	}
	prof, err := profileOf(ctx, unitPath)
	if err != nil {
		return Judgement{}, err
	}
	j := Judgement{Subject: q, ProfileCode: prof.Code, ProfileVersion: prof.Version, At: s.now()}
	facts := rules.UnitFacts{ID: q.ID}
	if facts.Assignments, err = s.store.UnitAssignments(ctx, q.ID); err != nil || len(facts.Assignments) == 0 {
		return j, err
	}
	if facts.CadreIDs, err = s.store.UnitCadreIDs(ctx, q.ID); err != nil {
		return Judgement{}, err
	}
	var visits []rules.VisitFact
	if len(facts.CadreIDs) > 0 {
		from, to := yearBounds(q.Year)
		if visits, err = s.store.CadreVisitFacts(ctx, facts.CadreIDs, from, to); err != nil {
			return Judgement{}, err
		}
	}
	places := map[uuid.UUID]domain.Region{}
	today := s.today()
	for _, w := range []string{rules.WindowYear, rules.WindowQuarter, rules.WindowMonth} {
		periods, _ := rules.PeriodsOfYear(w, q.Year)
		for _, per := range periods {
			for _, st := range rules.EvaluateUnit(prof.Profile, facts, visits, per, today) {
				js := JudgedStatus{Status: st, CountyID: q.CountyID, RegionPath: unitPath}
				if st.RegionID != nil {
					place, ok := places[*st.RegionID]
					if !ok {
						if place, err = s.store.Region(ctx, *st.RegionID); err != nil {
							return Judgement{}, err
						}
						places[place.ID] = place
					}
					js.RegionPath = place.Path
					village := place.ID
					if place.Level == domain.LevelGroup && place.ParentID != nil {
						village = *place.ParentID
					}
					js.VillageID = &village
					js.TownID = townOf(place.Path, cmp.Or(countyOf(place), q.CountyID))
				}
				j.Statuses = append(j.Statuses, js)
			}
		}
	}
	return j, nil
}
