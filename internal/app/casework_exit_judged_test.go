package app

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/wire"
)

// TestAnExitIsJudgedAlikeForEverySupervisor: while an unannounced
// campaign runs, its inspection visit (which found the housing unsafe) is
// hidden from a town supervisor and shown to the campaign's creator; the
// exit is judged on the visits everyone may see, as the stored compliance
// judgements are, so both read the same verdict with the same reasons.
func TestAnExitIsJudgedAlikeForEverySupervisor(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		now := e.app.Now()
		year := domain.DateOf(now).Year
		hA := e.householdA.Household.ID
		e.addUser(t, "town-sup", domain.RoleSupervisor, e.town, nil, "")
		e.addUser(t, "county-lead", domain.RoleSupervisor, e.county, nil, "")
		e.push(t, e.login(t, "cadre-a"), uuid.NewString(), batch("phone-a", now, checkedVisit(hA, now))).pushResult(t)
		if r := e.do(t, "PUT", incomeAccountPath(hA, year), e.login(t, "supervisor-a"), map[string]any{"version": 0, "wages_fen": 333_500}); r.Status != http.StatusOK {
			t.Fatalf("account: %d %s", r.Status, r.Body)
		}

		lead := e.login(t, "county-lead")
		secret := e.newCampaign(t, lead, e.campaignBody("unannounced"))
		r := e.do(t, "POST", "/api/v1/inspections/"+secret.ID.String()+"/sample", lead, map[string]any{"seed": "exit-judged"})
		if r.Status != http.StatusCreated {
			t.Fatalf("draw: %d %s", r.Status, r.Body)
		}
		var sample wire.InspectionSample
		r.json(t, &sample)
		drawn := false
		for _, h := range sample.Households {
			drawn = drawn || h.HouseholdID == hA
		}
		if !drawn {
			t.Fatal("the unannounced campaign did not draw household A")
		}
		inspection := visitOn(uuid.New(), hA, domain.KindInspection, now.Add(-time.Hour))
		checklist := map[string]any{}
		for _, it := range domain.ChecklistItems {
			checklist[it.Code] = map[string]any{"answer": "met"}
		}
		checklist["housing"] = map[string]any{"answer": "problem", "note": "暗访发现墙体开裂"}
		inspection["data"].(map[string]any)["checklist"] = checklist
		e.push(t, e.login(t, "inspector"), uuid.NewString(), batch("inspector-phone", now, inspection)).pushResult(t)

		verdicts := map[string]wire.ExitCandidate{}
		for _, who := range []string{"county-lead", "town-sup"} {
			var cs wire.ExitCandidates
			r := e.do(t, "GET", "/api/v1/exit-candidates?year="+itoa(year)+"&region_id="+e.town.ID.String(), e.login(t, who), nil)
			if r.Status != http.StatusOK {
				t.Fatalf("%s: candidates %d %s", who, r.Status, r.Body)
			}
			r.json(t, &cs)
			verdicts[who] = candidateOf(t, cs, hA)
		}
		lead1, town := verdicts["county-lead"], verdicts["town-sup"]
		if lead1.Qualifies != town.Qualifies || reasonOf(lead1.Reasons, "housing") != reasonOf(town.Reasons, "housing") {
			t.Errorf("two supervisors read two verdicts: the campaign's creator %v %+v, the town's supervisor %v %+v",
				lead1.Qualifies, reasonOf(lead1.Reasons, "housing"), town.Qualifies, reasonOf(town.Reasons, "housing"))
		}
		if !town.Qualifies {
			t.Errorf("judged on a visit hidden from the town's supervisor: %+v", town.Reasons)
		}
	})
}
