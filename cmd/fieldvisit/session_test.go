package main

import (
	"net/http"
	"testing"
	"time"
)

type tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
}

func (e *testEnv) loginTokens(t *testing.T, user, device string) tokens {
	t.Helper()
	r := e.do(t, "POST", "/api/v1/auth/login", "", map[string]string{"username": user, "password": testPassword, "device_id": device})
	if r.Status != http.StatusOK {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	}
	var tk tokens
	r.json(t, &tk)
	return tk
}

func (e *testEnv) refresh(t *testing.T, rt string) (tokens, response) {
	t.Helper()
	r := e.do(t, "POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": rt})
	var tk tokens
	if r.Status == http.StatusOK {
		r.json(t, &tk)
	}
	return tk, r
}

// TestRefreshRotationAndReuse: a refresh token works once; presenting a
// rotated token again (a stolen copy) revokes the whole family, except
// within the grace window when the phone never received the replacement.
func TestRefreshRotationAndReuse(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		first := e.loginTokens(t, "cadre-a", "phone-1")
		if first.ExpiresIn <= 0 || first.ExpiresIn > 900 {
			t.Fatalf("access token lifetime %d s, want ≤ 900", first.ExpiresIn)
		}
		second, r := e.refresh(t, first.RefreshToken)
		if r.Status != http.StatusOK || second.RefreshToken == first.RefreshToken {
			t.Fatalf("rotation: %d %s", r.Status, r.Body)
		}
		third, r := e.refresh(t, second.RefreshToken)
		if r.Status != http.StatusOK {
			t.Fatalf("second rotation: %d %s", r.Status, r.Body)
		}

		// "first" was rotated two generations ago: reuse, not a lost response.
		if _, r := e.refresh(t, first.RefreshToken); r.Status != http.StatusUnauthorized {
			t.Fatalf("reuse of a rotated token: want 401, got %d %s", r.Status, r.Body)
		}
		if _, r := e.refresh(t, third.RefreshToken); r.Status != http.StatusUnauthorized {
			t.Fatalf("after reuse the whole family is revoked, but the newest token still works: %d", r.Status)
		}

		// Another login is another family and is unaffected.
		other := e.loginTokens(t, "cadre-a", "phone-2")
		if _, r := e.refresh(t, other.RefreshToken); r.Status != http.StatusOK {
			t.Fatalf("unrelated family was revoked: %d", r.Status)
		}
	})
}

func TestRefreshGraceForLostResponse(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		first := e.loginTokens(t, "cadre-a", "phone-1")
		lost, r := e.refresh(t, first.RefreshToken) // the phone never sees this answer
		if r.Status != http.StatusOK {
			t.Fatal(r.Status)
		}
		retry, r := e.refresh(t, first.RefreshToken)
		if r.Status != http.StatusOK {
			t.Fatalf("retry within grace window: want 200, got %d %s", r.Status, r.Body)
		}
		if _, r := e.refresh(t, lost.RefreshToken); r.Status != http.StatusUnauthorized {
			t.Fatalf("the replacement the phone never received must be dead, got %d", r.Status)
		}
		if _, r := e.refresh(t, retry.RefreshToken); r.Status != http.StatusOK {
			t.Fatalf("the retried token must keep working, got %d %s", r.Status, r.Body)
		}
	})
}

func TestRefreshGraceExpires(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	clock := time.Now()
	e.app.Now = func() time.Time { return clock }
	e.rebuildAuth(t)
	first := e.loginTokens(t, "cadre-a", "phone-1")
	if _, r := e.refresh(t, first.RefreshToken); r.Status != http.StatusOK {
		t.Fatal(r.Status)
	}
	clock = clock.Add(2 * time.Minute)
	if _, r := e.refresh(t, first.RefreshToken); r.Status != http.StatusUnauthorized {
		t.Fatalf("reuse after the grace window: want 401, got %d", r.Status)
	}
}

func TestLogoutRevokes(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		tk := e.loginTokens(t, "cadre-a", "phone-1")
		if r := e.do(t, "POST", "/api/v1/auth/logout", "", map[string]string{"refresh_token": tk.RefreshToken}); r.Status != http.StatusNoContent {
			t.Fatalf("logout: %d %s", r.Status, r.Body)
		}
		if _, r := e.refresh(t, tk.RefreshToken); r.Status != http.StatusUnauthorized {
			t.Fatalf("refresh after logout: want 401, got %d", r.Status)
		}
	})
}

// TestLoginThrottling: five wrong passwords lock the account for a while,
// even against the right password, and the answer says when to retry.
func TestLoginThrottling(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		for i := 0; i < 5; i++ {
			r := e.do(t, "POST", "/api/v1/auth/login", "", map[string]string{"username": "cadre-b", "password": "wrong-password", "device_id": "p"})
			if r.Status != http.StatusUnauthorized {
				t.Fatalf("attempt %d: want 401, got %d", i+1, r.Status)
			}
		}
		r := e.do(t, "POST", "/api/v1/auth/login", "", map[string]string{"username": "cadre-b", "password": testPassword, "device_id": "p"})
		if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
			t.Fatalf("locked account: want 429 with Retry-After, got %d %v", r.Status, r.Header)
		}
		r.problem(t)
		// Other accounts are unaffected.
		e.login(t, "cadre-a")
		// Unknown usernames answer exactly like wrong passwords.
		r = e.do(t, "POST", "/api/v1/auth/login", "", map[string]string{"username": "nobody", "password": "whatever-123", "device_id": "p"})
		if r.Status != http.StatusUnauthorized {
			t.Fatalf("unknown user: want 401, got %d", r.Status)
		}
	})
}

func TestRevokedDeviceCannotRefresh(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	tk := e.loginTokens(t, "cadre-a", "lost-phone")
	var devs struct {
		Items []struct {
			ID       string `json:"id"`
			DeviceID string `json:"device_id"`
		} `json:"items"`
	}
	e.do(t, "GET", "/api/v1/users/"+e.cadreA.ID.String()+"/devices", tk.AccessToken, nil).json(t, &devs)
	if len(devs.Items) != 1 || devs.Items[0].DeviceID != "lost-phone" {
		t.Fatalf("devices: %+v", devs)
	}
	sup := e.login(t, "supervisor-a")
	if r := e.do(t, "POST", "/api/v1/users/"+e.cadreA.ID.String()+"/devices/"+devs.Items[0].ID+"/revoke", sup, nil); r.Status != http.StatusOK {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	if _, r := e.refresh(t, tk.RefreshToken); r.Status != http.StatusUnauthorized {
		t.Fatalf("refresh from a revoked phone: want 401, got %d", r.Status)
	}
	r := e.do(t, "POST", "/api/v1/auth/login", "", map[string]string{"username": "cadre-a", "password": testPassword, "device_id": "lost-phone"})
	if r.Status != http.StatusUnauthorized {
		t.Fatalf("login from a revoked phone: want 401, got %d", r.Status)
	}
}
