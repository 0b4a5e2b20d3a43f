package web

import (
	"cmp"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/devicehealth"
)

// The devices page (设备同步情况) at /ui/devices: each phone of the
// caller's subtree as the device-health service keeps it (GET
// /api/v1/devices) — when it last pushed and pulled, how far behind the
// feed its last pull left it, what its outbox still held, its clock offset
// and app version — the longest silent first, narrowed by region and by
// "not synced for N days". A cadre sees their own phones.

// devicesPerPage bounds the page's weight.
const devicesPerPage = 50

// staleChoices are the "not synced for N days" filter's choices; any
// other number of days still works from the URL (1–3650).
var staleChoices = []int{3, 7, 15, 30}

// overviewStaleDays is how long a phone stays silent before the overview
// counts it: a cadre syncs after each trip, and a week without one is
// what a town office follows up.
const overviewStaleDays = 7

// overviewStaleRows bounds the overview's list of silent phones; the rest
// are one click away on the devices page.
const overviewStaleRows = 5

type devicesPage struct {
	Form     filterForm
	Stale    int // the filter's days, 0 none
	Total    int64
	Devices  Table
	Pager    Pager
	Own      bool // a cadre's own phones
	Explains []string
}

// staleSection is the overview's tile of phones silent for a week.
type staleSection struct {
	Days  int
	Count int64
	Table Table
	More  string // the devices page with the same filter
}

type devicesFilters struct {
	Region *uuid.UUID
	Stale  *int // days without a sync; nil: every device
	Page   int
}

func readDevicesFilters(q url.Values) (devicesFilters, error) {
	var fe domain.FieldErrors
	f := devicesFilters{}
	if v := q.Get("region"); v != "" {
		if id, err := uuid.Parse(v); err == nil {
			f.Region = &id
		} else {
			fe.Add("region", "invalid_format", "region must be a UUID", "行政区划编号格式不正确")
		}
	}
	if v := q.Get("stale_days"); v != "" {
		// The range (1–3650) is the service's to check, as for the API.
		n, err := strconv.Atoi(v)
		if err != nil {
			fe.Add("stale_days", "invalid_format", "stale_days must be a whole number of days", "未同步天数应为整数")
		}
		f.Stale = &n
	}
	f.Page = readPage(q, "page", &fe)
	return f, fe.Err()
}

func (f devicesFilters) query() devicehealth.Query {
	return devicehealth.Query{RegionID: f.Region, StaleDays: f.Stale, Limit: devicesPerPage, Offset: (f.Page - 1) * devicesPerPage}
}

