package demo

// A year of visit history for the demo county, so that reports on visit
// frequency and evidence show something true on first start.
//
// Every paired household is visited by its paired cadre, within the pairing
// and never after the day before Today:
//   - registered (and relapsed) households 6–10 times a year at roughly even
//     spacing, exited and edge households about quarterly; a household that
//     relapsed during the year is visited more often from then on;
//   - a handful of diligent cadres (more often resident work-team members)
//     visit monthly; about one cadre in five skips one or two quarters
//     entirely; about one household in fourteen gets no visit for three to
//     six months;
//   - kinds are mostly assist, some followup, and condolence visits in the
//     weeks before 春节 and 中秋 (more for 低保 and 特困 households);
//   - a cadre's visits of one day follow one another with travel time
//     between them, 8:30–18:00 Asia/Shanghai, 15–90 minutes each, each with
//     GPS stamps near the household's home, a 民情日记 note, the 两不愁三保障
//     checklist, measures and who the cadre met.
//
// Visits of the last photoDays days have one to three real JPEGs (with EXIF
// time and GPS; scenes from a pool, see scenePool), stored through a
// PhotoSink. A few cadres fake visits, so
// the evidence flags have something to show (Summary.FakeVisits names them):
//   - photo_reuse: one cadre puts the same photo on visits to different
//     households (those visits usually also get exif_time_mismatch);
//   - far_from_home: one cadre records visits from the township office, 5 km
//     or more from the homes;
//   - too_short: one cadre's recent visits last 3–5 minutes;
//   - mock_location: one cadre's recent visits carry mock-location GPS
//     stamps only (so they are also no_gps);
//   - impossible_travel: one cadre records two visits 40 km apart within 10
//     minutes (the far one is also far_from_home);
//   - no_photo: a few recent visits of honest cadres have no photo (every
//     visit older than photoDays has none either, and is flagged so);
//   - exif_time_mismatch: a few recent visits have a photo taken a day
//     before the visit.
//
// Everything is drawn from Options.Seed with a random stream of its own, so
// two seedings give the same visits, photos and patterns.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/devicehealth"
	"github.com/fieldvisit/fieldvisit/internal/photos/evidence"
	"github.com/fieldvisit/fieldvisit/internal/photos/photoimage"
	"github.com/fieldvisit/fieldvisit/storage"
)

// PhotoSink stores the bytes of one demo photo the way a phone's upload
// does: cadre is the uploader and visitID the visit listing the photo, which
// is stored before its photos. `serve --demo` passes an adapter over the
// photo service; without a sink the demo's visits list no photos.
type PhotoSink interface {
	PutPhoto(ctx context.Context, cadre domain.Principal, photoID, visitID uuid.UUID, jpeg []byte) error
}

// FakePattern is one planted fake-visit pattern: the evidence flag it
// raises, the cadre who fakes and how many visits carry it.
type FakePattern struct {
	Flag   string `json:"flag"`
	Cadre  string `json:"cadre"` // username; "" when honest cadres' visits carry it
	Visits int    `json:"visits"`
	Note   string `json:"note"`
}

const (
	historyDays = 365 // visits cover the year before Today
	photoDays   = 45  // visits this recent have photos
	dayStartMin = 8*60 + 30
	dayEndMin   = 18 * 60

	// Photos are small so that seeding stays fast (about 20 KB each).
	photoWidth, photoHeight, photoQuality = 480, 360, 70
)

// visitPlan is the visit history drawn in memory.
type visitPlan struct {
	visits   []*pvisit // by start time
	photos   []*pphoto // in the order they are stored
	devices  map[*cadre]string
	patterns []FakePattern
}

// pvisit is one planned visit.
type pvisit struct {
	v       domain.Visit
	hh      *household
	c       *cadre
	day     domain.Date
	last    domain.Date // the last day the pairing allows
	minutes int         // of the day, start
	dur     time.Duration
	pos     domain.GeoPoint // where the cadre was
	photos  []*pphoto
	pattern string
}

// pphoto is one planned photo; same, when set, is the photo whose bytes it
// reuses.
type pphoto struct {
	id    uuid.UUID
	visit *pvisit
	opt   photoimage.GenerateOptions
	same  *pphoto
	jpeg  []byte
	sha   string
}

// cadreStyle is how a cadre visits.
type cadreStyle struct {
	diligent bool
	skipQ    map[int]bool // quarters of the year (0–3) the cadre did not visit at all
}

// visitDraw is the random source of the visit history: its own streams, so
// the county drawn before it is the same with or without visits.
func newVisitDraw(opt Options) (*draw, io.Reader) {
	var seed [32]byte
	for i := 0; i < 8; i++ {
		seed[i] = byte(uint64(opt.Seed) >> (8 * i))
	}
	copy(seed[8:], "fieldvisit demo visit uuids")
	return &draw{r: rand.New(rand.NewPCG(uint64(opt.Seed), 0x7151_7ed_da7e)), today: opt.Today}, rand.NewChaCha8(seed)
}

// buildVisits draws the visit history of the plan's pairings.
func (p *plan) buildVisits(opt Options) *visitPlan {
	d, ids := newVisitDraw(opt)
	newID := func() uuid.UUID {
		id, err := uuid.NewRandomFromReader(ids)
		if err != nil {
			panic(err) // ChaCha8 never fails to read
		}
		return id
	}
	vp := &visitPlan{devices: map[*cadre]string{}}
	windowStart := p.today.AddDays(-historyDays)
	lastDay := p.today.AddDays(-1)

	byID := map[uuid.UUID]*cadre{}
	styles := map[*cadre]*cadreStyle{}
	for _, c := range p.cadres {
		byID[c.user.ID] = c
		st := &cadreStyle{skipQ: map[int]bool{}}
		diligent := 0.04
		if c.kind == kindResident || c.kind == kindFirstSec {
			diligent = 0.3
		}
		switch {
		case c == p.cadres[0] || d.chance(diligent):
			st.diligent = true
		case d.chance(0.2):
			st.skipQ[d.intn(4)] = true
			if d.chance(0.3) {
				st.skipQ[d.intn(4)] = true
			}
		}
		styles[c] = st
		vp.devices[c] = fmt.Sprintf("android-%08x", d.r.Uint32())
	}

	// Visit days per household and pairing.
	byCadre := map[*cadre][]*pvisit{}
	ordered := map[*cadre]bool{}
	var order []*cadre
	for _, hh := range p.households {
		for _, pr := range hh.pairings {
			c := byID[pr.CadreID]
			from, to := pr.StartOn, lastDay
			if windowStart.After(from) {
				from = windowStart
			}
			if reg := hh.steps[0].sc.EffectiveOn; reg.After(from) {
				from = reg
			}
			if pr.EndOn != nil && !pr.EndOn.AddDays(-1).After(to) {
				to = pr.EndOn.AddDays(-1)
			}
			if from.After(to) {
				continue
			}
			if !ordered[c] {
				ordered[c] = true
				order = append(order, c)
			}
			for _, pv := range p.visitDays(d, hh, c, styles[c], from, to, windowStart) {
				byCadre[c] = append(byCadre[c], pv)
			}
		}
	}

	// Times: a cadre's visits of one day follow each other with travel
	// time between them; a full day pushes visits to the next.
	var all []*pvisit
	for _, c := range order {
		all = append(all, schedule(d, byCadre[c])...)
	}
	sort.SliceStable(all, func(a, b int) bool { return all[a].startTime().Before(all[b].startTime()) })

	for _, pv := range all {
		pv.v.ID = newID()
		p.fillVisit(d, pv, vp.devices[pv.c])
	}
	vp.visits = all
	p.plantPatterns(d, vp)
	p.planPhotos(d, vp, newID)
	for _, pv := range vp.visits {
		p.finishVisit(d, pv)
	}
	return vp
}

