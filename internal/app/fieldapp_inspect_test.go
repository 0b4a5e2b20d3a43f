package app

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/fieldvisit/fieldvisit/internal/testkit/browsertest"
)

// formItem is an item of the household inspection form as the API serves it.
type formItem struct {
	Code     string `json:"code"`
	Kind     string `json:"kind"`
	Required bool   `json:"required"`
	Choices  []struct {
		Code string `json:"code"`
	} `json:"choices"`
}

// householdForm reads the household form (入户核查表) the app fills in.
func (l *fieldLink) householdForm(t *testing.T, token string) []formItem {
	t.Helper()
	var out struct {
		Forms []struct {
			Code  string     `json:"code"`
			Items []formItem `json:"items"`
		} `json:"forms"`
	}
	if code := l.api(t, token, "GET", "/api/v1/inspection-forms", "", &out); code != http.StatusOK {
		t.Fatalf("inspection forms: %d", code)
	}
	for _, f := range out.Forms {
		if f.Code == "household" {
			return f.Items
		}
	}
	t.Fatal("no household form")
	return nil
}

// phoneRecord reads one record's data as the app holds it in IndexedDB.
func phoneRecord[T any](b *browsertest.Browser, key string) T {
	return browsertest.Get(b, chromedp.Evaluate[T](fmt.Sprintf(`(async () => {
		const db = await new Promise((ok, no) => { const r = indexedDB.open("fieldvisit-app"); r.onsuccess = () => ok(r.result); r.onerror = () => no(r.error); });
		const rec = await new Promise((ok) => { const r = db.transaction("records").objectStore("records").get(%q); r.onsuccess = () => ok(r.result); });
		db.close();
		return rec ? {...rec.data, ...(rec.local || {})} : null;
	})()`, key), chromedp.EvalAwaitPromise))
}

