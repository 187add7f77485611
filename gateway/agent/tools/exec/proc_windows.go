//go:build windows

package exec

import (
	"os"
	"os/exec"
	"strconv"
)

// shellCommand runs command through PowerShell, as the original does on
// Windows (cmd.exe loses the output of console-only utilities).
func shellCommand(command string, shell string) *exec.Cmd {
	return exec.Command(shell, "-NoProfile", "-NonInteractive", "-Command", command)
}

// killTree kills cmd and its children (taskkill /T).
func killTree(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	_ = exec.Command("taskkill", "/T", "/F", "/PID", strconv.Itoa(cmd.Process.Pid)).Run()
	_ = cmd.Process.Kill()
}

// exitSignal is "" on Windows: a process ends with an exit code.
func exitSignal(*os.ProcessState) string { return "" }
