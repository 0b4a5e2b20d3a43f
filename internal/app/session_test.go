package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"

	"github.com/fieldvisit/fieldvisit/domain"
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

// TestRefreshRetriesWithinTheGraceGetTheSameSuccessor: a spent refresh
// token presented again within the grace window — by a phone that lost the
// answer, or by the requests of one console page that reached several
// replicas — gets the same successor every time, each time with a working
// access token. Once that successor has been used, the spent token is
// reuse: every token of the login is revoked, and so are its access
// tokens.
func TestRefreshRetriesWithinTheGraceGetTheSameSuccessor(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		first := e.loginTokens(t, "cadre-a", "phone-1")
		lost, r := e.refresh(t, first.RefreshToken) // the phone never sees this answer
		if r.Status != http.StatusOK {
			t.Fatal(r.Status)
		}
		for i := range 3 {
			retry, r := e.refresh(t, first.RefreshToken)
			if r.Status != http.StatusOK || retry.RefreshToken != lost.RefreshToken {
				t.Fatalf("retry %d within the grace window: %d, same successor %v; want 200 and the same successor", i+1, r.Status, retry.RefreshToken == lost.RefreshToken)
			}
			if r := e.do(t, "GET", "/api/v1/me", retry.AccessToken, nil); r.Status != http.StatusOK {
				t.Fatalf("the access token of retry %d: %d", i+1, r.Status)
			}
		}
		next, r := e.refresh(t, lost.RefreshToken)
		if r.Status != http.StatusOK {
			t.Fatalf("the successor, used: %d %s", r.Status, r.Body)
		}
		if _, r := e.refresh(t, first.RefreshToken); r.Status != http.StatusUnauthorized {
			t.Fatalf("the spent token after its successor was used: want 401, got %d %s", r.Status, r.Body)
		}
		if _, r := e.refresh(t, next.RefreshToken); r.Status != http.StatusUnauthorized {
			t.Fatalf("after reuse the whole login is revoked, but its newest refresh token works: %d", r.Status)
		}
		if r := e.do(t, "GET", "/api/v1/me", next.AccessToken, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("after reuse the login's access token still works: %d", r.Status)
		}
	})
}

// TestTwoReplicasRotateATokenAlike: behind a load balancer that sticks
// nothing, the requests of one console page whose access token just
// expired reach two replicas, each rotating the page's refresh token. Both
// answer with the same successor, which goes on working: the login is not
// taken for a stolen one.
func TestTwoReplicasRotateATokenAlike(t *testing.T) {
	a := newTestEnv(t, "postgres")
	cfg := a.app.Config
	if cfg.KeyDir == "" {
		cfg.KeyDir = filepath.Join(cfg.DataDir, "keys")
	}
	cfg.DataDir = t.TempDir()
	second, err := NewApp(context.Background(), cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { second.Close() })
	b := &testEnv{app: second, validator: a.validator}

	page := a.loginTokens(t, "cadre-a", "web-console")
	onA, r := a.refresh(t, page.RefreshToken)
	if r.Status != http.StatusOK {
		t.Fatal(r.Status)
	}
	onB, r := b.refresh(t, page.RefreshToken)
	if r.Status != http.StatusOK || onB.RefreshToken != onA.RefreshToken {
		t.Fatalf("the same token rotated on the second replica: %d, same successor %v; want 200 and the first replica's successor", r.Status, onB.RefreshToken == onA.RefreshToken)
	}
	if _, r := b.refresh(t, onA.RefreshToken); r.Status != http.StatusOK {
		t.Fatalf("the successor both replicas gave, used next: %d %s", r.Status, r.Body)
	}
}

