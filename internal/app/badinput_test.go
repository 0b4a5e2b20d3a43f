package app

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/wire"
)

func validID(first17 string) string { return first17 + string(domain.IDNumberCheckChar(first17)) }

// TestBadInputIsRefusedWithoutWrites: every malformed or invalid body gets a
// 4xx problem+json naming the field, never a 500, and writes nothing.
func TestBadInputIsRefusedWithoutWrites(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		admin := e.login(t, "admin")
		newHousehold := func(mut func(map[string]any)) map[string]any {
			b := map[string]any{"region_id": e.villageA.ID, "head_name": "王五", "status": "registered", "poverty_type": "ordinary",
				"members": []map[string]any{{"name": "王五", "relation": "head", "id_number": validID("41012219800101003")}}}
			if mut != nil {
				mut(b)
			}
			return b
		}
		hPath := "/api/v1/households/" + e.householdA.Household.ID.String()
		cases := []struct {
			name, method, path string
			body               any
			status             int
			field              string
		}{
			{"malformed JSON", "POST", "/api/v1/households", `{"region_id": `, 400, "body"},
			{"not an object", "POST", "/api/v1/households", `[1,2,3]`, 422, "/"},
			{"two JSON values", "POST", "/api/v1/households", `{} {}`, 400, "body"},
			{"empty body", "POST", "/api/v1/households", ` `, 400, "body"},
			{"invalid UTF-8", "POST", "/api/v1/households", []byte("{\"head_name\": \"\xff\xfe\"}"), 400, "body"},
			{"NUL in a name", "POST", "/api/v1/households", newHousehold(func(b map[string]any) { b["head_name"] = "王\u0000五" }), 422, "/head_name"},
			{"NUL in a member", "POST", "/api/v1/households", newHousehold(func(b map[string]any) {
				b["members"] = []map[string]any{{"name": "王\u0000五", "relation": "head"}}
			}), 422, "/members/0/name"},
			{"unknown field", "POST", "/api/v1/households", newHousehold(func(b map[string]any) { b["colour"] = "red" }), 422, "/colour"},
			{"wrong type", "POST", "/api/v1/households", newHousehold(func(b map[string]any) { b["annual_income"] = "lots" }), 422, "/annual_income"},
			{"bad check digit", "POST", "/api/v1/households", newHousehold(func(b map[string]any) {
				b["members"] = []map[string]any{{"name": "王五", "relation": "head", "id_number": "410122198001010031"}}
			}), 422, "/members/0/id_number"},
			{"impossible birth date", "POST", "/api/v1/households", newHousehold(func(b map[string]any) {
				b["members"] = []map[string]any{{"name": "王五", "relation": "head", "id_number": validID("41012219800231003")}}
			}), 422, "/members/0/id_number"},
			{"two heads", "POST", "/api/v1/households", newHousehold(func(b map[string]any) {
				b["members"] = []map[string]any{{"name": "王五", "relation": "head"}, {"name": "王六", "relation": "head"}}
			}), 422, "/members"},
			{"unknown region", "POST", "/api/v1/households", newHousehold(func(b map[string]any) { b["region_id"] = "00000000-0000-4000-8000-000000000000" }), 422, "/region_id"},
			{"household on a town", "POST", "/api/v1/households", newHousehold(func(b map[string]any) { b["region_id"] = e.town.ID }), 422, "/region_id"},
			{"unknown status", "POST", "/api/v1/households", newHousehold(func(b map[string]any) { b["status"] = "rich" }), 422, "/status"},
			{"exited without year", "POST", "/api/v1/households", newHousehold(func(b map[string]any) { b["status"] = "exited" }), 422, "/exit_year"},
			{"GPS out of range", "POST", "/api/v1/households", newHousehold(func(b map[string]any) { b["home"] = map[string]any{"lat": 91, "lon": 113} }), 422, "/home/lat"},
			{"a latitude beyond float64", "POST", "/api/v1/households", `{"region_id":"` + e.villageA.ID.String() + `","head_name":"王五","status":"registered","poverty_type":"ordinary","home":{"lat":1e400,"lon":113}}`, 422, "/home/lat"},
			{"a longitude beyond float64", "PATCH", hPath, `{"version":1,"home":{"lat":34.7,"lon":-1e400}}`, 422, "/home/lon"},
			{"unknown cause", "POST", "/api/v1/households", newHousehold(func(b map[string]any) { b["causes"] = []string{"illness", "bad_luck"} }), 422, "/causes/1"},
			{"head name too long", "POST", "/api/v1/households", newHousehold(func(b map[string]any) { b["head_name"] = strings.Repeat("张", 51) }), 422, "/head_name"},
			{"oversized body", "POST", "/api/v1/households", newHousehold(func(b map[string]any) { b["income_notes"] = strings.Repeat("x", 2<<20) }), 413, "body"},
			{"negative income", "PATCH", hPath, map[string]any{"version": 1, "annual_income": -5}, 422, "/annual_income"},
			{"missing version", "PATCH", hPath, map[string]any{"phone": "13800000000"}, 422, "/version"},
			{"bad phone", "PATCH", hPath, map[string]any{"version": 1, "phone": "call me"}, 422, "/phone"},
			{"a member name given twice", "PATCH", hPath, `{"version":1,"phone":"13800000000","phone":"13900000000"}`, 422, "/phone"},
			{"home without a latitude", "PATCH", hPath, map[string]any{"version": 1, "home": map[string]any{"lon": 113.6}}, 422, "/home/lat"},
			{"wrong type in an array element", "POST", "/api/v1/households", newHousehold(func(b map[string]any) {
				b["members"] = []any{map[string]any{"name": "王五", "relation": "head"}, map[string]any{"name": "王六", "relation": "child", "id_number": 5}}
			}), 422, "/members/1/id_number"},
			{"bad date", "POST", hPath + "/status", map[string]any{"version": 1, "status": "exited", "exit_year": 2025, "effective_on": "2025-02-30"}, 422, "/effective_on"},
			{"future effective date", "POST", hPath + "/status", map[string]any{"version": 1, "status": "exited", "exit_year": 2025, "effective_on": "2999-01-01"}, 422, "/effective_on"},
			// householdA was registered on 2024-03-01: a move dated before
			// it would sort behind the registration in the rules' history
			{"a move dated before the last status change", "POST", hPath + "/status", map[string]any{"version": 1, "status": "removed", "reason": "识别不准",
				"effective_on": "2024-02-29"}, 422, "/effective_on"},
			{"illegal transition", "POST", hPath + "/status", map[string]any{"version": 1, "status": "relapsed", "effective_on": "2025-01-01"}, 422, "/status"},
			{"bad region code", "POST", "/api/v1/regions", map[string]any{"parent_id": e.villageA.ID, "level": "group", "code": "41-DROP", "name": "组"}, 422, "/code"},
			{"duplicate region code", "POST", "/api/v1/regions", map[string]any{"parent_id": e.villageA.ID, "level": "group", "code": e.groupA.Code, "name": "组"}, 422, "/code"},
			{"wrong level under village", "POST", "/api/v1/regions", map[string]any{"parent_id": e.villageA.ID, "level": "town", "code": "410122100299", "name": "镇"}, 422, "/level"},
			{"short password", "POST", "/api/v1/users", map[string]any{"username": "new-user", "display_name": "新", "role": "cadre", "region_id": e.villageA.ID, "password": "short"}, 422, "/password"},
			{"bad username", "POST", "/api/v1/users", map[string]any{"username": "Robert'); DROP TABLE users;--", "display_name": "x", "role": "cadre", "region_id": e.villageA.ID, "password": "long-enough-password"}, 422, "/username"},
			{"pair with a non-cadre", "POST", "/api/v1/pairings", map[string]any{"household_id": e.householdA.Household.ID, "cadre_id": e.supervisorA.ID}, 422, "/cadre_id"},
			{"pair outside cadre's region", "POST", "/api/v1/pairings", map[string]any{"household_id": e.householdA.Household.ID, "cadre_id": e.cadreB.ID}, 422, "/cadre_id"},
			{"end the last pairing of a registered household", "POST", "/api/v1/pairings/" + e.pairingA.ID.String() + "/end", map[string]any{"reason": "调走"}, 422, "/new_cadre_id"},
			{"bad limit", "GET", "/api/v1/households?limit=0", nil, 422, "limit"},
			{"a limit that is no number", "GET", "/api/v1/households?limit=abc", nil, 422, "limit"},
			{"bad filter id", "GET", "/api/v1/households?region_id=abc", nil, 422, "region_id"},
			{"bad status filter", "GET", "/api/v1/households?status=rich", nil, 422, "status"},
			// Go's query parser drops a pair holding ";": the filter would go
			// and the whole list answer.
			{"a filter cut by a semicolon", "GET", "/api/v1/households?status=exited;", nil, 422, "query"},
			{"a parameter given twice", "GET", "/api/v1/households?limit=5&limit=10", nil, 422, "limit"},
			{"income account without version", "PUT", hPath + "/income-accounts/2026", `{}`, 422, "/version"},
			{"income account as null", "PUT", hPath + "/income-accounts/2026", `null`, 422, "/version"},
			{"a ledger item's deadline past 2100", "POST", "/api/v1/ledgers/hardship/items", map[string]any{"problem": "大病", "household_id": e.householdA.Household.ID,
				"responsible_user_id": e.cadreA.ID, "deadline": "9999-12-31"}, 422, "/deadline"},
			{"a rectification's deadline past 2100", "POST", "/api/v1/rectifications", map[string]any{"problem": "漏评", "household_id": e.householdA.Household.ID,
				"responsible_user_id": e.cadreA.ID, "deadline": "2101-01-01"}, 422, "/deadline"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := e.counts(t)
				r := e.do(t, tc.method, tc.path, admin, tc.body)
				if r.Status != tc.status {
					t.Fatalf("want %d, got %d: %s", tc.status, r.Status, r.Body)
				}
				if p := r.problem(t); !p.hasField(tc.field) {
					t.Fatalf("problem does not name %q: %s", tc.field, r.Body)
				}
				sameCounts(t, before, e.counts(t))
			})
		}
	})
}

