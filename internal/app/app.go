package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/fieldvisit/fieldvisit/internal/adjustment"
	"github.com/fieldvisit/fieldvisit/internal/auth"
	"github.com/fieldvisit/fieldvisit/internal/casework"
	"github.com/fieldvisit/fieldvisit/internal/compliance"
	"github.com/fieldvisit/fieldvisit/internal/compliance/ledger"
	"github.com/fieldvisit/fieldvisit/internal/devicehealth"
	"github.com/fieldvisit/fieldvisit/internal/fieldapp"
	"github.com/fieldvisit/fieldvisit/internal/importer"
	"github.com/fieldvisit/fieldvisit/internal/inspect"
	"github.com/fieldvisit/fieldvisit/internal/itemledger"
	"github.com/fieldvisit/fieldvisit/internal/periodic"
	"github.com/fieldvisit/fieldvisit/internal/photos"
	"github.com/fieldvisit/fieldvisit/internal/plans"
	"github.com/fieldvisit/fieldvisit/internal/printforms"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	"github.com/fieldvisit/fieldvisit/internal/web"
	"github.com/fieldvisit/fieldvisit/openapi"
	"github.com/fieldvisit/fieldvisit/server"
	"github.com/fieldvisit/fieldvisit/storage"
	"github.com/fieldvisit/fieldvisit/storage/blob"
	fvsync "github.com/fieldvisit/fieldvisit/sync"
)

// App is the whole service built from a Config: the one place where
// dependencies are wired. End-to-end tests build it the same way.
type App struct {
	Config     Config
	Log        *slog.Logger
	DB         *storage.DB
	Store      *storage.Store
	Blobs      blob.Store
	Auth       *auth.Service
	Registry   *registry.Service
	Sync       *fvsync.Service
	Photos     *photos.Service
	Compliance *compliance.Service
	Inspect    *inspect.Service
	ItemLedger *itemledger.Service
	Casework   *casework.Service
	// PrintForms lays out the printed forms (明白卡, 帮扶记录卡, 一户一档,
	// 帮扶手册), the plan and income accounts read from Plans and Casework.
	PrintForms *printforms.Service
	Plans      *plans.Service
	// Adjustment keeps the yearly adjustment round (动态调整), applying
	// approved items through Casework's and Registry's own use cases.
	Adjustment *adjustment.Service
	Handler    http.Handler
	Now        func() time.Time

	// DeviceHealth keeps each phone's sync health (GET /api/v1/devices).
	DeviceHealth *devicehealth.Service

	jobs *periodic.Runner // periodic jobs, once a period across replicas
	// draining is set when the server was told to stop and waits out
	// Config.DrainDelay: /readyz fails meanwhile.
	draining atomic.Bool
	keys     *auth.KeyRing
	hasher   *auth.Hasher

	orphanBlobs, missingBlobs prometheus.Gauge
	// dbReads outlives a rebuild: the store counts into it.
	dbReads *prometheus.CounterVec
	// conns outlive a rebuild: Serve holds them.
	conns *connMetrics
}

