package rules

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// States of a rule in a window, best first. The order matters: adding a
// counted visit can only move a status towards met, never away from it.
const (
	StateMet     = "met"      // counted ≥ required (also when nothing is required)
	StateOnTrack = "on_track" // short, window open, on pace, not close to the end
	StateDueSoon = "due_soon" // short, on pace, within DueSoonDays of the last applicable day
	StateOverdue = "overdue"  // short and behind pace: fewer than the pro-rata share expected by today
	StateMissed  = "missed"   // the last applicable day has passed and it is still short
)

// States lists the state codes with their zh-CN labels, best first.
var States = terms(StateMet, "已达标", StateOnTrack, "进度正常", StateDueSoon, "即将到期", StateOverdue, "进度落后", StateMissed, "未完成")

// StateRank orders states, 0 best; unknown states rank last.
func StateRank(state string) int {
	for i, t := range States {
		if t.Code == state {
			return i
		}
	}
	return len(States)
}

// Reasons a visit is not counted for a status.
const (
	ReasonDeleted       = "deleted"
	ReasonOutsideWindow = "outside_window"
	ReasonKind          = "kind"
	ReasonFlagPrefix    = "flag:" // followed by the evidence flag code
	ReasonTooShort      = "too_short"
	ReasonNotApplicable = "rule_not_applicable"
	ReasonBeforePairing = "before_pairing"
	ReasonAfterPairing  = "after_pairing"
	ReasonNotPaired     = "not_paired"
	ReasonOutsideArea   = "outside_area"
	ReasonSameDay       = "same_day_duplicate"
)

// VisitJudgement says whether one visit counted for a status and, if not, why.
type VisitJudgement struct {
	VisitID  uuid.UUID   `json:"visit_id"`
	CadreID  uuid.UUID   `json:"cadre_id"`
	On       domain.Date `json:"on"`
	Kind     string      `json:"kind"`
	Counted  bool        `json:"counted"`
	Reason   string      `json:"reason,omitempty"`
	ReasonZH string      `json:"reason_zh,omitempty"`
}

// Status is where one rule stands for one subject in one window, with every
// visit it looked at, so that the number can be checked by hand.
type Status struct {
	RuleCode    string     `json:"rule_code"`
	RuleNameZH  string     `json:"rule_name_zh"`
	Subject     string     `json:"subject"`
	HouseholdID uuid.UUID  `json:"household_id"` // uuid.Nil for cadre and unit statuses
	CadreID     *uuid.UUID `json:"cadre_id,omitempty"`
	UnitID      *uuid.UUID `json:"unit_id,omitempty"`
	RegionID    *uuid.UUID `json:"region_id,omitempty"` // the village group of a unit status
	Period      Period     `json:"period"`
	State       string     `json:"state"`
	Required    int        `json:"required"`
	// FullRequired is the rule's number for a whole window, before proration.
	FullRequired   int         `json:"full_required"`
	CountedN       int         `json:"counted_n"`
	ApplicableDays int         `json:"applicable_days"`
	DueOn          domain.Date `json:"due_on"` // the last day a visit can still count
	// DueSoonFrom and OverdueFrom are the days the state turns due_soon and
	// overdue if no further visit counts (OverdueFrom nil: never before the
	// deadline), so a stored status can be read on a later day without
	// judging its visits again (see StateOn).
	DueSoonFrom   domain.Date      `json:"due_soon_from"`
	OverdueFrom   *domain.Date     `json:"overdue_from,omitempty"`
	Prorated      bool             `json:"prorated"`
	Counted       []VisitJudgement `json:"counted"`
	NotCounted    []VisitJudgement `json:"not_counted"`
	ExplanationZH string           `json:"explanation_zh"`
	Explanation   string           `json:"explanation"`
}

// Short is how many more counted visits the status needs.
func (s Status) Short() int { return max(0, s.Required-s.CountedN) }

