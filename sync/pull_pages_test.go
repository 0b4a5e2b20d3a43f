package sync_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	fvsync "github.com/fieldvisit/fieldvisit/sync"
	"github.com/fieldvisit/fieldvisit/wire"
)

// TestAFullPageEndingTheFeedSaysSo: has_more is true only while something
// is left. A page that ends exactly where the walk or the feed ends says
// has_more false, so the phone is not sent back for an empty page; a page
// one short of the end says has_more true, and the next page brings the
// rest, nothing doubled.
func TestAFullPageEndingTheFeedSaysSo(t *testing.T) {
	e := newGapEnv(t, 4)
	ctx := context.Background()
	page := func(cursor string, limit int) (fvsync.PageEnd, []uuid.UUID) {
		t.Helper()
		var got []uuid.UUID
		end, err := e.svc.Pull(ctx, e.supervisor, cursor, limit, func(c wire.PulledChange) error {
			got = append(got, c.ID)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return end, got
	}

	// A fresh pull: the walk ends with the page, and the feed after it is
	// empty.
	end, got := page("", 4)
	if len(got) != 4 || end.HasMore || end.Lag == nil || *end.Lag != 0 {
		t.Fatalf("a fresh pull of 4 households, 4 a page: %d changes, has_more %v, lag %v; want 4, false, 0", len(got), end.HasMore, end.Lag)
	}
	caughtUp := end.Cursor

	// One short: the walk has one more household.
	end, got = page("", 3)
	if len(got) != 3 || !end.HasMore {
		t.Fatalf("a fresh pull 3 a page: %d changes, has_more %v; want 3 and more", len(got), end.HasMore)
	}
	end, rest := page(end.Cursor, 3)
	if len(rest) != 1 || end.HasMore || !distinct(append(got, rest...)) {
		t.Fatalf("the second page: %v after %v, has_more %v; want the fourth household and the end", rest, got, end.HasMore)
	}

	// The feed: two edits, a page of two ends it; a page of one does not.
	for i, h := range e.households[:2] {
		if err := bump(ctx, e.store, h, 1, "1380000000"+string(rune('1'+i))); err != nil {
			t.Fatal(err)
		}
	}
	end, got = page(caughtUp, 2)
	if len(got) != 2 || end.HasMore || *end.Lag != 0 {
		t.Fatalf("two edits, 2 a page: %d changes, has_more %v, lag %d; want 2, false, 0", len(got), end.HasMore, *end.Lag)
	}
	if end, got := page(end.Cursor, 2); len(got) != 0 || end.HasMore {
		t.Fatalf("after the page that ended the feed: %d changes, has_more %v; want none", len(got), end.HasMore)
	}
	end, got = page(caughtUp, 1)
	if len(got) != 1 || !end.HasMore || *end.Lag != 1 {
		t.Fatalf("two edits, 1 a page: %d changes, has_more %v, lag %d; want 1, true, 1", len(got), end.HasMore, *end.Lag)
	}
	end, rest = page(end.Cursor, 1)
	if len(rest) != 1 || end.HasMore || !distinct(append(got, rest...)) {
		t.Fatalf("the second edit: %v after %v, has_more %v; want it, and the end", rest, got, end.HasMore)
	}
}

// distinct reports whether no id appears twice.
func distinct(ids []uuid.UUID) bool {
	seen := map[uuid.UUID]bool{}
	for _, id := range ids {
		if seen[id] {
			return false
		}
		seen[id] = true
	}
	return true
}