// build makes the services and the router from the opened resources; it
// runs again when a test swaps the clock.
func (a *App) build() error {
	now := func() time.Time { return a.Now() }
	a.Auth = auth.NewService(a.Store, a.keys, a.hasher, auth.Config{}, now)
	a.Registry = registry.NewService(a.Store, a.hasher, now)
	a.Compliance = compliance.NewService(a.Store.Compliance(), now, a.Log)
	a.Inspect = inspect.NewService(a.Store.Inspect(), now)
	a.ItemLedger = itemledger.NewService(a.Store.ItemLedger(), now)
	a.Casework = casework.NewService(a.Store.Casework(), registerStatus{now}, now)
	a.Plans = plans.NewService(a.Store.Plans(), now)
	a.Adjustment = adjustment.NewService(a.Store.Adjustment(), a.Casework, adjustmentChanges{now}, now)
	a.Sync = fvsync.NewService(a.Store.Sync(), fvsync.Config{SnapshotHouseholds: a.Config.SnapshotHouseholds, ReadAheadRecords: a.Config.ReadAheadRecords, Due: dueList(a.Compliance),
		Inspections: visitInspections{a.Inspect}, IncomeAccounts: pushedIncomeAccounts{a.Casework}, LedgerItems: syncLedgerItems{a.ItemLedger},
		VisitCasework: visitCasework{a.Casework}}, now, a.Log)
	a.DeviceHealth = devicehealth.NewService(a.Store, now)
	// Periods of the periodic jobs follow the wall clock, not the app's
	// (tests stop the app's clock at a day; the jobs still run hourly).
	a.jobs = periodic.NewRunner(a.Store, time.Now)
	a.PrintForms = printforms.New(a.Registry, a.Sync, printedCasework{a.Plans, a.Casework}, now)
	// Every spreadsheet the server reads or writes spills in its own
	// temporary directory, which serve empties at start and checks.
	for _, s := range []interface{ SpillTo(string) }{a.Compliance, a.Inspect, a.ItemLedger, a.Casework, a.Adjustment} {
		s.SpillTo(a.Config.tmpDir())
	}
	a.Photos = photos.NewService(a.Store.Photos(), a.Blobs, photos.Config{MaxSize: a.Config.PhotoMaxBytes, SpoolDir: filepath.Join(a.Config.DataDir, "spool")}, now, a.Log)
	// The API and the console import registers with the same importer.
	// Their spreadsheets' temporary files go in the server's own
	// directory, which serve empties at start.
	importRegister := func(ctx context.Context, r io.Reader, opt importer.Options) (importer.Report, error) {
		opt.TmpDir = a.Config.tmpDir()
		return importer.Import(ctx, a.Store, r, opt)
	}
	exportRegister := func(ctx context.Context, q importer.ExportQuery) (importer.Download, error) {
		q.TmpDir = a.Config.tmpDir()
		return importer.Export(ctx, a.Store, q)
	}
	console, err := web.New(web.Deps{Auth: a.Auth, Registry: a.Registry, Compliance: a.Compliance, Sync: a.Sync, Photos: a.Photos,
		Inspect: a.Inspect, ItemLedger: a.ItemLedger, DeviceHealth: a.DeviceHealth, Log: a.Log, Now: now, Secret: a.consoleSecret(), SecureCookies: a.Config.SecureCookies, Import: importRegister,
		PrintForms: a.PrintForms, ExportRegister: exportRegister, Casework: a.Casework, Plans: a.Plans,
		Adjustment: a.Adjustment})
	if err != nil {
		return err
	}
	fieldApp, err := fieldapp.New(fieldapp.Options{})
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	if a.conns == nil {
		a.conns = newConnMetrics()
	}
	cs := []prometheus.Collector{collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})}
	if pool, err := a.DB.SQL(); err == nil {
		// go_sql_open_connections, go_sql_in_use_connections, …: what the
		// soak watches for leaks.
		cs = append(cs, collectors.NewDBStatsCollector(pool, "fieldvisit"))
	}
	if pool := a.DB.ReplicaSQL(); pool != nil {
		cs = append(cs, collectors.NewDBStatsCollector(pool, "fieldvisit_replica"))
	}
	if a.dbReads != nil {
		cs = append(cs, a.dbReads)
	}
	for _, c := range append(append(cs, a.workerMetrics()...), a.conns.collectors()...) {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	a.Handler = server.New(server.Deps{
		Auth: a.Auth, Registry: a.Registry, Sync: a.Sync, Photos: a.Photos, Compliance: a.Compliance, Inspect: a.Inspect, ItemLedger: a.ItemLedger, Plans: a.Plans, Log: a.Log, Metrics: reg, Gatherer: reg, Spec: openapi.Spec, Now: now,
		TrustedProxies: a.Config.TrustedProxies,
		PublicURL:      a.Config.PublicURL,
		DeviceHealth:   a.DeviceHealth,
		Casework:       a.Casework,
		Adjustment:     a.Adjustment,
		PrintForms:     a.PrintForms,
		Import:         importRegister,
		ExportRegister: exportRegister,
		Ready:          []server.ReadyCheck{{Name: "database", Check: a.DB.Ping}, {Name: "blob_store", Check: a.Blobs.Ping}},
		Draining:       a.draining.Load,
		Bodies:         server.BodyLimits{Timeout: a.Config.BodyTimeout, ProgressBytes: a.Config.UploadMinBytes, ProgressWindow: a.Config.UploadWindow, WriteTimeout: writeTimeout},
		Console:        console,
		FieldApp:       fieldApp,
	})
	return nil
}

