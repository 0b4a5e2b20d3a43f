// Package sim plays cadres' field trips against a fieldvisit server and
// checks the sync guarantees of DESIGN §4 end to end.
//
// Each simulated cadre has one or two phones (client.Client, each with its
// own state directory and a clock that may be wrong by minutes, hours or
// days). Every simulated day the phones, offline, record visits to the
// cadre's paired households (learned by pulling first) with realistic
// content — GPS stamps near the household's home point, the 两不愁三保障
// checklist, notes in Chinese — correct some visits, delete a few, and
// update household and member fields; a cadre's two phones work on the same
// households and visits. Now and then a phone gets a signal and syncs over a
// Flaky link that drops connections before and after the server commits,
// times out, delivers requests twice, and kills the app right after a push
// went out (the client is abandoned and reopened from its directory).
//
// At the end every phone syncs on a good link until its outbox is empty,
// and the run is checked against the server's resource API (a supervisor's
// session) and a fresh phone's full pull:
//
//   - lost: an acknowledged visit create, edit or delete not reflected (every
//     field holds the value of the newest acknowledged change that set it),
//     a visit recorded on a phone that never reached the server, a change
//     refused for a reason a valid phone edit should never meet;
//   - duplicates: a visit on the server that no acknowledged create made, a
//     visit listed twice, a record whose version is beyond the last
//     acknowledged change (a change applied more than once);
//   - diverged: a phone whose replica differs from the server's state for
//     its scope;
//   - photos lost (Options.PhotosPerVisit): a photo of a visit that stands
//     not on the server, or stored with other bytes or without its visit.
//
// Photos are real JPEGs recorded with their visit into the SDK's photo
// outbox (client.NewVisit.PhotoFiles) and uploaded by the phone's Sync,
// after its records.
//
// With Options.Link the phones stay offline for all the days instead, each
// behind its own toxiproxy shaped as a 2G or 3G link (link.go), then sync
// at once over it; each phone's time is measured against its link floor. Soak (soak.go) keeps the same phones busy in a loop for
// `fieldvisit soak`.
//
// Run returns a Result whose Line is the command's last output line.
package sim

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/client"
	"github.com/fieldvisit/fieldvisit/wire"
)

// Options shape a run. Zero values take the defaults.
type Options struct {
	Server       string  // base URL of the server (required)
	Cadres       int     // default 20: cadre01 … cadreNN
	Days         int     // default 5
	Seed         uint64  // default 1
	Password     string  // default "fieldvisit-demo"
	Supervisor   string  // a supervisor over the cadres' households, default "supervisor"
	CadrePrefix  string  // default "cadre": usernames cadre01, cadre02, …
	TwoDevices   float64 // share of cadres with two phones (default 0.35; negative: none)
	VisitsPerDay int     // visits per phone per day, at most (default 3)
	SyncChance   float64 // chance a phone finds a signal on a given evening (default 0.6)
	Faults       *Faults // default DefaultFaults()
	Dir          string  // phones' state; default a temporary directory removed afterwards
	Out          io.Writer
	Verbose      bool
	Concurrency  int // cadres working at once (default: all)
	// Repairings is how many times over the run the supervisor re-pairs a
	// household from one simulated cadre to another (scope shrinks on one
	// cadre's phones and grows on the other's). Default 0.
	Repairings int
	// Transport, when set, wraps each phone's connection to the server
	// below the injected faults; tests use it to tamper with the traffic
	// and prove the checks notice.
	Transport func(device string, base http.RoundTripper) http.RoundTripper
	// Link, when set, puts each phone behind its own toxiproxy shaped by
	// the profile instead of the Flaky link: the phones stay offline for
	// all the Days, then sync over the link at once, and the run measures
	// each phone's time against its link floor.
	Link *LinkProfile
	// PhotosPerVisit is how many photos (real JPEGs of about PhotoKB
	// kilobytes, default 300) a visit carries, uploaded after the records;
	// 0 keeps references to photos no phone uploads.
	PhotosPerVisit int
	PhotoKB        int
}

