package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/fieldvisit/fieldvisit/internal/demo"
	"github.com/fieldvisit/fieldvisit/internal/sim"
)

// simCmd plays cadres' offline trips over a flaky link against a running
// server (--server) or, by default, an in-process one on a fresh demo
// county, then checks that the server holds exactly the acknowledged
// changes and every phone converged. Its last output line is
//
//	sim: cadres=N days=N pushed=N acked=N stored=N duplicates=N lost=N diverged=N photos=N photos_lost=N
//
// and it fails unless duplicates, lost, diverged and photos_lost are all 0.
// With --link each phone sits behind its own toxiproxy shaped like a 2G or
// 3G link, stays offline for all the days, then syncs; the line gains
// link=NAME bytes_up=N bytes_down=N link_floor_s=N took_s=N of the phone
// slowest relative to its link floor.
func simCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := NewFlagSet("sim", stderr)
	var o sim.Options
	def := sim.DefaultFaults()
	f := def
	server := fs.String("server", "", "base URL of a running fieldvisit server with the demo accounts; empty runs one in-process on a fresh demo county")
	fs.IntVar(&o.Cadres, "cadres", 20, "cadres to play (cadre01 … cadreNN)")
	fs.IntVar(&o.Days, "days", 5, "days of field trips")
	seed := fs.Uint64("seed", 1, "random seed of the simulation")
	fs.Float64Var(&o.TwoDevices, "two-devices", 0.35, "share of cadres carrying two phones that edit the same households and visits")
	fs.IntVar(&o.VisitsPerDay, "visits-per-day", 3, "visits per phone per day, at most")
	fs.Float64Var(&o.SyncChance, "sync-chance", 0.6, "chance a phone finds a signal on a given evening")
	link := fs.String("link", "", "2g, 3g or good: each phone syncs through its own toxiproxy shaped so, after all the days offline (empty: the flaky link, syncing some evenings)")
	photos := fs.Int("photos-per-visit", -1, "real JPEG photos per visit, recorded into the phones' photo outbox and uploaded after the records (default 2 with --link, 1 without)")
	photoKB := fs.Int("photo-kb", 0, "size of each photo, in kilobytes, about (default 300 with --link, 30 without)")
	fs.IntVar(&o.Repairings, "repairings", 0, "households the supervisor re-pairs from one simulated cadre to another during the run (scope changes)")
	fs.Float64Var(&f.DropBefore, "drop-before", def.DropBefore, "chance a request is lost before it reaches the server")
	fs.Float64Var(&f.DropAfter, "drop-after", def.DropAfter, "chance an answer is lost after the server committed")
	fs.Float64Var(&f.Timeout, "timeouts", def.Timeout, "chance a request times out (half of them after reaching the server)")
	fs.Float64Var(&f.Duplicate, "duplicates", def.Duplicate, "chance a request is delivered twice")
	fs.Float64Var(&f.Kill, "kills", def.Kill, "chance the app is killed right after a push went out")
	fs.StringVar(&o.Password, "password", demo.Password, "password of the cadre and supervisor accounts")
	fs.StringVar(&o.Supervisor, "supervisor", "supervisor", "supervisor account used to check the server's state")
	fs.StringVar(&o.Dir, "dir", "", "directory for the phones' state (default: a temporary directory, removed afterwards)")
	fs.BoolVar(&o.Verbose, "v", false, "log every retry and sync failure")
	dataDir := fs.String("data-dir", "", "in-process server: data directory (default: a temporary one, removed afterwards)")
	dbURL := fs.String("database-url", "", "in-process server: postgres:// URL of an empty or demo database (default: SQLite in the data directory)")
	logLevel := fs.String("log-level", "error", "in-process server: log level")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("sim: unexpected argument %q", fs.Arg(0))
	}
	if f.DropBefore+f.DropAfter+f.Timeout+f.Duplicate+f.Kill >= 1 {
		return errors.New("sim: the fault chances add up to 1 or more: nothing would get through")
	}
	o.Seed, o.Faults, o.Out = *seed, &f, stdout
	if *link != "" {
		p, err := sim.LinkProfileNamed(*link)
		if err != nil {
			return err
		}
		o.Link = &p
	}
	// A week in the hills brings back phone-camera photos; the default
	// run, part of the tests, moves small ones so it stays quick.
	o.PhotosPerVisit, o.PhotoKB = 1, 30
	if o.Link != nil {
		o.PhotosPerVisit, o.PhotoKB = 2, 300
	}
	if *photos >= 0 {
		o.PhotosPerVisit = *photos
	}
	if *photoKB > 0 {
		o.PhotoKB = *photoKB
	}
	if o.TwoDevices == 0 {
		o.TwoDevices = -1 // explicitly none
	}
	start := time.Now()

	o.Server = *server
	if o.Server == "" {
		srv, err := StartDemoServer(ctx, Config{DataDir: *dataDir, DatabaseURL: *dbURL, LogLevel: *logLevel}, "sim", stdout, stderr)
		if err != nil {
			return err
		}
		defer srv.Stop()
		o.Server = srv.URL
	}
	res, err := sim.Run(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sim: finished in %s\n", time.Since(start).Round(100*time.Millisecond))
	fmt.Fprintln(stdout, res.Line())
	if !res.OK() {
		return fmt.Errorf("sim: %d duplicates, %d lost, %d diverged, %d photos lost",
			res.Duplicates, res.Lost, res.Diverged, res.PhotosLost)
	}
	return nil
}

// DemoServer is an in-process server on a demo county, for the commands
// that play phones against one (sim, soak).
type DemoServer struct {
	URL  string // http://127.0.0.1:port
	App  *App
	Stop func() // stops serving, closes the app and removes a temporary data directory
}

// StartDemoServer builds the app from cfg (a temporary data directory when
// cfg.DataDir is empty), seeds the demo county and serves it on a loopback
// port; what names the command in its messages.
func StartDemoServer(ctx context.Context, cfg Config, what string, stdout, stderr io.Writer) (*DemoServer, error) {
	var cleanup []func()
	stop := func() {
		for i := len(cleanup) - 1; i >= 0; i-- {
			cleanup[i]()
		}
	}
	if cfg.DataDir == "" {
		dir, err := os.MkdirTemp("", "fieldvisit-"+what+"-server-")
		if err != nil {
			return nil, err
		}
		cleanup = append(cleanup, func() { os.RemoveAll(dir) })
		cfg.DataDir = dir
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 5 * time.Second
	}
	app, err := NewApp(ctx, cfg, NewLogger(stderr, cfg.LogLevel))
	if err != nil {
		stop()
		return nil, err
	}
	cleanup = append(cleanup, func() { app.Close() })
	t0 := time.Now()
	s, err := seedDemo(ctx, app, stderr)
	if err != nil {
		stop()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		stop()
		return nil, err
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() { done <- app.Serve(sctx, ln) }()
	cleanup = append(cleanup, func() {
		cancel()
		if err := <-done; err != nil {
			fmt.Fprintf(stderr, "%s: in-process server: %v\n", what, err)
		}
	})
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "%s: in-process server on %s (%s, demo county of %d households and %d cadres ready in %s)\n",
		what, url, app.DB.Dialect, s.Households, s.Cadres, time.Since(t0).Round(100*time.Millisecond))
	return &DemoServer{URL: url, App: app, Stop: stop}, nil
}
