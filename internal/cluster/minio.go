package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/fieldvisit/fieldvisit/internal/localserver"
)

const minioNodes = 4

// startMinIO runs a distributed MinIO of 4 nodes on loopback ports, each
// with its own drive directory: one erasure set of 4 drives, parity 2 by
// MinIO's default, so a write needs 3 drives and a read 2 — one node may
// be down for either.
func (c *cluster) startMinIO(ctx context.Context) error {
	bin, err := localserver.MinIOBinary(ctx, logf)
	if err != nil {
		return err
	}
	c.minioBin = bin
	p, err := ports(2 * minioNodes)
	if err != nil {
		return err
	}
	for i := range minioNodes {
		c.minioAddrs = append(c.minioAddrs, addr(p[i]))
		c.minioConsoles = append(c.minioConsoles, addr(p[minioNodes+i]))
		if err := os.MkdirAll(c.minioDrive(i), 0o700); err != nil {
			return err
		}
	}
	c.minio = make([]*localserver.Process, minioNodes)
	for i := range minioNodes {
		if c.minio[i], err = c.startMinIONode(i); err != nil {
			return err
		}
	}
	// The nodes find each other; the set serves once it has its quorum.
	for i, n := range c.minio {
		if err := n.WaitReady(ctx, 3*time.Minute, localserver.HTTPReady("http://"+c.minioAddrs[i]+"/minio/health/cluster")); err != nil {
			return err
		}
	}
	logf("MinIO: %d nodes %v", minioNodes, c.minioAddrs)
	return nil
}

func (c *cluster) minioDrive(i int) string {
	return filepath.Join(c.dir, "minio", "data"+strconv.Itoa(i+1))
}

// startMinIONode starts node i (again), with the whole cluster's endpoint
// list as MinIO's distributed mode wants it on every node.
func (c *cluster) startMinIONode(i int) (*localserver.Process, error) {
	args := []string{"server", "--address", c.minioAddrs[i], "--console-address", c.minioConsoles[i], "--quiet"}
	for j := range minioNodes {
		args = append(args, "http://"+c.minioAddrs[j]+c.minioDrive(j))
	}
	cmd := exec.Command(c.minioBin, args...)
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+c.s3Key,
		"MINIO_ROOT_PASSWORD="+c.s3Secret,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		"MINIO_CI_CD=on", // no root-drive checks on throwaway directories
		// In a container (/.dockerenv) MinIO waits for a loopback endpoint
		// to resolve to another address, forever; this names its own.
		"_MINIO_SERVER_LOCAL="+c.minioAddrs[i],
	)
	return c.start(fmt.Sprintf("minio%d", i+1), cmd)
}
