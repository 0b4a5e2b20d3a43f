package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/fieldvisit/fieldvisit/internal/localserver"
)

const replicaCount = 3

// drainDelay is the replicas' --drain-delay: longer than haproxy's
// inter 2s x fall 2 (deploy/haproxy.cfg).
const drainDelay = 5 * time.Second

// buildFieldvisit builds the binary the replicas, the sim and the checks run.
func (c *cluster) buildFieldvisit(ctx context.Context) error {
	c.bin = filepath.Join(c.dir, "fieldvisit")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", c.bin, "./cmd/fieldvisit")
	cmd.Dir = c.root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %w\n%s", err, out)
	}
	return nil
}

// startHAProxy runs deploy/haproxy.cfg as shipped, its addresses from the
// environment. The replicas' ports are chosen here; until they listen,
// haproxy's checks hold them down.
func (c *cluster) startHAProxy(ctx context.Context) error {
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		if os.Geteuid() != 0 {
			return fmt.Errorf("haproxy is missing and installing it needs root: apt-get install -y haproxy")
		}
		logf("installing Debian's haproxy with apt-get")
		if err := localserver.AptInstall(ctx, "haproxy"); err != nil {
			return err
		}
		if bin, err = exec.LookPath("haproxy"); err != nil {
			return err
		}
	}
	p, err := ports(2 + replicaCount)
	if err != nil {
		return err
	}
	c.apiLB, c.s3LB = addr(p[0]), addr(p[1])
	for i := range replicaCount {
		c.replicaAddrs = append(c.replicaAddrs, addr(p[2+i]))
	}
	cfg := filepath.Join(c.root, "deploy", "haproxy.cfg")
	env := append(os.Environ(), "FIELDVISIT_LB_BIND="+c.apiLB, "FIELDVISIT_S3_LB_BIND="+c.s3LB)
	for i, a := range c.replicaAddrs {
		env = append(env, fmt.Sprintf("FIELDVISIT_REPLICA%d=%s", i+1, a))
	}
	for i, a := range c.minioAddrs {
		env = append(env, fmt.Sprintf("FIELDVISIT_MINIO%d=%s", i+1, a))
	}
	check := exec.CommandContext(ctx, bin, "-c", "-f", cfg)
	check.Env = env
	if out, err := check.CombinedOutput(); err != nil {
		return fmt.Errorf("haproxy -c %s: %w\n%s", cfg, err, out)
	}
	cmd := exec.Command(bin, "-db", "-f", cfg) // -db: in the foreground
	cmd.Env = env
	if c.haproxy, err = c.start("haproxy", cmd); err != nil {
		return err
	}
	if err := c.haproxy.WaitReady(ctx, time.Minute, localserver.HTTPReady("http://"+c.s3LB+"/minio/health/live")); err != nil {
		return err
	}
	logf("haproxy: fieldvisit on %s, S3 on %s (%s)", c.apiLB, c.s3LB, cfg)
	return nil
}

// replicaEnv is replica i's configuration: the primary for writes, the
// standby for reads where the build routes them, photos through the
// balancer's S3 frontend, signing keys shared, the balancer trusted.
func (c *cluster) replicaEnv(i int) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "FIELDVISIT_") {
			env = append(env, kv)
		}
	}
	return append(env,
		"FIELDVISIT_ADDR="+c.replicaAddrs[i],
		"FIELDVISIT_DATA_DIR="+filepath.Join(c.dir, "replica"+strconv.Itoa(i+1)),
		"FIELDVISIT_DATABASE_URL="+c.primaryURL,
		"FIELDVISIT_DATABASE_REPLICA_URL="+c.standbyURL,
		"FIELDVISIT_S3_ENDPOINT="+c.s3LB,
		"FIELDVISIT_S3_ACCESS_KEY="+c.s3Key,
		"FIELDVISIT_S3_SECRET_KEY="+c.s3Secret,
		"FIELDVISIT_KEY_DIR="+filepath.Join(c.dir, "keys"),
		"FIELDVISIT_TRUSTED_PROXIES=127.0.0.1",
		"FIELDVISIT_DRAIN_DELAY="+drainDelay.String(),
		"FIELDVISIT_LOG_LEVEL=warn",
	)
}

// startReplicas starts the first replica with --demo (it migrates and
// seeds the county, and makes the signing keys), then the others on the
// same database and keys.
func (c *cluster) startReplicas(ctx context.Context) error {
	c.replicas = make([]*localserver.Process, replicaCount)
	for i := range replicaCount {
		var args []string
		if i == 0 {
			args = []string{"--demo", "--demo-households", strconv.Itoa(c.o.households), "--demo-cadres", strconv.Itoa(c.o.demoCadres)}
		}
		if err := c.startReplica(ctx, i, args...); err != nil {
			return err
		}
	}
	if err := localserver.HTTPReady("http://" + c.apiLB + "/readyz")(ctx); err != nil {
		// haproxy's checks need a couple of intervals to see them up.
		time.Sleep(5 * time.Second)
	}
	logf("fieldvisit: %d replicas %v behind %s", replicaCount, c.replicaAddrs, c.apiLB)
	return nil
}

// startReplica starts replica i (again) and waits until it is ready.
func (c *cluster) startReplica(ctx context.Context, i int, args ...string) error {
	cmd := exec.Command(c.bin, append([]string{"serve"}, args...)...)
	cmd.Env = c.replicaEnv(i)
	p, err := c.start(fmt.Sprintf("replica%d", i+1), cmd)
	if err != nil {
		return err
	}
	c.replicas[i] = p
	// The first start seeds the demo county before it serves.
	return p.WaitReady(ctx, 15*time.Minute, localserver.HTTPReady("http://"+c.replicaAddrs[i]+"/readyz"))
}
