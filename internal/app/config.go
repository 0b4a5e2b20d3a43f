package app

import (
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/alexedwards/argon2id"

	"github.com/fieldvisit/fieldvisit/server"
)

// Config is every setting, from flags with FIELDVISIT_* environment
// variables as defaults (a flag given on the command line wins).
type Config struct {
	Addr            string
	DataDir         string
	DatabaseURL     string
	S3Endpoint      string
	S3AccessKey     string
	S3SecretKey     string
	S3Bucket        string
	S3Secure        bool
	KeyDir          string // JWT signing keys; default <data dir>/keys
	LogLevel        string
	Demo            bool
	DemoHouseholds  int // size of the demo county; 0 = the demo's default (3,000)
	DemoCadres      int // 0 = the demo's default (150)
	CloseAfterDays  int // a period's report freezes this many days after it ends; negative: never automatically
	HashConcurrency int
	ShutdownTimeout time.Duration
	// DrainDelay is how long a stopping server keeps serving with /readyz
	// failing, so a load balancer's health checks take it out of rotation
	// before it stops accepting connections; 0 stops at once.
	DrainDelay time.Duration
	// PublicURL is the address people reach the server at, for the links
	// written into downloads (server.Deps.PublicURL).
	PublicURL     string
	PhotoMaxBytes int64 // 0 = the photo service's default (15 MB)
	// SnapshotHouseholds is the largest scope a phone gets whole from
	// /sync/snapshot (larger ones page); 0 = the sync service's default.
	SnapshotHouseholds int
	// ReadAheadRecords bounds what paged pulls keep of the pages they
	// read ahead, in records for all phones; 0 = the sync service's
	// default, negative: every page is read on its own.
	ReadAheadRecords int
	// TrustedProxies are the reverse proxies (IPs or CIDRs) whose
	// X-Forwarded-For / X-Real-IP name the client; empty trusts none.
	TrustedProxies    addressList
	trustedProxiesEnv string // FIELDVISIT_TRUSTED_PROXIES, judged by validate when the flag is not given
	// How slowly a body may arrive (server.BodyLimits): a JSON body within
	// BodyTimeout, an upload at least UploadMinBytes per UploadWindow.
	// 0 = the server's defaults (10 s; 1 KiB per 30 s).
	BodyTimeout    time.Duration
	UploadMinBytes int64
	UploadWindow   time.Duration
	// MaxConnections is how many connections are served at once; more wait
	// to be accepted. 0 = the default (2048).
	MaxConnections int
	// SecureCookies marks the web console's cookies Secure on plain-HTTP
	// requests too: for a proxy in front that ends TLS.
	SecureCookies bool
	// DatabaseReplicaURL is a PostgreSQL streaming standby of DatabaseURL
	// that reports, exports, timelines and the heavy reads of pulls read
	// when it holds what they need (storage/replica.go); empty: none.
	DatabaseReplicaURL string
	// passwordParams, when set, replace auth.PasswordParams for new
	// password hashes. No flag or variable sets it: only this package's
	// tests do, so that the many apps they build do not hash every
	// fixture account at production cost (see testPasswordParams).
	passwordParams *argon2id.Params
}

// addressList is a comma-separated list of IP addresses and CIDR blocks.
type addressList []string

func (l *addressList) String() string { return strings.Join(*l, ",") }

func (l *addressList) Set(v string) error {
	*l = nil
	for _, a := range strings.Split(v, ",") {
		if a = strings.TrimSpace(a); a == "" {
			continue
		}
		if _, _, err := net.ParseCIDR(a); err != nil && net.ParseIP(a) == nil {
			return fmt.Errorf("%q is neither an IP address nor a CIDR block", a)
		}
		*l = append(*l, a)
	}
	return nil
}

// Env is the environment variable name, or def when it is not set.
func Env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func envBool(name string, def bool) bool {
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return def
	}
	return b
}

func envDuration(name string, def time.Duration) time.Duration {
	d, err := time.ParseDuration(os.Getenv(name))
	if err != nil {
		return def
	}
	return d
}

func envInt64(name string, def int64) int64 {
	n, err := strconv.ParseInt(os.Getenv(name), 10, 64)
	if err != nil {
		return def
	}
	return n
}

// The flags come in groups, each bound by the commands that use it, so a
// command's -h lists only what it reads: the database for every command
// that opens one, the photo store and signing keys for those that build
// the whole app (NewApp), the server's for serve alone.

