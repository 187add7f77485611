package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawdbot/clawdbot/supervise"
)

// recRunner records argv and answers "success" to everything except
// `systemctl show`, which reports a loaded, enabled, running unit once the
// unit file exists. It stands in for systemctl where the test is about the
// CLI's output; the real manager runs in TestGatewayServiceInSystemdUserSandbox.
type recRunner struct{ calls []string }

func (r *recRunner) Run(_ context.Context, name string, args ...string) (supervise.Output, error) {
	argv := strings.Join(append([]string{name}, args...), " ")
	r.calls = append(r.calls, argv)
	if strings.Contains(argv, " show ") {
		return supervise.Output{Stdout: "LoadState=loaded\nUnitFileState=enabled\nActiveState=active\nSubState=running\nMainPID=42\nNRestarts=0\n"}, nil
	}
	if strings.HasPrefix(argv, "loginctl show-user") {
		return supervise.Output{Stdout: "no\n"}, nil
	}
	return supervise.Output{}, nil
}

func serviceTestEnv(t *testing.T) (*Env, *bytes.Buffer, *recRunner) {
	t.Helper()
	home := t.TempDir()
	bin := filepath.Join(t.TempDir(), "clawdbot")
	os.WriteFile(bin, []byte("x"), 0o755)
	var out bytes.Buffer
	vars := map[string]string{"USER": "alice"}
	env := &Env{Stdout: &out, Stderr: &out, Getenv: func(k string) string { return vars[k] }, Home: home,
		Executable: bin, ProfileFlag: "citest", Context: context.Background()}
	rr := &recRunner{}
	env.ServiceManager = func(supervise.Platform) (supervise.Manager, error) {
		return &supervise.SystemdManager{Runner: rr}, nil
	}
	env.ServiceRunner, env.Platform = rr, supervise.Systemd
	return env, &out, rr
}

