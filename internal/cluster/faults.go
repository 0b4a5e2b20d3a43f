package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/internal/demo"
	"github.com/fieldvisit/fieldvisit/internal/localserver"
	"github.com/fieldvisit/fieldvisit/internal/photos/photoimage"
	"github.com/fieldvisit/fieldvisit/wire"
)

// simLine is the sim's last line: sim: cadres=N … duplicates=N lost=N
// diverged=N photos=N photos_lost=N.
var simLine = regexp.MustCompile(`^sim: cadres=\d+ .*duplicates=(\d+) lost=(\d+) diverged=(\d+) photos=(\d+) photos_lost=(\d+)`)

// runSimWithFaults plays the sim through haproxy and, meanwhile, kills and
// restarts a replica, stops a MinIO node during an upload and restarts it,
// and restarts another replica gracefully.
func (c *cluster) runSimWithFaults(ctx context.Context, sum *summary) error {
	simCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(simCtx, c.bin, "sim", "--server", "http://"+c.apiLB,
		"--cadres", strconv.Itoa(c.o.cadres), "--days", strconv.Itoa(c.o.days), "--dir", filepath.Join(c.dir, "phones"))
	cmd.Env = os.Environ()
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = os.Stderr
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	var running atomic.Bool
	running.Store(true)
	last := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		line := ""
		for sc.Scan() {
			fmt.Println("sim | " + sc.Text())
			if strings.HasPrefix(sc.Text(), "sim: cadres=") {
				line = sc.Text()
			}
		}
		last <- line
	}()
	faultsDone := make(chan struct{})
	go func() {
		defer close(faultsDone)
		c.faults(ctx, sum, began, &running)
	}()
	simErr := cmd.Wait()
	running.Store(false)
	line := <-last
	logf("sim ended after %s", time.Since(began).Round(time.Second))
	<-faultsDone
	if ctx.Err() != nil {
		return ctx.Err()
	}

	m := simLine.FindStringSubmatch(line)
	if m == nil {
		sum.check(false, "sim", "no result line (%v)", simErr)
		return nil
	}
	n := make([]int, len(m))
	for i := 1; i < len(m); i++ {
		n[i], _ = strconv.Atoi(m[i])
	}
	sum.check(simErr == nil && n[1] == 0 && n[2] == 0 && n[3] == 0 && n[5] == 0 && n[4] > 0, "sim through haproxy",
		"duplicates=%d lost=%d diverged=%d photos=%d photos_lost=%d (exit: %v)", n[1], n[2], n[3], n[4], n[5], errOrOK(simErr))
	sum.note("", "%s", line)
	return nil
}

func errOrOK(err error) string {
	if err == nil {
		return "0"
	}
	return err.Error()
}

// faults is the schedule of failures during the sim. Each is checked on
// its own; whether the sim was still running when it struck is said.
func (c *cluster) faults(ctx context.Context, sum *summary, began time.Time, running *atomic.Bool) {
	at := func() string {
		state := "sim running"
		if !running.Load() {
			state = "AFTER the sim ended: raise -days"
		}
		return fmt.Sprintf("t=%s, %s", time.Since(began).Round(time.Second), state)
	}
	sleep := func(d time.Duration) bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(d):
			return true
		}
	}

	// A replica crashes: haproxy's retries send new connections elsewhere;
	// requests it held fail and the phones retry them.
	if !sleep(c.o.killAfter) {
		return
	}
	c.replicas[1].Kill()
	when := at()
	logf("replica2 killed (SIGKILL), %s", when)
	sleep(3 * time.Second)
	t0 := time.Now()
	err := c.startReplica(ctx, 1)
	sum.check(err == nil && strings.Contains(when, "sim running"), "replica SIGKILL", "replica2 killed at %s; back in %s (%v)", when, time.Since(t0).Round(100*time.Millisecond), errOrOK(err))

	// A MinIO node stops during a photo upload.
	c.minioNodeStop(ctx, sum, at)

	// A replica is stopped gracefully, as in a rolling update.
	t0 = time.Now()
	stopped := at()
	killed := c.replicas[2].Stop(syscall.SIGTERM, 60*time.Second)
	exit := c.replicas[2].Cmd.ProcessState
	took := time.Since(t0).Round(100 * time.Millisecond)
	err = c.startReplica(ctx, 2)
	sum.check(!killed && exit != nil && exit.Success() && err == nil && took >= drainDelay, "replica SIGTERM (drain)",
		"replica3 stopped at %s: exited %v after %s (drain %s); restarted (%v)", stopped, exit, took, drainDelay, errOrOK(err))
}