// judgement is one rule, one minimum, one subject and one window, ready to
// look at visits: applicable marks the days of the window the rule covers
// for this subject, check adds the subject's own reasons (pairing, area).
type judgement struct {
	rule       Rule
	min        Minimum
	period     Period
	applicable []bool
	// statusCovers marks the days the household's status fits the rule,
	// checked before the subject's own reasons: a visit before a household
	// was registered is explained by that, not by its pairing.
	statusCovers []bool
	check        func(v VisitFact, on domain.Date) string
	status       Status
	contextZH    string // what changed within the window, for the explanation
	contextEN    string
}

// EvaluateHousehold judges the household and pairing rules of p for one
// household in one window. A rule gives a status for each of its minimums
// whose window is the period's; a rule that covers the household on no day
// of the period gives none. Visits of other households are ignored, so the
// caller may pass a village's visits.
func EvaluateHousehold(p Profile, h HouseholdFacts, visits []VisitFact, period Period, today domain.Date) []Status {
	own := sortedVisits(visits, func(v VisitFact) bool { return v.HouseholdID == h.ID })
	var out []Status
	for _, r := range p.Rules {
		for _, m := range r.Minimums {
			if m.Window != period.Window {
				continue
			}
			switch r.Subject {
			case SubjectHousehold:
				j := householdJudgement(r, m, h, period, nil)
				if j == nil {
					continue
				}
				if !r.AnyCadre {
					j.check = func(v VisitFact, on domain.Date) string { return pairingReason(h, v.CadreID, on) }
				}
				out = append(out, j.judge(own, today))
			case SubjectPairing:
				for _, cadre := range pairedCadres(h) {
					j := householdJudgement(r, m, h, period, &cadre)
					if j == nil {
						continue
					}
					j.check = func(v VisitFact, on domain.Date) string { return pairingReason(h, cadre, on) }
					mine := slices.DeleteFunc(slices.Clone(own), func(v VisitFact) bool { return v.CadreID != cadre })
					out = append(out, j.judge(mine, today))
				}
			}
		}
	}
	return out
}

// EvaluateHouseholdYear judges every window of year: the year, its quarters
// and its months, in that order.
func EvaluateHouseholdYear(p Profile, h HouseholdFacts, visits []VisitFact, year int, today domain.Date) []Status {
	var out []Status
	for _, w := range []string{WindowYear, WindowQuarter, WindowMonth} {
		periods, _ := PeriodsOfYear(w, year)
		for _, per := range periods {
			out = append(out, EvaluateHousehold(p, h, visits, per, today)...)
		}
	}
	return out
}

// householdJudgement marks the days of the period on which r covers h (and,
// for a pairing rule, on which cadre was paired with h); nil when none.
func householdJudgement(r Rule, m Minimum, h HouseholdFacts, period Period, cadre *uuid.UUID) *judgement {
	n := period.Days()
	mask, byStatus := make([]bool, n), make([]bool, n)
	covers := false
	for i := range n {
		d := addDays(period.Start, i)
		s, ok := h.spanOn(d)
		byStatus[i] = ok && r.coversSpan(s)
		mask[i] = byStatus[i] && (cadre == nil || h.pairedOn(*cadre, d))
		covers = covers || mask[i]
	}
	if !covers {
		return nil
	}
	st := Status{RuleCode: r.Code, RuleNameZH: r.NameZH, Subject: r.Subject, HouseholdID: h.ID, Period: period}
	if cadre != nil {
		c := *cadre
		st.CadreID = &c
	}
	zh, en := spanChanges(h, period)
	return &judgement{rule: r, min: m, period: period, applicable: mask, statusCovers: byStatus, status: st, contextZH: zh, contextEN: en}
}

// coversSpan reports whether r applies to a household in span s. An exited
// household with an unknown exit year is covered by an "exited since" rule,
// so that a gap in the records never silently drops it from monitoring.
func (r Rule) coversSpan(s Span) bool {
	if !contains(r.Statuses, s.Status) {
		return false
	}
	if len(r.PovertyTypes) > 0 && !contains(r.PovertyTypes, s.PovertyType) {
		return false
	}
	if r.ExitedSinceYear > 0 && s.Status == domain.StatusExited && s.ExitYear != 0 && s.ExitYear < r.ExitedSinceYear {
		return false
	}
	return true
}