func (o *Options) defaults() error {
	if o.Server == "" {
		return errors.New("sim: Options.Server is required")
	}
	if o.Cadres <= 0 {
		o.Cadres = 20
	}
	if o.Days <= 0 {
		o.Days = 5
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Password == "" {
		o.Password = "fieldvisit-demo"
	}
	if o.Supervisor == "" {
		o.Supervisor = "supervisor"
	}
	if o.CadrePrefix == "" {
		o.CadrePrefix = "cadre"
	}
	if o.TwoDevices == 0 {
		o.TwoDevices = 0.35
	}
	if o.VisitsPerDay <= 0 {
		o.VisitsPerDay = 3
	}
	if o.SyncChance == 0 {
		o.SyncChance = 0.6
	}
	if o.Faults == nil {
		f := DefaultFaults()
		o.Faults = &f
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Concurrency <= 0 {
		o.Concurrency = o.Cadres
	}
	if o.PhotoKB <= 0 {
		o.PhotoKB = 300
	}
	return nil
}

// Result is what a run found.
type Result struct {
	Cadres, Days, Devices int
	Pushed                int // changes sent in push batches (each batch counted once, however often it was resent)
	Acked                 int // changes with a definitive per-change answer
	Stored                int // this run's visits the server holds (not deleted)
	Duplicates            int
	Lost                  int
	Diverged              int
	Statuses              map[string]int // acknowledged outcomes by status
	Work                  map[string]int // what the phones did: visits, edits, deletes, …
	Faults                map[string]int // faults injected
	Problems              []string       // what went wrong, first ones
	Elapsed               time.Duration
	// Photos the phones took, those the server does not hold as taken,
	// and those stored more than once.
	Photos, PhotosLost int
	// Link is the link profile's name ("" for the Flaky link); Links is
	// each phone's field sync over it, Slowest the one slowest relative to
	// its floor.
	Link    string
	Links   []LinkUse
	Slowest LinkUse
}

// Line is the summary line the command ends with. A run over a link adds
// the bytes, floor and time of the phone slowest relative to its floor.
func (r Result) Line() string {
	line := fmt.Sprintf("sim: cadres=%d days=%d pushed=%d acked=%d stored=%d duplicates=%d lost=%d diverged=%d photos=%d photos_lost=%d",
		r.Cadres, r.Days, r.Pushed, r.Acked, r.Stored, r.Duplicates, r.Lost, r.Diverged, r.Photos, r.PhotosLost)
	if r.Link != "" {
		s := r.Slowest
		line += fmt.Sprintf(" link=%s bytes_up=%d bytes_down=%d link_floor_s=%.1f took_s=%.1f", r.Link, s.Up, s.Down, s.Floor.Seconds(), s.Took.Seconds())
	}
	return line
}

// OK reports whether nothing was lost, doubled or left diverged.
func (r Result) OK() bool {
	return r.Duplicates == 0 && r.Lost == 0 && r.Diverged == 0 && r.PhotosLost == 0
}

type cadre struct {
	username string
	userID   uuid.UUID
	devices  []*device
	rnd      *mrand.Rand
}

type device struct {
	name   string // cadre07-b
	id     string // device id sent to the server
	dir    string
	cadre  *cadre
	link   *Flaky     // the default run's link
	proxy  *proxyLink // a --link run's link: the phone's own toxiproxy
	base   string     // the server as the phone reaches it
	direct http.RoundTripper
	skew   time.Duration
	rnd    *mrand.Rand
	seed   uint64
	c      *client.Client
	ctx    context.Context
	cancel context.CancelFunc
	killed atomic.Bool
	// lastAck is when the server last acknowledged one of the phone's
	// changes (unix nanoseconds): in a field sync, when its records were in.
	lastAck atomic.Int64
}

func (d *device) now() time.Time { return time.Now().Add(d.skew) }

type run struct {
	o      Options
	ctx    context.Context
	id     string
	base   string
	counts FaultCounts
	cadres []*cadre

	mu       sync.Mutex
	outcomes []ackd
	batches  map[string]int
	intended map[uuid.UUID]*intent
	work     map[string]int
	problems []string
	nProblem int
	sup      *client.Client
	repaired map[uuid.UUID][]*cadre // household → cadres it was re-paired away from
	before   map[uuid.UUID]bool     // visits of the cadres on the server before the run

	// untracked runs (the soak) keep no account of what was acknowledged:
	// it would grow for as long as they run, and they check nothing.
	untracked bool
	links     *linkSet
	camera    *camera
	photos    map[uuid.UUID]photoIntent
	uses      []LinkUse
}

type ackd struct {
	device string
	cadre  *cadre
	out    client.Outcome
}

type intent struct {
	cadre   *cadre
	device  string
	deleted bool
}

// Run plays the simulation against o.Server and checks the result.
func Run(ctx context.Context, o Options) (Result, error) {
	if err := o.defaults(); err != nil {
		return Result{}, err
	}
	start := time.Now()
	r := newRun(ctx, o)
	r.base = o.Dir
	if r.base == "" {
		dir, err := os.MkdirTemp("", "fieldvisit-sim-")
		if err != nil {
			return Result{}, err
		}
		defer os.RemoveAll(dir)
		r.base = dir
	}
	res := Result{Cadres: o.Cadres, Days: o.Days}
	if o.Link != nil {
		ls, err := newLinkSet(o.Server)
		if err != nil {
			return res, err
		}
		defer ls.close()
		r.links = ls
		res.Link = o.Link.Name
	}
	if err := r.setup(); err != nil {
		return res, err
	}
	for _, c := range r.cadres {
		res.Devices += len(c.devices)
	}
	if o.Link != nil {
		r.printf("sim: run %s: %d cadres with %d phones offline for %d days, then syncing over their own %s link (toxiproxy) to %s\n",
			r.id, len(r.cadres), res.Devices, o.Days, o.Link.Name, o.Server)
	} else {
		r.printf("sim: run %s: %d cadres with %d phones over %d days against %s (faults: drop-before %.0f%%, drop-after %.0f%%, timeout %.0f%%, duplicate %.0f%%, kill %.0f%%)\n",
			r.id, len(r.cadres), res.Devices, o.Days, o.Server, 100*o.Faults.DropBefore, 100*o.Faults.DropAfter, 100*o.Faults.Timeout,
			100*o.Faults.Duplicate, 100*o.Faults.Kill)
	}
	sup, err := r.session(ctx, o.Supervisor, "supervisor")
	if err != nil {
		return res, err
	}
	defer sup.Close()
	r.sup = sup
	r.before = map[uuid.UUID]bool{}
	for _, c := range r.cadres {
		vs, err := listVisits(ctx, sup, c.userID)
		if err != nil {
			return res, fmt.Errorf("sim: listing %s's visits: %w", c.username, err)
		}
		for _, v := range vs {
			r.before[v.ID] = true
		}
	}
	seq := mrand.New(mrand.NewPCG(o.Seed, 0x4e9a))
	for day := 1; day <= o.Days; day++ {
		before := r.snapshotWork()
		r.forEachCadre(func(c *cadre) { r.playDay(c, day) })
		// Back in the office, the supervisor re-pairs some households.
		for n := o.Repairings*day/o.Days - o.Repairings*(day-1)/o.Days; n > 0; n-- {
			r.repair(seq)
		}
		if err := ctx.Err(); err != nil {
			return res, err
		}
		after := r.snapshotWork()
		r.printf("sim: day %d/%d: visits=%d edits=%d deletes=%d household-edits=%d member-edits=%d syncs=%d (failed %d) kills=%d restarts=%d",
			day, o.Days, after["visits"]-before["visits"], after["visit-edits"]-before["visit-edits"], after["deletes"]-before["deletes"],
			after["household-edits"]-before["household-edits"], after["member-edits"]-before["member-edits"], after["syncs"]-before["syncs"],
			after["sync-failures"]-before["sync-failures"], after["kills"]-before["kills"], after["restarts"]-before["restarts"])
		if o.Repairings > 0 {
			r.printf(" re-pairings=%d", after["re-pairings"]-before["re-pairings"])
		}
		r.printf("\n")
	}
	if o.Link != nil {
		if err := r.fieldSync(&res); err != nil {
			return res, err
		}
	}
	if err := r.finish(); err != nil {
		return res, err
	}
	if err := r.verify(&res); err != nil {
		return res, err
	}
	for _, c := range r.cadres {
		for _, d := range c.devices {
			d.c.Close()
		}
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

func (r *run) printf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.o.Out, format, args...)
}

func (r *run) logf(format string, args ...any) {
	if r.o.Verbose {
		r.printf(format+"\n", args...)
	}
}

// problem records something that went wrong (the first 20 are kept).
func (r *run) problem(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.nProblem++
	if len(r.problems) < 20 {
		r.problems = append(r.problems, fmt.Sprintf(format, args...))
	}
}

func (r *run) count(what string, n int) {
	r.mu.Lock()
	r.work[what] += n
	r.mu.Unlock()
}

func (r *run) snapshotWork() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.work))
	for k, v := range r.work {
		out[k] = v
	}
	return out
}