// minioNodeStop uploads a photo, then SIGKILLs MinIO node 3 while a
// second, larger photo is halfway through its upload; the second upload
// must succeed and both photos read back whole while the node is down.
// The node stays down for -node-down (the sim's uploads go on meanwhile),
// then restarts.
func (c *cluster) minioNodeStop(ctx context.Context, sum *summary, at func() string) {
	const node = 2 // minio3
	api := "http://" + c.apiLB
	token, _, err := login(ctx, api, "cadre01")
	if err != nil {
		sum.check(false, "MinIO node stop", "login: %v", err)
		return
	}
	beforeID := uuid.New()
	before, err := photoimage.GenerateJPEG(photoimage.GenerateOptions{Width: 800, Height: 600, Seed: 7001})
	if err == nil {
		err = putPhoto(ctx, api, token, beforeID, before, nil)
	}
	if err != nil {
		sum.check(false, "MinIO node stop", "upload before the stop: %v", err)
		return
	}
	during, err := photoimage.GenerateJPEG(photoimage.GenerateOptions{Width: 2400, Height: 1800, Seed: 7002})
	if err != nil {
		sum.check(false, "MinIO node stop", "%v", err)
		return
	}
	var when string
	duringID := uuid.New()
	stopped := time.Now()
	err = putPhoto(ctx, api, token, duringID, during, func() {
		c.minio[node].Kill()
		stopped = time.Now()
		when = at()
		logf("minio3 killed (SIGKILL) halfway through a %d KB upload, %s", len(during)/1000, when)
	})
	// The request that was in flight may fail with the node (503: the
	// store went away under it — when the balancer had sent the PUT to that
	// very node); a phone sends the photo again, as the SDK's outbox does,
	// and it must be stored while the node is still down.
	how := "stored in flight"
	for try := 1; err != nil && when != "" && try <= 5 && retryablePut(err); try++ {
		first := err
		time.Sleep(time.Second)
		if err = putPhoto(ctx, api, token, duringID, during, nil); err == nil {
			how = fmt.Sprintf("in flight: %v; sent again %d s later with the node still down: stored", first, try)
		}
	}
	sum.check(err == nil && when != "", "upload across node stop", "%d KB photo, node stopped halfway at %s: %s", len(during)/1000, when, orError(how, err))
	var reads []string
	readErr := error(nil)
	for _, p := range []struct {
		id    uuid.UUID
		bytes []byte
	}{{beforeID, before}, {duringID, during}} {
		if e := getPhoto(ctx, api, token, p.id, p.bytes); e != nil {
			readErr = e
		}
		reads = append(reads, p.id.String()[:8])
	}
	sum.check(readErr == nil, "reads with node down", "photos %v read back whole through the API (%v)", reads, errOrOK(readErr))
	if d := c.o.nodeDown - time.Since(stopped); d > 0 {
		select {
		case <-ctx.Done():
			return
		case <-time.After(d):
		}
	}
	n, err := c.startMinIONode(node)
	if err == nil {
		c.minio[node] = n
		err = n.WaitReady(ctx, 2*time.Minute, localserver.HTTPReady("http://"+c.minioAddrs[node]+"/minio/health/live"))
	}
	sum.check(err == nil, "MinIO node restart", "minio3 down %s, back at %s (%v)", time.Since(stopped).Round(time.Second), at(), errOrOK(err))
}

// retryablePut reports whether a failed PUT is one a phone sends again:
// the server or the link gave up (5xx, 408, a broken connection), not a
// refusal of the photo.
func retryablePut(err error) bool {
	var st statusError
	if errors.As(err, &st) {
		return st.code >= 500 || st.code == http.StatusRequestTimeout
	}
	return true
}

// statusError is an HTTP answer other than the one asked for.
type statusError struct {
	code int
	text string
}

func (e statusError) Error() string { return e.text }

// orError is what went right, or the error.
func orError(ok string, err error) string {
	if err != nil {
		return err.Error()
	}
	return ok
}

// putPhoto uploads jpeg as photo id (no visit) in one PUT. With midway
// set, the body stops halfway, midway runs, and the rest follows: the
// request is in flight across it.
func putPhoto(ctx context.Context, api, token string, id uuid.UUID, jpeg []byte, midway func()) error {
	sum := sha256.Sum256(jpeg)
	pr, pw := io.Pipe()
	go func() {
		half := len(jpeg) / 2
		if _, err := pw.Write(jpeg[:half]); err != nil {
			return
		}
		if midway != nil {
			time.Sleep(300 * time.Millisecond) // the replica is reading it
			midway()
		}
		_, err := pw.Write(jpeg[half:])
		pw.CloseWithError(err)
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, api+"/api/v1/photos/"+id.String(), pr)
	if err != nil {
		return err
	}
	req.ContentLength = int64(len(jpeg))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "image/jpeg")
	req.Header.Set("X-Content-SHA256", hex.EncodeToString(sum[:]))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusCreated && res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		return statusError{code: res.StatusCode, text: fmt.Sprintf("PUT photo: %s %s", res.Status, b)}
	}
	return nil
}

// getPhoto reads photo id's bytes and compares them with want.
func getPhoto(ctx context.Context, api, token string, id uuid.UUID, want []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, api+"/api/v1/photos/"+id.String()+"/content", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	got, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET photo %s: %s", id, res.Status)
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("photo %s: read %d bytes, not the %d uploaded", id, len(got), len(want))
	}
	return nil
}

// login signs user in with the demo password through api and returns the
// access token and the user.
func login(ctx context.Context, api, user string) (string, wire.User, error) {
	body, _ := json.Marshal(wire.Login{Username: user, Password: demo.Password, DeviceID: "cluster-test"})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, api+"/api/v1/auth/login", bytes.NewReader(body))
	if err != nil {
		return "", wire.User{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", wire.User{}, err
	}
	defer res.Body.Close()
	var t wire.Tokens
	if res.StatusCode != http.StatusOK {
		return "", wire.User{}, fmt.Errorf("login %s: %s", user, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(&t); err != nil {
		return "", wire.User{}, err
	}
	return t.AccessToken, t.User, nil
}
