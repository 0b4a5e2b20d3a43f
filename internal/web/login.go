package web

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/fieldvisit/fieldvisit/domain"
)

// loginPage is what templates/login.html shows.
type loginPage struct {
	CSRF     string
	Username string
	Error    string // zh-CN, shown above the form
}

// loginForm shows the form with a fresh pre-session CSRF token; a browser
// already signed in goes to the overview.
func (c *Console) loginForm(w http.ResponseWriter, r *http.Request) {
	if _, err := c.authenticate(w, r); err == nil {
		http.Redirect(w, r, c.prefix, http.StatusSeeOther)
		return
	}
	c.showLogin(w, r, http.StatusOK, loginPage{})
}

// showLogin draws the form. The token is an HMAC of a random value kept
// in the browser's fv_login cookie (set here when missing).
func (c *Console) showLogin(w http.ResponseWriter, r *http.Request, status int, data loginPage) {
	secret := ""
	if ck, err := r.Cookie(cookieLogin); err == nil && len(ck.Value) == 32 {
		secret = ck.Value
	} else {
		secret = randomHex(16)
		http.SetCookie(w, c.cookie(r, cookieLogin, secret, 0))
	}
	data.CSRF = c.csrf.loginToken(secret)
	l := layout{Title: "登录", Content: data}
	c.draw(w, r, nil, status, "login.html", "layout", l)
}

// login signs a browser in (DESIGN §10: form fields username and
// password) through the same auth.Service.Login as the API, with the
// browser's own device id, and keeps the tokens in cookies.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	ck, err := r.Cookie(cookieLogin)
	if !c.sameOrigin(r) || err != nil || !validToken(presented(r), c.csrf.loginToken(ck.Value)) {
		c.forbidCSRF(w, r, nil)
		return
	}
	username, password := r.PostFormValue("username"), r.PostFormValue("password")
	caller := callerOf(r.Context())
	t, err := c.deps.Auth.Login(r.Context(), username, password, c.deviceID(w, r), caller.ClientIP, caller.RequestID)
	if err != nil {
		status, msg := loginError(err)
		if status == http.StatusInternalServerError {
			c.fail(w, r, nil, err)
			return
		}
		if status == http.StatusTooManyRequests {
			var de *domain.Error
			if errors.As(err, &de) && de.RetryAfter > 0 {
				w.Header().Set("Retry-After", fmt.Sprint(int(de.RetryAfter.Seconds()+0.5)))
			}
		}
		c.showLogin(w, r, status, loginPage{Username: username, Error: msg})
		return
	}
	// A new login gets a new pre-session secret next time.
	http.SetCookie(w, c.cookie(r, cookieLogin, "", -1))
	c.setSession(w, r, t)
	http.Redirect(w, r, c.prefix, http.StatusSeeOther)
}

// loginError is the status and the Chinese message of a failed login.
func loginError(err error) (int, string) {
	var de *domain.Error
	if !errors.As(err, &de) {
		return http.StatusInternalServerError, ""
	}
	switch de.Code {
	case domain.CodeUnauthorized:
		return http.StatusUnauthorized, de.MessageZH
	case domain.CodeRateLimited:
		return http.StatusTooManyRequests, de.MessageZH
	case domain.CodeInvalid:
		msg := ""
		for i, f := range de.Fields {
			if i > 0 {
				msg += "；"
			}
			msg += f.MessageZH
		}
		return http.StatusUnprocessableEntity, msg
	}
	return http.StatusInternalServerError, ""
}

// logout ends the login (auth.Service.Logout revokes the refresh-token
// family, so its tokens stop working everywhere, the API included) and
// clears the cookies.
func (c *Console) logout(w http.ResponseWriter, r *http.Request, s *session) {
	if ck, err := r.Cookie(cookieRefresh); err == nil && ck.Value != "" {
		if err := c.deps.Auth.Logout(r.Context(), ck.Value); err != nil && !domain.IsCode(err, domain.CodeNotFound) {
			c.fail(w, r, s, err)
			return
		}
	}
	c.clearSession(w, r)
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("HX-Redirect", c.prefix+"login")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, c.prefix+"login", http.StatusSeeOther)
}