func (r *run) forEachCadre(fn func(c *cadre)) {
	sem := make(chan struct{}, r.o.Concurrency)
	var wg sync.WaitGroup
	for _, c := range r.cadres {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			fn(c)
		}()
	}
	wg.Wait()
}

func newRun(ctx context.Context, o Options) *run {
	r := &run{o: o, ctx: ctx, batches: map[string]int{}, intended: map[uuid.UUID]*intent{}, work: map[string]int{},
		repaired: map[uuid.UUID][]*cadre{}, photos: map[uuid.UUID]photoIntent{}}
	var idb [4]byte
	_, _ = rand.Read(idb[:])
	r.id = hex.EncodeToString(idb[:])
	return r
}

// setup makes the cadres and their phones (and their camera when visits
// carry photos), logs each phone in and pulls
// its households (over the flaky link: that is how phones first meet it).
func (r *run) setup() error {
	if r.o.PhotosPerVisit > 0 {
		cam, err := newCamera(r.o.PhotoKB)
		if err != nil {
			return err
		}
		r.camera = cam
	}
	seed := mrand.New(mrand.NewPCG(r.o.Seed, 0x5eed))
	for i := 1; i <= r.o.Cadres; i++ {
		c := &cadre{username: fmt.Sprintf("%s%02d", r.o.CadrePrefix, i), rnd: mrand.New(mrand.NewPCG(seed.Uint64(), seed.Uint64()))}
		n := 1
		if r.o.TwoDevices > 0 && seed.Float64() < r.o.TwoDevices {
			n = 2
		}
		for j := 0; j < n; j++ {
			name := fmt.Sprintf("%s-%c", c.username, 'a'+j)
			d := &device{name: name, id: "sim-" + r.id + "-" + name, dir: filepath.Join(r.base, name), cadre: c, seed: seed.Uint64()}
			d.rnd = mrand.New(mrand.NewPCG(d.seed, 1))
			var base http.RoundTripper = http.DefaultTransport
			d.base = r.o.Server
			if r.links != nil {
				// A transport of its own: the phone's connections are its.
				base = http.DefaultTransport.(*http.Transport).Clone()
				l, err := r.links.open(name, *r.o.Link)
				if err != nil {
					return err
				}
				d.proxy, d.base = l, "http://"+l.Addr()
			}
			if r.o.Transport != nil {
				base = r.o.Transport(name, base)
			}
			if r.links != nil {
				d.direct = base
			} else {
				d.link = NewFlaky(base, *r.o.Faults, d.seed^0xf1a4, &r.counts)
			}
			switch x := seed.Float64(); {
			case x < 0.7:
				d.skew = time.Duration(seed.IntN(240)-120) * time.Second
			case x < 0.9:
				d.skew = time.Duration(seed.IntN(12)-6) * time.Hour
			default:
				d.skew = -time.Duration(1+seed.IntN(3)) * 24 * time.Hour
			}
			c.devices = append(c.devices, d)
		}
		r.cadres = append(r.cadres, c)
	}
	var mu sync.Mutex
	var errs []error
	r.forEachCadre(func(c *cadre) {
		for _, d := range c.devices {
			if err := r.open(d); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				return
			}
			if err := r.firstContact(d); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s: %w", d.name, err))
				mu.Unlock()
				return
			}
		}
	})
	return errors.Join(errs...)
}