func (f devicesFilters) url(page int) string {
	v := url.Values{}
	if f.Region != nil {
		v.Set("region", f.Region.String())
	}
	if f.Stale != nil {
		v.Set("stale_days", strconv.Itoa(*f.Stale))
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	if len(v) == 0 {
		return "/ui/devices"
	}
	return "/ui/devices?" + v.Encode()
}

func (c *Console) devices(r *http.Request, s *session) (any, error) {
	f, err := readDevicesFilters(r.URL.Query())
	if err != nil {
		return nil, err
	}
	p := s.principal
	list, total, err := c.deps.DeviceHealth.Devices(r.Context(), p, f.query())
	if err != nil {
		return nil, err
	}
	stale := 0
	if f.Stale != nil {
		stale = *f.Stale
	}
	out := devicesPage{Stale: stale, Total: total, Own: p.Role == domain.RoleCadre,
		Pager: newPager(f.Page, total, devicesPerPage, f.url)}
	out.Devices = c.devicesTable(p, list)
	if stale > 0 {
		out.Devices.Empty = fmt.Sprintf("没有%d天以上未同步的设备。", stale)
	}
	out.Form = filterForm{Action: "/ui/devices"}
	choices := []option{{Value: "", Label: "全部设备", Selected: stale == 0}}
	for _, d := range staleChoices {
		choices = append(choices, option{Value: strconv.Itoa(d), Label: fmt.Sprintf("%d天以上未同步", d), Selected: d == stale})
	}
	if stale > 0 && !slices.ContainsFunc(choices, func(o option) bool { return o.Selected }) {
		choices = append(choices, option{Value: strconv.Itoa(stale), Label: fmt.Sprintf("%d天以上未同步", stale), Selected: true})
	}
	out.Form.Selects = append(out.Form.Selects, selectField{Name: "stale_days", Label: "同步情况", Groups: []optionGroup{{Options: choices}}})
	if !out.Own {
		regions, err := c.regionChoices(r, s, domain.LevelTown, domain.LevelVillage)
		if err != nil {
			return nil, err
		}
		selected := ""
		if f.Region != nil {
			selected = f.Region.String()
		}
		groups := []optionGroup{{Options: []option{{Value: "", Label: "全部地区", Selected: selected == ""}}}}
		for _, g := range regions {
			g.Options = filterOptions(g.Options, selected, "")
			groups = append(groups, g)
		}
		out.Form.Selects = append([]selectField{{Name: "region", Label: "地区", Groups: groups}}, out.Form.Selects...)
	}
	out.Explains = []string{
		"最近同步：手机最近一次上传或下载数据的时间；“待上传”是手机同步时报告的待发送记录、照片和字节数。",
		"落后条数：最近一次下载结束时，手机的同步位置比服务器最新变更落后的条数，0 表示已是最新。",
		"时钟偏差：服务器时间减手机时间（上传时测量），偏差过大时走访时间可能不准。",
	}
	return out, nil
}

// devicesTable lists phones as the devices page and the overview show
// them.
func (c *Console) devicesTable(p domain.Principal, list []devicehealth.Device) Table {
	now := c.deps.Now()
	t := Table{Head: []string{"使用人", "所属地区", "设备", "最近同步", "最近上传", "最近下载", "落后条数", "待上传", "时钟偏差", "App版本"},
		Empty: "没有设备。干部在手机上登录并同步后，这里会列出其设备。"}
	for _, d := range list {
		user := Cell{Text: cmp.Or(d.DisplayName, d.Username)}
		if d.Role == domain.RoleCadre {
			user.Link = cadreURL(d.UserID.String())
		}
		device := d.DeviceID
		if d.Name != "" {
			device = d.Name + "（" + d.DeviceID + "）"
		}
		if d.RevokedAt != nil {
			device += " 已注销"
		}
		last := Cell{Text: "从未同步", Tone: "bad"}
		if d.LastSyncAt != nil {
			last = Cell{Text: sinceText(now, *d.LastSyncAt), Tone: staleTone(now, *d.LastSyncAt)}
		}
		t.Rows = append(t.Rows, []Cell{user, textCell(d.RegionName), textCell(device), last,
			textCell(timeText(d.LastPushAt)), textCell(timeText(d.LastPullAt)), lagCell(d.Lag), backlogCell(d.Backlog),
			clockCell(d.ClockOffsetMS), textCell(cmp.Or(d.AppVersion, "—"))})
	}
	unlinkCadres(p, &t)
	return t
}

// staleDevices is the overview's tile: phones in use silent for a week,
// the longest silent first. nil when the caller keeps no devices page.
func (c *Console) staleDevices(r *http.Request, s *session) (*staleSection, error) {
	if c.deps.DeviceHealth == nil || !s.principal.Manages() {
		return nil, nil
	}
	days := overviewStaleDays
	list, n, err := c.deps.DeviceHealth.Devices(r.Context(), s.principal, devicehealth.Query{StaleDays: &days, Limit: overviewStaleRows})
	if forbidden(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	t := c.devicesTable(s.principal, list)
	// The tile keeps who, where and since when; the rest is on the page.
	for i, row := range t.Rows {
		t.Rows[i] = []Cell{row[0], row[1], row[3]}
	}
	t.Head = []string{"使用人", "所属地区", "最近同步"}
	t.Empty = fmt.Sprintf("没有%d天以上未同步的设备。", days)
	return &staleSection{Days: days, Count: n, Table: t, More: devicesFilters{Stale: &days}.url(1)}, nil
}

// sinceText is how long ago t was, as a supervisor reads it.
func sinceText(now, t time.Time) string {
	d := now.Sub(t)
	at := t.In(domain.Shanghai).Format("01-02 15:04")
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%d分钟前（%s）", max(int(d/time.Minute), 0), at)
	case d < 24*time.Hour:
		return fmt.Sprintf("%d小时前（%s）", int(d/time.Hour), at)
	}
	// Whole days by the calendar in Beijing, as the date beside them
	// reads: two syncs of one day are as many days ago.
	days := int(math.Round(domain.DateOf(now).Start().Sub(domain.DateOf(t).Start()).Hours() / 24))
	return fmt.Sprintf("%d天前（%s）", days, t.In(domain.Shanghai).Format(time.DateOnly))
}

// staleTone colours a last sync: a week silent is bad, three days a
// warning.
func staleTone(now, t time.Time) string {
	switch d := now.Sub(t); {
	case d >= overviewStaleDays*24*time.Hour:
		return "bad"
	case d >= 3*24*time.Hour:
		return "warn"
	}
	return "good"
}

func timeText(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return t.In(domain.Shanghai).Format("2006-01-02 15:04")
}

func lagCell(lag *int64) Cell {
	switch {
	case lag == nil:
		return Cell{Text: "—", Num: true}
	case *lag == 0:
		return Cell{Text: "0（最新）", Num: true, Tone: "good"}
	}
	return Cell{Text: strconv.FormatInt(*lag, 10), Num: true, Tone: "warn"}
}

// backlogCell writes a reported outbox: records, photos and bytes, a
// count the phone did not report as "?".
func backlogCell(b *devicehealth.Backlog) Cell {
	if b == nil {
		return textCell("未报告")
	}
	count := func(n *int64) string {
		if n == nil {
			return "?"
		}
		return strconv.FormatInt(*n, 10)
	}
	bytes := "?"
	if b.Bytes != nil {
		bytes = byteSize(*b.Bytes)
	}
	c := textCell(fmt.Sprintf("%s条记录 %s张照片 %s", count(b.Records), count(b.Photos), bytes))
	if (b.Records != nil && *b.Records > 0) || (b.Photos != nil && *b.Photos > 0) {
		c.Tone = "warn"
	}
	return c
}

// byteSize writes a byte count in binary units, as phones show storage.
func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// clockCell writes a clock offset; beyond five minutes the visit times a
// phone stamps deserve a look.
func clockCell(ms *int64) Cell {
	if ms == nil {
		return Cell{Text: "—", Num: true}
	}
	d := time.Duration(*ms) * time.Millisecond
	c := Cell{Text: fmt.Sprintf("%+.1f秒", d.Seconds()), Num: true}
	if d.Abs() >= time.Minute {
		c.Text = fmt.Sprintf("%+.0f分钟", d.Minutes())
	}
	if d.Abs() >= 5*time.Minute {
		c.Tone = "bad"
	}
	return c
}
