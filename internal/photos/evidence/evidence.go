package evidence

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// Flag codes this package decides. Flags about the phone's clock
// (clock_offset, future_time, before_registration) and pairing are decided
// at push time and are not in this list.
const (
	FlagFarFromHome       = "far_from_home"
	FlagPoorAccuracy      = "poor_accuracy"
	FlagNoGPS             = "no_gps"
	FlagMockLocation      = "mock_location"
	FlagImpossibleTravel  = "impossible_travel"
	FlagTooShort          = "too_short"
	FlagNoPhoto           = "no_photo"
	FlagPhotoMissing      = "photo_missing"
	FlagExifTimeMismatch  = "exif_time_mismatch"
	FlagExifPlaceMismatch = "exif_place_mismatch"
	FlagPhotoReuse        = "photo_reuse"
)

// FlagCodes is the vocabulary of evidence flags with their zh-CN labels.
var FlagCodes = domain.Vocabulary{
	{Code: FlagFarFromHome, Label: "定位距农户住所过远"}, {Code: FlagPoorAccuracy, Label: "定位精度差"}, {Code: FlagNoGPS, Label: "无定位"},
	{Code: FlagMockLocation, Label: "虚拟定位"}, {Code: FlagImpossibleTravel, Label: "行程速度异常"}, {Code: FlagTooShort, Label: "走访时间过短"},
	{Code: FlagNoPhoto, Label: "无走访照片"}, {Code: FlagPhotoMissing, Label: "照片未上传"}, {Code: FlagExifTimeMismatch, Label: "照片拍摄时间不符"},
	{Code: FlagExifPlaceMismatch, Label: "照片拍摄地点不符"}, {Code: FlagPhotoReuse, Label: "照片重复使用"},
}

// Config holds every threshold; the defaults are design choices (the seeds
// give no numbers), chosen so an honest visit with a cheap phone in a
// mountain village is not flagged.
type Config struct {
	HomeRadiusM        float64 `json:"home_radius_m"`        // beyond this from the home point (after allowing for accuracy) is far
	MaxAccuracyM       float64 `json:"max_accuracy_m"`       // a best fix worse than this is poor
	MaxSpeedKmh        float64 `json:"max_speed_kmh"`        // faster between two visits is impossible on village roads
	MinDurationMinutes float64 `json:"min_duration_minutes"` // shorter is a doorstep visit
	ExifTimeSlackMin   float64 `json:"exif_time_slack_minutes"`
	ExifPlaceRadiusM   float64 `json:"exif_place_radius_m"`
}

// Defaults: 500 m covers a scattered hamlet and the error of a home point
// taken from a map; 200 m is a fix good enough to tell one hamlet from the
// next; 120 km/h is more than any county road allows; 10 minutes is less
// than any real conversation about 两不愁三保障; a photo taken up to two hours
// around the visit is the same trip, and 1 km around the visit's position
// is the same village.
func Defaults() Config {
	return Config{HomeRadiusM: 500, MaxAccuracyM: 200, MaxSpeedKmh: 120, MinDurationMinutes: 10, ExifTimeSlackMin: 120, ExifPlaceRadiusM: 1000}
}

// Validate checks a configuration; field names are JSON pointers.
func (c Config) Validate() error {
	var fe domain.FieldErrors
	for _, f := range []struct {
		name      string
		v, lo, hi float64
	}{
		{"home_radius_m", c.HomeRadiusM, 10, 100_000},
		{"max_accuracy_m", c.MaxAccuracyM, 5, domain.MaxGPSAccuracy},
		{"max_speed_kmh", c.MaxSpeedKmh, 5, 2000},
		{"min_duration_minutes", c.MinDurationMinutes, 0, 600},
		{"exif_time_slack_minutes", c.ExifTimeSlackMin, 0, 7 * 24 * 60},
		{"exif_place_radius_m", c.ExifPlaceRadiusM, 10, 100_000},
	} {
		if math.IsNaN(f.v) || f.v < f.lo || f.v > f.hi {
			fe.Add("/"+f.name, "out_of_range", fmt.Sprintf("%s must be between %g and %g", f.name, f.lo, f.hi),
				fmt.Sprintf("%s应在%g到%g之间", f.name, f.lo, f.hi))
		}
	}
	return fe.Err()
}