// TestTextRoundTripsVerbatim: SQL-looking strings and long Chinese text are
// data, stored and returned byte for byte.
func TestTextRoundTripsVerbatim(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		admin := e.login(t, "admin")
		sqlish := "Robert'); DROP TABLE households;-- %_\\"
		notes := strings.Repeat("家庭主要收入来源为种植玉米和外出务工，2023年因病支出较大。", 60)
		if n := utf8.RuneCountInString(notes); n > 2000 {
			notes = string([]rune(notes)[:2000])
		}
		r := e.do(t, "POST", "/api/v1/households", admin, map[string]any{"region_id": e.villageA.ID, "head_name": sqlish, "status": "edge",
			"income_notes": notes, "address": "城关镇东风村一组 𠀋 emoji 🙂"})
		if r.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		var created struct {
			ID string `json:"id"`
		}
		r.json(t, &created)
		var got struct {
			HeadName    string `json:"head_name"`
			IncomeNotes string `json:"income_notes"`
			Address     string `json:"address"`
		}
		e.do(t, "GET", "/api/v1/households/"+created.ID, admin, nil).json(t, &got)
		if got.HeadName != sqlish || got.IncomeNotes != notes || got.Address != "城关镇东风村一组 𠀋 emoji 🙂" {
			t.Fatalf("text changed on the way: %q / %d runes / %q", got.HeadName, utf8.RuneCountInString(got.IncomeNotes), got.Address)
		}
		// A search for the SQL-looking name matches it literally.
		var page struct {
			Total int `json:"total"`
		}
		e.do(t, "GET", "/api/v1/households?q="+url.QueryEscape("DROP TABLE"), admin, nil).json(t, &page)
		if page.Total != 1 {
			t.Fatalf("search for the literal text found %d", page.Total)
		}
		e.do(t, "GET", "/api/v1/households?q="+url.QueryEscape("%"), admin, nil).json(t, &page)
		if page.Total != 1 {
			t.Fatalf("a %% in a search must match only a literal %%, found %d", page.Total)
		}
	})
}

