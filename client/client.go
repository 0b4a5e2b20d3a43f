package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/wire"
)

// Errors the client returns.
var (
	ErrLocked        = errors.New("client: the state directory is in use by another client")
	ErrClosed        = errors.New("client: closed")
	ErrLoginRequired = errors.New("client: not logged in, or the session was revoked: log in again")
	ErrNotFound      = errors.New("client: no such record on this phone")
	ErrOtherUser     = errors.New("client: this phone holds unsent changes of another user; sync them before switching users")
	ErrNoUser        = errors.New("client: log in once before recording (the phone does not know who it belongs to)")
)

// Backoff bounds the waits between retries: exponential from Min to Max with
// jitter; a Retry-After from the server is always waited out. Attempts bounds
// the tries of one request within one call (0: default 10); the batch being
// pushed stays queued with its key when a call gives up.
type Backoff struct {
	Min      time.Duration
	Max      time.Duration
	Attempts int
}

// Config configures a Client.
type Config struct {
	BaseURL  string // e.g. http://127.0.0.1:8080 (without /api/v1)
	DeviceID string // stable per installation; kept in Dir on first open
	Dir      string // on-disk state: tokens, local replica, outbox, cursor

	HTTPClient *http.Client     // default: a client without overall timeout
	Now        func() time.Time // the phone's clock (possibly wrong); default time.Now
	Backoff    Backoff          // default 500ms … 1m, 10 attempts
	Timeout    time.Duration    // one attempt's deadline (default 2m)
	Logf       func(format string, args ...any)

	// Credentials, when set, lets the client log in again by itself when
	// the refresh token is dead (expired, revoked, or lost after a crash).
	Credentials func(ctx context.Context) (username, password string, err error)
	// OnOutcome is told every per-change outcome as a push is acknowledged.
	OnOutcome func(Outcome)

	PullLimit int // changes per pull page (default 500, at most 2000)
	// PagedSnapshot makes a fresh pull page through the scope instead of
	// asking for it whole (GET /api/v1/sync/snapshot), as the client also
	// does by itself once a snapshot was refused or failed.
	PagedSnapshot bool
	BatchChanges  int // changes per push batch (default and at most 500)
	BatchBytes    int // bytes per push body (default 900 KiB)
	// PhotoChunk is the size of the first chunk of a photo upload (default
	// 64 KiB); later chunks follow the link's measured pace
	// (photo_upload.go).
	PhotoChunk    int64
	KeepOutcomes  int // outcomes kept on disk for Outcomes() (default 1000)
	Seed          uint64
	Sleep         func(ctx context.Context, d time.Duration) error // default: a timer
	NoFsync       bool                                             // skip fsync (tests of pure logic only)
	NoLocalChecks bool                                             // queue edits without validating them first

	// AppVersion is sent as X-App-Version on every sync (at most 64
	// printable ASCII characters; the server ignores anything else).
	AppVersion string
}

// Client is a phone's view of the service: a local replica of the cadre's
// scope, an outbox of changes made offline, and the sync protocol. It is
// safe for concurrent use; Push, Pull and Sync run one at a time.
type Client struct {
	cfg  Config
	hc   *http.Client
	disk *diskStore
	lock *os.File

	mu     sync.Mutex // guards everything below and the files
	st     *state
	broken error
	closed bool
	rnd    *rand.Rand

	syncMu sync.Mutex // one push or pull at a time
	authMu sync.Mutex // one token refresh at a time

	pageSnapshots bool // under syncMu: a whole snapshot was refused or failed; page instead

	photoMu sync.Mutex // one photo uploader at a time
	chunks  chunkSizer // under photoMu

	// stepHook, set only by tests (export_test.go), is told each named
	// step of the photo outbox as it is passed, so that a test can kill
	// the process exactly there.
	stepHook func(step string)

	bodies bodyCoding // whether bodies go gzipped (encoding.go)
}