// NeighbourVisit is what travel speed needs of a cadre's visit before or
// after the one judged.
type NeighbourVisit struct {
	ID        uuid.UUID
	StartedAt time.Time
	EndedAt   time.Time
	Position  *domain.GeoPoint
}

// NeighbourOf takes a visit's times and best position.
func NeighbourOf(v domain.Visit) *NeighbourVisit {
	n := &NeighbourVisit{ID: v.ID, StartedAt: v.StartedAt, EndedAt: v.StartedAt}
	if v.EndedAt != nil {
		n.EndedAt = *v.EndedAt
	}
	if s, ok := BestStamp(v.GPS); ok {
		n.Position = &domain.GeoPoint{Lat: s.Lat, Lon: s.Lon}
	}
	return n
}

// PhotoEvidence is one photo the visit lists, as far as it is known.
type PhotoEvidence struct {
	PhotoID         uuid.UUID
	SHA256          string
	Arrived         bool // the bytes are stored and match the hash the visit lists
	TakenAt         *time.Time
	GPS             *domain.GeoPoint
	OtherVisits     []uuid.UUID // other visits listing the same bytes
	OtherHouseholds int         // how many other households those visits are for
}

// Input is everything one judgement reads.
type Input struct {
	Visit    domain.Visit
	Home     *domain.GeoPoint
	Previous *NeighbourVisit // the cadre's visit just before, if any
	Next     *NeighbourVisit // and just after
	Photos   []PhotoEvidence
}

// BestStamp is the most accurate real fix of a visit, the one its
// distance from home is judged by; mock fixes are not positions.
func BestStamp(stamps []domain.GPSStamp) (domain.GPSStamp, bool) {
	var best domain.GPSStamp
	found := false
	for _, s := range stamps {
		if s.Mock {
			continue
		}
		if !found || s.Accuracy < best.Accuracy {
			best, found = s, true
		}
	}
	return best, found
}

// Distance is the great-circle distance in metres.
func Distance(a, b domain.GeoPoint) float64 {
	const earth = 6_371_000.0
	rad := math.Pi / 180
	dLat, dLon := (b.Lat-a.Lat)*rad, (b.Lon-a.Lon)*rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earth * math.Asin(math.Min(1, math.Sqrt(h)))
}