// pairingReason says why cadre's visit on d does not count as a paired visit.
func pairingReason(h HouseholdFacts, cadre uuid.UUID, d domain.Date) string {
	if h.pairedOn(cadre, d) {
		return ""
	}
	ended, later := false, false
	for _, p := range h.Pairings {
		if p.CadreID != cadre {
			continue
		}
		if d.Before(p.StartOn) {
			later = true
		} else {
			ended = true
		}
	}
	switch {
	case ended:
		return ReasonAfterPairing
	case later:
		return ReasonBeforePairing
	}
	return ReasonNotPaired
}

// pairedCadres lists the cadres ever paired with h, by first pairing.
func pairedCadres(h HouseholdFacts) []uuid.UUID {
	ps := slices.Clone(h.Pairings)
	slices.SortStableFunc(ps, func(a, b domain.Pairing) int {
		if c := daysBetween(b.StartOn, a.StartOn); c != 0 {
			return c
		}
		return domain.CompareIDs(a.CadreID, b.CadreID)
	})
	var out []uuid.UUID
	for _, p := range ps {
		if !slices.Contains(out, p.CadreID) {
			out = append(out, p.CadreID)
		}
	}
	return out
}

// sortedVisits keeps the visits keep accepts, ordered by start then ID, so
// that which of two same-day visits counts never depends on input order.
func sortedVisits(visits []VisitFact, keep func(VisitFact) bool) []VisitFact {
	var out []VisitFact
	for _, v := range visits {
		if keep(v) {
			out = append(out, v)
		}
	}
	slices.SortStableFunc(out, func(a, b VisitFact) int {
		if c := a.StartedAt.Compare(b.StartedAt); c != 0 {
			return c
		}
		return domain.CompareIDs(a.ID, b.ID)
	})
	return out
}

// judge looks at each visit, counts at most one per day, and states the result.
func (j *judgement) judge(visits []VisitFact, today domain.Date) Status {
	st := j.status
	st.FullRequired = j.min.Count
	for _, ok := range j.applicable {
		if ok {
			st.ApplicableDays++
		}
	}
	st.Required, st.Prorated = prorate(j.min.Count, st.ApplicableDays, j.period.Days(), j.rule.graceDays())
	countedDays := map[int]bool{}
	st.Counted, st.NotCounted = []VisitJudgement{}, []VisitJudgement{}
	for _, v := range visits {
		on := v.On()
		vj := VisitJudgement{VisitID: v.ID, CadreID: v.CadreID, On: on, Kind: v.Kind}
		idx := daysBetween(j.period.Start, on)
		switch {
		case !j.period.Contains(on):
			// A visit of another window is listed only when its raw timestamp,
			// read in UTC or in the zone it was recorded in, would put it in
			// this one: those are the cases people dispute (Dec 31 17:00 UTC
			// is Jan 1 in Shanghai). Listing every other visit would bury them.
			if !j.period.Contains(dateIn(v.StartedAt, time.UTC)) && !j.period.Contains(dateIn(v.StartedAt, v.StartedAt.Location())) {
				continue
			}
			vj.Reason = ReasonOutsideWindow
		case v.Deleted:
			vj.Reason = ReasonDeleted
		default:
			vj.Reason = j.rule.visitReason(v)
			if vj.Reason == "" && j.statusCovers != nil && !j.statusCovers[idx] {
				vj.Reason = ReasonNotApplicable
			}
			if vj.Reason == "" && j.check != nil {
				vj.Reason = j.check(v, on)
			}
			if vj.Reason == "" && !j.applicable[idx] {
				vj.Reason = ReasonNotApplicable
			}
			if vj.Reason == "" && countedDays[idx] {
				vj.Reason = ReasonSameDay
			}
		}
		if vj.Reason == "" {
			countedDays[idx] = true
			vj.Counted = true
			st.Counted = append(st.Counted, vj)
			continue
		}
		vj.ReasonZH = reasonZH(vj.Reason, v.Kind)
		st.NotCounted = append(st.NotCounted, vj)
	}
	st.CountedN = len(st.Counted)
	var expected, daysLeft int
	st.State, st.DueOn, expected, daysLeft = stateOf(st.Required, st.CountedN, j.applicable, j.period, today, j.rule.dueSoonDays(j.period.Window))
	st.DueSoonFrom, st.OverdueFrom = thresholds(st.Required, st.CountedN, j.applicable, j.period, j.rule.dueSoonDays(j.period.Window))
	st.ExplanationZH, st.Explanation = j.explain(st, expected, daysLeft)
	return st
}