// TestIDNumbersMaskedByRole: supervisors and admins see the full 身份证号
// in the register; cadres see the masked form, and nothing else they are
// shown rebuilds it: not the region prefix, not the birth date (only its
// year). The sync feed carries the masked form whoever pulls.
func TestIDNumbersMaskedByRole(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	hid := e.householdA.Household.ID.String()
	full := e.householdA.Members[0].IDNumber
	birthDigits := full[6:14]
	for _, tc := range []struct {
		user   string
		masked bool
	}{{"supervisor-a", false}, {"admin", false}, {"cadre-a", true}} {
		tok := e.login(t, tc.user)
		for _, path := range []string{"/api/v1/households/" + hid, "/api/v1/households/" + hid + "/members",
			"/api/v1/households/" + hid + "/members/" + e.householdA.Members[0].ID.String()} {
			r := e.do(t, "GET", path, tok, nil)
			if r.Status != http.StatusOK {
				t.Fatalf("%s GET %s: %d", tc.user, path, r.Status)
			}
			if bytes.Contains(r.Body, []byte(full)) == tc.masked {
				t.Errorf("%s GET %s: full ID number present=%v, want masked=%v", tc.user, path, !tc.masked, tc.masked)
			}
			if !tc.masked {
				continue
			}
			for _, leak := range []string{birthDigits, full[:6], e.householdA.Members[0].BirthDate.String()} {
				if bytes.Contains(r.Body, []byte(leak)) {
					t.Errorf("%s GET %s: the answer holds %q, part of the hidden digits: %s", tc.user, path, leak, r.Body)
				}
			}
			if !bytes.Contains(r.Body, []byte(`"**************`+full[14:]+`"`)) || !bytes.Contains(r.Body, []byte(`"birth_year":`+full[6:10])) {
				t.Errorf("%s GET %s: want the last four characters and the birth year: %s", tc.user, path, r.Body)
			}
		}
	}
	for _, user := range []string{"cadre-a", "supervisor-a"} {
		changes, _ := e.pullAll(t, e.login(t, user), "", 500)
		for _, ch := range changes {
			if ch.Entity == wire.EntityMember && bytes.Contains(ch.Data, []byte(full)) {
				t.Errorf("%s's pull carries a clear ID number: %s", user, ch.Data)
			}
		}
	}
}