// Assess derives the evidence flags of one visit, in code order.
func Assess(c Config, in Input) []domain.Flag {
	v := in.Visit
	var flags []domain.Flag
	add := func(code, en, zh string, value, limit float64) {
		flags = append(flags, domain.Flag{Code: code, Message: en, MessageZH: zh, Value: round1(value), Limit: limit})
	}
	for _, s := range v.GPS {
		if s.Mock {
			add(FlagMockLocation, "the phone reported a mock-location app for a GPS fix", "定位来自虚拟定位软件", 0, 0)
			break
		}
	}
	best, located := BestStamp(v.GPS)
	var where *domain.GeoPoint
	switch {
	case !located:
		add(FlagNoGPS, "the visit has no real GPS fix", "走访记录没有有效定位", 0, 0)
	default:
		where = &domain.GeoPoint{Lat: best.Lat, Lon: best.Lon}
		if best.Accuracy > c.MaxAccuracyM {
			add(FlagPoorAccuracy, fmt.Sprintf("the best GPS fix is only accurate to %.0f m (limit %.0f m)", best.Accuracy, c.MaxAccuracyM),
				fmt.Sprintf("最佳定位精度仅%.0f米（要求%.0f米以内）", best.Accuracy, c.MaxAccuracyM), best.Accuracy, c.MaxAccuracyM)
		}
		// The fix's own error is given to the cadre: only a position that
		// is far even at the edge of its error circle is flagged.
		if in.Home != nil {
			d := Distance(*where, *in.Home)
			if d-best.Accuracy > c.HomeRadiusM {
				add(FlagFarFromHome, fmt.Sprintf("the visit was recorded %s from the household's home (limit %.0f m)", metres(d), c.HomeRadiusM),
					fmt.Sprintf("定位距农户住所%s（要求%.0f米以内）", metresZH(d), c.HomeRadiusM), d, c.HomeRadiusM)
			}
		}
	}
	flags = append(flags, travel(c, v, where, in.Previous, in.Next)...)
	if v.EndedAt != nil {
		if m := v.EndedAt.Sub(v.StartedAt).Minutes(); m < c.MinDurationMinutes {
			add(FlagTooShort, fmt.Sprintf("the visit lasted %.0f minutes (at least %.0f expected)", m, c.MinDurationMinutes),
				fmt.Sprintf("走访仅%.0f分钟（应不少于%.0f分钟）", m, c.MinDurationMinutes), m, c.MinDurationMinutes)
		}
	}
	flags = append(flags, photoFlags(c, v, where, in.Home, in.Photos)...)
	slices.SortStableFunc(flags, func(a, b domain.Flag) int { return strings.Compare(a.Code, b.Code) })
	return flags
}

// travel flags a visit the cadre could not have reached from the previous
// one, or left for the next one, on a road: straight-line distance over the
// time between the end of one and the start of the other.
func travel(c Config, v domain.Visit, where *domain.GeoPoint, prev, next *NeighbourVisit) []domain.Flag {
	if where == nil {
		return nil
	}
	end := v.StartedAt
	if v.EndedAt != nil {
		end = *v.EndedAt
	}
	var worst, worstDist, worstGap float64
	for _, n := range []struct {
		other    *NeighbourVisit
		from, to time.Time
	}{
		{prev, time.Time{}, v.StartedAt},
		{next, end, time.Time{}},
	} {
		if n.other == nil || n.other.Position == nil {
			continue
		}
		from, to := n.from, n.to
		if from.IsZero() {
			from = n.other.EndedAt
		} else {
			to = n.other.StartedAt
		}
		d := Distance(*where, *n.other.Position)
		gap := to.Sub(from).Hours()
		if d < 2000 { // the same village: GPS scatter, not travel
			continue
		}
		speed := math.Inf(1)
		if gap > 0 {
			speed = d / 1000 / gap
		}
		if speed > worst {
			worst, worstDist, worstGap = speed, d, gap
		}
	}
	if worst <= c.MaxSpeedKmh {
		return nil
	}
	minutes := math.Max(0, worstGap*60)
	value := worst
	if math.IsInf(worst, 1) {
		value = 0 // JSON has no infinity; the messages say why
	}
	return []domain.Flag{{Code: FlagImpossibleTravel,
		Message:   fmt.Sprintf("%s from the cadre's neighbouring visit in %.0f minutes (over %.0f km/h)", metres(worstDist), minutes, c.MaxSpeedKmh),
		MessageZH: fmt.Sprintf("与该干部相邻一次走访相距%s，间隔仅%.0f分钟（超过每小时%.0f公里）", metresZH(worstDist), minutes, c.MaxSpeedKmh),
		Value:     round1(value), Limit: c.MaxSpeedKmh}}
}

