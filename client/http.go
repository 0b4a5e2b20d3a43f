package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/wire"
)

// Problem is the server's RFC 9457 problem detail.
type Problem struct {
	Type      string              `json:"type"`
	Title     string              `json:"title"`
	Status    int                 `json:"status"`
	Detail    string              `json:"detail,omitempty"`
	TitleZH   string              `json:"title_zh,omitempty"`
	DetailZH  string              `json:"detail_zh,omitempty"`
	Errors    []domain.FieldError `json:"errors,omitempty"`
	RequestID string              `json:"request_id,omitempty"`
}

// ProblemError is a definitive non-2xx answer.
type ProblemError struct {
	Method, Path string
	Status       int
	Problem      Problem
	RetryAfter   time.Duration
	Body         []byte
}

func (e *ProblemError) Error() string {
	msg := e.Problem.Detail
	if msg == "" {
		msg = e.Problem.Title
	}
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	s := fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Status, msg)
	if len(e.Problem.Errors) > 0 {
		f := e.Problem.Errors[0]
		s += fmt.Sprintf(" (%s: %s)", f.Field, f.Reason)
	}
	if e.Problem.RequestID != "" {
		s += " [request " + e.Problem.RequestID + "]"
	}
	return s
}

// Reason is the reason of the first field error ("key_reused", …).
func (e *ProblemError) Reason() string {
	if len(e.Problem.Errors) > 0 {
		return e.Problem.Errors[0].Reason
	}
	return ""
}

// GaveUpError says a request did not get a definitive answer within the
// attempts of one call; Last is the last failure.
type GaveUpError struct {
	Attempts int
	Last     error
}

func (e *GaveUpError) Error() string {
	return fmt.Sprintf("client: no definitive answer after %d attempts: %v", e.Attempts, e.Last)
}

func (e *GaveUpError) Unwrap() error { return e.Last }

type reqOpts struct {
	authed   bool
	header   http.Header
	retry409 bool // a push that lost a race stored nothing: wait and send it again
	// deviceTime sets X-Device-Time to the phone's clock at each attempt:
	// the body (and its device_time) is bound to the key, the header is
	// how the server measures the clock offset of this attempt.
	deviceTime bool
	// attempts, when set, bounds the tries of this request instead of
	// Backoff.Attempts (1: the caller does its own retrying).
	attempts int
	// report sends the device-report headers (backlog and app version)
	// as they stand at each attempt: syncs only.
	report bool
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

// call sends a request until it gets a definitive answer: any 2xx or 4xx
// (after one token refresh on 401), never a transport error, 5xx, 408 or
// 429 (nor 409 for pushes), which are retried with backoff and jitter,
// waiting out Retry-After. The same bytes are sent every time.
func (c *Client) call(ctx context.Context, method, path string, body []byte, o reqOpts) (answer, error) {
	refreshed := false
	var last error
	for attempt := 1; ; attempt++ {
		token := ""
		if o.authed {
			var err error
			if token, err = c.accessToken(ctx); err != nil {
				return answer{}, err
			}
		}
		h := o.header
		if o.deviceTime || o.report {
			h = h.Clone()
			if h == nil {
				h = http.Header{}
			}
		}
		if o.deviceTime {
			h.Set("X-Device-Time", c.now().Format(time.RFC3339Nano))
		}
		if o.report {
			c.deviceReport().SetHeaders(h)
		}
		a, err := c.roundTrip(ctx, method, path, body, token, h)
		if err == nil && a.status == http.StatusUnauthorized && o.authed && !refreshed {
			refreshed = true
			if err := c.reauth(ctx, token); err != nil {
				return answer{}, err
			}
			attempt--
			continue
		}
		var wait time.Duration
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return answer{}, ctx.Err()
			}
			last = err
		case a.status >= 500 || a.status == http.StatusTooManyRequests || a.status == http.StatusRequestTimeout ||
			a.status == http.StatusConflict && o.retry409:
			perr := problemOf(method, path, a)
			last = perr
			wait = perr.RetryAfter
		default:
			return a, nil
		}
		if attempt >= c.cfg.Backoff.Attempts || o.attempts > 0 && attempt >= o.attempts {
			return answer{}, &GaveUpError{Attempts: attempt, Last: last}
		}
		d := max(c.backoff(attempt), wait)
		c.logf("client: %s %s: %v; retrying in %s", method, path, last, d.Round(time.Millisecond))
		if err := c.cfg.Sleep(ctx, d); err != nil {
			return answer{}, err
		}
	}
}

// backoff is the wait before retry n (1-based): exponential, capped, with
// "equal jitter" (between half and all of the step).
func (c *Client) backoff(n int) time.Duration {
	d := c.cfg.Backoff.Min
	for i := 1; i < n && d < c.cfg.Backoff.Max; i++ {
		d *= 2
	}
	d = min(d, c.cfg.Backoff.Max)
	c.mu.Lock()
	j := time.Duration(c.rnd.Int64N(int64(d/2) + 1))
	c.mu.Unlock()
	return d/2 + j
}

