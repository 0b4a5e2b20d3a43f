package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/adjustment"
	"github.com/fieldvisit/fieldvisit/internal/demo"
	"github.com/fieldvisit/fieldvisit/internal/photos"
	"github.com/fieldvisit/fieldvisit/storage"
)

func openDB(ctx context.Context, cfg Config, log *slog.Logger) (*storage.DB, error) {
	return storage.Open(ctx, cfg.DatabaseURL, cfg.DataDir, log)
}

func serveCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg Config
	fs := NewFlagSet("serve", stderr)
	cfg.bindStore(fs)
	cfg.bindLogLevel(fs)
	cfg.bindServer(fs)
	cfg.bindDemo(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	if cfg.Demo {
		if err := demo.CheckSize(cfg.DemoHouseholds, cfg.DemoCadres); err != nil {
			return err
		}
	}
	// The address is taken before anything else, the demo's minute of
	// seeding included, so a busy port is said at once; until serving
	// starts, connections wait in the listener's queue.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another fieldvisit running? choose another address with --addr or FIELDVISIT_ADDR)", cfg.Addr, err)
	}
	defer ln.Close()
	if err := readyTmpDir(cfg.tmpDir()); err != nil {
		return err
	}
	log := NewLogger(stderr, cfg.LogLevel)
	app, err := NewApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer app.Close()
	var summary *demo.Summary
	if cfg.Demo {
		s, err := seedDemo(ctx, app, stderr)
		if err != nil {
			return err
		}
		summary = &s
	}
	url := "http://" + ln.Addr().String()
	log.Info("listening", "addr", ln.Addr().String(), "database", string(app.DB.Dialect), "demo", cfg.Demo)
	fmt.Fprintf(stdout, "fieldvisit is serving on %s  (console: %s/ui/, API docs: %s/docs)\n", url, url, url)
	if summary != nil {
		county, err := demoCounty(ctx, app)
		if err != nil {
			return err
		}
		printDemo(stdout, url, *summary, county, domain.DateOf(app.Now()))
	} else if err := adviseInit(ctx, app, stdout); err != nil {
		return err
	}
	return app.Serve(ctx, ln)
}

// adviseInit says how to bootstrap a database nobody can log in to yet:
// without it, a new operator's first serve answers every login with 401.
func adviseInit(ctx context.Context, app *App, w io.Writer) error {
	users, _, err := app.Store.Users(ctx, domain.UserFilter{Limit: 1})
	if err != nil || len(users) > 0 {
		return err
	}
	where := ""
	if app.Config.DatabaseURL != "" {
		where = " with the same FIELDVISIT_DATABASE_URL"
	} else if app.Config.DataDir != "./data" {
		where = " --data-dir " + app.Config.DataDir
	}
	fmt.Fprintf(w, `
the database is empty: nobody can log in yet. Create the top region and the first admin
(the server may keep running):
  %s='<10 to 128 characters>' fieldvisit init%s --region-code 410000000000 --region-name 河南省
or start a demo county instead: fieldvisit serve --demo (on an empty data directory or database)

`, adminPasswordEnv, where)
	return nil
}

// demoCounty is the demo county's id: the supervisor's region.
func demoCounty(ctx context.Context, app *App) (uuid.UUID, error) {
	u, _, err := app.Store.UserCredentials(ctx, "supervisor")
	if err != nil {
		return uuid.Nil, fmt.Errorf("the demo's supervisor: %w", err)
	}
	return u.RegionID, nil
}

// demoAdjustment leaves the county's adjustment round of the year waiting
// for the supervisor (动态调整): the batch the console's form builds, from
// the demo's candidate lists, through the same service.
func demoAdjustment(ctx context.Context, app *App) error {
	u, _, err := app.Store.UserCredentials(ctx, "supervisor")
	if err != nil {
		return fmt.Errorf("demo: the adjustment round's supervisor: %w", err)
	}
	p := domain.Principal{UserID: u.ID, Username: u.Username, Role: u.Role, RegionID: u.RegionID, RegionPath: u.RegionPath}
	if _, err := app.Adjustment.Build(ctx, p, adjustment.NewBatch{RegionID: u.RegionID, Year: domain.DateOf(app.Now()).Year}); err != nil {
		return fmt.Errorf("demo: the adjustment round: %w", err)
	}
	return nil
}

