package app

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os/exec"
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
	bin := buildFieldvisit(t)
	dir := t.TempDir()
	initCmd := exec.Command(bin, "init", "--data-dir", dir, "--region-code", "410000000000", "--region-name", "河南省")
	initCmd.Env = append(cleanEnv(), adminPasswordEnv+"="+testPassword)
	if out, err := initCmd.CombinedOutput(); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	const drain = 2 * time.Second
	addr := fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t))
	base := "http://" + addr
	serve := exec.Command(bin, "serve", "--data-dir", dir, "--addr", addr, "--drain-delay", drain.String(), "--shutdown-timeout", "20s")
	serve.Env = cleanEnv()
	var out lockedBuffer
	serve.Stdout, serve.Stderr = &out, &out
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- serve.Wait() }()
	t.Cleanup(func() {
		_ = serve.Process.Kill()
		<-exited
	})
	waitReady(t, base)

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