func (c *Client) roundTrip(ctx context.Context, method, path string, body []byte, token string, h http.Header) (answer, error) {
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	send, coding, err := c.bodies.encode(body, h.Get("Content-Type"))
	if err != nil {
		return answer{}, err
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(send)
	}
	req, err := http.NewRequestWithContext(actx, method, c.cfg.BaseURL+path, rd)
	if err != nil {
		return answer{}, err
	}
	if body != nil && h.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if coding != "" {
		req.Header.Set("Content-Encoding", coding)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Accept-Encoding", "gzip")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, vs := range h {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	c.bodies.learn(res.Header)
	b, err := readAnswer(res)
	if err != nil {
		// A cut-off answer is no answer.
		return answer{}, fmt.Errorf("reading the answer: %w", err)
	}
	a := answer{status: res.StatusCode, header: res.Header, body: b}
	if coding != "" && refusedCoding(method, path, a) {
		c.logf("client: %s %s: the gzipped body was refused (%d); sending plain bodies from now on", method, path, a.status)
		c.bodies.refuse()
		return c.roundTrip(ctx, method, path, body, token, h)
	}
	return a, nil
}

func problemOf(method, path string, a answer) *ProblemError {
	e := &ProblemError{Method: method, Path: path, Status: a.status, Body: a.body}
	_ = json.Unmarshal(a.body, &e.Problem)
	if ra := a.header.Get("Retry-After"); ra != "" {
		if s, err := strconv.Atoi(ra); err == nil && s >= 0 {
			e.RetryAfter = time.Duration(s) * time.Second
		} else if t, err := http.ParseTime(ra); err == nil {
			e.RetryAfter = time.Until(t)
		}
	}
	return e
}

type tokensIn struct {
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token"`
	ExpiresIn    int       `json:"expires_in"`
	User         wire.User `json:"user"`
}

// Login starts a session for this device; tokens are kept in Dir.
func (c *Client) Login(ctx context.Context, username, password string) (wire.User, error) {
	c.authMu.Lock()
	defer c.authMu.Unlock()
	return c.loginLocked(ctx, username, password)
}

func (c *Client) loginLocked(ctx context.Context, username, password string) (wire.User, error) {
	body := mustJSON(map[string]string{"username": username, "password": password, "device_id": c.cfg.DeviceID})
	a, err := c.call(ctx, http.MethodPost, "/api/v1/auth/login", body, reqOpts{})
	if err != nil {
		return wire.User{}, err
	}
	if a.status != http.StatusOK {
		return wire.User{}, problemOf(http.MethodPost, "/api/v1/auth/login", a)
	}
	var t tokensIn
	if err := json.Unmarshal(a.body, &t); err != nil {
		return wire.User{}, fmt.Errorf("client: login answer: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.usableLocked(); err != nil {
		return wire.User{}, err
	}
	if c.st.User != nil && c.st.User.ID != t.User.ID {
		if len(c.st.Outbox) > 0 || c.st.Inflight != nil || len(c.st.Photos) > 0 {
			return wire.User{}, ErrOtherUser
		}
		// Another person on this phone: the replica was the other one's.
		fresh := newState()
		fresh.DeviceID, fresh.NextSeq, fresh.AckSeq = c.st.DeviceID, c.st.NextSeq, c.st.AckSeq
		c.st = fresh
	}
	u := t.User
	c.st.User, c.st.AccessToken, c.st.RefreshToken, c.st.AccessExpires = &u, t.AccessToken, t.RefreshToken, c.expiry(t)
	return u, c.saveLocked()
}

// Logout revokes the session on the server (best effort) and forgets the
// tokens; the replica and the outbox stay.
func (c *Client) Logout(ctx context.Context) error {
	c.authMu.Lock()
	defer c.authMu.Unlock()
	c.mu.Lock()
	rt := c.st.RefreshToken
	c.mu.Unlock()
	var err error
	if rt != "" {
		_, err = c.call(ctx, http.MethodPost, "/api/v1/auth/logout", mustJSON(map[string]string{"refresh_token": rt}), reqOpts{})
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.st.AccessToken, c.st.RefreshToken = "", ""
	if serr := c.saveLocked(); serr != nil {
		return serr
	}
	return err
}

// refreshAhead is how long before its expiry an access token is renewed
// before a request rather than used: a request that starts with a token
// about to expire may be refused after its body went out, and on a 2G link
// a photo's PUT is most of a minute of bytes.
const refreshAhead = 2 * time.Minute

// expiry is when a token answer's access token expires by the phone's
// clock (zero when the server did not say).
func (c *Client) expiry(t tokensIn) time.Time {
	if t.ExpiresIn <= 0 {
		return time.Time{}
	}
	return c.now().Add(time.Duration(t.ExpiresIn) * time.Second)
}

// accessToken is the access token for a request: refreshed first when
// there is none, or when it expires within refreshAhead. A token about to
// expire whose refresh could not get through (no signal) is still used:
// it may be valid yet, and a refusal refreshes again. The phone's clock
// may jump; at worst that costs an early refresh or the 401 it avoids.
func (c *Client) accessToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	token, expires := c.st.AccessToken, c.st.AccessExpires
	c.mu.Unlock()
	if token != "" && (expires.IsZero() || c.now().Before(expires.Add(-refreshAhead))) {
		return token, nil
	}
	err := c.reauth(ctx, token)
	c.mu.Lock()
	now := c.st.AccessToken
	c.mu.Unlock()
	switch {
	case err == nil:
		return now, nil
	case token != "" && now == token && ctx.Err() == nil && !errors.Is(err, ErrLoginRequired):
		c.logf("client: early token refresh failed (%v); using the current token", err)
		return token, nil
	}
	return "", err
}

// reauth gets a new access token after failed was refused: by the refresh
// token (rotated; the new pair is saved before use), or when that is dead by
// logging in again with Config.Credentials.
//
// Rotation and its grace window: a refresh whose answer was lost is retried
// at once with the same (old) refresh token; the server accepts that once
// within 60 s. A reused token after that revokes the session, which ends
// here as a new login (or ErrLoginRequired).
func (c *Client) reauth(ctx context.Context, failed string) error {
	c.authMu.Lock()
	defer c.authMu.Unlock()
	c.mu.Lock()
	access, rt := c.st.AccessToken, c.st.RefreshToken
	c.mu.Unlock()
	if access != "" && access != failed {
		return nil // another request refreshed already
	}
	if rt != "" {
		a, err := c.call(ctx, http.MethodPost, "/api/v1/auth/refresh", mustJSON(map[string]string{"refresh_token": rt}), reqOpts{})
		if err != nil {
			return err
		}
		if a.status == http.StatusOK {
			var t tokensIn
			if err := json.Unmarshal(a.body, &t); err != nil {
				return fmt.Errorf("client: refresh answer: %w", err)
			}
			c.mu.Lock()
			defer c.mu.Unlock()
			c.st.AccessToken, c.st.RefreshToken, c.st.AccessExpires = t.AccessToken, t.RefreshToken, c.expiry(t)
			if c.st.User == nil || t.User.ID == c.st.User.ID {
				u := t.User
				c.st.User = &u
			}
			return c.saveLocked()
		}
		if a.status != http.StatusUnauthorized {
			return problemOf(http.MethodPost, "/api/v1/auth/refresh", a)
		}
		c.logf("client: refresh token refused (%s); the session is over", problemOf(http.MethodPost, "/api/v1/auth/refresh", a).Problem.Detail)
	}
	c.mu.Lock()
	c.st.AccessToken, c.st.RefreshToken = "", ""
	err := c.saveLocked()
	c.mu.Unlock()
	if err != nil {
		return err
	}
	if c.cfg.Credentials == nil {
		return ErrLoginRequired
	}
	user, pass, err := c.cfg.Credentials(ctx)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrLoginRequired, err)
	}
	_, err = c.loginLocked(ctx, user, pass)
	var pe *ProblemError
	if errors.As(err, &pe) && pe.Status == http.StatusUnauthorized {
		return fmt.Errorf("%w: %v", ErrLoginRequired, err)
	}
	return err
}

