package domain

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// Visit kinds.
const (
	KindAssist      = "assist"
	KindFollowup    = "followup"
	KindCondolence  = "condolence"
	KindInspection  = "inspection"
	maxVisitMinutes = 24 * 60
)

var VisitKinds = Vocabulary{
	{KindAssist, "帮扶走访"}, {KindFollowup, "回访"}, {KindCondolence, "慰问"}, {KindInspection, "督查核查"},
}

// VisitFlags are every flag a visit may carry, with its zh-CN label: those
// the evidence checks put on a visit (location, time, photos) and those
// decided when it arrives (its clock, its pairing). Rules name them as
// disqualifying, reports count them and /visits filters by them.
var VisitFlags = Vocabulary{
	{"far_from_home", "定位距农户住所过远"}, {"poor_accuracy", "定位精度差"}, {"no_gps", "无定位"},
	{"mock_location", "虚拟定位"}, {"impossible_travel", "行程速度异常"}, {"too_short", "走访时间过短"},
	{"no_photo", "无走访照片"}, {"photo_missing", "照片未上传"}, {"exif_time_mismatch", "照片拍摄时间不符"},
	{"exif_place_mismatch", "照片拍摄地点不符"}, {"photo_reuse", "照片重复使用"},
	{"clock_offset", "手机时间偏差过大"}, {"future_time", "走访时间晚于上传时间"},
	{"before_registration", "走访早于建档日期"}, {"outside_pairing", "结对结束后的走访"},
}

// Measures are what a cadre did or arranged (帮扶措施).
var Measures = Vocabulary{
	{"industry", "产业扶贫"}, {"employment", "就业扶贫"}, {"housing_renovation", "危房改造"}, {"medical", "医疗救助"},
	{"education", "教育资助"}, {"dibao", "低保兜底"}, {"microcredit", "小额信贷"}, {"solar_dividend", "光伏分红"},
	{"relocation", "易地搬迁"}, {"condolence", "走访慰问"}, {"policy_briefing", "政策宣讲"}, {"other", "其他"},
}

// ChecklistItems are the 两不愁三保障 items plus safe drinking water (001).
var ChecklistItems = Vocabulary{
	{"food", "不愁吃"}, {"clothing", "不愁穿"}, {"education", "义务教育有保障"}, {"medical", "基本医疗有保障"},
	{"housing", "住房安全有保障"}, {"water", "饮水安全有保障"},
}

// ChecklistAnswers are what a cadre records for each item.
var ChecklistAnswers = Vocabulary{{"met", "已保障"}, {"problem", "存在问题"}, {"not_applicable", "不适用"}}

// GPSProviders are the location sources phones report.
var GPSProviders = Vocabulary{{"gps", "卫星定位"}, {"network", "网络定位"}, {"fused", "融合定位"}, {"passive", "被动定位"}}

// GPSStamp is one position fix taken during a visit.
type GPSStamp struct {
	Lat        float64   `json:"lat"`
	Lon        float64   `json:"lon"`
	Accuracy   float64   `json:"accuracy"` // metres, as the phone estimates it
	Provider   string    `json:"provider"`
	Mock       bool      `json:"mock"` // the OS reported a mock-location app
	DeviceTime time.Time `json:"device_time"`
}

// PhotoRef links a photo to a visit; the photo may arrive before or after.
type PhotoRef struct {
	PhotoID uuid.UUID `json:"photo_id"`
	SHA256  string    `json:"sha256"`
}

// ChecklistEntry is the answer for one 两不愁三保障 item.
type ChecklistEntry struct {
	Answer string `json:"answer"`
	Note   string `json:"note,omitempty"`
}

// Flag marks something about a visit a supervisor should see, with the
// numbers behind it so the decision can be explained.
type Flag struct {
	Code      string  `json:"code"`
	Message   string  `json:"message"`
	MessageZH string  `json:"message_zh"`
	Value     float64 `json:"value,omitempty"`
	Limit     float64 `json:"limit,omitempty"`
}

