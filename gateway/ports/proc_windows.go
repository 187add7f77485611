package ports

import (
	"context"
	"strings"

	"github.com/shirou/gopsutil/v4/process"
)

// readProc asks the system about pid (gopsutil: the process's image name,
// command line, owner and environment block). What cannot be read, for
// lack of rights, stays empty; the service marker then stays unknown.
func readProc(ctx context.Context, pid int) procInfo {
	info := procInfo{env: map[string]string{}}
	p, err := process.NewProcessWithContext(ctx, int32(pid))
	if err != nil {
		return info
	}
	info.comm, _ = p.NameWithContext(ctx)
	info.cmdline, _ = p.CmdlineWithContext(ctx)
	info.user, _ = p.UsernameWithContext(ctx)
	if env, err := p.EnvironWithContext(ctx); err == nil {
		for _, kv := range env {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				continue
			}
			for _, want := range []string{"CLAWDBOT_SERVICE_MARKER", "CLAWDBOT_PROFILE"} {
				if strings.EqualFold(k, want) {
					info.env[want] = v
				}
			}
		}
	}
	return info
}

// processStartTime is the process's creation time in Unix milliseconds.
func processStartTime(pid int) (int64, error) {
	p, err := process.NewProcess(int32(pid))
	if err != nil {
		return 0, err
	}
	return p.CreateTime()
}
