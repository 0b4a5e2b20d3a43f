//go:build unix

package bench

import (
	"syscall"
	"time"
)

// processCPUTime is the CPU time (user + system) this process has used,
// to the microsecond.
func processCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