func (pv *pvisit) startTime() time.Time {
	return pv.day.Start().Add(time.Duration(pv.minutes) * time.Minute)
}

// statusOn is the household's status on day x.
func (hh *household) statusOn(x domain.Date) string {
	st := ""
	for _, s := range hh.steps {
		if !s.sc.EffectiveOn.After(x) {
			st = s.sc.To
		}
	}
	return st
}

// quarterOf numbers the quarters of the visit year from 0.
func quarterOf(x, windowStart domain.Date) int {
	return int(x.Start().Sub(windowStart.Start()).Hours()/24) / 92
}

// visitDays draws the days c visits hh between from and to.
func (p *plan) visitDays(d *draw, hh *household, c *cadre, st *cadreStyle, from, to, windowStart domain.Date) []*pvisit {
	regRate, exRate := float64(d.between(6, 10)), float64(d.between(3, 5))
	spread := 0.25
	if st.diligent {
		regRate, exRate, spread = 12, 6, 0.12
	}
	var gapFrom, gapTo domain.Date
	if d.chance(0.07) { // nobody came for months
		gapFrom = d.date(from, to)
		gapTo = gapFrom.AddDays(d.between(90, 180))
	}
	interval := func(x domain.Date) float64 {
		if s := hh.statusOn(x); s == domain.StatusExited || s == domain.StatusEdge {
			return 365 / exRate
		}
		return 365 / regRate
	}
	var out []*pvisit
	add := func(day domain.Date, kind string) {
		out = append(out, &pvisit{hh: hh, c: c, day: day, last: to, v: domain.Visit{VisitDetails: domain.VisitDetails{Kind: kind}}})
	}
	skipped := func(x domain.Date) bool {
		return st.skipQ[quarterOf(x, windowStart)] || !gapFrom.IsZero() && !x.Before(gapFrom) && x.Before(gapTo)
	}
	t := from.AddDays(d.intn(int(interval(from)) + 1))
	for !t.After(to) {
		day := holidayShift(weekdayShift(d, t, from, to), from, to)
		if !skipped(day) && !day.Before(from) && !day.After(to) {
			kind := domain.KindAssist
			if len(out) > 0 && d.chance(0.2) {
				kind = domain.KindFollowup
			}
			add(day, kind)
		}
		t = t.AddDays(max(7, int(math.Round(interval(t)*d.uniform(1-spread, 1+spread)))))
	}
	// Condolence visits in the weeks before the festivals.
	for y := from.Year; y <= to.Year; y++ {
		for _, f := range []struct {
			day  domain.Date
			name string
		}{{springFestival(y), "春节"}, {midAutumn(y), "中秋"}} {
			day := f.day.AddDays(-d.between(3, 18))
			if day.Before(from) || day.After(to) || skipped(day) {
				continue
			}
			chance := 0.08
			if s := hh.statusOn(day); s == domain.StatusRegistered || s == domain.StatusRelapsed {
				chance = 0.3
				if hh.h.PovertyType == domain.PovertyDibao || hh.h.PovertyType == domain.PovertyWubao {
					chance = 0.65
				}
			}
			if d.chance(chance) {
				add(day, domain.KindCondolence)
			}
		}
	}
	return out
}

// weekdayShift moves most weekend visits to the Friday before or the Monday
// after.
func weekdayShift(d *draw, x, from, to domain.Date) domain.Date {
	switch x.Start().Weekday() {
	case time.Saturday:
		if d.chance(0.75) && !x.AddDays(-1).Before(from) {
			return x.AddDays(-1)
		}
	case time.Sunday:
		if d.chance(0.75) && !x.AddDays(1).After(to) {
			return x.AddDays(1)
		}
	}
	return x
}

// holidayShift keeps ordinary visits out of the festival days themselves.
func holidayShift(x, from, to domain.Date) domain.Date {
	for _, f := range []domain.Date{springFestival(x.Year), midAutumn(x.Year), springFestival(x.Year + 1)} {
		if !x.Before(f.AddDays(-1)) && !x.After(f.AddDays(3)) {
			if after := f.AddDays(4); !after.After(to) {
				return after
			}
			return f.AddDays(-2)
		}
	}
	return x
}

// springFestival and midAutumn are the festival days (农历正月初一 and 八月十五).
func springFestival(y int) domain.Date {
	days := map[int]string{2020: "01-25", 2021: "02-12", 2022: "02-01", 2023: "01-22", 2024: "02-10", 2025: "01-29", 2026: "02-17",
		2027: "02-06", 2028: "01-26", 2029: "02-13", 2030: "02-03", 2031: "01-23", 2032: "02-11", 2033: "01-31", 2034: "02-19", 2035: "02-08"}
	return festival(y, days[y], "02-05")
}

func midAutumn(y int) domain.Date {
	days := map[int]string{2020: "10-01", 2021: "09-21", 2022: "09-10", 2023: "09-29", 2024: "09-17", 2025: "10-06", 2026: "09-25",
		2027: "09-15", 2028: "10-03", 2029: "09-22", 2030: "09-12", 2031: "10-01", 2032: "09-19", 2033: "09-08", 2034: "09-27", 2035: "09-16"}
	return festival(y, days[y], "09-20")
}

func festival(y int, md, fallback string) domain.Date {
	if md == "" {
		md = fallback
	}
	x, err := domain.ParseDate(fmt.Sprintf("%04d-%s", y, md))
	if err != nil {
		panic(err)
	}
	return x
}

