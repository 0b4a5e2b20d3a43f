package rules

import (
	"fmt"

	"github.com/fieldvisit/fieldvisit/domain"
)

// Risk is a forecast of whether a status will be met in time.
type Risk struct {
	AtRisk   bool   `json:"at_risk"`
	Needed   int    `json:"needed"`    // counted visits still missing
	DaysLeft int    `json:"days_left"` // days from today through the due day
	Capacity int    `json:"capacity"`  // visit days this subject can expect before the due day
	ReasonZH string `json:"reason_zh"`
}

// Forecast says whether st is at risk, as of today, for a cadre who has
// cadreLoad subjects (households, pairs) still short in the same window.
// The model is deliberately simple so a cadre can redo it in their head:
// each short subject needs its own day in the village (a household gains at
// most one counted visit a day), and the cadre shares the days left evenly,
// so this subject can expect floor(days left / load) visit days. It is at
// risk when it needs more than that. No pace history is used: a cadre's past
// pace says little about a month with a harvest or a festival in it.
func Forecast(st Status, today domain.Date, cadreLoad int) Risk {
	r := Risk{Needed: st.Short()}
	if !today.After(st.DueOn) {
		r.DaysLeft = daysBetween(maxDate(today, st.Period.Start), st.DueOn) + 1
	}
	r.Capacity = r.DaysLeft / max(1, cadreLoad)
	switch {
	case r.Needed == 0:
		r.ReasonZH = "已达标"
	case r.DaysLeft == 0:
		r.AtRisk = true
		r.ReasonZH = fmt.Sprintf("已过截止日%s,还差%d次", st.DueOn, r.Needed)
	case r.Needed > r.Capacity:
		r.AtRisk = true
		r.ReasonZH = fmt.Sprintf("距截止%s还有%d天,需完成%d次;该干部同期有%d户待走访,平均每户仅能安排约%d天,可能无法按时完成",
			st.DueOn, r.DaysLeft, r.Needed, max(1, cadreLoad), r.Capacity)
	default:
		r.ReasonZH = fmt.Sprintf("距截止%s还有%d天,需完成%d次,时间尚够", st.DueOn, r.DaysLeft, r.Needed)
	}
	return r
}

func maxDate(a, b domain.Date) domain.Date {
	if a.After(b) {
		return a
	}
	return b
}