// TestClearIDNumberReadsAreAudited: every answer that shows a clear
// 身份证号 leaves an audit entry (who, which household, why: the route)
// before it is sent, and an admin reads them by user, household and date;
// a masked read records nothing.
func TestClearIDNumberReadsAreAudited(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		hA, hB := e.householdA.Household.ID.String(), e.householdB.Household.ID.String()
		sup := e.login(t, "supervisor-a")
		e.do(t, "GET", "/api/v1/households/"+hA, sup, nil)
		e.do(t, "GET", "/api/v1/households/"+hA+"/members", sup, nil)
		e.do(t, "GET", "/api/v1/households/"+hA, e.login(t, "cadre-a"), nil)
		e.do(t, "GET", "/api/v1/households/"+hB, e.login(t, "supervisor-b"), nil)

		admin := e.login(t, "admin")
		type page struct {
			Items []wire.AuditEntry `json:"items"`
			Total int64             `json:"total"`
		}
		read := func(query string) page {
			t.Helper()
			r := e.do(t, "GET", "/api/v1/audit-log?action=read_id_numbers&"+query, admin, nil)
			if r.Status != http.StatusOK {
				t.Fatalf("audit log %s: %d %s", query, r.Status, r.Body)
			}
			var p page
			r.json(t, &p)
			return p
		}
		// The admin's registration of the household (the fixture) showed
		// the numbers too; the cadre's masked read recorded nothing.
		got := read("household_id=" + hA)
		routes, by := map[string]bool{}, map[uuid.UUID]int{}
		for _, a := range got.Items {
			if a.ActorID == nil || a.HouseholdID == nil || a.HouseholdID.String() != hA {
				t.Fatalf("entry %+v: want an actor reading household A", a)
			}
			by[*a.ActorID]++
			if *a.ActorID == e.supervisorA.ID {
				routes[fmt.Sprint(a.Detail["route"])] = true
			}
		}
		if by[e.supervisorA.ID] != 2 || by[e.cadreA.ID] != 0 || got.Total != int64(len(got.Items)) {
			t.Fatalf("reads of household A's numbers by actor: %v (total %d), want supervisor-a's 2 and none of cadre-a's", by, got.Total)
		}
		if !routes["GET /api/v1/households/:id"] || !routes["GET /api/v1/households/:id/members"] {
			t.Errorf("entries name their routes: %v", routes)
		}
		if got := read("user_id=" + e.supervisorB.ID.String()); got.Total != 1 || got.Items[0].HouseholdID.String() != hB {
			t.Errorf("by user: %+v", got)
		}
		today := domain.DateOf(time.Now())
		if got := read("from=" + today.AddDays(-1).String() + "&to=" + today.String() + "&user_id=" + e.supervisorA.ID.String()); got.Total != 2 {
			t.Errorf("by date, today: %d entries, want 2", got.Total)
		}
		if got := read("to=" + today.AddDays(-1).String()); got.Total != 0 {
			t.Errorf("by date, up to yesterday: %d entries, want 0", got.Total)
		}
		for _, who := range []string{"supervisor-a", "cadre-a", "inspector"} {
			if r := e.do(t, "GET", "/api/v1/audit-log", e.login(t, who), nil); r.Status != http.StatusForbidden {
				t.Errorf("%s reads the audit log: %d, want 403", who, r.Status)
			}
		}
		for _, q := range []string{"user_id=me", "from=yesterday", "from=2026-12-02&to=2026-12-01", "limit=0"} {
			if r := e.do(t, "GET", "/api/v1/audit-log?"+q, admin, nil); r.Status != http.StatusUnprocessableEntity {
				t.Errorf("audit log ?%s: %d, want 422", q, r.Status)
			}
		}
	})
}

