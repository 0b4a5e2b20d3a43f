package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// Store is what auth needs from persistence.
type Store interface {
	UserCredentials(ctx context.Context, username string) (domain.User, string, error)
	// ReplacePasswordHash stores newHash in place of oldHash, unless the
	// password changed meanwhile (then the stored hash is not oldHash and
	// nothing changes).
	ReplacePasswordHash(ctx context.Context, userID uuid.UUID, oldHash, newHash string) error
	User(ctx context.Context, id uuid.UUID) (domain.User, error)
	SessionUser(ctx context.Context, id, family uuid.UUID) (domain.User, bool, error)
	TouchDevice(ctx context.Context, userID uuid.UUID, deviceID string, now time.Time) (domain.Device, error)
	// DeviceInUse reports whether deviceID is a phone the user has signed
	// in on before and that is not revoked.
	DeviceInUse(ctx context.Context, userID uuid.UUID, deviceID string) (bool, error)
	SaveRefreshToken(ctx context.Context, t domain.RefreshToken) error
	RotateRefreshToken(ctx context.Context, hash string, decide func(presented, newest domain.RefreshToken, successors int) (domain.RotateDecision, error)) (domain.RotateDecision, error)
	RevokeRefreshFamily(ctx context.Context, hash string) error
	LockedUntil(ctx context.Context, key string, now time.Time) (time.Time, error)
	RecordLoginFailure(ctx context.Context, key string, now time.Time, window time.Duration, max int, lock time.Duration) error
	ClearLoginFailures(ctx context.Context, key string) error
	LogAuth(ctx context.Context, actor *uuid.UUID, actorName, action, requestID string, detail map[string]any) error
}

// Config sets token lifetimes and throttling; zero values take the defaults.
type Config struct {
	Issuer          string        // "fieldvisit"
	Audience        string        // "fieldvisit-api"
	AccessTTL       time.Duration // 15 min, never more
	RefreshTTL      time.Duration // 30 days: phones are offline for days
	Grace           time.Duration // 60 s: a phone that lost the refresh response may retry
	AccountFailures int           // failures per account from one IP per window before that IP is locked out of it (5)
	// AccountWideFailures are the failures per account from every IP per
	// window before it is locked to devices it has never signed in on (20).
	AccountWideFailures int
	IPFailures          int           // failures per IP per window before a lock (50)
	FailureWindow       time.Duration // 15 min
	LockFor             time.Duration // 15 min
}

func (c Config) withDefaults() Config {
	if c.Issuer == "" {
		c.Issuer = "fieldvisit"
	}
	if c.Audience == "" {
		c.Audience = "fieldvisit-api"
	}
	if c.AccessTTL <= 0 || c.AccessTTL > 15*time.Minute {
		c.AccessTTL = 15 * time.Minute
	}
	if c.RefreshTTL <= 0 {
		c.RefreshTTL = 30 * 24 * time.Hour
	}
	if c.Grace <= 0 {
		c.Grace = 60 * time.Second
	}
	if c.AccountFailures <= 0 {
		c.AccountFailures = 5
	}
	if c.AccountWideFailures <= 0 {
		c.AccountWideFailures = 20
	}
	if c.IPFailures <= 0 {
		c.IPFailures = 50
	}
	if c.FailureWindow <= 0 {
		c.FailureWindow = 15 * time.Minute
	}
	if c.LockFor <= 0 {
		c.LockFor = 15 * time.Minute
	}
	return c
}

// Service logs users in and authenticates requests.
type Service struct {
	store  Store
	keys   *KeyRing
	hasher *Hasher
	cfg    Config
	now    func() time.Time
	// verified: tokens that passed VerifyToken, until they expire.
	verified verifiedTokens
}

// NewService builds the service; now is the clock (time.Now in production).
func NewService(store Store, keys *KeyRing, hasher *Hasher, cfg Config, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, keys: keys, hasher: hasher, cfg: cfg.withDefaults(), now: now}
}

// Hasher exposes the password hasher (user management sets passwords).
func (s *Service) Hasher() *Hasher { return s.hasher }

