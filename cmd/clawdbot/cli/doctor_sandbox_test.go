//go:build linux

package cli_test

// doctor against the real systemd user manager (the sandbox helpers live in
// service_sandbox_test.go): install, hand-edit the unit so it drifts,
// doctor reports it, doctor --fix --yes refuses the unmarked file,
// doctor --fix --yes --force rewrites it, and gateway status shows the
// service running and answering.

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/supervise/sandboxtest"
)

type doctorOut struct {
	OK       bool `json:"ok"`
	Applied  bool `json:"applied"`
	Findings []struct {
		Code     string `json:"code"`
		Severity string `json:"severity"`
	} `json:"findings"`
	Actions []struct {
		Title  string `json:"title"`
		Status string `json:"status"`
		Error  string `json:"error"`
	} `json:"actions"`
	Remaining []struct {
		Code string `json:"code"`
	} `json:"remaining"`
}

func TestDoctorRepairsDriftInSystemdUserSandbox(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and boots a systemd user manager")
	}
	sb := sandboxtest.Start(t)
	home := sb["SYSTEMD_USER_SANDBOX_HOME"]
	const profile, token = "doctest", "doctest-token-0123456789"
	unit := "clawdbot-gateway-" + profile + ".service"
	unitPath := filepath.Join(sb["SYSTEMD_USER_SANDBOX_UNIT_DIR"], unit)
	stateDir := filepath.Join(home, ".clawdbot-"+profile)
	t.Cleanup(func() { os.RemoveAll(stateDir) })
	bin := clawdbotBinary(t)
	env := append(os.Environ(), "HOME="+home, "XDG_RUNTIME_DIR="+sb["XDG_RUNTIME_DIR"],
		"DBUS_SESSION_BUS_ADDRESS="+sb["DBUS_SESSION_BUS_ADDRESS"],
		"CLAWDBOT_PROFILE=", "CLAWDBOT_STATE_DIR=", "CLAWDBOT_CONFIG_PATH=", "CLAWDBOT_GATEWAY_PORT=",
		"CLAWDBOT_GATEWAY_TOKEN=", "CLAWDBOT_SYSTEMD_UNIT=")
	clawdbot := func(args ...string) (string, int) {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"--profile", profile}, args...)...)
		cmd.Env = env
		out, err := cmd.Output() // stdout only: the JSON
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("clawdbot %v: %v", args, err)
		}
		return string(out), code
	}
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
	waitActive := func(step string) {
		t.Helper()
		for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			if systemctl("show", "-p", "ActiveState", "--value", unit) == "active" {
				return
			}
		}
		t.Fatalf("%s: unit not active\n%s", step, journal(sb, unit))
	}
	doctorRun := func(args ...string) (doctorOut, int) {
		t.Helper()
		out, code := clawdbot(append([]string{"doctor", "--json"}, args...)...)
		var d doctorOut
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatalf("doctor %v: %v\n%s", args, err, out)
		}
		return d, code
	}
	has := func(codes []string, c string) bool {
		for _, x := range codes {
			if x == c {
				return true
			}
		}
		return false
	}
	findingCodes := func(d doctorOut) []string {
		var cs []string
		for _, f := range d.Findings {
			cs = append(cs, f.Code)
		}
		return cs
	}
	remainingCodes := func(d doctorOut) []string {
		var cs []string
		for _, f := range d.Remaining {
			cs = append(cs, f.Code)
		}
		return cs
	}

	port := freePort(t)
	os.MkdirAll(stateDir, 0o700)
	cfg := `{"gateway": {"mode": "local", "bind": "loopback", "port": ` + strconv.Itoa(port) + `, "auth": {"token": "` + token + `"}}}` + "\n"
	if err := os.WriteFile(filepath.Join(stateDir, "clawdbot.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, code := clawdbot("gateway", "install", "--json"); code != 0 {
		t.Fatalf("install: exit %d\n%s", code, out)
	}
	waitActive("install")

	// Hand edit: slow respawn and no marker.
	body, _ := os.ReadFile(unitPath)
	var kept []string
	for _, l := range strings.Split(strings.Replace(string(body), "RestartSec=5", "RestartSec=120", 1), "\n") {
		if !strings.Contains(l, "CLAWDBOT_SERVICE_MARKER") {
			kept = append(kept, l)
		}
	}
	os.WriteFile(unitPath, []byte(strings.Join(kept, "\n")), 0o644)
	systemctl("daemon-reload")

	d, _ := doctorRun()
	if cs := findingCodes(d); !has(cs, "systemd-restart-sec") || !has(cs, "service-marker-missing") {
		t.Fatalf("doctor did not report the drift: %v", cs)
	}
	d, _ = doctorRun("--fix", "--yes")
	if rc := remainingCodes(d); !has(rc, "systemd-restart-sec") {
		t.Fatalf("unmarked unit rewritten without --force: actions %+v remaining %v", d.Actions, rc)
	}
	d, code := doctorRun("--fix", "--yes", "--force")
	for _, a := range d.Actions {
		if a.Status == "failed" {
			t.Errorf("action %s failed: %s", a.Title, a.Error)
		}
	}
	if rc := remainingCodes(d); has(rc, "systemd-restart-sec") || has(rc, "service-marker-missing") || code != 0 {
		t.Fatalf("after --fix --force: exit %d remaining %v actions %+v\n%s", code, rc, d.Actions, journal(sb, unit))
	}
	if b, _ := os.ReadFile(unitPath); !strings.Contains(string(b), "RestartSec=5") || !strings.Contains(string(b), "CLAWDBOT_SERVICE_MARKER") {
		t.Errorf("unit not rewritten:\n%s", b)
	}
	if baks, _ := filepath.Glob(filepath.Join(stateDir, "backups", "services", unit+".*")); len(baks) != 1 {
		t.Errorf("backups: %v", baks)
	}
	waitActive("after doctor --fix")

	var st map[string]any
	var out string
	for end := time.Now().Add(15 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		out, code = clawdbot("gateway", "status", "--json", "--timeout", "3000")
		st = nil
		json.Unmarshal([]byte(out), &st)
		if code == 0 {
			break
		}
	}
	svc, _ := st["service"].(map[string]any)
	rt, _ := svc["runtime"].(map[string]any)
	audit, _ := svc["configAudit"].(map[string]any)
	rpc, _ := st["rpc"].(map[string]any)
	if code != 0 || rt["status"] != "running" || rpc["ok"] != true || audit["ok"] != true || svc["loaded"] != true {
		t.Fatalf("gateway status: exit %d\n%s\n%s", code, out, journal(sb, unit))
	}
}
