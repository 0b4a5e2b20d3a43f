// Command fieldvisit runs the fieldvisit service and its tools:
//
//	fieldvisit serve [--demo]   run the HTTP API (migrates first)
//	fieldvisit migrate          apply database migrations and print their status
//	fieldvisit import FILE      import a 台账 spreadsheet (CSV or XLSX)
//	fieldvisit init             create the top region and the first admin
//	fieldvisit sim              simulate cadres syncing over a flaky link (--link 2g|3g|good: a toxiproxy link)
//	fieldvisit soak             phones in a loop against one server, watching its memory and resources
//	fieldvisit bench sync       measure sync against the raw database ceiling
//	fieldvisit bench photos     measure photo uploads against direct PutObject
//	fieldvisit photos reconcile report (and with --fix remove) photo orphans
//
// Settings come from flags or FIELDVISIT_* environment variables; see
// README.md.
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
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "fieldvisit:", err)
		}
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