// consoleSecret keys the console's CSRF tokens. It is derived from the JWT
// signing key, which every replica already shares, so a token one replica
// issued checks on another; a new signing key makes open pages ask for a
// reload once.
func (a *App) consoleSecret() []byte {
	_, key := a.keys.SigningKey()
	m := hmac.New(sha256.New, key.Seed())
	m.Write([]byte("fieldvisit console csrf v1"))
	return m.Sum(nil)
}

// NewApp opens the database (migrating it), the blob store and the keys,
// and builds the services and router.
func NewApp(ctx context.Context, cfg Config, log *slog.Logger) (*App, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	db, n, err := storage.OpenMigrated(ctx, cfg.DatabaseURL, cfg.DataDir, log)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		log.Info("migrations applied", "count", n)
	}
	if cfg.DatabaseReplicaURL != "" {
		if err := db.AttachReplica(ctx, cfg.DatabaseReplicaURL, log); err != nil {
			db.Close()
			return nil, fmt.Errorf("read replica: %w", err)
		}
	}
	if err := os.MkdirAll(filepath.Join(cfg.DataDir, "spool"), 0o700); err != nil {
		db.Close()
		return nil, fmt.Errorf("photo spool directory: %w", err)
	}
	if err := os.MkdirAll(cfg.tmpDir(), 0o700); err != nil {
		db.Close()
		return nil, fmt.Errorf("temporary directory: %w", err)
	}
	blobs, err := openBlobs(ctx, cfg)
	if err != nil {
		db.Close()
		return nil, err
	}
	keys, err := auth.LoadOrCreateKeyRing(cfg.KeyDir)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	hasher := auth.NewHasher(cfg.HashConcurrency)
	if cfg.passwordParams != nil {
		hasher = auth.NewHasherWithParams(cfg.HashConcurrency, *cfg.passwordParams)
	}
	a := &App{Config: cfg, Log: log, DB: db, Blobs: blobs, Now: time.Now, keys: keys, hasher: hasher}
	// Rows are stamped by the app's clock, which a test may stop or move.
	a.Store = storage.NewStore(db, func() time.Time { return a.Now() })
	a.dbReads = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fieldvisit_db_reads_total",
		Help: "Reads that may be served by the read replica, by where they went (primary, replica) and why."}, []string{"target", "reason"})
	a.Store.ObserveReads(func(target, reason string) { a.dbReads.WithLabelValues(target, reason).Inc() })
	if err := a.build(); err != nil {
		db.Close()
		return nil, err
	}
	if err := a.Compliance.EnsureProfiles(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("rule profiles: %w", err)
	}
	return a, nil
}

func openBlobs(ctx context.Context, cfg Config) (blob.Store, error) {
	if cfg.S3Endpoint == "" {
		return blob.NewLocal(filepath.Join(cfg.DataDir, "photos"))
	}
	s, err := blob.NewS3(ctx, blob.S3Config{Endpoint: cfg.S3Endpoint, AccessKey: cfg.S3AccessKey, SecretKey: cfg.S3SecretKey,
		Bucket: cfg.S3Bucket, Secure: cfg.S3Secure, MaxRetries: 2}) // fail fast: phones retry uploads themselves
	if err != nil {
		return nil, fmt.Errorf("S3 blob store at %s: %w", cfg.S3Endpoint, err)
	}
	return s, nil
}

// tmpDir is where the server's spreadsheets spill while an import reads
// one or an export writes one (excelize's temporary files): in the data
// dir, which is each replica's own, rather than the system's, where a
// server killed mid-import or mid-export left them for good. serve empties
// it at start (clearTmpDir).
func (c Config) tmpDir() string { return filepath.Join(c.DataDir, "tmp") }

