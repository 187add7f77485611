//go:build !windows

package ports

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// psField runs `ps -p <pid> -o <field>=` (the portable fallback to /proc).
func psField(ctx context.Context, pid int, field string) string {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ps", "-p", strconv.Itoa(pid), "-o", field+"=").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