// New opens (or creates) the state in cfg.Dir. A process that was killed
// mid-push finds its batch, with the same Idempotency-Key, still queued.
func New(cfg Config) (*Client, error) {
	if cfg.Dir == "" {
		return nil, errors.New("client: Config.Dir is required")
	}
	if cfg.BaseURL == "" {
		return nil, errors.New("client: Config.BaseURL is required")
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Backoff.Min <= 0 {
		cfg.Backoff.Min = 500 * time.Millisecond
	}
	if cfg.Backoff.Max < cfg.Backoff.Min {
		cfg.Backoff.Max = max(time.Minute, cfg.Backoff.Min)
	}
	if cfg.Backoff.Attempts <= 0 {
		cfg.Backoff.Attempts = 10
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Minute
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if cfg.PullLimit <= 0 || cfg.PullLimit > 2000 {
		cfg.PullLimit = 500
	}
	if cfg.BatchChanges <= 0 || cfg.BatchChanges > wire.MaxPushChanges {
		cfg.BatchChanges = wire.MaxPushChanges
	}
	if cfg.BatchBytes <= 0 {
		cfg.BatchBytes = 900 << 10
	}
	if cfg.KeepOutcomes <= 0 {
		cfg.KeepOutcomes = 1000
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleepCtx
	}
	if cfg.PhotoChunk <= 0 {
		cfg.PhotoChunk = photoChunkStart
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	lk, err := lockDir(cfg.Dir)
	if err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg, hc: cfg.HTTPClient, lock: lk, disk: &diskStore{dir: cfg.Dir, noSync: cfg.NoFsync}, chunks: newChunkSizer(cfg.PhotoChunk)}
	seed := cfg.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	c.rnd = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	body, recovered, err := c.disk.load()
	if err != nil {
		unlockDir(lk)
		return nil, err
	}
	if recovered != "" {
		cfg.Logf("client: ignored damaged state slot %s (a save was interrupted); using the last complete save", recovered)
	}
	st := newState()
	if body != nil {
		if err := json.Unmarshal(body, st); err != nil {
			unlockDir(lk)
			return nil, fmt.Errorf("client: decode state: %w", err)
		}
		st.init()
	}
	switch {
	case st.DeviceID == "" && cfg.DeviceID == "":
		st.DeviceID = "go-" + uuid.NewString()
	case st.DeviceID == "":
		st.DeviceID = cfg.DeviceID
	case cfg.DeviceID != "" && cfg.DeviceID != st.DeviceID:
		unlockDir(lk)
		return nil, fmt.Errorf("client: Dir belongs to device %q, not %q", st.DeviceID, cfg.DeviceID)
	}
	c.cfg.DeviceID = st.DeviceID
	c.st = st
	c.sweepPhotoFiles()
	if body == nil {
		if err := c.saveLocked(); err != nil {
			unlockDir(lk)
			return nil, err
		}
	}
	return c, nil
}

// Close releases the state directory. It writes nothing: everything was
// saved when it happened.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	return unlockDir(c.lock)
}

// DeviceID is the phone's device id.
func (c *Client) DeviceID() string { return c.cfg.DeviceID }

// User is the logged-in user, if any.
func (c *Client) User() (wire.User, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st.User == nil {
		return wire.User{}, false
	}
	return *c.st.User, true
}

// LoggedIn reports whether the client holds a session.
func (c *Client) LoggedIn() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.RefreshToken != ""
}

// Cursor is the stored pull cursor ("" before the first complete page).
func (c *Client) Cursor() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.Cursor
}

// Pending is the number of changes not yet acknowledged by the server: the
// queued ones plus the batch in flight.
func (c *Client) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.st.Outbox)
	if c.st.Inflight != nil {
		n += len(c.st.Inflight.Changes)
	}
	return n
}

// PendingChanges lists the unacknowledged changes, in the order they will be
// sent (the batch in flight first).
func (c *Client) PendingChanges() []wire.Change {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []wire.Change
	if b := c.st.Inflight; b != nil {
		for _, p := range b.Changes {
			out = append(out, p.Change)
		}
	}
	for _, p := range c.st.Outbox {
		out = append(out, p.Change)
	}
	return out
}

// InflightKey is the Idempotency-Key of the batch in flight ("" if none).
func (c *Client) InflightKey() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st.Inflight == nil {
		return ""
	}
	return c.st.Inflight.Key
}

// Outcomes returns the most recent per-change outcomes (Config.KeepOutcomes),
// oldest first; they survive restarts.
func (c *Client) Outcomes() []Outcome {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Outcome(nil), c.st.Outcomes...)
}

// Failed returns changes whose whole batch the server refused (400, 413 for
// a single change, 422): they are kept, not sent again, until RequeueFailed.
func (c *Client) Failed() []Outcome {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Outcome(nil), c.st.Failed...)
}

// RequeueFailed puts the failed changes back at the end of the outbox.
func (c *Client) RequeueFailed() (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.usableLocked(); err != nil {
		return 0, err
	}
	n := len(c.st.Failed)
	for _, o := range c.st.Failed {
		c.st.NextSeq++
		c.st.Outbox = append(c.st.Outbox, &pending{Seq: c.st.NextSeq, Change: o.Change, MadeAt: o.At})
	}
	c.st.Failed = nil
	return n, c.saveLocked()
}

// saveFailed reports whether a save failed (the client is then broken).
func (c *Client) saveFailed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.broken != nil
}

func (c *Client) usableLocked() error {
	if c.closed {
		return ErrClosed
	}
	return c.broken
}

// saveLocked writes the whole state. A failed save leaves memory ahead of the
// disk, so the client refuses further work: reopen it from Dir.
func (c *Client) saveLocked() error {
	if c.broken != nil {
		return c.broken
	}
	b, err := json.Marshal(c.st)
	if err != nil {
		c.broken = fmt.Errorf("client: encode state: %w", err)
		return c.broken
	}
	if err := c.disk.save(b); err != nil {
		c.broken = fmt.Errorf("%w (reopen the client)", err)
		return c.broken
	}
	return nil
}

func (c *Client) logf(format string, args ...any) { c.cfg.Logf(format, args...) }

func (c *Client) step(name string) {
	if c.stepHook != nil {
		c.stepHook(name)
	}
}

func (c *Client) now() time.Time { return c.cfg.Now() }

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
