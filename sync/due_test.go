package sync_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	gosync "sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	fvsync "github.com/fieldvisit/fieldvisit/sync"
	"github.com/fieldvisit/fieldvisit/wire"
)

// TestDueListRidesOnTheLastPage: a cadre's due list comes with the last
// page of a pull or a snapshot and with no other page; nobody else gets
// one; and a due list that cannot be read is left out without failing
// the pull.
func TestDueListRidesOnTheLastPage(t *testing.T) {
	e := newGapEnv(t, 3, 0)
	ctx := context.Background()
	county := e.households[0].CountyID
	cadre := domain.Principal{UserID: uuid.New(), Role: domain.RoleCadre, RegionPath: e.supervisor.RegionPath,
		Duties: []domain.Duty{{Kind: domain.DutyTownHead, RegionID: &county, StartOn: domain.DateOf(time.Now()).AddDays(-1)}}}
	item := wire.DueItem{RuleCode: "monthly_visit", Period: "2026-11", Required: 1, State: "due"}
	var mu gosync.Mutex
	var askedFor []uuid.UUID
	var failure error
	due := func(_ context.Context, p domain.Principal) ([]wire.DueItem, error) {
		mu.Lock()
		defer mu.Unlock()
		askedFor = append(askedFor, p.UserID)
		return []wire.DueItem{item}, failure
	}
	svc := fvsync.NewService(e.store.Sync(), fvsync.Config{Due: due}, time.Now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ignore := func(wire.PulledChange) error { return nil }
	carries := func(end fvsync.PageEnd) bool { return slices.Equal(end.Due, []wire.DueItem{item}) }

	pages := 0
	for cursor := ""; ; pages++ {
		end, err := svc.Pull(ctx, cadre, cursor, 1, &lockedPage{emit: ignore})
		if err != nil {
			t.Fatal(err)
		}
		if end.HasMore {
			if end.Due != nil {
				t.Fatalf("page %d of several carries the due list", pages)
			}
			cursor = end.Cursor
			continue
		}
		if !carries(end) {
			t.Fatalf("the last page carries %v, want the due list", end.Due)
		}
		break
	}
	// Three households a page each: the third page ends the walk and, the
	// rest of the scope and the feed being empty, the pull.
	if pages != 2 || len(askedFor) != 1 {
		t.Fatalf("%d pages asked for the due list %d times, want one ask on the last page", pages+1, len(askedFor))
	}

	end, err := svc.Snapshot(ctx, cadre, 2000, &lockedPage{emit: ignore})
	if err != nil || end.HasMore || !carries(end) {
		t.Fatalf("a whole snapshot: %+v, %v; want its due list", end, err)
	}

	askedFor = nil
	if end, err := svc.Pull(ctx, e.supervisor, "", 2000, &lockedPage{emit: ignore}); err != nil || end.HasMore || end.Due != nil || len(askedFor) != 0 {
		t.Fatalf("a supervisor's pull: %+v, %v, asked %d times; want no due list", end, err, len(askedFor))
	}

	failure = errors.New("compliance is down")
	if end, err := svc.Pull(ctx, cadre, "", 2000, &lockedPage{emit: ignore}); err != nil || end.HasMore || end.Due != nil {
		t.Fatalf("a pull whose due list failed: %+v, %v; want the page without it", end, err)
	}
}
