//go:build !windows

package exec

import (
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// shellCommand runs command through the user's shell as the original's
// getShellConfig: $SHELL -c, bash (or sh) instead of fish, sh without one.
func shellCommand(command string, shell string) *exec.Cmd {
	cmd := exec.Command(shell, "-c", command)
	// Its own process group, so a kill reaches everything it started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// killTree kills the process group of cmd.
func killTree(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Process.Kill()
}

// exitSignal names the signal that ended the process ("" if it exited).
func exitSignal(ps *os.ProcessState) string {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return unix.SignalName(ws.Signal())
	}
	return ""
}
