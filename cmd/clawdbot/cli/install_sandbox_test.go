//go:build linux

package cli_test

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/supervise/sandboxtest"
)

// The README's order on a real systemd user manager: `clawdbot gateway` in
// one shell, `clawdbot gateway install` in another. Install must name the
// hand-started gateway's pid and how to stop it, and leave no unit behind
// (one that cannot bind restarts every 5 s); once the foreground gateway is
// gone, the same command installs a service that runs.
func TestInstallWhileAForegroundGatewayHoldsThePortInSystemdUserSandbox(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and boots a systemd user manager")
	}
	sb := sandboxtest.Start(t)
	home := sb["SYSTEMD_USER_SANDBOX_HOME"]
	const profile = "fgtest"
	unit := "clawdbot-gateway-" + profile + ".service"
	unitPath := filepath.Join(sb["SYSTEMD_USER_SANDBOX_UNIT_DIR"], unit)
	stateDir := filepath.Join(home, ".clawdbot-"+profile)
	t.Cleanup(func() { os.RemoveAll(stateDir) })
	bin := clawdbotBinary(t)
	env := append(os.Environ(),
		"HOME="+home, "XDG_RUNTIME_DIR="+sb["XDG_RUNTIME_DIR"], "DBUS_SESSION_BUS_ADDRESS="+sb["DBUS_SESSION_BUS_ADDRESS"],
		"CLAWDBOT_PROFILE=", "CLAWDBOT_STATE_DIR=", "CLAWDBOT_CONFIG_PATH=", "CLAWDBOT_GATEWAY_PORT=",
		"CLAWDBOT_GATEWAY_TOKEN=", "CLAWDBOT_SYSTEMD_UNIT=")
	systemctl := func(args ...string) string {
		cmd := exec.Command("systemctl", append([]string{"--user"}, args...)...)
		cmd.Env = env
		out, _ := cmd.CombinedOutput()
		return strings.TrimSpace(string(out))
	}
	t.Cleanup(func() {
		if _, err := os.Stat(unitPath); err == nil {
			systemctl("disable", "--now", unit)
			os.Remove(unitPath)
			systemctl("daemon-reload")
		}
	})
	port := freePort(t)
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := `{"gateway": {"mode": "local", "bind": "loopback", "port": ` + strconv.Itoa(port) + `, "auth": {"token": "fg-token-0123456789"}}}` + "\n"
	if err := os.WriteFile(filepath.Join(stateDir, "clawdbot.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	// The foreground gateway, as a user starts it.
	fg := exec.Command(bin, "--profile", profile, "gateway")
	fg.Env = env
	pr, pw := io.Pipe()
	fg.Stdout, fg.Stderr = pw, pw
	if err := fg.Start(); err != nil {
		t.Fatal(err)
	}
	fgDone := make(chan struct{})
	go func() { fg.Wait(); pw.Close(); close(fgDone) }()
	t.Cleanup(func() { fg.Process.Kill(); <-fgDone })
	listening := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		once := false
		for sc.Scan() {
			if !once && strings.Contains(sc.Text(), "listening") {
				once = true
				close(listening)
			}
		}
	}()
	select {
	case <-listening:
	case <-time.After(30 * time.Second):
		t.Fatal("foreground gateway did not start listening")
	}

	cmd := exec.Command(bin, "--profile", profile, "gateway", "install")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("install succeeded while pid %d holds the port:\n%s", fg.Process.Pid, out)
	}
	first := strings.SplitN(string(out), "\n", 2)[0]
	pid := strconv.Itoa(fg.Process.Pid)
	for _, w := range []string{"pid " + pid, "started by hand", "kill " + pid, "rerun: clawdbot --profile fgtest gateway install"} {
		if !strings.Contains(first, w) {
			t.Errorf("first line lacks %q:\n%s", w, out)
		}
	}
	if _, err := os.Stat(unitPath); !os.IsNotExist(err) {
		t.Errorf("a unit was written although install refused: %v", err)
	}
	if st := systemctl("is-enabled", unit); st == "enabled" {
		t.Errorf("unit enabled: %s", st)
	}

	// Stop the foreground gateway; now the same command installs.
	fg.Process.Signal(os.Interrupt)
	select {
	case <-fgDone:
	case <-time.After(15 * time.Second):
		t.Fatal("foreground gateway did not stop on SIGINT")
	}
	cmd = exec.Command(bin, "--profile", profile, "gateway", "install")
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("install after the foreground gateway stopped: %v\n%s", err, out)
	}
	for end := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if systemctl("show", "-p", "ActiveState", "--value", unit) == "active" {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("service not active:\n%s", journal(sb, unit))
		}
	}
}
