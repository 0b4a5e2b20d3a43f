//go:build !unix

package bench

import (
	"runtime/metrics"
	"time"
)

// processCPUTime is the Go runtime's estimate of the CPU time this process
// has used (no getrusage here).
func processCPUTime() time.Duration {
	s := []metrics.Sample{{Name: "/cpu/classes/total:cpu-seconds"}, {Name: "/cpu/classes/idle:cpu-seconds"}}
	metrics.Read(s)
	return time.Duration((s[0].Value.Float64() - s[1].Value.Float64()) * float64(time.Second))
}