// bindDatabase registers where the database lives.
func (c *Config) bindDatabase(fs *flag.FlagSet) {
	fs.StringVar(&c.DataDir, "data-dir", Env("FIELDVISIT_DATA_DIR", "./data"), "data directory: SQLite file, photos, keys (FIELDVISIT_DATA_DIR)")
	fs.StringVar(&c.DatabaseURL, "database-url", Env("FIELDVISIT_DATABASE_URL", ""), "postgres:// URL; empty uses the SQLite file in the data dir (FIELDVISIT_DATABASE_URL)")
}

// bindStore registers everything NewApp opens: the database, the photo
// store and the JWT signing keys.
func (c *Config) bindStore(fs *flag.FlagSet) {
	c.bindDatabase(fs)
	fs.StringVar(&c.DatabaseReplicaURL, "database-replica-url", Env("FIELDVISIT_DATABASE_REPLICA_URL", ""),
		"postgres:// URL of a streaming standby of the database, read by reports, exports, timelines and pulls when it has caught up; empty: none (FIELDVISIT_DATABASE_REPLICA_URL)")
	fs.StringVar(&c.S3Endpoint, "s3-endpoint", Env("FIELDVISIT_S3_ENDPOINT", ""), "S3 host:port; empty uses the local photo directory (FIELDVISIT_S3_ENDPOINT)")
	fs.StringVar(&c.S3AccessKey, "s3-access-key", Env("FIELDVISIT_S3_ACCESS_KEY", ""), "S3 access key (FIELDVISIT_S3_ACCESS_KEY)")
	fs.StringVar(&c.S3SecretKey, "s3-secret-key", Env("FIELDVISIT_S3_SECRET_KEY", ""), "S3 secret key (FIELDVISIT_S3_SECRET_KEY)")
	fs.StringVar(&c.S3Bucket, "s3-bucket", Env("FIELDVISIT_S3_BUCKET", "fieldvisit"), "S3 bucket, created private if missing (FIELDVISIT_S3_BUCKET)")
	fs.BoolVar(&c.S3Secure, "s3-secure", envBool("FIELDVISIT_S3_SECURE", false), "use HTTPS for S3 (FIELDVISIT_S3_SECURE)")
	fs.StringVar(&c.KeyDir, "key-dir", Env("FIELDVISIT_KEY_DIR", ""), "directory of Ed25519 JWT keys <kid>.pem; default <data dir>/keys (FIELDVISIT_KEY_DIR)")
}

// bindLogLevel registers the level of the JSON log on standard error.
func (c *Config) bindLogLevel(fs *flag.FlagSet) {
	fs.StringVar(&c.LogLevel, "log-level", Env("FIELDVISIT_LOG_LEVEL", "info"), "debug, info, warn or error (FIELDVISIT_LOG_LEVEL)")
}

