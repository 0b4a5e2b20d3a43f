package auth

import (
	"context"
	"runtime"
	"time"

	"github.com/alexedwards/argon2id"

	"github.com/fieldvisit/fieldvisit/domain"
)

// Hasher hashes and checks passwords with argon2id. Each hash takes tens of
// megabytes, so a semaphore bounds how many run at once: a login storm waits
// (or gets 503) instead of exhausting memory.
type Hasher struct {
	params *argon2id.Params
	slots  chan struct{}
	dummy  string // a real hash to compare against for unknown users, so timing does not reveal which usernames exist
}

// NewHasher returns a hasher allowing concurrency hashes at once (0 = number of CPUs).
func NewHasher(concurrency int) *Hasher {
	if concurrency <= 0 {
		concurrency = runtime.NumCPU()
	}
	p := &argon2id.Params{Memory: 64 * 1024, Iterations: 1, Parallelism: 2, SaltLength: 16, KeyLength: 32}
	h := &Hasher{params: p, slots: make(chan struct{}, concurrency)}
	h.dummy, _ = argon2id.CreateHash("fieldvisit-dummy-password", p)
	return h
}

func (h *Hasher) acquire(ctx context.Context) error {
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return domain.Unavailable("password hashing", 2*time.Second, ctx.Err())
	case <-t.C:
		return domain.Unavailable("password hashing", 2*time.Second, nil)
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash returns the encoded argon2id hash of password.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return argon2id.CreateHash(password, h.params)
}

// Verify reports whether password matches hash. An empty hash (unknown
// user) is checked against a dummy so the answer takes as long.
func (h *Hasher) Verify(ctx context.Context, password, hash string) (bool, error) {
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	if hash == "" {
		_, _ = argon2id.ComparePasswordAndHash(password, h.dummy)
		return false, nil
	}
	ok, err := argon2id.ComparePasswordAndHash(password, hash)
	if err != nil {
		return false, nil // a malformed stored hash never logs anyone in
	}
	return ok, nil
}