// photoOneRequest is the longest a weak link may take to carry a photo
// in one request; larger photos go up in chunks that follow the link's pace.
const photoOneRequest = 45 * time.Second

// open (re)opens a phone's client from its directory.
func (r *run) open(d *device) error {
	ctx, cancel := context.WithCancel(r.ctx)
	d.ctx, d.cancel = ctx, cancel
	d.killed.Store(false)
	if d.link != nil {
		d.link.OnKill = func() {
			d.killed.Store(true)
			cancel()
		}
	}
	user := d.cadre.username
	backoff := client.Backoff{Min: 5 * time.Millisecond, Max: 100 * time.Millisecond, Attempts: 8}
	batchBytes, timeout := 0, time.Minute
	var photoChunk int64
	if r.o.Link != nil {
		// A weak link cuts connections for seconds, not milliseconds; a
		// batch is sized to go up within the server's body deadline.
		backoff = client.Backoff{Min: 100 * time.Millisecond, Max: 2 * time.Second, Attempts: 20}
		if bps := r.o.Link.BytesPerSecond; bps > 0 {
			batchBytes = int(max(16_000, 4*bps))
			// A phone photo goes up in one request when the link carries
			// it within photoOneRequest: each request leaves the link idle
			// for a round trip and the server's answer (~0.4 s on 2G), a
			// tenth of a 10-second chunk but a hundredth of a whole photo,
			// and this link's cuts fall at a connection's start or its
			// first answer, which a whole-photo upload survives as well as
			// a chunk (the SDK asks the server what it holds).
			photoChunk = bps * int64(photoOneRequest/time.Second)
			timeout = 2 * time.Minute
		}
	}
	c, err := client.New(client.Config{BaseURL: d.base, DeviceID: d.id, Dir: d.dir, HTTPClient: &http.Client{Transport: d.transport()},
		Now: d.now, Backoff: backoff, Timeout: timeout, BatchBytes: batchBytes, PhotoChunk: photoChunk,
		Seed:        d.rnd.Uint64() | 1,
		Credentials: func(context.Context) (string, string, error) { return user, r.o.Password, nil },
		OnOutcome:   func(client.Outcome) { d.lastAck.Store(time.Now().UnixNano()) },
		Logf: func(f string, a ...any) {
			if r.o.Verbose {
				r.printf("  %s: %s\n", d.name, fmt.Sprintf(f, a...))
			}
		}})
	if err != nil {
		cancel()
		return fmt.Errorf("%s: open: %w", d.name, err)
	}
	d.c = c
	return nil
}

