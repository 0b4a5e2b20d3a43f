package app

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/wire"
)

// findingOf reads the household's findings in the campaign as tok sees
// them (ok false: none recorded).
func (e *testEnv) findingOf(t *testing.T, tok string, campaign, household uuid.UUID) (wire.InspectionFinding, bool) {
	t.Helper()
	var list wire.InspectionFindings
	r := e.do(t, "GET", "/api/v1/inspections/"+campaign.String()+"/findings", tok, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("findings: %d %s", r.Status, r.Body)
	}
	r.json(t, &list)
	for _, f := range list.Items {
		if f.HouseholdID != nil && *f.HouseholdID == household {
			return f, true
		}
	}
	return wire.InspectionFinding{}, false
}

// recalled is a household form saying the household recalls n visits.
func recalled(n int) map[string]any {
	return householdAnswers(func(a map[string]any) { a["visits_recalled"] = map[string]any{"count": n} })
}

// TestFindingsArriveWithTheVisit: findings recorded offline reach the
// server with the inspection visit they were recorded on, in its
// transaction: recorded on that visit, the household done; the batch
// replayed, or the create sent again, changes nothing; an edit of the
// visit corrects them, and the same edit again changes nothing more; both
// leave the audit trail the findings page leaves.
func TestFindingsArriveWithTheVisit(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		e.inspectable(t)
		c := e.drawnCampaign(t, "unannounced", nil)
		insp := e.login(t, "inspector")
		hA := e.householdA.Household.ID
		visit := uuid.New()
		create := withFindings(visitOn(visit, hA, domain.KindInspection, time.Now().Add(-time.Hour)), recalled(1), nil)
		body := batch("inspector-phone", time.Now(), create)
		first := e.push(t, insp, "with-findings", body)
		if res := first.pushResult(t); res.Results[0].Status != wire.StatusApplied || res.Results[0].Version != 1 {
			t.Fatalf("the visit with its findings: %s", first.Body)
		}
		recorded, ok := e.findingOf(t, insp, c.ID, hA)
		if !ok || recorded.VisitID == nil || *recorded.VisitID != visit || recorded.Version != 1 || recorded.InspectorID != e.inspector.ID ||
			*recorded.Answers["visits_recalled"].Count != 1 {
			t.Fatalf("findings recorded: %+v (found %v)", recorded, ok)
		}
		if e.doneAt(t, c.ID, hA) == nil {
			t.Fatal("the household is not done")
		}
		if again := e.push(t, insp, "with-findings", body); again.Status != http.StatusOK || !bytes.Equal(again.Body, first.Body) {
			t.Fatalf("the batch replayed: %d %s", again.Status, again.Body)
		}

		edit := func(data map[string]any) map[string]any {
			return map[string]any{"entity": "visit", "op": "update", "id": visit, "base_version": 1, "data": data}
		}
		correction := edit(map[string]any{"findings": map[string]any{"answers": recalled(2)}})
		for _, tc := range []struct {
			name                  string
			change                map[string]any
			status                string
			visitVersion, version int64
			recalled              int
		}{
			{"the create again in a new batch", create, wire.StatusDuplicate, 1, 1, 1},
			{"the findings corrected by an edit of the visit", correction, wire.StatusApplied, 1, 2, 2},
			{"the same correction again in a new batch", correction, wire.StatusDuplicate, 1, 2, 2},
			{"the notes edited, the findings sent as they are", edit(map[string]any{"notes": "补记：户主外出务工",
				"findings": map[string]any{"campaign_id": c.ID, "answers": recalled(2)}}), wire.StatusApplied, 2, 2, 2},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := e.push(t, insp, uuid.NewString(), batch("inspector-phone", time.Now(), tc.change)).pushResult(t)
				if got := res.Results[0]; got.Status != tc.status || got.Version != tc.visitVersion {
					t.Fatalf("push: %+v, want %s at version %d", got, tc.status, tc.visitVersion)
				}
				f, _ := e.findingOf(t, insp, c.ID, hA)
				if f.ID != recorded.ID || f.Version != tc.version || *f.VisitID != visit || *f.Answers["visits_recalled"].Count != tc.recalled {
					t.Fatalf("findings: %+v, want version %d recalling %d", f, tc.version, tc.recalled)
				}
			})
		}
		recs, _, err := e.app.Store.AuditLog(context.Background(), domain.AuditFilter{HouseholdID: &hA, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, r := range recs {
			if r.ObjectType == "inspection_finding" {
				actions = append(actions, r.Action)
			}
		}
		if slices.Sort(actions); !slices.Equal(actions, []string{"correct_findings", "record_findings"}) {
			t.Fatalf("finding audit entries: %v", actions)
		}
	})
}

