//go:build unix

package gateway

import (
	"syscall"
	"testing"
)

// raiseFileLimit lifts RLIMIT_NOFILE towards n for the many-connection
// benchmarks and returns the limit obtained.
func raiseFileLimit(b *testing.B, n uint64) uint64 {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		b.Skipf("getrlimit: %v", err)
	}
	if r.Cur >= n {
		return r.Cur
	}
	r.Cur = min(n, r.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		b.Skipf("cannot raise RLIMIT_NOFILE to %d (max %d): %v", n, r.Max, err)
	}
	return r.Cur
}