// transport is the phone's way to the server: the Flaky link or its proxy.
func (d *device) transport() http.RoundTripper {
	if d.link != nil {
		return d.link
	}
	return d.direct
}

// restart abandons a phone's client (as if the app had died) and reopens it.
func (r *run) restart(d *device, why string) {
	d.c.Close()
	d.cancel()
	r.count("restarts", 1)
	if why == "kill" {
		r.count("kills", 1)
	}
	if err := r.open(d); err != nil {
		r.problem("%s: reopening after %s: %v", d.name, why, err)
	}
}

func (r *run) firstContact(d *device) error {
	var last error
	for range 20 {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		if _, ok := d.c.User(); !ok || !d.c.LoggedIn() {
			if _, err := d.c.Login(d.ctx, d.cadre.username, r.o.Password); err != nil {
				last = err
				continue
			}
		}
		_, err := r.sync(d, 5*time.Second)
		if err == nil {
			u, _ := d.c.User()
			d.cadre.userID = u.ID
			if len(d.c.Households()) == 0 {
				return fmt.Errorf("%s has no households in scope", d.cadre.username)
			}
			return nil
		}
		last = err
	}
	return fmt.Errorf("could not log in and pull over the flaky link: %w", last)
}

// sync runs one Sync on the phone's current link, records what the server
// acknowledged and handles a kill.
func (r *run) sync(d *device, limit time.Duration) (client.SyncReport, error) {
	ctx, cancel := context.WithTimeout(d.ctx, limit)
	rep, err := d.c.Sync(ctx)
	cancel()
	r.record(d, rep.Push)
	r.notePhotos(d, rep.Photos)
	r.count("syncs", 1)
	if d.killed.Load() {
		r.restart(d, "kill")
		if err == nil {
			err = ErrKilled
		}
	}
	if err != nil {
		r.count("sync-failures", 1)
		r.logf("%s: sync: %v", d.name, err)
	}
	return rep, err
}

