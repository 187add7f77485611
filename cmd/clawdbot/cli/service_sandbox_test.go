//go:build linux

package cli_test

// The real-supervisor test: the built clawdbot binary installs itself into a
// real `systemd --user` manager (../shared/tools/systemd-user-sandbox.sh),
// systemd restarts it after a SIGKILL, and the lifecycle commands drive it
// to the end. It skips, with the reason, only when the sandbox cannot start
// (not Linux, not root, packages missing); SYSTEMD_USER_SANDBOX_REQUIRED=1
// (set by .ci/run) turns that skip into a failure.

import (
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/supervise/sandboxtest"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// actionJSON is the §4.4 action object the service commands print.
type actionJSON struct {
	OK       bool     `json:"ok"`
	Action   string   `json:"action"`
	Result   string   `json:"result"`
	Message  string   `json:"message"`
	Error    string   `json:"error"`
	Hints    []string `json:"hints"`
	Warnings []string `json:"warnings"`
	Service  *struct {
		Label      string `json:"label"`
		Loaded     bool   `json:"loaded"`
		LoadedText string `json:"loadedText"`
	} `json:"service"`
}

func TestGatewayServiceInSystemdUserSandbox(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and boots a systemd user manager")
	}
	sb := sandboxtest.Start(t)
	home := sb["SYSTEMD_USER_SANDBOX_HOME"]
	const profile, token = "citest", "citest-token-0123456789"
	unit := "clawdbot-gateway-" + profile + ".service"
	unitPath := filepath.Join(sb["SYSTEMD_USER_SANDBOX_UNIT_DIR"], unit)
	stateDir := filepath.Join(home, ".clawdbot-"+profile)
	t.Cleanup(func() { os.RemoveAll(stateDir) })

	bin := clawdbotBinary(t)

	env := append(os.Environ(),
		"HOME="+home, // enable/disable run client-side and need the sandbox HOME
		"XDG_RUNTIME_DIR="+sb["XDG_RUNTIME_DIR"],
		"DBUS_SESSION_BUS_ADDRESS="+sb["DBUS_SESSION_BUS_ADDRESS"],
		"CLAWDBOT_PROFILE=", "CLAWDBOT_STATE_DIR=", "CLAWDBOT_CONFIG_PATH=", "CLAWDBOT_GATEWAY_PORT=",
		"CLAWDBOT_GATEWAY_TOKEN=", "CLAWDBOT_SYSTEMD_UNIT=")
	clawdbot := func(args ...string) (string, error) {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"--profile", profile}, args...)...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	action := func(args ...string) actionJSON {
		t.Helper()
		out, err := clawdbot(append(args, "--json")...)
		var a actionJSON
		if jerr := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &a); jerr != nil || err != nil || !a.OK {
			t.Fatalf("clawdbot %s: %v (json: %v)\n%s", strings.Join(args, " "), err, jerr, out)
		}
		return a
	}
	systemctl := func(args ...string) string {
		cmd := exec.Command("systemctl", append([]string{"--user"}, args...)...)
		cmd.Env = env
		out, _ := cmd.CombinedOutput()
		return strings.TrimSpace(string(out))
	}
	prop := func(name string) string { return systemctl("show", "-p", name, "--value", unit) }
	waitFor := func(what string, d time.Duration, cond func() bool) {
		t.Helper()
		for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			if cond() {
				return
			}
		}
		t.Fatalf("timed out after %s waiting for %s (ActiveState=%s SubState=%s MainPID=%s NRestarts=%s)\n%s",
			d, what, prop("ActiveState"), prop("SubState"), prop("MainPID"), prop("NRestarts"), journal(sb, unit))
	}
	health := func(step string) {
		t.Helper()
		var out string
		var err error
		for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
			if out, err = clawdbot("gateway", "call", "health", "--json", "--timeout", "3000"); err == nil {
				return
			}
		}
		t.Fatalf("%s: gateway call health: %v\n%s\n%s", step, err, out, journal(sb, unit))
	}
	t.Cleanup(func() { // leave no unit behind even when a step failed
		if _, err := os.Stat(unitPath); err == nil {
			systemctl("disable", "--now", unit)
			os.Remove(unitPath)
			systemctl("daemon-reload")
		}
	})

	// A local-mode config, as `clawdbot setup` would leave it.
	port := freePort(t)
	// gateway.port too: `gateway call` finds the gateway through the config,
	// not through the unit's --port.
	cfg := `{"gateway": {"mode": "local", "bind": "loopback", "port": ` + strconv.Itoa(port) + `}}` + "\n"
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stateDir, "clawdbot.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	// install → unit written, enabled, active (Type=notify: READY=1 came).
	a := action("gateway", "install", "--port", strconv.Itoa(port), "--token", token)
	if a.Result != "installed" || a.Service == nil || a.Service.Label != "systemd" || !a.Service.Loaded {
		t.Fatalf("install: %+v", a)
	}
	fi, err := os.Stat(unitPath)
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("unit file %s: %v %v", unitPath, fi, err)
	}
	body, _ := os.ReadFile(unitPath)
	if strings.Contains(string(body), token) {
		t.Fatalf("the unit file contains the gateway token:\n%s", body)
	}
	cfgInfo, _ := os.Stat(filepath.Join(stateDir, "clawdbot.json"))
	cfgBody, _ := os.ReadFile(filepath.Join(stateDir, "clawdbot.json"))
	if !strings.Contains(string(cfgBody), token) || cfgInfo.Mode().Perm() != 0o600 {
		t.Fatalf("token not stored in the 0600 config (mode %v):\n%s", cfgInfo.Mode(), cfgBody)
	}
	waitFor("active", 30*time.Second, func() bool { return prop("ActiveState") == "active" })
	health("after install")

	// install again → unchanged, still running with the same PID.
	pid1 := prop("MainPID")
	if a := action("gateway", "install", "--port", strconv.Itoa(port)); a.Result != "unchanged" {
		t.Fatalf("second install: %+v", a)
	}
	if prop("MainPID") != pid1 {
		t.Fatalf("unchanged install restarted the gateway (%s -> %s)", pid1, prop("MainPID"))
	}

	// kill -9 → systemd restarts it (RestartSec=5), NRestarts+1, it answers.
	n0, _ := strconv.Atoi(prop("NRestarts"))
	pid, _ := strconv.Atoi(pid1)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor("restart after SIGKILL", 30*time.Second, func() bool {
		n, _ := strconv.Atoi(prop("NRestarts"))
		p := prop("MainPID")
		return n == n0+1 && p != "0" && p != pid1 && prop("ActiveState") == "active"
	})
	health("after SIGKILL")

	// gateway restart → a new main PID, active, answering.
	pid2 := prop("MainPID")
	if a := action("gateway", "restart"); a.Result != "restarted" {
		t.Fatalf("restart: %+v", a)
	}
	waitFor("active after restart", 30*time.Second, func() bool {
		p := prop("MainPID")
		return p != "0" && p != pid2 && prop("ActiveState") == "active"
	})
	health("after restart")

	// gateway stop → inactive and stays so (no respawn); still installed.
	if a := action("gateway", "stop"); a.Result != "stopped" {
		t.Fatalf("stop: %+v", a)
	}
	waitFor("inactive", 30*time.Second, func() bool { return prop("ActiveState") == "inactive" })
	time.Sleep(6 * time.Second) // longer than RestartSec: a respawn would show now
	if s := prop("ActiveState"); s != "inactive" {
		t.Fatalf("after stop the service came back: %s", s)
	}

	// gateway start → a true start brings it back.
	if a := action("gateway", "start"); a.Result != "started" {
		t.Fatalf("start: %+v", a)
	}
	waitFor("active after start", 30*time.Second, func() bool { return prop("ActiveState") == "active" })

	// gateway uninstall → stopped, disabled, no unit file left.
	if a := action("gateway", "uninstall"); a.Result != "uninstalled" || a.Service.Loaded {
		t.Fatalf("uninstall: %+v", a)
	}
	if _, err := os.Stat(unitPath); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("unit file still there after uninstall: %v", err)
	}
	if s := prop("LoadState"); s != "not-found" {
		t.Errorf("after uninstall LoadState=%s, want not-found (daemon-reload missing?)", s)
	}
	if a := action("gateway", "uninstall"); a.Result != "not-loaded" {
		t.Errorf("second uninstall: %+v", a)
	}
}

// journal returns the unit's recent log lines for a failure message.
func journal(sb map[string]string, unit string) string {
	dir := sb["SYSTEMD_USER_SANDBOX_JOURNAL_DIR"]
	if dir == "" {
		dir = os.Getenv("SYSTEMD_USER_SANDBOX_JOURNAL_DIR")
	}
	if dir == "" {
		return ""
	}
	out, _ := exec.Command("journalctl", "-D", dir, "--user-unit="+unit, "-n", "40", "--no-pager").CombinedOutput()
	return "journal:\n" + string(out)
}
