package app

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/casework"
	"github.com/fieldvisit/fieldvisit/internal/registry"
)

// consoleIdentification: a household not on the register is identified
// (识别) from its page — the start form offers what its status allows,
// and an identification needs the poverty type it would register.
func consoleIdentification(t *testing.T, e *consoleEnv) {
	ctx := context.Background()
	supervisor := e.principal(t, "supervisor")
	general, _, err := e.app.Registry.Households(ctx, supervisor, registry.HouseholdQuery{Status: domain.StatusGeneral}, registry.Page{Limit: 1})
	if err != nil || len(general) == 0 {
		t.Fatalf("no general household in the demo county: %v", err)
	}
	h := general[0]
	sup := e.client(t)
	csrf := sup.mustLogin("supervisor")
	page := "/ui/households/" + h.ID.String()
	if body := sup.get(page).body; !strings.Contains(body, `<option value="identification"`) || strings.Contains(body, `<option value="exit"`) {
		t.Fatalf("a general household's start form does not offer identification alone")
	}
	year := itoa(domain.DateOf(e.app.Now()).Year)
	if r := sup.do("POST", page+"/procedures", url.Values{"csrf_token": {csrf}, "kind": {"identification"}, "year": {year}}, nil); r.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(pageText(t, r), "贫困户属性不能为空") {
		t.Errorf("an identification without its poverty type: %d %.300s", r.StatusCode, pageText(t, r))
	}
	if r := sup.do("POST", page+"/procedures", url.Values{"csrf_token": {csrf}, "kind": {"identification"}, "year": {year}, "poverty_type": {"dibao"},
		"reason": {"家庭成员患大病，收入骤减"}}, nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("starting the identification: %d %.300s", r.StatusCode, pageText(t, r))
	}
	prs, err := e.app.Casework.HouseholdProcedures(ctx, supervisor, h.ID)
	if err != nil || len(prs) != 1 || prs[0].Kind != casework.KindIdentification || prs[0].PovertyType != "dibao" {
		t.Errorf("the household's procedures after the form: %+v %v", prs, err)
	}
}

// consoleExitRefused: a registered household that does not meet the
// year's standard cannot start an exit from its page — the form comes
// back 422 with each unmet indicator and why, by the year, and no
// procedure is written.
func consoleExitRefused(t *testing.T, e *consoleEnv) {
	ctx := context.Background()
	supervisor := e.principal(t, "supervisor")
	year := domain.DateOf(e.app.Now()).Year
	cs, _, _, err := e.app.Casework.ExitCandidates(ctx, supervisor, casework.CandidateQuery{RegionID: supervisor.RegionID, Year: year, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var h *casework.Candidate
	var failing []casework.Reason
	for i, c := range cs {
		prs, err := e.app.Casework.HouseholdProcedures(ctx, supervisor, c.Household.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !c.Qualifies && len(prs) == 0 {
			h = &cs[i]
			break
		}
	}
	if h == nil {
		t.Fatal("no registered household in the demo county that does not qualify for an exit")
	}
	for _, r := range h.Reasons {
		if !r.Met {
			failing = append(failing, r)
		}
	}
	sup := e.client(t)
	csrf := sup.mustLogin("supervisor")
	page := "/ui/households/" + h.Household.ID.String()
	if body := sup.get(page).body; !strings.Contains(body, `<option value="exit"`) {
		t.Fatalf("a registered household's start form does not offer an exit")
	}
	r := sup.do("POST", page+"/procedures", url.Values{"csrf_token": {csrf}, "kind": {"exit"}, "year": {itoa(year)}}, nil)
	text := pageText(t, r)
	if r.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("an exit for a household that does not qualify: %d", r.StatusCode)
	}
	for _, f := range failing {
		if !strings.Contains(text, "未达标："+f.NameZH+"（"+f.ReasonZH+"）") {
			t.Errorf("the refused form does not say %s is unmet and why (%s)", f.NameZH, f.ReasonZH)
		}
	}
	if prs, err := e.app.Casework.HouseholdProcedures(ctx, supervisor, h.Household.ID); err != nil || len(prs) != 0 {
		t.Errorf("a refused exit wrote a procedure: %+v %v", prs, err)
	}
}
