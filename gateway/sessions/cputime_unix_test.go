//go:build unix

package sessions

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user + system) the test process has used:
// the benchmarks report it per op next to wall time, which on a shared
// machine measures the neighbours as much as the code.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