func (r *run) record(d *device, rep client.PushReport) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.untracked {
		return
	}
	for _, b := range rep.Batches {
		if _, seen := r.batches[b.Key]; !seen {
			r.batches[b.Key] = b.Changes
		}
	}
	for _, o := range rep.Outcomes {
		r.outcomes = append(r.outcomes, ackd{device: d.name, cadre: d.cadre, out: o})
	}
}

// playDay is one cadre's day: each phone works offline, then maybe syncs.
func (r *run) playDay(c *cadre, day int) {
	order := c.rnd.Perm(len(c.devices))
	for _, i := range order {
		r.work1(c.devices[i], day)
	}
	if r.o.Link != nil {
		return // in the hills: no signal until the trip is over
	}
	for _, i := range order {
		d := c.devices[i]
		if d.rnd.Float64() < r.o.SyncChance {
			d.link.Off.Store(false)
			_, err := r.sync(d, 4*time.Second)
			if err != nil && d.rnd.Float64() < 0.5 {
				_, err = r.sync(d, 4*time.Second) // the cadre tries again
			}
		}
	}
}

// work1 is what one phone records on a day, offline.
func (r *run) work1(d *device, day int) {
	rnd := d.rnd
	hs := r.households(d)
	if len(hs) == 0 {
		return
	}
	cst := time.FixedZone("CST", 8*3600)
	today := time.Now().In(cst)
	date := time.Date(today.Year(), today.Month(), today.Day(), 8, 30, 0, 0, cst).AddDate(0, 0, day-r.o.Days-1)
	n := 1 + rnd.IntN(r.o.VisitsPerDay)
	for i := 0; i < n; i++ {
		h := hs[rnd.IntN(len(hs))]
		start := date.Add(time.Duration(i*120+rnd.IntN(90)) * time.Minute).Add(d.skew).Truncate(time.Second)
		nv := newVisit(rnd, h, d.c.Members(h.ID), start)
		id, err := r.recordVisit(d, nv)
		if err != nil {
			r.problem("%s: recording a visit: %v", d.name, err)
			continue
		}
		r.mu.Lock()
		if !r.untracked {
			r.intended[id] = &intent{cadre: d.cadre, device: d.name}
		}
		r.mu.Unlock()
		r.count("visits", 1)
	}
	visits := d.c.Visits()
	if len(visits) > 0 {
		for range rnd.IntN(3) {
			v := visits[rnd.IntN(len(visits))]
			if err := d.c.EditVisit(v.ID, visitEdit(rnd, v)); err != nil {
				r.problem("%s: editing visit %s: %v", d.name, v.ID, err)
				continue
			}
			r.count("visit-edits", 1)
		}
		if rnd.Float64() < 0.3 {
			v := visits[rnd.IntN(len(visits))]
			if err := d.c.DeleteVisit(v.ID); err == nil {
				r.mu.Lock()
				if in := r.intended[v.ID]; in != nil {
					in.deleted = true
				}
				r.mu.Unlock()
				r.count("deletes", 1)
			} else if !errors.Is(err, client.ErrNotFound) {
				r.problem("%s: deleting visit %s: %v", d.name, v.ID, err)
			}
		}
	}
	if rnd.Float64() < 0.6 {
		h := hs[rnd.IntN(len(hs))]
		if err := d.c.EditHousehold(h.ID, householdEdit(rnd)); err != nil {
			r.problem("%s: editing household %s: %v", d.name, h.ID, err)
		} else {
			r.count("household-edits", 1)
		}
	}
	if rnd.Float64() < 0.4 {
		h := hs[rnd.IntN(len(hs))]
		if ms := d.c.Members(h.ID); len(ms) > 0 {
			m := ms[rnd.IntN(len(ms))]
			if err := d.c.EditMember(h.ID, m.ID, memberEdit(rnd)); err != nil {
				r.problem("%s: editing member %s: %v", d.name, m.ID, err)
			} else {
				r.count("member-edits", 1)
			}
		}
	}
	if rnd.Float64() < 0.05 {
		r.restart(d, "reboot") // the phone was switched off overnight
	}
}

