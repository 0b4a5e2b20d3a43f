package auth

import (
	"context"
	"runtime"
	"time"

	"github.com/alexedwards/argon2id"
	"golang.org/x/sync/semaphore"

	"github.com/fieldvisit/fieldvisit/domain"
)

// PasswordParams are the argon2id parameters of new hashes: OWASP's
// recommended minimum for argon2id (19 MiB, 2 passes, 1 lane). A hash
// keeps the parameters it was made with (they are encoded in it), so hashes
// made with other ones keep verifying; a login with one re-hashes the
// password with these (NeedsRehash).
var PasswordParams = argon2id.Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// hashWait is how long a hash may wait for memory before the caller is
// told to come back (503 with Retry-After): a login storm is served in
// turn, but no one waits unboundedly.
const hashWait = 10 * time.Second

// Hasher hashes and checks passwords with argon2id. Each hash holds its
// parameters' memory (tens of megabytes) for as long as it runs, so the
// hashes running at once share a memory budget: a hash takes its memory
// from the budget before it starts, in arrival order, and gives it back
// when it ends. A login storm queues (or gets 503 after hashWait, or when
// the caller goes away) instead of growing the server's memory with it.
type Hasher struct {
	params *argon2id.Params
	budget int64 // KiB of argon2id memory all running hashes may hold together
	mem    *semaphore.Weighted
	dummy  string // a real hash to compare against for unknown users, so timing does not reveal which usernames exist
}

// NewHasher returns a hasher whose memory budget is concurrency hashes of
// PasswordParams at once (0 = the number of CPUs, as more hashes at once
// only share the CPUs).
func NewHasher(concurrency int) *Hasher {
	return newHasher(concurrency, PasswordParams)
}

// NewHasherWithParams is NewHasher for hashes made with p instead of
// PasswordParams. Production never calls it: it is for tests that build a
// whole app many times over and are not about hashing's cost (a fixture
// hashing every account at production cost spends seconds of CPU per test).
func NewHasherWithParams(concurrency int, p argon2id.Params) *Hasher {
	return newHasher(concurrency, p)
}

func newHasher(concurrency int, p argon2id.Params) *Hasher {
	if concurrency <= 0 {
		concurrency = runtime.NumCPU()
	}
	budget := int64(concurrency) * int64(p.Memory)
	h := &Hasher{params: &p, budget: budget, mem: semaphore.NewWeighted(budget)}
	h.dummy, _ = argon2id.CreateHash("fieldvisit-dummy-password", &p)
	return h
}

// cost is the budget a hash made with p takes: its memory, and all of the
// budget when it needs more (an old hash with larger parameters runs
// alone rather than never).
func (h *Hasher) cost(p *argon2id.Params) int64 {
	return min(int64(p.Memory), h.budget)
}

func (h *Hasher) acquire(ctx context.Context, n int64) error {
	wctx, cancel := context.WithTimeout(ctx, hashWait)
	defer cancel()
	if err := h.mem.Acquire(wctx, n); err != nil {
		if ctx.Err() != nil {
			return domain.Unavailable("password hashing", 2*time.Second, ctx.Err())
		}
		return domain.Unavailable("password hashing", 2*time.Second, nil)
	}
	return nil
}

// Hash returns the encoded argon2id hash of password, with PasswordParams.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	n := h.cost(h.params)
	if err := h.acquire(ctx, n); err != nil {
		return "", err
	}
	defer h.mem.Release(n)
	return argon2id.CreateHash(password, h.params)
}

// Verify reports whether password matches hash, computed with the
// parameters encoded in hash. An empty hash (unknown user) is checked
// against a dummy so the answer takes as long; a malformed one never
// matches.
func (h *Hasher) Verify(ctx context.Context, password, hash string) (bool, error) {
	target := hash
	if target == "" {
		target = h.dummy
	}
	p, _, _, err := argon2id.DecodeHash(target)
	if err != nil {
		return false, nil // a malformed stored hash never logs anyone in
	}
	n := h.cost(p)
	if err := h.acquire(ctx, n); err != nil {
		return false, err
	}
	defer h.mem.Release(n)
	ok, err := argon2id.ComparePasswordAndHash(password, target)
	return ok && err == nil && hash != "", nil
}

// NeedsRehash reports whether hash was made with other parameters than
// new hashes get, so a login that proved the password should store a new
// hash of it.
func (h *Hasher) NeedsRehash(hash string) bool {
	p, _, _, err := argon2id.DecodeHash(hash)
	return err == nil && *p != *h.params
}
