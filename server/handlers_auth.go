package server

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/auth"
	"github.com/fieldvisit/fieldvisit/internal/photos"
	"github.com/fieldvisit/fieldvisit/wire"
)

func (h *handlers) login(c *gin.Context) {
	var in wire.Login
	if err := bindJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	t, err := h.Auth.Login(c.Request.Context(), in.Username, in.Password, in.DeviceID, c.ClientIP(), requestID(c))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, wire.Tokens{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, TokenType: "Bearer", ExpiresIn: t.ExpiresIn, User: wire.FromUser(t.User)})
}

func (h *handlers) refresh(c *gin.Context) {
	var in wire.RefreshToken
	if err := bindJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	t, err := h.Auth.Refresh(c.Request.Context(), in.RefreshToken, requestID(c))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, wire.Tokens{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, TokenType: "Bearer", ExpiresIn: t.ExpiresIn, User: wire.FromUser(t.User)})
}

func (h *handlers) logout(c *gin.Context) {
	var in wire.RefreshToken
	if err := bindJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	if err := h.Auth.Logout(c.Request.Context(), in.RefreshToken); err != nil {
		writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// bearerToken is the request's bearer token; without one it answers 401
// and reports false.
func bearerToken(c *gin.Context) (string, bool) {
	token, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
	if token = strings.TrimSpace(token); !ok || token == "" {
		writeError(c, domain.Unauthorized("missing bearer token"))
		return "", false
	}
	return token, true
}

// authenticate requires a valid bearer access token and puts the caller on
// the context.
func (h *handlers) authenticate(c *gin.Context) {
	token, ok := bearerToken(c)
	if !ok {
		return
	}
	p, err := h.Auth.Authenticate(c.Request.Context(), token)
	if err != nil {
		writeError(c, err)
		return
	}
	setPrincipal(c, p)
	c.Next()
}

// setPrincipal puts the caller on the request's context, with what the
// services record about the request (its id, and the route as the why of
// an audit entry).
func setPrincipal(c *gin.Context, p domain.Principal) domain.Principal {
	p.RequestID, p.Route = requestID(c), c.Request.Method+" "+c.FullPath()
	c.Set(ctxPrincipal, p)
	return p
}

// authenticateToken is authenticate without reloading the account: it
// checks the bearer token's signature and claims only, and a handler behind
// it must get the caller from accountCheck before it acts (the photo
// upload reloads the account while it reads the photo's state).
func (h *handlers) authenticateToken(c *gin.Context) {
	token, ok := bearerToken(c)
	if !ok {
		return
	}
	t, err := h.Auth.VerifyToken(token)
	if err != nil {
		writeError(c, err)
		return
	}
	c.Set(ctxToken, t)
	c.Next()
}

// accountCheck returns the check of the account behind a token that
// authenticateToken verified: it reloads the account (refusing one that
// is gone or deactivated, as authenticate does) and puts the caller on the
// context. Call it from the request's goroutine.
func (h *handlers) accountCheck(c *gin.Context) func() (domain.Principal, error) {
	return func() (domain.Principal, error) {
		t, ok := c.Get(ctxToken)
		if !ok {
			return domain.Principal{}, domain.Unauthorized("missing bearer token")
		}
		p, err := h.Auth.Principal(c.Request.Context(), t.(auth.Token))
		if err != nil {
			return domain.Principal{}, err
		}
		return setPrincipal(c, p), nil
	}
}

// uploadLogin is the login of the token authenticateToken verified, for a
// photo upload to read its account with the photo's state; the account is
// judged by auth.Admit, as accountCheck's is, and an admitted caller put
// on the context.
func uploadLogin(c *gin.Context) photos.Login {
	t, _ := c.Get(ctxToken)
	tok, _ := t.(auth.Token)
	return photos.Login{UserID: tok.UserID, Session: tok.Session, Admit: func(u domain.User, live bool, err error) (domain.Principal, error) {
		p, err := auth.Admit(tok, u, live, err)
		if err != nil {
			return domain.Principal{}, err
		}
		return setPrincipal(c, p), nil
	}}
}

func principalOf(c *gin.Context) (domain.Principal, bool) {
	v, ok := c.Get(ctxPrincipal)
	if !ok {
		return domain.Principal{}, false
	}
	p, ok := v.(domain.Principal)
	return p, ok
}

func principal(c *gin.Context) domain.Principal {
	p, _ := principalOf(c)
	return p
}

func (h *handlers) me(c *gin.Context) {
	u, err := h.Registry.User(c.Request.Context(), principal(c), principal(c).UserID)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, wire.FromUser(u))
}

func (h *handlers) vocabularies(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=3600")
	lists := map[string]domain.Vocabulary{
		"region_levels": domain.RegionLevels, "poverty_types": domain.PovertyTypes, "statuses": domain.Statuses,
		"causes": domain.Causes, "housing_structures": domain.HousingStructures, "housing_safety_grades": domain.HousingSafetyGrades,
		"relations": domain.Relations, "health_states": domain.HealthStates, "disabilities": domain.Disabilities,
		"education_levels": domain.EducationLevels, "work_states": domain.WorkStates, "roles": domain.Roles,
		"ranks": domain.Ranks, "duties": domain.Duties,
		"visit_kinds": domain.VisitKinds, "measures": domain.Measures, "checklist_items": domain.ChecklistItems,
		"checklist_answers": domain.ChecklistAnswers, "gps_providers": domain.GPSProviders, "visit_flags": domain.VisitFlags,
		"plan_routes": domain.PlanRoutes, "plan_item_states": domain.PlanItemStates,
		"risk_triggers": domain.RiskTriggers, "relapse_causes": domain.RelapseCauses, "income_sources": domain.IncomeSources,
	}
	out := make(map[string][]wire.Term, len(lists))
	for name, v := range lists {
		out[name] = wire.FromVocabulary(v)
	}
	c.JSON(http.StatusOK, out)
}
