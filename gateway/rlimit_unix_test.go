//go:build unix

package gateway

import (
	"fmt"
	"syscall"
	"testing"
)

// raiseFileLimit lifts RLIMIT_NOFILE towards n for the many-connection
// benchmarks and returns the limit obtained.
func raiseFileLimit(b *testing.B, n uint64) uint64 {
	lim, err := raiseNoFile(n)
	if err != nil {
		b.Skip(err)
	}
	return lim
}

// raiseNoFile lifts the soft RLIMIT_NOFILE towards n (capped by the hard
// limit) and returns the limit in force.
func raiseNoFile(n uint64) (uint64, error) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0, fmt.Errorf("getrlimit: %w", err)
	}
	if r.Cur >= n {
		return r.Cur, nil
	}
	r.Cur = min(n, r.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0, fmt.Errorf("cannot raise RLIMIT_NOFILE to %d (max %d): %w", n, r.Max, err)
	}
	return r.Cur, nil
}
