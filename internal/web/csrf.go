package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"
)

// Cross-site request forgery is refused twice over on every state-changing
// request (POST, PUT, PATCH, DELETE), login and logout included:
//
//   - the request must come from the console's own origin: an Origin
//     header naming another origin, or Sec-Fetch-Site other than
//     same-origin, is refused;
//   - it must carry the synchronizer token, in the csrf_token form field
//     or (htmx, set by assets/console.js from <meta name="csrf-token">)
//     the X-CSRF-Token header. A signed-in session's token is an HMAC of
//     its refresh-token family, so it lasts as long as the login and
//     every replica that shares the secret computes the same; the login
//     form's is an HMAC of a random value in its own cookie.

const (
	csrfField  = "csrf_token"
	csrfHeader = "X-CSRF-Token"
)

// csrfKeys computes and checks tokens with the console's secret.
type csrfKeys struct{ secret []byte }

func (k csrfKeys) mac(purpose, value string) string {
	m := hmac.New(sha256.New, k.secret)
	m.Write([]byte(purpose + "\x00" + value))
	return hex.EncodeToString(m.Sum(nil))
}

// sessionToken is the token of a signed-in login.
func (k csrfKeys) sessionToken(family uuid.UUID) string { return k.mac("session", family.String()) }

// loginToken is the login form's token for the value of its cookie.
func (k csrfKeys) loginToken(cookie string) string { return k.mac("login", cookie) }

// presented is the token a request carries, header first.
func presented(r *http.Request) string {
	if t := r.Header.Get(csrfHeader); t != "" {
		return t
	}
	return r.PostFormValue(csrfField)
}

// validToken compares in constant time; an empty token never matches.
func validToken(got, want string) bool {
	return got != "" && want != "" && hmac.Equal([]byte(got), []byte(want))
}

// unsafeMethod reports whether a method changes state.
func unsafeMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// sameOrigin applies the Origin and Sec-Fetch-Site check. A browser sends
// Origin with every POST; only a request that carries neither header (an
// old browser, or a program, which holds no victim's cookies) is left to
// the token alone.
func (c *Console) sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || !strings.EqualFold(u.Host, r.Host) {
		return false // "null" included: a sandboxed or opaque origin
	}
	if r.TLS != nil || c.deps.SecureCookies {
		return u.Scheme == "https"
	}
	return u.Scheme == "http" || u.Scheme == "https"
}
