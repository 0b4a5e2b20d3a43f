package app

import (
	"net/http"
	"regexp"
	"testing"

	"github.com/google/uuid"
)

// latin finds a Latin letter: an action's code leaking into a Chinese
// message.
var latin = regexp.MustCompile(`[A-Za-z]`)

// TestARefusedMoveNamesTheAllowedActionsInWords: an action the item's
// state does not allow is 409 at /action, and its Chinese message lists the
// actions allowed by the labels the console shows for them in that ledger
// (整改 for the rectification ledger, 办理 for the cadres' ledgers), never
// by their codes.
func TestARefusedMoveNamesTheAllowedActionsInWords(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	sup := e.login(t, "supervisor-a")
	rect := e.rectify(t, sup, e.rectificationBody())
	request := e.rectificationBody()
	var req struct{ ID uuid.UUID }
	if r := e.do(t, "POST", "/api/v1/ledgers/livelihood_request/items", sup, request); r.Status != http.StatusCreated {
		t.Fatalf("a 民生诉求: %d %s", r.Status, r.Body)
	} else {
		r.json(t, &req)
	}
	for _, tc := range []struct {
		name, path, action string
		wantField, wantTop string
	}{
		{"a rectification item not yet submitted", "/api/v1/rectifications/" + rect.ID.String() + "/actions", "reopen",
			"当前状态下允许的操作: 开始整改、提交销号", "当前状态(待整改)下不能执行该操作"},
		{"a 民生诉求 not yet submitted", "/api/v1/ledgers/livelihood_request/items/" + req.ID.String() + "/actions", "reject",
			"当前状态下允许的操作: 开始办理、提交销号", "当前状态(待办理)下不能执行该操作"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.counts(t)
			r := e.do(t, "POST", tc.path, sup, map[string]any{"action": tc.action, "version": 1, "note": "回头看"})
			if r.Status != http.StatusConflict {
				t.Fatalf("want 409, got %d %s", r.Status, r.Body)
			}
			var p struct {
				DetailZH string `json:"detail_zh"`
				Errors   []struct {
					Field, Reason string
					MessageZH     string `json:"message_zh"`
				} `json:"errors"`
			}
			r.json(t, &p)
			if len(p.Errors) != 1 || p.Errors[0].Field != "/action" || p.Errors[0].MessageZH != tc.wantField || p.DetailZH != tc.wantTop {
				t.Fatalf("want /action %q and %q, got %s", tc.wantField, tc.wantTop, r.Body)
			}
			if latin.MatchString(p.Errors[0].MessageZH) || latin.MatchString(p.DetailZH) {
				t.Fatalf("codes in a Chinese message: %s", r.Body)
			}
			sameCounts(t, before, e.counts(t))
		})
	}
}