// TestVisitFindingsAreCheckedLikeTheFindingsRoute: the answers a phone
// sends with a visit are judged by the findings route's own checks, each
// named under the change's findings; a refused change stores neither the
// visit nor its findings, and leaves the household not done.
func TestVisitFindingsAreCheckedLikeTheFindingsRoute(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		e.inspectable(t)
		c := e.drawnCampaign(t, "unannounced", nil)
		hA := e.householdA.Household.ID
		cases := badAnswers()
		var changes []map[string]any
		for _, tc := range cases {
			changes = append(changes, withFindings(visitOn(uuid.New(), hA, domain.KindInspection, time.Now().Add(-time.Hour)), tc.answers, nil))
		}
		visits := e.visitCount(t)
		res := e.push(t, e.login(t, "inspector"), uuid.NewString(), batch("inspector-phone", time.Now(), changes...)).pushResult(t)
		for i, tc := range cases {
			field := "/changes/" + strconv.Itoa(i) + "/data/findings" + tc.field
			if got := res.Results[i]; got.Status != wire.StatusRejected || len(got.Errors) == 0 || got.Errors[0].Field != field {
				t.Errorf("%s: %+v, want rejected naming %s", tc.name, got, field)
			}
		}
		if n := e.visitCount(t); n != visits {
			t.Errorf("refused visits were stored: %d", n-visits)
		}
		if n := e.count(t, "inspection_findings"); n != 0 {
			t.Errorf("refused findings were stored: %d", n)
		}
		if e.doneAt(t, c.ID, hA) != nil {
			t.Error("a refused visit left the household done")
		}
	})
}

