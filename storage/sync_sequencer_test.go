package storage_test

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
)

// feedEdit names one household edit by the version it wrote.
type feedEdit struct {
	household uuid.UUID
	version   int64
}

// Many callers numbering the feed at once share passes. Each must still
// get a watermark that covers every change committed before it called
// (freshness), and a reader that reads the feed window by window up to
// the watermarks it was given must never find later a change numbered
// inside a window it has already read (the gap-free guarantee), while
// writers commit in an order of their own.
func TestConcurrentSequencingIsFreshAndGapFree(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, "postgres")
	st := storage.NewStore(db, nil)
	county := uuid.New()
	path := "/" + county.String() + "/"
	if err := st.CreateRegion(ctx, domain.Region{ID: county, Level: domain.LevelCounty, Code: "410122000000", Name: "县", Path: path, CountyID: &county}, domain.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	const writers, editsEach, readers = 8, 15, 16
	now := time.Now().UTC()
	households := make([]domain.Household, writers)
	for i := range households {
		h := domain.Household{ID: uuid.New(), CountyID: county, RegionID: county, VillageID: county, Status: domain.StatusEdge, Version: 1,
			HouseholdDetails: domain.HouseholdDetails{HeadName: fmt.Sprintf("户%d", i), Causes: []string{}}, CreatedAt: now, UpdatedAt: now}
		err := st.CreateHousehold(ctx, registry.HouseholdRegistration{Household: h, RegionPath: path, Members: []domain.Member{},
			Status: domain.StatusChange{ID: uuid.New(), CountyID: county, HouseholdID: h.ID, To: domain.StatusEdge, EffectiveOn: domain.DateOf(now), RecordedAt: now}})
		if err != nil {
			t.Fatal(err)
		}
		households[i] = h
	}

	var mu gosync.Mutex
	var committed []feedEdit // in the order the commits returned
	var writing gosync.WaitGroup
	for w := range households {
		writing.Add(1)
		go func(h domain.Household) {
			defer writing.Done()
			for v := h.Version; v < h.Version+editsEach; v++ {
				err := st.Tx(ctx, func(tx *storage.Store) error {
					e := h
					e.Version, e.Phone, e.UpdatedAt = v+1, fmt.Sprint(v), time.Now()
					if err := tx.SaveHouseholdDetails(ctx, e, v, uuid.Nil); err != nil {
						return err
					}
					// Held open a while, so commits come out of the
					// order the rows were written in.
					time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				committed = append(committed, feedEdit{h.ID, v + 1})
				mu.Unlock()
			}
		}(households[w])
	}
	done := make(chan struct{})
	go func() { writing.Wait(); close(done) }()

	numbered := func(upTo, after int64) map[feedEdit]bool {
		var rows []struct {
			EntityID uuid.UUID
			Version  int64
		}
		if err := db.Gorm.Raw("SELECT entity_id, version FROM changes WHERE entity = 'household' AND seq > ? AND seq <= ?", after, upTo).Scan(&rows).Error; err != nil {
			t.Error(err)
		}
		out := make(map[feedEdit]bool, len(rows))
		for _, r := range rows {
			out[feedEdit{r.EntityID, r.Version}] = true
		}
		return out
	}
	type reader struct {
		seen map[feedEdit]bool
		last int64
	}
	rs := make([]reader, readers)
	var reading gosync.WaitGroup
	for r := range rs {
		reading.Add(1)
		go func(rd *reader) {
			defer reading.Done()
			rd.seen = map[feedEdit]bool{}
			for {
				mu.Lock()
				before := append([]feedEdit(nil), committed...)
				mu.Unlock()
				w, err := st.SequenceChanges(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				if w < rd.last {
					t.Errorf("watermark went back from %d to %d", rd.last, w)
				}
				window := numbered(w, rd.last)
				for e := range window {
					rd.seen[e] = true
				}
				rd.last = w
				all := numbered(w, 0)
				for _, e := range before {
					if !all[e] {
						t.Errorf("edit %v committed before the call is not numbered within its watermark %d", e, w)
					}
				}
				select {
				case <-done:
					return
				default:
				}
			}
		}(&rs[r])
	}
	reading.Wait()
	if _, err := st.SequenceChanges(ctx); err != nil {
		t.Fatal(err)
	}
	for i, rd := range rs {
		for e := range numbered(rd.last, 0) {
			if !rd.seen[e] {
				t.Errorf("reader %d: edit %v was numbered at or below %d after the reader had read that far (a gap)", i, e, rd.last)
			}
		}
	}
	if len(committed) != writers*editsEach {
		t.Fatalf("committed %d edits, want %d", len(committed), writers*editsEach)
	}
}

// A caller that gives up waiting gets its context's error; the pass it
// joined still numbers the feed for the others.
func TestSequencingCallerMayGiveUp(t *testing.T) {
	st := storage.NewStore(storetest.Open(t, "postgres"), nil)
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := st.SequenceChanges(gone); err == nil {
		t.Fatal("a cancelled caller got a watermark")
	}
	if _, err := st.SequenceChanges(context.Background()); err != nil {
		t.Fatal(err)
	}
}