// writeLocalConfig leaves the profile's config as `clawdbot setup` would:
// gateway.mode=local, which the gateway needs to start.
func writeLocalConfig(t *testing.T, env *Env, profile string) {
	t.Helper()
	dir := filepath.Join(env.Home, ".clawdbot-"+profile)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "clawdbot.json"), []byte(`{"gateway": {"mode": "local"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestGatewayInstallJSONAndIdempotence(t *testing.T) {
	env, out, rr := serviceTestEnv(t)
	writeLocalConfig(t, env, "citest")
	if code := Main([]string{"--profile", "citest", "gateway", "install", "--token", "tok-123", "--json"}, env); code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	var a serviceJSON
	if err := json.Unmarshal(out.Bytes(), &a); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !a.OK || a.Action != "install" || a.Result != "installed" || a.Service == nil || a.Service.Label != "systemd" ||
		!a.Service.Loaded || a.Service.LoadedText != "enabled" || a.Service.NotLoadedText != "disabled" {
		t.Fatalf("install json: %s", out)
	}
	if len(a.Warnings) != 1 || !strings.Contains(a.Warnings[0], "loginctl enable-linger alice") {
		t.Errorf("warnings = %q, want the linger command", a.Warnings)
	}
	unit := filepath.Join(env.Home, ".config", "systemd", "user", "clawdbot-gateway-citest.service")
	body, err := os.ReadFile(unit)
	if err != nil || strings.Contains(string(body), "tok-123") {
		t.Fatalf("unit %v; must exist and not hold the token:\n%s", err, body)
	}
	cfg := filepath.Join(env.Home, ".clawdbot-citest", "clawdbot.json")
	fi, err := os.Stat(cfg)
	cb, _ := os.ReadFile(cfg)
	if err != nil || fi.Mode().Perm() != 0o600 || !strings.Contains(string(cb), `"tok-123"`) {
		t.Fatalf("config %v mode %v:\n%s", err, fi, cb)
	}
	if !strings.Contains(strings.Join(rr.calls, "\n"), "systemctl --user enable clawdbot-gateway-citest.service") {
		t.Errorf("calls: %q", rr.calls)
	}

	out.Reset()
	if code := Main([]string{"--profile", "citest", "gateway", "install", "--json"}, env); code != 0 {
		t.Fatalf("second install exit %d: %s", code, out)
	}
	json.Unmarshal(out.Bytes(), &a)
	if a.Result != "unchanged" {
		t.Errorf("second install result = %q", a.Result)
	}
}

// A service for a profile whose gateway cannot start would exit 78 at once
// and leave an enabled, failed unit behind; install says what to fix first
// and writes nothing.
func TestGatewayInstallRefusesAConfigTheGatewayWouldRefuse(t *testing.T) {
	tests := []struct {
		name   string
		config string // "" = no config file
		want   []string
	}{
		{"no config (setup not run)", "", []string{"No config at", "clawdbot --profile citest setup"}},
		{"syntax error", `{"gateway": {"mode": "local",}`, []string{"is invalid", "clawdbot --profile citest config validate"}},
		{"wrong type", `{"gateway": {"mode": "local", "port": "abc"}}`, []string{"gateway.port", "clawdbot --profile citest config validate"}},
		{"mode unset", `{"gateway": {"port": 18800}}`, []string{"gateway.mode is unset", "clawdbot --profile citest setup"}},
		{"mode remote", `{"gateway": {"mode": "remote"}}`, []string{"gateway.mode is remote", `"local"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env, out, rr := serviceTestEnv(t)
			cfg := filepath.Join(env.Home, ".clawdbot-citest", "clawdbot.json")
			if tc.config != "" {
				os.MkdirAll(filepath.Dir(cfg), 0o700)
				os.WriteFile(cfg, []byte(tc.config), 0o600)
			}
			code := Main([]string{"--profile", "citest", "gateway", "install", "--token", "tok-1"}, env)
			if code != ExitFailure {
				t.Fatalf("exit %d, want 1:\n%s", code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			unit := filepath.Join(env.Home, ".config", "systemd", "user", "clawdbot-gateway-citest.service")
			if _, err := os.Stat(unit); err == nil {
				t.Errorf("unit written although the gateway could not start")
			}
			if len(rr.calls) != 0 {
				t.Errorf("systemctl was called: %q", rr.calls)
			}
			if b, _ := os.ReadFile(cfg); strings.Contains(string(b), "tok-1") {
				t.Errorf("config changed before the install was refused:\n%s", b)
			}
		})
	}
	// --json carries the same error and hint.
	env, out, _ := serviceTestEnv(t)
	if code := Main([]string{"--profile", "citest", "gateway", "install", "--json"}, env); code != ExitFailure {
		t.Fatalf("exit %d", code)
	}
	var a serviceJSON
	if err := json.Unmarshal(out.Bytes(), &a); err != nil || a.OK || len(a.Hints) == 0 || a.Hints[0] != "clawdbot --profile citest setup" {
		t.Fatalf("json %v: %s", err, out)
	}
}

func TestGatewayInstallRefusesForeignUnit(t *testing.T) {
	env, out, _ := serviceTestEnv(t)
	writeLocalConfig(t, env, "citest")
	unit := filepath.Join(env.Home, ".config", "systemd", "user", "clawdbot-gateway-citest.service")
	os.MkdirAll(filepath.Dir(unit), 0o755)
	os.WriteFile(unit, []byte("[Service]\nExecStart=/bin/other\n"), 0o644)
	code := Main([]string{"--profile", "citest", "gateway", "install", "--json"}, env)
	var a serviceJSON
	json.Unmarshal(out.Bytes(), &a)
	if code != ExitFailure || a.OK || !strings.Contains(a.Error, "not written by clawdbot") ||
		len(a.Hints) == 0 || !strings.Contains(a.Hints[0], "--force") {
		t.Fatalf("exit %d: %s", code, out)
	}
}

func TestGatewayStartNotInstalled(t *testing.T) {
	env, out, _ := serviceTestEnv(t)
	env.ServiceManager = func(supervise.Platform) (supervise.Manager, error) {
		return &supervise.SystemdManager{Runner: notFoundRunner{}}, nil
	}
	if code := Main([]string{"--profile", "citest", "gateway", "start"}, env); code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	if !strings.Contains(out.String(), "Gateway service disabled.") || !strings.Contains(out.String(), "Start with: clawdbot --profile citest gateway install") {
		t.Errorf("output:\n%s", out)
	}
}