// Tokens is what a successful login or refresh returns.
type Tokens struct {
	AccessToken  string
	RefreshToken string
	ExpiresIn    int // seconds
	User         domain.User
}

// Claims are the access token's claims. Role is informational; every request
// reloads the user so a deactivated account or changed region applies at
// once, and checks that the login the token came from (Session, the
// refresh-token family) was not ended by a logout or a detected reuse.
type Claims struct {
	jwt.RegisteredClaims
	Role     string `json:"role"`
	DeviceID string `json:"did"`
	Session  string `json:"sid"`
}

var errBadLogin = &domain.Error{Code: domain.CodeUnauthorized, Message: "wrong username or password", MessageZH: "用户名或密码错误"}

// Login checks a password and starts a refresh-token family for the device.
func (s *Service) Login(ctx context.Context, username, password, deviceID, ip, requestID string) (Tokens, error) {
	var fe domain.FieldErrors
	if strings.TrimSpace(username) == "" {
		fe.Required("/username", "用户名")
	}
	if password == "" {
		fe.Required("/password", "密码")
	}
	if deviceID == "" {
		fe.Required("/device_id", "设备编号")
	} else if !domain.ValidDeviceID(deviceID) {
		fe.Add("/device_id", "invalid_format", "device_id must be 1–100 letters, digits or . _ : -", "设备编号格式不正确")
	}
	if err := fe.Err(); err != nil {
		return Tokens{}, err
	}
	now := s.now()
	// Guessing is throttled three ways: an account from one address (5),
	// an address over all accounts (50), and an account from every
	// address (20) — the last only for devices the account has never
	// signed in on. An account locked outright by its failures alone
	// could be locked by anyone who knows its name (cadre01 …) from
	// anywhere, the cadre's own phone included; a made-up device id
	// cannot be one the account signed in on without its password.
	name := strings.ToLower(username)
	accountKey, pairKey, ipKey := "user:"+name, "user:"+name+"@"+ip, "ip:"+ip
	locked := func(key string) error {
		until, err := s.store.LockedUntil(ctx, key, now)
		if err != nil {
			return err
		}
		if !until.IsZero() {
			return &domain.Error{Code: domain.CodeRateLimited, Message: "too many failed logins; try again later",
				MessageZH: "登录失败次数过多，请稍后再试", RetryAfter: until.Sub(now)}
		}
		return nil
	}
	for _, key := range []string{pairKey, ipKey} {
		if err := locked(key); err != nil {
			return Tokens{}, err
		}
	}
	u, hash, err := s.store.UserCredentials(ctx, username)
	if err != nil && !domain.IsCode(err, domain.CodeNotFound) {
		return Tokens{}, err
	}
	known := false
	if err == nil {
		if known, err = s.store.DeviceInUse(ctx, u.ID, deviceID); err != nil {
			return Tokens{}, err
		}
	}
	if !known {
		if err := locked(accountKey); err != nil {
			return Tokens{}, err
		}
	}
	ok, verr := s.hasher.Verify(ctx, password, hash)
	if verr != nil {
		return Tokens{}, verr
	}
	if !ok || !u.Active {
		for _, f := range []struct {
			key string
			max int
		}{{pairKey, s.cfg.AccountFailures}, {accountKey, s.cfg.AccountWideFailures}, {ipKey, s.cfg.IPFailures}} {
			if err := s.store.RecordLoginFailure(ctx, f.key, now, s.cfg.FailureWindow, f.max, s.cfg.LockFor); err != nil {
				return Tokens{}, err
			}
		}
		_ = s.store.LogAuth(ctx, nil, username, "login_failed", requestID, map[string]any{"ip": ip, "device_id": deviceID})
		return Tokens{}, errBadLogin
	}
	dev, err := s.store.TouchDevice(ctx, u.ID, deviceID, now)
	if err != nil {
		return Tokens{}, err
	}
	if dev.RevokedAt != nil {
		return Tokens{}, &domain.Error{Code: domain.CodeUnauthorized, Message: "this device has been revoked", MessageZH: "该设备已被停用，请联系管理员"}
	}
	for _, key := range []string{pairKey, accountKey} {
		if err := s.store.ClearLoginFailures(ctx, key); err != nil {
			return Tokens{}, err
		}
	}
	if s.hasher.NeedsRehash(hash) {
		// Made with older parameters: the password just proven is hashed
		// anew with the current ones. Best effort: the login stands
		// either way, and the next one tries again.
		if h, err := s.hasher.Hash(ctx, password); err == nil {
			_ = s.store.ReplacePasswordHash(ctx, u.ID, hash, h)
		}
	}
	raw, rt := s.newRefresh(uuid.New(), u.ID, deviceID, now)
	if err := s.store.SaveRefreshToken(ctx, rt); err != nil {
		return Tokens{}, err
	}
	access, err := s.issue(u, deviceID, rt.FamilyID, now)
	if err != nil {
		return Tokens{}, err
	}
	_ = s.store.LogAuth(ctx, &u.ID, u.Username, "login", requestID, map[string]any{"ip": ip, "device_id": deviceID})
	return Tokens{AccessToken: access, RefreshToken: raw, ExpiresIn: int(s.cfg.AccessTTL.Seconds()), User: u}, nil
}