// TestNullClearsAFieldOnEveryPath: null in a PATCH body clears a field,
// as it does in a sync push's data; a PATCH that changes nothing makes no
// new version (a new one would send every phone a change to merge).
func TestNullClearsAFieldOnEveryPath(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		admin, cadre := e.login(t, "admin"), e.login(t, "cadre-a")
		hid := e.householdA.Household.ID
		mPath := "/api/v1/households/" + hid.String() + "/members/" + e.householdA.Members[0].ID.String()
		var m wire.Member
		e.do(t, "PATCH", mPath, admin, map[string]any{"version": e.householdA.Members[0].Version, "health": "chronic", "work": "migrant"}).json(t, &m)
		if m.Health != "chronic" || m.Work != "migrant" {
			t.Fatalf("the member after setting health and work: %+v", m)
		}
		set := m.Version
		e.do(t, "PATCH", mPath, admin, map[string]any{"version": set, "health": nil}).json(t, &m)
		if m.Health != "" || m.Work != "migrant" || m.Version != set+1 {
			t.Errorf("PATCH health null: health %q, work %q, version %d; want cleared, kept, %d", m.Health, m.Work, m.Version, set+1)
		}
		e.do(t, "PATCH", mPath, admin, map[string]any{"version": m.Version}).json(t, &m)
		if m.Version != set+1 {
			t.Errorf("a PATCH of nothing made version %d, want %d kept", m.Version, set+1)
		}
		// The same null from a phone clears work.
		res := e.push(t, cadre, uuid.NewString(), batch("phone-a", time.Now(), map[string]any{"entity": "member", "op": "update", "id": m.ID,
			"household_id": hid, "base_version": m.Version, "data": map[string]any{"work": nil}})).pushResult(t)
		if res.Results[0].Status != wire.StatusApplied {
			t.Fatalf("push work null: %+v", res.Results[0])
		}
		e.do(t, "GET", mPath, admin, nil).json(t, &m)
		if m.Work != "" {
			t.Errorf("push work null left work %q", m.Work)
		}
		var h wire.Household
		e.do(t, "GET", "/api/v1/households/"+hid.String(), admin, nil).json(t, &h)
		before := h.Version
		e.do(t, "PATCH", "/api/v1/households/"+hid.String(), admin, map[string]any{"version": before, "phone": h.Phone}).json(t, &h)
		if h.Version != before {
			t.Errorf("a household PATCH that changes nothing made version %d, want %d kept", h.Version, before)
		}
	})
}

