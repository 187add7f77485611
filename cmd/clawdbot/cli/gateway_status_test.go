package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clawdbot/clawdbot/gateway"
	"github.com/clawdbot/clawdbot/profiles"
	"github.com/clawdbot/clawdbot/supervise"
)

// statusRunner answers `systemctl --user show` with scripted properties:
// no systemd user manager runs outside the sandbox, and these tests are
// about what status makes of the answers (the sandbox test drives a real
// one). journalctl finds nothing; loginctl says lingering is on.
type statusRunner struct{ props string }

func (r *statusRunner) Run(_ context.Context, name string, args ...string) (supervise.Output, error) {
	switch {
	case name == "systemctl" && slicesContains(args, "show"):
		return supervise.Output{Stdout: r.props}, nil
	case name == "loginctl":
		return supervise.Output{Stdout: "yes\n"}, nil
	}
	return supervise.Output{Code: 1}, nil
}

func slicesContains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

const (
	propsNotFound = "LoadState=not-found\nUnitFileState=\nActiveState=inactive\nSubState=dead\nMainPID=0\nNRestarts=0\n"
	propsStopped  = "LoadState=loaded\nUnitFileState=enabled\nActiveState=failed\nSubState=failed\nMainPID=0\nNRestarts=3\nExecMainCode=1\nExecMainStatus=78\n"
)

func propsRunning(pid int) string {
	return fmt.Sprintf("LoadState=loaded\nUnitFileState=enabled\nActiveState=active\nSubState=running\nMainPID=%d\nNRestarts=0\nExecMainCode=0\n", pid)
}

type statusFixture struct {
	env  *Env
	out  *bytes.Buffer
	errb *bytes.Buffer
	run  *statusRunner
	home string
	port int
	prof profiles.Profile
}

const statusToken = "status-test-token-0123456789"

func newStatusFixture(t *testing.T) *statusFixture {
	t.Helper()
	home := t.TempDir()
	bin := filepath.Join(home, "bin", "clawdbot")
	os.MkdirAll(filepath.Dir(bin), 0o755)
	os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755)
	port := freeLoopbackPort(t)
	state := filepath.Join(home, ".clawdbot")
	os.MkdirAll(state, 0o700)
	cfg := fmt.Sprintf(`{"gateway": {"mode": "local", "port": %d, "auth": {"token": %q}}}`, port, statusToken)
	os.WriteFile(filepath.Join(state, "clawdbot.json"), []byte(cfg), 0o600)
	var out, errb bytes.Buffer
	vars := map[string]string{"USER": "alice", "HOME": home}
	env := &Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return vars[k] }, Home: home,
		Executable: bin, Context: context.Background()}
	r := &statusRunner{props: propsNotFound}
	env.ServiceRunner, env.Platform = r, supervise.Systemd
	prof, err := env.ResolveProfile(0)
	if err != nil {
		t.Fatal(err)
	}
	return &statusFixture{env: env, out: &out, errb: &errb, run: r, home: home, port: port, prof: prof}
}

func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	p, _ := strconv.Atoi(callClosedPort(t))
	return p
}