// Refresh rotates a refresh token. Presenting a token that was already
// rotated revokes the whole family (it was probably stolen), except once:
// within the grace window, when the token's one successor is the family's
// newest and was never used, a phone is retrying after it lost the
// response, and it gets a fresh pair in place of the lost one. A second
// retry of the same token, or the lost successor presented after all,
// is reuse.
func (s *Service) Refresh(ctx context.Context, raw, requestID string) (Tokens, error) {
	if raw == "" {
		return Tokens{}, domain.Invalid(domain.FieldError{Field: "/refresh_token", Reason: "required", Message: "refresh_token is required", MessageZH: "refresh_token不能为空"})
	}
	if len(raw) > 200 {
		return Tokens{}, domain.Unauthorized("unknown refresh token")
	}
	now := s.now()
	var newRaw string
	dec, err := s.store.RotateRefreshToken(ctx, hashToken(raw), func(p, newest domain.RefreshToken, successors int) (domain.RotateDecision, error) {
		switch {
		case p.RevokedAt != nil && newest.RevokedAt == nil:
			// Revoked alone while the family lives on: it is the successor
			// a grace retry replaced, which its phone said it never got.
			return domain.RotateDecision{RevokeFamily: true, Err: domain.Unauthorized("refresh token reused; all sessions of this login were revoked")}, nil
		case p.RevokedAt != nil:
			return domain.RotateDecision{}, domain.Unauthorized("refresh token revoked")
		case !now.Before(p.ExpiresAt):
			return domain.RotateDecision{}, domain.Unauthorized("refresh token expired")
		case p.UsedAt == nil:
			var next domain.RefreshToken
			newRaw, next = s.successor(raw, p, now)
			return domain.RotateDecision{Next: &next}, nil
		case now.Sub(*p.UsedAt) <= s.cfg.Grace && successors == 1 && newest.ParentID != nil && *newest.ParentID == p.ID && newest.UsedAt == nil && newest.RevokedAt == nil:
			// p was rotated moments ago and its successor never came back:
			// the phone lost the answer, or the requests of one console page
			// reached several replicas at once. The successor is derived
			// from p, so it is handed out again — the same token whichever
			// replica answers, however many ask within the window.
			if again, _ := s.successor(raw, p, now); hashToken(again) == newest.TokenHash {
				newRaw = again
				return domain.RotateDecision{Again: &newest}, nil
			}
			// A successor drawn at random (before successors were derived):
			// replace it.
			var next domain.RefreshToken
			newRaw, next = s.successor(raw, p, now)
			lost := newest.ID
			return domain.RotateDecision{Next: &next, RevokeTokenID: &lost}, nil
		default:
			return domain.RotateDecision{RevokeFamily: true, Err: domain.Unauthorized("refresh token reused; all sessions of this login were revoked")}, nil
		}
	})
	if err != nil {
		if dec.RevokeFamily {
			_ = s.store.LogAuth(ctx, nil, "", "refresh_reuse", requestID, nil)
		}
		return Tokens{}, err
	}
	next := dec.Next
	if next == nil {
		next = dec.Again
	}
	u, err := s.store.User(ctx, next.UserID)
	if err != nil {
		return Tokens{}, err
	}
	if !u.Active {
		return Tokens{}, domain.Unauthorized("account disabled")
	}
	access, err := s.issue(u, next.DeviceID, next.FamilyID, now)
	if err != nil {
		return Tokens{}, err
	}
	return Tokens{AccessToken: access, RefreshToken: newRaw, ExpiresIn: int(s.cfg.AccessTTL.Seconds()), User: u}, nil
}