func photoFlags(c Config, v domain.Visit, where, home *domain.GeoPoint, photos []PhotoEvidence) []domain.Flag {
	var flags []domain.Flag
	if len(v.Photos) == 0 {
		return []domain.Flag{{Code: FlagNoPhoto, Message: "the visit has no photo", MessageZH: "走访记录没有照片"}}
	}
	missing, reusedVisits, reusedHouseholds := 0, 0, 0
	var timeOff, placeOff float64
	for _, p := range photos {
		reusedVisits += len(p.OtherVisits)
		reusedHouseholds += p.OtherHouseholds
		if !p.Arrived {
			missing++
			continue
		}
		if p.TakenAt != nil {
			lo := v.StartedAt.Add(-time.Duration(c.ExifTimeSlackMin) * time.Minute)
			endAt := v.StartedAt
			if v.EndedAt != nil {
				endAt = *v.EndedAt
			}
			hi := endAt.Add(time.Duration(c.ExifTimeSlackMin) * time.Minute)
			var off time.Duration
			switch {
			case p.TakenAt.Before(lo):
				off = v.StartedAt.Sub(*p.TakenAt)
			case p.TakenAt.After(hi):
				off = p.TakenAt.Sub(endAt)
			}
			timeOff = math.Max(timeOff, off.Minutes())
		}
		ref := where
		if ref == nil {
			ref = home
		}
		if p.GPS != nil && ref != nil {
			if d := Distance(*p.GPS, *ref); d > c.ExifPlaceRadiusM {
				placeOff = math.Max(placeOff, d)
			}
		}
	}
	if missing > 0 {
		flags = append(flags, domain.Flag{Code: FlagPhotoMissing,
			Message:   fmt.Sprintf("%d of %d photos have not been uploaded", missing, len(v.Photos)),
			MessageZH: fmt.Sprintf("%d张照片中有%d张尚未上传", len(v.Photos), missing), Value: float64(missing)})
	}
	if timeOff > 0 {
		flags = append(flags, domain.Flag{Code: FlagExifTimeMismatch,
			Message:   fmt.Sprintf("a photo was taken %s away from the visit's time (allowed %.0f minutes)", duration(timeOff), c.ExifTimeSlackMin),
			MessageZH: fmt.Sprintf("照片拍摄时间与走访时间相差%s（允许%.0f分钟）", durationZH(timeOff), c.ExifTimeSlackMin),
			Value:     round1(timeOff), Limit: c.ExifTimeSlackMin})
	}
	if placeOff > 0 {
		flags = append(flags, domain.Flag{Code: FlagExifPlaceMismatch,
			Message:   fmt.Sprintf("a photo was taken %s from where the visit was recorded (allowed %.0f m)", metres(placeOff), c.ExifPlaceRadiusM),
			MessageZH: fmt.Sprintf("照片拍摄地点距走访定位%s（允许%.0f米）", metresZH(placeOff), c.ExifPlaceRadiusM),
			Value:     round1(placeOff), Limit: c.ExifPlaceRadiusM})
	}
	if reusedVisits > 0 {
		en := fmt.Sprintf("the same photo appears on %d other visit(s)", reusedVisits)
		zh := fmt.Sprintf("相同照片还出现在另外%d次走访中", reusedVisits)
		if reusedHouseholds > 0 {
			en += fmt.Sprintf(", of %d other household(s)", reusedHouseholds)
			zh += "，涉及其他" + strconv.Itoa(reusedHouseholds) + "户"
		}
		flags = append(flags, domain.Flag{Code: FlagPhotoReuse, Message: en, MessageZH: zh, Value: float64(reusedVisits)})
	}
	return flags
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

func metres(d float64) string {
	if d >= 1000 {
		return fmt.Sprintf("%.1f km", d/1000)
	}
	return fmt.Sprintf("%.0f m", d)
}

func metresZH(d float64) string {
	if d >= 1000 {
		return fmt.Sprintf("%.1f公里", d/1000)
	}
	return fmt.Sprintf("%.0f米", d)
}

func duration(minutes float64) string {
	if minutes >= 120 {
		return fmt.Sprintf("%.1f hours", minutes/60)
	}
	return fmt.Sprintf("%.0f minutes", minutes)
}

func durationZH(minutes float64) string {
	if minutes >= 120 {
		return fmt.Sprintf("%.1f小时", minutes/60)
	}
	return fmt.Sprintf("%.0f分钟", minutes)
}
