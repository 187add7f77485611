//go:build unix

package gateway

import "syscall"

// fileLimit is the soft RLIMIT_NOFILE (0 when unknown). Go raises the soft
// limit to the hard one at start, so this is the hard limit in practice.
func fileLimit() int {
	var r syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r) != nil || r.Cur > 1<<30 {
		return 0
	}
	return int(r.Cur)
}
