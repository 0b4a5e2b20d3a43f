package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// server is a background process started for the tests.
type server struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{} // closed when the process is gone
}

// startServer starts cmd with its output in logPath. The process gets its own
// process group, so a Ctrl-C in the terminal reaches the tests but not the
// servers, which are stopped in order afterwards; and it is killed if testenv
// itself dies.
func startServer(name string, cmd *exec.Cmd, logPath string) (*server, error) {
	logFile, err := os.Create(logPath)
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
	s := &server{name: name, cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(s.exited)
	}()
	return s, nil
}

// waitReady polls ready until it succeeds, the process exits, ctx is done or
// timeout passes.
func (s *server) waitReady(ctx context.Context, timeout time.Duration, ready func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var err error
	for {
		if err = ready(ctx); err == nil {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("%s exited during startup (%v)\n%s", s.name, s.cmd.ProcessState, s.logTail())
		case <-ctx.Done():
			return fmt.Errorf("%s not ready: %w (last error: %v)\n%s", s.name, ctx.Err(), err, s.logTail())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop sends sig, waits up to grace, then kills the process.
func (s *server) stop(sig syscall.Signal, grace time.Duration) {
	_ = s.cmd.Process.Signal(sig)
	select {
	case <-s.exited:
	case <-time.After(grace):
		logf("%s did not stop within %v; killing it", s.name, grace)
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.exited
	}
}

// logTail is the end of the server's log, for error messages.
func (s *server) logTail() string {
	b, err := os.ReadFile(s.logPath)
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
	return "--- " + s.logPath + " (end) ---\n" + strings.TrimRight(string(b), "\n")
}

// freePort asks the kernel for a free TCP port on 127.0.0.1. Another process
// could take it before the server binds it; unlikely enough here.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