// thresholds finds the first days on which stateOf would answer due_soon
// and overdue for an unchanged count.
func thresholds(required, counted int, applicable []bool, period Period, dueSoon int) (dueSoonFrom domain.Date, overdueFrom *domain.Date) {
	last, total := -1, 0
	for i, ok := range applicable {
		if ok {
			last = i
			total++
		}
	}
	// Before the window stateOf counts the days left from its first day, so
	// a window shorter than the due-soon span is due soon from any day.
	dueSoonFrom = addDays(period.Start, last+1-dueSoon)
	if last+1 <= dueSoon {
		dueSoonFrom = domain.Date{Year: 1, Month: time.January, Day: 1}
	}
	if total == 0 || counted >= required {
		return dueSoonFrom, nil
	}
	elapsed := 0
	for t := 0; t <= last; t++ { // elapsed counts covered days strictly before day t
		if required*elapsed/total > counted {
			d := addDays(period.Start, t)
			return dueSoonFrom, &d
		}
		if applicable[t] {
			elapsed++
		}
	}
	return dueSoonFrom, nil
}

// StateOn is the status's state on day d, assuming no visit is added or
// taken away since it was judged: what a report reads from stored statuses.
func (s Status) StateOn(d domain.Date) string {
	switch {
	case s.CountedN >= s.Required:
		return StateMet
	case d.After(s.DueOn):
		return StateMissed
	case s.OverdueFrom != nil && !d.Before(*s.OverdueFrom):
		return StateOverdue
	case !d.Before(s.DueSoonFrom):
		return StateDueSoon
	}
	return StateOnTrack
}

// visitReason applies the checks that depend on the visit alone. A visit
// with no end time counts whatever MinDurationMinutes says: the duration is
// unknown, not short, and an unfinished record should not be punished
// twice; profiles that distrust open visits can disqualify the evidence
// flag too_short instead.
func (r Rule) visitReason(v VisitFact) string {
	if !contains(r.CountKinds, v.Kind) {
		return ReasonKind
	}
	for _, f := range v.Flags {
		if contains(r.DisqualifyingFlags, f) {
			return ReasonFlagPrefix + f
		}
	}
	if r.MinDurationMinutes > 0 && v.EndedAt != nil && v.EndedAt.Sub(v.StartedAt) < time.Duration(r.MinDurationMinutes)*time.Minute {
		return ReasonTooShort
	}
	return ""
}

func (r Rule) graceDays() int {
	if r.GraceDays > 0 {
		return r.GraceDays
	}
	return 7
}

func (r Rule) dueSoonDays(window string) int {
	if r.DueSoonDays > 0 {
		return r.DueSoonDays
	}
	if window == WindowMonth {
		return 7
	}
	return 14
}

// prorate scales a window's minimum to the days the rule covers. Rounding is
// up, so a household covered for most of a year still owes whole visits; a
// window covered on fewer than grace days owes nothing, because a single day
// of coverage at a quarter's end is too little to organise a visit in.
func prorate(count, applicable, windowDays, grace int) (required int, prorated bool) {
	if applicable >= windowDays {
		return count, false
	}
	if applicable < grace {
		return 0, true
	}
	return (count*applicable + windowDays - 1) / windowDays, true
}