// schedule gives one cadre's visits their times, in day order.
func schedule(d *draw, vs []*pvisit) []*pvisit {
	sort.SliceStable(vs, func(a, b int) bool {
		if vs[a].day != vs[b].day {
			return vs[a].day.Before(vs[b].day)
		}
		if vs[a].hh.path != vs[b].hh.path {
			return vs[a].hh.path < vs[b].hh.path
		}
		return vs[a].hh.h.Number < vs[b].hh.h.Number
	})
	type dayState struct {
		cursor int // minutes of the day
		at     *domain.GeoPoint
	}
	days := map[domain.Date]*dayState{}
	var out []*pvisit
	for _, pv := range vs {
		home := *pv.hh.h.Home
		dur := visitMinutes(d, pv.v.Kind)
		for tries := 0; tries < 5; tries++ {
			ds := days[pv.day]
			if ds == nil {
				ds = &dayState{cursor: dayStartMin + d.between(0, 80)}
				days[pv.day] = ds
			}
			start := ds.cursor
			if ds.at != nil {
				start += travelMinutes(d, *ds.at, home)
			}
			if start+dur <= dayEndMin {
				pv.minutes, pv.dur, pv.pos = start, time.Duration(dur)*time.Minute, home
				ds.cursor, ds.at = start+dur, &home
				out = append(out, pv)
				break
			}
			if !pv.day.Before(pv.last) {
				break // the pairing ends: the visit is not made
			}
			pv.day = pv.day.AddDays(1)
		}
	}
	return out
}

// visitMinutes draws how long a visit of kind lasts (15–90 minutes).
func visitMinutes(d *draw, kind string) int {
	switch kind {
	case domain.KindCondolence:
		return d.between(15, 40)
	case domain.KindFollowup:
		return d.between(15, 50)
	}
	return 15 + int(math.Round((d.r.Float64()+d.r.Float64())/2*75))
}

// travelMinutes is the time between leaving one place and starting a visit
// at another: village roads at 25 km/h plus 8–20 minutes of walking and
// greeting.
func travelMinutes(d *draw, a, b domain.GeoPoint) int {
	return int(evidence.Distance(a, b)/25000*60) + d.between(8, 20)
}

// near returns a point within about r metres of x.
func near(d *draw, x domain.GeoPoint, r float64) domain.GeoPoint {
	dlat := d.uniform(-r, r) / 111_000
	dlon := d.uniform(-r, r) / (111_000 * math.Cos(x.Lat*math.Pi/180))
	return domain.GeoPoint{Lat: round6(x.Lat + dlat), Lon: round6(x.Lon + dlon)}
}

// offset returns the point km kilometres from x towards the west-south-west.
func offset(x domain.GeoPoint, km float64) domain.GeoPoint {
	const bearing = 250 * math.Pi / 180
	dlat := km * math.Cos(bearing) / 111.0
	dlon := km * math.Sin(bearing) / (111.0 * math.Cos(x.Lat*math.Pi/180))
	return domain.GeoPoint{Lat: round6(x.Lat + dlat), Lon: round6(x.Lon + dlon)}
}

// fillVisit writes the visit's record: who, when, where, and what the
// cadre noted.
func (p *plan) fillVisit(d *draw, pv *pvisit, device string) {
	hh, c := pv.hh, pv.c
	start := pv.startTime().Add(time.Duration(d.intn(60)) * time.Second)
	end := start.Add(pv.dur)
	v := &pv.v
	v.CountyID, v.HouseholdID, v.CadreID, v.DeviceID = hh.h.CountyID, hh.h.ID, c.user.ID, device
	v.StartedAt, v.EndedAt = start, &end
	v.Checklist = map[string]domain.ChecklistEntry{}
	if v.Kind != domain.KindCondolence {
		v.Checklist = checklist(d, hh, pv.day)
	}
	v.Measures = measures(d, hh, v.Kind)
	v.MetWith = metWith(d, hh, pv.day)
	if d.chance(0.92) {
		yes := true
		v.HouseholdConfirmed = &yes
	}
	v.Notes = p.notes(d, pv)
	// GPS: a fix on arrival, often one in the middle, one on leaving.
	n := 1 + d.weighted(20, 45, 35)
	for i := 0; i < n; i++ {
		at := start.Add(time.Duration(float64(pv.dur) * float64(i) / float64(max(1, n-1)) * 0.95))
		v.GPS = append(v.GPS, domain.GPSStamp{Lat: 0, Lon: 0, Accuracy: float64(d.between(5, 40)), Provider: "gps", DeviceTime: at})
		pt := near(d, pv.pos, 25)
		v.GPS[i].Lat, v.GPS[i].Lon = pt.Lat, pt.Lon
	}
}

// finishVisit sets what the server sets at arrival: the device's spelling
// of the start, when it arrived (minutes after, or hours when the phone was
// out of signal, but never on or after Today), the clock offset measured
// then, and the clock flags a push decides.
func (p *plan) finishVisit(d *draw, pv *pvisit) {
	v := &pv.v
	end := *v.EndedAt
	var delay time.Duration
	switch d.weighted(70, 22, 8) {
	case 0:
		delay = time.Duration(d.between(1, 40)) * time.Minute
	case 1:
		delay = time.Duration(d.between(1, 5)) * time.Hour
	default:
		delay = time.Duration(d.between(12, 20)) * time.Hour
	}
	received := end.Add(delay + time.Duration(d.intn(60))*time.Second)
	if limit := p.today.Start().Add(-time.Minute); received.After(limit) {
		received = limit
	}
	v.StartedAtText = v.StartedAt.In(domain.Shanghai).Format(time.RFC3339)
	v.ReceivedAt, v.ClockOffsetMS = received.UTC(), int64(d.between(-4000, 4000))
	v.Version, v.CreatedAt, v.UpdatedAt = 1, v.ReceivedAt, v.ReceivedAt
	v.StartedAt, *v.EndedAt = v.StartedAt.UTC(), v.EndedAt.UTC()
	for i := range v.GPS {
		v.GPS[i].DeviceTime = v.GPS[i].DeviceTime.UTC()
	}
	v.Flags = domain.ClockFlags(*v, domain.ClockRules{}, pv.hh.h.RegisteredYear)
	if v.Flags == nil {
		v.Flags = []domain.Flag{}
	}
}

// recent reports whether a visit falls in the photo window.
func (p *plan) recent(pv *pvisit) bool {
	return !pv.day.Before(p.today.AddDays(-photoDays))
}