// bindServer registers what only a serving process reads: the listener,
// the body and connection limits, the workers' settings.
func (c *Config) bindServer(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", Env("FIELDVISIT_ADDR", "127.0.0.1:8080"), "listen address (FIELDVISIT_ADDR)")
	fs.IntVar(&c.CloseAfterDays, "close-after-days", int(envInt64("FIELDVISIT_CLOSE_AFTER_DAYS", 10)),
		"freeze each month's, quarter's and year's visit report this many days after it ends; negative: only by hand (FIELDVISIT_CLOSE_AFTER_DAYS)")
	fs.IntVar(&c.HashConcurrency, "hash-concurrency", 0, "password hashes allowed at once (their memory budget); 0 = number of CPUs")
	fs.Int64Var(&c.PhotoMaxBytes, "photo-max-bytes", envInt64("FIELDVISIT_PHOTO_MAX_BYTES", 15_000_000), "largest photo accepted, in bytes (FIELDVISIT_PHOTO_MAX_BYTES)")
	fs.IntVar(&c.SnapshotHouseholds, "snapshot-households", int(envInt64("FIELDVISIT_SNAPSHOT_HOUSEHOLDS", 5000)),
		"largest scope, in households, a fresh phone gets in one answer; larger ones page (FIELDVISIT_SNAPSHOT_HOUSEHOLDS)")
	fs.IntVar(&c.ReadAheadRecords, "read-ahead-records", int(envInt64("FIELDVISIT_READ_AHEAD_RECORDS", 20000)),
		"records paged pulls keep of the pages they read ahead, for all phones together (about 1 KB each); negative: read every page on its own (FIELDVISIT_READ_AHEAD_RECORDS)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 20*time.Second, "how long in-flight requests may finish on shutdown")
	fs.StringVar(&c.PublicURL, "public-url", Env("FIELDVISIT_PUBLIC_URL", ""),
		"the address people reach this server at (https://fieldvisit.example.gov.cn), for links written into exports; empty: each request's own host (FIELDVISIT_PUBLIC_URL)")
	fs.DurationVar(&c.DrainDelay, "drain-delay", envDuration("FIELDVISIT_DRAIN_DELAY", 0),
		"on SIGTERM, keep serving this long with /readyz answering 503 so a load balancer stops sending, then shut down (FIELDVISIT_DRAIN_DELAY)")
	fs.Var(&c.TrustedProxies, "trusted-proxies",
		"comma-separated IPs or CIDRs of reverse proxies whose X-Forwarded-For names the client; empty trusts none (FIELDVISIT_TRUSTED_PROXIES)")
	c.trustedProxiesEnv = Env("FIELDVISIT_TRUSTED_PROXIES", "")
	fs.DurationVar(&c.BodyTimeout, "body-timeout", envDuration("FIELDVISIT_BODY_TIMEOUT", server.DefaultBodyTimeout),
		"how long a JSON request body may take to arrive; a slower one is cut with 408 (FIELDVISIT_BODY_TIMEOUT)")
	fs.Int64Var(&c.UploadMinBytes, "upload-min-bytes", envInt64("FIELDVISIT_UPLOAD_MIN_BYTES", server.DefaultProgressBytes),
		"an upload (photo, chunk, push batch, import) must deliver at least this many bytes per --upload-window or is cut (FIELDVISIT_UPLOAD_MIN_BYTES)")
	fs.DurationVar(&c.UploadWindow, "upload-window", envDuration("FIELDVISIT_UPLOAD_WINDOW", server.DefaultProgressWindow),
		"see --upload-min-bytes (FIELDVISIT_UPLOAD_WINDOW)")
	fs.BoolVar(&c.SecureCookies, "secure-cookies", envBool("FIELDVISIT_SECURE_COOKIES", false),
		"mark the web console's cookies Secure even on plain HTTP: set it behind a proxy that ends TLS (FIELDVISIT_SECURE_COOKIES)")
	fs.IntVar(&c.MaxConnections, "max-connections", int(envInt64("FIELDVISIT_MAX_CONNECTIONS", defaultMaxConnections)),
		"connections served at once; more wait until one closes (FIELDVISIT_MAX_CONNECTIONS)")
}

// bindDemo registers serve's demo county.
func (c *Config) bindDemo(fs *flag.FlagSet) {
	fs.BoolVar(&c.Demo, "demo", false, "seed a demo county on first start (idempotent; an interrupted seeding starts over) and print the demo logins")
	fs.IntVar(&c.DemoHouseholds, "demo-households", int(envInt64("FIELDVISIT_DEMO_HOUSEHOLDS", 0)), "households of the demo county (default 3000; FIELDVISIT_DEMO_HOUSEHOLDS)")
	fs.IntVar(&c.DemoCadres, "demo-cadres", int(envInt64("FIELDVISIT_DEMO_CADRES", 0)), "cadres of the demo county (default 150; FIELDVISIT_DEMO_CADRES)")
}

func (c *Config) validate() error {
	if c.TrustedProxies == nil && c.trustedProxiesEnv != "" {
		if err := c.TrustedProxies.Set(c.trustedProxiesEnv); err != nil {
			return fmt.Errorf("FIELDVISIT_TRUSTED_PROXIES: %w", err)
		}
	}
	if c.S3Endpoint != "" && (c.S3AccessKey == "" || c.S3SecretKey == "") {
		return fmt.Errorf("FIELDVISIT_S3_ACCESS_KEY and FIELDVISIT_S3_SECRET_KEY are required with an S3 endpoint")
	}
	if c.DatabaseReplicaURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		return fmt.Errorf("FIELDVISIT_DATABASE_REPLICA_URL needs a PostgreSQL primary in FIELDVISIT_DATABASE_URL")
	}
	if c.PhotoMaxBytes < 0 {
		return fmt.Errorf("--photo-max-bytes must not be negative")
	}
	if c.SnapshotHouseholds < 0 {
		return fmt.Errorf("--snapshot-households must not be negative")
	}
	if c.BodyTimeout < 0 || c.UploadMinBytes < 0 || c.UploadWindow < 0 {
		return fmt.Errorf("--body-timeout, --upload-min-bytes and --upload-window must not be negative")
	}
	if c.DrainDelay < 0 {
		return fmt.Errorf("--drain-delay must not be negative")
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("--public-url must be an http or https address such as https://fieldvisit.example.gov.cn")
		}
		c.PublicURL = strings.TrimSuffix(c.PublicURL, "/")
	}
	if c.MaxConnections < 0 {
		return fmt.Errorf("--max-connections must not be negative")
	}
	if c.MaxConnections == 0 {
		c.MaxConnections = defaultMaxConnections
	}
	if c.KeyDir == "" {
		c.KeyDir = c.DataDir + "/keys"
	}
	return nil
}