// TestOwnPasswordNeedsTheCurrentOne: an access token alone does not set a
// new password for its own account (a stolen token would take it over);
// with the current password it does, and an admin resets a managed user's
// without knowing theirs.
func TestOwnPasswordNeedsTheCurrentOne(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	own := "/api/v1/users/" + e.cadreA.ID.String() + "/password"
	tok := e.login(t, "cadre-a")
	for _, tc := range []struct {
		name   string
		body   map[string]any
		status int
		field  string
	}{
		{"no current password", map[string]any{"password": "a-new-long-password"}, 422, "/current_password"},
		{"a wrong current password", map[string]any{"password": "a-new-long-password", "current_password": "not-my-password"}, 422, "/current_password"},
	} {
		r := e.do(t, "PUT", own, tok, tc.body)
		if r.Status != tc.status || !r.problem(t).hasField(tc.field) {
			t.Errorf("%s: %d %s, want %d naming %s", tc.name, r.Status, r.Body, tc.status, tc.field)
		}
	}
	if r := e.do(t, "PUT", own, tok, map[string]any{"password": "a-new-long-password", "current_password": testPassword}); r.Status != http.StatusNoContent {
		t.Fatalf("with the current password: %d %s", r.Status, r.Body)
	}
	if r := e.do(t, "POST", "/api/v1/auth/login", "", map[string]string{"username": "cadre-a", "password": "a-new-long-password", "device_id": "p"}); r.Status != http.StatusOK {
		t.Errorf("login with the new password: %d %s", r.Status, r.Body)
	}
	if r := e.do(t, "PUT", own, e.login(t, "admin"), map[string]any{"password": testPassword}); r.Status != http.StatusNoContent {
		t.Errorf("an admin resetting a cadre's password: %d %s", r.Status, r.Body)
	}
}

// TestGuessingTheCurrentPasswordIsThrottled: the current password asked
// for one's own password change is throttled as a login is — five wrong
// ones and the check is locked (429 with Retry-After), even for the right
// one — so a session (a phone or a console left signed in, a stolen
// token) is no way to guess the password without end. It answered 422
// however many were tried. The lock is of this check only: the account
// still signs in, and an admin still resets its password.
func TestGuessingTheCurrentPasswordIsThrottled(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	own := "/api/v1/users/" + e.cadreA.ID.String() + "/password"
	tok := e.login(t, "cadre-a")
	for i := range 5 {
		r := e.do(t, "PUT", own, tok, map[string]any{"password": "a-new-long-password", "current_password": fmt.Sprintf("guess-%d", i)})
		if r.Status != http.StatusUnprocessableEntity || !r.problem(t).hasField("/current_password") {
			t.Fatalf("guess %d: %d %s, want 422 at /current_password", i+1, r.Status, r.Body)
		}
	}
	r := e.do(t, "PUT", own, tok, map[string]any{"password": "a-new-long-password", "current_password": testPassword})
	if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" || r.problem(t).TitleZH == "" {
		t.Fatalf("after five wrong guesses, the right one: %d %v %s, want 429 with Retry-After", r.Status, r.Header, r.Body)
	}
	if r := e.do(t, "POST", "/api/v1/auth/login", "", map[string]string{"username": "cadre-a", "password": testPassword, "device_id": "p"}); r.Status != http.StatusOK {
		t.Errorf("login while the check is locked: %d %s", r.Status, r.Body)
	}
	if r := e.do(t, "PUT", own, e.login(t, "admin"), map[string]any{"password": "a-new-long-password"}); r.Status != http.StatusNoContent {
		t.Errorf("an admin resetting the password while the check is locked: %d %s", r.Status, r.Body)
	}
}