func seedDemo(ctx context.Context, app *App, progress io.Writer) (demo.Summary, error) {
	if s, ok, err := demo.Seeded(ctx, app.Store); err != nil || ok {
		if v, _ := app.Store.Setting(ctx, demo.MarkerKey); ok && v != demo.MarkerVersion {
			app.Log.Warn("the demo database was seeded by an older version and lacks what newer demos hold (visit history, inspections); start on an empty data directory to get it",
				"marker", v, "current", demo.MarkerVersion)
		}
		return s, err
	}
	start := time.Now()
	last := ""
	opt := demo.Options{HashPassword: func(ctx context.Context) (string, error) { return app.Auth.Hasher().Hash(ctx, demo.Password) }, Today: domain.DateOf(app.Now()), Photos: demoPhotos{svc: app.Photos},
		Households: app.Config.DemoHouseholds, Cadres: app.Config.DemoCadres,
		Inspections: func(now func() time.Time) (demo.Inspections, demo.Rectifications) {
			return app.Inspect.WithClock(now), app.ItemLedger.WithClock(now)
		},
		Progress: func(stage string, done, total int) {
			if stage != last || done == total {
				fmt.Fprintf(progress, "\rseeding demo county: %-12s %d/%d", stage, done, total)
				if done == total {
					fmt.Fprintln(progress)
				}
				last = stage
			}
		}}
	s, err := demo.Seed(ctx, app.Store, opt)
	if errors.Is(err, demo.ErrIncomplete) {
		// A first start stopped during its seeding (Ctrl-C, a closed
		// terminal) left part of a county: what it wrote is drawn again
		// anyway, so it is cleared and the seeding runs whole.
		fmt.Fprintln(progress, "an earlier demo seeding was interrupted before it finished: starting it over")
		if err = demo.StartOver(ctx, app.DB); err == nil {
			if err = app.Compliance.EnsureProfiles(ctx); err == nil {
				s, err = demo.Seed(ctx, app.Store, opt)
			}
		}
	}
	if err != nil {
		return demo.Summary{}, err // demo's errors say "demo:" already
	}
	// Judge the visits' evidence now rather than in the background, so the
	// flags are there at first login, a thousand visits per transaction
	// (photos.Service.AssessBacklog): one commit instead of four per visit
	// keeps it to seconds on SQLite. An interrupted drain is finished by the
	// photo workers.
	judged := 0
	for {
		n, err := app.Photos.AssessBacklog(ctx, 1000)
		if err != nil {
			return demo.Summary{}, fmt.Errorf("demo: judge the visits' evidence: %w", err)
		}
		if n == 0 {
			break
		}
		judged += n
		fmt.Fprintf(progress, "\rseeding demo county: %-12s %d/%d", "evidence", judged, s.Visits)
	}
	fmt.Fprintln(progress)
	// Judge every household's and cadre's visit rules now as well, so the
	// first missed-visit report and worklist are complete (the worker would
	// otherwise fill them in over the first minute), a few hundred subjects
	// per transaction for SQLite's sake.
	subjects := 0
	for {
		n, err := app.Compliance.CatchUp(ctx, 10000, 500)
		if err != nil {
			return demo.Summary{}, fmt.Errorf("demo: judge the visit rules: %w", err)
		}
		if n == 0 {
			break
		}
		subjects += n
		fmt.Fprintf(progress, "\rseeding demo county: %-12s %d", "visit rules", subjects)
	}
	fmt.Fprintln(progress)
	if err := demoAdjustment(ctx, app); err != nil {
		return demo.Summary{}, err
	}
	app.Log.Info("demo ready", "households", s.Households, "cadres", s.Cadres, "visits", s.Visits, "photos", s.Photos,
		"seconds", time.Since(start).Seconds())
	for _, f := range s.FakeVisits {
		app.Log.Info("demo fake visits", "flag", f.Flag, "cadre", f.Cadre, "visits", f.Visits, "note", f.Note)
	}
	for _, in := range s.Inspections {
		app.Log.Info("demo inspection", "id", in.ID, "name", in.Name, "mode", in.Mode, "status", in.Status, "households", in.Households,
			"paper_households", in.PaperHouseholds, "rectifications", in.Rectifications)
	}
	return s, nil
}

// demoPhotos stores the demo's photos through the photo service, as a
// phone's one-request upload would.
type demoPhotos struct {
	svc *photos.Service
}

