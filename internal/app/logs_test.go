package app

import (
	"bytes"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer collects log lines written from request goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestLogsHoldNoSecrets: passwords, tokens and 身份证号 never reach the log,
// while every request line carries its request id.
func TestLogsHoldNoSecrets(t *testing.T) {
	var logs lockedBuffer
	e := newTestEnvLogging(t, "sqlite", &logs)
	tk := e.loginTokens(t, "supervisor-a", "phone-1")
	e.do(t, "POST", "/api/v1/auth/login", "", map[string]string{"username": "supervisor-a", "password": "wrong-password-123", "device_id": "p"})
	idn := validID("41012219900101004")
	r := e.do(t, "POST", "/api/v1/households", tk.AccessToken, map[string]any{"region_id": e.villageA.ID, "head_name": "赵六", "status": "edge",
		"members": []map[string]any{{"name": "赵六", "relation": "head", "id_number": idn}}})
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	e.do(t, "GET", "/api/v1/households?q="+idn, tk.AccessToken, nil)
	e.refresh(t, tk.RefreshToken)
	out := logs.String()
	for what, secret := range map[string]string{"password": testPassword, "wrong password": "wrong-password-123", "access token": tk.AccessToken,
		"refresh token": tk.RefreshToken, "ID number": idn, "seeded ID number": e.householdA.Members[0].IDNumber} {
		if strings.Contains(out, secret) {
			t.Errorf("the log contains the %s", what)
		}
	}
	lines := strings.Count(out, `"msg":"http request"`)
	if lines < 5 || strings.Count(out, `"request_id"`) < lines {
		t.Errorf("want a request line with a request id per request, got %d lines:\n%s", lines, out)
	}
}