// install writes the unit `gateway install --port port` would write.
func (f *statusFixture) install(t *testing.T, port int) {
	t.Helper()
	spec, err := supervise.SpecFor(f.prof, f.env.Executable, supervise.Options{Platform: supervise.Systemd, Version: Version, Port: port})
	if err != nil {
		t.Fatal(err)
	}
	body, err := supervise.Render(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := supervise.WriteFileAtomic(spec.DefinitionPath(), body, 0o644); err != nil {
		t.Fatal(err)
	}
}

// serve runs a real gateway in this process on port.
func (f *statusFixture) serve(t *testing.T, port int) *gateway.Server {
	t.Helper()
	s, err := gateway.New(gateway.Options{Addr: "127.0.0.1:" + strconv.Itoa(port), StateDir: f.prof.StateDir,
		ConfigPath: f.prof.ConfigPath, Version: "test",
		Runtime: gateway.RuntimeConfig{Auth: gateway.Auth{Mode: "token", Token: statusToken}}})
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s
}

// status runs `gateway status --json` and returns the decoded report
// (generic, to check the key contract, not our struct) with the exit code
// of the human form: --json itself exits 0 whenever it printed the report.
func (f *statusFixture) status(t *testing.T, args ...string) (int, map[string]any) {
	t.Helper()
	f.out.Reset()
	f.errb.Reset()
	code := Main(append([]string{"gateway", "status", "--json", "--timeout", "3000"}, args...), f.env)
	var m map[string]any
	if err := json.Unmarshal(f.out.Bytes(), &m); err != nil {
		t.Fatalf("exit %d, not JSON: %v\n%s\n%s", code, err, f.out, f.errb)
	}
	if code != ExitOK {
		t.Errorf("gateway status --json %v: exit %d, want 0 (the state is in the report)", args, code)
	}
	for _, k := range []string{"service", "config", "gateway", "port", "legacyServices", "extraServices", "warnings"} {
		if _, ok := m[k]; !ok {
			t.Errorf("key %q missing from --json", k)
		}
	}
	f.out.Reset()
	f.errb.Reset()
	return Main(append([]string{"gateway", "status", "--timeout", "3000"}, args...), f.env), m
}

// get walks a dotted path through decoded JSON.
func get(m map[string]any, path string) any {
	var cur any = m
	for _, p := range strings.Split(path, ".") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[p]
	}
	return cur
}

func warningCodes(m map[string]any) []string {
	var out []string
	ws, _ := m["warnings"].([]any)
	for _, w := range ws {
		out = append(out, w.(map[string]any)["code"].(string))
	}
	return out
}

func expect(t *testing.T, m map[string]any, want map[string]any) {
	t.Helper()
	for path, v := range want {
		got := get(m, path)
		if fmt.Sprint(got) != fmt.Sprint(v) {
			t.Errorf("%s = %v, want %v", path, got, v)
		}
	}
}

func TestGatewayStatusNothingInstalled(t *testing.T) {
	f := newStatusFixture(t)
	code, m := f.status(t)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	expect(t, m, map[string]any{
		"service.label": "systemd", "service.installed": false, "service.loaded": false, "service.command": nil,
		"service.loadedText": "enabled", "service.notLoadedText": "disabled",
		"service.runtime.status": "stopped", "service.runtime.missingUnit": true,
		"config.cli.path": f.prof.ConfigPath, "config.cli.exists": true, "config.cli.valid": true, "config.mismatch": nil,
		"gateway.port": f.port, "gateway.portSource": "env/config", "gateway.bindMode": "loopback",
		"gateway.probeUrl": "ws://127.0.0.1:" + strconv.Itoa(f.port),
		"port.status":      "free", "rpc.ok": false, "portCli": nil,
	})
	if ws := warningCodes(m); !slicesContains(ws, "service-not-installed") {
		t.Errorf("warnings %v", ws)
	}
	// --no-probe: no rpc key at all (the mac app reads service.loaded).
	if code, m := f.status(t, "--no-probe"); code != 1 || m["rpc"] != nil {
		t.Errorf("--no-probe: exit %d rpc %v", code, m["rpc"])
	}
}

