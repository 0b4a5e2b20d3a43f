package sync

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/wire"
)

// TestCutPages: a window's households are cut into pages of whole
// households, each taking households until it holds at least its size.
func TestCutPages(t *testing.T) {
	for _, tc := range []struct {
		name         string
		records      []int
		first, limit int
		want         []int
	}{
		{"even households", []int{3, 3, 3, 3, 3, 3}, 6, 6, []int{2, 4, 6}},
		{"a household past the size stays whole", []int{3, 4, 3, 3}, 6, 6, []int{2, 4}},
		{"a short first page (a rescope took part of it)", []int{2, 2, 2, 2, 2}, 2, 6, []int{1, 4, 5}},
		{"one household larger than a page", []int{20, 1, 1}, 6, 6, []int{1, 3}},
		{"the last page holds what is left", []int{1}, 6, 6, []int{1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := cutPages(tc.records, tc.first, tc.limit); !slices.Equal(got, tc.want) {
				t.Fatalf("cutPages(%v, %d, %d) = %v; want %v", tc.records, tc.first, tc.limit, got, tc.want)
			}
		})
	}
}

// TestReadAheadKeepsWithinItsBound: room is reserved before a window is
// read and given back when its pages are kept; a page is taken once, not
// after it expired, and what expired frees its room.
func TestReadAheadKeepsWithinItsBound(t *testing.T) {
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	r := newReadAhead(10, func() time.Time { return now })
	page := func(n int) *aheadPage { return &aheadPage{households: make([]wire.PulledChange, n)} }
	key := func() aheadKey { return aheadKey{user: uuid.New(), upto: uuid.New()} }

	if !r.reserve(8) || r.reserve(3) {
		t.Fatal("a bound of 10 records: 8 reserved, then 3 more must be refused")
	}
	a, b := key(), key()
	r.keep(8, []aheadKey{a, b}, []*aheadPage{page(4), page(2)})
	if r.held != 6 || !r.reserve(4) || r.reserve(1) {
		t.Fatalf("pages of 4 and 2 kept for 8 reserved: %d held; want 6, room for 4 more and no more", r.held)
	}
	r.keep(4, nil, nil) // a window that kept nothing
	if p := r.take(a); p == nil || len(p.households) != 4 || r.take(a) != nil {
		t.Fatal("a page is taken once")
	}
	if r.take(key()) != nil {
		t.Fatal("a key nothing was kept under")
	}
	now = now.Add(readAheadTTL)
	if r.take(b) != nil || r.held != 0 {
		t.Fatalf("a page taken when it expired: held %d", r.held)
	}
	c := key()
	r.keep(0, []aheadKey{c}, []*aheadPage{page(10)})
	now = now.Add(readAheadTTL)
	if !r.reserve(10) {
		t.Fatal("a page nobody came for must give its room back when it expires")
	}
}