// Batch stores a batch of photos in one transaction, through a photo
// service over that transaction (one commit instead of one per photo).
func (d demoPhotos) Batch(ctx context.Context, fn func(demo.PhotoSink) error) error {
	return d.svc.Tx(ctx, func(tx *photos.Service) error {
		return fn(demoPhotos{svc: tx})
	})
}

func (d demoPhotos) PutPhoto(ctx context.Context, cadre domain.Principal, photoID, visitID uuid.UUID, jpeg []byte) error {
	sum := sha256.Sum256(jpeg)
	_, _, err := d.svc.Put(ctx, cadre, photos.Declared{PhotoID: photoID, SHA256: hex.EncodeToString(sum[:]), ContentType: "image/jpeg",
		Size: int64(len(jpeg)), VisitID: &visitID}, bytes.NewReader(jpeg))
	return err
}

func printDemo(w io.Writer, url string, s demo.Summary, county uuid.UUID, today domain.Date) {
	fmt.Fprintf(w, "\ndemo county: %d towns, %d villages, %d households, %d members, %d cadres, %d pairings\n",
		s.Towns, s.Villages, s.Households, s.Members, s.Cadres, s.Pairings)
	fmt.Fprintf(w, "open the console at %s/ui/ (or log in at %s/api/v1/auth/login) with password %q as:\n", url, url, demo.Password)
	for _, a := range s.Accounts {
		fmt.Fprintf(w, "  %-12s %-10s %s %s\n", a.Username, a.Role, a.Region, a.Note)
	}
	fmt.Fprintf(w, "  every cadre logs in the same way: cadre01 … cadre%02d\n", s.Cadres)
	if len(s.Inspections) > 0 {
		fmt.Fprintf(w, "inspections (GET %s/api/v1/inspections as supervisor or inspector):\n", url)
		for _, in := range s.Inspections {
			fmt.Fprintf(w, "  %s  %s\n    %s\n", in.Name, in.ID, in.Note)
		}
	}
	if c := s.Casework; c.PlanItems > 0 {
		fmt.Fprintf(w, "casework: %d plan measures (%d visits record progress), %d income accounts, %d open ledger items (%d overdue)\n",
			c.PlanItems, c.ProgressVisits, c.IncomeAccounts, c.LedgerItems, c.OverdueItems)
		for _, number := range slices.Sorted(maps.Keys(c.ExitProcedures)) {
			fmt.Fprintf(w, "  exit of household %s: %s\n", number, c.ExitProcedures[number])
		}
	}
	fmt.Fprintf(w, "try the API as the supervisor (any POSIX shell; a token lasts 15 minutes, run the first two lines again for another):\n")
	for _, line := range demoCommands(url, county, today) {
		fmt.Fprintf(w, "  %s\n", line)
	}
	fmt.Fprintln(w)
}

// demoCommands are shell lines a new user can paste: a login whose token
// is cut out of the answer with the shell's own expansions (no jq or sed
// needed), then the register, this quarter's missed visits, this year's
// exit candidates and this month's visit 台账 of the demo county.
func demoCommands(url string, county uuid.UUID, today domain.Date) []string {
	auth := `-H "Authorization: Bearer $TOKEN"`
	quarter := fmt.Sprintf("%d-Q%d", today.Year, (int(today.Month)-1)/3+1)
	month := fmt.Sprintf("%d-%02d", today.Year, int(today.Month))
	return []string{
		fmt.Sprintf(`TOKEN=$(curl -s %s/api/v1/auth/login -H 'Content-Type: application/json' -d '{"username":"supervisor","password":"%s","device_id":"laptop"}')`, url, demo.Password),
		`TOKEN=${TOKEN#*'"access_token":"'}; TOKEN=${TOKEN%%'"'*}`,
		"COUNTY=" + county.String(),
		fmt.Sprintf(`curl -s "%s/api/v1/households?limit=5" %s`, url, auth),
		fmt.Sprintf(`curl -s "%s/api/v1/compliance/missed?region_id=$COUNTY&period=%s" %s`, url, quarter, auth),
		fmt.Sprintf(`curl -s "%s/api/v1/exit-candidates?region_id=$COUNTY&year=%d&limit=5" %s`, url, today.Year, auth),
		fmt.Sprintf(`curl -s -o visits-%s.xlsx "%s/api/v1/exports/visits?region_id=$COUNTY&period=%s" %s`, month, url, month, auth),
	}
}