// TestVisitFindingsRules: findings go only with an inspector's visit to a
// household of their active tasks, for a campaign that sent them there
// (named when several did); findings recorded from another visit or on
// the findings page are not overwritten from a phone. Each refusal names
// the findings, and stores nothing of the change.
func TestVisitFindingsRules(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		e.inspectable(t)
		c := e.drawnCampaign(t, "unannounced", nil)
		insp, cadre := e.login(t, "inspector"), e.login(t, "cadre-a")
		hA, hB := e.householdA.Household.ID, e.householdB.Household.ID
		if r := e.record(t, insp, c.ID, hB, recalled(3), nil); r.Status != http.StatusCreated {
			t.Fatalf("findings page: %d %s", r.Status, r.Body)
		}
		mine := uuid.New()
		inspection := func(id, household uuid.UUID) map[string]any {
			return visitOn(id, household, domain.KindInspection, time.Now().Add(-time.Hour))
		}
		e.push(t, insp, uuid.NewString(), batch("inspector-phone", time.Now(), withFindings(inspection(mine, hA), recalled(1), nil))).pushResult(t)
		other := uuid.New()
		type refusal struct {
			name, token   string
			change        map[string]any
			field, reason string
		}
		refuse := func(t *testing.T, tc refusal) {
			t.Helper()
			visits, findings := e.visitCount(t), e.count(t, "inspection_findings")
			res := e.push(t, tc.token, uuid.NewString(), batch("phone", time.Now(), tc.change)).pushResult(t)
			if got := res.Results[0]; got.Status != wire.StatusRejected || len(got.Errors) != 1 || got.Errors[0].Field != tc.field ||
				got.Errors[0].Reason != tc.reason || got.Errors[0].MessageZH == "" {
				t.Errorf("%+v, want rejected naming %s (%s)", got, tc.field, tc.reason)
			}
			if e.visitCount(t) != visits || e.count(t, "inspection_findings") != findings {
				t.Error("a refused change stored something")
			}
		}
		unknownMember := withFindings(inspection(uuid.New(), hA), recalled(1), nil)
		unknownMember["data"].(map[string]any)["findings"].(map[string]any)["inspection_id"] = c.ID
		for _, tc := range []refusal{
			{"a cadre's visit", cadre, withFindings(visitChange(uuid.New(), hA, "带核查结果的帮扶走访", 34.7), recalled(1), nil),
				"/changes/0/data/findings", "not_allowed"},
			{"a member findings do not have", insp, unknownMember, "/changes/0/data/findings/inspection_id", "unknown_field"},
			{"a campaign that did not send the inspector there", insp, withFindings(inspection(uuid.New(), hA), recalled(1), ptr(uuid.New())),
				"/changes/0/data/findings/campaign_id", "unknown"},
			{"findings recorded on the findings page", insp, withFindings(inspection(uuid.New(), hB), recalled(1), nil),
				"/changes/0/data/findings", "recorded_elsewhere"},
			{"findings recorded with another visit", insp, withFindings(inspection(other, hA), recalled(4), &c.ID),
				"/changes/0/data/findings", "recorded_elsewhere"},
		} {
			t.Run(tc.name, func(t *testing.T) { refuse(t, tc) })
		}

		// Sent there by a second campaign too, the inspector names the
		// campaign; its findings are its own.
		c2 := e.drawnCampaign(t, "announced", nil)
		refuse(t, refusal{token: insp, change: withFindings(inspection(other, hA), recalled(4), nil),
			field: "/changes/0/data/findings/campaign_id", reason: "required"})
		res := e.push(t, insp, uuid.NewString(), batch("phone", time.Now(), withFindings(inspection(other, hA), recalled(4), &c2.ID))).pushResult(t)
		if res.Results[0].Status != wire.StatusApplied {
			t.Fatalf("findings of the second campaign: %+v", res.Results[0])
		}
		if f, _ := e.findingOf(t, insp, c2.ID, hA); *f.VisitID != other || *f.Answers["visits_recalled"].Count != 4 {
			t.Errorf("the second campaign's findings: %+v", f)
		}
		if f, _ := e.findingOf(t, insp, c.ID, hA); *f.VisitID != mine || *f.Answers["visits_recalled"].Count != 1 {
			t.Errorf("the first campaign's findings changed: %+v", f)
		}

		// Once the campaigns ended the inspector still edits their visit,
		// but no findings go with it.
		e.endCampaign(t, c.ID)
		e.endCampaign(t, c2.ID)
		edit := func(data map[string]any) map[string]any {
			return map[string]any{"entity": "visit", "op": "update", "id": mine, "base_version": 1, "data": data}
		}
		refuse(t, refusal{token: insp, change: edit(map[string]any{"notes": "补记", "findings": map[string]any{"answers": recalled(2)}}),
			field: "/changes/0/data/findings", reason: "not_allowed"})
		if res := e.push(t, insp, uuid.NewString(), batch("phone", time.Now(), edit(map[string]any{"notes": "补记"}))).pushResult(t); res.Results[0].Status != wire.StatusApplied {
			t.Fatalf("the inspector's own edit after the end: %+v", res.Results[0])
		}
	})
}

// TestAVisitDoesOnlyTheCampaignItWasFor: two running campaigns drew the
// same household for the inspector. A visit with findings for one does
// the household in that one only — the other still waits for its own
// findings, on the phone and in its report; a visit without findings says
// nothing of which campaign it was for and does neither; with one running
// campaign there, it does that one.
func TestAVisitDoesOnlyTheCampaignItWasFor(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		e.inspectable(t)
		a := e.drawnCampaign(t, "announced", nil)
		b := e.drawnCampaign(t, "announced", nil)
		insp := e.login(t, "inspector")
		hA, hB := e.householdA.Household.ID, e.householdB.Household.ID
		push := func(t *testing.T, change map[string]any) {
			t.Helper()
			if res := e.push(t, insp, uuid.NewString(), batch("inspector-phone", time.Now(), change)).pushResult(t); res.Results[0].Status != wire.StatusApplied {
				t.Fatalf("push: %+v", res.Results[0])
			}
		}
		push(t, withFindings(visitOn(uuid.New(), hA, domain.KindInspection, time.Now().Add(-time.Hour)), recalled(1), &a.ID))
		if e.doneAt(t, a.ID, hA) == nil {
			t.Error("the campaign the findings are for: not done")
		}
		if e.doneAt(t, b.ID, hA) != nil {
			t.Error("the other campaign: done by a visit whose findings were for the first")
		}
		if _, ok := e.findingOf(t, insp, b.ID, hA); ok {
			t.Error("the other campaign has findings")
		}
		// Its findings are still the inspector's to send.
		push(t, withFindings(visitOn(uuid.New(), hA, domain.KindInspection, time.Now().Add(-time.Hour)), recalled(2), &b.ID))
		if e.doneAt(t, b.ID, hA) == nil {
			t.Error("the other campaign's own findings did not do it")
		}

		push(t, visitOn(uuid.New(), hB, domain.KindInspection, time.Now().Add(-time.Hour)))
		if e.doneAt(t, a.ID, hB) != nil || e.doneAt(t, b.ID, hB) != nil {
			t.Error("a visit without findings, two campaigns running there: done in one of them")
		}
		e.endCampaign(t, b.ID)
		push(t, visitOn(uuid.New(), hB, domain.KindInspection, time.Now().Add(-time.Hour)))
		if e.doneAt(t, a.ID, hB) == nil {
			t.Error("a visit without findings, one campaign running there: not done")
		}
		if e.doneAt(t, b.ID, hB) != nil {
			t.Error("the ended campaign was done")
		}
	})
}

