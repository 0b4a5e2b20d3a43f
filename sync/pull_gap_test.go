package sync_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	gosync "sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	"github.com/fieldvisit/fieldvisit/internal/testkit/storetest"
	"github.com/fieldvisit/fieldvisit/storage"
	fvsync "github.com/fieldvisit/fieldvisit/sync"
	"github.com/fieldvisit/fieldvisit/wire"
)

type gapEnv struct {
	store      *storage.Store
	svc        *fvsync.Service
	supervisor domain.Principal
	households []domain.Household
}

// newGapEnv makes a PostgreSQL county with n households and a supervisor.
// newGapEnv is a county of n households of members members each, and a
// supervisor over it.
func newGapEnv(t *testing.T, n, members int) *gapEnv {
	t.Helper()
	ctx := context.Background()
	st := storage.NewStore(storetest.Open(t, "postgres"), nil)
	county := uuid.New()
	path := "/" + county.String() + "/"
	if err := st.CreateRegion(ctx, domain.Region{ID: county, Level: domain.LevelCounty, Code: "410122000000", Name: "县", Path: path, CountyID: &county}, domain.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	e := &gapEnv{store: st, svc: fvsync.NewService(st.Sync(), fvsync.Config{}, time.Now, nil),
		supervisor: domain.Principal{UserID: uuid.New(), Role: domain.RoleSupervisor, RegionPath: path}}
	now := time.Now().UTC()
	for i := 0; i < n; i++ {
		h := domain.Household{ID: uuid.New(), CountyID: county, RegionID: county, VillageID: county, Status: domain.StatusEdge, Version: 1,
			HouseholdDetails: domain.HouseholdDetails{HeadName: fmt.Sprintf("户%d", i), Causes: []string{}}, CreatedAt: now, UpdatedAt: now}
		ms := make([]domain.Member, members)
		for j := range ms {
			ms[j] = domain.Member{ID: uuid.New(), HouseholdID: h.ID, CountyID: county, Version: 1, CreatedAt: now, UpdatedAt: now,
				MemberDetails: domain.MemberDetails{Name: fmt.Sprintf("成员%d", j), Relation: "child"}}
		}
		err := st.CreateHousehold(ctx, registry.HouseholdRegistration{Household: h, RegionPath: path, Members: ms,
			Status: domain.StatusChange{ID: uuid.New(), CountyID: county, HouseholdID: h.ID, To: domain.StatusEdge, EffectiveOn: domain.DateOf(now), RecordedAt: now}})
		if err != nil {
			t.Fatal(err)
		}
		e.households = append(e.households, h)
	}
	return e
}

// pull reads the feed from cursor to its end, returning the highest
// version seen per household.
func (e *gapEnv) pull(t *testing.T, cursor string, seen map[uuid.UUID]int64) string {
	t.Helper()
	for {
		end, err := e.svc.Pull(context.Background(), e.supervisor, cursor, 7, &lockedPage{emit: func(c wire.PulledChange) error {
			if c.Entity == wire.EntityHousehold && c.Version > seen[c.ID] {
				seen[c.ID] = c.Version
			}
			return nil
		}})
		if err != nil {
			t.Fatal(err)
		}
		cursor = end.Cursor
		if !end.HasMore {
			return cursor
		}
	}
}

// snapshot starts a fresh phone with a snapshot (the client's first
// pull), then pulls the feed to its end.
func (e *gapEnv) snapshot(t *testing.T, seen map[uuid.UUID]int64) string {
	t.Helper()
	page := &lockedPage{emit: func(c wire.PulledChange) error {
		if c.Entity == wire.EntityHousehold && c.Version > seen[c.ID] {
			seen[c.ID] = c.Version
		}
		return nil
	}}
	end, err := e.svc.Snapshot(context.Background(), e.supervisor, 7, page)
	if err != nil {
		t.Fatal(err)
	}
	if end.HasMore {
		return e.pull(t, end.Cursor, seen)
	}
	return end.Cursor
}

// lockedPage hands every part of a snapshot page to one emit function,
// one change at a time.
type lockedPage struct {
	mu   gosync.Mutex
	emit func(wire.PulledChange) error
}

func (p *lockedPage) Part() func(wire.PulledChange) error {
	return func(c wire.PulledChange) error {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.emit(c)
	}
}

func bump(ctx context.Context, tx *storage.Store, h domain.Household, from int64, phone string) error {
	h.Version, h.Phone, h.UpdatedAt = from+1, phone, time.Now()
	return tx.SaveHouseholdDetails(ctx, h, from, uuid.Nil)
}

// TestPullNeverSkipsALateCommit is the classic gap: writer A starts first
// and takes its feed row first, writer B commits first, a phone pulls
// (seeing B), then A commits. With rows numbered at insert the phone's
// cursor would already be past A's number and A would be lost forever.
func TestPullNeverSkipsALateCommit(t *testing.T) {
	e := newGapEnv(t, 2, 0)
	ctx := context.Background()
	x, y := e.households[0], e.households[1]
	seen := map[uuid.UUID]int64{}
	cursor := e.pull(t, "", seen)

	started, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- e.store.Tx(ctx, func(tx *storage.Store) error {
			if err := bump(ctx, tx, x, 1, "13800000001"); err != nil {
				return err
			}
			close(started)
			<-release // hold the transaction open, uncommitted
			return nil
		})
	}()
	<-started
	if err := e.store.Tx(ctx, func(tx *storage.Store) error { return bump(ctx, tx, y, 1, "13800000002") }); err != nil {
		t.Fatal(err)
	}
	cursor = e.pull(t, cursor, seen)
	if seen[y.ID] != 2 {
		t.Fatalf("B committed but the pull did not see it: %v", seen)
	}
	if seen[x.ID] == 2 {
		t.Fatal("A is not committed yet, the pull must not see it")
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	e.pull(t, cursor, seen)
	if seen[x.ID] != 2 {
		t.Fatalf("A committed after the phone's cursor moved past B, and the pull skipped it: %v", seen)
	}
}

// TestPullUnderConcurrentWriters: many writers whose transactions overlap
// and commit in random order while phones pull; in the end every phone has
// seen every household's final version.
func TestPullUnderConcurrentWriters(t *testing.T) {
	e := newGapEnv(t, 12, 0)
	ctx := context.Background()
	final := map[uuid.UUID]int64{}
	var mu gosync.Mutex
	var wg gosync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for i := 0; i < 15; i++ {
				h := e.households[rng.IntN(len(e.households))]
				err := e.store.Tx(ctx, func(tx *storage.Store) error {
					cur, _, err := tx.HouseholdForUpdate(ctx, domain.HouseholdScope{RegionPath: e.supervisor.RegionPath}, domain.DateOf(time.Now()), h.ID)
					if err != nil {
						return err
					}
					time.Sleep(time.Duration(rng.IntN(4)) * time.Millisecond)
					if err := bump(ctx, tx, cur, cur.Version, fmt.Sprintf("1380000%04d", rng.IntN(10000))); err != nil {
						return err
					}
					mu.Lock()
					if cur.Version+1 > final[h.ID] {
						final[h.ID] = cur.Version + 1
					}
					mu.Unlock()
					time.Sleep(time.Duration(rng.IntN(4)) * time.Millisecond) // commit later than others began
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	// Phones 0–1 page from scratch; phones 2–3 begin with a snapshot,
	// phone 3 only once the writers are under way.
	phones := make([]map[uuid.UUID]int64, 4)
	cursors := make([]string, 4)
	var pw gosync.WaitGroup
	for i := range phones {
		phones[i] = map[uuid.UUID]int64{}
		pw.Add(1)
		go func(i int) {
			defer pw.Done()
			for {
				select {
				case <-stop:
					return
				default:
					switch {
					case i == 3 && cursors[i] == "":
						time.Sleep(20 * time.Millisecond)
						fallthrough
					case i >= 2 && cursors[i] == "":
						cursors[i] = e.snapshot(t, phones[i])
					default:
						cursors[i] = e.pull(t, cursors[i], phones[i])
					}
					time.Sleep(time.Millisecond)
				}
			}
		}(i)
	}
	wg.Wait()
	close(stop)
	pw.Wait()
	for i := range phones {
		cursors[i] = e.pull(t, cursors[i], phones[i]) // the phone's last sync
		for id, v := range final {
			if phones[i][id] != v {
				t.Errorf("phone %d saw version %d of a household whose final version is %d", i, phones[i][id], v)
			}
		}
	}
}

// TestIdempotencyKeysAreKept90Days: a key answers replays until its
// retention ends, and the cleanup removes it only after that.
func TestIdempotencyKeysAreKept90Days(t *testing.T) {
	e := newGapEnv(t, 1, 0)
	ctx := context.Background()
	clock := time.Now()
	// Asking for one hour still keeps keys the protocol's 90 days.
	svc := fvsync.NewService(e.store.Sync(), fvsync.Config{KeepKeys: time.Hour}, func() time.Time { return clock }, nil)
	body := []byte(`{"device_id":"p","device_time":"2026-11-23T10:00:00+08:00","changes":[]}`)
	req := wire.PushRequest{DeviceID: "p", DeviceTime: clock}
	p := domain.Principal{UserID: uuid.New(), Role: domain.RoleCadre, RegionPath: e.supervisor.RegionPath}
	first, err := svc.Push(ctx, p, "k", body, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		after   time.Duration
		deleted int64
	}{{89 * 24 * time.Hour, 0}, {91 * 24 * time.Hour, 1}} {
		clock = time.Now().Add(tc.after)
		n, err := svc.CleanupKeys(ctx)
		if err != nil || n != tc.deleted {
			t.Fatalf("cleanup after %v deleted %d (%v), want %d", tc.after, n, err, tc.deleted)
		}
		if tc.deleted == 0 {
			again, err := svc.Push(ctx, p, "k", body, req, nil)
			if err != nil || string(again) != string(first) {
				t.Fatalf("within retention the key must replay: %v", err)
			}
		}
	}
}

// TestSnapshotsBeyondTheLimitWait: with one snapshot allowed at a time, a
// second one waits for the first, and one that gives up waiting is told
// to come back (unavailable), not failed.
func TestSnapshotsBeyondTheLimitWait(t *testing.T) {
	e := newGapEnv(t, 3, 0)
	svc := fvsync.NewService(e.store.Sync(), fvsync.Config{Snapshots: 1}, time.Now, nil)
	entered, release := make(chan struct{}), make(chan struct{})
	var once gosync.Once
	blocking := &lockedPage{emit: func(wire.PulledChange) error {
		once.Do(func() { close(entered); <-release })
		return nil
	}}
	first := make(chan error, 1)
	go func() {
		_, err := svc.Snapshot(context.Background(), e.supervisor, 10, blocking)
		first <- err
	}()
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := svc.Snapshot(ctx, e.supervisor, 10, &lockedPage{emit: func(wire.PulledChange) error { return nil }})
	if domain.ErrorCode(err) != domain.CodeUnavailable {
		t.Fatalf("a snapshot that gave up waiting: got %v, want unavailable", err)
	}
	waited := make(chan error, 1)
	go func() {
		_, err := svc.Snapshot(context.Background(), e.supervisor, 10, &lockedPage{emit: func(wire.PulledChange) error { return nil }})
		waited <- err
	}()
	select {
	case err := <-waited:
		t.Fatalf("the second snapshot ran beside the first (err %v)", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-waited; err != nil {
		t.Fatalf("the waiting snapshot, once its turn came: %v", err)
	}
}