func TestGatewayStatusInstalledButStopped(t *testing.T) {
	f := newStatusFixture(t)
	f.install(t, 0)
	f.run.props = propsStopped
	code, m := f.status(t)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	unit := filepath.Join(f.home, ".config", "systemd", "user", "clawdbot-gateway.service")
	expect(t, m, map[string]any{
		"service.installed": true, "service.loaded": true, "service.runtime.status": "stopped",
		"service.runtime.state": "failed", "service.runtime.lastExitStatus": 78, "service.runtime.restarts": 3,
		"service.command.sourcePath": unit, "service.command.environment.CLAWDBOT_GATEWAY_PORT": strconv.Itoa(f.port),
		"service.configAudit.ok": true, "config.daemon.path": f.prof.ConfigPath, "gateway.portSource": "service args",
		"rpc.ok": false, "port.status": "free",
	})
	if env, _ := get(m, "service.command.environment").(map[string]any); env["HOME"] != nil || env["PATH"] != nil {
		t.Errorf("environment not reduced to safe keys: %v", env)
	}
	if ws := warningCodes(m); !slicesContains(ws, "service-not-running") {
		t.Errorf("warnings %v", ws)
	}
	// Human output: config and target first, supervisor and RPC apart.
	f.out.Reset()
	if code := Main([]string{"gateway", "status", "--timeout", "2000"}, f.env); code != 1 {
		t.Errorf("text exit %d", code)
	}
	text := f.out.String()
	iCfg, iTarget, iSup, iRPC := strings.Index(text, "Config (cli):"), strings.Index(text, "Probe target:"),
		strings.Index(text, "Supervisor:"), strings.Index(text, "RPC probe:")
	if !(iCfg == 0 && iCfg < iTarget && iTarget < iSup && iSup < iRPC) {
		t.Errorf("line order wrong:\n%s", text)
	}
	if !strings.Contains(text, "Fix: clawdbot gateway start; logs: journalctl --user -u clawdbot-gateway.service") ||
		!strings.Contains(text, "Verdict: gateway is NOT running.") {
		t.Errorf("text:\n%s", text)
	}
}

func TestGatewayStatusRunning(t *testing.T) {
	f := newStatusFixture(t)
	f.install(t, 0)
	f.run.props = propsRunning(os.Getpid())
	f.serve(t, f.port)
	code, m := f.status(t)
	if code != 0 {
		t.Errorf("exit %d, want 0\n%s", code, f.out)
	}
	expect(t, m, map[string]any{
		"service.runtime.status": "running", "service.runtime.pid": os.Getpid(), "service.loaded": true,
		"rpc.ok": true, "rpc.url": "ws://127.0.0.1:" + strconv.Itoa(f.port), "port.status": "busy",
		"lastError": nil, "warnings": []any{},
	})
	ls, _ := get(m, "port.listeners").([]any)
	if len(ls) != 1 || fmt.Sprint(ls[0].(map[string]any)["pid"]) != strconv.Itoa(os.Getpid()) {
		t.Errorf("listeners %v", ls)
	}
	if code, _ := f.status(t, "--no-probe"); code != 0 {
		t.Errorf("--no-probe exit %d, want 0", code)
	}
	// --url overrides the target.
	other := freeLoopbackPort(t)
	if code, m := f.status(t, "--url", "ws://127.0.0.1:"+strconv.Itoa(other)); code != 1 || get(m, "rpc.url") != "ws://127.0.0.1:"+strconv.Itoa(other) {
		t.Errorf("--url: exit %d rpc %v", code, m["rpc"])
	}
}

func TestGatewayStatusReportsRejectedConfig(t *testing.T) {
	f := newStatusFixture(t)
	f.install(t, 0)
	f.run.props = propsRunning(os.Getpid())
	s := f.serve(t, f.port)
	// What the lifecycle records when a reload finds a broken file.
	s.SetConfigError(f.prof.ConfigPath, errors.New(f.prof.ConfigPath+":3:12: gateway.port: expected integer"))
	code, m := f.status(t)
	if code != 0 {
		t.Errorf("exit %d, want 0 (running and reachable)\n%s", code, f.out)
	}
	expect(t, m, map[string]any{"rpc.ok": true, "rpc.configError.path": f.prof.ConfigPath})
	if ws := warningCodes(m); !slicesContains(ws, "gateway-config-rejected") {
		t.Errorf("warnings %v, want gateway-config-rejected", ws)
	}
	s.SetConfigError(f.prof.ConfigPath, nil)
	if _, m := f.status(t); get(m, "rpc.configError") != nil {
		t.Errorf("configError %v after it was cleared", get(m, "rpc.configError"))
	}
}