// plantPatterns makes a few cadres fake visits (see the file comment).
// Pattern cadres are town staff with recent visits, drawn in turn; the
// honest-looking demo logins (the first cadre of each kind) are spared.
func (p *plan) plantPatterns(d *draw, vp *visitPlan) {
	recentBy := map[*cadre][]*pvisit{}
	for _, pv := range vp.visits {
		if p.recent(pv) {
			recentBy[pv.c] = append(recentBy[pv.c], pv)
		}
	}
	spared := map[string]bool{}
	for _, a := range p.accounts {
		spared[a.Username] = true
	}
	var candidates []*cadre
	for _, c := range p.cadres {
		if c.kind == kindTownStaff && !spared[c.user.Username] && len(recentBy[c]) >= 3 {
			candidates = append(candidates, c)
		}
	}
	if len(candidates) < 5 { // a small demo: any cadre with recent visits
		candidates = nil
		for _, c := range p.cadres {
			if c != p.cadres[0] && len(recentBy[c]) >= 3 {
				candidates = append(candidates, c)
			}
		}
	}
	d.r.Shuffle(len(candidates), func(i, j int) { candidates[i], candidates[j] = candidates[j], candidates[i] })
	used := map[*cadre]bool{}
	take := func(ok func(*cadre) bool) *cadre {
		for _, c := range candidates {
			if !used[c] && ok(c) {
				used[c] = true
				return c
			}
		}
		return nil
	}
	anyone := func(*cadre) bool { return true }
	record := func(flag string, c *cadre, n int, note string) {
		name := ""
		if c != nil {
			name = c.user.Username
		}
		vp.patterns = append(vp.patterns, FakePattern{Flag: flag, Cadre: name, Visits: n, Note: note})
	}

	// far_from_home: visits recorded from the township office, wherever that
	// is 5 km or more from the home.
	office := func(c *cadre, pv *pvisit) (domain.GeoPoint, bool) {
		// Only the cadre's own town seat: villages lie within 9 km of it, so
		// the office stays reachable between a day's other visits and the
		// pattern raises far_from_home alone.
		if c.town == nil || evidence.Distance(c.town.centre, *pv.hh.h.Home) < 5000 {
			return domain.GeoPoint{}, false
		}
		return c.town.centre, true
	}
	farCount := func(c *cadre) int {
		n := 0
		for _, pv := range recentBy[c] {
			if _, ok := office(c, pv); ok {
				n++
			}
		}
		return n
	}
	if c := take(func(c *cadre) bool { return farCount(c) >= 2 }); c != nil {
		n := 0
		for _, pv := range recentBy[c] {
			if o, ok := office(c, pv); ok {
				pv.pattern = evidence.FlagFarFromHome
				at := near(d, o, 30)
				for i := range pv.v.GPS {
					pv.v.GPS[i].Lat, pv.v.GPS[i].Lon = at.Lat, at.Lon
				}
				pv.pos = at
				n++
			}
		}
		record(evidence.FlagFarFromHome, c, n, c.user.DisplayName+"在乡镇办公室补录走访记录，定位距农户住所5公里以上")
	}

	// too_short: doorstep visits of 3–5 minutes.
	if c := take(anyone); c != nil {
		n := 0
		for _, pv := range recentBy[c] {
			if pv.pattern != "" {
				continue
			}
			pv.pattern = evidence.FlagTooShort
			pv.dur = time.Duration(d.between(3, 5))*time.Minute + time.Duration(d.intn(50))*time.Second
			end := pv.v.StartedAt.Add(pv.dur)
			pv.v.EndedAt = &end
			for i := range pv.v.GPS {
				pv.v.GPS[i].DeviceTime = pv.v.StartedAt.Add(time.Duration(i) * pv.dur / time.Duration(len(pv.v.GPS)))
			}
			n++
		}
		record(evidence.FlagTooShort, c, n, c.user.DisplayName+"走访仅3至5分钟，进门拍照即走")
	}

	// mock_location: every fix from a mock-location app, placed on the home.
	if c := take(anyone); c != nil {
		n := 0
		for _, pv := range recentBy[c] {
			pv.pattern = evidence.FlagMockLocation
			for i := range pv.v.GPS {
				g := &pv.v.GPS[i]
				g.Lat, g.Lon, g.Accuracy, g.Mock = pv.hh.h.Home.Lat, pv.hh.h.Home.Lon, 5, true
			}
			n++
		}
		record(evidence.FlagMockLocation, c, n, c.user.DisplayName+"使用虚拟定位软件，定位均为虚拟位置（同时无有效定位）")
	}

	// impossible_travel: the last two visits of one day, the second
	// recorded 10 minutes after the first, 40 km away.
	twoOnADay := func(c *cadre) (*pvisit, *pvisit) {
		rs := recentBy[c]
		for i := len(rs) - 1; i > 0; i-- {
			a, b := rs[i-1], rs[i]
			if a.day == b.day && a.pattern == "" && b.pattern == "" && (i+1 == len(rs) || rs[i+1].day != b.day) {
				return a, b
			}
		}
		return nil, nil
	}
	if c := take(func(c *cadre) bool { a, _ := twoOnADay(c); return a != nil }); c != nil {
		a, b := twoOnADay(c)
		shift := a.v.EndedAt.Add(10 * time.Minute).Sub(b.v.StartedAt)
		b.v.StartedAt = b.v.StartedAt.Add(shift)
		end := b.v.EndedAt.Add(shift)
		b.v.EndedAt = &end
		far := offset(a.pos, 40)
		for i := range b.v.GPS {
			b.v.GPS[i].DeviceTime = b.v.GPS[i].DeviceTime.Add(shift)
			pt := near(d, far, 20)
			b.v.GPS[i].Lat, b.v.GPS[i].Lon = pt.Lat, pt.Lon
		}
		a.pattern, b.pattern, b.pos = evidence.FlagImpossibleTravel, evidence.FlagImpossibleTravel, far
		record(evidence.FlagImpossibleTravel, c, 2, c.user.DisplayName+"10分钟内先后在相距40公里的两地记录走访")
	}

	// photo_reuse: one photo's bytes on visits to several households.
	if c := take(func(c *cadre) bool { return len(households(recentBy[c])) >= 3 }); c != nil {
		for _, pv := range recentBy[c] {
			if pv.pattern == "" {
				pv.pattern = evidence.FlagPhotoReuse
			}
		}
		record(evidence.FlagPhotoReuse, c, 0, "") // counted when the photos are planned
	}

	// A few honest cadres' recent visits without photo, or with a photo
	// taken the day before.
	var honest []*pvisit
	for _, pv := range vp.visits {
		if p.recent(pv) && pv.pattern == "" && !used[pv.c] {
			honest = append(honest, pv)
		}
	}
	perm := d.r.Perm(len(honest))
	k := min(6, len(honest)/2)
	for _, i := range perm[:k] {
		honest[i].pattern = evidence.FlagNoPhoto
	}
	for _, i := range perm[k : 2*k] {
		honest[i].pattern = evidence.FlagExifTimeMismatch
	}
	record(evidence.FlagNoPhoto, nil, k, "个别干部近期走访未拍照")
	record(evidence.FlagExifTimeMismatch, nil, k, "个别干部上传了前一天拍摄的照片")
}