// anInspectorRecordsFindingsOfflineOnce: the demo's inspector signs in to
// the same app and finds the tasks of the running unannounced campaign on
// the home screen. Out of signal, they open a task's household — the
// cadres' visits there shown to re-check, nothing of the register to edit
// — and fill in the household form; the app names the required items
// left blank and saves nothing until they are answered. With GPS and a
// photo the inspection visit waits in the outbox; back online it goes up
// once, the task turns 已核查, and the findings are the campaign's, with
// the visit as theirs, through the inspections API.
func anInspectorRecordsFindingsOfflineOnce(t *testing.T, l *fieldLink) {
	b := l.signedInPhone("inspector", t)
	token := l.apiLogin(t, "inspector")
	fresh := l.freshSnapshot(t, token)
	tasks := 0
	for _, r := range fresh {
		if r.Entity == "task" {
			tasks++
		}
	}
	if shown := browsertest.Get(b, chromedp.Evaluate[int](`document.querySelectorAll(".tasks li").length`)); tasks == 0 || shown != tasks {
		t.Fatalf("the home screen lists %d tasks, the inspector has %d (want some)", shown, tasks)
	}
	fits(t, b, "inspector-tasks")
	taskID := browsertest.Get(b, chromedp.Evaluate[string](`document.querySelector(".tasks li[data-state=todo]").dataset.id`))
	task := phoneRecord[struct {
		CampaignID  string `json:"campaign_id"`
		HouseholdID string `json:"household_id"`
	}](b, "task:"+taskID)

	b.Offline(true)
	before := l.apiHits.Load()
	b.Do(tap(`.tasks li[data-id="`+taskID+`"] a`),
		step("task household", chromedp.WaitVisible(chromedp.CSS(`#new-inspection`))))
	fits(t, b, "inspector-household")
	if n := browsertest.Get(b, chromedp.Evaluate[int](`document.querySelectorAll("#edit-household, #new-visit").length`)); n != 0 {
		t.Errorf("the inspector is offered %d ways to edit the register or record a help visit, want none", n)
	}
	b.Do(tap(`#new-inspection`),
		step("inspection form", chromedp.WaitVisible(chromedp.CSS(`#inspection-form`))),
		step("GPS fix", until(`document.querySelector("#gps-status").classList.contains("ok")`, 10*time.Second)),
		tap(`#save-inspection`),
		step("blank items named", chromedp.WaitVisible(chromedp.CSS(`#inspection-form .error`))))
	items := l.householdForm(t, token)
	required := 0
	for _, it := range items {
		if it.Required {
			required++
		}
	}
	if n := browsertest.Get(b, chromedp.Evaluate[int](`document.querySelectorAll(".check-item.missing").length`)); n != required {
		t.Errorf("a blank form marks %d items, the form has %d required", n, required)
	}
	b.Do(until(`document.body.dataset.records === "0"`, time.Second))

	marker := fmt.Sprintf("暗访入户%d", time.Now().UnixNano())
	for _, it := range items {
		at := `.check-item[data-item="` + it.Code + `"] `
		switch it.Kind {
		case "choice", "choices":
			answer := it.Choices[0].Code
			if it.Code == "water" {
				answer = "problem"
			}
			b.Do(tap(at + `input[value="` + answer + `"] + span`))
		case "yes_no":
			b.Do(tap(at + `input[value=yes] + span`))
		case "count":
			b.Do(step(it.Code, chromedp.SendKeys(chromedp.CSS(at+`input`), "2")))
		case "text":
			b.Do(step(it.Code, chromedp.SendKeys(chromedp.CSS(at+`textarea`), "农户反映自来水冬季常停")))
		}
	}
	b.Do(step("notes", chromedp.SendKeys(chromedp.CSS(`textarea[name=visit_notes]`), marker)))
	b.ChooseFiles(`#photo-input`, cameraPhotos(t, 1))
	b.Do(step("photo scaled", until(`document.querySelectorAll("#thumbs .thumb[data-ready]").length === 1`, 30*time.Second)))
	fits(t, b, "inspection-form")
	b.Do(tap(`#save-inspection`),
		step("saved", chromedp.WaitVisible(chromedp.CSS(`#inspection-state`))),
		until(`document.body.dataset.records === "1" && document.body.dataset.photos === "1"`, 10*time.Second))
	if n := l.apiHits.Load() - before; n != 0 {
		t.Errorf("%d API requests reached the server while the inspector was offline", n)
	}

	backOnline(b)
	b.Do(synced(b))
	browsertest.Get(b, chromedp.Evaluate[string](`location.hash = "#/"`))
	b.Do(step("task done", chromedp.WaitVisible(chromedp.CSS(`.tasks li[data-id="`+taskID+`"][data-state=done]`))))
	fits(t, b, "inspector-task-done")

	var visits struct {
		Items []struct {
			ID     string `json:"id"`
			Kind   string `json:"kind"`
			Notes  string `json:"notes"`
			GPS    []any  `json:"gps"`
			Photos []struct {
				PhotoID string `json:"photo_id"`
			} `json:"photos"`
		} `json:"items"`
	}
	l.api(t, token, "GET", "/api/v1/visits?kind=inspection&household_id="+task.HouseholdID, "", &visits)
	var visitID string
	for _, v := range visits.Items {
		if !strings.Contains(v.Notes, marker) {
			continue
		}
		if visitID != "" {
			t.Errorf("the inspection visit is stored twice: %s and %s", visitID, v.ID)
		}
		visitID = v.ID
		if len(v.GPS) != 1 || len(v.Photos) != 1 {
			t.Errorf("the inspection visit has %d GPS stamps and %d photos, want 1 and 1", len(v.GPS), len(v.Photos))
		}
		for _, p := range v.Photos {
			if code := l.api(t, token, "GET", "/api/v1/photos/"+p.PhotoID, "", nil); code != http.StatusOK {
				t.Errorf("photo %s: %d, want it stored", p.PhotoID, code)
			}
		}
	}
	if visitID == "" {
		t.Fatal("the server holds no inspection visit of the inspector's")
	}

	type finding struct {
		HouseholdID string `json:"household_id"`
		VisitID     string `json:"visit_id"`
		Answers     map[string]struct {
			Choice string `json:"choice"`
			Count  *int   `json:"count"`
		} `json:"answers"`
	}
	var findings struct {
		Items []finding `json:"items"`
	}
	if code := l.api(t, token, "GET", "/api/v1/inspections/"+task.CampaignID+"/findings", "", &findings); code != http.StatusOK {
		t.Fatalf("findings: %d", code)
	}
	mine := slices.DeleteFunc(findings.Items, func(f finding) bool { return f.HouseholdID != task.HouseholdID })
	if len(mine) != 1 {
		t.Fatalf("the campaign holds %d findings for the household, want 1", len(mine))
	}
	if f := mine[0]; f.VisitID != visitID || f.Answers["water"].Choice != "problem" || f.Answers["visits_recalled"].Count == nil || *f.Answers["visits_recalled"].Count != 2 {
		t.Errorf("the findings are of visit %s with water %q and %v visits recalled; want visit %s, problem, 2", f.VisitID, f.Answers["water"].Choice, f.Answers["visits_recalled"].Count, visitID)
	}
	if got, want := phoneReplica(t, b), l.freshSnapshot(t, token); !slices.Equal(got, want) {
		t.Errorf("the inspector's replica (%d records) differs from a fresh snapshot (%d records)", len(got), len(want))
	}
	noProblems(t, b)
}