// clearTmpDir removes what a server killed before it could clean up left
// in dir. Only serve calls it: a command run beside a serving server (an
// import from the command line) must not take the server's files away.
func clearTmpDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// readyTmpDir makes dir (the server's temporary directory) if it is not
// there, then checks it takes files: when it does not, excelize would keep
// every import's unpacked sheets and every export's rows in memory without
// a word, so serve refuses to start, naming it.
func readyTmpDir(dir string) error {
	const mend = "give the server a data dir it can write (--data-dir), or make its tmp a directory it can write"
	if err := clearTmpDir(dir); err != nil {
		return fmt.Errorf("temporary directory %s cannot be emptied: %w (%s)", dir, err, mend)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("temporary directory %s cannot be made: %w (%s)", dir, err, mend)
	}
	if err := ledger.CheckSpillDir(dir); err != nil {
		return fmt.Errorf("temporary directory %s cannot be written: %w (%s)", dir, errors.Unwrap(err), mend)
	}
	return nil
}

// Close releases the database.
func (a *App) Close() error { return a.DB.Close() }

// writeTimeout bounds writing an answer: a slow phone downloading a large
// export or snapshot over 2G needs minutes.
const writeTimeout = 10 * time.Minute

// Serve answers HTTP on ln, at most Config.MaxConnections connections at a
// time, until ctx ends, then drains in-flight requests.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		// No whole-request ReadTimeout: the router gives every body its own
		// deadline (server.BodyLimits), a short one for JSON and a moving
		// one for uploads, and a 15 MB photo over 2G (50 minutes at 5 KB/s)
		// must not meet a second, fixed clock.
		WriteTimeout:   writeTimeout,
		IdleTimeout:    120 * time.Second,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
		BaseContext:    func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(capConnections(ln, a.Config.MaxConnections, a.conns, a.Log)) }()
	var workers sync.WaitGroup
	for _, work := range []func(){
		func() { a.housekeeping(ctx, time.Hour) },
		func() { a.photoWorkers(ctx, 5*time.Second) },
		func() { a.complianceWorker(ctx, 5*time.Second) },
		func() { a.periodicJobs(ctx, 5*time.Second) },
	} {
		workers.Add(1)
		go func() { defer workers.Done(); work() }()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.drain(srv)
	a.Log.Info("shutting down", "timeout", a.Config.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), a.Config.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		// A request may outlast any shutdown time (a photo over 2G takes
		// minutes, a phone's link may hold a body half sent): it is cut,
		// and the process still stops as asked, not as a crash. Nothing
		// it held was acknowledged: a push is replayed under its key, an
		// upload resumes from the offset the server recorded.
		a.Log.Warn("requests still running at the end of the shutdown time were cut", "timeout", a.Config.ShutdownTimeout.String(), "error", err.Error())
		_ = srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	// The background workers finish what they hold (a photo's metadata
	// half written, a judgement half stored) before Serve returns, so
	// that whoever stopped it may remove the data directory; within the
	// same shutdown time.
	stopped := make(chan struct{})
	go func() { workers.Wait(); close(stopped) }()
	select {
	case <-stopped:
	case <-sctx.Done():
		a.Log.Warn("background work still running at the end of the shutdown time")
	}
	return nil
}

// drain keeps serving for Config.DrainDelay with /readyz failing, so that
// a load balancer's health checks take this replica out of rotation while
// it still answers what was sent its way; only then does Shutdown close
// the listener. Meanwhile each answer closes its connection, so the
// balancer keeps none of them idle for a request the replica would not
// take. The background workers have already stopped (their claims lapse
// or were released), so another replica picks up their work.
func (a *App) drain(srv *http.Server) {
	if a.Config.DrainDelay <= 0 {
		return
	}
	a.draining.Store(true)
	srv.SetKeepAlivesEnabled(false)
	a.Log.Info("draining: /readyz fails until shutdown", "delay", a.Config.DrainDelay.String())
	time.Sleep(a.Config.DrainDelay)
}

// housekeeping deletes push answers past their retention (≥ 90 days) once
// an interval. Every replica may run it: the delete is idempotent.
func (a *App) housekeeping(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := a.Sync.CleanupKeys(ctx)
		if err != nil {
			a.Log.Warn("idempotency key cleanup failed", "error", err.Error())
		} else if n > 0 {
			a.Log.Info("idempotency keys expired", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
