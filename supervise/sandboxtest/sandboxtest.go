// Package sandboxtest gives tests a real `systemd --user` manager: the one
// .ci/run started (its environment is exported), or a private one started
// for the test with ../shared/tools/systemd-user-sandbox.sh and stopped in
// t.Cleanup. PID 1 is not systemd on these machines; the script runs the
// real user manager in a private mount namespace (shared/tools/README.md).
//
// Tests skip with the script's reason when the machine cannot host one (not
// Linux, not root, packages missing); SYSTEMD_USER_SANDBOX_REQUIRED=1 (set
// by .ci/run) turns that skip into a failure, so CI cannot pass by skipping.
package sandboxtest

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Env is the sandbox's environment: XDG_RUNTIME_DIR,
// DBUS_SESSION_BUS_ADDRESS, SYSTEMD_USER_SANDBOX_HOME (run clients with
// HOME set to it: enable/disable are client-side outside the namespace),
// SYSTEMD_USER_SANDBOX_UNIT_DIR, SYSTEMD_USER_SANDBOX_DIR, ...
type Env map[string]string

// envKeys are the variables `systemd-user-sandbox.sh start` exports.
var envKeys = []string{"XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS", "SYSTEMD_USER_SANDBOX_HOME",
	"SYSTEMD_USER_SANDBOX_UNIT_DIR", "SYSTEMD_USER_SANDBOX_PID", "SYSTEMD_USER_SANDBOX_DIR",
	"SYSTEMD_USER_SANDBOX_LOG", "SYSTEMD_USER_SANDBOX_JOURNAL_DIR"}

// Start returns a running user manager's environment, or skips t.
func Start(t testing.TB) Env {
	t.Helper()
	if os.Getenv("SYSTEMD_USER_SANDBOX_DIR") != "" { // started by .ci/run: reuse
		env := Env{}
		for _, k := range envKeys {
			env[k] = os.Getenv(k)
		}
		if _, err := os.Stat(filepath.Join(env["XDG_RUNTIME_DIR"], "systemd", "private")); err != nil {
			t.Fatalf("SYSTEMD_USER_SANDBOX_DIR=%s is set but its manager is not answering (stale env?): %v",
				env["SYSTEMD_USER_SANDBOX_DIR"], err)
		}
		return env
	}
	skip := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("SYSTEMD_USER_SANDBOX_REQUIRED") == "1" {
			t.Fatalf(format, args...)
		}
		t.Skipf(format, args...)
	}
	if runtime.GOOS != "linux" {
		skip("systemd user sandbox: needs Linux, have %s", runtime.GOOS)
	}
	script := Script()
	if script == "" {
		skip("systemd user sandbox: shared/tools/systemd-user-sandbox.sh not found (set SYSTEMD_USER_SANDBOX_SCRIPT)")
	}
	dir, err := os.MkdirTemp("", "sdus-") // short: socket paths must stay < 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("bash", script, "start", "--plain", "--state-dir", dir).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == 2 { // prerequisites missing
			os.RemoveAll(dir)
			skip("systemd user sandbox unavailable: %s", strings.TrimSpace(string(ee.Stderr)))
		}
		t.Fatalf("systemd user sandbox failed to start: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if t.Failed() {
			if b, err := os.ReadFile(filepath.Join(dir, "manager.log")); err == nil {
				t.Logf("manager.log (tail):\n%s", Tail(string(b), 60))
			}
		}
		if out, err := exec.Command("bash", script, "stop", "--state-dir", dir).CombinedOutput(); err != nil {
			t.Errorf("sandbox stop: %v\n%s", err, out)
		}
	})
	env := Env{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			env[k] = v
		}
	}
	return env
}

// Script finds systemd-user-sandbox.sh: $SYSTEMD_USER_SANDBOX_SCRIPT, else
// shared/tools/ in the working directory or one of its parents (the repo's
// sibling ../shared in a checkout and in CI). "" when not found.
func Script() string {
	if p := os.Getenv("SYSTEMD_USER_SANDBOX_SCRIPT"); p != "" {
		return p
	}
	dir, _ := os.Getwd()
	for {
		p := filepath.Join(dir, "shared", "tools", "systemd-user-sandbox.sh")
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Tail returns the last n lines of s.
func Tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