// Logout revokes the refresh-token family of raw.
func (s *Service) Logout(ctx context.Context, raw string) error {
	if raw == "" {
		return domain.Invalid(domain.FieldError{Field: "/refresh_token", Reason: "required", Message: "refresh_token is required", MessageZH: "refresh_token不能为空"})
	}
	return s.store.RevokeRefreshFamily(ctx, hashToken(raw))
}

// Authenticate verifies an access token and loads the caller.
func (s *Service) Authenticate(ctx context.Context, token string) (domain.Principal, error) {
	t, err := s.VerifyToken(token)
	if err != nil {
		return domain.Principal{}, err
	}
	return s.Principal(ctx, t)
}

// Token is an access token whose signature and claims were checked; the
// account it names and its session were not (Principal does that).
type Token struct {
	UserID   uuid.UUID
	DeviceID string
	Session  uuid.UUID // the refresh-token family of the login
}

// VerifyToken checks an access token's signature and claims, without the
// database. Authenticate is VerifyToken then Principal; a caller that
// splits them must call Principal before it acts on the request.
func (s *Service) VerifyToken(token string) (Token, error) {
	// A token that verified once verifies the same way until it expires
	// (its bytes, signature included, are the cache key): the Ed25519
	// check is the largest CPU cost of authenticating a request.
	key := sha256.Sum256([]byte(token))
	now := s.now()
	if t, ok := s.verified.get(key, now, s.keys); ok {
		return t, nil
	}
	claims := &Claims{}
	parsed, err := jwt.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		pub, ok := s.keys.public(kid)
		if !ok {
			return nil, errors.New("unknown kid")
		}
		return pub, nil
	},
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithIssuer(s.cfg.Issuer),
		jwt.WithAudience(s.cfg.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(tokenLeeway),
		jwt.WithTimeFunc(s.now),
	)
	if err != nil {
		return Token{}, domain.Unauthorized("invalid access token")
	}
	id, err := uuid.Parse(claims.Subject)
	if err != nil {
		return Token{}, domain.Unauthorized("invalid access token")
	}
	session, err := uuid.Parse(claims.Session)
	if err != nil {
		return Token{}, domain.Unauthorized("invalid access token")
	}
	t := Token{UserID: id, DeviceID: claims.DeviceID, Session: session}
	kid, _ := parsed.Header["kid"].(string)
	var from time.Time // the token's iat or nbf, whichever is later
	for _, d := range []*jwt.NumericDate{claims.IssuedAt, claims.NotBefore} {
		if d != nil && d.After(from) {
			from = d.Time
		}
	}
	s.verified.put(key, now, verifiedToken{tok: t, kid: kid, from: from.Add(-tokenLeeway), until: claims.ExpiresAt.Add(tokenLeeway)})
	return t, nil
}

// tokenLeeway is the clock skew allowed on a token's times.
const tokenLeeway = 30 * time.Second

// verifiedTokens remembers access tokens that passed VerifyToken, by the
// SHA-256 of their bytes, for as long as they would pass again: within
// their times (leeway included) and while their signing key is still in
// the key ring. At most verifiedMax are kept.
type verifiedTokens struct {
	mu sync.Mutex
	m  map[[32]byte]verifiedToken
}

type verifiedToken struct {
	tok         Token
	kid         string
	from, until time.Time
}

const verifiedMax = 4096

func (v *verifiedTokens) get(key [32]byte, now time.Time, keys *KeyRing) (Token, bool) {
	v.mu.Lock()
	e, ok := v.m[key]
	v.mu.Unlock()
	if !ok || now.Before(e.from) || now.After(e.until) {
		return Token{}, false
	}
	if _, known := keys.public(e.kid); !known {
		return Token{}, false
	}
	return e.tok, true
}

