// Package localserver starts, watches and stops the real servers that
// run on this machine for the tests (internal/testenv) and the cluster test
// (internal/cluster): PostgreSQL, MinIO, haproxy, fieldvisit itself. It
// also finds or builds their binaries: Debian's PostgreSQL, the pinned
// MinIO build, packages through apt-get.
package localserver

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Process is a background server started for the tests.
type Process struct {
	Name    string
	Cmd     *exec.Cmd
	LogPath string
	exited  chan struct{} // closed when the process is gone
}

// Start starts cmd with its output appended to logPath. The process gets
// its own process group, so a Ctrl-C in the terminal reaches the tests but
// not the servers, which are stopped in order afterwards; and it is killed
// if the program that started it dies.
func Start(name string, cmd *exec.Cmd, logPath string) (*Process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child keeps its own descriptor
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	s := &Process{Name: name, Cmd: cmd, LogPath: logPath, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(s.exited)
	}()
	return s, nil
}

// Exited is closed when the process is gone.
func (s *Process) Exited() <-chan struct{} { return s.exited }

// WaitReady polls ready until it succeeds, the process exits, ctx is done or
// timeout passes.
func (s *Process) WaitReady(ctx context.Context, timeout time.Duration, ready func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var err error
	for {
		if err = ready(ctx); err == nil {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("%s exited during startup (%v)\n%s", s.Name, s.Cmd.ProcessState, s.LogTail())
		case <-ctx.Done():
			return fmt.Errorf("%s not ready: %w (last error: %v)\n%s", s.Name, ctx.Err(), err, s.LogTail())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// HTTPReady is a readiness probe for WaitReady: GET url answers 200.
func HTTPReady(url string) func(context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %s", url, res.Status)
		}
		return nil
	}
}

// Stop sends sig, waits up to grace, then kills the process's group; it
// reports whether the process had to be killed.
func (s *Process) Stop(sig syscall.Signal, grace time.Duration) (killed bool) {
	_ = s.Cmd.Process.Signal(sig)
	select {
	case <-s.exited:
		return false
	case <-time.After(grace):
		s.Kill()
		return true
	}
}

// Kill ends the process's group at once (SIGKILL) and waits until it is
// gone: a crash, as far as the others can tell.
func (s *Process) Kill() {
	_ = syscall.Kill(-s.Cmd.Process.Pid, syscall.SIGKILL)
	<-s.exited
}

// LogTail is the end of the server's log, for error messages.
func (s *Process) LogTail() string {
	b, err := os.ReadFile(s.LogPath)
	if err != nil {
		return ""
	}
	const max = 4 << 10
	if len(b) > max {
		b = b[len(b)-max:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return "--- " + s.LogPath + " (end) ---\n" + strings.TrimRight(string(b), "\n")
}

// FreePort asks the kernel for a free TCP port on 127.0.0.1. Another process
// could take it before the server binds it; unlikely enough here.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
