package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
)

// CommandHelp is one line of the binary's usage: the command's words
// ("bench sync"), what follows them, and what it does. Each command's -h
// prints the same synopsis and summary above its flags (NewFlagSet).
type CommandHelp struct {
	Name     string
	Synopsis string
	Summary  string
}

// Commands is every command of the binary, the benchmarks' and the soak's
// included (package bench runs those): the top-level usage lists them in
// this order. cmd/fieldvisit's doc comment and the README's command list
// say the same (TestUsageAgreesWithDocs).
var Commands = []CommandHelp{
	{"serve", "[--demo] [flags]", "run the HTTP API and the web console (migrates first); --demo seeds a demo county"},
	{"migrate", "[flags]", "apply database migrations and print their status"},
	{"init", "[flags]", "bootstrap an empty database: top region and first admin (password from FIELDVISIT_ADMIN_PASSWORD)"},
	{"import", "[flags] FILE", "import households, members, cadres and pairings from a 台账 (CSV/XLSX)"},
	{"photos reconcile", "[--fix] [flags]", "report blobs without photo records, records without blobs, stray upload parts; --fix removes them"},
	{"sim", "[flags]", "play cadres' offline trips over a flaky link and check nothing was lost or doubled"},
	{"soak", "[flags]", "phones in a loop against one server, watching its memory and resources (B6)"},
	{"bench sync", "[flags]", "measure push, replay and pull against the raw database ceiling (B1, B2, B4)"},
	{"bench photos", "[flags]", "measure photo uploads against direct PutObject to the same store, and server RSS (B3)"},
	{"bench rules", "[flags]", "missed-visit report latency and incremental rule cost on 1M households (B5)"},
	{"bench sample", "[flags]", "an inspection draw from a province of 1M households against raw SELECTs"},
	{"bench wire", "[flags]", "sync bytes gzipped vs plain, server CPU per pull, gzip levels vs zstd (B8)"},
	{"bench export", "[flags]", "the visit 台账 of 1M visits as CSV and XLSX against pgx + bare writers, and peak RSS (B7)"},
	{"bench exit", "[flags]", "the exit-candidates list of a county of 10,000+ registered households, page by page, and after a write"},
	{"bench feed", "[flags]", "50 phones pushing and pulling at once: pulls/s, pull latency and sequencer lock wait against raw SQL (issue 21)"},
}

// Usage is the binary's help text.
var Usage = usageText()

func usageText() string {
	var b strings.Builder
	b.WriteString("fieldvisit — visit records for targeted poverty-alleviation cadres\n\nusage:\n")
	width := 0
	for _, c := range Commands {
		width = max(width, len(c.Name)+1+len(c.Synopsis))
	}
	for _, c := range Commands {
		fmt.Fprintf(&b, "  fieldvisit %-*s  %s\n", width, c.Name+" "+c.Synopsis, c.Summary)
	}
	b.WriteString("\nrun \"fieldvisit COMMAND -h\" for the flags of a command; a flag whose description names a\nFIELDVISIT_* environment variable can be set by that variable too (the flag wins).\n")
	return b.String()
}

// NewFlagSet is the flag set of a command of Commands: its -h prints the
// command's synopsis and summary, then its flags, and returns flag.ErrHelp
// (which the binary answers with exit status 0).
func NewFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	i := slices.IndexFunc(Commands, func(c CommandHelp) bool { return c.Name == name })
	fs.Usage = func() {
		if i >= 0 {
			fmt.Fprintf(stderr, "usage: fieldvisit %s %s\n\n%s\n\nflags:\n", name, Commands[i].Synopsis, Commands[i].Summary)
		} else {
			fmt.Fprintf(stderr, "usage: fieldvisit %s [flags]\n\nflags:\n", name)
		}
		fs.PrintDefaults()
	}
	return fs
}

// Subcommand finds which of names args asks for: the first argument
// ("bench sync --rounds 3") or, as older scripts write it, the last
// ("bench --rounds 3 sync"). rest is args without it.
func Subcommand(args []string, names []string) (name string, rest []string, ok bool) {
	if len(args) > 0 && slices.Contains(names, args[0]) {
		return args[0], args[1:], true
	}
	if n := len(args); n > 0 && slices.Contains(names, args[n-1]) {
		return args[n-1], args[:n-1], true
	}
	return "", args, false
}

// IsHelp reports whether args ask for help and nothing else.
func IsHelp(args []string) bool {
	return len(args) == 1 && slices.Contains([]string{"-h", "-help", "--help", "help"}, args[0])
}

// command runs one of the binary's commands with the arguments after its
// name.
type command func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error

// withoutStdin is a command that reads no standard input.
func withoutStdin(run func(ctx context.Context, args []string, stdout, stderr io.Writer) error) command {
	return func(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
		return run(ctx, args, stdout, stderr)
	}
}

// commands are the commands Run runs, by their first word.
var commands = map[string]command{
	"serve":   withoutStdin(serveCmd),
	"migrate": withoutStdin(migrateCmd),
	"init":    initCmd,
	"import":  withoutStdin(importCmd),
	"photos":  withoutStdin(photosCmd),
	"sim":     withoutStdin(simCmd),
}

// Run runs one of the binary's commands but bench and soak (package bench
// measures the app from outside): args[0] names it.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, Usage)
		return errors.New("no command given")
	}
	if IsHelp(args) {
		fmt.Fprint(stdout, Usage)
		return nil
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprint(stderr, Usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
	return cmd(ctx, args[1:], stdin, stdout, stderr)
}

// NewLogger is the service's JSON logger at level (debug, info, warn, error).
func NewLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

func migrateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg Config
	fs := NewFlagSet("migrate", stderr)
	cfg.bindDatabase(fs)
	cfg.bindLogLevel(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("migrate: unexpected argument %q", fs.Arg(0))
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	db, err := openDB(ctx, cfg, NewLogger(stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := db.Migrate(ctx)
	if err != nil {
		return err
	}
	st, err := db.MigrationStatus(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s database: %d migration(s) applied now\n", db.Dialect, n)
	for _, s := range st {
		fmt.Fprintln(stdout, "  "+s)
	}
	return nil
}
