package bench

import "time"

// growthRule judges whether a gauge grew over a soak once warmed up: the
// least-squares slope of its samples after the warm-up, times the time
// they span, is the growth the trend predicts over that span; it grew when
// that exceeds the tolerance, the larger of Rel × the samples' median and
// Floor (in the gauge's unit). A trend, not the last sample against the
// first, so one busy moment neither hides nor fakes a leak.
type growthRule struct {
	Rel   float64
	Floor float64
}

// growthVerdict is a gauge's judgement.
type growthVerdict struct {
	Samples   int
	Growth    float64 // slope × span, in the gauge's unit
	Tolerance float64
	Grew      bool
	Judged    bool // false with fewer than 3 samples after the warm-up
}

// judge applies the rule to the samples (at, value) taken at or after
// warmup.
func (g growthRule) judge(at []time.Duration, values []float64, warmup time.Duration) growthVerdict {
	var xs, ys []float64
	for i, t := range at {
		if t >= warmup {
			xs = append(xs, t.Seconds())
			ys = append(ys, values[i])
		}
	}
	v := growthVerdict{Samples: len(xs)}
	if len(xs) < 3 {
		return v
	}
	v.Judged = true
	v.Growth = leastSquaresSlope(xs, ys) * (xs[len(xs)-1] - xs[0])
	v.Tolerance = max(g.Rel*median(ys), g.Floor)
	v.Grew = v.Growth > v.Tolerance
	return v
}

func leastSquaresSlope(xs, ys []float64) float64 {
	n := float64(len(xs))
	var sx, sy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
	}
	mx, my := sx/n, sy/n
	var num, den float64
	for i := range xs {
		num += (xs[i] - mx) * (ys[i] - my)
		den += (xs[i] - mx) * (xs[i] - mx)
	}
	if den == 0 {
		return 0
	}
	return num / den
}