// stateOf states a count against a window. The deadline is the last day the
// rule covers, not the window's end: a household that exited in June cannot
// be visited for "yearly-6" in July. Behind pace means fewer counted visits
// than floor(required × covered days before today / covered days); it wins
// over due_soon, because being behind is the stronger warning. With one
// visit required per window the pro-rata share stays 0 until the end, so
// such statuses go on_track → due_soon → missed.
func stateOf(required, counted int, applicable []bool, period Period, today domain.Date, dueSoon int) (state string, dueOn domain.Date, expected, daysLeft int) {
	last, total, elapsed := -1, 0, 0
	todayIdx := daysBetween(period.Start, today)
	for i, ok := range applicable {
		if ok {
			last = i
			total++
			if i < todayIdx {
				elapsed++
			}
		}
	}
	dueOn = addDays(period.Start, last)
	daysLeft = max(0, last+1-max(todayIdx, 0))
	if total > 0 {
		expected = required * elapsed / total
	}
	switch {
	case counted >= required:
		return StateMet, dueOn, expected, daysLeft
	case todayIdx > last:
		return StateMissed, dueOn, expected, daysLeft
	case counted < expected:
		return StateOverdue, dueOn, expected, daysLeft
	case daysLeft <= dueSoon:
		return StateDueSoon, dueOn, expected, daysLeft
	}
	return StateOnTrack, dueOn, expected, daysLeft
}

func dateIn(t time.Time, loc *time.Location) domain.Date {
	y, m, d := t.In(loc).Date()
	return domain.Date{Year: y, Month: m, Day: d}
}

func reasonZH(reason, kind string) string {
	if code, ok := strings.CutPrefix(reason, ReasonFlagPrefix); ok {
		label, _ := EvidenceFlags.Label(code)
		return "核验标记“" + label + "”，不计入"
	}
	switch reason {
	case ReasonKind:
		label, ok := domain.VisitKinds.Label(kind)
		if !ok {
			label = kind
		}
		return "走访类型“" + label + "”不计入本规则"
	}
	return reasonLabels[reason]
}

var reasonLabels = map[string]string{
	ReasonDeleted:       "走访记录已删除",
	ReasonOutsideWindow: "按北京时间不在本统计期内",
	ReasonTooShort:      "走访时间过短",
	ReasonNotApplicable: "当天该户状态不适用本规则",
	ReasonBeforePairing: "早于该干部与本户结对",
	ReasonAfterPairing:  "该干部与本户的结对已结束",
	ReasonNotPaired:     "该干部未与本户结对",
	ReasonOutsideArea:   "不在帮扶村（小组）内",
	ReasonSameDay:       "同一天已计入一次",
}

// explain writes the status for people: the zh-CN text is what a cadre or
// supervisor reads, so it states the numbers and every design choice that
// changed them (proration, grace, the deadline).
func (j *judgement) explain(st Status, expected, daysLeft int) (zh, en string) {
	var z, e strings.Builder
	fmt.Fprintf(&z, "%s·%s：", j.rule.NameZH, j.period.LabelZH())
	fmt.Fprintf(&e, "%s, %s: ", j.rule.Code, j.period.Key())
	covered := strings.Join(dayRanges(j.applicable, j.period, "至"), "、")
	coveredEN := strings.Join(dayRanges(j.applicable, j.period, " to "), ", ")
	switch {
	case st.Prorated && st.Required == 0:
		fmt.Fprintf(&z, "本期仅%s适用（共%d天%s），不足%d天，本期不作要求。", covered, st.ApplicableDays, j.contextZH, j.rule.graceDays())
		fmt.Fprintf(&e, "applies only %s (%d days%s), under %d days, so nothing is required.", coveredEN, st.ApplicableDays, j.contextEN, j.rule.graceDays())
		return z.String(), e.String()
	case st.Prorated:
		fmt.Fprintf(&z, "本期仅%s适用（共%d天，全期%d天%s），按适用天数折算应走访%d次（全期要求%d次，向上取整），",
			covered, st.ApplicableDays, j.period.Days(), j.contextZH, st.Required, st.FullRequired)
		fmt.Fprintf(&e, "applies only %s (%d of %d days%s); prorated minimum %d of %d (rounded up); ",
			coveredEN, st.ApplicableDays, j.period.Days(), j.contextEN, st.Required, st.FullRequired)
	default:
		fmt.Fprintf(&z, "应走访%d次，", st.Required)
		fmt.Fprintf(&e, "minimum %d; ", st.Required)
	}
	fmt.Fprintf(&z, "已计入%d次。", st.CountedN)
	fmt.Fprintf(&e, "%d counted. ", st.CountedN)
	short := st.Short()
	switch st.State {
	case StateMet:
		z.WriteString("已达标。")
		e.WriteString("Met.")
	case StateOnTrack:
		fmt.Fprintf(&z, "还差%d次，截止%s。", short, st.DueOn)
		fmt.Fprintf(&e, "%d more needed by %s.", short, st.DueOn)
	case StateDueSoon:
		fmt.Fprintf(&z, "还差%d次，距截止%s仅剩%d天，请尽快走访。", short, st.DueOn, daysLeft)
		fmt.Fprintf(&e, "%d more needed; only %d days left until %s.", short, daysLeft, st.DueOn)
	case StateOverdue:
		fmt.Fprintf(&z, "按进度到今天应至少计入%d次，已落后；还差%d次，截止%s。", expected, short, st.DueOn)
		fmt.Fprintf(&e, "Behind pace: %d expected by today; %d more needed by %s.", expected, short, st.DueOn)
	case StateMissed:
		fmt.Fprintf(&z, "已过截止日%s，少%d次，未完成。", st.DueOn, short)
		fmt.Fprintf(&e, "Missed: the last day was %s; %d short.", st.DueOn, short)
	}
	if len(st.NotCounted) > 0 {
		zhParts, enParts := notCountedSummary(st.NotCounted)
		fmt.Fprintf(&z, "另有%d次走访未计入（%s）。", len(st.NotCounted), zhParts)
		fmt.Fprintf(&e, " %d visits not counted (%s).", len(st.NotCounted), enParts)
	}
	return z.String(), e.String()
}

