package sim

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/client"
	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/wire"
)

// What a cadre writes in the 民情日记, in pieces.
var (
	noteOpenings = []string{
		"入户走访%s家，户主在家。", "到%s家开展帮扶走访，与户主及家人座谈。", "今天上午走访%s家，户主正在地里干活，随后回家交谈。",
		"对%s家进行回访，家中老人在家。", "冒雨走访%s家，了解近期生产生活情况。",
	}
	noteFindings = []string{
		"家中主要收入来自外出务工，今年务工收入比去年有所增加。", "户主患有慢性病，长期服药，已落实家庭医生签约服务。",
		"孩子在镇中学就读，已享受教育资助政策，无辍学情况。", "房屋为砖混结构，经鉴定为安全住房。",
		"饮水已接通自来水，水质水量达标。", "种植茶叶三亩，养殖土鸡二十只，收入稳定。", "光伏分红已按时到账。",
		"家中有一人在县城务工，月收入约三千元。", "低保金按月发放，户主表示满意。", "今年新修了院墙，住房条件有改善。",
		"东侧屋顶有渗漏，已拍照上报危房改造。", "户主反映医保报销比例不清楚，已当场解释。",
	}
	noteActions = []string{
		"宣讲了小额信贷政策。", "协助联系村医上门随访。", "帮助对接了就业岗位信息。", "核实了低保发放情况。",
		"提醒按时缴纳医保。", "讲解了产业奖补政策。", "登记了用工需求。", "送去了慰问品。",
	}
	addenda = []string{
		"补充：户主表示下月准备外出务工。", "补充：已与村委会沟通屋顶维修事宜。", "补充：核对了家庭成员信息，无变化。",
		"补充：电话回访，情况属实。", "补充：已联系镇卫生院安排体检。",
	}
	incomeNotes = []string{
		"务工收入约%d元，种植收入约%d元。", "主要靠务工，年收入约%d元；养殖收入约%d元。", "低保及养老金约%d元，零星务工约%d元。",
	}
	problemNotes = map[string][]string{
		"food":      {"口粮储备偏少"},
		"clothing":  {"冬衣不足"},
		"education": {"孩子上学路远"},
		"medical":   {"慢性病药费负担较重", "尚未办理慢病卡"},
		"housing":   {"屋顶有渗漏", "墙体有裂缝"},
		"water":     {"雨季水质浑浊", "水压不稳"},
	}
)

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// newVisit makes a realistic visit to h at start (in the phone's zone).
func newVisit(r *rand.Rand, h wire.Household, members []wire.Member, start time.Time) client.NewVisit {
	head := h.HeadName
	if head == "" {
		head = "该户"
	}
	var notes strings.Builder
	fmt.Fprintf(&notes, pick(r, noteOpenings), head)
	for range 1 + r.IntN(2) {
		notes.WriteString(pick(r, noteFindings))
	}
	notes.WriteString(pick(r, noteActions))

	kind := domain.KindAssist
	switch x := r.Float64(); {
	case x < 0.2:
		kind = domain.KindFollowup
	case x < 0.27:
		kind = domain.KindCondolence
	}
	checklist := map[string]domain.ChecklistEntry{}
	for _, item := range domain.ChecklistItems {
		e := domain.ChecklistEntry{Answer: "met"}
		switch x := r.Float64(); {
		case item.Code == "education" && x < 0.3:
			e.Answer = "not_applicable"
		case x < 0.12:
			e = domain.ChecklistEntry{Answer: "problem", Note: pick(r, problemNotes[item.Code])}
		}
		checklist[item.Code] = e
	}
	measures := []string{}
	for range r.IntN(3) {
		m := pick(r, domain.Measures).Code
		if kind == domain.KindCondolence {
			m = "condolence"
		}
		if !contains(measures, m) {
			measures = append(measures, m)
		}
	}
	met := []string{head}
	for _, m := range members {
		if m.Name != head && m.Name != "" && r.Float64() < 0.3 && len(met) < 4 {
			met = append(met, m.Name)
		}
	}
	lat, lon := 32.13+r.Float64()*0.2, 114.07+r.Float64()*0.2 // 信阳 hills when the home point is unknown
	if h.Home != nil {
		lat, lon = h.Home.Lat, h.Home.Lon
	}
	minutes := 20 + r.IntN(70)
	end := start.Add(time.Duration(minutes) * time.Minute)
	var gps []domain.GPSStamp
	for i := range 1 + r.IntN(3) {
		gps = append(gps, domain.GPSStamp{
			Lat: round6(lat + r.NormFloat64()*0.0003), Lon: round6(lon + r.NormFloat64()*0.0003),
			Accuracy: float64(5 + r.IntN(40)), Provider: pick(r, []string{"gps", "gps", "fused", "network"}),
			Mock: r.Float64() < 0.01, DeviceTime: start.Add(time.Duration(i*minutes/3+1) * time.Minute)})
	}
	var photos []domain.PhotoRef
	for range r.IntN(3) {
		sum := sha256.Sum256([]byte(uuid.NewString()))
		photos = append(photos, domain.PhotoRef{PhotoID: uuid.New(), SHA256: hex.EncodeToString(sum[:])})
	}
	confirmed := r.Float64() < 0.9
	return client.NewVisit{HouseholdID: h.ID, Kind: kind, StartedAt: start, EndedAt: &end, Notes: notes.String(), Checklist: checklist,
		Measures: measures, MetWith: met, HouseholdConfirmed: &confirmed, GPS: gps, Photos: photos}
}

