package app

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/wire"
)

// consoleOf is the app's console signed in as username.
func (e *testEnv) consoleOf(t *testing.T, username string) *consoleClient {
	t.Helper()
	srv := httptest.NewServer(e.app.Handler)
	t.Cleanup(srv.Close)
	c := (&consoleEnv{app: e.app, url: srv.URL}).client(t)
	if r := c.login(username, testPassword); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("login %s: %d", username, r.StatusCode)
	}
	return c
}

var (
	resolutionSelect = regexp.MustCompile(`<select name="resolution">(.*?)</select>`)
	optionLabel      = regexp.MustCompile(`<option value="[^"]*"[^>]*>([^<]*)</option>`)
)

// TestWarningsOfferWhatTheirListAllows: on the 监测预警 page each open
// warning's 处置方式 offers what its list allows — a warning at a household
// in the register only 风险已消除 (纳入边缘户 and 认定返贫 answered 422),
// one on the edge list 风险已消除 and 纳入边缘户, one on the watch list
// 风险已消除 and 认定返贫 — and asks for the 返贫原因 only where a relapse is
// offered.
func TestWarningsOfferWhatTheirListAllows(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		_, _, edge := e.warnedHousehold(t, domain.StatusGeneral, "边缘甲", "41012219850615101", "disaster")
		_, _, watch := e.warnedHousehold(t, domain.StatusExited, "脱贫乙", "41012219850615102", "job_loss")
		inRegister := visitWithTriggers(e.householdA.Household.ID, "serious_illness")
		e.push(t, e.login(t, "cadre-a"), "warn-registered", batch("phone-a", time.Now(), inRegister)).pushResult(t)
		register := e.warningsOf(t, "supervisor-a", "?list=register&household_id="+e.householdA.Household.ID.String())
		if len(register) != 1 {
			t.Fatalf("the registered household's warnings: %+v", register)
		}
		c := e.consoleOf(t, "supervisor-a")
		for _, tc := range []struct {
			list      string
			warning   wire.RiskWarning
			offers    []string
			asksCause bool
		}{
			{"register", register[0], []string{"风险已消除"}, false},
			{"edge", edge[0], []string{"风险已消除", "纳入边缘户"}, false},
			{"watch", watch[0], []string{"风险已消除", "认定返贫"}, true},
		} {
			r := c.get("/ui/warnings?list=" + tc.list + "&state=open")
			at := strings.Index(r.body, `data-warning="`+tc.warning.ID.String()+`"`)
			if r.StatusCode != http.StatusOK || at < 0 {
				t.Errorf("%s: %d, the warning of %s is not on the page", tc.list, r.StatusCode, tc.warning.HeadName)
				continue
			}
			item := r.body[at:]
			item = item[:strings.Index(item, "</li>")]
			var offers []string
			if m := resolutionSelect.FindStringSubmatch(item); m != nil {
				for _, o := range optionLabel.FindAllStringSubmatch(m[1], -1) {
					offers = append(offers, o[1])
				}
			}
			if !slices.Equal(offers, tc.offers) {
				t.Errorf("a %s warning offers %q, want %q", tc.list, offers, tc.offers)
			}
			if asks := strings.Contains(item, `name="cause"`); asks != tc.asksCause {
				t.Errorf("a %s warning asks for the 返贫原因: %v, want %v", tc.list, asks, tc.asksCause)
			}
		}
	})
}

// TestConflictInboxNamesTheRegisteredIncome: a conflict on the household's
// annual income names it in the inbox as the household page does, the
// register's 家庭年纯收入 rather than a 家庭年收入 to be taken for the
// 收入测算's.
func TestConflictInboxNamesTheRegisteredIncome(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		h := e.householdA.Household
		var file map[string]any
		e.do(t, "GET", "/api/v1/households/"+h.ID.String(), e.login(t, "supervisor-a"), nil).json(t, &file)
		cadre := e.login(t, "cadre-a")
		for i, income := range []float64{12000, 15000} {
			res := e.push(t, cadre, "income-"+string(rune('a'+i)), batch("phone-"+string(rune('a'+i)), time.Now(), map[string]any{"entity": "household",
				"op": "update", "id": h.ID, "base_version": file["version"], "data": map[string]any{"annual_income": income},
				"base": map[string]any{"annual_income": file["annual_income"]}})).pushResult(t).Results[0]
			if want := []string{wire.StatusApplied, wire.StatusConflict}[i]; res.Status != want {
				t.Fatalf("edit %d: %+v, want %s", i+1, res, want)
			}
		}
		r := e.consoleOf(t, "supervisor-a").get("/ui/conflicts")
		if want := `<td data-label="字段">家庭年纯收入（档案登记）</td>`; r.StatusCode != http.StatusOK || !strings.Contains(r.body, want) {
			t.Errorf("the inbox: %d, want the field named %q", r.StatusCode, want)
		}
	})
}
