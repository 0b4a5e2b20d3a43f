package sim_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/client/clienttest"
	"github.com/fieldvisit/fieldvisit/internal/sim"
	"github.com/fieldvisit/fieldvisit/wire"
)

// TestSmallSimulation plays 3 cadres over 2 days on a very flaky link
// against the real server, each visit with a photo of ~30 KB through the
// phones' photo outbox, and requires that nothing is lost, doubled or left
// diverged, and every photo of a standing visit is stored.
func TestSmallSimulation(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real server")
	}
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			srv := clienttest.Start(t, dialect)
			var out bytes.Buffer
			f := sim.Faults{DropBefore: 0.1, DropAfter: 0.12, Timeout: 0.06, Duplicate: 0.1, Kill: 0.1}
			res, err := sim.Run(clienttest.Context(t), sim.Options{Server: srv.URL, Cadres: 3, Days: 2, Seed: 7, TwoDevices: 1,
				VisitsPerDay: 4, SyncChance: 0.9, Faults: &f, PhotosPerVisit: 1, PhotoKB: 30, Out: &out, Dir: t.TempDir()})
			t.Log("\n" + out.String())
			if err != nil {
				t.Fatal(err)
			}
			line := res.Line()
			t.Log(line)
			if !res.OK() {
				t.Fatalf("%s\n%s", line, strings.Join(res.Problems, "\n"))
			}
			if res.Pushed == 0 || res.Acked != res.Pushed || res.Stored == 0 {
				t.Fatalf("nothing simulated? %s", line)
			}
			if res.Devices != 6 {
				t.Fatalf("devices %d", res.Devices)
			}
			if res.Photos == 0 || !strings.Contains(line, "photos_lost=0") {
				t.Fatalf("no photos moved over the flaky link? %s", line)
			}
			t.Run("over a 3g link with photos", func(t *testing.T) { linkRun(t, srv.URL) })
		})
	}
}

// linkRun plays 2 cadres offline for 2 days, each phone behind its own
// toxiproxy shaped as a 3G link, then syncing records and real photos
// over it: nothing may be lost, every photo must be stored, and each
// phone's time must be measured against a floor drawn from the bytes its
// proxy carried.
func linkRun(t *testing.T, server string) {
	var out bytes.Buffer
	link := sim.Link3G
	res, err := sim.Run(clienttest.Context(t), sim.Options{Server: server, Cadres: 2, Days: 2, Seed: 11, TwoDevices: -1,
		VisitsPerDay: 2, Link: &link, PhotosPerVisit: 1, PhotoKB: 30, Out: &out, Dir: t.TempDir()})
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	line := res.Line()
	if !res.OK() {
		t.Fatalf("%s\n%s", line, strings.Join(res.Problems, "\n"))
	}
	if res.Photos == 0 || res.Stored == 0 || len(res.Links) != 2 {
		t.Fatalf("nothing went over the link? %s", line)
	}
	for _, u := range res.Links {
		if u.Photos == 0 || u.Up < int64(u.Photos)*20_000 || u.Down == 0 {
			t.Errorf("%s moved up=%d down=%d for %d photos: the proxy did not count what it carried", u.Device, u.Up, u.Down, u.Photos)
		}
		if want := link.Floor(u.Up, u.Down); u.Floor != want || u.Took < u.Floor {
			t.Errorf("%s: floor %s (want %s), took %s: faster than its link", u.Device, u.Floor, want, u.Took)
		}
	}
	for _, want := range []string{"photos_lost=0", "link=3g", "bytes_up=", "link_floor_s=", "took_s="} {
		if !strings.Contains(line, want) {
			t.Errorf("summary line lacks %q: %s", want, line)
		}
	}
}

// TestChecksNoticeTampering proves the checks are not vacuous: a link that
// rewrites what one phone pushes (the server stores other values than the
// phone was told), one that stores an extra copy of a visit under a new id,
// and one that hides visits from another phone's pulls must show up as
// lost, duplicates and diverged.
func TestChecksNoticeTampering(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real server")
	}
	srv := clienttest.Start(t, "sqlite")
	var once sync.Once
	tamper := func(device string, base http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			isPush := r.Method == http.MethodPost && r.URL.Path == "/api/v1/sync/push"
			switch {
			case device == "cadre01-a" && isPush:
				body := bytes.ReplaceAll(plainBody(r), []byte("。"), []byte("！"))
				r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
			case device == "cadre02-a" && isPush:
				body := plainBody(r)
				r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
				var req wire.PushRequest
				_ = json.Unmarshal(body, &req)
				for _, ch := range req.Changes {
					if ch.Entity == wire.EntityVisit && ch.Op == wire.OpCreate {
						once.Do(func() {
							ch.ID = uuid.New()
							req.Changes = []wire.Change{ch}
							b, _ := json.Marshal(req)
							dup, _ := http.NewRequest(http.MethodPost, r.URL.String(), bytes.NewReader(b))
							dup.Header = r.Header.Clone()
							dup.Header.Set("Idempotency-Key", "tamper-"+uuid.NewString())
							if res, err := base.RoundTrip(dup); err == nil {
								res.Body.Close()
							}
						})
					}
				}
			case device == "cadre03-a" && r.URL.Path == "/api/v1/sync/pull" && r.URL.Query().Get("cursor") != "":
				res, err := base.RoundTrip(r)
				if err != nil || res.StatusCode != http.StatusOK {
					return res, err
				}
				var page wire.PullResponse
				_ = json.Unmarshal(plainAnswer(res), &page)
				kept := page.Changes[:0]
				for _, ch := range page.Changes {
					if ch.Entity != wire.EntityVisit {
						kept = append(kept, ch)
					}
				}
				page.Changes = kept
				b, _ := json.Marshal(page)
				res.Body, res.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
				res.Header.Del("Content-Length")
				return res, nil
			}
			return base.RoundTrip(r)
		})
	}
	var out bytes.Buffer
	res, err := sim.Run(clienttest.Context(t), sim.Options{Server: srv.URL, Cadres: 3, Days: 2, Seed: 3, TwoDevices: -1, SyncChance: 1,
		Faults: &sim.Faults{}, Out: &out, Dir: t.TempDir(), Transport: tamper})
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Line())
	if res.Lost == 0 || res.Duplicates == 0 || res.Diverged == 0 || res.OK() {
		t.Fatalf("tampering went unnoticed: %s", res.Line())
	}
	all := strings.Join(res.Problems, "\n")
	for _, want := range []string{"field notes is", "never recorded by a phone", "diverged: cadre03-a"} {
		if !strings.Contains(all, want) {
			t.Errorf("no problem mentions %q:\n%s", want, all)
		}
	}
}

// plainBody reads a request's body as the phone made it (decoded when the
// client gzipped it) and sends it on plain, so the tampering works on JSON.
func plainBody(r *http.Request) []byte {
	body, _ := io.ReadAll(r.Body)
	if r.Header.Get("Content-Encoding") == "gzip" {
		if zr, err := gzip.NewReader(bytes.NewReader(body)); err == nil {
			body, _ = io.ReadAll(zr)
		}
		r.Header.Del("Content-Encoding")
	}
	return body
}

// plainAnswer reads an answer's body decoded, and says so in its headers.
func plainAnswer(res *http.Response) []byte {
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.Header.Get("Content-Encoding") == "gzip" {
		if zr, err := gzip.NewReader(bytes.NewReader(body)); err == nil {
			body, _ = io.ReadAll(zr)
		}
		res.Header.Del("Content-Encoding")
	}
	return body
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
