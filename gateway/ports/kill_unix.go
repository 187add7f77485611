//go:build unix

package ports

import (
	"errors"
	"syscall"
)

func terminate(pid int) error { return sig(pid, syscall.SIGTERM) }
func kill(pid int) error      { return sig(pid, syscall.SIGKILL) }

// sig sends s; a process that already exited is not an error.
func sig(pid int, s syscall.Signal) error {
	if err := syscall.Kill(pid, s); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}

// alive reports whether pid exists (signal 0; EPERM means it exists but
// belongs to someone else).
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
