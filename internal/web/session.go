package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/singleflight"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/auth"
)

// Cookies of a browser session. All are HttpOnly, SameSite=Strict and
// scoped to the console's path; the access and refresh cookies are the
// same tokens a phone gets from /api/v1/auth/login, so logout, reuse
// detection and device revocation apply to browsers unchanged.
const (
	cookieAccess  = "fv_access"
	cookieRefresh = "fv_refresh"
	cookieDevice  = "fv_device" // the browser's device id, kept across logins
	cookieLogin   = "fv_login"  // the login form's pre-session CSRF secret
)

// devicePrefix starts every browser's device id, so device lists tell
// browsers from phones.
const devicePrefix = domain.BrowserDevicePrefix

// session is the signed-in caller of one request.
type session struct {
	principal domain.Principal
	user      domain.User
	region    domain.Region
	family    uuid.UUID // the login's refresh-token family: the CSRF token is bound to it
	csrf      string
}

// errSignedOut means the request carries no live session.
var errSignedOut = errors.New("web: not signed in")

// authenticate finds the caller of r from its cookies: the access token
// when it is still good, else the refresh token, rotated once (rotation
// below) with the new cookies set on w.
func (c *Console) authenticate(w http.ResponseWriter, r *http.Request) (*session, error) {
	ctx := r.Context()
	if ck, err := r.Cookie(cookieAccess); err == nil && ck.Value != "" {
		s, err := c.sessionOf(ctx, ck.Value)
		if err == nil || !domain.IsCode(err, domain.CodeUnauthorized) {
			return s, err
		}
	}
	ck, err := r.Cookie(cookieRefresh)
	if err != nil || ck.Value == "" {
		return nil, errSignedOut
	}
	t, err := c.rotations.rotate(ctx, c.deps.Auth, ck.Value, callerOf(ctx).RequestID)
	if err != nil {
		if domain.IsCode(err, domain.CodeUnauthorized) || domain.IsCode(err, domain.CodeInvalid) {
			c.clearSession(w, r)
			return nil, errSignedOut
		}
		return nil, err
	}
	c.setSession(w, r, t)
	s, err := c.sessionOf(ctx, t.AccessToken)
	if domain.IsCode(err, domain.CodeUnauthorized) {
		return nil, errSignedOut
	}
	return s, err
}

// sessionOf checks an access token and loads its caller, as the API's
// authentication does (auth.Service.VerifyToken, then Principal).
func (c *Console) sessionOf(ctx context.Context, access string) (*session, error) {
	tok, err := c.deps.Auth.VerifyToken(access)
	if err != nil {
		return nil, err
	}
	p, err := c.deps.Auth.Principal(ctx, tok)
	if err != nil {
		return nil, err
	}
	return &session{principal: p, family: tok.Session, csrf: c.csrf.sessionToken(tok.Session)}, nil
}

// cookie builds one of the session's cookies: HttpOnly, SameSite=Strict,
// on the console's path, Secure over TLS or when configured so (behind a
// proxy that ends TLS). maxAge 0 makes a browser-session cookie, negative
// deletes it.
func (c *Console) cookie(r *http.Request, name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: c.prefix, MaxAge: maxAge, HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil || c.deps.SecureCookies}
}

// setSession stores a login's tokens in cookies that end with the browser
// session: a console left open on a shared office PC is not signed in the
// next morning.
func (c *Console) setSession(w http.ResponseWriter, r *http.Request, t auth.Tokens) {
	http.SetCookie(w, c.cookie(r, cookieAccess, t.AccessToken, 0))
	http.SetCookie(w, c.cookie(r, cookieRefresh, t.RefreshToken, 0))
}

func (c *Console) clearSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, c.cookie(r, cookieAccess, "", -1))
	http.SetCookie(w, c.cookie(r, cookieRefresh, "", -1))
}

// deviceID is the browser's device id from its cookie, or a new one
// (web-<16 hex digits>) set for a year.
func (c *Console) deviceID(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(cookieDevice); err == nil && strings.HasPrefix(ck.Value, devicePrefix) && domain.ValidDeviceID(ck.Value) {
		return ck.Value
	}
	id := devicePrefix + randomHex(8)
	http.SetCookie(w, c.cookie(r, cookieDevice, id, 365*24*3600))
	return id
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// rotation makes a refresh token rotate once however many requests carry
// it. A page firing several requests as its access token expires would
// otherwise present the same refresh token several times, and the second
// rotation is reuse, which revokes the login (auth.Service.Refresh). The
// first request rotates; the ones in flight with it share its answer
// (singleflight), and those arriving within rotationMemory after it, still
// carrying the old cookie, get the same answer from memory.
//
// This holds per replica: two replicas behind a load balancer that each
// get one of the racing requests rotate twice. The refresh grace window
// (one retry of a spent token within 60 s) absorbs one such race; a
// console served by several replicas should use sticky sessions.
type rotation struct {
	flight singleflight.Group
	mu     sync.Mutex
	recent map[string]rotated // by the SHA-256 of the spent token
	now    func() time.Time
}

type rotated struct {
	tokens auth.Tokens
	err    error
	at     time.Time
}

// rotationMemory is how long a rotation's answer is remembered.
const rotationMemory = 30 * time.Second

func (rt *rotation) rotate(ctx context.Context, a *auth.Service, refresh, requestID string) (auth.Tokens, error) {
	sum := sha256.Sum256([]byte(refresh))
	key := hex.EncodeToString(sum[:])
	if r, ok := rt.remembered(key); ok {
		return r.tokens, r.err
	}
	v, err, _ := rt.flight.Do(key, func() (any, error) {
		if r, ok := rt.remembered(key); ok { // rotated between the look-up and the flight
			return r.tokens, r.err
		}
		// The rotation must outlive a browser that gave up on the request
		// that started it: the others waiting on it still need the answer.
		t, err := a.Refresh(context.WithoutCancel(ctx), refresh, requestID)
		if err == nil || domain.IsCode(err, domain.CodeUnauthorized) {
			rt.remember(key, rotated{tokens: t, err: err, at: rt.now()})
		}
		return t, err
	})
	if err != nil {
		return auth.Tokens{}, err
	}
	return v.(auth.Tokens), nil
}

func (rt *rotation) remembered(key string) (rotated, bool) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	r, ok := rt.recent[key]
	if !ok || rt.now().Sub(r.at) > rotationMemory {
		return rotated{}, false
	}
	return r, true
}

func (rt *rotation) remember(key string, r rotated) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.recent == nil {
		rt.recent = map[string]rotated{}
	}
	for k, old := range rt.recent {
		if r.at.Sub(old.at) > rotationMemory {
			delete(rt.recent, k)
		}
	}
	rt.recent[key] = r
}