func households(vs []*pvisit) map[*household]bool {
	out := map[*household]bool{}
	for _, pv := range vs {
		out[pv.hh] = true
	}
	return out
}

// planPhotos gives recent visits one to three photos each, taken during
// the visit where the cadre stood, and the planted reuse and time faults.
func (p *plan) planPhotos(d *draw, vp *visitPlan, newID func() uuid.UUID) {
	var reused *pphoto
	reuseVisits := 0
	for _, pv := range vp.visits {
		if !p.recent(pv) || pv.pattern == evidence.FlagNoPhoto {
			continue
		}
		if pv.pattern == evidence.FlagPhotoReuse && reused != nil && reused.visit.hh != pv.hh && reuseVisits < 5 {
			ph := &pphoto{id: newID(), visit: pv, same: reused}
			pv.photos = append(pv.photos, ph)
			vp.photos = append(vp.photos, ph)
			if reuseVisits == 0 {
				reuseVisits = 1 // the visit the photo was taken on
			}
			reuseVisits++
			continue
		}
		n := 1 + d.weighted(30, 50, 20)
		for i := 0; i < n; i++ {
			start, dur := pv.v.StartedAt, pv.v.EndedAt.Sub(pv.v.StartedAt)
			taken := start.Add(time.Duration(d.uniform(0.1, 0.9) * float64(dur))).Truncate(time.Second)
			if pv.pattern == evidence.FlagExifTimeMismatch && i == 0 {
				taken = start.Add(-24*time.Hour - time.Duration(d.between(0, 90))*time.Minute).Truncate(time.Second)
			}
			at := near(d, pv.pos, 15)
			if len(pv.v.GPS) > 0 && !pv.v.GPS[0].Mock {
				at = near(d, domain.GeoPoint{Lat: pv.v.GPS[0].Lat, Lon: pv.v.GPS[0].Lon}, 15)
			}
			ph := &pphoto{id: newID(), visit: pv, opt: photoimage.GenerateOptions{Width: photoWidth, Height: photoHeight, Seed: d.r.Int64(),
				Quality: photoQuality, TakenAt: &taken, GPS: &at, Label: fmt.Sprintf("fieldvisit demo %s %s", pv.hh.h.Number, pv.day)}}
			pv.photos = append(pv.photos, ph)
			vp.photos = append(vp.photos, ph)
			if pv.pattern == evidence.FlagPhotoReuse && reused == nil {
				reused = ph
			}
		}
	}
	for i := range vp.patterns {
		if vp.patterns[i].Flag == evidence.FlagPhotoReuse {
			vp.patterns[i].Visits = reuseVisits
			vp.patterns[i].Note = "同一张照片用于" + fmt.Sprint(reuseVisits) + "户的走访记录"
		}
	}
	out := vp.patterns[:0]
	for _, pt := range vp.patterns {
		if pt.Visits > 0 { // a tiny demo may lack the visits for a pattern
			out = append(out, pt)
		}
	}
	vp.patterns = out
}

// scenePool is how many scenes the demo's photos are drawn from. Drawing a
// 480×360 scene costs about 16 ms, so each photo is one of these scenes
// (picked by its seed) with its own EXIF (time, GPS, label) spliced in:
// every photo is a real JPEG with its own bytes and hash, and the two
// thousand photos of the full demo cost a second instead of half a minute.
const scenePool = 96

// generatePhotos draws the scenes on every core, then makes each photo
// from its scene and fills in its hash.
func generatePhotos(ctx context.Context, photos []*pphoto) error {
	if len(photos) == 0 {
		return nil
	}
	var scenes [scenePool][]byte
	work := make(chan int)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for range max(1, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				b, err := photoimage.GenerateJPEG(photoimage.GenerateOptions{Width: photoWidth, Height: photoHeight,
					Seed: int64(i) + 1, Quality: photoQuality})
				if err != nil {
					select {
					case errs <- err:
					default:
					}
					continue
				}
				scenes[i] = b
			}
		}()
	}
	var err error
feed:
	for i := range scenePool {
		select {
		case work <- i:
		case err = <-errs:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(work)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	if err != nil {
		return err
	}
	for _, ph := range photos {
		if ph.same != nil {
			continue
		}
		// A tiny image with the photo's EXIF, whose EXIF segment replaces
		// the scene's.
		o := ph.opt
		o.Width, o.Height = 8, 8
		tiny, err := photoimage.GenerateJPEG(o)
		if err != nil {
			return err
		}
		scene := scenes[uint64(ph.opt.Seed)%scenePool]
		b, err := withEXIF(scene, tiny)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ph.jpeg, ph.sha = b, hex.EncodeToString(sum[:])
	}
	for _, ph := range photos {
		if ph.same != nil {
			ph.jpeg, ph.sha = ph.same.jpeg, ph.same.sha
		}
	}
	return nil
}

// withEXIF returns the JPEG scene with its APP1 (EXIF) segment replaced by
// the one of from.
func withEXIF(scene, from []byte) ([]byte, error) {
	app1 := func(b []byte) (lo, hi int, err error) {
		if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
			return 0, 0, fmt.Errorf("not a JPEG")
		}
		for i := 2; i+4 <= len(b) && b[i] == 0xFF && b[i+1] != 0xDA; {
			n := int(b[i+2])<<8 | int(b[i+3])
			if b[i+1] == 0xE1 {
				return i, i + 2 + n, nil
			}
			i += 2 + n
		}
		return 0, 0, fmt.Errorf("no EXIF segment")
	}
	slo, shi, err := app1(scene)
	if err != nil {
		return nil, fmt.Errorf("demo scene: %w", err)
	}
	flo, fhi, err := app1(from)
	if err != nil {
		return nil, fmt.Errorf("demo photo EXIF: %w", err)
	}
	out := make([]byte, 0, len(scene)-(shi-slo)+(fhi-flo))
	out = append(out, scene[:slo]...)
	out = append(out, from[flo:fhi]...)
	return append(out, scene[shi:]...), nil
}

