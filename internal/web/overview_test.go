package web

import (
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/fieldvisit/fieldvisit/internal/compliance"
)

// A met rate is coloured by what is behind, not by what is done: early in
// a month most statuses are on track and not yet met, and red there sent a
// supervisor looking for households behind that the missed-visit list did
// not have. Red, amber and green keep their thresholds (95 %, 80 %) on the
// share not behind; nothing judged is a grey "—"; the title says why.
func TestMetCellIsColouredByWhatIsBehind(t *testing.T) {
	for _, tc := range []struct {
		name       string
		counts     compliance.StateCounts
		text, tone string
		titleHolds string
	}{
		{"early in the month, nothing behind", compliance.StateCounts{Total: 48, Met: 14, OnTrack: 30, DueSoon: 4},
			"29.2%", "good", "未达标的34项均未逾期（进度正常30项，即将到期4项），没有进度落后或未完成的项"},
		{"nothing judged", compliance.StateCounts{}, "—", "none", "本期没有需要评判的走访任务"},
		{"all met", compliance.StateCounts{Total: 5, Met: 5}, "100.0%", "good", ""},
		{"a few behind", compliance.StateCounts{Total: 20, Met: 2, OnTrack: 16, Overdue: 2}, "10.0%", "warn", "进度落后2项，未完成0项"},
		{"many behind", compliance.StateCounts{Total: 10, Met: 5, OnTrack: 2, Overdue: 2, Missed: 1}, "50.0%", "bad", "进度落后2项，未完成1项"},
		{"a closed period: not met is missed", compliance.StateCounts{Total: 10, Met: 9, Missed: 1}, "90.0%", "warn", "进度落后0项，未完成1项"},
	} {
		c := metCell(tc.counts)
		if c.Text != tc.text || c.Tone != tc.tone || c.Title != tc.titleHolds || !c.Num {
			t.Errorf("%s: %+v, want text %q tone %q title %q", tc.name, c, tc.text, tc.tone, tc.titleHolds)
		}
	}
}

// The overview as drawn: the headline rates, the section's summary and the
// village rows take metCell's colour and title, and the count of
// households behind is red only when there is one.
func TestOverviewShowsNoRedWithNothingBehind(t *testing.T) {
	assets, err := loadAssets(Prefix)
	if err != nil {
		t.Fatal(err)
	}
	v, err := parseViews(assets)
	if err != nil {
		t.Fatal(err)
	}
	early := compliance.StateCounts{Total: 48, Met: 14, OnTrack: 34}
	page := overviewPage{
		Headline: []stat{statOf(early, "2026年12月达标率"), statOf(compliance.StateCounts{}, "2026年第4季度达标率")},
		Rates: &ratesSection{Period: "2026年12月", Total: early,
			Villages: countsTable("行政村", []compliance.GroupCounts{{ID: "v1", Name: "林湾村", StateCounts: compliance.StateCounts{Total: 2, Met: 1, OnTrack: 1}}}, "/ui/map?village=")},
		Attention:      &attentionSection{Overdue: 0, AtRisk: 3},
		Rectifications: &rectificationSection{Open: 1},
	}
	w := httptest.NewRecorder()
	if err := v.render(w, 200, "overview.html", "content", page); err != nil {
		t.Fatal(err)
	}
	body := w.Body.String()
	if red := regexp.MustCompile(`<[^>]*tone-bad[^>]*>[^<]*(<[^>]*>[^<]*)?`).FindAllString(body, -1); len(red) > 0 {
		t.Errorf("red with nothing behind: %q", red)
	}
	for _, want := range []string{
		`<div class="stat tone-good" title="未达标的34项均未逾期（进度正常34项，即将到期0项），没有进度落后或未完成的项"><span class="stat-value">29.2%</span><span class="stat-label">2026年12月达标率</span></div>`,
		`<div class="stat tone-none" title="本期没有需要评判的走访任务"><span class="stat-value">—</span><span class="stat-label">2026年第4季度达标率</span></div>`,
		`达标率 <strong class="tone-good" title="未达标的34项均未逾期（进度正常34项，即将到期0项），没有进度落后或未完成的项">29.2%</strong>。`,
		`<td class="num tone-good" title="未达标的1项均未逾期（进度正常1项，即将到期0项），没有进度落后或未完成的项">50.0%</td>`,
		`<div class="stat"><span class="stat-value">0</span><span class="stat-label">进度落后户（月/季/年）</span></div>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the overview lacks %s", want)
		}
	}

	page.Attention.Overdue = 2
	w = httptest.NewRecorder()
	if err := v.render(w, 200, "overview.html", "content", page); err != nil {
		t.Fatal(err)
	}
	if want := `<div class="stat tone-bad"><span class="stat-value">2</span><span class="stat-label">进度落后户（月/季/年）</span></div>`; !strings.Contains(w.Body.String(), want) {
		t.Errorf("households behind are not red: want %s", want)
	}
}
