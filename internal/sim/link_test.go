package sim

import (
	"io"
	"net"
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

// TestPacedLinkKeepsItsRate: a link's bandwidth toxic carries a stream no
// faster than its rate, and (logged, as the machine's load decides it)
// close to it: late timer wake-ups are made up, not added up.
func TestPacedLinkKeepsItsRate(t *testing.T) {
	sink, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	got := make(chan int64, 1)
	go func() {
		c, err := sink.Accept()
		if err != nil {
			got <- 0
			return
		}
		defer c.Close()
		n, _ := io.Copy(io.Discard, c)
		got <- n
	}()
	ls, err := newLinkSet("http://" + sink.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer ls.close()
	l, err := ls.open("paced", LinkProfile{Name: "paced", BytesPerSecond: 8_000})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.goField(); err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	const size = 24_000 // 3 s of the link
	start := time.Now()
	if _, err := c.Write(make([]byte, size)); err != nil {
		t.Fatal(err)
	}
	c.(*net.TCPConn).CloseWrite()
	n := <-got
	took := time.Since(start)
	c.Close()
	if n != size {
		t.Fatalf("carried %d of %d bytes", n, size)
	}
	floor := LinkProfile{BytesPerSecond: 8_000}.Floor(size, 0)
	if took < floor-100*time.Millisecond { // the first piece may go before its whole time
		t.Fatalf("carried %d bytes in %s: faster than the link's %s", n, took, floor)
	}
	t.Logf("carried %d bytes in %s, floor %s: %.3f× the floor", n, took.Round(time.Millisecond), floor, took.Seconds()/floor.Seconds())
}