// TestFindingsRecordedBeforeTheEndSurviveIt: an inspector recorded a
// visit with findings offline while the campaign ran, the supervisor
// ended it, then the phone synced. The visit is taken with its findings
// for the campaign, and the household is done; a visit begun after the
// end is refused as the campaign having ended — with findings or
// without — and stores nothing.
func TestFindingsRecordedBeforeTheEndSurviveIt(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		e.inspectable(t)
		c := e.drawnCampaign(t, "announced", nil)
		insp := e.login(t, "inspector")
		hA, hB := e.householdA.Household.ID, e.householdB.Household.ID
		// Begun after the draw: the phone's clock and the server's agree.
		offline := func(id, household uuid.UUID, at time.Time) map[string]any {
			v := visitOn(id, household, domain.KindInspection, at)
			d := v["data"].(map[string]any)
			delete(d, "ended_at")
			d["gps"].([]map[string]any)[0]["device_time"] = at.In(domain.Shanghai).Format(time.RFC3339)
			return v
		}
		before := time.Now()
		recorded := uuid.New()
		withF := withFindings(offline(recorded, hA, before), recalled(2), &c.ID)
		without := offline(uuid.New(), hB, before)
		time.Sleep(1100 * time.Millisecond) // the end falls after the visits' second
		e.endCampaign(t, c.ID)

		res := e.push(t, insp, uuid.NewString(), batch("inspector-phone", time.Now(), withF, without)).pushResult(t)
		for i, r := range res.Results {
			if r.Status != wire.StatusApplied {
				t.Fatalf("change %d recorded while the campaign ran: %+v", i, r)
			}
		}
		f, ok := e.findingOf(t, insp, c.ID, hA)
		if !ok || f.VisitID == nil || *f.VisitID != recorded || *f.Answers["visits_recalled"].Count != 2 {
			t.Fatalf("the findings: %+v (found %v)", f, ok)
		}
		if e.doneAt(t, c.ID, hA) == nil || e.doneAt(t, c.ID, hB) == nil {
			t.Error("the households the visits were for are not done")
		}

		// A phone writes whole seconds: begun in the second after the end.
		time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
		after := time.Now()
		visits, findings := e.visitCount(t), e.count(t, "inspection_findings")
		res = e.push(t, insp, uuid.NewString(), batch("inspector-phone", time.Now(),
			withFindings(offline(uuid.New(), hB, after), recalled(1), &c.ID),
			withFindings(offline(uuid.New(), hB, after), recalled(1), nil),
			offline(uuid.New(), hB, after))).pushResult(t)
		for i, field := range []string{"/changes/0/data/findings", "/changes/1/data/findings", "/changes/2/data/started_at"} {
			got := res.Results[i]
			if got.Status != wire.StatusRejected || len(got.Errors) != 1 || got.Errors[0].Field != field || got.Errors[0].Reason != "ended" ||
				!strings.Contains(got.Errors[0].MessageZH, "已于") {
				t.Errorf("a visit begun after the end (%d): %+v, want rejected at %s (ended)", i, got, field)
			}
		}
		if e.visitCount(t) != visits || e.count(t, "inspection_findings") != findings {
			t.Error("a refused visit stored something")
		}
	})
}
