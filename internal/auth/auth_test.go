package auth

import (
	"context"
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"
	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// TestHasherQueuesHashesWithinItsMemoryBudget: the hashes running at once
// hold at most the budget (concurrency × the parameters' memory); one more
// waits in turn, starts when memory is given back, and gives up with
// "unavailable" when its caller goes away, instead of growing the heap.
func TestHasherQueuesHashesWithinItsMemoryBudget(t *testing.T) {
	small := argon2id.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}
	h := newHasher(2, small)
	if h.budget != 2048 {
		t.Fatalf("budget %d KiB, want 2 hashes of 1024", h.budget)
	}
	big := argon2id.Params{Memory: 64 * 1024, Iterations: 1, Parallelism: 2, SaltLength: 16, KeyLength: 32}
	if got := h.cost(&big); got != h.budget {
		t.Errorf("a hash larger than the budget costs %d, want the whole budget %d (it runs alone)", got, h.budget)
	}
	if !h.mem.TryAcquire(h.budget) {
		t.Fatal("budget not free at the start")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "a-long-password"); domain.ErrorCode(err) != domain.CodeUnavailable {
		t.Fatalf("want unavailable while the budget is held, got %v", err)
	}
	if _, err := h.Verify(ctx, "a-long-password", h.dummy); domain.ErrorCode(err) != domain.CodeUnavailable {
		t.Fatalf("want unavailable from Verify while the budget is held, got %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := h.Hash(context.Background(), "a-long-password")
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("a hash ran beyond the budget (%v)", err)
	case <-time.After(50 * time.Millisecond):
	}
	h.mem.Release(h.budget)
	if err := <-done; err != nil {
		t.Fatalf("the queued hash, once memory was free: %v", err)
	}
	if !h.mem.TryAcquire(h.budget) {
		t.Fatal("a finished hash kept its memory from the budget")
	}
}

// TestHasherVerifiesOldHashesAndAsksForRehash: a hash verifies with the
// parameters encoded in it (the 64 MiB ones of earlier versions too); one
// not made with PasswordParams asks to be re-hashed at login.
func TestHasherVerifiesOldHashesAndAsksForRehash(t *testing.T) {
	h := NewHasher(1)
	current, err := h.Hash(context.Background(), "a-long-password")
	if err != nil {
		t.Fatal(err)
	}
	old, err := argon2id.CreateHash("a-long-password", &argon2id.Params{Memory: 64 * 1024, Iterations: 1, Parallelism: 2, SaltLength: 16, KeyLength: 32})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(current, "m=19456,t=2,p=1") {
		t.Errorf("new hash %q is not made with OWASP's m=19456,t=2,p=1", current)
	}
	for _, tc := range []struct {
		name, password, hash string
		ok, rehash           bool
	}{
		{"current parameters", "a-long-password", current, true, false},
		{"current parameters, wrong password", "another-password", current, false, false},
		{"earlier 64 MiB parameters", "a-long-password", old, true, true},
		{"earlier parameters, wrong password", "another-password", old, false, true},
		{"unknown user (no hash)", "a-long-password", "", false, false},
		{"malformed stored hash", "a-long-password", "$argon2id$v=19$nonsense", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := h.Verify(context.Background(), tc.password, tc.hash)
			if err != nil || ok != tc.ok {
				t.Errorf("Verify = %v, %v; want %v", ok, err, tc.ok)
			}
			if got := h.NeedsRehash(tc.hash); got != tc.rehash {
				t.Errorf("NeedsRehash = %v, want %v", got, tc.rehash)
			}
		})
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
