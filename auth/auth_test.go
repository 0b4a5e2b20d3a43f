package auth

import (
	"context"
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/google/uuid"

	"fieldvisit/domain"
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
	tokOld, err := svcOld.issue(u, "phone", now)
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
	tokNew, _ := svc.issue(u, "phone", now)
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