type notFoundRunner struct{}

func (notFoundRunner) Run(context.Context, string, ...string) (supervise.Output, error) {
	return supervise.Output{Stdout: "LoadState=not-found\nUnitFileState=\nActiveState=inactive\n"}, nil
}

// startRunner is systemctl for a unit that is installed but stopped until
// a `start` comes.
type startRunner struct{ started bool }

func (r *startRunner) Run(_ context.Context, name string, args ...string) (supervise.Output, error) {
	argv := strings.Join(append([]string{name}, args...), " ")
	switch {
	case strings.Contains(argv, " start "):
		r.started = true
	case strings.Contains(argv, " show ") && r.started:
		return supervise.Output{Stdout: "LoadState=loaded\nUnitFileState=enabled\nActiveState=active\nSubState=running\nMainPID=42\n"}, nil
	case strings.Contains(argv, " show "):
		return supervise.Output{Stdout: "LoadState=loaded\nUnitFileState=enabled\nActiveState=failed\nSubState=failed\nMainPID=0\nExecMainStatus=78\n"}, nil
	}
	return supervise.Output{}, nil
}

// Re-running install over a stopped (or failed) service starts it; the
// message must say so instead of a bare "unchanged".
func TestGatewayInstallSaysWhenItStartedTheService(t *testing.T) {
	env, out, _ := serviceTestEnv(t)
	writeLocalConfig(t, env, "citest")
	if code := Main([]string{"--profile", "citest", "gateway", "install"}, env); code != 0 {
		t.Fatalf("first install exit %d: %s", code, out)
	}
	r := &startRunner{}
	env.ServiceManager = func(supervise.Platform) (supervise.Manager, error) {
		return &supervise.SystemdManager{Runner: r}, nil
	}
	out.Reset()
	if code := Main([]string{"--profile", "citest", "gateway", "install", "--json"}, env); code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	var a serviceJSON
	json.Unmarshal(out.Bytes(), &a)
	if a.Result != "unchanged" || !strings.HasSuffix(a.Message, "(started)") {
		t.Errorf("result %q message %q, want unchanged ... (started)", a.Result, a.Message)
	}
}

// install --port records the port in the config, so health, logs, call and
// status (which follow the config) find the service; an explicit
// CLAWDBOT_GATEWAY_PORT outranks the config, so then it only warns.
func TestGatewayInstallPortGoesIntoTheConfig(t *testing.T) {
	env, out, _ := serviceTestEnv(t)
	writeLocalConfig(t, env, "citest")
	if code := Main([]string{"--profile", "citest", "gateway", "install", "--port", "19789"}, env); code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	prof, err := env.ResolveProfile(0)
	if err != nil || prof.Ports.Gateway != 19789 || prof.Ports.GatewaySource != "config" {
		t.Fatalf("profile port after install: %+v %v\n%s", prof.Ports, err, out)
	}
	cb, _ := os.ReadFile(prof.ConfigPath)
	if !strings.Contains(out.String(), "Set gateway.port=19789 in "+prof.ConfigPath) || !strings.Contains(string(cb), `"mode": "local"`) {
		t.Errorf("output %q, config %s", out, cb)
	}

	env, out, _ = serviceTestEnv(t)
	writeLocalConfig(t, env, "citest")
	vars := map[string]string{"USER": "alice", "CLAWDBOT_GATEWAY_PORT": "18999"}
	env.Getenv = func(k string) string { return vars[k] }
	if code := Main([]string{"--profile", "citest", "gateway", "install", "--port", "19789", "--json"}, env); code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	var a serviceJSON
	json.Unmarshal(out.Bytes(), &a)
	if !strings.Contains(strings.Join(a.Warnings, "\n"), "CLAWDBOT_GATEWAY_PORT=18999") {
		t.Errorf("warnings %q, want the env override named", a.Warnings)
	}
	if cb, _ := os.ReadFile(filepath.Join(env.Home, ".clawdbot-citest", "clawdbot.json")); strings.Contains(string(cb), "19789") {
		t.Errorf("config changed although the env outranks it:\n%s", cb)
	}
}
