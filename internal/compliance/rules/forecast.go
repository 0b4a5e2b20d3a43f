package rules

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// PaceWeeks is how far back a cadre's pace is measured: long enough to
// span a cadre's round of their households, short enough to show a cadre
// who has stopped going out.
const PaceWeeks = 6

// Pace is how fast a cadre has been visiting lately: counted household
// visits (one per household a day) and days with at least one, over the
// working days (Monday to Friday) of the PaceWeeks weeks before today.
type Pace struct {
	WorkingDays int
	Visits      int
	VisitDays   int
}

// PerDay is the household visits a working day.
func (p Pace) PerDay() float64 {
	if p.WorkingDays == 0 {
		return 0
	}
	return float64(p.Visits) / float64(p.WorkingDays)
}

// Paces measures each cadre's pace as of today from their visits; counts
// says which visits show it (Profile.CountsForPace). A cadre without a
// counted visit in the weeks looked at has pace zero.
func Paces(visits []VisitFact, counts func(VisitFact) bool, today domain.Date) map[uuid.UUID]Pace {
	from := addDays(today, -7*PaceWeeks)
	days := WorkingDays(from, addDays(today, -1))
	type key struct {
		household uuid.UUID
		on        domain.Date
	}
	seen, seenDay := map[uuid.UUID]map[key]bool{}, map[uuid.UUID]map[domain.Date]bool{}
	out := map[uuid.UUID]Pace{}
	for _, v := range visits {
		on := v.On()
		if on.Before(from) || !on.Before(today) || !counts(v) {
			continue
		}
		if seen[v.CadreID] == nil {
			seen[v.CadreID], seenDay[v.CadreID] = map[key]bool{}, map[domain.Date]bool{}
		}
		p := out[v.CadreID]
		p.WorkingDays = days
		if k := (key{v.HouseholdID, on}); !seen[v.CadreID][k] {
			seen[v.CadreID][k] = true
			p.Visits++
		}
		if !seenDay[v.CadreID][on] {
			seenDay[v.CadreID][on] = true
			p.VisitDays++
		}
		out[v.CadreID] = p
	}
	return out
}

// WorkingDays counts the days Monday to Friday in [from, to]. Public
// holidays are not known to the rules and count as working days.
func WorkingDays(from, to domain.Date) int {
	n := 0
	for d := from; !d.After(to); d = addDays(d, 1) {
		if wd := d.Start().Weekday(); wd != time.Saturday && wd != time.Sunday {
			n++
		}
	}
	return n
}

// Owed is a status with the cadre who answers for it (nil: nobody does).
type Owed struct {
	Status Status
	Cadre  *uuid.UUID
}

// Risk is the forecast of one status: whether it will be met in time at
// the pace of the cadre who answers for it.
type Risk struct {
	AtRisk      bool    `json:"at_risk"`
	Needed      int     `json:"needed"`       // counted visits this status still lacks
	DaysLeft    int     `json:"days_left"`    // days from today through the due day
	WorkingLeft int     `json:"working_left"` // working days from today through the due day
	Pace        float64 `json:"pace"`         // the cadre's counted visits a working day lately
	Capacity    int     `json:"capacity"`     // visits the cadre can be expected to make by the due day at that pace
	Owed        int     `json:"owed"`         // visits the cadre owes across all their households by the due day
	// Score ranks risks, 0 (none) to 1 (certain): the share of what the
	// cadre owes by the due day that their pace leaves undone.
	Score    float64 `json:"score"`
	ReasonZH string  `json:"reason_zh"`
}