// visitEdit is a realistic later correction of a visit.
func visitEdit(r *rand.Rand, v wire.Visit) map[string]any {
	switch r.IntN(4) {
	case 0:
		cl := map[string]wire.ChecklistEntry{}
		for k, e := range v.Checklist {
			cl[k] = e
		}
		item := pick(r, domain.ChecklistItems).Code
		if cl[item].Answer == "problem" {
			cl[item] = wire.ChecklistEntry{Answer: "met", Note: "问题已解决"}
		} else {
			cl[item] = wire.ChecklistEntry{Answer: "problem", Note: pick(r, problemNotes[item])}
		}
		return map[string]any{"checklist": cl}
	case 1:
		m := append([]string{}, v.Measures...)
		c := pick(r, domain.Measures).Code
		if !contains(m, c) {
			m = append(m, c)
		}
		return map[string]any{"measures": m, "notes": v.Notes + pick(r, addenda)}
	case 2:
		confirmed := true
		return map[string]any{"household_confirmed": confirmed}
	default:
		return map[string]any{"notes": v.Notes + pick(r, addenda)}
	}
}

// householdEdit is what a cadre corrects in a household file on a visit.
func householdEdit(r *rand.Rand) map[string]any {
	switch r.IntN(5) {
	case 0:
		return map[string]any{"phone": fmt.Sprintf("1%d%09d", 3+r.IntN(7), r.IntN(1_000_000_000))}
	case 1:
		return map[string]any{"annual_income": float64(6000 + 100*r.IntN(300)),
			"income_notes": fmt.Sprintf(pick(r, incomeNotes), 1000*(5+r.IntN(20)), 500*(1+r.IntN(10)))}
	case 2:
		return map[string]any{"housing_safety_grade": pick(r, []string{"A", "B", "B", "C"})}
	case 3:
		var cs []string
		for _, c := range domain.Causes {
			if r.Float64() < 0.2 {
				cs = append(cs, c.Code)
			}
		}
		if len(cs) == 0 {
			cs = []string{"illness"}
		}
		return map[string]any{"causes": cs}
	default:
		return map[string]any{"arable_land": float64(r.IntN(80)) / 10, "housing_area": float64(40 + r.IntN(120))}
	}
}

// memberEdit is what a cadre updates about a household member.
func memberEdit(r *rand.Rand) map[string]any {
	switch r.IntN(3) {
	case 0:
		return map[string]any{"work": pick(r, domain.WorkStates).Code}
	case 1:
		return map[string]any{"health": pick(r, domain.HealthStates).Code}
	default:
		return map[string]any{"phone": fmt.Sprintf("1%d%09d", 3+r.IntN(7), r.IntN(1_000_000_000))}
	}
}

func round6(x float64) float64 { return float64(int64(x*1e6)) / 1e6 }

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