// writeVisits stores the visits (older ones first, while the photos are
// drawn), one demo phone per cadre, then the photos through the sink.
func (p *plan) writeVisits(ctx context.Context, store *storage.Store, sink PhotoSink, pr progress) error {
	vp := p.visitPlan
	if sink == nil {
		for _, pv := range vp.visits {
			pv.photos = nil
		}
		vp.photos = nil
	}
	gen := make(chan error, 1)
	gctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { gen <- generatePhotos(gctx, vp.photos) }()

	total := len(vp.visits)
	pr.report("visits", 0, total)
	firstPhoto := total
	for i, pv := range vp.visits {
		if len(pv.photos) > 0 {
			firstPhoto = i
			break
		}
	}
	insert := func(lo, hi int) error {
		for ; lo < hi; lo += visitBatch {
			end := min(lo+visitBatch, hi)
			batch := make([]domain.Visit, 0, end-lo)
			for _, pv := range vp.visits[lo:end] {
				batch = append(batch, pv.v)
			}
			if err := store.InsertVisits(ctx, batch); err != nil {
				return fmt.Errorf("create visits %d–%d: %w", lo+1, end, err)
			}
			pr.report("visits", end, total)
		}
		return nil
	}
	if err := insert(0, firstPhoto); err != nil {
		return err
	}
	if err := <-gen; err != nil {
		return fmt.Errorf("draw photos: %w", err)
	}
	for _, pv := range vp.visits[firstPhoto:] {
		for _, ph := range pv.photos {
			pv.v.Photos = append(pv.v.Photos, domain.PhotoRef{PhotoID: ph.id, SHA256: ph.sha})
		}
	}
	if err := insert(firstPhoto, total); err != nil {
		return err
	}

	// The phones: first seen at the cadre's first visit's upload, last at
	// the latest.
	seen := map[*cadre][2]time.Time{}
	for _, pv := range vp.visits {
		s, ok := seen[pv.c]
		if !ok || pv.v.ReceivedAt.Before(s[0]) {
			s[0] = pv.v.ReceivedAt
		}
		if pv.v.ReceivedAt.After(s[1]) {
			s[1] = pv.v.ReceivedAt
		}
		seen[pv.c] = s
	}
	err := store.Tx(ctx, func(tx *storage.Store) error {
		for _, c := range p.cadres {
			if s, ok := seen[c]; ok {
				for _, at := range s {
					if _, err := tx.TouchDevice(ctx, c.user.ID, vp.devices[c], at); err != nil {
						return fmt.Errorf("register demo phone of %s: %w", c.user.Username, err)
					}
				}
				for _, r := range phoneHealth(c.user.ID, vp.devices[c], s[1]) {
					if err := tx.SaveDeviceSync(ctx, r); err != nil {
						return fmt.Errorf("record demo phone health of %s: %w", c.user.Username, err)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}

	if sink == nil {
		return nil
	}
	pr.report("photos", 0, len(vp.photos))
	batch := func(ctx context.Context, fn func(PhotoSink) error) error { return fn(sink) }
	if b, ok := sink.(BatchPhotoSink); ok {
		batch = b.Batch
	}
	for lo := 0; lo < len(vp.photos); lo += photoBatch {
		hi := min(lo+photoBatch, len(vp.photos))
		err := whileUnavailable(ctx, func() error {
			return batch(ctx, func(sink PhotoSink) error {
				for i, ph := range vp.photos[lo:hi] {
					c := ph.visit.c
					who := domain.Principal{UserID: c.user.ID, Username: c.user.Username, Role: c.user.Role, RegionID: c.user.RegionID,
						RegionPath: c.user.RegionPath, DeviceID: vp.devices[c]}
					if err := sink.PutPhoto(ctx, who, ph.id, ph.visit.v.ID, ph.jpeg); err != nil {
						return fmt.Errorf("store photo %d of %d: %w", lo+i+1, len(vp.photos), err)
					}
				}
				return nil
			})
		})
		if err != nil {
			return err
		}
		for _, ph := range vp.photos[lo:hi] {
			ph.jpeg = nil // written: let the garbage collector have it
		}
		pr.report("photos", hi, len(vp.photos))
	}
	return nil
}

// photoStoreOutage is how long the demo waits, in all, for a photo store
// that answers it is unavailable before it gives up. An S3 cluster that has
// just formed answers health checks before it takes writes (MinIO refuses
// them with SlowDownWrite while its nodes settle their locks), and a server
// seeding the demo as it starts must not die of that.
const photoStoreOutage = 3 * time.Minute

// whileUnavailable runs try again while it fails because a dependency is
// unavailable, waiting as the error asks (or 1 s, doubling, at most 10 s
// apart), until photoStoreOutage has passed. A batch is one transaction, so
// a batch that failed left nothing behind to trip over; its blobs are keyed
// by content and are simply stored again.
func whileUnavailable(ctx context.Context, try func() error) error {
	giveUp := time.Now().Add(photoStoreOutage)
	wait := time.Second
	for {
		err := try()
		if err == nil || !domain.IsCode(err, domain.CodeUnavailable) || time.Now().Add(wait).After(giveUp) {
			return err
		}
		pause := wait
		var de *domain.Error
		if errors.As(err, &de) && de.RetryAfter > 0 {
			pause = min(de.RetryAfter, 10*time.Second)
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
		wait = min(2*wait, 10*time.Second)
	}
}

// BatchPhotoSink is a PhotoSink that can store several photos as one unit
// (serve --demo: one database transaction), which is much faster than a
// commit per photo. Batch calls fn with the sink to use for the batch.
type BatchPhotoSink interface {
	PhotoSink
	Batch(ctx context.Context, fn func(PhotoSink) error) error
}

// photoBatch is how many photos one Batch stores.
const photoBatch = 200

// visitBatch is how many visits one InsertVisits call (one transaction)
// holds: few commits, as each costs an fsync on SQLite.
const visitBatch = 2500

// visitCounts are the Summary's numbers about the visit history.
func (vp *visitPlan) counts(sink PhotoSink) (visits, withPhotos, photos int, patterns []FakePattern) {
	for _, pv := range vp.visits {
		if len(pv.photos) > 0 && sink != nil {
			withPhotos++
			photos += len(pv.photos)
		}
	}
	for _, pt := range vp.patterns {
		if sink == nil && (pt.Flag == evidence.FlagPhotoReuse || pt.Flag == evidence.FlagExifTimeMismatch) {
			continue
		}
		patterns = append(patterns, pt)
	}
	if patterns == nil {
		patterns = []FakePattern{}
	}
	return len(vp.visits), withPhotos, photos, patterns
}

// validateVisits runs the domain's checks over every planned visit.
func (vp *visitPlan) validate(today domain.Date) error {
	for _, pv := range vp.visits {
		var fe domain.FieldErrors
		pv.v.VisitDetails.Validate(&fe, "")
		if err := fe.Err(); err != nil {
			return fmt.Errorf("visit of %s to %s: %w (%v)", pv.c.user.Username, pv.hh.h.Number, err, fe)
		}
		if !domain.DateOf(pv.v.StartedAt).Before(today) {
			return fmt.Errorf("visit of %s to %s on %s is not before %s", pv.c.user.Username, pv.hh.h.Number, domain.DateOf(pv.v.StartedAt), today)
		}
		if dur := pv.v.EndedAt.Sub(pv.v.StartedAt); dur <= 0 {
			return fmt.Errorf("visit of %s to %s lasts %v", pv.c.user.Username, pv.hh.h.Number, dur)
		}
		day := domain.DateOf(pv.v.StartedAt)
		paired := false
		for _, pr := range pv.hh.pairings {
			if pr.CadreID == pv.c.user.ID && pr.ActiveOn(day) {
				paired = true
			}
		}
		if !paired {
			return fmt.Errorf("visit of %s to %s on %s is outside their pairing", pv.c.user.Username, pv.hh.h.Number, day)
		}
	}
	return nil
}

// ---- what the cadre wrote ----

var (
	crops     = []string{"水稻", "水稻", "茶叶", "油茶", "板栗", "花生", "蔬菜", "稻虾共养"}
	livestock = []string{"养了%d头猪", "散养土鸡%d只", "养鸭%d只", "养了%d头牛", "养羊%d只"}
	cities    = []string{"上海", "苏州", "杭州", "广州", "深圳", "郑州", "武汉", "东莞", "信阳市区"}
	localJobs = []string{"县产业集聚区", "镇上的茶厂", "村里的扶贫车间", "附近的建筑工地", "村服装加工厂", "镇农贸市场"}
	policies  = []string{"健康扶贫“先诊疗后付费”", "扶贫小额信贷", "雨露计划", "防止返贫动态监测和帮扶", "产业奖补", "城乡居民医保缴费",
		"公益性岗位", "危房改造", "教育资助", "稳岗就业补贴"}
	closings = []string{"户主对帮扶工作表示满意。", "下次走访继续跟进。", "群众对帮扶措施认可。", "留下联系电话，有困难随时联系。",
		"嘱咐家人有事及时和村里联系。", "户主表示会继续努力发展生产。"}
	followIssues = []struct{ issue, measure string }{
		{"危房改造进度", "housing_renovation"}, {"慢性病卡办理", "medical"}, {"小额信贷申请", "microcredit"},
		{"公益性岗位安排", "employment"}, {"教育资助发放", "education"}, {"低保申请", "dibao"}, {"产业奖补申报", "industry"},
	}
	followResults = []string{"已办结", "已办理完毕，户主已收到", "正在办理，预计月底前完成", "已协调镇里相关部门加快办理", "材料已报镇民政所审核"}
)

func season(m time.Month) string {
	switch m {
	case 12, 1, 2:
		return "叮嘱注意防寒保暖和用火用电安全。"
	case 6, 7, 8:
		return "提醒汛期注意防汛防溺水，看好孩子。"
	case 3, 4, 5:
		return "叮嘱抓好春耕生产。"
	}
	return "叮嘱抓紧秋收秋种。"
}

func members(hh *household, ok func(domain.Member) bool) []domain.Member {
	var out []domain.Member
	for _, m := range hh.members {
		if ok(m) {
			out = append(out, m)
		}
	}
	return out
}

// metWith is who was at home: not the migrant workers (except around 春节)
// nor pupils on a weekday.
func metWith(d *draw, hh *household, day domain.Date) []string {
	sf := springFestival(day.Year)
	holiday := !day.Before(sf.AddDays(-20)) && !day.After(sf.AddDays(10))
	weekend := day.Start().Weekday() == time.Saturday || day.Start().Weekday() == time.Sunday
	home := members(hh, func(m domain.Member) bool {
		switch {
		case m.Work == "migrant":
			return holiday
		case m.Work == "student":
			return weekend || holiday
		case m.Education == "preschool":
			return false
		}
		return true
	})
	if len(home) == 0 {
		return []string{hh.h.HeadName}
	}
	var out []string
	for i, m := range home {
		if i == 0 || d.chance(0.45) {
			out = append(out, m.Name)
		}
		if len(out) == 3 {
			break
		}
	}
	return out
}

func checklist(d *draw, hh *household, day domain.Date) map[string]domain.ChecklistEntry {
	met := domain.ChecklistEntry{Answer: "met"}
	cl := map[string]domain.ChecklistEntry{"food": met, "clothing": met, "medical": met, "housing": met, "water": met,
		"education": {Answer: "not_applicable"}}
	if len(members(hh, func(m domain.Member) bool {
		return m.Work == "student" && (m.Education == "primary" || m.Education == "junior")
	})) > 0 {
		cl["education"] = met
	}
	poor := hh.statusOn(day) != domain.StatusExited
	if g := hh.h.HousingSafetyGrade; poor && (g == "C" || g == "D") {
		cl["housing"] = domain.ChecklistEntry{Answer: "problem", Note: "房屋安全等级为" + g + "级，已申报危房改造"}
	}
	if ill := members(hh, func(m domain.Member) bool { return m.Health == "chronic" }); len(ill) > 0 && d.chance(0.05) {
		cl["medical"] = domain.ChecklistEntry{Answer: "problem", Note: ill[0].Name + "的慢性病卡尚未办理，已协助准备材料"}
	}
	if d.chance(0.01) {
		cl["water"] = domain.ChecklistEntry{Answer: "problem", Note: "入户水管破裂，已联系村里维修"}
	}
	return cl
}

func measures(d *draw, hh *household, kind string) []string {
	switch kind {
	case domain.KindCondolence:
		return []string{"condolence"}
	case domain.KindFollowup:
		return []string{pick(d, followIssues).measure}
	}
	set := map[string]bool{}
	for _, c := range hh.h.Causes {
		switch c {
		case "illness":
			set["medical"] = true
		case "disability":
			set["dibao"] = true
		case "education":
			set["education"] = true
		case "lack_skills", "lack_labor":
			set["employment"] = true
		case "lack_funds":
			set["microcredit"] = true
		case "lack_land", "disaster", "poor_transport", "low_motivation":
			set["industry"] = true
		}
	}
	if g := hh.h.HousingSafetyGrade; g == "C" || g == "D" {
		set["housing_renovation"] = true
	}
	if hh.village.region.IsPoorVillage && d.chance(0.3) {
		set["solar_dividend"] = true
	}
	var out []string
	for _, m := range domain.Measures.Codes() {
		if set[m] && d.chance(0.6) {
			out = append(out, m)
		}
	}
	if len(out) == 0 || d.chance(0.5) {
		out = append(out, "policy_briefing")
	}
	return out
}

// notes writes the 民情日记 entry from phrase lists and the household's file.
func (p *plan) notes(d *draw, pv *pvisit) string {
	hh, v := pv.hh, pv.v
	head := hh.h.HeadName
	met := strings.Join(v.MetWith, "、")
	when := "上午"
	if pv.minutes >= 12*60 {
		when = "下午"
	}
	var b strings.Builder
	switch v.Kind {
	case domain.KindCondolence:
		f, goods := "春节", pick(d, []string{"米、面、油", "棉被和食用油", "大米、食用油和牛奶"})
		if pv.day.Month >= 8 && pv.day.Month <= 10 {
			f, goods = "中秋节", pick(d, []string{"月饼和水果", "月饼、食用油", "月饼和牛奶"})
		}
		fmt.Fprintf(&b, "%s前走访慰问%s家，送去%s和慰问金%d元，与%s拉家常，了解过节准备情况。", f, head, goods, 100*d.between(2, 5), met)
		b.WriteString(season(pv.day.Month))
		return b.String()
	case domain.KindFollowup:
		fi := followIssues[0]
		for _, x := range followIssues {
			if len(v.Measures) > 0 && x.measure == v.Measures[0] {
				fi = x
			}
		}
		fmt.Fprintf(&b, "%s回访%s家，跟进上次走访提出的%s问题：%s。", when, head, fi.issue, pick(d, followResults))
		if d.chance(0.5) {
			b.WriteString(pick(d, closings))
		}
		return b.String()
	}
	switch d.intn(4) {
	case 0:
		fmt.Fprintf(&b, "%s入户走访%s家，%s在家，围坐拉家常了解近况。", when, head, met)
	case 1:
		fmt.Fprintf(&b, "到%s家走访，与%s面对面交流。", head, met)
	case 2:
		fmt.Fprintf(&b, "按照帮扶计划到%s家走访，%s接待。", head, met)
	default:
		fmt.Fprintf(&b, "%s再次来到%s家中，见到%s。", when, head, met)
	}
	switch hh.statusOn(pv.day) {
	case domain.StatusExited:
		if hh.h.ExitYear != nil {
			fmt.Fprintf(&b, "该户已于%d年脱贫，开展脱贫后跟踪回访，", *hh.h.ExitYear)
		} else {
			b.WriteString("开展脱贫后跟踪回访，")
		}
		b.WriteString(pick(d, []string{"收入稳定，无返贫风险。", "家庭收入稳定，帮扶政策持续落实。", "未发现返贫致贫风险。"}))
	case domain.StatusRelapsed:
		b.WriteString("该户返贫后已落实帮扶措施，重点了解医疗和收入变化情况。")
	}
	topics := []func(){
		func() { // income
			if hh.h.AnnualIncome != nil {
				fmt.Fprintf(&b, "了解家庭收入情况，%d年家庭年纯收入%.0f元，今年以来%s。", p.today.Year-1, *hh.h.AnnualIncome,
					pick(d, []string{"务工收入稳定", "种养收入较去年有所增加", "收入基本稳定", "收入略有增长"}))
			}
		},
		func() { // industry
			fmt.Fprintf(&b, "询问产业发展情况：家里种了%d亩%s，%s。", d.between(1, 6), pick(d, crops), fmt.Sprintf(pick(d, livestock), d.between(2, 30)))
		},
		func() { // work
			ws := members(hh, func(m domain.Member) bool { return m.Work == "migrant" || m.Work == "local_job" })
			if len(ws) == 0 {
				b.WriteString("家中无外出务工人员，主要靠种植和政策性收入。")
				return
			}
			m := pick(d, ws)
			if m.Work == "migrant" {
				fmt.Fprintf(&b, "%s在%s务工，月收入约%d元。", m.Name, pick(d, cities), 500*d.between(7, 14))
			} else {
				fmt.Fprintf(&b, "%s在%s就近务工，日工资%d元左右。", m.Name, pick(d, localJobs), 10*d.between(8, 20))
			}
		},
		func() { // health
			ill := members(hh, func(m domain.Member) bool { return m.Health != "healthy" && m.Health != "" })
			if len(ill) == 0 {
				b.WriteString("家庭成员身体健康，均已参加城乡居民医保。")
				return
			}
			m := pick(d, ill)
			fmt.Fprintf(&b, "%s%s", m.Name, pick(d, []string{"病情稳定，按时服药，已签约家庭医生。", "近期复查情况良好，医疗费用已按政策报销。",
				"身体状况一般，提醒按时复查。"}))
		},
		func() { // 两不愁三保障
			var problems []string
			for _, item := range domain.ChecklistItems.Codes() {
				if e := v.Checklist[item]; e.Answer == "problem" {
					problems = append(problems, e.Note)
				}
			}
			if len(problems) == 0 {
				b.WriteString("对照两不愁三保障逐项核实：吃穿不愁，义务教育、基本医疗、住房安全和饮水安全均有保障。")
			} else {
				b.WriteString("对照两不愁三保障逐项核实，发现问题：" + strings.Join(problems, "；") + "。")
			}
		},
		func() { // policy
			fmt.Fprintf(&b, "宣讲%s政策。", pick(d, policies))
		},
	}
	for _, i := range d.r.Perm(len(topics))[:d.between(2, 4)] {
		topics[i]()
	}
	if d.chance(0.5) {
		b.WriteString(season(pv.day.Month))
	}
	b.WriteString(pick(d, closings))
	return b.String()
}

// phoneHealth is what a demo phone's last sync reported (the devices
// page): a push at its last upload and the pull after it. The values come
// from a hash of the device id, not the plan's draw, so adding them left
// every drawn household and visit as it was: most phones run the current
// app with a clock within seconds and nothing left in the outbox; some run
// the previous version, a few went home with photos still waiting, one in
// twenty has a clock minutes off.
func phoneHealth(user uuid.UUID, device string, last time.Time) []devicehealth.SyncRecord {
	h := fnv.New64a()
	h.Write([]byte(device))
	x := h.Sum64()
	version := "2.3.1"
	if x%7 == 0 {
		version = "2.2.0"
	}
	offset := int64(x>>8%6001) - 3000 // ms
	if x%20 == 3 {
		offset = int64(x>>16%600+300) * 1000
	}
	zero := int64(0)
	records, photos, bytes := zero, zero, zero
	if x%6 == 1 {
		photos = int64(x>>24%5 + 1)
		bytes = photos * 300 << 10
	}
	push := devicehealth.SyncRecord{UserID: user, DeviceID: device, At: last, ClockOffsetMS: &offset, AppVersion: version,
		Backlog: &devicehealth.Backlog{Records: &zero, Photos: &photos, Bytes: &bytes, ReportedAt: last}}
	pull := devicehealth.SyncRecord{UserID: user, DeviceID: device, At: last.Add(40 * time.Second), Pull: true, Lag: &zero, AppVersion: version,
		Backlog: &devicehealth.Backlog{Records: &records, Photos: &photos, Bytes: &bytes, ReportedAt: last.Add(40 * time.Second)}}
	return []devicehealth.SyncRecord{push, pull}
}