// Forecast says, for each status of owed, whether it is at risk as of
// today. The model is one a supervisor can redo by hand:
//
//   - a status already past its due day and short is certain to be missed,
//     and so is one that needs more visits than days are left (a household
//     gains at most one counted visit a day), or a household's that nobody
//     answers for;
//   - otherwise the cadre's pace (Paces: counted household visits a working
//     day over the last PaceWeeks weeks) times the working days left until
//     the status's due day is what they can be expected to do by then; what
//     they owe by then is, over all their households, the most any of the
//     household's statuses due by that day still lacks (one visit counts
//     for the quarter and the year alike). The status is at risk when the
//     cadre owes more than they can do; the score is the share left undone.
//   - a cadre's duty (days in the village) is measured against the days a
//     working day they have been out lately; a unit's duty, which no one
//     cadre answers for, only by the days left.
//
// It does not guess which of a behind cadre's households they will leave
// out: each of them is at risk, with the same score.
func Forecast(owed []Owed, paces map[uuid.UUID]Pace, today domain.Date) []Risk {
	// need[cadre][household][due] is the most the household's statuses due
	// on that day lack; owedBy sums, over the cadre's households, the most
	// any of its statuses due by a day lacks.
	need := map[uuid.UUID]map[uuid.UUID]map[domain.Date]int{}
	for _, o := range owed {
		st := o.Status
		if o.Cadre == nil || st.HouseholdID == uuid.Nil || st.Short() == 0 || today.After(st.DueOn) {
			continue
		}
		c := *o.Cadre
		if need[c] == nil {
			need[c] = map[uuid.UUID]map[domain.Date]int{}
		}
		if need[c][st.HouseholdID] == nil {
			need[c][st.HouseholdID] = map[domain.Date]int{}
		}
		need[c][st.HouseholdID][st.DueOn] = max(need[c][st.HouseholdID][st.DueOn], st.Short())
	}
	type cadreDue struct {
		cadre uuid.UUID
		due   domain.Date
	}
	memo := map[cadreDue]int{}
	owedBy := func(cadre uuid.UUID, due domain.Date) int {
		k := cadreDue{cadre, due}
		if v, ok := memo[k]; ok {
			return v
		}
		total := 0
		for _, byDue := range need[cadre] {
			most := 0
			for d, n := range byDue {
				if !d.After(due) {
					most = max(most, n)
				}
			}
			total += most
		}
		memo[k] = total
		return total
	}
	out := make([]Risk, len(owed))
	for i, o := range owed {
		out[i] = forecastOne(o, paces, today, owedBy)
	}
	return out
}