// twoFileForm is a multipart form carrying the given file parts, each
// named as given and holding body.
func twoFileForm(t *testing.T, body []byte, names ...string) (contentType string, form []byte) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for i, name := range names {
		fw, err := w.CreateFormFile(name, fmt.Sprintf("part-%d.csv", i))
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(body)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.FormDataContentType(), b.Bytes()
}

// TestAnUploadCarriesOneFile: a multipart upload with more than one file
// part — two named "file", or another beside it — is refused (422 at
// file) and writes nothing: no row, no object in the store. The photo
// routes take no form at all (415 at Content-Type): a phone sends the
// bytes as the body, or posts the presigned form straight to the store.
func TestAnUploadCarriesOneFile(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		town := e.adjustmentTown(t)
		e.numberedHousehold(t, e.villageA, "郑一", "41012219800101071", "Z-001", domain.StatusRegistered, domain.PovertyOrdinary)
		var b wire.AdjustmentBatch
		if r := e.do(t, "POST", "/api/v1/adjustment-batches", town.supervisor, map[string]any{"region_id": e.town.ID, "year": 2026}); r.Status != http.StatusCreated {
			t.Fatalf("batch: %d %s", r.Status, r.Body)
		} else {
			r.json(t, &b)
		}
		admin, cadre := e.login(t, "admin"), e.login(t, "cadre-a")
		// registerSheet's town, moved off the code adjustmentTown gave 南关镇.
		register := []byte(strings.ReplaceAll(registerSheet(), "410122101", "410122105"))
		adjustment := []byte("户编号,调整类型,贫困户属性,帮扶责任人,调整原因,依据\nZ-001,属性变更,五保贫困户,,经民政核定转为特困供养,县民政局文件\n")
		img := testJPEG(t, 9, time.Now(), nil)
		cases := []struct {
			name, method, path, token string
			body                      []byte
			parts                     []string
			status                    int
			field                     string
		}{
			{"two files to the import", "POST", "/api/v1/imports?create_regions=true", admin, register, []string{"file", "file"}, 422, "file"},
			{"a second file beside the import's", "POST", "/api/v1/imports?create_regions=true", admin, register, []string{"file", "other"}, 422, "file"},
			{"another file before the import's", "POST", "/api/v1/imports?create_regions=true", admin, register, []string{"attachment", "file"}, 422, "file"},
			{"two files to an adjustment batch", "POST", adjustmentPath(b.ID, "imports"), town.supervisor, adjustment, []string{"file", "file"}, 422, "file"},
			{"a form to a photo", "PUT", "/api/v1/photos/" + uuid.NewString(), cadre, img, []string{"file", "file"}, 415, "Content-Type"},
		}
		tables := []string{"households", "members", "users", "pairings", "regions", "adjustment_items", "photos"}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := map[string]int64{}
				for _, tb := range tables {
					before[tb] = e.count(t, tb)
				}
				ct, form := twoFileForm(t, tc.body, tc.parts...)
				header := map[string]string{"Content-Type": ct}
				if tc.method == "PUT" {
					header["X-Content-SHA256"] = sha256Hex(tc.body)
				}
				r := e.rawRequest(t, tc.method, tc.path, tc.token, header, form)
				if r.Status != tc.status || !r.problem(t).hasField(tc.field) {
					t.Fatalf("want %d naming %s, got %d %s", tc.status, tc.field, r.Status, r.Body)
				}
				for _, tb := range tables {
					if n := e.count(t, tb); n != before[tb] {
						t.Errorf("%s: %d rows, was %d", tb, n, before[tb])
					}
				}
				e.assertNoBlobsUnder(t, "")
			})
		}
		// One file part is an upload as the routes take it.
		ct, form := twoFileForm(t, register, "file")
		if r := e.rawRequest(t, "POST", "/api/v1/imports?create_regions=true&dry_run=true", admin, map[string]string{"Content-Type": ct}, form); r.Status != http.StatusOK {
			t.Fatalf("one file: %d %s", r.Status, r.Body)
		}
	})
}