// VisitDetails are the fields a cadre records and may edit.
type VisitDetails struct {
	Kind               string                    `json:"kind"`
	StartedAt          time.Time                 `json:"started_at"`
	EndedAt            *time.Time                `json:"ended_at"`
	Notes              string                    `json:"notes"`
	Checklist          map[string]ChecklistEntry `json:"checklist"`
	Measures           []string                  `json:"measures"`
	MetWith            []string                  `json:"met_with"`
	HouseholdConfirmed *bool                     `json:"household_confirmed"`
	GPS                []GPSStamp                `json:"gps"`
	Photos             []PhotoRef                `json:"photos"`
	// PlanProgress is what the visit moved on the household's plan.
	PlanProgress []PlanProgress `json:"plan_progress"`
	// RiskTriggers are risks seen at the visit; they put the household on
	// the edge or watch list (casework's warnings).
	RiskTriggers []RiskTrigger `json:"risk_triggers"`
	// IncomeUpdates add to the household's income account of the visit's year.
	IncomeUpdates []IncomeUpdate `json:"income_updates"`
}

// Visit is one recorded visit. Device times are kept as the phone gave them;
// ReceivedAt and the measured clock offset are the server's. Nothing is ever
// ordered by device time.
type Visit struct {
	ID          uuid.UUID
	CountyID    uuid.UUID
	HouseholdID uuid.UUID
	CadreID     uuid.UUID
	DeviceID    string
	VisitDetails
	StartedAtText string // the device's own spelling of StartedAt, offset included
	ReceivedAt    time.Time
	ClockOffsetMS int64
	Flags         []Flag
	Deleted       bool
	Version       int64
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Limits on what a phone may send.
const (
	MaxGPSAccuracy = 5000.0 // metres; a worse fix is no position at all
	MaxGPSStamps   = 50
	MaxPhotos      = 30
	MaxNotes       = 10000
)

// Validate checks the visit fields; prefix is the JSON pointer of the object.
func (d VisitDetails) Validate(fe *FieldErrors, prefix string) {
	if !VisitKinds.Has(d.Kind) {
		fe.Add(prefix+"/kind", "invalid_enum", "kind must be assist, followup, condolence or inspection", "走访类型无效")
	}
	if d.StartedAt.IsZero() {
		fe.Required(prefix+"/started_at", "走访开始时间")
	} else if y := d.StartedAt.Year(); y < FirstYear || y > LastYear {
		// A phone whose clock runs ahead is kept and flagged (future_time);
		// a year past LastYear is no clock, and its offsets would not fit.
		fe.Add(prefix+"/started_at", "out_of_range", fmt.Sprintf("started_at must lie between %d and %d", FirstYear, LastYear),
			fmt.Sprintf("走访开始时间应在%d年至%d年之间", FirstYear, LastYear))
	}
	if d.EndedAt != nil && !d.StartedAt.IsZero() {
		switch {
		case d.EndedAt.Before(d.StartedAt):
			fe.Add(prefix+"/ended_at", "out_of_range", "ended_at is before started_at", "结束时间早于开始时间")
		case d.EndedAt.Sub(d.StartedAt) > maxVisitMinutes*time.Minute:
			fe.Add(prefix+"/ended_at", "out_of_range", "a visit cannot last more than a day", "一次走访不能超过一天")
		}
	}
	checkText(fe, prefix+"/notes", "民情日记", d.Notes, 0, MaxNotes)
	for item, e := range d.Checklist {
		p := prefix + "/checklist/" + item
		if !ChecklistItems.Has(item) {
			fe.Add(p, "unknown_field", "unknown checklist item", "两不愁三保障检查项无效")
			continue
		}
		if !ChecklistAnswers.Has(e.Answer) {
			fe.Add(p+"/answer", "invalid_enum", "answer must be met, problem or not_applicable", "检查结果无效")
		}
		checkText(fe, p+"/note", "说明", e.Note, 0, 500)
	}
	for i, m := range d.Measures {
		switch {
		case !Measures.Has(m):
			fe.Add(prefix+"/measures/"+strconv.Itoa(i), "invalid_enum", "unknown measure", "帮扶措施无效")
		case slices.Contains(d.Measures[:i], m):
			fe.Add(prefix+"/measures/"+strconv.Itoa(i), "duplicate", "measure listed twice", "帮扶措施重复")
		}
	}
	if len(d.MetWith) > 30 {
		fe.Add(prefix+"/met_with", "too_many", "at most 30 people", "见到的人不能超过30个")
	}
	for i, n := range d.MetWith {
		checkText(fe, prefix+"/met_with/"+strconv.Itoa(i), "姓名", n, 1, 50)
	}
	if len(d.GPS) > MaxGPSStamps {
		fe.Add(prefix+"/gps", "too_many", "at most 50 GPS stamps", "定位记录不能超过50条")
	}
	for i, g := range d.GPS {
		p := prefix + "/gps/" + strconv.Itoa(i)
		ValidateGeoPoint(fe, p, GeoPoint{Lat: g.Lat, Lon: g.Lon})
		if math.IsNaN(g.Accuracy) || g.Accuracy <= 0 || g.Accuracy > MaxGPSAccuracy {
			fe.Add(p+"/accuracy", "out_of_range", "accuracy must be between 0 and 5000 metres", "定位精度应在0至5000米之间")
		}
		if !GPSProviders.Has(g.Provider) {
			fe.Add(p+"/provider", "invalid_enum", "provider must be gps, network, fused or passive", "定位来源无效")
		}
		if g.DeviceTime.IsZero() {
			fe.Required(p+"/device_time", "定位时间")
		}
	}
	if len(d.Photos) > MaxPhotos {
		fe.Add(prefix+"/photos", "too_many", "at most 30 photos", "照片不能超过30张")
	}
	seen := map[uuid.UUID]bool{}
	for i, ph := range d.Photos {
		p := prefix + "/photos/" + strconv.Itoa(i)
		if ph.PhotoID == uuid.Nil {
			fe.Required(p+"/photo_id", "照片编号")
		}
		if !isSHA256Hex(ph.SHA256) {
			fe.Add(p+"/sha256", "invalid_format", "sha256 must be 64 lowercase hex digits", "照片校验值格式不正确")
		}
		if seen[ph.PhotoID] {
			fe.Add(p+"/photo_id", "duplicate", "photo listed twice", "照片重复")
		}
		seen[ph.PhotoID] = true
	}
	ValidatePlanProgress(fe, prefix+"/plan_progress", d.PlanProgress)
	ValidateRiskTriggers(fe, prefix+"/risk_triggers", d.RiskTriggers)
	ValidateIncomeUpdates(fe, prefix+"/income_updates", d.IncomeUpdates)
}

func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// ClockRules bound what device times are plausible.
type ClockRules struct {
	MaxOffset   time.Duration // |server − device| beyond this is flagged (default 10 min)
	FutureSlack time.Duration // a visit starting this far after arrival (corrected) is flagged (default 5 min)
}

// ClockFlags explains what is implausible about a visit's times: a device
// clock far off, a visit in the future (after correcting by the measured
// offset), or a visit before the household was registered.
func ClockFlags(v Visit, rules ClockRules, registeredYear *int) []Flag {
	if rules.MaxOffset == 0 {
		rules.MaxOffset = 10 * time.Minute
	}
	if rules.FutureSlack == 0 {
		rules.FutureSlack = 5 * time.Minute
	}
	var out []Flag
	off := time.Duration(v.ClockOffsetMS) * time.Millisecond
	if off > rules.MaxOffset || -off > rules.MaxOffset {
		out = append(out, Flag{Code: "clock_offset", Message: "the phone's clock was off by " + off.Round(time.Second).String(),
			MessageZH: "手机时间与服务器相差" + durationZH(off), Value: off.Seconds(), Limit: rules.MaxOffset.Seconds()})
	}
	corrected := v.StartedAt.Add(off)
	if corrected.After(v.ReceivedAt.Add(rules.FutureSlack)) {
		out = append(out, Flag{Code: "future_time", Message: "the visit starts after it reached the server", MessageZH: "走访时间晚于上传时间",
			Value: corrected.Sub(v.ReceivedAt).Seconds(), Limit: rules.FutureSlack.Seconds()})
	}
	if registeredYear != nil && DateOf(v.StartedAt).Year < *registeredYear {
		out = append(out, Flag{Code: "before_registration", Message: "the visit is dated before the household was registered",
			MessageZH: "走访日期早于该户建档时间", Value: float64(DateOf(v.StartedAt).Year), Limit: float64(*registeredYear)})
	}
	return out
}

// durationZH spells a clock difference the way a supervisor reads it:
// 3天2小时, 15分钟.
func durationZH(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	days, hours, mins := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	out := ""
	if days > 0 {
		out += strconv.Itoa(days) + "天"
	}
	if hours > 0 {
		out += strconv.Itoa(hours) + "小时"
	}
	if mins > 0 || out == "" {
		out += strconv.Itoa(mins) + "分钟"
	}
	return out
}