// TestAccessTokensEndWithTheirLogin: logging out, or a detected refresh
// reuse, ends that login's access tokens at once, not when they expire;
// the same account's other logins go on.
func TestAccessTokensEndWithTheirLogin(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		other := e.loginTokens(t, "cadre-a", "phone-2")

		out := e.loginTokens(t, "cadre-a", "phone-1")
		if r := e.do(t, "GET", "/api/v1/me", out.AccessToken, nil); r.Status != http.StatusOK {
			t.Fatalf("before logout: %d", r.Status)
		}
		if r := e.do(t, "POST", "/api/v1/auth/logout", "", map[string]string{"refresh_token": out.RefreshToken}); r.Status != http.StatusNoContent {
			t.Fatalf("logout: %d %s", r.Status, r.Body)
		}
		for _, path := range []string{"/api/v1/me", "/api/v1/sync/pull"} {
			if r := e.do(t, "GET", path, out.AccessToken, nil); r.Status != http.StatusUnauthorized {
				t.Fatalf("GET %s with the access token of a login that signed out: want 401, got %d", path, r.Status)
			}
		}

		stolen := e.loginTokens(t, "cadre-a", "phone-3")
		second, _ := e.refresh(t, stolen.RefreshToken)
		third, _ := e.refresh(t, second.RefreshToken)
		if _, r := e.refresh(t, stolen.RefreshToken); r.Status != http.StatusUnauthorized {
			t.Fatalf("reuse: want 401, got %d", r.Status)
		}
		if r := e.do(t, "GET", "/api/v1/me", third.AccessToken, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("access token of a login revoked for reuse: want 401, got %d", r.Status)
		}

		if r := e.do(t, "GET", "/api/v1/me", other.AccessToken, nil); r.Status != http.StatusOK {
			t.Fatalf("another login of the same account was ended: %d", r.Status)
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

// TestLoginNamesWhatIsWrong: a login missing a field is told which and
// that it is missing (a missing device_id was "invalid_format"), and
// starts no session.
func TestLoginNamesWhatIsWrong(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		for _, tc := range []struct {
			name          string
			body          map[string]string
			field, reason string
		}{
			{"no username", map[string]string{"password": testPassword, "device_id": "p"}, "/username", "required"},
			{"no password", map[string]string{"username": "cadre-a", "device_id": "p"}, "/password", "required"},
			{"no device_id", map[string]string{"username": "cadre-a", "password": testPassword}, "/device_id", "required"},
			{"empty device_id", map[string]string{"username": "cadre-a", "password": testPassword, "device_id": ""}, "/device_id", "required"},
			{"device_id with a space", map[string]string{"username": "cadre-a", "password": testPassword, "device_id": "my phone"}, "/device_id", "invalid_format"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.do(t, "POST", "/api/v1/auth/login", "", tc.body)
				p := r.problem(t)
				if r.Status != http.StatusUnprocessableEntity || len(p.Errors) != 1 || p.Errors[0].Field != tc.field || p.Errors[0].Reason != tc.reason {
					t.Errorf("%d %s, want 422 %s %s", r.Status, r.Body, tc.field, tc.reason)
				}
			})
		}
		if n := e.count(t, "refresh_tokens"); n != 0 {
			t.Errorf("%d refresh tokens after only refused logins", n)
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

// TestGuessingCannotLockACadreOutOfTheirPhone: failed logins lock the
// address they come from out of the account at once, and lock the account
// to devices it never signed in on only past twenty from anywhere, so a
// stranger who knows a cadre's username cannot lock the cadre's own phone
// out (five failures from anywhere used to lock the account everywhere).
func TestGuessingCannotLockACadreOutOfTheirPhone(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		ctx := context.Background()
		login := func(password, device, ip string) int {
			_, err := e.app.Auth.Login(ctx, "cadre-b", password, device, ip, "")
			switch {
			case err == nil:
				return http.StatusOK
			case domain.IsCode(err, domain.CodeRateLimited):
				return http.StatusTooManyRequests
			case domain.IsCode(err, domain.CodeUnauthorized):
				return http.StatusUnauthorized
			}
			t.Fatalf("login: %v", err)
			return 0
		}
		if got := login(testPassword, "cadre-b-phone", "10.0.0.1"); got != http.StatusOK {
			t.Fatalf("the cadre's first login: %d", got)
		}
		for _, step := range []struct {
			name                 string
			password, device, ip string
			times, want          int
		}{
			{"a stranger guesses five times from one address", "guess-123456", "x", "203.0.113.1", 5, http.StatusUnauthorized},
			{"that address is locked out of the account", testPassword, "x", "203.0.113.1", 1, http.StatusTooManyRequests},
			{"the cadre's phone still signs in", testPassword, "cadre-b-phone", "10.0.0.2", 1, http.StatusOK},
			{"a new phone of the cadre too", testPassword, "cadre-b-new-phone", "10.0.0.3", 1, http.StatusOK},
			{"the stranger guesses twenty times from four addresses", "guess-123456", "x", "", 20, http.StatusUnauthorized},
			{"a device the account never used is locked out", testPassword, "another-new-phone", "10.0.0.4", 1, http.StatusTooManyRequests},
			{"the cadre's phone still signs in after them", testPassword, "cadre-b-phone", "10.0.0.5", 1, http.StatusOK},
		} {
			for i := range step.times {
				ip := step.ip
				if ip == "" {
					ip = fmt.Sprintf("198.51.100.%d", 1+i/5)
				}
				if got := login(step.password, step.device, ip); got != step.want {
					t.Fatalf("%s (attempt %d): %d, want %d", step.name, i+1, got, step.want)
				}
			}
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

// TestForwardedAddressesAreTrustedOnlyFromProxies: a client's own
// X-Forwarded-For or X-Real-IP is not its address. Forging a new address
// for every guess neither escapes the per-address lock nor reaches the
// audit log; behind a configured proxy, the proxy's header is believed.
func TestForwardedAddressesAreTrustedOnlyFromProxies(t *testing.T) {
	const peer = "192.0.2.1" // httptest's client address
	guess := func(e *testEnv, username, forged string) response {
		body, _ := json.Marshal(map[string]string{"username": username, "password": "wrong-password", "device_id": "p"})
		return e.rawRequest(t, "POST", "/api/v1/auth/login", "", map[string]string{"Content-Type": "application/json",
			"X-Forwarded-For": forged, "X-Real-IP": forged}, body)
	}
	failedFrom := func(e *testEnv) map[string]int {
		entries, _, err := e.app.Store.AuditLog(context.Background(), domain.AuditFilter{ObjectType: "session", Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for _, a := range entries {
			if a.Action == "login_failed" {
				out[fmt.Sprint(a.Detail["ip"])]++
			}
		}
		return out
	}
	t.Run("no proxy configured", func(t *testing.T) {
		e := newTestEnv(t, "sqlite")
		locked := 0
		for i := 1; i <= 55; i++ {
			r := guess(e, fmt.Sprintf("sprayed-%02d", i), fmt.Sprintf("203.0.113.%d", i))
			switch {
			case r.Status == http.StatusTooManyRequests:
				locked = i
			case r.Status != http.StatusUnauthorized:
				t.Fatalf("guess %d: %d %s", i, r.Status, r.Body)
			}
			if locked > 0 {
				break
			}
		}
		if locked == 0 || locked > 51 {
			t.Fatalf("55 guesses from one address with forged headers: locked at guess %d, want by 51 (50 failures per address)", locked)
		}
		if got := failedFrom(e); len(got) != 1 || got[peer] != 50 {
			t.Fatalf("audit log addresses of failed logins: %v, want only the peer %s", got, peer)
		}
		// The account's own lock does not depend on the address either.
		for i := 1; i <= 5; i++ {
			guess(e, "cadre-b", fmt.Sprintf("198.51.100.%d", i))
		}
		r := e.do(t, "POST", "/api/v1/auth/login", "", map[string]string{"username": "cadre-b", "password": testPassword, "device_id": "p"})
		if r.Status != http.StatusTooManyRequests {
			t.Fatalf("five wrong passwords from five addresses: want the account locked (429), got %d", r.Status)
		}
	})
	t.Run("behind a configured proxy", func(t *testing.T) {
		e := newTestEnvConfig(t, Config{DataDir: t.TempDir(), HashConcurrency: 4, ShutdownTimeout: time.Second, TrustedProxies: addressList{peer}}, io.Discard)
		for i := 1; i <= 3; i++ {
			guess(e, "nobody", fmt.Sprintf("203.0.113.%d", i))
		}
		if got := failedFrom(e); len(got) != 3 || got["203.0.113.2"] != 1 {
			t.Fatalf("audit log addresses behind a trusted proxy: %v, want the three client addresses", got)
		}
	})
}

// TestLoginRehashesOlderPasswordHashes: a password hashed with earlier
// argon2id parameters (64 MiB) still logs in, and that login stores a new
// hash with the current ones; the new hash logs in too, and the sessions
// stay. A re-hash never overwrites a password changed meanwhile.
func TestLoginRehashesOlderPasswordHashes(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		ctx := context.Background()
		store, hasher := e.app.Store, e.app.Auth.Hasher()
		_, current, err := store.UserCredentials(ctx, "cadre-a")
		if err != nil {
			t.Fatal(err)
		}
		older, err := argon2id.CreateHash(testPassword, &argon2id.Params{Memory: 64 * 1024, Iterations: 1, Parallelism: 2, SaltLength: 16, KeyLength: 32})
		if err != nil {
			t.Fatal(err)
		}
		if err := store.ReplacePasswordHash(ctx, e.cadreA.ID, current, older); err != nil {
			t.Fatal(err)
		}
		if err := store.ReplacePasswordHash(ctx, e.cadreA.ID, current, "a hash of some other time"); err != nil {
			t.Fatal(err)
		}
		if _, got, _ := store.UserCredentials(ctx, "cadre-a"); got != older {
			t.Fatal("a re-hash replaced a hash it was not given")
		}

		first := e.loginTokens(t, "cadre-a", "phone-1")
		_, rehashed, err := store.UserCredentials(ctx, "cadre-a")
		if err != nil {
			t.Fatal(err)
		}
		if rehashed == older || hasher.NeedsRehash(rehashed) {
			t.Fatalf("after a login with an older hash, the stored hash is %q", rehashed)
		}
		e.loginTokens(t, "cadre-a", "phone-2")
		if _, r := e.refresh(t, first.RefreshToken); r.Status != http.StatusOK {
			t.Fatalf("the re-hash ended the session: %d %s", r.Status, r.Body)
		}
	})
}
