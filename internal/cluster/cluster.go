package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fieldvisit/fieldvisit/internal/localserver"
)

// cluster is every process the test started and where they listen.
type cluster struct {
	o    options
	root string // the repository
	dir  string // the work directory: data, logs

	mu    sync.Mutex
	procs []*localserver.Process // everything started, in start order, for the teardown

	pgBin           string
	pgCred          *syscall.Credential
	primaryPort     int
	standbyPort     int
	primary         *localserver.Process
	standby         *localserver.Process
	primaryURL      string
	standbyURL      string
	minioBin        string
	minioAddrs      []string
	minioConsoles   []string
	minio           []*localserver.Process
	s3Key, s3Secret string
	s3LB, apiLB     string // haproxy's two frontends
	haproxy         *localserver.Process
	bin             string // fieldvisit
	replicaAddrs    []string
	replicas        []*localserver.Process
}

func newCluster(o options) (*cluster, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "fieldvisit-cluster-*")
	if err != nil {
		return nil, err
	}
	// The postgres OS user must reach its directories inside.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	return &cluster{o: o, root: root, dir: dir, s3Key: "fvcluster-" + randomHex(4), s3Secret: randomHex(20)}, nil
}

// start runs cmd as a server named name, logging to <dir>/<name>.log, and
// remembers it for the teardown.
func (c *cluster) start(name string, cmd *exec.Cmd) (*localserver.Process, error) {
	p, err := localserver.Start(name, cmd, filepath.Join(c.dir, name+".log"))
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.procs = append(c.procs, p)
	c.mu.Unlock()
	return p, nil
}

// teardown stops everything still running, newest first: the balancer
// before the replicas, the replicas before their stores.
func (c *cluster) teardown() {
	c.mu.Lock()
	procs := c.procs
	c.procs = nil
	c.mu.Unlock()
	for i := len(procs) - 1; i >= 0; i-- {
		p := procs[i]
		select {
		case <-p.Exited():
			continue
		default:
		}
		sig := syscall.SIGTERM
		if p.Name == "pg-primary" || p.Name == "pg-standby" {
			sig = syscall.SIGINT // PostgreSQL's fast shutdown
		}
		if p.Stop(sig, 20*time.Second) {
			logf("%s did not stop within 20s; killed it", p.Name)
		}
	}
}

// ports takes n free loopback ports.
func ports(n int) ([]int, error) {
	out := make([]int, n)
	seen := map[int]bool{}
	for i := range out {
		for {
			p, err := localserver.FreePort()
			if err != nil {
				return nil, err
			}
			if !seen[p] {
				seen[p], out[i] = true, p
				break
			}
		}
	}
	return out, nil
}

func addr(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// pgQuery runs fn on a fresh connection to url.
func pgQuery(ctx context.Context, url string, fn func(*pgx.Conn) error) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return fn(conn)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

var errStopped = errors.New("stopped")
