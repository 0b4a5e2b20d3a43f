package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/auth"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	"github.com/fieldvisit/fieldvisit/server"
)

// sessionStore fakes the auth port for one supervisor whose login is in
// force; calls the test does not expect reach the nil interface and panic.
type sessionStore struct {
	auth.Store
	user domain.User
	hash string
}

func (s sessionStore) UserCredentials(context.Context, string) (domain.User, string, error) {
	return s.user, s.hash, nil
}
func (s sessionStore) SessionUser(context.Context, uuid.UUID, uuid.UUID) (domain.User, bool, error) {
	return s.user, true, nil
}
func (s sessionStore) LockedUntil(context.Context, string, time.Time) (time.Time, error) {
	return time.Time{}, nil
}
func (s sessionStore) TouchDevice(context.Context, uuid.UUID, string, time.Time) (domain.Device, error) {
	return domain.Device{}, nil
}
func (s sessionStore) DeviceInUse(context.Context, uuid.UUID, string) (bool, error) { return true, nil }
func (s sessionStore) ClearLoginFailures(context.Context, string) error             { return nil }
func (s sessionStore) SaveRefreshToken(context.Context, domain.RefreshToken) error  { return nil }
func (s sessionStore) LogAuth(context.Context, *uuid.UUID, string, string, string, map[string]any) error {
	return nil
}

// failingRegister fakes the register's port: reading a household fails
// with err.
type failingRegister struct {
	registry.Store
	err error
}

func (f failingRegister) Household(context.Context, domain.HouseholdScope, domain.Date, uuid.UUID) (domain.Household, error) {
	return domain.Household{}, f.err
}

// TestHandlersMapStoreFailures drives a real route through the real router
// with fakes of the auth and register ports, and checks that whatever the
// store fails with reaches the client through the one problem table: the
// status, the problem type and the retry hint, and never the cause's text.
func TestHandlersMapStoreFailures(t *testing.T) {
	ctx := context.Background()
	hasher := auth.NewHasher(1)
	hash, err := hasher.Hash(ctx, "a-long-enough-password")
	if err != nil {
		t.Fatal(err)
	}
	region := uuid.New()
	sup := domain.User{ID: uuid.New(), Username: "sup", Role: domain.RoleSupervisor, RegionID: region, RegionPath: "/" + region.String() + "/", Active: true}
	keys, err := auth.LoadOrCreateKeyRing(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	authn := auth.NewService(sessionStore{user: sup, hash: hash}, keys, hasher, auth.Config{}, nil)
	cause := errors.New("dial tcp 10.1.2.3:5432: connection refused")
	cases := []struct {
		name       string
		err        error
		status     int
		problem    string
		retryAfter string
	}{
		{"absent or out of scope", domain.NotFound("household"), http.StatusNotFound, "not_found", ""},
		{"the database is down", domain.Unavailable("database", 2*time.Second, cause), http.StatusServiceUnavailable, "unavailable", "2"},
		{"a lost race", domain.LostRace(cause), http.StatusConflict, "conflict", "1"},
		{"a bug", cause, http.StatusInternalServerError, "internal", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := server.New(server.Deps{Auth: authn, Registry: registry.NewService(failingRegister{err: tc.err}, hasher, nil)})
			tok, err := authn.Login(ctx, "sup", "a-long-enough-password", "laptop", "192.0.2.1", "test")
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest("GET", "/api/v1/households/"+uuid.NewString(), nil)
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			var p server.Problem
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			if rec.Code != tc.status || p.Type != server.ProblemType(domain.Code(tc.problem)) || rec.Header().Get("Retry-After") != tc.retryAfter {
				t.Fatalf("%d %s Retry-After %q, want %d %s %q", rec.Code, p.Type, rec.Header().Get("Retry-After"), tc.status, tc.problem, tc.retryAfter)
			}
			if strings.Contains(rec.Body.String(), "10.1.2.3") {
				t.Fatalf("the answer reveals the cause: %s", rec.Body)
			}
		})
	}
}
