//go:build !linux && !windows

package ports

import (
	"context"
	"errors"
	"path/filepath"
)

// readProc uses ps. The environment of another process is not readable
// without privileges on macOS, so the service marker stays unknown there.
func readProc(ctx context.Context, pid int) procInfo {
	return procInfo{
		comm:    filepath.Base(psField(ctx, pid, "comm")),
		cmdline: psField(ctx, pid, "command"),
		user:    psField(ctx, pid, "user"),
		env:     map[string]string{},
	}
}

// processStartTime is not available without /proc; callers fall back to a
// liveness check.
func processStartTime(int) (int64, error) { return 0, errors.New("process start time unavailable") }
