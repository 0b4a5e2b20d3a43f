package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/client"
	"github.com/fieldvisit/fieldvisit/client/clienttest"
	"github.com/fieldvisit/fieldvisit/domain"
)

// The photo outbox survives kill -9 at every step. Each case runs a phone
// as a process of its own (this test binary again, told by killedPhoneEnv
// what to do), which kills itself with SIGKILL at the named step: no
// deferred call runs, nothing is flushed. Then the phone restarts from its
// directory in the test process and syncs. Whatever the step, every photo
// ends on the server exactly once and the phone holds nothing; a photo the
// server held when the phone died is not sent again; of a photo on its way
// the phone resends at most the request that was cut.

const killedPhoneEnv = "FIELDVISIT_TEST_KILLED_PHONE"

// killedPhone is what the phone process does and where it dies.
type killedPhone struct {
	Dir, URL, Step string
	// Record: the phone records a visit with these photos (and dies while
	// recording); otherwise it syncs the visit recorded before.
	Record      bool
	HouseholdID uuid.UUID
	PhotoPaths  []string
}

// killStep is a step the phone dies at: a step of its own (the client's
// step hook, or the copy of a photo) or a point of a request on the link.
type killStep struct {
	step   string
	record bool // the phone dies recording a visit; otherwise syncing one
	link   linkPoint
	what   string
}

// linkPoint is a moment of the nth request of a kind: "before" it is
// sent, "mid" its body, "after" its answer arrived.
type linkPoint struct {
	when, kind string
	nth        int
}

var killSteps = []killStep{
	{"copying", true, linkPoint{}, "half-way through copying a visit's second photo into the phone's directory"},
	{"photos-copied", true, linkPoint{}, "with the photos copied, before the state naming them is saved"},
	{"put-body", false, linkPoint{"mid", "put", 1}, "half-way through the body of a whole-photo PUT"},
	{"put-answered", false, linkPoint{"after", "put", 1}, "after the server stored a whole photo, before the phone read its answer"},
	{"upload-started", false, linkPoint{"after", "start", 1}, "after the server started a resumable upload, before the phone saved its id"},
	{"chunk-body", false, linkPoint{"mid", "patch", 2}, "half-way through the second chunk"},
	{"chunk-answered", false, linkPoint{"after", "patch", 2}, "after the server stored the second chunk, before the phone saved the offset"},
	{"before-complete", false, linkPoint{"before", "complete", 1}, "after the last chunk, before asking to complete"},
	{"completed", false, linkPoint{"after", "complete", 1}, "after the server completed the upload, before the phone read its answer"},
	{"photo-stored", false, linkPoint{}, "after the phone saved that a photo is stored, before it removed its copy"},
}

func testSurvivesKill(t *testing.T, srv *clienttest.Server) {
	for i, k := range killSteps {
		t.Run(k.step, func(t *testing.T) {
			user := fmt.Sprintf("cadre%02d", 20+i)
			pw := newPhotoWire(t, srv)
			via := pw.server(srv)
			c, dir := phone(t, via, user, "kill-phone", nil)
			h := c.Households()[0]
			small, large := photoJPEG(t, int64(100+2*i), 320, 240), photoJPEG(t, int64(101+2*i), 1280, 1024)
			spec := killedPhone{Dir: dir, URL: pw.URL, Step: k.step, Record: k.record, HouseholdID: h.ID}
			var visitID uuid.UUID
			if k.record {
				for j, b := range [][]byte{small, large} {
					p := filepath.Join(t.TempDir(), fmt.Sprintf("IMG_%04d.jpg", j))
					must(t, os.WriteFile(p, b, 0o600))
					spec.PhotoPaths = append(spec.PhotoPaths, p)
				}
			} else {
				v := newVisit(c, h, "走访并拍照。")
				v.PhotoFiles = []client.PhotoFile{{Content: bytes.NewReader(small)}, {Content: bytes.NewReader(large)}}
				id, err := c.RecordVisit(v)
				must(t, err)
				visitID = id
			}
			c.Close()

			runPhoneProcess(t, spec, k.what)
			// The server is left to finish with the request the kill cut
			// (as a phone takes seconds to restart), and then asked what
			// it holds.
			pw.idle(t)
			time.Sleep(300 * time.Millisecond)
			restart := pw.mark()
			reader := c2ForRead(t, srv, user)

			c = open(t, via, dir, "kill-phone", nil)
			if files, b := photoFiles(t, dir), c.Backlog(); len(files) != b.Photos {
				t.Fatalf("after the restart the phone holds photo files %v for %d queued photos", files, b.Photos)
			}
			if k.record {
				// Recording never returned: nothing of the visit is on the
				// phone, and the cadre records it again.
				if b := c.Backlog(); b != (client.Backlog{}) {
					t.Fatalf("a recording that died left %+v", b)
				}
				v := newVisit(c, h, "走访并拍照（重新记录）。")
				v.PhotoFiles = []client.PhotoFile{{Path: spec.PhotoPaths[0]}, {Path: spec.PhotoPaths[1]}}
				id, err := c.RecordVisit(v)
				must(t, err)
				visitID = id
			}
			shown, _ := c.Visit(visitID)
			photos := []storedPhoto{photoOf(shown, 0, small), photoOf(shown, 1, large)}
			heldBefore := map[uuid.UUID]bool{}
			for _, p := range photos {
				var ph struct{ SHA256 string }
				heldBefore[p.id] = reader.GetJSON(clienttest.Context(t), "/api/v1/photos/"+p.id.String(), &ph) == nil && ph.SHA256 == sha(p.bytes)
			}

			rep := mustSync(t, c)
			if rep.Photos.Waiting != 0 || len(rep.Photos.Refused) != 0 {
				t.Fatalf("photo report after the restart %+v", rep.Photos)
			}
			checkStored(t, srv, reader, pw, photos...)
			checkPhotoOutboxEmpty(t, c, dir)
			for _, p := range photos {
				after, _ := pw.sent(p.id, restart)
				total, largest := pw.sent(p.id, 0)
				t.Logf("photo of %d bytes: %d sent in all, %d after the restart (held by the server at the kill: %v)", len(p.bytes), total, after, heldBefore[p.id])
				switch {
				case heldBefore[p.id] && after != 0:
					t.Errorf("photo %s was stored when the phone died, and %d of its bytes were sent again", p.id, after)
				case total > int64(len(p.bytes))+largest:
					t.Errorf("photo %s of %d bytes: %d sent in all, more than one cut request (%d) resent", p.id, len(p.bytes), total, largest)
				}
			}
		})
	}
}

