package app

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fieldvisit/fieldvisit/client/clienttest"
	"github.com/fieldvisit/fieldvisit/internal/testkit"
	"github.com/fieldvisit/fieldvisit/wire"
)

// buildFieldvisit returns the real binary, for tests that run it as an
// operator would: the one clienttest builds once per test process (a
// build per test relinked the binary each time, seconds of CPU).
func buildFieldvisit(t *testing.T) string {
	t.Helper()
	return clienttest.Binary(t)
}

// TestServeDrainsOnSIGTERM is a replica behind a load balancer being
// stopped (issue 21, item 4), through the built binary: on SIGTERM it
// first answers /readyz with 503 for --drain-delay while still serving
// what the balancer sends meanwhile, then closes its listener, lets a
// request that was in flight all along (a login whose body is still
// arriving) finish with its answer, and exits 0.
func TestServeDrainsOnSIGTERM(t *testing.T) {
	const drain = 2 * time.Second
	srv := startServing(t, drain, 20*time.Second)
	addr, base, serve, exited, out := srv.addr, srv.base, srv.cmd, srv.exited, &srv.out

	// The in-flight request: its headers and half its body go out before
	// the signal, the rest only after the drain delay, when the listener
	// is already closed.
	body, _ := json.Marshal(wire.Login{Username: "admin", Password: testPassword, DeviceID: "drain-test"})
	inflight, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer inflight.Close()
	half := len(body) / 2
	fmt.Fprintf(inflight, "POST /api/v1/auth/login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", addr, len(body), body[:half])
	time.Sleep(200 * time.Millisecond) // the server has read the headers and is waiting for the body

	signalled := time.Now()
	if err := serve.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	status, readiness := readyz(t, base)
	for status == http.StatusOK && time.Since(signalled) < drain/2 {
		time.Sleep(20 * time.Millisecond)
		status, readiness = readyz(t, base)
	}
	if status != http.StatusServiceUnavailable || readiness["status"] != "draining" {
		t.Fatalf("/readyz during the drain: %d %v; want 503 with status draining", status, readiness)
	}
	if res, err := http.Get(base + "/healthz"); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("a request the balancer still sends during the drain must be served: %v %v", res, err)
	} else {
		res.Body.Close()
	}

	time.Sleep(time.Until(signalled.Add(drain + time.Second)))
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Error("after the drain delay the listener should be closed")
	}
	if _, err := inflight.Write(body[half:]); err != nil {
		t.Fatalf("the in-flight request's connection was closed under it: %v", err)
	}
	_ = inflight.SetReadDeadline(time.Now().Add(10 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(inflight), nil)
	if err != nil {
		t.Fatalf("the in-flight request got no answer: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("the in-flight login: %d; want 200", res.StatusCode)
	}

	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("serve did not exit cleanly: %v\n%s", err, out.String())
		}
		exited <- nil // for the clean-up
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not exit after the drain\n%s", out.String())
	}
	if took := time.Since(signalled); took < drain {
		t.Errorf("serve exited %s after SIGTERM, before its drain delay of %s", took, drain)
	}
}

// readyz is /readyz's status and body.
func readyz(t *testing.T, base string) (int, map[string]string) {
	t.Helper()
	res, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatalf("/readyz: %v", err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(res.Body)
	out := map[string]string{}
	_ = json.Unmarshal(b.Bytes(), &out)
	return res.StatusCode, out
}

// serving is the built binary serving a fresh data directory.
type serving struct {
	addr, base string
	cmd        *exec.Cmd
	exited     chan error
	out        lockedBuffer
}

// startServing runs `fieldvisit serve` with the drain delay and shutdown
// timeout given, killed at the end of the test if it is still running.
func startServing(t *testing.T, drain, shutdownTimeout time.Duration) *serving {
	t.Helper()
	bin := buildFieldvisit(t)
	dir := t.TempDir()
	initCmd := exec.Command(bin, "init", "--data-dir", dir, "--region-code", "410000000000", "--region-name", "河南省")
	initCmd.Env = append(cleanEnv(), adminPasswordEnv+"="+testPassword)
	if out, err := initCmd.CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	s := &serving{addr: fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t)), exited: make(chan error, 1)}
	s.base = "http://" + s.addr
	s.cmd = exec.Command(bin, "serve", "--data-dir", dir, "--addr", s.addr, "--drain-delay", drain.String(), "--shutdown-timeout", shutdownTimeout.String())
	s.cmd.Env = cleanEnv()
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.exited <- s.cmd.Wait() }()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		<-s.exited
	})
	waitReady(t, s.base)
	return s
}

// TestServeCutsWhatOutlastsTheShutdownTime: a request still running when
// the shutdown time is up (a body that never finishes arriving, as a
// phone's 2G link may hold one) is cut, and the process exits 0 with a
// warning — it exited 1, as if it had crashed, which a rolling update (and
// the cluster test) counts as a failure.
func TestServeCutsWhatOutlastsTheShutdownTime(t *testing.T) {
	const drain, timeout = 500 * time.Millisecond, time.Second
	srv := startServing(t, drain, timeout)
	stuck, err := net.Dial("tcp", srv.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()
	fmt.Fprintf(stuck, "POST /api/v1/auth/login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"username\":", srv.addr)
	time.Sleep(200 * time.Millisecond)
	signalled := time.Now()
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-srv.exited:
		srv.exited <- err // for the clean-up
		if err != nil {
			t.Fatalf("serve exited with %v when a request outlasted the shutdown time; want 0\n%s", err, srv.out.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("serve did not exit\n%s", srv.out.String())
	}
	if took := time.Since(signalled); took < drain+timeout {
		t.Errorf("serve exited %s after SIGTERM, before its drain and shutdown time", took)
	}
	if !strings.Contains(srv.out.String(), "were cut") {
		t.Errorf("no warning that requests were cut:\n%s", srv.out.String())
	}
}
