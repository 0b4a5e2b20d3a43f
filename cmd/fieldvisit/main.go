// Command fieldvisit runs the fieldvisit service and its tools:
//
//	fieldvisit serve [--demo] [flags]        run the HTTP API and the web console (migrates first); --demo seeds a demo county
//	fieldvisit migrate [flags]               apply database migrations and print their status
//	fieldvisit init [flags]                  bootstrap an empty database: top region and first admin
//	fieldvisit import [flags] FILE           import households, members, cadres and pairings from a 台账 (CSV/XLSX)
//	fieldvisit photos reconcile [--fix]      report (and with --fix remove) photo orphans
//	fieldvisit sim [flags]                   simulate cadres syncing over a flaky link (--link 2g|3g|good: a toxiproxy link)
//	fieldvisit soak [flags]                  phones in a loop against one server, watching its memory and resources
//	fieldvisit bench sync [flags]            measure sync against the raw database ceiling
//	fieldvisit bench photos [flags]          measure photo uploads against direct PutObject
//	fieldvisit bench rules [flags]           missed-visit report latency and incremental rule cost on 1M households
//	fieldvisit bench sample [flags]          an inspection draw from a province of 1M households
//	fieldvisit bench export [flags]          the visit 台账 export of 1M visits as CSV and XLSX against bare writers (B7)
//	fieldvisit bench wire [flags]            sync bytes gzipped vs plain, gzip levels vs zstd
//	fieldvisit bench exit [flags]            the exit-candidates list of a county of 10,000+ registered households
//	fieldvisit bench feed [flags]            50 phones pushing and pulling at once against raw SQL (the feed sequencer)
//
// "fieldvisit COMMAND -h" lists a command's flags (and exits 0). Settings
// come from flags or FIELDVISIT_* environment variables; see README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // Asia/Shanghai must resolve on hosts without tzdata

	"github.com/fieldvisit/fieldvisit/internal/app"
	"github.com/fieldvisit/fieldvisit/internal/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp): // -h asked for the help just printed
	case err != nil:
		fmt.Fprintln(os.Stderr, "fieldvisit:", err)
		os.Exit(1)
	}
}

// run hands the command to the app, or to the benchmarks and the soak,
// which build the app themselves.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "bench" {
		return bench.Command(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "soak" {
		return bench.SoakCommand(ctx, args[1:], stdout, stderr)
	}
	return app.Run(ctx, args, stdin, stdout, stderr)
}
