package app

import (
	"net/http"
	"regexp"
	"strings"
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
			"当前状态下允许的操作：开始整改、提交销号、撤销", "当前状态（待整改）下不能执行该操作"},
		{"a 民生诉求 not yet submitted", "/api/v1/ledgers/livelihood_request/items/" + req.ID.String() + "/actions", "reject",
			"当前状态下允许的操作：开始办理、提交销号、撤销", "当前状态（待办理）下不能执行该操作"},
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

// TestEvidenceMessagesSayWhatIsAccepted: every refusal of an action's
// evidence for want of it, or for its kind, tells the cadre what is
// accepted — a visit or a photo — and none offers documents (文件), which
// are refused; nothing is written.
func TestEvidenceMessagesSayWhatIsAccepted(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	sup, cadre := e.login(t, "supervisor-a"), e.login(t, "cadre-a")
	rect := e.rectify(t, sup, e.rectificationBody())
	var req struct{ ID uuid.UUID }
	if r := e.do(t, "POST", "/api/v1/ledgers/livelihood_request/items", sup, e.rectificationBody()); r.Status != http.StatusCreated {
		t.Fatalf("a 民生诉求: %d %s", r.Status, r.Body)
	} else {
		r.json(t, &req)
	}
	// A submitted item with no evidence held cannot be had through the
	// API, so the approval's refusal is read on an open item moved by
	// hand to submitted.
	held := e.rectify(t, sup, e.rectificationBody())
	if err := e.app.DB.Gorm.Exec(`UPDATE ledger_items SET status = 'submitted' WHERE id = ?`, held.ID).Error; err != nil {
		t.Fatal(err)
	}
	rectPath := "/api/v1/rectifications/" + rect.ID.String() + "/actions"
	reqPath := "/api/v1/ledgers/livelihood_request/items/" + req.ID.String() + "/actions"
	doc := map[string]any{"document_ids": []string{uuid.NewString()}}
	for _, tc := range []struct {
		name, tok, path string
		body            map[string]any
		field           string
	}{
		{"a rectification submitted without evidence", cadre, rectPath, map[string]any{"action": "submit", "version": 1}, "/evidence"},
		{"a 民生诉求 submitted without evidence", cadre, reqPath, map[string]any{"action": "submit", "version": 1}, "/evidence"},
		{"a rectification submitted on a document", cadre, rectPath, map[string]any{"action": "submit", "version": 1, "evidence": doc}, "/evidence/document_ids"},
		{"a 民生诉求 submitted on a document", cadre, reqPath, map[string]any{"action": "submit", "version": 1, "evidence": doc}, "/evidence/document_ids"},
		{"closed without evidence", sup, "/api/v1/rectifications/" + held.ID.String() + "/actions", map[string]any{"action": "approve", "version": 1}, "/evidence"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.counts(t)
			r := e.do(t, "POST", tc.path, tc.tok, tc.body)
			p := r.problem(t)
			if r.Status != http.StatusUnprocessableEntity || len(p.Errors) != 1 || p.Errors[0].Field != tc.field {
				t.Fatalf("want 422 at %s, got %d %s", tc.field, r.Status, r.Body)
			}
			msg := p.Errors[0].MessageZH
			if !strings.Contains(msg, "走访记录或照片") {
				t.Errorf("the message does not say a visit or a photo is accepted: %q", msg)
			}
			if strings.Contains(msg, "或文件") {
				t.Errorf("the message offers documents: %q", msg)
			}
			sameCounts(t, before, e.counts(t))
		})
	}
}