// households are the cadre's paired households on the phone (all in scope
// when the phone holds no pairing of its own).
func (r *run) households(d *device) []wire.Household {
	all := d.c.Households()
	u, _ := d.c.User()
	paired := map[uuid.UUID]bool{}
	for _, p := range d.c.Pairings() {
		if p.CadreID == u.ID && p.EndOn == nil {
			paired[p.HouseholdID] = true
		}
	}
	if len(paired) == 0 {
		return all
	}
	var out []wire.Household
	for _, h := range all {
		if paired[h.ID] {
			out = append(out, h)
		}
	}
	return out
}

// finish brings every phone home: a good link, sync until the outbox is
// empty, then one more pull each so every phone sees the others' last
// pushes.
func (r *run) finish() error {
	if r.o.Link != nil {
		r.printf("sim: every phone syncs once more, its link back to good\n")
	} else {
		r.printf("sim: trips over; every phone syncs on a good link\n")
	}
	r.forEachCadre(func(c *cadre) {
		for _, d := range c.devices {
			if d.link != nil {
				d.link.Off.Store(true)
			}
			var err error
			for range 10 {
				if _, err = r.sync(d, 2*time.Minute); err == nil && drained(d) {
					break
				}
			}
			if b := d.c.Backlog(); err != nil || b.Records != 0 || b.Photos != 0 {
				r.problem("%s: outbox not drained on a good link: %d changes and %d photos pending, %v", d.name, b.Records, b.Photos, err)
			}
		}
	})
	if err := r.awaitJudgement(2 * time.Minute); err != nil {
		r.problem("the server's evidence judgement did not settle: %v", err)
	}
	r.forEachCadre(func(c *cadre) {
		for _, d := range c.devices {
			ctx, cancel := context.WithTimeout(d.ctx, time.Minute)
			if _, err := d.c.Pull(ctx); err != nil {
				r.problem("%s: final pull: %v", d.name, err)
			}
			cancel()
		}
	})
	return r.ctx.Err()
}

// awaitJudgement waits until the server has judged the evidence of every
// visit (its metric fieldvisit_evidence_queue reads 0): flags are the
// server's and reach phones on their next pull, so the final pulls must come
// after them for the replicas to be comparable.
func (r *run) awaitJudgement(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		n, err := r.evidenceQueue()
		if err == nil && n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("%v visits still queued", n)
			}
			return err
		}
		select {
		case <-r.ctx.Done():
			return r.ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func (r *run) evidenceQueue() (float64, error) {
	req, err := http.NewRequestWithContext(r.ctx, http.MethodGet, strings.TrimRight(r.o.Server, "/")+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "fieldvisit_evidence_queue "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("the server's /metrics has no fieldvisit_evidence_queue")
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func summary(m map[string]int) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

// repair has the supervisor move one household from a simulated cadre to
// another (结对调整), as the register allows: the old pairing ends today
// and the new one starts.
func (r *run) repair(rnd *mrand.Rand) {
	ctx, cancel := context.WithTimeout(r.ctx, time.Minute)
	defer cancel()
	for _, i := range rnd.Perm(len(r.cadres)) {
		from := r.cadres[i]
		var open []wire.PairingRecord
		for _, p := range from.devices[0].c.Pairings() {
			if p.CadreID == from.userID && p.EndOn == nil {
				open = append(open, p)
			}
		}
		if len(open) < 2 { // keep every cadre with households to visit
			continue
		}
		p := open[rnd.IntN(len(open))]
		for _, j := range rnd.Perm(len(r.cadres)) {
			to := r.cadres[j]
			if to == from {
				continue
			}
			err := r.sup.PostJSON(ctx, "/api/v1/pairings/"+p.ID.String()+"/end",
				map[string]any{"reason": "工作调整，改由" + to.username + "帮扶", "new_cadre_id": to.userID}, nil)
			var pe *client.ProblemError
			if errors.As(err, &pe) && pe.Status == http.StatusUnprocessableEntity {
				continue // not pairable (another village), or ended already
			}
			if err != nil {
				r.problem("re-pairing household %s: %v", p.HouseholdID, err)
				return
			}
			r.mu.Lock()
			r.repaired[p.HouseholdID] = append(r.repaired[p.HouseholdID], from)
			r.mu.Unlock()
			r.count("re-pairings", 1)
			r.logf("supervisor: household %s re-paired from %s to %s", p.HouseholdID, from.username, to.username)
			return
		}
	}
}