func TestGatewayStatusRunningOnAnotherPort(t *testing.T) {
	f := newStatusFixture(t)
	svcPort := freeLoopbackPort(t)
	f.install(t, svcPort)
	f.run.props = propsRunning(os.Getpid())
	f.serve(t, svcPort)
	code, m := f.status(t)
	if code != 3 {
		t.Errorf("exit %d, want 3", code)
	}
	expect(t, m, map[string]any{
		"gateway.port": svcPort, "gateway.portSource": "service args", "rpc.ok": true,
		"portCli.port": f.port, "portCli.status": "free", "port.status": "busy",
	})
	if ws := warningCodes(m); !slicesContains(ws, "port-mismatch") || !slicesContains(ws, supervise.CodeArgsMismatch) {
		t.Errorf("warnings %v", ws)
	}
}

func TestGatewayStatusPortHeldByForeignProcess(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed: no foreign listener to start")
	}
	f := newStatusFixture(t)
	cmd := exec.Command(py, "-c", "import socket,time\ns=socket.socket()\ns.bind(('127.0.0.1',"+strconv.Itoa(f.port)+"))\ns.listen()\nprint('up',flush=True)\ntime.sleep(60)")
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if _, err := out.Read(make([]byte, 3)); err != nil {
		t.Fatal(err)
	}
	code, m := f.status(t, "--timeout", "1500")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	expect(t, m, map[string]any{"port.status": "busy", "rpc.ok": false})
	ls, _ := get(m, "port.listeners").([]any)
	if len(ls) != 1 || fmt.Sprint(ls[0].(map[string]any)["pid"]) != strconv.Itoa(cmd.Process.Pid) {
		t.Errorf("listeners %v", ls)
	}
	if ws := warningCodes(m); !slicesContains(ws, "port-foreign-holder") {
		t.Errorf("warnings %v", ws)
	}
}

func TestDoctorCommandPolicy(t *testing.T) {
	f := newStatusFixture(t)
	os.Chmod(f.prof.ConfigPath, 0o644)
	// No TTY, --fix without --yes: report only.
	f.out.Reset()
	Main([]string{"doctor", "--fix", "--json"}, f.env)
	var d doctorJSON
	if err := json.Unmarshal(f.out.Bytes(), &d); err != nil {
		t.Fatalf("%v\n%s", err, f.out)
	}
	if d.Applied || len(d.Actions) != 0 {
		t.Errorf("repaired without a TTY or --yes: %+v", d.Actions)
	}
	if fi, _ := os.Stat(f.prof.ConfigPath); fi.Mode().Perm() != 0o644 {
		t.Error("config chmodded in report-only mode")
	}
	// --fix --yes repairs and re-checks.
	f.out.Reset()
	Main([]string{"doctor", "--fix", "--yes", "--json"}, f.env)
	d = doctorJSON{}
	if err := json.Unmarshal(f.out.Bytes(), &d); err != nil {
		t.Fatalf("%v\n%s", err, f.out)
	}
	if !d.Applied || len(d.Actions) == 0 || d.Actions[0].Status != "done" {
		t.Errorf("actions %+v", d.Actions)
	}
	if fi, _ := os.Stat(f.prof.ConfigPath); fi.Mode().Perm() != 0o600 {
		t.Error("config not chmodded by --fix --yes")
	}
	for _, r := range d.Remaining {
		if r.Code == "config-permissions" {
			t.Error("config-permissions remains after repair")
		}
	}
	// Text report ends with a verdict line.
	f.out.Reset()
	Main([]string{"doctor"}, f.env)
	if !strings.Contains(f.out.String(), "\nVerdict: ") {
		t.Errorf("no verdict:\n%s", f.out)
	}
}