// TestAHugeArrayIsRefusedInFewWords: a body packed with a hundred thousand
// bad array entries — causes in a household, measures in a pushed visit —
// is refused naming the first ones and saying the rest were left out, in
// an answer of a few kilobytes: one error per entry answered some 50 MB
// and held it all in memory.
func TestAHugeArrayIsRefusedInFewWords(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	admin, cadre := e.login(t, "admin"), e.login(t, "cadre-a")
	junk := make([]string, 150_000)
	for i := range junk {
		junk[i] = "x"
	}
	bounded := func(t *testing.T, body []byte, errs []domain.FieldError) {
		t.Helper()
		if len(errs) != domain.MaxFieldErrors+1 || errs[0].Field == "" || errs[len(errs)-1].Reason != domain.ReasonTooManyErrors {
			t.Errorf("%d errors (first %+v), want the first %d and one saying more were left out", len(errs), errs[:min(len(errs), 1)], domain.MaxFieldErrors)
		}
		if len(body) > 64<<10 {
			t.Errorf("the refusal is %d bytes", len(body))
		}
	}
	before := e.counts(t)
	r := e.do(t, "POST", "/api/v1/households", admin, map[string]any{"region_id": e.villageA.ID, "head_name": "王五", "status": "registered",
		"poverty_type": "ordinary", "causes": junk})
	var p struct {
		Errors []domain.FieldError `json:"errors"`
	}
	r.json(t, &p)
	if r.Status != http.StatusUnprocessableEntity || !r.problem(t).hasField("/causes/0") {
		t.Fatalf("causes: %d, want 422 naming /causes/0", r.Status)
	}
	bounded(t, r.Body, p.Errors)
	sameCounts(t, before, e.counts(t))

	ch := visitChange(uuid.New(), e.householdA.Household.ID, "走访", 34.7)
	ch["data"].(map[string]any)["measures"] = junk
	pr := e.push(t, cadre, uuid.NewString(), batch("phone-a", time.Now(), ch))
	res := pr.pushResult(t).Results[0]
	if res.Status != wire.StatusRejected || len(res.Errors) == 0 || res.Errors[0].Field != "/changes/0/data/measures/0" {
		t.Fatalf("measures: %+v", res.Status)
	}
	bounded(t, pr.Body, res.Errors)
	sameCounts(t, before, e.counts(t))
}

// TestAStatusMoveBefore2013IsOneError: a move dated in 1900 is refused
// once on /effective_on, for being before 2013, not a second time for
// also being before the household's registration.
func TestAStatusMoveBefore2013IsOneError(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		r := e.do(t, "POST", "/api/v1/households/"+e.householdA.Household.ID.String()+"/status", e.login(t, "admin"),
			map[string]any{"version": 1, "status": "removed", "reason": "识别不准", "effective_on": "1900-01-01"})
		var on []string
		for _, fe := range r.problem(t).Errors {
			if fe.Field == "/effective_on" {
				on = append(on, fe.MessageZH)
			}
		}
		if r.Status != http.StatusUnprocessableEntity || len(on) != 1 || on[0] != "生效日期不能早于2013年" {
			t.Errorf("a removal dated 1900: %d, /effective_on %q; want 422 and only 生效日期不能早于2013年", r.Status, on)
		}
	})
}
