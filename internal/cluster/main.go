// Command cluster is `make cluster-test`: fieldvisit as a province would
// run it, on one machine's loopback, with faults. It starts
//
//   - a PostgreSQL primary and a streaming standby (initdb, pg_basebackup -R),
//   - a 4-node erasure-coded MinIO (4 processes, each with its own drive),
//   - 3 fieldvisit replicas (the real binary) on the primary, the standby as
//     their read replica (FIELDVISIT_DATABASE_REPLICA_URL, used where the
//     build has it), photos in the MinIO cluster,
//   - haproxy with deploy/haproxy.cfg in front of the replicas and of MinIO,
//
// then plays `fieldvisit sim` (cadres' offline trips with photos) through
// haproxy while it SIGKILLs one replica and restarts it, stops one MinIO
// node (SIGKILL) during a photo upload and restarts it, and stops another
// replica gracefully (SIGTERM, drain) and restarts it. It checks that the
// sim lost, doubled and diverged nothing and every photo's bytes are in the
// store; that every periodic job ran once a period across the replicas;
// that the judging and evidence queues drain; that an upload survives the
// MinIO node stop and reads work with the node down; that the standby
// catches up to the primary's data and a report read through any replica
// equals one read on the primary alone. It prints a summary and exits
// non-zero on any failure. Everything it started is stopped at the end,
// on failure and on Ctrl-C too.
//
//	go run ./internal/cluster [-cadres 20] [-days 6] [-keep]
//
// As root, PostgreSQL runs as the postgres OS user. haproxy is installed
// with apt-get when missing (as root); MinIO is testenv's pinned build.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// options are the command's flags.
type options struct {
	cadres, days int
	households   int
	demoCadres   int
	killAfter    time.Duration
	nodeDown     time.Duration
	keep         bool
}

func run(args []string) int {
	fs := flag.NewFlagSet("cluster", flag.ContinueOnError)
	var o options
	fs.IntVar(&o.cadres, "cadres", 20, "cadres the sim plays")
	fs.IntVar(&o.days, "days", 6, "days of field trips the sim plays (longer runs leave more time around the kills)")
	fs.IntVar(&o.households, "households", 600, "households of the demo county the replicas serve")
	fs.IntVar(&o.demoCadres, "demo-cadres", 40, "cadres of the demo county (at least -cadres)")
	fs.DurationVar(&o.killAfter, "kill-after", 5*time.Second, "how long after the sim starts the first replica is killed")
	fs.DurationVar(&o.nodeDown, "node-down", 15*time.Second, "how long the MinIO node stays down")
	fs.BoolVar(&o.keep, "keep", false, "keep the work directory (logs, data) even when every check passes")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if o.demoCadres < o.cadres {
		o.demoCadres = o.cadres
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	c, err := newCluster(o)
	if err != nil {
		logf("%v", err)
		return 1
	}
	began := time.Now()
	sum := &summary{}
	err = c.runAll(ctx, sum)
	if err != nil {
		sum.check(false, "set-up", "%s", strings.SplitN(err.Error(), "\n", 2)[0])
	}
	c.teardown()
	sum.print(os.Stdout, time.Since(began))
	switch {
	case ctx.Err() != nil:
		if !o.keep {
			os.RemoveAll(c.dir)
		}
		logf("interrupted; everything it started was stopped")
		return 130
	case err != nil:
		logf("%v", err)
		logf("logs and data kept in %s", c.dir)
		return 1
	case !sum.ok():
		logf("logs and data kept in %s", c.dir)
		return 1
	}
	if o.keep {
		logf("logs and data kept in %s", c.dir)
	} else {
		os.RemoveAll(c.dir)
	}
	return 0
}

// summary is what the run found, one line a check.
type summary struct {
	lines  []string
	failed int
}

func (s *summary) check(ok bool, name, format string, args ...any) {
	mark := "ok  "
	if !ok {
		mark = "FAIL"
		s.failed++
	}
	s.lines = append(s.lines, fmt.Sprintf("%s %-26s %s", mark, name, fmt.Sprintf(format, args...)))
}

func (s *summary) note(name, format string, args ...any) {
	s.lines = append(s.lines, fmt.Sprintf("     %-26s %s", name, fmt.Sprintf(format, args...)))
}

func (s *summary) ok() bool { return s.failed == 0 && len(s.lines) > 0 }

func (s *summary) print(w *os.File, took time.Duration) {
	fmt.Fprintf(w, "\ncluster-test summary (%s):\n", took.Round(time.Second))
	for _, l := range s.lines {
		fmt.Fprintln(w, "  "+l)
	}
	verdict := "PASS"
	if !s.ok() {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "cluster-test: %s (%d checks failed)\n", verdict, s.failed)
}

// repoRoot is the directory of go.mod above the working directory: the
// cluster test builds the binary and reads deploy/haproxy.cfg from there.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run it inside the fieldvisit repository (no go.mod found above the working directory)")
		}
		dir = parent
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "cluster: "+strings.TrimSuffix(format, "\n")+"\n", args...)
}