func (v *verifiedTokens) put(key [32]byte, now time.Time, e verifiedToken) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.m == nil {
		v.m = make(map[[32]byte]verifiedToken)
	}
	if len(v.m) >= verifiedMax {
		for k, old := range v.m {
			if now.After(old.until) {
				delete(v.m, k)
			}
		}
		if len(v.m) >= verifiedMax {
			clear(v.m)
		}
	}
	v.m[key] = e
}

// Principal reloads the account a verified token names, so a deactivated
// account or a changed role or region applies at once, and ends the token
// with its login: after a logout or a detected refresh reuse, the access
// tokens of that login are refused at once, not 15 minutes later.
func (s *Service) Principal(ctx context.Context, t Token) (domain.Principal, error) {
	u, live, err := s.store.SessionUser(ctx, t.UserID, t.Session)
	return Admit(t, u, live, err)
}

// Admit is the rule Principal applies to the account a token names, as the
// store read it with the token's login (SessionUser's answer: the user,
// whether the login is in force, and the read's error): a user who is
// gone, disabled or signed out may not act. A caller that reads the
// account itself, with its own first query (a photo upload), judges it
// here.
func Admit(t Token, u domain.User, live bool, err error) (domain.Principal, error) {
	if err != nil {
		if domain.IsCode(err, domain.CodeNotFound) {
			return domain.Principal{}, domain.Unauthorized("invalid access token")
		}
		return domain.Principal{}, err
	}
	if !u.Active {
		return domain.Principal{}, domain.Unauthorized("account disabled")
	}
	if !live {
		return domain.Principal{}, domain.Unauthorized("this login has ended (signed out, or its refresh token was reused)")
	}
	return domain.Principal{UserID: u.ID, Username: u.Username, Role: u.Role, RegionID: u.RegionID, RegionPath: u.RegionPath, DeviceID: t.DeviceID,
		Duties: u.Duties}, nil
}

func (s *Service) issue(u domain.User, deviceID string, session uuid.UUID, now time.Time) (string, error) {
	kid, key := s.keys.signing()
	claims := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: s.cfg.Issuer, Subject: u.ID.String(), Audience: jwt.ClaimStrings{s.cfg.Audience},
			ExpiresAt: jwt.NewNumericDate(now.Add(s.cfg.AccessTTL)), IssuedAt: jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now), ID: uuid.NewString(),
		},
		Role: u.Role, DeviceID: deviceID, Session: session.String(),
	}
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	t.Header["kid"] = kid
	return t.SignedString(key)
}

func (s *Service) newRefresh(family, userID uuid.UUID, deviceID string, now time.Time) (string, domain.RefreshToken) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	raw := base64.RawURLEncoding.EncodeToString(b)
	return raw, domain.RefreshToken{ID: uuid.New(), FamilyID: family, UserID: userID, DeviceID: deviceID, TokenHash: hashToken(raw),
		CreatedAt: now, ExpiresAt: now.Add(s.cfg.RefreshTTL)}
}

// successor is the refresh token that replaces raw (the token p): an
// HMAC of raw under a key derived from the signing key, which every
// replica shares, so that rotating the same token twice — the phone's
// retry of a lost answer, two of a page's requests on two replicas — gives
// the same successor, and nothing outside the server can compute it. A new
// signing key gives new successors (only a token rotated in the minute
// around that restart is affected: its retry is taken as reuse).
func (s *Service) successor(raw string, p domain.RefreshToken, now time.Time) (string, domain.RefreshToken) {
	_, key := s.keys.signing()
	k := hmac.New(sha256.New, key.Seed())
	k.Write([]byte("fieldvisit refresh successor v1"))
	m := hmac.New(sha256.New, k.Sum(nil))
	m.Write([]byte(raw))
	next := base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	return next, domain.RefreshToken{ID: uuid.New(), FamilyID: p.FamilyID, UserID: p.UserID, DeviceID: p.DeviceID, TokenHash: hashToken(next),
		CreatedAt: now, ExpiresAt: now.Add(s.cfg.RefreshTTL)}
}

func hashToken(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])
}
