package sim

import (
	"testing"
	"time"
)

// TestLinkFloor: a link's floor is the bytes each way over that way's
// bandwidth, the two ways taking turns; an unshaped link has none.
func TestLinkFloor(t *testing.T) {
	for _, tc := range []struct {
		name     string
		link     LinkProfile
		up, down int64
		want     time.Duration
	}{
		{"2g: 64 kbit/s each way", Link2G, 600_000, 40_000, 80 * time.Second},
		{"2g: nothing moved", Link2G, 0, 0, 0},
		{"3g: 1 Mbit/s each way", Link3G, 1_000_000, 250_000, 10 * time.Second},
		{"good: no floor", LinkGood, 600_000, 40_000, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.link.Floor(tc.up, tc.down); got != tc.want {
				t.Fatalf("Floor(%d, %d) = %s, want %s", tc.up, tc.down, got, tc.want)
			}
		})
	}
}

// TestSlowestRelativeToFloor: the summary speaks for the phone with the
// largest took/floor, not the one that took longest.
func TestSlowestRelativeToFloor(t *testing.T) {
	uses := []LinkUse{
		{Device: "long-but-busy", Floor: 100 * time.Second, Took: 110 * time.Second},
		{Device: "short-but-idle", Floor: 10 * time.Second, Took: 14 * time.Second},
		{Device: "unshaped", Took: time.Second},
	}
	s, ok := slowest(uses)
	if !ok || s.Device != "short-but-idle" || s.Ratio() != 1.4 {
		t.Fatalf("slowest = %+v (ratio %.2f), want short-but-idle at 1.40", s, s.Ratio())
	}
	if _, ok := slowest(nil); ok {
		t.Fatal("slowest of no phones found one")
	}
}

// TestLinkProfiles: the profiles the command offers, by name.
func TestLinkProfiles(t *testing.T) {
	for _, tc := range []struct {
		name string
		bps  int64
	}{{"2g", 8_000}, {"3g", 125_000}, {"good", 0}} {
		p, err := LinkProfileNamed(tc.name)
		if err != nil || p.BytesPerSecond != tc.bps || p.BytesPerSecond%1000 != 0 {
			t.Errorf("%s: %+v, %v", tc.name, p, err)
		}
	}
	if _, err := LinkProfileNamed("5g"); err == nil {
		t.Error("an unknown link was accepted")
	}
}