// runPhoneProcess runs the phone process and checks that it was killed.
func runPhoneProcess(t *testing.T, spec killedPhone, what string) {
	t.Helper()
	b, err := json.Marshal(spec)
	must(t, err)
	cmd := exec.Command(os.Args[0], "-test.run=^TestPhotoOutbox$", "-test.count=1")
	cmd.Env = append(os.Environ(), killedPhoneEnv+"="+string(b))
	out, err := cmd.CombinedOutput()
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != -1 {
		t.Fatalf("the phone process was not killed %s (%v):\n%s", what, err, out)
	}
}

// runKilledPhone is the phone process: it opens the client, arranges to
// kill itself at the step, and records or syncs. Reaching the end means
// the step never came, which fails (and exits normally).
func runKilledPhone(t *testing.T, raw string) {
	var k killedPhone
	must(t, json.Unmarshal([]byte(raw), &k))
	kill := func() {
		p, _ := os.FindProcess(os.Getpid())
		_ = p.Kill()
		select {}
	}
	var at linkPoint
	for _, ks := range killSteps {
		if ks.step == k.Step {
			at = ks.link
		}
	}
	here := func(when, kind string, n int) bool { return at == linkPoint{when, kind, n} }
	link := &photoLink{base: http.DefaultTransport}
	link.before = func(kind string, n int) (*http.Response, error) {
		if here("before", kind, n) {
			kill()
		}
		return nil, nil
	}
	link.midBody = func(kind string, n int) error {
		if here("mid", kind, n) {
			kill()
		}
		return nil
	}
	link.after = func(kind string, n int, res *http.Response) {
		if here("after", kind, n) && res.StatusCode < 300 {
			_, _ = io.Copy(io.Discard, res.Body) // the server's answer is all in: the phone dies before reading it
			kill()
		}
	}
	cfg := client.Config{BaseURL: k.URL, DeviceID: "kill-phone", Dir: k.Dir, HTTPClient: &http.Client{Transport: link},
		Backoff: client.Backoff{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond}}
	c, err := client.New(cfg)
	must(t, err)
	client.SetStepHookForTest(c, func(step string) {
		if step == k.Step {
			kill()
		}
	})
	if !k.Record {
		_, err := c.Sync(context.Background())
		t.Fatalf("the sync ended (%v) without reaching %s", err, k.Step)
	}
	var files []client.PhotoFile
	for i, p := range k.PhotoPaths {
		f, err := os.Open(p)
		must(t, err)
		defer f.Close()
		var r io.Reader = f
		if k.Step == "copying" && i == 1 {
			r = &halfway{r: f, at: 100 << 10, fn: func() error { kill(); return nil }}
		}
		files = append(files, client.PhotoFile{Content: r})
	}
	_, err = c.RecordVisit(client.NewVisit{HouseholdID: k.HouseholdID, Kind: domain.KindAssist, StartedAt: time.Now().Add(-time.Hour),
		Notes: "走访并拍照。", PhotoFiles: files})
	t.Fatalf("the recording ended (%v) without reaching %s", err, k.Step)
}
