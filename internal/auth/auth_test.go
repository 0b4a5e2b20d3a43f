package auth

import (
	"context"
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// TestHasherBoundsConcurrentHashes: with every slot taken, a caller waits and
// gives up with "unavailable" when its context ends, instead of starting
// another 64 MiB hash.
func TestHasherBoundsConcurrentHashes(t *testing.T) {
	h := NewHasher(1)
	h.slots <- struct{}{} // the one slot is busy
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "a-long-password"); domain.ErrorCode(err) != domain.CodeUnavailable {
		t.Fatalf("want unavailable while the slot is busy, got %v", err)
	}
	<-h.slots
	hash, err := h.Hash(context.Background(), "a-long-password")
	if err != nil {
		t.Fatal(err)
	}
	for pw, want := range map[string]bool{"a-long-password": true, "another-password": false} {
		if ok, err := h.Verify(context.Background(), pw, hash); err != nil || ok != want {
			t.Errorf("Verify(%q) = %v, %v; want %v", pw, ok, err, want)
		}
	}
	if ok, _ := h.Verify(context.Background(), "x", ""); ok {
		t.Fatal("an unknown user (no hash) must never verify")
	}
}

// userStore is a fake holding users only: key rotation is pure logic.
type userStore struct {
	Store
	users map[uuid.UUID]domain.User
}

func (s userStore) User(_ context.Context, id uuid.UUID) (domain.User, error) {
	u, ok := s.users[id]
	if !ok {
		return domain.User{}, domain.NotFound("user")
	}
	return u, nil
}

// SessionUser finds every session in force.
func (s userStore) SessionUser(ctx context.Context, id, _ uuid.UUID) (domain.User, bool, error) {
	u, err := s.User(ctx, id)
	return u, true, err
}

// TestKeyRotation: a new key signs from the moment it is added; tokens of the
// old key keep working until the old key file is removed.
func TestKeyRotation(t *testing.T) {
	dir := t.TempDir()
	old, err := LoadOrCreateKeyRing(dir)
	if err != nil {
		t.Fatal(err)
	}
	u := domain.User{ID: uuid.New(), Username: "c", Role: domain.RoleCadre, Active: true, RegionPath: "/r/"}
	store := userStore{users: map[uuid.UUID]domain.User{u.ID: u}}
	now := time.Now()
	svcOld := NewService(store, old, nil, Config{}, func() time.Time { return now })
	tokOld, err := svcOld.issue(u, "phone", uuid.New(), now)
	if err != nil {
		t.Fatal(err)
	}
	oldKID, _ := old.SigningKey()
	newKID, err := GenerateKey(dir, now.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := LoadKeyRing(dir)
	if err != nil {
		t.Fatal(err)
	}
	if kid, _ := rotated.SigningKey(); kid != newKID || kid == oldKID {
		t.Fatalf("after rotation the new key %s must sign, got %s", newKID, kid)
	}
	svc := NewService(store, rotated, nil, Config{}, func() time.Time { return now })
	if _, err := svc.Authenticate(context.Background(), tokOld); err != nil {
		t.Fatalf("a token of the old key must verify during rotation: %v", err)
	}
	tokNew, _ := svc.issue(u, "phone", uuid.New(), now)
	if _, err := svcOld.Authenticate(context.Background(), tokNew); err == nil {
		t.Fatal("a replica without the new key must not accept its tokens")
	}
	// Once the old key file is gone, its tokens stop working.
	_, newKey := rotated.SigningKey()
	retired := NewKeyRing(newKID, map[string]ed25519.PrivateKey{newKID: newKey})
	svcRetired := NewService(store, retired, nil, Config{}, func() time.Time { return now })
	if _, err := svcRetired.Authenticate(context.Background(), tokOld); domain.ErrorCode(err) != domain.CodeUnauthorized {
		t.Fatalf("token of a removed key: want unauthorized, got %v", err)
	}
}

// TestVerifiedTokensStillExpire: a token verified once is not verified
// again (VerifyToken remembers it), but it still expires, another token
// is still checked in full, and the account is still reloaded each time.
func TestVerifiedTokensStillExpire(t *testing.T) {
	keys, err := LoadOrCreateKeyRing(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	u := domain.User{ID: uuid.New(), Username: "c", Role: domain.RoleCadre, Active: true, RegionPath: "/r/"}
	store := userStore{users: map[uuid.UUID]domain.User{u.ID: u}}
	now := time.Now()
	svc := NewService(store, keys, nil, Config{}, func() time.Time { return now })
	tok, err := svc.issue(u, "phone", uuid.New(), now)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; i < 2; i++ { // the second time from memory
		if p, err := svc.Authenticate(ctx, tok); err != nil || p.UserID != u.ID || p.DeviceID != "phone" {
			t.Fatalf("authenticate #%d: %+v, %v", i+1, p, err)
		}
	}
	// Another signature on the same claims is another token.
	forged := tok[:len(tok)-4] + map[bool]string{true: "AAAA", false: "BBBB"}[!strings.HasSuffix(tok, "AAAA")]
	if _, err := svc.Authenticate(ctx, forged); domain.ErrorCode(err) != domain.CodeUnauthorized {
		t.Fatalf("forged signature: want unauthorized, got %v", err)
	}
	// The account is reloaded on every request, token remembered or not.
	off := u
	off.Active = false
	store.users[u.ID] = off
	if _, err := svc.Authenticate(ctx, tok); domain.ErrorCode(err) != domain.CodeUnauthorized {
		t.Fatalf("deactivated account: want unauthorized, got %v", err)
	}
	store.users[u.ID] = u
	now = now.Add(16 * time.Minute) // past the 15-minute lifetime and the leeway
	if _, err := svc.Authenticate(ctx, tok); domain.ErrorCode(err) != domain.CodeUnauthorized {
		t.Fatalf("expired token: want unauthorized, got %v", err)
	}
}
