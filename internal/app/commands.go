package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

const usage = `fieldvisit — visit records for targeted poverty-alleviation cadres

usage:
  fieldvisit serve [--demo] [flags]   run the HTTP API
  fieldvisit migrate [flags]          apply database migrations
  fieldvisit import [flags] FILE      import households, members, cadres and pairings from a 台账 (CSV/XLSX)
  fieldvisit init [flags]             bootstrap an empty database: top region and first admin
  fieldvisit sim [flags]              play cadres' offline trips over a flaky link and check nothing was lost or doubled
  fieldvisit bench [flags] sync       measure push, replay and pull against the raw database ceiling
  fieldvisit bench [flags] photos     measure photo uploads against direct PutObject to the same store
  fieldvisit photos [--fix] reconcile report blobs without photo records, records without blobs, stray upload parts

run "fieldvisit COMMAND -h" for the flags of a command.
`

// Usage is the binary's help text.
const Usage = usage

// Run runs one of the binary's commands but bench (package bench measures
// the app from outside): args[0] names it.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve":
		return serveCmd(ctx, args[1:], stdout, stderr)
	case "migrate":
		return migrateCmd(ctx, args[1:], stdout, stderr)
	case "import":
		return importCmd(ctx, args[1:], stdout, stderr)
	case "sim":
		return simCmd(ctx, args[1:], stdout, stderr)
	case "photos":
		return photosCmd(ctx, args[1:], stdout, stderr)
	case "init":
		return initCmd(ctx, args[1:], stdin, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
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
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bindConfig(fs, &cfg)
	if err := fs.Parse(args); err != nil {
		return err
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
