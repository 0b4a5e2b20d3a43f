package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/internal/testkit/browsertest"
)

// otherPhoneEdits pushes one household edit from another phone of the
// cadre whose token it is, and fails the test unless it is stored.
func (l *fieldLink) otherPhoneEdits(t *testing.T, token, household, field, value string) {
	t.Helper()
	var hh map[string]any
	if code := l.api(t, token, "GET", "/api/v1/households/"+household, "", &hh); code != http.StatusOK {
		t.Fatalf("household %s: %d", household, code)
	}
	body, _ := json.Marshal(map[string]any{"device_id": "test-other-phone", "device_time": time.Now().Format(time.RFC3339), "changes": []any{map[string]any{
		"entity": "household", "op": "update", "id": household, "household_id": household, "base_version": hh["version"],
		"data": map[string]any{field: value}, "base": map[string]any{field: hh[field]}}}})
	req, _ := http.NewRequest("POST", l.e.url+"/api/v1/sync/push", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Idempotency-Key", uuid.NewString())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	answer, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !strings.Contains(string(answer), `"status":"applied"`) {
		t.Fatalf("the other phone's push: %d %s", res.StatusCode, answer)
	}
}

// aPushIsFollowedByAPullThatBringsTheOtherPhonesEdit: after a push the
// app pulls again on its own a while later (ten seconds; shortened here
// through the app's test hook), so what the server did meanwhile — here
// another phone of the cadre changing the household's address — reaches
// the phone with no tap and without waiting for the minute's sync, even
// when another sync ran in between. A pull that pushed nothing is not
// followed by another.
func aPushIsFollowedByAPullThatBringsTheOtherPhonesEdit(t *testing.T, l *fieldLink) {
	const repull = 3 * time.Second
	b := l.signedInPhone("cadre04", t)
	browsertest.Get(b, chromedp.Evaluate[bool](fmt.Sprintf(`localStorage.setItem("fieldvisit-repull-ms", "%d"), true`, repull.Milliseconds())))
	household := firstHousehold(b)

	b.Offline(true)
	editPhone(b, household, "13900000004")
	syncs, _ := strconv.Atoi(browsertest.Get(b, chromedp.Evaluate[string](`document.body.dataset.syncs`)))
	backOnline(b)
	b.Do(step("the push", until(fmt.Sprintf(`document.body.dataset.syncs === "%d" && document.body.dataset.records === "0"`, syncs+1), 30*time.Second)))
	pushed := time.Now()
	// A sync asked for meanwhile (the signal flickers) runs at once and
	// finds nothing new; it must not take the later pull's place.
	browsertest.Get(b, chromedp.Evaluate[bool](`dispatchEvent(new Event("online"))`))
	b.Do(step("the sync asked for meanwhile", until(fmt.Sprintf(`document.body.dataset.syncs === "%d" && document.body.dataset.sync === "idle"`, syncs+2), 30*time.Second)))

	const address = "另一部手机改的住址"
	l.otherPhoneEdits(t, l.apiLogin(t, "cadre04"), household, "address", address)
	b.Do(step("the pull after the push", until(fmt.Sprintf(`document.body.dataset.syncs === "%d"`, syncs+3), repull+10*time.Second)))
	if took := time.Since(pushed); took > repull+5*time.Second {
		t.Errorf("the pull came %v after the push, want about %v", took, repull)
	}
	if got := phoneRecord[struct {
		Address string `json:"address"`
		Phone   string `json:"phone"`
	}](b, "household:"+household); got.Address != address || got.Phone != "13900000004" {
		t.Errorf("after the pull the phone holds address %q and phone %q, want the other phone's %q and its own 13900000004", got.Address, got.Phone, address)
	}

	b.Do(chromedp.Sleep(repull + time.Second))
	if n := browsertest.Get(b, chromedp.Evaluate[string](`document.body.dataset.syncs`)); n != strconv.Itoa(syncs+3) {
		t.Errorf("the phone is at sync %s, want it still at %d: a pull that pushed nothing was followed by another", n, syncs+3)
	}
}