func forecastOne(o Owed, paces map[uuid.UUID]Pace, today domain.Date, owedBy func(uuid.UUID, domain.Date) int) Risk {
	st := o.Status
	r := Risk{Needed: st.Short()}
	if !today.After(st.DueOn) {
		r.DaysLeft = daysBetween(maxDate(today, st.Period.Start), st.DueOn) + 1
		r.WorkingLeft = WorkingDays(maxDate(today, st.Period.Start), st.DueOn)
	}
	certain := func(reason string) Risk {
		r.AtRisk, r.Score, r.ReasonZH = true, 1, reason
		return r
	}
	switch {
	case r.Needed == 0:
		r.ReasonZH = "已达标"
		return r
	case r.DaysLeft == 0:
		return certain(fmt.Sprintf("已过截止日%s，还差%d次", st.DueOn, r.Needed))
	case r.Needed > r.DaysLeft:
		return certain(fmt.Sprintf("距截止%s只剩%d天，还差%d次；每户每天最多计1次，已无法按时完成", st.DueOn, r.DaysLeft, r.Needed))
	case o.Cadre == nil && st.HouseholdID != uuid.Nil:
		return certain(fmt.Sprintf("该户没有帮扶责任人，无人负责走访；截止%s还差%d次，请尽快落实结对", st.DueOn, r.Needed))
	case o.Cadre == nil:
		// A unit's duty: any of its cadres may do it, so only the days tell.
		if r.Needed > r.WorkingLeft {
			r.AtRisk, r.Score = true, 1-float64(r.WorkingLeft)/float64(r.Needed)
			r.ReasonZH = fmt.Sprintf("距截止%s只剩%d个工作日，还需%d次", st.DueOn, r.WorkingLeft, r.Needed)
		} else {
			r.ReasonZH = fmt.Sprintf("距截止%s还有%d个工作日，还需%d次，时间尚够", st.DueOn, r.WorkingLeft, r.Needed)
		}
		return r
	}
	pace := paces[*o.Cadre]
	r.Pace = math.Round(pace.PerDay()*100) / 100
	if st.HouseholdID == uuid.Nil {
		// A cadre's own duty counts days in the village, not households.
		days := float64(pace.VisitDays) / float64(max(1, pace.WorkingDays))
		r.Capacity, r.Owed = int(days*float64(r.WorkingLeft)), r.Needed
		r.Pace = math.Round(days*100) / 100
		if r.Owed > r.Capacity {
			r.AtRisk, r.Score = true, shortfall(r.Capacity, r.Owed)
			r.ReasonZH = fmt.Sprintf("近%d周该干部平均每个工作日进村%.2f天；截止%s前还有%d个工作日，按此节奏约能进村%d天，还需%d天，可能完不成",
				PaceWeeks, r.Pace, st.DueOn, r.WorkingLeft, r.Capacity, r.Needed)
		} else {
			r.ReasonZH = fmt.Sprintf("按近%d周的节奏，截止%s前约能进村%d天，还需%d天，时间尚够", PaceWeeks, st.DueOn, r.Capacity, r.Needed)
		}
		return r
	}
	r.Capacity = int(pace.PerDay() * float64(r.WorkingLeft))
	r.Owed = owedBy(*o.Cadre, st.DueOn)
	if r.Owed <= r.Capacity {
		r.ReasonZH = fmt.Sprintf("按该干部近%d周的节奏（每个工作日约走访%.2f户次），截止%s前约能走访%d户次，名下各户截止前共需%d次，时间尚够",
			PaceWeeks, r.Pace, st.DueOn, r.Capacity, r.Owed)
		return r
	}
	r.AtRisk, r.Score = true, shortfall(r.Capacity, r.Owed)
	if pace.Visits == 0 {
		r.ReasonZH = fmt.Sprintf("该干部近%d周没有计入的走访；截止%s前还有%d个工作日，名下各户共需走访%d次，本户还差%d次",
			PaceWeeks, st.DueOn, r.WorkingLeft, r.Owed, r.Needed)
		return r
	}
	r.ReasonZH = fmt.Sprintf("该干部近%d周每个工作日约走访%.2f户次；截止%s前还有%d个工作日，按此节奏约能走访%d户次，而名下各户截止前共需%d次，约%d次完不成；本户还差%d次",
		PaceWeeks, r.Pace, st.DueOn, r.WorkingLeft, r.Capacity, r.Owed, r.Owed-r.Capacity, r.Needed)
	return r
}

// shortfall is the share of owed that capacity leaves undone.
func shortfall(capacity, owed int) float64 {
	return math.Round(float64(owed-capacity)/float64(owed)*1000) / 1000
}

// RankRisks orders indexes of risks worst first: highest score, then the
// soonest due day, then the most visits needed.
func RankRisks(risks []Risk, owed []Owed) []int {
	idx := make([]int, len(risks))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		ra, rb := risks[a], risks[b]
		if c := cmp.Compare(rb.Score, ra.Score); c != 0 {
			return c
		}
		if c := cmp.Compare(dayNumber(owed[a].Status.DueOn), dayNumber(owed[b].Status.DueOn)); c != 0 {
			return c
		}
		return cmp.Compare(rb.Needed, ra.Needed)
	})
	return idx
}

func maxDate(a, b domain.Date) domain.Date {
	if a.After(b) {
		return a
	}
	return b
}

// CountsForPace says whether a visit shows the cadre's working pace: some
// household rule of the profile would count it (its kind, flags and length),
// so condolence visits and visits that probably did not happen are left out.
func (p Profile) CountsForPace(v VisitFact) bool {
	if v.Deleted {
		return false
	}
	for _, r := range p.Rules {
		if (r.Subject == SubjectHousehold || r.Subject == SubjectPairing) && r.visitReason(v) == "" {
			return true
		}
	}
	return false
}