// notCountedSummary groups the reasons, in order of first appearance.
func notCountedSummary(nc []VisitJudgement) (zh, en string) {
	var order []string
	n := map[string]int{}
	label := map[string]string{}
	for _, v := range nc {
		if n[v.Reason] == 0 {
			order = append(order, v.Reason)
			label[v.Reason] = v.ReasonZH
		}
		n[v.Reason]++
	}
	var z, e []string
	for _, r := range order {
		z = append(z, fmt.Sprintf("%s%d次", label[r], n[r]))
		e = append(e, fmt.Sprintf("%s ×%d", r, n[r]))
	}
	return strings.Join(z, "；"), strings.Join(e, ", ")
}

// dayRanges writes the marked days as ranges: "2026-01-01至2026-06-14".
func dayRanges(mask []bool, period Period, sep string) []string {
	var out []string
	for i := 0; i < len(mask); {
		if !mask[i] {
			i++
			continue
		}
		k := i
		for k+1 < len(mask) && mask[k+1] {
			k++
		}
		out = append(out, addDays(period.Start, i).String()+sep+addDays(period.Start, k).String())
		i = k + 1
	}
	return out
}

// spanChanges describes status changes inside the period ("2026-06-15起为已脱贫").
func spanChanges(h HouseholdFacts, period Period) (zh, en string) {
	var z, e []string
	spans := slices.Clone(h.StatusSpans)
	slices.SortStableFunc(spans, func(a, b Span) int { return daysBetween(b.From, a.From) })
	for _, s := range spans {
		if s.From.After(period.Start) && s.From.Before(period.End) {
			label, _ := domain.Statuses.Label(s.Status)
			z = append(z, s.From.String()+"起为"+label)
			e = append(e, s.Status+" from "+s.From.String())
		}
		if s.To != nil && s.To.After(period.Start) && s.To.Before(period.End) && !h.hasSpanFrom(*s.To) {
			z = append(z, s.To.String()+"起无状态记录")
			e = append(e, "no status from "+s.To.String())
		}
	}
	if len(z) == 0 {
		return "", ""
	}
	return "；期间" + strings.Join(z, "，"), "; " + strings.Join(e, ", ")
}

func (h HouseholdFacts) hasSpanFrom(d domain.Date) bool {
	for _, s := range h.StatusSpans {
		if s.From == d {
			return true
		}
	}
	return false
}
