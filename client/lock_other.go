//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package client

import "os"

// lockDir is a no-op where flock is unavailable: one client per Dir is then
// the caller's duty.
func lockDir(dir string) (*os.File, error) { return nil, nil }

func unlockDir(f *os.File) error { return nil }