// GetJSON reads a resource of the API (path under the server root, e.g.
// "/api/v1/visits?cadre_id=…") with this client's session, retrying
// transport failures like any other call, and decodes the 200 answer into
// out. Other answers are a *ProblemError.
func (c *Client) GetJSON(ctx context.Context, path string, out any) error {
	a, err := c.call(ctx, http.MethodGet, path, nil, reqOpts{authed: true})
	if err != nil {
		return err
	}
	if a.status != http.StatusOK {
		return problemOf(http.MethodGet, path, a)
	}
	return json.Unmarshal(a.body, out)
}

// PostJSON sends in as JSON to a resource of the API with this client's
// session and decodes a 2xx answer into out (when out is not nil). Unlike
// a push, a POST carries no Idempotency-Key, so it is NOT retried after a
// transport failure: the caller decides whether repeating it is safe.
func (c *Client) PostJSON(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	a, err := c.callOnce(ctx, http.MethodPost, path, body)
	if err != nil {
		return err
	}
	if a.status < 200 || a.status > 299 {
		return problemOf(http.MethodPost, path, a)
	}
	if out == nil || len(a.body) == 0 {
		return nil
	}
	return json.Unmarshal(a.body, out)
}

// callOnce sends an authenticated request once (plus one retry after a
// token refresh on 401).
func (c *Client) callOnce(ctx context.Context, method, path string, body []byte) (answer, error) {
	for refreshed := false; ; refreshed = true {
		token, err := c.accessToken(ctx)
		if err != nil {
			return answer{}, err
		}
		a, err := c.roundTrip(ctx, method, path, body, token, nil)
		if err != nil || a.status != http.StatusUnauthorized || refreshed {
			return a, err
		}
		if err := c.reauth(ctx, token); err != nil {
			return answer{}, err
		}
	}
}
