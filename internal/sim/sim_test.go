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
// against the real server and requires that nothing is lost, doubled or
// left diverged.
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
				VisitsPerDay: 4, SyncChance: 0.9, Faults: &f, Out: &out, Dir: t.TempDir()})
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
		})
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
