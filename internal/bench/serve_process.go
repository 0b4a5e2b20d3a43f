package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// serveProcess is `fieldvisit serve` in a child process, so that its
// memory, goroutines and files are its own and not the load generator's.
type serveProcess struct {
	pid     int
	base    string // http://127.0.0.1:port
	logPath string
	stop    func() // kills and reaps it
}

// startServe runs this executable's `serve` on dataDir with env added to
// this process's environment (FIELDVISIT_ADDR and _DATA_DIR are set here)
// and waits until /readyz answers 200.
func startServe(ctx context.Context, hc *http.Client, dataDir string, env ...string) (*serveProcess, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	logPath := filepath.Join(dataDir, "serve.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(cctx, exe, "serve")
	cmd.Env = append(append(os.Environ(), "FIELDVISIT_ADDR="+addr, "FIELDVISIT_DATA_DIR="+dataDir), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		logFile.Close()
		return nil, fmt.Errorf("starting the server: %w", err)
	}
	// Killed on every way out: cancel kills it (CommandContext), Wait reaps it.
	p := &serveProcess{pid: cmd.Process.Pid, base: "http://" + addr, logPath: logPath,
		stop: func() { cancel(); _ = cmd.Wait(); logFile.Close() }}
	deadline := time.Now().Add(90 * time.Second)
	for {
		res, err := hc.Get(p.base + "/readyz")
		if err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			p.stop()
			return nil, fmt.Errorf("server (pid %d) not ready at %s\nserver log tail:\n%s", p.pid, p.base, p.logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// logTail is the last 2,000 bytes the server logged.
func (p *serveProcess) logTail() string {
	tail, _ := os.ReadFile(p.logPath)
	if len(tail) > 2000 {
		tail = tail[len(tail)-2000:]
	}
	return string(tail)
}
